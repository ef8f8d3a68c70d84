//! Redirects: hop limit, loops, no downgrade, relative Locations, cross-origin reporting.

use service_discovery::{DiscoveryOptions, RedirectRefusal, Rejection, Verdict};

use crate::harness::{Reply, World, run, secure_only, with_plain};

fn refusals(trail: &[service_discovery::Attempt]) -> Vec<RedirectRefusal> {
    trail
        .iter()
        .filter_map(|a| match &a.verdict {
            Verdict::Rejected(Rejection::RedirectRefused { reason, .. }) => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_redirect_loop_is_detected_and_the_next_candidate_tried() {
    let world = World::new()
        .http(
            "https://example.com/.well-known/caldav",
            Reply::Redirect(302, "/a/"),
        )
        .http("https://example.com/a/", Reply::Redirect(307, "/b/"))
        .http(
            "https://example.com/b/",
            Reply::Redirect(301, "/.well-known/caldav"),
        )
        .http("https://example.com/", Reply::Principal(Some("/p/")));
    let run = run("example.com", secure_only(), world);
    let found = run.result.unwrap();
    assert_eq!(found.context, "https://example.com/");
    assert_eq!(refusals(&found.trail), [RedirectRefusal::Loop]);
    // Each URL of the loop was asked once.
    assert_eq!(run.log.iter().filter(|l| l.ends_with("/a/")).count(), 1);
}

#[test]
fn a_redirect_to_itself_is_a_loop() {
    let world = World::new().http(
        "https://example.com/dav",
        Reply::Redirect(301, "https://EXAMPLE.com:443/dav"),
    );
    let run = run("https://example.com/dav", secure_only(), world);
    assert_eq!(refusals(run.machine.trail()), [RedirectRefusal::Loop]);
}

#[test]
fn redirects_stop_at_the_hop_limit() {
    let mut world = World::new();
    let paths = ["/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7"];
    for pair in paths.windows(2) {
        world = world.http(
            &format!("https://example.com{}", pair[0]),
            Reply::Redirect(302, pair[1]),
        );
    }
    world = world.http("https://example.com/7", Reply::Principal(Some("/p/")));
    let mut options = DiscoveryOptions::default();
    options.max_redirects = 3;
    let run = run("https://example.com/0", options, world);
    let trail = run.machine.trail();
    assert_eq!(refusals(trail), [RedirectRefusal::TooManyHops]);
    assert!(
        run.log
            .contains(&"PROPFIND https://example.com/3".to_owned())
    );
    assert!(
        !run.log
            .contains(&"PROPFIND https://example.com/4".to_owned())
    );
    assert!(run.result.is_err());
}

#[test]
fn https_to_http_is_refused_even_when_plain_http_is_allowed() {
    for options in [secure_only(), with_plain()] {
        let world = World::new()
            .http(
                "https://example.com/.well-known/caldav",
                Reply::Redirect(301, "http://example.com/dav/"),
            )
            .http("http://example.com/dav/", Reply::Principal(Some("/dav/p/")));
        let run = run("https://example.com/.well-known/caldav", options, world);
        assert!(
            !run.log.iter().any(|l| l.contains("http://")),
            "{:?}",
            run.log
        );
        assert_eq!(refusals(run.machine.trail()), [RedirectRefusal::Downgrade]);
        assert!(run.result.is_err());
    }
}

#[test]
fn http_to_https_is_followed_when_plain_http_is_allowed() {
    let world = World::new()
        .http(
            "http://example.com/",
            Reply::Redirect(301, "https://example.com/"),
        )
        .http("https://example.com/", Reply::Principal(Some("/p/")));
    let found = run("http://example.com/", with_plain(), world)
        .result
        .unwrap();
    assert_eq!(found.context, "https://example.com/");
    assert!(
        found.hops[0].cross_origin,
        "a scheme change is an origin change"
    );
}

#[test]
fn missing_and_unusable_locations_are_refused() {
    let world = World::new()
        .http("https://example.com/a", Reply::Status(302))
        .http(
            "https://example.com/.well-known/caldav",
            Reply::Redirect(301, "mailto:ken@example.com"),
        )
        .http(
            "https://example.com/",
            Reply::Redirect(301, "https://ken:pw@example.com/dav/"),
        );
    let run = run("https://example.com/a", secure_only(), world);
    assert_eq!(
        refusals(run.machine.trail()),
        [
            RedirectRefusal::MissingLocation,
            RedirectRefusal::InvalidLocation,
            RedirectRefusal::InvalidLocation
        ]
    );
}

#[test]
fn relative_locations_resolve_against_the_request_url() {
    let world = World::new()
        .http(
            "https://example.com/x/y/start",
            Reply::Redirect(303, "../dav/?a=1"),
        )
        .http(
            "https://example.com/x/dav/?a=1",
            Reply::Principal(Some("p/")),
        );
    let found = run("https://example.com/x/y/start", secure_only(), world)
        .result
        .unwrap();
    assert_eq!(found.context, "https://example.com/x/dav/?a=1");
    assert_eq!(found.principal.unwrap(), "https://example.com/x/dav/p/");
    assert!(!found.hops[0].cross_origin);
}

#[test]
fn a_port_change_is_cross_origin() {
    let world = World::new()
        .http(
            "https://example.com/.well-known/caldav",
            Reply::Redirect(301, "https://example.com:8443/dav/"),
        )
        .http(
            "https://example.com:8443/dav/",
            Reply::Principal(Some("/dav/p/")),
        );
    let found = run("example.com", secure_only(), world).result.unwrap();
    assert!(found.hops[0].cross_origin);
    assert_eq!(
        found.trail[1].to_string(),
        "PROPFIND https://example.com/.well-known/caldav: redirected: 301 to https://example.com:8443/dav/ (cross-origin)"
    );
}
