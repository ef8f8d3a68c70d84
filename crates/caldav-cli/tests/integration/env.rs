//! Where the real servers are: `.state/servers/env` of this checkout, or the environment.

use std::collections::HashMap;
use std::sync::OnceLock;

fn load() -> HashMap<String, String> {
    let mut map = HashMap::new();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.state/servers/env");
    if let Ok(text) = std::fs::read_to_string(path) {
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                map.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }
    for (k, v) in std::env::vars() {
        if k.starts_with("CALDAV_TEST_") {
            map.insert(k, v);
        }
    }
    map
}

/// The value of `key`; panics with what to do when the servers are not running.
pub(crate) fn var(key: &str) -> String {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    let env = ENV.get_or_init(load);
    match env.get(key) {
        Some(v) => v.clone(),
        None => panic!(
            "{key} is not set: the real test servers are not running. \
             Start them with `cargo xtask servers start all` (they write .state/servers/env), \
             or export the CALDAV_TEST_* variables"
        ),
    }
}
