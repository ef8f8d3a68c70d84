//! Integration tests for dav-xml: real-server corpora, RFC examples, hostile documents.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

mod corpus;
mod envelope;
mod hostile;
mod owned;
mod rfc;
mod roundtrip;
mod seed;
mod stream;
