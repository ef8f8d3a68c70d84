//! `caldav ics expand FILE [--from T] [--to T] [--max N]`: the instances of every recurring
//! (and non-recurring) VEVENT, VTODO and VJOURNAL of a file, one JSON object per line, in start
//! order.
//!
//! The output format is stable; scripts rely on it:
//!
//! ```text
//! {"uid": "...", "recurrence_id": "20060104T120000", "start": "2006-01-04T14:00:00-05:00", "end": "2006-01-04T15:00:00-05:00", "override": true}
//! ```
//!
//! - `start` and `end` are in the component's own zone with its UTC offset (`Z` for UTC
//!   values), without an offset for floating times, and a plain date (`2006-01-04`) for
//!   all-day components.
//! - `recurrence_id` is the instance's RECURRENCE-ID in iCalendar form (`20060104T120000` in
//!   DTSTART's zone, `...Z` for UTC, `20060104` for dates).
//! - `override` is true when a component with a RECURRENCE-ID defines the instance (or moved
//!   it, with `RANGE=THISANDFUTURE`).
//!
//! `--from`/`--to` take an RFC 3339 date-time with an offset or `Z`, or a date `YYYY-MM-DD`
//! (midnight UTC): an instance is printed when it overlaps `[from, to)`. Without `--from` the
//! output starts at the first instance; without `--to` it runs until every rule ends or `--max`
//! instances (default 1000) are printed. A TZID that resolves nowhere is an error (exit 1),
//! never read as UTC.

use anyhow::{Context, Result, bail};
use clap::Args;
use ical_parse::expand::calendar::{objects, resolver_for};
use ical_parse::expand::{ExpandOptions, Instance};
use ical_parse::{ParseOptions, parse_with};
use jiff::Timestamp;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `caldav ics expand`.
#[derive(Args)]
pub(crate) struct ExpandArgs {
    /// The file (`-` for standard input).
    #[arg(default_value = "-")]
    file: PathBuf,
    /// Only instances that end after this time (RFC 3339 with offset or Z, or YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Only instances that start before this time (RFC 3339 with offset or Z, or YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// At most this many instances.
    #[arg(long, default_value_t = 1000)]
    max: usize,
}

pub(crate) fn run(args: ExpandArgs) -> Result<ExitCode> {
    let bytes = if args.file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)
            .context("reading standard input")?;
        b
    } else {
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?
    };
    let text = String::from_utf8(bytes).context("the file is not UTF-8")?;
    let from = args.from.as_deref().map(parse_time).transpose()?;
    let to = args.to.as_deref().map(parse_time).transpose()?;
    let lines = expand_text(&text, from, to, args.max)
        .with_context(|| format!("expanding {}", args.file.display()))?;
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `2006-01-04T14:00:00-05:00`, `...Z`, or `2006-01-04` (midnight UTC).
fn parse_time(text: &str) -> Result<Timestamp> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>()
        && text.len() == 10
    {
        return Ok(date.to_zoned_datetime(jiff::tz::TimeZone::UTC)?.timestamp());
    }
    bail!("{text:?} is neither an RFC 3339 date-time with an offset nor a date YYYY-MM-DD")
}

/// The output lines for a calendar text.
fn expand_text(
    text: &str,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    max: usize,
) -> Result<Vec<String>> {
    let parsed = parse_with(text, &ParseOptions::lenient()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let resolver = resolver_for(&parsed.calendar)?;
    let objects = objects(&parsed.calendar, &resolver)?;
    let mut options = ExpandOptions::default();
    options.from = from;
    options.to = to;
    options.max_instances = max;
    let mut streams: Vec<_> = objects
        .iter()
        .map(|o| (o.uid.as_str(), o.expand(&options).peekable()))
        .collect();
    let mut lines = Vec::new();
    while lines.len() < max {
        // The object whose next instance starts first (ties: file order).
        let mut best: Option<(usize, (i64, i64))> = None;
        for (k, (_, stream)) in streams.iter_mut().enumerate() {
            if let Some(i) = stream.peek() {
                let key = (i.start_key, i.end_key);
                if best.is_none_or(|(_, b)| key < b) {
                    best = Some((k, key));
                }
            }
        }
        let Some((k, _)) = best else { break };
        let Some((uid, stream)) = streams.get_mut(k) else {
            break;
        };
        let Some(instance) = stream.next() else { break };
        lines.push(line(uid, &instance));
    }
    Ok(lines)
}

fn line(uid: &str, i: &Instance) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "{{\"uid\": {}, \"recurrence_id\": {}, \"start\": {}, \"end\": {}, \"override\": {}}}",
        quote(uid),
        quote(&i.recurrence_id.to_string()),
        quote(&i.start.to_string()),
        quote(&i.end.to_string()),
        i.override_index.is_some()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOO: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp.//Example Client//EN\r\n\
        BEGIN:VEVENT\r\nDTSTAMP:20060206T001121Z\r\nDTSTART;TZID=America/New_York:20060102T120000\r\n\
        DURATION:PT1H\r\nRDATE;VALUE=PERIOD;TZID=America/New_York:20060102T150000/PT2H\r\n\
        RRULE:FREQ=DAILY;COUNT=5\r\nSUMMARY:Event #2\r\nUID:x100959BC664CA650E933C892C@example.com\r\n\
        END:VEVENT\r\nBEGIN:VEVENT\r\nDTSTAMP:20060206T001121Z\r\n\
        DTSTART;TZID=America/New_York:20060104T140000\r\nDURATION:PT1H\r\n\
        RECURRENCE-ID;TZID=America/New_York:20060104T120000\r\nSUMMARY:Event #2 bis\r\n\
        UID:x100959BC664CA650E933C892C@example.com\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nDTSTAMP:20060206T001121Z\r\nDTSTART;VALUE=DATE:20060103\r\nUID:day\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn documented_format_in_start_order() {
        let lines = expand_text(FOO, None, None, 1000).unwrap();
        assert_eq!(
            lines,
            [
                r#"{"uid": "x100959BC664CA650E933C892C@example.com", "recurrence_id": "20060102T120000", "start": "2006-01-02T12:00:00-05:00", "end": "2006-01-02T13:00:00-05:00", "override": false}"#,
                r#"{"uid": "x100959BC664CA650E933C892C@example.com", "recurrence_id": "20060102T150000", "start": "2006-01-02T15:00:00-05:00", "end": "2006-01-02T17:00:00-05:00", "override": false}"#,
                r#"{"uid": "day", "recurrence_id": "20060103", "start": "2006-01-03", "end": "2006-01-04", "override": false}"#,
                r#"{"uid": "x100959BC664CA650E933C892C@example.com", "recurrence_id": "20060103T120000", "start": "2006-01-03T12:00:00-05:00", "end": "2006-01-03T13:00:00-05:00", "override": false}"#,
                r#"{"uid": "x100959BC664CA650E933C892C@example.com", "recurrence_id": "20060104T120000", "start": "2006-01-04T14:00:00-05:00", "end": "2006-01-04T15:00:00-05:00", "override": true}"#,
                r#"{"uid": "x100959BC664CA650E933C892C@example.com", "recurrence_id": "20060105T120000", "start": "2006-01-05T12:00:00-05:00", "end": "2006-01-05T13:00:00-05:00", "override": false}"#,
                r#"{"uid": "x100959BC664CA650E933C892C@example.com", "recurrence_id": "20060106T120000", "start": "2006-01-06T12:00:00-05:00", "end": "2006-01-06T13:00:00-05:00", "override": false}"#,
            ]
        );
    }

    #[test]
    fn window_and_max() {
        let from = parse_time("2006-01-04").unwrap();
        let to = parse_time("2006-01-05T17:30:00Z").unwrap();
        let lines = expand_text(FOO, Some(from), Some(to), 1000).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("\"start\": \"2006-01-04T14:00:00-05:00\""));
        assert!(lines[1].contains("\"start\": \"2006-01-05T12:00:00-05:00\""));
        assert_eq!(expand_text(FOO, None, None, 3).unwrap().len(), 3);
        assert!(parse_time("2006-01-04T14:00:00").is_err());
    }

    #[test]
    fn unknown_zone_is_reported() {
        let text = FOO.replace("America/New_York", "Mars/Olympus");
        let err = expand_text(&text, None, None, 10).unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown time zone \"Mars/Olympus\""),
            "{err:#}"
        );
    }
}
