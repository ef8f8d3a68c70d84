//! The HTTP client: hyper-util's pooled client over rustls, HTTP/1.1 keep-alive and HTTP/2 by
//! ALPN (RFC 7301), content decoding, timeouts, `Retry-After`, authentication, and the
//! credential rules of RFC 9110 §11.
//!
//! Responses come back whole, as `http::Response<Bytes>`, the seam every machine of the project
//! takes. Interim `1xx` responses (RFC 9110 §15.2, such as `102 Processing`) never reach the
//! caller: hyper reads past them to the final status.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use crate::auth::{self, Credentials, DigestSession};
use crate::connect::{ConnectError, PeerAddr, Stage, TcpConnector};
use crate::content_coding::{self, Compression, DecodeError};
use crate::dns::Resolver;
use crate::record::Recorder;
use crate::retry::{self, RetryPolicy};
use crate::{Error, Target};

/// The scheme, host and port of a URL (RFC 6454): credentials are bound to one or more of these.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` or `https`, lowercase.
    pub scheme: String,
    /// The host, lowercase (an IPv6 literal keeps its brackets).
    pub host: String,
    /// The port, the scheme's default when the URL has none.
    pub port: u16,
}

impl Origin {
    /// The origin of an absolute `http` or `https` URL.
    #[must_use]
    pub fn of(uri: &Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        Some(Self {
            host: uri.host()?.to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(default),
            scheme,
        })
    }

    /// The origin of a URL given as text.
    #[must_use]
    pub fn parse(url: &str) -> Option<Self> {
        Self::of(&url.parse::<Uri>().ok()?)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// What arrived on the wire for one response, before decoding: put in the response's
/// extensions by [`HttpClient::send`], for byte counts and for recordings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// Body bytes as received, before content decoding.
    pub wire_bytes: usize,
    /// The content codings that were decoded (empty when the body came as is).
    pub codings: Vec<String>,
    /// How many exchanges this answer took (authentication, retries and redirects count).
    pub exchanges: u32,
    /// The address the connection that carried the answer went to, when known.
    pub peer: Option<SocketAddr>,
}

/// How one account's [`HttpClient`] behaves. Start from [`HttpConfig::default`] and change
/// what differs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpConfig {
    /// The account's credentials, if any.
    pub credentials: Option<Credentials>,
    /// The origins credentials may be sent to. Empty (the default) means: the origin of the
    /// first request that would carry them, and no other.
    pub credential_origins: Vec<Origin>,
    /// Send credentials over plain `http` (default `false`: such a request fails with
    /// [`Error::InsecureCredentials`]).
    pub allow_plain_http_credentials: bool,
    /// Trust webpki's bundled roots (default `true`).
    pub webpki_roots: bool,
    /// Extra trusted CA certificates, for self-hosted servers.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Offer HTTP/2 by ALPN on `https` (default `true`); turn off for servers behind proxies
    /// that break with multiplexing.
    pub http2: bool,
    /// The longest one exchange (connect, send, whole response) may take (default 60 s).
    pub request_timeout: Duration,
    /// The longest one TCP connect may take, per address (default 10 s).
    pub connect_timeout: Duration,
    /// Retries of 429 and 503 answers that carry `Retry-After`, and of safe requests answered
    /// with a transient server error.
    pub retry: RetryPolicy,
    /// The largest response body accepted, both as received and after decoding
    /// (default 256 MiB). A request may lower it for its own answer with a
    /// [`caldav_client_core::ResponseLimit`] in its extensions (a first sync's one answer
    /// does): reading stops there with [`Error::BodyTooLarge`].
    pub max_response_bytes: usize,
    /// When to ask for gzip and deflate responses (default [`Compression::Auto`]: everywhere
    /// but on loopback, where compressing costs the server CPU and saves no time).
    pub compression: Compression,
    /// Re-arm `TCP_QUICKACK` before every read where the OS has it (default `true`).
    pub tcp_quickack: bool,
    /// How many redirects the client follows itself (default 0: machines follow their own).
    pub follow_redirects: u8,
    /// The resolver for host names; `None` uses the system's `getaddrinfo`.
    pub resolver: Option<Resolver>,
    /// The `User-Agent` sent when a request has none.
    pub user_agent: Option<String>,
    /// Where every exchange is recorded, if anywhere.
    pub recorder: Option<Recorder>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            credentials: None,
            credential_origins: Vec::new(),
            allow_plain_http_credentials: false,
            webpki_roots: true,
            extra_roots: Vec::new(),
            http2: true,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            max_response_bytes: 256 << 20,
            compression: Compression::Auto,
            tcp_quickack: true,
            follow_redirects: 0,
            resolver: None,
            user_agent: Some(concat!("caldav-tokio/", env!("CARGO_PKG_VERSION")).to_owned()),
            recorder: None,
        }
    }
}

impl HttpConfig {
    /// Also trust the CA certificates in `pem`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `pem` holds no certificate or a malformed one.
    pub fn trust_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let mut found = 0usize;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| Error::Config {
                reason: format!("ca pem: {e}"),
            })?;
            self.extra_roots.push(cert);
            found += 1;
        }
        if found == 0 {
            return Err(Error::Config {
                reason: "ca pem: no certificate".to_owned(),
            });
        }
        Ok(self)
    }

    /// Use `credentials`.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Resolve host names with `resolver`.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }
}

/// One account's HTTP client: a pool of connections, its TLS trust, its credentials.
///
/// Cheap to clone; clones share the pool and the authentication state.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client<HttpsConnector<TcpConnector>, Full<Bytes>>,
    config: HttpConfig,
    /// The origin credentials are bound to when the caller named none.
    home: Mutex<Option<Origin>>,
    /// The Digest session of the origin that challenged us.
    digest: Mutex<Option<(Origin, DigestSession)>>,
    /// The address the last connection to each origin reached: [`Compression::Auto`] looks
    /// at it for names that resolve to loopback.
    peers: Mutex<HashMap<Origin, IpAddr>>,
}

/// What the client learnt from a 401.
enum AuthRetry {
    Basic,
    Digest,
}

impl HttpClient {
    /// A client for `config`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the TLS configuration cannot be built.
    pub fn new(config: HttpConfig) -> Result<Self, Error> {
        let mut roots = rustls::RootCertStore::empty();
        if config.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in &config.extra_roots {
            roots.add(cert.clone()).map_err(|e| Error::Config {
                reason: format!("extra root: {e}"),
            })?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config {
            reason: format!("tls: {e}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = TcpConnector {
            resolver: config.resolver.clone(),
            connect_timeout: config.connect_timeout,
            quickack: config.tcp_quickack,
        };
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1();
        let connector = if config.http2 {
            builder.enable_http2().wrap_connector(tcp)
        } else {
            builder.wrap_connector(tcp)
        };
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                config,
                home: Mutex::new(None),
                digest: Mutex::new(None),
                peers: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configuration this client was made with.
    #[must_use]
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// Sends `request` and returns the whole final response, its body decoded.
    ///
    /// Authentication, `Retry-After` waits, one repeat of a safe request after a transient 5xx
    /// (see [`RetryPolicy`]) and (when configured) redirects happen inside; any
    /// status, 4xx and 5xx included, is a response, not an error.
    ///
    /// # Errors
    ///
    /// An [`Error`] naming the request and the layer that failed: DNS, connect, TLS, timeout,
    /// HTTP protocol, body size or decoding, or credentials refused over plain `http`.
    pub async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        let target = Target::of(&request);
        let (parts, body) = request.into_parts();
        let limit = response_limit(&parts.extensions, self.inner.config.max_response_bytes);
        let mut method = parts.method;
        let mut uri = parts.uri;
        let mut headers = parts.headers;
        let mut body = body;
        let first_origin = Origin::of(&uri).ok_or_else(|| Error::InvalidRequest {
            target: target.clone(),
            reason: "url is not an absolute http or https url".to_owned(),
        })?;
        let mut origin = first_origin.clone();
        let mut retries = 0u32;
        let mut server_error_retries = 0u32;
        let mut redirects = 0u8;
        let mut auth_retry: Option<AuthRetry> = None;
        let mut auth_retried = false;
        let mut exchanges = 0u32;
        loop {
            exchanges += 1;
            let hop_target = Target::new(method.clone(), uri.to_string());
            let creds = self.credentials_for(&origin);
            if creds.is_some()
                && origin.scheme == "http"
                && !self.inner.config.allow_plain_http_credentials
            {
                return Err(Error::InsecureCredentials { target: hop_target });
            }
            let mut req = Request::builder()
                .method(method.clone())
                .uri(uri.clone())
                .body(body.clone())
                .map_err(|e| Error::InvalidRequest {
                    target: hop_target.clone(),
                    reason: e.to_string(),
                })?;
            *req.headers_mut() = headers.clone();
            self.decorate(&mut req, &origin);
            if let Some(creds) = creds
                && !req.headers().contains_key(header::AUTHORIZATION)
                && let Some(value) =
                    self.authorization(creds, &origin, &method, &uri, &body, auth_retry.as_ref())
            {
                let value = HeaderValue::try_from(value).map_err(|e| Error::InvalidRequest {
                    target: hop_target.clone(),
                    reason: format!("authorization: {e}"),
                })?;
                req.headers_mut().insert(header::AUTHORIZATION, value);
            }
            let recorded = self.inner.config.recorder.as_ref().map(|_| req.clone());
            let mut response = self
                .exchange(req.map(Full::new), &hop_target, limit)
                .await?;
            if let (Some(recorder), Some(sent)) = (&self.inner.config.recorder, recorded) {
                recorder.record(&sent, &response);
            }
            if let Some(r) = response.extensions_mut().get_mut::<Received>() {
                r.exchanges = exchanges;
                if let Some(peer) = r.peer {
                    self.inner
                        .peers
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(origin.clone(), peer.ip());
                }
            }
            let status = response.status();

            if status == StatusCode::UNAUTHORIZED && !auth_retried {
                if let Some(Credentials::Password { .. }) = creds {
                    auth_retried = true;
                    if let Some(next) = self.learn_challenge(&origin, &response) {
                        auth_retry = Some(next);
                        continue;
                    }
                }
            } else if status == StatusCode::UNAUTHORIZED
                && matches!(auth_retry, Some(AuthRetry::Digest))
                && self.learn_stale(&origin, &response)
            {
                continue;
            }

            if (status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE)
                && retries < self.inner.config.retry.max_retries
            {
                let wait = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
                if let Some(wait) = wait.filter(|w| *w <= self.inner.config.retry.max_delay) {
                    retries += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }

            if retry::is_transient(status)
                && retry::is_safe(&method)
                && !response.headers().contains_key(header::RETRY_AFTER)
                && server_error_retries < self.inner.config.retry.server_error_retries
            {
                server_error_retries += 1;
                tokio::time::sleep(self.inner.config.retry.server_error_delay).await;
                continue;
            }

            if status.is_redirection()
                && redirects < self.inner.config.follow_redirects
                && let Some(next) = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| resolve(&uri, loc))
            {
                let Some(next_origin) = Origin::of(&next) else {
                    return Ok(response);
                };
                redirects += 1;
                if status == StatusCode::SEE_OTHER
                    || ((status == StatusCode::MOVED_PERMANENTLY || status == StatusCode::FOUND)
                        && method == Method::POST)
                {
                    method = Method::GET;
                    body = Bytes::new();
                    headers.remove(header::CONTENT_TYPE);
                    headers.remove(header::CONTENT_LENGTH);
                }
                if next_origin != origin {
                    // The caller's own secrets were meant for the first origin only.
                    headers.remove(header::AUTHORIZATION);
                    headers.remove(header::COOKIE);
                    headers.remove(header::PROXY_AUTHORIZATION);
                }
                uri = next;
                origin = next_origin;
                continue;
            }
            return Ok(response);
        }
    }

    /// Like [`HttpClient::send`], but a final status outside 2xx is an [`Error::Status`]: for
    /// callers outside a machine (a CLI's GET or PUT) that want one error path.
    ///
    /// # Errors
    ///
    /// As [`HttpClient::send`], plus [`Error::Status`].
    pub async fn send_expecting_success(
        &self,
        request: Request<Bytes>,
    ) -> Result<Response<Bytes>, Error> {
        let target = Target::of(&request);
        let response = self.send(request).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let excerpt = std::str::from_utf8(response.body())
            .ok()
            .map(|t| t.trim().chars().take(200).collect::<String>())
            .filter(|t| !t.is_empty());
        Err(Error::Status {
            target,
            status: response.status(),
            excerpt,
        })
    }

    /// The credentials to attach to a request for `origin`, if it is in their scope.
    fn credentials_for(&self, origin: &Origin) -> Option<&Credentials> {
        let creds = self.inner.config.credentials.as_ref()?;
        if !self.inner.config.credential_origins.is_empty() {
            return self
                .inner
                .config
                .credential_origins
                .contains(origin)
                .then_some(creds);
        }
        let mut home = self
            .inner
            .home
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match home.as_ref() {
            Some(h) if h == origin => Some(creds),
            Some(_) => None,
            None => {
                *home = Some(origin.clone());
                Some(creds)
            }
        }
    }

    fn authorization(
        &self,
        creds: &Credentials,
        origin: &Origin,
        method: &Method,
        uri: &Uri,
        body: &Bytes,
        retry: Option<&AuthRetry>,
    ) -> Option<String> {
        match creds {
            Credentials::Bearer { token } => Some(format!("Bearer {token}")),
            Credentials::Password {
                user,
                password,
                preemptive_basic,
            } => {
                let mut digest = self
                    .inner
                    .digest
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Some((o, session)) = digest.as_mut()
                    && o == origin
                {
                    let target = uri.path_and_query().map_or("/", |p| p.as_str());
                    return Some(session.authorize(
                        user,
                        password,
                        method.as_str(),
                        target,
                        body,
                        &auth::cnonce(),
                    ));
                }
                (*preemptive_basic || matches!(retry, Some(AuthRetry::Basic)))
                    .then(|| auth::basic(user, password))
            }
        }
    }

    /// Reads a 401's challenges; says how to retry, if at all.
    fn learn_challenge(&self, origin: &Origin, response: &Response<Bytes>) -> Option<AuthRetry> {
        let challenges = auth::parse_challenges(
            response
                .headers()
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        if let Some(session) = DigestSession::from_challenges(&challenges) {
            *self
                .inner
                .digest
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some((origin.clone(), session));
            return Some(AuthRetry::Digest);
        }
        let sent_basic = matches!(
            self.inner.config.credentials,
            Some(Credentials::Password {
                preemptive_basic: true,
                ..
            })
        );
        (!sent_basic && challenges.iter().any(|c| c.scheme == "basic")).then_some(AuthRetry::Basic)
    }

    /// After a Digest answer was refused: a `stale=true` challenge means "same password, new
    /// nonce" (RFC 7616 §3.3), worth one more try.
    fn learn_stale(&self, origin: &Origin, response: &Response<Bytes>) -> bool {
        let challenges = auth::parse_challenges(
            response
                .headers()
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        if !DigestSession::is_stale(&challenges) {
            return false;
        }
        let mut digest = self
            .inner
            .digest
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let was_fresh = digest
            .as_ref()
            .is_some_and(|(o, s)| o == origin && s.uses() <= 1);
        if was_fresh {
            // A fresh nonce already refused as stale: the server is confused, stop here.
            return false;
        }
        match DigestSession::from_challenges(&challenges) {
            Some(session) => {
                *digest = Some((origin.clone(), session));
                true
            }
            None => false,
        }
    }

    fn decorate(&self, req: &mut Request<Bytes>, origin: &Origin) {
        let peer = self
            .inner
            .peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(origin)
            .copied();
        let compress = self.inner.config.compression.asks(&origin.host, peer);
        let headers = req.headers_mut();
        if compress && !headers.contains_key(header::ACCEPT_ENCODING) {
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("gzip, deflate"),
            );
        }
        if let Some(ua) = &self.inner.config.user_agent
            && !headers.contains_key(header::USER_AGENT)
            && let Ok(v) = HeaderValue::try_from(ua.as_str())
        {
            headers.insert(header::USER_AGENT, v);
        }
    }

    /// One request, one whole response, within the timeout.
    async fn exchange(
        &self,
        req: Request<Full<Bytes>>,
        target: &Target,
        limit: usize,
    ) -> Result<Response<Bytes>, Error> {
        let is_head = req.method() == Method::HEAD;
        let work = async {
            let response = self
                .inner
                .client
                .request(req)
                .await
                .map_err(|e| classify(&e, target))?;
            let (parts, body) = response.into_parts();
            let collected = Limited::new(body, limit).collect().await.map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    Error::BodyTooLarge {
                        target: target.clone(),
                        limit,
                    }
                } else {
                    Error::Protocol {
                        target: target.clone(),
                        reason: chain(&*e),
                    }
                }
            })?;
            Ok::<_, Error>(Response::from_parts(parts, collected.to_bytes()))
        };
        let after = self.inner.config.request_timeout;
        let response = tokio::time::timeout(after, work)
            .await
            .map_err(|_| Error::Timeout {
                target: target.clone(),
                after,
            })??;
        let codings = content_coding::codings(response.headers());
        let wire_bytes = response.body().len();
        let peer = response.extensions().get::<PeerAddr>().map(|p| p.0);
        let (mut parts, body) = response.into_parts();
        if codings.is_empty() || is_head || body.is_empty() {
            parts.extensions.insert(Received {
                wire_bytes,
                codings: Vec::new(),
                exchanges: 1,
                peer,
            });
            return Ok(Response::from_parts(parts, body));
        }
        let decoded = content_coding::decode(&codings, body, limit).map_err(|e| match e {
            DecodeError::TooLarge => Error::BodyTooLarge {
                target: target.clone(),
                limit,
            },
            DecodeError::Unknown(coding) => Error::ContentEncoding {
                target: target.clone(),
                coding,
                reason: "unknown coding".to_owned(),
            },
            DecodeError::Corrupt(coding, reason) => Error::ContentEncoding {
                target: target.clone(),
                coding,
                reason,
            },
        })?;
        parts.headers.remove(header::CONTENT_ENCODING);
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.extensions.insert(Received {
            wire_bytes,
            codings,
            exchanges: 1,
            peer,
        });
        Ok(Response::from_parts(parts, decoded))
    }
}

/// Resolves a `Location` value against the request URL (RFC 3986 §5.2, for the forms servers
/// send: absolute, path-absolute, or relative to the current directory).
pub(crate) fn resolve(base: &Uri, location: &str) -> Option<Uri> {
    if let Ok(abs) = location.parse::<Uri>()
        && abs.scheme().is_some()
        && abs.authority().is_some()
    {
        return Some(abs);
    }
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}").parse().ok();
    }
    let path = if location.starts_with('/') {
        location.to_owned()
    } else {
        let base_path = base.path();
        let dir = base_path
            .rfind('/')
            .and_then(|i| base_path.get(..=i))
            .unwrap_or("/");
        format!("{dir}{location}")
    };
    format!("{scheme}://{authority}{path}").parse().ok()
}

/// Which layer a hyper-util error came from, by walking its sources.
fn classify(e: &hyper_util::client::legacy::Error, target: &Target) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(c) = err.downcast_ref::<ConnectError>() {
            return match c.stage {
                Stage::Dns => Error::Dns {
                    target: target.clone(),
                    host: c.host.clone(),
                    reason: c.reason.clone(),
                },
                Stage::Connect => Error::Connect {
                    target: target.clone(),
                    reason: c.reason.clone(),
                },
            };
        }
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Error::Tls {
                target: target.clone(),
                reason: tls.to_string(),
            };
        }
        // hyper-rustls wraps the handshake's io::Error (which wraps rustls' error) in another.
        let mut io = err.downcast_ref::<std::io::Error>();
        let mut depth = 0;
        while let Some(inner) = io.and_then(std::io::Error::get_ref) {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return Error::Tls {
                    target: target.clone(),
                    reason: tls.to_string(),
                };
            }
            depth += 1;
            io = if depth < 8 {
                inner.downcast_ref::<std::io::Error>()
            } else {
                None
            };
        }
        source = err.source();
    }
    if e.is_connect() {
        // TCP failures come as ConnectError above: what is left failed in the TLS handshake.
        Error::Tls {
            target: target.clone(),
            reason: chain(e),
        }
    } else {
        Error::Protocol {
            target: target.clone(),
            reason: chain(e),
        }
    }
}

/// An error and its sources, as one line.
/// The body limit for one request: the configured one, lowered by a
/// [`caldav_client_core::ResponseLimit`] the request carries.
fn response_limit(extensions: &http::Extensions, configured: usize) -> usize {
    extensions
        .get::<caldav_client_core::ResponseLimit>()
        .map_or(configured, |hint| {
            usize::try_from(hint.0).map_or(configured, |hint| hint.min(configured))
        })
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_defaults_ports_and_lowercases() {
        let o = Origin::parse("HTTPS://Cal.Example.Test/dav/").unwrap();
        assert_eq!(o.to_string(), "https://cal.example.test:443");
        assert_eq!(
            Origin::parse("http://h:8008/"),
            Origin::parse("http://h:8008/x")
        );
        assert_ne!(Origin::parse("http://h/"), Origin::parse("https://h/"));
        assert!(Origin::parse("/relative").is_none());
        assert!(Origin::parse("ftp://h/").is_none());
    }

    #[test]
    fn resolve_location_forms() {
        let base: Uri = "https://h:8443/.well-known/caldav".parse().unwrap();
        assert_eq!(
            resolve(&base, "/dav/").unwrap().to_string(),
            "https://h:8443/dav/"
        );
        assert_eq!(
            resolve(&base, "http://other/x").unwrap().to_string(),
            "http://other/x"
        );
        assert_eq!(
            resolve(&base, "caldav2").unwrap().to_string(),
            "https://h:8443/.well-known/caldav2"
        );
        assert_eq!(
            resolve(&base, "//o:1/p").unwrap().to_string(),
            "https://o:1/p"
        );
    }
}
