//! Running commands and finding the project's files.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the parent of `xtask/`).
pub(crate) fn project_root() -> Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask has no parent directory")
}

/// Runs `cargo ARGS` in the project root, echoing the command; fails on a non-zero exit.
pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(args).current_dir(project_root()?);
    status(&mut command)
}

/// Runs the `caldav` CLI through cargo with the given arguments.
pub(crate) fn cargo_run_caldav(args: &[String]) -> Result<()> {
    let mut all = vec![
        "run",
        "--quiet",
        "--package",
        "caldav-cli",
        "--bin",
        "caldav",
        "--",
    ];
    all.extend(args.iter().map(String::as_str));
    cargo(&all)
}

/// Runs a prepared command, echoing it first; fails on a non-zero exit.
pub(crate) fn status(command: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(command));
    let status = command
        .status()
        .with_context(|| format!("could not start {}", describe(command)))?;
    if !status.success() {
        bail!("{} failed with {status}", describe(command));
    }
    Ok(())
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
