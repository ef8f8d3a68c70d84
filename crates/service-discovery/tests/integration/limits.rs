//! Limits on what resolvers and servers control, and odd DNS answers.

use service_discovery::{
    DiscoveryOptions, DnsAnswer, Error, RecordKind, Rejection, SrvRecord, TxtRecord, Verdict,
};

use crate::harness::{Reply, World, run, secure_only};

const SRVS: &str = "_caldavs._tcp.example.com";

fn rejections(run: &crate::harness::Run) -> Vec<Rejection> {
    run.machine
        .trail()
        .iter()
        .filter_map(|a| match &a.verdict {
            Verdict::Rejected(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_request_budget_ends_the_run() {
    let mut options = DiscoveryOptions::default();
    options.max_requests = 3;
    let run = run("example.com", options, World::new());
    assert_eq!(run.result.unwrap_err(), Error::TooManyRequests { limit: 3 });
    assert_eq!(run.log.len(), 3);
}

#[test]
fn a_body_over_the_limit_is_not_read() {
    let mut options = DiscoveryOptions::default();
    options.max_body_bytes = 64;
    let world = World::new().http("https://example.com/dav/", Reply::Principal(Some("/p/")));
    let run = run("https://example.com/dav/", options, world);
    assert!(matches!(
        rejections(&run)[0],
        Rejection::UnreadableMultistatus(ref why) if why.contains("64 bytes")
    ));
}

#[test]
fn only_the_first_srv_records_are_considered() {
    let records = (0..40)
        .map(|i| SrvRecord::new(0, 1, 443, format!("h{i}.example.com")))
        .collect();
    let mut options = DiscoveryOptions::default();
    options.max_srv_records = 2;
    let world = World::new().dns(SRVS, RecordKind::Srv, DnsAnswer::Srv(records));
    let run = run("example.com", options, world);
    let hosts = run.log.iter().filter(|l| l.contains("://h")).count();
    assert_eq!(hosts, 2 * 3, "two targets, three requests each");
}

#[test]
fn unusable_srv_targets_and_a_mixed_dot_fall_through() {
    let world = World::new().dns(
        SRVS,
        RecordKind::Srv,
        DnsAnswer::Srv(vec![
            SrvRecord::new(0, 0, 0, "noport.example.com"),
            SrvRecord::new(0, 0, 443, "bad name.example.com"),
        ]),
    );
    let run = run("example.com", secure_only(), world);
    assert_eq!(rejections(&run)[0], Rejection::NoUsableTarget);
    assert!(
        run.log
            .contains(&"PROPFIND https://example.com/.well-known/caldav".to_owned())
    );

    // A `.` beside a real target is ignored: the real one is used.
    let world = World::new()
        .dns(
            SRVS,
            RecordKind::Srv,
            DnsAnswer::Srv(vec![
                SrvRecord::new(0, 0, 0, "."),
                SrvRecord::new(1, 0, 443, "cal.example.com"),
            ]),
        )
        .http(
            "https://cal.example.com/.well-known/caldav",
            Reply::Principal(Some("/p/")),
        );
    assert_eq!(
        run_ok("example.com", world),
        "https://cal.example.com/.well-known/caldav"
    );
}

fn run_ok(input: &str, world: World) -> String {
    run(input, secure_only(), world)
        .result
        .unwrap()
        .context
        .to_string()
}

#[test]
fn an_invalid_txt_path_falls_back_to_the_well_known_uri() {
    let world = World::new()
        .dns(
            SRVS,
            RecordKind::Srv,
            DnsAnswer::Srv(vec![SrvRecord::new(0, 0, 443, "cal.example.com")]),
        )
        .dns(
            SRVS,
            RecordKind::Txt,
            DnsAnswer::Txt(vec![TxtRecord::new([&b"path=relative/dav"[..]])]),
        )
        .http(
            "https://cal.example.com/.well-known/caldav",
            Reply::Principal(Some("/p/")),
        );
    let run = run("example.com", secure_only(), world);
    assert_eq!(
        rejections(&run),
        [Rejection::InvalidTxtPath("relative/dav".into())]
    );
    assert_eq!(
        run.log[2],
        "PROPFIND https://cal.example.com/.well-known/caldav"
    );
}

#[test]
fn nxdomain_and_no_data_are_told_apart_in_the_trail() {
    let world = World::new().dns(SRVS, RecordKind::Srv, DnsAnswer::NoData);
    let run = run("example.com", secure_only(), world);
    assert_eq!(rejections(&run)[0], Rejection::NoData);
    let run = crate::harness::run("example.org", secure_only(), World::new());
    assert_eq!(rejections(&run)[0], Rejection::NxDomain);
    assert_eq!(
        run.machine.trail()[0].to_string(),
        "SRV _caldavs._tcp.example.org: rejected: no such name"
    );
}
