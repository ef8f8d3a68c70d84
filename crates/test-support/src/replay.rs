//! Replay of recorded conversations: answers a machine's requests with recorded responses,
//! matched by method, path, Depth and body semantics rather than by order, so that a machine
//! that asks in another order or for other properties than the recorded client still gets
//! the recorded answers.

use std::collections::BTreeSet;

use bytes::Bytes;
use dav_xml::{Element, QName};
use http::{Method, Request, Response, StatusCode};

/// One recorded request and its answer.
pub type Recorded = (Request<Bytes>, Response<Bytes>);

/// A replaying server.
#[derive(Debug)]
pub struct Replay {
    exchanges: Vec<Recorded>,
    used: Vec<bool>,
    /// Requests no recording matched, with what the replay answered instead.
    pub synthesized: Vec<(Method, String, StatusCode)>,
}

fn depth(request: &Request<Bytes>) -> Option<Vec<u8>> {
    request
        .headers()
        .get("Depth")
        .map(|d| d.as_bytes().to_vec())
}

fn path(request: &Request<Bytes>) -> String {
    dav_xml::Href::new(request.uri().path()).canonical()
}

fn root(body: &[u8]) -> Option<Element> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Element::decode(body).ok()
}

/// The property names a body asks for or sets: under `DAV:prop`, or under the `DAV:prop` of
/// each `DAV:set` and `DAV:remove` of a PROPPATCH.
fn prop_names(root: &Element) -> BTreeSet<QName> {
    let direct = root.child(&QName::DAV_PROP).into_iter();
    let nested = root
        .elements()
        .filter(|e| e.name == QName::DAV_SET || e.name == QName::DAV_REMOVE)
        .filter_map(|e| e.child(&QName::DAV_PROP));
    direct
        .chain(nested)
        .flat_map(|p| p.elements().map(|e| e.name.clone()))
        .collect()
}

fn hrefs(root: &Element) -> BTreeSet<String> {
    root.children_named(&QName::DAV_HREF)
        .map(|h| dav_xml::Href::new(h.text().trim()).canonical())
        .collect()
}

/// How well a recorded request matches `ours`; `None` when it does not.
fn score(recorded: &Request<Bytes>, ours: &Request<Bytes>) -> Option<usize> {
    if recorded.method() != ours.method()
        || path(recorded) != path(ours)
        || depth(recorded) != depth(ours)
    {
        return None;
    }
    match (root(recorded.body()), root(ours.body())) {
        (None, None) => Some(1),
        (Some(a), Some(b)) if a.name == b.name => {
            if a.name == QName::caldav("calendar-multiget") {
                return (hrefs(&a) == hrefs(&b)).then_some(1);
            }
            if a.name == QName::dav("sync-collection") {
                let token = |e: &Element| {
                    e.child(&QName::DAV_SYNC_TOKEN)
                        .map(|t| t.text().trim().to_owned())
                };
                return (token(&a) == token(&b)).then_some(1);
            }
            let shared = prop_names(&a).intersection(&prop_names(&b)).count();
            (shared > 0).then_some(shared)
        }
        _ => None,
    }
}

impl Replay {
    /// A replay of `exchanges`.
    #[must_use]
    pub fn new(exchanges: Vec<Recorded>) -> Self {
        let used = vec![false; exchanges.len()];
        Self {
            exchanges,
            used,
            synthesized: Vec::new(),
        }
    }

    /// Answers `request` with the best-matching recorded response: an unused one first, then
    /// a used one. With no match at all, a Depth:0 PROPFIND gets a 207 whose propstat is empty
    /// (what Cyrus answers under `Prefer: return=minimal` when it has none of the properties)
    /// and anything else a 404; both are listed in [`Replay::synthesized`].
    pub fn handle(&mut self, request: Request<Bytes>) -> Response<Bytes> {
        let mut best: Option<(bool, usize, usize)> = None;
        for (index, (recorded, _)) in self.exchanges.iter().enumerate() {
            let Some(score) = score(recorded, &request) else {
                continue;
            };
            let fresh = !self.used.get(index).copied().unwrap_or(true);
            let candidate = (fresh, score, index);
            let better = match best {
                None => true,
                Some((f, s, _)) => (fresh, score) > (f, s),
            };
            if better {
                best = Some(candidate);
            }
        }
        if let Some((_, _, index)) = best {
            if let Some(used) = self.used.get_mut(index) {
                *used = true;
            }
            if let Some((_, response)) = self.exchanges.get(index) {
                return response.clone();
            }
        }
        let path = request.uri().path().to_owned();
        let minimal =
            request.method().as_str() == "PROPFIND" && depth(&request).as_deref() == Some(b"0");
        let (status, body) = if minimal {
            (
                StatusCode::MULTI_STATUS,
                format!(
                    "<A:multistatus xmlns:A=\"DAV:\"><A:response><A:href>{path}</A:href>\
                     <A:propstat><A:prop/><A:status>HTTP/1.1 200 OK</A:status></A:propstat>\
                     </A:response></A:multistatus>"
                ),
            )
        } else {
            (StatusCode::NOT_FOUND, String::new())
        };
        self.synthesized
            .push((request.method().clone(), path, status));
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = status;
        response
    }

    /// The recorded exchanges no request used: method and path.
    #[must_use]
    pub fn unused(&self) -> Vec<(Method, String)> {
        self.exchanges
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .map(|((request, _), _)| (request.method().clone(), request.uri().path().to_owned()))
            .collect()
    }
}

/// The seed's exchanges: the three examples of the CalConnect page (PROPFIND on the context,
/// OPTIONS and PROPFIND on the principal), then the 25 exchanges of the Cyrus trace.
///
/// # Panics
///
/// If the seed fixture cannot be read: the fixture is part of the repository.
#[must_use]
pub fn seed() -> Vec<Recorded> {
    let mut out = page_examples(caldav_trace::seed::SEED);
    let exchanges = caldav_trace::seed::exchanges().unwrap_or_else(|e| panic!("seed trace: {e}"));
    out.extend(
        exchanges
            .into_iter()
            .filter_map(|e| e.response.map(|response| (e.request, response))),
    );
    out
}

/// The request and response examples of a Markdown page: blocks after `#### Request:` and
/// `#### Response:` headings, paired in order. A response block without a status line is a
/// 207 (the page leaves it out for the first example); headers whose value is `...` are
/// dropped.
fn page_examples(page: &str) -> Vec<Recorded> {
    let block = |from: usize, heading: &str| -> Option<(usize, String)> {
        let start = page.get(from..)?.find(heading)? + from;
        let open = page.get(start..)?.find("```\n")? + start + 4;
        let close = page.get(open..)?.find("```")? + open;
        Some((close + 3, page.get(open..close)?.to_owned()))
    };
    let mut out = Vec::new();
    let mut at = 0;
    while let Some((after_request, request)) = block(at, "#### Request:") {
        let Some((after_response, response)) = block(after_request, "#### Response:") else {
            break;
        };
        at = after_response;
        let (request_head, request_body) = split(&request);
        let mut lines = request_head.lines();
        let Some(start) = lines.next() else { continue };
        let mut parts = start.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            continue;
        };
        let mut builder = Request::builder().method(method).uri(target);
        for (name, value) in lines.filter_map(|l| l.split_once(": ")) {
            if value != "..." {
                builder = builder.header(name, value);
            }
        }
        let Ok(request) = builder.body(Bytes::from(request_body)) else {
            continue;
        };
        let (response_head, response_body) = split(&response);
        let mut lines = response_head.lines().peekable();
        let mut status = StatusCode::MULTI_STATUS;
        if let Some(first) = lines.peek()
            && first.starts_with("HTTP/")
        {
            status = first
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(StatusCode::OK);
            lines.next();
        }
        let mut builder = Response::builder().status(status);
        for (name, value) in lines.filter_map(|l| l.split_once(": ")) {
            if value != "..." {
                builder = builder.header(name, value);
            }
        }
        if let Ok(response) = builder.body(Bytes::from(response_body)) {
            out.push((request, response));
        }
    }
    out
}

fn split(block: &str) -> (String, String) {
    match block.split_once("\n\n") {
        Some((head, body)) => (head.to_owned(), body.trim_end().to_owned()),
        None => (block.trim_end().to_owned(), String::new()),
    }
}
