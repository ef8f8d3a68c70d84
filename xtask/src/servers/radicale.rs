//! Radicale from PyPI: htpasswd users (`plain`), `owner_only` rights, storage in the state
//! folder. Radicale ≥ 3.5 refuses every login unless an auth type is configured.

use super::{ALICE, BOB, CheckResult, Probe, install::Installer, text, write_file};
use anyhow::Result;
use std::path::Path;
use std::process::Command;

const PORT: u16 = 5232;
/// The version measured in `docs/servers.md`.
const REQUIREMENT: &str = "radicale==3.9.0";
/// The path a client starts from, and alice's principal there.
const ROOT: &str = "/";
const PRINCIPAL: &str = "/alice/";

/// What answers when Radicale is up.
pub(crate) const PROBES: &[Probe] = &[Probe::Http(PORT)];

/// Installs Radicale, writes its users and configuration; returns the command to run.
pub(crate) fn prepare(dir: &Path, installer: &mut Installer) -> Result<Command> {
    let bin = installer.venv(&dir.join("venv"), &[REQUIREMENT])?;
    let users = dir.join("users");
    write_file(
        &users,
        format!("{}:{}\n{}:{}\n", ALICE.0, ALICE.1, BOB.0, BOB.1),
    )?;
    let collections = dir.join("collections");
    let config = dir.join("config");
    write_file(
        &config,
        format!(
            "[server]\nhosts = 127.0.0.1:{PORT}\n\n\
             [auth]\ntype = htpasswd\nhtpasswd_filename = {}\nhtpasswd_encryption = plain\n\
             # No pause after a failed login: the checks try a wrong password on purpose.\n\
             delay = 0\n\n\
             [rights]\ntype = owner_only\n\n\
             [storage]\nfilesystem_folder = {}\n\n\
             [web]\ntype = none\n\n\
             [logging]\nlevel = info\n",
            text(&users)?,
            text(&collections)?,
        ),
    )?;
    let mut command = Command::new(bin.join("radicale"));
    command.arg("--config").arg(&config).current_dir(dir);
    Ok(command)
}

/// Deletes every calendar and principal Radicale stored.
pub(crate) fn wipe(dir: &Path) -> Result<bool> {
    super::remove_all(dir, &["collections"])
}

/// Where Radicale is and who may log in.
pub(crate) fn env() -> Vec<(String, String)> {
    super::caldav_env(
        "RADICALE",
        &format!("http://127.0.0.1:{PORT}/"),
        PRINCIPAL,
        true,
    )
}

/// The principal PROPFIND as alice, and a wrong password refused.
pub(crate) fn check() -> Vec<CheckResult> {
    vec![
        (
            "PROPFIND current-user-principal as alice",
            super::check_principal_http(PORT, ROOT, Some(ALICE), PRINCIPAL),
        ),
        (
            "wrong password refused",
            super::check_wrong_password(PORT, ROOT),
        ),
    ]
}
