//! A connection to the account's server: the HTTP client, the driver, and the flows every
//! command needs (bootstrap, listing, finding a calendar by name, one write).

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use caldav_client_core::bootstrap::{Account, BootstrapConfig, BootstrapMachine};
use caldav_client_core::listing::{Collection, ListingConfig, ListingMachine};
use caldav_client_core::write::{WriteConfig, WriteMachine, WriteOutcome, WriteRequest};
use caldav_tokio::{Core, Credentials, Driver, HttpClient, HttpConfig, Origin, Recorder, Resolver};
use dav_xml::Href;
use http::Uri;
use service_discovery::{DiscoveryMachine, DiscoveryOptions};

use crate::account::{Global, Resolved, password, resolve};

/// A failure with its own exit code (see `caldav --help`).
#[derive(Debug)]
pub(crate) struct Exit {
    /// The exit code.
    pub(crate) code: u8,
    /// What to print.
    pub(crate) message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Exit code: the server refused the credentials.
pub(crate) const EXIT_AUTH: u8 = 4;
/// Exit code: the server could not be reached.
pub(crate) const EXIT_NETWORK: u8 = 5;
/// Exit code: a conflict (both sides changed) was found and left for the user.
pub(crate) const EXIT_CONFLICT: u8 = 3;

/// Turns a client-core error into an [`Exit`] with the matching code.
pub(crate) fn core_error(what: &str, error: caldav_client_core::Error) -> anyhow::Error {
    use caldav_client_core::Error as E;
    let code = match &error {
        E::Unauthorized { .. } => EXIT_AUTH,
        E::Transport { .. } => EXIT_NETWORK,
        // A failed condition (If-Match, If-None-Match) some servers answer with a DAV:error
        // body rather than a plain 412: the same conflict for the user.
        E::Precondition { status: 412, .. } => EXIT_CONFLICT,
        _ => 1,
    };
    anyhow::Error::new(Exit {
        code,
        message: format!("{what}: {error}"),
    })
}

fn driver_error(what: &str, error: caldav_tokio::Error) -> anyhow::Error {
    anyhow::Error::new(Exit {
        code: EXIT_NETWORK,
        message: format!("{what}: {error}"),
    })
}

/// The account's server, ready to run machines.
pub(crate) struct Session {
    /// The driver (with its HTTP client).
    pub(crate) driver: Driver,
    /// Scheme and authority: what hrefs resolve against.
    pub(crate) base: Uri,
    /// The URL bootstrap starts from.
    pub(crate) context: Uri,
    /// The account's server habits (see `account`), read by every machine run here.
    pub(crate) quirks: caldav_client_core::QuirkProfile,
    /// What `caldav probe --save` stores the profile under.
    pub(crate) profile_key: String,
    recorder: Option<Recorder>,
    global: Global,
}

/// The HTTP configuration for an account: CA, DNS server, credentials bound to `origin`.
pub(crate) fn http_config(
    resolved: &Resolved,
    origin: Option<&Uri>,
    recorder: Option<&Recorder>,
) -> Result<HttpConfig> {
    let mut config = HttpConfig::default();
    config.user_agent = Some(concat!("caldav-cli/", env!("CARGO_PKG_VERSION")).to_owned());
    if let Some(path) = &resolved.ca_file {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        config = config
            .trust_pem(&pem)
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    }
    if let Some(server) = resolved.dns_server {
        config = config.with_resolver(Resolver::with_name_servers(&[server]));
    }
    if let Some(user) = &resolved.user {
        let Some(secret) = password(resolved, user)? else {
            bail!(
                "no password for {user}: set CALDAV_PASSWORD, pass --password-command, \
                 or run on a terminal to be asked"
            );
        };
        config = config.with_credentials(Credentials::password(user.clone(), secret));
    }
    // Discovery over plain http is the user's choice (--allow-http): credentials may go there.
    config.allow_plain_http_credentials = resolved.allow_http;
    if let Some(origin) = origin {
        // An explicit http:// URL is the user's choice: credentials may go there.
        config.allow_plain_http_credentials = origin.scheme_str() == Some("http");
        if let Some(o) = Origin::of(origin) {
            config.credential_origins = vec![o];
        }
    }
    config.recorder = recorder.cloned();
    config.http2 = !resolved.quirks.http2_unreliable;
    Ok(config)
}

fn base_of(url: &Uri) -> Result<Uri> {
    let scheme = url.scheme_str().context("the URL has no scheme")?;
    let authority = url.authority().context("the URL has no host")?;
    format!("{scheme}://{authority}/")
        .parse()
        .context("the URL's origin is not a URL")
}

fn recorder_for(global: &Global) -> Result<Option<Recorder>> {
    if global.trace.is_none() && global.verbose == 0 {
        return Ok(None);
    }
    Recorder::new(concat!("caldav-cli ", env!("CARGO_PKG_VERSION")))
        .map(Some)
        .map_err(|e| anyhow!("starting the recorder: {e}"))
}

impl Session {
    /// Connects as the account of `global` (discovering the server from its address when the
    /// account names no URL).
    pub(crate) async fn open(global: &Global) -> Result<Self> {
        let resolved = resolve(global)?;
        let recorder = recorder_for(global)?;
        let url: Uri = match (&resolved.url, &resolved.address) {
            (Some(url), _) => url
                .parse()
                .with_context(|| format!("{url:?} is not a URL"))?,
            (None, Some(address)) => {
                let config = http_config(&resolved, None, recorder.as_ref())?;
                let driver =
                    Driver::new(HttpClient::new(config).map_err(|e| anyhow!("http client: {e}"))?);
                discover(&driver, address, &resolved)
                    .await?
                    .principal
                    .unwrap_or_else(|| Uri::from_static("/"))
            }
            (None, None) => {
                return Err(anyhow::Error::new(Exit {
                    code: 2,
                    message: "no server: pass --url URL --user USER, or --account NAME".into(),
                }));
            }
        };
        let base = base_of(&url)?;
        let config = http_config(&resolved, Some(&url), recorder.as_ref())?;
        let client = HttpClient::new(config).map_err(|e| anyhow!("http client: {e}"))?;
        Ok(Self {
            driver: Driver::new(client).with_max_in_flight(4),
            base,
            context: url,
            quirks: resolved.quirks.clone(),
            profile_key: resolved.profile_key.clone(),
            recorder,
            global: global.clone(),
        })
    }

    /// Bootstrap: principal, homes, capabilities.
    pub(crate) async fn account(&self) -> Result<Account> {
        let mut config = BootstrapConfig::new(self.context.clone());
        config.quirks = self.quirks.clone();
        let mut machine = Core(BootstrapMachine::new(config));
        let outcome = self
            .driver
            .run(&mut machine)
            .await
            .map_err(|e| driver_error("bootstrap", e))?;
        outcome.map_err(|e| core_error("bootstrap", e))
    }

    /// The account's calendars.
    pub(crate) async fn calendars(&self, account: &Account) -> Result<Vec<Collection>> {
        self.list(account, true, false).await
    }

    /// The account's calendars with their item counts (`ListingConfig::count_items`).
    pub(crate) async fn calendars_counted(&self, account: &Account) -> Result<Vec<Collection>> {
        self.list(account, true, true).await
    }

    /// The account's calendars, without their ctags and sync tokens: what a sync needs, as
    /// its REPORT brings the token (a server may compute tokens slowly, see
    /// `ListingConfig::sync_state`).
    pub(crate) async fn calendars_to_sync(&self, account: &Account) -> Result<Vec<Collection>> {
        self.list(account, false, false).await
    }

    async fn list(
        &self,
        account: &Account,
        sync_state: bool,
        count_items: bool,
    ) -> Result<Vec<Collection>> {
        let mut config = ListingConfig::for_account(self.base.clone(), account);
        config.quirks = self.quirks.clone();
        config.sync_state = sync_state;
        config.count_items = count_items;
        let mut machine = Core(ListingMachine::new(config));
        let listing = self
            .driver
            .run(&mut machine)
            .await
            .map_err(|e| driver_error("listing", e))?
            .map_err(|e| core_error("listing", e))?;
        Ok(listing.calendars().cloned().collect())
    }

    /// Runs one write.
    pub(crate) async fn write(&self, request: WriteRequest) -> Result<WriteOutcome> {
        let mut machine = Core(WriteMachine::new(
            WriteConfig::new(self.base.clone(), request).with_quirks(self.quirks.clone()),
        ));
        self.driver
            .run(&mut machine)
            .await
            .map_err(|e| driver_error("write", e))?
            .map_err(|e| core_error("write", e))
    }

    /// Resolves `href` (absolute or path) to a URL on the account's server.
    pub(crate) fn url_of(&self, href: &str) -> Result<Uri> {
        Href::new(href)
            .resolve(&self.base)
            .map_err(|e| anyhow!("{href:?} is not a usable href: {e}"))
    }

    /// One plain request through the account's client.
    pub(crate) async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>> {
        let what = format!("{} {}", request.method(), request.uri());
        self.driver
            .http()
            .send(request)
            .await
            .map_err(|e| driver_error(&what, e))
    }

    /// The object at `href` as the server has it now (`data: None` when it is gone).
    pub(crate) async fn fetch(&self, href: &Href) -> Result<crate::sync::Theirs> {
        let url = self.url_of(href.as_str())?;
        let request = http::Request::get(url.clone())
            .body(Bytes::new())
            .context("building the request")?;
        let response = self.send(request).await?;
        let status = response.status();
        if status == http::StatusCode::NOT_FOUND || status == http::StatusCode::GONE {
            return Ok(crate::sync::Theirs {
                href: href.clone(),
                etag: None,
                data: None,
            });
        }
        if !status.is_success() {
            bail!("GET {url}: {status}");
        }
        let etag = response
            .headers()
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let data = String::from_utf8_lossy(response.body()).into_owned();
        Ok(crate::sync::Theirs {
            href: href.clone(),
            etag,
            data: Some(data),
        })
    }

    /// Writes the recorded conversation where `--trace` and `-v` asked.
    pub(crate) fn finish(&self) -> Result<()> {
        let Some(recorder) = &self.recorder else {
            return Ok(());
        };
        finish_recording(recorder, &self.global)
    }
}

/// Writes the recording to `--trace FILE` and, with `-v`, to standard error.
pub(crate) fn finish_recording(recorder: &Recorder, global: &Global) -> Result<()> {
    let log = recorder.log();
    if let Some(path) = &global.trace {
        std::fs::write(path, &log).with_context(|| format!("writing {}", path.display()))?;
    }
    if global.verbose >= 2 {
        eprintln!("{}", String::from_utf8_lossy(&log));
    } else if global.verbose == 1
        && let Ok(trace) = caldav_trace::Trace::parse(&log)
    {
        for exchange in trace.into_exchanges() {
            let status = exchange
                .response
                .as_ref()
                .map_or_else(|| "no answer".to_owned(), |r| r.status().to_string());
            eprintln!(
                "{} {} -> {status}",
                exchange.request.method(),
                exchange.request.uri()
            );
        }
    }
    Ok(())
}

/// A calendar's name on the command line: its display name, else its href's last segment.
pub(crate) fn calendar_name(calendar: &Collection) -> String {
    calendar
        .displayname
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| last_segment(calendar.href.as_str()))
}

/// The last segment of an href, percent-decoded.
pub(crate) fn last_segment(href: &str) -> String {
    let segment = href.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// The calendar named `name` (display name or last href segment).
pub(crate) fn find_calendar<'a>(calendars: &'a [Collection], name: &str) -> Result<&'a Collection> {
    let matches: Vec<&Collection> = calendars
        .iter()
        .filter(|c| c.displayname.as_deref() == Some(name) || last_segment(c.href.as_str()) == name)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: Vec<String> = calendars.iter().map(calendar_name).collect();
            bail!("no calendar {name:?} (calendars: {})", known.join(", "))
        }
        _ => bail!("{name:?} names several calendars; use the last segment of its href"),
    }
}

/// Runs RFC 6764 discovery for `address`.
pub(crate) async fn discover(
    driver: &Driver,
    address: &str,
    resolved: &Resolved,
) -> Result<service_discovery::Discovered> {
    let mut options = DiscoveryOptions::default();
    options.allow_plain_http = resolved.allow_http;
    options.credentials_attached = resolved.user.is_some();
    let driver = match resolved.dns_server {
        Some(server) => driver
            .clone()
            .with_resolver(Resolver::with_name_servers(&[server])),
        None => driver.clone(),
    };
    let mut machine = DiscoveryMachine::new(address, options);
    let outcome = driver
        .run(&mut machine)
        .await
        .map_err(|e| driver_error("discovery", e))?;
    match outcome {
        Ok(found) => Ok(found),
        Err(error) => {
            let trail: Vec<String> = machine.trail().iter().map(|a| format!("  {a}")).collect();
            Err(anyhow::Error::new(Exit {
                code: 1,
                message: format!("discovery failed: {error}\ntrail:\n{}", trail.join("\n")),
            }))
        }
    }
}
