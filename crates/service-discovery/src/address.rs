//! What the user typed: an email-style user address, a bare domain, or a URL.
//!
//! RFC 6764 §6 step 1: "the client extracts the domain portion of the user identifier". A
//! `user@domain` address gives its domain; a bare domain is used as is; an `http`/`https` URL is
//! tried first as the context path itself, and its origin is searched after it. A `host:port` or
//! `host/path` without a scheme is read as an `https` URL.

use std::fmt;

use http::Uri;

use crate::Error;
use crate::dns::normalize_host;
use crate::uri::parse_absolute;

/// The longest input accepted, in bytes.
const MAX_INPUT: usize = 2048;

/// A parsed user input: where discovery starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Address {
    /// `local@domain`: the domain is searched, the local part is the caller's business.
    Email {
        /// The part before the last `@`, as typed.
        local: String,
        /// The domain, lowercase.
        domain: String,
    },
    /// A bare domain, lowercase.
    Domain(String),
    /// An http or https URL, tried first.
    Url(Uri),
}

impl Address {
    /// Reads what a user typed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAddress`] with the byte offset of the problem when the input is empty, too
    /// long, has an unusable domain, or is a URL of another scheme than http/https.
    ///
    /// # Panics
    ///
    /// Never.
    ///
    /// # Example
    ///
    /// ```
    /// use service_discovery::Address;
    ///
    /// let a = Address::parse("ken@Example.com").unwrap();
    /// assert_eq!(a.domain(), Some("example.com"));
    /// ```
    pub fn parse(input: &str) -> Result<Self, Error> {
        let invalid =
            |offset: usize, reason: &'static str| Error::InvalidAddress { offset, reason };
        let lead = input.len() - input.trim_start().len();
        let text = input.trim();
        if text.is_empty() {
            return Err(invalid(0, "empty address"));
        }
        if text.len() > MAX_INPUT {
            return Err(invalid(MAX_INPUT, "address too long"));
        }
        if let Some(scheme_end) = text.find("://") {
            let scheme = text.get(..scheme_end).unwrap_or_default();
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                return Err(invalid(lead, "only http and https URLs can be discovered"));
            }
            return parse_absolute(text)
                .map(Self::Url)
                .ok_or(invalid(lead, "not a usable http(s) URL"));
        }
        if text.contains('/') || text.contains(':') {
            let at = text.find('@');
            let slash = text.find('/');
            // A `user@host/path` is a URL with userinfo, which credentials-free discovery refuses.
            if at.is_some_and(|a| slash.is_none_or(|s| a < s)) {
                return Err(invalid(lead, "credentials do not belong in the address"));
            }
            return parse_absolute(&format!("https://{text}"))
                .map(Self::Url)
                .ok_or(invalid(lead, "not a usable host, port or path"));
        }
        if let Some(at) = text.rfind('@') {
            let local = text.get(..at).unwrap_or_default();
            let domain = text.get(at + 1..).unwrap_or_default();
            if local.is_empty() {
                return Err(invalid(lead, "empty user part before @"));
            }
            let domain = normalize_host(domain)
                .ok_or(invalid(lead + at + 1, "not a usable domain after @"))?;
            return Ok(Self::Email {
                local: local.to_owned(),
                domain,
            });
        }
        normalize_host(text)
            .map(Self::Domain)
            .ok_or(invalid(lead, "not a usable domain"))
    }

    /// The domain searched with DNS, if this input has one (a URL is not searched in DNS).
    #[must_use]
    pub fn domain(&self) -> Option<&str> {
        match self {
            Self::Email { domain, .. } | Self::Domain(domain) => Some(domain),
            Self::Url(_) => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Email { local, domain } => write!(f, "{local}@{domain}"),
            Self::Domain(domain) => f.write_str(domain),
            Self::Url(url) => write!(f, "{url}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_told_apart() {
        assert_eq!(
            Address::parse(" ken@Example.COM ").unwrap(),
            Address::Email {
                local: "ken".into(),
                domain: "example.com".into()
            }
        );
        assert_eq!(
            Address::parse("example.com.").unwrap(),
            Address::Domain("example.com".into())
        );
        assert_eq!(
            Address::parse("cal.example.com:8443").unwrap(),
            Address::Url(Uri::from_static("https://cal.example.com:8443/"))
        );
        assert_eq!(
            Address::parse("http://cal.example.com/dav/").unwrap(),
            Address::Url(Uri::from_static("http://cal.example.com/dav/"))
        );
    }

    #[test]
    fn ip_literals_and_ports_survive_canonicalisation() {
        for (input, expected) in [
            ("https://[::1]:8443/dav/", "https://[::1]:8443/dav/"),
            ("http://127.0.0.1:5232", "http://127.0.0.1:5232/"),
            (
                "HTTPS://Cal.Example.COM:443/Dav/",
                "https://cal.example.com/Dav/",
            ),
        ] {
            match Address::parse(input).unwrap() {
                Address::Url(url) => assert_eq!(url.to_string(), expected),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn bad_inputs_say_where() {
        let err = Address::parse("ken@exa mple.com").unwrap_err();
        assert!(
            matches!(err, Error::InvalidAddress { offset: 4, .. }),
            "{err:?}"
        );
        assert!(Address::parse("").is_err());
        assert!(Address::parse("ftp://example.com").is_err());
        assert!(Address::parse("@example.com").is_err());
        assert!(Address::parse("ken:pw@example.com/dav").is_err());
        assert!(Address::parse(&"a".repeat(5000)).is_err());
    }
}
