//! The real-world corpora of `fixtures/corpora` (see its MANIFEST.md): every file meant to be
//! valid parses leniently and round-trips; the files listed in [`EXPECTED_FAILURES`] fail with
//! a positioned error (never a panic), and the reason is given.

#![allow(clippy::disallowed_methods)] // Tests read the corpus files from disk.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::{Calendar, ParseOptions, parse_with};
use std::path::{Path, PathBuf};

/// Files (relative to fixtures/corpora) expected to fail even in lenient mode, and why.
const EXPECTED_FAILURES: &[(&str, &str)] = &[(
    "libical/test-data/get_char_test.ics",
    "fuzzer-made garbage from libical's get_char test: BEGINs without END nest deeper than \
     Limits::max_depth (16), a limit error at line 273",
)];

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/corpora")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else {
            let name = path.to_string_lossy();
            let ical4j_text = name.contains("/ical4j/") && name.ends_with(".txt");
            if name.ends_with(".ics") || ical4j_text {
                out.push(path);
            }
        }
    }
}

/// CalDAVTester resources hold `$name:` placeholders the tester fills in at run time.
fn substitute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let name_len = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if name_len > 0 && after.as_bytes().get(name_len) == Some(&b':') {
            let name = &after[..name_len];
            if name.starts_with("cuaddr") || name.contains("email") {
                out.push_str("mailto:");
            }
            out.push_str("substituted-");
            out.push_str(name);
            rest = &after[name_len + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

pub(crate) fn round_trips(calendar: &Calendar<'_>, what: &str) {
    let written = calendar.write();
    let again = parse_with(&written, &ParseOptions::lenient())
        .unwrap_or_else(|e| panic!("{what}: written form does not parse: {e}\n{written}"));
    assert_eq!(
        &again.calendar, calendar,
        "{what}: parse -> write -> parse differs"
    );
    assert_eq!(
        again.calendar.write(),
        written,
        "{what}: writing is not idempotent"
    );
}

#[test]
fn every_valid_corpus_file_parses_leniently_and_round_trips() {
    let root = corpora();
    let mut files = Vec::new();
    collect(&root, &mut files);
    assert!(files.len() > 400, "corpus not found: {}", files.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.starts_with("ical4j/samples/invalid/") {
            continue;
        }
        let bytes = std::fs::read(path).unwrap();
        let text = match String::from_utf8(bytes.clone()) {
            Ok(t) if rel.starts_with("caldavtester/") => substitute(&t).into_bytes(),
            _ => bytes,
        };
        let expected_failure = EXPECTED_FAILURES.iter().find(|(f, _)| *f == rel);
        match (
            ical_parse::parse_bytes_with(&text, &ParseOptions::lenient()),
            expected_failure,
        ) {
            (Ok(parsed), None) => {
                round_trips(&parsed.calendar, &rel);
                checked += 1;
            }
            (Ok(_), Some(_)) => failures.push(format!("{rel}: parses, but is listed as failing")),
            (Err(e), None) => failures.push(format!("{rel}: {e}")),
            (Err(e), Some(_)) => assert!(e.line > 0, "{rel}: error without a line: {e}"),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 400);
}

/// ical4j's `samples/invalid` files break RFC 5545 on purpose: strict parsing rejects each
/// with a line and column; lenient parsing never panics and keeps what it cannot read.
#[test]
fn ical4j_invalid_samples_fail_strictly_with_position() {
    let dir = corpora().join("ical4j/samples/invalid");
    let mut files = Vec::new();
    collect(&dir, &mut files);
    assert!(!files.is_empty());
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Strict: a positioned error for every file ical4j calls invalid.
        match ical_parse::parse_bytes_with(&bytes, &ParseOptions::strict()) {
            Ok(_) => panic!("{name}: strict parse accepted an invalid sample"),
            Err(e) => assert!(e.line > 0 && e.column > 0, "{name}: {e}"),
        }
        // Lenient: accepted with warnings, and lossless.
        let parsed = ical_parse::parse_bytes_with(&bytes, &ParseOptions::lenient())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!parsed.warnings.is_empty(), "{name}: nothing reported");
        round_trips(&parsed.calendar, &name);
    }
}

/// Real files that RFC 5545 §3.6 rejects for a missing REQUIRED property (the first error a
/// strict parse meets), with that error: they stay lenient-valid, with a warning at the same
/// place, and round-trip unchanged.
const STRICT_OCCURRENCE_FAILURES: &[(&str, &str)] = &[
    (
        "python-icalendar/calendars/issue_104_broken_calendar.ics",
        "line 4, column 1: VEVENT without UID",
    ),
    (
        "python-icalendar/calendars/issue_313_globally_unique_tzid.ics",
        "line 4, column 1: VEVENT without DTSTAMP",
    ),
    (
        "python-icalendar/calendars/issue_466_convert_tzid_with_slash.ics",
        "line 1, column 1: VCALENDAR without PRODID",
    ),
];

#[test]
fn files_missing_required_properties_fail_strictly_and_pass_leniently() {
    for (rel, expected) in STRICT_OCCURRENCE_FAILURES {
        let bytes = std::fs::read(corpora().join(rel)).unwrap();
        let e = ical_parse::parse_bytes_with(&bytes, &ParseOptions::strict()).unwrap_err();
        assert_eq!(e.to_string(), *expected, "{rel}");
        let parsed = ical_parse::parse_bytes_with(&bytes, &ParseOptions::lenient()).unwrap();
        assert!(
            parsed.warnings.iter().any(|w| w.to_string() == *expected),
            "{rel}: {:?}",
            parsed.warnings
        );
        round_trips(&parsed.calendar, rel);
    }
}

/// Every strict rejection in the corpora names a line and a column.
#[test]
fn strict_errors_in_the_corpora_are_positioned() {
    let root = corpora();
    let mut files = Vec::new();
    collect(&root, &mut files);
    let mut rejected = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        if let Err(e) = ical_parse::parse_bytes_with(&bytes, &ParseOptions::strict()) {
            assert!(e.line > 0 && e.column > 0, "{}: {e}", path.display());
            rejected += 1;
        }
    }
    assert!(rejected > 0 && rejected < files.len());
}
