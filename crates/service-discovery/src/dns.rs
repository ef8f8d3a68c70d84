//! DNS questions and answers the machine exchanges with its caller.
//!
//! RFC 6764 §3 names the services `_caldavs._tcp` (TLS) and `_caldav._tcp` (plain) and looks them
//! up with SRV records (RFC 2782); §4 puts the context path in a TXT record at the same name
//! (`path=/...`, key/value strings as in RFC 6763 §6). The types here are this crate's own so any
//! resolver (hickory-resolver in the tokio adapter, a canned table in tests) can be mapped onto
//! them, and they can say everything an authoritative server answers: several SRV records with
//! priority, weight, port and target; TXT records of several strings; NXDOMAIN; no data.
//!
//! Target ordering follows RFC 2782 ("Usage rules"):
//!
//! ```text
//! A client MUST attempt to contact the target host with the lowest-numbered priority it can
//! reach; target hosts with the same priority SHOULD be tried in an order defined by the weight
//! field. [...] arrange all SRV RRs (that have not been ordered yet) in any order, except that
//! all those with weight 0 are placed at the beginning of the list. Compute the sum of the
//! weights of those RRs, and with each RR associate the running sum in the selected order. Then
//! choose a uniform random number between 0 and the sum computed (inclusive), and select the RR
//! whose running sum value is the first in the selected order which is greater than or equal to
//! the random number selected.
//! ```
//!
//! The random numbers come from the caller's seed (see [`crate::DiscoveryOptions::srv_seed`]):
//! the machine holds no RNG of its own, so a test that fixes the seed is deterministic.

use std::fmt;

/// The record type of a [`DnsQuery`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordKind {
    /// An SRV lookup (RFC 2782).
    Srv,
    /// A TXT lookup (RFC 1035 §3.3.14), here for the RFC 6764 §4 `path=` key.
    Txt,
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Srv => "SRV",
            Self::Txt => "TXT",
        })
    }
}

/// A DNS lookup the caller performs for the machine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DnsQuery {
    /// The fully qualified name to look up, without the trailing dot, e.g.
    /// `_caldavs._tcp.example.com`.
    pub name: String,
    /// Which record type to ask for.
    pub kind: RecordKind,
}

impl fmt::Display for DnsQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// One SRV record (RFC 2782) as the resolver returned it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SrvRecord {
    /// Lower values are tried first.
    pub priority: u16,
    /// Relative weight among records of the same priority.
    pub weight: u16,
    /// The TCP port of the service.
    pub port: u16,
    /// The target host name; `.` (or an empty name) means "no service here".
    pub target: String,
}

impl SrvRecord {
    /// A record from its four fields.
    #[must_use]
    pub fn new(priority: u16, weight: u16, port: u16, target: impl Into<String>) -> Self {
        Self {
            priority,
            weight,
            port,
            target: target.into(),
        }
    }

    /// Whether this record is the RFC 2782 "decidedly not available" marker (target `.`).
    #[must_use]
    pub fn is_no_service(&self) -> bool {
        let t = self.target.trim_end_matches('.');
        t.is_empty()
    }
}

/// One TXT record: its character-strings in order, as raw bytes (RFC 1035 does not say they are
/// text).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct TxtRecord {
    /// The record's character-strings, each at most 255 bytes on the wire.
    pub strings: Vec<Vec<u8>>,
}

impl TxtRecord {
    /// A record from its strings.
    #[must_use]
    pub fn new<I, S>(strings: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Vec<u8>>,
    {
        Self {
            strings: strings.into_iter().map(Into::into).collect(),
        }
    }
}

/// Why a lookup failed, as opposed to a definite "no such name" or "no such record".
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DnsFailure {
    /// The server answered SERVFAIL.
    ServFail,
    /// The server refused the query.
    Refused,
    /// No answer arrived in the caller's time.
    Timeout,
    /// Anything else the resolver reported, described in its words.
    Other(String),
}

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServFail => f.write_str("server failure"),
            Self::Refused => f.write_str("refused"),
            Self::Timeout => f.write_str("timed out"),
            Self::Other(why) => write!(f, "failed: {why}"),
        }
    }
}

/// The caller's answer to a [`DnsQuery`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DnsAnswer {
    /// SRV records, for an SRV query.
    Srv(Vec<SrvRecord>),
    /// TXT records, for a TXT query.
    Txt(Vec<TxtRecord>),
    /// The name does not exist (RCODE 3).
    NxDomain,
    /// The name exists but holds no record of the asked type.
    NoData,
    /// The lookup failed.
    Failed(DnsFailure),
}

impl DnsAnswer {
    /// Whether this answer may answer a query of `kind` (the negative answers fit any query).
    #[must_use]
    pub fn fits(&self, kind: RecordKind) -> bool {
        match self {
            Self::Srv(_) => kind == RecordKind::Srv,
            Self::Txt(_) => kind == RecordKind::Txt,
            Self::NxDomain | Self::NoData | Self::Failed(_) => true,
        }
    }
}

/// A host and port to try, taken from an SRV record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceTarget {
    /// The target host, lowercase, without the trailing dot.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl fmt::Display for ServiceTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// A small deterministic generator (SplitMix64) over the caller's seed: the randomness RFC 2782
/// asks for, without the machine owning an entropy source.
#[derive(Clone, Debug)]
pub(crate) struct SeededChoice(u64);

impl SeededChoice {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform-enough number in `0..=max`.
    fn up_to(&mut self, max: u32) -> u32 {
        let span = u64::from(max) + 1;
        u32::try_from(self.next() % span).unwrap_or(max)
    }
}

/// What the SRV records of one service name say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SrvVerdict {
    /// Targets in the order to try them.
    Targets(Vec<ServiceTarget>),
    /// Only `.` targets: the service is decidedly not offered.
    NoService,
    /// Records were present but none had a usable target.
    Unusable,
}

/// Orders SRV records by RFC 2782, considering at most `limit` records.
pub(crate) fn order_srv(
    records: &[SrvRecord],
    limit: usize,
    choice: &mut SeededChoice,
) -> SrvVerdict {
    let considered = records.iter().take(limit);
    let mut usable: Vec<(u16, u16, ServiceTarget)> = Vec::new();
    let mut saw_no_service = false;
    for record in considered {
        if record.is_no_service() {
            saw_no_service = true;
            continue;
        }
        let Some(host) = normalize_host(&record.target) else {
            continue;
        };
        if record.port == 0 {
            continue;
        }
        let target = ServiceTarget {
            host,
            port: record.port,
        };
        if usable.iter().any(|(_, _, t)| *t == target) {
            continue;
        }
        usable.push((record.priority, record.weight, target));
    }
    if usable.is_empty() {
        return if saw_no_service {
            SrvVerdict::NoService
        } else {
            SrvVerdict::Unusable
        };
    }
    // Stable sort keeps the resolver's order inside a priority; weight 0 first as RFC 2782 says.
    usable.sort_by_key(|(priority, weight, _)| (*priority, *weight != 0));
    let mut ordered = Vec::with_capacity(usable.len());
    let mut rest = usable;
    while let Some(priority) = rest.first().map(|(p, _, _)| *p) {
        let split = rest
            .iter()
            .position(|(p, _, _)| *p != priority)
            .unwrap_or(rest.len());
        let later = rest.split_off(split);
        let mut group = rest;
        while !group.is_empty() {
            let total: u32 = group.iter().map(|(_, w, _)| u32::from(*w)).sum();
            let pick = choice.up_to(total);
            let mut running = 0u32;
            let mut chosen = group.len().saturating_sub(1);
            for (i, (_, w, _)) in group.iter().enumerate() {
                running += u32::from(*w);
                if running >= pick {
                    chosen = i;
                    break;
                }
            }
            let (_, _, target) = group.remove(chosen);
            ordered.push(target);
        }
        rest = later;
    }
    SrvVerdict::Targets(ordered)
}

/// Lowercases a DNS host name and checks it is a plausible LDH name (RFC 1123 §2.1; underscores
/// are tolerated because real zones contain them).
pub(crate) fn normalize_host(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return None;
    }
    for label in name.split('.') {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
    }
    Some(name.to_ascii_lowercase())
}

/// What the TXT records of a service name say about the context path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TxtPath {
    /// A usable `path=` value.
    Path(String),
    /// No `path` key.
    Absent,
    /// A `path` key whose value cannot be a path-absolute URL path.
    Invalid(String),
}

/// Finds the RFC 6764 §4 `path` key, looking at no more than `limit` strings in all.
pub(crate) fn txt_path(records: &[TxtRecord], limit: usize) -> TxtPath {
    let mut invalid = None;
    for string in records.iter().flat_map(|r| r.strings.iter()).take(limit) {
        let (key, value) = match string.iter().position(|&b| b == b'=') {
            Some(eq) => (string.get(..eq), string.get(eq + 1..)),
            None => (Some(string.as_slice()), None),
        };
        // RFC 6763 §6.4: keys compare case-insensitively.
        if !key.is_some_and(|k| k.eq_ignore_ascii_case(b"path")) {
            continue;
        }
        let text = value.and_then(|v| std::str::from_utf8(v).ok());
        match text {
            Some(path) if is_context_path(path) => return TxtPath::Path(path.to_owned()),
            _ => {
                if invalid.is_none() {
                    invalid = Some(String::from_utf8_lossy(value.unwrap_or_default()).into_owned());
                }
            }
        }
    }
    match invalid {
        Some(v) => TxtPath::Invalid(v),
        None => TxtPath::Absent,
    }
}

fn is_context_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 2048
        && http::uri::PathAndQuery::try_from(path).is_ok()
        && !path.contains('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(v: SrvVerdict) -> Vec<String> {
        match v {
            SrvVerdict::Targets(t) => t.iter().map(|t| t.to_string()).collect(),
            other => panic!("expected targets, got {other:?}"),
        }
    }

    #[test]
    fn priority_orders_before_weight() {
        let records = [
            SrvRecord::new(20, 100, 443, "b.example.com."),
            SrvRecord::new(10, 0, 8443, "a.example.com."),
        ];
        let got = targets(order_srv(&records, 16, &mut SeededChoice::new(7)));
        assert_eq!(got, ["a.example.com:8443", "b.example.com:443"]);
    }

    #[test]
    fn sole_dot_target_means_no_service() {
        let records = [SrvRecord::new(0, 0, 0, ".")];
        assert_eq!(
            order_srv(&records, 16, &mut SeededChoice::new(1)),
            SrvVerdict::NoService
        );
    }

    #[test]
    fn weights_follow_the_seed_and_cover_both_orders() {
        let records = [
            SrvRecord::new(0, 1, 443, "light.example."),
            SrvRecord::new(0, 99, 443, "heavy.example."),
        ];
        let mut heavy_first = 0;
        for seed in 0..200 {
            let a = targets(order_srv(&records, 16, &mut SeededChoice::new(seed)));
            let b = targets(order_srv(&records, 16, &mut SeededChoice::new(seed)));
            assert_eq!(a, b, "same seed, same order");
            if a[0].starts_with("heavy") {
                heavy_first += 1;
            }
        }
        assert!(heavy_first > 150, "heavy first only {heavy_first} of 200");
        assert!(heavy_first < 200, "light never first");
    }

    #[test]
    fn zero_weight_only_group_keeps_every_target() {
        let records = [
            SrvRecord::new(0, 0, 443, "a.example."),
            SrvRecord::new(0, 0, 443, "b.example."),
            SrvRecord::new(0, 0, 443, "c.example."),
        ];
        let mut got = targets(order_srv(&records, 16, &mut SeededChoice::new(3)));
        got.sort();
        assert_eq!(got, ["a.example:443", "b.example:443", "c.example:443"]);
    }

    #[test]
    fn record_limit_is_applied() {
        let records: Vec<_> = (0..40)
            .map(|i| SrvRecord::new(0, 1, 443, format!("h{i}.example.")))
            .collect();
        assert_eq!(
            targets(order_srv(&records, 5, &mut SeededChoice::new(0))).len(),
            5
        );
    }

    #[test]
    fn txt_path_key_is_case_insensitive_and_among_several_strings() {
        let records = [TxtRecord::new([&b"txtvers=1"[..], &b"PATH=/dav/"[..]])];
        assert_eq!(txt_path(&records, 32), TxtPath::Path("/dav/".into()));
    }

    #[test]
    fn txt_path_must_be_path_absolute() {
        let records = [TxtRecord::new([&b"path=dav"[..]])];
        assert_eq!(txt_path(&records, 32), TxtPath::Invalid("dav".into()));
        assert_eq!(
            txt_path(&[TxtRecord::new([&b"x=1"[..]])], 32),
            TxtPath::Absent
        );
    }
}
