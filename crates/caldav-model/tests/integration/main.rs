//! Integration tests for `caldav-model`, against the seed trace and RFC examples.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

mod capabilities;
mod evaluation;
mod itip;
mod property;
mod requests;
mod rfc4791;
mod roundtrip;
mod seed;
