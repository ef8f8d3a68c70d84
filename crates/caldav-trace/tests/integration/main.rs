//! Integration tests of caldav-trace.

mod framing;
mod seed;
