//! Property value types: RFC 5545 §3.3 (BINARY ... UTC-OFFSET).
//!
//! The model keeps every value as the text that was read ([`crate::Property::raw_value`]), so
//! nothing is lost; these types are typed views of that text with a strict `parse` and a
//! canonical `Display`. Dates and times are built on [`jiff::civil`].
//!
//! ```text
//! date       = date-value          ; YYYYMMDD                          §3.3.4
//! date-time  = date "T" time       ; YYYYMMDDTHHMMSS[Z]                §3.3.5
//! time       = HHMMSS [ "Z" ]                                         §3.3.12
//! dur-value  = (["+"] / "-") "P" (dur-date / dur-time / dur-week)     §3.3.6
//! period     = date-time "/" ( date-time / dur-value )                §3.3.9
//! utc-offset = ("+" / "-") HHMM [SS]                                  §3.3.14
//! ```
//!
//! # Example
//!
//! ```
//! use ical_parse::value::{DateTime, Duration};
//!
//! let start = DateTime::parse("19970714T170000Z").unwrap();
//! assert!(start.utc);
//! assert_eq!(start.civil.hour(), 17);
//! let length = Duration::parse("PT1H30M").unwrap();
//! assert_eq!(length.to_string(), "PT1H30M");
//! ```

mod text;

pub use text::{escape_text, split_list, unescape_text};

use crate::error::{Error, ErrorKind};
use crate::recur::Recur;
use jiff::civil;
use std::borrow::Cow;
use std::fmt;

/// The value types of RFC 5545 §3.3, as named by the `VALUE` parameter.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueType {
    /// `BINARY` (§3.3.1): base64 with `ENCODING=BASE64`.
    Binary,
    /// `BOOLEAN` (§3.3.2).
    Boolean,
    /// `CAL-ADDRESS` (§3.3.3): a URI, usually `mailto:`.
    CalAddress,
    /// `DATE` (§3.3.4).
    Date,
    /// `DATE-TIME` (§3.3.5).
    DateTime,
    /// `DURATION` (§3.3.6).
    Duration,
    /// `FLOAT` (§3.3.7).
    Float,
    /// `INTEGER` (§3.3.8).
    Integer,
    /// `PERIOD` (§3.3.9).
    Period,
    /// `RECUR` (§3.3.10).
    Recur,
    /// `TEXT` (§3.3.11).
    Text,
    /// `TIME` (§3.3.12).
    Time,
    /// `URI` (§3.3.13).
    Uri,
    /// `UTC-OFFSET` (§3.3.14).
    UtcOffset,
    /// A type this crate does not know (an IANA or X- name): the value is kept as written.
    Unknown,
}

impl ValueType {
    /// The name as written in a `VALUE` parameter (`unknown` for [`ValueType::Unknown`]).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Binary => "BINARY",
            ValueType::Boolean => "BOOLEAN",
            ValueType::CalAddress => "CAL-ADDRESS",
            ValueType::Date => "DATE",
            ValueType::DateTime => "DATE-TIME",
            ValueType::Duration => "DURATION",
            ValueType::Float => "FLOAT",
            ValueType::Integer => "INTEGER",
            ValueType::Period => "PERIOD",
            ValueType::Recur => "RECUR",
            ValueType::Text => "TEXT",
            ValueType::Time => "TIME",
            ValueType::Uri => "URI",
            ValueType::UtcOffset => "UTC-OFFSET",
            ValueType::Unknown => "unknown",
        }
    }

    /// The type a `VALUE` parameter names (case-insensitive); [`ValueType::Unknown`] for any
    /// other name.
    #[must_use]
    pub fn from_name(name: &str) -> ValueType {
        use ValueType as T;
        // The names as written nearly always: compared whole (short constants, no call).
        match name {
            "DATE" => return T::Date,
            "DATE-TIME" => return T::DateTime,
            "TEXT" => return T::Text,
            "URI" => return T::Uri,
            _ => {}
        }
        // The types whose names have this length: at most three, one comparison each.
        let candidates: &[ValueType] = match name.len() {
            3 => &[T::Uri],
            4 => &[T::Date, T::Text, T::Time],
            5 => &[T::Float, T::Recur],
            6 => &[T::Binary, T::Period],
            7 => &[T::Boolean, T::Integer],
            8 => &[T::Duration],
            9 => &[T::DateTime],
            10 => &[T::UtcOffset],
            11 => &[T::CalAddress],
            _ => &[],
        };
        candidates
            .iter()
            .copied()
            .find(|t| t.as_str() == name || t.as_str().eq_ignore_ascii_case(name))
            .unwrap_or(ValueType::Unknown)
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn invalid(value_type: ValueType, offset: usize, reason: &'static str) -> Error {
    Error::in_value(offset, ErrorKind::InvalidValue { value_type, reason })
}

/// Reads exactly `n` ASCII digits at `at`.
fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v: u32 = 0;
    for i in at..at.checked_add(n)? {
        let b = *s.get(i)?;
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

/// A DATE value (§3.3.4): `YYYYMMDD`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub civil::Date);

impl Date {
    /// Reads a DATE value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] when the text is not eight digits naming a real date.
    ///
    /// # Example
    ///
    /// ```
    /// let d = ical_parse::value::Date::parse("19970714").unwrap();
    /// assert_eq!(d.0, jiff::civil::date(1997, 7, 14));
    /// ```
    pub fn parse(text: &str) -> Result<Date, Error> {
        let s = text.as_bytes();
        if s.len() != 8 {
            return Err(invalid(ValueType::Date, 0, "expected YYYYMMDD"));
        }
        parse_date(s, ValueType::Date).map(Date)
    }
}

fn parse_date(s: &[u8], value_type: ValueType) -> Result<civil::Date, Error> {
    let (Some(y), Some(m), Some(d)) = (digits(s, 0, 4), digits(s, 4, 2), digits(s, 6, 2)) else {
        return Err(invalid(value_type, 0, "expected YYYYMMDD"));
    };
    let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(y), i8::try_from(m), i8::try_from(d)) else {
        return Err(invalid(value_type, 0, "no such date"));
    };
    civil::Date::new(y, m, d).map_err(|_| invalid(value_type, 0, "no such date"))
}

fn parse_time(s: &[u8], at: usize, value_type: ValueType) -> Result<civil::Time, Error> {
    let (Some(h), Some(m), Some(sec)) =
        (digits(s, at, 2), digits(s, at + 2, 2), digits(s, at + 4, 2))
    else {
        return Err(invalid(value_type, at, "expected HHMMSS"));
    };
    // §3.3.12 allows second 60 for a leap second; civil time has none, so it reads as :59.
    let sec = if sec == 60 { 59 } else { sec };
    let (Ok(h), Ok(m), Ok(sec)) = (i8::try_from(h), i8::try_from(m), i8::try_from(sec)) else {
        return Err(invalid(value_type, at, "no such time"));
    };
    civil::Time::new(h, m, sec, 0).map_err(|_| invalid(value_type, at, "no such time"))
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date(f, self.0)
    }
}

fn write_date(f: &mut fmt::Formatter<'_>, d: civil::Date) -> fmt::Result {
    write!(f, "{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

fn write_time(f: &mut fmt::Formatter<'_>, t: civil::Time) -> fmt::Result {
    write!(f, "{:02}{:02}{:02}", t.hour(), t.minute(), t.second())
}

/// A DATE-TIME value (§3.3.5): floating (`19980118T230000`) or UTC (`19980119T070000Z`).
///
/// A time zone, when the value has one, is the `TZID` parameter of its property; see
/// [`crate::Property::date_time`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DateTime {
    /// The date and time as written.
    pub civil: civil::DateTime,
    /// Whether the value ends in `Z` (UTC).
    pub utc: bool,
}

impl DateTime {
    /// A floating date-time.
    #[must_use]
    pub fn floating(civil: civil::DateTime) -> DateTime {
        DateTime { civil, utc: false }
    }

    /// A UTC date-time.
    #[must_use]
    pub fn utc(civil: civil::DateTime) -> DateTime {
        DateTime { civil, utc: true }
    }

    /// Reads a DATE-TIME value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] when the text is not `YYYYMMDDTHHMMSS` with an optional `Z`,
    /// or names no real date or time.
    ///
    /// # Example
    ///
    /// ```
    /// let t = ical_parse::value::DateTime::parse("19980118T230000").unwrap();
    /// assert!(!t.utc);
    /// assert_eq!(t.to_string(), "19980118T230000");
    /// ```
    pub fn parse(text: &str) -> Result<DateTime, Error> {
        let s = text.as_bytes();
        let utc = match s.len() {
            15 => false,
            16 if s.get(15) == Some(&b'Z') => true,
            _ => {
                return Err(invalid(
                    ValueType::DateTime,
                    0,
                    "expected YYYYMMDDTHHMMSS[Z]",
                ));
            }
        };
        if s.get(8) != Some(&b'T') {
            return Err(invalid(ValueType::DateTime, 8, "expected T"));
        }
        let date = parse_date(s, ValueType::DateTime)?;
        let time = parse_time(s, 9, ValueType::DateTime)?;
        Ok(DateTime {
            civil: date.to_datetime(time),
            utc,
        })
    }
}

/// Whether `text` is a DATE-TIME [`DateTime::parse`] accepts, decided without building it
/// (the check of every DTSTART, DTEND and DTSTAMP a parse reads): `false` may also mean the
/// caller should ask [`DateTime::parse`] for the error.
pub(crate) fn is_date_time(text: &str) -> bool {
    let s = text.as_bytes();
    let Some((date, rest)) = s.split_first_chunk::<8>() else {
        return false;
    };
    let Some((&b'T', rest)) = rest.split_first() else {
        return false;
    };
    let Some((&[t0, t1, t2, t3, t4, t5], rest)) = rest.split_first_chunk::<6>() else {
        return false;
    };
    if !matches!(rest, [] | [b'Z']) {
        return false;
    }
    // The date's eight digits and the time's six are each checked as one word.
    let time = u64::from_le_bytes([t0, t1, t2, t3, t4, t5, b'0', b'0']);
    if !is_date_word(u64::from_le_bytes(*date)) || !all_digits(time) {
        return false;
    }
    // Second 60 (a leap second) reads as 59, see `parse_time`.
    digit(time, 0) * 10 + digit(time, 1) < 24
        && digit(time, 2) * 10 + digit(time, 3) < 60
        && digit(time, 4) * 10 + digit(time, 5) <= 60
}

/// Whether `text` is a DATE [`Date::parse`] accepts, decided without building it (the
/// check of every `VALUE=DATE` start, end and recurrence id): `false` may also mean the
/// caller should ask [`Date::parse`] for the error.
pub(crate) fn is_date(text: &str) -> bool {
    text.as_bytes()
        .first_chunk::<8>()
        .is_some_and(|date| text.len() == 8 && is_date_word(u64::from_le_bytes(*date)))
}

/// The value of the ASCII digit at byte `i` of `word` (its low four bits).
fn digit(word: u64, i: u32) -> u32 {
    ((word >> (8 * i)) & 0x0F) as u32
}

/// Whether the eight bytes of `date` are `YYYYMMDD` digits of a day of the proleptic
/// Gregorian calendar.
fn is_date_word(date: u64) -> bool {
    if !all_digits(date) {
        return false;
    }
    let n = |i| digit(date, i);
    let (month, day) = (n(4) * 10 + n(5), n(6) * 10 + n(7));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        // The year only matters in February.
        2 => {
            let year = n(0) * 1000 + n(1) * 100 + n(2) * 10 + n(3);
            if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) {
                29
            } else {
                28
            }
        }
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Whether each of the eight bytes of `word` is an ASCII digit.
fn all_digits(word: u64) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    // For bytes below 0x80 no sum carries into the next byte: adding 0x50 sets a byte's
    // high bit from 0x30 on, adding 0x46 from 0x3A on.
    word & HIGH == 0
        && word.wrapping_add(ONES * 0x50) & !word.wrapping_add(ONES * 0x46) & HIGH == HIGH
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date(f, self.civil.date())?;
        f.write_str("T")?;
        write_time(f, self.civil.time())?;
        if self.utc {
            f.write_str("Z")?;
        }
        Ok(())
    }
}

/// A TIME value (§3.3.12): `HHMMSS` with an optional `Z`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Time {
    /// The time as written.
    pub civil: civil::Time,
    /// Whether the value ends in `Z` (UTC).
    pub utc: bool,
}

impl Time {
    /// Reads a TIME value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] when the text is not `HHMMSS[Z]` naming a real time.
    pub fn parse(text: &str) -> Result<Time, Error> {
        let s = text.as_bytes();
        let utc = match s.len() {
            6 => false,
            7 if s.get(6) == Some(&b'Z') => true,
            _ => return Err(invalid(ValueType::Time, 0, "expected HHMMSS[Z]")),
        };
        Ok(Time {
            civil: parse_time(s, 0, ValueType::Time)?,
            utc,
        })
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_time(f, self.civil)?;
        if self.utc {
            f.write_str("Z")?;
        }
        Ok(())
    }
}

/// A DATE or a DATE-TIME: what DTSTART, DTEND, DUE, RECURRENCE-ID, EXDATE and RDATE hold.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DateOrDateTime {
    /// A DATE (`VALUE=DATE`): an all-day value.
    Date(Date),
    /// A DATE-TIME.
    DateTime(DateTime),
}

impl DateOrDateTime {
    /// Reads a DATE-TIME, or a DATE when the text has no time part.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] when the text is neither.
    pub fn parse(text: &str) -> Result<DateOrDateTime, Error> {
        if text.len() == 8 {
            Date::parse(text).map(DateOrDateTime::Date)
        } else {
            DateTime::parse(text).map(DateOrDateTime::DateTime)
        }
    }

    /// The civil date-time (a DATE reads as its midnight).
    #[must_use]
    pub fn civil(&self) -> civil::DateTime {
        match self {
            DateOrDateTime::Date(d) => d.0.to_datetime(civil::Time::midnight()),
            DateOrDateTime::DateTime(t) => t.civil,
        }
    }

    /// Whether this is a DATE.
    #[must_use]
    pub fn is_date(&self) -> bool {
        matches!(self, DateOrDateTime::Date(_))
    }
}

impl fmt::Display for DateOrDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateOrDateTime::Date(d) => d.fmt(f),
            DateOrDateTime::DateTime(t) => t.fmt(f),
        }
    }
}

/// A date or date-time property value with the time zone its property names.
///
/// Returned by [`crate::Property::date_time`]: the value, plus the `TZID` parameter when the
/// property has one (RFC 5545 §3.2.19). A UTC or DATE value with a TZID is a deviation a
/// lenient parse reports; the TZID is kept here as written.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Zoned<'a> {
    /// The value.
    pub value: DateOrDateTime,
    /// The `TZID` parameter, if any.
    pub tzid: Option<&'a str>,
}

/// A DURATION value (§3.3.6): nominal weeks and days plus exact hours, minutes and seconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Duration {
    /// Whether the duration is negative (a leading `-`).
    pub negative: bool,
    /// Weeks (`P2W`).
    pub weeks: u32,
    /// Days (`P1D`).
    pub days: u32,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u32,
    /// Seconds.
    pub seconds: u32,
}

impl Duration {
    /// Reads a DURATION value.
    ///
    /// Accepts the units in §3.3.6's order, each at most once; a week count stands alone.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] on anything else, or on a number above `u32::MAX`.
    ///
    /// # Example
    ///
    /// ```
    /// let d = ical_parse::value::Duration::parse("-P1DT2H").unwrap();
    /// assert_eq!(d.signed_seconds(), -(86_400 + 7_200));
    /// ```
    pub fn parse(text: &str) -> Result<Duration, Error> {
        let bad = |at, reason| invalid(ValueType::Duration, at, reason);
        let s = text.as_bytes();
        let mut d = Duration::default();
        let mut i = 0;
        match s.first() {
            Some(b'-') => {
                d.negative = true;
                i = 1;
            }
            Some(b'+') => i = 1,
            _ => {}
        }
        if s.get(i) != Some(&b'P') {
            return Err(bad(i, "expected P"));
        }
        i += 1;
        // Units in order: W | D [T H M S]; `rank` is the last unit seen.
        let mut rank = 0u8;
        let mut in_time = false;
        let mut any = false;
        while i < s.len() {
            if s.get(i) == Some(&b'T') {
                if in_time || rank > 2 {
                    return Err(bad(i, "unexpected T"));
                }
                in_time = true;
                rank = 2;
                i += 1;
                if i >= s.len() {
                    return Err(bad(i, "expected a time after T"));
                }
                continue;
            }
            let start = i;
            let mut n: u32 = 0;
            while let Some(b) = s.get(i).filter(|b| b.is_ascii_digit()) {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u32::from(b - b'0')))
                    .ok_or_else(|| bad(start, "number too large"))?;
                i += 1;
            }
            if i == start {
                return Err(bad(i, "expected a number"));
            }
            let (unit_rank, slot) = match (s.get(i), in_time) {
                (Some(b'W'), false) => (1, &mut d.weeks),
                (Some(b'D'), false) => (2, &mut d.days),
                (Some(b'H'), true) => (3, &mut d.hours),
                (Some(b'M'), true) => (4, &mut d.minutes),
                (Some(b'S'), true) => (5, &mut d.seconds),
                _ => return Err(bad(i, "expected a unit (W, D, H, M, S)")),
            };
            if unit_rank <= rank || (rank == 1) {
                return Err(bad(i, "unit out of order"));
            }
            *slot = n;
            rank = unit_rank;
            any = true;
            i += 1;
        }
        if !any {
            return Err(bad(i, "expected a number"));
        }
        Ok(d)
    }

    /// The nominal days (weeks count 7) this duration adds, with its sign.
    #[must_use]
    pub fn signed_days(&self) -> i64 {
        let days = i64::from(self.weeks) * 7 + i64::from(self.days);
        if self.negative { -days } else { days }
    }

    /// The exact seconds of the time part, with its sign (days not included).
    #[must_use]
    pub fn signed_time_seconds(&self) -> i64 {
        let secs =
            i64::from(self.hours) * 3600 + i64::from(self.minutes) * 60 + i64::from(self.seconds);
        if self.negative { -secs } else { secs }
    }

    /// The whole duration in seconds, reading a day as 86,400 seconds (right for UTC and
    /// floating times; across a DST change a day is nominal, see [`Duration::signed_days`]).
    #[must_use]
    pub fn signed_seconds(&self) -> i64 {
        self.signed_days() * 86_400 + self.signed_time_seconds()
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str("P")?;
        let time = self.hours != 0 || self.minutes != 0 || self.seconds != 0;
        if self.weeks == 0 && self.days == 0 && !time {
            return f.write_str("T0S");
        }
        if self.weeks != 0 && self.days == 0 && !time {
            return write!(f, "{}W", self.weeks);
        }
        let days = u64::from(self.weeks) * 7 + u64::from(self.days);
        if days != 0 || !time {
            write!(f, "{days}D")?;
        }
        if time {
            f.write_str("T")?;
            // §3.3.6 lets a unit be left out only at the ends of the time part.
            let first = if self.hours != 0 {
                3
            } else if self.minutes != 0 {
                4
            } else {
                5
            };
            let last = if self.seconds != 0 {
                5
            } else if self.minutes != 0 {
                4
            } else {
                3
            };
            if first <= 3 && last >= 3 {
                write!(f, "{}H", self.hours)?;
            }
            if first <= 4 && last >= 4 {
                write!(f, "{}M", self.minutes)?;
            }
            if last >= 5 {
                write!(f, "{}S", self.seconds)?;
            }
        }
        Ok(())
    }
}

/// The end of a [`Period`]: an explicit end or a duration.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PeriodEnd {
    /// `start/end`.
    End(DateTime),
    /// `start/duration`.
    Duration(Duration),
}

/// A PERIOD value (§3.3.9): `start/end` or `start/duration`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    /// The start.
    pub start: DateTime,
    /// The end or the length.
    pub end: PeriodEnd,
}

impl Period {
    /// Reads a PERIOD value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] when the text is not `DATE-TIME/DATE-TIME` or
    /// `DATE-TIME/DURATION`.
    ///
    /// # Example
    ///
    /// ```
    /// let p = ical_parse::value::Period::parse("19970308T160000Z/PT8H30M").unwrap();
    /// assert_eq!(p.to_string(), "19970308T160000Z/PT8H30M");
    /// ```
    pub fn parse(text: &str) -> Result<Period, Error> {
        let Some((start, end)) = text.split_once('/') else {
            return Err(invalid(ValueType::Period, 0, "expected start/end"));
        };
        let start = DateTime::parse(start).map_err(|e| shift(e, ValueType::Period, 0))?;
        let at = text.len() - end.len();
        let end = if matches!(end.as_bytes().first(), Some(b'P' | b'+' | b'-')) {
            PeriodEnd::Duration(Duration::parse(end).map_err(|e| shift(e, ValueType::Period, at))?)
        } else {
            PeriodEnd::End(DateTime::parse(end).map_err(|e| shift(e, ValueType::Period, at))?)
        };
        Ok(Period { start, end })
    }
}

fn shift(mut error: Error, value_type: ValueType, by: usize) -> Error {
    error.column = error
        .column
        .saturating_add(u32::try_from(by).unwrap_or(u32::MAX));
    if let ErrorKind::InvalidValue { reason, .. } = error.kind {
        error.kind = ErrorKind::InvalidValue { value_type, reason };
    }
    error
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/", self.start)?;
        match &self.end {
            PeriodEnd::End(e) => e.fmt(f),
            PeriodEnd::Duration(d) => d.fmt(f),
        }
    }
}

/// A UTC-OFFSET value (§3.3.14): `+HHMM` or `-HHMMSS`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct UtcOffset {
    /// The offset from UTC in seconds, east positive.
    pub seconds: i32,
}

impl UtcOffset {
    /// Reads a UTC-OFFSET value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] when the text is not a sign and four or six digits, or
    /// is `-0000` (which §3.3.14 forbids).
    ///
    /// # Example
    ///
    /// ```
    /// let o = ical_parse::value::UtcOffset::parse("-0500").unwrap();
    /// assert_eq!(o.seconds, -5 * 3600);
    /// assert_eq!(o.to_jiff().seconds(), -5 * 3600);
    /// ```
    pub fn parse(text: &str) -> Result<UtcOffset, Error> {
        let bad = |at, reason| invalid(ValueType::UtcOffset, at, reason);
        let s = text.as_bytes();
        let negative = match s.first() {
            Some(b'+') => false,
            Some(b'-') => true,
            _ => return Err(bad(0, "expected + or -")),
        };
        let (Some(h), Some(m)) = (digits(s, 1, 2), digits(s, 3, 2)) else {
            return Err(bad(1, "expected HHMM"));
        };
        let sec = match s.len() {
            5 => 0,
            7 => digits(s, 5, 2).ok_or_else(|| bad(5, "expected SS"))?,
            _ => return Err(bad(0, "expected +HHMM[SS]")),
        };
        if m > 59 || sec > 59 || h > 25 {
            return Err(bad(1, "out of range"));
        }
        let total = i32::try_from(h * 3600 + m * 60 + sec).unwrap_or(0);
        if negative && total == 0 {
            return Err(bad(0, "-0000 is not allowed"));
        }
        Ok(UtcOffset {
            seconds: if negative { -total } else { total },
        })
    }

    /// The offset as a [`jiff::tz::Offset`] (saturating to jiff's ±25:59:59 range).
    #[must_use]
    pub fn to_jiff(self) -> jiff::tz::Offset {
        jiff::tz::Offset::from_seconds(self.seconds.clamp(-93_599, 93_599))
            .unwrap_or(jiff::tz::Offset::UTC)
    }
}

impl fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.seconds < 0 { '-' } else { '+' };
        let a = self.seconds.unsigned_abs();
        write!(f, "{sign}{:02}{:02}", a / 3600, a / 60 % 60)?;
        if !a.is_multiple_of(60) {
            write!(f, "{:02}", a % 60)?;
        }
        Ok(())
    }
}

/// Reads a BOOLEAN value (§3.3.2): `TRUE` or `FALSE`, case-insensitive.
///
/// # Errors
///
/// [`ErrorKind::InvalidValue`] on anything else.
pub fn parse_boolean(text: &str) -> Result<bool, Error> {
    if text.eq_ignore_ascii_case("TRUE") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("FALSE") {
        Ok(false)
    } else {
        Err(invalid(ValueType::Boolean, 0, "expected TRUE or FALSE"))
    }
}

/// Reads an INTEGER value (§3.3.8): an optional sign and digits, within `i32`.
///
/// # Errors
///
/// [`ErrorKind::InvalidValue`] on anything else.
pub fn parse_integer(text: &str) -> Result<i32, Error> {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(ValueType::Integer, 0, "expected digits"));
    }
    text.parse()
        .map_err(|_| invalid(ValueType::Integer, 0, "out of range"))
}

/// Reads a FLOAT value (§3.3.7): an optional sign, digits, optionally `.` and digits.
///
/// # Errors
///
/// [`ErrorKind::InvalidValue`] on anything else.
pub fn parse_float(text: &str) -> Result<f64, Error> {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) {
        return Err(invalid(ValueType::Float, 0, "expected digits[.digits]"));
    }
    text.parse()
        .map_err(|_| invalid(ValueType::Float, 0, "out of range"))
}

/// Decodes a BINARY value (§3.3.1, base64 of RFC 4648 with padding).
///
/// # Errors
///
/// [`ErrorKind::InvalidValue`] on a character outside the base64 alphabet or bad padding.
pub fn decode_binary(text: &str) -> Result<Vec<u8>, Error> {
    let bad = |at| invalid(ValueType::Binary, at, "invalid base64");
    let s = text.as_bytes();
    if !s.len().is_multiple_of(4) {
        return Err(bad(s.len()));
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (n, chunk) in s.chunks(4).enumerate() {
        let last = (n + 1) * 4 == s.len();
        let mut acc: u32 = 0;
        let mut pad = 0;
        for (i, &b) in chunk.iter().enumerate() {
            let v = match b {
                b'A'..=b'Z' => b - b'A',
                b'a'..=b'z' => b - b'a' + 26,
                b'0'..=b'9' => b - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' if last && i >= 2 => {
                    pad += 1;
                    0
                }
                _ => return Err(bad(n * 4 + i)),
            };
            if pad > 0 && b != b'=' {
                return Err(bad(n * 4 + i));
            }
            acc = (acc << 6) | u32::from(v);
        }
        let bytes = acc.to_be_bytes();
        out.extend(bytes.iter().skip(1).take(3 - pad));
    }
    Ok(out)
}

/// Encodes bytes as a BINARY value (base64 with padding).
#[must_use]
pub fn encode_binary(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(
                    ALPHABET.get(idx as usize).copied().unwrap_or(b'A'),
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One typed value of a property (a multi-valued property has several).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// BINARY, decoded.
    Binary(Vec<u8>),
    /// BOOLEAN.
    Boolean(bool),
    /// CAL-ADDRESS, as written.
    CalAddress(&'a str),
    /// DATE.
    Date(Date),
    /// DATE-TIME.
    DateTime(DateTime),
    /// DURATION.
    Duration(Duration),
    /// FLOAT.
    Float(f64),
    /// INTEGER.
    Integer(i32),
    /// PERIOD.
    Period(Period),
    /// RECUR, fully parsed.
    Recur(Box<Recur>),
    /// TEXT, unescaped.
    Text(Cow<'a, str>),
    /// TIME.
    Time(Time),
    /// URI, as written.
    Uri(&'a str),
    /// UTC-OFFSET.
    UtcOffset(UtcOffset),
    /// A value of an unknown type, as written.
    Unknown(&'a str),
}

impl<'a> Value<'a> {
    /// Reads one value (one element of a list) of `value_type`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] or [`ErrorKind::Recur`] when the text does not follow the
    /// type's grammar.
    pub fn parse(value_type: ValueType, text: &'a str) -> Result<Value<'a>, Error> {
        Ok(match value_type {
            ValueType::Binary => Value::Binary(decode_binary(text)?),
            ValueType::Boolean => Value::Boolean(parse_boolean(text)?),
            ValueType::CalAddress => Value::CalAddress(text),
            ValueType::Date => Value::Date(Date::parse(text)?),
            ValueType::DateTime => Value::DateTime(DateTime::parse(text)?),
            ValueType::Duration => Value::Duration(Duration::parse(text)?),
            ValueType::Float => Value::Float(parse_float(text)?),
            ValueType::Integer => Value::Integer(parse_integer(text)?),
            ValueType::Period => Value::Period(Period::parse(text)?),
            ValueType::Recur => Value::Recur(Box::new(
                Recur::parse(text).map_err(|e| Error::in_value(e.offset, ErrorKind::Recur(e)))?,
            )),
            ValueType::Text => Value::Text(unescape_text(text)),
            ValueType::Time => Value::Time(Time::parse(text)?),
            ValueType::Uri => Value::Uri(text),
            ValueType::UtcOffset => Value::UtcOffset(UtcOffset::parse(text)?),
            ValueType::Unknown => Value::Unknown(text),
        })
    }

    /// The value's type.
    #[must_use]
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Binary(_) => ValueType::Binary,
            Value::Boolean(_) => ValueType::Boolean,
            Value::CalAddress(_) => ValueType::CalAddress,
            Value::Date(_) => ValueType::Date,
            Value::DateTime(_) => ValueType::DateTime,
            Value::Duration(_) => ValueType::Duration,
            Value::Float(_) => ValueType::Float,
            Value::Integer(_) => ValueType::Integer,
            Value::Period(_) => ValueType::Period,
            Value::Recur(_) => ValueType::Recur,
            Value::Text(_) => ValueType::Text,
            Value::Time(_) => ValueType::Time,
            Value::Uri(_) => ValueType::Uri,
            Value::UtcOffset(_) => ValueType::UtcOffset,
            Value::Unknown(_) => ValueType::Unknown,
        }
    }
}

impl fmt::Display for Value<'_> {
    /// Writes the value as property text (TEXT escaped, BINARY base64).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Binary(b) => f.write_str(&encode_binary(b)),
            Value::Boolean(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Value::CalAddress(s) | Value::Uri(s) | Value::Unknown(s) => f.write_str(s),
            Value::Date(d) => d.fmt(f),
            Value::DateTime(d) => d.fmt(f),
            Value::Duration(d) => d.fmt(f),
            Value::Float(x) => write!(f, "{x}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Period(p) => p.fmt(f),
            Value::Recur(r) => r.fmt(f),
            Value::Text(t) => f.write_str(&escape_text(t)),
            Value::Time(t) => t.fmt(f),
            Value::UtcOffset(o) => o.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The quick check of a DATE-TIME agrees with the parse.
        #[test]
        fn is_date_time_agrees_with_the_parse(
            text in "[0-9]{4}[01][0-9][0-3][0-9]T[0-6][0-9][0-6][0-9][0-6][0-9]Z?|[0-9TZ]{14,17}",
        ) {
            proptest::prop_assert_eq!(is_date_time(&text), DateTime::parse(&text).is_ok(), "{}", text);
        }

        /// The quick check of a DATE agrees with the parse.
        #[test]
        fn is_date_agrees_with_the_parse(
            text in "[0-9]{4}[01][0-9][0-3][0-9]|[0-9]{7,9}|[0-9T/:Z -]{0,10}",
        ) {
            proptest::prop_assert_eq!(is_date(&text), Date::parse(&text).is_ok(), "{}", text);
        }
    }

    #[test]
    fn is_date_knows_the_calendar() {
        for (text, ok) in [
            ("20240229", true),
            ("20230229", false),
            ("19000229", false),
            ("20000229", true),
            ("20241131", false),
            ("20241301", false),
            ("20240100", false),
            ("2024010", false),
            ("202401011", false),
            ("2024-1-1", false),
            ("20240101T000000", false),
        ] {
            assert_eq!(is_date(text), ok, "{text}");
            assert_eq!(Date::parse(text).is_ok(), ok, "{text}");
        }
    }

    /// Every byte that is not a digit, at every digit's place, fails the check as it fails
    /// the parse.
    #[test]
    fn is_date_time_refuses_every_other_byte_in_every_digit() {
        for at in (0..8).chain(9..15) {
            for byte in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
                let mut text = b"20240229T235960Z".to_vec();
                text[at] = byte;
                let Ok(text) = String::from_utf8(text) else {
                    continue;
                };
                assert!(!is_date_time(&text), "{text:?}");
                assert!(DateTime::parse(&text).is_err(), "{text:?}");
            }
        }
    }

    #[test]
    fn is_date_time_knows_the_calendar() {
        for (text, ok) in [
            ("20240229T000000", true),
            ("20230229T000000", false),
            ("20000229T235960Z", true),
            ("19000229T000000", false),
            ("00000229T000000", true),
            ("20241231T240000", false),
            ("20241131T000000", false),
            ("20241000T000000", false),
            ("20240101T000000z", false),
            ("20240101 000000", false),
        ] {
            assert_eq!(is_date_time(text), ok, "{text}");
            assert_eq!(DateTime::parse(text).is_ok(), ok, "{text}");
        }
    }

    #[test]
    fn date_time_forms() {
        let t = DateTime::parse("19970714T173000Z").unwrap();
        assert!(t.utc);
        assert_eq!(t.to_string(), "19970714T173000Z");
        assert!(DateTime::parse("19970714T1730").is_err());
        assert!(DateTime::parse("19970230T000000").is_err());
        assert!(DateTime::parse("19970714 173000").is_err());
        assert_eq!(
            DateTime::parse("19981231T235960Z").unwrap().civil.second(),
            59
        );
        assert!(Date::parse("2024022").is_err());
        assert_eq!(Date::parse("20240229").unwrap().to_string(), "20240229");
        assert!(Date::parse("20230229").is_err());
        assert_eq!(Time::parse("070000Z").unwrap().to_string(), "070000Z");
        assert!(Time::parse("250000").is_err());
    }

    #[test]
    fn durations() {
        for (text, canon) in [
            ("P15DT5H0M20S", "P15DT5H0M20S"),
            ("P7W", "P7W"),
            ("PT1H0M0S", "PT1H"),
            ("-PT15M", "-PT15M"),
            ("+P1D", "P1D"),
            ("PT0S", "PT0S"),
            ("P0D", "PT0S"),
            ("PT1H30S", "PT1H0M30S"),
        ] {
            let d = Duration::parse(text).unwrap();
            assert_eq!(d.to_string(), canon, "{text}");
            assert_eq!(Duration::parse(canon).unwrap(), d, "{canon}");
        }
        for bad in [
            "",
            "P",
            "PT",
            "P1H",
            "PT1D",
            "P1W2D",
            "P1DT",
            "PT1M1H",
            "1D",
            "P99999999999D",
        ] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Duration::parse("P1W").unwrap().signed_seconds(), 7 * 86_400);
    }

    #[test]
    fn periods_offsets_scalars() {
        let p = Period::parse("19970101T180000Z/19970102T070000Z").unwrap();
        assert!(matches!(p.end, PeriodEnd::End(_)));
        let e = Period::parse("19970101T180000Z/PX").unwrap_err();
        assert_eq!(e.column, 19);
        assert_eq!(UtcOffset::parse("+013015").unwrap().to_string(), "+013015");
        assert!(UtcOffset::parse("-0000").is_err());
        assert!(UtcOffset::parse("+0160").is_err());
        assert_eq!(parse_integer("-12").unwrap(), -12);
        assert!(parse_integer("1.5").is_err());
        assert!(parse_integer("99999999999").is_err());
        assert_eq!(parse_float("+1.5").unwrap(), 1.5);
        assert!(parse_float("1.").is_err());
        assert!(parse_boolean("true").unwrap());
        assert!(parse_boolean("yes").is_err());
    }

    #[test]
    fn base64_round_trip() {
        for n in 0..10u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(decode_binary(&encode_binary(&bytes)).unwrap(), bytes);
        }
        assert_eq!(decode_binary("VGhl").unwrap(), b"The");
        assert!(decode_binary("VGh").is_err());
        assert!(decode_binary("V=hl").is_err());
    }

    #[test]
    fn value_types_by_name() {
        assert_eq!(ValueType::from_name("date-time"), ValueType::DateTime);
        for t in [
            ValueType::Binary,
            ValueType::Boolean,
            ValueType::CalAddress,
            ValueType::Date,
            ValueType::DateTime,
            ValueType::Duration,
            ValueType::Float,
            ValueType::Integer,
            ValueType::Period,
            ValueType::Recur,
            ValueType::Text,
            ValueType::Time,
            ValueType::Uri,
            ValueType::UtcOffset,
        ] {
            assert_eq!(ValueType::from_name(t.as_str()), t);
            assert_eq!(ValueType::from_name(&t.as_str().to_lowercase()), t);
            assert_eq!(ValueType::from_name(&format!("{t}S")), ValueType::Unknown);
        }
        assert_eq!(ValueType::from_name("unknown"), ValueType::Unknown);
        assert_eq!(ValueType::from_name("X-FOO"), ValueType::Unknown);
    }
}
