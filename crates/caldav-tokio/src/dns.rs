//! Name resolution with hickory-resolver: the addresses of the hosts HTTP requests go to
//! (RFC 1035 A, RFC 3596 AAAA) and the SRV (RFC 2782) and TXT records of RFC 6764 discovery.
//!
//! A [`Resolver`] either reads the system's configuration (`/etc/resolv.conf`) or asks the
//! name servers the caller names, for example a test zone on `127.0.0.1:5353`. The same
//! resolver answers the machines' DNS queries and finds the addresses the HTTP client connects
//! to, so a name that exists only in that zone (`cal.example.test`) works end to end.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr as _;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{Name, ResolveError};

use service_discovery::{DnsAnswer, DnsFailure, DnsQuery, RecordKind, SrvRecord, TxtRecord};

use crate::Error;

/// A DNS resolver (cheap to clone: clones share one cache).
#[derive(Clone, Debug)]
pub struct Resolver {
    inner: TokioResolver,
}

/// Why a lookup produced no records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LookupFailure {
    /// The name does not exist.
    NxDomain,
    /// The name exists without records of that type.
    NoData,
    /// The server answered SERVFAIL.
    ServFail,
    /// The server refused.
    Refused,
    /// No answer in time.
    Timeout,
    /// Anything else, in the resolver's words.
    Other(String),
}

impl std::fmt::Display for LookupFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NxDomain => f.write_str("no such name"),
            Self::NoData => f.write_str("no records of that type"),
            Self::ServFail => f.write_str("server failure"),
            Self::Refused => f.write_str("refused"),
            Self::Timeout => f.write_str("timed out"),
            Self::Other(why) => f.write_str(why),
        }
    }
}

impl Resolver {
    /// A resolver configured like the system's (`/etc/resolv.conf` on Unix).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the system configuration cannot be read.
    pub fn system() -> Result<Self, Error> {
        let builder = hickory_resolver::Resolver::builder_tokio().map_err(|e| Error::Config {
            reason: format!("system resolver: {e}"),
        })?;
        Ok(Self {
            inner: builder.build(),
        })
    }

    /// A resolver that asks only `servers`, over UDP and, for truncated answers, TCP.
    ///
    /// Names are always treated as fully qualified: no search domain is appended.
    #[must_use]
    pub fn with_name_servers(servers: &[SocketAddr]) -> Self {
        let mut config = ResolverConfig::new();
        for &addr in servers {
            config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
            config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
        }
        let mut opts = ResolverOpts::default();
        opts.timeout = Duration::from_secs(5);
        opts.attempts = 2;
        opts.ndots = 0;
        let inner = hickory_resolver::Resolver::builder_with_config(
            config,
            TokioConnectionProvider::default(),
        )
        .with_options(opts)
        .build();
        Self { inner }
    }

    /// The addresses of `host`; an IP literal is its own answer.
    ///
    /// # Errors
    ///
    /// The lookup failure, in words, when there is no address.
    pub async fn lookup_ip(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = IpAddr::from_str(bare) {
            return Ok(vec![ip]);
        }
        let name = fqdn(host).map_err(|e| e.to_string())?;
        match self.inner.lookup_ip(name).await {
            Ok(found) => {
                let ips: Vec<IpAddr> = found.iter().collect();
                if ips.is_empty() {
                    Err(LookupFailure::NoData.to_string())
                } else {
                    Ok(ips)
                }
            }
            Err(e) => Err(classify(&e).to_string()),
        }
    }

    /// Answers a discovery machine's query (RFC 6764 §3 SRV, §4 TXT).
    ///
    /// Every outcome is an answer the machine understands: records, NXDOMAIN, no data, or a
    /// failure (timeout, SERVFAIL, refused, other).
    pub async fn query(&self, query: &DnsQuery) -> DnsAnswer {
        let failed = |f: LookupFailure| match f {
            LookupFailure::NxDomain => DnsAnswer::NxDomain,
            LookupFailure::NoData => DnsAnswer::NoData,
            LookupFailure::ServFail => DnsAnswer::Failed(DnsFailure::ServFail),
            LookupFailure::Refused => DnsAnswer::Failed(DnsFailure::Refused),
            LookupFailure::Timeout => DnsAnswer::Failed(DnsFailure::Timeout),
            LookupFailure::Other(why) => DnsAnswer::Failed(DnsFailure::Other(why)),
        };
        match query.kind {
            RecordKind::Srv => match self.srv(&query.name).await {
                Ok(records) => DnsAnswer::Srv(
                    records
                        .into_iter()
                        .map(|(p, w, port, target)| SrvRecord::new(p, w, port, target))
                        .collect(),
                ),
                Err(f) => failed(f),
            },
            RecordKind::Txt => match self.txt(&query.name).await {
                Ok(records) => DnsAnswer::Txt(records.into_iter().map(TxtRecord::new).collect()),
                Err(f) => failed(f),
            },
            _ => DnsAnswer::Failed(DnsFailure::Other(format!(
                "record type {} not supported",
                query.kind
            ))),
        }
    }

    /// SRV records of `name` as (priority, weight, port, target without the final dot).
    pub(crate) async fn srv(
        &self,
        name: &str,
    ) -> Result<Vec<(u16, u16, u16, String)>, LookupFailure> {
        let name = fqdn(name).map_err(|e| LookupFailure::Other(e.to_string()))?;
        match self.inner.srv_lookup(name).await {
            Ok(found) => Ok(found
                .iter()
                .map(|r| {
                    let target = r.target().to_ascii();
                    let target = target.strip_suffix('.').unwrap_or(&target).to_owned();
                    (r.priority(), r.weight(), r.port(), target)
                })
                .collect()),
            Err(e) => Err(classify(&e)),
        }
    }

    /// TXT records of `name`, each as its character-strings.
    pub(crate) async fn txt(&self, name: &str) -> Result<Vec<Vec<Vec<u8>>>, LookupFailure> {
        let name = fqdn(name).map_err(|e| LookupFailure::Other(e.to_string()))?;
        match self.inner.txt_lookup(name).await {
            Ok(found) => Ok(found
                .iter()
                .map(|r| r.txt_data().iter().map(|s| s.to_vec()).collect())
                .collect()),
            Err(e) => Err(classify(&e)),
        }
    }
}

/// `name` as a fully qualified name, so no search domain is ever tried.
fn fqdn(name: &str) -> Result<Name, hickory_resolver::proto::ProtoError> {
    if name.ends_with('.') {
        Name::from_str(name)
    } else {
        Name::from_str(&format!("{name}."))
    }
}

fn classify(e: &ResolveError) -> LookupFailure {
    if let Some(proto) = e.proto() {
        match proto.kind() {
            ProtoErrorKind::NoRecordsFound { response_code, .. } => {
                return match *response_code {
                    ResponseCode::NXDomain => LookupFailure::NxDomain,
                    ResponseCode::NoError => LookupFailure::NoData,
                    ResponseCode::ServFail => LookupFailure::ServFail,
                    ResponseCode::Refused => LookupFailure::Refused,
                    other => LookupFailure::Other(format!("response code {other}")),
                };
            }
            ProtoErrorKind::Timeout => return LookupFailure::Timeout,
            _ => {}
        }
    }
    LookupFailure::Other(e.to_string())
}
