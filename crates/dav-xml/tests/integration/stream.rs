//! Streamed decoding gives the same result as whole decoding, whatever the chunking.

use dav_xml::{Error, Multistatus, StreamDecoder};
use proptest::prelude::*;

use crate::corpus::CORPUS;

/// Feeds `body` in the given chunks and collects everything the decoder yields.
pub(crate) fn stream<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<Multistatus, Error> {
    let mut decoder = StreamDecoder::new();
    let mut responses = Vec::new();
    for chunk in chunks {
        decoder.feed(chunk)?;
        while let Some(response) = decoder.poll() {
            responses.push(response);
        }
    }
    let mut rest = decoder.finish()?;
    responses.append(&mut rest.responses);
    rest.responses = responses;
    Ok(rest)
}

/// Splits `body` at the given offsets (sorted, deduplicated, clamped).
pub(crate) fn split_at<'a>(body: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| (*c).min(body.len())).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut last = 0;
    for cut in cuts {
        out.push(&body[last..cut]);
        last = cut;
    }
    out.push(&body[last..]);
    out
}

#[test]
fn corpus_byte_by_byte_equals_whole() {
    for (name, body) in CORPUS {
        let whole = Multistatus::decode(body).unwrap();
        assert_eq!(stream(body.chunks(1)).unwrap(), whole, "{name}");
        assert_eq!(stream([*body]).unwrap(), whole, "{name}");
    }
}

#[test]
fn corpus_every_two_way_split_equals_whole() {
    for (name, body) in CORPUS.iter().filter(|(_, b)| b.len() < 1200) {
        let whole = Multistatus::decode(body).unwrap();
        for cut in 0..=body.len() {
            assert_eq!(
                stream(split_at(body, &[cut])).unwrap(),
                whole,
                "{name} cut at {cut}"
            );
        }
    }
}

#[test]
fn responses_are_yielded_before_the_document_ends() {
    let body = br#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:status>HTTP/1.1 200 OK</D:status></D:response>"#;
    let mut decoder = StreamDecoder::new();
    decoder.feed(body).unwrap();
    assert_eq!(decoder.poll().unwrap().hrefs[0].as_str(), "/a");
    assert!(decoder.poll().is_none());
    assert!(matches!(decoder.finish(), Err(Error::UnexpectedEof { .. })));
}

#[test]
fn errors_carry_stream_offsets_and_stick() {
    let body = b"<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>&bogus;</D:href></D:response></D:multistatus>";
    let mut decoder = StreamDecoder::new();
    let error = body.chunks(5).find_map(|c| decoder.feed(c).err()).unwrap();
    assert_eq!(
        error,
        Error::Entity {
            offset: 50,
            name: "bogus".into()
        }
    );
    assert_eq!(Multistatus::decode(body).unwrap_err(), error);
    assert_eq!(decoder.feed(b"").unwrap_err(), error);
}

#[test]
fn mismatched_wrapper_end_tag() {
    let body = b"<x><multistatus xmlns='DAV:'></multistatus></y>";
    assert!(matches!(
        stream([&body[..]]),
        Err(Error::Syntax { offset: 43, .. })
    ));
    assert!(matches!(
        Multistatus::decode(body),
        Err(Error::Syntax { .. })
    ));
}

#[test]
fn trailer_elements_are_kept() {
    let body = br#"<multistatus xmlns="DAV:"><response><href>/a</href><status>HTTP/1.1 404 Not Found</status></response><responsedescription>partial</responsedescription><sync-token>tok-1</sync-token><x:extra xmlns:x="urn:x"/></multistatus>"#;
    let whole = Multistatus::decode(body).unwrap();
    assert_eq!(whole.sync_token.as_deref(), Some("tok-1"));
    assert_eq!(whole.description.as_deref(), Some("partial"));
    assert_eq!(whole.extra.len(), 1);
    assert_eq!(stream(body.chunks(3)).unwrap(), whole);
}

proptest! {
    #[test]
    fn random_splits_equal_whole(index in 0..28usize, cuts in proptest::collection::vec(0..3000usize, 0..12)) {
        let (_, body) = CORPUS[index];
        let whole = Multistatus::decode(body).unwrap();
        prop_assert_eq!(stream(split_at(body, &cuts)).unwrap(), whole);
    }
}

#[test]
fn regression_fuzz_text_outside_root_offset_does_not_depend_on_chunks() {
    let body = b" x<multistatus xmlns='DAV:'/>";
    let want = Error::Syntax {
        offset: 1,
        message: "text outside the root element".into(),
    };
    assert_eq!(stream([&body[..]]).unwrap_err(), want);
    assert_eq!(stream(body.chunks(1)).unwrap_err(), want);
}

/// A multiget answer of `n` responses with calendar data, about 2 KB each.
fn big_multiget(n: usize) -> Vec<u8> {
    let mut out = String::from(
        r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">"#,
    );
    for i in 0..n {
        out.push_str(&format!(
            "<d:response><d:href>/cal/{i}.ics</d:href><d:propstat><d:prop><d:getetag>\"{i}\"</d:getetag><c:calendar-data><![CDATA[BEGIN:VCALENDAR\r\n{}END:VCALENDAR\r\n]]></c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\n",
            "X-FILL:0123456789012345678901234567890123456789012345678901234567890123456789\r\n".repeat(24)
        ));
    }
    out.push_str("<d:sync-token>t</d:sync-token></d:multistatus>");
    out.into_bytes()
}

#[test]
fn memory_is_bounded_by_one_response_not_the_document() {
    let body = big_multiget(2_000);
    assert!(body.len() > 3_000_000);
    let mut decoder = StreamDecoder::new();
    let mut count = 0;
    let mut peak = 0;
    for chunk in body.chunks(64 * 1024) {
        decoder.feed(chunk).unwrap();
        peak = peak.max(decoder.buffered_capacity());
        while let Some(response) = decoder.poll() {
            assert_eq!(response.hrefs[0].as_str(), format!("/cal/{count}.ics"));
            count += 1;
        }
    }
    assert_eq!(decoder.finish().unwrap().sync_token.as_deref(), Some("t"));
    assert_eq!(count, 2_000);
    // One 64 KiB chunk plus one ~2 KB response, with the Vec's doubling: far below the 3 MB.
    assert!(peak <= 256 * 1024, "peak buffer {peak} bytes");
}

#[test]
fn buffer_shrinks_after_a_large_response() {
    let mut body =
        br#"<multistatus xmlns="DAV:"><response><href>/big</href><responsedescription>"#.to_vec();
    body.extend(std::iter::repeat_n(b'x', 8 << 20));
    body.extend_from_slice(b"</responsedescription></response>");
    let mut decoder = StreamDecoder::new();
    decoder.feed(&body).unwrap();
    assert!(decoder.poll().is_some());
    decoder
        .feed(b"<response><href>/small</href></response>")
        .unwrap();
    assert!(
        decoder.buffered_capacity() < 1 << 20,
        "{}",
        decoder.buffered_capacity()
    );
}

/// Responses with what the one-pass path must step over or hand to the scanner: comments, a
/// processing instruction and text between them, declarations on a response, an empty child,
/// CDATA split around `]]>` and holding CRLF, `&#13;`, and multi-byte characters.
const MIXED: &str = "<?xml version=\"1.0\"?>\r\n<d:multistatus xmlns:d=\"DAV:\">\r\n\
  <!-- first --><d:response xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:href>/ä/1.ics</d:href>\
  <d:propstat><d:prop><d:getetag>\"1\"</d:getetag><c:calendar-data><![CDATA[A\r\nB]]]]>\
  <![CDATA[>C\r\n]]></c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status>\
  </d:propstat></d:response>\r\n<?pi x?> text \r\n<d:x/><d:response><d:href>/€/2.ics</d:href>\
  <d:propstat><d:prop><d:getetag>&quot;2&quot;</d:getetag><c:calendar-data \
  xmlns:c='urn:ietf:params:xml:ns:caldav'>D&#13;\r\nE&#13;\n😀</c:calendar-data></d:prop>\
  <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response><d:response><d:href>/3\
  </d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>\r\n\
  <d:sync-token>s</d:sync-token></d:multistatus>\r\n";

#[test]
fn one_pass_children_equal_whole_at_every_split() {
    let body = MIXED.as_bytes();
    let whole = Multistatus::decode(body).unwrap();
    assert_eq!(whole.responses.len(), 3);
    let data = |i: usize| {
        whole.responses[i]
            .prop(&dav_xml::QName::CALDAV_CALENDAR_DATA)
            .unwrap()
            .text()
            .into_owned()
    };
    assert_eq!(data(0), "A\nB]]>C\n");
    assert_eq!(data(1), "D\r\nE\r\n😀");
    assert_eq!(stream([body]).unwrap(), whole);
    assert_eq!(stream(body.chunks(1)).unwrap(), whole);
    for cut in 0..=body.len() {
        assert_eq!(
            stream(split_at(body, &[cut])).unwrap(),
            whole,
            "cut at {cut}"
        );
    }
    for size in [2, 3, 7, 64, 100, 333] {
        assert_eq!(
            stream(body.chunks(size)).unwrap(),
            whole,
            "chunks of {size}"
        );
    }
}

#[test]
fn one_pass_and_scanner_agree_on_big_documents() {
    let body = big_multiget(60);
    let whole = Multistatus::decode(&body).unwrap();
    for size in [1, 5, 511, 4096, 64 * 1024, body.len()] {
        assert_eq!(
            stream(body.chunks(size)).unwrap(),
            whole,
            "chunks of {size}"
        );
    }
}

#[test]
fn a_failing_child_reports_the_error_of_whole_decoding_at_any_chunking() {
    // The third response has an unknown entity, the fourth would be fine.
    let mut body = String::from("<d:multistatus xmlns:d=\"DAV:\">");
    for i in 0..4 {
        let href = if i == 2 { "&bogus;" } else { "/ok" };
        body.push_str(&format!(
            "<d:response><d:href>{href}</d:href><d:status>HTTP/1.1 200 OK</d:status></d:response>"
        ));
    }
    body.push_str("</d:multistatus>");
    let body = body.as_bytes();
    let want = Multistatus::decode(body).unwrap_err();
    assert!(matches!(want, Error::Entity { .. }), "{want:?}");
    for size in [1, 9, 64, body.len()] {
        assert_eq!(
            stream(body.chunks(size)).unwrap_err(),
            want,
            "chunks of {size}"
        );
    }
}

#[test]
fn a_mismatched_end_tag_inside_a_child_fails_at_any_chunking() {
    let body = b"<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/a</d:hre></d:response></d:multistatus>";
    let want = Multistatus::decode(body).unwrap_err();
    for size in [1, 4, body.len()] {
        assert_eq!(
            stream(body.chunks(size)).unwrap_err(),
            want,
            "chunks of {size}"
        );
    }
}
