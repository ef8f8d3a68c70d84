//! `.well-known/caldav` (RFC 6764 §5) and the root: the shapes real servers answer with.

use service_discovery::{Error, Rejection, Verdict};

use crate::harness::{Reply, World, run, secure_only};

#[test]
fn well_known_redirect_to_another_host_is_followed_and_reported_cross_origin() {
    // Google and iCloud send the well-known URI of the mail domain to another host.
    let world = World::new()
        .http(
            "https://gmail.example/.well-known/caldav",
            Reply::Redirect(301, "https://apidata.example.net/caldav/v2/"),
        )
        .http(
            "https://apidata.example.net/caldav/v2/",
            Reply::Principal(Some("/caldav/v2/ken%40gmail.example/user")),
        );
    let found = run("ken@gmail.example", secure_only(), world)
        .result
        .unwrap();
    assert_eq!(found.context, "https://apidata.example.net/caldav/v2/");
    // Hrefs come out in dav-xml's canonical encoding (QUIRKS.md #4): `%40` reads as `@`.
    assert_eq!(
        found.principal.unwrap(),
        "https://apidata.example.net/caldav/v2/ken@gmail.example/user"
    );
    assert_eq!(found.hops.len(), 1);
    assert!(found.hops[0].cross_origin);
    assert_eq!(
        found.hops[0].from,
        "https://gmail.example/.well-known/caldav"
    );
}

#[test]
fn propfind_answered_on_the_root_only() {
    let world = World::new().http(
        "https://example.com/",
        Reply::Principal(Some("/principals/ken/")),
    );
    let run = run("example.com", secure_only(), world);
    let found = run.result.unwrap();
    assert_eq!(found.context, "https://example.com/");
    assert_eq!(
        found.principal.unwrap(),
        "https://example.com/principals/ken/"
    );
    assert_eq!(
        &run.log[1..],
        [
            "PROPFIND https://example.com/.well-known/caldav",
            "GET https://example.com/.well-known/caldav",
            "PROPFIND https://example.com/",
        ]
    );
}

#[test]
fn propfind_answered_on_the_well_known_uri_itself() {
    let world = World::new()
        .http(
            "https://example.com/.well-known/caldav",
            Reply::Principal(Some("/p/ken/")),
        )
        .http("https://example.com/", Reply::Status(405));
    let found = run("example.com", secure_only(), world).result.unwrap();
    assert_eq!(found.context, "https://example.com/.well-known/caldav");
    assert_eq!(found.principal.unwrap(), "https://example.com/p/ken/");
}

#[test]
fn well_known_redirecting_only_on_get_is_found() {
    // sabre/RoundCube style (QUIRKS.md #1): PROPFIND on the well-known URI fails, GET redirects.
    let world = World::new()
        .http_method(
            "PROPFIND",
            "https://example.com/.well-known/caldav",
            Reply::Status(405),
        )
        .http_method(
            "GET",
            "https://example.com/.well-known/caldav",
            Reply::Redirect(302, "/remote.php/dav/"),
        )
        .http(
            "https://example.com/remote.php/dav/",
            Reply::Principal(Some("/remote.php/dav/principals/users/ken/")),
        );
    let run = run("example.com", secure_only(), world);
    assert_eq!(
        run.result.unwrap().context,
        "https://example.com/remote.php/dav/"
    );
    assert_eq!(
        &run.log[1..],
        [
            "PROPFIND https://example.com/.well-known/caldav",
            "GET https://example.com/.well-known/caldav",
            "PROPFIND https://example.com/remote.php/dav/",
        ]
    );
}

#[test]
fn status_300_is_no_well_known() {
    // SOGo answers 300 (QUIRKS.md #1): not a redirect to follow, and no GET retry either.
    let world = World::new()
        .http(
            "https://example.com/.well-known/caldav",
            Reply::Redirect(300, "/SOGo/dav/"),
        )
        .http(
            "https://example.com/",
            Reply::Principal(Some("/SOGo/dav/ken/")),
        );
    let run = run("example.com", secure_only(), world);
    assert_eq!(run.result.unwrap().context, "https://example.com/");
    assert!(!run.log.iter().any(|l| l.contains("/SOGo/dav/")));
    assert!(!run.log.iter().any(|l| l.starts_with("GET")));
}

#[test]
fn cyrus_absolute_redirect_without_trailing_slash() {
    // What Cyrus sends (SERVERS.md): an absolute Location built from the Host header.
    let world = World::new()
        .http(
            "https://cal.example.test:8443/.well-known/caldav",
            Reply::Redirect(301, "https://cal.example.test:8443/dav/calendars"),
        )
        .http(
            "https://cal.example.test:8443/dav/calendars",
            Reply::Principal(Some("/dav/principals/user/alice/")),
        );
    let found = run(
        "https://cal.example.test:8443/.well-known/caldav",
        secure_only(),
        world,
    )
    .result
    .unwrap();
    assert_eq!(found.context, "https://cal.example.test:8443/dav/calendars");
    assert_eq!(
        found.principal.unwrap(),
        "https://cal.example.test:8443/dav/principals/user/alice/"
    );
    assert!(!found.hops[0].cross_origin);
}

#[test]
fn not_found_server_errors_and_garbage_move_on_and_are_explained() {
    let world = World::new()
        .http("https://example.com/.well-known/caldav", Reply::Status(500))
        .http("https://example.com/", Reply::Body(207, b"<not xml"));
    let run = run("example.com", secure_only(), world);
    assert!(
        matches!(run.result, Err(Error::NotFound { attempts: 3 })),
        "{:?}",
        run.result
    );
    let trail = run.machine.trail();
    assert_eq!(
        trail[1].verdict,
        Verdict::Rejected(Rejection::Status(http::StatusCode::INTERNAL_SERVER_ERROR))
    );
    assert!(matches!(
        trail[2].verdict,
        Verdict::Rejected(Rejection::UnreadableMultistatus(_))
    ));
}

#[test]
fn the_seeds_first_propfind_answer_gives_kens_principal() {
    let seed = include_str!("../../../../fixtures/seed/000_4100585a271ce1c6.txt");
    let start = seed
        .find("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        .unwrap();
    let end = start + seed[start..].find("</A:multistatus>").unwrap() + "</A:multistatus>".len();
    let body: &'static str = Box::leak(seed[start..end].to_owned().into_boxed_str());
    assert!(body.contains("/principals/user/ken/"));
    let world = World::new()
        .http(
            "https://example.com/.well-known/caldav",
            Reply::Redirect(301, "/calendars"),
        )
        .http(
            "https://example.com/calendars",
            Reply::Body(207, body.as_bytes()),
        );
    let found = run("ken@example.com", secure_only(), world).result.unwrap();
    assert_eq!(found.context, "https://example.com/calendars");
    assert_eq!(
        found.principal.unwrap(),
        "https://example.com/principals/user/ken/"
    );
}
