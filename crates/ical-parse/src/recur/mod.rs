//! The RECUR value type: RFC 5545 §3.3.10, with RFC 7529 `RSCALE` and `SKIP`.
//!
//! [`Recur::parse`] reads an `RRULE`/`EXRULE` value with the strict grammar of §3.3.10 (names
//! and enumerated values are case-insensitive, parts may come in any order, one trailing `;` is
//! forgiven because many producers write it) and [`Recur`]'s `Display` writes the canonical
//! form: `FREQ` first (as §3.3.10 asks for compatibility), then the parts in the order of the
//! RFC's grammar, then unknown parts in the order they were read.
//!
//! ```text
//! recur           = recur-rule-part *( ";" recur-rule-part )
//! recur-rule-part = ( "FREQ" "=" freq ) / ( "UNTIL" "=" enddate ) / ( "COUNT" "=" 1*DIGIT )
//!                 / ( "INTERVAL" "=" 1*DIGIT ) / ( "BYSECOND" "=" byseclist ) / ...
//!                 / ( "WKST" "=" weekday )
//! ```
//!
//! The iterator over a rule's civil date-times lives in [`iter`]; time zones and the instance
//! set of a whole component (RDATE, EXDATE, overrides) live in `crate::expand`.

pub(crate) mod civil;
pub mod iter;

use jiff::civil::{Date, DateTime, Weekday};
use std::fmt;
use std::str::FromStr;

pub use iter::{RecurIter, RecurLimits};

/// A rule in a calendar scale this crate does not expand (RFC 7529 `RSCALE` other than
/// `GREGORIAN`, such as `HEBREW` or `CHINESE`).
///
/// Expanding such a rule as if it were Gregorian would produce wrong dates, so
/// [`RecurIter::try_new`] refuses it, and [`RecurIter::new`] and [`crate::expand::expand`]
/// keep DTSTART as the only instance and report it
/// ([`RecurIter::unsupported_scale`], [`crate::expand::Expansion::warnings`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[error("unsupported calendar scale {scale:?}")]
#[non_exhaustive]
pub struct UnsupportedScale {
    /// The `RSCALE` value as written.
    pub scale: String,
}

/// The `FREQ` rule part: the unit of the recurrence's periods.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Frequency {
    /// `SECONDLY`.
    Secondly,
    /// `MINUTELY`.
    Minutely,
    /// `HOURLY`.
    Hourly,
    /// `DAILY`.
    Daily,
    /// `WEEKLY`.
    Weekly,
    /// `MONTHLY`.
    Monthly,
    /// `YEARLY`.
    Yearly,
}

impl Frequency {
    /// The name as written in a rule, for example `WEEKLY`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Secondly => "SECONDLY",
            Frequency::Minutely => "MINUTELY",
            Frequency::Hourly => "HOURLY",
            Frequency::Daily => "DAILY",
            Frequency::Weekly => "WEEKLY",
            Frequency::Monthly => "MONTHLY",
            Frequency::Yearly => "YEARLY",
        }
    }

    fn from_name(name: &str) -> Option<Frequency> {
        const ALL: [Frequency; 7] = [
            Frequency::Secondly,
            Frequency::Minutely,
            Frequency::Hourly,
            Frequency::Daily,
            Frequency::Weekly,
            Frequency::Monthly,
            Frequency::Yearly,
        ];
        ALL.into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
    }
}

/// The `UNTIL` rule part: a DATE, a floating DATE-TIME, or a UTC DATE-TIME.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Until {
    /// `UNTIL=19971224`: a DATE.
    Date(Date),
    /// `UNTIL=19971224T000000`: a local (floating) DATE-TIME, valid only with a floating DTSTART.
    Local(DateTime),
    /// `UNTIL=19971224T000000Z`: a UTC DATE-TIME, required when DTSTART has a time zone.
    Utc(DateTime),
}

/// A `BYDAY` entry: a weekday with an optional ordinal (`MO`, `2TU`, `-1FR`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct WeekdayNum {
    /// The ordinal within the month or year, `1..=53` or `-53..=-1`; `None` for every such day.
    pub ordinal: Option<i8>,
    /// The weekday.
    pub weekday: Weekday,
}

/// A `BYMONTH` entry: a month number, with RFC 7529's leap-month suffix `L`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct MonthNum {
    /// The month number, `1..=12` for the Gregorian scale.
    pub month: u8,
    /// RFC 7529's `L` suffix: the leap month after `month` (no Gregorian month matches).
    pub leap: bool,
}

/// RFC 7529's `SKIP` rule part: what to do with an instance on a day that does not exist.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Skip {
    /// `OMIT`: skip the instance (the RFC 5545 behaviour and the default).
    Omit,
    /// `BACKWARD`: move it to the previous valid day (Feb 30 -> Feb 28/29).
    Backward,
    /// `FORWARD`: move it to the next valid day (Feb 30 -> Mar 1).
    Forward,
}

impl Skip {
    /// The name as written in a rule.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::Omit => "OMIT",
            Skip::Backward => "BACKWARD",
            Skip::Forward => "FORWARD",
        }
    }
}

/// A RECUR value (RFC 5545 §3.3.10, RFC 7529): every rule part, unknown parts kept in order.
///
/// # Example
///
/// ```
/// use ical_parse::recur::{Frequency, Recur};
///
/// let rule = Recur::parse("freq=monthly;byday=-1fr;count=3").unwrap();
/// assert_eq!(rule.freq, Frequency::Monthly);
/// assert_eq!(rule.to_string(), "FREQ=MONTHLY;COUNT=3;BYDAY=-1FR");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Recur {
    /// `FREQ`.
    pub freq: Frequency,
    /// `UNTIL`.
    pub until: Option<Until>,
    /// `COUNT` (never together with `UNTIL`).
    pub count: Option<u32>,
    /// `INTERVAL` as written (a positive number); see [`Recur::interval`].
    pub interval: Option<u32>,
    /// `BYSECOND`, `0..=60`.
    pub by_second: Vec<u8>,
    /// `BYMINUTE`, `0..=59`.
    pub by_minute: Vec<u8>,
    /// `BYHOUR`, `0..=23`.
    pub by_hour: Vec<u8>,
    /// `BYDAY`.
    pub by_day: Vec<WeekdayNum>,
    /// `BYMONTHDAY`, `1..=31` or `-31..=-1`.
    pub by_month_day: Vec<i8>,
    /// `BYYEARDAY`, `1..=366` or `-366..=-1`.
    pub by_year_day: Vec<i16>,
    /// `BYWEEKNO`, `1..=53` or `-53..=-1`.
    pub by_week_no: Vec<i8>,
    /// `BYMONTH`.
    pub by_month: Vec<MonthNum>,
    /// `BYSETPOS`, `1..=366` or `-366..=-1`.
    pub by_set_pos: Vec<i16>,
    /// `WKST` as written; see [`Recur::week_start`].
    pub wkst: Option<Weekday>,
    /// RFC 7529 `RSCALE` as written (for example `GREGORIAN`).
    pub rscale: Option<String>,
    /// RFC 7529 `SKIP` (only valid with `RSCALE`).
    pub skip: Option<Skip>,
    /// Unknown rule parts (`X-NAME=value` or IANA tokens), in the order read.
    pub extensions: Vec<(String, String)>,
}

/// Why a RECUR value was rejected, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
#[non_exhaustive]
pub struct RecurError {
    /// Byte offset in the value where the problem starts.
    pub offset: usize,
    /// What is wrong.
    pub kind: RecurErrorKind,
}

/// What is wrong with a RECUR value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecurErrorKind {
    /// The value is empty.
    #[error("empty recurrence rule")]
    Empty,
    /// A rule part is not `NAME=VALUE`.
    #[error("expected NAME=VALUE")]
    ExpectedPart,
    /// There is no `FREQ` part.
    #[error("missing FREQ")]
    MissingFreq,
    /// A rule part appears twice.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// A value does not follow the grammar of its part.
    #[error("invalid {0} value")]
    InvalidValue(&'static str),
    /// A number is outside its part's range.
    #[error("{0} value out of range")]
    OutOfRange(&'static str),
    /// `COUNT` and `UNTIL` are both present.
    #[error("COUNT and UNTIL together")]
    CountAndUntil,
    /// `SKIP` without `RSCALE` (RFC 7529 §4.1).
    #[error("SKIP without RSCALE")]
    SkipWithoutRscale,
}

fn err(offset: usize, kind: RecurErrorKind) -> RecurError {
    RecurError { offset, kind }
}

impl Recur {
    /// A rule with only `FREQ` set.
    #[must_use]
    pub fn new(freq: Frequency) -> Recur {
        Recur {
            freq,
            until: None,
            count: None,
            interval: None,
            by_second: Vec::new(),
            by_minute: Vec::new(),
            by_hour: Vec::new(),
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            by_year_day: Vec::new(),
            by_week_no: Vec::new(),
            by_month: Vec::new(),
            by_set_pos: Vec::new(),
            wkst: None,
            rscale: None,
            skip: None,
            extensions: Vec::new(),
        }
    }

    /// The effective `INTERVAL` (1 when absent).
    #[must_use]
    pub fn interval(&self) -> u32 {
        self.interval.unwrap_or(1)
    }

    /// The effective `WKST` (Monday when absent, as §3.3.10 says).
    #[must_use]
    pub fn week_start(&self) -> Weekday {
        self.wkst.unwrap_or(Weekday::Monday)
    }

    /// The effective `SKIP` (`OMIT` when absent).
    #[must_use]
    pub fn skip(&self) -> Skip {
        self.skip.unwrap_or(Skip::Omit)
    }

    /// Whether the rule uses the Gregorian scale (no `RSCALE`, or `RSCALE=GREGORIAN`), the only
    /// scale [`RecurIter`] expands.
    #[must_use]
    pub fn is_gregorian(&self) -> bool {
        self.rscale
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("GREGORIAN"))
    }

    /// `Ok` when the rule's scale is one [`RecurIter`] expands (Gregorian, RFC 7529).
    ///
    /// # Errors
    ///
    /// [`UnsupportedScale`] for any other `RSCALE` (`HEBREW`, `CHINESE`, ...).
    pub fn check_scale(&self) -> Result<(), UnsupportedScale> {
        match &self.rscale {
            Some(scale) if !self.is_gregorian() => Err(UnsupportedScale {
                scale: scale.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Parse a RECUR value (the text after `RRULE:`).
    ///
    /// # Errors
    ///
    /// A [`RecurError`] with the byte offset of the offending part when the value does not
    /// follow §3.3.10 / RFC 7529: a missing `FREQ`, a duplicate part, a number out of range,
    /// `COUNT` with `UNTIL`, `SKIP` without `RSCALE`.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn parse(input: &str) -> Result<Recur, RecurError> {
        Recur::read::<true>(input)
    }

    /// Whether `input` is a RECUR value, with the same error [`Recur::parse`] gives, without
    /// building the rule (no allocation): what a parse that checks every value needs.
    pub(crate) fn check(input: &str) -> Result<(), RecurError> {
        Recur::read::<false>(input).map(drop)
    }

    /// The grammar of [`Recur::parse`]; lists, extensions and the scale's name are kept only
    /// when `KEEP` (else the rule comes back with them empty).
    fn read<const KEEP: bool>(input: &str) -> Result<Recur, RecurError> {
        let body = input.strip_suffix(';').unwrap_or(input);
        if body.is_empty() {
            return Err(err(0, RecurErrorKind::Empty));
        }
        let mut rule = Recur::new(Frequency::Daily);
        let mut seen_freq = false;
        let mut seen: u32 = 0;
        let mut start = 0usize;
        for part in pieces(body, b';') {
            let offset = start;
            start += part.len() + 1;
            let Some((name, value)) = pieces(part, b'=')
                .next()
                .and_then(|name| Some((name, part.get(name.len() + 1..)?)))
            else {
                return Err(err(offset, RecurErrorKind::ExpectedPart));
            };
            let voff = offset + name.len() + 1;
            // Rule parts are nearly always written in uppercase: an exact match first.
            let Some((bit, (pname, part))) = PARTS
                .iter()
                .position(|(p, _)| *p == name)
                .or_else(|| PARTS.iter().position(|(p, _)| p.eq_ignore_ascii_case(name)))
                .and_then(|i| Some((1u32 << i, *PARTS.get(i)?)))
            else {
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    return Err(err(offset, RecurErrorKind::ExpectedPart));
                }
                if KEEP {
                    rule.extensions.push((name.to_owned(), value.to_owned()));
                }
                continue;
            };
            if seen & bit != 0 {
                return Err(err(offset, RecurErrorKind::Duplicate(pname)));
            }
            seen |= bit;
            let bad = |kind| err(voff, kind);
            // By the part found, not by its name: one comparison of names per part, not two.
            match part {
                Part::Freq => {
                    rule.freq = Frequency::from_name(value)
                        .ok_or_else(|| bad(RecurErrorKind::InvalidValue("FREQ")))?;
                    seen_freq = true;
                }
                Part::Until => {
                    rule.until = Some(
                        parse_until(value)
                            .ok_or_else(|| bad(RecurErrorKind::InvalidValue("UNTIL")))?,
                    );
                }
                Part::Count => rule.count = Some(parse_positive(value, "COUNT").map_err(bad)?),
                Part::Interval => {
                    rule.interval = Some(parse_positive(value, "INTERVAL").map_err(bad)?)
                }
                Part::BySecond => {
                    rule.by_second = list::<KEEP, _>(value, voff, |s| unsigned(s, 60, "BYSECOND"))?
                }
                Part::ByMinute => {
                    rule.by_minute = list::<KEEP, _>(value, voff, |s| unsigned(s, 59, "BYMINUTE"))?
                }
                Part::ByHour => {
                    rule.by_hour = list::<KEEP, _>(value, voff, |s| unsigned(s, 23, "BYHOUR"))?
                }
                Part::ByDay => rule.by_day = list::<KEEP, _>(value, voff, parse_weekday_num)?,
                Part::ByMonthDay => {
                    rule.by_month_day = list::<KEEP, _>(value, voff, |s| {
                        signed(s, 31, "BYMONTHDAY").and_then(|n| {
                            i8::try_from(n).map_err(|_| RecurErrorKind::OutOfRange("BYMONTHDAY"))
                        })
                    })?;
                }
                Part::ByYearDay => {
                    rule.by_year_day =
                        list::<KEEP, _>(value, voff, |s| signed(s, 366, "BYYEARDAY"))?
                }
                Part::ByWeekNo => {
                    rule.by_week_no = list::<KEEP, _>(value, voff, |s| {
                        signed(s, 53, "BYWEEKNO").and_then(|n| {
                            i8::try_from(n).map_err(|_| RecurErrorKind::OutOfRange("BYWEEKNO"))
                        })
                    })?;
                }
                Part::ByMonth => rule.by_month = list::<KEEP, _>(value, voff, parse_month_num)?,
                Part::BySetPos => {
                    rule.by_set_pos = list::<KEEP, _>(value, voff, |s| signed(s, 366, "BYSETPOS"))?
                }
                Part::Wkst => {
                    rule.wkst = Some(
                        weekday_from_name(value)
                            .ok_or_else(|| bad(RecurErrorKind::InvalidValue("WKST")))?,
                    );
                }
                Part::Rscale => {
                    if value.is_empty()
                        || !value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        return Err(bad(RecurErrorKind::InvalidValue("RSCALE")));
                    }
                    rule.rscale = Some(if KEEP {
                        value.to_owned()
                    } else {
                        String::new()
                    });
                }
                Part::Skip => {
                    rule.skip = Some(
                        [
                            ("OMIT", Skip::Omit),
                            ("BACKWARD", Skip::Backward),
                            ("FORWARD", Skip::Forward),
                        ]
                        .into_iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(value))
                        .map(|(_, skip)| skip)
                        .ok_or_else(|| bad(RecurErrorKind::InvalidValue("SKIP")))?,
                    );
                }
            }
        }
        if !seen_freq {
            return Err(err(0, RecurErrorKind::MissingFreq));
        }
        if rule.count.is_some() && rule.until.is_some() {
            return Err(err(0, RecurErrorKind::CountAndUntil));
        }
        if rule.skip.is_some() && rule.rscale.is_none() {
            return Err(err(0, RecurErrorKind::SkipWithoutRscale));
        }
        Ok(rule)
    }
}

/// A rule part the parser knows.
#[derive(Clone, Copy)]
enum Part {
    Freq,
    Until,
    Count,
    Interval,
    BySecond,
    ByMinute,
    ByHour,
    ByDay,
    ByMonthDay,
    ByYearDay,
    ByWeekNo,
    ByMonth,
    BySetPos,
    Wkst,
    Rscale,
    Skip,
}

/// Known rule parts, by name.
const PARTS: [(&str, Part); 16] = [
    ("FREQ", Part::Freq),
    ("UNTIL", Part::Until),
    ("COUNT", Part::Count),
    ("INTERVAL", Part::Interval),
    ("BYSECOND", Part::BySecond),
    ("BYMINUTE", Part::ByMinute),
    ("BYHOUR", Part::ByHour),
    ("BYDAY", Part::ByDay),
    ("BYMONTHDAY", Part::ByMonthDay),
    ("BYYEARDAY", Part::ByYearDay),
    ("BYWEEKNO", Part::ByWeekNo),
    ("BYMONTH", Part::ByMonth),
    ("BYSETPOS", Part::BySetPos),
    ("WKST", Part::Wkst),
    ("RSCALE", Part::Rscale),
    ("SKIP", Part::Skip),
];

impl FromStr for Recur {
    type Err = RecurError;

    fn from_str(s: &str) -> Result<Recur, RecurError> {
        Recur::parse(s)
    }
}

/// The pieces of `s` between the bytes `sep` (ASCII), as `str::split` gives them, found byte by
/// byte: rule parts are a few bytes long, shorter than the setup of a search call.
fn pieces(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| b == sep) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The items of a comma-separated list part, each read by `item`; kept only when `KEEP`
/// (else each is checked and the list comes back empty, without allocating).
fn list<const KEEP: bool, T>(
    value: &str,
    offset: usize,
    mut item: impl FnMut(&str) -> Result<T, RecurErrorKind>,
) -> Result<Vec<T>, RecurError> {
    let mut out = Vec::new();
    let mut at = offset;
    for piece in pieces(value, b',') {
        let read = item(piece).map_err(|kind| err(at, kind))?;
        if KEEP {
            out.push(read);
        }
        at += piece.len() + 1;
    }
    Ok(out)
}

fn digits(s: &str, max_len: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_positive(s: &str, part: &'static str) -> Result<u32, RecurErrorKind> {
    match digits(s, 10) {
        Some(0) => Err(RecurErrorKind::OutOfRange(part)),
        Some(n) => Ok(n),
        None => Err(RecurErrorKind::InvalidValue(part)),
    }
}

fn unsigned(s: &str, max: u8, part: &'static str) -> Result<u8, RecurErrorKind> {
    let n = digits(s, 2).ok_or(RecurErrorKind::InvalidValue(part))?;
    u8::try_from(n)
        .ok()
        .filter(|n| *n <= max)
        .ok_or(RecurErrorKind::OutOfRange(part))
}

fn split_sign(s: &str) -> (i16, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (-1, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (1, rest)
    } else {
        (1, s)
    }
}

fn signed(s: &str, max: i16, part: &'static str) -> Result<i16, RecurErrorKind> {
    let (sign, rest) = split_sign(s);
    let n = digits(rest, 3).ok_or(RecurErrorKind::InvalidValue(part))?;
    let n = i16::try_from(n).map_err(|_| RecurErrorKind::OutOfRange(part))?;
    if n == 0 || n > max {
        return Err(RecurErrorKind::OutOfRange(part));
    }
    Ok(sign * n)
}

fn weekday_from_name(s: &str) -> Option<Weekday> {
    const NAMES: [(&str, Weekday); 7] = [
        ("MO", Weekday::Monday),
        ("TU", Weekday::Tuesday),
        ("WE", Weekday::Wednesday),
        ("TH", Weekday::Thursday),
        ("FR", Weekday::Friday),
        ("SA", Weekday::Saturday),
        ("SU", Weekday::Sunday),
    ];
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, w)| *w)
}

/// The two-letter iCalendar name of a weekday (`MO`..`SU`).
#[must_use]
pub fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "MO",
        Weekday::Tuesday => "TU",
        Weekday::Wednesday => "WE",
        Weekday::Thursday => "TH",
        Weekday::Friday => "FR",
        Weekday::Saturday => "SA",
        Weekday::Sunday => "SU",
    }
}

fn parse_weekday_num(s: &str) -> Result<WeekdayNum, RecurErrorKind> {
    let bad = RecurErrorKind::InvalidValue("BYDAY");
    let split = s.len().checked_sub(2).ok_or(bad.clone())?;
    let (num, day) = (
        s.get(..split).ok_or(bad.clone())?,
        s.get(split..).ok_or(bad.clone())?,
    );
    let weekday = weekday_from_name(day).ok_or(bad)?;
    let ordinal = if num.is_empty() {
        None
    } else {
        let n = signed(num, 53, "BYDAY")?;
        Some(i8::try_from(n).map_err(|_| RecurErrorKind::OutOfRange("BYDAY"))?)
    };
    Ok(WeekdayNum { ordinal, weekday })
}

fn parse_month_num(s: &str) -> Result<MonthNum, RecurErrorKind> {
    let (num, leap) = match s.strip_suffix(['L', 'l']) {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    let month = unsigned(num, 13, "BYMONTH")?;
    if month == 0 || (month == 13 && !leap) {
        return Err(RecurErrorKind::OutOfRange("BYMONTH"));
    }
    Ok(MonthNum { month, leap })
}

fn parse_until(s: &str) -> Option<Until> {
    let num = |range: std::ops::Range<usize>| -> Option<i16> {
        let t = s.get(range)?;
        if t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let date = Date::new(
        num(0..4)?,
        i8::try_from(num(4..6)?).ok()?,
        i8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    match s.len() {
        8 => Some(Until::Date(date)),
        15 | 16 => {
            if !matches!(s.get(8..9), Some("T" | "t")) {
                return None;
            }
            let utc = match s.get(15..) {
                Some("") => false,
                Some("Z" | "z") => true,
                _ => return None,
            };
            let dt = DateTime::from_parts(
                date,
                jiff::civil::Time::new(
                    i8::try_from(num(9..11)?).ok()?,
                    i8::try_from(num(11..13)?).ok()?,
                    i8::try_from(num(13..15)?).ok()?,
                    0,
                )
                .ok()?,
            );
            Some(if utc {
                Until::Utc(dt)
            } else {
                Until::Local(dt)
            })
        }
        _ => None,
    }
}

/// Writes a DATE (`19970902`) in iCalendar form.
pub(crate) fn write_date(f: &mut impl fmt::Write, d: Date) -> fmt::Result {
    write!(f, "{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// Writes a DATE-TIME without its `Z` (`19970902T090000`) in iCalendar form.
pub(crate) fn write_datetime(f: &mut impl fmt::Write, dt: DateTime) -> fmt::Result {
    write_date(f, dt.date())?;
    write!(f, "T{:02}{:02}{:02}", dt.hour(), dt.minute(), dt.second())
}

fn write_list<T>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    items: &[T],
    mut each: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    write!(f, ";{name}=")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        each(f, item)?;
    }
    Ok(())
}

impl fmt::Display for WeekdayNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.ordinal {
            write!(f, "{n}")?;
        }
        f.write_str(weekday_name(self.weekday))
    }
}

impl fmt::Display for Recur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FREQ={}", self.freq.as_str())?;
        match self.until {
            Some(Until::Date(d)) => {
                f.write_str(";UNTIL=")?;
                write_date(f, d)?;
            }
            Some(Until::Local(dt)) => {
                f.write_str(";UNTIL=")?;
                write_datetime(f, dt)?;
            }
            Some(Until::Utc(dt)) => {
                f.write_str(";UNTIL=")?;
                write_datetime(f, dt)?;
                f.write_str("Z")?;
            }
            None => {}
        }
        if let Some(count) = self.count {
            write!(f, ";COUNT={count}")?;
        }
        if let Some(interval) = self.interval {
            write!(f, ";INTERVAL={interval}")?;
        }
        write_list(f, "BYSECOND", &self.by_second, |f, n| write!(f, "{n}"))?;
        write_list(f, "BYMINUTE", &self.by_minute, |f, n| write!(f, "{n}"))?;
        write_list(f, "BYHOUR", &self.by_hour, |f, n| write!(f, "{n}"))?;
        write_list(f, "BYDAY", &self.by_day, |f, n| write!(f, "{n}"))?;
        write_list(f, "BYMONTHDAY", &self.by_month_day, |f, n| write!(f, "{n}"))?;
        write_list(f, "BYYEARDAY", &self.by_year_day, |f, n| write!(f, "{n}"))?;
        write_list(f, "BYWEEKNO", &self.by_week_no, |f, n| write!(f, "{n}"))?;
        write_list(f, "BYMONTH", &self.by_month, |f, m| {
            write!(f, "{}{}", m.month, if m.leap { "L" } else { "" })
        })?;
        write_list(f, "BYSETPOS", &self.by_set_pos, |f, n| write!(f, "{n}"))?;
        if let Some(w) = self.wkst {
            write!(f, ";WKST={}", weekday_name(w))?;
        }
        if let Some(scale) = &self.rscale {
            write!(f, ";RSCALE={scale}")?;
        }
        if let Some(skip) = self.skip {
            write!(f, ";SKIP={}", skip.as_str())?;
        }
        for (name, value) in &self.extensions {
            write!(f, ";{name}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_what_split_gives() {
        for s in [
            "",
            ";",
            "a",
            "a;",
            ";a",
            "a;;b",
            "FREQ=DAILY;COUNT=2",
            "é;ü;",
        ] {
            assert_eq!(
                pieces(s, b';').collect::<Vec<_>>(),
                s.split(';').collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn check_gives_what_parse_gives() {
        for input in [
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
            "FREQ=MONTHLY;BYDAY=-1SU,2MO;BYMONTH=1,2L;BYSETPOS=-1;WKST=SU;X-NAME=1",
            "RSCALE=CHINESE;FREQ=YEARLY;SKIP=backward;BYSECOND=0,60;BYMINUTE=5;BYHOUR=23",
            "FREQ=DAILY;UNTIL=20240101T000000Z;INTERVAL=2;BYYEARDAY=-366;BYWEEKNO=53",
            "FREQ=DAILY;BYMONTHDAY=32",
            "FREQ=DAILY;BYDAY=MO,XX",
            "FREQ=DAILY;SKIP=OMIT",
            "FREQ=DAILY;SKIP=SIDEWAYS;RSCALE=GREGORIAN",
            "RSCALE=;FREQ=DAILY",
            "FREQ=DAILY;COUNT=1;UNTIL=20240101",
            "FREQ=DAILY;FREQ=DAILY",
            "COUNT=3",
            "FREQ",
            "",
        ] {
            assert_eq!(
                Recur::check(input),
                Recur::parse(input).map(drop),
                "{input}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn check_agrees_with_parse_on_any_rule_text(
            input in "((FREQ|UNTIL|COUNT|INTERVAL|BYSECOND|BYMINUTE|BYHOUR|BYDAY|BYMONTHDAY|\
                       BYYEARDAY|BYWEEKNO|BYMONTH|BYSETPOS|WKST|RSCALE|SKIP|X-A|freq|)\
                       =?(DAILY|MO|2L|OMIT|[A-Za-z0-9,+-]{0,6});?){0,5}"
        ) {
            proptest::prop_assert_eq!(Recur::check(&input), Recur::parse(&input).map(drop));
        }
    }

    #[test]
    fn parses_every_part_in_any_order_and_case() {
        let r = Recur::parse(
            "byday=mo,-1fr,+2TU;Freq=Yearly;interval=2;bymonth=1,2;bysetpos=-1;\
             bymonthday=-31,1;byyearday=-366,100;byweekno=-53,20;byhour=0,23;byminute=59;\
             bysecond=60;wkst=su;until=20001231T235959Z;X-FOO=bar,baz",
        )
        .unwrap();
        assert_eq!(r.freq, Frequency::Yearly);
        assert_eq!(r.interval(), 2);
        assert_eq!(
            r.by_day,
            vec![
                WeekdayNum {
                    ordinal: None,
                    weekday: Weekday::Monday
                },
                WeekdayNum {
                    ordinal: Some(-1),
                    weekday: Weekday::Friday
                },
                WeekdayNum {
                    ordinal: Some(2),
                    weekday: Weekday::Tuesday
                },
            ]
        );
        assert_eq!(r.by_month_day, vec![-31, 1]);
        assert_eq!(r.by_year_day, vec![-366, 100]);
        assert_eq!(r.by_week_no, vec![-53, 20]);
        assert_eq!(r.by_second, vec![60]);
        assert_eq!(r.week_start(), Weekday::Sunday);
        assert_eq!(
            r.until,
            Some(Until::Utc(
                jiff::civil::date(2000, 12, 31).at(23, 59, 59, 0)
            ))
        );
        assert_eq!(
            r.extensions,
            vec![("X-FOO".to_owned(), "bar,baz".to_owned())]
        );
        assert_eq!(
            r.to_string(),
            "FREQ=YEARLY;UNTIL=20001231T235959Z;INTERVAL=2;BYSECOND=60;BYMINUTE=59;\
             BYHOUR=0,23;BYDAY=MO,-1FR,2TU;BYMONTHDAY=-31,1;BYYEARDAY=-366,100;\
             BYWEEKNO=-53,20;BYMONTH=1,2;BYSETPOS=-1;WKST=SU;X-FOO=bar,baz"
        );
    }

    #[test]
    fn rscale_and_skip() {
        let r = Recur::parse("RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=forward;BYMONTH=5L").unwrap();
        assert!(r.is_gregorian());
        assert_eq!(r.skip(), Skip::Forward);
        assert_eq!(
            r.by_month,
            vec![MonthNum {
                month: 5,
                leap: true
            }]
        );
        assert_eq!(
            r.to_string(),
            "FREQ=MONTHLY;BYMONTH=5L;RSCALE=GREGORIAN;SKIP=FORWARD"
        );
    }

    #[test]
    fn errors_carry_position() {
        let cases: &[(&str, usize, RecurErrorKind)] = &[
            ("", 0, RecurErrorKind::Empty),
            ("COUNT=3", 0, RecurErrorKind::MissingFreq),
            (
                "FREQ=DAILY;FREQ=DAILY",
                11,
                RecurErrorKind::Duplicate("FREQ"),
            ),
            ("FREQ=FORTNIGHTLY", 5, RecurErrorKind::InvalidValue("FREQ")),
            (
                "FREQ=DAILY;BYHOUR=1,24",
                20,
                RecurErrorKind::OutOfRange("BYHOUR"),
            ),
            (
                "FREQ=DAILY;BYMONTHDAY=0",
                22,
                RecurErrorKind::OutOfRange("BYMONTHDAY"),
            ),
            (
                "FREQ=DAILY;BYDAY=MO,,TU",
                20,
                RecurErrorKind::InvalidValue("BYDAY"),
            ),
            (
                "FREQ=DAILY;BYDAY=54MO",
                17,
                RecurErrorKind::OutOfRange("BYDAY"),
            ),
            (
                "FREQ=DAILY;INTERVAL=0",
                20,
                RecurErrorKind::OutOfRange("INTERVAL"),
            ),
            (
                "FREQ=DAILY;COUNT=2;UNTIL=20000101",
                0,
                RecurErrorKind::CountAndUntil,
            ),
            ("FREQ=DAILY;SKIP=OMIT", 0, RecurErrorKind::SkipWithoutRscale),
            (
                "FREQ=DAILY;UNTIL=20000230",
                17,
                RecurErrorKind::InvalidValue("UNTIL"),
            ),
            (
                "FREQ=DAILY;UNTIL=20000101T250000Z",
                17,
                RecurErrorKind::InvalidValue("UNTIL"),
            ),
            ("FREQ=DAILY;;", 11, RecurErrorKind::ExpectedPart),
            (
                "FREQ=DAILY;BYMONTH=13",
                19,
                RecurErrorKind::OutOfRange("BYMONTH"),
            ),
            (
                "FREQ=DAILY;BYDAY=é",
                17,
                RecurErrorKind::InvalidValue("BYDAY"),
            ),
        ];
        for (input, offset, kind) in cases {
            let e = Recur::parse(input).unwrap_err();
            assert_eq!((e.offset, &e.kind), (*offset, kind), "{input}");
        }
        assert_eq!(
            Recur::parse("FREQ=DAILY;BYHOUR=24")
                .unwrap_err()
                .to_string(),
            "BYHOUR value out of range at byte 18"
        );
    }

    #[test]
    fn forgives_one_trailing_semicolon() {
        assert_eq!(
            Recur::parse("FREQ=DAILY;").unwrap(),
            Recur::new(Frequency::Daily)
        );
    }

    mod round_trip {
        use super::super::*;
        use proptest::prelude::*;

        fn weekday() -> impl Strategy<Value = Weekday> {
            (0i8..7).prop_map(|n| Weekday::from_monday_zero_offset(n).unwrap())
        }

        fn signed(max: i16) -> impl Strategy<Value = i16> {
            (1..=max, any::<bool>()).prop_map(|(n, neg)| if neg { -n } else { n })
        }

        fn until() -> impl Strategy<Value = Until> {
            let date =
                (1i16..=9999, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap());
            let dt =
                (date.clone(), 0i8..24, 0i8..60, 0i8..60).prop_map(|(d, h, m, s)| d.at(h, m, s, 0));
            prop_oneof![
                date.prop_map(Until::Date),
                dt.clone().prop_map(Until::Local),
                dt.prop_map(Until::Utc),
            ]
        }

        prop_compose! {
            fn recur()(
                freq in 0usize..7,
                end in prop_oneof![
                    Just((None, None)),
                    (1u32..100_000).prop_map(|c| (Some(c), None)),
                    until().prop_map(|u| (None, Some(u))),
                ],
                interval in proptest::option::of(1u32..1000),
                by_second in proptest::collection::vec(0u8..=60, 0..3),
                by_minute in proptest::collection::vec(0u8..60, 0..3),
                by_hour in proptest::collection::vec(0u8..24, 0..3),
                by_day in proptest::collection::vec(
                    (proptest::option::of(signed(53)), weekday()).prop_map(|(o, weekday)| {
                        WeekdayNum { ordinal: o.map(|n| n as i8), weekday }
                    }),
                    0..4,
                ),
                by_month_day in proptest::collection::vec(signed(31).prop_map(|n| n as i8), 0..3),
                by_year_day in proptest::collection::vec(signed(366), 0..3),
                by_week_no in proptest::collection::vec(signed(53).prop_map(|n| n as i8), 0..3),
                by_month in proptest::collection::vec(
                    (1u8..=12, any::<bool>()).prop_map(|(month, leap)| MonthNum { month, leap }),
                    0..3,
                ),
                by_set_pos in proptest::collection::vec(signed(366), 0..3),
                wkst in proptest::option::of(weekday()),
                scale in proptest::option::of((
                    "[A-Za-z][A-Za-z0-9-]{0,8}",
                    proptest::option::of(prop_oneof![
                        Just(Skip::Omit),
                        Just(Skip::Backward),
                        Just(Skip::Forward),
                    ]),
                )),
                extensions in proptest::collection::vec(
                    ("X-[A-Z0-9-]{1,6}", "[^;]{0,8}"),
                    0..2,
                ),
            ) -> Recur {
                const FREQS: [Frequency; 7] = [
                    Frequency::Secondly, Frequency::Minutely, Frequency::Hourly,
                    Frequency::Daily, Frequency::Weekly, Frequency::Monthly, Frequency::Yearly,
                ];
                let mut r = Recur::new(FREQS[freq]);
                (r.count, r.until) = end;
                r.interval = interval;
                r.by_second = by_second;
                r.by_minute = by_minute;
                r.by_hour = by_hour;
                r.by_day = by_day;
                r.by_month_day = by_month_day;
                r.by_year_day = by_year_day;
                r.by_week_no = by_week_no;
                r.by_month = by_month;
                r.by_set_pos = by_set_pos;
                r.wkst = wkst;
                if let Some((name, skip)) = scale {
                    r.rscale = Some(name);
                    r.skip = skip;
                }
                r.extensions = extensions;
                r
            }
        }

        proptest! {
            #[test]
            fn display_then_parse_is_identity(rule in recur()) {
                let text = rule.to_string();
                prop_assert_eq!(Recur::parse(&text).unwrap(), rule.clone());
                prop_assert_eq!(Recur::parse(&text.to_ascii_lowercase()).unwrap().to_string()
                    .to_ascii_uppercase(), text.to_ascii_uppercase());
            }

            #[test]
            fn parse_never_panics(input in "[A-Za-z0-9=;,+-]{0,60}") {
                let _ = Recur::parse(&input);
            }
        }
    }
}
