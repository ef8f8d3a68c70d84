//! Writing the model as iCalendar text (RFC 5545 §3.1): CRLF line ends, lines folded at 75
//! octets without splitting a UTF-8 sequence, parameter values quoted and RFC 6868-encoded
//! where needed.
//!
//! The canonical form this writer produces: names in uppercase; properties of a component
//! before its sub-components; a parameter value built in code in double quotes exactly when
//! it holds `;`, `:`, `,` or a backslash, a parsed one quoted as it was read (RFC 5545 allows
//! quotes on any value, and `CN="Jane Doe"` is what most clients write); values as they were
//! read. Input already in this form is reproduced byte for byte.

use crate::component::{Calendar, Component};
use crate::contentline::write_param_value;
use crate::property::Property;
use std::fmt;

/// The longest physical line, in octets, not counting CRLF (§3.1).
pub const FOLD_AT: usize = 75;

impl Calendar<'_> {
    /// The stream as iCalendar text.
    ///
    /// # Panics
    ///
    /// Never.
    #[must_use]
    pub fn write(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_to(&mut out);
        out
    }

    /// Writes the stream as iCalendar text to `out`.
    ///
    /// # Errors
    ///
    /// Only those of `out`.
    pub fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let mut line = String::new();
        for property in &self.properties {
            write_property(out, &mut line, property)?;
        }
        for component in &self.components {
            write_component(out, &mut line, component)?;
        }
        Ok(())
    }
}

impl Component<'_> {
    /// The component (with its sub-components) as iCalendar text.
    #[must_use]
    pub fn write(&self) -> String {
        let mut out = String::new();
        let _ = write_component(&mut out, &mut String::new(), self);
        out
    }

    /// Writes the component as iCalendar text to `out`.
    ///
    /// # Errors
    ///
    /// Only those of `out`.
    pub fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write_component(out, &mut String::new(), self)
    }
}

impl Property<'_> {
    /// The property as one unfolded content line, without line end.
    ///
    /// # Example
    ///
    /// ```
    /// use ical_parse::{Parameter, Property};
    /// let p = Property::new("ATTENDEE", "mailto:a@example.com")
    ///     .with_param(Parameter::new("CN", "Doe, Jane"));
    /// assert_eq!(p.to_line(), r#"ATTENDEE;CN="Doe, Jane":mailto:a@example.com"#);
    /// ```
    #[must_use]
    pub fn to_line(&self) -> String {
        let mut out = String::new();
        content_line(&mut out, self);
        out
    }
}

fn write_component(
    out: &mut impl fmt::Write,
    line: &mut String,
    component: &Component<'_>,
) -> fmt::Result {
    out.write_str("BEGIN:")?;
    out.write_str(&component.name)?;
    out.write_str("\r\n")?;
    for property in &component.properties {
        write_property(out, line, property)?;
    }
    for child in &component.components {
        write_component(out, line, child)?;
    }
    out.write_str("END:")?;
    out.write_str(&component.name)?;
    out.write_str("\r\n")
}

fn write_property(
    out: &mut impl fmt::Write,
    line: &mut String,
    property: &Property<'_>,
) -> fmt::Result {
    line.clear();
    content_line(line, property);
    fold(out, line)
}

/// Appends a property as one unfolded line.
pub(crate) fn content_line(out: &mut String, property: &Property<'_>) {
    if property.is_raw() {
        out.push_str(&property.raw_value);
        return;
    }
    out.push_str(&property.name);
    if let Some(raw) = property.params.raw_text() {
        // A section read from a canonical line reads back the same, quotes and all.
        crate::property::push_unfolded(out, raw);
        out.push(':');
        out.push_str(&property.raw_value);
        return;
    }
    for param in &property.params {
        out.push(';');
        out.push_str(&param.name);
        out.push('=');
        for (i, value) in param.values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_param_value(out, value);
        }
    }
    out.push(':');
    out.push_str(&property.raw_value);
}

/// Writes `line` folded at [`FOLD_AT`] octets, each piece ended by CRLF.
fn fold(out: &mut impl fmt::Write, line: &str) -> fmt::Result {
    let mut rest = line;
    let mut limit = FOLD_AT;
    loop {
        if rest.len() <= limit {
            out.write_str(rest)?;
            return out.write_str("\r\n");
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.write_str(head)?;
        out.write_str("\r\n ")?;
        rest = tail;
        // A continuation line's leading space counts toward its 75 octets.
        limit = FOLD_AT - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_at_75_octets_on_char_boundaries() {
        let mut out = String::new();
        let line = format!("DESCRIPTION:{}", "é".repeat(100));
        fold(&mut out, &line).unwrap();
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{}", physical.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{line}\r\n"));
    }

    #[test]
    fn short_lines_are_not_folded() {
        let mut out = String::new();
        fold(&mut out, &"X".repeat(75)).unwrap();
        assert_eq!(out.len(), 77);
    }
}
