//! WebDAV XML (RFC 4918): qualified names, element trees, multistatus decoding, request bodies.
//!
//! This crate is being built; see the project README for the plan.
