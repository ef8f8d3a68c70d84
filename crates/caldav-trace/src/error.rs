//! The crate's one error type.

/// Everything that can go wrong while reading or writing a trace.
///
/// Offsets are byte offsets into the input given to [`Trace::parse`](crate::Trace::parse)
/// (for parse errors) or into the message or output being written (for write errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input holds no `---------- ` session header line, so it is not a telemetry log.
    #[error("no session header line found")]
    NoSession,

    /// A session header line is not UTF-8.
    #[error("session header at byte {offset} is not utf-8")]
    InvalidSessionHeader {
        /// Where the header line starts.
        offset: usize,
    },

    /// Bytes stand between a session header and the session's first chunk marker: every byte
    /// of a session must belong to a chunk.
    #[error("data outside any chunk at byte {offset}")]
    DataOutsideChunk {
        /// Where the stray data starts.
        offset: usize,
    },

    /// A message head (request line, status line or header fields) is not valid HTTP/1.1.
    #[error("invalid http message at byte {offset}: {reason}")]
    InvalidMessage {
        /// Where the offending message starts.
        offset: usize,
        /// What is wrong, in a few words.
        reason: &'static str,
    },

    /// A chunked message body (RFC 9112 §7.1) is malformed.
    #[error("invalid chunked body at byte {offset}")]
    InvalidChunkedBody {
        /// Where the offending chunk-size line or chunk starts.
        offset: usize,
    },

    /// A message exceeded one of the [`ParseConfig`](crate::ParseConfig) limits. Raise the
    /// limit if the trace is trusted.
    #[error("{what} at byte {offset} exceeds the limit of {limit}")]
    LimitExceeded {
        /// Which limit: `"message head size"`, `"header count"` or `"body size"`.
        what: &'static str,
        /// Where the offending message starts.
        offset: usize,
        /// The limit in force.
        limit: usize,
    },

    /// The server stream holds more final responses than the client stream holds requests.
    #[error("response at byte {offset} answers no request")]
    UnpairedResponse {
        /// Where the response starts.
        offset: usize,
    },

    /// The writer was asked to write a message before any session header.
    #[error("no session started")]
    NoSessionStarted,

    /// A session header to be written contains a line end.
    #[error("session header contains a line end")]
    SessionHeaderLineEnd,

    /// Data to be written would read back as a chunk marker or session header, so the trace
    /// would not round-trip. The format has no escape mechanism.
    #[error("data would read back as a marker or session header at byte {offset}")]
    AmbiguousData {
        /// Offset into the output where the ambiguity arises.
        offset: usize,
    },

    /// A message to be written uses HTTP/0.9, which has no header fields to write. (HTTP/2
    /// and HTTP/3 messages are written in their HTTP/1.1 form.)
    #[error("http/0.9 messages cannot be written")]
    UnsupportedVersion,

    /// A body was given for a response that cannot carry one (1xx, 204, 304, or an answer
    /// to HEAD).
    #[error("response may not carry a body")]
    BodyNotAllowed,

    /// A response was written while no request of its session awaited an answer.
    #[error("response written without a pending request")]
    ResponseWithoutRequest,
}
