//! `DAV:multistatus` (RFC 4918 §13, §14.16) with the RFC 6578 §6.2 `DAV:sync-token`.
//!
//! ```text
//! <!ELEMENT multistatus (response*, responsedescription?, sync-token?) >
//! <!ELEMENT response (href, ((href*, status)|(propstat+)),
//!                     error?, responsedescription? , location?) >
//! <!ELEMENT propstat (prop, status, error?, responsedescription?) >
//! ```
//!
//! Decoding is lenient where servers are: the elements may come in any order, a response may
//! carry hrefs, a status *and* propstats, an unparsable status line is kept as `None`, and
//! unknown children are kept in `extra`. One odd response never fails the whole document.
//! iCloud's habit of wrapping the multistatus in an outer element is accepted: the first
//! `DAV:multistatus` in document order is the one decoded.

use http::StatusCode;

use std::sync::Arc;

use crate::element::{
    Absorb, Child, Element, ElementBudget, Node, Scope, Shared, build_absorbing, utf8,
};
use crate::error::Error;
use crate::href::Href;
use crate::limits::Limits;
use crate::list::OneOrMany;
use crate::name::QName;
use crate::precondition::DavError;

/// A decoded `DAV:multistatus` body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[must_use]
#[non_exhaustive]
pub struct Multistatus {
    /// The responses, in document order.
    pub responses: Vec<Response>,
    /// The top-level `DAV:responsedescription`.
    pub description: Option<String>,
    /// The RFC 6578 `DAV:sync-token` of a sync-collection REPORT.
    pub sync_token: Option<String>,
    /// Other children of the multistatus, kept as sent.
    pub extra: Vec<Element>,
}

/// One `DAV:response`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[must_use]
#[non_exhaustive]
pub struct Response {
    /// The hrefs, as the server sent them (one for a propstat response, one or more for a
    /// status response); a single href is held without an allocation of its own.
    pub hrefs: OneOrMany<Href>,
    /// The response-level status (a status response, or a 404 for a removed member in a sync
    /// report); `None` when absent or unparsable.
    pub status: Option<StatusCode>,
    /// The propstats, in document order; a single propstat (the common case) is held without
    /// an allocation of its own.
    pub propstats: OneOrMany<PropStat>,
    /// The `DAV:error` conditions, if any.
    pub error: Option<DavError>,
    /// The `DAV:responsedescription`.
    pub description: Option<String>,
    /// The `DAV:location` href (RFC 4918 §14.9), for a 3xx status.
    pub location: Option<Href>,
    /// Other children, kept as sent.
    pub extra: Vec<Element>,
}

/// One `DAV:propstat`: properties that share a status.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PropStat {
    /// The property elements inside `DAV:prop`, with their values as element trees.
    pub props: Vec<Element>,
    /// The status of these properties; `None` when absent or unparsable.
    pub status: Option<StatusCode>,
    /// The `DAV:error` conditions, if any.
    pub error: Option<DavError>,
    /// The `DAV:responsedescription`.
    pub description: Option<String>,
    /// Other children, kept as sent.
    pub extra: Vec<Element>,
}

impl Multistatus {
    /// Decodes a whole multistatus body with default [`Limits`].
    ///
    /// # Errors
    ///
    /// [`Error`] with a byte offset for malformed or hostile XML, or
    /// [`Error::UnexpectedDocument`] when there is no `DAV:multistatus`.
    ///
    /// # Example
    ///
    /// ```
    /// use dav_xml::{Multistatus, QName};
    /// let body = br#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/a.ics</d:href>
    ///   <d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop>
    ///   <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#;
    /// let ms = Multistatus::decode(body)?;
    /// let response = &ms.responses[0];
    /// assert_eq!(response.hrefs[0].as_str(), "/cal/a.ics");
    /// assert_eq!(response.prop(&QName::DAV_GETETAG).unwrap().text(), "\"1\"");
    /// # Ok::<(), dav_xml::Error>(())
    /// ```
    pub fn decode(input: &[u8]) -> Result<Self, Error> {
        Self::decode_with(input, &Limits::default())
    }

    /// Decodes a whole multistatus body with the given limits.
    ///
    /// # Errors
    ///
    /// As [`Multistatus::decode`].
    pub fn decode_with(input: &[u8], limits: &Limits) -> Result<Self, Error> {
        Self::decode_str(utf8(input)?, limits, Shared::default())
    }

    /// Decodes a whole multistatus body that the caller owns, with default [`Limits`]: the
    /// same result as [`Multistatus::decode`], with less copying.
    ///
    /// The body is taken by value (a `Vec<u8>`, or a `bytes::Bytes` or `BytesMut` that
    /// converts into one, without a copy when it is the only handle to its buffer). Line ends
    /// are normalised in place, before parsing, as XML 1.0 §2.11 describes it (`CRLF` and a
    /// lone `CR` become `LF`; bytes move only after the first `CR`, and a body without one is
    /// not written at all). Text and CDATA with nothing else to decode (no reference, no NUL)
    /// are then slices of that one buffer ([`Text`](crate::Text)) instead of strings of their
    /// own: calendar data is never copied. The buffer lives as long as any of those slices;
    /// [`Text::into_string`](crate::Text::into_string) detaches one.
    ///
    /// # Errors
    ///
    /// As [`Multistatus::decode`], except that a byte offset counts bytes of the body after
    /// line-end normalisation (where a parser following XML 1.0 §2.11 reads; in a body
    /// without `CR` the offsets are the same).
    ///
    /// # Example
    ///
    /// ```
    /// use dav_xml::{Multistatus, QName};
    /// let body = b"<d:multistatus xmlns:d='DAV:' xmlns:c='urn:ietf:params:xml:ns:caldav'>\
    ///   <d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop>\
    ///   <c:calendar-data><![CDATA[BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n]]></c:calendar-data>\
    ///   </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>\
    ///   </d:multistatus>".to_vec();
    /// let ms = Multistatus::decode_owned(body)?;
    /// let data = ms.responses[0].prop(&QName::CALDAV_CALENDAR_DATA).unwrap().text();
    /// assert_eq!(data, "BEGIN:VCALENDAR\nEND:VCALENDAR\n");
    /// # Ok::<(), dav_xml::Error>(())
    /// ```
    pub fn decode_owned(body: impl Into<Vec<u8>>) -> Result<Self, Error> {
        Self::decode_owned_with(body, &Limits::default())
    }

    /// [`Multistatus::decode_owned`] with the given limits.
    ///
    /// # Errors
    ///
    /// As [`Multistatus::decode_owned`].
    pub fn decode_owned_with(body: impl Into<Vec<u8>>, limits: &Limits) -> Result<Self, Error> {
        let mut body = body.into();
        crate::lexer::normalize_line_ends(&mut body);
        let document = Arc::new(String::from_utf8(body).map_err(|e| Error::InvalidUtf8 {
            offset: e.utf8_error().valid_up_to() as u64,
        })?);
        let text = document
            .strip_prefix('\u{FEFF}')
            .unwrap_or(document.as_str());
        Self::decode_str(text, limits, Shared(Some(&document)))
    }

    fn decode_str(text: &str, limits: &Limits, shared: Shared<'_>) -> Result<Self, Error> {
        let mut out = Self::default();
        let name = QName::DAV_MULTISTATUS;
        let found = {
            let mut sizer = ResponseSizer::default();
            let mut sink = |child: Child, end: usize| match child {
                Child::Response(response) => {
                    sizer.make_room(&mut out.responses, end, text.len());
                    out.responses.push(response);
                }
                Child::Element(element) => out.absorb(element),
            };
            let mut absorb = Absorb::new(&name, &mut sink);
            build_absorbing(
                text,
                &mut Scope::default(),
                limits,
                ElementBudget::new(limits),
                Some(&mut absorb),
                shared,
            )?;
            absorb.found
        };
        if !found {
            return Err(Error::UnexpectedDocument {
                offset: 0,
                expected: "{DAV:}multistatus",
                found: "no multistatus element".into(),
            });
        }
        Ok(out)
    }

    /// Interprets an already decoded `DAV:multistatus` element.
    pub fn from_element(element: Element) -> Self {
        let mut out = Self::default();
        for child in element.children.into_iter().filter_map(into_element) {
            out.absorb(child);
        }
        out
    }

    /// Takes one child of the multistatus (shared with the stream decoder).
    pub(crate) fn absorb(&mut self, child: Element) {
        if child.name == QName::DAV_RESPONSE {
            self.responses.push(Response::from_element(child));
        } else if child.name == QName::DAV_SYNC_TOKEN {
            self.sync_token = Some(child.text().trim().to_owned());
        } else if child.name == QName::DAV_RESPONSEDESCRIPTION {
            self.description = Some(child.text().into_owned());
        } else {
            self.extra.push(child);
        }
    }
}

/// Sizes the responses' `Vec` of a whole decode from the bytes the responses so far took,
/// so that it is allocated about once instead of doubling (each doubling copies every response
/// decoded so far into fresh memory: a quarter of the decode's writes to memory not in cache).
#[derive(Default)]
struct ResponseSizer {
    /// Where the first response ended.
    first_end: Option<usize>,
}

impl ResponseSizer {
    /// Called before pushing a response that ended at byte `end` of an input of `len` bytes.
    ///
    /// From the second response on, the average span of a response predicts how many the rest
    /// of the input holds; the room reserved for them never takes more bytes than the rest of
    /// the input itself, so a hostile body cannot make it reserve more than it sent.
    fn make_room(&mut self, responses: &mut Vec<Response>, end: usize, len: usize) {
        let Some(first_end) = self.first_end else {
            self.first_end = Some(end);
            return;
        };
        let done = responses.len();
        let spare = responses.capacity() - done;
        // The second response gives the first estimate; later ones only when room ran out.
        if done != 1 && spare > 0 {
            return;
        }
        let span = end.saturating_sub(first_end) / done.max(1);
        let rest = len.saturating_sub(end);
        let predicted = (rest / span.max(1)).saturating_add(1);
        // Responses differ a little in length (numbers in names): a sixteenth more.
        let wanted = predicted.saturating_add(predicted / 16);
        let cap = rest / std::mem::size_of::<Response>().max(1) + 1;
        // Never fewer than an eighth of what is there: growth stays geometric when the
        // prediction keeps falling short.
        let additional = wanted.min(cap).max(done / 8).max(1);
        if additional > spare {
            responses.reserve_exact(additional);
        }
    }
}

fn into_element(node: Node) -> Option<Element> {
    match node {
        Node::Element(element) => Some(element),
        _ => None,
    }
}

/// The trimmed text of an href element, reusing its string when there is nothing to trim.
fn href(mut element: Element) -> Href {
    let text = match element.children.pop() {
        Some(Node::Text(text) | Node::CData(text)) if element.children.is_empty() => {
            text.into_string()
        }
        last => {
            element.children.extend(last);
            element.text().into_owned()
        }
    };
    href_from_text(text)
}

/// An href from its element's decoded text, surrounding whitespace removed.
pub(crate) fn href_from_text(text: impl Into<String> + AsRef<str>) -> Href {
    let trimmed = text.as_ref().trim();
    if trimmed.len() == text.as_ref().len() {
        Href::new(text)
    } else {
        Href::new(trimmed)
    }
}

/// Parses an RFC 4918 §14.28 status line, `HTTP/1.1 404 Not Found`.
///
/// Lenient: any `HTTP/x.y` version, and a bare three-digit code, are accepted.
#[must_use]
pub fn parse_status_line(line: &str) -> Option<StatusCode> {
    // What nearly every server sends, without the general path's Unicode-aware splitting.
    if let Some(rest) = line.strip_prefix("HTTP/1.1 ")
        && let Some(code) = rest.as_bytes().get(..3)
        && code.iter().all(u8::is_ascii_digit)
        && matches!(rest.as_bytes().get(3), None | Some(b' '))
    {
        return StatusCode::from_bytes(code).ok();
    }
    let line = line.trim();
    let code = match line.split_once(char::is_whitespace) {
        Some((version, rest)) if version.starts_with("HTTP/") => rest
            .trim_start()
            .split(char::is_whitespace)
            .next()
            .unwrap_or(""),
        Some(_) => return None,
        None => line,
    };
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    StatusCode::from_bytes(code.as_bytes()).ok()
}

impl Response {
    /// Interprets an already decoded `DAV:response` element.
    pub fn from_element(element: Element) -> Self {
        let mut out = Self::default();
        for child in element.children.into_iter().filter_map(into_element) {
            out.take_child(child);
        }
        out
    }

    /// Takes one child of the `DAV:response` (shared with the decoders, which build propstats
    /// themselves).
    pub(crate) fn take_child(&mut self, child: Element) {
        if child.name == QName::DAV_HREF {
            self.hrefs.push(href(child));
        } else if child.name == QName::DAV_STATUS {
            self.status = parse_status_line(&child.text());
        } else if child.name == QName::DAV_PROPSTAT {
            self.propstats.push(PropStat::from_element(child));
        } else if child.name == QName::DAV_ERROR {
            self.error = Some(DavError::from_element(child));
        } else if child.name == QName::DAV_RESPONSEDESCRIPTION {
            self.description = Some(child.text().into_owned());
        } else if child.name == QName::DAV_LOCATION {
            self.location = child
                .child(&QName::DAV_HREF)
                .map(|href| Href::new(href.text().trim()));
        } else {
            self.extra.push(child);
        }
    }

    /// The first href (a propstat response has exactly one).
    #[must_use]
    pub fn href(&self) -> Option<&Href> {
        self.hrefs.first()
    }

    /// The property called `name` from the first propstat with a 2xx status.
    #[must_use]
    pub fn prop(&self, name: &QName) -> Option<&Element> {
        self.propstats
            .iter()
            .filter(|p| p.status.is_some_and(|s| s.is_success()))
            .find_map(|p| p.prop(name))
    }

    /// The status of the property called `name`, whichever propstat holds it.
    #[must_use]
    pub fn prop_status(&self, name: &QName) -> Option<StatusCode> {
        self.propstats
            .iter()
            .find(|p| p.prop(name).is_some())
            .and_then(|p| p.status)
    }
}

impl PropStat {
    /// Interprets an already decoded `DAV:propstat` element.
    pub fn from_element(element: Element) -> Self {
        let mut out = Self::default();
        for child in element.children.into_iter().filter_map(into_element) {
            out.take_child(child);
        }
        out
    }

    /// Takes one child of the `DAV:propstat`.
    pub(crate) fn take_child(&mut self, child: Element) {
        if child.name == QName::DAV_PROP {
            self.props
                .extend(child.children.into_iter().filter_map(into_element));
        } else if child.name == QName::DAV_STATUS {
            self.status = parse_status_line(&child.text());
        } else if child.name == QName::DAV_ERROR {
            self.error = Some(DavError::from_element(child));
        } else if child.name == QName::DAV_RESPONSEDESCRIPTION {
            self.description = Some(child.text().into_owned());
        } else {
            self.extra.push(child);
        }
    }

    /// The property called `name`.
    #[must_use]
    pub fn prop(&self, name: &QName) -> Option<&Element> {
        self.props.iter().find(|p| p.name == *name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line("HTTP/1.1 200 OK"), Some(StatusCode::OK));
        assert_eq!(
            parse_status_line(" HTTP/1.1 404 Not Found\n"),
            Some(StatusCode::NOT_FOUND)
        );
        assert_eq!(
            parse_status_line("HTTP/2 507"),
            Some(StatusCode::INSUFFICIENT_STORAGE)
        );
        assert_eq!(parse_status_line("418"), Some(StatusCode::IM_A_TEAPOT));
        assert_eq!(parse_status_line("HTTP/1.1 2000 OK"), None);
        assert_eq!(parse_status_line("OK"), None);
        assert_eq!(parse_status_line("HTTP/1.1 abc"), None);
        assert_eq!(
            parse_status_line("HTTP/1.1 404"),
            Some(StatusCode::NOT_FOUND)
        );
        assert_eq!(parse_status_line("HTTP/1.1 4040 x"), None);
        assert_eq!(parse_status_line("HTTP/1.1 099 x"), None);
        assert_eq!(
            parse_status_line("HTTP/1.1 200\u{a0}OK"),
            Some(StatusCode::OK)
        );
        assert_eq!(parse_status_line(""), None);
    }

    #[test]
    fn wrapped_multistatus_is_found() {
        let ms = Multistatus::decode(b"<xml><multistatus xmlns='DAV:'><response><href>/a</href><status>HTTP/1.1 404 Not Found</status></response></multistatus></xml>").unwrap();
        assert_eq!(ms.responses.len(), 1);
        assert_eq!(ms.responses[0].status, Some(StatusCode::NOT_FOUND));
    }

    fn multistatus_of(responses: &[String]) -> Vec<u8> {
        let mut body = String::from("<?xml version='1.0'?><d:multistatus xmlns:d='DAV:'>");
        for response in responses {
            body.push_str(response);
        }
        body.push_str("</d:multistatus>");
        body.into_bytes()
    }

    fn response(i: usize, etag: &str) -> String {
        format!(
            "<d:response><d:href>/cal/{i}.ics</d:href><d:propstat><d:prop><d:getetag>{etag}\
             </d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>\
             </d:response>\n"
        )
    }

    #[test]
    fn responses_vec_is_sized_from_the_first_responses() {
        let n = 600;
        let body = multistatus_of(&(0..n).map(|i| response(i, "\"e\"")).collect::<Vec<_>>());
        for ms in [
            Multistatus::decode(&body).unwrap(),
            Multistatus::decode_owned(body.clone()).unwrap(),
        ] {
            assert_eq!(ms.responses.len(), n);
            let capacity = ms.responses.capacity();
            assert!(capacity >= n && capacity <= n + n / 8, "{capacity}");
        }
    }

    #[test]
    fn responses_vec_room_is_bounded_by_the_body() {
        // Two small responses, then one with a large value: the prediction from the first two
        // is far too high, and the room reserved stays within the body's size.
        let big = "x".repeat(1 << 20);
        let body = multistatus_of(&[response(0, "a"), response(1, "b"), response(2, &big)]);
        let ms = Multistatus::decode(&body).unwrap();
        assert_eq!(ms.responses.len(), 3);
        let room = ms.responses.capacity() * std::mem::size_of::<Response>();
        assert!(
            room <= body.len() + 2 * std::mem::size_of::<Response>(),
            "{room}"
        );
        // Responses that keep coming after the prediction ran out still fit.
        let mut grown: Vec<String> = (0..3).map(|i| response(i, "e")).collect();
        grown.extend((3..300).map(|i| response(i, "")));
        grown.insert(2, response(2, &"y".repeat(2_000)));
        let ms = Multistatus::decode(&multistatus_of(&grown)).unwrap();
        assert_eq!(ms.responses.len(), 301);
    }

    #[test]
    fn not_a_multistatus() {
        assert!(matches!(
            Multistatus::decode(b"<x xmlns='DAV:'/>"),
            Err(Error::UnexpectedDocument { .. })
        ));
    }
}
