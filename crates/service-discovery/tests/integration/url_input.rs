//! A URL typed by the user: tried first, then its origin's well-known URI and root.

use service_discovery::{DiscoveryOptions, Error};

use crate::harness::{Reply, World, run, secure_only, with_plain};

#[test]
fn the_url_is_tried_first_then_its_origin() {
    let world = World::new().http("https://example.com/", Reply::Principal(Some("/p/ken/")));
    let run = run("https://example.com/dav/ken/", secure_only(), world);
    assert_eq!(
        run.log,
        [
            "PROPFIND https://example.com/dav/ken/",
            "PROPFIND https://example.com/.well-known/caldav",
            "GET https://example.com/.well-known/caldav",
            "PROPFIND https://example.com/",
        ]
    );
    assert_eq!(run.result.unwrap().context, "https://example.com/");
}

#[test]
fn a_plain_http_url_needs_permission() {
    let run = run("http://example.com/dav/", secure_only(), World::new());
    assert!(matches!(run.result, Err(Error::PlainHttpNotAllowed { .. })));
    assert!(run.log.is_empty());

    let world = World::new().http("http://example.com/dav/", Reply::Principal(Some("/p/")));
    let found = run_plain(world);
    assert_eq!(found, "http://example.com/p/");
}

fn run_plain(world: World) -> String {
    run("http://example.com/dav/", with_plain(), world)
        .result
        .unwrap()
        .principal
        .unwrap()
        .to_string()
}

#[test]
fn an_unusable_input_says_where() {
    let run = run("ken@exa_mple..com", secure_only(), World::new());
    assert!(
        matches!(run.result, Err(Error::InvalidAddress { offset: 4, .. })),
        "{:?}",
        run.result
    );
}

#[test]
fn an_advertised_plain_scheme_on_the_same_host_keeps_the_requests_scheme() {
    // Proxies that advertise the backend's scheme and port (QUIRKS.md #28).
    let world = World::new().http(
        "https://cal.example.com/dav/",
        Reply::Principal(Some("http://cal.example.com:8080/dav/principals/ken/")),
    );
    let found = run(
        "https://cal.example.com/dav/",
        DiscoveryOptions::default(),
        world,
    )
    .result
    .unwrap();
    assert_eq!(
        found.principal.unwrap(),
        "https://cal.example.com/dav/principals/ken/"
    );
}
