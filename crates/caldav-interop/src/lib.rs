//! `caldav-interop`: the interop matrix. Every scenario of issue 9 runs against every real
//! CalDAV server the project starts (`cargo xtask servers`), and the result is one markdown
//! table: scenario x server -> pass, fail, not supported by the server, or not applicable,
//! each with its reason.
//!
//! - [`Scenario`]: the scenarios, one module per group (discovery, account, objects, sync,
//!   data); each runs through the real stack (`caldav-tokio`'s driver running
//!   `caldav-client-core`'s machines), creates what it needs under a unique name and deletes
//!   it again (the servers are shared).
//! - [`Server`] and [`Ctx`]: where a server is (the `CALDAV_TEST_*` variables, see
//!   `docs/servers.md`) and what a scenario needs to talk to it.
//! - [`run_matrix`] runs every scenario against every server, the servers in parallel and
//!   each server's scenarios one after the other; [`Matrix::render_markdown`] writes the
//!   table `docs/interop.md` holds.
//!
//! `cargo xtask interop` runs the `interop` binary of this crate; the crate's integration
//! test runs the same matrix and fails on any [`Outcome::Fail`], so `cargo xtask test` (and CI)
//! checks it.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() {
//! let servers = caldav_interop::Server::all_from_env();
//! let matrix = caldav_interop::run_matrix(&servers).await;
//! println!("{}", matrix.render_markdown());
//! assert!(matrix.failures().is_empty());
//! # }
//! ```
//!
//! # Outcomes, decided
//!
//! - A server that stores an object in another form (reordered properties, refolded lines, a
//!   stripped final CRLF) passes when the data is semantically the same: unfolded content
//!   lines, compared as unordered sets per component. The cell's note says what the server
//!   changed. Anything lost or altered is a failure.
//! - A server that refuses valid data or lacks a feature is "not supported", with the
//!   server's answer as the reason (`SabreDAV 1.8 has no sync-collection: 403
//!   ReportNotSupported`; `Radicale refuses foo.ics: 400`).
//! - A server whose calendar-query answer differs from our own RFC 4791 §9.9 evaluation is
//!   "not supported" with the difference named, provided our evaluation matches the
//!   scenario's hand-checked expectation (otherwise it is our failure).
//! - "Not applicable": the scenario cannot concern this server (the test zone's SRV records
//!   name only Cyrus).
//!
//! # Limits
//!
//! Each scenario makes a bounded number of requests; the largest stores 2,000 events (one PUT
//! of the whole calendar on Radicale, eight PUTs at a time elsewhere, 300 on Xandikos, whose
//! git store makes every PUT slower as the collection grows: see [`LargeFill`]). The whole
//! matrix takes about a minute on an idle machine, the servers in parallel. A run that is
//! killed leaves its `interop-<tag>-<run>` calendars behind; delete them by hand. Nothing here
//! is a protocol crate: it reads the clock to time what it measures.

mod compare;
mod ctx;
mod matrix;
mod scenario;

pub use compare::{Comparison, compare_icalendar};
pub use ctx::{Ctx, LargeFill, Server};
pub use matrix::{Cell, Matrix, Row, run_matrix};
pub use scenario::Scenario;

/// How one scenario ended on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum Outcome {
    /// It works; the note says what was measured or what the server changed.
    Pass(String),
    /// It does not work, and it should: the reason names the step and the answer.
    Fail(String),
    /// The server lacks the feature or refuses the data; the reason is the server's answer.
    Unsupported(String),
    /// The scenario cannot concern this server; the reason says why.
    NotApplicable(String),
}

impl Outcome {
    /// The word shown in the table.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass(_) => "pass",
            Outcome::Fail(_) => "**FAIL**",
            Outcome::Unsupported(_) => "not supported",
            Outcome::NotApplicable(_) => "n/a",
        }
    }

    /// The note or reason.
    #[must_use]
    pub fn text(&self) -> &str {
        match self {
            Outcome::Pass(s)
            | Outcome::Fail(s)
            | Outcome::Unsupported(s)
            | Outcome::NotApplicable(s) => s,
        }
    }

    /// Whether this is a [`Outcome::Fail`].
    #[must_use]
    pub fn is_fail(&self) -> bool {
        matches!(self, Outcome::Fail(_))
    }
}

/// Turns a step's error into a failure that names the step.
pub(crate) trait StepExt<T> {
    /// `Err(e)` becomes `Outcome::Fail("{what}: {e}")`.
    fn step(self, what: &str) -> Result<T, Outcome>;
}

impl<T, E: std::fmt::Display> StepExt<T> for Result<T, E> {
    fn step(self, what: &str) -> Result<T, Outcome> {
        self.map_err(|e| Outcome::Fail(format!("{what}: {e}")))
    }
}

/// `Ok(())` when `condition` holds, else a failure saying `what`.
pub(crate) fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), Outcome> {
    if condition {
        Ok(())
    } else {
        Err(Outcome::Fail(what()))
    }
}
