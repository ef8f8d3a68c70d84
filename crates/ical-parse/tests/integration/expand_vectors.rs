//! python-dateutil's rule sets (RRULE/RDATE/EXDATE/EXRULE) and zone-aware cases
//! (`fixtures/corpora/rrule-vectors.json`) through [`expand`].

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::recur_vectors::parse_ical_datetime;
use ical_parse::expand::{ExpandOptions, Length, RDate, Recurrence, When, expand};
use ical_parse::recur::{Recur, RecurIter};
use ical_parse::tz::Zone;
use serde_json::Value;

const DATEUTIL: &str = include_str!("../../../../fixtures/corpora/rrule-vectors.json");

/// `NAME;TZID=X:V1,V2` -> (name, values with their zone).
fn property(line: &str) -> (String, Vec<When>) {
    let (head, value) = line.trim().split_once(':').unwrap();
    let mut parts = head.split(';');
    let name = parts.next().unwrap().to_ascii_uppercase();
    let zone = parts
        .find_map(|p| p.strip_prefix("TZID="))
        .map(|tzid| Zone::iana(tzid).unwrap());
    let values = value
        .split(',')
        .map(|v| {
            let dt = parse_ical_datetime(v).unwrap();
            match (&zone, v.ends_with('Z')) {
                (Some(z), _) => When::Zoned {
                    local: dt,
                    zone: z.clone(),
                },
                (None, true) => When::Utc(dt),
                (None, false) => When::Floating(dt),
            }
        })
        .collect();
    (name, values)
}

/// Splits an `rrulestr` input into content lines, unfolding when the case asks for it.
fn lines(input: &str, unfold: bool) -> Vec<String> {
    let text = if unfold {
        input.replace("\n ", "")
    } else {
        input.to_owned()
    };
    text.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn synchronized(rule: &Recur, start: jiff::civil::DateTime) -> bool {
    RecurIter::new(rule, start).without_dtstart().next() == Some(start)
}

#[test]
fn dateutil_rule_sets_and_zones() {
    let doc: Value = serde_json::from_str(DATEUTIL).unwrap();
    let mut ran = Vec::new();
    let mut skipped: Vec<(String, &str)> = Vec::new();
    let mut failures = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap().to_owned();
        if case["dtstart_synchronized"] == Value::Bool(false)
            || case["rfc5545_invalid"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        {
            continue; // listed with reasons in recur_vectors.rs
        }
        let kind = case["kind"].as_str().unwrap();
        let is_set = matches!(kind, "rruleset" | "rrulestr-set");
        let zoned = !case["tzid"].is_null()
            || case["dtstart_line"]
                .as_str()
                .is_some_and(|l| l.contains("TZID"));
        if !is_set && !zoned {
            continue; // single floating rules: recur_vectors.rs
        }
        if case["tzid"]
            .as_str()
            .is_some_and(|t| t.starts_with("tzstr("))
        {
            skipped.push((id, "zone given as a dateutil tzstr object, not a TZID"));
            continue;
        }
        let mut dtstart: Option<When> = None;
        let mut rrules = Vec::new();
        let mut exrules = Vec::new();
        let mut rdates = Vec::new();
        let mut exdates = Vec::new();
        let mut content: Vec<String> = Vec::new();
        if let Some(input) = case["input"].as_str() {
            content = lines(
                input,
                case["rrulestr_kwargs"]["unfold"] == Value::Bool(true),
            );
        } else {
            if let Some(l) = case["dtstart_line"].as_str() {
                content.push(l.to_owned());
            }
            for r in case["rrules"].as_array().into_iter().flatten() {
                content.push(format!("RRULE:{}", r.as_str().unwrap()));
            }
            if let Some(r) = case["rrule"].as_str() {
                content.push(format!("RRULE:{r}"));
            }
            for r in case["exrules"].as_array().into_iter().flatten() {
                content.push(format!("EXRULE:{}", r.as_str().unwrap()));
            }
            for key in ["rdate_line", "exdate_line"] {
                if let Some(l) = case[key].as_str() {
                    content.push(l.to_owned());
                }
            }
        }
        if let Some(dt) = case["rrulestr_kwargs"]["dtstart"]["datetime"].as_str() {
            dtstart = Some(When::Floating(dt.parse().unwrap()));
        }
        for line in &content {
            let upper = line.to_ascii_uppercase();
            if let Some(rule) = upper.strip_prefix("RRULE:") {
                rrules.push(Recur::parse(rule).unwrap());
            } else if let Some(rule) = upper.strip_prefix("EXRULE:") {
                exrules.push(Recur::parse(rule).unwrap());
            } else if !upper.contains(':') {
                rrules.push(Recur::parse(line).unwrap());
            } else {
                let (name, values) = property(line);
                match name.as_str() {
                    "DTSTART" => dtstart = values.into_iter().next(),
                    "RDATE" => rdates.extend(values),
                    "EXDATE" => exdates.extend(values),
                    other => panic!("{id}: {other}"),
                }
            }
        }
        // A set without DTSTART (dateutil allows it) starts at its first RDATE.
        let dtstart = dtstart.or_else(|| rdates.first().cloned()).unwrap();
        let civil = match &dtstart {
            When::Floating(dt) | When::Utc(dt) => *dt,
            When::Zoned { local, .. } => *local,
            _ => unreachable!(),
        };
        if rrules.iter().any(|r| !synchronized(r, civil)) {
            skipped.push((
                id,
                "an RRULE of the set does not have DTSTART as an instance: RFC 5545 undefined",
            ));
            continue;
        }
        let mut rec = Recurrence::new(dtstart, Length::default());
        rec.rrules = rrules;
        rec.exrules = exrules;
        rec.rdates = rdates.into_iter().map(RDate::At).collect();
        rec.exdates = exdates;
        let expected: Vec<String> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        let mut options = ExpandOptions::default();
        options.max_instances = expected.len() + 50;
        let got: Vec<String> = expand(&rec, &[], &options)
            .map(|i| i.start.to_string())
            .collect();
        if got != expected {
            failures.push(format!("{id}: got {got:?}\nwant {expected:?}"));
        }
        ran.push(id);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let skipped_ids: Vec<&str> = skipped.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        skipped_ids,
        [
            "RRuleTest.testStrSet",
            "RRuleTest.testStrWithTZIDCallable",
            "RRuleSetTest.testSet",
            "RRuleSetTest.testSetExDateRevOrder",
            "RRuleSetTest.testSetCachePre",
            "RRuleSetTest.testSetCachePost",
        ]
    );
    assert_eq!(ran.len(), 19, "{ran:?}");
}
