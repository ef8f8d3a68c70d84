//! The integration tests of `ical-parse`, one module per area.

mod expand_rfc5545;
mod recur_vectors;
