//! WebDAV XML inputs (RFC 4918 §14.16 multistatus, RFC 4791 §7.9 calendar-multiget answers).
//!
//! [`multistatus`] writes the answer to a calendar-multiget of `n` resources: one
//! `<response>` per resource with its href, a `getetag` and the `calendar-data` of
//! [`ics::calendar_object`](crate::ics::calendar_object), about 2 KB each, so 10,000 responses
//! make about 20 MB (19.6 MB in CDATA, 22 MB escaped). The calendar data travels in one of two forms ([`Escaping`]): in CDATA
//! with its CRLF line ends raw (as Cyrus sends it), or as escaped text with every CR written
//! `&#13;` (as SabreDAV and Nextcloud send it). [`write_response`] writes one response at a
//! time, so a streaming decoder can be fed a document that is never held whole.

use crate::SeedError;
use crate::ics::{Eol, calendar_object};

/// How `calendar-data` is written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Escaping {
    /// `<![CDATA[...]]>` with raw CRLF line ends.
    Cdata,
    /// Escaped text: `&amp;`, `&lt;`, `&gt;`, and `&#13;` for each CR.
    Entities,
}

/// The document's start: the XML declaration and the multistatus start tag.
pub const HEAD: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus \
     xmlns:d=\"DAV:\" xmlns:cal=\"urn:ietf:params:xml:ns:caldav\">\n";

/// The document's end.
pub const TAIL: &str = "</d:multistatus>\n";

/// The entity tag of resource `i` (quotes included).
#[must_use]
pub fn etag(i: usize) -> String {
    let mixed = (i as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17);
    format!("\"{mixed:016x}\"")
}

/// The href of resource `i`.
#[must_use]
pub fn href(i: usize) -> String {
    format!("/calendars/user/ken/Default/{i:08}-4f6c-bench.ics")
}

fn escape_text(out: &mut Vec<u8>, text: &str, escape_cr: bool) {
    for byte in text.bytes() {
        match byte {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            // `>` only matters after `]]`, but servers escape it anyway.
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' if escape_cr => out.extend_from_slice(b"&#13;"),
            other => out.push(other),
        }
    }
}

/// Appends response `i` to `out`.
pub fn write_response(out: &mut Vec<u8>, i: usize, escaping: Escaping) {
    out.extend_from_slice(b"  <d:response>\n    <d:href>");
    out.extend_from_slice(href(i).as_bytes());
    out.extend_from_slice(b"</d:href>\n    <d:propstat>\n      <d:prop>\n        <d:getetag>");
    match escaping {
        Escaping::Cdata => out.extend_from_slice(etag(i).as_bytes()),
        Escaping::Entities => {
            out.extend_from_slice(etag(i).replace('"', "&quot;").as_bytes());
        }
    }
    out.extend_from_slice(b"</d:getetag>\n        <cal:calendar-data>");
    let data = calendar_object(i, Eol::CrLf);
    match escaping {
        Escaping::Cdata => {
            out.extend_from_slice(b"<![CDATA[");
            out.extend_from_slice(data.as_bytes());
            out.extend_from_slice(b"]]>");
        }
        Escaping::Entities => escape_text(out, &data, true),
    }
    out.extend_from_slice(
        b"</cal:calendar-data>\n      </d:prop>\n      <d:status>HTTP/1.1 200 OK</d:status>\n    \
          </d:propstat>\n  </d:response>\n",
    );
}

/// The whole multistatus answering a calendar-multiget of `responses` resources.
///
/// # Example
///
/// ```
/// use caldav_benches::xml::{Escaping, multistatus};
///
/// let body = multistatus(3, Escaping::Entities);
/// let decoded = dav_xml::Multistatus::decode(&body).unwrap();
/// assert_eq!(decoded.responses.len(), 3);
/// ```
#[must_use]
pub fn multistatus(responses: usize, escaping: Escaping) -> Vec<u8> {
    let mut out = Vec::with_capacity(responses * 2300 + 256);
    out.extend_from_slice(HEAD.as_bytes());
    for i in 0..responses {
        write_response(&mut out, i, escaping);
    }
    out.extend_from_slice(TAIL.as_bytes());
    out
}

/// Every multistatus body (status 207) the server sent in the seed trace, in order.
///
/// # Errors
///
/// When the seed trace does not read.
pub fn seed_multistatus_bodies() -> Result<Vec<Vec<u8>>, SeedError> {
    Ok(caldav_trace::seed::exchanges()
        .map_err(SeedError::Trace)?
        .into_iter()
        .filter_map(|exchange| exchange.response)
        .filter(|response| response.status() == http::StatusCode::MULTI_STATUS)
        .map(|response| response.into_body().to_vec())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dav_xml::{Multistatus, QName, StreamDecoder};

    #[test]
    fn ten_thousand_responses_make_about_20_mb() {
        // Measured on a slice, so the test stays fast.
        for (escaping, range) in [
            (Escaping::Cdata, 1_800..2_100),
            (Escaping::Entities, 2_000..2_300),
        ] {
            let per_response = multistatus(200, escaping).len() / 200;
            assert!(
                range.contains(&per_response),
                "{escaping:?}: {per_response} bytes per response"
            );
        }
    }

    #[test]
    fn both_variants_decode_to_the_calendar_objects() {
        for escaping in [Escaping::Cdata, Escaping::Entities] {
            let body = multistatus(12, escaping);
            let decoded = Multistatus::decode(&body).unwrap();
            assert_eq!(decoded.responses.len(), 12);
            for (i, r) in decoded.responses.iter().enumerate() {
                assert_eq!(r.href().unwrap().as_str(), href(i));
                let got_etag = r.prop(&QName::DAV_GETETAG).unwrap().text();
                assert_eq!(got_etag, etag(i));
                let data = r.prop(&QName::CALDAV_CALENDAR_DATA).unwrap().text();
                // XML end-of-line handling turns raw CRLF into LF; only `&#13;` survives.
                let eol = match escaping {
                    Escaping::Cdata => Eol::Lf,
                    Escaping::Entities => Eol::CrLf,
                };
                assert_eq!(data, calendar_object(i, eol));
            }
        }
    }

    #[test]
    fn streamed_response_by_response_equals_whole() {
        let mut decoder = StreamDecoder::new();
        decoder.feed(HEAD.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let mut streamed = Vec::new();
        for i in 0..5 {
            buf.clear();
            write_response(&mut buf, i, Escaping::Entities);
            decoder.feed(&buf).unwrap();
            streamed.extend(std::iter::from_fn(|| decoder.poll()));
        }
        decoder.feed(TAIL.as_bytes()).unwrap();
        streamed.extend(decoder.finish().unwrap().responses);
        let whole = Multistatus::decode(&multistatus(5, Escaping::Entities)).unwrap();
        assert_eq!(streamed, whole.responses);
    }

    #[test]
    fn escaping_covers_markup_characters() {
        let mut out = Vec::new();
        escape_text(&mut out, "a>b<c&d\r\ne", true);
        assert_eq!(out, b"a&gt;b&lt;c&amp;d&#13;\ne");
    }

    #[test]
    fn seed_has_multistatus_bodies_that_decode() {
        let bodies = seed_multistatus_bodies().unwrap();
        assert!(bodies.len() >= 5, "{}", bodies.len());
        for body in &bodies {
            let _ = Multistatus::decode(body).unwrap();
        }
    }
}
