//! The 28 real-server multistatus bodies quoted in python-caldav's tests (iCloud, Google,
//! Sabre, Zimbra...), from `fixtures/corpora/python-caldav-xml/`.

use dav_xml::{Multistatus, QName};
use http::StatusCode;

pub(crate) const CORPUS: &[(&str, &[u8])] = &[
    (
        "test_async_davclient_L18_C25.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_async_davclient_L18_C25.xml"
        ),
    ),
    (
        "test_async_davclient_L32_C22.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_async_davclient_L32_C22.xml"
        ),
    ),
    (
        "test_caldav_unit_L164_C23.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L164_C23.xml"
        ),
    ),
    (
        "test_caldav_unit_L204_C26.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L204_C26.xml"
        ),
    ),
    (
        "test_caldav_unit_L435_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L435_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L537_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L537_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L557_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L557_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L580_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L580_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L604_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L604_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L635_C34.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L635_C34.xml"
        ),
    ),
    (
        "test_caldav_unit_L664_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L664_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L758_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L758_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L783_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L783_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L859_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L859_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L885_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L885_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L918_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L918_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L942_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L942_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L962_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L962_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L1013_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L1013_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L1107_C14.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L1107_C14.xml"
        ),
    ),
    (
        "test_caldav_unit_L2830_C33.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L2830_C33.xml"
        ),
    ),
    (
        "test_caldav_unit_L2802_C33.xml",
        include_bytes!(
            "../../../../fixtures/corpora/python-caldav-xml/test_caldav_unit_L2802_C33.xml"
        ),
    ),
    (
        "test_protocol_L92_C14.xml",
        include_bytes!("../../../../fixtures/corpora/python-caldav-xml/test_protocol_L92_C14.xml"),
    ),
    (
        "test_protocol_L113_C14.xml",
        include_bytes!("../../../../fixtures/corpora/python-caldav-xml/test_protocol_L113_C14.xml"),
    ),
    (
        "test_protocol_L131_C14.xml",
        include_bytes!("../../../../fixtures/corpora/python-caldav-xml/test_protocol_L131_C14.xml"),
    ),
    (
        "test_protocol_L156_C14.xml",
        include_bytes!("../../../../fixtures/corpora/python-caldav-xml/test_protocol_L156_C14.xml"),
    ),
    (
        "test_protocol_L184_C14.xml",
        include_bytes!("../../../../fixtures/corpora/python-caldav-xml/test_protocol_L184_C14.xml"),
    ),
    (
        "test_protocol_L213_C14.xml",
        include_bytes!("../../../../fixtures/corpora/python-caldav-xml/test_protocol_L213_C14.xml"),
    ),
];

fn get(name: &str) -> Multistatus {
    let (_, bytes) = CORPUS.iter().find(|(n, _)| *n == name).unwrap();
    Multistatus::decode(bytes).unwrap()
}

#[test]
fn every_body_decodes() {
    assert_eq!(CORPUS.len(), 28);
    for (name, bytes) in CORPUS {
        let decoded = Multistatus::decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let count = closing_tags(bytes, "response");
        assert_eq!(decoded.responses.len(), count, "{name}");
        for response in &decoded.responses {
            assert!(!response.hrefs.is_empty(), "{name}");
        }
    }
}

#[test]
fn icloud_outer_wrapper() {
    let ms = get("test_caldav_unit_L664_C14.xml");
    assert_eq!(ms.responses.len(), 3);
    let first = &ms.responses[0];
    assert_eq!(first.propstats.len(), 2);
    assert_eq!(first.propstats[0].status, Some(StatusCode::OK));
    assert!(first.propstats[0].props.is_empty());
    assert_eq!(first.propstats[1].status, Some(StatusCode::NOT_FOUND));
    assert_eq!(
        first.prop_status(&QName::CALDAV_CALENDAR_DATA),
        Some(StatusCode::NOT_FOUND)
    );
    assert!(first.prop(&QName::CALDAV_CALENDAR_DATA).is_none());
}

#[test]
fn wrapped_absolute_hrefs() {
    let ms = get("test_caldav_unit_L635_C34.xml");
    let response = &ms.responses[0];
    assert_eq!(
        response.hrefs[0].as_str(),
        "http://cal.example.com/home/bernard/"
    );
    let home = response.prop(&QName::CALDAV_CALENDAR_HOME_SET).unwrap();
    assert_eq!(
        home.child(&QName::DAV_HREF).unwrap().text(),
        "http://cal.example.com/home/bernard/calendars/"
    );
}

#[test]
fn percent_encoded_hrefs_kept_as_sent() {
    let ms = get("test_caldav_unit_L783_C14.xml");
    assert_eq!(ms.responses.len(), 5);
    assert_eq!(
        ms.responses[0].hrefs[0].as_str(),
        "/dav/tobias%40redpill-linpro.com/"
    );
    assert_eq!(
        ms.responses[0].hrefs[0],
        dav_xml::Href::new("/dav/tobias@redpill-linpro.com/")
    );
    let rt = ms.responses[1].prop(&QName::DAV_RESOURCETYPE).unwrap();
    let names: Vec<String> = rt.elements().map(|e| e.name.to_string()).collect();
    assert_eq!(
        names,
        [
            "{DAV:}collection",
            "{urn:ietf:params:xml:ns:caldav}schedule-inbox"
        ]
    );
}

#[test]
fn empty_multistatus() {
    let ms = get("test_caldav_unit_L2802_C33.xml");
    assert!(ms.responses.is_empty());
}

#[test]
fn default_namespace_redeclared_on_inner_elements() {
    let ms = get("test_caldav_unit_L1013_C14.xml");
    assert_eq!(ms.responses.len(), 4);
    let inbox = &ms.responses[2];
    assert_eq!(
        inbox.prop_status(&QName::DAV_DISPLAYNAME),
        Some(StatusCode::NOT_FOUND)
    );
    assert_eq!(
        ms.responses[1]
            .prop(&QName::DAV_DISPLAYNAME)
            .unwrap()
            .text(),
        "calfoo3"
    );
}

/// Counts `</response>` end tags whatever their prefix: an independent count to check against.
pub(crate) fn closing_tags(bytes: &[u8], local: &str) -> usize {
    let text = String::from_utf8_lossy(bytes);
    text.split("</")
        .skip(1)
        .filter(|tail| {
            let name = tail.split('>').next().unwrap_or("");
            name.rsplit(':').next() == Some(local)
        })
        .count()
}
