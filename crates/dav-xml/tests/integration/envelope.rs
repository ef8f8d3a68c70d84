//! The multistatus envelope (response, propstat, prop) is decoded straight from the tokens,
//! without a tree: it must read exactly like the tree read by `Multistatus::from_element`, and
//! text must decode the same whichever way it is written and wherever a stream splits it.

use dav_xml::{Element, Multistatus, QName};
use proptest::prelude::*;

use crate::corpus::CORPUS;
use crate::stream::{split_at, stream};

/// The first `DAV:multistatus` in document order (iCloud wraps it in an outer element).
fn find_multistatus(element: Element) -> Option<Element> {
    if element.name == QName::DAV_MULTISTATUS {
        return Some(element);
    }
    element
        .children
        .into_iter()
        .filter_map(|node| match node {
            dav_xml::Node::Element(child) => Some(child),
            _ => None,
        })
        .find_map(find_multistatus)
}

fn via_tree(body: &[u8]) -> Multistatus {
    let tree = Element::decode(body).unwrap();
    Multistatus::from_element(find_multistatus(tree).unwrap())
}

#[test]
fn corpus_direct_decoding_equals_the_tree() {
    for (name, body) in CORPUS {
        assert_eq!(Multistatus::decode(body).unwrap(), via_tree(body), "{name}");
    }
}

#[test]
fn text_and_unknown_children_around_the_envelope() {
    let body = br#"<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:x="urn:x">
  stray &amp; text <!-- note -->
  <d:response x:a="1">
    words <![CDATA[ignored]]>
    <d:href> /a%20b.ics </d:href>
    <x:odd>kept<x:inner/></x:odd>
    <d:propstat>
      <d:prop><d:getetag>&quot;1&quot;</d:getetag></d:prop>
      <d:prop><x:two>2</x:two><x:empty/></d:prop>
      <d:status>HTTP/1.1 200 OK</d:status>
      <x:note>n</x:note>
    </d:propstat>
    <d:propstat/>
    <d:error><d:lock-token-submitted><d:href>/l</d:href></d:lock-token-submitted></d:error>
    <d:responsedescription>fine</d:responsedescription>
    <d:location><d:href>/moved</d:href></d:location>
  </d:response>
  <d:response/>
  <d:sync-token> tok </d:sync-token>
</d:multistatus>"#;
    let whole = Multistatus::decode(body).unwrap();
    assert_eq!(whole, via_tree(body));
    assert_eq!(stream(body.chunks(1)).unwrap(), whole);
    let response = &whole.responses[0];
    assert_eq!(response.hrefs[0].as_str(), "/a%20b.ics");
    assert_eq!(response.propstats.len(), 2);
    assert_eq!(response.propstats[0].props.len(), 3);
    assert_eq!(response.propstats[0].extra.len(), 1);
    assert_eq!(response.prop(&QName::DAV_GETETAG).unwrap().text(), "\"1\"");
    assert_eq!(response.extra[0].text(), "kept");
    assert_eq!(response.location.as_ref().unwrap().as_str(), "/moved");
    assert_eq!(whole.responses[1], dav_xml::Response::default());
    assert_eq!(whole.sync_token.as_deref(), Some("tok"));
}

#[test]
fn href_and_status_in_every_shape_read_like_the_tree() {
    // Text only (read straight into the response), and everything that is built as an
    // element first: CDATA, a comment, a child, attributes, declarations, an empty tag.
    let shapes = [
        "<d:href>/a</d:href><d:status>HTTP/1.1 200 OK</d:status>",
        "<d:href> /a%20b \r\n</d:href><d:status> HTTP/1.1 404 Not Found </d:status>",
        "<d:href>/&amp;&#x41;</d:href><d:status>HTTP/1.1&#32;200 OK</d:status>",
        "<d:href></d:href><d:status></d:status>",
        "<d:href/><d:status/>",
        "<d:href><![CDATA[/c]]></d:href><d:status><![CDATA[HTTP/1.1 200 OK]]></d:status>",
        "<d:href>/a<!-- c -->b</d:href><d:status>HTTP/1.1 <!-- c -->201 Created</d:status>",
        "<d:href>/a<x:i/>b</d:href><d:status>HTTP/1.1 <x:i/>200 OK</d:status>",
        "<d:href x:a='1'>/a</d:href><d:status xmlns:y='urn:y'>HTTP/1.1 200 OK</d:status>",
        "<d:href>/a</d:href ><d:status>HTTP/1.1 200 OK</d:status >",
        "<d:href>/1</d:href><d:href>/2</d:href><d:status>HTTP/1.1 200 OK</d:status><d:status>x</d:status>",
    ];
    for shape in shapes {
        let body = format!(
            "<d:multistatus xmlns:d='DAV:' xmlns:x='urn:x'><d:response>{shape}\
             <d:propstat><d:prop/>{shape}</d:propstat></d:response></d:multistatus>"
        );
        let body = body.as_bytes();
        let whole = Multistatus::decode(body).unwrap();
        assert_eq!(whole, via_tree(body), "{shape}");
        assert_eq!(stream(body.chunks(1)).unwrap(), whole, "{shape}");
        assert_eq!(stream([body]).unwrap(), whole, "{shape}");
    }
    for bad in [
        "<d:href>&bogus;</d:href>",
        "<d:status>&#0;</d:status>",
        "<d:href>/a</d:hre>",
    ] {
        let body =
            format!("<d:multistatus xmlns:d='DAV:'><d:response>{bad}</d:response></d:multistatus>");
        let body = body.as_bytes();
        let error = Multistatus::decode(body).unwrap_err();
        assert_eq!(stream([body]).unwrap_err(), error, "{bad}");
        assert_eq!(stream(body.chunks(1)).unwrap_err(), error, "{bad}");
    }
}

#[test]
fn an_href_longer_than_the_text_limit_is_refused() {
    let mut limits = dav_xml::Limits::default();
    limits.max_text_bytes = 8;
    let body =
        b"<multistatus xmlns='DAV:'><response><href>/123456789</href></response></multistatus>";
    assert!(matches!(
        Multistatus::decode_with(body, &limits),
        Err(dav_xml::Error::Limit { offset: 42, .. })
    ));
    let ok = b"<multistatus xmlns='DAV:'><response><href>/1234567</href></response></multistatus>";
    assert!(Multistatus::decode_with(ok, &limits).is_ok());
}

#[test]
fn errors_inside_the_envelope_are_still_errors() {
    for body in [
        &b"<multistatus xmlns='DAV:'><response>&bogus;<href>/a</href></response></multistatus>"[..],
        b"<multistatus xmlns='DAV:'><response><propstat>a&b</propstat></response></multistatus>",
        b"<multistatus xmlns='DAV:'><response><propstat><prop></propstat></prop></response></multistatus>",
    ] {
        assert!(Multistatus::decode(body).is_err(), "{body:?}");
        assert!(stream([body]).is_err(), "{body:?}");
    }
}

/// Calendar data written three ways that XML says are the same text.
fn calendar_data_variants() -> [Vec<u8>; 3] {
    let wrap = |data: &str| {
        format!(
            "<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">\
             <d:response><d:href>/e.ics</d:href><d:propstat><d:prop>\
             <c:calendar-data>{data}</c:calendar-data></d:prop>\
             <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"
        )
        .into_bytes()
    };
    [
        wrap("<![CDATA[BEGIN:VCALENDAR\r\nX:a<b>&c\r\nEND:VCALENDAR\r\n]]>"),
        wrap("BEGIN:VCALENDAR\r\nX:a&lt;b&gt;&amp;c\r\nEND:VCALENDAR\r\n"),
        wrap("<![CDATA[BEGIN:VCALENDAR\nX:a<b>]]>&amp;c\nEND:VCALENDAR\n"),
    ]
}

#[test]
fn cdata_and_entities_read_the_same_at_every_split() {
    let bodies = calendar_data_variants();
    let want = Multistatus::decode(&bodies[0]).unwrap();
    let data = want.responses[0]
        .prop(&QName::CALDAV_CALENDAR_DATA)
        .unwrap()
        .text()
        .into_owned();
    assert_eq!(data, "BEGIN:VCALENDAR\nX:a<b>&c\nEND:VCALENDAR\n");
    for body in &bodies {
        let text = |ms: &Multistatus| {
            ms.responses[0]
                .prop(&QName::CALDAV_CALENDAR_DATA)
                .unwrap()
                .text()
                .into_owned()
        };
        assert_eq!(text(&Multistatus::decode(body).unwrap()), data);
        for cut in 0..=body.len() {
            for second in [cut + 1, cut + 3] {
                let streamed = stream(split_at(body, &[cut, second])).unwrap();
                assert_eq!(text(&streamed), data, "cuts at {cut}, {second}");
            }
        }
    }
    // `&#13;` is the one way to keep a CR.
    let escaped = String::from_utf8(bodies[1].clone())
        .unwrap()
        .replace("\r\n", "&#13;\n");
    let ms = stream(escaped.as_bytes().chunks(2)).unwrap();
    assert_eq!(
        ms.responses[0]
            .prop(&QName::CALDAV_CALENDAR_DATA)
            .unwrap()
            .text(),
        "BEGIN:VCALENDAR\r\nX:a<b>&c\r\nEND:VCALENDAR\r\n"
    );
}

proptest! {
    #[test]
    fn escaped_text_streams_like_whole(
        text in "[a-z<>&\"'\r\n\u{e9}\u{1F600}]{0,60}",
        cuts in proptest::collection::vec(0..400usize, 0..6),
    ) {
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\r', "&#13;")
            .replace('"', "&#x22;");
        let body = format!(
            "<multistatus xmlns='DAV:'><response><href>/a</href><propstat><prop>\
             <getetag>{escaped}</getetag><x xmlns='urn:x'><![CDATA[{text}]]></x></prop>\
             <status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"
        );
        let whole = Multistatus::decode(body.as_bytes()).unwrap();
        let getetag = whole.responses[0].prop(&QName::DAV_GETETAG).unwrap().text().into_owned();
        // Every CR was escaped, so none is normalised away.
        prop_assert_eq!(&getetag, &text);
        prop_assert_eq!(stream(split_at(body.as_bytes(), &cuts)).unwrap(), whole.clone());
        prop_assert_eq!(via_tree(body.as_bytes()), whole);
    }
}
