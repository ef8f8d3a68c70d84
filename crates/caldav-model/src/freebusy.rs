//! Free-busy computation (RFC 4791 §7.10): busy periods of a set of calendar objects, as
//! one VFREEBUSY.
//!
//! ```text
//! TRANSP       STATUS                 FBTYPE
//! OPAQUE       CONFIRMED (default)    BUSY
//! (default)    CANCELLED              FREE
//!              TENTATIVE              BUSY-TENTATIVE
//!              x-name                 BUSY or x-name
//! TRANSPARENT  any                    FREE
//! ```
//!
//! "Servers SHOULD coalesce consecutive or overlapping busy time periods of the same type";
//! periods of different types may overlap. Free time is never listed: it is what is left.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::filter::{TimeRange, format_utc};

/// The `FBTYPE` of a busy period (RFC 5545 §3.2.9).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FbType {
    /// `FREE`.
    Free,
    /// `BUSY`, the default.
    Busy,
    /// `BUSY-TENTATIVE`.
    BusyTentative,
    /// `BUSY-UNAVAILABLE`.
    BusyUnavailable,
    /// An x-name or IANA token, kept as sent (uppercase).
    Other(String),
}

impl FbType {
    /// The parameter value as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            FbType::Free => "FREE",
            FbType::Busy => "BUSY",
            FbType::BusyTentative => "BUSY-TENTATIVE",
            FbType::BusyUnavailable => "BUSY-UNAVAILABLE",
            FbType::Other(name) => name,
        }
    }

    /// Reads an `FBTYPE` parameter value (case-insensitive, RFC 5545 §3.2).
    #[must_use]
    pub fn parse(value: &str) -> Self {
        match value.to_ascii_uppercase().as_str() {
            "FREE" => FbType::Free,
            "BUSY" => FbType::Busy,
            "BUSY-TENTATIVE" => FbType::BusyTentative,
            "BUSY-UNAVAILABLE" => FbType::BusyUnavailable,
            other => FbType::Other(other.to_owned()),
        }
    }

    /// The busy type an event contributes, from its `TRANSP` and `STATUS` values, or `None`
    /// when it leaves the time free (RFC 4791 §7.10's table).
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::freebusy::FbType;
    /// assert_eq!(FbType::for_event(None, None), Some(FbType::Busy));
    /// assert_eq!(FbType::for_event(None, Some("TENTATIVE")), Some(FbType::BusyTentative));
    /// assert_eq!(FbType::for_event(Some("TRANSPARENT"), None), None);
    /// assert_eq!(FbType::for_event(None, Some("CANCELLED")), None);
    /// ```
    #[must_use]
    pub fn for_event(transp: Option<&str>, status: Option<&str>) -> Option<FbType> {
        if transp.is_some_and(|t| t.eq_ignore_ascii_case("TRANSPARENT")) {
            return None;
        }
        match status {
            Some(s) if s.eq_ignore_ascii_case("CANCELLED") => None,
            Some(s) if s.eq_ignore_ascii_case("TENTATIVE") => Some(FbType::BusyTentative),
            _ => Some(FbType::Busy),
        }
    }
}

/// One `FREEBUSY` period: `[start, end)` with its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BusyPeriod {
    /// Inclusive start.
    pub start: Timestamp,
    /// Exclusive end.
    pub end: Timestamp,
    /// Its type.
    pub fb_type: FbType,
}

/// Collects busy periods and turns them into a VFREEBUSY (RFC 4791 §7.10).
///
/// # Example
///
/// ```
/// use caldav_model::filter::{parse_utc, TimeRange};
/// use caldav_model::freebusy::{FbType, FreeBusyBuilder};
///
/// let t = |s| parse_utc(s).unwrap();
/// let range = TimeRange::new(Some(t("20060104T140000Z")), Some(t("20060104T220000Z"))).unwrap();
/// let mut fb = FreeBusyBuilder::new(range);
/// fb.add(t("20060104T150000Z"), t("20060104T160000Z"), FbType::BusyTentative);
/// fb.add(t("20060104T190000Z"), t("20060104T200000Z"), FbType::Busy);
/// fb.add(t("20060104T193000Z"), t("20060104T203000Z"), FbType::Busy);
/// let periods = fb.periods();
/// assert_eq!(periods.len(), 2);
/// assert_eq!(periods[1].end, t("20060104T203000Z"));
/// ```
#[derive(Debug, Clone)]
pub struct FreeBusyBuilder {
    range: TimeRange,
    periods: Vec<BusyPeriod>,
}

impl FreeBusyBuilder {
    /// An empty free-busy answer for `range`.
    #[must_use]
    pub fn new(range: TimeRange) -> Self {
        Self {
            range,
            periods: Vec::new(),
        }
    }

    /// Adds a busy period; the part outside the range is cut off, and a period that does not
    /// overlap the range (or has no length) is ignored, as is `FBTYPE=FREE`.
    pub fn add(&mut self, start: Timestamp, end: Timestamp, fb_type: FbType) {
        if fb_type == FbType::Free {
            return;
        }
        let start = self.range.start().map_or(start, |s| start.max(s));
        let end = self.range.end().map_or(end, |e| end.min(e));
        if start < end {
            self.periods.push(BusyPeriod {
                start,
                end,
                fb_type,
            });
        }
    }

    /// The range asked for.
    #[must_use]
    pub fn range(&self) -> TimeRange {
        self.range
    }

    /// The periods, sorted by start then type, with overlapping or adjacent periods of one
    /// type coalesced.
    #[must_use]
    pub fn periods(&self) -> Vec<BusyPeriod> {
        let mut sorted = self.periods.clone();
        sorted.sort_by(|a, b| (&a.fb_type, a.start, a.end).cmp(&(&b.fb_type, b.start, b.end)));
        let mut out: Vec<BusyPeriod> = Vec::with_capacity(sorted.len());
        for period in sorted {
            match out.last_mut() {
                Some(last) if last.fb_type == period.fb_type && period.start <= last.end => {
                    last.end = last.end.max(period.end);
                }
                _ => out.push(period),
            }
        }
        out.sort_by(|a, b| (a.start, &a.fb_type).cmp(&(b.start, &b.fb_type)));
        out
    }

    /// The answer as an iCalendar object with one VFREEBUSY, CRLF line ends; `dtstamp` is
    /// the caller's "now" (this crate reads no clock) and `prodid` its product identifier.
    #[must_use]
    pub fn to_icalendar(&self, dtstamp: Timestamp, prodid: &str) -> String {
        let mut out = String::new();
        let mut line = |s: &str| {
            out.push_str(s);
            out.push_str("\r\n");
        };
        line("BEGIN:VCALENDAR");
        line("VERSION:2.0");
        line(&format!("PRODID:{prodid}"));
        line("BEGIN:VFREEBUSY");
        line(&format!("DTSTAMP:{}", format_utc(dtstamp)));
        if let Some(start) = self.range.start() {
            line(&format!("DTSTART:{}", format_utc(start)));
        }
        if let Some(end) = self.range.end() {
            line(&format!("DTEND:{}", format_utc(end)));
        }
        for period in self.periods() {
            let mut text = String::from("FREEBUSY");
            if period.fb_type != FbType::Busy {
                let _ = write!(text, ";FBTYPE={}", period.fb_type.as_str());
            }
            let _ = write!(
                text,
                ":{}/{}",
                format_utc(period.start),
                format_utc(period.end)
            );
            line(&text);
        }
        line("END:VFREEBUSY");
        line("END:VCALENDAR");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_utc;

    fn t(s: &str) -> Timestamp {
        parse_utc(s).unwrap()
    }

    fn builder() -> FreeBusyBuilder {
        FreeBusyBuilder::new(
            TimeRange::new(Some(t("20060104T140000Z")), Some(t("20060104T220000Z"))).unwrap(),
        )
    }

    #[test]
    fn periods_are_clipped_and_outside_ones_dropped() {
        let mut fb = builder();
        fb.add(t("20060104T100000Z"), t("20060104T120000Z"), FbType::Busy);
        fb.add(t("20060104T130000Z"), t("20060104T150000Z"), FbType::Busy);
        fb.add(t("20060104T200000Z"), t("20060104T230000Z"), FbType::Free);
        let periods = fb.periods();
        assert_eq!(periods.len(), 1);
        assert_eq!(periods[0].start, t("20060104T140000Z"));
        assert_eq!(periods[0].end, t("20060104T150000Z"));
    }

    #[test]
    fn adjacent_same_type_coalesces_but_different_types_overlap() {
        let mut fb = builder();
        fb.add(t("20060104T150000Z"), t("20060104T160000Z"), FbType::Busy);
        fb.add(t("20060104T160000Z"), t("20060104T170000Z"), FbType::Busy);
        fb.add(
            t("20060104T153000Z"),
            t("20060104T163000Z"),
            FbType::BusyTentative,
        );
        let periods = fb.periods();
        assert_eq!(periods.len(), 2);
        assert_eq!(periods[0].fb_type, FbType::Busy);
        assert_eq!(periods[0].end, t("20060104T170000Z"));
        assert_eq!(periods[1].fb_type, FbType::BusyTentative);
    }

    #[test]
    fn icalendar_output_lists_types() {
        let mut fb = builder();
        fb.add(
            t("20060104T150000Z"),
            t("20060104T160000Z"),
            FbType::BusyTentative,
        );
        fb.add(t("20060104T190000Z"), t("20060104T200000Z"), FbType::Busy);
        let text = fb.to_icalendar(t("20050125T090000Z"), "-//Example//EN");
        assert!(text.contains(
            "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060104T150000Z/20060104T160000Z\r\n\
             FREEBUSY:20060104T190000Z/20060104T200000Z\r\n"
        ));
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.contains("DTSTART:20060104T140000Z\r\nDTEND:20060104T220000Z\r\n"));
    }

    #[test]
    fn fbtype_parse_is_case_insensitive_and_keeps_unknown() {
        assert_eq!(FbType::parse("busy-unavailable"), FbType::BusyUnavailable);
        assert_eq!(FbType::parse("x-out"), FbType::Other("X-OUT".into()));
        assert_eq!(
            FbType::for_event(Some("opaque"), Some("x-foo")),
            Some(FbType::Busy)
        );
    }
}
