//! TCP connections for hyper: resolve with the configured [`Resolver`] (or the system's
//! `getaddrinfo`), try each address in turn, and set `TCP_NODELAY` and, where the OS has it,
//! `TCP_QUICKACK`.
//!
//! Why QUICKACK: a server that writes one response in several small segments with Nagle's
//! algorithm on (Cyrus) waits for our ACK of the first segment before it sends the rest, while
//! Linux delays that ACK up to 40 ms on a connection it thinks is interactive. Quick-ACK mode
//! is not sticky on Linux, so it is re-armed before every read.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::dns::Resolver;

/// Which step of opening a connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Dns,
    Connect,
}

/// A connection failure hyper carries back to us inside its own error.
#[derive(Debug)]
pub(crate) struct ConnectError {
    pub(crate) stage: Stage,
    pub(crate) host: String,
    pub(crate) reason: String,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for ConnectError {}

/// The connector hyper's pool calls for every new connection.
#[derive(Clone, Debug)]
pub(crate) struct TcpConnector {
    pub(crate) resolver: Option<Resolver>,
    pub(crate) connect_timeout: Duration,
    pub(crate) quickack: bool,
}

impl tower_service::Service<Uri> for TcpConnector {
    type Response = TokioIo<TcpConn>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect(uri).await })
    }
}

impl TcpConnector {
    async fn connect(self, uri: Uri) -> Result<TokioIo<TcpConn>, ConnectError> {
        let host = uri.host().unwrap_or("").to_owned();
        let fail = |stage, reason: String| ConnectError {
            stage,
            host: host.clone(),
            reason,
        };
        if host.is_empty() {
            return Err(fail(Stage::Connect, "no host in url".to_owned()));
        }
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let addrs: Vec<SocketAddr> = match &self.resolver {
            Some(r) => r
                .lookup_ip(&host)
                .await
                .map_err(|why| fail(Stage::Dns, why))?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
            None => {
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                tokio::net::lookup_host((bare, port))
                    .await
                    .map_err(|e| fail(Stage::Dns, e.to_string()))?
                    .collect()
            }
        };
        let mut last = String::from("no address");
        for addr in addrs {
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    // Requests are written whole; Nagle would only delay them.
                    let _ = stream.set_nodelay(true);
                    let conn = TcpConn {
                        stream,
                        quickack: self.quickack,
                        peer: addr,
                    };
                    conn.arm_quickack();
                    return Ok(TokioIo::new(conn));
                }
                Ok(Err(e)) => last = format!("{addr}: {e}"),
                Err(_) => last = format!("{addr}: timed out after {:?}", self.connect_timeout),
            }
        }
        Err(fail(Stage::Connect, last))
    }
}

/// A TCP stream that re-arms quick-ACK mode before each read.
#[derive(Debug)]
pub(crate) struct TcpConn {
    stream: TcpStream,
    quickack: bool,
    peer: SocketAddr,
}

/// The address a connection went to, put in each response's extensions by hyper-util.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PeerAddr(pub(crate) SocketAddr);

impl TcpConn {
    fn arm_quickack(&self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.quickack {
            // Best effort: failing to set it costs latency, never correctness.
            let _ = socket2::SockRef::from(&self.stream).set_tcp_quickack(true);
        }
    }
}

impl Connection for TcpConn {
    fn connected(&self) -> Connected {
        Connected::new().extra(PeerAddr(self.peer))
    }
}

impl AsyncRead for TcpConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.arm_quickack();
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TcpConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
