//! Just enough HTTP/1.1 over a `TcpStream` to probe and check the servers (RFC 9112).
//!
//! One request per connection (`Connection: close`), the response read to the end of the
//! stream, bounded in size and time. No curl needed on the machine.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// The largest response read; the checks' answers are a few KiB.
const MAX_RESPONSE: u64 = 4 << 20;
/// How long a connect, a read or a write may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// The PROPFIND body asking for `current-user-principal` (RFC 5397 §3).
pub(crate) const PRINCIPAL_PROPFIND: &[u8] = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<d:propfind xmlns:d=\"DAV:\"><d:prop><d:current-user-principal/></d:prop></d:propfind>\n";

/// A response: status code and the (de-chunked) body.
#[derive(Debug)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The body, with chunked transfer coding removed.
    pub(crate) body: Vec<u8>,
}

/// Sends one request to 127.0.0.1:`port` and reads the whole response.
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    exchange(
        &mut stream,
        &format!("127.0.0.1:{port}"),
        method,
        path,
        headers,
        body,
    )
    .with_context(|| format!("{method} http://{address}{path}"))
}

/// Writes the request to `stream` and reads the response until the server closes.
pub(crate) fn exchange(
    stream: &mut (impl Read + Write),
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: caldav-rs-xtask\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    stream.write_all(&message)?;
    stream.flush()?;
    let mut raw = Vec::new();
    let read = stream.take(MAX_RESPONSE + 1).read_to_end(&mut raw);
    // A TLS peer may close without close_notify after a complete response; keep what came.
    if let Err(error) = read
        && raw.is_empty()
    {
        return Err(error).context("reading the response");
    }
    if raw.len() as u64 > MAX_RESPONSE {
        bail!("response larger than {MAX_RESPONSE} bytes");
    }
    parse_response(&raw)
}

/// Parses a complete HTTP/1.x response (status line, fields, body to the end or chunked).
pub(crate) fn parse_response(raw: &[u8]) -> Result<Response> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of the response head")?;
    let head = raw.get(..split).context("response head")?;
    let rest = raw.get(split + 4..).unwrap_or_default();
    let head = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        bail!("not an HTTP/1 status line: {status_line:?}");
    }
    let status = parts
        .next()
        .and_then(|code| code.parse::<u16>().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .with_context(|| format!("bad header line {line:?}"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let chunked = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

/// Removes chunked transfer coding (RFC 9112 §7.1); trailers are ignored.
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("unterminated chunk size line")?;
        let line = std::str::from_utf8(data.get(..line_end).unwrap_or_default())?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size {size_text:?}"))?;
        data = data.get(line_end + 2..).unwrap_or_default();
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).context("truncated chunk")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).context("truncated chunk end")?;
    }
}

/// `Basic` credentials (RFC 7617 §2).
pub(crate) fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let symbol =
        |index: u32| char::from(ALPHABET.get((index & 63) as usize).copied().unwrap_or(b'='));
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let bytes = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]);
        out.push(symbol(n >> 18));
        out.push(symbol(n >> 12));
        out.push(if chunk.len() > 1 { symbol(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { symbol(n) } else { '=' });
    }
    out
}

/// The href inside the first `current-user-principal` element of a multistatus body.
///
/// A text search, not an XML parser: enough for the checks, whatever prefix the server uses.
pub(crate) fn principal_href(body: &str) -> Option<String> {
    let start = body.find("current-user-principal")?;
    let after = body.get(start..)?;
    let href = after.find("href")?;
    let after = after.get(href..)?;
    let open_end = after.find('>')?;
    let text = after.get(open_end + 1..)?;
    let close = text.find('<')?;
    let mut href = text.get(..close)?.trim();
    if href.is_empty() {
        // CDATA-wrapped text: `<![CDATA[/path/]]>`.
        let cdata = text.strip_prefix("<![CDATA[")?;
        href = cdata.get(..cdata.find("]]>")?)?.trim();
    }
    Some(href.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in vectors {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
        assert_eq!(basic_auth("alice", "alicepw"), "Basic YWxpY2U6YWxpY2Vwdw==");
    }

    #[test]
    fn parses_chunked_multistatus_with_prefixed_href() {
        let pieces = [
            "<ns0:current-user-princip",
            "al><ns0:href>/user/</ns0:hr",
            "ef/>",
        ];
        let mut raw = b"HTTP/1.1 207 Multi-Status\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for piece in pieces {
            raw.extend_from_slice(format!("{:x};ext=1\r\n{piece}\r\n", piece.len()).as_bytes());
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        let response = parse_response(&raw).unwrap();
        assert_eq!(response.status, 207);
        let body = String::from_utf8(response.body).unwrap();
        assert_eq!(
            body,
            "<ns0:current-user-principal><ns0:href>/user/</ns0:href/>"
        );
        assert_eq!(principal_href(&body).as_deref(), Some("/user/"));
        // A chunk that claims more bytes than arrived is an error, not a short body.
        let cut = raw.len() - 12;
        assert!(parse_response(&raw[..cut]).is_err());
    }

    #[test]
    fn principal_href_reads_cdata_and_skips_other_hrefs() {
        let body = "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>/dav/</D:href>\
            <D:propstat><D:prop><D:current-user-principal><D:href><![CDATA[/dav/principals/user/alice/]]>\
            </D:href></D:current-user-principal></D:prop></D:propstat></D:response></D:multistatus>";
        assert_eq!(
            principal_href(body).as_deref(),
            Some("/dav/principals/user/alice/")
        );
        assert_eq!(principal_href("<d:multistatus/>"), None);
    }

    #[test]
    fn rejects_a_response_without_a_head_end() {
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }
}
