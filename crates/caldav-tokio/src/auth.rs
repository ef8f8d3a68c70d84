//! HTTP authentication: Basic (RFC 7617), Digest (RFC 7616) and Bearer (RFC 6750) credentials,
//! and the `WWW-Authenticate` challenges of RFC 9110 §11.6.1 they answer.
//!
//! ```text
//! challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param  = token BWS "=" BWS ( token / quoted-string )
//! ```
//!
//! Digest follows RFC 7616 §3.4.1:
//!
//! ```text
//! response = <"> < KD ( H(A1), unq(nonce) ":" nc ":" unq(cnonce) ":" unq(qop) ":" H(A2) ) <">
//! A1       = unq(username) ":" unq(realm) ":" passwd
//! A2       = Method ":" request-uri                       (qop "auth")
//! A2       = Method ":" request-uri ":" H(entity-body)    (qop "auth-int")
//! ```

use std::fmt;
use std::fmt::Write as _;

use base64::Engine as _;
use md5::Digest as _;

/// Credentials the caller supplies for one account.
///
/// They are attached only to requests for the account's origin (see
/// [`crate::HttpConfig::credential_origins`]) and never over plain `http` unless the caller
/// allowed it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A user name and password, answered with Basic or Digest as the server asks.
    Password {
        /// The user name.
        user: String,
        /// The password.
        password: String,
        /// Send Basic on the first request, before any challenge (default): some servers (Cyrus
        /// on `/dav/`) answer anonymous requests with less instead of asking for credentials.
        preemptive_basic: bool,
    },
    /// An OAuth 2.0 bearer token (RFC 6750), sent on every request.
    Bearer {
        /// The token.
        token: String,
    },
}

impl Credentials {
    /// A user name and password, sent as Basic before any challenge, Digest when asked.
    #[must_use]
    pub fn password(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Password {
            user: user.into(),
            password: password.into(),
            preemptive_basic: true,
        }
    }

    /// A user name and password sent only in answer to a challenge (Digest preferred).
    #[must_use]
    pub fn password_on_challenge(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Password {
            user: user.into(),
            password: password.into(),
            preemptive_basic: false,
        }
    }

    /// A bearer token.
    #[must_use]
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::Bearer {
            token: token.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    // Secrets stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password {
                user,
                preemptive_basic,
                ..
            } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"<redacted>")
                .field("preemptive_basic", preemptive_basic)
                .finish(),
            Self::Bearer { .. } => f
                .debug_struct("Bearer")
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

/// The `Authorization` value for Basic (RFC 7617 §2): base64 of `user:password` in UTF-8.
pub(crate) fn basic(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// One challenge of a `WWW-Authenticate` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// The scheme, lowercase.
    pub(crate) scheme: String,
    /// Its parameters, names lowercase, values unquoted.
    pub(crate) params: Vec<(String, String)>,
}

impl Challenge {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses the challenges of one or more `WWW-Authenticate` field values. Malformed parts are
/// skipped: a server's odd challenge must not stop the others from being read.
pub(crate) fn parse_challenges<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in values {
        parse_value(value, &mut out);
    }
    out
}

fn parse_value(value: &str, out: &mut Vec<Challenge>) {
    let mut rest = value;
    let mut current: Option<Challenge> = None;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let end = rest.find(|c: char| !is_tchar(c)).unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        if token.is_empty() {
            // Not a token: skip one character and resynchronize.
            let mut chars = rest.chars();
            chars.next();
            rest = chars.as_str();
            continue;
        }
        let after_ws = after.trim_start_matches([' ', '\t']);
        if let Some(value_part) = after_ws.strip_prefix('=') {
            let value_part = value_part.trim_start_matches([' ', '\t']);
            let (val, remaining) = if let Some(q) = value_part.strip_prefix('"') {
                quoted(q)
            } else if value_part.starts_with([',', ' ', '\t']) || value_part.is_empty() {
                // token68 padding such as `abc==`: keep it as a parameter-less value.
                (String::new(), value_part)
            } else {
                let e = value_part
                    .find(|c: char| !is_tchar(c) && c != '/')
                    .unwrap_or(value_part.len());
                let (v, r) = value_part.split_at(e);
                (v.to_owned(), r)
            };
            if let Some(c) = current.as_mut() {
                c.params.push((token.to_ascii_lowercase(), val));
            }
            rest = remaining;
        } else {
            if let Some(c) = current.take() {
                out.push(c);
            }
            current = Some(Challenge {
                scheme: token.to_ascii_lowercase(),
                params: Vec::new(),
            });
            rest = after;
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
}

/// Reads a quoted-string body (after the opening quote); returns the unescaped value and the
/// rest after the closing quote.
fn quoted(s: &str) -> (String, &str) {
    let mut val = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (val, s.get(i + 1..).unwrap_or("")),
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    val.push(n);
                }
            }
            other => val.push(other),
        }
    }
    (val, "")
}

/// A Digest hash algorithm of RFC 7616 §3.2.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum DigestAlgorithm {
    Md5,
    Sha256,
    Sha512_256,
}

impl DigestAlgorithm {
    fn parse(name: &str) -> Option<(Self, bool)> {
        let upper = name.to_ascii_uppercase();
        let (base, sess) = match upper.strip_suffix("-SESS") {
            Some(b) => (b.to_owned(), true),
            None => (upper, false),
        };
        let alg = match base.as_str() {
            "MD5" => Self::Md5,
            "SHA-256" => Self::Sha256,
            "SHA-512-256" => Self::Sha512_256,
            _ => return None,
        };
        Some((alg, sess))
    }

    fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
            Self::Sha512_256 => "SHA-512-256",
        }
    }

    fn strength(self) -> u8 {
        match self {
            Self::Md5 => 0,
            Self::Sha256 => 1,
            Self::Sha512_256 => 2,
        }
    }

    fn hash(self, data: &[u8]) -> String {
        let bytes: Vec<u8> = match self {
            Self::Md5 => md5::Md5::digest(data).to_vec(),
            Self::Sha256 => ring::digest::digest(&ring::digest::SHA256, data)
                .as_ref()
                .to_vec(),
            Self::Sha512_256 => ring::digest::digest(&ring::digest::SHA512_256, data)
                .as_ref()
                .to_vec(),
        };
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

/// The state of a Digest session with one server: its last challenge and our nonce count.
#[derive(Clone, Debug)]
pub(crate) struct DigestSession {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    algorithm: DigestAlgorithm,
    sess: bool,
    /// `Some("auth")`, `Some("auth-int")`, or `None` for RFC 2069 servers.
    qop: Option<&'static str>,
    userhash: bool,
    nc: u32,
}

impl DigestSession {
    /// The best Digest challenge among `challenges` that we can answer.
    pub(crate) fn from_challenges(challenges: &[Challenge]) -> Option<Self> {
        challenges
            .iter()
            .filter(|c| c.scheme == "digest")
            .filter_map(Self::from_challenge)
            .max_by_key(|s| s.algorithm.strength())
    }

    fn from_challenge(c: &Challenge) -> Option<Self> {
        let (algorithm, sess) = match c.param("algorithm") {
            Some(a) => DigestAlgorithm::parse(a)?,
            None => (DigestAlgorithm::Md5, false),
        };
        let qop = match c.param("qop") {
            None => None,
            Some(list) => {
                let opts: Vec<&str> = list.split(',').map(str::trim).collect();
                if opts.iter().any(|o| o.eq_ignore_ascii_case("auth")) {
                    Some("auth")
                } else if opts.iter().any(|o| o.eq_ignore_ascii_case("auth-int")) {
                    Some("auth-int")
                } else {
                    return None;
                }
            }
        };
        Some(Self {
            realm: c.param("realm").unwrap_or("").to_owned(),
            nonce: c.param("nonce")?.to_owned(),
            opaque: c.param("opaque").map(str::to_owned),
            algorithm,
            sess,
            qop,
            userhash: c
                .param("userhash")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            nc: 0,
        })
    }

    /// Whether a new challenge says only that our nonce went stale (RFC 7616 §3.3).
    pub(crate) fn is_stale(challenges: &[Challenge]) -> bool {
        challenges.iter().any(|c| {
            c.scheme == "digest"
                && c.param("stale")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        })
    }

    /// How many requests this session's nonce has answered.
    pub(crate) fn uses(&self) -> u32 {
        self.nc
    }

    /// The `Authorization` value for one request; advances the nonce count.
    pub(crate) fn authorize(
        &mut self,
        user: &str,
        password: &str,
        method: &str,
        uri: &str,
        body: &[u8],
        cnonce: &str,
    ) -> String {
        self.nc = self.nc.wrapping_add(1);
        let nc = format!("{:08x}", self.nc);
        let h = |s: &str| self.algorithm.hash(s.as_bytes());
        let mut ha1 = h(&format!("{user}:{}:{password}", self.realm));
        if self.sess {
            ha1 = h(&format!("{ha1}:{}:{cnonce}", self.nonce));
        }
        let ha2 = match self.qop {
            Some("auth-int") => h(&format!("{method}:{uri}:{}", self.algorithm.hash(body))),
            _ => h(&format!("{method}:{uri}")),
        };
        let response = match self.qop {
            Some(qop) => h(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", self.nonce)),
            None => h(&format!("{ha1}:{}:{ha2}", self.nonce)),
        };
        let username = if self.userhash {
            h(&format!("{user}:{}", self.realm))
        } else {
            user.to_owned()
        };
        let mut out = format!(
            "Digest username={}, realm={}, uri={}, algorithm={}{}, nonce={}",
            quote(&username),
            quote(&self.realm),
            quote(uri),
            self.algorithm.name(),
            if self.sess { "-sess" } else { "" },
            quote(&self.nonce),
        );
        if let Some(qop) = self.qop {
            let _ = write!(out, ", nc={nc}, cnonce={}, qop={qop}", quote(cnonce));
        }
        let _ = write!(out, ", response={}", quote(&response));
        if let Some(opaque) = &self.opaque {
            let _ = write!(out, ", opaque={}", quote(opaque));
        }
        if self.userhash {
            out.push_str(", userhash=true");
        }
        out
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A fresh client nonce: 16 random bytes, base64.
pub(crate) fn cnonce() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    // A failing system RNG leaves zeros; the nonce count still makes each response unique.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7616 §3.9.1: the same request answered with SHA-256 and with MD5.
    const RFC7616_CHALLENGE: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    const RFC7616_CHALLENGE_MD5: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    #[test]
    fn rfc7616_sha256_example() {
        let ch = parse_challenges([RFC7616_CHALLENGE, RFC7616_CHALLENGE_MD5]);
        assert_eq!(ch.len(), 2);
        let mut s = DigestSession::from_challenges(&ch).unwrap();
        assert_eq!(s.algorithm, DigestAlgorithm::Sha256);
        let v = s.authorize(
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            b"",
            CNONCE,
        );
        assert!(
            v.contains(
                r#"response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1""#
            ),
            "{v}"
        );
        assert!(v.contains("nc=00000001"), "{v}");
        assert!(v.contains(r#"opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#));
    }

    #[test]
    fn rfc7616_md5_example() {
        let ch = parse_challenges([RFC7616_CHALLENGE_MD5]);
        let mut s = DigestSession::from_challenges(&ch).unwrap();
        let v = s.authorize(
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            b"",
            CNONCE,
        );
        assert!(
            v.contains(r#"response="8ca523f5e9506fed4657c9700eebdbec""#),
            "{v}"
        );
    }

    #[test]
    fn nonce_count_advances() {
        let ch = parse_challenges([RFC7616_CHALLENGE_MD5]);
        let mut s = DigestSession::from_challenges(&ch).unwrap();
        let _ = s.authorize("u", "p", "GET", "/", b"", CNONCE);
        let v = s.authorize("u", "p", "GET", "/", b"", CNONCE);
        assert!(v.contains("nc=00000002"), "{v}");
    }

    #[test]
    fn several_challenges_in_one_field() {
        let ch = parse_challenges([
            r#"Basic realm="SabreDAV", Digest realm="x", nonce="a,b", qop="auth", Bearer"#,
        ]);
        let schemes: Vec<&str> = ch.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "digest", "bearer"]);
        assert_eq!(ch[1].param("nonce"), Some("a,b"));
        assert_eq!(ch[0].param("realm"), Some("SabreDAV"));
    }

    #[test]
    fn stale_is_seen() {
        let ch = parse_challenges([r#"Digest realm="x", nonce="n", stale=true"#]);
        assert!(DigestSession::is_stale(&ch));
    }

    #[test]
    fn unknown_algorithm_is_not_answered() {
        let ch = parse_challenges([r#"Digest realm="x", nonce="n", algorithm=SHA-1"#]);
        assert!(DigestSession::from_challenges(&ch).is_none());
    }

    #[test]
    fn basic_is_rfc7617() {
        // RFC 7617 §2 example.
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let d = format!("{:?}", Credentials::password("alice", "hunter2"));
        assert!(!d.contains("hunter2"));
        let d = format!("{:?}", Credentials::bearer("tok123"));
        assert!(!d.contains("tok123"));
    }

    proptest::proptest! {
        #[test]
        fn challenge_parser_never_panics(s in ".{0,200}") {
            let _ = parse_challenges([s.as_str()]);
        }
    }
}
