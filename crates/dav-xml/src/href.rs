//! `DAV:href` values (RFC 4918 §8.3, §14.7): URI references kept as sent, compared in a
//! canonical percent-encoded form, resolved against the request URL (RFC 3986 §5).

use std::fmt;
use std::hash::{Hash, Hasher};

use http::Uri;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::error::Error;

/// Bytes that the canonical form percent-encodes: everything except RFC 3986 unreserved
/// characters, `/`, sub-delims, `:` and `@` (the `pchar` set), so that `@` and `%40`, or a
/// space and `%20`, compare equal, while `%2F` (a slash inside a segment) stays distinct.
const CANONICAL: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A `DAV:href`: the string the server sent, unchanged, with comparison on its canonical form.
///
/// Servers disagree on percent-encoding (`@` versus `%40`, spaces, non-ASCII) and on whether an
/// href is absolute (`https://host/a/`) or path-absolute (`/a/`). An `Href` keeps what was sent
/// ([`Href::as_str`]), compares and hashes on [`Href::canonical`], and resolves against the
/// request URL ([`Href::resolve`]) when hrefs of different forms must be matched.
#[derive(Clone)]
pub struct Href(String);

impl Href {
    /// An href holding `href` exactly as given.
    #[must_use]
    pub fn new(href: impl Into<String>) -> Self {
        Self(href.into())
    }

    /// The href as sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The href as sent, by value.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }

    /// The canonical form: percent-decoded (except `%2F`), then re-encoded with a fixed set
    /// (everything but unreserved characters, sub-delims, `:`, `@` and `/`).
    ///
    /// # Example
    ///
    /// ```
    /// use dav_xml::Href;
    /// assert_eq!(Href::new("/a/b%40c d.ics").canonical(), "/a/b@c%20d.ics");
    /// assert_eq!(Href::new("/a/b@c%20d.ics"), Href::new("/a/b%40c d.ics"));
    /// ```
    #[must_use]
    pub fn canonical(&self) -> String {
        canonical(&self.0)
    }

    /// Resolves this href against `base` (the request URL) as RFC 3986 §5.2 does, in canonical
    /// encoding and with dot segments removed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHref`] when the result is not a valid URI.
    ///
    /// # Example
    ///
    /// ```
    /// use dav_xml::Href;
    /// let base: http::Uri = "https://cal.example/dav/cal/".parse().unwrap();
    /// assert_eq!(Href::new("a b.ics").resolve(&base)?, "https://cal.example/dav/cal/a%20b.ics");
    /// assert_eq!(Href::new("/x/").resolve(&base)?, "https://cal.example/x/");
    /// assert_eq!(Href::new("../y/").resolve(&base)?, "https://cal.example/dav/y/");
    /// # Ok::<(), dav_xml::Error>(())
    /// ```
    pub fn resolve(&self, base: &Uri) -> Result<Uri, Error> {
        let invalid = || Error::InvalidHref {
            href: self.0.clone(),
        };
        let href = canonical(self.0.trim());
        if has_scheme(&href) {
            return href.parse().map_err(|_| invalid());
        }
        let (authority_part, path) = if let Some(rest) = href.strip_prefix("//") {
            let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            (
                Some(authority.to_owned()),
                remove_dot_segments(if path.is_empty() { "/" } else { path }),
            )
        } else if href.starts_with('/') {
            (None, remove_dot_segments(&href))
        } else {
            let base_path = base.path();
            let dir = base_path
                .rfind('/')
                .map_or("/", |i| base_path.get(..=i).unwrap_or("/"));
            (None, remove_dot_segments(&format!("{dir}{href}")))
        };
        let mut builder = Uri::builder();
        if let Some(scheme) = base.scheme() {
            builder = builder.scheme(scheme.clone());
        }
        match (authority_part, base.authority()) {
            (Some(authority), _) => builder = builder.authority(authority),
            (None, Some(authority)) => builder = builder.authority(authority.clone()),
            (None, None) => {}
        }
        builder.path_and_query(path).build().map_err(|_| invalid())
    }

    /// The path-absolute form to send in a request (`/a/b.ics`): the canonical path of
    /// [`Href::resolve`] against `base`.
    ///
    /// # Errors
    ///
    /// As [`Href::resolve`].
    pub fn path(&self, base: &Uri) -> Result<String, Error> {
        Ok(self.resolve(base)?.path().to_owned())
    }
}

fn has_scheme(href: &str) -> bool {
    let Some((scheme, _)) = href.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn canonical(href: &str) -> String {
    // `%2F` must survive decoding: split on it, canonicalise the pieces, join them again.
    let mut out = String::with_capacity(href.len());
    let mut rest = href;
    loop {
        let split = find_encoded_slash(rest);
        let (piece, tail) = match split {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i + 3..)),
            None => (rest, None),
        };
        let decoded: Vec<u8> = percent_decode_str(piece).collect();
        out.extend(percent_encoding::percent_encode(&decoded, CANONICAL));
        match tail {
            Some(tail) => {
                out.push_str("%2F");
                rest = tail;
            }
            None => break,
        }
    }
    out
}

fn find_encoded_slash(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    memchr::memchr_iter(b'%', bytes)
        .find(|&i| matches!(bytes.get(i + 1..i + 3), Some([b'2', b'f' | b'F'])))
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

/// Percent-encodes a raw (decoded) path for use as an href: the result is in canonical form.
#[must_use]
pub fn encode_path(path: &str) -> Href {
    Href(utf8_percent_encode(path, CANONICAL).to_string())
}

impl PartialEq for Href {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || self.canonical() == other.canonical()
    }
}

impl Eq for Href {}

impl Hash for Href {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical().hash(state);
    }
}

impl fmt::Display for Href {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Href {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Href({:?})", self.0)
    }
}

impl AsRef<str> for Href {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Href {
    fn from(href: String) -> Self {
        Self(href)
    }
}

impl From<&str> for Href {
    fn from(href: &str) -> Self {
        Self(href.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percent_encoding_variants_compare_equal() {
        assert_eq!(
            Href::new("/dav/tobias%40redpill-linpro.com/"),
            Href::new("/dav/tobias@redpill-linpro.com/")
        );
        assert_eq!(
            Href::new("/a/Emailed%20Contacts/"),
            Href::new("/a/Emailed Contacts/")
        );
        assert_eq!(Href::new("/a/%C3%A9t%C3%A9.ics"), Href::new("/a/été.ics"));
        assert_eq!(Href::new("/a/%c3%a9"), Href::new("/a/%C3%A9"));
        assert_ne!(Href::new("/a%2Fb"), Href::new("/a/b"));
        assert_ne!(Href::new("/a/%2540"), Href::new("/a/%40"));
        assert_ne!(Href::new("/a+b"), Href::new("/a b"));
    }

    #[test]
    fn resolves_like_rfc3986() {
        let base: Uri = "http://a/b/c/d;p?q".parse().unwrap();
        for (href, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g/x", "http://g/x"),
            ("..", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("https://other.example/x", "https://other.example/x"),
        ] {
            assert_eq!(
                Href::new(href).resolve(&base).unwrap().to_string(),
                want,
                "{href}"
            );
        }
    }

    #[test]
    fn resolve_against_path_only_base() {
        let base: Uri = "/calendars/user/".parse().unwrap();
        assert_eq!(
            Href::new("x.ics").resolve(&base).unwrap(),
            "/calendars/user/x.ics"
        );
    }

    proptest! {
        #[test]
        fn canonical_is_idempotent_and_decodes_to_the_same_bytes(s in "[ -~\u{e9}\u{2603}]{0,24}") {
            let once = canonical(&s);
            prop_assert_eq!(canonical(&once), once.clone());
            prop_assert!(once.is_ascii());
            prop_assert_eq!(Href::new(s.clone()), Href::new(once));
        }

        #[test]
        fn encoded_paths_equal_their_raw_form(s in "/[a-z@ +\u{e9}]{0,12}") {
            prop_assert_eq!(encode_path(&s), Href::new(s.clone()));
        }
    }
}
