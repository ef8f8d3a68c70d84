//! `cargo xtask fuzz`: builds and runs the cargo-fuzz targets in `fuzz/`.
//!
//! cargo-fuzz needs nightly features; on the stable toolchain `RUSTC_BOOTSTRAP=1` unlocks them.
//! The fuzz crate is its own workspace, so its ASan build never disturbs the main one.

use crate::run;
use anyhow::{Context, Result};
use clap::Args;
use std::process::Command;

/// Arguments of `cargo xtask fuzz`.
#[derive(Args)]
pub(crate) struct FuzzArgs {
    /// Run every target for a short time (CI's smoke run).
    #[arg(long)]
    smoke: bool,
    /// Seconds per target.
    #[arg(long, default_value_t = 30)]
    seconds: u32,
    /// Only this target (default: all of them).
    target: Option<String>,
}

pub(crate) fn run(args: &FuzzArgs) -> Result<()> {
    ensure_cargo_fuzz()?;
    let root = run::project_root()?;
    let fuzz_dir = root.join("fuzz");
    let targets = match &args.target {
        Some(target) => vec![target.clone()],
        None => list_targets(&fuzz_dir)?,
    };
    let seconds = if args.smoke {
        args.seconds.min(30)
    } else {
        args.seconds
    };
    // Build all targets once, then run each briefly.
    let mut build = Command::new("cargo");
    build
        .args(["fuzz", "build", "--fuzz-dir"])
        .arg(&fuzz_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(&root);
    run::status(&mut build)?;
    for target in targets {
        let mut command = Command::new("cargo");
        command
            .args(["fuzz", "run", "--fuzz-dir"])
            .arg(&fuzz_dir)
            .arg(&target)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-rss_limit_mb=2048")
            .env("RUSTC_BOOTSTRAP", "1")
            .current_dir(&root);
        run::status(&mut command)?;
    }
    Ok(())
}

fn list_targets(fuzz_dir: &std::path::Path) -> Result<Vec<String>> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut targets = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "rs")
            && let Some(stem) = path.file_stem()
        {
            targets.push(stem.to_string_lossy().into_owned());
        }
    }
    targets.sort();
    Ok(targets)
}

fn ensure_cargo_fuzz() -> Result<()> {
    let found = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        run::status(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}
