//! The commands that talk to a server: `discover`, `ls`, `get`, `put`, `rm`, `mkcalendar`.

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use caldav_client_core::write::{WriteConfig, WriteMachine, WriteOutcome, WriteRequest};
use caldav_model::property::{Color, Property, Value, names};
use caldav_tokio::{Driver, HttpClient};
use dav_xml::Href;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::account::{Global, resolve};
use crate::remote::{
    EXIT_CONFLICT, Exit, Session, calendar_name, discover, find_calendar, finish_recording,
    http_config,
};

/// `caldav discover ADDRESS`.
pub(crate) async fn discover_command(global: &Global, address: &str) -> Result<ExitCode> {
    let mut resolved = resolve(global)?;
    // An explicit http:// URL is the user's choice, as --allow-http is.
    resolved.allow_http |= address.starts_with("http://");
    let recorder = if global.trace.is_some() || global.verbose > 0 {
        Some(caldav_tokio::Recorder::new("caldav-cli discover").map_err(|e| anyhow!("{e}"))?)
    } else {
        None
    };
    let config = http_config(&resolved, None, recorder.as_ref())?;
    let driver = Driver::new(HttpClient::new(config).map_err(|e| anyhow!("http client: {e}"))?);
    let result = discover(&driver, address, &resolved).await;
    let found = match result {
        Ok(found) => found,
        Err(e) => {
            if let Some(r) = &recorder {
                finish_recording(r, global)?;
            }
            return Err(e);
        }
    };
    say!("trail:")?;
    for attempt in &found.trail {
        say!("  {attempt}")?;
    }
    say!("context: {}", found.context)?;
    let start = found
        .principal
        .clone()
        .unwrap_or_else(|| found.context.clone());
    let mut global = global.clone();
    global.url = Some(start.to_string());
    global.account = None;
    let session = Session::open(&global).await?;
    let account = session.account().await;
    if let Some(r) = &recorder {
        finish_recording(r, &global)?;
    }
    session.finish()?;
    if let (Some(r), Some(path)) = (&recorder, &global.trace) {
        // The session wrote its own recording: discovery's goes first, as a session of its own.
        let bootstrap =
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut both = caldav_trace::Trace::parse(r.log()).map_err(|e| anyhow!("{e}"))?;
        let then = caldav_trace::Trace::parse(&bootstrap).map_err(|e| anyhow!("{e}"))?;
        both.sessions.extend(then.sessions);
        let log = caldav_trace::Writer::write_trace(&both, caldav_trace::WriteConfig::default())
            .map_err(|e| anyhow!("{e}"))?;
        std::fs::write(path, &log).with_context(|| format!("writing {}", path.display()))?;
    }
    let account = account.map_err(|e| anyhow!("discovery succeeded, bootstrap failed: {e:#}"))?;
    print_account(&account)?;
    Ok(ExitCode::SUCCESS)
}

/// What bootstrap learned: the principal, the homes and the capabilities.
pub(crate) fn print_account(account: &caldav_client_core::bootstrap::Account) -> Result<()> {
    say!("principal: {}", account.principal.as_str())?;
    if let Some(name) = &account.displayname {
        say!("displayname: {name}")?;
    }
    for home in &account.calendar_home_set {
        say!("calendar-home: {}", home.as_str())?;
    }
    for address in &account.calendar_user_address_set {
        say!("address: {}", address.as_str())?;
    }
    let caps = &account.capabilities;
    let classes: Vec<&str> = caps.classes().iter().map(|c| c.as_str()).collect();
    say!("dav: {}", classes.join(", "))?;
    let methods: Vec<&str> = caps.methods().iter().map(http::Method::as_str).collect();
    say!("allow: {}", methods.join(", "))?;
    let reports: Vec<&str> = account
        .supported_reports
        .iter()
        .map(|q| q.local())
        .collect();
    say!("reports: {}", reports.join(", "))?;
    Ok(())
}

/// `caldav ls [--json] [--count]`.
pub(crate) async fn ls(global: &Global, json: bool, count: bool) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let result = async {
        let account = session.account().await?;
        if count {
            session.calendars_counted(&account).await
        } else {
            session.calendars(&account).await
        }
    }
    .await;
    session.finish()?;
    let calendars = result?;
    print_calendars(&calendars, json)?;
    Ok(ExitCode::SUCCESS)
}

/// The calendars as `caldav ls` prints them: a table, or one JSON object per line.
pub(crate) fn print_calendars(
    calendars: &[caldav_client_core::listing::Collection],
    json: bool,
) -> Result<()> {
    if json {
        for calendar in calendars {
            let line = serde_json::json!({
                "name": calendar_name(calendar),
                "href": calendar.href.as_str(),
                "displayname": calendar.displayname,
                "components": calendar.components,
                "color": calendar.color,
                "sync_token": calendar.sync_token.is_some(),
                "items": calendar.items,
            });
            say!("{line}")?;
        }
        return Ok(());
    }
    // An ITEMS column only where counts were asked for (`--count`).
    let counted = calendars.iter().any(|c| c.items.is_some());
    let rows: Vec<Vec<String>> = calendars
        .iter()
        .map(|c| {
            let mut row = vec![
                calendar_name(c),
                c.href.as_str().to_owned(),
                c.components
                    .as_ref()
                    .map_or_else(|| "-".into(), |v| v.join(",")),
            ];
            if counted {
                row.push(c.items.map_or_else(|| "-".into(), |n| n.to_string()));
            }
            row.push(c.color.clone().unwrap_or_else(|| "-".into()));
            row
        })
        .collect();
    let header: Vec<String> = ["NAME", "HREF", "COMPONENTS"]
        .into_iter()
        .chain(counted.then_some("ITEMS"))
        .chain(["COLOR"])
        .map(str::to_owned)
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        say!("{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

/// `caldav get HREF`: the object's data on standard output, its etag on standard error.
pub(crate) async fn get(global: &Global, href: &str) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let url = session.url_of(href)?;
    let request = http::Request::get(url.clone())
        .header(http::header::ACCEPT, "text/calendar")
        .body(Bytes::new())
        .context("building the request")?;
    let response = session.send(request).await;
    session.finish()?;
    let response = response?;
    if !response.status().is_success() {
        return Err(status_exit(&url, response.status()));
    }
    if let Some(etag) = response.headers().get(http::header::ETAG) {
        eprintln!("etag: {}", etag.to_str().unwrap_or("?"));
    }
    use std::io::Write as _;
    std::io::stdout()
        .write_all(response.body())
        .context("writing to standard output")?;
    Ok(ExitCode::SUCCESS)
}

fn status_exit(url: &http::Uri, status: http::StatusCode) -> anyhow::Error {
    let code = match status.as_u16() {
        401 | 403 => crate::remote::EXIT_AUTH,
        _ => 1,
    };
    anyhow::Error::new(Exit {
        code,
        message: format!("{url}: {status}"),
    })
}

/// Whether `error` is a refused condition (exit code 3).
fn is_conflict(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<Exit>()
        .is_some_and(|e| e.code == EXIT_CONFLICT)
}

/// The current etag of `url` (a GET; `None` when the object is gone).
async fn current_etag(session: &Session, url: &http::Uri) -> Result<Option<String>> {
    let request = http::Request::get(url.clone())
        .body(Bytes::new())
        .context("building the request")?;
    let response = session.send(request).await?;
    if response.status() == http::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(status_exit(url, response.status()));
    }
    Ok(response
        .headers()
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned))
}

fn report_write(outcome: WriteOutcome) -> Result<ExitCode> {
    match outcome {
        WriteOutcome::Created { href, etag } => {
            say!("created {} {}", href.as_str(), etag.unwrap_or_default())?;
        }
        WriteOutcome::Updated { href, etag } => {
            say!("updated {} {}", href.as_str(), etag.unwrap_or_default())?;
        }
        WriteOutcome::Deleted { href } => say!("deleted {}", href.as_str())?,
        WriteOutcome::CalendarCreated { href } => say!("created {}", href.as_str())?,
        WriteOutcome::PropertiesUpdated { href } => say!("updated {}", href.as_str())?,
        WriteOutcome::Conflict(conflict) => {
            return Err(anyhow::Error::new(Exit {
                code: EXIT_CONFLICT,
                message: format!(
                    "conflict on {}: the server has {} (we expected {})",
                    conflict.href.as_str(),
                    conflict
                        .server_etag
                        .as_deref()
                        .unwrap_or(if conflict.server_data.is_some() {
                            "another version"
                        } else {
                            "no object"
                        }),
                    conflict.local_etag.as_deref().unwrap_or("no object")
                ),
            }));
        }
        _ => say!("done")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `caldav put FILE [--calendar NAME] [--replace]`.
pub(crate) async fn put(
    global: &Global,
    file: &PathBuf,
    calendar: Option<&str>,
    replace: bool,
) -> Result<ExitCode> {
    let data =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let session = Session::open(global).await?;
    let result = async {
        let account = session.account().await?;
        let calendars = session.calendars(&account).await?;
        let target = match calendar {
            Some(name) => find_calendar(&calendars, name)?,
            None => match calendars.as_slice() {
                [one] => one,
                [] => bail!("the account has no calendar; make one with `caldav mkcalendar`"),
                _ => bail!(
                    "the account has several calendars; name one with --calendar ({})",
                    calendars
                        .iter()
                        .map(calendar_name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        };
        let create = WriteRequest::Create {
            collection: target.href.clone(),
            data: data.clone(),
        };
        let href = WriteMachine::new(WriteConfig::new(session.base.clone(), create.clone()))
            .href()
            .map_err(|e| anyhow!("{}: {e}", file.display()))?
            .clone();
        let existing = match session.write(create).await {
            Ok(WriteOutcome::Conflict(conflict)) if replace && conflict.local_etag.is_none() => {
                conflict.server_etag
            }
            // Some servers name the failed If-None-Match in a DAV:error body instead.
            Err(error) if replace && is_conflict(&error) => None,
            other => return other,
        };
        let etag = match existing {
            Some(etag) => etag,
            None => current_etag(&session, &session.url_of(href.as_str())?)
                .await?
                .context("the object vanished while replacing it")?,
        };
        session
            .write(WriteRequest::Update { href, etag, data })
            .await
    }
    .await;
    session.finish()?;
    report_write(result?)
}

/// `caldav rm HREF [--etag ETAG]`.
pub(crate) async fn rm(global: &Global, href: &str, etag: Option<&str>) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let result = async {
        let url = session.url_of(href)?;
        let etag = match etag {
            Some(etag) => etag.to_owned(),
            None => current_etag(&session, &url)
                .await?
                .with_context(|| format!("{href}: not found"))?,
        };
        session
            .write(WriteRequest::Delete {
                href: Href::new(href),
                etag,
            })
            .await
    }
    .await;
    session.finish()?;
    report_write(result?)
}

/// `caldav mkcalendar NAME [--color] [--components]`.
pub(crate) async fn mkcalendar(
    global: &Global,
    name: &str,
    color: Option<&str>,
    components: &[String],
) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let result = async {
        let account = session.account().await?;
        let home = account
            .calendar_home_set
            .first()
            .context("the server names no calendar home for this account")?;
        let home = home
            .path(&session.base)
            .map_err(|e| anyhow!("the calendar home {}: {e}", home.as_str()))?;
        let segment = caldav_client_core::write::name_for_uid(name);
        let segment = segment.strip_suffix(".ics").unwrap_or(&segment);
        let slash = if home.ends_with('/') { "" } else { "/" };
        let href = Href::new(format!("{home}{slash}{segment}/"));
        let mut properties = vec![Property::new(
            names::DISPLAYNAME,
            Value::Text(name.to_owned()),
        )];
        if let Some(color) = color {
            properties.push(Property::new(
                names::CALENDAR_COLOR,
                Value::Color(Color {
                    value: color.to_owned(),
                    symbolic: None,
                }),
            ));
        }
        if !components.is_empty() {
            properties.push(Property::new(
                names::SUPPORTED_CALENDAR_COMPONENT_SET,
                Value::Components(components.iter().map(|c| c.to_ascii_uppercase()).collect()),
            ));
        }
        session
            .write(WriteRequest::MkCalendar { href, properties })
            .await
    }
    .await;
    session.finish()?;
    report_write(result?)
}
