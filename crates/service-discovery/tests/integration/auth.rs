//! 401 handling, anonymous answers (QUIRKS.md #31), missing principals (#2), and misuse.

use bytes::Bytes;
use service_discovery::{
    DiscoveryMachine, DiscoveryOptions, DnsAnswer, Error, Output, Rejection, TransportFailure,
    UsageError, Verdict,
};

use crate::harness::{OnUnauthorized, Reply, World, drive, run, secure_only};

fn protected_world() -> World {
    let mut world = World::new()
        .http(
            "https://example.com/.well-known/caldav",
            Reply::Redirect(301, "/dav/calendars"),
        )
        .http(
            "https://example.com/dav/calendars",
            Reply::Principal(Some("/dav/principals/user/ken/")),
        )
        .http("https://example.com/", Reply::Principal(None));
    world.protected = Some(("https://example.com/dav/", "localhost"));
    world
}

#[test]
fn a_401_stops_with_the_realm() {
    let run = run("example.com", secure_only(), protected_world());
    match &run.result {
        Err(Error::Unauthorized {
            url,
            realm,
            challenges,
        }) => {
            assert_eq!(**url, "https://example.com/dav/calendars");
            assert_eq!(realm.as_deref(), Some("localhost"));
            assert_eq!(challenges, &[r#"Basic realm="localhost""#]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run.result_display(),
        "credentials needed for realm localhost"
    );
}

trait Shown {
    fn result_display(&self) -> String;
}

impl Shown for crate::harness::Run {
    fn result_display(&self) -> String {
        match &self.result {
            Ok(d) => d.context.to_string(),
            Err(e) => e.to_string(),
        }
    }
}

#[test]
fn a_401_then_retry_with_credentials_finds_the_principal() {
    let machine = DiscoveryMachine::new("example.com", secure_only());
    let run = drive(machine, protected_world(), OnUnauthorized::Resume);
    let found = run.result.unwrap();
    assert_eq!(found.context, "https://example.com/dav/calendars");
    assert_eq!(
        found.principal.unwrap(),
        "https://example.com/dav/principals/user/ken/"
    );
    assert!(found.authenticated);
    assert_eq!(found.hops.len(), 1, "the hop before the 401 is kept");
    assert_eq!(
        &run.log[1..],
        [
            "PROPFIND https://example.com/.well-known/caldav",
            "PROPFIND https://example.com/dav/calendars",
            "PROPFIND https://example.com/dav/calendars",
        ]
    );
}

#[test]
fn skipping_a_401_tries_the_next_candidate() {
    let machine = DiscoveryMachine::new("example.com", secure_only());
    let run = drive(machine, protected_world(), OnUnauthorized::Skip);
    // Only the anonymous root is left: kept as a last resort, flagged unauthenticated.
    let found = run.result.unwrap();
    assert_eq!(found.context, "https://example.com/");
    assert_eq!(found.principal, None);
    assert!(!found.authenticated);
    assert!(found.needs_credentials());
}

#[test]
fn an_anonymous_root_does_not_hide_the_401_behind_it() {
    // Cyrus (QUIRKS.md #31): `/` answers 207 without credentials and without a principal.
    let machine = DiscoveryMachine::new("https://example.com/", secure_only());
    let run = drive(machine, protected_world(), OnUnauthorized::Stop);
    assert!(
        matches!(run.result, Err(Error::Unauthorized { .. })),
        "{:?}",
        run.result
    );
    assert_eq!(
        run.machine.trail()[0].verdict,
        Verdict::Rejected(Rejection::NoPrincipal)
    );

    let machine = DiscoveryMachine::new("https://example.com/", secure_only());
    let found = drive(machine, protected_world(), OnUnauthorized::Resume)
        .result
        .unwrap();
    assert_eq!(
        found.principal.unwrap(),
        "https://example.com/dav/principals/user/ken/"
    );
}

#[test]
fn with_credentials_attached_a_principal_less_answer_is_accepted_at_once() {
    // A server without current-user-principal (QUIRKS.md #2).
    let world = World::new().http("https://example.com/dav/", Reply::Principal(None));
    let mut options = DiscoveryOptions::default();
    options.credentials_attached = true;
    let run = run("https://example.com/dav/", options, world);
    let found = run.result.unwrap();
    assert_eq!(found.context, "https://example.com/dav/");
    assert_eq!(found.principal, None);
    assert!(found.authenticated);
    assert!(!found.needs_credentials());
    assert_eq!(run.log.len(), 1);
}

#[test]
fn dav_unauthenticated_counts_as_no_principal() {
    let world = World::new().http("https://example.com/dav/", Reply::Unauthenticated);
    let run = run("https://example.com/dav/", secure_only(), world);
    let found = run.result.unwrap();
    assert_eq!(found.principal, None);
    assert_eq!(run.log.len(), 4, "the other candidates were still tried");
}

fn first_http(machine: &mut DiscoveryMachine) -> service_discovery::RequestId {
    match machine.poll() {
        Output::Http { id, .. } => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn misuse_is_a_typed_error_and_changes_nothing() {
    let mut machine = DiscoveryMachine::new("https://example.com/", secure_only());
    assert_eq!(
        machine.resume_with_credentials(),
        Err(UsageError::NotPausedForCredentials)
    );
    let id = first_http(&mut machine);
    assert!(matches!(machine.poll(), Output::Wait));
    assert!(matches!(
        machine.handle_dns(id, DnsAnswer::NxDomain),
        Err(UsageError::AnswerDoesNotFit { .. })
    ));
    let mut other = DiscoveryMachine::new("https://example.com/", secure_only());
    let foreign = first_http(&mut other);
    let _ = other.handle_failure(foreign, TransportFailure::Reset);
    let next = first_http(&mut other);
    assert!(matches!(
        machine.handle_failure(next, TransportFailure::Reset),
        Err(UsageError::UnknownId { .. })
    ));
    // The right answer still works after the misuse.
    machine
        .handle_response(id, http::Response::new(Bytes::new()))
        .unwrap();
    assert!(matches!(machine.poll(), Output::Http { .. }));
}

#[test]
fn a_txt_answer_to_an_srv_query_is_misuse() {
    let mut machine = DiscoveryMachine::new("example.com", secure_only());
    let Output::Dns { id, .. } = machine.poll() else {
        panic!()
    };
    assert!(matches!(
        machine.handle_dns(id, DnsAnswer::Txt(vec![])),
        Err(UsageError::AnswerDoesNotFit { .. })
    ));
    machine.handle_dns(id, DnsAnswer::NoData).unwrap();
}

#[test]
fn answers_after_done_are_misuse_and_done_repeats() {
    let mut machine = DiscoveryMachine::new("ftp://example.com", secure_only());
    let first = machine.poll();
    assert!(matches!(
        first,
        Output::Done(Err(Error::InvalidAddress { .. }))
    ));
    assert!(matches!(
        machine.poll(),
        Output::Done(Err(Error::InvalidAddress { .. }))
    ));
    assert!(matches!(
        machine.skip_unauthorized(),
        Err(UsageError::NotPausedForCredentials)
    ));
}

#[test]
fn without_current_user_principal_a_principal_url_or_type_names_the_principal() {
    // QUIRKS.md #2: servers without current-user-principal; the user typed a principal URL.
    let by_property: &[u8] = br#"<d:multistatus xmlns:d="DAV:"><d:response>
        <d:href>/u/ken/</d:href><d:propstat><d:prop>
        <d:principal-URL><d:href>/u/ken/</d:href></d:principal-URL>
        </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
        <d:propstat><d:prop><d:current-user-principal/></d:prop>
        <d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response></d:multistatus>"#;
    let by_type: &[u8] = br#"<d:multistatus xmlns:d="DAV:"><d:response>
        <d:href>/u/ken/</d:href><d:propstat><d:prop>
        <d:resourcetype><d:collection/><d:principal/></d:resourcetype>
        </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
    for body in [by_property, by_type] {
        let world = World::new().http("https://example.com/u/ken/", Reply::Body(207, body));
        let found = run("https://example.com/u/ken/", secure_only(), world)
            .result
            .unwrap();
        assert_eq!(found.principal.unwrap(), "https://example.com/u/ken/");
    }
}

#[test]
fn a_principal_in_a_failed_propstat_is_not_taken() {
    let body: &[u8] = br#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/dav/</d:href>
        <d:propstat><d:prop><d:current-user-principal><d:href>/p/</d:href>
        </d:current-user-principal></d:prop><d:status>HTTP/1.1 403 Forbidden</d:status>
        </d:propstat></d:response></d:multistatus>"#;
    let world = World::new().http("https://example.com/dav/", Reply::Body(207, body));
    let run = run("https://example.com/dav/", secure_only(), world);
    assert_eq!(
        run.machine.trail()[0].verdict,
        Verdict::Rejected(Rejection::NoPrincipal)
    );
}
