//! Where the real test servers are, for tests that talk to them.
//!
//! `cargo xtask servers start` writes `KEY=value` lines to `.state/servers/env` at the
//! repository root (see `docs/servers.md`); `CALDAV_TEST_*` variables in the environment
//! override them, so tests can also point at servers started elsewhere.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The file `cargo xtask servers` writes, relative to this crate.
const ENV_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.state/servers/env");

fn load() -> HashMap<String, String> {
    let mut map = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(ENV_FILE) {
        for line in text.lines() {
            if let Some((key, value)) = line.split_once('=') {
                map.insert(key.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
    for (key, value) in std::env::vars() {
        if key.starts_with("CALDAV_TEST_") {
            map.insert(key, value);
        }
    }
    map
}

/// The value of `key` (for example `CALDAV_TEST_RADICALE_URL`).
///
/// # Panics
///
/// When `key` is not set: the servers are not running. The message says how to start them, so
/// a test that needs a server fails loudly instead of passing without one.
#[must_use]
pub fn var(key: &str) -> String {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    let env = ENV.get_or_init(load);
    match env.get(key) {
        Some(value) => value.clone(),
        None => panic!(
            "{key} is not set: the real test servers are not running. \
             Start them with `cargo xtask servers start all` (they write .state/servers/env), \
             or export the CALDAV_TEST_* variables"
        ),
    }
}
