//! The ical.js parser fixtures (`fixtures/corpora/icaljs/parser/X.ics` with the expected jCal in
//! `X.json`) as a conformance oracle for [`ical_parse::jcal::to_json`], compared as JSON values.
//! Where our output must differ, [`DIVERGENCES`] names the case and the reason.

#![allow(clippy::disallowed_methods)] // Tests read the corpus files from disk.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::{ParseOptions, jcal, parse_bytes_with};
use std::path::Path;

/// Cases where our jCal differs from ical.js on purpose.
const DIVERGENCES: &[(&str, &str)] = &[
    (
        "float",
        "`X-INVALID-FLOAT;VALUE=FLOAT:my foo!`: ical.js writes the float 0.0; we write \
         `[\"x-invalid-float\", {\"value\": \"FLOAT\"}, \"unknown\", \"my foo!\"]`: a value that does not \
         parse as its type is kept as text (with its VALUE parameter), never replaced",
    ),
    (
        "integer",
        "`X-INVALID;VALUE=INTEGER:foobar`: ical.js writes 0; we keep the text \"foobar\" as `unknown`",
    ),
    (
        "boolean",
        "`X-MAYBE;VALUE=BOOLEAN:MAYBE`: ical.js writes false; we keep the text \"MAYBE\" as `unknown`",
    ),
];

#[test]
fn icaljs_parser_fixtures_give_the_same_jcal() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/corpora/icaljs/parser");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ics"))
        .collect();
    names.sort();
    for ics in names {
        let case = ics.file_stem().unwrap().to_string_lossy().into_owned();
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ics.with_extension("json")).unwrap()).unwrap();
        let bytes = std::fs::read(&ics).unwrap();
        let parsed = parse_bytes_with(&bytes, &ParseOptions::lenient()).unwrap();
        let ours = jcal::to_json(&parsed.calendar);
        let diverges = DIVERGENCES.iter().any(|(c, _)| *c == case);
        if diverges {
            assert_ne!(ours, expected, "{case}: listed as diverging but now agrees");
        } else if ours != expected {
            failures.push(format!(
                "{case}:\n  ours:     {ours}\n  expected: {expected}"
            ));
        }
        // Both ways: the jCal reads back to the same model.
        let back = jcal::from_json(&ours).unwrap();
        assert_eq!(
            jcal::to_json(&back),
            ours,
            "{case}: jCal does not round-trip"
        );
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 20, "{checked}");
}
