//! `cargo xtask interop`: runs the interop matrix (the `caldav-interop` crate's `interop`
//! binary) against every real server, prints the table and writes it to `docs/interop.md`.
//!
//! Servers that are not running are started first and stopped afterwards, as `cargo xtask
//! test` does; the file is written even when a cell fails, and the command then fails.

use crate::{run, servers};
use anyhow::Result;

pub(crate) fn run() -> Result<()> {
    let _servers = servers::ensure_running_for_tests()?;
    let out = run::project_root()?.join("docs").join("interop.md");
    let out = out.to_string_lossy().into_owned();
    run::cargo(&[
        "run",
        "--quiet",
        "--package",
        "caldav-interop",
        "--bin",
        "interop",
        "--",
        "--write",
        &out,
    ])
}
