//! Every XML body of the seed trace (Apple CalendarAgent talking to Cyrus) decodes, whole and
//! streamed in every split: byte by byte, and at the socket-read boundaries the trace recorded.

use caldav_trace::Exchange;
use dav_xml::{Element, Multistatus, PropFind, PropertyUpdate, QName};
use http::StatusCode;

use crate::corpus::closing_tags;
use crate::stream::{split_at, stream};

fn exchanges() -> Vec<Exchange> {
    caldav_trace::seed::exchanges().unwrap()
}

fn is_xml(headers: &http::HeaderMap, body: &[u8]) -> bool {
    let xml_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("xml"));
    xml_type && !body.is_empty()
}

#[test]
fn every_request_body_decodes() {
    let mut count = 0;
    for exchange in exchanges() {
        let body = exchange.request.body();
        if !is_xml(exchange.request.headers(), body) {
            continue;
        }
        count += 1;
        let root = Element::decode(body).unwrap_or_else(|e| {
            panic!(
                "{} {}: {e}",
                exchange.request.method(),
                exchange.request.uri()
            )
        });
        match exchange.request.method().as_str() {
            "PROPFIND" => {
                assert_eq!(root.name, QName::DAV_PROPFIND);
                let propfind = PropFind::decode(body).unwrap();
                let again = PropFind::decode(propfind.encode().as_bytes()).unwrap();
                assert_eq!(again, propfind);
            }
            "PROPPATCH" => {
                assert_eq!(root.name, QName::DAV_PROPERTYUPDATE);
                let update = PropertyUpdate::decode(body).unwrap();
                assert!(!update.operations.is_empty());
                assert_eq!(
                    PropertyUpdate::decode(update.encode().as_bytes()).unwrap(),
                    update
                );
            }
            "REPORT" => assert!(
                [dav_xml::name::CALDAV, dav_xml::name::DAV].contains(&root.name.namespace()),
                "{:?}",
                root.name
            ),
            _ => {}
        }
        // Re-encoding any request keeps the tree.
        assert_eq!(Element::decode(root.encode().as_bytes()).unwrap(), root);
    }
    assert!(count >= 20, "only {count} request bodies");
}

#[test]
fn every_multistatus_decodes_whole_and_streamed() {
    let mut count = 0;
    for exchange in exchanges() {
        let Some(response) = &exchange.response else {
            continue;
        };
        let body = response.body();
        if response.status() != StatusCode::MULTI_STATUS || !is_xml(response.headers(), body) {
            continue;
        }
        count += 1;
        let what = format!("{} {}", exchange.request.method(), exchange.request.uri());
        let whole = Multistatus::decode(body).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            whole.responses.len(),
            closing_tags(body, "response"),
            "{what}"
        );
        assert_eq!(stream([&body[..]]).unwrap(), whole, "{what} in one chunk");
        assert_eq!(
            stream(body.chunks(1)).unwrap(),
            whole,
            "{what} byte by byte"
        );
        assert_eq!(
            stream(split_at(body, &exchange.response_chunks)).unwrap(),
            whole,
            "{what} at recorded chunks"
        );
        for response in &whole.responses {
            assert!(!response.hrefs.is_empty(), "{what}");
            assert!(
                response.status.is_some() || !response.propstats.is_empty(),
                "{what}"
            );
            for propstat in &response.propstats {
                assert!(propstat.status.is_some(), "{what}");
            }
        }
    }
    assert!(count >= 20, "only {count} multistatus bodies");
}

#[test]
fn the_recorded_chunks_split_inside_markup() {
    // The trace's own socket reads cut tags and text; at least one body must be split there,
    // or the chunk test above proves nothing.
    let exchanges = exchanges();
    let split: Vec<_> = exchanges
        .iter()
        .filter_map(|e| e.response.as_ref().map(|r| (r, &e.response_chunks)))
        .filter(|(r, chunks)| r.status() == StatusCode::MULTI_STATUS && !chunks.is_empty())
        .collect();
    assert!(split.len() >= 2, "{}", split.len());
    // One cut falls inside a tag name (`<CY:write-properties-reso|urce/>`), one inside an
    // href's text (`/prin|cipals/user/ken/`).
    let cuts: Vec<&[u8]> = split
        .iter()
        .flat_map(|(r, chunks)| {
            chunks
                .iter()
                .map(|c| &r.body()[c.saturating_sub(4)..(*c + 4).min(r.body().len())])
        })
        .collect();
    assert!(cuts.iter().any(|c| c.starts_with(b"reso")), "{cuts:?}");
    assert!(cuts.iter().any(|c| c.starts_with(b"prin")), "{cuts:?}");
}

#[test]
fn depth_1_propfind_of_the_calendar_home() {
    let exchange = exchanges()
        .into_iter()
        .find(|e| {
            e.request.method() == "PROPFIND"
                && e.request.uri() == "/calendars/user/ken/"
                && e.request.headers()["depth"] == "1"
        })
        .unwrap();
    let body = exchange.response.as_ref().unwrap().body();
    assert!(body.len() > 12_000);
    let ms = Multistatus::decode(body).unwrap();
    let default = ms
        .responses
        .iter()
        .find(|r| r.hrefs[0].as_str() == "/calendars/user/ken/Default/")
        .unwrap();
    // CDATA display names read like plain text.
    assert_eq!(
        default.prop(&QName::DAV_DISPLAYNAME).unwrap().text(),
        "Default"
    );
    let sync_token = default.prop(&QName::DAV_SYNC_TOKEN).unwrap().text();
    assert!(sync_token.starts_with("data:,"), "{sync_token}");
    let resourcetype = default.prop(&QName::DAV_RESOURCETYPE).unwrap();
    assert!(resourcetype.child(&QName::DAV_COLLECTION).is_some());
    assert!(resourcetype.child(&QName::caldav("calendar")).is_some());
    // Brief/return=minimal: the 404s are left out, so every propstat here is a 200.
    assert!(
        ms.responses
            .iter()
            .flat_map(|r| &r.propstats)
            .all(|p| p.status == Some(StatusCode::OK))
    );
}

#[test]
fn multiget_with_cdata_calendar_data() {
    let mut found = 0;
    for exchange in exchanges() {
        let Some(response) = &exchange.response else {
            continue;
        };
        if exchange.request.method() != "REPORT"
            || !exchange.request.body().windows(8).any(|w| w == b"multiget")
        {
            continue;
        }
        let ms = Multistatus::decode(response.body()).unwrap();
        for r in &ms.responses {
            if let Some(data) = r.prop(&QName::CALDAV_CALENDAR_DATA) {
                let text = data.text();
                assert!(text.starts_with("BEGIN:VCALENDAR"), "{text}");
                assert!(!text.contains('\r'));
                assert!(
                    data.children
                        .iter()
                        .any(|n| matches!(n, dav_xml::Node::CData(_)))
                );
                assert!(r.prop(&QName::DAV_GETETAG).is_some());
                found += 1;
            }
        }
    }
    assert!(found >= 1);
}
