//! The instances of a recurring component (RFC 5545 §3.8.5, §3.8.4.4, §3.3.10).
//!
//! The recurrence set is DTSTART (always the first instance, §3.8.5.3), every RRULE's
//! instances and every RDATE, minus every EXDATE and every EXRULE instance. Components sharing
//! the UID with a RECURRENCE-ID ("overrides") replace the instance they name; one with
//! `RANGE=THISANDFUTURE` also moves every later instance by the same shift and gives it its
//! duration; an override whose RECURRENCE-ID names no instance is still an instance.
//!
//! [`expand`] is a lazy iterator over [`Instance`]s in start order, limited by a window
//! (`from`, `to`) and a cap on the number of instances ([`ExpandOptions`]). A window far from
//! DTSTART is reached by computing the rule's period at the window (no instance before it is
//! computed) for every rule without `COUNT`.
//!
//! # Local times, gaps and folds
//!
//! Instances are computed in DTSTART's local time, then placed in its zone as RFC 5545 §3.3.5
//! says for explicit local times (§3.3.10 defers to it): a local time in a DST gap moves
//! forward by the gap (02:30 on a spring-forward day becomes 03:30), an ambiguous one takes
//! the first occurrence. When a moved instance lands on the same instant as another instance of
//! the set (an `HOURLY` rule's 02:00 moved to 03:00 while 03:00 is also an instance), the set
//! keeps one instance: the one whose local time exists. Instances are never duplicated and
//! their UTC offset is always the one in force at their instant.
//!
//! All-day events (DATE DTSTART) stay dates; floating times stay floating. For windows and
//! ordering, dates and floating times are read in [`ExpandOptions::floating_zone`] (UTC
//! unless set, as RFC 4791 §9.9 lets a server choose).

pub mod calendar;

use crate::recur::civil::{DAY, date_of, datetime_of, days_of, secs_of, time_of};
use crate::recur::{Recur, RecurIter, RecurLimits, UnsupportedScale, Until};
use crate::tz::{Zone, ZoneCursor};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::Offset;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

/// A DATE or DATE-TIME property value with its zone resolved.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum When {
    /// A DATE (`VALUE=DATE`).
    Date(Date),
    /// A floating DATE-TIME (no `Z`, no TZID).
    Floating(DateTime),
    /// A DATE-TIME with a TZID, resolved to a zone.
    Zoned {
        /// The local date-time as written.
        local: DateTime,
        /// Its zone.
        zone: Zone,
    },
    /// A UTC DATE-TIME (`Z`).
    Utc(DateTime),
}

/// How long each instance lasts: nominal days (which keep the local time across DST changes,
/// RFC 5545 §3.3.6) plus exact seconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Length {
    /// Nominal days (`P1D`, `P1W` = 7, the days between two DATEs).
    pub days: i64,
    /// Exact seconds (`PT1H`, the time between two DATE-TIMEs).
    pub seconds: i64,
}

impl Length {
    /// A length of whole nominal days.
    #[must_use]
    pub fn days(days: i64) -> Length {
        Length { days, seconds: 0 }
    }

    /// A length of exact seconds.
    #[must_use]
    pub fn seconds(seconds: i64) -> Length {
        Length { days: 0, seconds }
    }
}

/// One RDATE value.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RDate {
    /// A DATE or DATE-TIME: an instance with the component's own length.
    At(When),
    /// A PERIOD: an instance with its own length (`start/end` or `start/duration`).
    Period {
        /// The start.
        start: When,
        /// The length of this instance.
        length: Length,
    },
}

/// The recurrence inputs of one component (the "master", without RECURRENCE-ID).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Recurrence {
    /// DTSTART.
    pub dtstart: When,
    /// From DTEND - DTSTART, DUE - DTSTART or DURATION.
    pub length: Length,
    /// RRULEs (normally at most one).
    pub rrules: Vec<Recur>,
    /// EXRULEs (deprecated by RFC 5545, still sent).
    pub exrules: Vec<Recur>,
    /// RDATEs.
    pub rdates: Vec<RDate>,
    /// EXDATEs.
    pub exdates: Vec<When>,
}

impl Recurrence {
    /// A component that starts at `dtstart` and lasts `length`, with no rules yet.
    #[must_use]
    pub fn new(dtstart: When, length: Length) -> Recurrence {
        Recurrence {
            dtstart,
            length,
            rrules: Vec::new(),
            exrules: Vec::new(),
            rdates: Vec::new(),
            exdates: Vec::new(),
        }
    }
}

/// A component with a RECURRENCE-ID: it replaces the instance it names.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Override {
    /// RECURRENCE-ID.
    pub recurrence_id: When,
    /// `RANGE=THISANDFUTURE`: later instances move by the same shift and take this length.
    pub this_and_future: bool,
    /// Its own DTSTART.
    pub start: When,
    /// Its own length.
    pub length: Length,
    /// The caller's handle for the component (returned in [`Instance::override_index`]).
    pub index: usize,
}

impl Override {
    /// An override of the instance `recurrence_id`, now at `start` for `length`.
    #[must_use]
    pub fn new(recurrence_id: When, start: When, length: Length, index: usize) -> Override {
        Override {
            recurrence_id,
            this_and_future: false,
            start,
            length,
            index,
        }
    }
}

/// Window, cap and limits of an expansion.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ExpandOptions {
    /// Only instances that end after this instant (or start at it, for zero length).
    pub from: Option<Timestamp>,
    /// Only instances that start before this instant.
    pub to: Option<Timestamp>,
    /// At most this many instances.
    pub max_instances: usize,
    /// The zone dates and floating times are read in for the window and the order (UTC when
    /// `None`).
    pub floating_zone: Option<Zone>,
    /// Limits for each rule's iterator.
    pub recur_limits: RecurLimits,
    /// At most this many rule instances are computed (those before the window and those
    /// EXDATE or EXRULE remove included): a rule with a huge `COUNT` and a far window, or a
    /// dense EXRULE, ends here and [`Expansion::truncated`] says so.
    pub max_scanned: u64,
    /// At most this many instances wait to be put in start order behind a
    /// `RANGE=THISANDFUTURE` override that moves instances earlier; beyond it the expansion
    /// ends there and [`Expansion::truncated`] says so.
    pub max_buffered: usize,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        ExpandOptions {
            from: None,
            to: None,
            max_instances: 10_000,
            floating_zone: None,
            recur_limits: RecurLimits::default(),
            max_scanned: 10_000_000,
            max_buffered: 100_000,
        }
    }
}

/// A point in an instance: as the component writes it, with the UTC offset when it has one.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Moment {
    /// An all-day date.
    Date(Date),
    /// A floating local time.
    Floating(DateTime),
    /// A local time in the component's zone with the offset in force then.
    Zoned {
        /// The local date-time.
        local: DateTime,
        /// Its UTC offset.
        offset: Offset,
    },
    /// A UTC time.
    Utc(DateTime),
}

impl fmt::Display for Moment {
    /// RFC 3339 (`2006-01-04T14:00:00-05:00`, `...Z`), a plain date for dates, no offset for
    /// floating times.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Moment::Date(d) => write!(f, "{d}"),
            Moment::Floating(dt) => write!(f, "{}", dt.strftime("%Y-%m-%dT%H:%M:%S")),
            Moment::Zoned { local, offset } => {
                let s = offset.seconds();
                let a = s.unsigned_abs();
                write!(
                    f,
                    "{}{}{:02}:{:02}",
                    local.strftime("%Y-%m-%dT%H:%M:%S"),
                    if s < 0 { '-' } else { '+' },
                    a / 3600,
                    a / 60 % 60
                )
            }
            Moment::Utc(dt) => write!(f, "{}Z", dt.strftime("%Y-%m-%dT%H:%M:%S")),
        }
    }
}

/// The RECURRENCE-ID of an instance: its original start in DTSTART's form.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecurrenceId {
    /// A date (all-day).
    Date(Date),
    /// A local time (floating, or in DTSTART's TZID).
    Local(DateTime),
    /// A UTC time.
    Utc(DateTime),
}

impl fmt::Display for RecurrenceId {
    /// iCalendar form: `20060104`, `20060104T120000`, `20060104T120000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecurrenceId::Date(d) => crate::recur::write_date(f, *d),
            RecurrenceId::Local(dt) => crate::recur::write_datetime(f, *dt),
            RecurrenceId::Utc(dt) => {
                crate::recur::write_datetime(f, *dt)?;
                f.write_str("Z")
            }
        }
    }
}

/// One instance of the recurrence set.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Instance {
    /// Where it starts.
    pub start: Moment,
    /// Where it ends.
    pub end: Moment,
    /// Its RECURRENCE-ID.
    pub recurrence_id: RecurrenceId,
    /// The override component that defines it (its `index`), if any; for instances moved by a
    /// `RANGE=THISANDFUTURE` override, that override.
    pub override_index: Option<usize>,
    /// The start as unix seconds (dates and floating times read in the floating zone): the
    /// order of the expansion.
    pub start_key: i64,
    /// The end as unix seconds, likewise.
    pub end_key: i64,
}

/// Something an expansion could not honour: reported here, never silently worked around.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpandWarning {
    /// An RRULE or EXRULE in a calendar scale this crate does not expand (RFC 7529 `RSCALE`
    /// other than `GREGORIAN`): such an RRULE adds no instance beyond DTSTART, such an EXRULE
    /// removes none.
    UnsupportedScale {
        /// The scale.
        scale: UnsupportedScale,
        /// Whether the rule is an EXRULE (else an RRULE).
        exrule: bool,
    },
}

impl fmt::Display for ExpandWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpandWarning::UnsupportedScale { scale, exrule } => write!(
                f,
                "{} not expanded: {scale}",
                if *exrule { "EXRULE" } else { "RRULE" }
            ),
        }
    }
}

/// The form of DTSTART, which every instance keeps.
#[derive(Clone, Debug)]
enum Frame {
    Date,
    Floating,
    Zoned(Zone),
    Utc,
}

/// Where an instance comes from in the master stream.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Placed {
    unix: i64,
    /// A local time moved out of a gap (loses to an instance at the same instant).
    moved: bool,
    civil: i64,
    offset: i64,
    length: Option<(i64, i64)>,
}

/// A master instance waiting in start order: (start key, end key, sequence, instance).
struct Queued(i64, i64, u64, Instance);

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1, self.2) == (other.0, other.1, other.2)
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1, self.2).cmp(&(other.0, other.1, other.2))
    }
}

struct RuleSource {
    iter: RecurIter,
    until_unix: Option<i64>,
    /// The zone, to compare instances with a UTC UNTIL exactly.
    cursor: Option<ZoneCursor>,
    peek: Option<i64>,
}

/// Expand a recurrence with its overrides: a lazy iterator of instances in start order.
///
/// # Example
///
/// ```
/// use ical_parse::expand::{expand, ExpandOptions, Length, Recurrence, When};
/// use ical_parse::recur::Recur;
/// use ical_parse::tz::Zone;
/// use jiff::civil::date;
///
/// let berlin = Zone::iana("Europe/Berlin").unwrap();
/// let mut event = Recurrence::new(
///     When::Zoned { local: date(2024, 3, 30).at(2, 30, 0, 0), zone: berlin },
///     Length::seconds(3600),
/// );
/// event.rrules.push(Recur::parse("FREQ=DAILY;COUNT=3").unwrap());
/// let starts: Vec<String> = expand(&event, &[], &ExpandOptions::default())
///     .map(|i| i.start.to_string())
///     .collect();
/// // 02:30 does not exist on 2024-03-31 in Berlin: it moves forward by the gap.
/// assert_eq!(starts, [
///     "2024-03-30T02:30:00+01:00",
///     "2024-03-31T03:30:00+02:00",
///     "2024-04-01T02:30:00+02:00",
/// ]);
/// ```
#[must_use]
pub fn expand(
    recurrence: &Recurrence,
    overrides: &[Override],
    options: &ExpandOptions,
) -> Expansion {
    Expansion::new(recurrence, overrides, options)
}

/// The iterator [`expand`] returns.
pub struct Expansion {
    frame: Frame,
    cursor: Option<ZoneCursor>,
    floating: Option<ZoneCursor>,
    length: Length,
    rules: Vec<RuleSource>,
    rdates: Vec<(i64, Option<(i64, i64)>)>,
    rdate_pos: usize,
    exdates: Vec<i64>,
    exrules: Vec<RuleSource>,
    last_civil: Option<i64>,
    heap: BinaryHeap<Reverse<Placed>>,
    last_unix: Option<i64>,
    master_done: bool,
    /// Civil RECURRENCE-IDs of the overrides (in the master's frame), sorted, with index.
    override_rids: Vec<(i64, usize)>,
    /// `THISANDFUTURE` overrides: (civil rid, shift seconds, length, index), sorted.
    future: Vec<(i64, i64, Length, usize)>,
    /// Override instances, sorted by start key.
    override_instances: Vec<Instance>,
    override_pos: usize,
    pending_master: Option<Instance>,
    from: Option<i64>,
    to: Option<i64>,
    /// How far a THISANDFUTURE override can move an instance (seconds).
    shift_margin: i64,
    remaining: usize,
    capped: bool,
    cap_checked: bool,
    scanned: u64,
    shifted_heap: BinaryHeap<Reverse<Queued>>,
    heap_seq: u64,
    last_unshifted: Option<i64>,
    raw_done: bool,
    max_buffered: usize,
    max_scanned: u64,
    pending_dedup: Option<i64>,
    master_done_for_good: bool,
    start_civil: i64,
    warnings: Vec<ExpandWarning>,
    /// The day number and date of the last master instance: consecutive instances mostly
    /// fall on the same day or the next, which need no calendar arithmetic.
    last_day: (i64, Option<Date>),
    /// The last times of day built for an instance's start and end (seconds of the day and
    /// the time): a rule's instances mostly share them.
    start_time: (i64, Option<Time>),
    end_time: (i64, Option<Time>),
}

impl Expansion {
    fn new(rec: &Recurrence, overrides: &[Override], options: &ExpandOptions) -> Expansion {
        let (frame, start_civil) = match &rec.dtstart {
            When::Date(d) => (Frame::Date, days_of(*d) * DAY),
            When::Floating(dt) => (Frame::Floating, secs_of(*dt)),
            When::Zoned { local, zone } => (Frame::Zoned(zone.clone()), secs_of(*local)),
            When::Utc(dt) => (Frame::Utc, secs_of(*dt)),
        };
        let cursor = match &frame {
            Frame::Zoned(z) => Some(ZoneCursor::new(z.clone())),
            _ => None,
        };
        let floating = options.floating_zone.clone().map(ZoneCursor::new);
        let mut exp = Expansion {
            frame,
            cursor,
            floating,
            length: rec.length,
            rules: Vec::new(),
            rdates: Vec::new(),
            rdate_pos: 0,
            exdates: Vec::new(),
            exrules: Vec::new(),
            last_civil: None,
            heap: BinaryHeap::new(),
            last_unix: None,
            master_done: false,
            override_rids: Vec::new(),
            future: Vec::new(),
            override_instances: Vec::new(),
            override_pos: 0,
            pending_master: None,
            from: options.from.map(Timestamp::as_second),
            to: options.to.map(Timestamp::as_second),
            shift_margin: 0,
            remaining: options.max_instances,
            capped: false,
            cap_checked: false,
            scanned: 0,
            shifted_heap: BinaryHeap::new(),
            heap_seq: 0,
            last_unshifted: None,
            raw_done: false,
            max_buffered: options.max_buffered,
            max_scanned: options.max_scanned,
            pending_dedup: None,
            master_done_for_good: false,
            start_civil,
            warnings: Vec::new(),
            last_day: (i64::MIN, None),
            start_time: (-1, None),
            end_time: (-1, None),
        };
        let dtstart_dt = datetime_of(start_civil).unwrap_or_default();
        let make_rule = |exp: &mut Expansion, rule: &Recur| -> RuleSource {
            let mut iter = RecurIter::with_limits(rule, dtstart_dt, options.recur_limits);
            if matches!(exp.frame, Frame::Date) {
                iter = iter.dates_only();
            }
            let mut until_unix = None;
            if let (Some(Until::Utc(u)), Frame::Zoned(z)) = (rule.until, &exp.frame) {
                // Compare in UTC, exactly (§3.3.10): let the civil bound run a day long and
                // check each instance's instant.
                let unix = secs_of(u);
                until_unix = Some(unix);
                let local = Timestamp::from_second(unix)
                    .ok()
                    .map(|t| secs_of(z.to_local(t).0) + DAY);
                iter = iter.with_until(local.and_then(datetime_of));
            }
            RuleSource {
                iter,
                cursor: until_unix.and(exp.cursor.clone()),
                until_unix,
                peek: None,
            }
        };
        for rule in &rec.rrules {
            let source = make_rule(&mut exp, rule);
            if let Some(scale) = source.iter.unsupported_scale() {
                exp.warnings.push(ExpandWarning::UnsupportedScale {
                    scale: scale.clone(),
                    exrule: false,
                });
            }
            exp.rules.push(source);
        }
        for rule in &rec.exrules {
            let mut source = make_rule(&mut exp, rule);
            if let Some(scale) = source.iter.unsupported_scale() {
                exp.warnings.push(ExpandWarning::UnsupportedScale {
                    scale: scale.clone(),
                    exrule: true,
                });
            }
            source.iter = source.iter.without_dtstart();
            exp.exrules.push(source);
        }
        if rec.rrules.is_empty() {
            exp.rdates.push((start_civil, None));
        }
        for rdate in &rec.rdates {
            let (when, length) = match rdate {
                RDate::At(w) => (w, None),
                RDate::Period { start, length } => (start, Some((length.days, length.seconds))),
            };
            if let Some(c) = exp.civil_of(when) {
                exp.rdates.push((c, length));
            }
        }
        exp.rdates.sort_unstable();
        exp.rdates.dedup_by_key(|r| r.0);
        exp.exdates = rec.exdates.iter().filter_map(|w| exp.civil_of(w)).collect();
        exp.exdates.sort_unstable();

        for (pos, o) in overrides.iter().enumerate() {
            let Some(rid) = exp.civil_of(&o.recurrence_id) else {
                continue;
            };
            exp.override_rids.push((rid, pos));
            let start = exp.moment_of(&o.start);
            if let Some((start_moment, start_key)) = start {
                let end = exp.end_of(start_moment, start_key, (o.length.days, o.length.seconds));
                exp.override_instances.push(Instance {
                    start: start_moment,
                    end: end.0,
                    recurrence_id: exp.rid_of(rid),
                    override_index: Some(o.index),
                    start_key,
                    end_key: end.1,
                });
                if o.this_and_future {
                    let rid_key = exp.key_of_civil(rid);
                    let shift = start_key - rid_key;
                    exp.shift_margin = exp.shift_margin.max(shift.abs());
                    exp.future.push((rid, shift, o.length, o.index));
                }
            }
        }
        exp.override_rids.sort_unstable();
        exp.future.sort_unstable_by_key(|f| f.0);
        exp.override_instances
            .sort_by_key(|i| (i.start_key, i.end_key));
        // Instances ending before the window: skip each rule's periods up to the window,
        // less the instance length, a shift margin and a day for zone offsets.
        if let Some(from) = exp.from {
            let reach =
                rec.length.days * DAY + rec.length.seconds.max(0) + exp.shift_margin + 2 * DAY;
            if let Some(target) = datetime_of(from - reach + 14 * 3600) {
                for r in exp.rules.iter_mut().chain(exp.exrules.iter_mut()) {
                    r.iter.skip_to(target);
                }
            }
        }
        exp
    }

    /// The instances of an object made only of overrides (no master component).
    pub(crate) fn overrides_only(overrides: &[Override], options: &ExpandOptions) -> Expansion {
        let anchor = overrides
            .first()
            .map_or(When::Floating(DateTime::default()), |o| {
                o.recurrence_id.clone()
            });
        let mut rec = Recurrence::new(anchor, Length::default());
        rec.rdates.clear();
        let mut exp = Expansion::new(&rec, overrides, options);
        exp.rdates.clear();
        exp.master_done = true;
        exp.master_done_for_good = true;
        exp.raw_done = true;
        exp
    }

    /// Whether the expansion stopped at the instance cap (more instances exist) or because
    /// a rule exceeded its [`RecurLimits`].
    #[must_use]
    pub fn truncated(&self) -> bool {
        self.capped || self.rules.iter().any(|r| r.iter.truncated())
    }

    /// What this expansion could not honour (known as soon as it is built): a rule in a
    /// calendar scale other than Gregorian, for example.
    #[must_use]
    pub fn warnings(&self) -> &[ExpandWarning] {
        &self.warnings
    }

    /// A property value's position in the master's local frame (civil seconds).
    fn civil_of(&self, when: &When) -> Option<i64> {
        let instant = |unix: i64| -> Option<i64> {
            match &self.frame {
                Frame::Zoned(z) => {
                    let t = Timestamp::from_second(unix).ok()?;
                    Some(secs_of(z.to_local(t).0))
                }
                _ => Some(unix),
            }
        };
        match (when, &self.frame) {
            (When::Date(d), Frame::Date) => Some(days_of(*d) * DAY),
            (When::Date(d), _) => {
                // A DATE against a DATE-TIME DTSTART: the instance on that date at DTSTART's
                // time is what producers mean.
                let start_tod = self.start_civil.rem_euclid(DAY);
                Some(days_of(*d) * DAY + start_tod)
            }
            (When::Floating(dt), _) => Some(secs_of(*dt)),
            (When::Zoned { local, zone }, Frame::Zoned(z)) if zone.name() == z.name() => {
                Some(secs_of(*local))
            }
            (When::Zoned { local, zone }, Frame::Date) => {
                let _ = zone;
                Some(secs_of(*local) - secs_of(*local).rem_euclid(DAY))
            }
            (When::Zoned { local, zone }, _) => {
                let unix = zone.to_timestamp(*local)?.as_second();
                instant(unix)
            }
            (When::Utc(dt), Frame::Date) => Some(secs_of(*dt) - secs_of(*dt).rem_euclid(DAY)),
            (When::Utc(dt), _) => instant(secs_of(*dt)),
        }
    }

    /// The sort key of civil seconds in the floating zone.
    fn floating_key(&self, civil: i64) -> i64 {
        match &self.floating {
            Some(c) => {
                let mut c = c.clone();
                c.resolve(civil).0
            }
            None => civil,
        }
    }

    fn key_of_civil(&self, civil: i64) -> i64 {
        match &self.frame {
            Frame::Zoned(z) => datetime_of(civil)
                .and_then(|dt| z.to_timestamp(dt))
                .map_or(civil, Timestamp::as_second),
            Frame::Utc => civil,
            Frame::Date | Frame::Floating => self.floating_key(civil),
        }
    }

    /// A property value as a moment of an instance, with its sort key.
    fn moment_of(&self, when: &When) -> Option<(Moment, i64)> {
        Some(match when {
            When::Date(d) => (Moment::Date(*d), self.floating_key(days_of(*d) * DAY)),
            When::Floating(dt) => (Moment::Floating(*dt), self.floating_key(secs_of(*dt))),
            When::Zoned { local, zone } => {
                let t = zone.to_timestamp(*local)?;
                let (local, offset) = zone.to_local(t);
                (Moment::Zoned { local, offset }, t.as_second())
            }
            When::Utc(dt) => (Moment::Utc(*dt), secs_of(*dt)),
        })
    }

    fn rid_of(&self, civil: i64) -> RecurrenceId {
        match self.frame {
            Frame::Date => RecurrenceId::Date(date_of(civil.div_euclid(DAY)).unwrap_or_default()),
            Frame::Floating | Frame::Zoned(_) => {
                RecurrenceId::Local(datetime_of(civil).unwrap_or_default())
            }
            Frame::Utc => RecurrenceId::Utc(datetime_of(civil).unwrap_or_default()),
        }
    }

    /// The end of an instance that starts at `start` and lasts (days, seconds).
    #[inline(always)]
    fn end_of(
        &mut self,
        start: Moment,
        start_key: i64,
        (days, seconds): (i64, i64),
    ) -> (Moment, i64) {
        match start {
            Moment::Date(d) => {
                let end_day = days_of(d) + days + seconds.div_euclid(DAY);
                let end = date_of(end_day).unwrap_or(d);
                (Moment::Date(end), self.floating_key(end_day * DAY))
            }
            Moment::Floating(dt) => {
                let civil = secs_of(dt) + days * DAY + seconds;
                let end = datetime_of(civil).unwrap_or(dt);
                (Moment::Floating(end), self.floating_key(civil))
            }
            Moment::Utc(dt) => {
                let civil = secs_of(dt) + days * DAY + seconds;
                (Moment::Utc(datetime_of(civil).unwrap_or(dt)), civil)
            }
            Moment::Zoned { local, offset } => {
                let unix = if days == 0 {
                    start_key + seconds
                } else {
                    let civil = secs_of(local) + days * DAY;
                    let base = match self.cursor.as_mut() {
                        Some(cursor) => cursor.resolve(civil).0,
                        None => civil - i64::from(offset.seconds()),
                    };
                    base + seconds
                };
                let moment = match self.cursor.as_mut() {
                    Some(cursor) => {
                        let (civil, off) = cursor.local(unix);
                        let start_civil = start_key + i64::from(offset.seconds());
                        // Most instances end on the day they start: only the time changes.
                        let end_local = if civil.div_euclid(DAY) == start_civil.div_euclid(DAY) {
                            cached_time(&mut self.end_time, civil)
                                .map(|t| local.date().to_datetime(t))
                        } else {
                            datetime_of(civil)
                        };
                        Moment::Zoned {
                            local: end_local.unwrap_or(local),
                            offset: if off == i64::from(offset.seconds()) {
                                offset
                            } else {
                                offset_of(off)
                            },
                        }
                    }
                    None => Moment::Zoned {
                        local: datetime_of(unix + i64::from(offset.seconds())).unwrap_or(local),
                        offset,
                    },
                };
                (moment, unix)
            }
        }
    }

    /// The next civil time of the master set (rules and RDATEs, less EXDATE and EXRULE), with
    /// an RDATE PERIOD's own length.
    fn next_civil(&mut self) -> Option<(i64, Option<(i64, i64)>)> {
        if self.exdates.is_empty()
            && self.exrules.is_empty()
            && self.rdate_pos >= self.rdates.len()
            && let [r] = self.rules.as_mut_slice()
            && r.peek.is_none()
        {
            // One rule and nothing else left: its instances are the set (the rule iterator
            // yields them increasing and without repeats, which `last_civil` checks as the
            // general path below does).
            loop {
                self.scanned += 1;
                let c = r.iter.next_civil()?;
                if let (Some(until), Some(cur)) = (r.until_unix, r.cursor.as_mut())
                    && cur.resolve(c).0 > until
                {
                    return None;
                }
                if self.last_civil.is_some_and(|l| c <= l) {
                    continue;
                }
                self.last_civil = Some(c);
                return Some((c, None));
            }
        }
        loop {
            let mut best: Option<(i64, Option<(i64, i64)>)> = None;
            for i in 0..self.rules.len() {
                let v = self.peek_rule(i);
                if let Some(v) = v
                    && best.is_none_or(|b| v < b.0)
                {
                    best = Some((v, None));
                }
            }
            if let Some(&(c, len)) = self.rdates.get(self.rdate_pos)
                && best.is_none_or(|b| c <= b.0)
            {
                best = Some((c, len));
            }
            let (c, len) = best?;
            // Consume every source at c.
            for r in &mut self.rules {
                if r.peek == Some(c) {
                    r.peek = None;
                }
            }
            while self.rdates.get(self.rdate_pos).is_some_and(|r| r.0 <= c) {
                self.rdate_pos += 1;
            }
            if self.last_civil.is_some_and(|l| c <= l) {
                continue;
            }
            self.last_civil = Some(c);
            if self.exdates.binary_search(&c).is_ok() || self.excluded_by_rule(c) {
                continue;
            }
            return Some((c, len));
        }
    }

    fn peek_rule(&mut self, i: usize) -> Option<i64> {
        let r = self.rules.get_mut(i)?;
        if r.peek.is_none() {
            self.scanned += 1;
            let next = r.iter.next_civil()?;
            if let (Some(until), Some(cur)) = (r.until_unix, r.cursor.as_mut())
                && cur.resolve(next).0 > until
            {
                return None;
            }
            r.peek = Some(next);
        }
        r.peek
    }

    fn excluded_by_rule(&mut self, c: i64) -> bool {
        for r in &mut self.exrules {
            loop {
                if r.peek.is_none() {
                    self.scanned += 1;
                    if self.scanned > self.max_scanned {
                        return false;
                    }
                    r.peek = r.iter.next_civil();
                }
                match r.peek {
                    Some(v) if v < c => {
                        r.peek = None;
                        if v < c - 2 * DAY
                            && let Some(target) = datetime_of(c - DAY)
                        {
                            // Far behind: jump to the period near `c` (rules without COUNT).
                            r.iter.skip_to(target);
                        }
                    }
                    Some(v) if v == c => return true,
                    _ => break,
                }
            }
        }
        false
    }

    /// The next master instance placed in time, in instant order, without duplicates.
    fn next_placed(&mut self) -> Option<Placed> {
        loop {
            if let Some(Reverse(top)) = self.heap.peek().copied() {
                let safe = self.master_done || self.last_unix.is_some_and(|l| top.unix <= l);
                if safe {
                    self.heap.pop();
                    return Some(top);
                }
            } else if self.master_done {
                return None;
            }
            if self.scanned > self.max_scanned {
                self.master_done = true;
                self.capped = true;
                continue;
            }
            let Some((civil, length)) = self.next_civil() else {
                self.master_done = true;
                continue;
            };
            let (unix, offset, moved, bound) = match (&self.frame, &mut self.cursor) {
                (Frame::Zoned(_), Some(cursor)) => {
                    let (unix, actual, moved) = cursor.resolve(civil);
                    // A moved time is at civil - offset before; later instances are no earlier
                    // than civil - offset after.
                    (
                        unix,
                        actual,
                        moved,
                        if moved { civil - actual } else { unix },
                    )
                }
                (Frame::Utc, _) => (civil, 0, false, civil),
                _ => {
                    let key = self.floating_key(civil);
                    (key, 0, false, key)
                }
            };
            let placed = Placed {
                unix,
                moved,
                civil,
                offset,
                length,
            };
            self.last_unix = Some(bound);
            if self.heap.is_empty() && !moved {
                return Some(placed);
            }
            self.heap.push(Reverse(placed));
        }
    }

    /// Master instances in start order: a THISANDFUTURE override can move later instances
    /// before earlier ones, by at most `shift_margin`, so those wait in a heap until no later
    /// instance can start before them.
    #[inline(always)]
    fn next_master(&mut self) -> Option<Instance> {
        if self.shift_margin == 0 {
            return self.next_master_raw();
        }
        loop {
            if let Some(Reverse(top)) = self.shifted_heap.peek() {
                let safe = self.raw_done
                    || self
                        .last_unshifted
                        .is_some_and(|l| top.0 <= l.saturating_sub(self.shift_margin));
                if safe {
                    return self.shifted_heap.pop().map(|Reverse(h)| h.3);
                }
            } else if self.raw_done {
                return None;
            }
            match self.next_master_raw() {
                Some(instance) => {
                    if self.shifted_heap.len() >= self.max_buffered {
                        self.raw_done = true;
                        self.capped = true;
                    }
                    self.heap_seq += 1;
                    self.shifted_heap.push(Reverse(Queued(
                        instance.start_key,
                        instance.end_key,
                        self.heap_seq,
                        instance,
                    )));
                }
                None => self.raw_done = true,
            }
        }
    }

    /// The next master instance, moved by a `THISANDFUTURE` override if one applies; its
    /// unmoved start goes to `last_unshifted`.
    fn next_master_raw(&mut self) -> Option<Instance> {
        loop {
            let p = self.next_placed()?;
            if self.dedup_seen(p.unix) {
                continue;
            }
            if self
                .override_rids
                .binary_search_by_key(&p.civil, |r| r.0)
                .is_ok()
            {
                continue;
            }
            let civil_dt = self.civil_datetime(p.civil);
            let (rid, start) = match self.frame {
                Frame::Date => {
                    let d = civil_dt.date();
                    (RecurrenceId::Date(d), Moment::Date(d))
                }
                Frame::Floating => (RecurrenceId::Local(civil_dt), Moment::Floating(civil_dt)),
                Frame::Utc => (RecurrenceId::Utc(civil_dt), Moment::Utc(civil_dt)),
                Frame::Zoned(_) => {
                    let local = if p.moved {
                        datetime_of(p.unix + p.offset).unwrap_or_default()
                    } else {
                        civil_dt
                    };
                    (
                        RecurrenceId::Local(civil_dt),
                        Moment::Zoned {
                            local,
                            offset: offset_of(p.offset),
                        },
                    )
                }
            };
            let start_key = p.unix;
            let mut length = p.length.unwrap_or((self.length.days, self.length.seconds));
            let mut override_index = None;
            let (mut start, mut start_key) = (start, start_key);
            let future_at = self.future.partition_point(|f| f.0 < p.civil);
            if let Some(&(_, shift, len, index)) =
                future_at.checked_sub(1).and_then(|i| self.future.get(i))
            {
                if shift != 0
                    && let Some((m, k)) = self.shifted(start, start_key, shift)
                {
                    start = m;
                    start_key = k;
                }
                length = (len.days, len.seconds);
                override_index = Some(index);
            }
            let (end, end_key) = self.end_of(start, start_key, length);
            self.last_unshifted = Some(p.unix);
            return Some(Instance {
                start,
                end,
                recurrence_id: rid,
                override_index,
                start_key,
                end_key,
            });
        }
    }

    /// [`datetime_of`] (default outside jiff's range), with the date of the last call reused
    /// for the same day, advanced for the next day or a later day of the same month, and
    /// computed from the day number only otherwise.
    #[inline]
    fn civil_datetime(&mut self, civil: i64) -> DateTime {
        let day = civil.div_euclid(DAY);
        let (last, date) = self.last_day;
        let date = if day == last {
            date
        } else {
            let ahead = day.wrapping_sub(last);
            let date = match date {
                Some(d) if ahead == 1 => d.tomorrow().ok(),
                // Later in the same month (weekly rules): only the day of the month moves.
                Some(d) if ahead > 1 && ahead < i64::from(d.days_in_month() - d.day()) + 1 => {
                    i8::try_from(ahead)
                        .ok()
                        .and_then(|a| Date::new(d.year(), d.month(), d.day() + a).ok())
                }
                _ => date_of(day),
            };
            self.last_day = (day, date);
            date
        };
        match (date, cached_time(&mut self.start_time, civil)) {
            (Some(d), Some(t)) => d.to_datetime(t),
            _ => DateTime::default(),
        }
    }

    fn dedup_seen(&mut self, unix: i64) -> bool {
        // `next_placed` yields in instant order; equal instants come out together, the one
        // whose local time exists first.
        if self.pending_dedup.is_some_and(|l| unix <= l) {
            return true;
        }
        self.pending_dedup = Some(unix);
        false
    }

    fn shifted(&self, start: Moment, key: i64, shift: i64) -> Option<(Moment, i64)> {
        let unix = key + shift;
        Some(match start {
            Moment::Date(d) => {
                let day = days_of(d) + shift.div_euclid(DAY);
                (Moment::Date(date_of(day)?), self.floating_key(day * DAY))
            }
            Moment::Floating(dt) => {
                let civil = secs_of(dt) + shift;
                (
                    Moment::Floating(datetime_of(civil)?),
                    self.floating_key(civil),
                )
            }
            Moment::Utc(dt) => (Moment::Utc(datetime_of(secs_of(dt) + shift)?), unix),
            Moment::Zoned { .. } => match &self.frame {
                Frame::Zoned(z) => {
                    let (local, offset) = z.to_local(Timestamp::from_second(unix).ok()?);
                    (Moment::Zoned { local, offset }, unix)
                }
                _ => return None,
            },
        })
    }

    fn in_window(&self, i: &Instance) -> bool {
        if let Some(to) = self.to
            && i.start_key >= to
        {
            return false;
        }
        if let Some(from) = self.from {
            if i.end_key > i.start_key {
                return i.end_key > from;
            }
            return i.start_key >= from;
        }
        true
    }
}

impl Iterator for Expansion {
    type Item = Instance;

    fn next(&mut self) -> Option<Instance> {
        loop {
            if self.remaining == 0 {
                if !self.capped && !self.cap_checked {
                    // Say whether the cap cut anything: look for one more instance.
                    self.cap_checked = true;
                    self.remaining = 1;
                    self.capped = self.next().is_some();
                    self.remaining = 0;
                }
                return None;
            }
            if self.pending_master.is_none()
                && !self.master_exhausted()
                && self.override_pos >= self.override_instances.len()
            {
                // No override left to merge with: a master instance goes straight out.
                let Some(instance) = self.next_master() else {
                    self.master_done_for_good = true;
                    return None;
                };
                if let Some(to) = self.to
                    && instance.start_key >= to.saturating_add(self.shift_margin)
                {
                    self.master_done_for_good = true;
                    return None;
                }
                if self.in_window(&instance) {
                    self.remaining -= 1;
                    return Some(instance);
                }
                continue;
            }
            if self.pending_master.is_none() && !self.master_exhausted() {
                self.pending_master = self.next_master();
                if self.pending_master.is_none() {
                    self.master_done_for_good = true;
                }
            }
            let next_override = self.override_instances.get(self.override_pos);
            let take_override = match (&self.pending_master, next_override) {
                (Some(m), Some(o)) => (o.start_key, o.end_key) <= (m.start_key, m.end_key),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => return None,
            };
            let instance = if take_override {
                let o = next_override.copied()?;
                self.override_pos += 1;
                o
            } else {
                self.pending_master.take()?
            };
            if let Some(to) = self.to
                && !take_override
                && instance.start_key >= to.saturating_add(self.shift_margin)
            {
                // Master instances only grow from here.
                self.master_done_for_good = true;
                continue;
            }
            if self.in_window(&instance) {
                self.remaining -= 1;
                return Some(instance);
            }
        }
    }
}

impl Expansion {
    fn master_exhausted(&self) -> bool {
        self.master_done_for_good
    }
}

/// [`time_of`], reusing the last answer for the same time of day.
#[inline]
fn cached_time(cache: &mut (i64, Option<Time>), civil: i64) -> Option<Time> {
    let tod = civil.rem_euclid(DAY);
    if cache.0 != tod {
        *cache = (tod, time_of(civil));
    }
    cache.1
}

fn offset_of(seconds: i64) -> Offset {
    i32::try_from(seconds)
        .ok()
        .and_then(|s| Offset::from_seconds(s).ok())
        .unwrap_or(Offset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn berlin(local: DateTime, rule: &str) -> Recurrence {
        let zone = Zone::iana("Europe/Berlin").unwrap();
        let mut rec = Recurrence::new(When::Zoned { local, zone }, Length::seconds(5400));
        rec.rrules.push(Recur::parse(rule).unwrap());
        rec
    }

    /// The date of the last instance is reused or advanced rather than recomputed: every
    /// instance's RECURRENCE-ID and local start must still be the rule's own date-time, across
    /// month and year ends, leap days and irregular steps.
    #[test]
    fn instance_dates_follow_the_rule_across_months_and_years() {
        // Hourly every 5 hours from 22:30 meets 02:30 on the spring-forward day of 2000.
        let cases = [
            (
                date(2000, 1, 3).at(9, 0, 0, 0),
                "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=700",
            ),
            (date(2000, 1, 1).at(9, 0, 0, 0), "FREQ=DAILY;COUNT=1500"),
            (
                date(2000, 1, 1).at(22, 30, 0, 0),
                "FREQ=HOURLY;INTERVAL=5;COUNT=3000",
            ),
            (
                date(2000, 1, 1).at(9, 0, 0, 0),
                "FREQ=MONTHLY;BYMONTHDAY=1,15,28,-1;COUNT=300",
            ),
            (
                date(2000, 1, 5).at(9, 0, 0, 0),
                "FREQ=DAILY;INTERVAL=9;COUNT=500",
            ),
            (
                date(2000, 2, 29).at(9, 0, 0, 0),
                "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;COUNT=40",
            ),
        ];
        for (start, rule) in cases {
            let rec = berlin(start, rule);
            let want: Vec<DateTime> = RecurIter::new(&Recur::parse(rule).unwrap(), start).collect();
            let got: Vec<Instance> = expand(&rec, &[], &ExpandOptions::default()).collect();
            assert_eq!(got.len(), want.len(), "{rule}");
            for (i, dt) in got.iter().zip(&want) {
                assert_eq!(i.recurrence_id, RecurrenceId::Local(*dt), "{rule}");
                match i.start {
                    Moment::Zoned { local, offset } => {
                        // A local time in a DST gap starts later by the gap (§3.3.5).
                        let zone = Zone::iana("Europe/Berlin").unwrap();
                        let at = zone.to_timestamp(*dt).unwrap();
                        assert_eq!((local, offset), zone.to_local(at), "{rule} {dt}");
                        assert_eq!(i.start_key, at.as_second(), "{rule} {dt}");
                    }
                    other => panic!("{rule}: {other:?}"),
                }
            }
        }
    }

    /// A window far from DTSTART costs the same whatever its distance: the rules of the simple
    /// frequencies skip to it, so a handful of computed instances is enough to reach the
    /// years 2104, 5004 and 8996 from 2000.
    #[test]
    fn far_window_needs_constant_work() {
        let rules = [
            (date(2000, 1, 1).at(9, 0, 0, 0), "FREQ=DAILY", 29),
            (
                date(2000, 1, 3).at(9, 0, 0, 0),
                "FREQ=WEEKLY;BYDAY=MO,WE,FR",
                12,
            ),
            (
                date(2000, 1, 28).at(9, 0, 0, 0),
                "FREQ=MONTHLY;BYDAY=-1FR",
                1,
            ),
            (
                date(2000, 2, 29).at(9, 0, 0, 0),
                "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
                1,
            ),
        ];
        for (start, rule, per_february) in rules {
            let rec = berlin(start, rule);
            for year in [2104, 5004, 8996] {
                let options = ExpandOptions {
                    from: Some(format!("{year}-02-01T00:00:00Z").parse().unwrap()),
                    to: Some(format!("{year}-03-01T00:00:00Z").parse().unwrap()),
                    max_scanned: 60,
                    ..ExpandOptions::default()
                };
                let mut it = expand(&rec, &[], &options);
                let got: Vec<Instance> = it.by_ref().collect();
                assert!(
                    !it.truncated(),
                    "{rule} {year}: reached within 60 instances"
                );
                let n = got.len();
                assert!(
                    (per_february..=per_february + 1).contains(&n),
                    "{rule} {year}: {n}"
                );
                for i in &got {
                    let RecurrenceId::Local(dt) = i.recurrence_id else {
                        panic!("{rule}: {:?}", i.recurrence_id);
                    };
                    assert_eq!((dt.year(), dt.month()), (year, 2), "{rule}");
                }
            }
        }
    }
}
