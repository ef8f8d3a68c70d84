//! The sans-IO machine contract shared by every flow: request ids, outputs, the [`Machine`]
//! trait a driver runs, and the bookkeeping of requests in flight.

use std::collections::HashMap;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Uri};

use crate::error::{Error, UsageError};

/// Identifies one request a machine asked for; its answer must be fed back with the same id.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

impl RequestId {
    /// The id as a number, unique within one machine.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What a machine wants next.
#[must_use]
#[derive(Debug)]
#[non_exhaustive]
// Outputs are matched and moved out at once; boxing the request would cost every caller.
#[allow(clippy::large_enum_variant)]
pub enum Output<T> {
    /// Send this request, then feed its answer with [`Machine::handle_response`] (or its
    /// failure with [`Machine::handle_failure`]) under `id`.
    Http {
        /// The id to answer under.
        id: RequestId,
        /// The request; its URI is absolute when the machine was given an absolute URL.
        request: Request<Bytes>,
    },
    /// Nothing to send until an answer arrives.
    Wait,
    /// The flow ended; every later call is a [`UsageError::Done`].
    Done(Result<T, Error>),
}

/// The most bytes of an answer's body a machine will use, carried in the extensions of the
/// request it asks for ([`http::Request::extensions`]).
///
/// A driver that honours it stops reading a body beyond the limit and feeds the machine a
/// [`TransportFailure`] instead, so what it would have dropped is neither downloaded in full
/// nor held in memory. Every machine that sets it treats that failure as "too large": the sync
/// machine sets it on a first sync's one answer ([`crate::sync::SyncConfig::max_inline_bytes`])
/// and falls back to the listing and multigets. A driver that ignores it stays correct: the
/// machine checks the size of what it is given as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseLimit(pub u64);

/// A request that could not be carried out (connection refused, TLS failure, timeout decided
/// by the driver). It is an input like any answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportFailure {
    /// The driver's description.
    pub message: String,
}

impl TransportFailure {
    /// A failure described by `message`.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// A flow a driver can run: the tokio adapter, test-support's in-memory server and replay
/// tests all drive machines through this trait.
///
/// **Feed once, then drain**: after each input, call [`Machine::poll`] until it returns
/// [`Output::Wait`] or [`Output::Done`].
pub trait Machine {
    /// What the flow produces.
    type Outcome;

    /// The next thing to do. After `Done`, every call returns the same `Done` again.
    ///
    /// # Panics
    ///
    /// Never, whatever the answers fed before.
    fn poll(&mut self) -> Output<Self::Outcome>;

    /// Feeds the answer to request `id`: its response, or the failure of its transport. Every
    /// machine implements this one entry point; [`Machine::handle_response`] and
    /// [`Machine::handle_failure`] are its two halves.
    ///
    /// # Errors
    ///
    /// [`UsageError`] when `id` is not in flight or the machine is done. An interim answer
    /// (1xx) is accepted and leaves `id` in flight for its final answer.
    ///
    /// # Panics
    ///
    /// Never, on any answer.
    fn handle_answer(
        &mut self,
        id: RequestId,
        answer: Result<http::Response<Bytes>, TransportFailure>,
    ) -> Result<(), UsageError>;

    /// Feeds the response to request `id`.
    ///
    /// # Errors
    ///
    /// As [`Machine::handle_answer`].
    ///
    /// # Panics
    ///
    /// Never, on any answer.
    fn handle_response(
        &mut self,
        id: RequestId,
        response: http::Response<Bytes>,
    ) -> Result<(), UsageError> {
        self.handle_answer(id, Ok(response))
    }

    /// Feeds the failure of request `id`.
    ///
    /// # Errors
    ///
    /// As [`Machine::handle_answer`].
    fn handle_failure(
        &mut self,
        id: RequestId,
        failure: TransportFailure,
    ) -> Result<(), UsageError> {
        self.handle_answer(id, Err(failure))
    }
}

/// Ids handed out and the purpose each request in flight serves.
#[derive(Debug)]
pub(crate) struct InFlight<P> {
    next: u64,
    pending: HashMap<RequestId, P>,
}

impl<P> Default for InFlight<P> {
    fn default() -> Self {
        Self {
            next: 0,
            pending: HashMap::new(),
        }
    }
}

impl<P> InFlight<P> {
    pub(crate) fn issue(&mut self, purpose: P) -> RequestId {
        let id = RequestId(self.next);
        self.next = self.next.wrapping_add(1);
        self.pending.insert(id, purpose);
        id
    }

    pub(crate) fn take(&mut self, id: RequestId) -> Result<P, UsageError> {
        self.pending.remove(&id).ok_or(UsageError::UnknownId(id))
    }

    /// Whether an interim answer (1xx) to `id` is to be waited past: the id stays in flight
    /// for its final answer (QUIRKS #32: Cyrus sends `102 Processing` under load).
    pub(crate) fn interim(
        &self,
        id: RequestId,
        answer: &Result<http::Response<Bytes>, TransportFailure>,
    ) -> Option<Result<(), UsageError>> {
        let interim = matches!(answer, Ok(r) if r.status().is_informational());
        interim.then(|| {
            if self.pending.contains_key(&id) {
                Ok(())
            } else {
                Err(UsageError::UnknownId(id))
            }
        })
    }

    /// The purpose of the request an answer to `id` settles, or `None` when the answer is
    /// interim and the request stays in flight; an error when the machine is `done` or the
    /// id is not in flight. The prologue of every `handle_answer`.
    pub(crate) fn settle(
        &mut self,
        done: bool,
        id: RequestId,
        answer: &Result<http::Response<Bytes>, TransportFailure>,
    ) -> Result<Option<P>, UsageError> {
        if done {
            return Err(UsageError::Done);
        }
        match self.interim(id, answer) {
            Some(result) => result.map(|()| None),
            None => self.take(id).map(Some),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// `Depth` header values (RFC 4918 §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    Zero,
    One,
}

/// Builds a request with the headers every DAV request of ours carries.
pub(crate) fn dav_request(
    method: Method,
    url: &Uri,
    depth: Option<Depth>,
    headers: &[(HeaderName, String)],
    body: Bytes,
) -> Result<Request<Bytes>, Error> {
    let mut builder = Request::builder().method(method).uri(url.clone());
    if let Some(depth) = depth {
        builder = builder.header(
            "Depth",
            match depth {
                Depth::Zero => "0",
                Depth::One => "1",
            },
        );
    }
    if !body.is_empty() {
        builder = builder.header(http::header::CONTENT_LENGTH, body.len());
    }
    for (name, value) in headers {
        let value =
            HeaderValue::from_str(value).map_err(|_| Error::InvalidUrl { url: value.clone() })?;
        builder = builder.header(name, value);
    }
    builder.body(body).map_err(|_| Error::InvalidUrl {
        url: url.to_string(),
    })
}

/// The XML content type of our request bodies (Xandikos refuses anything else).
pub(crate) fn xml_content_type() -> (HeaderName, String) {
    (
        http::header::CONTENT_TYPE,
        "application/xml; charset=utf-8".to_owned(),
    )
}

/// Maps an answer the flow cannot use to an [`Error`].
pub(crate) fn status_error(url: &Uri, response: &http::Response<Bytes>) -> Error {
    let status = response.status();
    let href = url.to_string();
    match status.as_u16() {
        401 => Error::Unauthorized {
            realm: realm(response.headers()),
        },
        404 | 410 => Error::NotFound { href },
        403 | 409 | 412 | 415 | 422 | 424 | 507 => Error::Precondition {
            href,
            status: status.as_u16(),
            conditions: conditions(response.body()),
        },
        code => Error::Status {
            href,
            status: code,
            retry_after: response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        },
    }
}

/// The conditions of a `DAV:error` body; empty when the body is not one.
pub(crate) fn conditions(body: &[u8]) -> Vec<dav_xml::Condition> {
    if body.is_empty() {
        return Vec::new();
    }
    dav_xml::DavError::decode(body)
        .map(|e| e.conditions)
        .unwrap_or_default()
}

fn realm(headers: &http::HeaderMap) -> Option<String> {
    let challenge = headers.get(http::header::WWW_AUTHENTICATE)?.to_str().ok()?;
    let start = challenge.find("realm=")? + "realm=".len();
    let rest = challenge.get(start..)?;
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split([',', ' ']).next()?,
    };
    Some(value.to_owned())
}

/// Resolves `href` against `base` into a request URI.
pub(crate) fn resolve(base: &Uri, href: &dav_xml::Href) -> Result<Uri, Error> {
    href.resolve(base).map_err(|_| Error::InvalidUrl {
        url: href.as_str().to_owned(),
    })
}

/// The canonical path of `href` resolved against `base`: the key hrefs are compared by.
pub(crate) fn key(base: &Uri, href: &dav_xml::Href) -> Option<String> {
    href.path(base).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16) -> Result<http::Response<Bytes>, TransportFailure> {
        Ok(http::Response::builder()
            .status(status)
            .body(Bytes::new())
            .unwrap())
    }

    #[test]
    fn settle_waits_past_interim_answers_and_refuses_unknown_ids() {
        let mut flight = InFlight::default();
        let id = flight.issue("list");
        assert_eq!(flight.settle(false, id, &answer(102)), Ok(None));
        assert_eq!(
            flight.len(),
            1,
            "an interim answer keeps the request in flight"
        );
        assert_eq!(flight.settle(false, id, &answer(207)), Ok(Some("list")));
        assert!(flight.is_empty());
        assert_eq!(
            flight.settle(false, id, &answer(207)),
            Err(UsageError::UnknownId(id))
        );
        assert_eq!(
            flight.settle(false, id, &answer(102)),
            Err(UsageError::UnknownId(id))
        );
        let failed = Err(TransportFailure::new("reset"));
        let other = flight.issue("get");
        assert_eq!(flight.settle(true, other, &failed), Err(UsageError::Done));
        assert_eq!(flight.settle(false, other, &failed), Ok(Some("get")));
    }

    #[test]
    fn realm_quoted_and_bare() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Radicale - Password Required\""),
        );
        assert_eq!(
            realm(&headers).as_deref(),
            Some("Radicale - Password Required")
        );
        headers.insert(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=localhost, charset=UTF-8"),
        );
        assert_eq!(realm(&headers).as_deref(), Some("localhost"));
    }

    #[test]
    fn ids_are_matched_once() {
        let mut flight = InFlight::default();
        let a = flight.issue("a");
        let b = flight.issue("b");
        assert_ne!(a, b);
        assert_eq!(flight.take(b), Ok("b"));
        assert_eq!(flight.take(b), Err(UsageError::UnknownId(b)));
        assert_eq!(flight.len(), 1);
    }
}
