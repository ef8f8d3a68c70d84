//! The probe: a fixed set of harmless experiments that finds out a server's habits and
//! concludes a [`QuirkProfile`] (`QUIRKS.md`, `SERVERS.md`; RFC 4791, RFC 6578, RFC 6764).
//!
//! The experiments, in order (each is reported with what was sent, what came back and what it
//! concluded):
//!
//! | # | Experiment | Request | Concludes |
//! |---|---|---|---|
//! | 1 | `well-known` | `GET /.well-known/caldav` (redirects not followed) | [`QuirkProfile::well_known`] |
//! | 2 | `root-options` | `OPTIONS /` | [`QuirkProfile::dav_header_at_root`] |
//! | 3 | `mkcalendar` | `MKCALENDAR <home><scratch>/` | where the rest runs |
//! | 3b | `find-calendar` | `PROPFIND Depth:1 <home>` (only when MKCALENDAR is refused) | an existing calendar to use instead |
//! | 4 | `calendar-options` | `OPTIONS <calendar>` | header shapes only |
//! | 5 | `put-new` | `PUT <scratch>-a.ics`, `If-None-Match: *`, an event with X- properties and a VTIMEZONE | [`QuirkProfile::put_etag_missing`] |
//! | 6 | `read-back` | `GET <scratch>-a.ics` | [`QuirkProfile::rewrites_data`], [`QuirkProfile::trailing_crlf_stripped`], [`QuirkProfile::trust_put_etag`] |
//! | 7 | `put-again` | the same PUT with `If-None-Match: *` (412 expected) | [`QuirkProfile::if_none_match`] |
//! | 8 | `duplicate-uid` | `PUT <scratch>-b.ics` with the same UID | [`QuirkProfile::duplicate_uid_accepted`] |
//! | 9 | `sync-empty-token` | `REPORT sync-collection` with the empty token | [`QuirkProfile::sync_collection`], [`QuirkProfile::empty_sync_token_rejected`] |
//! | 10 | `sync-bad-token` | `REPORT sync-collection` with a token the server never issued | [`QuirkProfile::invalid_sync_token`] |
//! | 11 | `multiget-missing` | `REPORT calendar-multiget` of `a.ics` and a missing href | [`QuirkProfile::multiget_404_on_missing_href`], [`QuirkProfile::multiget_omits_missing`], [`QuirkProfile::multiget`] |
//! | 11b | `multiget-data` | `REPORT calendar-multiget` of `a.ics` alone | [`QuirkProfile::trailing_crlf_stripped`] (calendar-data in a REPORT, where some servers strip it although GET keeps it) |
//! | 12 | `query-bare` | `REPORT calendar-query` with only the `VCALENDAR` comp-filter | with 13: [`QuirkProfile::comp_filter_required`] |
//! | 13 | `query-vevent` | `REPORT calendar-query` with a `VEVENT` comp-filter | |
//! | 14 | `delete` | `DELETE` of every resource made, the event first, with `If-Match` | [`QuirkProfile::delete_ok_statuses`] |
//! | 15 | `cleanup` | `DELETE <home><scratch>/` (when it was made) | nothing left behind |
//!
//! **Cleanup is part of the machine**: whatever an experiment answers (a refusal, an
//! unreadable body, a failed transport), the probe goes on, and every path ends with the
//! DELETE of what it made. What could not be deleted is named in [`ProbeReport::leftovers`].
//!
//! Not probed (left at their defaults): `ctag`, `multiget_batch_size`, `prefer_minimal`,
//! `sync_token_unreliable` beyond a silent answer to a bad token, and `http2_unreliable` (a
//! matter of the transport, which a sans-IO machine does not see).
//!
//! The machine has no randomness: the caller passes a scratch name unique to this run (for
//! example the user, the time and a random suffix), so that probes by several clients at
//! once never touch each other's resources.

use std::collections::VecDeque;

use bytes::Bytes;
use caldav_model::filter::{CompFilter, Filter};
use caldav_model::property::names;
use caldav_model::report::{CalendarQuery, PropRequest};
use dav_xml::{Condition, Element, Href, Multistatus, QName};
use http::{Method, StatusCode, Uri};

use crate::error::{Error, UsageError};
use crate::machine::{
    Depth, InFlight, Machine, Output, RequestId, TransportFailure, conditions, dav_request, key,
    xml_content_type,
};
use crate::quirks::{InvalidSyncToken, QuirkProfile, WellKnown, content_lines};

/// Longest scratch name used; longer ones are cut.
const MAX_SCRATCH: usize = 64;

/// Most characters of a body quoted in an observation.
const MAX_QUOTE: usize = 120;

/// What a probe needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProbeConfig {
    /// The URL hrefs are resolved against (scheme and authority of the account).
    pub base: Uri,
    /// The calendar home the scratch calendar is made in (from bootstrap).
    pub home: Href,
    /// A name unique to this run: the scratch calendar's last segment and the prefix of every
    /// resource made. Characters other than ASCII letters, digits, `-` and `_` become `-`.
    pub scratch: String,
}

impl ProbeConfig {
    /// A probe of the home `home` on `base`, naming what it makes after `scratch`.
    #[must_use]
    pub fn new(base: Uri, home: Href, scratch: impl Into<String>) -> Self {
        Self {
            base,
            home,
            scratch: scratch.into(),
        }
    }
}

/// One experiment as it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Experiment {
    /// Its name in the table of the module docs (`well-known`, `put-again`...).
    pub name: &'static str,
    /// The request, as method and path plus the headers that matter.
    pub sent: String,
    /// What came back: status, the headers that matter, the body's shape.
    pub observed: String,
    /// What the probe concluded from it.
    pub concluded: String,
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct ProbeReport {
    /// The profile concluded; fields no experiment decided keep their defaults.
    pub profile: QuirkProfile,
    /// Every experiment, in the order run.
    pub experiments: Vec<Experiment>,
    /// The calendar the resource experiments ran in, if any.
    pub calendar: Option<Href>,
    /// Whether that calendar is the probe's own scratch calendar (else an existing one, used
    /// only with uniquely named resources, because MKCALENDAR was refused).
    pub scratch_created: bool,
    /// What the probe made and could not delete. Empty after a clean run.
    pub leftovers: Vec<Href>,
}

impl ProbeReport {
    /// The experiment named `name`, if it ran.
    #[must_use]
    pub fn experiment(&self, name: &str) -> Option<&Experiment> {
        self.experiments.iter().find(|e| e.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    WellKnown,
    RootOptions,
    MkCalendar,
    FindCalendar,
    CalendarOptions,
    PutNew,
    ReadBack,
    PutAgain,
    PutDuplicate,
    SyncEmpty,
    SyncBad,
    Multiget,
    MultigetData,
    QueryBare,
    QueryEvent,
    /// Marks the start of cleanup: turns into one `Delete` per resource made, then the
    /// calendar's.
    Cleanup,
    Delete(Href),
    DeleteCalendar(Href),
}

impl Step {
    fn name(&self) -> &'static str {
        match self {
            Self::WellKnown => "well-known",
            Self::RootOptions => "root-options",
            Self::MkCalendar => "mkcalendar",
            Self::FindCalendar => "find-calendar",
            Self::CalendarOptions => "calendar-options",
            Self::PutNew => "put-new",
            Self::ReadBack => "read-back",
            Self::PutAgain => "put-again",
            Self::PutDuplicate => "duplicate-uid",
            Self::SyncEmpty => "sync-empty-token",
            Self::SyncBad => "sync-bad-token",
            Self::Multiget => "multiget-missing",
            Self::MultigetData => "multiget-data",
            Self::QueryBare => "query-bare",
            Self::QueryEvent => "query-vevent",
            Self::Cleanup | Self::DeleteCalendar(_) => "cleanup",
            Self::Delete(_) => "delete",
        }
    }
}

/// A resource the probe made.
#[derive(Debug, Clone)]
struct Made {
    href: Href,
    etag: Option<String>,
}

/// The probe machine.
///
/// # Example
///
/// ```
/// use caldav_client_core::probe::{ProbeConfig, ProbeMachine};
/// use caldav_client_core::{Machine, Output};
///
/// let mut probe = ProbeMachine::new(ProbeConfig::new(
///     "https://cal.example/".parse().unwrap(),
///     "/calendars/alice/".into(),
///     "probe-1234",
/// ));
/// let Output::Http { request, .. } = probe.poll() else { panic!() };
/// assert_eq!(request.uri(), "https://cal.example/.well-known/caldav");
/// ```
#[derive(Debug)]
pub struct ProbeMachine {
    config: ProbeConfig,
    scratch: String,
    flight: InFlight<(Step, Uri, String)>,
    plan: VecDeque<Step>,
    done: Option<Result<ProbeReport, Error>>,
    profile: QuirkProfile,
    experiments: Vec<Experiment>,
    calendar: Option<Href>,
    scratch_created: bool,
    made: Vec<Made>,
    leftovers: Vec<Href>,
    /// The event as sent.
    event: String,
    /// The ETag of the first PUT's answer.
    put_etag: Option<String>,
    sync_token: Option<String>,
    sync_supported: bool,
    query_bare_ok: Option<bool>,
    deleted_one: bool,
}

/// The resource name prefix of `scratch`: safe characters only, bounded.
fn clean_scratch(scratch: &str) -> String {
    let clean: String = scratch
        .chars()
        .take(MAX_SCRATCH)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.is_empty() {
        "caldav-probe".to_owned()
    } else {
        clean
    }
}

/// The probe's event: X- properties at three levels, a VTIMEZONE, and DTSTART/DTEND in it
/// (Cyrus refuses a date-time DTSTART without an end).
fn event(uid: &str) -> String {
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//caldav-rs//probe//EN",
        "X-CALDAV-PROBE-CALENDAR:kept?",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Berlin",
        "BEGIN:DAYLIGHT",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "TZNAME:CEST",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "TZNAME:CET",
        "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        &format!("UID:{uid}"),
        "DTSTAMP:20010101T000000Z",
        "DTSTART;TZID=Europe/Berlin:20010102T100000",
        "DTEND;TZID=Europe/Berlin:20010102T110000",
        "SUMMARY:caldav probe (deleted at once)",
        "X-CALDAV-PROBE;X-PARAM=kept:value with \\, escapes",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n")
}

/// A token the server never issued, shaped like the ones it does issue, so that a server that
/// checks the form first still reaches its "unknown token" answer.
fn bad_token(real: Option<&str>) -> String {
    const MARK: &str = "caldav-probe-invalid";
    match real {
        Some(real) if real.starts_with("data:,") => format!("data:,{MARK}"),
        Some(real) if real.contains("://") => match real.rfind('/') {
            Some(end) => format!("{}{MARK}", real.get(..=end).unwrap_or_default()),
            None => format!("http://invalid.invalid/{MARK}"),
        },
        Some(real) if !real.is_empty() && real.chars().all(|c| c.is_ascii_hexdigit()) => {
            // A bare hex token: the same length, all zeros.
            "0".repeat(real.len())
        }
        _ => format!("http://invalid.invalid/{MARK}"),
    }
}

/// The `DAV` header lines, joined with ` | ` so that several lines stay visible.
fn dav_header(response: &http::Response<Bytes>) -> Option<String> {
    let lines: Vec<&str> = response
        .headers()
        .get_all("dav")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" | "))
}

fn header(response: &http::Response<Bytes>, name: http::header::HeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn quote(text: &str) -> String {
    let mut end = text.len().min(MAX_QUOTE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = text.get(..end).unwrap_or_default();
    let more = if end < text.len() { "..." } else { "" };
    format!("{:?}{more}", cut)
}

/// The shape of a body: its XML root and children, or its size and type.
fn body_shape(response: &http::Response<Bytes>) -> String {
    let body = response.body();
    if body.is_empty() {
        return "empty body".to_owned();
    }
    let kind = header(response, http::header::CONTENT_TYPE).unwrap_or("no content type");
    match Element::decode(body) {
        Ok(root) => {
            let children: Vec<String> = root
                .elements()
                .take(6)
                .map(|c| c.name.local().to_owned())
                .collect();
            format!(
                "<{}> in {:?} ({}) [{}]",
                root.name.local(),
                root.name.namespace(),
                kind,
                children.join(", ")
            )
        }
        Err(_) => format!("{} bytes of {kind}", body.len()),
    }
}

/// Whether the last `END:VCALENDAR` of a raw XML body is followed by a CRLF (raw or as a
/// character reference); `None` when the body has none.
fn wire_crlf_after_end(body: &[u8]) -> Option<bool> {
    const END: &[u8] = b"END:VCALENDAR";
    let at = body.windows(END.len()).rposition(|w| w == END)?;
    let rest = body.get(at + END.len()..)?;
    let crlf = [
        &b"\r\n"[..],
        b"&#13;",
        b"&#xD;",
        b"&#xd;",
        b"&#x0D;",
        b"&#x0d;",
    ];
    Some(crlf.iter().any(|c| rest.starts_with(c)))
}

/// The names of the preconditions a DAV:error body names, or "no precondition".
fn condition_names(response: &http::Response<Bytes>) -> String {
    let names: Vec<String> = conditions(response.body())
        .iter()
        .map(|c| c.name().local().to_owned())
        .collect();
    if names.is_empty() {
        "no precondition".to_owned()
    } else {
        names.join(", ")
    }
}

fn status_line(response: &http::Response<Bytes>) -> String {
    response.status().as_u16().to_string()
}

/// The canonical path of every href in a multistatus, with its status (the response's own,
/// else the first propstat's).
fn listed(base: &Uri, ms: &Multistatus) -> Vec<(String, Option<StatusCode>)> {
    ms.responses
        .iter()
        .flat_map(|r| {
            let status = r
                .status
                .or_else(|| r.propstats.first().and_then(|p| p.status));
            r.hrefs
                .iter()
                .filter_map(move |h| key(base, h).map(|k| (k, status)))
        })
        .collect()
}

impl ProbeMachine {
    /// A probe as `config` says.
    pub fn new(config: ProbeConfig) -> Self {
        let scratch = clean_scratch(&config.scratch);
        let uid = format!("{scratch}@caldav-probe.invalid");
        let plan = VecDeque::from([
            Step::WellKnown,
            Step::RootOptions,
            Step::MkCalendar,
            Step::CalendarOptions,
            Step::PutNew,
            Step::ReadBack,
            Step::PutAgain,
            Step::PutDuplicate,
            Step::SyncEmpty,
            Step::SyncBad,
            Step::Multiget,
            Step::MultigetData,
            Step::QueryBare,
            Step::QueryEvent,
            Step::Cleanup,
        ]);
        Self {
            config,
            scratch,
            flight: InFlight::default(),
            plan,
            done: None,
            profile: QuirkProfile::default(),
            experiments: Vec::new(),
            calendar: None,
            scratch_created: false,
            made: Vec::new(),
            leftovers: Vec::new(),
            event: event(&uid),
            put_etag: None,
            sync_token: None,
            sync_supported: false,
            query_bare_ok: None,
            deleted_one: false,
        }
    }

    fn home_path(&self) -> String {
        let path = key(&self.config.base, &self.config.home)
            .unwrap_or_else(|| self.config.home.as_str().to_owned());
        if path.ends_with('/') {
            path
        } else {
            format!("{path}/")
        }
    }

    fn scratch_calendar(&self) -> Href {
        Href::new(format!("{}{}/", self.home_path(), self.scratch))
    }

    fn calendar_path(&self) -> Option<String> {
        let calendar = self.calendar.as_ref()?;
        let path = key(&self.config.base, calendar)?;
        Some(if path.ends_with('/') {
            path
        } else {
            format!("{path}/")
        })
    }

    fn resource(&self, suffix: &str) -> Option<Href> {
        Some(Href::new(format!(
            "{}{}-{suffix}.ics",
            self.calendar_path()?,
            self.scratch
        )))
    }

    fn event_made(&self) -> Option<&Made> {
        let a = self.resource("a")?;
        self.made.iter().find(|m| m.href == a)
    }

    fn url(&self, href: &Href) -> Option<Uri> {
        href.resolve(&self.config.base).ok()
    }

    fn record(&mut self, step: &Step, sent: &str, observed: String, concluded: impl Into<String>) {
        self.experiments.push(Experiment {
            name: step.name(),
            sent: sent.to_owned(),
            observed,
            concluded: concluded.into(),
        });
    }

    /// The request of `step`, or `None` when what it needs is missing (then it is skipped).
    fn request(&self, step: &Step) -> Option<(http::Request<Bytes>, Uri, String)> {
        let method = |m: &str| Method::from_bytes(m.as_bytes()).ok();
        let calendar_url = || self.calendar.as_ref().and_then(|c| self.url(c));
        let xml = || vec![xml_content_type()];
        let ics = || {
            (
                http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            )
        };
        let (method, url, depth, headers, body, sent) = match step {
            Step::WellKnown => {
                let url = self.url(&Href::new("/.well-known/caldav"))?;
                (
                    Method::GET,
                    url,
                    None,
                    Vec::new(),
                    Bytes::new(),
                    String::new(),
                )
            }
            Step::RootOptions => {
                let url = self.url(&Href::new("/"))?;
                (
                    Method::OPTIONS,
                    url,
                    None,
                    Vec::new(),
                    Bytes::new(),
                    String::new(),
                )
            }
            Step::MkCalendar => {
                let url = self.url(&self.scratch_calendar())?;
                (
                    method("MKCALENDAR")?,
                    url,
                    None,
                    Vec::new(),
                    Bytes::new(),
                    String::new(),
                )
            }
            Step::FindCalendar => {
                let url = self.url(&Href::new(self.home_path()))?;
                let body = crate::body::propfind(&[names::RESOURCETYPE]);
                (
                    method("PROPFIND")?,
                    url,
                    Some(Depth::One),
                    xml(),
                    body,
                    " Depth: 1".into(),
                )
            }
            Step::CalendarOptions => (
                Method::OPTIONS,
                calendar_url()?,
                None,
                Vec::new(),
                Bytes::new(),
                String::new(),
            ),
            Step::PutNew | Step::PutAgain => {
                let url = self.url(&self.resource("a")?)?;
                let headers = vec![ics(), (http::header::IF_NONE_MATCH, "*".to_owned())];
                let body = Bytes::from(self.event.clone());
                (
                    Method::PUT,
                    url,
                    None,
                    headers,
                    body,
                    " If-None-Match: *".into(),
                )
            }
            Step::ReadBack => {
                self.event_made()?;
                let url = self.url(&self.resource("a")?)?;
                (
                    Method::GET,
                    url,
                    None,
                    Vec::new(),
                    Bytes::new(),
                    String::new(),
                )
            }
            Step::PutDuplicate => {
                self.event_made()?;
                let url = self.url(&self.resource("b")?)?;
                let headers = vec![ics(), (http::header::IF_NONE_MATCH, "*".to_owned())];
                let body = Bytes::from(self.event.clone());
                (
                    Method::PUT,
                    url,
                    None,
                    headers,
                    body,
                    " If-None-Match: * (same UID as a)".into(),
                )
            }
            Step::SyncEmpty | Step::SyncBad => {
                let token = if *step == Step::SyncEmpty {
                    String::new()
                } else {
                    if !self.sync_supported {
                        return None;
                    }
                    bad_token(self.sync_token.as_deref())
                };
                let body = crate::body::sync_collection(&token, &[names::GETETAG]);
                let sent = format!(" Depth: 0, token {token:?}");
                (
                    method("REPORT")?,
                    calendar_url()?,
                    Some(Depth::Zero),
                    xml(),
                    body,
                    sent,
                )
            }
            Step::Multiget => {
                let a = key(&self.config.base, &self.event_made()?.href)?;
                let missing = key(&self.config.base, &self.resource("missing")?)?;
                let body = crate::body::multiget(&[a, missing]);
                let sent = " calendar-multiget of a and a missing href".to_owned();
                (method("REPORT")?, calendar_url()?, None, xml(), body, sent)
            }
            Step::MultigetData => {
                let a = key(&self.config.base, &self.event_made()?.href)?;
                let body = crate::body::multiget(&[a]);
                let sent = " calendar-multiget of a alone".to_owned();
                (method("REPORT")?, calendar_url()?, None, xml(), body, sent)
            }
            Step::QueryBare | Step::QueryEvent => {
                let filter = if *step == Step::QueryBare {
                    Filter::any()
                } else {
                    Filter::component(CompFilter::new("VEVENT"))
                };
                let query = CalendarQuery::new(filter).props(PropRequest::names([names::GETETAG]));
                let body = Bytes::from(query.to_element().encode());
                let sent = if *step == Step::QueryBare {
                    " Depth: 1, filter VCALENDAR only"
                } else {
                    " Depth: 1, filter VCALENDAR/VEVENT"
                };
                (
                    method("REPORT")?,
                    calendar_url()?,
                    Some(Depth::One),
                    xml(),
                    body,
                    sent.into(),
                )
            }
            Step::Cleanup => return None,
            Step::Delete(href) => {
                let url = self.url(href)?;
                let etag = self.made.iter().find(|m| &m.href == href)?.etag.clone();
                let (headers, sent) = match etag {
                    Some(etag) => (
                        vec![(http::header::IF_MATCH, etag.clone())],
                        format!(" If-Match: {etag}"),
                    ),
                    None => (Vec::new(), String::new()),
                };
                (Method::DELETE, url, None, headers, Bytes::new(), sent)
            }
            Step::DeleteCalendar(href) => (
                Method::DELETE,
                self.url(href)?,
                None,
                Vec::new(),
                Bytes::new(),
                String::new(),
            ),
        };
        let sent = format!("{method} {}{sent}", url.path());
        let request = dav_request(method, &url, depth, &headers, body).ok()?;
        Some((request, url, sent))
    }

    fn finish(&mut self) -> Output<ProbeReport> {
        let report = ProbeReport {
            profile: self.profile.clone(),
            experiments: std::mem::take(&mut self.experiments),
            calendar: self.calendar.clone(),
            scratch_created: self.scratch_created,
            leftovers: std::mem::take(&mut self.leftovers),
        };
        self.done = Some(Ok(report.clone()));
        Output::Done(Ok(report))
    }

    /// Turns the cleanup marker into the deletes of what was made, the event first (its
    /// answer is the DELETE experiment), the scratch calendar last.
    fn plan_cleanup(&mut self) {
        let mut made: Vec<Href> = self.made.iter().map(|m| m.href.clone()).collect();
        let event = self.resource("a");
        made.sort_by_key(|h| Some(h) != event.as_ref());
        for href in made {
            self.plan.push_back(Step::Delete(href));
        }
        if self.scratch_created
            && let Some(calendar) = self.calendar.clone()
        {
            self.plan.push_back(Step::DeleteCalendar(calendar));
        }
    }

    fn on_answer(&mut self, step: &Step, sent: &str, answer: Result<&http::Response<Bytes>, &str>) {
        let response = match answer {
            Ok(response) => response,
            Err(failure) => {
                let concluded = match step {
                    Step::MkCalendar => {
                        // The calendar may or may not exist now: try to delete it all the same.
                        self.calendar = Some(self.scratch_calendar());
                        self.scratch_created = true;
                        "unknown; deleted at the end in case it was made"
                    }
                    Step::PutNew | Step::PutDuplicate => {
                        let suffix = if *step == Step::PutNew { "a" } else { "b" };
                        if let Some(href) = self.resource(suffix) {
                            self.made.push(Made { href, etag: None });
                        }
                        "unknown; deleted at the end in case it was stored"
                    }
                    Step::Delete(href) | Step::DeleteCalendar(href) => {
                        self.leftovers.push(href.clone());
                        "left behind"
                    }
                    _ => "nothing (kept the default)",
                };
                self.record(
                    step,
                    sent,
                    format!("transport failed: {failure}"),
                    concluded,
                );
                return;
            }
        };
        let status = response.status();
        match step {
            Step::WellKnown => {
                let html = header(response, http::header::CONTENT_TYPE)
                    .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
                let location = header(response, http::header::LOCATION);
                let (value, concluded) = match status.as_u16() {
                    301 | 302 | 307 | 308 if location.is_some() => {
                        (WellKnown::Redirect, "redirect (RFC 6764 §5)")
                    }
                    _ if status.is_success() && html => {
                        (WellKnown::Html, "an HTML page: not a context path")
                    }
                    200 | 207 => (WellKnown::InPlace, "a DAV answer in place"),
                    _ => (WellKnown::Missing, "missing: start from the configured URL"),
                };
                self.profile.well_known = value;
                let observed = match location {
                    Some(location) => format!("{} Location: {location}", status_line(response)),
                    None => format!("{}, {}", status_line(response), body_shape(response)),
                };
                self.record(step, sent, observed, concluded);
            }
            Step::RootOptions => {
                let dav = dav_header(response);
                let classes =
                    caldav_model::capabilities::Capabilities::from_headers(response.headers())
                        .map(|c| c.classes().len())
                        .unwrap_or_default();
                self.profile.dav_header_at_root = classes > 0;
                let allow = header(response, http::header::ALLOW).unwrap_or("none");
                let observed = format!(
                    "{} DAV: {}; Allow: {allow}",
                    status_line(response),
                    dav.as_deref().unwrap_or("none")
                );
                let concluded = if classes > 0 {
                    "DAV classes at the root"
                } else {
                    "no DAV classes at the root: read them at the calendar home"
                };
                self.record(step, sent, observed, concluded);
            }
            Step::MkCalendar => {
                let observed = format!("{}, {}", status_line(response), body_shape(response));
                if status.is_success() {
                    self.calendar = Some(self.scratch_calendar());
                    self.scratch_created = true;
                    self.record(step, sent, observed, "scratch calendar made");
                } else {
                    self.plan.push_front(Step::FindCalendar);
                    self.record(
                        step,
                        sent,
                        observed,
                        "MKCALENDAR refused: probing in an existing calendar with unique names",
                    );
                }
            }
            Step::FindCalendar => {
                let found = (status == StatusCode::MULTI_STATUS)
                    .then(|| Multistatus::decode(response.body()).ok())
                    .flatten()
                    .and_then(|ms| {
                        ms.responses.iter().find_map(|r| {
                            let calendar = r
                                .prop(&QName::DAV_RESOURCETYPE)
                                .is_some_and(|t| t.child(&QName::caldav("calendar")).is_some());
                            calendar.then(|| r.href().cloned()).flatten()
                        })
                    });
                let observed = format!("{}, {}", status_line(response), body_shape(response));
                let concluded = match &found {
                    Some(href) => format!("using {}", href.as_str()),
                    None => "no calendar: the resource experiments are skipped".to_owned(),
                };
                self.calendar = found;
                self.record(step, sent, observed, concluded);
            }
            Step::CalendarOptions => {
                let observed = format!(
                    "{} DAV: {}",
                    status_line(response),
                    dav_header(response).as_deref().unwrap_or("none")
                );
                let lines = response.headers().get_all("dav").iter().count();
                let concluded = if lines > 1 {
                    format!("{lines} DAV lines: headers must be merged")
                } else {
                    "header shapes noted".to_owned()
                };
                self.record(step, sent, observed, concluded);
            }
            Step::PutNew => {
                let etag = header(response, http::header::ETAG).map(str::to_owned);
                let observed = format!(
                    "{} ETag: {}; Content-Type: {}",
                    status_line(response),
                    etag.as_deref().unwrap_or("none"),
                    header(response, http::header::CONTENT_TYPE).unwrap_or("none")
                );
                if status.is_success() {
                    if let Some(href) = self.resource("a") {
                        self.made.push(Made {
                            href,
                            etag: etag.clone(),
                        });
                    }
                    self.profile.put_etag_missing = etag.is_none();
                    self.put_etag = etag;
                    let concluded = if self.profile.put_etag_missing {
                        "stored without an ETag: fetch it after a write"
                    } else {
                        "stored with an ETag"
                    };
                    self.record(step, sent, observed, concluded);
                } else {
                    let named = condition_names(response);
                    let concluded =
                        format!("refused ({named}): the object experiments are skipped");
                    self.record(step, sent, observed, concluded);
                }
            }
            Step::ReadBack => self.on_read_back(step, sent, response),
            Step::PutAgain => {
                let observed = status_line(response);
                if status == StatusCode::PRECONDITION_FAILED {
                    self.record(step, sent, observed, "412: If-None-Match honoured");
                } else if status.is_success() {
                    self.profile.if_none_match = false;
                    // The stored copy changed under the same bytes: its etag may have moved.
                    let etag = header(response, http::header::ETAG).map(str::to_owned);
                    let a = self.resource("a");
                    if let Some(made) = self.made.iter_mut().find(|m| Some(&m.href) == a.as_ref()) {
                        made.etag = etag;
                    }
                    self.record(step, sent, observed, "overwritten: If-None-Match ignored");
                } else {
                    self.record(step, sent, observed, "refused otherwise: kept the default");
                }
            }
            Step::PutDuplicate => {
                let named = condition_names(response);
                let observed = format!("{}, {}", status_line(response), body_shape(response));
                if status.is_success() {
                    if let Some(href) = self.resource("b") {
                        let etag = header(response, http::header::ETAG).map(str::to_owned);
                        self.made.push(Made { href, etag });
                    }
                    self.profile.duplicate_uid_accepted = true;
                    self.record(step, sent, observed, "accepted: check UIDs before creating");
                } else {
                    self.profile.duplicate_uid_accepted = false;
                    let concluded = format!("refused with {} ({named})", status.as_u16());
                    self.record(step, sent, observed, concluded);
                }
            }
            Step::SyncEmpty => {
                let observed = format!("{}, {}", status_line(response), body_shape(response));
                if status == StatusCode::MULTI_STATUS {
                    match Multistatus::decode(response.body()) {
                        Ok(ms) => {
                            self.sync_supported = true;
                            self.sync_token = ms.sync_token.clone();
                            let concluded = format!(
                                "supported; token {}",
                                ms.sync_token
                                    .as_deref()
                                    .map_or_else(|| "missing".to_owned(), quote)
                            );
                            self.record(step, sent, observed, concluded);
                        }
                        Err(error) => {
                            self.profile.sync_collection = false;
                            let concluded = format!("unreadable ({error}): not used");
                            self.record(step, sent, observed, concluded);
                        }
                    }
                } else if conditions(response.body()).contains(&Condition::ValidSyncToken) {
                    self.sync_supported = true;
                    self.profile.empty_sync_token_rejected = true;
                    self.record(
                        step,
                        sent,
                        observed,
                        "empty token refused: the first token comes from an etag listing",
                    );
                } else {
                    self.profile.sync_collection = false;
                    self.record(
                        step,
                        sent,
                        observed,
                        "no sync-collection: ctag and etag listing",
                    );
                }
            }
            Step::SyncBad => {
                let observed = format!("{}, {}", status_line(response), body_shape(response));
                let concluded = match status.as_u16() {
                    207 => {
                        let members = Multistatus::decode(response.body())
                            .map(|ms| {
                                listed(&self.config.base, &ms)
                                    .iter()
                                    .filter(|(k, s)| {
                                        !k.ends_with('/') && *s != Some(StatusCode::NOT_FOUND)
                                    })
                                    .count()
                            })
                            .unwrap_or_default();
                        if members > 0 {
                            self.profile.invalid_sync_token = InvalidSyncToken::FullListing;
                            "a silent full listing: tokens cannot be trusted".to_owned()
                        } else {
                            self.profile.sync_token_unreliable = true;
                            "accepted and listed nothing: tokens cannot be trusted".to_owned()
                        }
                    }
                    code => {
                        let value = match code {
                            403 => InvalidSyncToken::Forbidden,
                            409 => InvalidSyncToken::Conflict,
                            412 => InvalidSyncToken::PreconditionFailed,
                            500 => InvalidSyncToken::ServerError,
                            _ => InvalidSyncToken::ValidSyncToken,
                        };
                        self.profile.invalid_sync_token = value;
                        let named =
                            conditions(response.body()).contains(&Condition::ValidSyncToken);
                        format!(
                            "{value:?}{}",
                            if named {
                                " with valid-sync-token"
                            } else {
                                " without a precondition body"
                            }
                        )
                    }
                };
                self.record(step, sent, observed, concluded);
            }
            Step::Multiget => self.on_multiget(step, sent, response),
            Step::MultigetData => self.on_multiget_data(step, sent, response),
            Step::QueryBare => {
                let ok = status == StatusCode::MULTI_STATUS;
                self.query_bare_ok = Some(ok);
                let observed = format!("{}, {}", status_line(response), body_shape(response));
                self.record(
                    step,
                    sent,
                    observed,
                    if ok { "accepted" } else { "refused" },
                );
            }
            Step::QueryEvent => {
                let ok = status == StatusCode::MULTI_STATUS;
                let required = ok && self.query_bare_ok == Some(false);
                self.profile.comp_filter_required = required;
                let observed = format!("{}, {}", status_line(response), body_shape(response));
                let concluded = match (ok, required) {
                    (_, true) => "only with a component: every query names one",
                    (true, false) => "accepted",
                    (false, _) => "refused too: calendar-query unusable here",
                };
                self.record(step, sent, observed, concluded);
            }
            Step::Cleanup => {}
            Step::Delete(href) => {
                let code = status.as_u16();
                let observed = status_line(response);
                if status.is_success() || status == StatusCode::NOT_FOUND {
                    if !self.deleted_one && status.is_success() {
                        self.deleted_one = true;
                        let mut statuses = vec![code];
                        if code != 204 {
                            statuses.push(204);
                        }
                        statuses.sort_unstable();
                        self.profile.delete_ok_statuses = statuses;
                    }
                    self.record(step, sent, observed, format!("deleted ({code})"));
                } else if status == StatusCode::PRECONDITION_FAILED
                    && self
                        .made
                        .iter()
                        .any(|m| &m.href == href && m.etag.is_some())
                {
                    // The etag moved under us (a rewrite): delete unconditionally, it is ours.
                    if let Some(made) = self.made.iter_mut().find(|m| &m.href == href) {
                        made.etag = None;
                    }
                    self.plan.push_front(Step::Delete(href.clone()));
                    self.record(step, sent, observed, "412: retried without If-Match");
                } else {
                    self.leftovers.push(href.clone());
                    self.record(step, sent, observed, "left behind");
                }
            }
            Step::DeleteCalendar(href) => {
                let observed = status_line(response);
                if status.is_success() || status == StatusCode::NOT_FOUND {
                    self.record(step, sent, observed, "scratch calendar deleted");
                } else {
                    self.leftovers.push(href.clone());
                    self.record(step, sent, observed, "left behind");
                }
            }
        }
    }

    fn on_read_back(&mut self, step: &Step, sent: &str, response: &http::Response<Bytes>) {
        let etag = header(response, http::header::ETAG).map(str::to_owned);
        if !response.status().is_success() {
            let observed = status_line(response);
            self.record(step, sent, observed, "unreadable: kept the defaults");
            return;
        }
        let body = String::from_utf8_lossy(response.body()).into_owned();
        let sent_data = &self.event;
        let bytes_equal = body == *sent_data;
        let crlf_kept = body.ends_with("\r\n");
        let mut sent_lines = content_lines(sent_data);
        let mut got_lines = content_lines(&body);
        let same_order = sent_lines == got_lines;
        sent_lines.sort_unstable();
        got_lines.sort_unstable();
        let same_set = sent_lines == got_lines;
        let lost: Vec<&String> = sent_lines
            .iter()
            .filter(|l| !got_lines.contains(l))
            .take(3)
            .collect();
        let etag_equal = match (&self.put_etag, &etag) {
            (Some(put), Some(get)) => Some(put == get),
            _ => None,
        };
        self.profile.trailing_crlf_stripped = !crlf_kept;
        // Only the final CRLF gone is `trailing_crlf_stripped`, not a rewrite.
        self.profile.rewrites_data = !bytes_equal && (!same_order || crlf_kept);
        if etag_equal == Some(false) {
            self.profile.trust_put_etag = false;
        }
        let observed = format!(
            "{} ETag: {}; {} bytes (sent {}); bytes equal: {bytes_equal}; lines in order: \
             {same_order}; same lines: {same_set}; final CRLF kept: {crlf_kept}",
            status_line(response),
            etag.as_deref().unwrap_or("none"),
            body.len(),
            sent_data.len(),
        );
        let mut concluded = Vec::new();
        if bytes_equal {
            concluded.push("stored verbatim".to_owned());
        } else if same_order {
            concluded.push("the same lines in the same order".to_owned());
        } else if same_set {
            concluded.push("rewritten (reordered), semantically equal".to_owned());
        } else {
            concluded.push(format!("rewritten; lines changed or lost: {lost:?}"));
        }
        if !crlf_kept {
            concluded.push("final CRLF stripped".to_owned());
        }
        match etag_equal {
            Some(true) => concluded.push("PUT's ETag is the stored one".to_owned()),
            Some(false) => concluded.push("PUT's ETag differs from GET's: not trusted".to_owned()),
            None => {}
        }
        self.record(step, sent, observed, concluded.join("; "));
    }

    fn on_multiget(&mut self, step: &Step, sent: &str, response: &http::Response<Bytes>) {
        let status = response.status();
        let observed = format!("{}, {}", status_line(response), body_shape(response));
        let missing = self
            .resource("missing")
            .and_then(|h| key(&self.config.base, &h));
        let concluded = match status.as_u16() {
            207 => match Multistatus::decode(response.body()) {
                Ok(ms) => {
                    let entries = listed(&self.config.base, &ms);
                    let missing_entry = entries.iter().find(|(k, _)| Some(k) == missing.as_ref());
                    match missing_entry {
                        Some(_) => "per-href 404 for the missing href".to_owned(),
                        None => {
                            self.profile.multiget_omits_missing = true;
                            "the missing href left out: checked one by one".to_owned()
                        }
                    }
                }
                Err(error) => format!("unreadable ({error}): kept the defaults"),
            },
            404 => {
                self.profile.multiget_404_on_missing_href = true;
                "the whole REPORT failed with 404: such a batch is fetched one by one".to_owned()
            }
            403 | 405 | 501 => {
                self.profile.multiget = false;
                "refused: objects are fetched with GET".to_owned()
            }
            code => format!("{code}: kept the defaults"),
        };
        self.record(step, sent, observed, concluded);
    }
}

impl ProbeMachine {
    fn on_multiget_data(&mut self, step: &Step, sent: &str, response: &http::Response<Bytes>) {
        let observed = format!("{}, {}", status_line(response), body_shape(response));
        let wanted = self
            .event_made()
            .and_then(|m| key(&self.config.base, &m.href));
        let data = (response.status() == StatusCode::MULTI_STATUS)
            .then(|| Multistatus::decode(response.body()).ok())
            .flatten()
            .and_then(|ms| {
                ms.responses.iter().find_map(|r| {
                    let ours = r
                        .href()
                        .and_then(|h| key(&self.config.base, h))
                        .is_some_and(|k| Some(k) == wanted);
                    ours.then(|| r.prop(&names::CALENDAR_DATA).map(|d| d.text().into_owned()))
                        .flatten()
                })
            });
        let Some(data) = data else {
            self.record(
                step,
                sent,
                observed,
                "no calendar-data: kept what GET showed",
            );
            return;
        };
        // XML parsers turn a raw CRLF into LF (XML 1.0 §2.11), so the decoded text cannot tell
        // a kept CRLF from a bare LF: the wire bytes after the last END:VCALENDAR can.
        let kept = (data.ends_with("\r\n") || data.ends_with('\n'))
            && wire_crlf_after_end(response.body()).unwrap_or(true);
        let same = content_lines(&self.event) == content_lines(&data);
        let observed = format!(
            "{observed}; {} bytes of calendar-data (sent {}); final CRLF kept: {kept}",
            data.len(),
            self.event.len()
        );
        let mut concluded = Vec::new();
        if kept {
            concluded.push("final CRLF kept");
        } else {
            self.profile.trailing_crlf_stripped = true;
            concluded.push("CRLF stripped in calendar-data (bare LF or none on the wire)");
        }
        if !same {
            concluded.push("lines differ from what was sent");
        }
        self.record(step, sent, observed, concluded.join("; "));
    }
}

impl Machine for ProbeMachine {
    type Outcome = ProbeReport;

    fn poll(&mut self) -> Output<ProbeReport> {
        if let Some(done) = &self.done {
            return Output::Done(done.clone());
        }
        if !self.flight.is_empty() {
            return Output::Wait;
        }
        while let Some(step) = self.plan.pop_front() {
            if step == Step::Cleanup {
                self.plan_cleanup();
                continue;
            }
            match self.request(&step) {
                Some((request, _url, sent)) => {
                    let id = self.flight.issue((step, request.uri().clone(), sent));
                    return Output::Http { id, request };
                }
                None => {
                    if let Step::Delete(href) | Step::DeleteCalendar(href) = &step {
                        self.leftovers.push(href.clone());
                    }
                    let needs = match step {
                        Step::SyncBad => "skipped: no sync-collection",
                        _ => "skipped: what it needs is missing",
                    };
                    self.record(&step, "", String::new(), needs);
                }
            }
        }
        self.finish()
    }

    fn handle_answer(
        &mut self,
        id: RequestId,
        answer: Result<http::Response<Bytes>, TransportFailure>,
    ) -> Result<(), UsageError> {
        let Some((step, _url, sent)) = self.flight.settle(self.done.is_some(), id, &answer)? else {
            return Ok(());
        };
        match &answer {
            Ok(response) => self.on_answer(&step, &sent, Ok(response)),
            Err(failure) => self.on_answer(&step, &sent, Err(&failure.message)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_tokens_keep_the_servers_shape() {
        assert_eq!(
            bad_token(Some("http://radicale.org/ns/sync/abc")),
            "http://radicale.org/ns/sync/caldav-probe-invalid"
        );
        assert_eq!(
            bad_token(Some("data:,1795502834-4")),
            "data:,caldav-probe-invalid"
        );
        assert_eq!(bad_token(Some("0a1b")), "0000");
        assert!(bad_token(None).starts_with("http://invalid.invalid/"));
    }

    #[test]
    fn wire_line_ends_after_the_calendar() {
        assert_eq!(wire_crlf_after_end(b"x END:VCALENDAR\r\n</c>"), Some(true));
        assert_eq!(wire_crlf_after_end(b"END:VCALENDAR&#13;\n</c>"), Some(true));
        assert_eq!(wire_crlf_after_end(b"END:VCALENDAR\n</c>"), Some(false));
        assert_eq!(wire_crlf_after_end(b"END:VCALENDAR]]></c>"), Some(false));
        assert_eq!(wire_crlf_after_end(b"<c/>"), None);
    }

    #[test]
    fn scratch_names_are_cleaned() {
        assert_eq!(clean_scratch("a/b c"), "a-b-c");
        assert_eq!(clean_scratch(""), "caldav-probe");
        assert_eq!(clean_scratch(&"x".repeat(500)).len(), MAX_SCRATCH);
    }

    #[test]
    fn the_event_parses_and_ends_with_crlf() {
        let data = event("u@x");
        assert!(data.ends_with("END:VCALENDAR\r\n"));
        let parsed = ical_parse::parse(&data).unwrap();
        assert_eq!(parsed.components.len(), 1);
        assert!(data.contains("BEGIN:VTIMEZONE\r\n"));
    }
}
