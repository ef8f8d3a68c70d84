//! `caldav ics ...`: iCalendar files.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// The `ics` subcommands.
#[derive(Subcommand)]
pub(crate) enum IcsCommand {
    /// Check that each file parses; print every error and forgiven deviation as FILE:LINE:COL.
    Lint {
        /// Accept what real servers send, reporting each deviation as a warning.
        #[arg(long)]
        lenient: bool,
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub(crate) fn run(command: IcsCommand) -> Result<ExitCode> {
    match command {
        IcsCommand::Lint { lenient, files } => {
            anyhow::bail!(
                "ics lint is being built (lenient={lenient}, {} files)",
                files.len()
            )
        }
    }
}
