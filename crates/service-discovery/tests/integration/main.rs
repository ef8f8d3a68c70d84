//! Integration tests of the discovery machine against canned worlds.

// Test helpers outside #[test] functions may unwrap and index like the tests themselves.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod harness;

mod auth;
mod dns_order;
mod limits;
mod redirects;
mod replay;
mod termination;
mod url_input;
mod well_known;
