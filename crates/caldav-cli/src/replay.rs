//! `caldav replay FILE`: the machines of a run, driven from its recording instead of the
//! network, and what they concluded.
//!
//! A recording (written by `caldav trace`, or any log in the seed's telemetry format) holds
//! HTTP exchanges. Each request a machine makes is answered with the first unused recorded
//! exchange of the same method and target (path and query); an authentication challenge the
//! live client answered itself (a 401 followed by the same request) is skipped. A request the
//! recording does not hold is fed to the machine as a failed exchange and named in the output;
//! so are the recorded exchanges no machine asked for (uploads, or requests of another
//! client). DNS is not recorded: discovery's SRV and TXT queries are answered "no such name".
//!
//! The flows, in the order a `caldav` command runs them, each only when the recording shows
//! it ran: discovery (a recording of `caldav discover`, or a request to `/.well-known/caldav`),
//! bootstrap (always), the listing of the calendar homes (a `Depth: 1` PROPFIND of a home, or
//! of a collection holding other recorded targets), and a first sync of every listed calendar
//! the recording holds a `REPORT` for.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use caldav_client_core::bootstrap::{BootstrapConfig, BootstrapMachine};
use caldav_client_core::listing::{Collection, ListingConfig, ListingMachine};
use caldav_client_core::sync::{ChangeSet, SyncConfig, SyncMachine, SyncState};
use caldav_tokio::{Core, Drive, Step, Target};
use caldav_trace::{Exchange, Trace};
use http::{Method, Request, Response, Uri};
use service_discovery::{DiscoveryMachine, DiscoveryOptions, DnsAnswer};

use crate::commands::{print_account, print_calendars};
use crate::remote::calendar_name;

/// The most requests one machine may make in a replay: a bound against a machine that asks
/// forever (none should).
const MAX_STEPS: usize = 100_000;

/// The recorded exchanges, each answering at most one request.
struct Pool {
    exchanges: Vec<Option<Exchange>>,
    /// Requests a machine made that the recording does not answer, described.
    lacking: Vec<String>,
    /// DNS queries discovery made (answered "no such name").
    dns: Vec<String>,
}

fn target_of<B>(request: &Request<B>) -> String {
    request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// The kind of a REPORT (its body's root element, without prefix): a sync-collection is not
/// answered with a calendar-query's answer.
fn report_kind<B: AsRef<[u8]>>(request: &Request<B>) -> Option<String> {
    if request.method().as_str() != "REPORT" {
        return None;
    }
    let body = String::from_utf8_lossy(request.body().as_ref());
    let mut rest = body.as_ref();
    loop {
        let start = rest.find('<')?;
        rest = rest.get(start + 1..)?;
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        let local = name.rsplit(':').next().unwrap_or(&name);
        return Some(local.to_owned());
    }
}

/// A request as the output names it: method, target, and a REPORT's kind.
fn describe<B: AsRef<[u8]>>(request: &Request<B>) -> String {
    match report_kind(request) {
        Some(kind) => format!("{} {} ({kind})", request.method(), target_of(request)),
        None => format!("{} {}", request.method(), target_of(request)),
    }
}

impl Pool {
    fn new(exchanges: Vec<Exchange>) -> Self {
        Self {
            exchanges: exchanges.into_iter().map(Some).collect(),
            lacking: Vec::new(),
            dns: Vec::new(),
        }
    }

    /// The recorded answer to `request`, used up.
    fn take(&mut self, request: &Request<Bytes>) -> Option<Response<Bytes>> {
        let target = target_of(request);
        let kind = report_kind(request);
        let same = |e: &Exchange| {
            e.request.method() == request.method()
                && target_of(&e.request) == target
                && report_kind(&e.request) == kind
                && e.response.is_some()
        };
        loop {
            let slot = self
                .exchanges
                .iter_mut()
                .find(|slot| slot.as_ref().is_some_and(same))?;
            let response = slot.take().and_then(|e| e.response)?;
            let challenged = response.status() == http::StatusCode::UNAUTHORIZED;
            let retried = self
                .exchanges
                .iter()
                .any(|slot| slot.as_ref().is_some_and(same));
            // The live client answered the challenge and sent the request again.
            if !(challenged && retried) {
                return Some(response);
            }
        }
    }

    /// Whether an unused exchange has this method (any, when `None`) and a target `wanted`
    /// accepts.
    fn holds(&self, method: Option<&Method>, wanted: impl Fn(&str) -> bool) -> bool {
        self.exchanges.iter().flatten().any(|e| {
            method.is_none_or(|m| e.request.method() == m) && wanted(&target_of(&e.request))
        })
    }

    /// The unused `Depth: 1` PROPFINDs: listings.
    fn listings(&self) -> impl Iterator<Item = &Request<Bytes>> {
        self.exchanges
            .iter()
            .flatten()
            .map(|e| &e.request)
            .filter(|r| {
                r.method().as_str() == "PROPFIND"
                    && r.headers()
                        .get("depth")
                        .is_some_and(|d| d.as_bytes() == b"1")
            })
    }

    /// Targets of unused listings that contain other recorded targets: the collections the
    /// recorded client listed.
    fn listed_parents(&self) -> Vec<dav_xml::Href> {
        let targets: Vec<String> = self
            .exchanges
            .iter()
            .flatten()
            .map(|e| dav_xml::Href::new(target_of(&e.request)).canonical())
            .collect();
        let mut parents: Vec<dav_xml::Href> = Vec::new();
        for request in self.listings() {
            let href = dav_xml::Href::new(target_of(request));
            let key = href.canonical();
            let contains = targets
                .iter()
                .any(|t| t.len() > key.len() && t.starts_with(key.as_str()));
            if contains && !parents.iter().any(|p| p.canonical() == key) {
                parents.push(href);
            }
        }
        parents
    }

    /// Runs `machine` against the recording.
    fn run<M: Drive>(&mut self, machine: &mut M) -> Result<M::Outcome> {
        let mut pending: std::collections::VecDeque<(M::Id, Request<Bytes>)> =
            std::collections::VecDeque::new();
        for _ in 0..MAX_STEPS {
            loop {
                match machine.step() {
                    Step::Http { id, request } => pending.push_back((id, request)),
                    Step::Dns { id, query } => {
                        self.dns.push(query.to_string());
                        machine
                            .answer_dns(id, DnsAnswer::NxDomain)
                            .map_err(|e| anyhow!("replay: {e}"))?;
                    }
                    Step::Done(outcome) => return Ok(outcome),
                    // `Wait` and any step a later version adds.
                    _ => break,
                }
            }
            let Some((id, request)) = pending.pop_front() else {
                bail!("replay: the machine waits with no request in flight");
            };
            let fed = match self.take(&request) {
                Some(response) => machine.answer(id, response),
                None => {
                    self.lacking.push(describe(&request));
                    machine.fail(
                        id,
                        &caldav_tokio::Error::Protocol {
                            target: Target::of(&request),
                            reason: "not in the recording".to_owned(),
                        },
                    )
                }
            };
            fed.map_err(|e| anyhow!("replay: {e}"))?;
        }
        bail!("replay: more than {MAX_STEPS} requests")
    }
}

/// Reads a recording: a log, possibly after other text (the seed is a web page, then its
/// trace). Returns the exchanges and whether the first session is a recorded discovery (the
/// header `caldav discover` gives its recording).
fn read(file: &Path) -> Result<(Vec<Exchange>, bool)> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let trace = Trace::parse(&bytes).map_err(|e| anyhow!("{}: {e}", file.display()))?;
    let discovery = trace
        .sessions
        .first()
        .is_some_and(|s| s.header.ends_with(" discover"));
    let exchanges = trace.into_exchanges();
    if exchanges.is_empty() {
        bail!("{}: no recorded exchange", file.display());
    }
    Ok((exchanges, discovery))
}

/// `caldav replay FILE`.
pub(crate) fn replay(file: &Path, base: Option<&str>, context: Option<&str>) -> Result<ExitCode> {
    let (exchanges, discovery) = read(file)?;
    let first = exchanges
        .first()
        .map(|e| e.request.clone())
        .context("no recorded exchange")?;
    let base: Uri = match base {
        Some(base) => base
            .parse()
            .with_context(|| format!("--base {base:?} is not a URL"))?,
        None => {
            // Recordings hold origin-form targets and a Host field, not the scheme.
            let host = first
                .headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .context("the first recorded request has no Host field: pass --base URL")?;
            format!("http://{host}/")
                .parse()
                .with_context(|| format!("{host:?} is not a host"))?
        }
    };
    let origin = base.to_string().trim_end_matches('/').to_owned();
    let mut pool = Pool::new(exchanges);
    say!("replaying {} against {origin}", file.display())?;

    let mut start: Option<Uri> = context
        .map(|c| {
            c.parse()
                .with_context(|| format!("--context {c:?} is not a URL"))
        })
        .transpose()?;
    let well_known = pool.holds(None, |t| t.starts_with("/.well-known/caldav"));
    if start.is_none() && (discovery || well_known) {
        let mut options = DiscoveryOptions::default();
        options.allow_plain_http = base.scheme_str() == Some("http");
        options.credentials_attached = true;
        // The address discovery started from: a URL (its first request goes there), or a
        // domain (its first request is a well-known URL, after DNS, which is not recorded).
        let first_target = target_of(&first);
        let address = if first_target.starts_with("/.well-known/") {
            base.host().unwrap_or_default().to_owned()
        } else {
            format!("{origin}{first_target}")
        };
        let mut machine = DiscoveryMachine::new(&address, options);
        let outcome = pool.run(&mut machine)?;
        say!("trail:")?;
        for attempt in machine.trail() {
            say!("  {attempt}")?;
        }
        match outcome {
            Ok(found) => {
                say!("context: {}", found.context)?;
                start = Some(found.principal.unwrap_or(found.context));
            }
            Err(error) => say!("discovery failed: {error}")?,
        }
    }
    let start = match start {
        Some(start) => start,
        None => format!("{origin}{}", target_of(&first))
            .parse()
            .context("the first recorded target is not a path")?,
    };

    let failed = replay_account(&mut pool, &base, start)?;

    if !pool.dns.is_empty() {
        say!("dns queries (not recorded, answered no such name):")?;
        for query in &pool.dns {
            say!("  {query}")?;
        }
    }
    if !pool.lacking.is_empty() {
        say!("wanted but not in the recording:")?;
        for request in &pool.lacking {
            say!("  {request}")?;
        }
    }
    let unused: Vec<&Exchange> = pool.exchanges.iter().flatten().collect();
    if !unused.is_empty() {
        say!("recorded but not replayed:")?;
        for exchange in unused {
            let status = exchange.response.as_ref().map_or_else(
                || "no answer".to_owned(),
                |r| r.status().as_u16().to_string(),
            );
            say!("  {} -> {status}", describe(&exchange.request))?;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Bootstrap, then the listing and the sync where the recording shows them. Returns whether
/// a machine failed.
fn replay_account(pool: &mut Pool, base: &Uri, start: Uri) -> Result<bool> {
    say!("bootstrap from {start}:")?;
    let mut machine = Core(BootstrapMachine::new(BootstrapConfig::new(start)));
    let account = match pool.run(&mut machine)? {
        Ok(account) => account,
        Err(error) => {
            say!("bootstrap failed: {error}")?;
            return Ok(true);
        }
    };
    print_account(&account)?;

    let homes: BTreeSet<String> = account
        .calendar_home_set
        .iter()
        .map(dav_xml::Href::canonical)
        .collect();
    // The homes the recording lists, and the collections a client that bootstrapped before
    // the recording began (the seed's Apple trace) listed.
    let mut listed: Vec<dav_xml::Href> = account
        .calendar_home_set
        .iter()
        .filter(|h| {
            pool.listings()
                .any(|r| dav_xml::Href::new(target_of(r)).canonical() == h.canonical())
        })
        .cloned()
        .collect();
    for parent in pool.listed_parents() {
        if !homes.contains(&parent.canonical()) {
            say!("listing {} too: the recording lists it", parent.as_str())?;
            listed.push(parent);
        }
    }
    if listed.is_empty() {
        return Ok(false);
    }
    let mut config = ListingConfig::for_account(base.clone(), &account);
    config.homes = listed;
    say!("calendars:")?;
    let mut machine = Core(ListingMachine::new(config));
    let calendars: Vec<Collection> = match pool.run(&mut machine)? {
        Ok(listing) => listing.calendars().cloned().collect(),
        Err(error) => {
            say!("listing failed: {error}")?;
            return Ok(true);
        }
    };
    print_calendars(&calendars, false)?;

    let report = Method::from_bytes(b"REPORT").context("the REPORT method")?;
    let synced: Vec<&Collection> = calendars
        .iter()
        .filter(|c| {
            let key = c.href.canonical();
            pool.holds(Some(&report), |t| dav_xml::Href::new(t).canonical() == key)
        })
        .collect();
    if synced.is_empty() {
        return Ok(false);
    }
    let hrefs = synced.iter().map(|c| c.href.clone()).collect();
    let mut machine = Core(SyncMachine::new(
        SyncConfig::new(base.clone(), hrefs),
        SyncState::default(),
    ));
    let outcome = match pool.run(&mut machine)? {
        Ok(outcome) => outcome,
        Err(error) => {
            say!("sync failed: {error}")?;
            return Ok(true);
        }
    };
    let mut failed = false;
    for (calendar, result) in synced.iter().zip(&outcome.calendars) {
        let name = calendar_name(calendar);
        match &result.result {
            Ok(changes) => print_changes(&name, changes)?,
            Err(error) => {
                say!("sync {name}: failed: {error}")?;
                failed = true;
            }
        }
    }
    Ok(failed)
}

/// One calendar's change set: counts, then one line per item.
fn print_changes(name: &str, changes: &ChangeSet) -> Result<()> {
    say!(
        "sync {name} ({:?}): +{} ~{} -{}, {} missing",
        changes.method,
        changes.added.len(),
        changes.changed.len(),
        changes.deleted.len(),
        changes.missing.len()
    )?;
    for item in &changes.added {
        say!("  + {} {}", item.href.as_str(), item.etag)?;
    }
    for item in &changes.changed {
        say!("  ~ {} {}", item.href.as_str(), item.etag)?;
    }
    for href in &changes.deleted {
        say!("  - {}", href.as_str())?;
    }
    for href in &changes.missing {
        say!("  ? {}", href.as_str())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(method: &str, target: &str, body: &str, status: u16) -> Exchange {
        let request = Request::builder()
            .method(method)
            .uri(target)
            .header("depth", "1")
            .body(Bytes::from(body.to_owned()))
            .unwrap();
        let response = Response::builder()
            .status(status)
            .body(Bytes::from(format!("answer {status}")))
            .unwrap();
        Exchange::new(request, 0).with_response(response, 0)
    }

    fn request(method: &str, target: &str, body: &str) -> Request<Bytes> {
        Request::builder()
            .method(method)
            .uri(format!("http://h{target}"))
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    #[test]
    fn a_report_is_known_by_its_root_element() {
        let query = request(
            "REPORT",
            "/c/",
            "<?xml version=\"1.0\"?>\n<!-- x --><C:calendar-query xmlns:C=\"urn:ietf:params:xml:ns:caldav\"/>",
        );
        assert_eq!(report_kind(&query).as_deref(), Some("calendar-query"));
        let sync = request("REPORT", "/c/", "<sync-collection xmlns=\"DAV:\">");
        assert_eq!(report_kind(&sync).as_deref(), Some("sync-collection"));
        assert_eq!(
            report_kind(&request("PROPFIND", "/c/", "<propfind/>")),
            None
        );
        assert_eq!(report_kind(&request("REPORT", "/c/", "")), None);
        assert_eq!(describe(&sync), "REPORT /c/ (sync-collection)");
    }

    #[test]
    fn answers_match_method_target_and_report_kind_once_each() {
        let mut pool = Pool::new(vec![
            exchange("REPORT", "/c/", "<C:calendar-query/>", 207),
            exchange("REPORT", "/c/", "<D:sync-collection/>", 207),
            exchange("PROPFIND", "/c/", "", 207),
        ]);
        let sync = request("REPORT", "/c/", "<sync-collection/>");
        assert!(pool.take(&sync).is_some());
        // Used up; the calendar-query answer is not one.
        assert!(pool.take(&sync).is_none());
        assert!(pool.take(&request("PROPFIND", "/c/", "")).is_some());
        assert!(pool.take(&request("PROPFIND", "/c/?x", "")).is_none());
        assert!(pool.take(&request("GET", "/c/", "")).is_none());
    }

    #[test]
    fn a_challenge_the_live_client_answered_is_skipped() {
        let mut pool = Pool::new(vec![
            exchange("PROPFIND", "/p/", "", 401),
            exchange("PROPFIND", "/p/", "", 207),
        ]);
        let first = pool.take(&request("PROPFIND", "/p/", "")).unwrap();
        assert_eq!(first.status(), 207);
        // A lone 401 is the answer.
        let mut pool = Pool::new(vec![exchange("PROPFIND", "/p/", "", 401)]);
        let only = pool.take(&request("PROPFIND", "/p/", "")).unwrap();
        assert_eq!(only.status(), 401);
    }

    #[test]
    fn the_collections_a_recording_lists_are_those_holding_other_targets() {
        let pool = Pool::new(vec![
            exchange("PROPFIND", "/cal/ken/", "", 207),
            exchange("PROPFIND", "/cal/ken/Inbox/", "", 207),
            exchange("REPORT", "/cal/ken/Default/", "<x/>", 207),
        ]);
        let listed: Vec<String> = pool
            .listed_parents()
            .iter()
            .map(|h| h.as_str().to_owned())
            .collect();
        assert_eq!(listed, ["/cal/ken/"]);
    }
}
