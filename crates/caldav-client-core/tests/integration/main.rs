//! Integration tests of the client machines against test-support's in-memory server.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

mod batching;
mod bootstrap;
mod inline;
mod probe;
mod quirks;
mod schedule;
mod seed;
mod sync;
mod sync_model;
mod write;
