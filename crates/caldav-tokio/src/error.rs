//! The crate's error: which request failed, against which URL, and why.

use std::fmt;
use std::time::Duration;

/// The request an [`Error`] is about: its method and URL, as `PROPFIND https://host/path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The request method.
    pub method: http::Method,
    /// The request URL as sent (or as it would have been sent).
    pub url: String,
}

impl Target {
    /// The target of `request`.
    #[must_use]
    pub fn of<B>(request: &http::Request<B>) -> Self {
        Self {
            method: request.method().clone(),
            url: request.uri().to_string(),
        }
    }

    /// A target from a method and URL.
    #[must_use]
    pub fn new(method: http::Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.url)
    }
}

/// Everything that can go wrong while sending a request, resolving a name or driving a machine.
///
/// Every variant about a request names it ([`Target`]) and says why in the words of the layer
/// that failed; none of them carries a foreign error type.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The host name of the URL could not be resolved. Check the name or the resolver's name
    /// servers.
    #[error("{target}: dns lookup of {host} failed: {reason}")]
    Dns {
        /// The request.
        target: Target,
        /// The name that was looked up.
        host: String,
        /// What the resolver said.
        reason: String,
    },
    /// No TCP connection could be opened to any address of the host.
    #[error("{target}: connect failed: {reason}")]
    Connect {
        /// The request.
        target: Target,
        /// What the last attempt reported.
        reason: String,
    },
    /// The TLS handshake failed, for example on a certificate nobody trusts. Trust the server's
    /// CA explicitly ([`crate::HttpConfig::trust_pem`]) if it is self-hosted.
    #[error("{target}: tls failed: {reason}")]
    Tls {
        /// The request.
        target: Target,
        /// What rustls reported.
        reason: String,
    },
    /// No complete response arrived within the configured time.
    #[error("{target}: timed out after {after:?}")]
    Timeout {
        /// The request.
        target: Target,
        /// The configured limit that ran out.
        after: Duration,
    },
    /// The server broke HTTP (a malformed message, a connection closed mid-response).
    #[error("{target}: http protocol error: {reason}")]
    Protocol {
        /// The request.
        target: Target,
        /// What hyper reported.
        reason: String,
    },
    /// The server answered with a status the caller did not accept (see
    /// [`crate::HttpClient::send_expecting_success`]).
    #[error("{target}: http status {status}{}", excerpt.as_deref().map(|e| format!(": {e}")).unwrap_or_default())]
    Status {
        /// The request.
        target: Target,
        /// The status.
        status: http::StatusCode,
        /// The start of the body, when it is text: servers often say why there.
        excerpt: Option<String>,
    },
    /// The response body (before or after content decoding) is larger than the configured limit.
    #[error("{target}: response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The request.
        target: Target,
        /// The limit in bytes.
        limit: usize,
    },
    /// The response's `Content-Encoding` could not be decoded.
    #[error("{target}: cannot decode content-encoding {coding}: {reason}")]
    ContentEncoding {
        /// The request.
        target: Target,
        /// The coding, as the server named it.
        coding: String,
        /// Why it failed.
        reason: String,
    },
    /// Credentials would have gone over plain `http`; allow it explicitly
    /// ([`crate::HttpConfig::allow_plain_http_credentials`]) for a trusted network only.
    #[error("{target}: refusing to send credentials over plain http")]
    InsecureCredentials {
        /// The request.
        target: Target,
    },
    /// The request cannot be sent as it is (a relative URL, an unknown scheme, a bad header).
    #[error("{target}: invalid request: {reason}")]
    InvalidRequest {
        /// The request.
        target: Target,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be configured (a CA file that is not PEM, no usable roots).
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// A DNS query (not an HTTP request's host) failed in a way the answer types cannot say.
    #[error("dns query {query} failed: {reason}")]
    DnsQuery {
        /// The query, as `SRV _caldavs._tcp.example.com`.
        query: String,
        /// What the resolver said.
        reason: String,
    },
    /// The machine rejected an answer the driver fed it: a bug in the driver or the machine.
    #[error("machine refused an answer: {reason}")]
    Machine {
        /// The machine's own message.
        reason: String,
    },
    /// Writing a recording failed.
    #[error("recording failed: {reason}")]
    Recording {
        /// What went wrong.
        reason: String,
    },
}

impl Error {
    /// The request this error is about, when it is about one.
    #[must_use]
    pub fn target(&self) -> Option<&Target> {
        match self {
            Self::Dns { target, .. }
            | Self::Connect { target, .. }
            | Self::Tls { target, .. }
            | Self::Timeout { target, .. }
            | Self::Protocol { target, .. }
            | Self::Status { target, .. }
            | Self::BodyTooLarge { target, .. }
            | Self::ContentEncoding { target, .. }
            | Self::InsecureCredentials { target }
            | Self::InvalidRequest { target, .. } => Some(target),
            Self::Config { .. }
            | Self::DnsQuery { .. }
            | Self::Machine { .. }
            | Self::Recording { .. } => None,
        }
    }
}
