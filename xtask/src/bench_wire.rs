//! The wire side of the peer benchmarks: a counting TCP proxy and a keep-alive HTTP/1.1 client.
//!
//! The proxy sits between a measured program and the server and counts what crosses it:
//! connections, requests (by reading the request framing of RFC 9112 §6), and bytes each way.
//! It is only used for the counted runs: timed runs talk to the server directly, because a
//! proxy changes the TCP behaviour that matters on Cyrus (Nagle against delayed ACK).
//!
//! The client is the benchmark's floor: plain blocking HTTP/1.1 over one connection, reconnected
//! only when the server closes it (Radicale's built-in server closes after every response).

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long any read or write of the benchmark's own sockets may block.
const TIMEOUT: Duration = Duration::from_secs(120);
/// The largest request or response head read.
const MAX_HEAD: usize = 64 << 10;
/// The largest response body the client accepts.
const MAX_BODY: usize = 256 << 20;

/// What crossed a proxy.
#[derive(Default, Debug)]
pub(crate) struct Counts {
    /// TCP connections accepted.
    pub(crate) connections: u64,
    /// HTTP requests, by method.
    pub(crate) methods: BTreeMap<String, u64>,
    /// Bytes from the client to the server.
    pub(crate) sent: u64,
    /// Bytes from the server to the client.
    pub(crate) received: u64,
    /// Requests whose framing the counter could not follow (then later ones on that
    /// connection are not counted): should stay 0.
    pub(crate) unframed: u64,
}

impl Counts {
    /// All requests.
    pub(crate) fn requests(&self) -> u64 {
        self.methods.values().sum()
    }

    /// `PROPFIND 1, REPORT 20`.
    pub(crate) fn by_method(&self) -> String {
        let parts: Vec<String> = self
            .methods
            .iter()
            .map(|(method, n)| format!("{method} {n}"))
            .collect();
        parts.join(", ")
    }
}

#[derive(Default)]
struct Shared {
    connections: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
    unframed: AtomicU64,
    methods: Mutex<BTreeMap<String, u64>>,
}

/// A counting proxy on 127.0.0.1 to one upstream address; stops when dropped.
pub(crate) struct Proxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    pumps: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `upstream`.
    pub(crate) fn start(upstream: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the proxy")?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let pumps: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let acceptor = {
            let (shared, stop, pumps) = (shared.clone(), stop.clone(), pumps.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(upstream) else {
                        continue;
                    };
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone())
                    else {
                        continue;
                    };
                    let up = {
                        let shared = shared.clone();
                        std::thread::spawn(move || pump_requests(client, server, &shared))
                    };
                    let down = {
                        let shared = shared.clone();
                        std::thread::spawn(move || pump(server2, client2, &shared.received))
                    };
                    if let Ok(mut pumps) = pumps.lock() {
                        pumps.push(up);
                        pumps.push(down);
                    }
                }
            })
        };
        Ok(Self {
            address,
            shared,
            stop,
            acceptor: Some(acceptor),
            pumps,
        })
    }

    /// Where clients connect.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// What crossed so far (call after the measured program exited).
    pub(crate) fn counts(&self) -> Counts {
        // The pumps of closed connections may still be adding their last bytes.
        if let Ok(mut pumps) = self.pumps.lock() {
            let finished: Vec<JoinHandle<()>> = {
                let (done, running): (Vec<_>, Vec<_>) =
                    pumps.drain(..).partition(JoinHandle::is_finished);
                *pumps = running;
                done
            };
            for pump in finished {
                let _ = pump.join();
            }
        }
        Counts {
            connections: self.shared.connections.load(Ordering::SeqCst),
            methods: self
                .shared
                .methods
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            sent: self.shared.sent.load(Ordering::SeqCst),
            received: self.shared.received.load(Ordering::SeqCst),
            unframed: self.shared.unframed.load(Ordering::SeqCst),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Copies `from` to `to` until `from` ends, adding the bytes to `count`.
fn pump(mut from: TcpStream, mut to: TcpStream, count: &AtomicU64) {
    let mut buffer = vec![0; 64 << 10];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                count.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(buffer.get(..n).unwrap_or_default()).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Copies client to server like [`pump`], counting the requests on the way.
fn pump_requests(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let mut buffer = vec![0; 64 << 10];
    let mut framer = RequestFramer::default();
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let data = buffer.get(..n).unwrap_or_default();
                shared.sent.fetch_add(n as u64, Ordering::SeqCst);
                for method in framer.feed(data) {
                    if let Ok(mut methods) = shared.methods.lock() {
                        *methods.entry(method).or_default() += 1;
                    }
                }
                if to.write_all(data).is_err() {
                    break;
                }
            }
        }
    }
    if framer.lost {
        shared.unframed.fetch_add(1, Ordering::SeqCst);
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Finds request boundaries in a client's byte stream (RFC 9112 §6.3: a request body is
/// framed by Content-Length; chunked request bodies are not followed).
#[derive(Default)]
struct RequestFramer {
    head: Vec<u8>,
    body_left: u64,
    lost: bool,
}

impl RequestFramer {
    /// Feeds bytes; returns the methods of the requests whose heads completed.
    fn feed(&mut self, mut data: &[u8]) -> Vec<String> {
        let mut methods = Vec::new();
        while !data.is_empty() && !self.lost {
            if self.body_left > 0 {
                let take = usize::try_from(self.body_left)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                self.body_left -= take as u64;
                data = data.get(take..).unwrap_or_default();
                continue;
            }
            // Reading a head: up to and including the empty line.
            let before = self.head.len();
            self.head.extend_from_slice(data);
            let Some(end) = find(&self.head, b"\r\n\r\n") else {
                if self.head.len() > MAX_HEAD {
                    self.lost = true;
                }
                return methods;
            };
            let used = end + 4 - before;
            data = data.get(used..).unwrap_or_default();
            let head = String::from_utf8_lossy(self.head.get(..end).unwrap_or_default());
            let method = head.split(' ').next().unwrap_or_default().to_owned();
            let mut length = 0;
            for line in head.split("\r\n").skip(1) {
                if let Some((name, value)) = line.split_once(':') {
                    let name = name.trim();
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    } else if name.eq_ignore_ascii_case("transfer-encoding") {
                        self.lost = true;
                    }
                }
            }
            methods.push(method);
            self.body_left = length;
            self.head.clear();
        }
        methods
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A response read by [`Client`].
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The body, de-chunked.
    pub(crate) body: Vec<u8>,
}

/// Blocking HTTP/1.1 with keep-alive to one server, Basic credentials on every request.
pub(crate) struct Client {
    address: SocketAddr,
    host: String,
    authorization: String,
    stream: Option<TcpStream>,
    /// Requests sent and connections opened.
    pub(crate) requests: u64,
    /// Connections opened.
    pub(crate) connections: u64,
    /// Bytes read (heads and bodies).
    pub(crate) received: u64,
    /// Bytes written.
    pub(crate) sent: u64,
}

impl Client {
    /// A client of `address` (nothing is connected yet).
    pub(crate) fn new(address: SocketAddr, user: &str, password: &str) -> Self {
        Self {
            address,
            host: address.to_string(),
            authorization: format!("Basic {}", base64(&format!("{user}:{password}"))),
            stream: None,
            requests: 0,
            connections: 0,
            received: 0,
            sent: 0,
        }
    }

    /// Sends one request and reads its response, reconnecting once when a kept-alive
    /// connection turns out to be closed.
    pub(crate) fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\
             Content-Length: {}\r\n",
            self.host,
            self.authorization,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut message = head.into_bytes();
        message.extend_from_slice(body);
        let reused = self.stream.is_some();
        match self.try_send(&message) {
            Ok(response) => Ok(response),
            Err(_) if reused => {
                self.stream = None;
                self.try_send(&message)
            }
            Err(error) => Err(error),
        }
        .with_context(|| format!("{method} {path}"))
    }

    fn try_send(&mut self, message: &[u8]) -> Result<Response> {
        let stream = match self.stream.take() {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(self.address)
                    .with_context(|| format!("connecting to {}", self.address))?;
                stream.set_nodelay(true)?;
                stream.set_read_timeout(Some(TIMEOUT))?;
                stream.set_write_timeout(Some(TIMEOUT))?;
                self.connections += 1;
                stream
            }
        };
        let mut reader = Reader {
            stream,
            buffer: Vec::new(),
            received: 0,
        };
        reader.stream.write_all(message)?;
        self.requests += 1;
        self.sent += message.len() as u64;
        let (response, keep) = reader.response()?;
        self.received += reader.received;
        if keep && reader.buffer.is_empty() {
            self.stream = Some(reader.stream);
        }
        Ok(response)
    }
}

/// Reads one response off a stream.
struct Reader {
    stream: TcpStream,
    buffer: Vec<u8>,
    received: u64,
}

impl Reader {
    /// Reads more; false at the end of the stream.
    fn fill(&mut self) -> Result<bool> {
        let mut chunk = [0; 64 << 10];
        let n = self.stream.read(&mut chunk)?;
        self.received += n as u64;
        self.buffer
            .extend_from_slice(chunk.get(..n).unwrap_or_default());
        Ok(n > 0)
    }

    /// Takes `n` bytes off the buffer, reading as needed.
    fn take(&mut self, n: usize) -> Result<Vec<u8>> {
        while self.buffer.len() < n {
            if !self.fill()? {
                bail!("connection closed inside a response");
            }
        }
        let rest = self.buffer.split_off(n);
        Ok(std::mem::replace(&mut self.buffer, rest))
    }

    /// Takes a line (without its CRLF).
    fn line(&mut self) -> Result<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n") {
                let mut line = self.take(end + 2)?;
                line.truncate(end);
                return Ok(line);
            }
            if self.buffer.len() > MAX_HEAD || !self.fill()? {
                bail!("no end of line in a response");
            }
        }
    }

    /// One response (skipping `1xx` interim ones) and whether the connection stays open.
    fn response(&mut self) -> Result<(Response, bool)> {
        loop {
            let status_line = String::from_utf8_lossy(&self.line()?).into_owned();
            let mut parts = status_line.split(' ');
            let version = parts.next().unwrap_or_default().to_owned();
            let status: u16 = parts
                .next()
                .and_then(|s| s.parse().ok())
                .with_context(|| format!("bad status line {status_line:?}"))?;
            let mut length = None;
            let mut chunked = false;
            let mut close = version == "HTTP/1.0";
            loop {
                let line = String::from_utf8_lossy(&self.line()?).into_owned();
                if line.is_empty() {
                    break;
                }
                let Some((name, value)) = line.split_once(':') else {
                    bail!("bad header line {line:?}");
                };
                let (name, value) = (name.trim(), value.trim().to_ascii_lowercase());
                if name.eq_ignore_ascii_case("content-length") {
                    length = Some(value.parse::<usize>().context("bad content-length")?);
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = value.contains("chunked");
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.contains("close");
                }
            }
            if status < 200 {
                continue;
            }
            // RFC 9112 §6.3: these never have a body, whatever their fields say.
            let body = if status == 204 || status == 304 {
                Vec::new()
            } else if chunked {
                let mut body = Vec::new();
                loop {
                    let size_line = String::from_utf8_lossy(&self.line()?).into_owned();
                    let size_text = size_line.split(';').next().unwrap_or_default().trim();
                    let size = usize::from_str_radix(size_text, 16)
                        .with_context(|| format!("bad chunk size {size_text:?}"))?;
                    if size == 0 {
                        while !self.line()?.is_empty() {}
                        break;
                    }
                    if body.len() + size > MAX_BODY {
                        bail!("response body over {MAX_BODY} bytes");
                    }
                    body.extend(self.take(size)?);
                    self.line()?;
                }
                body
            } else if let Some(length) = length {
                if length > MAX_BODY {
                    bail!("response body over {MAX_BODY} bytes");
                }
                self.take(length)?
            } else {
                // Framed by the end of the connection.
                while self.fill()? {
                    if self.buffer.len() > MAX_BODY {
                        bail!("response body over {MAX_BODY} bytes");
                    }
                }
                close = true;
                std::mem::take(&mut self.buffer)
            };
            return Ok((Response { status, body }, !close));
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framer_counts_pipelined_requests_split_anywhere() {
        let stream = b"PROPFIND /a/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\
REPORT /a/ HTTP/1.1\r\ncontent-length: 3\r\n\r\nabcGET /a/x.ics HTTP/1.1\r\n\r\n";
        for split in 0..stream.len() {
            let mut framer = RequestFramer::default();
            let (a, b) = stream.split_at(split);
            let mut methods = framer.feed(a);
            methods.extend(framer.feed(b));
            assert_eq!(methods, ["PROPFIND", "REPORT", "GET"], "split at {split}");
            assert!(!framer.lost);
        }
    }

    #[test]
    fn framer_gives_up_on_chunked_request_bodies() {
        let mut framer = RequestFramer::default();
        let methods = framer.feed(b"PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n");
        assert_eq!(methods, ["PUT"]);
        assert!(framer.lost);
    }

    #[test]
    fn base64_of_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain), encoded);
        }
    }

    #[test]
    fn client_reads_chunked_and_interim_responses_and_keeps_the_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut framer = RequestFramer::default();
            let mut seen = 0;
            let mut buffer = [0; 4096];
            while seen < 2 {
                let n = stream.read(&mut buffer).unwrap();
                seen += framer.feed(&buffer[..n]).len();
                if seen == 1 {
                    stream
                        .write_all(
                            b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 207 Multi-Status\r\n\
                              Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                        )
                        .unwrap();
                } else if seen == 2 {
                    stream
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .unwrap();
                }
            }
        });
        let proxy = Proxy::start(address).unwrap();
        let mut client = Client::new(proxy.address(), "alice", "pw");
        let first = client.send("REPORT", "/c/", &[], b"<x/>").unwrap();
        assert_eq!((first.status, first.body.as_slice()), (207, &b"abcde"[..]));
        let second = client.send("GET", "/c/1.ics", &[], b"").unwrap();
        assert_eq!((second.status, second.body.as_slice()), (200, &b"ok"[..]));
        server.join().unwrap();
        assert_eq!((client.requests, client.connections), (2, 1));
        drop(client);
        let mut counts = proxy.counts();
        for _ in 0..100 {
            if counts.received == client_received_total() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            counts = proxy.counts();
        }
        assert_eq!(counts.requests(), 2);
        assert_eq!(counts.by_method(), "GET 1, REPORT 1");
        assert_eq!(counts.connections, 1);
        assert_eq!(counts.unframed, 0);
    }

    /// The bytes the fake server above writes.
    fn client_received_total() -> u64 {
        let first = b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 207 Multi-Status\r\n\
                              Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let second = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        (first.len() + second.len()) as u64
    }
}
