//! Replay of the seed: the CalConnect page's bootstrap examples and the Cyrus trace of Apple
//! CalendarAgent, driven through the bootstrap, listing and sync machines.

use caldav_client_core::QuirkProfile;
use caldav_client_core::bootstrap::{BootstrapConfig, BootstrapMachine, PrincipalSource};
use caldav_client_core::listing::{CollectionKind, ListingConfig, ListingMachine};
use caldav_client_core::sync::{SyncConfig, SyncMachine, SyncMethod, SyncState};
use test_support::replay::{self, Replay};
use test_support::{Driven, drive_with};

/// Href, kind, displayname, ctag and sync token of a listed collection.
type Summary<'a> = (
    &'a str,
    CollectionKind,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn run<M: caldav_client_core::Machine>(machine: &mut M, replay: &mut Replay) -> M::Outcome {
    match drive_with(machine, 1000, |request| replay.handle(request)) {
        Driven::Done(result) => result.unwrap(),
        Driven::Interrupted => panic!("did not settle"),
    }
}

#[test]
fn seed_replay_reaches_the_recorded_account_collections_and_objects() {
    let mut replay = Replay::new(replay::seed());
    let base: http::Uri = "https://192.168.1.203/".parse().unwrap();

    let mut bootstrap = BootstrapMachine::new(BootstrapConfig::new(
        "https://192.168.1.203/calendars".parse().unwrap(),
    ));
    let account = run(&mut bootstrap, &mut replay);
    assert_eq!(account.principal.as_str(), "/principals/user/ken/");
    assert_eq!(
        account.principal_source,
        PrincipalSource::CurrentUserPrincipal
    );
    assert_eq!(account.calendar_home_set, ["/calendars/user/ken/".into()]);
    assert_eq!(
        account.calendar_user_address_set,
        ["mailto:ken@example.com".into()]
    );
    assert_eq!(
        account.schedule_inbox,
        Some("/calendars/user/ken/Inbox/".into())
    );
    assert_eq!(
        account.schedule_outbox,
        Some("/calendars/user/ken/Outbox/".into())
    );
    assert_eq!(
        account.notification_url,
        Some("/notifications/user/ken/".into())
    );
    assert_eq!(
        account.principal_collection_set,
        ["/principals/user/".into()]
    );
    assert_eq!(account.displayname.as_deref(), Some("ken"));
    assert_eq!(account.supported_reports.len(), 3);
    assert!(account.capabilities.calendar_access());
    assert!(account.capabilities.calendar_auto_schedule());
    assert!(!account.capabilities.allows(&http::Method::PUT));
    assert!(
        account
            .capabilities
            .supports_report("DAV:", "principal-property-search")
    );

    let mut listing = ListingMachine::new(ListingConfig::for_account(base.clone(), &account));
    let listing = run(&mut listing, &mut replay);
    let summary: Vec<Summary<'_>> = listing
        .collections
        .iter()
        .map(|c| {
            (
                c.href.as_str(),
                c.kind,
                c.displayname.as_deref(),
                c.ctag.as_deref(),
                c.sync_token.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "/calendars/user/ken/Default/",
                CollectionKind::Calendar,
                Some("Default"),
                Some("1436370616-382"),
                Some("data:,1436370616-382"),
            ),
            (
                "/calendars/user/ken/b77929e-54c-1438801751723-942343/",
                CollectionKind::Calendar,
                Some("test"),
                Some("1438801752-8"),
                Some("data:,1438801752-8"),
            ),
            (
                "/notifications/user/ken/",
                CollectionKind::Notifications,
                Some("#notifications"),
                Some("1452898999-1"),
                Some("data:,1452898999-1"),
            ),
            // No recorded answer: the replay's minimal 207 (listed in `synthesized` below).
            (
                "/calendars/user/ken/Outbox/",
                CollectionKind::ScheduleOutbox,
                None,
                None,
                None
            ),
            (
                "/calendars/user/ken/Inbox/",
                CollectionKind::ScheduleInbox,
                None,
                Some("1436370616-1"),
                Some("data:,1436370616-1"),
            ),
        ]
    );
    let default = &listing.collections[0];
    assert!(default.supports_sync_collection());
    assert_eq!(
        default.components.as_deref().unwrap()[..2],
        ["VEVENT".to_owned(), "VTODO".to_owned()]
    );
    assert!(
        default
            .privileges
            .iter()
            .any(|p| p.local() == "write-content")
    );

    // CalendarAgent never used sync-collection: follow its path (ctag and etag listing).
    let mut quirks = QuirkProfile::default();
    quirks.sync_collection = false;
    let calendars = listing.calendars().map(|c| c.href.clone()).collect();
    let mut sync = SyncMachine::new(
        SyncConfig::new(base.clone(), calendars).with_quirks(quirks),
        SyncState::default(),
    );
    let outcome = run(&mut sync, &mut replay);
    let default = outcome.calendars[0].result.as_ref().unwrap();
    assert_eq!(default.method, SyncMethod::EtagListing);
    let mut objects: Vec<(&str, &str, &str)> = default
        .added
        .iter()
        .map(|i| (i.href.as_str(), i.etag.as_str(), i.data.as_str()))
        .collect();
    objects.sort();
    let expected = [
        (
            "5dd30e69-e584-4949-8a54-95d49bd54730.ics",
            "\"01ffe8974301b6f2679aa4c719bb29d800a11fbc\"",
        ),
        (
            "85b2eee6-9f0a-4508-bf40-d730fd92e475.ics",
            "\"1fd91b4e643a107092c609f499831e64d2ceaca4\"",
        ),
        (
            "b7f368f2-f24b-4c19-b2b7-8620de68a3a4.ics",
            "\"3603d4948094595d5091fdf4a0e5ce3f84869ec1\"",
        ),
        ("bar.ics", "\"b0e6efe8471ea7531055d7c8f7cdae09472092f1\""),
        ("foo.ics", "\"6a5cabf8c79531191ddbff58c55d74e52e1ffc9b\""),
    ];
    assert_eq!(objects.len(), expected.len());
    for ((href, etag, data), (name, want)) in objects.iter().zip(expected) {
        assert_eq!(*href, format!("/calendars/user/ken/Default/{name}"));
        assert_eq!(*etag, want);
        assert!(data.starts_with("BEGIN:VCALENDAR\n"), "{href}");
        assert!(data.contains("BEGIN:VEVENT"), "{href}");
        if let Some(uid) = name.strip_suffix(".ics").filter(|n| n.len() == 36) {
            assert!(data.contains(&format!("UID:{uid}")), "{href}");
        }
    }
    let state = sync.state();
    assert_eq!(
        state.calendars["/calendars/user/ken/Default/"].items.len(),
        5
    );
    assert_eq!(
        state.calendars["/calendars/user/ken/Default/"]
            .ctag
            .as_deref(),
        None,
        "the etag listing's Depth:1 answer carried no ctag for the collection"
    );
    let test = outcome.calendars[1].result.as_ref().unwrap();
    assert!(test.added.is_empty() && test.deleted.is_empty());

    // Only the outbox, which CalendarAgent never asked about, had no recorded answer.
    assert_eq!(
        replay.synthesized,
        [(
            http::Method::from_bytes(b"PROPFIND").unwrap(),
            "/calendars/user/ken/Outbox/".to_owned(),
            http::StatusCode::MULTI_STATUS
        )]
    );
    // What went unused: CalendarAgent's six PROPPATCHes (writes, not part of this flow), its
    // four calendar-query time-range REPORTs, its repeated Depth:0 ctag polls and Depth:1
    // re-listings, its PROPFINDs of Inbox properties we do not ask for, and its notification
    // listings (the home's Depth:1 answer already named the notification collection).
    let unused = replay.unused();
    for (method, path) in &unused {
        eprintln!("unused seed exchange: {method} {path}");
    }
    assert_eq!(unused.len(), 20);
    assert_eq!(unused.iter().filter(|(m, _)| m == "PROPPATCH").count(), 6);
    assert_eq!(unused.iter().filter(|(m, _)| m == "REPORT").count(), 4);
    assert!(
        unused
            .iter()
            .all(|(_, p)| !p.starts_with("/principals/") && p != "/calendars")
    );
}
