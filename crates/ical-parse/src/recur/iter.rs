//! Iterating the civil date-times of one rule (RFC 5545 §3.3.10).
//!
//! The iterator walks the rule's periods (a year, month, week, day, hour, minute or second,
//! stepped by `INTERVAL`), builds each period's candidate set following the table of §3.3.10
//! (`BYMONTH`, `BYWEEKNO`, `BYYEARDAY`, `BYMONTHDAY`, `BYDAY` expand or limit depending on
//! `FREQ`; `BYHOUR`, `BYMINUTE`, `BYSECOND` likewise), applies `BYSETPOS` to that set, and
//! yields what is not before DTSTART, up to `COUNT` or `UNTIL`.
//!
//! ```text
//! +----------+--------+--------+-------+-------+------+-------+------+
//! |          |SECONDLY|MINUTELY|HOURLY |DAILY  |WEEKLY|MONTHLY|YEARLY|
//! +----------+--------+--------+-------+-------+------+-------+------+
//! |BYMONTH   |Limit   |Limit   |Limit  |Limit  |Limit |Limit  |Expand|
//! |BYWEEKNO  |N/A     |N/A     |N/A    |N/A    |N/A   |N/A    |Expand|
//! |BYYEARDAY |Limit   |Limit   |Limit  |N/A    |N/A   |N/A    |Expand|
//! |BYMONTHDAY|Limit   |Limit   |Limit  |Limit  |N/A   |Expand |Expand|
//! |BYDAY     |Limit   |Limit   |Limit  |Limit  |Expand|Note 1 |Note 2|
//! |BYHOUR    |Limit   |Limit   |Limit  |Expand |Expand|Expand |Expand|
//! |BYMINUTE  |Limit   |Limit   |Expand |Expand |Expand|Expand |Expand|
//! |BYSECOND  |Limit   |Expand  |Expand |Expand |Expand|Expand |Expand|
//! |BYSETPOS  |Limit   |Limit   |Limit  |Limit  |Limit |Limit  |Limit |
//! +----------+--------+--------+-------+-------+------+-------+------+
//! ```
//!
//! Parts the table marks N/A are applied as limits rather than rejected. Days that do not exist
//! (February 30, a fifth Friday) are skipped, never clamped, unless RFC 7529 `SKIP` says
//! otherwise. DTSTART is the first instance and counts toward `COUNT` (§3.8.5.3), whether or not
//! it matches the rule.
//!
//! Every loop is bounded: a rule whose periods stop producing instances for a whole 400-year
//! Gregorian cycle can never produce one again and ends; sub-daily rules skip whole days and
//! hours that their filters reject and end after [`RecurLimits::max_empty_periods`] empty
//! periods in a row (reported by [`RecurIter::truncated`]).

use super::civil::{
    DAY, civil_from_days, datetime_of, days_from_civil, days_in_month, days_in_year, secs_of,
    weekday_of,
};
use super::{Frequency, Recur, Skip, UnsupportedScale, Until};
use jiff::civil::DateTime;

/// Bounds on the work a [`RecurIter`] does for one instance.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecurLimits {
    /// For `SECONDLY`/`MINUTELY`/`HOURLY` rules: how many consecutive periods (or skipped
    /// days) without an instance end the iteration. Coarser rules end exactly, after a
    /// 400-year cycle without instances.
    pub max_empty_periods: u32,
}

impl Default for RecurLimits {
    fn default() -> Self {
        RecurLimits {
            max_empty_periods: 1_000_000,
        }
    }
}

/// A lazy iterator over the civil date-times of one RRULE or EXRULE from a DTSTART.
///
/// # Example
///
/// ```
/// use ical_parse::recur::{Recur, RecurIter};
/// use jiff::civil::date;
///
/// let rule = Recur::parse("FREQ=MONTHLY;BYDAY=-1FR;COUNT=3").unwrap();
/// let got: Vec<_> = RecurIter::new(&rule, date(2024, 1, 26).at(9, 0, 0, 0)).collect();
/// assert_eq!(got, [
///     date(2024, 1, 26).at(9, 0, 0, 0),
///     date(2024, 2, 23).at(9, 0, 0, 0),
///     date(2024, 3, 29).at(9, 0, 0, 0),
/// ]);
/// ```
#[derive(Clone, Debug)]
pub struct RecurIter {
    freq: Frequency,
    count: Option<u64>,
    until: Option<i64>,
    start: i64,
    include_start: bool,
    skip: Skip,
    wkst: i64,
    /// Bit m set for month m; 0 means no month filter.
    month_mask: u16,
    /// Whether BYMONTH was given (BYDAY ordinals then count within the month for YEARLY).
    explicit_month: bool,
    month_days: Vec<i8>,
    year_days: Vec<i16>,
    week_nos: Vec<i8>,
    /// Bit w (Monday = 0) for weekdays without an ordinal.
    weekday_mask: u8,
    ordinal_days: Vec<(i8, i64)>,
    set_pos: Vec<i16>,
    /// Expanded or limiting time parts, sorted and deduplicated.
    hours: Vec<i64>,
    minutes: Vec<i64>,
    seconds: Vec<i64>,
    /// Seconds of the day of every (hour, minute, second), for daily and coarser rules.
    times: Vec<i64>,
    /// First period (DAILY: day number, WEEKLY: week-start day, MONTHLY: month index,
    /// YEARLY: year, sub-daily: civil seconds of the period start).
    origin: i64,
    /// Step between periods in the same unit as `origin`.
    step: i64,
    period: i64,
    buf: Vec<i64>,
    /// Reused candidate days of a period.
    scratch: Vec<i64>,
    /// No day-level part at all: every day passes.
    every_day: bool,
    /// Only plain BYDAY weekdays filter days (WEEKLY;BYDAY=MO,WE,FR and the like).
    weekdays_only: bool,
    buf_pos: usize,
    emitted: u64,
    last: Option<i64>,
    date_only: bool,
    empty_run: u64,
    empty_limit: u64,
    start_pending: bool,
    done: bool,
    /// No period can hold an instance (a non-Gregorian scale, only leap months): DTSTART
    /// alone.
    barren: bool,
    truncated: bool,
    /// A non-Gregorian `RSCALE`: only DTSTART is yielded.
    unsupported: Option<Box<UnsupportedScale>>,
}

impl RecurIter {
    /// Iterate `rule` from `dtstart` (which is the first instance), with default limits.
    ///
    /// A rule in a calendar scale other than Gregorian yields DTSTART alone and says why in
    /// [`RecurIter::unsupported_scale`]; [`RecurIter::try_new`] refuses it instead.
    ///
    /// `UNTIL` is compared in civil time: a UTC `UNTIL` is taken as it stands, which is exact
    /// for UTC and floating DTSTARTs; zone-aware callers convert it with
    /// [`RecurIter::with_until`] (`crate::expand` does).
    #[must_use]
    pub fn new(rule: &Recur, dtstart: DateTime) -> RecurIter {
        RecurIter::with_limits(rule, dtstart, RecurLimits::default())
    }

    /// Iterate `rule` from `dtstart`, refusing a calendar scale this crate does not expand.
    ///
    /// # Errors
    ///
    /// [`UnsupportedScale`] when the rule has an `RSCALE` other than `GREGORIAN`.
    pub fn try_new(rule: &Recur, dtstart: DateTime) -> Result<RecurIter, UnsupportedScale> {
        RecurIter::try_with_limits(rule, dtstart, RecurLimits::default())
    }

    /// [`RecurIter::with_limits`], refusing a calendar scale this crate does not expand.
    ///
    /// # Errors
    ///
    /// [`UnsupportedScale`] when the rule has an `RSCALE` other than `GREGORIAN`.
    pub fn try_with_limits(
        rule: &Recur,
        dtstart: DateTime,
        limits: RecurLimits,
    ) -> Result<RecurIter, UnsupportedScale> {
        rule.check_scale()?;
        Ok(RecurIter::with_limits(rule, dtstart, limits))
    }

    /// The calendar scale that kept this rule from being expanded, if any: a rule with a
    /// non-Gregorian `RSCALE` yields DTSTART alone (the one instance that is certain in any
    /// scale), never Gregorian dates in its place.
    #[must_use]
    pub fn unsupported_scale(&self) -> Option<&UnsupportedScale> {
        self.unsupported.as_deref()
    }

    /// Iterate `rule` from `dtstart` with explicit limits.
    ///
    /// A rule in a calendar scale other than Gregorian yields DTSTART alone and says why in
    /// [`RecurIter::unsupported_scale`]; [`RecurIter::try_with_limits`] refuses it instead.
    #[must_use]
    pub fn with_limits(rule: &Recur, dtstart: DateTime, limits: RecurLimits) -> RecurIter {
        let start = secs_of(dtstart);
        let start_day = start.div_euclid(DAY);
        let (y0, m0, d0) = civil_from_days(start_day);
        let tod = start.rem_euclid(DAY);
        let (h0, mi0, s0) = (tod / 3600, tod / 60 % 60, tod % 60);
        let freq = rule.freq;
        let interval = i64::from(rule.interval().max(1));
        let until = rule.until.map(|u| match u {
            Until::Date(d) => super::civil::days_of(d) * DAY + DAY - 1,
            Until::Local(dt) | Until::Utc(dt) => secs_of(dt),
        });
        let wkst = i64::from(rule.week_start().to_monday_zero_offset());

        let mut month_mask: u16 = 0;
        for m in &rule.by_month {
            if !m.leap {
                month_mask |= 1 << m.month;
            }
        }
        let explicit_month = !rule.by_month.is_empty();
        // Leap months never occur in the Gregorian scale: a BYMONTH of only leap months
        // matches nothing, which the `never` flag below records.
        let never = (explicit_month && month_mask == 0) || !rule.is_gregorian();
        let mut month_days = rule.by_month_day.clone();
        let mut weekday_mask: u8 = 0;
        let mut ordinal_days = Vec::new();
        for wd in &rule.by_day {
            let w = i64::from(wd.weekday.to_monday_zero_offset());
            match wd.ordinal {
                Some(n) if matches!(freq, Frequency::Monthly | Frequency::Yearly) => {
                    ordinal_days.push((n, w));
                }
                _ => weekday_mask |= 1 << w,
            }
        }
        let day_parts_given = !rule.by_week_no.is_empty()
            || !rule.by_year_day.is_empty()
            || !rule.by_month_day.is_empty()
            || !rule.by_day.is_empty();
        if !day_parts_given {
            match freq {
                Frequency::Yearly => {
                    if !explicit_month {
                        month_mask = 1 << m0;
                    }
                    month_days.push(i8::try_from(d0).unwrap_or(1));
                }
                Frequency::Monthly => month_days.push(i8::try_from(d0).unwrap_or(1)),
                Frequency::Weekly => weekday_mask = 1 << weekday_of(start_day),
                _ => {}
            }
        } else if freq == Frequency::Yearly
            && !rule.by_week_no.is_empty()
            && rule.by_day.is_empty()
            && rule.by_month_day.is_empty()
            && rule.by_year_day.is_empty()
        {
            // §3.3.10: what the rule does not say comes from DTSTART, as the day of the month
            // does for `FREQ=YEARLY;BYMONTH=1`: a week number alone takes DTSTART's weekday.
            weekday_mask = 1 << weekday_of(start_day);
        }
        let sorted = |v: &[u8], default: i64, expand: bool| -> Vec<i64> {
            let mut out: Vec<i64> = v.iter().map(|x| i64::from(*x)).collect();
            if out.is_empty() && expand {
                out.push(default);
            }
            out.sort_unstable();
            out.dedup();
            out
        };
        let sub_daily = freq < Frequency::Daily;
        let hours = sorted(&rule.by_hour, h0, !sub_daily);
        let minutes = sorted(&rule.by_minute, mi0, freq > Frequency::Minutely);
        // Second 60 (a leap second) has no civil time: it never matches.
        let seconds: Vec<i64> = sorted(&rule.by_second, s0, freq > Frequency::Secondly)
            .into_iter()
            .filter(|s| *s < 60)
            .collect();
        let never = never || (!rule.by_second.is_empty() && seconds.is_empty());
        let mut times = Vec::new();
        if !sub_daily {
            for h in &hours {
                for m in &minutes {
                    for s in &seconds {
                        times.push(h * 3600 + m * 60 + s);
                    }
                }
            }
        }
        let (origin, step) = match freq {
            Frequency::Yearly => (y0, interval),
            Frequency::Monthly => (y0 * 12 + m0 - 1, interval),
            Frequency::Weekly => (
                start_day - (weekday_of(start_day) - wkst).rem_euclid(7),
                7 * interval,
            ),
            Frequency::Daily => (start_day, interval),
            Frequency::Hourly => (start - start.rem_euclid(3600), 3600 * interval),
            Frequency::Minutely => (start - start.rem_euclid(60), 60 * interval),
            Frequency::Secondly => (start, interval),
        };
        let empty_limit = match freq {
            Frequency::Yearly => 400,
            Frequency::Monthly => 4800,
            Frequency::Weekly => 20_871,
            Frequency::Daily => 146_097,
            _ => u64::from(limits.max_empty_periods),
        };
        let every_day = month_mask == 0
            && month_days.is_empty()
            && rule.by_year_day.is_empty()
            && rule.by_week_no.is_empty()
            && weekday_mask == 0
            && ordinal_days.is_empty();
        let weekdays_only = month_mask == 0
            && month_days.is_empty()
            && rule.by_year_day.is_empty()
            && rule.by_week_no.is_empty()
            && weekday_mask != 0
            && ordinal_days.is_empty();
        let mut month_days_sorted = month_days;
        month_days_sorted.sort_unstable();
        month_days_sorted.dedup();
        RecurIter {
            freq,
            count: rule.count.map(u64::from),
            until,
            start,
            include_start: true,
            skip: rule.skip(),
            wkst,
            month_mask,
            explicit_month,
            month_days: month_days_sorted,
            year_days: rule.by_year_day.clone(),
            week_nos: rule.by_week_no.clone(),
            weekday_mask,
            ordinal_days,
            set_pos: rule.by_set_pos.clone(),
            hours,
            minutes,
            seconds,
            times,
            origin,
            step,
            period: 0,
            buf: Vec::new(),
            scratch: Vec::new(),
            every_day,
            weekdays_only,
            buf_pos: 0,
            emitted: 0,
            last: None,
            date_only: false,
            empty_run: 0,
            empty_limit,
            start_pending: true,
            done: false,
            barren: never,
            truncated: false,
            unsupported: rule.check_scale().err().map(Box::new),
        }
    }

    /// Don't yield DTSTART unless it matches the rule: the reading EXRULE needs (an EXRULE
    /// excludes the rule's own instances, not DTSTART).
    #[must_use]
    pub fn without_dtstart(mut self) -> RecurIter {
        self.include_start = false;
        self.start_pending = false;
        self
    }

    /// Iterate dates: `dtstart` is a DATE (midnight given here), the time parts of the rule
    /// are ignored, and instances of a sub-daily rule that fall on the same day collapse to
    /// one (an all-day event's instances are days).
    #[must_use]
    pub fn dates_only(mut self) -> RecurIter {
        self.date_only = true;
        self.times = vec![0];
        self
    }

    /// Replace the civil bound `UNTIL` is compared with (inclusive); `None` removes it.
    #[must_use]
    pub fn with_until(mut self, until: Option<DateTime>) -> RecurIter {
        self.until = until.map(secs_of);
        self
    }

    /// Whether the iteration ended because [`RecurLimits::max_empty_periods`] was exceeded,
    /// rather than by the rule's own end.
    #[must_use]
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Skip the periods that end before `target`, so that the next instances are those near
    /// `target` without computing every one before it.
    ///
    /// A rule with `COUNT` cannot skip (each instance before `target` counts), so this does
    /// nothing for it; instances before `target` may still be yielded from the period that
    /// contains `target`, so callers filter what they receive.
    pub fn skip_to(&mut self, target: DateTime) {
        if self.count.is_some() || self.done {
            return;
        }
        let t = secs_of(target);
        if t <= self.start {
            return;
        }
        let day = t.div_euclid(DAY);
        let (y, m, _) = civil_from_days(day);
        let unit = match self.freq {
            Frequency::Yearly => y,
            Frequency::Monthly => y * 12 + m - 1,
            Frequency::Weekly | Frequency::Daily => day,
            _ => t,
        };
        let p = (unit - self.origin).div_euclid(self.step);
        if p > self.period {
            self.period = p;
            self.buf.clear();
            self.buf_pos = 0;
            self.empty_run = 0;
        }
        self.start_pending = false;
    }

    /// The next instance as civil seconds.
    #[inline]
    fn next_secs(&mut self) -> Option<i64> {
        if self.done {
            return None;
        }
        if self.start_pending {
            self.start_pending = false;
            if self.until.is_some_and(|u| self.start > u) {
                self.done = true;
                return None;
            }
            return self.emit(self.start);
        }
        if self.barren {
            self.done = true;
            return None;
        }
        loop {
            if let Some(&t) = self.buf.get(self.buf_pos) {
                self.buf_pos += 1;
                let t = if self.date_only {
                    t - t.rem_euclid(DAY)
                } else {
                    t
                };
                if t < self.start
                    || (self.include_start && t == self.start)
                    || self.last.is_some_and(|l| t <= l)
                {
                    if self.date_only && self.freq < Frequency::Daily {
                        // The rest of this day adds nothing to a date: go to the next one.
                        let next_day = t + DAY;
                        let k = (next_day - self.origin + self.step - 1).div_euclid(self.step);
                        if k > self.period {
                            self.period = k;
                            self.buf.clear();
                            self.buf_pos = 0;
                        }
                    }
                    continue;
                }
                if self.until.is_some_and(|u| t > u) {
                    self.done = true;
                    return None;
                }
                return self.emit(t);
            }
            if self.empty_run > self.empty_limit {
                self.done = true;
                self.truncated = self.freq < Frequency::Daily;
                return None;
            }
            if !self.fill() {
                self.done = true;
                return None;
            }
        }
    }

    fn emit(&mut self, t: i64) -> Option<i64> {
        self.last = Some(t);
        self.emitted += 1;
        self.empty_run = 0;
        if self.count.is_some_and(|c| self.emitted >= c) {
            self.done = true;
        }
        Some(t)
    }

    /// Build the next period's set into `buf`; false when the calendar's range is exhausted.
    #[inline(never)]
    fn fill(&mut self) -> bool {
        self.buf.clear();
        self.buf_pos = 0;
        let p = self.period;
        self.period += 1;
        let unit = self.origin + p * self.step;
        if self.freq == Frequency::Daily && self.every_day && self.set_pos.is_empty() {
            // Every day is a candidate: the period is its times.
            if unit > MAX_DAY {
                return false;
            }
            for t in &self.times {
                self.buf.push(unit * DAY + t);
            }
            return true;
        }
        if self.freq == Frequency::Weekly && self.weekdays_only {
            // WEEKLY;BYDAY=MO,WE,FR and the like: the week's days in order, no day set.
            if unit > MAX_DAY {
                return false;
            }
            // Rotate the weekday mask so that bit i stands for the day `unit + i`, then visit
            // its set bits only.
            let w = u32::try_from(weekday_of(unit)).unwrap_or(0);
            let mask = u32::from(self.weekday_mask) & 0x7f;
            let mut days = ((mask >> w) | (mask << (7 - w))) & 0x7f;
            while days != 0 {
                let d = unit + i64::from(days.trailing_zeros());
                days &= days - 1;
                for t in &self.times {
                    self.buf.push(d * DAY + t);
                }
            }
            if !self.set_pos.is_empty() {
                self.apply_set_pos();
            }
            if self.buf.is_empty() {
                self.empty_run += 1;
            }
            return true;
        }
        let mut days = std::mem::take(&mut self.scratch);
        days.clear();
        // Days generated in date order without repeats need no sort.
        let mut in_order = false;
        match self.freq {
            Frequency::Yearly => {
                if unit > 9999 {
                    return false;
                }
                self.year_days_of(unit, &mut days);
            }
            Frequency::Monthly => {
                let (y, m) = (unit.div_euclid(12), unit.rem_euclid(12) + 1);
                if y > 9999 {
                    return false;
                }
                if self.month_mask == 0 || self.month_mask & (1 << m) != 0 {
                    self.month_days_of(y, m, &mut days);
                }
                in_order = self.month_days.is_empty() && self.ordinal_days.is_empty();
            }
            Frequency::Weekly => {
                if unit > MAX_DAY {
                    return false;
                }
                for d in unit..unit + 7 {
                    if self.day_ok(d, true, true) {
                        days.push(d);
                    }
                }
            }
            Frequency::Daily => {
                if unit > MAX_DAY {
                    return false;
                }
                if self.day_ok(unit, true, true) {
                    days.push(unit);
                }
            }
            _ => return self.fill_sub_daily(unit),
        }
        if days.is_empty() {
            self.empty_run += 1;
            self.scratch = days;
            return true;
        }
        if !in_order {
            if !days.is_sorted() {
                days.sort_unstable();
            }
            days.dedup();
        }
        if let ([t], false) = (self.times.as_slice(), self.set_pos.is_empty()) {
            // One time a day: BYSETPOS picks days, no need to build every candidate first.
            pick_positions(&self.set_pos, &days, &mut self.buf);
            for v in &mut self.buf {
                *v = *v * DAY + t;
            }
            self.scratch = days;
        } else {
            for d in &days {
                for t in &self.times {
                    self.buf.push(d * DAY + t);
                }
            }
            self.scratch = days;
            self.apply_set_pos();
        }
        if self.buf.is_empty() {
            self.empty_run += 1;
        }
        true
    }

    fn fill_sub_daily(&mut self, t: i64) -> bool {
        let day = t.div_euclid(DAY);
        if day > MAX_DAY {
            return false;
        }
        let tod = t.rem_euclid(DAY);
        let (h, mi, s) = (tod / 3600, tod / 60 % 60, tod % 60);
        let reject_until = if !self.day_ok(day, true, true) {
            Some((day + 1) * DAY)
        } else if !self.hours.is_empty() && !self.hours.contains(&h) {
            Some(t - t.rem_euclid(3600) + 3600)
        } else if self.freq < Frequency::Hourly
            && !self.minutes.is_empty()
            && !self.minutes.contains(&mi)
        {
            Some(t - t.rem_euclid(60) + 60)
        } else if self.freq == Frequency::Secondly
            && !self.seconds.is_empty()
            && !self.seconds.contains(&s)
        {
            Some(t + 1)
        } else {
            None
        };
        if let Some(next) = reject_until {
            self.empty_run += 1;
            // The first period starting at or after `next`: ceil((next - origin) / step).
            let k = (next - self.origin + self.step - 1).div_euclid(self.step);
            self.period = self.period.max(k);
            return true;
        }
        match self.freq {
            Frequency::Hourly => {
                let hour = t - t.rem_euclid(3600);
                for m in &self.minutes {
                    for s in &self.seconds {
                        self.buf.push(hour + m * 60 + s);
                    }
                }
            }
            Frequency::Minutely => {
                let minute = t - t.rem_euclid(60);
                for s in &self.seconds {
                    self.buf.push(minute + s);
                }
            }
            _ => self.buf.push(t),
        }
        self.apply_set_pos();
        if self.buf.is_empty() {
            self.empty_run += 1;
        }
        true
    }

    fn apply_set_pos(&mut self) {
        if self.set_pos.is_empty() {
            return;
        }
        let mut picked = std::mem::take(&mut self.scratch);
        pick_positions(&self.set_pos, &self.buf, &mut picked);
        // The period's candidates become the scratch buffer of the next period.
        self.scratch = std::mem::replace(&mut self.buf, picked);
    }

    /// Candidate days of a YEARLY period.
    fn year_days_of(&self, year: i64, out: &mut Vec<i64>) {
        let jan1 = days_from_civil(year, 1, 1);
        let diy = days_in_year(year);
        if !self.year_days.is_empty() && self.month_days.is_empty() {
            for &n in &self.year_days {
                let n = i64::from(n);
                let doy = if n > 0 { n } else { diy + 1 + n };
                let d = if (1..=diy).contains(&doy) {
                    jan1 + doy - 1
                } else {
                    // Day 366 of a common year (RFC 7529 SKIP): the next or previous day.
                    match (self.skip, n > 0) {
                        (Skip::Omit, _) => continue,
                        (Skip::Backward, true) => jan1 + diy - 1,
                        (Skip::Forward, true) => jan1 + diy,
                        (Skip::Backward, false) => jan1 - 1,
                        (Skip::Forward, false) => jan1,
                    }
                };
                if self.day_ok_skipped(d, (1..=diy).contains(&doy)) {
                    out.push(d);
                }
            }
            return;
        }
        for m in 1..=12 {
            if self.month_mask == 0 || self.month_mask & (1 << m) != 0 {
                self.month_days_of(year, m, out);
            }
        }
    }

    /// Candidate days of one month (MONTHLY periods, and YEARLY through its months).
    fn month_days_of(&self, year: i64, month: i64, out: &mut Vec<i64>) {
        let first = days_from_civil(year, month, 1);
        let dim = days_in_month(year, month);
        if self.month_days.is_empty() {
            let in_month = self.freq == Frequency::Monthly || self.explicit_month;
            if in_month && (self.weekday_mask != 0 || !self.ordinal_days.is_empty()) {
                self.weekdays_of_month(first, dim, out);
                return;
            }
            for d in first..first + dim {
                if self.day_ok(d, false, false) {
                    out.push(d);
                }
            }
            return;
        }
        for &n in &self.month_days {
            let n = i64::from(n);
            let day = if n > 0 { n } else { dim + 1 + n };
            let d = if (1..=dim).contains(&day) {
                first + day - 1
            } else {
                match (self.skip, n > 0) {
                    (Skip::Omit, _) => continue,
                    (Skip::Backward, true) => first + dim - 1,
                    (Skip::Forward, true) => first + dim,
                    (Skip::Backward, false) => first - 1,
                    (Skip::Forward, false) => first,
                }
            };
            if self.day_ok(d, false, false) {
                out.push(d);
            }
        }
    }

    /// BYDAY within one month by weekday arithmetic rather than a scan of its days.
    fn weekdays_of_month(&self, first: i64, dim: i64, out: &mut Vec<i64>) {
        let start = out.len();
        let last = first + dim - 1;
        let (w_first, w_last) = (weekday_of(first), weekday_of(last));
        if self.weekday_mask != 0 {
            // In date order, so that a plain BYDAY needs no sort.
            let mut w = w_first;
            for d in first..=last {
                if self.weekday_mask & (1 << w) != 0 {
                    out.push(d);
                }
                w = if w == 6 { 0 } else { w + 1 };
            }
        }
        for &(n, w) in &self.ordinal_days {
            let n = i64::from(n);
            let d = if n > 0 {
                first + (w - w_first).rem_euclid(7) + 7 * (n - 1)
            } else {
                last - (w_last - w).rem_euclid(7) - 7 * (-n - 1)
            };
            if d >= first && d <= last {
                out.push(d);
            }
        }
        if !self.year_days.is_empty() || !self.week_nos.is_empty() {
            let mut keep = start;
            for i in start..out.len() {
                if let Some(&d) = out.get(i)
                    && self.year_and_week_ok(d)
                {
                    if let Some(slot) = out.get_mut(keep) {
                        *slot = d;
                    }
                    keep += 1;
                }
            }
            out.truncate(keep);
        }
    }

    fn year_and_week_ok(&self, d: i64) -> bool {
        let (y, _, _) = civil_from_days(d);
        let doy = d - days_from_civil(y, 1, 1) + 1;
        let diy = days_in_year(y);
        let year_ok = self.year_days.is_empty()
            || self
                .year_days
                .iter()
                .any(|&n| i64::from(n) == doy || i64::from(n) == doy - diy - 1);
        let week_ok = self.week_nos.is_empty() || {
            let (no, neg) = self.week_number(d, y);
            self.week_nos
                .iter()
                .any(|&n| i64::from(n) == no || i64::from(n) == neg)
        };
        year_ok && week_ok
    }

    /// Start of week 1 of `year`: the week (starting on WKST) that holds January 4, which is
    /// the first week with at least four days of the year (§3.3.10, BYWEEKNO).
    fn week_one(&self, year: i64) -> i64 {
        let jan4 = days_from_civil(year, 1, 4);
        jan4 - (weekday_of(jan4) - self.wkst).rem_euclid(7)
    }

    /// `day_ok` for a day chosen by BYYEARDAY; one moved by SKIP passes as the RFC 7529
    /// replacement of a valid day (its year-day no longer matches by construction).
    fn day_ok_skipped(&self, d: i64, valid: bool) -> bool {
        if valid {
            return self.day_ok(d, true, false);
        }
        let (_, m, _) = civil_from_days(d);
        self.month_mask == 0 || self.month_mask & (1 << m) != 0
    }

    /// Whether a day passes the day-level parts (the month and month-day checks optional, for
    /// callers that generated the day from them).
    fn day_ok(&self, d: i64, check_month: bool, check_month_day: bool) -> bool {
        if self.every_day {
            return true;
        }
        if self.weekdays_only {
            return self.weekday_mask & (1 << weekday_of(d)) != 0;
        }
        let (y, m, md) = civil_from_days(d);
        if check_month && self.month_mask != 0 && self.month_mask & (1 << m) == 0 {
            return false;
        }
        if check_month_day && !self.month_days.is_empty() {
            let dim = days_in_month(y, m);
            if !self
                .month_days
                .iter()
                .any(|&n| i64::from(n) == md || i64::from(n) == md - dim - 1)
            {
                return false;
            }
        }
        let jan1 = days_from_civil(y, 1, 1);
        let doy = d - jan1 + 1;
        let diy = days_in_year(y);
        if !self.year_days.is_empty()
            && !self
                .year_days
                .iter()
                .any(|&n| i64::from(n) == doy || i64::from(n) == doy - diy - 1)
        {
            return false;
        }
        if !self.week_nos.is_empty() {
            let (no, neg) = self.week_number(d, y);
            if !self
                .week_nos
                .iter()
                .any(|&n| i64::from(n) == no || i64::from(n) == neg)
            {
                return false;
            }
        }
        if self.weekday_mask == 0 && self.ordinal_days.is_empty() {
            return true;
        }
        let w = weekday_of(d);
        if self.weekday_mask & (1 << w) != 0 {
            return true;
        }
        let in_month = self.freq == Frequency::Monthly || self.explicit_month;
        let (pos, count) = if in_month {
            (md, days_in_month(y, m))
        } else {
            (doy, diy)
        };
        let nth = (pos - 1) / 7 + 1;
        let nth_back = -((count - pos) / 7 + 1);
        self.ordinal_days
            .iter()
            .any(|&(n, wd)| wd == w && (i64::from(n) == nth || i64::from(n) == nth_back))
    }

    /// The week number of day `d` (in year `y`), positive and counted from the year's end.
    fn week_number(&self, d: i64, y: i64) -> (i64, i64) {
        let w1 = self.week_one(y);
        let next = self.week_one(y + 1);
        if d < w1 {
            let prev = self.week_one(y - 1);
            let weeks = (w1 - prev) / 7;
            (weeks, -1)
        } else if d >= next {
            let after = self.week_one(y + 2);
            (1, -((after - next) / 7))
        } else {
            let weeks = (next - w1) / 7;
            let n = (d - w1) / 7 + 1;
            (n, n - weeks - 1)
        }
    }
}

/// Replace `out` with the members of the sorted set `set` at the `BYSETPOS` positions
/// (1-based, negative from the end), sorted and without repeats.
fn pick_positions(positions: &[i16], set: &[i64], out: &mut Vec<i64>) {
    out.clear();
    let len = i64::try_from(set.len()).unwrap_or(i64::MAX);
    for &n in positions {
        let n = i64::from(n);
        let idx = if n > 0 { n - 1 } else { len + n };
        if let Some(&t) = usize::try_from(idx).ok().and_then(|i| set.get(i)) {
            out.push(t);
        }
    }
    if !out.is_sorted() {
        out.sort_unstable();
    }
    out.dedup();
}

/// The day number of 9999-12-31, the end of jiff's civil range.
const MAX_DAY: i64 = 2_932_896;

impl Iterator for RecurIter {
    type Item = DateTime;

    fn next(&mut self) -> Option<DateTime> {
        let secs = self.next_secs()?;
        let dt = datetime_of(secs);
        if dt.is_none() {
            self.done = true;
        }
        dt
    }
}

impl RecurIter {
    /// The next instance as civil seconds since 1970-01-01T00:00:00 (no zone).
    #[inline]
    pub(crate) fn next_civil(&mut self) -> Option<i64> {
        self.next_secs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn run(rule: &str, start: DateTime, n: usize) -> Vec<DateTime> {
        RecurIter::new(&Recur::parse(rule).unwrap(), start)
            .take(n)
            .collect()
    }

    #[test]
    fn impossible_rule_ends() {
        let start = date(2000, 1, 1).at(0, 0, 0, 0);
        assert_eq!(
            run("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", start, 10),
            vec![start]
        );
        assert_eq!(
            run("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", start, 10),
            vec![start]
        );
        assert_eq!(
            run("FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4", start, 10),
            vec![start]
        );
        let mut it = RecurIter::new(
            &Recur::parse("FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30").unwrap(),
            start,
        );
        assert_eq!(it.next(), Some(start));
        assert_eq!(it.next(), None);
        assert!(it.truncated());
    }

    #[test]
    fn skip_to_far_window() {
        let rule = Recur::parse("FREQ=DAILY").unwrap();
        let mut it = RecurIter::new(&rule, date(2000, 1, 1).at(9, 0, 0, 0));
        it.skip_to(date(2100, 6, 1).at(0, 0, 0, 0));
        assert_eq!(it.next(), Some(date(2100, 6, 1).at(9, 0, 0, 0)));
    }

    #[test]
    fn non_gregorian_rscale_is_reported_not_expanded() {
        let start = date(2024, 1, 31).at(9, 0, 0, 0);
        for scale in ["HEBREW", "chinese", "ISLAMIC-CIVIL"] {
            let rule = Recur::parse(&format!("RSCALE={scale};FREQ=YEARLY;COUNT=5")).unwrap();
            let err = RecurIter::try_new(&rule, start).unwrap_err();
            assert_eq!(err.scale, scale);
            assert_eq!(
                err.to_string(),
                format!("unsupported calendar scale {scale:?}")
            );
            let mut it = RecurIter::new(&rule, start);
            assert_eq!(it.unsupported_scale(), Some(&err));
            assert_eq!(it.next(), Some(start));
            assert_eq!(it.next(), None);
        }
        let rule = Recur::parse("RSCALE=gregorian;FREQ=YEARLY;COUNT=2").unwrap();
        let it = RecurIter::try_new(&rule, start).unwrap();
        assert_eq!(it.unsupported_scale(), None);
        assert_eq!(it.count(), 2);
    }

    #[test]
    fn rscale_skip_backward_and_forward() {
        let start = date(2024, 1, 31).at(9, 0, 0, 0);
        assert_eq!(
            run("RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=BACKWARD", start, 3),
            vec![
                start,
                date(2024, 2, 29).at(9, 0, 0, 0),
                date(2024, 3, 31).at(9, 0, 0, 0)
            ]
        );
        assert_eq!(
            run("RSCALE=GREGORIAN;FREQ=MONTHLY;SKIP=FORWARD", start, 3),
            vec![
                start,
                date(2024, 3, 1).at(9, 0, 0, 0),
                date(2024, 3, 31).at(9, 0, 0, 0)
            ]
        );
        assert_eq!(
            run("FREQ=MONTHLY", start, 3),
            vec![
                start,
                date(2024, 3, 31).at(9, 0, 0, 0),
                date(2024, 5, 31).at(9, 0, 0, 0)
            ]
        );
    }
}
