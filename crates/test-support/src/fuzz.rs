//! Drives a machine with answers made from arbitrary bytes, for fuzz targets and their
//! regression tests: every request gets an answer cut from the input (a status, headers and
//! either raw bytes or a multistatus assembled from input pieces, so that decoding succeeds
//! often enough to reach deep states), and once the input is spent every request fails.

use bytes::Bytes;
use caldav_client_core::sync::{SyncConfig, SyncMachine, SyncState};
use caldav_client_core::{Error, Machine, Output, TransportFailure};

use crate::Server;

/// The calendar of [`known_state`].
pub const CALENDAR: &str = "/calendars/alice/default/";

/// A state with a sync token, a ctag and two items of [`CALENDAR`], made by syncing with the
/// in-memory server, so that fuzzing starts from incremental syncs too.
///
/// # Panics
///
/// If the in-memory server and the sync machine disagree, which the crate's tests rule out.
#[must_use]
pub fn known_state() -> SyncState {
    let mut server = Server::new();
    for name in ["1", "2"] {
        let data = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:{name}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        server.put(CALENDAR, &format!("{name}.ics"), &data);
    }
    let config = SyncConfig::new(
        "https://cal.example/".parse().unwrap_or_default(),
        vec![CALENDAR.into()],
    );
    let mut machine = SyncMachine::new(config, SyncState::default());
    if let Err(error) = crate::drive(&mut machine, &mut server) {
        panic!("known state: {error}");
    }
    machine.into_state()
}

const STATUSES: [u16; 16] = [
    207, 207, 207, 207, 200, 201, 204, 401, 403, 404, 409, 410, 412, 500, 503, 507,
];

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn text(&mut self) -> String {
        let len = usize::from(self.byte() % 24);
        let (head, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        String::from_utf8_lossy(head).into_owned()
    }

    fn raw(&mut self) -> Vec<u8> {
        let len = usize::from(self.byte()) * 4;
        let (head, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        head.to_vec()
    }
}

/// A multistatus whose hrefs mostly name `path` and its members.
fn multistatus(input: &mut Input<'_>, path: &str, asked: &[String]) -> Vec<u8> {
    let mut out = String::from(
        "<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" \
         xmlns:cs=\"http://calendarserver.org/ns/\">",
    );
    let count = input.byte() % 6;
    for _ in 0..count {
        let pick = input.byte();
        let href = match pick % 4 {
            0 => path.to_owned(),
            1 => asked
                .get(usize::from(pick / 4) % asked.len().max(1))
                .cloned()
                .unwrap_or_else(|| format!("{path}x.ics")),
            2 => format!("{path}{}.ics", pick / 4 % 8),
            _ => input.text(),
        };
        out.push_str(&format!("<d:response><d:href>{href}</d:href>"));
        match input.byte() % 5 {
            0 => out.push_str("<d:status>HTTP/1.1 404 Not Found</d:status>"),
            1 => out.push_str(
                "<d:status>HTTP/1.1 507 Insufficient Storage</d:status>\
                 <d:error><d:number-of-matches-within-limits/></d:error>",
            ),
            kind => {
                let etag = input.text();
                out.push_str("<d:propstat><d:prop>");
                out.push_str(&format!("<d:getetag>{etag}</d:getetag>"));
                if kind == 2 {
                    out.push_str("<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>");
                    out.push_str(&format!("<cs:getctag>{}</cs:getctag>", input.text()));
                    out.push_str(&format!(
                        "<d:current-user-principal><d:href>{}</d:href></d:current-user-principal>",
                        input.text()
                    ));
                    out.push_str(&format!(
                        "<c:calendar-home-set><d:href>{}</d:href></c:calendar-home-set>",
                        input.text()
                    ));
                } else {
                    out.push_str(&format!(
                        "<c:calendar-data>BEGIN:VCALENDAR\nUID:{}\nEND:VCALENDAR\n</c:calendar-data>",
                        input.text()
                    ));
                }
                out.push_str("</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>");
            }
        }
        out.push_str("</d:response>");
    }
    if !input.byte().is_multiple_of(4) {
        out.push_str(&format!("<d:sync-token>{}</d:sync-token>", input.text()));
    }
    out.push_str("</d:multistatus>");
    out.into_bytes()
}

fn answer(input: &mut Input<'_>, request: &http::Request<Bytes>) -> http::Response<Bytes> {
    let status = STATUSES
        .get(usize::from(input.byte()) % STATUSES.len())
        .copied()
        .unwrap_or(207);
    let path = request.uri().path().to_owned();
    let asked: Vec<String> = dav_xml::Element::decode(request.body())
        .map(|root| {
            root.children_named(&dav_xml::QName::DAV_HREF)
                .map(|h| h.text().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mode = input.byte();
    let body = if mode.is_multiple_of(3) {
        input.raw()
    } else if status == 207 {
        multistatus(input, &path, &asked)
    } else if mode % 3 == 1 {
        format!(
            "<d:error xmlns:d=\"DAV:\"><d:valid-sync-token/>{}</d:error>",
            input.text()
        )
        .into_bytes()
    } else {
        input.text().into_bytes()
    };
    let mut builder = http::Response::builder().status(status);
    if mode & 0x10 != 0 {
        builder = builder.header("ETag", format!("\"{}\"", mode));
    }
    if mode & 0x20 != 0 {
        builder = builder.header("DAV", "1, 3, calendar-access, sync-collection");
    }
    builder
        .body(Bytes::from(body))
        .unwrap_or_else(|_| http::Response::new(Bytes::new()))
}

/// Runs `machine` on answers cut from `data`.
///
/// # Panics
///
/// When the machine misbehaves: a usage error for an id it issued, a wait with nothing in
/// flight, or no `Done` within a bound proportional to the input (an endless loop). These are
/// the bugs the fuzz targets look for.
pub fn drive_bytes<M: Machine>(machine: &mut M, data: &[u8]) -> Result<M::Outcome, Error> {
    let mut input = Input(data);
    let mut pending = Vec::new();
    let bound = 10_000 + data.len() * 100;
    for _ in 0..bound {
        match machine.poll() {
            Output::Http { id, request } => pending.push((id, request)),
            Output::Done(result) => return result,
            Output::Wait => {
                let Some((id, request)) = pending.pop() else {
                    panic!("machine waits with nothing in flight");
                };
                let fed = if input.0.is_empty() {
                    machine.handle_failure(id, TransportFailure::new("input spent"))
                } else {
                    let response = answer(&mut input, &request);
                    machine.handle_response(id, response)
                };
                if let Err(error) = fed {
                    panic!("usage error for an id the machine issued: {error}");
                }
            }
            _ => panic!("unexpected output"),
        }
    }
    panic!("machine did not settle within {bound} polls");
}

#[cfg(test)]
mod tests {
    use super::*;
    use caldav_client_core::bootstrap::{BootstrapConfig, BootstrapMachine};
    use caldav_client_core::write::{WriteConfig, WriteMachine, WriteRequest};

    /// Inputs that reach deep states: every machine must end on each of them.
    const SEEDS: [&[u8]; 5] = [
        b"",
        b"\x00\x01\x05\x02\x01\x03abc\x02\x00\x00\x00\x01\x02t1",
        &[
            0, 1, 5, 2, 1, 3, b'a', 2, 3, b'x', b'y', b'z', 1, 2, b't', b'2', 0, 1, 1,
        ],
        &[15, 1, 5, 0, 4, 0, 15, 0, 1, 4, 3, 0, 3, 1, 2],
        &[7; 64],
    ];

    #[test]
    fn every_machine_ends_on_the_seed_inputs() {
        for data in SEEDS {
            let mut sync = SyncMachine::new(
                SyncConfig::new(
                    "https://cal.example/".parse().unwrap(),
                    vec![CALENDAR.into()],
                ),
                known_state(),
            );
            let _ = drive_bytes(&mut sync, data);
            let mut bootstrap = BootstrapMachine::new(BootstrapConfig::new(
                "https://cal.example/".parse().unwrap(),
            ));
            let _ = drive_bytes(&mut bootstrap, data);
            let mut write = WriteMachine::new(WriteConfig::new(
                "https://cal.example/".parse().unwrap(),
                WriteRequest::Delete {
                    href: "/c/x.ics".into(),
                    etag: "\"1\"".into(),
                },
            ));
            let _ = drive_bytes(&mut write, data);
        }
    }

    #[test]
    fn known_state_has_a_token_and_items() {
        let state = known_state();
        let calendar = &state.calendars[CALENDAR];
        assert!(calendar.sync_token.is_some());
        assert_eq!(calendar.items.len(), 2);
    }
}
