//! The discovery machine: RFC 6764 §6 as states and transitions.
//!
//! ```text
//! 1. Process the user identifier to extract the "domain" [...]
//! 2. Do SRV lookups on "_caldavs._tcp" (then "_caldav._tcp" where plain is allowed) [...]
//! 3. If SRV records are found, look up TXT records at the same name for a context path;
//!    without one, use "/.well-known/caldav" on the target (RFC 5785) [...]
//! 4. Confirm the context path with a PROPFIND of DAV:current-user-principal (RFC 5397).
//! ```
//!
//! The candidates form one queue, walked in order: for a domain, the `_caldavs` SRV targets (TXT
//! path, then `/.well-known/caldav`, then `/` on each), the `_caldav` targets when plain http is
//! allowed, then the same well-known URI and `/` on the domain itself; for a URL, the URL, then
//! the well-known URI and `/` on its origin. Redirects are followed within a candidate, a 401
//! stops the machine until the caller attaches credentials or skips, and anything else moves on
//! to the next candidate. Every step leaves an [`Attempt`] in the trail.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use bytes::Bytes;
use dav_xml::Href;
use http::header::{CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};

use crate::address::Address;
use crate::dns::{
    DnsAnswer, DnsFailure, DnsQuery, RecordKind, SeededChoice, ServiceTarget, SrvVerdict, TxtPath,
    order_srv, txt_path,
};
use crate::propfind::{self, PrincipalAnswer};
use crate::trail::{Acceptance, Attempt, Hop, RedirectRefusal, Rejection, Target, Verdict};
use crate::uri;
use crate::{Error, UsageError};

/// The well-known URI of RFC 6764 §5.
pub const WELL_KNOWN_CALDAV: &str = "/.well-known/caldav";

/// Identifies one request the machine asked for, so its answer can be matched to it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

impl RequestId {
    /// The number behind the id (unique within one machine).
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why an HTTP request (or a lookup) got no answer at all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportFailure {
    /// No answer within the caller's time.
    Timeout,
    /// The host name did not resolve, or no connection could be made.
    Connect(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// The connection broke before a full response arrived.
    Reset,
    /// Anything else, in the caller's words.
    Other(String),
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out"),
            Self::Connect(why) => write!(f, "could not connect: {why}"),
            Self::Tls(why) => write!(f, "tls failed: {why}"),
            Self::Reset => f.write_str("connection reset"),
            Self::Other(why) => write!(f, "transport failed: {why}"),
        }
    }
}

/// Choices and limits for one discovery run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveryOptions {
    /// Whether plain-http candidates (`_caldav._tcp`, `http://` URLs) may be tried. Off by
    /// default; even when on, a redirect from https to http is never followed.
    pub allow_plain_http: bool,
    /// Whether the caller attaches credentials to every request from the start (QUIRKS.md #31
    /// recommends it for a URL the user configured). A 207 without a principal is then taken
    /// as "this server has no current-user-principal" instead of "answered anonymously".
    pub credentials_attached: bool,
    /// Redirects followed per candidate (libdav and others stop at 5).
    pub max_redirects: usize,
    /// SRV records considered per lookup.
    pub max_srv_records: usize,
    /// TXT character-strings considered per lookup.
    pub max_txt_strings: usize,
    /// DNS lookups and HTTP requests in all; reaching it ends the run with
    /// [`Error::TooManyRequests`].
    pub max_requests: usize,
    /// The largest 207 body read.
    pub max_body_bytes: usize,
    /// The longest `Location` or `WWW-Authenticate` value read.
    pub max_header_bytes: usize,
    /// The caller's randomness for RFC 2782 weighted ordering of SRV targets.
    pub srv_seed: u64,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        Self {
            allow_plain_http: false,
            credentials_attached: false,
            max_redirects: 5,
            max_srv_records: 16,
            max_txt_strings: 32,
            max_requests: 64,
            max_body_bytes: 1 << 20,
            max_header_bytes: 8 << 10,
            srv_seed: 0,
        }
    }
}

/// What the caller does next; see the crate docs for the loop.
#[must_use]
#[derive(Debug)]
#[non_exhaustive]
pub enum Output {
    /// Send this request and hand its response to [`DiscoveryMachine::handle_response`] (or
    /// [`DiscoveryMachine::handle_failure`]).
    Http {
        /// Quote it when answering.
        id: RequestId,
        /// The request; the caller adds `Host`, `Authorization` and transport headers.
        request: Request<Bytes>,
    },
    /// Perform this lookup and hand its answer to [`DiscoveryMachine::handle_dns`].
    Dns {
        /// Quote it when answering.
        id: RequestId,
        /// The lookup.
        query: DnsQuery,
    },
    /// Nothing to send until an answer arrives.
    Wait,
    /// The run is over (until a resume after [`Error::Unauthorized`]).
    Done(Result<Discovered, Error>),
}

/// The result of a successful run.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovered {
    /// The CalDAV context URL: where the confirming PROPFIND was answered.
    pub context: Uri,
    /// The user's principal (RFC 5397), when the server named one.
    pub principal: Option<Uri>,
    /// The redirects followed to reach `context`, in order.
    pub hops: Vec<Hop>,
    /// Whether credentials were attached when `context` answered. `false` with no principal
    /// means the answer was anonymous: ask again with credentials (QUIRKS.md #31).
    pub authenticated: bool,
    /// Every attempt of the run, in order.
    pub trail: Vec<Attempt>,
}

impl Discovered {
    /// Whether the context answered anonymously without naming a principal: run again with
    /// credentials attached from the first request (QUIRKS.md #31).
    #[must_use]
    pub fn needs_credentials(&self) -> bool {
        self.principal.is_none() && !self.authenticated
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum ProbeMethod {
    Propfind,
    Get,
}

impl ProbeMethod {
    fn http(self) -> Method {
        match self {
            // A valid RFC 9110 token of fewer than 16 bytes: from_bytes cannot fail on it.
            Self::Propfind => Method::from_bytes(b"PROPFIND").unwrap_or(Method::OPTIONS),
            Self::Get => Method::GET,
        }
    }
}

/// One candidate URL being asked, with the redirects that led to it.
#[derive(Clone, Debug)]
struct Probe {
    method: ProbeMethod,
    url: Uri,
    /// The URL is a `/.well-known/caldav` itself: a failed PROPFIND is retried with GET,
    /// because some servers redirect only GET (QUIRKS.md #1).
    well_known: bool,
    hops: Vec<Hop>,
    chain: Vec<Uri>,
    /// Asked again after credentials were attached: the "already tried" check does not apply.
    resumed: bool,
}

impl Probe {
    fn new(method: ProbeMethod, url: Uri) -> Self {
        let well_known = url.path() == WELL_KNOWN_CALDAV;
        Self {
            method,
            chain: vec![url.clone()],
            url,
            well_known,
            hops: Vec::new(),
            resumed: false,
        }
    }
}

#[derive(Clone, Debug)]
enum Plan {
    Srv {
        secure: bool,
        domain: String,
    },
    Txt {
        secure: bool,
        name: String,
        targets: Vec<ServiceTarget>,
    },
    DomainFallback {
        secure: bool,
        domain: String,
    },
    Probe(Probe),
}

#[derive(Clone, Debug)]
enum InFlight {
    Srv {
        query: DnsQuery,
        secure: bool,
    },
    Txt {
        query: DnsQuery,
        secure: bool,
        targets: Vec<ServiceTarget>,
    },
    Http(Probe),
}

/// RFC 6764 discovery as a sans-IO state machine.
///
/// **Feed once, then drain**: after [`new`](Self::new) and after every `handle_*` call, call
/// [`poll`](Self::poll) until it returns [`Output::Wait`] or [`Output::Done`].
///
/// The machine keeps at most one request in flight and never blocks, sleeps, reads a clock or
/// panics.
#[derive(Debug)]
pub struct DiscoveryMachine {
    options: DiscoveryOptions,
    domain: Option<String>,
    queue: VecDeque<Plan>,
    in_flight: Option<(RequestId, InFlight)>,
    next_id: u64,
    requests: usize,
    visited: HashSet<(ProbeMethod, Uri)>,
    choice: SeededChoice,
    trail: Vec<Attempt>,
    /// A context that answered 207 without a principal before credentials were attached.
    fallback: Option<Probe>,
    /// The probe that got the 401 the machine stopped on.
    paused: Option<Probe>,
    authenticated: bool,
    service_refused: bool,
    saw_targets: bool,
    done: Option<Result<Discovered, Error>>,
}

impl DiscoveryMachine {
    /// A machine for what the user typed (see [`Address::parse`]).
    ///
    /// An unusable input is not an error here: the first [`poll`](Self::poll) returns
    /// `Done(Err(..))` with [`Error::InvalidAddress`] or [`Error::PlainHttpNotAllowed`].
    ///
    /// # Panics
    ///
    /// Never.
    pub fn new(input: &str, options: DiscoveryOptions) -> Self {
        match Address::parse(input) {
            Ok(address) => Self::for_address(address, options),
            Err(error) => {
                let mut machine = Self::empty(options);
                machine.done = Some(Err(error));
                machine
            }
        }
    }

    /// A machine for an already parsed address.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn for_address(address: Address, options: DiscoveryOptions) -> Self {
        let mut machine = Self::empty(options);
        match address {
            Address::Url(url) => {
                if !uri::is_https(&url) && !machine.options.allow_plain_http {
                    machine.done = Some(Err(Error::PlainHttpNotAllowed { url }));
                    return machine;
                }
                for path in [WELL_KNOWN_CALDAV, "/"] {
                    if let Some(other) = uri::with_path(&url, path) {
                        machine
                            .queue
                            .push_back(Plan::Probe(Probe::new(ProbeMethod::Propfind, other)));
                    }
                }
                machine
                    .queue
                    .push_front(Plan::Probe(Probe::new(ProbeMethod::Propfind, url)));
            }
            Address::Email { domain, .. } | Address::Domain(domain) => {
                let plain = machine.options.allow_plain_http;
                machine.queue.push_back(Plan::Srv {
                    secure: true,
                    domain: domain.clone(),
                });
                if plain {
                    machine.queue.push_back(Plan::Srv {
                        secure: false,
                        domain: domain.clone(),
                    });
                }
                machine.queue.push_back(Plan::DomainFallback {
                    secure: true,
                    domain: domain.clone(),
                });
                if plain {
                    machine.queue.push_back(Plan::DomainFallback {
                        secure: false,
                        domain: domain.clone(),
                    });
                }
                machine.domain = Some(domain);
            }
        }
        machine
    }

    fn empty(options: DiscoveryOptions) -> Self {
        Self {
            choice: SeededChoice::new(options.srv_seed),
            authenticated: options.credentials_attached,
            options,
            domain: None,
            queue: VecDeque::new(),
            in_flight: None,
            next_id: 0,
            requests: 0,
            visited: HashSet::new(),
            trail: Vec::new(),
            fallback: None,
            paused: None,
            service_refused: false,
            saw_targets: false,
            done: None,
        }
    }

    /// Every attempt so far, in order.
    #[must_use]
    pub fn trail(&self) -> &[Attempt] {
        &self.trail
    }

    /// The next thing to do. Call after every input until it returns [`Output::Wait`] or
    /// [`Output::Done`]; after `Done` it keeps returning the same result.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn poll(&mut self) -> Output {
        if let Some(result) = &self.done {
            return Output::Done(result.clone());
        }
        if self.in_flight.is_some() {
            return Output::Wait;
        }
        while let Some(plan) = self.queue.pop_front() {
            if let Some(output) = self.start(plan) {
                return output;
            }
            if let Some(result) = &self.done {
                return Output::Done(result.clone());
            }
        }
        let result = self.finish();
        self.done = Some(result.clone());
        Output::Done(result)
    }

    /// Hands over the answer to a [`Output::Dns`] query.
    ///
    /// # Errors
    ///
    /// [`UsageError`] when `id` is not the lookup in flight, when the answer's record type does
    /// not fit the query, or after the run is over. The machine is unchanged then.
    pub fn handle_dns(&mut self, id: RequestId, answer: DnsAnswer) -> Result<(), UsageError> {
        let flight = self.take_in_flight(id, |f| match f {
            InFlight::Srv { query, .. } | InFlight::Txt { query, .. } => {
                if answer.fits(query.kind) {
                    Ok(())
                } else {
                    Err(UsageError::AnswerDoesNotFit { id })
                }
            }
            InFlight::Http(_) => Err(UsageError::AnswerDoesNotFit { id }),
        })?;
        match flight {
            InFlight::Srv { query, secure } => self.on_srv(query, secure, answer),
            InFlight::Txt {
                query,
                secure,
                targets,
            } => self.on_txt(query, secure, &targets, answer),
            InFlight::Http(_) => {}
        }
        Ok(())
    }

    /// Hands over the response to an [`Output::Http`] request. Interim (1xx) responses are the
    /// caller's to skip; only the final response belongs here.
    ///
    /// # Errors
    ///
    /// [`UsageError`] when `id` is not the request in flight (or is a lookup), or after the run
    /// is over. The machine is unchanged then.
    pub fn handle_response(
        &mut self,
        id: RequestId,
        response: Response<Bytes>,
    ) -> Result<(), UsageError> {
        let flight = self.take_in_flight(id, |f| match f {
            InFlight::Http(_) => Ok(()),
            _ => Err(UsageError::AnswerDoesNotFit { id }),
        })?;
        if let InFlight::Http(probe) = flight {
            self.on_response(probe, &response);
        }
        Ok(())
    }

    /// Reports that a request or lookup got no answer; the machine moves on.
    ///
    /// # Errors
    ///
    /// [`UsageError`] when `id` is not in flight, or after the run is over.
    pub fn handle_failure(
        &mut self,
        id: RequestId,
        failure: TransportFailure,
    ) -> Result<(), UsageError> {
        let flight = self.take_in_flight(id, |_| Ok(()))?;
        match flight {
            InFlight::Srv { query, secure } => {
                let answer = DnsAnswer::Failed(dns_failure(&failure));
                self.on_srv(query, secure, answer);
            }
            InFlight::Txt {
                query,
                secure,
                targets,
            } => {
                let answer = DnsAnswer::Failed(dns_failure(&failure));
                self.on_txt(query, secure, &targets, answer);
            }
            InFlight::Http(probe) => {
                self.record_http(&probe, Verdict::Rejected(Rejection::Transport(failure)))
            }
        }
        Ok(())
    }

    /// After `Done(Err(Error::Unauthorized { .. }))`: the caller now attaches credentials, so
    /// ask the same URL again and go on from there.
    ///
    /// # Errors
    ///
    /// [`UsageError::NotPausedForCredentials`] when the machine did not stop on a 401.
    pub fn resume_with_credentials(&mut self) -> Result<(), UsageError> {
        let probe = self.unpause()?;
        self.authenticated = true;
        let mut probe = probe;
        probe.resumed = true;
        self.queue.push_front(Plan::Probe(probe));
        Ok(())
    }

    /// After `Done(Err(Error::Unauthorized { .. }))`: leave that candidate and try the next.
    ///
    /// # Errors
    ///
    /// [`UsageError::NotPausedForCredentials`] when the machine did not stop on a 401.
    pub fn skip_unauthorized(&mut self) -> Result<(), UsageError> {
        self.unpause().map(|_| ())
    }

    fn unpause(&mut self) -> Result<Probe, UsageError> {
        if !matches!(self.done, Some(Err(Error::Unauthorized { .. }))) {
            return Err(UsageError::NotPausedForCredentials);
        }
        let probe = self
            .paused
            .take()
            .ok_or(UsageError::NotPausedForCredentials)?;
        self.done = None;
        Ok(probe)
    }

    fn take_in_flight(
        &mut self,
        id: RequestId,
        fits: impl FnOnce(&InFlight) -> Result<(), UsageError>,
    ) -> Result<InFlight, UsageError> {
        if self.done.is_some() {
            return Err(UsageError::Finished { id });
        }
        match &self.in_flight {
            Some((current, flight)) if *current == id => fits(flight)?,
            _ => return Err(UsageError::UnknownId { id }),
        }
        self.in_flight
            .take()
            .map(|(_, flight)| flight)
            .ok_or(UsageError::UnknownId { id })
    }

    fn issue_id(&mut self) -> Option<RequestId> {
        if self.requests >= self.options.max_requests {
            self.done = Some(Err(Error::TooManyRequests {
                limit: self.options.max_requests,
            }));
            return None;
        }
        self.requests += 1;
        let id = RequestId(self.next_id);
        self.next_id += 1;
        Some(id)
    }

    fn start(&mut self, plan: Plan) -> Option<Output> {
        match plan {
            Plan::Srv { secure, domain } => {
                let query = DnsQuery {
                    name: service_name(secure, &domain),
                    kind: RecordKind::Srv,
                };
                let id = self.issue_id()?;
                self.in_flight = Some((
                    id,
                    InFlight::Srv {
                        query: query.clone(),
                        secure,
                    },
                ));
                Some(Output::Dns { id, query })
            }
            Plan::Txt {
                secure,
                name,
                targets,
            } => {
                let query = DnsQuery {
                    name,
                    kind: RecordKind::Txt,
                };
                let id = self.issue_id()?;
                self.in_flight = Some((
                    id,
                    InFlight::Txt {
                        query: query.clone(),
                        secure,
                        targets,
                    },
                ));
                Some(Output::Dns { id, query })
            }
            Plan::DomainFallback { secure, domain } => {
                // RFC 2782: a `.` target says the service is decidedly not there; believe it
                // unless another SRV lookup named real targets.
                if !self.service_refused || self.saw_targets {
                    let port = if secure { 443 } else { 80 };
                    for path in ["/", WELL_KNOWN_CALDAV] {
                        if let Some(url) = uri::build(secure, &domain, port, path) {
                            self.queue
                                .push_front(Plan::Probe(Probe::new(ProbeMethod::Propfind, url)));
                        }
                    }
                }
                None
            }
            Plan::Probe(probe) => {
                let key = (probe.method, probe.url.clone());
                if !probe.resumed && self.visited.contains(&key) {
                    self.record_http(&probe, Verdict::Rejected(Rejection::AlreadyTried));
                    return None;
                }
                let id = self.issue_id()?;
                self.visited.insert(key);
                let request = build_request(probe.method, &probe.url);
                self.in_flight = Some((id, InFlight::Http(probe)));
                Some(Output::Http { id, request })
            }
        }
    }

    fn on_srv(&mut self, query: DnsQuery, secure: bool, answer: DnsAnswer) {
        let verdict = match answer {
            DnsAnswer::Srv(records) => {
                match order_srv(&records, self.options.max_srv_records, &mut self.choice) {
                    SrvVerdict::Targets(targets) => {
                        self.saw_targets = true;
                        self.queue.push_front(Plan::Txt {
                            secure,
                            name: query.name.clone(),
                            targets: targets.clone(),
                        });
                        Verdict::Accepted(Acceptance::SrvTargets(targets))
                    }
                    SrvVerdict::NoService => {
                        self.service_refused = true;
                        Verdict::Rejected(Rejection::ServiceNotOffered)
                    }
                    SrvVerdict::Unusable => Verdict::Rejected(Rejection::NoUsableTarget),
                }
            }
            other => Verdict::Rejected(negative(other)),
        };
        self.trail.push(Attempt {
            target: Target::Dns(query),
            verdict,
        });
    }

    fn on_txt(
        &mut self,
        query: DnsQuery,
        secure: bool,
        targets: &[ServiceTarget],
        answer: DnsAnswer,
    ) {
        let (path, verdict) = match answer {
            DnsAnswer::Txt(records) => match txt_path(&records, self.options.max_txt_strings) {
                TxtPath::Path(path) => (
                    Some(path.clone()),
                    Verdict::Accepted(Acceptance::TxtPath(path)),
                ),
                TxtPath::Absent => (None, Verdict::Rejected(Rejection::NoTxtPath)),
                TxtPath::Invalid(value) => {
                    (None, Verdict::Rejected(Rejection::InvalidTxtPath(value)))
                }
            },
            other => (None, Verdict::Rejected(negative(other))),
        };
        self.trail.push(Attempt {
            target: Target::Dns(query),
            verdict,
        });
        let mut probes = Vec::new();
        for target in targets {
            let paths = path.as_deref().into_iter().chain([WELL_KNOWN_CALDAV, "/"]);
            for p in paths {
                match uri::build(secure, &target.host, target.port, p) {
                    Some(url) => probes.push(Plan::Probe(Probe::new(ProbeMethod::Propfind, url))),
                    None => self.trail.push(Attempt {
                        target: Target::Dns(DnsQuery {
                            name: target.host.clone(),
                            kind: RecordKind::Srv,
                        }),
                        verdict: Verdict::Rejected(Rejection::InvalidUrl),
                    }),
                }
            }
        }
        for plan in probes.into_iter().rev() {
            self.queue.push_front(plan);
        }
    }

    fn record_http(&mut self, probe: &Probe, verdict: Verdict) {
        self.trail.push(Attempt {
            target: Target::Http {
                method: probe.method.http(),
                url: probe.url.clone(),
            },
            verdict,
        });
    }

    fn on_response(&mut self, probe: Probe, response: &Response<Bytes>) {
        let status = response.status();
        match status.as_u16() {
            207 if probe.method == ProbeMethod::Propfind => self.on_multistatus(probe, response),
            301 | 302 | 303 | 307 | 308 => self.on_redirect(probe, response),
            300..=399 => self.record_http(
                &probe,
                Verdict::Rejected(Rejection::UnsupportedRedirect(status)),
            ),
            401 => self.on_unauthorized(probe, response),
            _ => {
                self.record_http(&probe, Verdict::Rejected(Rejection::Status(status)));
                let retry_with_get = probe.well_known
                    && probe.method == ProbeMethod::Propfind
                    && (status.is_client_error() || status == StatusCode::NOT_IMPLEMENTED);
                if retry_with_get {
                    let mut get = probe;
                    get.method = ProbeMethod::Get;
                    get.resumed = false;
                    self.queue.push_front(Plan::Probe(get));
                }
            }
        }
    }

    fn on_multistatus(&mut self, probe: Probe, response: &Response<Bytes>) {
        let body = response.body();
        if body.len() > self.options.max_body_bytes {
            let why = format!("body larger than {} bytes", self.options.max_body_bytes);
            self.record_http(
                &probe,
                Verdict::Rejected(Rejection::UnreadableMultistatus(why)),
            );
            return;
        }
        let answer = match propfind::read_principal(body) {
            Ok(answer) => answer,
            Err(why) => {
                self.record_http(
                    &probe,
                    Verdict::Rejected(Rejection::UnreadableMultistatus(why)),
                );
                return;
            }
        };
        let principal = match answer {
            PrincipalAnswer::Principal(href) => principal_url(&probe.url, &href),
            PrincipalAnswer::Unauthenticated | PrincipalAnswer::Missing => None,
        };
        match principal {
            Some(principal) => {
                self.record_http(
                    &probe,
                    Verdict::Accepted(Acceptance::Context {
                        principal: principal.clone(),
                    }),
                );
                self.succeed(probe, Some(principal));
            }
            None if self.authenticated => {
                self.record_http(
                    &probe,
                    Verdict::Accepted(Acceptance::ContextWithoutPrincipal),
                );
                self.succeed(probe, None);
            }
            None => {
                self.record_http(&probe, Verdict::Rejected(Rejection::NoPrincipal));
                if self.fallback.is_none() {
                    self.fallback = Some(probe);
                }
            }
        }
    }

    fn succeed(&mut self, probe: Probe, principal: Option<Uri>) {
        self.done = Some(Ok(Discovered {
            context: probe.url,
            principal,
            hops: probe.hops,
            authenticated: self.authenticated,
            trail: self.trail.clone(),
        }));
    }

    fn on_redirect(&mut self, probe: Probe, response: &Response<Bytes>) {
        let status = response.status();
        let raw = response.headers().get(LOCATION);
        let text = raw.and_then(|v| v.to_str().ok());
        let shown = raw.map(|v| shorten(&String::from_utf8_lossy(v.as_bytes())));
        let refuse = |this: &mut Self, reason: RedirectRefusal| {
            this.record_http(
                &probe,
                Verdict::Rejected(Rejection::RedirectRefused {
                    status,
                    location: shown.clone(),
                    reason,
                }),
            );
        };
        let Some(raw) = raw else {
            refuse(self, RedirectRefusal::MissingLocation);
            return;
        };
        let target = text
            .filter(|_| raw.len() <= self.options.max_header_bytes)
            .and_then(|t| uri::resolve(&probe.url, t));
        let Some(to) = target else {
            refuse(self, RedirectRefusal::InvalidLocation);
            return;
        };
        let reason = if uri::is_https(&probe.url) && !uri::is_https(&to) {
            Some(RedirectRefusal::Downgrade)
        } else if !uri::is_https(&to) && !self.options.allow_plain_http {
            Some(RedirectRefusal::PlainHttpNotAllowed)
        } else if probe.chain.contains(&to) {
            Some(RedirectRefusal::Loop)
        } else if probe.hops.len() >= self.options.max_redirects {
            Some(RedirectRefusal::TooManyHops)
        } else {
            None
        };
        if let Some(reason) = reason {
            refuse(self, reason);
            return;
        }
        let hop = Hop {
            status,
            from: probe.url.clone(),
            cross_origin: uri::origin(&probe.url) != uri::origin(&to),
            to: to.clone(),
        };
        self.record_http(&probe, Verdict::Redirected(hop.clone()));
        let mut next = probe;
        // Whatever the method that found the redirect, the target is confirmed with PROPFIND.
        next.method = ProbeMethod::Propfind;
        next.well_known = false;
        next.resumed = false;
        next.url = to.clone();
        next.chain.push(to);
        next.hops.push(hop);
        self.queue.push_front(Plan::Probe(next));
    }

    fn on_unauthorized(&mut self, probe: Probe, response: &Response<Bytes>) {
        let challenges: Vec<String> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter(|v| v.len() <= self.options.max_header_bytes)
            .filter_map(|v| v.to_str().ok())
            .take(8)
            .map(str::to_owned)
            .collect();
        let realm = challenges.iter().find_map(|c| realm_of(c));
        self.record_http(
            &probe,
            Verdict::Rejected(Rejection::Unauthorized {
                realm: realm.clone(),
            }),
        );
        self.done = Some(Err(Error::Unauthorized {
            url: Box::new(probe.url.clone()),
            realm,
            challenges,
        }));
        self.paused = Some(probe);
    }

    fn finish(&mut self) -> Result<Discovered, Error> {
        if let Some(probe) = self.fallback.take() {
            return Ok(Discovered {
                context: probe.url,
                principal: None,
                hops: probe.hops,
                authenticated: false,
                trail: self.trail.clone(),
            });
        }
        if self.service_refused && !self.saw_targets {
            return Err(Error::ServiceNotOffered {
                domain: self.domain.clone().unwrap_or_default(),
            });
        }
        Err(Error::NotFound {
            attempts: self.trail.len(),
        })
    }
}

fn service_name(secure: bool, domain: &str) -> String {
    let service = if secure { "_caldavs" } else { "_caldav" };
    format!("{service}._tcp.{domain}")
}

fn negative(answer: DnsAnswer) -> Rejection {
    match answer {
        DnsAnswer::NxDomain => Rejection::NxDomain,
        DnsAnswer::NoData | DnsAnswer::Srv(_) | DnsAnswer::Txt(_) => Rejection::NoData,
        DnsAnswer::Failed(why) => Rejection::DnsFailed(why),
    }
}

fn dns_failure(failure: &TransportFailure) -> DnsFailure {
    match failure {
        TransportFailure::Timeout => DnsFailure::Timeout,
        other => DnsFailure::Other(other.to_string()),
    }
}

fn build_request(method: ProbeMethod, url: &Uri) -> Request<Bytes> {
    let body = match method {
        ProbeMethod::Propfind => propfind::request_body(),
        ProbeMethod::Get => Bytes::new(),
    };
    let mut request = Request::new(body);
    *request.method_mut() = method.http();
    *request.uri_mut() = url.clone();
    if method == ProbeMethod::Propfind {
        let headers = request.headers_mut();
        headers.insert(
            HeaderName::from_static("depth"),
            HeaderValue::from_static("0"),
        );
        headers.insert(
            HeaderName::from_static("prefer"),
            HeaderValue::from_static("return=minimal"),
        );
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        );
    }
    request
}

/// The principal as a URL. An absolute href naming the request's own host keeps the request's
/// scheme and port (servers behind proxies advertise the wrong ones, QUIRKS.md #28), and an
/// href that would leave https for http is not used.
fn principal_url(context: &Uri, href: &Href) -> Option<Uri> {
    let resolved = href.resolve(context).ok()?;
    let resolved = uri::parse_absolute(&resolved.to_string())?;
    let same_host = match (context.host(), resolved.host()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    if same_host && uri::origin(context) != uri::origin(&resolved) {
        let pq = resolved.path_and_query().map_or("/", |pq| pq.as_str());
        return uri::with_path(context, pq);
    }
    if uri::is_https(context) && !uri::is_https(&resolved) {
        return None;
    }
    Some(resolved)
}

/// The `realm` parameter of one challenge (RFC 9110 §11.5), token or quoted-string.
fn realm_of(challenge: &str) -> Option<String> {
    let lower = challenge.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower.get(from..).and_then(|rest| rest.find("realm")) {
        let at = from + found;
        from = at + 5;
        let before = lower.get(..at).and_then(|b| b.chars().next_back());
        if before.is_some_and(|c| !(c == ' ' || c == ',' || c == '\t')) {
            continue;
        }
        let rest = challenge.get(at + 5..)?.trim_start();
        let Some(value) = rest.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        if let Some(quoted) = value.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => return Some(out),
                    '\\' => out.push(chars.next()?),
                    c => out.push(c),
                }
            }
            return None;
        }
        let token: String = value
            .chars()
            .take_while(|c| !matches!(c, ',' | ' ' | '\t'))
            .collect();
        return (!token.is_empty()).then_some(token);
    }
    None
}

fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_forms() {
        assert_eq!(
            realm_of(r#"Basic realm="Radicale - Password Required""#).as_deref(),
            Some("Radicale - Password Required")
        );
        assert_eq!(
            realm_of(r#"Digest nonce="x", realm="a \"b\"", qop="auth""#).as_deref(),
            Some(r#"a "b""#)
        );
        assert_eq!(
            realm_of("Basic realm=localhost").as_deref(),
            Some("localhost")
        );
        assert_eq!(realm_of(r#"Bearer xrealm="no""#), None);
        assert_eq!(realm_of(r#"Basic realm="unterminated"#), None);
    }

    #[test]
    fn principal_keeps_request_origin_on_same_host() {
        let context = Uri::from_static("https://cal.example.com/dav/");
        assert_eq!(
            principal_url(
                &context,
                &Href::new("http://cal.example.com/principals/ken/")
            )
            .unwrap()
            .to_string(),
            "https://cal.example.com/principals/ken/"
        );
        assert_eq!(
            principal_url(
                &context,
                &Href::new("https://p07.example.net/123/principal/")
            )
            .unwrap()
            .to_string(),
            "https://p07.example.net/123/principal/"
        );
        assert_eq!(
            principal_url(&context, &Href::new("http://other.example/p/")),
            None
        );
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        let long = "é".repeat(300);
        let s = shorten(&long);
        assert!(s.ends_with("..."));
        assert!(s.len() <= 203);
    }
}
