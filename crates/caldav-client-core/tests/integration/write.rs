//! Conditional writes against the in-memory server, canned answers and the seed's PROPPATCHes.

use bytes::Bytes;
use caldav_client_core::write::{WriteConfig, WriteMachine, WriteOutcome, WriteRequest};
use caldav_client_core::{Error, Machine, Output, QuirkProfile};
use caldav_model::property::{Color, Property, Value, names};
use dav_xml::{Condition, Href};
use test_support::replay::{self, Replay};
use test_support::{Driven, Server, ServerQuirks, drive, drive_with};

use crate::sync::event;

const CAL: &str = "/calendars/alice/default/";

fn base() -> http::Uri {
    "http://cal.example/".parse().unwrap()
}

fn write(server: &mut Server, request: WriteRequest) -> Result<WriteOutcome, Error> {
    write_with(server, request, QuirkProfile::default())
}

fn write_with(
    server: &mut Server,
    request: WriteRequest,
    quirks: QuirkProfile,
) -> Result<WriteOutcome, Error> {
    let mut machine = WriteMachine::new(WriteConfig::new(base(), request).with_quirks(quirks));
    drive(&mut machine, server)
}

fn create(uid: &str, summary: &str) -> WriteRequest {
    WriteRequest::Create {
        collection: CAL.into(),
        data: event(uid, summary),
    }
}

#[test]
fn create_update_delete_with_conditions() {
    let mut server = Server::new();
    let WriteOutcome::Created { href, etag } =
        write(&mut server, create("a/b@c d", "one")).unwrap()
    else {
        panic!("not created")
    };
    assert_eq!(href.as_str(), "/calendars/alice/default/a%2Fb%40c%20d.ics");
    let stored = server.objects(CAL);
    let object = &stored["a%2Fb@c d.ics"];
    assert_eq!(etag.as_deref(), Some(object.etag.as_str()));
    let etag = etag.unwrap();

    let WriteOutcome::Updated { etag: new_etag, .. } = write(
        &mut server,
        WriteRequest::Update {
            href: href.clone(),
            etag: etag.clone(),
            data: event("a/b@c d", "two"),
        },
    )
    .unwrap() else {
        panic!("not updated")
    };
    let new_etag = new_etag.unwrap();
    assert_ne!(new_etag, etag);

    // The old etag is stale now: a conflict carrying both sides, not a retry.
    let outcome = write(
        &mut server,
        WriteRequest::Update {
            href: href.clone(),
            etag: etag.clone(),
            data: event("a/b@c d", "three"),
        },
    )
    .unwrap();
    let WriteOutcome::Conflict(conflict) = outcome else {
        panic!("no conflict")
    };
    assert_eq!(conflict.local_etag.as_deref(), Some(etag.as_str()));
    assert!(conflict.local_data.unwrap().contains("SUMMARY:three"));
    assert_eq!(conflict.server_etag.as_deref(), Some(new_etag.as_str()));
    assert!(conflict.server_data.unwrap().contains("SUMMARY:two"));
    assert!(
        server.objects(CAL)["a%2Fb@c d.ics"]
            .data
            .contains("SUMMARY:two")
    );

    let stale_delete = write(
        &mut server,
        WriteRequest::Delete {
            href: href.clone(),
            etag,
        },
    )
    .unwrap();
    assert!(matches!(stale_delete, WriteOutcome::Conflict(_)));
    let deleted = write(
        &mut server,
        WriteRequest::Delete {
            href: href.clone(),
            etag: new_etag.clone(),
        },
    )
    .unwrap();
    assert_eq!(deleted, WriteOutcome::Deleted { href: href.clone() });
    assert!(server.objects(CAL).is_empty());

    // Updating what the server deleted: a conflict whose server side is gone.
    let WriteOutcome::Conflict(conflict) = write(
        &mut server,
        WriteRequest::Update {
            href,
            etag: new_etag,
            data: event("a/b@c d", "four"),
        },
    )
    .unwrap() else {
        panic!("no conflict")
    };
    assert_eq!(conflict.server_data, None);
}

#[test]
fn create_over_an_existing_object_is_a_conflict() {
    let mut server = Server::new();
    let _ = write(&mut server, create("same", "first")).unwrap();
    let WriteOutcome::Conflict(conflict) = write(&mut server, create("same", "second")).unwrap()
    else {
        panic!("no conflict")
    };
    assert_eq!(conflict.local_etag, None);
    assert!(conflict.server_data.unwrap().contains("SUMMARY:first"));
}

#[test]
fn no_uid_conflict_comes_back_typed() {
    let mut server = Server::new();
    server.put(CAL, "other.ics", &event("dup", "x"));
    let error = write(&mut server, create("dup", "y")).unwrap_err();
    let Error::Precondition {
        status, conditions, ..
    } = error
    else {
        panic!("untyped: {error:?}")
    };
    assert_eq!(status, 409);
    assert!(matches!(conditions[..], [Condition::NoUidConflict(_)]));
}

#[test]
fn precondition_412_with_a_body_is_not_an_etag_conflict() {
    let mut machine = WriteMachine::new(WriteConfig::new(base(), create("u", "x")));
    let driven = drive_with(&mut machine, 5, |_| {
        http::Response::builder()
            .status(412)
            .body(Bytes::from_static(
                b"<error xmlns='DAV:'><no-uid-conflict xmlns='urn:ietf:params:xml:ns:caldav'/></error>",
            ))
            .unwrap()
    });
    assert!(matches!(
        driven,
        Driven::Done(Err(Error::Precondition { status: 412, .. }))
    ));
}

#[test]
fn sabredav_412_with_its_exception_body_is_an_etag_conflict() {
    // SabreDAV 1.8 answers a stale If-Match with a DAV:error holding only its own elements.
    let body = b"<d:error xmlns:d='DAV:' xmlns:s='http://sabredav.org/ns'>\
<s:exception>Sabre\\DAV\\Exception\\PreconditionFailed</s:exception>\
<s:message>An If-Match header was specified, but none of the specified the ETags matched.</s:message>\
<s:sabredav-version>1.8.12</s:sabredav-version><s:header>If-Match</s:header></d:error>";
    let request = WriteRequest::Update {
        href: Href::new("/cal/u.ics"),
        etag: "\"old\"".into(),
        data: event("u", "x"),
    };
    let mut machine = WriteMachine::new(WriteConfig::new(base(), request));
    let driven = drive_with(&mut machine, 5, |request| {
        let status = if request.method() == http::Method::PUT {
            412
        } else {
            404
        };
        http::Response::builder()
            .status(status)
            .body(Bytes::from_static(if status == 412 { body } else { b"" }))
            .unwrap()
    });
    assert!(
        matches!(driven, Driven::Done(Ok(WriteOutcome::Conflict(_)))),
        "{driven:?}"
    );
}

#[test]
fn missing_or_untrusted_etag_is_fetched() {
    let mut server = Server::new().with_quirks(ServerQuirks {
        put_etag: false,
        ..ServerQuirks::default()
    });
    let WriteOutcome::Created { etag, .. } = write(&mut server, create("n", "x")).unwrap() else {
        panic!("not created")
    };
    assert_eq!(
        etag.as_deref(),
        Some(server.objects(CAL)["n.ics"].etag.as_str())
    );
    assert_eq!(server.log.last().unwrap().0.as_str(), "PROPFIND");

    let mut server = Server::new();
    let mut quirks = QuirkProfile::default();
    quirks.trust_put_etag = false;
    let WriteOutcome::Created { etag, .. } =
        write_with(&mut server, create("t", "x"), quirks).unwrap()
    else {
        panic!("not created")
    };
    assert!(etag.is_some());
    assert_eq!(server.log.len(), 2);
}

#[test]
fn create_without_if_none_match_when_the_server_ignores_it() {
    let mut quirks = QuirkProfile::default();
    quirks.if_none_match = false;
    let mut machine =
        WriteMachine::new(WriteConfig::new(base(), create("g", "x")).with_quirks(quirks));
    let Output::Http { request, .. } = machine.poll() else {
        panic!()
    };
    assert!(request.headers().get("if-none-match").is_none());
}

#[test]
fn create_without_uid_is_refused_before_any_request() {
    let mut machine = WriteMachine::new(WriteConfig::new(
        base(),
        WriteRequest::Create {
            collection: CAL.into(),
            data: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
        },
    ));
    assert!(matches!(
        machine.poll(),
        Output::Done(Err(Error::InvalidData { .. }))
    ));
}

#[test]
fn mkcalendar_and_proppatch() {
    let mut server = Server::new();
    let href: dav_xml::Href = "/calendars/alice/work/".into();
    let outcome = write(
        &mut server,
        WriteRequest::MkCalendar {
            href: href.clone(),
            properties: vec![
                Property::new(names::DISPLAYNAME, Value::Text("Work".into())),
                Property::new(
                    names::SUPPORTED_CALENDAR_COMPONENT_SET,
                    Value::Components(vec!["VEVENT".into()]),
                ),
                Property::new(
                    names::CALENDAR_COLOR,
                    Value::Color(Color {
                        value: "#FF0000FF".into(),
                        symbolic: None,
                    }),
                ),
            ],
        },
    )
    .unwrap();
    assert_eq!(
        outcome,
        WriteOutcome::CalendarCreated { href: href.clone() }
    );
    assert!(server.has_calendar("/calendars/alice/work/"));
    assert_eq!(
        server.property("/calendars/alice/work/", &names::CALENDAR_COLOR),
        Some("#FF0000FF")
    );
    // MKCALENDAR on an existing calendar: a typed precondition.
    let again = write(
        &mut server,
        WriteRequest::MkCalendar {
            href: href.clone(),
            properties: Vec::new(),
        },
    )
    .unwrap_err();
    assert!(matches!(again, Error::Precondition { status: 403, .. }));

    let outcome = write(
        &mut server,
        WriteRequest::PropPatch {
            href: href.clone(),
            set: vec![Property::new(names::CALENDAR_ORDER, Value::Order(2))],
            remove: vec![names::CALENDAR_COLOR],
        },
    )
    .unwrap();
    assert_eq!(outcome, WriteOutcome::PropertiesUpdated { href });
    assert_eq!(
        server.property("/calendars/alice/work/", &names::CALENDAR_ORDER),
        Some("2")
    );
    assert_eq!(
        server.property("/calendars/alice/work/", &names::CALENDAR_COLOR),
        None
    );
}

#[test]
fn proppatch_with_a_failed_property_is_an_error() {
    let body = r#"<multistatus xmlns="DAV:"><response><href>/c/</href>
        <propstat><prop><displayname/></prop><status>HTTP/1.1 403 Forbidden</status>
        <error><cannot-modify-protected-property/></error></propstat>
        </response></multistatus>"#;
    let mut machine = WriteMachine::new(WriteConfig::new(
        base(),
        WriteRequest::PropPatch {
            href: "/c/".into(),
            set: vec![Property::new(names::DISPLAYNAME, Value::Text("x".into()))],
            remove: Vec::new(),
        },
    ));
    let driven = drive_with(&mut machine, 5, |_| {
        http::Response::builder()
            .status(207)
            .body(Bytes::from(body))
            .unwrap()
    });
    let Driven::Done(Err(Error::Precondition {
        status, conditions, ..
    })) = driven
    else {
        panic!("not a precondition")
    };
    assert_eq!(status, 403);
    assert_eq!(conditions, [Condition::CannotModifyProtectedProperty]);
}

#[test]
fn seed_proppatches_replay() {
    let mut replay = Replay::new(replay::seed());
    let base: http::Uri = "https://192.168.1.203/".parse().unwrap();
    let test: dav_xml::Href = "/calendars/user/ken/b77929e-54c-1438801751723-942343/".into();
    for set in [
        Property::new(names::CALENDAR_ORDER, Value::Order(1)),
        Property::new(
            names::CALENDAR_TIMEZONE,
            Value::Text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into()),
        ),
    ] {
        let mut machine = WriteMachine::new(WriteConfig::new(
            base.clone(),
            WriteRequest::PropPatch {
                href: test.clone(),
                set: vec![set],
                remove: Vec::new(),
            },
        ));
        let Driven::Done(result) = drive_with(&mut machine, 5, |r| replay.handle(r)) else {
            panic!("did not settle")
        };
        assert_eq!(
            result.unwrap(),
            WriteOutcome::PropertiesUpdated { href: test.clone() }
        );
    }
    assert!(replay.synthesized.is_empty());
}
