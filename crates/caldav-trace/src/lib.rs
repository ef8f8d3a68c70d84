//! Recorded HTTP conversations in Cyrus' telemetry-log format, read into HTTP exchanges and
//! written back.
//!
//! Cyrus IMAP's telemetry log (what `caldav-rs`'s seed trace is) records every socket read and
//! write of a connection as a timestamped chunk:
//!
//! ```text
//! ---------- ken Tue Sep 26 03:50:28 2017
//!
//! <1506412228<PROPFIND /calendars/user/ken/Inbox/ HTTP/1.1
//! Host: 192.168.1.203
//! ...
//! >1506412228>HTTP/1.1 207 Multi-Status
//! ...
//! ```
//!
//! [`Trace::parse`] splits a log into [`Session`]s and [`Chunk`]s ([`log`]), joins each
//! direction's chunks into the byte stream the peer saw, cuts the streams into HTTP/1.1
//! messages ([`message`]) and pairs requests with responses in order ([`exchange`]). The
//! result is a list of [`Exchange`]s of `http::Request<Bytes>` and `http::Response<Bytes>`,
//! the very types the project's sans-IO machines consume, with the body offsets where
//! recorded chunks began (for streaming tests). [`Writer`] writes exchanges back in the same
//! format, with times supplied by the caller: this crate reads no clock and touches no file.
//!
//! # Example
//!
//! ```
//! use caldav_trace::Trace;
//!
//! let log = "---------- ken Tue Sep 26 03:50:28 2017\n\n\
//!            <1506412228<GET /calendars/ken/a.ics HTTP/1.1\nHost: example.com\n\n\
//!            >1506412229>HTTP/1.1 200 OK\nContent-Length: 5\n\nhel>1506412229>lo";
//! let trace = Trace::parse(log.as_bytes())?;
//! let exchange = &trace.sessions[0].exchanges[0];
//! assert_eq!(exchange.request.method(), "GET");
//! assert_eq!(exchange.request.uri(), "/calendars/ken/a.ics");
//! let response = exchange.response.as_ref().unwrap();
//! assert_eq!(response.status(), 200);
//! assert_eq!(&response.body()[..], b"hello");
//! assert_eq!(exchange.response_chunks, [3]); // a second socket write began at "lo"
//!
//! // And back: parse(write(x)) == x.
//! let written = caldav_trace::Writer::write_trace(&trace, caldav_trace::WriteConfig::default())?;
//! let again = Trace::parse(&written)?;
//! assert!(again.sessions[0].exchanges[0].same_content(exchange));
//! # Ok::<(), caldav_trace::Error>(())
//! ```
//!
//! # What a log preserves, and the seed
//!
//! A genuine Cyrus log holds the bytes exactly. The seed (see [`seed`]) is a copy published
//! on a web page: it holds no CR at all (every CRLF became LF), and 22 of its 50 message
//! bodies are shorter than their Content-Length (by 4 to 203 bytes; the calendar data lost
//! its CRs and other bytes are missing too). The reader accepts bare LF line ends everywhere
//! and, by default ([`Framing::TurnBounded`]), ends a body where the other side next spoke,
//! noting each such body as [`Note::ShortBody`]. Headers, including Content-Length, are kept
//! as recorded; nothing is re-inserted.
//!
//! # Limits
//!
//! [`ParseConfig`] bounds the message head size, the number of header fields and the body
//! size; exceeding one is an [`Error::LimitExceeded`]. Memory use is linear in the input:
//! the input is copied once into a shared buffer, each direction once more into its stream,
//! and bodies are views into those. The reader never panics, on any input.
//!
//! The format has no escaping: a body containing `<123<` or a line starting with
//! `---------- ` reads back as a marker or session header. The [`Writer`] refuses such data
//! ([`Error::AmbiguousData`]) rather than write a log that reads back differently. HTTP/1.1
//! chunk extensions are not kept; header name case is not kept (`http` lowercases names; the
//! writer writes them in the customary capitalisation).

use bytes::Bytes;

pub mod error;
pub mod exchange;
pub mod log;
pub mod message;
pub mod seed;
pub mod writer;

pub use error::Error;
pub use exchange::{Exchange, Interim, Note, ReasonPhrase, Side};
pub use log::{Chunk, Direction};
pub use message::{Framing, ParseConfig};
pub use writer::{LineEnding, WriteConfig, Writer};

use message::{Parser, Stream};

/// A parsed telemetry log: the sessions it holds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Trace {
    /// Whatever came before the first session header (the seed's Markdown page), kept as is.
    pub preamble: Bytes,
    /// The sessions, in input order.
    pub sessions: Vec<Session>,
}

/// One connection's log: a header line, its chunks, and the exchanges they carry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Session {
    /// The header text after `---------- `: the user id and the time, as Cyrus wrote them.
    pub header: String,
    /// Input offset of the header line.
    pub offset: usize,
    /// Every chunk, in input order.
    pub chunks: Vec<Chunk>,
    /// The exchanges, in the order the requests were sent.
    pub exchanges: Vec<Exchange>,
    /// Client bytes after the last complete request (a request cut off by the end of the
    /// log, or stray line ends).
    pub client_rest: Bytes,
    /// Server bytes after the last complete response, or after a response that switched
    /// protocols (`101`, or `2xx` to `CONNECT`).
    pub server_rest: Bytes,
}

impl Trace {
    /// Parses a telemetry log with the default [`ParseConfig`]. Anything before the first
    /// `---------- ` header line is kept as [`Trace::preamble`].
    ///
    /// # Errors
    ///
    /// [`Error::NoSession`] if there is no header line; otherwise any [`Error`] with the byte
    /// offset where the log is malformed or a limit was exceeded.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn parse(input: impl AsRef<[u8]>) -> Result<Self, Error> {
        Self::parse_with(input, ParseConfig::default())
    }

    /// Parses a telemetry log with the given limits and framing policy.
    ///
    /// # Errors
    ///
    /// As [`Trace::parse`].
    pub fn parse_with(input: impl AsRef<[u8]>, config: ParseConfig) -> Result<Self, Error> {
        Self::parse_bytes(Bytes::copy_from_slice(input.as_ref()), config)
    }

    /// Parses a telemetry log held in `Bytes`, without copying the input.
    ///
    /// # Errors
    ///
    /// As [`Trace::parse`].
    pub fn parse_bytes(input: Bytes, config: ParseConfig) -> Result<Self, Error> {
        let start = log::first_header(&input).ok_or(Error::NoSession)?;
        let raw = log::split(&input, start)?;
        let mut sessions = Vec::with_capacity(raw.len());
        for session in raw {
            sessions.push(build_session(session, config)?);
        }
        Ok(Self {
            preamble: input.slice(..start),
            sessions,
        })
    }

    /// All exchanges of all sessions, in input order.
    pub fn exchanges(&self) -> impl Iterator<Item = &Exchange> {
        self.sessions.iter().flat_map(|s| s.exchanges.iter())
    }

    /// Takes the exchanges of all sessions, in input order.
    #[must_use]
    pub fn into_exchanges(self) -> Vec<Exchange> {
        self.sessions
            .into_iter()
            .flat_map(|s| s.exchanges)
            .collect()
    }
}

/// Reads the next request of the client stream into a new exchange.
fn next_request(
    client: &Stream,
    parser: &mut Parser<'_>,
    pos: &mut usize,
) -> Result<Option<Exchange>, Error> {
    let Some(parsed) = parser.request(*pos)? else {
        return Ok(None);
    };
    *pos = parsed.end;
    let offset = client.file_offset(parsed.start);
    let mut exchange = Exchange::new(parsed.message, client.time_at(parsed.start));
    exchange.request_offset = offset;
    exchange.request_chunks = parsed.body_chunks;
    exchange.request_trailers = parsed.trailers;
    if let Some((declared, recorded)) = parsed.short {
        exchange.notes.push(Note::ShortBody {
            side: Side::Request,
            offset,
            declared,
            recorded,
        });
    }
    Ok(Some(exchange))
}

/// Cuts a session's streams into messages and pairs them. Requests are read as responses
/// need them, so that after a protocol switch (`101`, or `2xx` to `CONNECT`) neither stream
/// is read as HTTP any more: the rest of both is kept as is.
fn build_session(raw: log::RawSession, config: ParseConfig) -> Result<Session, Error> {
    let client = Stream::build(&raw.chunks, Direction::ClientToServer);
    let server = Stream::build(&raw.chunks, Direction::ServerToClient);
    let mut requests = Parser::new(&client, config);
    let mut responses = Parser::new(&server, config);
    let mut client_pos = 0;
    let mut pos = 0;
    let mut exchanges: Vec<Exchange> = Vec::new();
    let mut interim: Vec<Interim> = Vec::new();
    // Responses answer requests in order, so the first `answered` exchanges have one.
    let mut answered = 0;
    let mut switched = false;
    while !switched {
        if exchanges.len() == answered {
            match next_request(&client, &mut requests, &mut client_pos)? {
                Some(exchange) => exchanges.push(exchange),
                None => {
                    let start = message::skip_empty_lines(&server.bytes, pos);
                    if start < server.len() {
                        return Err(Error::UnpairedResponse {
                            offset: server.file_offset(start),
                        });
                    }
                    break;
                }
            }
        }
        let Some(exchange) = exchanges.get_mut(answered) else {
            break;
        };
        let method = exchange.request.method().clone();
        let Some(parsed) = responses.response(pos, &method)? else {
            break;
        };
        pos = parsed.end;
        let offset = server.file_offset(parsed.start);
        let time = server.time_at(parsed.start);
        let status = parsed.message.status();
        if status.is_informational() && status != http::StatusCode::SWITCHING_PROTOCOLS {
            let (parts, _) = parsed.message.into_parts();
            interim.push(Interim {
                response: http::Response::from_parts(parts, ()),
                time,
                offset,
            });
            continue;
        }
        switched = status == http::StatusCode::SWITCHING_PROTOCOLS
            || (method == http::Method::CONNECT && status.is_success());
        exchange.response = Some(parsed.message);
        exchange.response_time = Some(time);
        exchange.response_offset = Some(offset);
        exchange.response_chunks = parsed.body_chunks;
        exchange.response_trailers = parsed.trailers;
        exchange.interim = std::mem::take(&mut interim);
        if let Some((declared, recorded)) = parsed.short {
            exchange.notes.push(Note::ShortBody {
                side: Side::Response,
                offset,
                declared,
                recorded,
            });
        }
        answered += 1;
    }
    if !switched {
        while let Some(exchange) = next_request(&client, &mut requests, &mut client_pos)? {
            exchanges.push(exchange);
        }
    }
    if !interim.is_empty()
        && let Some(exchange) = exchanges.get_mut(answered)
    {
        exchange.interim = interim;
    }
    Ok(Session {
        header: raw.header,
        offset: raw.offset,
        chunks: raw.chunks,
        exchanges,
        client_rest: client.bytes.slice(client_pos.min(client.len())..),
        server_rest: server.bytes.slice(pos.min(server.len())..),
    })
}
