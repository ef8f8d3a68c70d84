//! `caldav ics ...`: iCalendar files.
//!
//! Every subcommand is a thin front end of `ical_parse`: `lint` reports what the parser
//! reports, `fmt` writes what the writer writes, `jcal` converts with `ical_parse::jcal`.

use anyhow::{Context, Result};
use clap::Subcommand;
use ical_parse::component::is_registered_component;
use ical_parse::property::{is_registered_parameter, is_registered_property};
use ical_parse::{Calendar, Component, Mode, ParseOptions, Parsed};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The `ics` subcommands.
#[derive(Subcommand)]
pub(crate) enum IcsCommand {
    /// Check that each file parses; print every error and forgiven deviation as
    /// FILE:LINE:COL: error|warning: message. Exit 1 on any error.
    Lint {
        /// Accept what real servers send, reporting each deviation as a warning.
        #[arg(long)]
        lenient: bool,
        /// The files to check (`-` for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the canonical form (CRLF, folded at 75 octets). Reads leniently: its job is to
    /// repair; forgiven deviations go to standard error.
    Fmt {
        /// Refuse input that breaks RFC 5545 instead of repairing it.
        #[arg(long, conflicts_with = "from_jcal")]
        strict: bool,
        /// The input is jCal (RFC 7265) JSON, as `caldav ics jcal` prints it.
        #[arg(long)]
        from_jcal: bool,
        /// The file (`-` for standard input).
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Count components, properties and unknown or X- items, as JSON.
    Stats {
        /// The file (`-` for standard input).
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Print the calendar as jCal (RFC 7265) JSON.
    Jcal {
        /// The file (`-` for standard input).
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Print every instance of the file's events, to-dos and journals as JSON lines, in start
    /// order (see `caldav ics expand --help`).
    Expand(crate::ics_expand::ExpandArgs),
}

pub(crate) fn run(command: IcsCommand) -> Result<ExitCode> {
    match command {
        IcsCommand::Expand(args) => crate::ics_expand::run(args),
        IcsCommand::Lint { lenient, files } => lint(lenient, &files),
        IcsCommand::Fmt {
            strict,
            from_jcal,
            file,
        } => fmt(strict, from_jcal, &file),
        IcsCommand::Stats { file } => {
            let bytes = read(&file)?;
            let Some(parsed) = parse_or_report(&file, &bytes, Mode::Lenient) else {
                return Ok(ExitCode::from(1));
            };
            print_json(&stats(&parsed))?;
            Ok(ExitCode::SUCCESS)
        }
        IcsCommand::Jcal { file } => {
            let bytes = read(&file)?;
            let Some(parsed) = parse_or_report(&file, &bytes, Mode::Lenient) else {
                return Ok(ExitCode::from(1));
            };
            print_json(&ical_parse::jcal::to_json(&parsed.calendar))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read(file: &Path) -> Result<Vec<u8>> {
    if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        return Ok(bytes);
    }
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

fn options(mode: Mode) -> ParseOptions {
    match mode {
        Mode::Strict => ParseOptions::strict(),
        _ => ParseOptions::lenient(),
    }
}

/// Parses, printing warnings (and the error, if any) as `FILE:LINE:COL: level: message`.
fn parse_or_report<'a>(file: &Path, bytes: &'a [u8], mode: Mode) -> Option<Parsed<'a>> {
    let name = file.display();
    match ical_parse::parse_bytes_with(bytes, &options(mode)) {
        Ok(parsed) => {
            for w in &parsed.warnings {
                eprintln!("{name}:{}:{}: warning: {}", w.line, w.column, w.kind);
            }
            Some(parsed)
        }
        Err(e) => {
            eprintln!("{name}:{}:{}: error: {}", e.line, e.column, e.kind);
            None
        }
    }
}

fn lint(lenient: bool, files: &[PathBuf]) -> Result<ExitCode> {
    let mode = if lenient { Mode::Lenient } else { Mode::Strict };
    let mut failed = false;
    for file in files {
        let bytes = read(file)?;
        let name = file.display();
        match ical_parse::parse_bytes_with(&bytes, &options(mode)) {
            Ok(parsed) => {
                for w in &parsed.warnings {
                    println!("{name}:{}:{}: warning: {}", w.line, w.column, w.kind);
                }
            }
            Err(e) => {
                println!("{name}:{}:{}: error: {}", e.line, e.column, e.kind);
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn fmt(strict: bool, from_jcal: bool, file: &Path) -> Result<ExitCode> {
    let bytes = read(file)?;
    let text = if from_jcal {
        let json: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not JSON", file.display()))?;
        match ical_parse::jcal::from_json(&json) {
            Ok(calendar) => calendar.write(),
            Err(e) => {
                eprintln!("{}: error: {}", file.display(), e.kind);
                return Ok(ExitCode::from(1));
            }
        }
    } else {
        let mode = if strict { Mode::Strict } else { Mode::Lenient };
        let Some(parsed) = parse_or_report(file, &bytes, mode) else {
            return Ok(ExitCode::from(1));
        };
        parsed.calendar.write()
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_json(value: &Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

#[derive(Default)]
struct Counts {
    components: BTreeMap<String, u64>,
    properties: BTreeMap<String, u64>,
    property_total: u64,
    parameter_total: u64,
    raw_lines: u64,
    unknown_components: BTreeMap<String, u64>,
    unknown_properties: BTreeMap<String, u64>,
    unknown_parameters: BTreeMap<String, u64>,
    x_components: BTreeMap<String, u64>,
    x_properties: BTreeMap<String, u64>,
    x_parameters: BTreeMap<String, u64>,
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_default() += 1;
}

fn is_x(name: &str) -> bool {
    name.starts_with("X-")
}

fn count_properties(counts: &mut Counts, properties: &[ical_parse::Property<'_>]) {
    for p in properties {
        if p.is_raw() {
            counts.raw_lines += 1;
            continue;
        }
        counts.property_total += 1;
        bump(&mut counts.properties, &p.name);
        if is_x(&p.name) {
            bump(&mut counts.x_properties, &p.name);
        } else if !is_registered_property(&p.name) {
            bump(&mut counts.unknown_properties, &p.name);
        }
        for param in &p.params {
            counts.parameter_total += 1;
            if is_x(&param.name) {
                bump(&mut counts.x_parameters, &param.name);
            } else if !is_registered_parameter(&param.name) {
                bump(&mut counts.unknown_parameters, &param.name);
            }
        }
    }
}

fn count_component(counts: &mut Counts, component: &Component<'_>) {
    bump(&mut counts.components, &component.name);
    if is_x(&component.name) {
        bump(&mut counts.x_components, &component.name);
    } else if !is_registered_component(&component.name) {
        bump(&mut counts.unknown_components, &component.name);
    }
    count_properties(counts, &component.properties);
    for child in &component.components {
        count_component(counts, child);
    }
}

fn to_json(map: BTreeMap<String, u64>) -> Value {
    Value::Object(
        map.into_iter()
            .map(|(k, v)| (k, json!(v)))
            .collect::<Map<_, _>>(),
    )
}

fn stats(parsed: &Parsed<'_>) -> Value {
    let calendar: &Calendar<'_> = &parsed.calendar;
    let mut counts = Counts::default();
    count_properties(&mut counts, &calendar.properties);
    for c in &calendar.components {
        count_component(&mut counts, c);
    }
    let component_total: u64 = counts.components.values().sum();
    json!({
        "components": { "total": component_total, "by_name": to_json(counts.components) },
        "properties": { "total": counts.property_total, "by_name": to_json(counts.properties) },
        "parameters": { "total": counts.parameter_total },
        "unknown": {
            "components": to_json(counts.unknown_components),
            "properties": to_json(counts.unknown_properties),
            "parameters": to_json(counts.unknown_parameters),
        },
        "x": {
            "components": to_json(counts.x_components),
            "properties": to_json(counts.x_properties),
            "parameters": to_json(counts.x_parameters),
        },
        "raw_lines": counts.raw_lines,
        "warnings": parsed.warnings.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_count_unknown_and_x_items() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VPOLL\r\nX-A;X-P=1;FOO=2:v\r\n\
                    POLL-MODE:BASIC\r\nEND:VPOLL\r\nBEGIN:X-THING\r\nbroken line\r\nEND:X-THING\r\nEND:VCALENDAR\r\n";
        let parsed = ical_parse::parse_with(text, &ParseOptions::lenient()).unwrap();
        let s = stats(&parsed);
        assert_eq!(s["components"]["total"], 3);
        assert_eq!(s["properties"]["total"], 4);
        assert_eq!(s["unknown"]["components"]["VPOLL"], 1);
        assert_eq!(s["unknown"]["properties"]["POLL-MODE"], 1);
        assert_eq!(s["unknown"]["parameters"]["FOO"], 1);
        assert_eq!(s["x"]["components"]["X-THING"], 1);
        assert_eq!(s["x"]["properties"]["X-A"], 1);
        assert_eq!(s["x"]["parameters"]["X-P"], 1);
        assert_eq!(s["raw_lines"], 1);
        assert_eq!(s["warnings"], 1);
    }
}
