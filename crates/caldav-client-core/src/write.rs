//! Conditional writes (RFC 4791 §5.3.2, RFC 9110 §13.1, RFC 4918 §9.2, RFC 4791 §5.3.1):
//! create with `If-None-Match: *`, update and delete with `If-Match`, MKCALENDAR and PROPPATCH.
//!
//! A 412 on a conditional request is a [`Conflict`] carrying what is known of both sides (the
//! server's current version is fetched), never a blind retry. A write answered without a
//! usable ETag has it fetched with a Depth:0 PROPFIND (QUIRKS #17). Preconditions a server
//! names in a `DAV:error` body (`no-uid-conflict`, `valid-calendar-data`,
//! `supported-calendar-component`...) come back typed in [`Error::Precondition`].

use bytes::Bytes;
use caldav_model::property::{Property, names};
use dav_xml::{Href, Multistatus, QName};
use http::{Method, StatusCode, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{Error, UsageError};
use crate::machine::{
    Depth, InFlight, Machine, Output, RequestId, TransportFailure, conditions, dav_request,
    status_error, xml_content_type,
};
use crate::quirks::QuirkProfile;

/// Bytes a resource name made from a UID keeps as they are: RFC 3986 unreserved characters.
/// Everything else (`/`, `@`, `%`, spaces, non-ASCII) is percent-encoded, so that no UID can
/// reach another collection or need a server's decoding rules.
const NAME_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Longest UID used as a resource name as it is; longer ones are cut (servers limit names).
const MAX_NAME: usize = 200;

/// One write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteRequest {
    /// PUT a new calendar object into `collection`, named from its UID, with
    /// `If-None-Match: *`.
    Create {
        /// The calendar collection.
        collection: Href,
        /// The iCalendar data.
        data: String,
    },
    /// PUT over `href` with `If-Match: etag`.
    Update {
        /// The object.
        href: Href,
        /// The etag the caller last saw.
        etag: String,
        /// The new iCalendar data.
        data: String,
    },
    /// DELETE `href` with `If-Match: etag`.
    Delete {
        /// The object.
        href: Href,
        /// The etag the caller last saw.
        etag: String,
    },
    /// MKCALENDAR at `href` with initial properties.
    MkCalendar {
        /// The new calendar's href.
        href: Href,
        /// Displayname, description, color, order, timezone, components...
        properties: Vec<Property>,
    },
    /// PROPPATCH on `href` (calendar-order, color, timezone, as in the seed).
    PropPatch {
        /// The collection.
        href: Href,
        /// Properties to set.
        set: Vec<Property>,
        /// Properties to remove.
        remove: Vec<QName>,
    },
}

/// What a write machine needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriteConfig {
    /// The URL hrefs are resolved against.
    pub base: Uri,
    /// The write.
    pub request: WriteRequest,
    /// Server behaviours.
    pub quirks: QuirkProfile,
}

impl WriteConfig {
    /// A configuration with default quirks.
    #[must_use]
    pub fn new(base: Uri, request: WriteRequest) -> Self {
        Self {
            base,
            request,
            quirks: QuirkProfile::default(),
        }
    }

    /// The same configuration with `quirks`.
    #[must_use]
    pub fn with_quirks(mut self, quirks: QuirkProfile) -> Self {
        self.quirks = quirks;
        self
    }
}

/// A conditional write the server refused with 412: what is known of both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conflict {
    /// The object.
    pub href: Href,
    /// The etag the caller sent (`None` for a create).
    pub local_etag: Option<String>,
    /// The data the caller sent (`None` for a delete).
    pub local_data: Option<String>,
    /// The server's current etag, if it has the object and said.
    pub server_etag: Option<String>,
    /// The server's current data; `None` when the object is gone or could not be read.
    pub server_data: Option<String>,
    /// The server's current data is the object the caller sent (an earlier attempt of this
    /// very write landed): compared byte for byte, or semantically when the quirk profile says
    /// the server rewrites data or strips the final CRLF (QUIRKS #17, #30). The caller can
    /// adopt `server_etag` instead of merging.
    pub same_as_local: bool,
}

/// How a write ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum WriteOutcome {
    /// The object was created at `href`.
    Created {
        /// Where.
        href: Href,
        /// Its etag (fetched when the PUT answer had none); `None` if the server gave none.
        etag: Option<String>,
    },
    /// The object was replaced.
    Updated {
        /// Where.
        href: Href,
        /// Its new etag, as for `Created`.
        etag: Option<String>,
    },
    /// The object was deleted.
    Deleted {
        /// Where.
        href: Href,
    },
    /// The calendar was created.
    CalendarCreated {
        /// Where.
        href: Href,
    },
    /// The PROPPATCH was applied; RFC 4918 §9.2 makes it all or nothing, so a 207 that
    /// names a failed property is an [`Error::Precondition`] instead.
    PropertiesUpdated {
        /// Where.
        href: Href,
    },
    /// The server refused the condition (412): reload, merge, retry if the caller wants.
    Conflict(Conflict),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Write,
    FetchEtag,
    FetchServer,
}

#[derive(Debug)]
enum State {
    Start,
    Waiting,
    Done(Result<WriteOutcome, Error>),
}

/// The write machine: one write, with the follow-up requests it needs.
///
/// # Example
///
/// ```
/// use caldav_client_core::write::{WriteConfig, WriteMachine, WriteRequest};
/// use caldav_client_core::{Machine, Output};
///
/// let data = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a/b@c\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
/// let mut machine = WriteMachine::new(WriteConfig::new(
///     "https://cal.example/".parse().unwrap(),
///     WriteRequest::Create { collection: "/cal/".into(), data: data.into() },
/// ));
/// let Output::Http { request, .. } = machine.poll() else { panic!() };
/// // The slash of the UID cannot reach another collection; `@` is sent canonically.
/// assert_eq!(request.uri(), "https://cal.example/cal/a%2Fb@c.ics");
/// assert_eq!(request.headers()["if-none-match"], "*");
/// ```
#[derive(Debug)]
pub struct WriteMachine {
    config: WriteConfig,
    flight: InFlight<Purpose>,
    state: State,
    target: Result<(Href, Uri), Error>,
    queue: Option<Purpose>,
    /// The outcome of the write itself while its etag is fetched.
    pending: Option<WriteOutcome>,
}

/// The UID of the first component that has one.
fn uid_of(data: &str) -> Option<String> {
    let parsed = ical_parse::parse_with(data, &ical_parse::ParseOptions::lenient()).ok()?;
    let uid = parsed
        .calendar
        .objects()
        .find_map(|c| c.property("UID").map(|p| p.raw_value.trim().to_owned()));
    uid.filter(|u| !u.is_empty())
}

/// The resource name for a UID: percent-encoded, cut to a bounded length at a character
/// boundary, with `.ics`.
#[must_use]
pub fn name_for_uid(uid: &str) -> String {
    let mut cut = uid;
    if cut.len() > MAX_NAME {
        let mut end = MAX_NAME;
        while !cut.is_char_boundary(end) {
            end -= 1;
        }
        cut = cut.get(..end).unwrap_or_default();
    }
    format!("{}.ics", utf8_percent_encode(cut, NAME_SAFE))
}

fn target(config: &WriteConfig) -> Result<(Href, Uri), Error> {
    let href = match &config.request {
        WriteRequest::Create { collection, data } => {
            let uid = uid_of(data).ok_or_else(|| Error::InvalidData {
                reason: "no UID in the calendar data".into(),
            })?;
            let base = collection
                .path(&config.base)
                .map_err(|_| Error::InvalidUrl {
                    url: collection.as_str().to_owned(),
                })?;
            let slash = if base.ends_with('/') { "" } else { "/" };
            Href::new(format!("{base}{slash}{}", name_for_uid(&uid)))
        }
        WriteRequest::Update { href, .. }
        | WriteRequest::Delete { href, .. }
        | WriteRequest::MkCalendar { href, .. }
        | WriteRequest::PropPatch { href, .. } => href.clone(),
    };
    let url = href.resolve(&config.base).map_err(|_| Error::InvalidUrl {
        url: href.as_str().to_owned(),
    })?;
    Ok((href, url))
}

fn usable_etag(response: &http::Response<Bytes>) -> Option<String> {
    let etag = response
        .headers()
        .get(http::header::ETAG)?
        .to_str()
        .ok()?
        .trim();
    // A weak tag does not name the bytes (RFC 9110 §8.8.1): fetch the strong one instead.
    (!etag.is_empty() && !etag.starts_with("W/")).then(|| etag.to_owned())
}

impl WriteMachine {
    /// A machine for `config.request`.
    pub fn new(config: WriteConfig) -> Self {
        let target = target(&config);
        Self {
            config,
            flight: InFlight::default(),
            state: State::Start,
            target,
            queue: None,
            pending: None,
        }
    }

    /// The href the write goes to (for a create, the one made from the UID).
    ///
    /// # Errors
    ///
    /// When the request has no usable target (no UID, an invalid href).
    pub fn href(&self) -> Result<&Href, Error> {
        self.target.as_ref().map(|(h, _)| h).map_err(Clone::clone)
    }

    fn request(&self, purpose: Purpose, url: &Uri) -> Result<http::Request<Bytes>, Error> {
        let calendar = || {
            (
                http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            )
        };
        let method = |m: &[u8]| {
            Method::from_bytes(m).map_err(|_| Error::InvalidUrl {
                url: url.to_string(),
            })
        };
        match purpose {
            Purpose::FetchEtag => dav_request(
                method(b"PROPFIND")?,
                url,
                Some(Depth::Zero),
                &[xml_content_type()],
                crate::body::propfind(&[names::GETETAG]),
            ),
            Purpose::FetchServer => dav_request(Method::GET, url, None, &[], Bytes::new()),
            Purpose::Write => match &self.config.request {
                WriteRequest::Create { data, .. } => {
                    let mut headers = vec![calendar()];
                    if self.config.quirks.if_none_match {
                        headers.push((http::header::IF_NONE_MATCH, "*".into()));
                    }
                    dav_request(Method::PUT, url, None, &headers, Bytes::from(data.clone()))
                }
                WriteRequest::Update { etag, data, .. } => dav_request(
                    Method::PUT,
                    url,
                    None,
                    &[calendar(), (http::header::IF_MATCH, etag.clone())],
                    Bytes::from(data.clone()),
                ),
                WriteRequest::Delete { etag, .. } => dav_request(
                    Method::DELETE,
                    url,
                    None,
                    &[(http::header::IF_MATCH, etag.clone())],
                    Bytes::new(),
                ),
                WriteRequest::MkCalendar { properties, .. } => {
                    let body = crate::body::mkcalendar(properties);
                    let headers = if body.is_empty() {
                        Vec::new()
                    } else {
                        vec![xml_content_type()]
                    };
                    dav_request(method(b"MKCALENDAR")?, url, None, &headers, body)
                }
                WriteRequest::PropPatch { set, remove, .. } => dav_request(
                    method(b"PROPPATCH")?,
                    url,
                    None,
                    &[xml_content_type()],
                    crate::body::propertyupdate(set, remove),
                ),
            },
        }
    }

    fn conflict(&self, href: &Href) -> Conflict {
        let (local_etag, local_data) = match &self.config.request {
            WriteRequest::Create { data, .. } => (None, Some(data.clone())),
            WriteRequest::Update { etag, data, .. } => (Some(etag.clone()), Some(data.clone())),
            WriteRequest::Delete { etag, .. } => (Some(etag.clone()), None),
            _ => (None, None),
        };
        Conflict {
            href: href.clone(),
            local_etag,
            local_data,
            server_etag: None,
            server_data: None,
            same_as_local: false,
        }
    }

    /// Reads the answer to the write itself.
    fn on_write(
        &mut self,
        href: &Href,
        url: &Uri,
        response: &http::Response<Bytes>,
    ) -> Result<Option<WriteOutcome>, Error> {
        let status = response.status();
        let is_object = matches!(
            self.config.request,
            WriteRequest::Create { .. } | WriteRequest::Update { .. } | WriteRequest::Delete { .. }
        );
        if status == StatusCode::PRECONDITION_FAILED && is_object {
            // Only DAV: and CalDAV conditions name a refusal other than the etag: SabreDAV
            // puts its exception class and message into every 412 body.
            let named: Vec<_> = conditions(response.body())
                .into_iter()
                .filter(|c| match c {
                    dav_xml::Condition::Other(e) => {
                        [dav_xml::name::DAV, dav_xml::name::CALDAV].contains(&e.name.namespace())
                    }
                    _ => true,
                })
                .collect();
            if !named.is_empty() {
                // Xandikos answers no-uid-conflict and valid-calendar-data with 412.
                return Err(Error::Precondition {
                    href: url.to_string(),
                    status: status.as_u16(),
                    conditions: named,
                });
            }
            self.pending = Some(WriteOutcome::Conflict(self.conflict(href)));
            self.queue = Some(Purpose::FetchServer);
            return Ok(None);
        }
        if !status.is_success() {
            return Err(status_error(url, response));
        }
        let href = href.clone();
        match &self.config.request {
            WriteRequest::Create { .. } | WriteRequest::Update { .. } => {
                let quirks = &self.config.quirks;
                let etag = usable_etag(response)
                    .filter(|_| quirks.trust_put_etag && !quirks.put_etag_missing);
                let created = matches!(self.config.request, WriteRequest::Create { .. });
                let outcome = if created {
                    WriteOutcome::Created {
                        href,
                        etag: etag.clone(),
                    }
                } else {
                    WriteOutcome::Updated {
                        href,
                        etag: etag.clone(),
                    }
                };
                if etag.is_some() {
                    return Ok(Some(outcome));
                }
                self.pending = Some(outcome);
                self.queue = Some(Purpose::FetchEtag);
                Ok(None)
            }
            WriteRequest::Delete { .. } if self.config.quirks.delete_succeeded(status.as_u16()) => {
                Ok(Some(WriteOutcome::Deleted { href }))
            }
            // 202 (accepted, not done) or 207 (some part failed): not a deletion to rely on.
            WriteRequest::Delete { .. } => Err(Error::Status {
                href: url.to_string(),
                status: status.as_u16(),
                retry_after: None,
            }),
            WriteRequest::MkCalendar { .. } => Ok(Some(WriteOutcome::CalendarCreated { href })),
            WriteRequest::PropPatch { .. } => {
                if status == StatusCode::MULTI_STATUS {
                    let ms = Multistatus::decode(response.body()).map_err(|e| {
                        Error::ServerMisbehaved {
                            what: format!("unreadable multistatus: {e}"),
                        }
                    })?;
                    let failed = ms
                        .responses
                        .iter()
                        .flat_map(|r| &r.propstats)
                        .find(|p| p.status.is_some_and(|s| !s.is_success()));
                    if let Some(propstat) = failed {
                        return Err(Error::Precondition {
                            href: url.to_string(),
                            status: propstat.status.map_or(500, |s| s.as_u16()),
                            conditions: propstat
                                .error
                                .as_ref()
                                .map(|e| e.conditions.clone())
                                .unwrap_or_default(),
                        });
                    }
                }
                Ok(Some(WriteOutcome::PropertiesUpdated { href }))
            }
        }
    }

    fn on_fetch_etag(&mut self, response: &http::Response<Bytes>) -> Option<WriteOutcome> {
        let etag = (response.status() == StatusCode::MULTI_STATUS)
            .then(|| Multistatus::decode(response.body()).ok())
            .flatten()
            .and_then(|ms| {
                ms.responses.iter().find_map(|r| {
                    let text = r.prop(&names::GETETAG)?.text();
                    let text = text.trim();
                    (!text.is_empty()).then(|| text.to_owned())
                })
            });
        match self.pending.take()? {
            WriteOutcome::Created { href, .. } => Some(WriteOutcome::Created { href, etag }),
            WriteOutcome::Updated { href, .. } => Some(WriteOutcome::Updated { href, etag }),
            other => Some(other),
        }
    }

    fn on_fetch_server(&mut self, response: &http::Response<Bytes>) -> Option<WriteOutcome> {
        let WriteOutcome::Conflict(mut conflict) = self.pending.take()? else {
            return None;
        };
        if response.status().is_success() {
            conflict.server_etag = usable_etag(response).or_else(|| {
                response
                    .headers()
                    .get(http::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
            conflict.server_data = std::str::from_utf8(response.body()).ok().map(str::to_owned);
            conflict.same_as_local = match (&conflict.local_data, &conflict.server_data) {
                (Some(local), Some(server)) => self.config.quirks.same_data(local, server),
                _ => false,
            };
        }
        Some(WriteOutcome::Conflict(conflict))
    }
}

impl Machine for WriteMachine {
    type Outcome = WriteOutcome;

    fn poll(&mut self) -> Output<WriteOutcome> {
        match &self.state {
            State::Done(result) => return Output::Done(result.clone()),
            State::Start => {
                self.state = State::Waiting;
                self.queue = Some(Purpose::Write);
            }
            State::Waiting => {}
        }
        let Some(purpose) = self.queue.take() else {
            return Output::Wait;
        };
        let url = match &self.target {
            Ok((_, url)) => url.clone(),
            Err(error) => {
                let error = error.clone();
                self.state = State::Done(Err(error.clone()));
                return Output::Done(Err(error));
            }
        };
        match self.request(purpose, &url) {
            Ok(request) => {
                let id = self.flight.issue(purpose);
                Output::Http { id, request }
            }
            Err(error) => {
                self.state = State::Done(Err(error.clone()));
                Output::Done(Err(error))
            }
        }
    }

    fn handle_answer(
        &mut self,
        id: RequestId,
        answer: Result<http::Response<Bytes>, TransportFailure>,
    ) -> Result<(), UsageError> {
        let Some(purpose) =
            self.flight
                .settle(matches!(self.state, State::Done(_)), id, &answer)?
        else {
            return Ok(());
        };
        let Ok((href, url)) = self.target.clone() else {
            return Err(UsageError::UnknownId(id));
        };
        let response = match answer {
            Ok(response) => response,
            Err(failure) => {
                // A failed follow-up still leaves the write's own outcome, minus what it sought.
                self.state = State::Done(match (purpose, self.pending.take()) {
                    (Purpose::Write, _) | (_, None) => Err(Error::Transport {
                        message: failure.message,
                    }),
                    (_, Some(outcome)) => Ok(outcome),
                });
                return Ok(());
            }
        };
        let result = match purpose {
            Purpose::Write => self.on_write(&href, &url, &response),
            Purpose::FetchEtag => Ok(self.on_fetch_etag(&response)),
            Purpose::FetchServer => Ok(self.on_fetch_server(&response)),
        };
        match result {
            Ok(Some(outcome)) => self.state = State::Done(Ok(outcome)),
            Ok(None) if self.queue.is_some() => self.state = State::Waiting,
            Ok(None) => {
                self.state = State::Done(Err(Error::ServerMisbehaved {
                    what: "write ended without an outcome".into(),
                }));
            }
            Err(error) => self.state = State::Done(Err(error)),
        }
        Ok(())
    }
}
