//! Knot DNS from Debian: the `example.test` zone for RFC 6764 discovery, on 127.0.0.1:5353
//! over UDP and TCP, from a private configuration (the packaged service is never used).
//!
//! The zone points `_caldav._tcp` / `_caldavs._tcp` at Cyrus (`cal.example.test`, ports 8008
//! and 8443, TXT `path=/dav/`), and carries the cases discovery must handle: a weighted and
//! prioritised SRV set (`multi`, RFC 2782 ordering), "service decidedly not available" (`none`,
//! target `.`), and a TXT record of several strings (`txt2`).

use super::dns::{self, Transport, Type};
use super::{CheckResult, Probe, text, write_file};
use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

const PORT: u16 = 5353;
/// The zone served.
pub(crate) const ZONE: &str = "example.test";

/// Debian packages Knot needs.
pub(crate) const APT_PACKAGES: &[&str] = &["knot"];

/// What answers when Knot is up.
pub(crate) const PROBES: &[Probe] = &[Probe::Dns(PORT)];

/// The zone file (RFC 1035 §5 master format). Bump the SOA serial when changing it.
const ZONE_FILE: &str = "\
$ORIGIN example.test.
$TTL 60
@                   IN SOA   ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@                   IN NS    ns.example.test.
ns                  IN A     127.0.0.1
cal                 IN A     127.0.0.1
cal                 IN AAAA  ::1
; RFC 6764 service records, all pointing at Cyrus
_caldav._tcp        IN SRV   0 1 8008 cal.example.test.
_caldav._tcp        IN TXT   \"path=/dav/\"
_caldavs._tcp       IN SRV   0 1 8443 cal.example.test.
_caldavs._tcp       IN TXT   \"path=/dav/\"
_carddavs._tcp      IN SRV   0 1 8443 cal.example.test.
_carddavs._tcp      IN TXT   \"path=/dav/\"
; a weighted, prioritised set for RFC 2782 selection order
_caldavs._tcp.multi IN SRV   10 60 8443 a.example.test.
_caldavs._tcp.multi IN SRV   10 40 8444 b.example.test.
_caldavs._tcp.multi IN SRV   20 0  8445 c.example.test.
a                   IN A     127.0.0.1
b                   IN A     127.0.0.1
c                   IN A     127.0.0.1
; service decidedly not available (RFC 2782: target \".\")
_caldav._tcp.none   IN SRV   0 0 0 .
_caldavs._tcp.none  IN SRV   0 0 0 .
; a TXT record of several key=value strings
_caldavs._tcp.txt2  IN SRV   0 1 8443 cal.example.test.
_caldavs._tcp.txt2  IN TXT   \"path=/caldav.php/\" \"foo=bar\"
";

/// Writes the zone and Knot's configuration; returns the command to run.
pub(crate) fn prepare(dir: &Path) -> Result<Command> {
    let zone = dir.join(format!("{ZONE}.zone"));
    write_file(&zone, ZONE_FILE)?;
    std::fs::create_dir_all(dir.join("db"))?;
    // As root, knotd would otherwise switch to the `knot` user, which cannot read this folder.
    let user = if is_root() {
        "    user: root:root\n"
    } else {
        ""
    };
    let config = dir.join("knot.conf");
    let dir_text = text(dir)?;
    write_file(
        &config,
        format!(
            "server:\n    rundir: \"{dir_text}\"\n    listen: 127.0.0.1@{PORT}\n{user}\
             \x20   background-workers: 1\n    udp-workers: 1\n    tcp-workers: 1\n\
             log:\n  - target: stderr\n    any: info\n\
             database:\n    storage: \"{dir_text}/db\"\n\
             template:\n  - id: default\n    storage: \"{dir_text}\"\n    file: \"%s.zone\"\n\
             \x20   zonefile-sync: -1\n    journal-content: none\n    semantic-checks: on\n\
             zone:\n  - domain: {ZONE}\n"
        ),
    )?;
    let mut command = Command::new("/usr/sbin/knotd");
    command.arg("-c").arg(&config).current_dir(dir);
    Ok(command)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|uids| uids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Deletes Knot's database (the zone file is rewritten at every start).
pub(crate) fn wipe(dir: &Path) -> Result<bool> {
    super::remove_all(dir, &["db"])
}

/// Where the DNS server is and what it serves.
pub(crate) fn env() -> Vec<(String, String)> {
    vec![
        (
            "CALDAV_TEST_DNS_SERVER".to_owned(),
            format!("127.0.0.1:{PORT}"),
        ),
        ("CALDAV_TEST_DNS_ZONE".to_owned(), ZONE.to_owned()),
        (
            "CALDAV_TEST_DNS_CALDAV_HOST".to_owned(),
            super::tls::SERVER_NAME.to_owned(),
        ),
    ]
}

/// Asks for `name`/`qtype` and passes when the records are exactly `expected` (any order).
fn expect(name: &str, qtype: Type, transport: Transport, expected: &[&str]) -> Result<String> {
    let answer = dns::query(PORT, name, qtype, transport)?;
    if answer.rcode != 0 || !answer.authoritative {
        bail!(
            "expected an authoritative NOERROR answer, got rcode {} aa={}",
            answer.rcode,
            answer.authoritative
        );
    }
    let mut got = answer.records.clone();
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|&e| e.to_owned()).collect();
    want.sort();
    if got != want {
        bail!("expected {want:?}, got {got:?}");
    }
    Ok(answer.records.join(" | "))
}

/// The discovery records over UDP and TCP, and NXDOMAIN for a name not in the zone.
pub(crate) fn check() -> Vec<CheckResult> {
    let caldavs = "_caldavs._tcp.example.test";
    let srv = ["0 1 8443 cal.example.test."];
    vec![
        (
            "SRV _caldavs._tcp.example.test over UDP",
            expect(caldavs, Type::Srv, Transport::Udp, &srv),
        ),
        (
            "SRV _caldavs._tcp.example.test over TCP",
            expect(caldavs, Type::Srv, Transport::Tcp, &srv),
        ),
        (
            "TXT _caldavs._tcp.example.test",
            expect(caldavs, Type::Txt, Transport::Udp, &["\"path=/dav/\""]),
        ),
        (
            "SRV _caldav._tcp.example.test",
            expect(
                "_caldav._tcp.example.test",
                Type::Srv,
                Transport::Udp,
                &["0 1 8008 cal.example.test."],
            ),
        ),
        (
            "SRV _caldavs._tcp.multi.example.test",
            expect(
                "_caldavs._tcp.multi.example.test",
                Type::Srv,
                Transport::Udp,
                &[
                    "10 60 8443 a.example.test.",
                    "10 40 8444 b.example.test.",
                    "20 0 8445 c.example.test.",
                ],
            ),
        ),
        (
            "SRV _caldavs._tcp.none.example.test",
            expect(
                "_caldavs._tcp.none.example.test",
                Type::Srv,
                Transport::Udp,
                &["0 0 0 ."],
            ),
        ),
        (
            "TXT _caldavs._tcp.txt2.example.test",
            expect(
                "_caldavs._tcp.txt2.example.test",
                Type::Txt,
                Transport::Udp,
                &["\"path=/caldav.php/\" \"foo=bar\""],
            ),
        ),
        ("NXDOMAIN for _nope._tcp.example.test", nxdomain()),
    ]
}

fn nxdomain() -> Result<String> {
    let answer = dns::query(PORT, "_nope._tcp.example.test", Type::Srv, Transport::Udp)?;
    if answer.rcode != 3 {
        bail!("expected rcode 3 (NXDOMAIN), got {}", answer.rcode);
    }
    Ok("NXDOMAIN".to_owned())
}
