//! VTIMEZONE (RFC 5545 §3.6.5): a calendar's own zone definitions as a zone, and VTIMEZONE
//! text generated from an IANA zone.
//!
//! ```text
//! standardc / daylightc = "BEGIN" ":" ( "STANDARD" / "DAYLIGHT" ) CRLF
//!     dtstart / tzoffsetto / tzoffsetfrom / [ rrule ] / *( comment / rdate / tzname / ... )
//!     "END" ":" ( "STANDARD" / "DAYLIGHT" ) CRLF
//! ```
//!
//! Each observance's DTSTART and RDATEs are local times in the offset in force before the
//! onset (its `TZOFFSETFROM`); its RRULE's UNTIL is UTC. Onsets are computed through
//! [`VTimeZone::HORIZON_YEAR`] (and at most [`VTimeZone::MAX_ONSETS`] per observance); after
//! the last computed onset its offset holds.

use super::LocalTime;
use crate::recur::civil::{datetime_of, secs_of};
use crate::recur::{Recur, RecurIter, Until};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Dst, Offset, TimeZone};
use std::fmt::Write as _;

/// Whether an observance is standard or daylight time.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObservanceKind {
    /// `STANDARD`.
    Standard,
    /// `DAYLIGHT`.
    Daylight,
}

/// One STANDARD or DAYLIGHT sub-component.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Observance {
    /// STANDARD or DAYLIGHT.
    pub kind: ObservanceKind,
    /// DTSTART: the first onset, local time in `offset_from`.
    pub dtstart: DateTime,
    /// TZOFFSETFROM.
    pub offset_from: Offset,
    /// TZOFFSETTO.
    pub offset_to: Offset,
    /// RRULEs (usually one, `FREQ=YEARLY`).
    pub rrules: Vec<Recur>,
    /// RDATEs: further onsets, local time in `offset_from`.
    pub rdates: Vec<DateTime>,
    /// TZNAME, when given.
    pub name: Option<String>,
}

impl Observance {
    /// An observance with no RRULE, RDATE or name.
    #[must_use]
    pub fn new(
        kind: ObservanceKind,
        dtstart: DateTime,
        offset_from: Offset,
        offset_to: Offset,
    ) -> Observance {
        Observance {
            kind,
            dtstart,
            offset_from,
            offset_to,
            rrules: Vec::new(),
            rdates: Vec::new(),
            name: None,
        }
    }
}

/// A zone defined by a VTIMEZONE: its onsets, computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VTimeZone {
    tzid: String,
    /// The offset before the first onset (seconds).
    initial: i32,
    /// (unix seconds of the onset, offset from then on in seconds), sorted, no repeats.
    transitions: Vec<(i64, i32)>,
}

impl VTimeZone {
    /// Onsets are computed through this year.
    pub const HORIZON_YEAR: i16 = 2200;
    /// At most this many onsets are computed per observance.
    pub const MAX_ONSETS: usize = 4000;

    /// Build a zone from a TZID and its observances.
    #[must_use]
    pub fn new(tzid: &str, observances: &[Observance]) -> VTimeZone {
        let horizon = secs_of(jiff::civil::date(Self::HORIZON_YEAR, 12, 31).at(23, 59, 59, 0));
        let mut onsets: Vec<(i64, i32)> = Vec::new();
        for obs in observances {
            let from = i64::from(obs.offset_from.seconds());
            let to = obs.offset_to.seconds();
            let mut push = |local: i64| onsets.push((local - from, to));
            push(secs_of(obs.dtstart));
            for rdate in &obs.rdates {
                push(secs_of(*rdate));
            }
            for rule in &obs.rrules {
                // UNTIL is UTC (§3.8.5.3): compare it in this observance's local time.
                let until = match rule.until {
                    Some(Until::Utc(dt)) => datetime_of(secs_of(dt) + from),
                    Some(Until::Local(dt)) => Some(dt),
                    Some(Until::Date(d)) => Some(d.at(23, 59, 59, 0)),
                    None => None,
                };
                let iter = RecurIter::new(rule, obs.dtstart).with_until(until);
                for local in iter.take(Self::MAX_ONSETS) {
                    let local = secs_of(local);
                    if local > horizon {
                        break;
                    }
                    push(local);
                }
            }
        }
        onsets.sort_unstable();
        let initial = observances
            .iter()
            .min_by_key(|o| secs_of(o.dtstart) - i64::from(o.offset_from.seconds()))
            .map_or(0, |o| o.offset_from.seconds());
        let mut transitions: Vec<(i64, i32)> = Vec::with_capacity(onsets.len());
        let mut current = initial;
        for (at, offset) in onsets {
            if offset != current {
                transitions.push((at, offset));
                current = offset;
            }
        }
        VTimeZone {
            tzid: tzid.to_owned(),
            initial,
            transitions,
        }
    }

    /// The TZID.
    #[must_use]
    pub fn tzid(&self) -> &str {
        &self.tzid
    }

    /// The computed onsets: (instant, offset from then on), sorted.
    pub fn transitions(&self) -> impl Iterator<Item = (Timestamp, Offset)> + '_ {
        self.transitions.iter().filter_map(|&(at, off)| {
            Some((
                Timestamp::from_second(at).ok()?,
                Offset::from_seconds(off).ok()?,
            ))
        })
    }

    fn index_at(&self, unix: i64) -> usize {
        self.transitions.partition_point(|&(at, _)| at <= unix)
    }

    fn offset_secs(&self, unix: i64) -> i32 {
        match self.index_at(unix).checked_sub(1) {
            Some(i) => self.transitions.get(i).map_or(self.initial, |t| t.1),
            None => self.initial,
        }
    }

    pub(crate) fn offset_at(&self, unix: i64) -> Offset {
        Offset::from_seconds(self.offset_secs(unix)).unwrap_or(Offset::UTC)
    }

    pub(crate) fn span(&self, unix: i64) -> (i64, i64, i64) {
        let i = self.index_at(unix);
        let from = i
            .checked_sub(1)
            .and_then(|p| self.transitions.get(p))
            .map_or(i64::MIN / 2, |t| t.0);
        let to = self.transitions.get(i).map_or(i64::MAX / 2, |t| t.0);
        (i64::from(self.offset_secs(unix)), from, to)
    }

    pub(crate) fn resolve_secs(&self, civil: i64) -> LocalTime {
        // Offsets that could apply: those in force a day either side of the local time read
        // as UTC, and a local time is valid with offset `o` if `o` is in force at civil - o.
        let day = 86_400;
        let mut candidates: Vec<i32> = [civil - 2 * day, civil, civil + 2 * day]
            .iter()
            .map(|&t| self.offset_secs(t))
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let valid: Vec<i32> = candidates
            .iter()
            .copied()
            .filter(|&o| self.offset_secs(civil - i64::from(o)) == o)
            .collect();
        let off = |s: i32| Offset::from_seconds(s).unwrap_or(Offset::UTC);
        match valid.as_slice() {
            [one] => LocalTime::Unique(off(*one)),
            [] => {
                // In a gap: before is the offset in force just before it.
                let before =
                    self.offset_secs(civil - i64::from(*candidates.last().unwrap_or(&0)) - 1);
                let after = self.offset_secs(civil - i64::from(*candidates.first().unwrap_or(&0)));
                LocalTime::Gap {
                    before: off(before),
                    after: off(after),
                }
            }
            many => {
                // The first occurrence is the earlier instant: the larger offset.
                let earlier = many.iter().copied().max().unwrap_or(0);
                let later = many.iter().copied().min().unwrap_or(0);
                LocalTime::Fold {
                    earlier: off(earlier),
                    later: off(later),
                }
            }
        }
    }
}

/// VTIMEZONE text (CRLF line ends) for an IANA zone over the years `from_year..=to_year`: one
/// observance per transition in the range, plus the one in force when the range starts, so
/// that every local time in the range resolves as the IANA zone does.
///
/// Returns `None` if the zone has no IANA name.
///
/// ```
/// let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
/// let text = ical_parse::tz::vtimezone::generate(&tz, 2024, 2024).unwrap();
/// assert!(text.starts_with("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
/// assert!(text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20240331T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"));
/// ```
#[must_use]
pub fn generate(tz: &TimeZone, from_year: i16, to_year: i16) -> Option<String> {
    let name = tz.iana_name()?;
    let start = jiff::civil::date(from_year.clamp(-9998, 9998), 1, 1)
        .at(0, 0, 0, 0)
        .to_zoned_datetime(TimeZone::UTC)
        .ok()?
        .timestamp();
    let end = jiff::civil::date(to_year.clamp(-9998, 9998), 12, 31)
        .at(23, 59, 59, 0)
        .to_zoned_datetime(TimeZone::UTC)
        .ok()?
        .timestamp();
    let mut out = String::new();
    out.push_str("BEGIN:VTIMEZONE\r\n");
    let _ = write!(out, "TZID:{name}\r\n");
    let mut observances = 0;
    let mut emit =
        |out: &mut String, at: Timestamp, before: Offset, after: Offset, abbr: &str, dst: Dst| {
            let kind = if dst.is_dst() { "DAYLIGHT" } else { "STANDARD" };
            let local = before.to_datetime(at);
            let _ = write!(out, "BEGIN:{kind}\r\nDTSTART:");
            let _ = crate::recur::write_datetime(out, local);
            let _ = write!(
                out,
                "\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\n",
                utc_offset(before),
                utc_offset(after)
            );
            if !abbr.is_empty() {
                let _ = write!(out, "TZNAME:{abbr}\r\n");
            }
            let _ = write!(out, "END:{kind}\r\n");
            observances += 1;
        };
    // The observance in force at the start of the range.
    let first = tz.preceding(start).next();
    match first {
        Some(t) => {
            let before = t
                .timestamp()
                .checked_sub(jiff::SignedDuration::from_secs(1))
                .map_or(t.offset(), |b| tz.to_offset(b));
            emit(
                &mut out,
                t.timestamp(),
                before,
                t.offset(),
                t.abbreviation(),
                t.dst(),
            );
        }
        None => {
            let info = tz.to_offset_info(start);
            emit(
                &mut out,
                start,
                info.offset(),
                info.offset(),
                info.abbreviation(),
                info.dst(),
            );
        }
    }
    for t in tz.following(start) {
        if t.timestamp() > end {
            break;
        }
        let before = tz.to_offset(
            t.timestamp()
                .checked_sub(jiff::SignedDuration::from_secs(1))
                .unwrap_or(t.timestamp()),
        );
        emit(
            &mut out,
            t.timestamp(),
            before,
            t.offset(),
            t.abbreviation(),
            t.dst(),
        );
    }
    out.push_str("END:VTIMEZONE\r\n");
    Some(out)
}

/// `+hhmm` or `+hhmmss` (RFC 5545 §3.3.14 UTC-OFFSET).
fn utc_offset(o: Offset) -> String {
    let s = o.seconds();
    let sign = if s < 0 { '-' } else { '+' };
    let a = s.unsigned_abs();
    if a.is_multiple_of(60) {
        format!("{sign}{:02}{:02}", a / 3600, a / 60 % 60)
    } else {
        format!("{sign}{:02}{:02}{:02}", a / 3600, a / 60 % 60, a % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tz::Zone;
    use jiff::civil::date;

    fn us_eastern() -> VTimeZone {
        let edt = Offset::from_hours(-4).unwrap();
        let est = Offset::from_hours(-5).unwrap();
        let mut daylight = Observance::new(
            ObservanceKind::Daylight,
            date(2007, 3, 11).at(2, 0, 0, 0),
            est,
            edt,
        );
        daylight
            .rrules
            .push(Recur::parse("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU").unwrap());
        let mut standard = Observance::new(
            ObservanceKind::Standard,
            date(2007, 11, 4).at(2, 0, 0, 0),
            edt,
            est,
        );
        standard
            .rrules
            .push(Recur::parse("FREQ=YEARLY;BYMONTH=11;BYDAY=1SU").unwrap());
        VTimeZone::new("US-Eastern", &[daylight, standard])
    }

    #[test]
    fn vtimezone_agrees_with_iana_since_2007() {
        let own = Zone::from_vtimezone(us_eastern());
        let iana = Zone::iana("America/New_York").unwrap();
        let mut t = date(2008, 1, 1).at(0, 15, 0, 0);
        while t < date(2030, 1, 1).at(0, 0, 0, 0) {
            assert_eq!(own.resolve(t), iana.resolve(t), "{t}");
            t = t
                .checked_add(jiff::Span::new().minutes(30 * 7 + 1))
                .unwrap();
        }
        for day in [date(2024, 3, 10), date(2024, 11, 3)] {
            for minute in (0..240).step_by(15) {
                let t = day
                    .at(0, 0, 0, 0)
                    .checked_add(jiff::Span::new().minutes(minute))
                    .unwrap();
                assert_eq!(own.resolve(t), iana.resolve(t), "{t}");
            }
        }
    }

    #[test]
    fn generated_vtimezone_reads_back_as_the_iana_zone() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let text = generate(&tz, 2020, 2025).unwrap();
        assert_eq!(text.matches("BEGIN:DAYLIGHT").count(), 6);
        assert_eq!(text.matches("BEGIN:STANDARD").count(), 7);
        assert!(text.contains(
            "DTSTART:20241103T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n"
        ));
        assert_eq!(
            utc_offset(Offset::from_seconds(-(5 * 3600 + 30)).unwrap()),
            "-050030"
        );
    }
}
