//! Test support for the sans-IO CalDAV machines (not published).
//!
//! - [`Server`]: an in-memory CalDAV server model, itself sans-IO
//!   (`fn handle(&mut self, http::Request<Bytes>) -> http::Response<Bytes>`), with
//!   [`ServerQuirks`] knobs for the behaviours the client machines read from their quirk
//!   profile: no sync-collection, 507 paging, refused tokens, multiget gaps and refusals,
//!   absolute and oddly encoded hrefs, PUT without ETag.
//! - [`drive`] and [`drive_with`]: run any [`Machine`] until it settles, answering requests
//!   in an order that exercises id matching (the newest request in flight first).
//! - [`seed::calendar_objects`]: the seed trace's calendar objects.
//! - [`Replay`]: answers requests from a recorded conversation (the seed), matched by
//!   method, path, Depth and body semantics.
//!
//! The server writes its XML with `format!`: it is a test double, and every body it writes is
//! read back by `dav-xml` in the tests.

pub mod fuzz;
pub mod replay;
pub mod seed;
mod server;
pub mod servers;
pub mod tools;

pub use replay::Replay;
pub use server::{Object, Server, ServerQuirks};

use bytes::Bytes;
use caldav_client_core::{Error, Machine, Output, RequestId};

/// Most requests one [`drive`] call answers before it gives up on a machine that never settles.
pub const MAX_REQUESTS: usize = 100_000;

/// How a drive ended.
#[derive(Debug)]
pub enum Driven<T> {
    /// The machine returned `Done`.
    Done(Result<T, Error>),
    /// The request budget ran out first (an interrupted run, or a machine that never settles).
    Interrupted,
}

/// Runs `machine` against `server` until it is done.
///
/// # Panics
///
/// When the machine misuses the protocol (a usage error) or does not settle within
/// [`MAX_REQUESTS`] requests: both are bugs the test should report.
pub fn drive<M: Machine>(machine: &mut M, server: &mut Server) -> Result<M::Outcome, Error> {
    match drive_with(machine, MAX_REQUESTS, |request| server.handle(request)) {
        Driven::Done(result) => result,
        Driven::Interrupted => panic!("machine did not settle within {MAX_REQUESTS} requests"),
    }
}

/// Runs `machine`, answering each request with `answer`, for at most `budget` requests.
///
/// Requests are collected until the machine waits, then answered newest first, one at a time,
/// following the "feed once, then drain" rule after each answer.
///
/// # Panics
///
/// When the machine reports a usage error for an id it issued itself.
pub fn drive_with<M: Machine>(
    machine: &mut M,
    budget: usize,
    mut answer: impl FnMut(http::Request<Bytes>) -> http::Response<Bytes>,
) -> Driven<M::Outcome> {
    let mut pending: Vec<(RequestId, http::Request<Bytes>)> = Vec::new();
    let mut answered = 0usize;
    loop {
        match machine.poll() {
            Output::Http { id, request } => pending.push((id, request)),
            Output::Done(result) => return Driven::Done(result),
            Output::Wait => {
                let Some((id, request)) = pending.pop() else {
                    panic!("machine waits with nothing in flight");
                };
                if answered >= budget {
                    return Driven::Interrupted;
                }
                answered += 1;
                let response = answer(request);
                if let Err(error) = machine.handle_response(id, response) {
                    panic!("usage error for an id the machine issued: {error}");
                }
            }
            _ => panic!("unexpected output"),
        }
    }
}
