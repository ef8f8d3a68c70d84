//! Integration tests: the transport against loopback test servers written here, and against
//! the real servers `cargo xtask servers start` runs (which must be running: these tests fail,
//! never skip, without them).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

mod dns;
mod driver;
mod env;
mod loopback;
mod servers;
