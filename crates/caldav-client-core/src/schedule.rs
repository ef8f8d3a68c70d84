//! Scheduling (RFC 6638) and free-busy (RFC 6638 §5, RFC 4791 §7.10): the organizer's and
//! the attendee's flows as machines, in the style of [`write`](mod@crate::write).
//!
//! | What | Machine | RFC |
//! |---|---|---|
//! | is scheduling there, and where | [`Scheduling::from_account`] (no request) | 6638 §2 |
//! | create, update, delete an event with attendees | [`ScheduleWriteMachine`] | 6638 §3.2, §8.3 |
//! | list the schedule inbox | [`InboxMachine`] | 6638 §2.2, 4791 §7.9 |
//! | accept, decline, tentative | [`ReplyMachine`] | 6638 §3.2.2.1, 5546 §3.2.3 |
//! | free-busy of several users | [`FreeBusyMachine`] outbox POST | 6638 §5 |
//! | free-busy of one calendar | [`FreeBusyMachine`] free-busy-query | 4791 §7.10 |
//!
//! With `calendar-auto-schedule` the server does the sending: the organizer PUTs an event
//! whose ORGANIZER is one of its addresses, and the server delivers the iTIP REQUEST to each
//! ATTENDEE whose SCHEDULE-AGENT is SERVER (the default), then writes SCHEDULE-STATUS back on
//! each ATTENDEE line (RFC 6638 §7.3). An attendee answers by changing its own PARTSTAT in its
//! copy and PUTting it back; the server sends the REPLY.
//!
//! ```text
//! RFC 6638 §3.2.10: the Schedule-Tag of a scheduling object resource changes when the
//! organizer or attendee changes it, not when the server merely updates PARTSTATs of others;
//! If-Schedule-Tag-Match makes a write conditional on that tag (§8.3).
//! ```
//!
//! Servers differ: Cyrus changes the Schedule-Tag of an attendee's copy on a PARTSTAT change
//! of its own (QUIRKS #19), so a reply that meets 412 fetches the copy once more, rewrites
//! its PARTSTAT again and retries once; a second 412 is a [`ReplyOutcome::Conflict`].
//!
//! # Limits
//!
//! [`InboxConfig::max_items`] bounds the inbox listing; every other flow makes a fixed,
//! small number of requests. Nothing panics on any answer.

use std::borrow::Cow;

use bytes::Bytes;
use caldav_model::filter::{CompFilter, Filter, PropFilter, TextMatch, TimeRange};
use caldav_model::freebusy::{BusyPeriod, ScheduleResponse, busy_periods, freebusy_request};
use caldav_model::itip::{Attendee, Method as ItipMethod, PartStat, attendees, same_address};
use caldav_model::property::names;
use caldav_model::report::{CalendarMultiget, CalendarQuery, FreeBusyQuery, PropRequest};
use dav_xml::{Href, Multistatus, QName};
use http::header::HeaderName;
use http::{Method, StatusCode, Uri};

use crate::bootstrap::Account;
use crate::error::{Error, UsageError};
use crate::machine::{
    Depth, InFlight, Machine, Output, RequestId, TransportFailure, conditions, dav_request, key,
    resolve, status_error, xml_content_type,
};

/// `Schedule-Tag` (RFC 6638 §8.2).
const SCHEDULE_TAG: HeaderName = HeaderName::from_static("schedule-tag");
/// `If-Schedule-Tag-Match` (RFC 6638 §8.3).
const IF_SCHEDULE_TAG_MATCH: HeaderName = HeaderName::from_static("if-schedule-tag-match");

/// Why an account cannot schedule (what [`Scheduling::from_account`] found missing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unsupported {
    /// The DAV header has no `calendar-auto-schedule` (RFC 6638 §2).
    #[error("the server does not advertise calendar-auto-schedule")]
    NoAutoSchedule,
    /// The principal has no `CALDAV:schedule-inbox-URL` (RFC 6638 §2.2.1).
    #[error("the principal has no schedule-inbox-URL")]
    NoInbox,
    /// The principal has no `CALDAV:schedule-outbox-URL` (RFC 6638 §2.1.1).
    #[error("the principal has no schedule-outbox-URL")]
    NoOutbox,
    /// The principal's `CALDAV:calendar-user-address-set` is empty (RFC 6638 §2.4.1): no
    /// address can be an ORGANIZER or ATTENDEE.
    #[error("the principal has no calendar-user-address-set")]
    NoAddress,
}

/// Where and as whom an account schedules (RFC 6638 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scheduling {
    /// `CALDAV:schedule-inbox-URL`.
    pub inbox: Href,
    /// `CALDAV:schedule-outbox-URL`.
    pub outbox: Href,
    /// The calendar user addresses, in the server's order; the first `mailto:` one (if any)
    /// comes first, since it is the one to use as ORGANIZER.
    pub addresses: Vec<String>,
}

impl Scheduling {
    /// Reads scheduling support from a bootstrapped account: `calendar-auto-schedule` in the
    /// principal's DAV header, both boxes and at least one calendar user address.
    ///
    /// # Errors
    ///
    /// The first thing missing, as [`Unsupported`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn run(account: &caldav_client_core::bootstrap::Account) {
    /// use caldav_client_core::schedule::Scheduling;
    /// match Scheduling::from_account(account) {
    ///     Ok(s) => println!("inviting as {}", s.addresses[0]),
    ///     Err(why) => println!("not supported by this server: {why}"),
    /// }
    /// # }
    /// ```
    pub fn from_account(account: &Account) -> Result<Scheduling, Unsupported> {
        if !account.capabilities.calendar_auto_schedule() {
            return Err(Unsupported::NoAutoSchedule);
        }
        let inbox = account.schedule_inbox.clone().ok_or(Unsupported::NoInbox)?;
        let outbox = account
            .schedule_outbox
            .clone()
            .ok_or(Unsupported::NoOutbox)?;
        let mut addresses: Vec<String> = account
            .calendar_user_address_set
            .iter()
            .map(|h| h.as_str().trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        if addresses.is_empty() {
            return Err(Unsupported::NoAddress);
        }
        // A stable sort keeps the server's order among mailto: addresses and among the rest.
        addresses.sort_by_key(|a| {
            !a.get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case("mailto:"))
        });
        Ok(Scheduling {
            inbox,
            outbox,
            addresses,
        })
    }

    /// The address to use as ORGANIZER (the first one).
    #[must_use]
    pub fn organizer(&self) -> &str {
        self.addresses.first().map_or("", String::as_str)
    }

    /// Whether `address` is one of ours (compared as [`same_address`] does).
    #[must_use]
    pub fn is_ours(&self, address: &str) -> bool {
        self.addresses.iter().any(|a| same_address(a, address))
    }
}

/// A calendar object as a GET returned it, with its scheduling tag.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredObject {
    /// Where.
    pub href: Href,
    /// `ETag`, if the server sent one.
    pub etag: Option<String>,
    /// `Schedule-Tag` (RFC 6638 §3.2.10), if the server sent one.
    pub schedule_tag: Option<String>,
    /// The iCalendar text; empty when the body was not UTF-8.
    pub data: String,
}

impl StoredObject {
    fn from_get(href: Href, response: &http::Response<Bytes>) -> StoredObject {
        StoredObject {
            href,
            etag: header(response, &http::header::ETAG),
            schedule_tag: header(response, &SCHEDULE_TAG),
            data: std::str::from_utf8(response.body())
                .map(str::to_owned)
                .unwrap_or_default(),
        }
    }

    /// The attendees of the object, with the SCHEDULE-STATUS the server wrote back
    /// (RFC 6638 §7.3); empty when the data does not parse.
    #[must_use]
    pub fn attendees(&self) -> Vec<Attendee> {
        ical_parse::parse_with(&self.data, &ical_parse::ParseOptions::lenient())
            .map(|p| attendees(&p.calendar))
            .unwrap_or_default()
    }
}

fn header(response: &http::Response<Bytes>, name: &HeaderName) -> Option<String> {
    let value = response.headers().get(name)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The UID of the first scheduling component.
fn uid_of(data: &str) -> Option<String> {
    let parsed = ical_parse::parse_with(data, &ical_parse::ParseOptions::lenient()).ok()?;
    let uid = parsed
        .calendar
        .objects()
        .find_map(|c| c.property("UID").map(|p| p.raw_value.trim().to_owned()));
    uid.filter(|u| !u.is_empty())
}

fn calendar_header() -> (HeaderName, String) {
    (
        http::header::CONTENT_TYPE,
        "text/calendar; charset=utf-8".to_owned(),
    )
}

fn method(name: &'static [u8]) -> Method {
    // Both names are valid tokens; the fallback is never taken.
    Method::from_bytes(name).unwrap_or(Method::GET)
}

fn child_href(base: &Uri, collection: &Href, name: &str) -> Result<Href, Error> {
    let path = collection.path(base).map_err(|_| Error::InvalidUrl {
        url: collection.as_str().to_owned(),
    })?;
    let slash = if path.ends_with('/') { "" } else { "/" };
    Ok(Href::new(format!("{path}{slash}{name}")))
}

fn misbehaved(what: impl Into<String>) -> Error {
    Error::ServerMisbehaved { what: what.into() }
}

/// What a flow of this module does with each answer: the state of one machine, without its
/// bookkeeping.
trait Steps {
    /// Why a request was sent.
    type Purpose: Copy;
    /// What the flow produces.
    type Outcome: Clone;

    /// The answer to the request sent for `purpose` leads to the next request or the end.
    fn on(
        &mut self,
        purpose: Self::Purpose,
        response: &http::Response<Bytes>,
    ) -> Result<Step<Self::Purpose, Self::Outcome>, Error>;
}

/// The bookkeeping every machine of this module shares: one request at a time, a next
/// request or a final result after each answer.
#[derive(Debug)]
struct Flow<S: Steps> {
    steps: Option<S>,
    flight: InFlight<S::Purpose>,
    next: Option<(S::Purpose, http::Request<Bytes>)>,
    done: Option<Result<S::Outcome, Error>>,
}

/// What an answer leads to.
// A step is moved out at once, like `Output`; boxing the request would cost every answer.
#[allow(clippy::large_enum_variant)]
enum Step<P, O> {
    Send(P, http::Request<Bytes>),
    Finish(O),
}

impl<S: Steps> Flow<S> {
    /// A flow in state `steps` that first sends `request`, or one that failed before sending
    /// anything.
    fn start(first: Result<(S, S::Purpose, http::Request<Bytes>), Error>) -> Self {
        let (steps, next, done) = match first {
            Ok((steps, purpose, request)) => (Some(steps), Some((purpose, request)), None),
            Err(error) => (None, None, Some(Err(error))),
        };
        Flow {
            steps,
            flight: InFlight::default(),
            next,
            done,
        }
    }

    fn poll(&mut self) -> Output<S::Outcome> {
        if let Some(done) = &self.done {
            return Output::Done(done.clone());
        }
        match self.next.take() {
            Some((purpose, request)) => {
                let id = self.flight.issue(purpose);
                Output::Http { id, request }
            }
            None if self.flight.is_empty() => {
                let error = misbehaved("flow ended without an outcome");
                self.done = Some(Err(error.clone()));
                Output::Done(Err(error))
            }
            None => Output::Wait,
        }
    }

    fn answer(
        &mut self,
        id: RequestId,
        answer: Result<http::Response<Bytes>, TransportFailure>,
    ) -> Result<(), UsageError> {
        let Some(purpose) = self.flight.settle(self.done.is_some(), id, &answer)? else {
            return Ok(());
        };
        let step = match (answer, &mut self.steps) {
            (Ok(response), Some(steps)) => steps.on(purpose, &response),
            (Ok(_), None) => Err(misbehaved("answer without a request")),
            (Err(failure), _) => Err(Error::Transport {
                message: failure.message,
            }),
        };
        match step {
            Ok(Step::Send(purpose, request)) => self.next = Some((purpose, request)),
            Ok(Step::Finish(outcome)) => self.done = Some(Ok(outcome)),
            Err(error) => self.done = Some(Err(error)),
        }
        Ok(())
    }
}

/// Implements [`Machine`] for a public machine that is a `flow: Flow<_>` field.
macro_rules! flow_machine {
    ($machine:ty, $outcome:ty) => {
        impl Machine for $machine {
            type Outcome = $outcome;

            fn poll(&mut self) -> Output<$outcome> {
                self.flow.poll()
            }

            fn handle_answer(
                &mut self,
                id: RequestId,
                answer: Result<http::Response<Bytes>, TransportFailure>,
            ) -> Result<(), UsageError> {
                self.flow.answer(id, answer)
            }
        }
    };
}

fn get(url: &Uri) -> Result<http::Request<Bytes>, Error> {
    dav_request(Method::GET, url, None, &[], Bytes::new())
}

// ---------------------------------------------------------------------------------------------
// Organizer: create, update, delete with scheduling.

/// One organizer write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScheduleWrite {
    /// PUT a new event (with ORGANIZER and ATTENDEEs) into `collection`, named from its UID,
    /// with `If-None-Match: *`: the server sends the REQUESTs.
    Create {
        /// The calendar collection.
        collection: Href,
        /// The iCalendar data.
        data: String,
    },
    /// PUT over `href`, conditional on `schedule_tag` (`If-Schedule-Tag-Match`, RFC 6638
    /// §8.3) when given, else on `etag` (`If-Match`), else unconditional.
    Update {
        /// The object.
        href: Href,
        /// The Schedule-Tag last seen.
        schedule_tag: Option<String>,
        /// The ETag last seen.
        etag: Option<String>,
        /// The new iCalendar data.
        data: String,
    },
    /// DELETE `href` (the server sends CANCELs to the attendees, or a REPLY declining when
    /// an attendee deletes its copy), conditional as `Update`.
    Delete {
        /// The object.
        href: Href,
        /// The Schedule-Tag last seen.
        schedule_tag: Option<String>,
        /// The ETag last seen.
        etag: Option<String>,
    },
}

/// What a [`ScheduleWriteMachine`] needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScheduleWriteConfig {
    /// The URL hrefs are resolved against.
    pub base: Uri,
    /// The write.
    pub write: ScheduleWrite,
}

impl ScheduleWriteConfig {
    /// A configuration for `write`.
    #[must_use]
    pub fn new(base: Uri, write: ScheduleWrite) -> Self {
        Self { base, write }
    }
}

/// How an organizer write ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum ScheduleWriteOutcome {
    /// Created or replaced, then read back: the object as stored, with the server's
    /// SCHEDULE-STATUS per attendee ([`StoredObject::attendees`]) and its Schedule-Tag.
    Written {
        /// Whether it was a create.
        created: bool,
        /// The stored object.
        object: StoredObject,
    },
    /// Deleted.
    Deleted {
        /// Where.
        href: Href,
    },
    /// The condition failed (412): the server's current object, when it still has one.
    Conflict {
        /// The object.
        href: Href,
        /// Its current state on the server.
        server: Option<StoredObject>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WritePurpose {
    Write,
    ReadBack,
    ReadConflict,
}

#[derive(Debug)]
struct WriteInner {
    write: ScheduleWrite,
    href: Href,
    url: Uri,
    /// What the PUT's headers said, in case the read-back fails.
    written: Option<StoredObject>,
}

/// The organizer's write machine: the write, then a GET that reads back SCHEDULE-STATUS and
/// the tags (or, after a 412, the server's version).
///
/// # Example
///
/// ```
/// use caldav_client_core::schedule::{ScheduleWrite, ScheduleWriteConfig, ScheduleWriteMachine};
/// use caldav_client_core::{Machine, Output};
///
/// let mut machine = ScheduleWriteMachine::new(ScheduleWriteConfig::new(
///     "https://cal.example/".parse().unwrap(),
///     ScheduleWrite::Update {
///         href: "/cal/e.ics".into(),
///         schedule_tag: Some("\"s1\"".into()),
///         etag: Some("\"e1\"".into()),
///         data: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
///     },
/// ));
/// let Output::Http { request, .. } = machine.poll() else { panic!() };
/// assert_eq!(request.headers()["if-schedule-tag-match"], "\"s1\"");
/// assert!(request.headers().get("if-match").is_none());
/// ```
#[derive(Debug)]
pub struct ScheduleWriteMachine {
    flow: Flow<WriteInner>,
}

fn conditional(schedule_tag: Option<&String>, etag: Option<&String>) -> Vec<(HeaderName, String)> {
    match (schedule_tag, etag) {
        (Some(tag), _) => vec![(IF_SCHEDULE_TAG_MATCH, tag.clone())],
        (None, Some(etag)) => vec![(http::header::IF_MATCH, etag.clone())],
        (None, None) => Vec::new(),
    }
}

impl ScheduleWriteMachine {
    /// A machine for `config.write`.
    pub fn new(config: ScheduleWriteConfig) -> Self {
        let first =
            Self::first(config).map(|(inner, request)| (inner, WritePurpose::Write, request));
        Self {
            flow: Flow::start(first),
        }
    }

    fn first(config: ScheduleWriteConfig) -> Result<(WriteInner, http::Request<Bytes>), Error> {
        let ScheduleWriteConfig { base, write } = config;
        let (href, method, headers, body) = match &write {
            ScheduleWrite::Create { collection, data } => {
                let uid = uid_of(data).ok_or_else(|| Error::InvalidData {
                    reason: "no UID in the calendar data".into(),
                })?;
                let href = child_href(&base, collection, &crate::write::name_for_uid(&uid))?;
                let headers = vec![calendar_header(), (http::header::IF_NONE_MATCH, "*".into())];
                (href, Method::PUT, headers, Bytes::from(data.clone()))
            }
            ScheduleWrite::Update {
                href,
                schedule_tag,
                etag,
                data,
            } => {
                let mut headers = vec![calendar_header()];
                headers.extend(conditional(schedule_tag.as_ref(), etag.as_ref()));
                (
                    href.clone(),
                    Method::PUT,
                    headers,
                    Bytes::from(data.clone()),
                )
            }
            ScheduleWrite::Delete {
                href,
                schedule_tag,
                etag,
            } => (
                href.clone(),
                Method::DELETE,
                conditional(schedule_tag.as_ref(), etag.as_ref()),
                Bytes::new(),
            ),
        };
        let url = resolve(&base, &href)?;
        let request = dav_request(method, &url, None, &headers, body)?;
        Ok((
            WriteInner {
                write,
                href,
                url,
                written: None,
            },
            request,
        ))
    }
}

impl Steps for WriteInner {
    type Purpose = WritePurpose;
    type Outcome = ScheduleWriteOutcome;

    fn on(
        &mut self,
        purpose: WritePurpose,
        response: &http::Response<Bytes>,
    ) -> Result<Step<WritePurpose, ScheduleWriteOutcome>, Error> {
        let status = response.status();
        match purpose {
            WritePurpose::Write => {
                if status == StatusCode::PRECONDITION_FAILED {
                    let named = conditions(response.body());
                    if !named.is_empty() {
                        return Err(Error::Precondition {
                            href: self.url.to_string(),
                            status: status.as_u16(),
                            conditions: named,
                        });
                    }
                    return Ok(Step::Send(WritePurpose::ReadConflict, get(&self.url)?));
                }
                if !status.is_success() {
                    return Err(status_error(&self.url, response));
                }
                if matches!(self.write, ScheduleWrite::Delete { .. }) {
                    return Ok(Step::Finish(ScheduleWriteOutcome::Deleted {
                        href: self.href.clone(),
                    }));
                }
                let mut written = StoredObject::from_get(self.href.clone(), response);
                written.data = match &self.write {
                    ScheduleWrite::Create { data, .. } | ScheduleWrite::Update { data, .. } => {
                        data.clone()
                    }
                    ScheduleWrite::Delete { .. } => String::new(),
                };
                self.written = Some(written);
                Ok(Step::Send(WritePurpose::ReadBack, get(&self.url)?))
            }
            WritePurpose::ReadBack => {
                let created = matches!(self.write, ScheduleWrite::Create { .. });
                let object = if status.is_success() {
                    StoredObject::from_get(self.href.clone(), response)
                } else {
                    // Written but unreadable: what the PUT said is all there is.
                    self.written
                        .take()
                        .ok_or_else(|| status_error(&self.url, response))?
                };
                Ok(Step::Finish(ScheduleWriteOutcome::Written {
                    created,
                    object,
                }))
            }
            WritePurpose::ReadConflict => Ok(Step::Finish(ScheduleWriteOutcome::Conflict {
                href: self.href.clone(),
                server: status
                    .is_success()
                    .then(|| StoredObject::from_get(self.href.clone(), response)),
            })),
        }
    }
}

flow_machine!(ScheduleWriteMachine, ScheduleWriteOutcome);

// ---------------------------------------------------------------------------------------------
// Attendee: the inbox.

/// What an [`InboxMachine`] needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InboxConfig {
    /// The URL hrefs are resolved against.
    pub base: Uri,
    /// The schedule inbox ([`Scheduling::inbox`]).
    pub inbox: Href,
    /// Most items read; more is [`Error::LimitExceeded`].
    pub max_items: usize,
}

impl InboxConfig {
    /// A configuration with a limit of 10 000 items.
    #[must_use]
    pub fn new(base: Uri, inbox: Href) -> Self {
        Self {
            base,
            inbox,
            max_items: 10_000,
        }
    }
}

/// One scheduling message in the inbox (RFC 6638 §2.2): an iTIP REQUEST, CANCEL, REPLY...
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxItem {
    /// Where (DELETE it once processed, RFC 6638 §4.2).
    pub href: Href,
    /// Its ETag.
    pub etag: Option<String>,
    /// The iCalendar text of the message.
    pub data: String,
}

/// The parts of an inbox message a person decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Invitation {
    /// METHOD (REQUEST for an invitation, CANCEL, REPLY from an attendee...).
    pub method: Option<ItipMethod>,
    /// The component scheduled (`VEVENT`, `VTODO`...).
    pub component: Option<String>,
    /// UID of the event or to-do.
    pub uid: Option<String>,
    /// ORGANIZER's address.
    pub organizer: Option<String>,
    /// SUMMARY.
    pub summary: Option<String>,
    /// DTSTART as written (value only).
    pub start: Option<String>,
    /// DTEND as written (value only).
    pub end: Option<String>,
    /// The PARTSTAT of the first ATTENDEE that is one of `addresses`; `None` when we are not
    /// an attendee.
    pub partstat: Option<PartStat>,
}

impl InboxItem {
    /// What the message says, as seen by the user with `addresses`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidData`] when the data is not iCalendar.
    pub fn invitation(&self, addresses: &[String]) -> Result<Invitation, Error> {
        invitation(&self.data, addresses)
    }
}

/// What an iTIP message or a stored scheduling object says, as seen by the user with
/// `addresses`.
///
/// # Errors
///
/// [`Error::InvalidData`] when `data` is not iCalendar.
///
/// # Example
///
/// ```
/// use caldav_client_core::schedule::invitation;
/// use caldav_model::itip::PartStat;
///
/// let data = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u1\r\n\
///             SUMMARY:Lunch\r\nORGANIZER:mailto:a@example.test\r\n\
///             ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:b@example.test\r\n\
///             END:VEVENT\r\nEND:VCALENDAR\r\n";
/// let seen = invitation(data, &["mailto:B@example.test".into()])?;
/// assert_eq!(seen.summary.as_deref(), Some("Lunch"));
/// assert_eq!(seen.partstat, Some(PartStat::NeedsAction));
/// # Ok::<(), caldav_client_core::Error>(())
/// ```
pub fn invitation(data: &str, addresses: &[String]) -> Result<Invitation, Error> {
    let parsed =
        ical_parse::parse_with(data, &ical_parse::ParseOptions::lenient()).map_err(|e| {
            Error::InvalidData {
                reason: e.to_string(),
            }
        })?;
    let calendar = &parsed.calendar;
    let method = calendar
        .components
        .iter()
        .find(|c| c.is("VCALENDAR"))
        .and_then(|c| c.property("METHOD"))
        .map(|p| ItipMethod::parse(p.raw_value.trim()));
    let first = calendar
        .objects()
        .find(|c| c.is("VEVENT") || c.is("VTODO") || c.is("VJOURNAL") || c.is("VFREEBUSY"));
    let value =
        |name: &str| -> Option<String> { first.and_then(|c| c.text(name)).map(Cow::into_owned) };
    let partstat = attendees(calendar)
        .into_iter()
        .find(|a| addresses.iter().any(|ours| same_address(ours, &a.address)))
        .map(|a| a.partstat);
    Ok(Invitation {
        method,
        component: first.map(|c| c.name.to_ascii_uppercase()),
        uid: value("UID"),
        organizer: first
            .and_then(|c| c.property("ORGANIZER"))
            .map(|p| p.raw_value.trim().to_owned()),
        summary: value("SUMMARY"),
        start: first
            .and_then(|c| c.property("DTSTART"))
            .map(|p| p.raw_value.trim().to_owned()),
        end: first
            .and_then(|c| c.property("DTEND").or_else(|| c.property("DUE")))
            .map(|p| p.raw_value.trim().to_owned()),
        partstat,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InboxPurpose {
    List,
    Multiget,
    Get(usize),
}

#[derive(Debug)]
struct InboxInner {
    config: InboxConfig,
    url: Uri,
    /// Members from the listing: href and etag.
    members: Vec<(Href, Option<String>)>,
    /// Items read so far, by member index.
    items: Vec<Option<InboxItem>>,
}

/// Lists the schedule inbox: a Depth:1 PROPFIND for the members, then one calendar-multiget
/// for their data (a GET per member the multiget left out, or for all of them when the
/// server refuses the multiget).
///
/// # Example
///
/// ```
/// use caldav_client_core::schedule::{InboxConfig, InboxMachine};
/// use caldav_client_core::{Machine, Output};
///
/// let config = InboxConfig::new("https://cal.example/".parse().unwrap(), "/in/".into());
/// let mut machine = InboxMachine::new(config);
/// let Output::Http { id, request } = machine.poll() else { panic!() };
/// assert_eq!(request.method(), "PROPFIND");
/// let empty = r#"<multistatus xmlns="DAV:"><response><href>/in/</href><propstat><prop>
///   <resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status>
///   </propstat></response></multistatus>"#;
/// let answer = http::Response::builder().status(207).body(empty.into()).unwrap();
/// machine.handle_response(id, answer).unwrap();
/// let Output::Done(Ok(items)) = machine.poll() else { panic!() };
/// assert!(items.is_empty());
/// ```
#[derive(Debug)]
pub struct InboxMachine {
    flow: Flow<InboxInner>,
}

impl InboxMachine {
    /// A machine for `config`.
    pub fn new(config: InboxConfig) -> Self {
        let first = resolve(&config.base, &config.inbox).and_then(|url| {
            let request = dav_request(
                method(b"PROPFIND"),
                &url,
                Some(Depth::One),
                &[xml_content_type()],
                crate::body::propfind(&[names::GETETAG, QName::DAV_RESOURCETYPE]),
            )?;
            Ok((url, request))
        });
        let first = first.map(|(url, request)| {
            let inner = InboxInner {
                config,
                url,
                members: Vec::new(),
                items: Vec::new(),
            };
            (inner, InboxPurpose::List, request)
        });
        Self {
            flow: Flow::start(first),
        }
    }
}

fn decode_multistatus(response: &http::Response<Bytes>) -> Result<Multistatus, Error> {
    Multistatus::decode(response.body())
        .map_err(|e| misbehaved(format!("unreadable multistatus: {e}")))
}

impl InboxInner {
    fn advance(
        &mut self,
        purpose: InboxPurpose,
        response: &http::Response<Bytes>,
    ) -> Result<Step<InboxPurpose, Vec<InboxItem>>, Error> {
        match purpose {
            InboxPurpose::List => {
                if response.status() != StatusCode::MULTI_STATUS {
                    return Err(status_error(&self.url, response));
                }
                self.on_list(&decode_multistatus(response)?)?;
                if self.members.is_empty() {
                    return Ok(Step::Finish(Vec::new()));
                }
                let hrefs: Vec<Href> = self.members.iter().map(|(h, _)| h.clone()).collect();
                let body = CalendarMultiget::new(
                    PropRequest::names([names::GETETAG, names::CALENDAR_DATA]),
                    hrefs,
                );
                // RFC 4791 §7.9: a multiget carries no Depth (servers must ignore one).
                let request = dav_request(
                    method(b"REPORT"),
                    &self.url,
                    None,
                    &[xml_content_type()],
                    Bytes::from(body.to_element().encode()),
                )?;
                Ok(Step::Send(InboxPurpose::Multiget, request))
            }
            InboxPurpose::Multiget => {
                if response.status() == StatusCode::MULTI_STATUS {
                    self.on_multiget(&decode_multistatus(response)?);
                }
                self.next_get(0)
            }
            InboxPurpose::Get(index) => {
                if response.status().is_success() {
                    let got = self
                        .members
                        .get(index)
                        .map(|(href, _)| StoredObject::from_get(href.clone(), response));
                    if let (Some(slot), Some(got)) = (self.items.get_mut(index), got) {
                        *slot = Some(InboxItem {
                            href: got.href,
                            etag: got.etag,
                            data: got.data,
                        });
                    }
                } else if !matches!(response.status().as_u16(), 404 | 410) {
                    // A message that vanished meanwhile was processed elsewhere: not an error.
                    return Err(status_error(&self.url, response));
                }
                self.next_get(index.saturating_add(1))
            }
        }
    }

    fn on_list(&mut self, ms: &Multistatus) -> Result<(), Error> {
        let own = key(&self.config.base, &self.config.inbox);
        for response in &ms.responses {
            let Some(href) = response.href() else {
                continue;
            };
            let is_collection = response
                .prop(&QName::DAV_RESOURCETYPE)
                .is_some_and(|t| t.child(&QName::DAV_COLLECTION).is_some());
            let this = key(&self.config.base, href);
            if is_collection || this.is_none() || this == own {
                continue;
            }
            if response.status.is_some_and(|s| !s.is_success()) {
                continue;
            }
            if self.members.len() >= self.config.max_items {
                return Err(Error::LimitExceeded {
                    what: "schedule inbox items",
                });
            }
            let etag = response
                .prop(&names::GETETAG)
                .map(|e| e.text().trim().to_owned())
                .filter(|e| !e.is_empty());
            self.members.push((href.clone(), etag));
        }
        self.items = vec![None; self.members.len()];
        Ok(())
    }

    fn on_multiget(&mut self, ms: &Multistatus) {
        let base = &self.config.base;
        for response in &ms.responses {
            let (Some(href), Some(data)) = (response.href(), response.prop(&names::CALENDAR_DATA))
            else {
                continue;
            };
            let this = key(base, href);
            let index = self
                .members
                .iter()
                .position(|(h, _)| this.is_some() && key(base, h) == this);
            let Some(index) = index else {
                continue;
            };
            let etag = response
                .prop(&names::GETETAG)
                .map(|e| e.text().trim().to_owned())
                .filter(|e| !e.is_empty())
                .or_else(|| self.members.get(index).and_then(|(_, e)| e.clone()));
            if let Some(slot) = self.items.get_mut(index) {
                *slot = Some(InboxItem {
                    href: href.clone(),
                    etag,
                    data: data.text().into_owned(),
                });
            }
        }
    }

    /// GETs the first member from `from` on that has no data yet, or finishes.
    fn next_get(&mut self, from: usize) -> Result<Step<InboxPurpose, Vec<InboxItem>>, Error> {
        let missing = self
            .items
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, item)| item.is_none())
            .map(|(index, _)| index);
        match missing.and_then(|i| self.members.get(i).map(|(h, _)| (i, h))) {
            Some((index, href)) => {
                let url = resolve(&self.config.base, href)?;
                Ok(Step::Send(InboxPurpose::Get(index), get(&url)?))
            }
            None => Ok(Step::Finish(
                std::mem::take(&mut self.items)
                    .into_iter()
                    .flatten()
                    .collect(),
            )),
        }
    }
}

impl Steps for InboxInner {
    type Purpose = InboxPurpose;
    type Outcome = Vec<InboxItem>;

    fn on(
        &mut self,
        purpose: InboxPurpose,
        response: &http::Response<Bytes>,
    ) -> Result<Step<InboxPurpose, Vec<InboxItem>>, Error> {
        self.advance(purpose, response)
    }
}

flow_machine!(InboxMachine, Vec<InboxItem>);

// ---------------------------------------------------------------------------------------------
// Attendee: the reply.

/// What a [`ReplyMachine`] needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReplyConfig {
    /// The URL hrefs are resolved against.
    pub base: Uri,
    /// The calendars to look for the attendee's copy in, in order; a copy made from the
    /// invitation goes to the first one.
    pub calendars: Vec<Href>,
    /// The UID of the event (or to-do) answered.
    pub uid: String,
    /// The component the UID is looked up in (`VEVENT` unless changed).
    pub component: String,
    /// The attendee's calendar user addresses ([`Scheduling::addresses`]).
    pub addresses: Vec<String>,
    /// The answer.
    pub partstat: PartStat,
    /// The invitation (an inbox item's data): when no calendar holds a copy (a server that
    /// does not file invitations itself), a copy is made from it with our PARTSTAT.
    pub invitation: Option<String>,
}

impl ReplyConfig {
    /// A reply of `addresses` with `partstat` to the VEVENT `uid` found in `calendars`.
    #[must_use]
    pub fn new(
        base: Uri,
        calendars: Vec<Href>,
        uid: impl Into<String>,
        addresses: Vec<String>,
        partstat: PartStat,
    ) -> Self {
        Self {
            base,
            calendars,
            uid: uid.into(),
            component: "VEVENT".into(),
            addresses,
            partstat,
            invitation: None,
        }
    }

    /// The same configuration with the invitation to copy from when no calendar has the
    /// event.
    #[must_use]
    pub fn with_invitation(mut self, data: impl Into<String>) -> Self {
        self.invitation = Some(data.into());
        self
    }
}

/// How a reply ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum ReplyOutcome {
    /// The copy now carries our PARTSTAT; the server sends the REPLY to the organizer.
    Replied {
        /// The attendee's copy.
        href: Href,
        /// Its new ETag, if the PUT answer had one.
        etag: Option<String>,
        /// Its new Schedule-Tag, if the PUT answer had one.
        schedule_tag: Option<String>,
        /// Whether the copy was made from the invitation (no calendar had one).
        created: bool,
    },
    /// The copy changed under us twice (412 after one refetch): nothing was written.
    Conflict {
        /// The attendee's copy.
        href: Href,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyPurpose {
    Find(usize),
    Fetch { retried: bool },
    Put { retried: bool },
    Create,
}

#[derive(Debug)]
struct ReplyInner {
    config: ReplyConfig,
    target: Option<(Href, Uri)>,
    /// The calendar being searched.
    calendar: usize,
    /// Members of that calendar the UID query matched, not yet looked at: the query's
    /// text-match is a substring match (RFC 4791 §9.7.5), so `u-1` also finds `u-10`.
    candidates: Vec<Href>,
}

/// Most query matches looked at per calendar.
const MAX_CANDIDATES: usize = 32;

/// Answers an invitation: finds the attendee's copy (a calendar-query on UID in each
/// calendar), GETs it, sets our PARTSTAT (RFC 6638 §3.2.2.1: nothing else changes) and PUTs it
/// back with `If-Schedule-Tag-Match` (or `If-Match` when the server gave no Schedule-Tag).
/// On 412 it fetches the copy once more and retries once (QUIRKS #19).
///
/// # Example
///
/// ```
/// use caldav_client_core::schedule::{ReplyConfig, ReplyMachine};
/// use caldav_client_core::{Machine, Output};
/// use caldav_model::itip::PartStat;
///
/// let config = ReplyConfig::new("https://cal.example/".parse().unwrap(), vec!["/cal/".into()],
///     "u1", vec!["mailto:b@example.test".into()], PartStat::Accepted);
/// let mut machine = ReplyMachine::new(config);
/// let Output::Http { request, .. } = machine.poll() else { panic!() };
/// assert_eq!(request.method(), "REPORT");
/// assert!(std::str::from_utf8(request.body()).unwrap().contains(">u1<"));
/// ```
#[derive(Debug)]
pub struct ReplyMachine {
    flow: Flow<ReplyInner>,
}

impl ReplyMachine {
    /// A machine for `config`.
    pub fn new(config: ReplyConfig) -> Self {
        let mut inner = ReplyInner {
            config,
            target: None,
            calendar: 0,
            candidates: Vec::new(),
        };
        let first = inner
            .find_or_create(0)
            .map(|(purpose, request)| (inner, purpose, request));
        Self {
            flow: Flow::start(first),
        }
    }
}

/// The calendar without METHOD and with our PARTSTAT, as text.
fn rewrite(data: &str, addresses: &[String], partstat: &PartStat) -> Result<String, Error> {
    let parsed =
        ical_parse::parse_with(data, &ical_parse::ParseOptions::lenient()).map_err(|e| {
            Error::InvalidData {
                reason: e.to_string(),
            }
        })?;
    let mut calendar = parsed.calendar;
    let mut changed = 0;
    for address in addresses {
        changed += caldav_model::itip::set_partstat(&mut calendar, address, partstat);
    }
    if changed == 0 {
        return Err(Error::InvalidData {
            reason: "none of our addresses is an ATTENDEE".into(),
        });
    }
    for vcal in calendar.components.iter_mut().filter(|c| c.is("VCALENDAR")) {
        // A stored object carries no METHOD (RFC 4791 §4.1); an inbox message does.
        vcal.properties.retain(|p| !p.is("METHOD"));
    }
    Ok(calendar.write())
}

impl ReplyInner {
    fn find_or_create(
        &mut self,
        index: usize,
    ) -> Result<(ReplyPurpose, http::Request<Bytes>), Error> {
        let config = &self.config;
        if let Some(calendar) = config.calendars.get(index) {
            let url = resolve(&config.base, calendar)?;
            let filter = Filter::component(
                CompFilter::new(config.component.as_str())
                    .prop(PropFilter::new("UID").text_match(TextMatch::new(config.uid.as_str()))),
            );
            let body = CalendarQuery::new(filter).props(PropRequest::names([names::GETETAG]));
            let request = dav_request(
                method(b"REPORT"),
                &url,
                Some(Depth::One),
                &[xml_content_type()],
                Bytes::from(body.to_element().encode()),
            )?;
            return Ok((ReplyPurpose::Find(index), request));
        }
        let (Some(invitation), Some(calendar)) = (&config.invitation, config.calendars.first())
        else {
            return Err(Error::NotFound {
                href: format!("no calendar holds UID {}", config.uid),
            });
        };
        let data = rewrite(invitation, &config.addresses, &config.partstat)?;
        let href = child_href(
            &config.base,
            calendar,
            &crate::write::name_for_uid(&config.uid),
        )?;
        let url = resolve(&config.base, &href)?;
        let request = dav_request(
            Method::PUT,
            &url,
            None,
            &[calendar_header(), (http::header::IF_NONE_MATCH, "*".into())],
            Bytes::from(data),
        )?;
        self.target = Some((href, url));
        Ok((ReplyPurpose::Create, request))
    }

    fn advance(
        &mut self,
        purpose: ReplyPurpose,
        response: &http::Response<Bytes>,
    ) -> Result<Step<ReplyPurpose, ReplyOutcome>, Error> {
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            let url = resolve(&self.config.base, &Href::new("/"))?;
            return Err(status_error(&url, response));
        }
        match purpose {
            ReplyPurpose::Find(index) => {
                self.calendar = index;
                self.candidates = if status == StatusCode::MULTI_STATUS {
                    self.found(&decode_multistatus(response)?)
                } else {
                    // A calendar that refuses the query cannot be searched: try the next.
                    Vec::new()
                };
                self.next_candidate()
            }
            ReplyPurpose::Fetch { retried } => {
                let (href, url) = self.target()?;
                if !status.is_success() {
                    return Err(status_error(&url, response));
                }
                let object = StoredObject::from_get(href, response);
                if uid_of(&object.data).as_deref() != Some(self.config.uid.trim()) {
                    return self.next_candidate();
                }
                let data = rewrite(&object.data, &self.config.addresses, &self.config.partstat)?;
                let mut headers = vec![calendar_header()];
                headers.extend(conditional(
                    object.schedule_tag.as_ref(),
                    object.etag.as_ref(),
                ));
                let request = dav_request(Method::PUT, &url, None, &headers, Bytes::from(data))?;
                Ok(Step::Send(ReplyPurpose::Put { retried }, request))
            }
            ReplyPurpose::Put { .. } | ReplyPurpose::Create if status.is_success() => {
                let (href, _) = self.target()?;
                Ok(Step::Finish(ReplyOutcome::Replied {
                    href,
                    etag: header(response, &http::header::ETAG),
                    schedule_tag: header(response, &SCHEDULE_TAG),
                    created: purpose == ReplyPurpose::Create,
                }))
            }
            ReplyPurpose::Put { retried: false } if status == StatusCode::PRECONDITION_FAILED => {
                let (_, url) = self.target()?;
                Ok(Step::Send(
                    ReplyPurpose::Fetch { retried: true },
                    get(&url)?,
                ))
            }
            ReplyPurpose::Put { .. } | ReplyPurpose::Create
                if status == StatusCode::PRECONDITION_FAILED
                    && conditions(response.body()).is_empty() =>
            {
                let (href, _) = self.target()?;
                Ok(Step::Finish(ReplyOutcome::Conflict { href }))
            }
            ReplyPurpose::Put { .. } | ReplyPurpose::Create => {
                let (_, url) = self.target()?;
                Err(status_error(&url, response))
            }
        }
    }

    fn target(&self) -> Result<(Href, Uri), Error> {
        self.target
            .clone()
            .ok_or_else(|| misbehaved("answer before the copy was found"))
    }

    /// The non-collection members of a query answer, in the server's order, at most
    /// [`MAX_CANDIDATES`].
    fn found(&self, ms: &Multistatus) -> Vec<Href> {
        ms.responses
            .iter()
            .filter(|r| r.status.is_none_or(|s| s.is_success()))
            .filter(|r| r.propstats.is_empty() || r.prop(&names::GETETAG).is_some())
            .filter_map(|r| r.href())
            .filter(|h| !h.as_str().ends_with('/'))
            .take(MAX_CANDIDATES)
            .cloned()
            .collect()
    }

    /// GETs the next query match, or searches the next calendar.
    fn next_candidate(&mut self) -> Result<Step<ReplyPurpose, ReplyOutcome>, Error> {
        if self.candidates.is_empty() {
            let (purpose, request) = self.find_or_create(self.calendar.saturating_add(1))?;
            return Ok(Step::Send(purpose, request));
        }
        let href = self.candidates.remove(0);
        let url = resolve(&self.config.base, &href)?;
        let request = get(&url)?;
        self.target = Some((href, url));
        Ok(Step::Send(ReplyPurpose::Fetch { retried: false }, request))
    }
}

impl Steps for ReplyInner {
    type Purpose = ReplyPurpose;
    type Outcome = ReplyOutcome;

    fn on(
        &mut self,
        purpose: ReplyPurpose,
        response: &http::Response<Bytes>,
    ) -> Result<Step<ReplyPurpose, ReplyOutcome>, Error> {
        self.advance(purpose, response)
    }
}

flow_machine!(ReplyMachine, ReplyOutcome);

// ---------------------------------------------------------------------------------------------
// Free-busy.

/// A free-busy question.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FreeBusyRequest {
    /// POST a VFREEBUSY REQUEST to the organizer's outbox (RFC 6638 §5): the server answers
    /// for every attendee it knows, each from all of that user's calendars.
    Outbox {
        /// The organizer's outbox ([`Scheduling::outbox`]).
        outbox: Href,
        /// ORGANIZER: one of the organizer's addresses.
        organizer: String,
        /// The addresses asked about.
        attendees: Vec<String>,
        /// The UID of the request (the caller's choice; this crate has no randomness).
        uid: String,
        /// DTSTAMP: the caller's "now" (this crate reads no clock).
        dtstamp: jiff::Timestamp,
    },
    /// A `CALDAV:free-busy-query` REPORT on one calendar (RFC 4791 §7.10).
    Query {
        /// The calendar.
        calendar: Href,
    },
}

/// What a [`FreeBusyMachine`] needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FreeBusyConfig {
    /// The URL hrefs are resolved against.
    pub base: Uri,
    /// The question.
    pub request: FreeBusyRequest,
    /// The period asked about; busy periods are cut to it.
    pub start: jiff::Timestamp,
    /// Its end (exclusive).
    pub end: jiff::Timestamp,
}

impl FreeBusyConfig {
    /// A question about `[start, end)`.
    #[must_use]
    pub fn new(
        base: Uri,
        request: FreeBusyRequest,
        start: jiff::Timestamp,
        end: jiff::Timestamp,
    ) -> Self {
        Self {
            base,
            request,
            start,
            end,
        }
    }
}

/// One recipient's free-busy from an outbox POST.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecipientFreeBusy {
    /// The address asked about.
    pub recipient: String,
    /// The iTIP REQUEST-STATUS (`2.0;Success`, `3.7;Invalid calendar user`...).
    pub request_status: String,
    /// Busy periods, typed and coalesced as `caldav-model`'s local computation makes them;
    /// empty when the status is not a success.
    pub periods: Vec<BusyPeriod>,
}

impl RecipientFreeBusy {
    /// Whether the server answered for this recipient (a 2.x status).
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.request_status.trim_start().starts_with("2.")
    }
}

/// The answer to a free-busy question.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum FreeBusyOutcome {
    /// Per recipient, in the server's order (outbox POST).
    Recipients(Vec<RecipientFreeBusy>),
    /// The calendar's busy periods (free-busy-query).
    Calendar(Vec<BusyPeriod>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FreeBusyPurpose {
    Post,
    Report,
}

#[derive(Debug)]
struct FreeBusyInner {
    url: Uri,
    range: TimeRange,
}

/// Asks for free-busy, by outbox POST or free-busy-query, and reads the answer into typed
/// busy periods.
///
/// # Example
///
/// ```
/// use caldav_client_core::schedule::{FreeBusyConfig, FreeBusyMachine, FreeBusyOutcome,
///     FreeBusyRequest};
/// use caldav_client_core::{Machine, Output};
///
/// let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
/// let config = FreeBusyConfig::new("https://cal.example/".parse().unwrap(),
///     FreeBusyRequest::Query { calendar: "/cal/".into() },
///     t("2026-12-01T00:00:00Z"), t("2026-12-02T00:00:00Z"));
/// let mut machine = FreeBusyMachine::new(config);
/// let Output::Http { id, request } = machine.poll() else { panic!() };
/// assert_eq!(request.method(), "REPORT");
/// let body = "BEGIN:VCALENDAR\r\nBEGIN:VFREEBUSY\r\n\
///             FREEBUSY:20261201T100000Z/20261201T110000Z\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";
/// machine.handle_response(id, http::Response::new(body.into())).unwrap();
/// let Output::Done(Ok(FreeBusyOutcome::Calendar(periods))) = machine.poll() else { panic!() };
/// assert_eq!(periods[0].start, t("2026-12-01T10:00:00Z"));
/// ```
#[derive(Debug)]
pub struct FreeBusyMachine {
    flow: Flow<FreeBusyInner>,
}

impl FreeBusyMachine {
    /// A machine for `config`.
    pub fn new(config: FreeBusyConfig) -> Self {
        let first =
            Self::first(&config).map(|(inner, (purpose, request))| (inner, purpose, request));
        Self {
            flow: Flow::start(first),
        }
    }

    fn first(
        config: &FreeBusyConfig,
    ) -> Result<(FreeBusyInner, (FreeBusyPurpose, http::Request<Bytes>)), Error> {
        let range = TimeRange::new(Some(config.start), Some(config.end)).ok_or_else(|| {
            Error::InvalidData {
                reason: "the free-busy period ends before it starts".into(),
            }
        })?;
        match &config.request {
            FreeBusyRequest::Outbox {
                outbox,
                organizer,
                attendees,
                uid,
                dtstamp,
            } => {
                let url = resolve(&config.base, outbox)?;
                let attendees: Vec<&str> = attendees.iter().map(String::as_str).collect();
                let body = freebusy_request(
                    organizer,
                    &attendees,
                    config.start,
                    config.end,
                    uid,
                    *dtstamp,
                );
                let request = dav_request(
                    Method::POST,
                    &url,
                    None,
                    &[calendar_header()],
                    Bytes::from(body),
                )?;
                Ok((
                    FreeBusyInner { url, range },
                    (FreeBusyPurpose::Post, request),
                ))
            }
            FreeBusyRequest::Query { calendar } => {
                let url = resolve(&config.base, calendar)?;
                let body = FreeBusyQuery { range }.to_element().encode();
                let request = dav_request(
                    method(b"REPORT"),
                    &url,
                    Some(Depth::One),
                    &[xml_content_type()],
                    Bytes::from(body),
                )?;
                Ok((
                    FreeBusyInner { url, range },
                    (FreeBusyPurpose::Report, request),
                ))
            }
        }
    }
}

impl Steps for FreeBusyInner {
    type Purpose = FreeBusyPurpose;
    type Outcome = FreeBusyOutcome;

    fn on(
        &mut self,
        purpose: FreeBusyPurpose,
        response: &http::Response<Bytes>,
    ) -> Result<Step<FreeBusyPurpose, FreeBusyOutcome>, Error> {
        if !response.status().is_success() {
            return Err(status_error(&self.url, response));
        }
        match purpose {
            FreeBusyPurpose::Post => {
                let answer = ScheduleResponse::decode(response.body())
                    .map_err(|e| misbehaved(format!("unreadable schedule-response: {e}")))?;
                let recipients = answer
                    .responses
                    .into_iter()
                    .map(|r| {
                        let periods = match (&r.calendar_data, r.is_success()) {
                            (Some(data), true) => busy_periods(data, self.range)
                                .map_err(|e| misbehaved(format!("unreadable free-busy: {e}")))?,
                            _ => Vec::new(),
                        };
                        Ok(RecipientFreeBusy {
                            recipient: r.recipient,
                            request_status: r.request_status,
                            periods,
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                Ok(Step::Finish(FreeBusyOutcome::Recipients(recipients)))
            }
            FreeBusyPurpose::Report => {
                let text: Cow<'_, str> = String::from_utf8_lossy(response.body());
                let periods = busy_periods(&text, self.range)
                    .map_err(|e| misbehaved(format!("unreadable free-busy: {e}")))?;
                Ok(Step::Finish(FreeBusyOutcome::Calendar(periods)))
            }
        }
    }
}

flow_machine!(FreeBusyMachine, FreeBusyOutcome);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::PrincipalSource;
    use caldav_model::capabilities::Capabilities;
    use caldav_model::property::PropertySet;

    fn account(dav: &str, addresses: &[&str], boxes: bool) -> Account {
        let mut headers = http::HeaderMap::new();
        headers.insert("DAV", http::HeaderValue::from_str(dav).unwrap());
        Account {
            principal: "/p/".into(),
            principal_source: PrincipalSource::CurrentUserPrincipal,
            calendar_home_set: vec!["/h/".into()],
            calendar_user_address_set: addresses.iter().map(|a| Href::new(*a)).collect(),
            schedule_inbox: boxes.then(|| "/h/Inbox/".into()),
            schedule_outbox: boxes.then(|| "/h/Outbox/".into()),
            displayname: None,
            email_address_set: Vec::new(),
            notification_url: None,
            principal_collection_set: Vec::new(),
            supported_reports: Vec::new(),
            capabilities: Capabilities::from_headers(&headers).unwrap(),
            properties: PropertySet::default(),
        }
    }

    #[test]
    fn scheduling_needs_auto_schedule_boxes_and_an_address() {
        let full = "1, 3, calendar-access, calendar-auto-schedule";
        let ok = Scheduling::from_account(&account(
            full,
            &["/principals/a/", "mailto:a@example.test"],
            true,
        ))
        .unwrap();
        assert_eq!(ok.organizer(), "mailto:a@example.test");
        assert!(ok.is_ours("MAILTO:A@example.test"));
        assert_eq!(ok.inbox.as_str(), "/h/Inbox/");
        let no_auto = account("1, calendar-access", &["mailto:a@x"], true);
        assert_eq!(
            Scheduling::from_account(&no_auto),
            Err(Unsupported::NoAutoSchedule)
        );
        let no_boxes = account(full, &["mailto:a@x"], false);
        assert_eq!(
            Scheduling::from_account(&no_boxes),
            Err(Unsupported::NoInbox)
        );
        // Xandikos: auto-schedule and both boxes, but no address.
        let no_address = account(full, &[], true);
        assert_eq!(
            Scheduling::from_account(&no_address),
            Err(Unsupported::NoAddress)
        );
        assert_eq!(
            Unsupported::NoAddress.to_string(),
            "the principal has no calendar-user-address-set"
        );
    }

    #[test]
    fn a_flow_answered_after_done_is_a_usage_error() {
        let mut machine = FreeBusyMachine::new(FreeBusyConfig::new(
            "http://x/".parse().unwrap(),
            FreeBusyRequest::Query {
                calendar: "/c/".into(),
            },
            "2026-01-01T00:00:00Z".parse().unwrap(),
            "2026-01-02T00:00:00Z".parse().unwrap(),
        ));
        let Output::Http { id, .. } = machine.poll() else {
            panic!("no request")
        };
        let failure = TransportFailure::new("refused");
        machine.handle_failure(id, failure.clone()).unwrap();
        assert!(matches!(
            machine.poll(),
            Output::Done(Err(Error::Transport { .. }))
        ));
        assert_eq!(machine.handle_failure(id, failure), Err(UsageError::Done));
    }
}
