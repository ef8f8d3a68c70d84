//! `Multistatus::decode_owned` (line ends normalised in place, text as slices of the body)
//! gives what `Multistatus::decode` gives, for every document.

use dav_xml::{Error, Multistatus, Node, QName};
use proptest::prelude::*;

use crate::corpus::CORPUS;

/// Both decoders on `body`: the same value, or errors of the same kind. Offsets agree when the
/// body holds no `CR` (the owned decoder counts bytes after line-end normalisation).
fn assert_same(body: &[u8]) {
    let borrowed = Multistatus::decode(body);
    let owned = Multistatus::decode_owned(body.to_vec());
    match (&borrowed, &owned) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{:?}", String::from_utf8_lossy(body)),
        (Err(a), Err(b)) if !body.contains(&b'\r') => {
            assert_eq!(a, b, "{:?}", String::from_utf8_lossy(body));
        }
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "{a} / {b}: {:?}",
            String::from_utf8_lossy(body)
        ),
        _ => panic!(
            "{borrowed:?} / {owned:?}: {:?}",
            String::from_utf8_lossy(body)
        ),
    }
}

fn multiget(data: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?>\r\n<d:multistatus xmlns:d=\"DAV:\" \
         xmlns:c=\"urn:ietf:params:xml:ns:caldav\">\r\n <d:response>\r\n  \
         <d:href>/cal/a.ics</d:href>\r\n  <d:propstat><d:prop><d:getetag>\"1\"</d:getetag>\
         <c:calendar-data>{data}</c:calendar-data></d:prop>\r\n  \
         <d:status>HTTP/1.1 200 OK</d:status></d:propstat>\r\n </d:response>\r\n\
         </d:multistatus>\r\n"
    )
    .into_bytes()
}

fn calendar_data(ms: &Multistatus) -> String {
    ms.responses[0]
        .prop(&QName::CALDAV_CALENDAR_DATA)
        .unwrap()
        .text()
        .into_owned()
}

#[test]
fn corpus_decodes_the_same_owned() {
    for (name, body) in CORPUS {
        assert!(Multistatus::decode(body).is_ok(), "{name}");
        assert_same(body);
        // The same bodies with CRLF line ends, as some servers send them.
        let crlf = String::from_utf8_lossy(body).replace('\n', "\r\n");
        assert_same(crlf.as_bytes());
    }
}

#[test]
fn seed_bodies_decode_the_same_owned() {
    let mut count = 0;
    for exchange in caldav_trace::seed::exchanges().unwrap() {
        let Some(response) = exchange.response else {
            continue;
        };
        let body = response.body();
        if Multistatus::decode(body).is_ok() {
            count += 1;
            assert_same(body);
        }
    }
    assert_eq!(count, 25);
}

#[test]
fn cdata_and_escaped_calendar_data_read_the_same_owned() {
    let cdata = multiget("<![CDATA[BEGIN:VCALENDAR\r\nX:a<b>&c\rEND:VCALENDAR\r\n]]>");
    let escaped = multiget("BEGIN:VCALENDAR\r\nX:a&lt;b&gt;&amp;c\rEND:VCALENDAR\r\n");
    let want = "BEGIN:VCALENDAR\nX:a<b>&c\nEND:VCALENDAR\n";
    for body in [&cdata, &escaped] {
        assert_eq!(calendar_data(&Multistatus::decode(body).unwrap()), want);
        assert_eq!(
            calendar_data(&Multistatus::decode_owned(body.clone()).unwrap()),
            want
        );
    }
}

#[test]
fn a_character_reference_to_cr_survives_normalisation() {
    let body = multiget("A&#13;\r\nB&#xD;\nC\r");
    let ms = Multistatus::decode_owned(body.clone()).unwrap();
    assert_eq!(calendar_data(&ms), "A\r\nB\r\nC\n");
    assert_same(&body);
}

#[test]
fn calendar_data_is_a_slice_of_the_body() {
    let body = multiget("<![CDATA[BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n]]>");
    let ms = Multistatus::decode_owned(bytes::Bytes::from(body)).unwrap();
    let data = ms.responses[0].prop(&QName::CALDAV_CALENDAR_DATA).unwrap();
    let [Node::CData(text)] = data.children.as_slice() else {
        panic!("{data:?}");
    };
    assert!(text.is_shared());
    assert_eq!(text, "BEGIN:VCALENDAR\nEND:VCALENDAR\n");
    let etag = ms.responses[0].prop(&QName::DAV_GETETAG).unwrap();
    assert!(matches!(etag.children.as_slice(), [Node::Text(t)] if t.is_shared() && t == "\"1\""));
    // Text that needed decoding is a string of its own.
    let ms = Multistatus::decode_owned(multiget("a&amp;b")).unwrap();
    let data = ms.responses[0].prop(&QName::CALDAV_CALENDAR_DATA).unwrap();
    assert!(matches!(data.children.as_slice(), [Node::Text(t)] if !t.is_shared() && t == "a&b"));
}

#[test]
fn a_cr_at_the_end_of_the_body_and_around_every_block_edge() {
    for at in 0..70 {
        for special in ["\r", "\r\n", "\r\r", "\n\r"] {
            let data = format!("<![CDATA[{}{special}x]]>", "y".repeat(at));
            assert_same(&multiget(&data));
            let data = format!("{}{special}&#13;", "é".repeat(at / 2));
            assert_same(&multiget(&data));
        }
    }
    let mut body = multiget("x");
    body.push(b'\r');
    assert_same(&body);
    let ms = Multistatus::decode_owned(body).unwrap();
    assert_eq!(calendar_data(&ms), "x");
}

#[test]
fn errors_are_the_borrowed_decoders_errors() {
    // Without CR the offsets agree too.
    for body in [
        &b"<d:multistatus xmlns:d='DAV:'><d:response>"[..],
        b"<d:multistatus xmlns:d='DAV:'>&bogus;</d:multistatus>",
        b"<!DOCTYPE x><x/>",
        b"<x>\xff</x>",
        b"\xEF\xBB\xBF<x>\xff</x>",
        b"<x/>",
    ] {
        assert!(Multistatus::decode(body).is_err());
        assert_same(body);
    }
    // With CR before the error, the owned offset counts normalised bytes.
    let body = b"<d:multistatus xmlns:d='DAV:'>\r\n\r\n&bogus;</d:multistatus>";
    assert!(matches!(
        Multistatus::decode(body),
        Err(Error::Entity { offset: 34, .. })
    ));
    assert!(matches!(
        Multistatus::decode_owned(body.to_vec()),
        Err(Error::Entity { offset: 32, .. })
    ));
}

/// Pieces of a document that stress line ends: CR in text, CDATA, tags, attribute values,
/// comments and end tags, next to references and multi-byte characters.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "\r",
        "\n",
        "\r\n",
        "\r\r",
        "x",
        "é",
        "&#13;",
        "&amp;",
        "&lt;",
        "\0",
        "<![CDATA[a\r\nb\r]]>",
        "<![CDATA[\r]]>",
        "<!--\r\n-->",
        "<?pi\r?>",
        "<c:x\r\n a='1\r\n2\r3'\r/>",
        "<d:getetag\r>\"e\r\"</d:getetag\r\n>",
        "<d:href>\r\n/a\r</d:href>",
        "<c:y>\r<c:z/>\r\n</c:y>",
        "</d:prop>",
        "<",
    ])
}

proptest! {
    #[test]
    fn owned_decode_equals_borrowed_decode(pieces in prop::collection::vec(piece(), 0..24)) {
        let inner: String = pieces.concat();
        let body = format!(
            "<d:multistatus xmlns:d='DAV:' xmlns:c='urn:c'>\r\n<d:response>\
             <d:href>/a</d:href><d:propstat><d:prop><c:data>{inner}</c:data>\
             </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>\
             </d:response></d:multistatus>"
        );
        assert_same(body.as_bytes());
    }

    #[test]
    fn owned_decode_equals_borrowed_decode_on_any_bytes(
        index in 0..28usize,
        edits in prop::collection::vec((0..4000usize, prop::sample::select(vec![
            &b"\r"[..], b"\r\n", b"\n\r", b"&#13;", b"\xff", b"<", b"]]>",
        ])), 0..6),
    ) {
        let mut body = CORPUS[index].1.to_vec();
        for (at, bytes) in edits {
            let at = at % (body.len() + 1);
            body.splice(at..at, bytes.iter().copied());
        }
        assert_same(&body);
    }
}
