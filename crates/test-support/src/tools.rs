//! Where the peer programs are (khal, vdirsyncer, python-caldav), for tests that run them.
//!
//! `cargo xtask tools install` (which `cargo xtask test` runs first) puts each in a venv and
//! writes their absolute paths to `.state/tools/env` at the repository root; `CALDAV_TEST_*`
//! variables in the environment override that file.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The file `cargo xtask tools install` writes, relative to this crate.
const ENV_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.state/tools/env");

fn load() -> HashMap<String, String> {
    let text = std::fs::read_to_string(ENV_FILE).unwrap_or_default();
    let mut map: HashMap<String, String> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    map.extend(std::env::vars().filter(|(key, _)| key.starts_with("CALDAV_TEST_")));
    map
}

/// The program that `key` names (for example `CALDAV_TEST_KHAL`).
///
/// # Panics
///
/// When `key` is not set or names no file: the tools are not installed. The message says how
/// to install them, so a test that needs one fails loudly instead of passing without it.
#[must_use]
pub fn program(key: &str) -> PathBuf {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    let env = ENV.get_or_init(load);
    let hint = "install the peer programs with `cargo xtask tools install` (it writes \
                .state/tools/env), or export the CALDAV_TEST_* variables";
    match env.get(key) {
        Some(path) if PathBuf::from(path).is_file() => PathBuf::from(path),
        Some(path) => panic!("{key}={path} is not a file: {hint}"),
        None => panic!("{key} is not set: {hint}"),
    }
}

/// khal, the terminal calendar (`CALDAV_TEST_KHAL`).
///
/// # Panics
///
/// When khal is not installed (see [`program`]).
#[must_use]
pub fn khal() -> PathBuf {
    program("CALDAV_TEST_KHAL")
}

/// vdirsyncer (`CALDAV_TEST_VDIRSYNCER`).
///
/// # Panics
///
/// When vdirsyncer is not installed (see [`program`]).
#[must_use]
pub fn vdirsyncer() -> PathBuf {
    program("CALDAV_TEST_VDIRSYNCER")
}

/// The `python3` of the venv that holds the Python `caldav` library (`CALDAV_TEST_CALDAV_PY`).
///
/// # Panics
///
/// When it is not installed (see [`program`]).
#[must_use]
pub fn caldav_py() -> PathBuf {
    program("CALDAV_TEST_CALDAV_PY")
}
