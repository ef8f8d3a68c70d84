//! The telemetry-log layer: session header lines and timestamped chunks.
//!
//! Cyrus IMAP writes one file per connection when telemetry is on for a user. A session begins
//! with the line `---------- USERID CTIME` where `CTIME` is C `ctime(3)` output, which carries
//! its own line end, so the header line is followed by an empty line. Every read of the client
//! socket is logged as `<UNIXTIME<` followed by the bytes read, every flush to the client as
//! `>UNIXTIME>` followed by the bytes written. Markers are inserted into the byte stream with
//! no separator, so one can stand in the middle of a line.
//!
//! The format has no escaping: data that looks like a marker reads back as one. This crate
//! recognises a marker as `<` or `>`, 1 to 20 ASCII digits (a `u64`), and the same character
//! again; and a session header as `---------- ` at the start of the input, of a line, or of a
//! chunk. The [`Writer`](crate::Writer) refuses data that would read back otherwise.

use bytes::Bytes;

use crate::Error;

/// The prefix of a session header line.
pub(crate) const HEADER_PREFIX: &[u8] = b"---------- ";

/// Which way a chunk travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Direction {
    /// Client to server, logged as `<UNIXTIME<`.
    ClientToServer,
    /// Server to client, logged as `>UNIXTIME>`.
    ServerToClient,
}

impl Direction {
    /// The marker character of this direction: `<` or `>`.
    #[must_use]
    pub fn marker_byte(self) -> u8 {
        match self {
            Self::ClientToServer => b'<',
            Self::ServerToClient => b'>',
        }
    }
}

/// One logged read or write: the bytes that followed one marker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Chunk {
    /// Which way the bytes went.
    pub direction: Direction,
    /// The marker's Unix time in seconds.
    pub time: u64,
    /// Byte offset of the marker in the input.
    pub offset: usize,
    /// Byte offset of the first data byte in the input (just after the marker).
    pub data_offset: usize,
    /// The bytes logged, a view into the parsed input (no copy).
    pub data: Bytes,
}

/// A session as split from the log, before HTTP parsing.
#[derive(Debug)]
pub(crate) struct RawSession {
    pub(crate) header: String,
    pub(crate) offset: usize,
    pub(crate) chunks: Vec<Chunk>,
}

/// A marker found at some position: direction, time and the marker's length in bytes.
fn marker_at(input: &[u8], at: usize) -> Option<(Direction, u64, usize)> {
    let rest = input.get(at..)?;
    let (&first, tail) = rest.split_first()?;
    let direction = match first {
        b'<' => Direction::ClientToServer,
        b'>' => Direction::ServerToClient,
        _ => return None,
    };
    let digits = tail
        .iter()
        .take(21)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 20 || tail.get(digits) != Some(&first) {
        return None;
    }
    let time = tail.get(..digits)?.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    Some((direction, time, digits + 2))
}

fn header_at(input: &[u8], at: usize) -> bool {
    input
        .get(at..)
        .is_some_and(|rest| rest.starts_with(HEADER_PREFIX))
}

/// What the scanner found next inside a session.
enum Boundary {
    Marker {
        at: usize,
        direction: Direction,
        time: u64,
        len: usize,
    },
    Header {
        at: usize,
    },
    End,
}

/// Finds the next marker or session header at or after `from`. `from` is the start of a
/// chunk's data (or of the session body), where a header may also begin.
fn next_boundary(input: &[u8], from: usize) -> Boundary {
    if header_at(input, from) {
        return Boundary::Header { at: from };
    }
    let mut pos = from;
    while let Some(found) = input
        .get(pos..)
        .and_then(|rest| memchr::memchr3(b'<', b'>', b'\n', rest))
    {
        let at = pos + found;
        if input.get(at) == Some(&b'\n') {
            if header_at(input, at + 1) {
                return Boundary::Header { at: at + 1 };
            }
        } else if let Some((direction, time, len)) = marker_at(input, at) {
            return Boundary::Marker {
                at,
                direction,
                time,
                len,
            };
        }
        pos = at + 1;
    }
    Boundary::End
}

/// Where the first session header starts, if any.
pub(crate) fn first_header(input: &[u8]) -> Option<usize> {
    if input.starts_with(HEADER_PREFIX) {
        return Some(0);
    }
    let mut prefixed = Vec::with_capacity(HEADER_PREFIX.len() + 1);
    prefixed.push(b'\n');
    prefixed.extend_from_slice(HEADER_PREFIX);
    memchr::memmem::find(input, &prefixed).map(|at| at + 1)
}

/// Splits the log (everything from the first header on) into sessions and chunks.
pub(crate) fn split(buf: &Bytes, start: usize) -> Result<Vec<RawSession>, Error> {
    let input: &[u8] = buf;
    let mut sessions = Vec::new();
    let mut at = start;
    while header_at(input, at) {
        let text_start = at + HEADER_PREFIX.len();
        let line_end = input
            .get(text_start..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
            .map_or(input.len(), |n| text_start + n);
        let header = input
            .get(text_start..line_end)
            .and_then(|text| std::str::from_utf8(text).ok())
            .ok_or(Error::InvalidSessionHeader { offset: at })?
            .to_owned();
        let mut pos = (line_end + 1).min(input.len());
        // ctime(3) ends its text with a line end of its own, which Cyrus keeps.
        if input.get(pos) == Some(&b'\n') {
            pos += 1;
        }
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut next = match next_boundary(input, pos) {
            Boundary::Marker { at: m, .. } if m != pos => {
                return Err(Error::DataOutsideChunk { offset: pos });
            }
            Boundary::Header { at: h } if h != pos => {
                return Err(Error::DataOutsideChunk { offset: pos });
            }
            Boundary::End if pos < input.len() => {
                return Err(Error::DataOutsideChunk { offset: pos });
            }
            boundary => boundary,
        };
        loop {
            match next {
                Boundary::Marker {
                    at: m,
                    direction,
                    time,
                    len,
                } => {
                    let data_offset = m + len;
                    let following = next_boundary(input, data_offset);
                    let data_end = match following {
                        Boundary::Marker { at, .. } | Boundary::Header { at } => at,
                        Boundary::End => input.len(),
                    };
                    chunks.push(Chunk {
                        direction,
                        time,
                        offset: m,
                        data_offset,
                        data: buf.slice(data_offset..data_end),
                    });
                    next = following;
                }
                Boundary::Header { at: h } => {
                    sessions.push(RawSession {
                        header,
                        offset: at,
                        chunks,
                    });
                    at = h;
                    break;
                }
                Boundary::End => {
                    sessions.push(RawSession {
                        header,
                        offset: at,
                        chunks,
                    });
                    return Ok(sessions);
                }
            }
        }
    }
    Ok(sessions)
}

/// The first offset in `data` where written bytes would read back as a marker or a session
/// header, given that `data` directly follows a marker.
pub(crate) fn ambiguity(data: &[u8]) -> Option<usize> {
    match next_boundary(data, 0) {
        Boundary::Marker { at, .. } | Boundary::Header { at } => Some(at),
        Boundary::End => None,
    }
}

/// Whether `tail` (the bytes already written) ends so that a marker appended to it would be
/// read differently: a `<` or `>` followed only by digits would join with the new marker. A
/// bare `<` or `>` at the end cannot (a marker needs a digit after its first character), and
/// every XML body ends with one.
pub(crate) fn joins_marker(tail: &[u8]) -> bool {
    let digits = tail.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let before = tail.len().checked_sub(digits + 1).and_then(|i| tail.get(i));
    matches!(before, Some(b'<' | b'>')) && (1..=20).contains(&digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_parses_time_and_length() {
        assert_eq!(
            marker_at(b"x<1506412228<GET", 1),
            Some((Direction::ClientToServer, 1_506_412_228, 12))
        );
        assert_eq!(
            marker_at(b">7>", 0),
            Some((Direction::ServerToClient, 7, 3))
        );
        assert_eq!(marker_at(b"<1506412228>", 0), None);
        assert_eq!(marker_at(b"<<", 0), None);
        assert_eq!(marker_at(b"<12", 0), None);
        assert_eq!(
            marker_at(b"<18446744073709551615<", 0),
            Some((Direction::ClientToServer, u64::MAX, 22))
        );
        assert_eq!(marker_at(b"<18446744073709551616<", 0), None);
        assert_eq!(marker_at(b"<000000000000000000001<", 0), None);
    }

    #[test]
    fn marker_mid_line_splits_chunk() {
        let buf = Bytes::from_static(b"---------- u x\n\n>1>ab>2>cd\n<3<e");
        let sessions = split(&buf, 0).unwrap();
        assert_eq!(sessions.len(), 1);
        let chunks = &sessions[0].chunks;
        assert_eq!(chunks.len(), 3);
        assert_eq!(&chunks[0].data[..], b"ab");
        assert_eq!(&chunks[1].data[..], b"cd\n");
        assert_eq!(chunks[2].direction, Direction::ClientToServer);
        assert_eq!(chunks[2].time, 3);
        assert_eq!(chunks[2].offset, 27);
    }

    #[test]
    fn second_header_starts_new_session() {
        let buf = Bytes::from_static(b"---------- a t\n\n<1<x\n---------- b t\n\n>2>y");
        let sessions = split(&buf, 0).unwrap();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].header, "a t");
        assert_eq!(&sessions[0].chunks[0].data[..], b"x\n");
        assert_eq!(sessions[1].header, "b t");
        assert_eq!(sessions[1].offset, 21);
    }

    #[test]
    fn stray_data_before_first_marker_is_an_error() {
        let buf = Bytes::from_static(b"---------- a t\n\nhello<1<x");
        assert_eq!(
            split(&buf, 0).unwrap_err(),
            Error::DataOutsideChunk { offset: 16 }
        );
    }

    #[test]
    fn joins_marker_detects_digit_tails() {
        assert!(joins_marker(b"a<12"));
        assert!(joins_marker(b">7"));
        // Regression: an XML body ends with `>`; `>` + `>1>` reads back as `>` then a marker.
        assert!(!joins_marker(b">"));
        assert!(!joins_marker(b"</multistatus>"));
        assert!(!joins_marker(b"a12"));
        assert!(!joins_marker(b""));
    }
}
