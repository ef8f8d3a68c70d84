//! Limits on untrusted documents (RFC 4918 §20.6, "Denial of Service").

/// Bounds that every decode enforces; exceeding one is an [`Error::Limit`](crate::Error::Limit).
///
/// The defaults accept every real server answer seen so far (calendar data of several
/// megabytes, Depth:1 listings of thousands of resources) and reject hostile ones quickly.
/// For a stream decoder the element count and sizes apply to each
/// `<response>`, so memory is bounded by the largest response, not by the document.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Deepest element nesting allowed (the root is depth 1). Default 64.
    pub max_depth: usize,
    /// Most elements in one decoded tree. Default 1,000,000.
    pub max_elements: usize,
    /// Most attributes (namespace declarations included) on one element. Default 256.
    pub max_attributes: usize,
    /// Longest text content of one element (text and CDATA together), in bytes. Default 64 MiB.
    pub max_text_bytes: usize,
    /// Streaming only: the longest single child of the multistatus (a `<response>`), tag or
    /// stretch of markup held while waiting for its end, in bytes. Default 64 MiB.
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_elements: 1_000_000,
            max_attributes: 256,
            max_text_bytes: 64 << 20,
            max_response_bytes: 64 << 20,
        }
    }
}
