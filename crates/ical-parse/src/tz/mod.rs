//! Time zones for DATE-TIME values with a `TZID` (RFC 5545 §3.2.19, §3.3.5, §3.6.5).
//!
//! A [`Zone`] is either an IANA zone from jiff's bundled database (works offline) or a zone
//! built from a calendar's own `VTIMEZONE` ([`vtimezone`]). [`Resolver`] turns a `TZID` into a
//! zone in the order RFC 5545 and real calendars need: the calendar's own VTIMEZONE first, then
//! the IANA name, then a Windows zone name through the CLDR table ([`windows`]), then an
//! Outlook-style label such as `(UTC-05:00) Eastern Time (US & Canada)`, best-effort. What
//! cannot be resolved is an error naming the TZID, never a silent UTC.
//!
//! Local times follow §3.3.5: a local time in a gap (spring forward) moves forward by the gap
//! (it is read with the offset in force before the gap); an ambiguous local time (fall back)
//! takes the first occurrence.

pub mod vtimezone;
pub mod windows;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use std::sync::Arc;

pub use vtimezone::{Observance, VTimeZone};

use crate::recur::civil::{datetime_of, secs_of};

/// How a local date-time maps to UTC in a zone.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalTime {
    /// One offset applies.
    Unique(Offset),
    /// The local time does not exist (spring forward); `before` is the offset in force before
    /// the gap, `after` the one after it.
    Gap {
        /// The offset before the gap.
        before: Offset,
        /// The offset after the gap.
        after: Offset,
    },
    /// The local time happens twice (fall back).
    Fold {
        /// The offset of the first occurrence.
        earlier: Offset,
        /// The offset of the second occurrence.
        later: Offset,
    },
}

impl LocalTime {
    /// The offset RFC 5545 §3.3.5 picks: the one before a gap (which moves the time forward
    /// by the gap), the first occurrence in a fold.
    #[must_use]
    pub fn rfc5545_offset(self) -> Offset {
        match self {
            LocalTime::Unique(o) => o,
            LocalTime::Gap { before, .. } => before,
            LocalTime::Fold { earlier, .. } => earlier,
        }
    }
}

/// A time zone: IANA (jiff) or a calendar's own VTIMEZONE. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Zone {
    name: Arc<str>,
    inner: Inner,
}

#[derive(Clone, Debug)]
enum Inner {
    Jiff(TimeZone),
    Custom(Arc<VTimeZone>),
}

impl Zone {
    /// UTC.
    #[must_use]
    pub fn utc() -> Zone {
        Zone {
            name: Arc::from("UTC"),
            inner: Inner::Jiff(TimeZone::UTC),
        }
    }

    /// An IANA zone from jiff's bundled database, for example `Europe/Berlin`.
    #[must_use]
    pub fn iana(name: &str) -> Option<Zone> {
        let tz = TimeZone::get(name).ok()?;
        Some(Zone {
            name: Arc::from(tz.iana_name().unwrap_or(name)),
            inner: Inner::Jiff(tz),
        })
    }

    /// A zone from a jiff time zone, named `name`.
    #[must_use]
    pub fn from_jiff(name: &str, tz: TimeZone) -> Zone {
        Zone {
            name: Arc::from(name),
            inner: Inner::Jiff(tz),
        }
    }

    /// A zone from a calendar's own VTIMEZONE.
    #[must_use]
    pub fn from_vtimezone(vtz: VTimeZone) -> Zone {
        Zone {
            name: Arc::from(vtz.tzid()),
            inner: Inner::Custom(Arc::new(vtz)),
        }
    }

    /// The zone's name: the IANA name, or the VTIMEZONE's TZID.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The jiff time zone, when this is an IANA zone.
    #[must_use]
    pub fn as_jiff(&self) -> Option<&TimeZone> {
        match &self.inner {
            Inner::Jiff(tz) => Some(tz),
            Inner::Custom(_) => None,
        }
    }

    /// The UTC offset in force at an instant.
    #[must_use]
    pub fn offset_at(&self, at: Timestamp) -> Offset {
        match &self.inner {
            Inner::Jiff(tz) => tz.to_offset(at),
            Inner::Custom(v) => v.offset_at(at.as_second()),
        }
    }

    /// The local date-time and offset of an instant.
    #[must_use]
    pub fn to_local(&self, at: Timestamp) -> (DateTime, Offset) {
        let offset = self.offset_at(at);
        (offset.to_datetime(at), offset)
    }

    /// How a local date-time maps to UTC here.
    #[must_use]
    pub fn resolve(&self, local: DateTime) -> LocalTime {
        match &self.inner {
            Inner::Jiff(tz) => match tz.to_ambiguous_timestamp(local).offset() {
                AmbiguousOffset::Unambiguous { offset } => LocalTime::Unique(offset),
                AmbiguousOffset::Gap { before, after } => LocalTime::Gap { before, after },
                AmbiguousOffset::Fold { before, after } => LocalTime::Fold {
                    earlier: before,
                    later: after,
                },
            },
            Inner::Custom(v) => v.resolve_secs(secs_of(local)),
        }
    }

    /// The instant of a local date-time by RFC 5545 §3.3.5 (gap: forward by the gap; fold:
    /// first occurrence), `None` outside jiff's range.
    #[must_use]
    pub fn to_timestamp(&self, local: DateTime) -> Option<Timestamp> {
        let offset = self.resolve(local).rfc5545_offset();
        Timestamp::from_second(secs_of(local) - i64::from(offset.seconds())).ok()
    }

    /// The offset at `unix` seconds, the next instant `to` it changes, and the offset from
    /// then on.
    fn next_change(&self, unix: i64) -> (i64, i64, i64) {
        match &self.inner {
            Inner::Jiff(tz) => {
                let Ok(at) = Timestamp::from_second(unix) else {
                    return (0, unix, 0);
                };
                let offset = i64::from(tz.to_offset(at).seconds());
                match tz.following(at).next() {
                    Some(t) => (
                        offset,
                        t.timestamp().as_second(),
                        i64::from(t.offset().seconds()),
                    ),
                    None => (offset, i64::MAX / 2, offset),
                }
            }
            Inner::Custom(v) => {
                let (offset, _, to) = v.span(unix);
                let after = Timestamp::from_second(to)
                    .map_or(offset, |t| i64::from(v.offset_at(t.as_second()).seconds()));
                (offset, to, after)
            }
        }
    }
}

/// A cache over a [`Zone`] for resolving many increasing local times: between two
/// transitions, where every local time maps to UTC uniquely, the answer is one subtraction.
#[derive(Clone, Debug)]
pub(crate) struct ZoneCursor {
    zone: Zone,
    /// Civil seconds `[lo, hi)` that map to UTC uniquely with `offset`.
    lo: i64,
    hi: i64,
    offset: i64,
}

impl ZoneCursor {
    pub(crate) fn new(zone: Zone) -> ZoneCursor {
        ZoneCursor {
            zone,
            lo: 0,
            hi: 0,
            offset: 0,
        }
    }

    /// Remember that the civil seconds from `civil` (valid with `offset` at `unix`) up to the
    /// next transition's gap or fold map to UTC uniquely with `offset`.
    ///
    /// Why `[civil, hi)` is safe: every local time there is valid with `offset`, which is in
    /// force from `unix` to the next transition `to`; it stops being unique at
    /// `to + min(offset, after)` (the start of the gap or fold). An earlier offset cannot be
    /// valid there unless it was valid at `civil` too, which the caller ruled out, as long as
    /// offset periods last longer than the widest offset difference (26 hours), which holds
    /// for every zone in use.
    fn remember(&mut self, civil: i64, unix: i64, offset: i64) {
        let (o, to, after) = self.zone.next_change(unix);
        if o == offset {
            self.lo = civil;
            self.hi = to.saturating_add(o.min(after));
            self.offset = o;
        }
    }

    /// Resolve civil seconds to (unix seconds by §3.3.5, offset seconds, whether the local
    /// time was in a gap and moved).
    #[inline]
    pub(crate) fn resolve(&mut self, civil: i64) -> (i64, i64, bool) {
        if civil >= self.lo && civil < self.hi {
            return (civil - self.offset, self.offset, false);
        }
        self.resolve_slow(civil)
    }

    /// [`ZoneCursor::resolve`] outside the cached stretch: ask the zone, cache the new stretch.
    #[inline(never)]
    fn resolve_slow(&mut self, civil: i64) -> (i64, i64, bool) {
        let Some(local) = datetime_of(civil) else {
            return (civil, 0, false);
        };
        let resolved = self.zone.resolve(local);
        let offset = i64::from(resolved.rfc5545_offset().seconds());
        let unix = civil - offset;
        let (gap, actual) = match resolved {
            LocalTime::Gap { after, .. } => (true, i64::from(after.seconds())),
            _ => (false, offset),
        };
        if let LocalTime::Unique(_) = resolved {
            self.remember(civil, unix, offset);
        }
        (unix, actual, gap)
    }

    /// The civil seconds and offset of `unix` seconds in the zone.
    #[inline]
    pub(crate) fn local(&mut self, unix: i64) -> (i64, i64) {
        let civil = unix + self.offset;
        if civil >= self.lo && civil < self.hi {
            return (civil, self.offset);
        }
        self.local_slow(unix)
    }

    /// [`ZoneCursor::local`] outside the cached stretch.
    #[inline(never)]
    fn local_slow(&mut self, unix: i64) -> (i64, i64) {
        let Ok(t) = Timestamp::from_second(unix) else {
            return (unix, 0);
        };
        let offset = i64::from(self.zone.offset_at(t).seconds());
        let civil = unix + offset;
        // Only a civil time that is no local time of another offset starts a cached stretch.
        if let Some(local) = datetime_of(civil)
            && matches!(self.zone.resolve(local), LocalTime::Unique(_))
        {
            self.remember(civil, unix, offset);
        }
        (civil, offset)
    }
}

/// Why a `TZID` could not be turned into a zone.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {tzid:?}")]
#[non_exhaustive]
pub struct UnknownZone {
    /// The TZID as written.
    pub tzid: String,
}

/// Turns `TZID` parameter values into zones: the calendar's VTIMEZONEs, then IANA names, then
/// Windows names (CLDR), then Outlook-style labels.
///
/// # Example
///
/// ```
/// use ical_parse::tz::Resolver;
///
/// let resolver = Resolver::new();
/// assert_eq!(resolver.resolve("Eastern Standard Time").unwrap().name(), "America/New_York");
/// assert_eq!(
///     resolver.resolve("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna").unwrap().name(),
///     "Europe/Berlin"
/// );
/// assert!(resolver.resolve("Mars/Olympus_Mons").is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    own: Vec<Zone>,
}

/// How a TZID was resolved.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolvedBy {
    /// The calendar's own VTIMEZONE.
    VTimeZone,
    /// An IANA name (possibly with a `/`-prefix such as `/mozilla.org/...` removed).
    Iana,
    /// A Windows zone name via CLDR's windowsZones table.
    Windows,
    /// An Outlook-style `(UTC±hh:mm) City, ...` label, best-effort.
    OutlookLabel,
}

impl Resolver {
    /// A resolver with no VTIMEZONEs of its own.
    #[must_use]
    pub fn new() -> Resolver {
        Resolver::default()
    }

    /// Add a calendar's own VTIMEZONE; it wins over every other source for its TZID.
    pub fn add_vtimezone(&mut self, vtz: VTimeZone) {
        self.own.push(Zone::from_vtimezone(vtz));
    }

    /// Resolve a TZID.
    ///
    /// # Errors
    ///
    /// [`UnknownZone`] when no source knows the name.
    pub fn resolve(&self, tzid: &str) -> Result<Zone, UnknownZone> {
        self.resolve_with_source(tzid).map(|(z, _)| z)
    }

    /// Resolve a TZID and say which source answered.
    ///
    /// # Errors
    ///
    /// [`UnknownZone`] when no source knows the name.
    pub fn resolve_with_source(&self, tzid: &str) -> Result<(Zone, ResolvedBy), UnknownZone> {
        if let Some(z) = self.own.iter().find(|z| z.name() == tzid) {
            return Ok((z.clone(), ResolvedBy::VTimeZone));
        }
        let trimmed = tzid.trim().trim_matches('"');
        if let Some(z) = iana_like(trimmed) {
            return Ok((z, ResolvedBy::Iana));
        }
        if let Some(z) = windows::to_iana(trimmed).and_then(Zone::iana) {
            return Ok((z, ResolvedBy::Windows));
        }
        if let Some(z) = windows::outlook_label_to_iana(trimmed).and_then(Zone::iana) {
            return Ok((z, ResolvedBy::OutlookLabel));
        }
        Err(UnknownZone {
            tzid: tzid.to_owned(),
        })
    }
}

/// IANA names as written, and with the prefixes some producers put before them
/// (`/mozilla.org/20070129_1/Europe/Berlin`, `/softwarestudio.org/Olson_20011030_5/...`).
fn iana_like(name: &str) -> Option<Zone> {
    if name.is_empty() {
        return None;
    }
    if let Some(z) = Zone::iana(name) {
        return Some(z);
    }
    let mut rest = name;
    while let Some((_, tail)) = rest.split_once('/') {
        if let Some(z) = Zone::iana(tail) {
            return Some(z);
        }
        rest = tail;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn gap_moves_forward_fold_takes_first() {
        let ny = Zone::iana("America/New_York").unwrap();
        let gap = date(2024, 3, 10).at(2, 30, 0, 0);
        let ts = ny.to_timestamp(gap).unwrap();
        assert_eq!(ts.to_string(), "2024-03-10T07:30:00Z"); // 03:30 EDT
        let fold = date(2024, 11, 3).at(1, 30, 0, 0);
        assert_eq!(
            ny.to_timestamp(fold).unwrap().to_string(),
            "2024-11-03T05:30:00Z"
        );
    }

    #[test]
    fn cursor_agrees_with_zone() {
        let berlin = Zone::iana("Europe/Berlin").unwrap();
        let mut cursor = ZoneCursor::new(berlin.clone());
        let mut civil = secs_of(date(2023, 1, 1).at(0, 30, 0, 0));
        for _ in 0..(2 * 365 * 24) {
            let (unix, _, _) = cursor.resolve(civil);
            let want = berlin.to_timestamp(datetime_of(civil).unwrap()).unwrap();
            assert_eq!(unix, want.as_second());
            civil += 3600;
        }
    }

    #[test]
    fn cursor_local_agrees_with_zone_through_transitions() {
        // A calendar's own VTIMEZONE too: New York's US rule of 2007 (with RRULEs), whose
        // cursor asks `VTimeZone::span` rather than jiff.
        let offset = |h: i8| Offset::constant(h);
        let mut daylight = vtimezone::Observance::new(
            vtimezone::ObservanceKind::Daylight,
            date(2007, 3, 11).at(2, 0, 0, 0),
            offset(-5),
            offset(-4),
        );
        daylight
            .rrules
            .push(crate::recur::Recur::parse("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU").unwrap());
        let mut standard = vtimezone::Observance::new(
            vtimezone::ObservanceKind::Standard,
            date(2007, 11, 4).at(2, 0, 0, 0),
            offset(-4),
            offset(-5),
        );
        standard
            .rrules
            .push(crate::recur::Recur::parse("FREQ=YEARLY;BYMONTH=11;BYDAY=1SU").unwrap());
        let custom = Zone::from_vtimezone(vtimezone::VTimeZone::new(
            "Custom/New_York",
            &[daylight, standard],
        ));
        let zones = [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Pacific/Apia",
        ]
        .map(|name| Zone::iana(name).unwrap());
        for zone in zones.into_iter().chain([custom]) {
            let name = zone.name().to_owned();
            let mut cursor = ZoneCursor::new(zone.clone());
            let mut resolver = ZoneCursor::new(zone.clone());
            let start = Timestamp::from_second(946_684_800).unwrap().as_second();
            // Every 20 minutes for 13 years: every transition, its gap and its fold.
            for i in 0..(13 * 365 * 72) {
                let unix = start + i * 1200;
                let (civil, offset) = cursor.local(unix);
                let t = Timestamp::from_second(unix).unwrap();
                let (want_local, want_offset) = zone.to_local(t);
                assert_eq!(civil, secs_of(want_local), "{name} {t}");
                assert_eq!(offset, i64::from(want_offset.seconds()), "{name} {t}");
                let local = datetime_of(civil).unwrap();
                let (u, _, moved) = resolver.resolve(civil);
                assert_eq!(
                    u,
                    zone.to_timestamp(local).unwrap().as_second(),
                    "{name} {local}"
                );
                assert_eq!(moved, matches!(zone.resolve(local), LocalTime::Gap { .. }));
            }
        }
    }

    #[test]
    fn prefixed_iana_names() {
        let r = Resolver::new();
        let (z, by) = r
            .resolve_with_source("/mozilla.org/20070129_1/Europe/Berlin")
            .unwrap();
        assert_eq!((z.name(), by), ("Europe/Berlin", ResolvedBy::Iana));
        assert_eq!(r.resolve("").unwrap_err().tzid, "");
    }
}
