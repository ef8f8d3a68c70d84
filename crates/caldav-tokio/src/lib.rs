//! `caldav-tokio`: the thin adapter that runs the project's sans-IO machines over real networks.
//!
//! - [`HttpClient`]: hyper 1 (hyper-util's pooled client) over rustls, HTTP/1.1 keep-alive and
//!   HTTP/2 by ALPN, gzip and deflate responses (asked for except on loopback:
//!   [`Compression`]), per-request timeouts, bounded `Retry-After`
//!   retries and one repeat of a safe request after a transient 5xx, Basic / Digest (RFC 7616) / Bearer authentication, `TCP_NODELAY` and
//!   `TCP_QUICKACK`.
//! - [`Resolver`]: hickory-resolver, from the system's configuration or explicit name servers;
//!   the HTTP client can resolve through it too, and it answers discovery's SRV/TXT queries.
//! - [`Driver`]: runs any machine of the project ([`Drive`]: discovery directly, client-core
//!   machines through [`Core`]), several requests in flight at once. **Feed once, then
//!   drain**: after every answer the driver polls the machine until it waits or is done.
//! - [`Recorder`] and [`replay`]: a run's whole conversation in the seed's telemetry-log
//!   format, credentials and cookies redacted, and that log fed back through the same machine.
//!
//! Credentials are sent only to the account's origin ([`HttpConfig::credential_origins`], or
//! the first origin a request goes to), never to another origin after a redirect, and never
//! over plain `http` unless [`HttpConfig::allow_plain_http_credentials`] is set.
//!
//! # Example
//!
//! ```no_run
//! use bytes::Bytes;
//! use caldav_tokio::{Credentials, HttpClient, HttpConfig};
//!
//! # async fn run() -> Result<(), caldav_tokio::Error> {
//! let client = HttpClient::new(
//!     HttpConfig::default().with_credentials(Credentials::password("alice", "secret")),
//! )?;
//! let request = http::Request::builder()
//!     .method("PROPFIND")
//!     .uri("https://cal.example.com/dav/")
//!     .header("Depth", "0")
//!     .header("Content-Type", "application/xml")
//!     .body(Bytes::from_static(b"<propfind xmlns=\"DAV:\"><prop><current-user-principal/></prop></propfind>"))
//!     .expect("a valid request");
//! let response = client.send(request).await?;
//! println!("{}", response.status());
//! # Ok(()) }
//! ```
//!
//! # Measured: `TCP_QUICKACK` against Cyrus
//!
//! Cyrus writes a response in several segments with Nagle's algorithm on, so on a reused
//! connection it waits for the client's ACK, which Linux delays up to 40 ms. The
//! `quickack` example (`cargo run -p caldav-tokio --example quickack`) sends 40 Depth:1
//! PROPFINDs of a calendar home (13.7 kB each) over one connection to Cyrus on loopback:
//! 47 ms per request with [`HttpConfig::tcp_quickack`] off, 4 ms with it on (the default).
//!
//! # Measured: a full fetch of 2,000 events
//!
//! The `sync_fetch` example runs client-core's sync machine through [`Driver`] on a fresh
//! state: one `sync-collection` answer carrying the data, no gzip asked on loopback
//! ([`Compression::Auto`]). On a loaded 2-core machine, release build, 1 request: Radicale
//! 356 ms and Cyrus 70 ms, against 455 ms and 176 ms for a raw getetag PROPFIND plus one
//! multiget (`cargo xtask bench fetch`; docs/benchmarks.md "Full fetch").
//!
//! # Limits
//!
//! Response bodies are bounded ([`HttpConfig::max_response_bytes`], before and after
//! decoding, lowered per request by a [`caldav_client_core::ResponseLimit`] the machine puts
//! in its extensions); each exchange has a timeout; retries and redirects are bounded. Nothing here
//! panics on a misbehaving server: every failure is an [`Error`] that names the request.

mod auth;
mod client;
mod connect;
mod content_coding;
mod dns;
mod driver;
mod error;
mod record;
mod retry;

pub use auth::Credentials;
pub use client::{HttpClient, HttpConfig, Origin, Received};
pub use content_coding::Compression;
pub use dns::Resolver;
pub use driver::{Core, Drive, Driver, Step};
pub use error::{Error, Target};
pub use record::{Recorder, replay};
pub use retry::RetryPolicy;
