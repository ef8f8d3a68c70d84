//! Writing exchanges as a telemetry log, as a recorder would.
//!
//! Each message is written as one chunk that begins with the message (and is split at the
//! body offsets the caller asks for, to record socket reads), under a marker carrying the
//! time the caller supplies. Messages are written in HTTP/1.1 syntax (RFC 9112): a request
//! line or status line, header fields, an empty line, and the body framed by its
//! Content-Length or by the chunked transfer coding (RFC 9112 §7.1).

use std::collections::VecDeque;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};

use crate::log::{self, Direction, HEADER_PREFIX};
use crate::{Error, Exchange, Interim, ReasonPhrase, Trace};

/// The line end written after the start line and each header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LineEnding {
    /// CRLF, as HTTP/1.1 puts on the wire and a byte-exact recorder logs.
    #[default]
    CrLf,
    /// Bare LF, as the seed's copy of its log has.
    Lf,
}

impl LineEnding {
    fn bytes(self) -> &'static [u8] {
        match self {
            Self::CrLf => b"\r\n",
            Self::Lf => b"\n",
        }
    }
}

/// How a [`Writer`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WriteConfig {
    /// Line ends of message heads. Default CRLF.
    pub line_ending: LineEnding,
    /// Replace the secret part of `Authorization`, `Proxy-Authorization`, `Cookie` and
    /// `Set-Cookie` values with `redacted`, keeping the auth scheme and cookie names so a
    /// reader still sees what kind of credential was sent. Default on.
    pub redact: bool,
}

impl Default for WriteConfig {
    fn default() -> Self {
        Self {
            line_ending: LineEnding::CrLf,
            redact: true,
        }
    }
}

/// Writes sessions and HTTP messages in telemetry-log format; the recorder of the project's
/// adapter and the inverse of [`Trace::parse`].
///
/// Times are Unix seconds supplied by the caller. The writer adds a `Content-Length` where
/// HTTP/1.1 framing needs one and the message has neither it nor `Transfer-Encoding`, so that
/// what it writes reads back as the same messages.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use caldav_trace::{Trace, WriteConfig, Writer};
///
/// let mut writer = Writer::new(WriteConfig::default());
/// writer.session("ken Tue Sep 26 03:50:28 2017")?;
/// let request = http::Request::get("/dav/").header("authorization", "Basic a2VuOnB3").body(Bytes::new()).unwrap();
/// writer.request(1_506_412_228, &request, &[])?;
/// let response = http::Response::new(Bytes::from_static(b"hi"));
/// writer.response(1_506_412_229, &response, &[])?;
/// let log = writer.finish();
///
/// let trace = Trace::parse(&log)?;
/// let exchange = &trace.sessions[0].exchanges[0];
/// assert_eq!(exchange.request.headers()["authorization"], "Basic redacted");
/// assert_eq!(exchange.response.as_ref().unwrap().headers()["content-length"], "2");
/// # Ok::<(), caldav_trace::Error>(())
/// ```
#[doc(alias = "Recorder")]
#[derive(Debug, Clone)]
pub struct Writer {
    out: Vec<u8>,
    config: WriteConfig,
    started: bool,
    last: Option<(Direction, u64)>,
    after_marker: bool,
    /// Where the data of the chunk being written began: only bytes after it can join a
    /// following marker.
    data_start: usize,
    pending: VecDeque<Method>,
}

/// Header names whose customary spelling is not plain capitalisation of each word.
const SPELLINGS: &[(&str, &str)] = &[
    ("dav", "DAV"),
    ("etag", "ETag"),
    ("te", "TE"),
    ("www-authenticate", "WWW-Authenticate"),
    ("content-md5", "Content-MD5"),
    ("x-xss-protection", "X-XSS-Protection"),
];

fn write_name(out: &mut Vec<u8>, name: &HeaderName) {
    if let Some((_, spelled)) = SPELLINGS.iter().find(|(n, _)| *n == name.as_str()) {
        out.extend_from_slice(spelled.as_bytes());
        return;
    }
    let mut word_start = true;
    for &b in name.as_str().as_bytes() {
        out.push(if word_start {
            b.to_ascii_uppercase()
        } else {
            b
        });
        word_start = b == b'-';
    }
}

fn redacted(name: &HeaderName, value: &HeaderValue) -> Vec<u8> {
    let bytes = value.as_bytes();
    if name == http::header::AUTHORIZATION || name == http::header::PROXY_AUTHORIZATION {
        return match bytes.iter().position(|&b| b == b' ') {
            Some(space) => {
                let mut kept = bytes.get(..space).unwrap_or_default().to_vec();
                kept.extend_from_slice(b" redacted");
                kept
            }
            None => b"redacted".to_vec(),
        };
    }
    if name == http::header::COOKIE || name == http::header::SET_COOKIE {
        let mut kept = Vec::with_capacity(bytes.len());
        for (i, pair) in bytes.split(|&b| b == b';').enumerate() {
            if i > 0 {
                kept.push(b';');
            }
            // Set-Cookie attributes after the first pair are not secret.
            let secret = name == http::header::COOKIE || i == 0;
            match pair.iter().position(|&b| b == b'=') {
                Some(eq) if secret => {
                    kept.extend_from_slice(pair.get(..=eq).unwrap_or_default());
                    kept.extend_from_slice(b"redacted");
                }
                _ => kept.extend_from_slice(pair),
            }
        }
        return kept;
    }
    bytes.to_vec()
}

/// The version as written. The log format is HTTP/1.1 text, so a recorder that spoke HTTP/2
/// or HTTP/3 records its messages in their HTTP/1.1 form; they read back as HTTP/1.1.
fn version_text(version: Version) -> Result<&'static [u8], Error> {
    match version {
        Version::HTTP_10 => Ok(b"HTTP/1.0"),
        Version::HTTP_11 | Version::HTTP_2 | Version::HTTP_3 => Ok(b"HTTP/1.1"),
        _ => Err(Error::UnsupportedVersion),
    }
}

fn is_chunked(headers: &HeaderMap) -> Option<bool> {
    let mut last: Option<Vec<u8>> = None;
    for value in headers.get_all(http::header::TRANSFER_ENCODING) {
        for item in value.as_bytes().split(|&b| b == b',') {
            let item = item.trim_ascii();
            if !item.is_empty() {
                last = Some(item.to_ascii_lowercase());
            }
        }
    }
    last.map(|coding| coding == b"chunked")
}

/// Whether a body of this message is framed at all.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyRule {
    /// Requests: a body needs Content-Length or chunked; an empty one needs nothing.
    Request,
    /// Responses that may carry a body: without framing headers they run to the close, so a
    /// Content-Length is always added.
    Response,
    /// 1xx, 204, 304 and responses to HEAD: never a body.
    Never,
}

impl Writer {
    /// A writer with nothing written yet.
    #[must_use]
    pub fn new(config: WriteConfig) -> Self {
        Self {
            out: Vec::new(),
            config,
            started: false,
            last: None,
            after_marker: false,
            data_start: 0,
            pending: VecDeque::new(),
        }
    }

    /// The bytes written so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.out
    }

    /// The log written.
    #[must_use]
    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    /// Writes a whole trace: its preamble, then each session and its exchanges. Session rest
    /// bytes and chunks that carry no message (such as empty reads) are not written.
    ///
    /// # Errors
    ///
    /// As [`Writer::session`] and [`Writer::exchange`]; [`Error::AmbiguousData`] if the
    /// preamble does not end with a line end.
    pub fn write_trace(trace: &Trace, config: WriteConfig) -> Result<Vec<u8>, Error> {
        let mut writer = Self::new(config);
        if !trace.preamble.is_empty() {
            if !trace.preamble.ends_with(b"\n") || log::first_header(&trace.preamble).is_some() {
                return Err(Error::AmbiguousData { offset: 0 });
            }
            writer.out.extend_from_slice(&trace.preamble);
        }
        for session in &trace.sessions {
            writer.session(&session.header)?;
            for exchange in &session.exchanges {
                writer.exchange(exchange)?;
            }
        }
        Ok(writer.finish())
    }

    /// Starts a session with the header text that follows `---------- ` (Cyrus writes the
    /// user id and `ctime(3)` time).
    ///
    /// # Errors
    ///
    /// [`Error::SessionHeaderLineEnd`] if `header` contains CR or LF.
    pub fn session(&mut self, header: &str) -> Result<(), Error> {
        if header.contains(['\r', '\n']) {
            return Err(Error::SessionHeaderLineEnd);
        }
        // A header is recognised only at a line start or right after a marker; an empty
        // chunk provides the latter without adding bytes to the previous message.
        if !self.out.is_empty()
            && !self.out.ends_with(b"\n")
            && !self.after_marker
            && let Some((direction, time)) = self.last
        {
            self.marker(direction, time)?;
        }
        self.out.extend_from_slice(HEADER_PREFIX);
        self.out.extend_from_slice(header.as_bytes());
        self.out.extend_from_slice(b"\n\n");
        self.started = true;
        self.after_marker = false;
        self.data_start = self.out.len();
        self.last = None;
        self.pending.clear();
        Ok(())
    }

    /// Writes a request sent at `time`. `chunks` are body offsets where a new recorded chunk
    /// (socket read) begins; offsets not inside the body are ignored.
    ///
    /// # Errors
    ///
    /// [`Error::NoSessionStarted`], [`Error::UnsupportedVersion`], or
    /// [`Error::AmbiguousData`] if the message would read back differently.
    pub fn request(
        &mut self,
        time: u64,
        request: &http::Request<Bytes>,
        chunks: &[usize],
    ) -> Result<(), Error> {
        self.request_with_trailers(time, request, chunks, &HeaderMap::new())
    }

    fn request_with_trailers(
        &mut self,
        time: u64,
        request: &http::Request<Bytes>,
        chunks: &[usize],
        trailers: &HeaderMap,
    ) -> Result<(), Error> {
        let eol = self.config.line_ending.bytes();
        let mut head = Vec::new();
        head.extend_from_slice(request.method().as_str().as_bytes());
        head.push(b' ');
        head.extend_from_slice(request.uri().to_string().as_bytes());
        head.push(b' ');
        head.extend_from_slice(version_text(request.version())?);
        head.extend_from_slice(eol);
        let (message, body_start) = self.message(
            head,
            request.headers(),
            request.body(),
            trailers,
            BodyRule::Request,
        )?;
        self.chunked_write(
            Direction::ClientToServer,
            time,
            &message,
            body_start,
            chunks,
        )?;
        self.pending.push_back(request.method().clone());
        Ok(())
    }

    /// Writes an interim (1xx) response sent at `time`.
    ///
    /// # Errors
    ///
    /// As [`Writer::request`].
    pub fn interim(&mut self, time: u64, response: &http::Response<()>) -> Result<(), Error> {
        let head = self.status_line(
            response.version(),
            response.status(),
            response.extensions().get::<ReasonPhrase>(),
        )?;
        let (message, body_start) = self.message(
            head,
            response.headers(),
            &Bytes::new(),
            &HeaderMap::new(),
            BodyRule::Never,
        )?;
        self.chunked_write(Direction::ServerToClient, time, &message, body_start, &[])
    }

    /// Writes the final response to the oldest request of the session not yet answered.
    /// `chunks` are body offsets where a new recorded chunk (socket write) begins.
    ///
    /// # Errors
    ///
    /// [`Error::ResponseWithoutRequest`], [`Error::BodyNotAllowed`] for a body on a response
    /// that cannot carry one, or as [`Writer::request`].
    pub fn response(
        &mut self,
        time: u64,
        response: &http::Response<Bytes>,
        chunks: &[usize],
    ) -> Result<(), Error> {
        self.response_with_trailers(time, response, chunks, &HeaderMap::new())
    }

    fn response_with_trailers(
        &mut self,
        time: u64,
        response: &http::Response<Bytes>,
        chunks: &[usize],
        trailers: &HeaderMap,
    ) -> Result<(), Error> {
        let method = self.pending.front().ok_or(Error::ResponseWithoutRequest)?;
        let status = response.status();
        let rule = if method == Method::HEAD
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
            || (method == Method::CONNECT && status.is_success())
        {
            BodyRule::Never
        } else {
            BodyRule::Response
        };
        let head = self.status_line(
            response.version(),
            status,
            response.extensions().get::<ReasonPhrase>(),
        )?;
        let (message, body_start) =
            self.message(head, response.headers(), response.body(), trailers, rule)?;
        self.chunked_write(
            Direction::ServerToClient,
            time,
            &message,
            body_start,
            chunks,
        )?;
        self.pending.pop_front();
        Ok(())
    }

    /// Writes an exchange: its request, interim responses and final response, at their times
    /// and split at their chunk offsets.
    ///
    /// Responses pair with requests in order when read back, so only the last exchange of a
    /// session may lack a response. A recorder that has several requests in flight (HTTP/2)
    /// writes each exchange whole once its response has arrived.
    ///
    /// # Errors
    ///
    /// As [`Writer::request`] and [`Writer::response`].
    pub fn exchange(&mut self, exchange: &Exchange) -> Result<(), Error> {
        self.request_with_trailers(
            exchange.request_time,
            &exchange.request,
            &exchange.request_chunks,
            &exchange.request_trailers,
        )?;
        for Interim { response, time, .. } in &exchange.interim {
            self.interim(*time, response)?;
        }
        if let Some(response) = &exchange.response {
            let time = exchange.response_time.unwrap_or(exchange.request_time);
            self.response_with_trailers(
                time,
                response,
                &exchange.response_chunks,
                &exchange.response_trailers,
            )?;
        }
        Ok(())
    }

    fn status_line(
        &self,
        version: Version,
        status: StatusCode,
        reason: Option<&ReasonPhrase>,
    ) -> Result<Vec<u8>, Error> {
        let mut head = Vec::new();
        head.extend_from_slice(version_text(version)?);
        head.push(b' ');
        head.extend_from_slice(status.as_str().as_bytes());
        head.push(b' ');
        match reason {
            Some(ReasonPhrase(text)) => head.extend_from_slice(text),
            None => {
                head.extend_from_slice(status.canonical_reason().unwrap_or_default().as_bytes())
            }
        }
        head.extend_from_slice(self.config.line_ending.bytes());
        Ok(head)
    }

    /// The whole message and where its body data starts.
    fn message(
        &self,
        mut out: Vec<u8>,
        headers: &HeaderMap,
        body: &Bytes,
        trailers: &HeaderMap,
        rule: BodyRule,
    ) -> Result<(Vec<u8>, usize), Error> {
        let eol = self.config.line_ending.bytes();
        if rule == BodyRule::Never && !body.is_empty() {
            return Err(Error::BodyNotAllowed);
        }
        self.fields(&mut out, headers);
        let chunked = is_chunked(headers);
        let has_length = headers.contains_key(http::header::CONTENT_LENGTH);
        let add_length = chunked.is_none()
            && !has_length
            && match rule {
                BodyRule::Request => !body.is_empty(),
                BodyRule::Response => true,
                BodyRule::Never => false,
            };
        if add_length {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(body.len().to_string().as_bytes());
            out.extend_from_slice(eol);
        }
        out.extend_from_slice(eol);
        if rule != BodyRule::Never && chunked == Some(true) {
            let mut body_start = out.len();
            if !body.is_empty() {
                out.extend_from_slice(format!("{:X}", body.len()).as_bytes());
                out.extend_from_slice(eol);
                body_start = out.len();
                out.extend_from_slice(body);
                out.extend_from_slice(eol);
            }
            out.push(b'0');
            out.extend_from_slice(eol);
            self.fields(&mut out, trailers);
            out.extend_from_slice(eol);
            return Ok((out, body_start));
        }
        let body_start = out.len();
        out.extend_from_slice(body);
        Ok((out, body_start))
    }

    fn fields(&self, out: &mut Vec<u8>, headers: &HeaderMap) {
        let eol = self.config.line_ending.bytes();
        for (name, value) in headers {
            write_name(out, name);
            out.extend_from_slice(b": ");
            if self.config.redact {
                out.extend_from_slice(&redacted(name, value));
            } else {
                out.extend_from_slice(value.as_bytes());
            }
            out.extend_from_slice(eol);
        }
    }

    fn marker(&mut self, direction: Direction, time: u64) -> Result<(), Error> {
        if log::joins_marker(self.out.get(self.data_start..).unwrap_or_default()) {
            return Err(Error::AmbiguousData {
                offset: self.out.len(),
            });
        }
        let m = direction.marker_byte();
        self.out.push(m);
        self.out.extend_from_slice(time.to_string().as_bytes());
        self.out.push(m);
        self.last = Some((direction, time));
        self.after_marker = true;
        self.data_start = self.out.len();
        Ok(())
    }

    /// Writes `message` as chunks split at `body_start + offset` for each offset; all or
    /// nothing.
    fn chunked_write(
        &mut self,
        direction: Direction,
        time: u64,
        message: &[u8],
        body_start: usize,
        chunks: &[usize],
    ) -> Result<(), Error> {
        if !self.started {
            return Err(Error::NoSessionStarted);
        }
        let mut cuts: Vec<usize> = chunks
            .iter()
            .filter_map(|&o| body_start.checked_add(o))
            .filter(|&c| c > 0 && c < message.len())
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let saved = (
            self.out.len(),
            self.last,
            self.after_marker,
            self.data_start,
        );
        let result = self.write_pieces(direction, time, message, &cuts);
        if result.is_err() {
            self.out.truncate(saved.0);
            self.last = saved.1;
            self.after_marker = saved.2;
            self.data_start = saved.3;
        }
        result
    }

    fn write_pieces(
        &mut self,
        direction: Direction,
        time: u64,
        message: &[u8],
        cuts: &[usize],
    ) -> Result<(), Error> {
        let mut from = 0;
        for &to in cuts.iter().chain(std::iter::once(&message.len())) {
            let piece = message.get(from..to).unwrap_or_default();
            self.marker(direction, time)?;
            if let Some(at) = log::ambiguity(piece) {
                return Err(Error::AmbiguousData {
                    offset: self.out.len() + at,
                });
            }
            self.out.extend_from_slice(piece);
            self.after_marker = piece.is_empty();
            from = to;
        }
        Ok(())
    }
}
