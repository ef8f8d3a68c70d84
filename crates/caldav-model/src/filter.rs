//! The calendar-query filter tree (RFC 4791 §9.7) and its time ranges (§9.9).
//!
//! ```text
//! <!ELEMENT filter (comp-filter)>
//! <!ELEMENT comp-filter (is-not-defined | (time-range?,
//!                         prop-filter*, comp-filter*))>
//! <!ELEMENT prop-filter (is-not-defined |
//!                         ((time-range | text-match)?,
//!                          param-filter*))>
//! <!ELEMENT param-filter (is-not-defined | text-match?)>
//! <!ELEMENT text-match (#PCDATA)>
//! <!ATTLIST text-match collation        CDATA "i;ascii-casemap"
//!                      negate-condition (yes | no) "no">
//! <!ELEMENT time-range EMPTY>
//! <!ATTLIST time-range start CDATA #IMPLIED
//!                      end   CDATA #IMPLIED>
//! ```
//!
//! The types here are plain data: a client builds them and encodes them in a
//! calendar-query; a server (or a client filtering offline) decodes and evaluates them.

use std::fmt;

use jiff::Timestamp;

/// A whole `CALDAV:filter`: one comp-filter, which RFC 4791 §9.7.1 requires to name
/// `VCALENDAR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The top comp-filter.
    pub root: CompFilter,
}

impl Filter {
    /// A filter that matches every calendar object: `<comp-filter name="VCALENDAR"/>`.
    #[must_use]
    pub fn any() -> Self {
        Filter {
            root: CompFilter::new("VCALENDAR"),
        }
    }

    /// A filter for calendar objects holding `component` (e.g. `VEVENT`), the shape most
    /// clients send (and iCloud requires, QUIRKS.md #6).
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::filter::{CompFilter, Filter};
    /// let f = Filter::component(CompFilter::new("VTODO"));
    /// assert_eq!(f.root.name, "VCALENDAR");
    /// ```
    #[must_use]
    pub fn component(component: CompFilter) -> Self {
        Filter {
            root: CompFilter::new("VCALENDAR").comp(component),
        }
    }
}

/// `CALDAV:comp-filter` (RFC 4791 §9.7.1): a test on the components of one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompFilter {
    /// The component name, e.g. `VEVENT` (compared case-insensitively).
    pub name: String,
    /// `CALDAV:is-not-defined`: matches when no such component exists. When set, the other
    /// fields are ignored (the DTD makes them exclusive).
    pub is_not_defined: bool,
    /// Optional time range the component must overlap (§9.9).
    pub time_range: Option<TimeRange>,
    /// Property tests, all of which must match.
    pub props: Vec<PropFilter>,
    /// Nested component tests, all of which must match.
    pub comps: Vec<CompFilter>,
}

impl CompFilter {
    /// A comp-filter that matches when a component named `name` exists.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        CompFilter {
            name: name.into(),
            is_not_defined: false,
            time_range: None,
            props: Vec::new(),
            comps: Vec::new(),
        }
    }

    /// A comp-filter that matches when no component named `name` exists.
    #[must_use]
    pub fn is_not_defined(name: impl Into<String>) -> Self {
        CompFilter {
            is_not_defined: true,
            ..CompFilter::new(name)
        }
    }

    /// Adds a time range.
    #[must_use]
    pub fn time_range(mut self, range: TimeRange) -> Self {
        self.time_range = Some(range);
        self
    }

    /// Adds a prop-filter.
    #[must_use]
    pub fn prop(mut self, filter: PropFilter) -> Self {
        self.props.push(filter);
        self
    }

    /// Adds a nested comp-filter.
    #[must_use]
    pub fn comp(mut self, filter: CompFilter) -> Self {
        self.comps.push(filter);
        self
    }
}

/// What a prop-filter tests beyond the property's existence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropTest {
    /// The property exists.
    Defined,
    /// `CALDAV:is-not-defined`: the property does not exist.
    IsNotDefined,
    /// A `CALDAV:time-range` on a DATE or DATE-TIME property (§9.9).
    TimeRange(TimeRange),
    /// A `CALDAV:text-match` on the property value (§9.7.5).
    TextMatch(TextMatch),
}

/// `CALDAV:prop-filter` (RFC 4791 §9.7.2): a test on the properties of one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropFilter {
    /// The property name, e.g. `UID` (compared case-insensitively).
    pub name: String,
    /// The test on the value.
    pub test: PropTest,
    /// Parameter tests, all of which must match (ignored with [`PropTest::IsNotDefined`]).
    pub params: Vec<ParamFilter>,
}

impl PropFilter {
    /// A prop-filter that matches when a property named `name` exists.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        PropFilter {
            name: name.into(),
            test: PropTest::Defined,
            params: Vec::new(),
        }
    }

    /// A prop-filter that matches when no property named `name` exists.
    #[must_use]
    pub fn is_not_defined(name: impl Into<String>) -> Self {
        PropFilter {
            test: PropTest::IsNotDefined,
            ..PropFilter::new(name)
        }
    }

    /// Tests the value with a text-match.
    #[must_use]
    pub fn text_match(mut self, text_match: TextMatch) -> Self {
        self.test = PropTest::TextMatch(text_match);
        self
    }

    /// Tests the value with a time range.
    #[must_use]
    pub fn time_range(mut self, range: TimeRange) -> Self {
        self.test = PropTest::TimeRange(range);
        self
    }

    /// Adds a param-filter.
    #[must_use]
    pub fn param(mut self, filter: ParamFilter) -> Self {
        self.params.push(filter);
        self
    }
}

/// `CALDAV:param-filter` (RFC 4791 §9.7.3): a test on one parameter of a property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamFilter {
    /// The parameter name, e.g. `PARTSTAT` (compared case-insensitively).
    pub name: String,
    /// `CALDAV:is-not-defined`: matches when the parameter is absent.
    pub is_not_defined: bool,
    /// A text-match on the parameter value (ignored with `is_not_defined`).
    pub text_match: Option<TextMatch>,
}

impl ParamFilter {
    /// A param-filter that matches when the parameter exists.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        ParamFilter {
            name: name.into(),
            is_not_defined: false,
            text_match: None,
        }
    }

    /// A param-filter that matches when the parameter is absent.
    #[must_use]
    pub fn is_not_defined(name: impl Into<String>) -> Self {
        ParamFilter {
            is_not_defined: true,
            ..ParamFilter::new(name)
        }
    }

    /// Tests the value with a text-match.
    #[must_use]
    pub fn text_match(mut self, text_match: TextMatch) -> Self {
        self.text_match = Some(text_match);
        self
    }
}

/// A collation (RFC 4790) for text-match, as RFC 4791 §7.5 requires.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Collation {
    /// `i;ascii-casemap` (RFC 4790 §9.2), the default: ASCII letters compare without case.
    #[default]
    AsciiCasemap,
    /// `i;octet` (RFC 4790 §9.3): bytes compare exactly.
    Octet,
    /// `i;unicode-casemap` (RFC 5051): Unicode simple case folding.
    UnicodeCasemap,
    /// Any other collation name, kept as sent. A server answers it with the
    /// `CALDAV:supported-collation` precondition; evaluation treats it as no match.
    Other(String),
}

impl Collation {
    /// The collation's registered name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Collation::AsciiCasemap => "i;ascii-casemap",
            Collation::Octet => "i;octet",
            Collation::UnicodeCasemap => "i;unicode-casemap",
            Collation::Other(name) => name,
        }
    }

    /// The collation named `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        match name {
            "i;ascii-casemap" => Collation::AsciiCasemap,
            "i;octet" => Collation::Octet,
            "i;unicode-casemap" => Collation::UnicodeCasemap,
            other => Collation::Other(other.to_owned()),
        }
    }
}

/// `CALDAV:text-match` (RFC 4791 §9.7.5): a substring test under a collation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    /// The text searched for.
    pub text: String,
    /// How characters compare.
    pub collation: Collation,
    /// `negate-condition="yes"`: matches when the text is *not* found.
    pub negate: bool,
}

impl TextMatch {
    /// A text-match for `text` with the default collation.
    #[must_use]
    pub fn new(text: impl Into<String>) -> Self {
        TextMatch {
            text: text.into(),
            collation: Collation::default(),
            negate: false,
        }
    }

    /// Sets the collation.
    #[must_use]
    pub fn collation(mut self, collation: Collation) -> Self {
        self.collation = collation;
        self
    }

    /// Sets `negate-condition`.
    #[must_use]
    pub fn negate(mut self, negate: bool) -> Self {
        self.negate = negate;
        self
    }
}

/// `CALDAV:time-range` (RFC 4791 §9.9): a half-open interval `[start, end)` of UTC instants.
/// Either end may be open, but not both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

impl TimeRange {
    /// A range from `start` (inclusive) to `end` (exclusive), either open when `None`.
    ///
    /// Returns `None` when both are open or `end` is not after `start`, which RFC 4791
    /// §9.9 forbids.
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::filter::TimeRange;
    /// let start = "2017-09-19T01:01:01Z".parse().unwrap();
    /// let end = "2017-10-10T01:01:01Z".parse().unwrap();
    /// let range = TimeRange::new(Some(start), Some(end)).unwrap();
    /// assert_eq!(range.to_string(), "start=20170919T010101Z end=20171010T010101Z");
    /// assert!(TimeRange::new(Some(end), Some(start)).is_none());
    /// ```
    #[must_use]
    pub fn new(start: Option<Timestamp>, end: Option<Timestamp>) -> Option<Self> {
        match (start, end) {
            (None, None) => None,
            (Some(s), Some(e)) if e <= s => None,
            _ => Some(TimeRange { start, end }),
        }
    }

    /// The inclusive start, or `None` for "since forever".
    #[must_use]
    pub fn start(&self) -> Option<Timestamp> {
        self.start
    }

    /// The exclusive end, or `None` for "forever".
    #[must_use]
    pub fn end(&self) -> Option<Timestamp> {
        self.end
    }
}

impl fmt::Display for TimeRange {
    /// The attributes as they are written, for diagnostics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(start) = self.start {
            write!(f, "start={}", format_utc(start))?;
            sep = " ";
        }
        if let Some(end) = self.end {
            write!(f, "{sep}end={}", format_utc(end))?;
        }
        Ok(())
    }
}

/// Formats an instant as an iCalendar UTC DATE-TIME (`20170919T010101Z`), the form RFC 4791
/// §9.9 requires in time-range attributes.
#[must_use]
pub fn format_utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Parses an iCalendar UTC DATE-TIME (`20170919T010101Z`) into an instant.
///
/// `None` if `text` is not exactly `YYYYMMDDTHHMMSSZ` or names no valid instant.
#[must_use]
pub fn parse_utc(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    if bytes.len() != 16
        || bytes.get(8) != Some(&b'T')
        || bytes.get(15) != Some(&b'Z')
        || !bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit())
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i16> { text.get(range)?.parse().ok() };
    let date = jiff::civil::Date::new(
        num(0..4)?,
        i8::try_from(num(4..6)?).ok()?,
        i8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let time = jiff::civil::Time::new(
        i8::try_from(num(9..11)?).ok()?,
        i8::try_from(num(11..13)?).ok()?,
        // A leap second (60) is folded into 59: instants have no room for it.
        i8::try_from(num(13..15)?.min(59)).ok()?,
        0,
    )
    .ok()?;
    jiff::tz::Offset::UTC
        .to_timestamp(date.to_datetime(time))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_round_trips() {
        let t = parse_utc("20060104T000000Z").unwrap();
        assert_eq!(format_utc(t), "20060104T000000Z");
        assert_eq!(t.as_second(), 1_136_332_800);
    }

    #[test]
    fn malformed_utc_text_is_rejected() {
        for bad in [
            "",
            "20060104T000000",
            "20060104 000000Z",
            "2006010400000000",
            "20061304T000000Z",
            "20060104T250000Z",
            "2006-1-04T00000Z",
            "+0060104T000000Z",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn time_range_rejects_empty_and_inverted() {
        let a = parse_utc("20060104T000000Z").unwrap();
        let b = parse_utc("20060105T000000Z").unwrap();
        assert!(TimeRange::new(None, None).is_none());
        assert!(TimeRange::new(Some(a), Some(a)).is_none());
        assert!(TimeRange::new(Some(b), Some(a)).is_none());
        let open = TimeRange::new(Some(a), None).unwrap();
        assert_eq!(open.end(), None);
        assert_eq!(open.to_string(), "start=20060104T000000Z");
    }

    #[test]
    fn builders_nest() {
        let f = Filter::component(
            CompFilter::new("VEVENT")
                .prop(PropFilter::new("UID").text_match(TextMatch::new("x").negate(true)))
                .comp(CompFilter::is_not_defined("VALARM")),
        );
        let event = &f.root.comps[0];
        assert_eq!(event.props[0].name, "UID");
        assert!(event.comps[0].is_not_defined);
        assert_eq!(Collation::from_name("i;octet").as_str(), "i;octet");
        assert_eq!(Collation::from_name("x;y"), Collation::Other("x;y".into()));
    }
}
