//! `cargo xtask`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! Every command prints what it runs before running it, so a failure in CI points at the
//! exact command to repeat by hand.

mod bench;
mod bench_peers;
mod bench_wire;
mod demo;
mod fuzz;
mod interop;
mod run;
mod servers;
mod tools;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Project automation for the CalDAV workspace.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the project at work on real data (the main job for a new user).
    Demo,
    /// Run every test the project has: unit, integration, doc tests and real-server tests.
    Test {
        /// Extra arguments passed to `cargo test` (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Run the fuzz targets (`--smoke`: every target briefly, as CI does).
    Fuzz(fuzz::FuzzArgs),
    /// Run every interop scenario against every real server; write the table to docs/interop.md.
    Interop,
    /// Run the criterion benchmarks against peer crates and print ratios.
    Bench {
        /// Only benchmarks whose name contains this filter; `fetch` and `vdirsyncer` run the
        /// peer programs against the real servers instead (see docs/benchmarks.md).
        filter: Option<String>,
    },
    /// Real CalDAV and DNS servers on 127.0.0.1: start|stop|status|env|check [NAME...].
    Servers(servers::ServersArgs),
    /// Peer programs from PyPI (khal, vdirsyncer, python-caldav): install [NAME...] | env.
    Tools(tools::ToolsArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => demo::run(),
        Command::Test { args } => test(&args),
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Interop => interop::run(),
        Command::Bench { filter } => bench::run(filter.as_deref()),
        Command::Servers(args) => servers::run(&args),
        Command::Tools(args) => tools::run(&args),
    }
}

fn test(extra: &[String]) -> Result<()> {
    // Real-server tests need the servers; start those that are not running, stop them after.
    let _servers = servers::ensure_running_for_tests()?;
    // Peer programs the tests run (khal reads the synced folder); `.state/tools/env` says where.
    tools::install(&tools::Tool::EVERY)?;
    let mut args = vec!["test", "--workspace", "--all-targets"];
    args.extend(extra.iter().map(String::as_str));
    run::cargo(&args)?;
    // `--all-targets` skips doc tests; run them on their own.
    run::cargo(&["test", "--workspace", "--doc"])?;
    Ok(())
}
