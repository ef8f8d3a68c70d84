//! Evaluating a calendar-query filter against calendar data (RFC 4791 §9.7, §9.9), and the
//! busy time of a set of objects (§7.10): what a server built on these crates, or a client
//! filtering offline, needs.
//!
//! ```text
//! A CALDAV:comp-filter is said to match if:
//!   * it is empty and the component exists in the current scope;
//!   * it contains is-not-defined and the component does not exist;
//!   * it contains a time-range and at least one recurrence instance overlaps the range,
//!     and all prop-filter and comp-filter children match the component;
//!   * it only contains prop-filter and comp-filter children that all match.
//! ```
//!
//! Time ranges consider every instance: recurring components are expanded with their
//! overrides (RECURRENCE-ID, `RANGE=THISANDFUTURE`), and an instance counts for the component
//! that defines it, so a prop-filter next to a time-range is tested on the override that
//! produced the overlapping instance. Dates and floating times are read in
//! [`EvalOptions::floating_zone`] (UTC unless set, as §9.9 lets the server choose; a client
//! passes the calendar's `CALDAV:calendar-timezone`).
//!
//! Data that does not parse never matches a test on it (a DTSTART that is not a date, a
//! TRIGGER that is not a duration); evaluation never fails and never panics. Expansion is
//! bounded by [`EvalOptions::max_instances`].

use std::collections::BTreeMap;

use ical_parse::expand::{
    self, ExpandOptions, Length, Override, RDate as ExRDate, Recurrence, When,
};
use ical_parse::tz::{Resolver, Zone};
use ical_parse::value::{DateOrDateTime, Duration, PeriodEnd, Zoned};
use ical_parse::{Calendar, Component, Property, RDate, Trigger, VAlarm, VFreeBusy};
use jiff::Timestamp;
use jiff::tz::Offset;

use crate::collation::text_match;
use crate::filter::{CompFilter, Filter, ParamFilter, PropFilter, PropTest, TimeRange};
use crate::freebusy::{FbType, FreeBusyBuilder};
use crate::overlap::{TodoEnd, TodoTimes, Window};

/// How to evaluate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EvalOptions {
    /// The zone that dates and floating times are read in (UTC when `None`).
    pub floating_zone: Option<Zone>,
    /// At most this many instances per recurring component.
    pub max_instances: usize,
    /// At most this many repetitions of one alarm (`REPEAT`).
    pub max_alarm_repeats: u32,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            floating_zone: None,
            max_instances: 10_000,
            max_alarm_repeats: 1_000,
        }
    }
}

const DAY: i64 = 86_400;

impl Filter {
    /// Whether a calendar object resource matches the filter (RFC 4791 §9.7).
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::filter::{CompFilter, Filter, PropFilter, TextMatch};
    /// use caldav_model::query::EvalOptions;
    ///
    /// let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:1\r\n\
    ///            DTSTAMP:20060205T235335Z\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
    /// let calendar = ical_parse::parse_strict(ics).unwrap();
    /// let pending = Filter::component(
    ///     CompFilter::new("VTODO")
    ///         .prop(PropFilter::is_not_defined("COMPLETED"))
    ///         .prop(PropFilter::new("STATUS").text_match(TextMatch::new("CANCELLED").negate(true))),
    /// );
    /// assert!(pending.matches(&calendar, &EvalOptions::default()));
    /// assert!(!Filter::component(CompFilter::new("VEVENT")).matches(&calendar, &EvalOptions::default()));
    /// ```
    #[must_use]
    pub fn matches(&self, calendar: &Calendar<'_>, options: &EvalOptions) -> bool {
        let ctx = Ctx::new(calendar, options);
        ctx.comp_matches(&calendar.components, &self.root, None)
    }
}

impl FreeBusyBuilder {
    /// Adds the busy time of one calendar object resource (RFC 4791 §7.10): every VEVENT
    /// instance overlapping the range with the type its TRANSP and STATUS give, and every
    /// FREEBUSY period of a VFREEBUSY. VAVAILABILITY is not considered.
    pub fn add_calendar(&mut self, calendar: &Calendar<'_>, options: &EvalOptions) {
        let ctx = Ctx::new(calendar, options);
        let range = self.range();
        let window = Window::from(&range);
        for vcal in &calendar.components {
            let scope = &vcal.components;
            for (group, occurrences) in ctx.groups(scope, "VEVENT", Some(range)) {
                for occ in occurrences {
                    let Some(owner) = group.get(occ.owner) else {
                        continue;
                    };
                    let fb = FbType::for_event(
                        owner.property("TRANSP").map(|p| p.raw_value.as_ref()),
                        owner.property("STATUS").map(|p| p.raw_value.as_ref()),
                    );
                    if let (Some(fb), Some(s), Some(e)) = (fb, ts(occ.start), ts(occ.end))
                        && occ.end > occ.start
                        && window.meets(occ.start, occ.end)
                    {
                        self.add(s, e, fb);
                    }
                }
            }
            for fb in scope.iter().filter(|c| c.is("VFREEBUSY")) {
                for (start, end, fbtype) in ctx.freebusy_periods(fb) {
                    if let (Some(s), Some(e)) = (ts(start), ts(end)) {
                        self.add(s, e, FbType::parse(&fbtype));
                    }
                }
            }
        }
    }
}

fn ts(secs: i64) -> Option<Timestamp> {
    Timestamp::from_second(secs).ok()
}

/// One instance of a component group, in unix seconds, with the index of the group member
/// that defines it.
#[derive(Debug, Clone, Copy)]
struct Occurrence {
    start: i64,
    end: i64,
    owner: usize,
}

/// The parent of a nested comp-filter (for VALARM triggers).
#[derive(Clone, Copy)]
struct Parent<'s, 'a> {
    component: &'s Component<'a>,
    scope: &'s [Component<'a>],
}

struct Ctx<'o> {
    resolver: Resolver,
    options: &'o EvalOptions,
}

impl<'o> Ctx<'o> {
    fn new(calendar: &Calendar<'_>, options: &'o EvalOptions) -> Self {
        // A VTIMEZONE that does not parse leaves its TZID to the IANA and Windows tables.
        let resolver = expand::calendar::resolver_for(calendar).unwrap_or_default();
        Self { resolver, options }
    }

    fn comp_matches<'a>(
        &self,
        scope: &[Component<'a>],
        filter: &CompFilter,
        parent: Option<Parent<'_, 'a>>,
    ) -> bool {
        let named: Vec<usize> = scope
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is(&filter.name))
            .map(|(i, _)| i)
            .collect();
        if filter.is_not_defined {
            return named.is_empty();
        }
        let in_range: Vec<usize> = match &filter.time_range {
            None => named,
            Some(range) => self.overlapping(scope, &filter.name, *range, parent),
        };
        in_range.into_iter().any(|i| {
            let Some(component) = scope.get(i) else {
                return false;
            };
            filter.props.iter().all(|p| self.prop_matches(component, p))
                && filter.comps.iter().all(|c| {
                    self.comp_matches(&component.components, c, Some(Parent { component, scope }))
                })
        })
    }

    /// The indexes in `scope` of the components named `name` with an instance overlapping
    /// `range`, by the table of §9.9 for their kind.
    fn overlapping(
        &self,
        scope: &[Component<'_>],
        name: &str,
        range: TimeRange,
        parent: Option<Parent<'_, '_>>,
    ) -> Vec<usize> {
        let window = Window::from(&range);
        let upper = name.to_ascii_uppercase();
        let mut hits = Vec::new();
        match upper.as_str() {
            "VEVENT" | "VTODO" | "VJOURNAL" => {
                for (members, occurrences) in self.group_indexes(scope, &upper, Some(range)) {
                    for occ in occurrences {
                        let Some(&index) = members.get(occ.owner) else {
                            continue;
                        };
                        let Some(component) = scope.get(index) else {
                            continue;
                        };
                        let hit = match upper.as_str() {
                            "VEVENT" => window.event(occ.start, occ.end),
                            "VJOURNAL" => {
                                let date = self.dtstart_is_date(component);
                                window.journal(Some(occ.start), date.then_some(occ.end))
                            }
                            _ => window.todo(self.todo_times(component, Some(occ))),
                        };
                        if hit && !hits.contains(&index) {
                            hits.push(index);
                        }
                    }
                }
                // Components the grouping did not place (a VTODO or VJOURNAL without
                // DTSTART has no instances).
                for (i, c) in scope.iter().enumerate() {
                    if c.is(&upper) && c.property("DTSTART").is_none() && !hits.contains(&i) {
                        let hit = match upper.as_str() {
                            "VTODO" => window.todo(self.todo_times(c, None)),
                            "VJOURNAL" => window.journal(None, None),
                            _ => false,
                        };
                        if hit {
                            hits.push(i);
                        }
                    }
                }
            }
            "VFREEBUSY" => {
                for (i, c) in scope.iter().enumerate().filter(|(_, c)| c.is("VFREEBUSY")) {
                    let span = match (self.unix_of(c, "DTSTART"), self.unix_of(c, "DTEND")) {
                        (Some(s), Some(e)) => Some((s, e)),
                        _ => None,
                    };
                    let periods: Vec<(i64, i64)> = self
                        .freebusy_periods(c)
                        .into_iter()
                        .map(|(s, e, _)| (s, e))
                        .collect();
                    if window.freebusy(span, &periods) {
                        hits.push(i);
                    }
                }
            }
            "VALARM" => {
                let Some(parent) = parent else {
                    return hits;
                };
                for (i, c) in scope.iter().enumerate().filter(|(_, c)| c.is("VALARM")) {
                    if self.alarm_fires(VAlarm(c), parent, range) {
                        hits.push(i);
                    }
                }
            }
            // §9.9: "The semantic of CALDAV:time-range is not defined for any other calendar
            // components", so nothing else can overlap.
            _ => {}
        }
        hits
    }

    fn prop_matches(&self, component: &Component<'_>, filter: &PropFilter) -> bool {
        let mut props = component
            .properties
            .iter()
            .filter(|p| !p.is_raw() && p.name.eq_ignore_ascii_case(&filter.name));
        match &filter.test {
            PropTest::IsNotDefined => props.next().is_none(),
            test => props.any(|p| {
                let value_ok = match test {
                    PropTest::TextMatch(tm) => text_match(&p.text(), tm),
                    PropTest::TimeRange(range) => self.property_in_range(p, *range),
                    _ => true,
                };
                value_ok && filter.params.iter().all(|f| param_matches(p, f))
            }),
        }
    }

    /// §9.9: COMPLETED, CREATED, DTEND, DTSTAMP, DTSTART, DUE and LAST-MODIFIED overlap when
    /// `start <= value < end`; the test is undefined (false) for other properties.
    fn property_in_range(&self, property: &Property<'_>, range: TimeRange) -> bool {
        const TIMED: [&str; 7] = [
            "COMPLETED",
            "CREATED",
            "DTEND",
            "DTSTAMP",
            "DTSTART",
            "DUE",
            "LAST-MODIFIED",
        ];
        if !TIMED.iter().any(|n| property.name.eq_ignore_ascii_case(n)) {
            return false;
        }
        property
            .date_time()
            .ok()
            .and_then(|z| self.unix(&self.when(&z)))
            .is_some_and(|t| Window::from(&range).holds(t))
    }

    fn when(&self, z: &Zoned<'_>) -> When {
        self.when_of(z.value, z.tzid)
    }

    fn when_of(&self, value: DateOrDateTime, tzid: Option<&str>) -> When {
        match value {
            DateOrDateTime::Date(d) => When::Date(d.0),
            DateOrDateTime::DateTime(t) if t.utc => When::Utc(t.civil),
            DateOrDateTime::DateTime(t) => {
                match tzid.and_then(|id| self.resolver.resolve(id).ok()) {
                    Some(zone) => When::Zoned {
                        local: t.civil,
                        zone,
                    },
                    // An unknown TZID is read as floating time rather than failing the test.
                    None => When::Floating(t.civil),
                }
            }
            // A value kind this crate does not know yet: read as a floating midnight.
            other => When::Floating(other.civil()),
        }
    }

    fn floating(&self, local: jiff::civil::DateTime) -> Option<i64> {
        let at = match &self.options.floating_zone {
            Some(zone) => zone.to_timestamp(local)?,
            None => Offset::UTC.to_timestamp(local).ok()?,
        };
        Some(at.as_second())
    }

    fn unix(&self, when: &When) -> Option<i64> {
        match when {
            When::Date(d) => self.floating(d.to_datetime(jiff::civil::Time::midnight())),
            When::Floating(dt) => self.floating(*dt),
            When::Zoned { local, zone } => zone.to_timestamp(*local).map(|t| t.as_second()),
            When::Utc(dt) => Offset::UTC.to_timestamp(*dt).ok().map(|t| t.as_second()),
            _ => None,
        }
    }

    fn zoned_of<'c>(&self, c: &'c Component<'_>, name: &str) -> Option<Zoned<'c>> {
        c.property(name).and_then(|p| p.date_time().ok())
    }

    fn unix_of(&self, c: &Component<'_>, name: &str) -> Option<i64> {
        self.zoned_of(c, name)
            .and_then(|z| self.unix(&self.when(&z)))
    }

    fn dtstart_is_date(&self, c: &Component<'_>) -> bool {
        self.zoned_of(c, "DTSTART")
            .is_some_and(|z| matches!(z.value, DateOrDateTime::Date(_)))
    }

    /// How long one instance of `c` lasts: DTEND or DUE minus DTSTART, else DURATION, else
    /// one day for a date DTSTART of an event or journal and nothing otherwise.
    fn length(&self, c: &Component<'_>, start: &Zoned<'_>) -> Length {
        let end_name = if c.is("VTODO") { "DUE" } else { "DTEND" };
        if !c.is("VJOURNAL") {
            if let Some(end) = self.zoned_of(c, end_name) {
                if let (DateOrDateTime::Date(s), DateOrDateTime::Date(e)) = (start.value, end.value)
                {
                    return Length::days(
                        s.0.until(e.0).map_or(0, |span| i64::from(span.get_days())),
                    );
                }
                let s = self.unix(&self.when(start));
                let e = self.unix(&self.when(&end));
                if let (Some(s), Some(e)) = (s, e) {
                    return Length::seconds(e.saturating_sub(s).max(0));
                }
            }
            if let Some(d) = c.property("DURATION").and_then(|p| p.duration().ok()) {
                return duration_length(d);
            }
        }
        match start.value {
            DateOrDateTime::Date(_) if !c.is("VTODO") => Length::days(1),
            _ => Length::default(),
        }
    }

    /// The recurrence groups of `name` components in `scope` (one per UID), each with its
    /// instances overlapping `range` (all instances up to the cap when `None`).
    fn groups<'s, 'a>(
        &self,
        scope: &'s [Component<'a>],
        name: &str,
        range: Option<TimeRange>,
    ) -> Vec<(Vec<&'s Component<'a>>, Vec<Occurrence>)> {
        self.group_indexes(scope, name, range)
            .into_iter()
            .map(|(members, occ)| (members.iter().filter_map(|&i| scope.get(i)).collect(), occ))
            .collect()
    }

    fn group_indexes(
        &self,
        scope: &[Component<'_>],
        name: &str,
        range: Option<TimeRange>,
    ) -> Vec<(Vec<usize>, Vec<Occurrence>)> {
        let mut by_uid: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, c) in scope.iter().enumerate() {
            if c.is(name) && c.property("DTSTART").is_some() {
                let uid = c
                    .property("UID")
                    .map_or_else(|| format!("\u{0}{i}"), |p| p.text().into_owned());
                by_uid.entry(uid).or_default().push(i);
            }
        }
        // A day of slack each side: the per-kind tables decide, the window only bounds work.
        let window = range.map(|r| {
            (
                r.start()
                    .and_then(|s| ts(s.as_second().saturating_sub(DAY))),
                r.end().and_then(|e| ts(e.as_second().saturating_add(DAY))),
            )
        });
        by_uid
            .into_values()
            .map(|members| {
                let occ = self.occurrences(scope, &members, window);
                (members, occ)
            })
            .collect()
    }

    /// Expands one group (a master and its overrides, or lone overrides).
    fn occurrences(
        &self,
        scope: &[Component<'_>],
        members: &[usize],
        window: Option<(Option<Timestamp>, Option<Timestamp>)>,
    ) -> Vec<Occurrence> {
        let comps: Vec<&Component<'_>> = members.iter().filter_map(|&i| scope.get(i)).collect();
        let master = comps
            .iter()
            .position(|c| c.property("RECURRENCE-ID").is_none());
        let mut overrides = Vec::new();
        let mut out = Vec::new();
        for (i, c) in comps.iter().enumerate() {
            if Some(i) == master {
                continue;
            }
            let (Some(rid), Some(start)) = (
                self.zoned_of(c, "RECURRENCE-ID"),
                self.zoned_of(c, "DTSTART"),
            ) else {
                continue;
            };
            let length = self.length(c, &start);
            if master.is_none() {
                // No master to expand: the override is an instance on its own.
                if let Some(s) = self.unix(&self.when(&start)) {
                    out.push(Occurrence {
                        start: s,
                        end: s.saturating_add(length_secs(length)),
                        owner: i,
                    });
                }
                continue;
            }
            let mut o = Override::new(self.when(&rid), self.when(&start), length, i);
            o.this_and_future = c.property("RECURRENCE-ID").is_some_and(|p| {
                p.param_value("RANGE")
                    .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"))
            });
            overrides.push(o);
        }
        let Some(master_index) = master else {
            return out;
        };
        let Some(master) = comps.get(master_index) else {
            return out;
        };
        let Some(start) = self.zoned_of(master, "DTSTART") else {
            return out;
        };
        let mut recurrence = Recurrence::new(self.when(&start), self.length(master, &start));
        recurrence.rrules = master
            .properties_named("RRULE")
            .filter_map(|p| p.recur().ok())
            .collect();
        recurrence.exrules = master
            .properties_named("EXRULE")
            .filter_map(|p| p.recur().ok())
            .collect();
        for p in master.properties_named("EXDATE") {
            let tzid = p.tzid();
            if let Ok(values) = p.date_times() {
                recurrence.exdates.extend(
                    values
                        .iter()
                        .map(|z| self.when_of(z.value, z.tzid.or(tzid))),
                );
            }
        }
        let rdates = ical_parse::VEvent(master).rdates().unwrap_or_default();
        for r in rdates {
            recurrence.rdates.push(match r {
                RDate::At(z) => ExRDate::At(self.when(&z)),
                RDate::Period { period, tzid } => {
                    let start = self.when_of(DateOrDateTime::DateTime(period.start), tzid);
                    let length = match period.end {
                        PeriodEnd::Duration(d) => duration_length(d),
                        PeriodEnd::End(end) => {
                            let end = self.when_of(DateOrDateTime::DateTime(end), tzid);
                            match (self.unix(&start), self.unix(&end)) {
                                (Some(s), Some(e)) => Length::seconds(e.saturating_sub(s).max(0)),
                                _ => Length::default(),
                            }
                        }
                        _ => Length::default(),
                    };
                    ExRDate::Period { start, length }
                }
                _ => continue,
            });
        }
        let mut options = ExpandOptions::default();
        options.max_instances = self.options.max_instances;
        options.floating_zone = self.options.floating_zone.clone();
        if let Some((from, to)) = window {
            options.from = from;
            options.to = to;
        }
        out.extend(
            expand::expand(&recurrence, &overrides, &options).map(|instance| Occurrence {
                start: instance.start_key,
                end: instance.end_key,
                owner: instance.override_index.unwrap_or(master_index),
            }),
        );
        out
    }

    fn todo_times(&self, c: &Component<'_>, occ: Option<Occurrence>) -> TodoTimes {
        let has_due = c.property("DUE").is_some();
        let has_duration = c.property("DURATION").is_some();
        let (dtstart, end) = match occ {
            Some(o) => (
                Some(o.start),
                if has_due {
                    Some(TodoEnd::Due(o.end))
                } else if has_duration {
                    Some(TodoEnd::Duration(o.end))
                } else {
                    None
                },
            ),
            None => (None, self.unix_of(c, "DUE").map(TodoEnd::Due)),
        };
        TodoTimes {
            dtstart,
            end,
            completed: self.unix_of(c, "COMPLETED"),
            created: self.unix_of(c, "CREATED"),
        }
    }

    fn freebusy_periods(&self, c: &Component<'_>) -> Vec<(i64, i64, String)> {
        let view = VFreeBusy(c);
        let Ok(periods) = view.periods() else {
            return Vec::new();
        };
        periods
            .into_iter()
            .filter_map(|(period, fbtype)| {
                let s = self.unix(&self.when_of(DateOrDateTime::DateTime(period.start), None))?;
                let e = match period.end {
                    PeriodEnd::End(end) => {
                        self.unix(&self.when_of(DateOrDateTime::DateTime(end), None))?
                    }
                    PeriodEnd::Duration(d) => s.saturating_add(d.signed_seconds()),
                    _ => return None,
                };
                Some((s, e, fbtype.to_owned()))
            })
            .collect()
    }

    /// Whether the alarm triggers in `range` (`start <= trigger < end`) for one of the
    /// parent's instances, repetitions included.
    fn alarm_fires(&self, alarm: VAlarm<'_, '_>, parent: Parent<'_, '_>, range: TimeRange) -> bool {
        let window = Window::from(&range);
        let Ok(Some(trigger)) = alarm.trigger() else {
            return false;
        };
        let repeat = u32::try_from(alarm.repeat().unwrap_or(0).max(0))
            .unwrap_or(0)
            .min(self.options.max_alarm_repeats);
        let step = alarm
            .duration()
            .ok()
            .flatten()
            .map_or(0, |d| d.signed_seconds());
        let fires = |first: i64| repeats_hit(window, first, step, i64::from(repeat));
        match trigger {
            Trigger::Absolute(value) => self.unix(&self.when_of(value, None)).is_some_and(fires),
            Trigger::Relative { offset, from_end } => {
                let offset = offset.signed_seconds();
                let slack = offset
                    .saturating_abs()
                    .saturating_add(step.saturating_abs().saturating_mul(i64::from(repeat)));
                let widened = TimeRange::new(
                    range
                        .start()
                        .and_then(|s| ts(s.as_second().saturating_sub(slack))),
                    range
                        .end()
                        .and_then(|e| ts(e.as_second().saturating_add(slack))),
                )
                .unwrap_or(range);
                let bases: Vec<i64> = if parent.component.property("DTSTART").is_some() {
                    let name = parent.component.name.to_string();
                    self.group_indexes(parent.scope, &name, Some(widened))
                        .into_iter()
                        .flat_map(|(members, occ)| {
                            occ.into_iter().filter_map(move |o| {
                                let index = *members.get(o.owner)?;
                                Some((index, o))
                            })
                        })
                        .filter(|(index, _)| {
                            parent
                                .scope
                                .get(*index)
                                .is_some_and(|c| std::ptr::eq(c, parent.component))
                        })
                        .map(|(_, o)| if from_end { o.end } else { o.start })
                        .collect()
                } else {
                    // A to-do without DTSTART: both relations fall back to DUE, the only
                    // anchor it has (RFC 5545 §3.8.6.3 requires DTSTART for RELATED=START,
                    // but real data and RFC 4791 §7.8.5 rely on this).
                    self.unix_of(parent.component, "DUE").into_iter().collect()
                };
                bases.into_iter().any(|b| fires(b.saturating_add(offset)))
            }
            _ => false,
        }
    }
}

/// Whether one of `first + k * step` for `k` in `0..=repeat` lies in the window, computed
/// rather than enumerated so that a huge REPEAT costs nothing.
fn repeats_hit(window: Window, first: i64, step: i64, repeat: i64) -> bool {
    if step <= 0 || repeat == 0 {
        return window.holds(first);
    }
    // The first k whose trigger is at or after the window start.
    let k = if first >= window.start {
        0
    } else {
        let gap = i128::from(window.start) - i128::from(first);
        let step = i128::from(step);
        (gap + step - 1) / step
    };
    if k > i128::from(repeat) {
        return false;
    }
    let t = i128::from(first) + k * i128::from(step);
    t < i128::from(window.end)
}

fn param_matches(property: &Property<'_>, filter: &ParamFilter) -> bool {
    let param = property.param(&filter.name);
    if filter.is_not_defined {
        return param.is_none();
    }
    match (param, &filter.text_match) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(p), Some(tm)) => p.values.iter().any(|v| text_match(v, tm)),
    }
}

fn duration_length(d: Duration) -> Length {
    Length {
        days: d.signed_days(),
        seconds: d.signed_time_seconds(),
    }
}

fn length_secs(length: Length) -> i64 {
    length
        .days
        .saturating_mul(DAY)
        .saturating_add(length.seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_found_by_arithmetic() {
        let w = Window {
            start: 100,
            end: 200,
        };
        assert!(repeats_hit(w, 150, 0, 0));
        assert!(!repeats_hit(w, 50, 0, 5), "no step: only the first trigger");
        assert!(repeats_hit(w, 50, 10, 5), "50 + 5*10 = 100");
        assert!(!repeats_hit(w, 50, 10, 4));
        assert!(!repeats_hit(w, 50, 200, 1_000_000), "jumps over the window");
        assert!(repeats_hit(w, -1_000, 1, i64::MAX));
        assert!(
            !repeats_hit(w, i64::MIN, 1, i64::MAX),
            "the window is past the last repeat"
        );
        assert!(!repeats_hit(w, 200, 10, 3));
    }
}
