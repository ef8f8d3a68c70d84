//! A DNS stub query over UDP or TCP, built and read by hand (RFC 1035 §4, RFC 2782, RFC 7766).
//!
//! Only what the checks need: one question, the answer section decoded for SRV, TXT, A and
//! AAAA, names with compression pointers followed a bounded number of times.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(3);
/// Compression pointers followed in one name before it is called a loop.
const MAX_POINTERS: usize = 32;

/// Record types the checks ask for (RFC 1035 §3.2.2, RFC 2782, RFC 3596).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Type {
    /// Start of authority.
    Soa,
    /// Text strings.
    Txt,
    /// Service location.
    Srv,
}

impl Type {
    fn code(self) -> u16 {
        match self {
            Type::Soa => 6,
            Type::Txt => 16,
            Type::Srv => 33,
        }
    }
}

/// How the query travels.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// One datagram each way.
    Udp,
    /// A two-byte length before each message (RFC 1035 §4.2.2).
    Tcp,
}

/// The parts of an answer the checks look at.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The response code (0 = NOERROR, 3 = NXDOMAIN).
    pub(crate) rcode: u8,
    /// The authoritative-answer bit.
    pub(crate) authoritative: bool,
    /// The answer section's records of the asked type, in presentation form
    /// (`0 1 8443 cal.example.test.` for SRV, `"path=/dav/"` for TXT).
    pub(crate) records: Vec<String>,
}

/// Asks 127.0.0.1:`port` for `name`'s records of type `qtype`.
pub(crate) fn query(port: u16, name: &str, qtype: Type, transport: Transport) -> Result<Answer> {
    // Any id will do for a single outstanding query on its own socket; the answer must echo it.
    let id = 0x5ca1_u16 ^ (std::process::id() as u16);
    let message = build_query(id, name, qtype)?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let reply = match transport {
        Transport::Udp => {
            let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
            socket.set_read_timeout(Some(TIMEOUT))?;
            socket.connect(address)?;
            socket.send(&message)?;
            let mut buffer = vec![0_u8; 4096];
            let size = socket
                .recv(&mut buffer)
                .with_context(|| format!("no DNS answer from {address} over UDP"))?;
            buffer.truncate(size);
            buffer
        }
        Transport::Tcp => {
            let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
                .with_context(|| format!("connecting to {address}"))?;
            stream.set_read_timeout(Some(TIMEOUT))?;
            stream.set_write_timeout(Some(TIMEOUT))?;
            let length = u16::try_from(message.len())?.to_be_bytes();
            stream.write_all(&length)?;
            stream.write_all(&message)?;
            let mut length = [0_u8; 2];
            stream
                .read_exact(&mut length)
                .with_context(|| format!("no DNS answer from {address} over TCP"))?;
            let mut buffer = vec![0_u8; usize::from(u16::from_be_bytes(length))];
            stream.read_exact(&mut buffer)?;
            buffer
        }
    };
    parse_answer(&reply, id, qtype)
}

/// A standard query with recursion desired (harmless against an authoritative server).
fn build_query(id: u16, name: &str, qtype: Type) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&0x0100_u16.to_be_bytes()); // RD
    out.extend_from_slice(&1_u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // AN, NS, AR counts
    for label in name.trim_end_matches('.').split('.') {
        let length = u8::try_from(label.len())
            .ok()
            .filter(|&l| (1..=63).contains(&l))
            .with_context(|| format!("bad label {label:?} in {name}"))?;
        out.push(length);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.code().to_be_bytes());
    out.extend_from_slice(&1_u16.to_be_bytes()); // class IN
    Ok(out)
}

/// A reader over a whole message (names point back into it).
struct Reader<'a> {
    message: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, count: usize) -> Result<&[u8]> {
        let bytes = self
            .message
            .get(self.at..self.at + count)
            .context("DNS message ends early")?;
        self.at += count;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }

    fn u16(&mut self) -> Result<u16> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([
            bytes.first().copied().unwrap_or_default(),
            bytes.get(1).copied().unwrap_or_default(),
        ]))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from(self.u16()?) << 16 | u32::from(self.u16()?))
    }

    /// A domain name in presentation form with the final dot (`.` for the root).
    fn name(&mut self) -> Result<String> {
        let mut labels: Vec<String> = Vec::new();
        let mut at = self.at;
        let mut resume = None;
        let mut pointers = 0;
        loop {
            let length = *self.message.get(at).context("DNS name ends early")?;
            match length {
                0 => {
                    at += 1;
                    break;
                }
                1..=63 => {
                    let label = self
                        .message
                        .get(at + 1..at + 1 + usize::from(length))
                        .context("DNS label ends early")?;
                    labels.push(String::from_utf8_lossy(label).into_owned());
                    at += 1 + usize::from(length);
                }
                0xC0..=0xFF => {
                    let low = *self.message.get(at + 1).context("DNS pointer ends early")?;
                    pointers += 1;
                    if pointers > MAX_POINTERS {
                        bail!("DNS name compression loop");
                    }
                    resume.get_or_insert(at + 2);
                    at = usize::from(length & 0x3F) << 8 | usize::from(low);
                }
                _ => bail!("unknown DNS label type {length:#x}"),
            }
        }
        self.at = resume.unwrap_or(at);
        if labels.is_empty() {
            return Ok(".".to_owned());
        }
        Ok(labels.iter().map(|l| format!("{l}.")).collect())
    }
}

fn parse_answer(message: &[u8], id: u16, qtype: Type) -> Result<Answer> {
    let mut reader = Reader { message, at: 0 };
    if reader.u16()? != id {
        bail!("DNS answer for another query id");
    }
    let flags = reader.u16()?;
    if flags & 0x8000 == 0 {
        bail!("DNS message is not a response");
    }
    if flags & 0x0200 != 0 {
        bail!("DNS answer truncated");
    }
    let questions = reader.u16()?;
    let answers = reader.u16()?;
    reader.take(4)?; // authority and additional counts: not read
    for _ in 0..questions {
        reader.name()?;
        reader.take(4)?;
    }
    let mut records = Vec::new();
    for _ in 0..answers {
        reader.name()?;
        let rtype = reader.u16()?;
        reader.u16()?; // class
        reader.u32()?; // TTL
        let length = usize::from(reader.u16()?);
        let end = reader.at + length;
        if rtype == qtype.code() {
            records.push(rdata(&mut reader, qtype, end)?);
        }
        reader.at = end;
    }
    Ok(Answer {
        rcode: (flags & 0x000F) as u8,
        authoritative: flags & 0x0400 != 0,
        records,
    })
}

/// One record's data in presentation form.
fn rdata(reader: &mut Reader<'_>, qtype: Type, end: usize) -> Result<String> {
    Ok(match qtype {
        Type::Srv => {
            let priority = reader.u16()?;
            let weight = reader.u16()?;
            let port = reader.u16()?;
            let target = reader.name()?;
            format!("{priority} {weight} {port} {target}")
        }
        Type::Txt => {
            let mut strings = Vec::new();
            while reader.at < end {
                let length = usize::from(reader.u8()?);
                let text = reader.take(length)?;
                strings.push(format!("\"{}\"", String::from_utf8_lossy(text)));
            }
            strings.join(" ")
        }
        Type::Soa => {
            let mname = reader.name()?;
            let rname = reader.name()?;
            let serial = reader.u32()?;
            format!("{mname} {rname} {serial}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encodes_the_question() {
        let query = build_query(0x1234, "_caldavs._tcp.example.test.", Type::Srv).unwrap();
        let mut expected = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        expected.extend_from_slice(b"\x08_caldavs\x04_tcp\x07example\x04test\x00\x00\x21\x00\x01");
        assert_eq!(query, expected);
        assert!(build_query(1, "a..b", Type::Srv).is_err());
    }

    #[test]
    fn answer_with_compressed_srv_target_and_txt() {
        let mut message = build_query(7, "_caldavs._tcp.example.test", Type::Srv).unwrap();
        message[2] = 0x85; // QR, AA, RD
        message[7] = 2; // ANCOUNT
        // SRV: owner = pointer to the question name (offset 12), target cal + pointer to "example".
        message.extend_from_slice(&[0xC0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 12]);
        message.extend_from_slice(&[0, 0, 0, 1, 0x20, 0xFB, 3, b'c', b'a', b'l', 0xC0, 26]);
        // An unrelated TXT record, skipped for an SRV question.
        message.extend_from_slice(&[0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 2, b'h', b'i']);
        let answer = parse_answer(&message, 7, Type::Srv).unwrap();
        assert!(answer.authoritative);
        assert_eq!(answer.rcode, 0);
        assert_eq!(answer.records, ["0 1 8443 cal.example.test."]);
        assert!(parse_answer(&message, 8, Type::Srv).is_err());
    }

    #[test]
    fn compression_loop_is_an_error() {
        let mut message = build_query(7, "x", Type::Srv).unwrap();
        message[2] = 0x80;
        message[7] = 1;
        let at = message.len();
        message.extend_from_slice(&[0xC0, at as u8]);
        assert!(parse_answer(&message, 7, Type::Srv).is_err());
        assert!(parse_answer(&message[..5], 7, Type::Srv).is_err());
    }
}
