//! `caldav xml ...`: WebDAV XML bodies.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// The `xml` subcommands.
#[derive(Subcommand)]
pub(crate) enum XmlCommand {
    /// Decode a multistatus body to JSON, one line per `<response>`.
    Decode {
        /// The file to read, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

pub(crate) fn run(command: XmlCommand) -> Result<ExitCode> {
    match command {
        XmlCommand::Decode { file } => {
            anyhow::bail!("xml decode is being built ({})", file.display())
        }
    }
}
