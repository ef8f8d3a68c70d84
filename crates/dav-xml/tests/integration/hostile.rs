//! Hostile documents are rejected early, with bounded memory, as error values.

use dav_xml::{Element, Error, LimitKind, Limits, Multistatus, StreamDecoder};

const BILLION_LAUGHS: &[u8] = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>&lol9;</D:href></D:response></D:multistatus>"#;

const XXE: &[u8] = br#"<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>&xxe;</D:href></D:response></D:multistatus>"#;

fn stream_all(body: &[u8], chunk: usize) -> Result<(), Error> {
    let mut decoder = StreamDecoder::new();
    for piece in body.chunks(chunk) {
        decoder.feed(piece)?;
        while decoder.poll().is_some() {}
    }
    decoder.finish().map(|_| ())
}

#[test]
fn billion_laughs_is_refused_at_the_doctype() {
    assert_eq!(
        Multistatus::decode(BILLION_LAUGHS).unwrap_err(),
        Error::Dtd { offset: 22 }
    );
    assert_eq!(
        stream_all(BILLION_LAUGHS, 1).unwrap_err(),
        Error::Dtd { offset: 22 }
    );
    assert_eq!(
        stream_all(BILLION_LAUGHS, 4096).unwrap_err(),
        Error::Dtd { offset: 22 }
    );
}

#[test]
fn external_entities_are_refused() {
    assert_eq!(
        Multistatus::decode(XXE).unwrap_err(),
        Error::Dtd { offset: 22 }
    );
    assert_eq!(stream_all(XXE, 3).unwrap_err(), Error::Dtd { offset: 22 });
    // Without a DTD, an undeclared entity is an error, never a lookup.
    let body = br#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>&xxe;</D:href></D:response></D:multistatus>"#;
    assert!(matches!(
        Multistatus::decode(body),
        Err(Error::Entity { .. })
    ));
    assert!(matches!(stream_all(body, 7), Err(Error::Entity { .. })));
}

#[test]
fn deep_nesting_is_refused_at_the_depth_limit() {
    let depth = 100_000;
    let mut body = Vec::with_capacity(depth * 7 + 64);
    body.extend_from_slice(br#"<D:multistatus xmlns:D="DAV:"><D:response>"#);
    for _ in 0..depth {
        body.extend_from_slice(b"<a>");
    }
    for _ in 0..depth {
        body.extend_from_slice(b"</a>");
    }
    body.extend_from_slice(b"</D:response></D:multistatus>");
    let limit = Limits::default().max_depth;
    // The element one past the limit: after the multistatus, the response and limit-2 `<a>`s.
    let offset = 42 + 3 * (limit as u64 - 2);
    let expected = Error::Limit {
        offset,
        limit: LimitKind::Depth,
    };
    assert_eq!(Multistatus::decode(&body).unwrap_err(), expected);
    assert_eq!(stream_all(&body, 1000).unwrap_err(), expected);
    assert_eq!(Element::decode(&body).unwrap_err(), expected);
}

#[test]
fn huge_text_in_a_stream_is_refused_with_bounded_memory() {
    let mut limits = Limits::default();
    limits.max_response_bytes = 4 << 20;
    let mut decoder = StreamDecoder::with_limits(limits);
    decoder.feed(br#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:propstat><D:prop><C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav">"#).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    // A 1 GB text node: fed until refused, which must happen once 4 MiB are held.
    let mut fed = 0usize;
    let error = loop {
        match decoder.feed(&chunk) {
            Ok(()) => fed += chunk.len(),
            Err(error) => break error,
        }
        assert!(fed <= 1 << 30);
    };
    assert!(matches!(
        error,
        Error::Limit {
            limit: LimitKind::ResponseBytes,
            ..
        }
    ));
    assert!(fed <= 4 << 20, "held {fed} bytes before refusing");
}

#[test]
fn huge_text_in_a_whole_document_is_refused() {
    let mut limits = Limits::default();
    limits.max_text_bytes = 1000;
    let mut body = br#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>"#.to_vec();
    body.extend(std::iter::repeat_n(b'x', 2000));
    body.extend_from_slice(b"</D:href></D:response></D:multistatus>");
    assert!(matches!(
        Multistatus::decode_with(&body, &limits),
        Err(Error::Limit {
            limit: LimitKind::TextBytes,
            ..
        })
    ));
    let mut cdata = br#"<D:multistatus xmlns:D="DAV:"><D:response><D:href><![CDATA["#.to_vec();
    cdata.extend(std::iter::repeat_n(b'x', 2000));
    cdata.extend_from_slice(b"]]></D:href></D:response></D:multistatus>");
    assert!(matches!(
        Multistatus::decode_with(&cdata, &limits),
        Err(Error::Limit {
            limit: LimitKind::TextBytes,
            ..
        })
    ));
}

#[test]
fn many_attributes_and_elements_are_refused() {
    let mut limits = Limits::default();
    limits.max_attributes = 4;
    limits.max_elements = 10;
    let attrs = br#"<multistatus xmlns="DAV:" a="1" b="2" c="3" d="4"/>"#;
    assert!(matches!(
        Multistatus::decode_with(attrs, &limits),
        Err(Error::Limit {
            limit: LimitKind::Attributes,
            ..
        })
    ));
    let mut many = br#"<multistatus xmlns="DAV:"><response>"#.to_vec();
    for _ in 0..20 {
        many.extend_from_slice(b"<x/>");
    }
    many.extend_from_slice(b"</response></multistatus>");
    assert!(matches!(
        Multistatus::decode_with(&many, &limits),
        Err(Error::Limit {
            limit: LimitKind::Elements,
            ..
        })
    ));
    let mut decoder = StreamDecoder::with_limits(limits);
    assert!(matches!(
        decoder.feed(&many),
        Err(Error::Limit {
            limit: LimitKind::Elements,
            ..
        })
    ));
}

#[test]
fn malformed_documents_are_errors() {
    for body in [
        &b""[..],
        b"<",
        b"<multistatus xmlns='DAV:'>",
        b"<multistatus xmlns='DAV:'><response></multistatus>",
        b"<multistatus xmlns='DAV:'></multistatus><x/>",
        b"text<multistatus xmlns='DAV:'/>",
        b"<multistatus xmlns='DAV:'><response a='1' a='2'/></multistatus>",
        b"<m:multistatus/>",
        b"\xff<multistatus xmlns='DAV:'/>",
        b"<multistatus xmlns='DAV:'><response><href>\xff</href></response></multistatus>",
        b"<!x><multistatus xmlns='DAV:'/>",
    ] {
        assert!(
            Multistatus::decode(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
        for chunk in [1, 3, 1000] {
            assert!(
                stream_all(body, chunk).is_err(),
                "{} in chunks of {chunk}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
