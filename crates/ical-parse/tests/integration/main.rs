//! The integration tests of `ical-parse`, one module per area.

mod recur_vectors;
