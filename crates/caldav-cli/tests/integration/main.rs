//! The integration tests of `caldav`, one module per command group.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

mod discovery_cache;
mod env;
mod faults;
mod ics;
mod khal;
mod probe;
mod replay;
mod schedule;
mod servers;
