//! Peer programs the tests and benchmarks run: khal, vdirsyncer and python-caldav, from PyPI.
//!
//! Each tool gets its own venv under `.state/tools/<name>/venv` with a pinned version (the
//! venv's marker file says which; a venv that already holds it costs no network). The absolute
//! paths of their programs go to `.state/tools/env` as `CALDAV_TEST_*=path` lines, which
//! `test_support::tools` reads the way `test_support::servers` reads the servers' file.

use crate::run;
use crate::servers::install::Installer;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

/// A peer program from PyPI.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Tool {
    /// khal, the terminal calendar that reads vdir folders.
    Khal,
    /// vdirsyncer, the sync program `caldav sync` is measured against.
    Vdirsyncer,
    /// The Python `caldav` library (its venv's `python3`).
    CaldavPy,
}

impl Tool {
    /// Every tool, in a stable order.
    pub(crate) const EVERY: [Tool; 3] = [Tool::Khal, Tool::Vdirsyncer, Tool::CaldavPy];

    /// The folder name under `.state/tools/`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Tool::Khal => "khal",
            Tool::Vdirsyncer => "vdirsyncer",
            Tool::CaldavPy => "caldav-py",
        }
    }

    /// The pinned requirement (the versions measured in `docs/benchmarks.md`).
    fn requirements(self) -> &'static [&'static str] {
        match self {
            Tool::Khal => &["khal==0.14.1"],
            Tool::Vdirsyncer => &["vdirsyncer==0.21.0"],
            Tool::CaldavPy => &["caldav==3.6.0"],
        }
    }

    /// The program in the venv's `bin` folder that the tests run.
    fn program(self) -> &'static str {
        match self {
            Tool::Khal => "khal",
            Tool::Vdirsyncer => "vdirsyncer",
            Tool::CaldavPy => "python3",
        }
    }

    /// The variable that carries the program's absolute path.
    pub(crate) fn var(self) -> &'static str {
        match self {
            Tool::Khal => "CALDAV_TEST_KHAL",
            Tool::Vdirsyncer => "CALDAV_TEST_VDIRSYNCER",
            Tool::CaldavPy => "CALDAV_TEST_CALDAV_PY",
        }
    }
}

/// `cargo xtask tools install [NAME...]`.
#[derive(Args)]
pub(crate) struct ToolsArgs {
    #[command(subcommand)]
    command: ToolsCommand,
}

#[derive(Subcommand)]
enum ToolsCommand {
    /// Install the named tools (all when none is named) and write `.state/tools/env`.
    Install {
        /// Which tools.
        #[arg(value_enum)]
        names: Vec<Tool>,
    },
    /// Print the `KEY=value` lines of `.state/tools/env`.
    Env,
}

/// Runs `cargo xtask tools ...`.
pub(crate) fn run(args: &ToolsArgs) -> Result<()> {
    match &args.command {
        ToolsCommand::Install { names } => {
            let names = if names.is_empty() {
                Tool::EVERY.to_vec()
            } else {
                names.clone()
            };
            for (key, value) in install(&names)? {
                println!("{key}={value}");
            }
            Ok(())
        }
        ToolsCommand::Env => {
            let file = env_file()?;
            let text = std::fs::read_to_string(&file).with_context(|| {
                format!(
                    "reading {} (run `cargo xtask tools install` first)",
                    file.display()
                )
            })?;
            print!("{text}");
            Ok(())
        }
    }
}

/// `<repo>/.state/tools`.
pub(crate) fn state_root() -> Result<PathBuf> {
    Ok(run::project_root()?.join(".state").join("tools"))
}

fn env_file() -> Result<PathBuf> {
    Ok(state_root()?.join("env"))
}

/// Installs `tools` (reusing venvs that hold the pinned versions) and merges their paths into
/// `.state/tools/env`; returns the `(variable, path)` pairs of the tools asked for.
pub(crate) fn install(tools: &[Tool]) -> Result<Vec<(String, String)>> {
    let root = state_root()?;
    let mut installer = Installer::default();
    let mut installed = Vec::new();
    for &tool in tools {
        let venv = root.join(tool.as_str()).join("venv");
        let bin = installer.venv(&venv, tool.requirements())?;
        let program = bin.join(tool.program());
        if !program.is_file() {
            bail!(
                "{} installed, but {} is missing",
                tool.as_str(),
                program.display()
            );
        }
        installed.push((tool.var().to_owned(), text(&program)?));
    }
    write_env(&env_file()?, &installed)?;
    Ok(installed)
}

/// Keeps the lines of tools not installed this time, replaces the others.
fn write_env(file: &Path, installed: &[(String, String)]) -> Result<()> {
    let old = std::fs::read_to_string(file).unwrap_or_default();
    let text = merge_env(&old, installed);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(file, text).with_context(|| format!("writing {}", file.display()))
}

fn merge_env(old: &str, installed: &[(String, String)]) -> String {
    let mut lines: Vec<(String, String)> = old
        .lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| !installed.iter().any(|(k, _)| k == key))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    lines.extend(installed.iter().cloned());
    lines.sort();
    lines
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}

fn text(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_env_replaces_reinstalled_tools_and_keeps_the_others() {
        let old = "CALDAV_TEST_KHAL=/old/khal\nCALDAV_TEST_VDIRSYNCER=/v/vdirsyncer\n";
        let new = merge_env(
            old,
            &[("CALDAV_TEST_KHAL".to_owned(), "/new/khal".to_owned())],
        );
        assert_eq!(
            new,
            "CALDAV_TEST_KHAL=/new/khal\nCALDAV_TEST_VDIRSYNCER=/v/vdirsyncer\n"
        );
    }

    #[test]
    fn every_tool_has_its_own_variable_and_folder() {
        let mut vars: Vec<_> = Tool::EVERY.iter().map(|t| t.var()).collect();
        let mut dirs: Vec<_> = Tool::EVERY.iter().map(|t| t.as_str()).collect();
        vars.dedup();
        dirs.dedup();
        assert_eq!(vars.len(), Tool::EVERY.len());
        assert_eq!(dirs.len(), Tool::EVERY.len());
        assert!(
            Tool::EVERY
                .iter()
                .all(|t| t.requirements().iter().any(|r| r.contains("==")))
        );
    }
}
