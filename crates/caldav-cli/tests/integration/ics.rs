//! `caldav ics lint|fmt|stats|jcal` run as a user runs them.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const LF_EVENT: &str = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:1\n\
    DTSTAMP:20240101T000000Z\nDTSTART;TZID=Europe/Paris:20240101T100000Z\n\
    SUMMARY:A long summary that is longer than seventy-five octets\\, so the writer folds it\n\
    X-APPLE-RADIUS=49.9\nEND:VEVENT\nEND:VCALENDAR\n";

fn caldav(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("caldav-cli-ics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn lint_strict_reports_the_first_error_with_position() {
    let path = temp_file("lf.ics", LF_EVENT);
    let out = caldav(&["ics", "lint", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        format!(
            "{}:1:16: error: line ends with bare LF instead of CRLF\n",
            path.display()
        )
    );
}

#[test]
fn lint_lenient_reports_every_forgiven_deviation() {
    let path = temp_file("lenient.ics", LF_EVENT);
    let out = caldav(&["ics", "lint", "--lenient", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let p = path.display();
    assert!(
        stdout.contains(&format!("{p}:1:16: warning: line ends with bare LF")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{p}:7:27: warning: UTC date-time with TZID")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{p}:9:15: warning: unreadable line")),
        "{stdout}"
    );
}

#[test]
fn fmt_repairs_to_canonical_form_and_strict_refuses() {
    let out = caldav(&["ics", "fmt", "-"], Some(LF_EVENT));
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("\r\nX-APPLE-RADIUS=49.9\r\n"),
        "the raw line is kept"
    );
    assert!(text.split("\r\n").all(|l| l.len() <= 75));
    assert!(text.contains("\r\n so the writer folds it\r\n") || text.contains("\r\n "));
    // Formatting is idempotent.
    let again = caldav(&["ics", "fmt", "-"], Some(&text));
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
    let strict = caldav(&["ics", "fmt", "--strict", "-"], Some(LF_EVENT));
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        String::from_utf8(strict.stderr)
            .unwrap()
            .starts_with("-:1:16: error:")
    );
}

#[test]
fn jcal_and_back() {
    let canonical = String::from_utf8(caldav(&["ics", "fmt"], Some(LF_EVENT)).stdout).unwrap();
    let out = caldav(&["ics", "jcal"], Some(&canonical));
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0], "vcalendar");
    assert_eq!(json[2][0][1][2][3], "2024-01-01T10:00:00Z");
    let path = temp_file("event.json", &json.to_string());
    let back = caldav(&["ics", "fmt", "--from-jcal", path.to_str().unwrap()], None);
    assert!(back.status.success());
    assert_eq!(String::from_utf8(back.stdout).unwrap(), canonical);
}

#[test]
fn stats_counts_as_json() {
    let out = caldav(&["ics", "stats"], Some(LF_EVENT));
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["components"]["by_name"]["VEVENT"], 1);
    assert_eq!(json["properties"]["total"], 6);
    assert_eq!(json["raw_lines"], 1);
}
