//! HTTP/1.1 messages in one direction's byte stream (RFC 9112).
//!
//! The chunks of one direction concatenate to the byte stream the peer saw. This module cuts
//! that stream into messages: the start line and header fields (RFC 9112 §2-§5, parsed by
//! `httparse`, which accepts bare LF line ends as RFC 9112 §2.2 allows a recipient to), then
//! the body by the rules of RFC 9112 §6.3:
//!
//! ```text
//! 1. Any response to a HEAD request and any response with a 1xx (Informational),
//!    204 (No Content), or 304 (Not Modified) status code is always terminated by the
//!    first empty line after the header fields [...]
//! 4. If a Transfer-Encoding header field is present and the chunked transfer coding
//!    is the final encoding, the message body length is determined by reading and
//!    decoding the chunked data until the transfer coding indicates the data is complete.
//! 6. If a valid Content-Length header field is present without Transfer-Encoding, its
//!    decimal value defines the expected message body length in octets.
//! 7. If this is a request message and none of the above are true, then the message
//!    body length is zero.
//! 8. Otherwise, this is a response message without a declared message body length, so
//!    the message body length is determined by the number of octets received prior to
//!    the server closing the connection.
//! ```
//!
//! A recorded trace may disagree with its own Content-Length (the seed's copy lost bytes);
//! [`Framing`] says what to do then.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version};

use crate::log::{Chunk, Direction};
use crate::{Error, ReasonPhrase};

/// How a body whose declared length runs past the recorded bytes is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Framing {
    /// Trust `Content-Length` and chunk sizes exactly: a body may span any number of turns of
    /// the conversation, and a message cut off by the end of its stream is left unparsed.
    /// Right for byte-exact logs.
    Declared,
    /// A body ends at the latest where the other side next spoke (the end of its *turn*): if the
    /// declared length runs past that point, the body is what was recorded and the exchange
    /// carries a [`Note::ShortBody`](crate::Note::ShortBody). Right for logs whose line ends
    /// were normalised, like the seed; identical to `Declared` on exact logs unless a body
    /// really was interleaved with the peer's bytes.
    #[default]
    TurnBounded,
}

/// Limits and policy for [`Trace::parse_with`](crate::Trace::parse_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ParseConfig {
    /// Largest message head (start line and header fields) in bytes. Default 64 KiB.
    pub max_head_size: usize,
    /// Most header fields in one message head or trailer section. Default 128.
    pub max_headers: usize,
    /// Largest declared or decoded body in bytes. Default 64 MiB.
    pub max_body_size: usize,
    /// What to do when a body's declared length runs past the recorded bytes.
    pub framing: Framing,
}

impl Default for ParseConfig {
    fn default() -> Self {
        Self {
            max_head_size: 64 * 1024,
            max_headers: 128,
            max_body_size: 64 * 1024 * 1024,
            framing: Framing::TurnBounded,
        }
    }
}

/// One recorded chunk's place in its direction's stream.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    data_offset: usize,
    time: u64,
    turn_end: usize,
}

/// The concatenated bytes of one direction, with where each recorded chunk lies in them.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) bytes: Bytes,
    pieces: Vec<Piece>,
}

impl Stream {
    /// Builds the stream of `direction` from a session's chunks. Turns are counted over
    /// non-empty chunks only: an empty read or write does not interrupt the other side.
    pub(crate) fn build(chunks: &[Chunk], direction: Direction) -> Self {
        let mut bytes = BytesMut::new();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut turns: Vec<usize> = Vec::new();
        let mut turn = 0usize;
        let mut last: Option<Direction> = None;
        for chunk in chunks.iter().filter(|c| !c.data.is_empty()) {
            if last != Some(chunk.direction) {
                turn += 1;
                last = Some(chunk.direction);
            }
            if chunk.direction == direction {
                let start = bytes.len();
                bytes.extend_from_slice(&chunk.data);
                pieces.push(Piece {
                    start,
                    end: bytes.len(),
                    data_offset: chunk.data_offset,
                    time: chunk.time,
                    turn_end: bytes.len(),
                });
                turns.push(turn);
            }
        }
        let mut following: Option<(usize, usize)> = None;
        for (piece, &turn) in pieces.iter_mut().zip(turns.iter()).rev() {
            if let Some((next_turn, next_end)) = following
                && next_turn == turn
            {
                piece.turn_end = next_end;
            }
            following = Some((turn, piece.turn_end));
        }
        Self {
            bytes: bytes.freeze(),
            pieces,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    fn piece(&self, pos: usize) -> Option<&Piece> {
        let index = self.pieces.partition_point(|p| p.end <= pos);
        self.pieces.get(index)
    }

    /// The input offset of stream position `pos`.
    pub(crate) fn file_offset(&self, pos: usize) -> usize {
        match self.piece(pos) {
            Some(p) => p.data_offset + (pos - p.start),
            None => self
                .pieces
                .last()
                .map_or(0, |p| p.data_offset + (p.end - p.start)),
        }
    }

    pub(crate) fn time_at(&self, pos: usize) -> u64 {
        self.piece(pos).or(self.pieces.last()).map_or(0, |p| p.time)
    }

    fn turn_end(&self, pos: usize) -> usize {
        self.piece(pos).map_or(self.len(), |p| p.turn_end)
    }

    /// Stream positions in `start..end` where a recorded chunk began.
    fn chunk_starts(&self, start: usize, end: usize) -> impl Iterator<Item = usize> + '_ {
        let first = self.pieces.partition_point(|p| p.start < start);
        self.pieces
            .get(first..)
            .unwrap_or_default()
            .iter()
            .map(|p| p.start)
            .take_while(move |&s| s < end)
    }
}

/// A message cut from a stream, in stream positions.
#[derive(Debug)]
pub(crate) struct Parsed<T> {
    pub(crate) message: T,
    /// Stream position of the start line.
    pub(crate) start: usize,
    /// Stream position after the message.
    pub(crate) end: usize,
    pub(crate) body_chunks: Vec<usize>,
    pub(crate) trailers: HeaderMap,
    /// `(declared, recorded)` when the body was cut short by [`Framing::TurnBounded`].
    pub(crate) short: Option<(u64, u64)>,
}

/// A body cut from a stream.
struct Body {
    bytes: Bytes,
    end: usize,
    chunks: Vec<usize>,
    trailers: HeaderMap,
    short: Option<(u64, u64)>,
}

impl Body {
    fn empty(at: usize) -> Self {
        Self {
            bytes: Bytes::new(),
            end: at,
            chunks: Vec::new(),
            trailers: HeaderMap::new(),
            short: None,
        }
    }
}

/// How a message's body is delimited.
enum Delimit {
    None,
    Length(u64),
    Chunked,
    Close,
}

pub(crate) struct Parser<'s> {
    stream: &'s Stream,
    config: ParseConfig,
    headers: Vec<httparse::Header<'s>>,
}

fn httparse_reason(error: httparse::Error) -> &'static str {
    match error {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line end",
        httparse::Error::Status => "invalid status line",
        httparse::Error::Token => "invalid token",
        httparse::Error::Version => "invalid http version",
        _ => "invalid message head",
    }
}

/// Skips empty lines before a start line (RFC 9112 §2.2 lets a recipient ignore them).
pub(crate) fn skip_empty_lines(bytes: &[u8], mut pos: usize) -> usize {
    loop {
        match bytes.get(pos..) {
            Some([b'\n', ..]) => pos += 1,
            Some([b'\r', b'\n', ..]) => pos += 2,
            _ => return pos,
        }
    }
}

fn header_map(headers: &[httparse::Header<'_>]) -> Option<HeaderMap> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for header in headers {
        let name = HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(header.value).ok()?;
        map.append(name, value);
    }
    Some(map)
}

/// Parses the Content-Length field values; a list of identical values counts as one
/// (RFC 9110 §8.6).
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ()> {
    let mut found: Option<u64> = None;
    for value in headers.get_all(http::header::CONTENT_LENGTH) {
        for item in value.as_bytes().split(|&b| b == b',') {
            let item = item.trim_ascii();
            if item.is_empty() || !item.iter().all(u8::is_ascii_digit) {
                return Err(());
            }
            let n = std::str::from_utf8(item)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(())?;
            if found.is_some_and(|f| f != n) {
                return Err(());
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// Whether Transfer-Encoding is present, and whether chunked is its final coding.
fn transfer_encoding(headers: &HeaderMap) -> Option<bool> {
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

impl<'s> Parser<'s> {
    pub(crate) fn new(stream: &'s Stream, config: ParseConfig) -> Self {
        Self {
            stream,
            config,
            headers: vec![httparse::EMPTY_HEADER; config.max_headers],
        }
    }

    fn bytes(&self) -> &'s [u8] {
        &self.stream.bytes
    }

    fn invalid(&self, start: usize, reason: &'static str) -> Error {
        Error::InvalidMessage {
            offset: self.stream.file_offset(start),
            reason,
        }
    }

    fn limit(&self, start: usize, what: &'static str, limit: usize) -> Error {
        Error::LimitExceeded {
            what,
            offset: self.stream.file_offset(start),
            limit,
        }
    }

    /// The head window at `start`, or `None` if the head is incomplete at the end of the stream.
    fn head_window(&self, start: usize) -> &'s [u8] {
        let bytes = self.bytes();
        let end = start
            .saturating_add(self.config.max_head_size)
            .min(bytes.len());
        bytes.get(start..end).unwrap_or_default()
    }

    fn head_status(
        &self,
        start: usize,
        status: Result<httparse::Status<usize>, httparse::Error>,
        window: usize,
    ) -> Result<Option<usize>, Error> {
        match status {
            Ok(httparse::Status::Complete(n)) => Ok(Some(start + n)),
            Ok(httparse::Status::Partial) => {
                if window >= self.config.max_head_size {
                    Err(self.limit(start, "message head size", self.config.max_head_size))
                } else {
                    Ok(None)
                }
            }
            Err(httparse::Error::TooManyHeaders) => {
                Err(self.limit(start, "header count", self.config.max_headers))
            }
            Err(e) => Err(self.invalid(start, httparse_reason(e))),
        }
    }

    /// Parses the request starting at or after `pos` (after empty lines), returning it and the
    /// stream position after it. `Ok(None)` when the stream holds no further complete request.
    pub(crate) fn request(
        &mut self,
        pos: usize,
    ) -> Result<Option<Parsed<http::Request<Bytes>>>, Error> {
        let start = skip_empty_lines(self.bytes(), pos);
        if start >= self.stream.len() {
            return Ok(None);
        }
        let window = self.head_window(start);
        let mut headers = std::mem::take(&mut self.headers);
        let mut req = httparse::Request::new(&mut headers);
        let status = req.parse(window);
        let parsed = self.head_status(start, status, window.len());
        let head_end = match parsed {
            Ok(Some(end)) => end,
            Ok(None) => {
                self.headers = headers;
                return Ok(None);
            }
            Err(e) => {
                self.headers = headers;
                return Err(e);
            }
        };
        let method = req
            .method
            .and_then(|m| Method::from_bytes(m.as_bytes()).ok());
        let uri = req.path.and_then(|p| Uri::try_from(p).ok());
        let version = match req.version {
            Some(0) => Some(Version::HTTP_10),
            Some(1) => Some(Version::HTTP_11),
            _ => None,
        };
        let map = header_map(req.headers);
        self.headers = headers;
        let method = method.ok_or_else(|| self.invalid(start, "invalid method"))?;
        let uri = uri.ok_or_else(|| self.invalid(start, "invalid request target"))?;
        let version = version.ok_or_else(|| self.invalid(start, "invalid http version"))?;
        let map = map.ok_or_else(|| self.invalid(start, "invalid header field"))?;

        let delimit = match transfer_encoding(&map) {
            Some(true) => Delimit::Chunked,
            Some(false) => {
                return Err(self.invalid(start, "request transfer coding is not chunked"));
            }
            None => match content_length(&map) {
                Ok(Some(n)) => Delimit::Length(n),
                Ok(None) => Delimit::None,
                Err(()) => return Err(self.invalid(start, "invalid content-length")),
            },
        };
        let Some(body) = self.body(start, head_end, delimit)? else {
            return Ok(None);
        };
        let end = body.end;
        let mut request = http::Request::new(body.bytes);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.version_mut() = version;
        *request.headers_mut() = map;
        Ok(Some(Parsed {
            message: request,
            start,
            end,
            body_chunks: body.chunks,
            trailers: body.trailers,
            short: body.short,
        }))
    }

    /// Parses the response starting at or after `pos`, given the method of the request it
    /// answers (which decides whether it has a body). Returns the response and the stream
    /// position after it.
    pub(crate) fn response(
        &mut self,
        pos: usize,
        method: &Method,
    ) -> Result<Option<Parsed<http::Response<Bytes>>>, Error> {
        let start = skip_empty_lines(self.bytes(), pos);
        if start >= self.stream.len() {
            return Ok(None);
        }
        let window = self.head_window(start);
        let mut headers = std::mem::take(&mut self.headers);
        let mut res = httparse::Response::new(&mut headers);
        let status = res.parse(window);
        let parsed = self.head_status(start, status, window.len());
        let head_end = match parsed {
            Ok(Some(end)) => end,
            Ok(None) => {
                self.headers = headers;
                return Ok(None);
            }
            Err(e) => {
                self.headers = headers;
                return Err(e);
            }
        };
        let code = res.code.and_then(|c| StatusCode::from_u16(c).ok());
        let reason = res.reason.map(|r| Bytes::copy_from_slice(r.as_bytes()));
        let version = match res.version {
            Some(0) => Some(Version::HTTP_10),
            Some(1) => Some(Version::HTTP_11),
            _ => None,
        };
        let map = header_map(res.headers);
        self.headers = headers;
        let code = code.ok_or_else(|| self.invalid(start, "invalid status code"))?;
        let version = version.ok_or_else(|| self.invalid(start, "invalid http version"))?;
        let map = map.ok_or_else(|| self.invalid(start, "invalid header field"))?;

        let bodiless = method == Method::HEAD
            || code.is_informational()
            || code == StatusCode::NO_CONTENT
            || code == StatusCode::NOT_MODIFIED
            || (method == Method::CONNECT && code.is_success());
        let delimit = if bodiless {
            Delimit::None
        } else {
            match transfer_encoding(&map) {
                Some(true) => Delimit::Chunked,
                Some(false) => Delimit::Close,
                None => match content_length(&map) {
                    Ok(Some(n)) => Delimit::Length(n),
                    Ok(None) => Delimit::Close,
                    Err(()) => return Err(self.invalid(start, "invalid content-length")),
                },
            }
        };
        let Some(body) = self.body(start, head_end, delimit)? else {
            return Ok(None);
        };
        let end = body.end;
        let mut response = http::Response::new(body.bytes);
        *response.status_mut() = code;
        *response.version_mut() = version;
        *response.headers_mut() = map;
        if let Some(reason) = reason
            && code.canonical_reason().unwrap_or_default().as_bytes() != &reason[..]
        {
            response.extensions_mut().insert(ReasonPhrase(reason));
        }
        Ok(Some(Parsed {
            message: response,
            start,
            end,
            body_chunks: body.chunks,
            trailers: body.trailers,
            short: body.short,
        }))
    }

    /// The end of the region a body may occupy, by the framing policy.
    fn bound(&self, head_end: usize) -> usize {
        match self.config.framing {
            Framing::Declared => self.stream.len(),
            Framing::TurnBounded => self.stream.turn_end(head_end),
        }
    }

    fn body(
        &mut self,
        start: usize,
        head_end: usize,
        delimit: Delimit,
    ) -> Result<Option<Body>, Error> {
        match delimit {
            Delimit::None => Ok(Some(Body::empty(head_end))),
            Delimit::Length(declared) => {
                let max = self.config.max_body_size;
                let length = usize::try_from(declared).ok().filter(|&n| n <= max);
                let length = length.ok_or_else(|| self.limit(start, "body size", max))?;
                let want = head_end.saturating_add(length);
                let bound = self.bound(head_end);
                let (end, short) = if want <= bound {
                    (want, None)
                } else if self.config.framing == Framing::Declared {
                    return Ok(None);
                } else {
                    (bound, Some((declared, (bound - head_end) as u64)))
                };
                Ok(Some(self.plain_body(head_end, end, short)))
            }
            Delimit::Close => Ok(Some(self.plain_body(head_end, self.stream.len(), None))),
            Delimit::Chunked => self.chunked(start, head_end),
        }
    }

    fn plain_body(&self, head_end: usize, end: usize, short: Option<(u64, u64)>) -> Body {
        Body {
            bytes: self.stream.bytes.slice(head_end..end),
            end,
            chunks: self
                .stream
                .chunk_starts(head_end, end)
                .map(|s| s - head_end)
                .collect(),
            trailers: HeaderMap::new(),
            short,
        }
    }

    /// Decodes a chunked body (RFC 9112 §7.1). Chunk extensions are not kept.
    fn chunked(&mut self, start: usize, head_end: usize) -> Result<Option<Body>, Error> {
        const MAX_SIZE_LINE: usize = 4096;
        let bytes = self.bytes();
        let bound = self.bound(head_end);
        let turn_bounded = self.config.framing == Framing::TurnBounded;
        let max = self.config.max_body_size;
        // (stream position, length) of each data segment
        let mut segments: Vec<(usize, usize)> = Vec::new();
        let mut total = 0usize;
        let mut declared = 0u64;
        let mut pos = head_end;
        let mut trailers = HeaderMap::new();
        let mut short = false;
        loop {
            let region = bytes.get(pos..bound).unwrap_or_default();
            let Some(line_len) = memchr::memchr(b'\n', region) else {
                if region.len() > MAX_SIZE_LINE {
                    return Err(Error::InvalidChunkedBody {
                        offset: self.stream.file_offset(pos),
                    });
                }
                if turn_bounded {
                    short = true;
                    pos = bound;
                    break;
                }
                return Ok(None);
            };
            if line_len > MAX_SIZE_LINE {
                return Err(Error::InvalidChunkedBody {
                    offset: self.stream.file_offset(pos),
                });
            }
            let line = region.get(..line_len).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let size_text = line
                .split(|&b| b == b';')
                .next()
                .unwrap_or_default()
                .trim_ascii_end();
            let size = (!size_text.is_empty() && size_text.len() <= 16)
                .then(|| std::str::from_utf8(size_text).ok())
                .flatten()
                .and_then(|s| u64::from_str_radix(s, 16).ok())
                .filter(|_| size_text.iter().all(u8::is_ascii_hexdigit))
                .ok_or(Error::InvalidChunkedBody {
                    offset: self.stream.file_offset(pos),
                })?;
            let size_line_start = pos;
            pos += line_len + 1;
            if size == 0 {
                let region = bytes.get(pos..bound).unwrap_or_default();
                let mut headers = std::mem::take(&mut self.headers);
                let parsed = httparse::parse_headers(region, &mut headers);
                let result = match parsed {
                    Ok(httparse::Status::Complete((n, fields))) => header_map(fields)
                        .map(|map| Some((n, map)))
                        .ok_or(Error::InvalidChunkedBody {
                            offset: self.stream.file_offset(pos),
                        }),
                    Ok(httparse::Status::Partial) => Ok(None),
                    Err(httparse::Error::TooManyHeaders) => {
                        Err(self.limit(start, "header count", self.config.max_headers))
                    }
                    Err(_) => Err(Error::InvalidChunkedBody {
                        offset: self.stream.file_offset(pos),
                    }),
                };
                self.headers = headers;
                match result {
                    Ok(Some((n, map))) => {
                        trailers = map;
                        pos += n;
                    }
                    Ok(None) => {
                        if !turn_bounded {
                            return Ok(None);
                        }
                        short = true;
                        pos = bound;
                    }
                    Err(e) => return Err(e),
                }
                break;
            }
            declared = declared.saturating_add(size);
            let size = usize::try_from(size)
                .ok()
                .filter(|&n| total.saturating_add(n) <= max)
                .ok_or_else(|| self.limit(start, "body size", max))?;
            let available = bound - pos;
            if size > available {
                if !turn_bounded {
                    return Ok(None);
                }
                segments.push((pos, available));
                total += available;
                short = true;
                pos = bound;
                break;
            }
            segments.push((pos, size));
            total += size;
            pos += size;
            match bytes.get(pos..bound) {
                Some([b'\n', ..]) => pos += 1,
                Some([b'\r', b'\n', ..]) => pos += 2,
                Some([] | [b'\r']) | None => {
                    if !turn_bounded {
                        return Ok(None);
                    }
                    short = true;
                    pos = bound;
                    break;
                }
                Some(_) => {
                    return Err(Error::InvalidChunkedBody {
                        offset: self.stream.file_offset(size_line_start),
                    });
                }
            }
        }
        let decoded = match segments.as_slice() {
            [] => Bytes::new(),
            [(at, len)] => self.stream.bytes.slice(*at..*at + *len),
            many => {
                let mut joined = BytesMut::with_capacity(total);
                for &(at, len) in many {
                    joined.extend_from_slice(bytes.get(at..at + len).unwrap_or_default());
                }
                joined.freeze()
            }
        };
        // Both lists ascend, so one walk maps each chunk start to its decoded offset: inside a
        // segment it maps into it, between segments (in a size line) to the next segment.
        let mut chunks: Vec<usize> = Vec::new();
        let mut segment = segments.iter().peekable();
        let mut decoded_at = 0usize;
        for s in self.stream.chunk_starts(head_end, pos) {
            while let Some(&&(at, len)) = segment.peek() {
                if s < at + len {
                    break;
                }
                decoded_at += len;
                segment.next();
            }
            let Some(&&(at, _)) = segment.peek() else {
                break;
            };
            let mapped = decoded_at + s.saturating_sub(at);
            if mapped < total && chunks.last() != Some(&mapped) {
                chunks.push(mapped);
            }
        }
        Ok(Some(Body {
            bytes: decoded,
            end: pos,
            chunks,
            trailers,
            short: short.then_some((declared, total as u64)),
        }))
    }
}
