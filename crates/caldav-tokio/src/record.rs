//! Recording a run's HTTP conversation in the seed's telemetry-log format (Cyrus' format, read
//! and written by `caldav-trace`), and replaying a recording through the same machines.
//!
//! The recorder sits inside [`HttpClient`](crate::HttpClient) and writes every exchange as it
//! went on the wire: authentication challenges and retries included, request targets in
//! origin form with a `Host` field, `Authorization`, `Proxy-Authorization`, `Cookie` and
//! `Set-Cookie` values redacted. Response bodies are written as the machine received them,
//! after content decoding (the `Content-Encoding` field is then dropped), so a replay feeds a
//! machine exactly what the live run fed it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use caldav_trace::{Exchange, WriteConfig, Writer};
use http::header::{self, HeaderValue};
use http::{Request, Response};

use crate::driver::{Drive, Step};
use crate::{Error, Target};

/// Writes a telemetry log of every exchange an [`HttpClient`](crate::HttpClient) makes.
///
/// Cheap to clone; clones write to the same log. Give it to the client with
/// [`HttpConfig::recorder`](crate::HttpConfig::recorder) and read the log with
/// [`Recorder::log`].
#[derive(Clone, Debug)]
pub struct Recorder {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    writer: Writer,
    /// The first exchange the writer refused, if any.
    error: Option<String>,
    exchanges: usize,
}

impl Recorder {
    /// A recorder whose log has one session headed `header` (Cyrus writes the user and the
    /// time, e.g. `alice Tue Nov 24 09:00:00 2026`).
    ///
    /// # Errors
    ///
    /// [`Error::Recording`] when `header` holds a line end.
    pub fn new(header: &str) -> Result<Self, Error> {
        let mut writer = Writer::new(WriteConfig::default());
        writer.session(header).map_err(|e| Error::Recording {
            reason: e.to_string(),
        })?;
        Ok(Self {
            inner: Arc::new(Mutex::new(State {
                writer,
                error: None,
                exchanges: 0,
            })),
        })
    }

    /// The log written so far.
    #[must_use]
    pub fn log(&self) -> Vec<u8> {
        self.lock().writer.as_bytes().to_vec()
    }

    /// How many exchanges were written.
    #[must_use]
    pub fn exchanges(&self) -> usize {
        self.lock().exchanges
    }

    /// Whether every exchange was written.
    ///
    /// # Errors
    ///
    /// [`Error::Recording`] with the first exchange the log could not hold.
    pub fn check(&self) -> Result<(), Error> {
        match &self.lock().error {
            Some(reason) => Err(Error::Recording {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes one exchange; request and response go in together so concurrent exchanges never
    /// interleave.
    pub(crate) fn record(&self, request: &Request<Bytes>, response: &Response<Bytes>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let wire = on_the_wire(request);
        let mut response = response.clone();
        // HTTP/2 responses are logged as the HTTP/1.1 messages they stand for.
        *response.version_mut() = http::Version::HTTP_11;
        response.headers_mut().remove(header::TRANSFER_ENCODING);
        let mut state = self.lock();
        if state.error.is_some() {
            return;
        }
        // Write into a copy first: a refused message must not leave half an exchange behind.
        let mut attempt = state.writer.clone();
        let result = attempt
            .request(now, &wire, &[])
            .and_then(|()| attempt.response(now, &response, &[]));
        match result {
            Ok(()) => {
                state.writer = attempt;
                state.exchanges += 1;
            }
            Err(e) => state.error = Some(format!("{}: {e}", Target::of(request))),
        }
    }
}

/// The request as HTTP/1.1 puts it on the wire: origin-form target and a `Host` field.
fn on_the_wire(request: &Request<Bytes>) -> Request<Bytes> {
    let mut wire = request.clone();
    *wire.version_mut() = http::Version::HTTP_11;
    if let Some(authority) = request.uri().authority()
        && !wire.headers().contains_key(header::HOST)
        && let Ok(v) = HeaderValue::from_str(authority.as_str())
    {
        wire.headers_mut().insert(header::HOST, v);
    }
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if let Ok(uri) = target.parse() {
        *wire.uri_mut() = uri;
    }
    wire
}

/// Runs `machine` against a recorded conversation instead of the network.
///
/// Each request the machine makes is answered with the response of the first unused recorded
/// exchange of the same method and target (path and query); an answer the live client
/// answered itself by repeating the request (a 401 challenge, a retried 429, 503 or transient
/// server error) is skipped as the client skipped it when the recording holds the repeat. A
/// request the recording has no answer for is fed to the machine as a failure.
///
/// # Errors
///
/// [`Error::Machine`] when the machine refuses an answer, waits with nothing in flight, or
/// asks a DNS query (recordings hold HTTP only).
pub fn replay<M: Drive>(machine: &mut M, exchanges: Vec<Exchange>) -> Result<M::Outcome, Error> {
    let mut unused: Vec<Option<Exchange>> = exchanges.into_iter().map(Some).collect();
    let mut queue: VecDeque<(M::Id, Request<Bytes>)> = VecDeque::new();
    loop {
        loop {
            match machine.step() {
                Step::Http { id, request } => queue.push_back((id, request)),
                Step::Dns { query, .. } => {
                    return Err(Error::Machine {
                        reason: format!("dns query {query} cannot be replayed"),
                    });
                }
                Step::Wait => break,
                Step::Done(outcome) => return Ok(outcome),
            }
        }
        let Some((id, request)) = queue.pop_front() else {
            return Err(Error::Machine {
                reason: "machine waits with no request in flight".to_owned(),
            });
        };
        let fed = match take_answer(&mut unused, &request) {
            Some(response) => machine.answer(id, response),
            None => machine.fail(
                id,
                &Error::Protocol {
                    target: Target::of(&request),
                    reason: "no recorded answer".to_owned(),
                },
            ),
        };
        fed.map_err(|reason| Error::Machine { reason })?;
    }
}

fn same_target(a: &Request<Bytes>, b: &Request<Bytes>) -> bool {
    let t = |r: &Request<Bytes>| {
        r.uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
    };
    a.method() == b.method() && t(a) == t(b)
}

fn take_answer(
    unused: &mut [Option<Exchange>],
    request: &Request<Bytes>,
) -> Option<Response<Bytes>> {
    let mut candidates = unused.iter_mut().filter(|slot| {
        slot.as_ref()
            .is_some_and(|e| same_target(&e.request, request) && e.response.is_some())
    });
    let mut found = candidates.next()?.take().and_then(|e| e.response)?;
    // An answer the live client handled itself by sending the same request again (a
    // challenge, a retried transient error) is skipped as the client skipped it, when the
    // recording holds that later attempt (retries run alongside other requests: it need not
    // be the next exchange).
    while answered_by_a_repeat(request, &found) {
        let Some(next) = candidates.next() else { break };
        let Some(response) = next.take().and_then(|e| e.response) else {
            break;
        };
        found = response;
    }
    Some(found)
}

/// Whether the client answers `response` to `request` by sending the request again: an
/// authentication challenge, or an answer [`RetryPolicy`](crate::RetryPolicy) retries (a 429
/// or 503, or a transient server error to a safe request).
fn answered_by_a_repeat(request: &Request<Bytes>, response: &Response<Bytes>) -> bool {
    let status = response.status();
    status == http::StatusCode::UNAUTHORIZED
        || status == http::StatusCode::TOO_MANY_REQUESTS
        || status == http::StatusCode::SERVICE_UNAVAILABLE
        || (crate::retry::is_safe(request.method()) && crate::retry::is_transient(status))
}
