//! Bootstrap and listing against the in-memory server and canned answers.

use bytes::Bytes;
use caldav_client_core::bootstrap::{BootstrapConfig, BootstrapMachine, PrincipalSource};
use caldav_client_core::listing::{CollectionKind, ListingConfig, ListingMachine};
use caldav_client_core::sync::{SyncConfig, SyncMachine, SyncState};
use caldav_client_core::{Error, Machine, Output, TransportFailure};
use test_support::{Driven, Server, drive, drive_with};

fn answer(status: u16, body: &str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::from(body.to_owned()))
        .unwrap()
}

#[test]
fn bootstrap_listing_and_sync_against_the_model_server() {
    let mut server = Server::new();
    server.add_calendar("/calendars/alice/work/", "Work");
    server.put(
        "/calendars/alice/work/",
        "a.ics",
        &crate::sync::event("a", "a"),
    );
    let base: http::Uri = "http://cal.example/".parse().unwrap();
    let mut bootstrap = BootstrapMachine::new(BootstrapConfig::new(base.clone()));
    let account = drive(&mut bootstrap, &mut server).unwrap();
    assert_eq!(account.principal.as_str(), "/principals/alice/");
    assert_eq!(account.calendar_home_set, ["/calendars/alice/".into()]);
    assert!(account.capabilities.sync_collection());
    // OPTIONS and the principal PROPFIND were in flight together.
    assert_eq!(server.log.len(), 3);

    let mut listing = ListingMachine::new(ListingConfig::for_account(base.clone(), &account));
    let listing = drive(&mut listing, &mut server).unwrap();
    let names: Vec<_> = listing
        .calendars()
        .map(|c| c.displayname.clone().unwrap())
        .collect();
    assert_eq!(names, ["Default", "Work"]);
    assert!(
        listing
            .calendars()
            .all(|c| c.ctag.is_some() && c.sync_token.is_some())
    );

    let calendars = listing.calendars().map(|c| c.href.clone()).collect();
    let mut sync = SyncMachine::new(SyncConfig::new(base, calendars), SyncState::default());
    let outcome = drive(&mut sync, &mut server).unwrap();
    assert_eq!(outcome.calendars[1].result.as_ref().unwrap().added.len(), 1);
}

#[test]
fn listing_counts_members_only_when_asked() {
    let mut server = Server::new();
    server.add_calendar("/calendars/alice/work/", "Work");
    for name in ["a", "b", "c"] {
        server.put(
            "/calendars/alice/work/",
            &format!("{name}.ics"),
            &crate::sync::event(name, name),
        );
    }
    let base: http::Uri = "http://cal.example/".parse().unwrap();
    let account = drive(
        &mut BootstrapMachine::new(BootstrapConfig::new(base.clone())),
        &mut server,
    )
    .unwrap();
    let counts = |server: &mut Server, count_items: bool| {
        let mut config = ListingConfig::for_account(base.clone(), &account);
        config.count_items = count_items;
        let before = server.log.len();
        let listing = drive(&mut ListingMachine::new(config), server).unwrap();
        let counts: Vec<_> = listing
            .calendars()
            .map(|c| (c.displayname.clone().unwrap(), c.items))
            .collect();
        (counts, server.log.len() - before)
    };
    let (without, requests) = counts(&mut server, false);
    assert_eq!(
        without,
        [("Default".to_owned(), None), ("Work".to_owned(), None)]
    );
    let (with, more) = counts(&mut server, true);
    assert_eq!(
        with,
        [
            ("Default".to_owned(), Some(0)),
            ("Work".to_owned(), Some(3))
        ]
    );
    // One Depth:1 PROPFIND per calendar, asking the resource type alone.
    assert_eq!(more, requests + 2);
    let (method, path) = server.log.last().unwrap();
    assert_eq!(method.as_str(), "PROPFIND");
    assert!(path.contains("/calendars/alice/"), "{path}");
}

#[test]
fn a_refused_count_is_unknown_and_the_listing_stands() {
    let home = "<multistatus xmlns=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\
        <response><href>/home/</href><propstat><prop><resourcetype><collection/></resourcetype>\
        </prop><status>HTTP/1.1 200 OK</status></propstat></response>\
        <response><href>/home/work/</href><propstat><prop><resourcetype><collection/>\
        <C:calendar/></resourcetype><displayname>Work</displayname></prop>\
        <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>";
    let mut config = ListingConfig::new(
        "http://cal.example/".parse().unwrap(),
        vec!["/home/".into()],
    );
    config.count_items = true;
    for refusal in [Ok(answer(403, "")), Err(TransportFailure::new("reset"))] {
        let mut machine = ListingMachine::new(config.clone());
        let Output::Http { id, .. } = machine.poll() else {
            panic!()
        };
        machine.handle_response(id, answer(207, home)).unwrap();
        let Output::Http { id, request } = machine.poll() else {
            panic!("a count of the calendar")
        };
        assert_eq!(request.uri().path(), "/home/work/");
        assert_eq!(request.headers()["depth"], "1");
        let body = String::from_utf8(request.body().to_vec()).unwrap();
        assert!(
            body.contains("resourcetype") && !body.contains("displayname"),
            "{body}"
        );
        machine.handle_answer(id, refusal).unwrap();
        let Output::Done(Ok(listing)) = machine.poll() else {
            panic!("the listing stands")
        };
        let work: Vec<_> = listing.calendars().collect();
        assert_eq!(work.len(), 1);
        assert_eq!(work[0].items, None);
    }
}

#[test]
fn unauthorized_carries_the_realm() {
    let mut machine = BootstrapMachine::new(BootstrapConfig::new(
        "https://cal.example/dav/".parse().unwrap(),
    ));
    let driven = drive_with(&mut machine, 10, |_| {
        http::Response::builder()
            .status(401)
            .header("WWW-Authenticate", "Basic realm=\"SabreDAV\"")
            .body(Bytes::new())
            .unwrap()
    });
    let Driven::Done(Err(Error::Unauthorized { realm })) = driven else {
        panic!("expected unauthorized")
    };
    assert_eq!(realm.as_deref(), Some("SabreDAV"));
}

#[test]
fn anonymous_answer_asks_for_credentials() {
    let mut machine =
        BootstrapMachine::new(BootstrapConfig::new("http://cal.example/".parse().unwrap()));
    let driven = drive_with(&mut machine, 10, |_| {
        answer(
            207,
            r#"<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop>
               <current-user-principal><unauthenticated/></current-user-principal></prop>
               <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#,
        )
    });
    assert!(matches!(
        driven,
        Driven::Done(Err(Error::Unauthorized { realm: None }))
    ));
}

#[test]
fn missing_principal_and_home_fall_back_to_the_context() {
    let mut machine = BootstrapMachine::new(BootstrapConfig::new(
        "http://cal.example/dav/alice/".parse().unwrap(),
    ));
    let mut options_id = None;
    let mut answered = 0;
    let account = loop {
        match machine.poll() {
            Output::Http { id, request } => {
                if request.method() == http::Method::OPTIONS {
                    options_id = Some(id);
                    continue;
                }
                answered += 1;
                let body = r#"<multistatus xmlns="DAV:"><response><href>/dav/alice/</href>
                    <propstat><prop><resourcetype><collection/></resourcetype></prop>
                    <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
                machine.handle_response(id, answer(207, body)).unwrap();
            }
            Output::Wait => {
                let id = options_id.take().expect("only OPTIONS left");
                machine
                    .handle_failure(id, TransportFailure::new("connection reset"))
                    .unwrap();
            }
            Output::Done(result) => break result.unwrap(),
            _ => unreachable!(),
        }
    };
    assert_eq!(answered, 2);
    assert_eq!(account.principal_source, PrincipalSource::Assumed);
    assert_eq!(account.principal.as_str(), "/dav/alice/");
    assert_eq!(account.calendar_home_set, ["/dav/alice/".into()]);
    assert!(!account.capabilities.calendar_access());
}

#[test]
fn listing_types_collections_by_resourcetype() {
    let body = r#"<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"
        xmlns:cs="http://calendarserver.org/ns/" xmlns:i="http://apple.com/ns/ical/">
      <d:response><d:href>/home/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
      <d:response><d:href>http://cal.example/home/work%20cal/</d:href><d:propstat><d:prop>
        <d:resourcetype><d:collection/><c:calendar/><cs:shared-owner/></d:resourcetype>
        <d:displayname>Work</d:displayname><i:calendar-color>#FF0000FF</i:calendar-color>
        <i:calendar-order>3</i:calendar-order><c:calendar-description>Job</c:calendar-description>
      </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
      <d:propstat><d:prop><cs:getctag/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>
      <d:response><d:href>/home/inbox/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:schedule-inbox/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
      <d:response><d:href>/home/outbox/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:schedule-outbox/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
      <d:response><d:href>/home/file.txt</d:href><d:propstat><d:prop><d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
    </d:multistatus>"#;
    let mut machine = ListingMachine::new(ListingConfig::new(
        "http://cal.example/".parse().unwrap(),
        vec!["/home/".into()],
    ));
    let Driven::Done(Ok(listing)) = drive_with(&mut machine, 5, |_| answer(207, body)) else {
        panic!("listing failed")
    };
    let kinds: Vec<_> = listing.collections.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            CollectionKind::Calendar,
            CollectionKind::ScheduleInbox,
            CollectionKind::ScheduleOutbox
        ]
    );
    let work = &listing.collections[0];
    assert_eq!(work.displayname.as_deref(), Some("Work"));
    assert_eq!(work.color.as_deref(), Some("#FF0000FF"));
    assert_eq!(work.order, Some(3));
    assert_eq!(work.description.as_deref(), Some("Job"));
    assert_eq!(work.ctag, None);
    assert!(work.sharing.shared_by_me);
}

#[test]
fn a_configured_principal_skips_the_context_propfind() {
    let mut server = Server::new();
    let mut config = BootstrapConfig::new("http://cal.example/".parse().unwrap());
    config.principal = Some("/principals/alice/".into());
    let mut machine = BootstrapMachine::new(config);
    let account = drive(&mut machine, &mut server).unwrap();
    assert_eq!(account.principal_source, PrincipalSource::Configured);
    assert_eq!(account.calendar_home_set, ["/calendars/alice/".into()]);
    assert_eq!(server.log.len(), 2);
}
