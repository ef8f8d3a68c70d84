//! The trail: every candidate the machine tried, what happened and what it concluded.
//!
//! RFC 6764 §6 leaves the client to walk a list of candidates until one answers; when none does,
//! a person needs to see why each was rejected. Every DNS lookup and every HTTP request the
//! machine makes leaves exactly one [`Attempt`] here, in order; `Display` gives one line each.

use std::fmt;

use http::{Method, StatusCode, Uri};

use crate::dns::{DnsFailure, DnsQuery, ServiceTarget};
use crate::machine::TransportFailure;

/// One step of discovery and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// What was asked.
    pub target: Target,
    /// What the machine made of the answer.
    pub verdict: Verdict,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.target, self.verdict)
    }
}

/// What an [`Attempt`] asked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A DNS lookup.
    Dns(DnsQuery),
    /// An HTTP request.
    Http {
        /// `PROPFIND` or `GET`.
        method: Method,
        /// The URL requested.
        url: Uri,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(query) => write!(f, "{query}"),
            Self::Http { method, url } => write!(f, "{method} {url}"),
        }
    }
}

/// The verdict on one [`Attempt`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The answer was used.
    Accepted(Acceptance),
    /// The server redirected and the machine followed.
    Redirected(Hop),
    /// The answer ruled this candidate out.
    Rejected(Rejection),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accepted(a) => write!(f, "accepted: {a}"),
            Self::Redirected(hop) => write!(f, "redirected: {hop}"),
            Self::Rejected(r) => write!(f, "rejected: {r}"),
        }
    }
}

/// Why an answer was used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Acceptance {
    /// SRV records gave these targets, in the order they will be tried.
    SrvTargets(Vec<ServiceTarget>),
    /// A TXT record gave this context path (RFC 6764 §4).
    TxtPath(String),
    /// The PROPFIND answered 207 with a current-user-principal: this is the context URL.
    Context {
        /// The principal, resolved against the request URL.
        principal: Uri,
    },
    /// The PROPFIND answered 207 without a principal while credentials were attached: the
    /// server does not offer current-user-principal (QUIRKS.md #2), so the URL stands alone.
    ContextWithoutPrincipal,
}

impl fmt::Display for Acceptance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SrvTargets(targets) => {
                f.write_str("targets")?;
                for (i, t) in targets.iter().enumerate() {
                    write!(f, "{}{t}", if i == 0 { " " } else { ", " })?;
                }
                Ok(())
            }
            Self::TxtPath(path) => write!(f, "context path {path}"),
            Self::Context { principal } => write!(f, "context URL, principal {principal}"),
            Self::ContextWithoutPrincipal => {
                f.write_str("context URL (the server names no current-user-principal)")
            }
        }
    }
}

/// One redirect followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// 301, 302, 303, 307 or 308.
    pub status: StatusCode,
    /// The URL redirected from.
    pub from: Uri,
    /// The resolved `Location`.
    pub to: Uri,
    /// Whether scheme, host or port changed: the caller decides whether credentials follow.
    pub cross_origin: bool,
}

impl fmt::Display for Hop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.status.as_u16(), self.to)?;
        if self.cross_origin {
            f.write_str(" (cross-origin)")?;
        }
        Ok(())
    }
}

/// Why a candidate was ruled out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The name does not exist.
    NxDomain,
    /// The name has no record of this type.
    NoData,
    /// SRV target `.`: the domain says it does not offer the service (RFC 2782).
    ServiceNotOffered,
    /// SRV records were present but none had a usable target and port.
    NoUsableTarget,
    /// The lookup failed.
    DnsFailed(DnsFailure),
    /// No TXT `path` key; the well-known URI is tried instead.
    NoTxtPath,
    /// A TXT `path` value that is not a path-absolute URL path.
    InvalidTxtPath(String),
    /// The SRV target and path could not form a URL.
    InvalidUrl,
    /// This URL was already asked with this method earlier in the run.
    AlreadyTried,
    /// An HTTP status that rules the candidate out (404, 405, 5xx, ...).
    Status(StatusCode),
    /// A redirect status other than 301/302/303/307/308 (e.g. 300): no usable well-known.
    UnsupportedRedirect(StatusCode),
    /// A redirect that was not followed.
    RedirectRefused {
        /// The status of the redirect.
        status: StatusCode,
        /// The `Location` as sent (possibly shortened), if any.
        location: Option<String>,
        /// Why it was not followed.
        reason: RedirectRefusal,
    },
    /// 401: credentials are needed for this realm.
    Unauthorized {
        /// The realm of the first challenge that names one.
        realm: Option<String>,
    },
    /// The request never got an answer.
    Transport(TransportFailure),
    /// A 207 whose body could not be read as a multistatus, or was too big.
    UnreadableMultistatus(String),
    /// A 207 without a current-user-principal while no credentials were attached. Cyrus answers
    /// its root anonymously like this (QUIRKS.md #31); the URL is kept as a last resort.
    NoPrincipal,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NxDomain => f.write_str("no such name"),
            Self::NoData => f.write_str("no record of this type"),
            Self::ServiceNotOffered => f.write_str("the domain says the service is not offered"),
            Self::NoUsableTarget => f.write_str("no usable target"),
            Self::DnsFailed(why) => write!(f, "lookup {why}"),
            Self::NoTxtPath => f.write_str("no path key"),
            Self::InvalidTxtPath(path) => write!(f, "path {path:?} is not path-absolute"),
            Self::InvalidUrl => f.write_str("cannot form a URL"),
            Self::AlreadyTried => f.write_str("already tried"),
            Self::Status(status) => write!(f, "status {}", status.as_u16()),
            Self::UnsupportedRedirect(status) => {
                write!(f, "status {} is not a redirect to follow", status.as_u16())
            }
            Self::RedirectRefused {
                status,
                location,
                reason,
            } => {
                write!(f, "{} redirect", status.as_u16())?;
                if let Some(location) = location {
                    write!(f, " to {location}")?;
                }
                write!(f, " not followed: {reason}")
            }
            Self::Unauthorized { realm: Some(realm) } => {
                write!(f, "credentials needed for realm {realm:?}")
            }
            Self::Unauthorized { realm: None } => f.write_str("credentials needed"),
            Self::Transport(why) => write!(f, "{why}"),
            Self::UnreadableMultistatus(why) => write!(f, "unreadable multistatus: {why}"),
            Self::NoPrincipal => {
                f.write_str("answered without a principal (anonymous?); kept as a last resort")
            }
        }
    }
}

/// Why a redirect was not followed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedirectRefusal {
    /// No `Location` header.
    MissingLocation,
    /// A `Location` that is not an http(s) URL, or is too long.
    InvalidLocation,
    /// From https to http: never, whatever the options say.
    Downgrade,
    /// To plain http while plain http is not allowed.
    PlainHttpNotAllowed,
    /// To a URL already visited in this chain of redirects.
    Loop,
    /// More hops than [`crate::DiscoveryOptions::max_redirects`].
    TooManyHops,
}

impl fmt::Display for RedirectRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingLocation => "no Location header",
            Self::InvalidLocation => "Location is not a usable http(s) URL",
            Self::Downgrade => "https to http is never followed",
            Self::PlainHttpNotAllowed => "plain http is not allowed",
            Self::Loop => "redirect loop",
            Self::TooManyHops => "too many redirects",
        })
    }
}
