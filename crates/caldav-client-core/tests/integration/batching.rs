//! How a sync cuts its fetch into multigets: by the profile's cap, the listed sizes and the
//! requests in flight, with canned answers that say what the in-memory server does not
//! (`DAV:getcontentlength`, 413).

use caldav_client_core::QuirkProfile;
use caldav_client_core::sync::{InitialFetch, SyncConfig, SyncMachine, SyncState};
use dav_xml::{Element, QName};
use test_support::{Driven, Server, drive, drive_with};

use crate::sync::event;

const CAL: &str = "/cal/";

fn config(quirks: QuirkProfile) -> SyncConfig {
    let mut config = SyncConfig::new("http://cal.example/".parse().unwrap(), vec![CAL.into()])
        .with_quirks(quirks);
    config.initial_fetch = InitialFetch::Multiget;
    config
}

fn answer(status: u16, body: String) -> http::Response<bytes::Bytes> {
    http::Response::builder()
        .status(status)
        .body(bytes::Bytes::from(body))
        .unwrap()
}

/// The hrefs a calendar-multiget body asks for, or `None` for another request.
fn multiget_hrefs(request: &http::Request<bytes::Bytes>) -> Option<Vec<String>> {
    let root = Element::decode(request.body()).ok()?;
    (root.name == QName::caldav("calendar-multiget")).then(|| {
        root.children_named(&QName::DAV_HREF)
            .map(|h| h.text().into_owned())
            .collect()
    })
}

/// A calendar of `count` members the listing says weigh `length` bytes each (`None`: the
/// listing gives no length), answered by hand: the listing, then every multiget, where
/// `refuse` says which multigets (by href count) are answered 413 instead.
fn fetch(
    count: usize,
    length: Option<usize>,
    mut config: SyncConfig,
    refuse: impl Fn(usize) -> bool,
) -> (Vec<usize>, usize) {
    config.calendars = vec![CAL.into()];
    let mut machine = SyncMachine::new(config, SyncState::default());
    let mut batches = Vec::new();
    let driven = drive_with(&mut machine, 10_000, |request| {
        if let Some(hrefs) = multiget_hrefs(&request) {
            batches.push(hrefs.len());
            if refuse(hrefs.len()) {
                return answer(413, String::new());
            }
            let mut body = String::from(
                r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">"#,
            );
            for href in hrefs {
                body.push_str(&format!(
                    "<response><href>{href}</href><propstat><prop><getetag>\"1\"</getetag>\
                     <C:calendar-data>BEGIN:VCALENDAR</C:calendar-data></prop>\
                     <status>HTTP/1.1 200 OK</status></propstat></response>"
                ));
            }
            body.push_str("</multistatus>");
            return answer(207, body);
        }
        assert!(
            std::str::from_utf8(request.body())
                .unwrap()
                .contains("getcontentlength"),
            "the listing asks for the members' sizes"
        );
        let mut body = String::from(r#"<multistatus xmlns="DAV:">"#);
        for i in 0..count {
            let size = length
                .map(|l| format!("<getcontentlength>{l}</getcontentlength>"))
                .unwrap_or_default();
            body.push_str(&format!(
                "<response><href>/cal/{i}.ics</href><propstat><prop><getetag>\"1\"</getetag>\
                 {size}</prop><status>HTTP/1.1 200 OK</status></propstat></response>"
            ));
        }
        body.push_str("<sync-token>t1</sync-token></multistatus>");
        answer(207, body)
    });
    let Driven::Done(Ok(outcome)) = driven else {
        panic!("sync failed")
    };
    let changes = outcome.calendars[0].result.as_ref().unwrap();
    assert!(changes.missing.is_empty());
    (batches, changes.added.len())
}

#[test]
fn a_default_fetch_of_a_few_hundred_is_one_multiget() {
    let (batches, added) = fetch(200, Some(900), config(QuirkProfile::default()), |_| false);
    assert_eq!(batches, [200]);
    assert_eq!(added, 200);
}

#[test]
fn a_default_fetch_of_thousands_is_cut_under_the_cap() {
    let (batches, added) = fetch(2000, Some(900), config(QuirkProfile::default()), |_| false);
    assert_eq!(batches, [1000, 1000]);
    assert_eq!(added, 2000);
    let (batches, _) = fetch(2500, Some(900), config(QuirkProfile::default()), |_| false);
    assert_eq!(batches, [834, 834, 832]);
}

/// The requests the machine has out after `listing` is answered, until it waits.
fn issued_after_listing(
    machine: &mut SyncMachine,
    listing: String,
) -> Vec<http::Request<bytes::Bytes>> {
    use caldav_client_core::{Machine, Output};
    let Output::Http { id, .. } = machine.poll() else {
        panic!("no listing")
    };
    assert!(matches!(machine.poll(), Output::Wait));
    machine.handle_response(id, answer(207, listing)).unwrap();
    let mut issued = Vec::new();
    while let Output::Http { request, .. } = machine.poll() {
        issued.push(request);
    }
    issued
}

fn listing(count: usize) -> String {
    let mut body = String::from(r#"<multistatus xmlns="DAV:">"#);
    for i in 0..count {
        body.push_str(&format!(
            "<response><href>/cal/{i}.ics</href><propstat><prop><getetag>\"1\"</getetag>\
             </prop><status>HTTP/1.1 200 OK</status></propstat></response>"
        ));
    }
    body.push_str("<sync-token>t1</sync-token></multistatus>");
    body
}

#[test]
fn large_multigets_of_one_calendar_go_one_at_a_time() {
    let mut machine = SyncMachine::new(config(QuirkProfile::default()), SyncState::default());
    let issued = issued_after_listing(&mut machine, listing(2000));
    assert_eq!(
        issued.len(),
        1,
        "the second large multiget waits for the first"
    );
    assert_eq!(multiget_hrefs(&issued[0]).unwrap().len(), 1000);
}

#[test]
fn small_multigets_go_several_at_a_time() {
    let mut quirks = QuirkProfile::default();
    quirks.multiget_batch_size = 100;
    let mut machine = SyncMachine::new(config(quirks), SyncState::default());
    let issued = issued_after_listing(&mut machine, listing(1000));
    assert_eq!(issued.len(), 4, "as many as the in-flight limit");
}

#[test]
fn listed_sizes_bound_each_answer() {
    let mut config = config(QuirkProfile::default());
    config.max_multiget_bytes = 1 << 20;
    // 100 KiB members: ten fit under 1 MiB with their markup.
    let (batches, added) = fetch(40, Some(100 << 10), config.clone(), |_| false);
    assert_eq!(added, 40);
    assert_eq!(batches, [10; 4]);
    // Without sizes, the estimate per member decides.
    config.estimated_item_bytes = 200 << 10;
    let (batches, _) = fetch(40, None, config, |_| false);
    assert_eq!(batches, [5; 8]);
}

#[test]
fn the_profile_cap_still_holds() {
    let mut quirks = QuirkProfile::default();
    quirks.multiget_batch_size = 30;
    let (batches, added) = fetch(100, Some(900), config(quirks), |_| false);
    assert_eq!(batches, [25; 4]);
    assert_eq!(added, 100);
}

#[test]
fn a_multiget_refused_as_too_large_is_halved() {
    let (mut batches, added) = fetch(300, Some(900), config(QuirkProfile::default()), |n| n > 80);
    assert_eq!(added, 300);
    batches.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(batches, [300, 150, 150, 75, 75, 75, 75]);
}

#[test]
fn batches_of_the_in_memory_server_fetch_everything() {
    let mut server = Server::new();
    for i in 0..600 {
        server.put(
            "/calendars/alice/default/",
            &format!("{i}.ics"),
            &event(&i.to_string(), "x"),
        );
    }
    let config = SyncConfig::new(
        "http://cal.example/".parse().unwrap(),
        vec!["/calendars/alice/default/".into()],
    );
    let mut machine = SyncMachine::new(config, SyncState::default());
    let outcome = drive(&mut machine, &mut server).unwrap();
    assert_eq!(
        outcome.calendars[0].result.as_ref().unwrap().added.len(),
        600
    );
}
