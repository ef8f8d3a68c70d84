//! `caldav`: the command-line front end of the workspace.
//!
//! Each command group lives in its own module: `ics` (iCalendar files), `xml` (WebDAV bodies).
//! Exit codes: 0 success, 1 the input was rejected (a lint error, a decode error), 2 usage.

mod ics;
mod ics_expand;
mod xml;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// CalDAV from the command line: inspect iCalendar and WebDAV XML, talk to servers.
#[derive(Parser)]
#[command(name = "caldav", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with iCalendar (.ics) files: lint, format, statistics, jCal, expansion.
    #[command(subcommand)]
    Ics(ics::IcsCommand),
    /// Work with WebDAV XML bodies: decode a multistatus to JSON lines.
    #[command(subcommand)]
    Xml(xml::XmlCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ics(command) => ics::run(command),
        Command::Xml(command) => xml::run(command),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("caldav: {error:#}");
            ExitCode::from(1)
        }
    }
}
