//! RFC 6764 §6 order: SRV (TLS first), TXT path, targets by RFC 2782, `.` targets.

use service_discovery::{
    Acceptance, DiscoveryOptions, DnsAnswer, DnsFailure, Error, RecordKind, SrvRecord,
    TransportFailure, TxtRecord, Verdict,
};

use crate::harness::{Reply, World, run, secure_only, with_plain};

const SRVS: &str = "_caldavs._tcp.example.com";
const SRV: &str = "_caldav._tcp.example.com";

#[test]
fn txt_path_is_the_first_candidate_on_the_srv_target() {
    let world = World::new()
        .dns(
            SRVS,
            RecordKind::Srv,
            DnsAnswer::Srv(vec![SrvRecord::new(0, 0, 8443, "cal.example.com.")]),
        )
        .dns(
            SRVS,
            RecordKind::Txt,
            DnsAnswer::Txt(vec![TxtRecord::new([
                &b"txtvers=1"[..],
                &b"path=/dav/"[..],
            ])]),
        )
        .http(
            "https://cal.example.com:8443/dav/",
            Reply::Principal(Some("/dav/principals/ken/")),
        );
    let run = run("ken@example.com", secure_only(), world);
    let found = run.result.unwrap();
    assert_eq!(found.context, "https://cal.example.com:8443/dav/");
    assert_eq!(
        found.principal.unwrap(),
        "https://cal.example.com:8443/dav/principals/ken/"
    );
    assert_eq!(
        run.log,
        [
            "SRV _caldavs._tcp.example.com",
            "TXT _caldavs._tcp.example.com",
            "PROPFIND https://cal.example.com:8443/dav/",
        ]
    );
    assert!(matches!(
        &found.trail[1].verdict,
        Verdict::Accepted(Acceptance::TxtPath(p)) if p == "/dav/"
    ));
}

#[test]
fn without_txt_path_the_well_known_uri_then_root_of_each_target_then_the_domain() {
    let world = World::new().dns(
        SRVS,
        RecordKind::Srv,
        DnsAnswer::Srv(vec![
            SrvRecord::new(20, 0, 443, "backup.example.com"),
            SrvRecord::new(10, 0, 443, "primary.example.com"),
        ]),
    );
    let run = run("example.com", secure_only(), world);
    assert!(
        matches!(run.result, Err(Error::NotFound { .. })),
        "{:?}",
        run.result
    );
    assert_eq!(
        run.log,
        [
            "SRV _caldavs._tcp.example.com",
            "TXT _caldavs._tcp.example.com",
            "PROPFIND https://primary.example.com/.well-known/caldav",
            "GET https://primary.example.com/.well-known/caldav",
            "PROPFIND https://primary.example.com/",
            "PROPFIND https://backup.example.com/.well-known/caldav",
            "GET https://backup.example.com/.well-known/caldav",
            "PROPFIND https://backup.example.com/",
            "PROPFIND https://example.com/.well-known/caldav",
            "GET https://example.com/.well-known/caldav",
            "PROPFIND https://example.com/",
        ]
    );
    // One trail line per lookup and request.
    assert_eq!(run.machine.trail().len(), run.log.len());
}

fn first_target(seed: u64) -> (String, Vec<String>) {
    let world = World::new().dns(
        SRVS,
        RecordKind::Srv,
        DnsAnswer::Srv(vec![
            SrvRecord::new(5, 1, 443, "light.example.com"),
            SrvRecord::new(5, 60, 443, "heavy.example.com"),
            SrvRecord::new(9, 100, 443, "last.example.com"),
        ]),
    );
    let mut options = DiscoveryOptions::default();
    options.srv_seed = seed;
    let run = run("example.com", options, world);
    let hosts: Vec<String> = run
        .log
        .iter()
        .filter(|l| l.ends_with("/.well-known/caldav") && l.starts_with("PROPFIND"))
        .map(|l| l.to_owned())
        .collect();
    (hosts[0].clone(), run.log)
}

#[test]
fn weights_choose_with_the_callers_seed() {
    let mut heavy = 0;
    let mut light = 0;
    for seed in 0..100 {
        let (first, log) = first_target(seed);
        assert_eq!(
            first_target(seed).1,
            log,
            "the same seed gives the same order"
        );
        // Priority 9 always comes after both priority 5 targets.
        let last_host = log
            .iter()
            .position(|l| l.contains("last.example.com"))
            .unwrap();
        let light_pos = log
            .iter()
            .position(|l| l.contains("light.example.com"))
            .unwrap();
        let heavy_pos = log
            .iter()
            .position(|l| l.contains("heavy.example.com"))
            .unwrap();
        assert!(last_host > light_pos && last_host > heavy_pos);
        if first.contains("heavy.") {
            heavy += 1;
        } else if first.contains("light.") {
            light += 1;
        }
    }
    assert!(
        heavy > 80,
        "weight 60 against 1 should win most runs: {heavy}"
    );
    assert!(light > 0, "weight 1 should win some runs");
}

#[test]
fn no_srv_goes_to_the_domains_well_known_uri() {
    let world = World::new()
        .http(
            "https://example.com/.well-known/caldav",
            Reply::Redirect(301, "/caldav/"),
        )
        .http(
            "https://example.com/caldav/",
            Reply::Principal(Some("/caldav/ken/")),
        );
    let run = run("ken@example.com", secure_only(), world);
    let found = run.result.unwrap();
    assert_eq!(found.context, "https://example.com/caldav/");
    assert_eq!(
        run.log,
        [
            "SRV _caldavs._tcp.example.com",
            "PROPFIND https://example.com/.well-known/caldav",
            "PROPFIND https://example.com/caldav/",
        ]
    );
}

#[test]
fn a_dot_target_means_not_offered_and_nothing_is_asked_over_http() {
    let world = World::new().dns(
        SRVS,
        RecordKind::Srv,
        DnsAnswer::Srv(vec![SrvRecord::new(0, 0, 0, ".")]),
    );
    let run = run("ken@example.com", secure_only(), world);
    assert_eq!(
        run.result.unwrap_err(),
        Error::ServiceNotOffered {
            domain: "example.com".into()
        }
    );
    assert_eq!(run.log, ["SRV _caldavs._tcp.example.com"]);
}

#[test]
fn plain_srv_is_asked_only_when_allowed_and_after_tls() {
    let world = || {
        World::new()
            .dns(
                SRVS,
                RecordKind::Srv,
                DnsAnswer::Srv(vec![SrvRecord::new(0, 0, 0, ".")]),
            )
            .dns(
                SRV,
                RecordKind::Srv,
                DnsAnswer::Srv(vec![SrvRecord::new(0, 0, 8008, "plain.example.com")]),
            )
            .dns(
                SRV,
                RecordKind::Txt,
                DnsAnswer::Txt(vec![TxtRecord::new([&b"path=/cal/"[..]])]),
            )
            .http(
                "http://plain.example.com:8008/cal/",
                Reply::Principal(Some("/cal/p/")),
            )
    };
    let secure = run("example.com", secure_only(), world());
    assert!(!secure.log.iter().any(|l| l.contains("_caldav._tcp")));
    assert!(matches!(
        secure.result,
        Err(Error::ServiceNotOffered { .. })
    ));

    let plain = run("example.com", with_plain(), world());
    assert_eq!(
        plain.log,
        [
            "SRV _caldavs._tcp.example.com",
            "SRV _caldav._tcp.example.com",
            "TXT _caldav._tcp.example.com",
            "PROPFIND http://plain.example.com:8008/cal/",
        ]
    );
    assert_eq!(
        plain.result.unwrap().principal.unwrap(),
        "http://plain.example.com:8008/cal/p/"
    );
}

#[test]
fn failed_lookups_and_dead_targets_move_on() {
    let world = World::new()
        .dns(
            SRVS,
            RecordKind::Srv,
            DnsAnswer::Srv(vec![
                SrvRecord::new(0, 0, 443, "dead.example.com"),
                SrvRecord::new(1, 0, 443, "alive.example.com"),
            ]),
        )
        .dns(
            SRVS,
            RecordKind::Txt,
            DnsAnswer::Failed(DnsFailure::ServFail),
        )
        .http(
            "https://dead.example.com/.well-known/caldav",
            Reply::Fail(TransportFailure::Timeout),
        )
        .http("https://dead.example.com/", Reply::Status(503))
        .http(
            "https://alive.example.com/.well-known/caldav",
            Reply::Redirect(308, "/dav/"),
        )
        .http(
            "https://alive.example.com/dav/",
            Reply::Principal(Some("/dav/ken/")),
        );
    let run = run("example.com", secure_only(), world);
    let found = run.result.unwrap();
    assert_eq!(found.context, "https://alive.example.com/dav/");
    let lines: Vec<String> = found.trail.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "SRV _caldavs._tcp.example.com: accepted: targets dead.example.com:443, alive.example.com:443",
            "TXT _caldavs._tcp.example.com: rejected: lookup server failure",
            "PROPFIND https://dead.example.com/.well-known/caldav: rejected: timed out",
            "PROPFIND https://dead.example.com/: rejected: status 503",
            "PROPFIND https://alive.example.com/.well-known/caldav: redirected: 308 to https://alive.example.com/dav/",
            "PROPFIND https://alive.example.com/dav/: accepted: context URL, principal https://alive.example.com/dav/ken/",
        ]
    );
}
