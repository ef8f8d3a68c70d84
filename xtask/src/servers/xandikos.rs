//! Xandikos from PyPI: one user at `/user/`, no authentication (its htpasswd mode needs its
//! own TLS mode; the test CA's HTTPS is Cyrus's job), default calendar made at first start.

use super::{CheckResult, Probe, install::Installer};
use anyhow::Result;
use std::path::Path;
use std::process::Command;

const PORT: u16 = 8090;
/// The version measured in `docs/servers.md`.
const REQUIREMENT: &str = "xandikos==0.4.10";
const PRINCIPAL: &str = "/user/";

/// What answers when Xandikos is up.
pub(crate) const PROBES: &[Probe] = &[Probe::Http(PORT)];

/// Installs Xandikos; returns the command to run.
pub(crate) fn prepare(dir: &Path, installer: &mut Installer) -> Result<Command> {
    let bin = installer.venv(&dir.join("venv"), &[REQUIREMENT])?;
    for folder in ["data", "server"] {
        std::fs::create_dir_all(dir.join(folder))?;
    }
    let mut command = Command::new(bin.join("xandikos"));
    command
        .arg("serve")
        .arg("-d")
        .arg(dir.join("data"))
        .arg("--state-dir")
        .arg(dir.join("server"))
        .args(["--autocreate", "--defaults"])
        .args(["--current-user-principal", PRINCIPAL])
        .args(["-l", "127.0.0.1", "-p", &PORT.to_string()])
        .arg("--no-detect-systemd")
        .current_dir(dir);
    Ok(command)
}

/// Deletes every calendar Xandikos stored (the defaults come back at the next start).
pub(crate) fn wipe(dir: &Path) -> Result<bool> {
    super::remove_all(dir, &["data", "server"])
}

/// Where Xandikos is (no users: every request is the one user).
pub(crate) fn env() -> Vec<(String, String)> {
    super::caldav_env(
        "XANDIKOS",
        &format!("http://127.0.0.1:{PORT}/"),
        PRINCIPAL,
        false,
    )
}

/// The principal PROPFIND, anonymous.
pub(crate) fn check() -> Vec<CheckResult> {
    vec![(
        "PROPFIND current-user-principal",
        super::check_principal_http(PORT, "/", None, PRINCIPAL),
    )]
}
