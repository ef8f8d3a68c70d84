//! Installing what a server needs: Debian packages with `apt-get`, Python packages into a venv.
//!
//! Both steps first look at what is there (`dpkg-query`, a marker file in the venv) so a
//! second `start` installs nothing and costs no network.

use crate::run;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Debian packages a Python venv needs beyond `python3` (none when `python3 -m venv` works; the
/// venv step installs `python3-venv` itself if it does not).
pub(crate) const VENV_APT_PACKAGES: &[&str] = &[];

/// The marker file recording what a venv was provisioned with.
const VENV_MARKER: &str = ".xtask-requirements";

/// Installs packages, running `apt-get update` at most once per invocation and only when
/// something is missing.
#[derive(Default)]
pub(crate) struct Installer {
    apt_updated: bool,
}

impl Installer {
    /// Installs the Debian packages not installed yet.
    pub(crate) fn apt(&mut self, packages: &[&str]) -> Result<()> {
        let mut missing = Vec::new();
        for package in packages {
            if !dpkg_installed(package)? {
                missing.push(*package);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if !self.apt_updated {
            run::status(apt_get().arg("update").arg("-q"))?;
            self.apt_updated = true;
        }
        run::status(
            apt_get()
                .args(["install", "-y", "-q", "--no-install-recommends"])
                .args(&missing),
        )
    }

    /// A venv at `dir` with `requirements` installed by pip; returns its `bin` folder.
    pub(crate) fn venv(&mut self, dir: &Path, requirements: &[&str]) -> Result<PathBuf> {
        let bin = dir.join("bin");
        let marker = dir.join(VENV_MARKER);
        let wanted = requirements.join("\n");
        if std::fs::read_to_string(&marker).is_ok_and(|had| had == wanted) {
            return Ok(bin);
        }
        if !bin.join("python3").is_file() && !make_venv(dir)? {
            // Debian's python3 keeps `ensurepip` in a separate package.
            self.apt(&["python3-venv"])?;
            if dir.exists() {
                std::fs::remove_dir_all(dir)
                    .with_context(|| format!("removing {}", dir.display()))?;
            }
            if !make_venv(dir)? {
                bail!("python3 -m venv {} failed", dir.display());
            }
        }
        run::status(
            Command::new(bin.join("python3"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-input",
                ])
                .args(requirements),
        )?;
        std::fs::write(&marker, wanted).with_context(|| format!("writing {}", marker.display()))?;
        Ok(bin)
    }
}

fn apt_get() -> Command {
    let mut command = Command::new("apt-get");
    command
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null());
    command
}

/// Creates a venv; false when `python3 -m venv` fails (no ensurepip, typically).
fn make_venv(dir: &Path) -> Result<bool> {
    let mut command = Command::new("python3");
    command.arg("-m").arg("venv").arg(dir);
    eprintln!("$ python3 -m venv {}", dir.display());
    let status = command
        .status()
        .context("running python3 (Python 3 must be installed)")?;
    Ok(status.success())
}

/// Whether dpkg reports `package` as fully installed.
fn dpkg_installed(package: &str) -> Result<bool> {
    let output = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .context("running dpkg-query (this needs a Debian-based machine)")?;
    Ok(output.status.success() && output.stdout == b"install ok installed")
}
