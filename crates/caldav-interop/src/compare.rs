//! Comparing the iCalendar data a client sent with what the server gives back.
//!
//! Byte equality first; where the server rewrote the data, a semantic comparison: both sides
//! parsed (RFC 5545 §3.1: unfolded content lines), every property keyed by the components
//! it sits in (name plus UID, RECURRENCE-ID or TZID), parameters in a fixed order, compared as
//! multisets. What differs only in form (order, folding, line ends, a final CRLF) is a
//! change; a property missing or altered is a loss; a property only the server has is an
//! addition.

use std::collections::{BTreeMap, BTreeSet};

use ical_parse::{Component, ParseOptions, Property};

/// What a server did to data it stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct Comparison {
    /// The bytes are the same.
    pub identical: bool,
    /// Changes of form that keep the meaning.
    pub changes: Vec<String>,
    /// Properties sent that did not come back as sent.
    pub losses: Vec<String>,
    /// Properties that came back but were not sent.
    pub additions: Vec<String>,
}

impl Comparison {
    /// Nothing sent was lost or altered (the server may have added properties).
    #[must_use]
    pub fn is_equivalent(&self) -> bool {
        self.losses.is_empty()
    }

    /// One line for a report: "byte-for-byte", or the changes, losses and additions.
    #[must_use]
    pub fn describe(&self) -> String {
        if self.identical {
            return "byte-for-byte".to_owned();
        }
        let mut parts = Vec::new();
        if !self.changes.is_empty() {
            parts.push(self.changes.join(", "));
        }
        if !self.losses.is_empty() {
            parts.push(format!("lost or altered: {}", self.losses.join(", ")));
        }
        if !self.additions.is_empty() {
            parts.push(format!("added: {}", self.additions.join(", ")));
        }
        if parts.is_empty() {
            parts.push("different bytes, same content lines".to_owned());
        }
        parts.join("; ")
    }
}

/// Every content line of a calendar as `(where, line)`, in document order; with `normalize`,
/// values written in an equivalent other form are brought to one form first.
fn lines(
    components: &[Component<'_>],
    path: &str,
    normalize: bool,
    out: &mut Vec<(String, String)>,
) {
    for component in components {
        let key = ["UID", "RECURRENCE-ID", "TZID"]
            .iter()
            .filter_map(|name| component.property(name))
            .map(|p| p.raw_value.trim().to_owned())
            .collect::<Vec<_>>();
        let here = if key.is_empty() {
            format!("{path}/{}", component.name)
        } else {
            format!("{path}/{}({})", component.name, key.join(" "))
        };
        for property in &component.properties {
            if normalize {
                for value in normal_values(property) {
                    out.push((here.clone(), line(property, &value)));
                }
            } else {
                out.push((here.clone(), line(property, &property.raw_value)));
            }
        }
        lines(&component.components, &here, normalize, out);
    }
}

/// The values of `property` in one form: a RECUR value's parts sorted (RFC 5545 §3.3.10 gives
/// them no order), and a list of CATEGORIES, RESOURCES, EXDATE or RDATE split into one value
/// each (one property with a list means the same as several properties, §3.8.1.2, §3.8.5).
fn normal_values(property: &Property<'_>) -> Vec<String> {
    let name = property.name.to_ascii_uppercase();
    let raw: &str = &property.raw_value;
    match name.as_str() {
        "RRULE" | "EXRULE" => {
            let mut parts: Vec<&str> = raw.split(';').collect();
            parts.sort_unstable();
            vec![parts.join(";")]
        }
        "CATEGORIES" | "RESOURCES" | "EXDATE" | "RDATE" => split_list(raw),
        _ => vec![raw.to_owned()],
    }
}

/// Splits a value list at its unescaped commas (RFC 5545 §3.1.1; `\,` is a comma in text).
fn split_list(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in raw.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            current.push(c);
            escaped = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    out.push(current);
    out
}

/// A property as one unfolded line with `value`, parameters sorted by name.
fn line(property: &Property<'_>, value: &str) -> String {
    let mut params: Vec<String> = property
        .params
        .iter()
        .map(|p| {
            let values: Vec<&str> = p.values.iter().map(AsRef::as_ref).collect();
            format!("{}={}", p.name, values.join(","))
        })
        .collect();
    params.sort();
    let mut text = property.name.to_string();
    for p in params {
        text.push(';');
        text.push_str(&p);
    }
    text.push(':');
    text.push_str(value);
    text
}

/// The first component on `path` that the sent data does not have, if any.
fn new_component(path: &str, sent: &BTreeSet<&str>) -> Option<String> {
    let mut depth = 0usize;
    for (i, c) in path.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '/' if depth == 0 && i > 0 => {
                let prefix = path.get(..i)?;
                if !sent.contains(prefix) {
                    return Some(prefix.to_owned());
                }
            }
            _ => {}
        }
    }
    (!sent.contains(path)).then(|| path.to_owned())
}

fn multiset(lines: &[(String, String)]) -> BTreeMap<&(String, String), usize> {
    let mut map = BTreeMap::new();
    for l in lines {
        *map.entry(l).or_insert(0) += 1;
    }
    map
}

/// Compares what was sent with what came back.
pub fn compare_icalendar(sent: &str, got: &str) -> Comparison {
    let mut comparison = Comparison {
        identical: sent == got,
        ..Comparison::default()
    };
    if comparison.identical {
        return comparison;
    }
    let crlf = |s: &str| s.contains("\r\n");
    let bare_lf = |s: &str| s.replace("\r\n", "").contains('\n');
    if sent.ends_with('\n') && !got.ends_with('\n') {
        comparison
            .changes
            .push("stripped the final line end".to_owned());
    }
    if crlf(sent) && !bare_lf(sent) && bare_lf(got) {
        comparison.changes.push("LF line ends".to_owned());
    }
    if !crlf(sent) && crlf(got) {
        comparison.changes.push("CRLF line ends".to_owned());
    }
    let options = ParseOptions::lenient();
    let sent_parsed = match ical_parse::parse_with(sent, &options) {
        Ok(p) => p,
        Err(e) => {
            comparison
                .losses
                .push(format!("the sent data does not parse: {e}"));
            return comparison;
        }
    };
    let got_parsed = match ical_parse::parse_with(got, &options) {
        Ok(p) => p,
        Err(e) => {
            comparison
                .losses
                .push(format!("the stored data does not parse: {e}"));
            return comparison;
        }
    };
    let mut a = Vec::new();
    lines(&sent_parsed.calendar.components, "", true, &mut a);
    let mut b = Vec::new();
    lines(&got_parsed.calendar.components, "", true, &mut b);
    let (ma, mb) = (multiset(&a), multiset(&b));
    for (entry, count) in &ma {
        if mb.get(entry).copied().unwrap_or(0) < *count {
            comparison.losses.push(format!("{} {}", entry.0, entry.1));
        }
    }
    // Whole components the server added are named once, not line by line.
    let sent_paths: BTreeSet<&str> = a.iter().map(|(w, _)| w.as_str()).collect();
    let mut added_components: BTreeMap<String, usize> = BTreeMap::new();
    for (entry, count) in &mb {
        if ma.get(entry).copied().unwrap_or(0) < *count {
            match new_component(&entry.0, &sent_paths) {
                Some(component) => *added_components.entry(component).or_insert(0) += 1,
                None => comparison
                    .additions
                    .push(format!("{} {}", entry.0, entry.1)),
            }
        }
    }
    for (component, lines) in added_components {
        comparison
            .additions
            .push(format!("component {component} ({lines} lines)"));
    }
    let mut raw_a = Vec::new();
    lines(&sent_parsed.calendar.components, "", false, &mut raw_a);
    let mut raw_b = Vec::new();
    lines(&got_parsed.calendar.components, "", false, &mut raw_b);
    let (raw_ma, raw_mb) = (multiset(&raw_a), multiset(&raw_b));
    // Properties whose lines differ only before normalization: rewritten in an equivalent form.
    let mut rewritten: Vec<String> = Vec::new();
    for (entry, count) in raw_ma.iter().chain(&raw_mb) {
        let other = if raw_ma.get(entry) == Some(count) {
            &raw_mb
        } else {
            &raw_ma
        };
        if other.get(entry) != Some(count) && new_component(&entry.0, &sent_paths).is_none() {
            let name = entry
                .1
                .split([';', ':'])
                .next()
                .unwrap_or_default()
                .to_owned();
            let lost_or_added = comparison
                .losses
                .iter()
                .chain(&comparison.additions)
                .any(|l| {
                    l.split_once(' ')
                        .is_some_and(|(_, rest)| rest.starts_with(&name))
                });
            if !lost_or_added && !rewritten.contains(&name) {
                rewritten.push(name);
            }
        }
    }
    if !rewritten.is_empty() {
        rewritten.sort();
        comparison.changes.push(format!(
            "rewrote {} in an equivalent form",
            rewritten.join(", ")
        ));
    }
    if comparison.losses.is_empty() && comparison.additions.is_empty() {
        if a != b {
            comparison
                .changes
                .push("reordered properties or components".to_owned());
        } else if comparison.changes.is_empty() {
            comparison.changes.push("refolded lines".to_owned());
        }
    }
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n\
                        DTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\n\
                        X-A;X-P=1;X-Q=2:v\r\nSUMMARY:s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn identical_is_byte_for_byte() {
        let c = compare_icalendar(SENT, SENT);
        assert!(c.identical && c.is_equivalent());
        assert_eq!(c.describe(), "byte-for-byte");
    }

    #[test]
    fn stripped_final_crlf_is_a_change() {
        let c = compare_icalendar(SENT, SENT.trim_end());
        assert!(!c.identical && c.is_equivalent());
        assert_eq!(c.changes, ["stripped the final line end"]);
    }

    #[test]
    fn reordered_properties_and_parameters_are_a_change() {
        let got = SENT.replace(
            "X-A;X-P=1;X-Q=2:v\r\nSUMMARY:s\r\n",
            "SUMMARY:s\r\nX-A;X-Q=2;X-P=1:v\r\n",
        );
        let c = compare_icalendar(SENT, &got);
        assert!(c.is_equivalent(), "{c:?}");
        assert_eq!(c.changes, ["reordered properties or components"]);
    }

    #[test]
    fn a_dropped_x_property_is_a_loss() {
        let got = SENT.replace("X-A;X-P=1;X-Q=2:v\r\n", "");
        let c = compare_icalendar(SENT, &got);
        assert!(!c.is_equivalent());
        assert_eq!(c.losses, ["/VCALENDAR/VEVENT(1) X-A;X-P=1;X-Q=2:v"]);
        assert!(c.describe().contains("lost or altered"));
    }

    #[test]
    fn an_altered_value_is_a_loss_and_an_addition() {
        let got = SENT.replace("SUMMARY:s", "SUMMARY:t");
        let c = compare_icalendar(SENT, &got);
        assert_eq!(c.losses.len(), 1);
        assert_eq!(c.additions, ["/VCALENDAR/VEVENT(1) SUMMARY:t"]);
    }

    #[test]
    fn rrule_parts_reordered_and_categories_split_are_changes() {
        let sent = SENT.replace(
            "SUMMARY:s\r\n",
            "SUMMARY:s\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nCATEGORIES:a\\,b,c\r\n",
        );
        let got = SENT.replace(
            "SUMMARY:s\r\n",
            "SUMMARY:s\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nCATEGORIES:a\\,b\r\n\
             CATEGORIES:c\r\n",
        );
        let c = compare_icalendar(&sent, &got);
        assert!(c.is_equivalent(), "{c:?}");
        assert_eq!(
            c.changes,
            ["rewrote CATEGORIES, RRULE in an equivalent form"]
        );
        // A comma escaped in text is no list separator.
        let merged = got.replace("CATEGORIES:a\\,b\r\nCATEGORIES:c", "CATEGORIES:a,b\\,c");
        let c = compare_icalendar(&sent, &merged);
        assert!(!c.is_equivalent(), "{c:?}");
    }

    #[test]
    fn an_added_component_is_named_once() {
        let got = SENT.replace(
            "BEGIN:VEVENT",
            "BEGIN:VTIMEZONE\r\nTZID:A/B\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n\
             TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
             BEGIN:VEVENT",
        );
        let c = compare_icalendar(SENT, &got);
        assert!(c.is_equivalent(), "{c:?}");
        assert_eq!(
            c.additions,
            ["component /VCALENDAR/VTIMEZONE(A/B) (4 lines)"]
        );
    }

    #[test]
    fn refolding_and_lf_line_ends_are_changes() {
        let got = SENT
            .replace("SUMMARY:s\r\n", "SUMMARY:\r\n s\r\n")
            .replace("\r\n", "\n");
        let c = compare_icalendar(SENT, &got);
        assert!(c.is_equivalent(), "{c:?}");
        assert_eq!(c.changes, ["LF line ends"]);
        let refolded = SENT.replace("SUMMARY:s\r\n", "SUMMARY:\r\n s\r\n");
        let c = compare_icalendar(SENT, &refolded);
        assert_eq!(c.changes, ["refolded lines"]);
    }
}
