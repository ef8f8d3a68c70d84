//! The crate's one error type.

use std::fmt;

/// Which configurable limit of [`Limits`](crate::Limits) a document exceeded.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// Elements nested deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    Depth,
    /// More elements than [`Limits::max_elements`](crate::Limits::max_elements).
    Elements,
    /// More attributes on one element than
    /// [`Limits::max_attributes`](crate::Limits::max_attributes).
    Attributes,
    /// A text node (text and CDATA of one element) longer than
    /// [`Limits::max_text_bytes`](crate::Limits::max_text_bytes).
    TextBytes,
    /// One `<response>` (or a tag, or the prologue) longer than
    /// [`Limits::max_response_bytes`](crate::Limits::max_response_bytes) while streaming.
    ResponseBytes,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Depth => "nesting depth",
            Self::Elements => "element count",
            Self::Attributes => "attributes per element",
            Self::TextBytes => "text size",
            Self::ResponseBytes => "response size",
        })
    }
}

/// Everything that can go wrong while decoding or resolving WebDAV XML.
///
/// Every decoding error carries the byte offset in the input (for a
/// stream decoder: in the whole stream fed so far) where it was noticed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not well-formed XML. The document cannot be used; report it as a server bug.
    #[error("malformed xml at byte {offset}: {message}")]
    Syntax {
        /// Byte offset where the problem was noticed.
        offset: u64,
        /// What was wrong, in quick-xml's or our words.
        message: String,
    },
    /// The input is not UTF-8 (the only encoding WebDAV servers are seen to send).
    #[error("invalid utf-8 at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: u64,
    },
    /// A `<!DOCTYPE>` declaration: refused, since DTDs enable entity bombs and external entities
    /// (RFC 4918 §20.6 lets servers and clients reject them).
    #[error("dtd refused at byte {offset}")]
    Dtd {
        /// Byte offset of the declaration.
        offset: u64,
    },
    /// A reference to an entity other than the five XML predefines, or a bad character
    /// reference. No entity is ever looked up elsewhere.
    #[error("unknown entity `&{name};` at byte {offset}")]
    Entity {
        /// Byte offset of the reference.
        offset: u64,
        /// The entity name as written, without `&` and `;`.
        name: String,
    },
    /// A prefix that no `xmlns:` declaration in scope binds.
    #[error("unbound namespace prefix `{prefix}` at byte {offset}")]
    UnboundPrefix {
        /// Byte offset of the element or attribute.
        offset: u64,
        /// The prefix.
        prefix: String,
    },
    /// A configured [`Limits`](crate::Limits) value was exceeded; raise it if the document is
    /// trusted.
    #[error("{limit} limit exceeded at byte {offset}")]
    Limit {
        /// Byte offset where the limit was crossed.
        offset: u64,
        /// Which limit.
        limit: LimitKind,
    },
    /// The document ended before its root element was closed.
    #[error("unexpected end of document at byte {offset}")]
    UnexpectedEof {
        /// Length of the input.
        offset: u64,
    },
    /// Well-formed XML, but not the expected document (no `DAV:multistatus`, no `DAV:error`).
    #[error("expected {expected} at byte {offset}, found {found}")]
    UnexpectedDocument {
        /// Byte offset of the root element (or the end of input).
        offset: u64,
        /// What the caller asked to decode, in Clark notation.
        expected: &'static str,
        /// What the document holds instead.
        found: String,
    },
    /// An href that cannot be turned into a URI, even after percent-encoding.
    #[error("invalid href `{href}`")]
    InvalidHref {
        /// The href as the server sent it.
        href: String,
    },
    /// A stream decoder was fed after it failed or finished.
    #[error("stream decoder used after it failed or finished")]
    StreamClosed,
}

impl Error {
    /// The byte offset the error refers to, if it is a decoding error.
    #[must_use]
    pub fn offset(&self) -> Option<u64> {
        match self {
            Self::Syntax { offset, .. }
            | Self::InvalidUtf8 { offset }
            | Self::Dtd { offset }
            | Self::Entity { offset, .. }
            | Self::UnboundPrefix { offset, .. }
            | Self::Limit { offset, .. }
            | Self::UnexpectedEof { offset }
            | Self::UnexpectedDocument { offset, .. } => Some(*offset),
            Self::InvalidHref { .. } | Self::StreamClosed => None,
        }
    }

    /// The same error with its offset moved by `base` bytes (for errors found in a slice of a
    /// stream).
    pub(crate) fn shifted(mut self, base: u64) -> Self {
        match &mut self {
            Self::Syntax { offset, .. }
            | Self::InvalidUtf8 { offset }
            | Self::Dtd { offset }
            | Self::Entity { offset, .. }
            | Self::UnboundPrefix { offset, .. }
            | Self::Limit { offset, .. }
            | Self::UnexpectedEof { offset }
            | Self::UnexpectedDocument { offset, .. } => *offset = offset.saturating_add(base),
            Self::InvalidHref { .. } | Self::StreamClosed => {}
        }
        self
    }
}
