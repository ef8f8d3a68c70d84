//! Inputs and floors shared by the benchmarks in `benches/benches/`.
//!
//! Each benchmark measures our crates and their peers on the same bytes in the same run and
//! prints ratios; see `README.md` in this folder and `docs/benchmarks.md` for the results.
//!
//! - [`ics`]: a deterministic calendar of any size (TZID parameters, folded DESCRIPTIONs,
//!   ATTENDEEs, RRULEs, VALARMs, a VTIMEZONE), the seed trace's calendar objects, and the
//!   line-unfolding floor every iCalendar parser has to beat.
//! - [`xml`]: a deterministic calendar-multiget multistatus of any size, with the calendar
//!   data in CDATA or entity-escaped with `&#13;`, written response by response so that a
//!   streaming decoder can be fed without holding the document, and the seed's multistatus
//!   bodies.
//!
//! Everything here is deterministic: the same call gives the same bytes on every machine, so
//! numbers from different runs measure the same work.

pub mod ics;
pub mod xml;

/// How many events or responses a benchmark generates: `full` when the binary runs as a
/// benchmark (`cargo bench` passes `--bench`), at most 200 otherwise.
///
/// `cargo test --all-targets` runs every bench binary in criterion's test mode, where each
/// benchmark runs once to show that it works; small inputs keep that quick in debug builds.
#[must_use]
pub fn scale(full: usize) -> usize {
    if std::env::args().any(|arg| arg == "--bench") {
        full
    } else {
        full.min(200)
    }
}

/// What a seed helper failed on: the seed trace did not read or a body did not decode.
#[derive(Debug)]
#[non_exhaustive]
pub enum SeedError {
    /// The trace reader refused the seed.
    Trace(caldav_trace::Error),
    /// A multistatus body of the seed did not decode.
    Xml(dav_xml::Error),
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedError::Trace(e) => write!(f, "seed trace: {e}"),
            SeedError::Xml(e) => write!(f, "seed multistatus: {e}"),
        }
    }
}

impl std::error::Error for SeedError {}
