//! The integration tests of `ical-parse`, one module per area.

mod corpora;
mod expand_dst;
mod expand_props;
mod expand_rfc5545;
mod expand_seed;
mod expand_vectors;
mod jcal_icaljs;
mod lenient;
mod recur_rscale;
mod recur_vectors;
mod rfc;
mod roundtrip;
mod seed;
mod tz_vtimezone;
mod tz_windows;
