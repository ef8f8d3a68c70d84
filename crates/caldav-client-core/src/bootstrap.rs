//! Bootstrap: from a context URL to a typed account (RFC 5397 §3, RFC 4791 §6, RFC 6638 §2,
//! and the CalConnect guide "Bootstrapping a CalDAV client" that the seed is).
//!
//! 1. PROPFIND Depth:0 on the context URL for `DAV:current-user-principal` (falling back to
//!    `DAV:principal-URL`, a principal resource type, then the context URL itself: QUIRKS #2);
//! 2. on the principal, at once: PROPFIND Depth:0 for the properties the seed asks for
//!    (calendar-home-set, calendar-user-address-set, schedule inbox and outbox, displayname,
//!    email-address-set, notification-URL, principal-collection-set, supported-report-set),
//!    and OPTIONS for the server's capabilities (RFC 4918 §10.1, RFC 4791 §5.1).

use bytes::Bytes;
use caldav_model::capabilities::Capabilities;
use caldav_model::property::{Principal, PropertySet, Value, names};
use dav_xml::{Href, Multistatus, QName};
use http::{Method, StatusCode, Uri};

use crate::error::{Error, UsageError};
use crate::machine::{
    Depth, InFlight, Machine, Output, RequestId, TransportFailure, dav_request, key, status_error,
    xml_content_type,
};
use crate::quirks::QuirkProfile;

/// The properties asked of the principal: the seed's list.
const PRINCIPAL_PROPS: [QName; 13] = [
    names::CALENDAR_HOME_SET,
    names::CALENDAR_USER_ADDRESS_SET,
    names::CURRENT_USER_PRINCIPAL,
    names::DISPLAYNAME,
    names::DROPBOX_HOME_URL,
    names::EMAIL_ADDRESS_SET,
    names::NOTIFICATION_URL,
    names::PRINCIPAL_COLLECTION_SET,
    names::PRINCIPAL_URL,
    names::RESOURCE_ID,
    names::SCHEDULE_INBOX_URL,
    names::SCHEDULE_OUTBOX_URL,
    names::SUPPORTED_REPORT_SET,
];

const PRINCIPAL_RESOURCE: QName = QName::from_static(dav_xml::name::DAV, "principal");

/// What the bootstrap machine needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BootstrapConfig {
    /// The context URL (from RFC 6764 discovery, or configured): absolute, with scheme and
    /// authority.
    pub context: Uri,
    /// The principal, when discovery already found it: the first PROPFIND is then skipped.
    pub principal: Option<Href>,
    /// Server behaviours.
    pub quirks: QuirkProfile,
}

impl BootstrapConfig {
    /// A configuration for `context` with default quirks.
    #[must_use]
    pub fn new(context: Uri) -> Self {
        Self {
            context,
            principal: None,
            quirks: QuirkProfile::default(),
        }
    }

    /// A configuration from RFC 6764 discovery's result: its context URL and, when the
    /// confirming PROPFIND named one, its principal.
    ///
    /// # Example
    ///
    /// ```
    /// # fn run(discovered: &service_discovery::Discovered) {
    /// use caldav_client_core::bootstrap::BootstrapConfig;
    /// let config = BootstrapConfig::from_discovered(discovered);
    /// assert_eq!(config.context, discovered.context);
    /// # }
    /// ```
    #[must_use]
    pub fn from_discovered(discovered: &service_discovery::Discovered) -> Self {
        let mut config = Self::new(discovered.context.clone());
        config.principal = discovered
            .principal
            .as_ref()
            .map(|p| Href::new(p.path_and_query().map_or(p.path(), |pq| pq.as_str())));
        config
    }
}

/// The user's account as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct Account {
    /// The principal's href, as the server sent it.
    pub principal: Href,
    /// How the principal was found.
    pub principal_source: PrincipalSource,
    /// `CALDAV:calendar-home-set` (RFC 4791 §6.2.1); several are possible (QUIRKS #29).
    /// When the server named none, the context URL (QUIRKS #2).
    pub calendar_home_set: Vec<Href>,
    /// `CALDAV:calendar-user-address-set` (RFC 6638 §2.4.1).
    pub calendar_user_address_set: Vec<Href>,
    /// `CALDAV:schedule-inbox-URL` (RFC 6638 §2.2.1).
    pub schedule_inbox: Option<Href>,
    /// `CALDAV:schedule-outbox-URL` (RFC 6638 §2.1.1).
    pub schedule_outbox: Option<Href>,
    /// `DAV:displayname`.
    pub displayname: Option<String>,
    /// `CS:email-address-set`.
    pub email_address_set: Vec<String>,
    /// `CS:notification-URL`.
    pub notification_url: Option<Href>,
    /// `DAV:principal-collection-set` (RFC 3744 §5.8).
    pub principal_collection_set: Vec<Href>,
    /// `DAV:supported-report-set` of the principal (RFC 3253 §3.1.5).
    pub supported_reports: Vec<QName>,
    /// What OPTIONS on the principal said (empty when OPTIONS failed), with the principal's
    /// supported reports added.
    pub capabilities: Capabilities,
    /// Every property of the principal, unknown ones included.
    pub properties: PropertySet,
}

/// Where the principal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrincipalSource {
    /// `DAV:current-user-principal`.
    CurrentUserPrincipal,
    /// `DAV:principal-URL` of the context.
    PrincipalUrl,
    /// The context is itself a principal (its resource type says so).
    ResourceType,
    /// Nothing said: the context URL is taken as the principal (QUIRKS #2).
    Assumed,
    /// Given by the caller (from discovery).
    Configured,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Context,
    Principal,
    Options,
}

#[derive(Debug)]
enum State {
    Start,
    FindPrincipal,
    ReadPrincipal {
        principal: Href,
        source: PrincipalSource,
        url: Uri,
        started: bool,
        properties: Option<PropertySet>,
        capabilities: Option<Capabilities>,
    },
    Done(Result<Account, Error>),
}

/// The bootstrap machine.
///
/// # Example
///
/// ```
/// use caldav_client_core::bootstrap::{BootstrapConfig, BootstrapMachine};
/// use caldav_client_core::{Machine, Output};
///
/// let mut machine = BootstrapMachine::new(BootstrapConfig::new(
///     "https://cal.example/dav/".parse().unwrap(),
/// ));
/// let Output::Http { request, .. } = machine.poll() else { panic!() };
/// assert_eq!(request.method().as_str(), "PROPFIND");
/// assert_eq!(request.headers()["depth"], "0");
/// ```
#[derive(Debug)]
pub struct BootstrapMachine {
    config: BootstrapConfig,
    flight: InFlight<Purpose>,
    state: State,
    queue: Vec<Purpose>,
    /// Where OPTIONS goes when not to the principal: the first calendar home, for servers
    /// without DAV classes at the root (`QuirkProfile::dav_header_at_root` off).
    options_url: Option<Uri>,
}

impl BootstrapMachine {
    /// A machine that bootstraps from `config.context`.
    pub fn new(config: BootstrapConfig) -> Self {
        Self {
            config,
            flight: InFlight::default(),
            state: State::Start,
            queue: Vec::new(),
            options_url: None,
        }
    }

    fn headers(&self) -> Vec<(http::header::HeaderName, String)> {
        let mut headers = vec![xml_content_type()];
        if self.config.quirks.prefer_minimal {
            headers.push((
                http::header::HeaderName::from_static("prefer"),
                "return=minimal".into(),
            ));
            headers.push((http::header::HeaderName::from_static("brief"), "t".into()));
        }
        headers
    }

    fn request(&self, purpose: Purpose) -> Result<http::Request<Bytes>, Error> {
        let propfind = Method::from_bytes(b"PROPFIND").map_err(|_| Error::InvalidUrl {
            url: "PROPFIND".into(),
        })?;
        match (purpose, &self.state) {
            (Purpose::Context, _) => dav_request(
                propfind,
                &self.config.context,
                Some(Depth::Zero),
                &self.headers(),
                crate::body::propfind(&[
                    names::CURRENT_USER_PRINCIPAL,
                    names::PRINCIPAL_URL,
                    names::RESOURCETYPE,
                ]),
            ),
            (Purpose::Principal, State::ReadPrincipal { url, .. }) => dav_request(
                propfind,
                url,
                Some(Depth::Zero),
                &self.headers(),
                crate::body::propfind(&PRINCIPAL_PROPS),
            ),
            (Purpose::Options, State::ReadPrincipal { url, .. }) => {
                let url = self.options_url.as_ref().unwrap_or(url);
                dav_request(Method::OPTIONS, url, None, &[], Bytes::new())
            }
            _ => Err(Error::ServerMisbehaved {
                what: "request out of order".into(),
            }),
        }
    }

    fn on_context(&mut self, response: &http::Response<Bytes>) -> Result<(), Error> {
        if response.status() != StatusCode::MULTI_STATUS {
            return Err(status_error(&self.config.context, response));
        }
        let ms = Multistatus::decode(response.body()).map_err(|e| Error::ServerMisbehaved {
            what: format!("unreadable multistatus: {e}"),
        })?;
        let context_key = key(&self.config.context, &Href::new(self.config.context.path()));
        let own = ms
            .responses
            .iter()
            .find(|r| r.href().and_then(|h| key(&self.config.context, h)) == context_key)
            .or_else(|| ms.responses.first());
        let set = own.map(PropertySet::from_response).unwrap_or_default();
        let (principal, source) = match set.current_user_principal() {
            Some(Principal::Href(href)) => (href.clone(), PrincipalSource::CurrentUserPrincipal),
            Some(Principal::Unauthenticated) => {
                // QUIRKS #31: an anonymous answer means "send credentials".
                return Err(Error::Unauthorized { realm: None });
            }
            _ => match set.principal_url() {
                Some(href) => (href.clone(), PrincipalSource::PrincipalUrl),
                None if set.resource_type().contains(&PRINCIPAL_RESOURCE) => (
                    Href::new(self.config.context.path()),
                    PrincipalSource::ResourceType,
                ),
                None => (
                    Href::new(self.config.context.path()),
                    PrincipalSource::Assumed,
                ),
            },
        };
        let url = principal
            .resolve(&self.config.context)
            .map_err(|_| Error::InvalidUrl {
                url: principal.as_str().to_owned(),
            })?;
        self.state = State::ReadPrincipal {
            principal,
            source,
            url,
            started: false,
            properties: None,
            capabilities: None,
        };
        Ok(())
    }

    fn on_principal(&mut self, response: &http::Response<Bytes>) -> Result<(), Error> {
        let State::ReadPrincipal {
            url, properties, ..
        } = &mut self.state
        else {
            return Ok(());
        };
        if response.status() != StatusCode::MULTI_STATUS {
            return Err(status_error(url, response));
        }
        let ms = Multistatus::decode(response.body()).map_err(|e| Error::ServerMisbehaved {
            what: format!("unreadable multistatus: {e}"),
        })?;
        let wanted = key(url, &Href::new(url.path()));
        let own = ms
            .responses
            .iter()
            .find(|r| r.href().and_then(|h| key(url, h)) == wanted)
            .or_else(|| ms.responses.first());
        let set = own.map(PropertySet::from_response).unwrap_or_default();
        if !self.config.quirks.dav_header_at_root {
            // The principal may sit where the server names no DAV class (Cyrus' root): ask
            // the calendar home, which does.
            let home = set.calendar_home_set().first().cloned();
            self.options_url = home.and_then(|h| h.resolve(url).ok()).or(Some(url.clone()));
            self.queue.push(Purpose::Options);
        }
        *properties = Some(set);
        Ok(())
    }

    /// The requests to start reading the principal with.
    fn start_principal(&mut self) {
        if self.config.quirks.dav_header_at_root {
            // Both at once: the answers are independent (the seed's steps 2 and 3).
            self.queue.push(Purpose::Options);
        }
        self.queue.push(Purpose::Principal);
    }

    fn on_options(&mut self, response: &http::Response<Bytes>) {
        if let State::ReadPrincipal { capabilities, .. } = &mut self.state {
            // Capabilities are advisory: a failed OPTIONS leaves them empty.
            *capabilities = Some(if response.status().is_success() {
                Capabilities::from_headers(response.headers()).unwrap_or_default()
            } else {
                Capabilities::default()
            });
        }
    }

    fn try_finish(&mut self) {
        let State::ReadPrincipal {
            principal,
            source,
            properties: Some(properties),
            capabilities: Some(capabilities),
            ..
        } = &self.state
        else {
            return;
        };
        let mut homes = properties.calendar_home_set().to_vec();
        if homes.is_empty() {
            homes.push(Href::new(self.config.context.path()));
        }
        let emails = match properties.get(&names::EMAIL_ADDRESS_SET) {
            Some(Value::Emails(emails)) => emails.clone(),
            _ => Vec::new(),
        };
        let mut capabilities = capabilities.clone();
        capabilities.add_reports_from(properties);
        let account = Account {
            principal: principal.clone(),
            principal_source: *source,
            calendar_home_set: homes,
            calendar_user_address_set: properties.calendar_user_address_set().to_vec(),
            schedule_inbox: properties.schedule_inbox_url().cloned(),
            schedule_outbox: properties.schedule_outbox_url().cloned(),
            displayname: properties.displayname().map(str::to_owned),
            email_address_set: emails,
            notification_url: properties.notification_url().cloned(),
            principal_collection_set: properties.principal_collection_set().to_vec(),
            supported_reports: properties.supported_reports().to_vec(),
            capabilities,
            properties: properties.clone(),
        };
        self.state = State::Done(Ok(account));
    }
}

impl Machine for BootstrapMachine {
    type Outcome = Account;

    fn poll(&mut self) -> Output<Account> {
        match &mut self.state {
            State::Start => match self.config.principal.clone() {
                Some(principal) => match principal.resolve(&self.config.context) {
                    Ok(url) => {
                        self.state = State::ReadPrincipal {
                            principal,
                            source: PrincipalSource::Configured,
                            url,
                            started: true,
                            properties: None,
                            capabilities: None,
                        };
                        self.start_principal();
                    }
                    Err(_) => {
                        let error = Error::InvalidUrl {
                            url: principal.as_str().to_owned(),
                        };
                        self.state = State::Done(Err(error.clone()));
                        return Output::Done(Err(error));
                    }
                },
                None => {
                    self.state = State::FindPrincipal;
                    self.queue.push(Purpose::Context);
                }
            },
            State::ReadPrincipal { started, .. } if !*started => {
                *started = true;
                self.start_principal();
            }
            State::Done(result) => return Output::Done(result.clone()),
            _ => {}
        }
        if let Some(purpose) = self.queue.pop() {
            return match self.request(purpose) {
                Ok(request) => {
                    let id = self.flight.issue(purpose);
                    Output::Http { id, request }
                }
                Err(error) => {
                    self.queue.clear();
                    self.state = State::Done(Err(error.clone()));
                    Output::Done(Err(error))
                }
            };
        }
        Output::Wait
    }

    fn handle_answer(
        &mut self,
        id: RequestId,
        answer: Result<http::Response<Bytes>, TransportFailure>,
    ) -> Result<(), UsageError> {
        let Some(purpose) =
            self.flight
                .settle(matches!(self.state, State::Done(_)), id, &answer)?
        else {
            return Ok(());
        };
        let response = match answer {
            Ok(response) => response,
            Err(_) if purpose == Purpose::Options => {
                if let State::ReadPrincipal { capabilities, .. } = &mut self.state {
                    *capabilities = Some(Capabilities::default());
                }
                self.try_finish();
                return Ok(());
            }
            Err(failure) => {
                self.state = State::Done(Err(Error::Transport {
                    message: failure.message,
                }));
                return Ok(());
            }
        };
        let result = match purpose {
            Purpose::Context => self.on_context(&response),
            Purpose::Principal => self.on_principal(&response),
            Purpose::Options => {
                self.on_options(&response);
                Ok(())
            }
        };
        match result {
            Ok(()) => self.try_finish(),
            Err(error) => self.state = State::Done(Err(error)),
        }
        Ok(())
    }
}
