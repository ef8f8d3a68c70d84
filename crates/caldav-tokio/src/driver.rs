//! One driver for every machine of the project.
//!
//! A machine says what to do ([`Step`]); the driver does it over the network and feeds the
//! answer back under the same id. **Feed once, then drain**: after every answer the driver
//! polls the machine until it waits or is done, queueing every request it asks for, and runs
//! up to [`Driver::with_max_in_flight`] of them at once.
//!
//! ```no_run
//! use caldav_tokio::{Driver, HttpClient, HttpConfig, Resolver};
//! use service_discovery::{DiscoveryMachine, DiscoveryOptions};
//!
//! # async fn run() -> Result<(), caldav_tokio::Error> {
//! let driver = Driver::new(HttpClient::new(HttpConfig::default())?)
//!     .with_resolver(Resolver::system()?);
//! let mut machine = DiscoveryMachine::new("alice@example.com", DiscoveryOptions::default());
//! let found = driver.run(&mut machine).await?;
//! println!("{found:?}");
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::fmt::Debug;
use std::hash::Hash;

use bytes::Bytes;
use http::{Request, Response};
use service_discovery::{DnsAnswer, DnsQuery};
use tokio::task::JoinSet;

use crate::{Error, HttpClient, Resolver};

/// What a machine wants next, in the driver's words.
#[must_use]
#[derive(Debug)]
#[non_exhaustive]
// Steps are matched and moved at once; boxing the request would cost every machine.
#[allow(clippy::large_enum_variant)]
pub enum Step<Id, T> {
    /// Send this request and answer under `id`.
    Http {
        /// The id to answer under.
        id: Id,
        /// The request.
        request: Request<Bytes>,
    },
    /// Resolve this query and answer under `id`.
    Dns {
        /// The id to answer under.
        id: Id,
        /// The query.
        query: DnsQuery,
    },
    /// Nothing to send until an answer arrives.
    Wait,
    /// The flow ended with this outcome.
    Done(T),
}

/// The small contract a machine meets to be run by [`Driver`]: every machine of the project
/// maps onto it (client-core machines through [`Core`], discovery directly).
pub trait Drive {
    /// The machine's request id.
    type Id: Copy + Eq + Hash + Debug + Send + 'static;
    /// What the flow produces.
    type Outcome;

    /// The machine's next step.
    fn step(&mut self) -> Step<Self::Id, Self::Outcome>;

    /// Feeds the response to request `id`.
    ///
    /// # Errors
    ///
    /// The machine's refusal, in words (an id not in flight, a machine already done).
    fn answer(&mut self, id: Self::Id, response: Response<Bytes>) -> Result<(), String>;

    /// Feeds the failure of request `id`.
    ///
    /// # Errors
    ///
    /// As [`Drive::answer`].
    fn fail(&mut self, id: Self::Id, error: &Error) -> Result<(), String>;

    /// Feeds the answer to DNS query `id`. Machines that never ask refuse.
    ///
    /// # Errors
    ///
    /// As [`Drive::answer`].
    fn answer_dns(&mut self, id: Self::Id, answer: DnsAnswer) -> Result<(), String> {
        let _ = answer;
        Err(format!(
            "dns answer for {id:?} to a machine that makes no dns queries"
        ))
    }
}

impl Drive for service_discovery::DiscoveryMachine {
    type Id = service_discovery::RequestId;
    type Outcome = Result<service_discovery::Discovered, service_discovery::Error>;

    fn step(&mut self) -> Step<Self::Id, Self::Outcome> {
        match self.poll() {
            service_discovery::Output::Http { id, request } => Step::Http { id, request },
            service_discovery::Output::Dns { id, query } => Step::Dns { id, query },
            service_discovery::Output::Done(result) => Step::Done(result),
            // `Wait` and any step a later version adds: nothing to do until an answer.
            _ => Step::Wait,
        }
    }

    fn answer(&mut self, id: Self::Id, response: Response<Bytes>) -> Result<(), String> {
        self.handle_response(id, response)
            .map_err(|e| e.to_string())
    }

    fn fail(&mut self, id: Self::Id, error: &Error) -> Result<(), String> {
        use service_discovery::TransportFailure as F;
        let failure = match error {
            Error::Timeout { .. } => F::Timeout,
            Error::Dns { .. } | Error::Connect { .. } => F::Connect(error.to_string()),
            Error::Tls { .. } => F::Tls(error.to_string()),
            _ => F::Other(error.to_string()),
        };
        self.handle_failure(id, failure).map_err(|e| e.to_string())
    }

    fn answer_dns(&mut self, id: Self::Id, answer: DnsAnswer) -> Result<(), String> {
        self.handle_dns(id, answer).map_err(|e| e.to_string())
    }
}

/// Runs a `caldav-client-core` [`Machine`](caldav_client_core::Machine) (bootstrap, listing,
/// sync, writes) with [`Driver::run`].
#[derive(Debug)]
pub struct Core<M>(pub M);

impl<M: caldav_client_core::Machine> Drive for Core<M> {
    type Id = caldav_client_core::RequestId;
    type Outcome = Result<M::Outcome, caldav_client_core::Error>;

    fn step(&mut self) -> Step<Self::Id, Self::Outcome> {
        match self.0.poll() {
            caldav_client_core::Output::Http { id, request } => Step::Http { id, request },
            caldav_client_core::Output::Done(result) => Step::Done(result),
            _ => Step::Wait,
        }
    }

    fn answer(&mut self, id: Self::Id, response: Response<Bytes>) -> Result<(), String> {
        self.0
            .handle_response(id, response)
            .map_err(|e| e.to_string())
    }

    fn fail(&mut self, id: Self::Id, error: &Error) -> Result<(), String> {
        self.0
            .handle_failure(
                id,
                caldav_client_core::TransportFailure::new(error.to_string()),
            )
            .map_err(|e| e.to_string())
    }
}

/// Runs machines over an [`HttpClient`] and a [`Resolver`], several requests at once.
#[derive(Clone, Debug)]
pub struct Driver {
    http: HttpClient,
    resolver: Option<Resolver>,
    max_in_flight: usize,
}

/// The result of one unit of work, tagged with the id it answers.
enum Done<Id> {
    Http(Id, Result<Response<Bytes>, Error>),
    Dns(Id, DnsAnswer),
}

impl Driver {
    /// A driver over `http`, four requests in flight at most, DNS through the system's
    /// resolver (created on the first query).
    #[must_use]
    pub fn new(http: HttpClient) -> Self {
        let resolver = http.config().resolver.clone();
        Self {
            http,
            resolver,
            max_in_flight: 4,
        }
    }

    /// Answer DNS queries with `resolver`.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Run at most `n` requests at once (at least 1).
    #[must_use]
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// The HTTP client requests go through.
    #[must_use]
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Runs `machine` until it is done and returns its outcome.
    ///
    /// Transport failures are fed to the machine (it decides what they mean); they end the run
    /// only through the machine's outcome.
    ///
    /// # Errors
    ///
    /// [`Error::Machine`] when the machine refuses an answer or waits with nothing in flight;
    /// [`Error::Config`] when it asks a DNS query and no resolver can be made.
    pub async fn run<M: Drive>(&self, machine: &mut M) -> Result<M::Outcome, Error> {
        let mut queue: VecDeque<Step<M::Id, ()>> = VecDeque::new();
        let mut running: JoinSet<Done<M::Id>> = JoinSet::new();
        let mut resolver = self.resolver.clone();
        loop {
            loop {
                match machine.step() {
                    Step::Http { id, request } => queue.push_back(Step::Http { id, request }),
                    Step::Dns { id, query } => queue.push_back(Step::Dns { id, query }),
                    Step::Wait => break,
                    Step::Done(outcome) => {
                        running.abort_all();
                        return Ok(outcome);
                    }
                }
            }
            while running.len() < self.max_in_flight {
                let Some(work) = queue.pop_front() else {
                    break;
                };
                match work {
                    Step::Http { id, request } => {
                        let http = self.http.clone();
                        running.spawn(async move { Done::Http(id, http.send(request).await) });
                    }
                    Step::Dns { id, query } => {
                        let r = match &resolver {
                            Some(r) => r.clone(),
                            None => {
                                let r = Resolver::system()?;
                                resolver = Some(r.clone());
                                r
                            }
                        };
                        running.spawn(async move { Done::Dns(id, r.query(&query).await) });
                    }
                    Step::Wait | Step::Done(()) => {}
                }
            }
            let Some(joined) = running.join_next().await else {
                return Err(Error::Machine {
                    reason: "machine waits with no request in flight".to_owned(),
                });
            };
            let fed = match joined {
                Ok(Done::Http(id, Ok(response))) => machine.answer(id, response),
                Ok(Done::Http(id, Err(error))) => machine.fail(id, &error),
                Ok(Done::Dns(id, answer)) => machine.answer_dns(id, answer),
                Err(join) => {
                    // Sending never panics; a task can only fail by being cancelled.
                    return Err(Error::Machine {
                        reason: format!("request task failed: {join}"),
                    });
                }
            };
            fed.map_err(|reason| Error::Machine { reason })?;
        }
    }
}
