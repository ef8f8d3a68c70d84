//! HTTP exchanges: a request, the interim responses it drew and its final response.
//!
//! HTTP/1.1 answers requests on a connection in the order they were sent (RFC 9112 §9.3.2),
//! so the n-th final response of a session answers its n-th request. Interim (1xx) responses
//! (RFC 9110 §15.2) precede the final response they belong to.

use bytes::Bytes;
use http::HeaderMap;

/// A reason phrase that differs from the status code's canonical one (or is not empty for a
/// code without one), kept in the response's
/// extensions so that nothing the server sent is lost.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReasonPhrase(pub Bytes);

/// Which message of an exchange a [`Note`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Side {
    /// The request.
    Request,
    /// The final response.
    Response,
}

/// Something the reader forgave while framing an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Note {
    /// The body's declared length (Content-Length, or the sum of chunk sizes) runs past the
    /// bytes recorded before the other side spoke; the body holds the recorded bytes, and
    /// the Content-Length header is kept as sent. See [`Framing`](crate::Framing).
    ShortBody {
        /// Which message.
        side: Side,
        /// Input offset of that message's start line.
        offset: usize,
        /// The length the message declared.
        declared: u64,
        /// The length recorded.
        recorded: u64,
    },
}

/// An interim (1xx) response, such as `102 Processing`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Interim {
    /// The response (1xx responses have no body).
    pub response: http::Response<()>,
    /// The Unix time of the chunk where it began.
    pub time: u64,
    /// Input offset of its status line.
    pub offset: usize,
}

impl Interim {
    /// An interim response recorded at `time`, at no particular offset.
    #[must_use]
    pub fn new(response: http::Response<()>, time: u64) -> Self {
        Self {
            response,
            time,
            offset: 0,
        }
    }
}

impl PartialEq for Interim {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time
            && self.offset == other.offset
            && response_head_eq(&self.response, &other.response)
    }
}

/// One request and what the server answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Exchange {
    /// The request as the client sent it. The body is the recorded bytes, de-chunked if it was
    /// sent with the chunked transfer coding (the Transfer-Encoding header is kept).
    pub request: http::Request<Bytes>,
    /// The final response, or `None` if the log ends before one.
    pub response: Option<http::Response<Bytes>>,
    /// Interim (1xx) responses that came before the final one, in order.
    pub interim: Vec<Interim>,
    /// Offsets into the request body where a recorded chunk (a socket read) began, ascending,
    /// each less than the body's length. Streaming decoders can be fed in these pieces.
    pub request_chunks: Vec<usize>,
    /// Offsets into the response body where a recorded chunk (a socket write) began.
    pub response_chunks: Vec<usize>,
    /// Trailer fields of a chunked request body.
    pub request_trailers: HeaderMap,
    /// Trailer fields of a chunked response body.
    pub response_trailers: HeaderMap,
    /// Unix time of the chunk where the request began.
    pub request_time: u64,
    /// Unix time of the chunk where the final response began.
    pub response_time: Option<u64>,
    /// Input offset of the request line.
    pub request_offset: usize,
    /// Input offset of the final response's status line.
    pub response_offset: Option<usize>,
    /// What the reader forgave in this exchange.
    pub notes: Vec<Note>,
}

impl Exchange {
    /// A new exchange of `request` sent at `time`, not yet answered, to be filled in and given
    /// to a [`Writer`](crate::Writer).
    #[must_use]
    pub fn new(request: http::Request<Bytes>, time: u64) -> Self {
        Self {
            request,
            response: None,
            interim: Vec::new(),
            request_chunks: Vec::new(),
            response_chunks: Vec::new(),
            request_trailers: HeaderMap::new(),
            response_trailers: HeaderMap::new(),
            request_time: time,
            response_time: None,
            request_offset: 0,
            response_offset: None,
            notes: Vec::new(),
        }
    }

    /// Sets the final response, received at `time`.
    #[must_use]
    pub fn with_response(mut self, response: http::Response<Bytes>, time: u64) -> Self {
        self.response = Some(response);
        self.response_time = Some(time);
        self
    }

    /// The request body in the pieces the server's socket reads delivered.
    #[must_use]
    pub fn request_pieces(&self) -> Vec<Bytes> {
        pieces(self.request.body(), &self.request_chunks)
    }

    /// The response body in the pieces the server's socket writes delivered; empty without a
    /// response.
    #[must_use]
    pub fn response_pieces(&self) -> Vec<Bytes> {
        self.response
            .as_ref()
            .map(|r| pieces(r.body(), &self.response_chunks))
            .unwrap_or_default()
    }

    /// Whether two exchanges carry the same messages, times and chunk boundaries, ignoring
    /// where they stood in their inputs (offsets) and the notes.
    #[must_use]
    pub fn same_content(&self, other: &Self) -> bool {
        request_eq(&self.request, &other.request)
            && match (&self.response, &other.response) {
                (Some(a), Some(b)) => response_eq(a, b),
                (None, None) => true,
                _ => false,
            }
            && self.interim.len() == other.interim.len()
            && self
                .interim
                .iter()
                .zip(&other.interim)
                .all(|(a, b)| a.time == b.time && response_head_eq(&a.response, &b.response))
            && self.request_chunks == other.request_chunks
            && self.response_chunks == other.response_chunks
            && self.request_trailers == other.request_trailers
            && self.response_trailers == other.response_trailers
            && self.request_time == other.request_time
            && self.response_time == other.response_time
    }
}

/// Splits `body` at `offsets` (ascending, as in [`Exchange::request_chunks`]) into the pieces
/// the socket delivered; offsets out of order or out of range are skipped. The pieces are views
/// of `body`, not copies. Feed them one by one to a streaming decoder to test it on the
/// boundaries a real connection produced.
#[must_use]
pub fn pieces(body: &Bytes, offsets: &[usize]) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(offsets.len() + 1);
    let mut from = 0;
    for &at in offsets {
        if at > from && at < body.len() {
            out.push(body.slice(from..at));
            from = at;
        }
    }
    if from < body.len() || out.is_empty() {
        out.push(body.slice(from..));
    }
    out
}

impl PartialEq for Exchange {
    fn eq(&self, other: &Self) -> bool {
        self.same_content(other)
            && self.interim == other.interim
            && self.request_offset == other.request_offset
            && self.response_offset == other.response_offset
            && self.notes == other.notes
    }
}

fn request_eq(a: &http::Request<Bytes>, b: &http::Request<Bytes>) -> bool {
    a.method() == b.method()
        && a.uri() == b.uri()
        && a.version() == b.version()
        && a.headers() == b.headers()
        && a.body() == b.body()
}

fn response_head_eq<T, U>(a: &http::Response<T>, b: &http::Response<U>) -> bool {
    a.status() == b.status()
        && a.version() == b.version()
        && a.headers() == b.headers()
        && a.extensions().get::<ReasonPhrase>() == b.extensions().get::<ReasonPhrase>()
}

fn response_eq(a: &http::Response<Bytes>, b: &http::Response<Bytes>) -> bool {
    response_head_eq(a, b) && a.body() == b.body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_split_at_offsets_and_rejoin() {
        let body = Bytes::from_static(b"abcdef");
        assert_eq!(pieces(&body, &[]), [Bytes::from_static(b"abcdef")]);
        assert_eq!(pieces(&body, &[0, 2, 5]), [&b"ab"[..], b"cde", b"f"]);
        assert_eq!(pieces(&body, &[4, 2, 9]), [&b"abcd"[..], b"ef"]);
        assert_eq!(pieces(&Bytes::new(), &[0]), [Bytes::new()]);
    }
}
