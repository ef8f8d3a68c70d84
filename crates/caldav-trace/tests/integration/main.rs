//! Integration tests of caldav-trace: the seed trace, HTTP framing, writing and round trips.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

mod framing;
mod roundtrip;
mod seed;
mod writer;
