//! URI handling for redirects and hrefs: RFC 3986 §5.2 reference resolution and origins.
//!
//! A `Location` header (RFC 9110 §10.2.2) and a `DAV:href` may be relative; both are resolved
//! against the URL of the request that produced them. Only `http` and `https` URLs with an
//! authority are ever produced, and fragments are dropped (they never reach a server).

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};

/// The (scheme, host, port) triple of RFC 6454 §4, used to report cross-origin redirects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

/// The origin of an absolute http(s) URL, or `None` for anything else.
pub(crate) fn origin(uri: &Uri) -> Option<Origin> {
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let host = uri.host()?.to_ascii_lowercase();
    Some(Origin {
        scheme,
        host,
        port: uri.port_u16().unwrap_or(default),
    })
}

/// Whether `uri` uses TLS.
pub(crate) fn is_https(uri: &Uri) -> bool {
    uri.scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("https"))
}

/// Builds `scheme://host[:port]path`, leaving out the scheme's default port.
pub(crate) fn build(https: bool, host: &str, port: u16, path: &str) -> Option<Uri> {
    let default = if https { 443 } else { 80 };
    let authority = if port == default {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    };
    assemble(
        if https { Scheme::HTTPS } else { Scheme::HTTP },
        Authority::try_from(authority.as_str()).ok()?,
        path,
    )
}

/// The same origin as `base` with another path (and query).
pub(crate) fn with_path(base: &Uri, path: &str) -> Option<Uri> {
    assemble(base.scheme()?.clone(), base.authority()?.clone(), path)
}

fn assemble(scheme: Scheme, authority: Authority, path_and_query: &str) -> Option<Uri> {
    let pq = PathAndQuery::try_from(if path_and_query.is_empty() {
        "/"
    } else {
        path_and_query
    })
    .ok()?;
    Uri::builder()
        .scheme(scheme)
        .authority(authority)
        .path_and_query(pq)
        .build()
        .ok()
}

/// Parses an absolute http(s) URL with an authority; the path defaults to `/`.
pub(crate) fn parse_absolute(text: &str) -> Option<Uri> {
    let uri = Uri::try_from(text).ok()?;
    origin(&uri)?;
    let pq = uri.path_and_query().map_or("/", PathAndQuery::as_str);
    let pq = if pq.is_empty() { "/" } else { pq };
    if !pq.starts_with('/') {
        return None;
    }
    let authority = uri.authority()?;
    // Userinfo never belongs in a URL the machine sends (credentials are the adapter's).
    if authority.as_str().contains('@') {
        return None;
    }
    // Canonical host and port, so that loops and repeats are recognised (RFC 3986 §6.2.3).
    let https = is_https(&uri);
    build(
        https,
        &authority.host().to_ascii_lowercase(),
        authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
        pq,
    )
}

/// Resolves `reference` against `base` (RFC 3986 §5.2.2). `None` when the result would not be
/// an absolute http(s) URL.
pub(crate) fn resolve(base: &Uri, reference: &str) -> Option<Uri> {
    let reference = reference.trim();
    let reference = reference.split('#').next().unwrap_or_default();
    if has_scheme(reference) {
        return parse_absolute(reference);
    }
    if let Some(rest) = reference.strip_prefix("//") {
        return parse_absolute(&format!("{}://{rest}", base.scheme_str()?));
    }
    let (ref_path, ref_query) = match reference.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (reference, None),
    };
    let base_path = base.path();
    let path = if ref_path.is_empty() {
        base_path.to_owned()
    } else if ref_path.starts_with('/') {
        remove_dot_segments(ref_path)
    } else {
        let dir = match base_path.rfind('/') {
            Some(i) => base_path.get(..=i).unwrap_or("/"),
            None => "/",
        };
        remove_dot_segments(&format!("{dir}{ref_path}"))
    };
    let query = match (ref_query, ref_path.is_empty()) {
        (Some(q), _) => Some(q),
        (None, true) => base.query(),
        (None, false) => None,
    };
    let pq = match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    with_path(base, &pq)
}

fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let scheme = reference.get(..colon).unwrap_or_default();
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// RFC 3986 §5.2.4 on a path-absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut segments = path.split('/').skip(1).peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    let mut result = String::with_capacity(path.len());
    for segment in &out {
        result.push('/');
        result.push_str(segment);
    }
    if result.is_empty() {
        result.push('/');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Uri {
        Uri::from_static("https://cal.example.com/a/b/c?x=1")
    }

    #[test]
    fn rfc3986_examples_that_apply_to_http() {
        let cases = [
            ("g", "https://cal.example.com/a/b/g"),
            ("./g", "https://cal.example.com/a/b/g"),
            ("g/", "https://cal.example.com/a/b/g/"),
            ("/g", "https://cal.example.com/g"),
            ("//other.example/g", "https://other.example/g"),
            ("?y", "https://cal.example.com/a/b/c?y"),
            ("g?y", "https://cal.example.com/a/b/g?y"),
            ("#s", "https://cal.example.com/a/b/c?x=1"),
            ("", "https://cal.example.com/a/b/c?x=1"),
            (".", "https://cal.example.com/a/b/"),
            ("..", "https://cal.example.com/a/"),
            ("../g", "https://cal.example.com/a/g"),
            ("../../../g", "https://cal.example.com/g"),
            ("/./g", "https://cal.example.com/g"),
            ("http://plain.example:8080", "http://plain.example:8080/"),
        ];
        for (reference, expected) in cases {
            let got = resolve(&base(), reference).map(|u| u.to_string());
            assert_eq!(got.as_deref(), Some(expected), "reference {reference:?}");
        }
    }

    #[test]
    fn non_http_targets_are_refused() {
        assert_eq!(resolve(&base(), "mailto:ken@example.com"), None);
        assert_eq!(resolve(&base(), "ftp://example.com/"), None);
        assert_eq!(resolve(&base(), "https://user:pw@example.com/"), None);
        assert_eq!(resolve(&base(), "/a b"), None);
    }

    proptest::proptest! {
        #[test]
        fn resolution_yields_canonical_http_urls_or_nothing(reference in "[ -~]{0,40}") {
            if let Some(url) = resolve(&base(), &reference) {
                proptest::prop_assert!(origin(&url).is_some());
                proptest::prop_assert!(url.path().starts_with('/'));
                // Resolving a result against anything gives it back: it is absolute and final.
                let again = resolve(&Uri::from_static("https://x.example/"), &url.to_string());
                proptest::prop_assert_eq!(again, Some(url.clone()));
                proptest::prop_assert!(!url.path().split('/').any(|s| s == ".." || s == "."));
            }
        }
    }

    #[test]
    fn origins_fill_in_default_ports() {
        let a = origin(&Uri::from_static("https://Example.com/x")).unwrap();
        let b = origin(&Uri::from_static("https://example.com:443/y")).unwrap();
        let c = origin(&Uri::from_static("http://example.com/y")).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn build_leaves_out_default_port() {
        assert_eq!(
            build(true, "cal.example.com", 443, "/.well-known/caldav")
                .unwrap()
                .to_string(),
            "https://cal.example.com/.well-known/caldav"
        );
        assert_eq!(
            build(false, "cal.example.com", 8008, "/")
                .unwrap()
                .to_string(),
            "http://cal.example.com:8008/"
        );
    }
}
