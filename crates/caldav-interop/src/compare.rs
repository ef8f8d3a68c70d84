//! Comparing the iCalendar data a client sent with what the server gives back.
//!
//! Byte equality first; where the server rewrote the data, a semantic comparison: both sides
//! parsed (RFC 5545 §3.1: unfolded content lines), every property keyed by the components
//! it sits in (name plus UID, RECURRENCE-ID or TZID), parameters in a fixed order, compared as
//! multisets. What differs only in form (order, folding, line ends, a final CRLF) is a
//! change; a property missing or altered is a loss; a property only the server has is an
//! addition.

use std::collections::BTreeMap;

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

/// Every content line of a calendar as `(where, line)`, in document order.
fn lines(components: &[Component<'_>], path: &str, out: &mut Vec<(String, String)>) {
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
            out.push((here.clone(), line(property)));
        }
        lines(&component.components, &here, out);
    }
}

/// A property as one unfolded line, parameters sorted by name.
fn line(property: &Property<'_>) -> String {
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
    text.push_str(&property.raw_value);
    text
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
        comparison.changes.push("stripped the final line end".to_owned());
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
            comparison.losses.push(format!("the sent data does not parse: {e}"));
            return comparison;
        }
    };
    let got_parsed = match ical_parse::parse_with(got, &options) {
        Ok(p) => p,
        Err(e) => {
            comparison.losses.push(format!("the stored data does not parse: {e}"));
            return comparison;
        }
    };
    let mut a = Vec::new();
    lines(&sent_parsed.calendar.components, "", &mut a);
    let mut b = Vec::new();
    lines(&got_parsed.calendar.components, "", &mut b);
    let (ma, mb) = (multiset(&a), multiset(&b));
    for (entry, count) in &ma {
        if mb.get(entry).copied().unwrap_or(0) < *count {
            comparison.losses.push(format!("{} {}", entry.0, entry.1));
        }
    }
    for (entry, count) in &mb {
        if ma.get(entry).copied().unwrap_or(0) < *count {
            comparison.additions.push(format!("{} {}", entry.0, entry.1));
        }
    }
    if comparison.losses.is_empty() && comparison.additions.is_empty() {
        if a != b {
            comparison
                .changes
                .push("reordered properties or components".to_owned());
        } else {
            let unfold = |s: &str| s.replace("\r\n ", "").replace("\n ", "");
            if unfold(sent) != unfold(got) || sent.matches('\n').count() != got.matches('\n').count()
            {
                if comparison.changes.is_empty() {
                    comparison.changes.push("refolded lines".to_owned());
                }
            }
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
        let got = SENT
            .replace("X-A;X-P=1;X-Q=2:v\r\nSUMMARY:s\r\n", "SUMMARY:s\r\nX-A;X-Q=2;X-P=1:v\r\n");
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
    fn refolding_and_lf_line_ends_are_changes() {
        let got = SENT.replace("SUMMARY:s\r\n", "SUMMARY:\r\n s\r\n").replace("\r\n", "\n");
        let c = compare_icalendar(SENT, &got);
        assert!(c.is_equivalent(), "{c:?}");
        assert_eq!(c.changes, ["LF line ends"]);
        let refolded = SENT.replace("SUMMARY:s\r\n", "SUMMARY:\r\n s\r\n");
        let c = compare_icalendar(SENT, &refolded);
        assert_eq!(c.changes, ["refolded lines"]);
    }
}
