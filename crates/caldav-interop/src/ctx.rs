//! The servers of the matrix and what a scenario needs to talk to one.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use caldav_client_core::bootstrap::{Account, BootstrapConfig, BootstrapMachine};
use caldav_client_core::write::{WriteConfig, WriteMachine, WriteOutcome, WriteRequest};
use caldav_client_core::{Machine, QuirkProfile};
use caldav_model::property::{Property, Value, names};
use caldav_tokio::{
    Core, Credentials, Drive, Driver, Error as DriverError, HttpClient, HttpConfig, Origin,
    Received, Step,
};
use dav_xml::Href;
use http::{Method, Request, Response, Uri};
use test_support::servers::var;
use tokio::sync::OnceCell;

use crate::{Outcome, StepExt};

/// What the matrix knows of one server besides its address: facts of the test setup
/// (`docs/servers.md`), never consulted by the machines.
struct Known {
    name: &'static str,
    label: &'static str,
    /// Where bootstrap starts (Cyrus answers anonymously at `/`, QUIRKS #31).
    context_path: &'static str,
    /// The test zone's SRV records point at this server.
    srv_target: bool,
    /// What the setup does for `.well-known` that the server does not.
    well_known_note: Option<&'static str>,
    /// How the large scenario fills its calendar.
    large_fill: LargeFill,
}

/// How the large-calendar scenario fills its calendar on a server: a fact of the test setup,
/// measured here, that keeps the matrix's run time small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LargeFill {
    /// One PUT of the whole calendar onto the collection (Radicale stores each component as
    /// its own object, named for its UID): seconds instead of minutes, since Radicale reads
    /// the whole collection on every single PUT.
    CollectionPut,
    /// `count` PUTs, several in flight.
    Puts {
        /// How many events.
        count: usize,
    },
}

const KNOWN: &[Known] = &[
    Known {
        name: "radicale",
        label: "Radicale 3.9",
        context_path: "/",
        srv_target: false,
        well_known_note: None,
        large_fill: LargeFill::CollectionPut,
    },
    Known {
        name: "xandikos",
        label: "Xandikos 0.4",
        context_path: "/",
        srv_target: false,
        well_known_note: None,
        large_fill: LargeFill::Puts { count: 300 },
    },
    Known {
        name: "cyrus",
        label: "Cyrus 3.6",
        context_path: "/dav/",
        srv_target: true,
        well_known_note: None,
        large_fill: LargeFill::Puts { count: 2000 },
    },
    Known {
        name: "sabredav",
        label: "SabreDAV 1.8",
        context_path: "/",
        srv_target: false,
        well_known_note: Some(
            "the redirect is the test setup's front controller: SabreDAV 1.8 answers 404",
        ),
        large_fill: LargeFill::Puts { count: 2000 },
    },
];

/// One server of the matrix, as the `CALDAV_TEST_*` variables describe it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Server {
    /// The name `cargo xtask servers` uses (`radicale`).
    pub name: String,
    /// The column heading (`Radicale 3.9`).
    pub label: String,
    /// The plain-http base URL (`http://127.0.0.1:5232/`).
    pub url: String,
    /// The test user's principal path.
    pub principal: String,
    /// The test user and password; `None` for a server without authentication.
    pub user: Option<(String, String)>,
    /// Where bootstrap starts, as a path.
    pub context_path: String,
    /// The test zone's SRV records point at this server.
    pub srv_target: bool,
    /// What the test setup adds to the server's `.well-known` handling, if anything.
    pub well_known_note: Option<String>,
    /// How the large scenario fills its calendar here.
    pub large_fill: LargeFill,
}

impl Server {
    /// The server `name` (`radicale`, `xandikos`, `cyrus`, `sabredav`) from the environment;
    /// `None` for a name that is no CalDAV server of the matrix (`dns`).
    ///
    /// # Panics
    ///
    /// When the server's variables are not set (its server is not running): see
    /// [`test_support::servers::var`].
    #[must_use]
    pub fn from_env(name: &str) -> Option<Server> {
        let known = KNOWN.iter().find(|k| k.name == name)?;
        let upper = name.to_ascii_uppercase();
        let get = |key: &str| var(&format!("CALDAV_TEST_{upper}_{key}"));
        let user = (get("AUTH") != "none").then(|| (get("USER"), get("PASSWORD")));
        Some(Server {
            name: name.to_owned(),
            label: known.label.to_owned(),
            url: get("URL"),
            principal: get("PRINCIPAL"),
            user,
            context_path: known.context_path.to_owned(),
            srv_target: known.srv_target,
            well_known_note: known.well_known_note.map(str::to_owned),
            large_fill: known.large_fill,
        })
    }

    /// Every running CalDAV server (`CALDAV_TEST_SERVERS_RUNNING`), in the matrix's order.
    ///
    /// # Panics
    ///
    /// When the servers are not running (see [`Server::from_env`]).
    #[must_use]
    pub fn all_from_env() -> Vec<Server> {
        let running = var("CALDAV_TEST_SERVERS_RUNNING");
        let running: Vec<&str> = running.split(',').map(str::trim).collect();
        KNOWN
            .iter()
            .filter(|k| running.contains(&k.name))
            .filter_map(|k| Server::from_env(k.name))
            .collect()
    }

    /// Whether the DNS server of the tests runs.
    #[must_use]
    pub fn dns_running() -> bool {
        var("CALDAV_TEST_SERVERS_RUNNING")
            .split(',')
            .any(|s| s.trim() == "dns")
    }

    /// The HTTP configuration of the test user on this server: credentials bound to the
    /// server's origin, allowed over plain http (loopback only).
    #[must_use]
    pub fn http_config(&self) -> HttpConfig {
        let mut config = HttpConfig::default();
        config.user_agent = Some(concat!("caldav-interop/", env!("CARGO_PKG_VERSION")).to_owned());
        if let Some((user, password)) = &self.user {
            config = config.with_credentials(Credentials::password(user.clone(), password.clone()));
            config.allow_plain_http_credentials = true;
            if let Some(origin) = Origin::parse(&self.url) {
                config.credential_origins = vec![origin];
            }
        }
        config
    }
}

/// What a scenario needs to talk to one server.
#[derive(Debug)]
pub struct Ctx {
    /// The server.
    pub server: Server,
    /// Scheme and authority: what hrefs resolve against.
    pub base: Uri,
    /// Where bootstrap starts.
    pub context: Uri,
    /// The driver every machine runs through.
    pub driver: Driver,
    /// A second, independent client of the same user: "another client" that changes the
    /// server behind the driver's back.
    pub other: HttpClient,
    /// Unique per run: part of every name a scenario creates.
    pub run_id: String,
    account: OnceCell<Result<Account, String>>,
    probed: std::sync::OnceLock<QuirkProfile>,
}

/// What a machine's run cost on the wire.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cost {
    /// Requests the machine asked for.
    pub(crate) requests: usize,
    /// Response body bytes as received (before content decoding).
    pub(crate) wire_bytes: usize,
    /// Response body bytes after decoding.
    pub(crate) decoded_bytes: usize,
    /// Wall time of the run.
    pub(crate) elapsed: Duration,
}

/// Counts what a machine's answers cost.
struct Counting<'c, M> {
    inner: M,
    cost: &'c mut Cost,
}

impl<M: Drive> Drive for Counting<'_, M> {
    type Id = M::Id;
    type Outcome = M::Outcome;

    fn step(&mut self) -> Step<M::Id, M::Outcome> {
        let step = self.inner.step();
        if matches!(step, Step::Http { .. }) {
            self.cost.requests += 1;
        }
        step
    }

    fn answer(&mut self, id: M::Id, response: Response<Bytes>) -> Result<(), String> {
        let wire = response
            .extensions()
            .get::<Received>()
            .map_or(response.body().len(), |r| r.wire_bytes);
        self.cost.wire_bytes += wire;
        self.cost.decoded_bytes += response.body().len();
        self.inner.answer(id, response)
    }

    fn fail(&mut self, id: M::Id, error: &DriverError) -> Result<(), String> {
        self.inner.fail(id, error)
    }
}

/// A client-core error with the conditions its `Display` leaves out.
pub(crate) fn core_error(error: &caldav_client_core::Error) -> String {
    match error {
        caldav_client_core::Error::Precondition { conditions, .. } if !conditions.is_empty() => {
            format!("{error} {conditions:?}")
        }
        _ => error.to_string(),
    }
}

impl Ctx {
    /// A context for `server`.
    ///
    /// # Errors
    ///
    /// When the server's URL is unusable or the HTTP client cannot be made.
    pub fn new(server: Server) -> Result<Ctx, String> {
        let url: Uri = server
            .url
            .parse()
            .map_err(|e| format!("{}: {e}", server.url))?;
        let scheme = url.scheme_str().unwrap_or("http");
        let authority = url
            .authority()
            .ok_or_else(|| format!("{}: no host", server.url))?;
        let base: Uri = format!("{scheme}://{authority}/")
            .parse()
            .map_err(|e| format!("{}: {e}", server.url))?;
        let context: Uri = format!("{scheme}://{authority}{}", server.context_path)
            .parse()
            .map_err(|e| format!("{}: {e}", server.url))?;
        let client = HttpClient::new(server.http_config()).map_err(|e| e.to_string())?;
        let other = HttpClient::new(server.http_config()).map_err(|e| e.to_string())?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let run_id = format!("{:x}{:x}", std::process::id(), nanos % (1 << 40));
        Ok(Ctx {
            server,
            base,
            context,
            driver: Driver::new(client).with_max_in_flight(4),
            other,
            run_id,
            account: OnceCell::new(),
            probed: std::sync::OnceLock::new(),
        })
    }

    /// Runs a client-core machine to its end.
    pub(crate) async fn run<M>(&self, machine: M) -> Result<M::Outcome, String>
    where
        M: Machine + Send,
    {
        let mut core = Core(machine);
        match self.driver.run(&mut core).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(core_error(&error)),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Runs a client-core machine, counting requests and bytes; gives the machine back (its
    /// state is the result of a sync).
    pub(crate) async fn run_counted<M>(&self, machine: M) -> (Result<M::Outcome, String>, M, Cost)
    where
        M: Machine + Send,
    {
        let mut cost = Cost::default();
        let start = Instant::now();
        let mut counting = Counting {
            inner: Core(machine),
            cost: &mut cost,
        };
        let result = match self.driver.run(&mut counting).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(core_error(&error)),
            Err(error) => Err(error.to_string()),
        };
        let Counting { inner, .. } = counting;
        cost.elapsed = start.elapsed();
        (result, inner.0, cost)
    }

    /// The test user's account (bootstrapped once per context).
    ///
    /// # Errors
    ///
    /// A failure naming bootstrap.
    pub async fn account(&self) -> Result<&Account, Outcome> {
        let account = self
            .account
            .get_or_init(|| async {
                self.run(BootstrapMachine::new(BootstrapConfig::new(
                    self.context.clone(),
                )))
                .await
            })
            .await;
        account
            .as_ref()
            .map_err(|e| Outcome::Fail(format!("bootstrap: {e}")))
    }

    /// The quirk profile the machines run with: the one the probe scenario found for this
    /// server, or the built-in defaults when it has not run or failed.
    pub(crate) fn quirks(&self) -> QuirkProfile {
        self.probed.get().cloned().unwrap_or_default()
    }

    /// Keeps the probe's profile for the scenarios after it (the first one found stays).
    pub(crate) fn set_quirks(&self, profile: QuirkProfile) {
        // A second probe of the same context would find the same server: keep the first.
        let _ = self.probed.set(profile);
    }

    /// The test user's first calendar home.
    pub(crate) async fn home(&self) -> Result<Href, Outcome> {
        let account = self.account().await?;
        account
            .calendar_home_set
            .first()
            .cloned()
            .ok_or_else(|| Outcome::Fail("bootstrap found no calendar-home-set".into()))
    }

    /// Runs one write.
    pub(crate) async fn write(&self, request: WriteRequest) -> Result<WriteOutcome, String> {
        self.run(WriteMachine::new(WriteConfig::new(
            self.base.clone(),
            request,
        )))
        .await
    }

    /// The absolute URL of `href`.
    pub(crate) fn url(&self, href: &str) -> Result<Uri, Outcome> {
        Href::new(href).resolve(&self.base).step(href)
    }

    /// One plain request through `client`.
    pub(crate) async fn send(
        &self,
        client: &HttpClient,
        method: Method,
        href: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Response<Bytes>, Outcome> {
        let url = self.url(href)?;
        let what = format!("{method} {url}");
        let mut builder = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body.into()).step(&what)?;
        client.send(request).await.step(&what)
    }

    /// A PUT of iCalendar data by "another client".
    pub(crate) async fn other_put(
        &self,
        href: &str,
        data: &str,
        condition: Option<(&str, &str)>,
    ) -> Result<Response<Bytes>, Outcome> {
        let mut headers = vec![("Content-Type", "text/calendar; charset=utf-8")];
        headers.extend(condition);
        self.send(
            &self.other,
            Method::PUT,
            href,
            &headers,
            Bytes::from(data.to_owned()),
        )
        .await
    }

    /// A fresh calendar for one scenario: `<home>interop-<tag>-<run>/`, with a display name.
    pub(crate) async fn scratch(&self, tag: &str) -> Result<Href, Outcome> {
        let properties = vec![Property::new(
            names::DISPLAYNAME,
            Value::Text(format!("interop {tag}")),
        )];
        self.mkcalendar(tag, properties).await
    }

    /// MKCALENDAR of `<home>interop-<tag>-<run>/` with `properties`.
    pub(crate) async fn mkcalendar(
        &self,
        tag: &str,
        properties: Vec<Property>,
    ) -> Result<Href, Outcome> {
        let home = self.home().await?;
        let path = home.path(&self.base).step("calendar home")?;
        let slash = if path.ends_with('/') { "" } else { "/" };
        let href = Href::new(format!("{path}{slash}interop-{tag}-{}/", self.run_id));
        let what = format!("MKCALENDAR {}", href.as_str());
        match self
            .write(WriteRequest::MkCalendar {
                href: href.clone(),
                properties,
            })
            .await
            .step(&what)?
        {
            WriteOutcome::CalendarCreated { .. } => Ok(href),
            other => Err(Outcome::Fail(format!("{what}: ended as {other:?}"))),
        }
    }

    async fn delete_calendar(&self, calendar: &Href) -> Result<Response<Bytes>, Outcome> {
        self.send(
            &self.other,
            Method::DELETE,
            calendar.as_str(),
            &[],
            Bytes::new(),
        )
        .await
    }

    /// Deletes the scenario's calendar; a failure to clean up fails the scenario.
    /// Runs `body` in a fresh calendar ([`Ctx::scratch`]) and deletes the calendar after it
    /// ([`Ctx::finish`]), whatever the body concluded.
    pub(crate) async fn in_scratch(
        &self,
        tag: &str,
        body: impl AsyncFnOnce(&Href) -> Result<Outcome, Outcome>,
    ) -> Outcome {
        let calendar = match self.scratch(tag).await {
            Ok(c) => c,
            Err(o) => return o,
        };
        let result = body(&calendar).await;
        self.finish(&calendar, result).await
    }

    pub(crate) async fn finish(
        &self,
        calendar: &Href,
        result: Result<Outcome, Outcome>,
    ) -> Outcome {
        let outcome = result.unwrap_or_else(|o| o);
        // Once more after a transport failure: a stalled server must not leave the calendar.
        let mut deleted = self.delete_calendar(calendar).await;
        let retried = deleted.is_err();
        if retried {
            deleted = self.delete_calendar(calendar).await;
        }
        match deleted {
            Ok(r) if r.status().is_success() => outcome,
            // The first DELETE was carried out after all.
            Ok(r) if retried && r.status() == http::StatusCode::NOT_FOUND => outcome,
            Ok(r) if outcome.is_fail() => Outcome::Fail(format!(
                "{}; cleanup: DELETE {} answered {}",
                outcome.text(),
                calendar.as_str(),
                r.status()
            )),
            Err(e) if outcome.is_fail() => {
                Outcome::Fail(format!("{}; cleanup: {}", outcome.text(), e.text()))
            }
            Ok(r) => Outcome::Fail(format!(
                "cleanup: DELETE {} answered {}",
                calendar.as_str(),
                r.status()
            )),
            Err(e) => Outcome::Fail(format!("cleanup: {}", e.text())),
        }
    }
}

/// The href of `name` in `calendar`.
pub(crate) fn member(calendar: &Href, name: &str) -> String {
    format!("{}{name}", calendar.as_str())
}

/// What a refusal said: status plus the `DAV:error` conditions or the server's exception
/// name (SabreDAV), else the start of the body.
pub(crate) fn refusal(response: &Response<Bytes>) -> String {
    let status = response.status();
    let mut words = vec![status.as_u16().to_string()];
    if let Ok(root) = dav_xml::Element::decode(response.body()) {
        for child in root.elements() {
            let local = child.name.local();
            if local == "exception" {
                let text = child.text();
                words.push(text.rsplit('\\').next().unwrap_or_default().to_owned());
            } else if local != "message" {
                words.push(local.to_owned());
            }
        }
    } else {
        let text = String::from_utf8_lossy(response.body());
        let text = text.trim();
        if !text.is_empty() {
            let cut: String = text.chars().take(120).collect();
            words.push(format!("\"{}\"", cut.replace(['\r', '\n'], " ")));
        }
    }
    words.join(" ")
}
