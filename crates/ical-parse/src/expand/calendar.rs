//! From a parsed calendar to recurrence inputs: the objects of a calendar (a master VEVENT or
//! VTODO and the components sharing its UID with a RECURRENCE-ID, RFC 5545 §3.8.4.4), their
//! time zones resolved through the calendar's own VTIMEZONEs first (§3.6.5).

use super::{ExpandOptions, Expansion, Length, Override, RDate, Recurrence, When, expand};
use crate::component::{Calendar, Component, TzRule};
use crate::tz::{Observance, Resolver, UnknownZone, VTimeZone, vtimezone::ObservanceKind};
use crate::value::{DateOrDateTime, Duration, PeriodEnd, Zoned};
use jiff::tz::Offset;

/// Why a calendar's recurrence inputs could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpandError {
    /// A property value does not parse (with its position).
    #[error(transparent)]
    Value(#[from] crate::Error),
    /// A TZID that neither the calendar nor any known database names.
    #[error(transparent)]
    UnknownZone(#[from] UnknownZone),
    /// A component that recurs, or overrides, without DTSTART (nor DUE, for a VTODO).
    #[error("no DTSTART in {uid:?}")]
    MissingStart {
        /// The component's UID.
        uid: String,
    },
}

/// One calendar object: the components sharing a UID.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CalendarObject<'c, 'a> {
    /// The UID.
    pub uid: String,
    /// The master component (no RECURRENCE-ID), if the object has one.
    pub master: Option<&'c Component<'a>>,
    /// The overrides, in file order; [`super::Instance::override_index`] indexes this.
    pub overrides: Vec<&'c Component<'a>>,
    recurrence: Option<Recurrence>,
    specs: Vec<Override>,
}

impl CalendarObject<'_, '_> {
    /// The master's recurrence inputs (`None` for an object made only of overrides).
    #[must_use]
    pub fn recurrence(&self) -> Option<&Recurrence> {
        self.recurrence.as_ref()
    }

    /// The object's instances in start order.
    #[must_use]
    pub fn expand(&self, options: &ExpandOptions) -> Expansion {
        match &self.recurrence {
            Some(rec) => expand(rec, &self.specs, options),
            None => Expansion::overrides_only(&self.specs, options),
        }
    }
}

/// A resolver that knows the calendar's own VTIMEZONEs (they win over every other source).
///
/// # Errors
///
/// The [`crate::Error`] of a VTIMEZONE property that does not parse.
pub fn resolver_for(calendar: &Calendar<'_>) -> Result<Resolver, ExpandError> {
    let mut resolver = Resolver::new();
    for tz in calendar.timezones() {
        let Some(tzid) = tz.tzid() else {
            continue;
        };
        let mut observances = Vec::new();
        for rule in tz.rules() {
            if let Some(o) = observance(rule)? {
                observances.push(o);
            }
        }
        if !observances.is_empty() {
            resolver.add_vtimezone(VTimeZone::new(&tzid, &observances));
        }
    }
    Ok(resolver)
}

fn observance(rule: TzRule<'_, '_>) -> Result<Option<Observance>, ExpandError> {
    let (Some(start), Some(from), Some(to)) =
        (rule.dtstart()?, rule.offset_from()?, rule.offset_to()?)
    else {
        return Ok(None);
    };
    let civil = |v: DateOrDateTime| match v {
        DateOrDateTime::Date(d) => d.0.at(0, 0, 0, 0),
        DateOrDateTime::DateTime(t) => t.civil,
    };
    let offset = |s: i32| Offset::from_seconds(s).unwrap_or(Offset::UTC);
    let kind = if rule.is_daylight() {
        ObservanceKind::Daylight
    } else {
        ObservanceKind::Standard
    };
    let mut o = Observance::new(kind, civil(start), offset(from.seconds), offset(to.seconds));
    o.rrules = rule.rrules()?;
    for p in rule.component().properties_named("RDATE") {
        for z in p.date_times()? {
            o.rdates.push(civil(z.value));
        }
    }
    o.name = rule.tzname().map(|n| n.into_owned());
    Ok(Some(o))
}

/// A DATE or DATE-TIME with its TZID, resolved.
///
/// # Errors
///
/// [`ExpandError::UnknownZone`] when the TZID resolves nowhere.
pub fn when_of(value: &Zoned<'_>, resolver: &Resolver) -> Result<When, ExpandError> {
    Ok(match value.value {
        DateOrDateTime::Date(d) => When::Date(d.0),
        DateOrDateTime::DateTime(t) if t.utc => When::Utc(t.civil),
        DateOrDateTime::DateTime(t) => match value.tzid {
            Some(tzid) => When::Zoned {
                local: t.civil,
                zone: resolver.resolve(tzid)?,
            },
            None => When::Floating(t.civil),
        },
    })
}

fn length_of_duration(d: Duration) -> Length {
    Length {
        days: d.signed_days(),
        seconds: d.signed_time_seconds(),
    }
}

/// The instant (or civil seconds for dates and floating values) of a value, for differences.
fn seconds_of(when: &When) -> Option<(i64, bool)> {
    use crate::recur::civil::{days_of, secs_of};
    Some(match when {
        When::Date(d) => (days_of(*d), true),
        When::Floating(dt) | When::Utc(dt) => (secs_of(*dt), false),
        When::Zoned { local, zone } => (zone.to_timestamp(*local)?.as_second(), false),
    })
}

/// The length of a component: DTEND (DUE for a VTODO) - DTSTART, else DURATION, else one day
/// for a DATE and nothing for a DATE-TIME (§3.6.1).
fn length_of(
    component: &Component<'_>,
    start: &When,
    resolver: &Resolver,
) -> Result<Length, ExpandError> {
    let end_name = if component.is("VTODO") {
        "DUE"
    } else {
        "DTEND"
    };
    if let Some(end) = component.property(end_name) {
        let end = when_of(&end.date_time()?, resolver)?;
        if let (Some((s, s_date)), Some((e, e_date))) = (seconds_of(start), seconds_of(&end)) {
            return Ok(match (s_date, e_date) {
                (true, true) => Length::days(e - s),
                (true, false) => Length::seconds(e - s * crate::recur::civil::DAY),
                (false, true) => Length::seconds(e * crate::recur::civil::DAY - s),
                (false, false) => Length::seconds(e - s),
            });
        }
    }
    if let Some(d) = component.property("DURATION") {
        return Ok(length_of_duration(d.duration()?));
    }
    Ok(match start {
        When::Date(_) => Length::days(1),
        _ => Length::default(),
    })
}

fn start_of(component: &Component<'_>, resolver: &Resolver) -> Result<Option<When>, ExpandError> {
    let prop = component.property("DTSTART").or_else(|| {
        component
            .is("VTODO")
            .then(|| component.property("DUE"))
            .flatten()
    });
    prop.map(|p| when_of(&p.date_time()?, resolver)).transpose()
}

/// The recurring objects of a calendar (VEVENTs and VTODOs grouped by UID), ready to expand.
///
/// # Errors
///
/// An [`ExpandError`] for a value that does not parse, a TZID that resolves nowhere, or a
/// component without a start.
///
/// # Example
///
/// ```
/// use ical_parse::expand::{ExpandOptions, calendar::{objects, resolver_for}};
///
/// let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\n\
///             DTSTAMP:20240101T000000Z\r\nDTSTART;TZID=America/New_York:20240101T090000\r\n\
///             DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
/// let calendar = ical_parse::parse(text).unwrap();
/// let resolver = resolver_for(&calendar).unwrap();
/// let objects = objects(&calendar, &resolver).unwrap();
/// let ends: Vec<String> = objects[0]
///     .expand(&ExpandOptions::default())
///     .map(|i| i.end.to_string())
///     .collect();
/// assert_eq!(ends, ["2024-01-01T10:00:00-05:00", "2024-01-02T10:00:00-05:00"]);
/// ```
pub fn objects<'c, 'a>(
    calendar: &'c Calendar<'a>,
    resolver: &Resolver,
) -> Result<Vec<CalendarObject<'c, 'a>>, ExpandError> {
    let mut out: Vec<CalendarObject<'c, 'a>> = Vec::new();
    let components = calendar
        .objects()
        .filter(|c| c.is("VEVENT") || c.is("VTODO") || c.is("VJOURNAL"));
    for component in components {
        let uid = component
            .text("UID")
            .map(|u| u.into_owned())
            .unwrap_or_default();
        let position = match out.iter().position(|o| o.uid == uid) {
            Some(p) => p,
            None => {
                out.push(CalendarObject {
                    uid: uid.clone(),
                    master: None,
                    overrides: Vec::new(),
                    recurrence: None,
                    specs: Vec::new(),
                });
                out.len() - 1
            }
        };
        let Some(object) = out.get_mut(position) else {
            continue;
        };
        if component.property("RECURRENCE-ID").is_some() {
            object.overrides.push(component);
        } else if object.master.is_none() {
            object.master = Some(component);
        }
    }
    for object in &mut out {
        if let Some(master) = object.master {
            let Some(start) = start_of(master, resolver)? else {
                return Err(ExpandError::MissingStart {
                    uid: object.uid.clone(),
                });
            };
            let length = length_of(master, &start, resolver)?;
            let mut rec = Recurrence::new(start, length);
            for p in master.properties_named("RRULE") {
                rec.rrules.push(p.recur()?);
            }
            for p in master.properties_named("EXRULE") {
                rec.exrules.push(p.recur()?);
            }
            for p in master.properties_named("EXDATE") {
                for z in p.date_times()? {
                    rec.exdates.push(when_of(&z, resolver)?);
                }
            }
            for p in master.properties_named("RDATE") {
                if p.value_type() == crate::value::ValueType::Period {
                    let tzid = p.tzid();
                    for period in p.periods()? {
                        let start = when_of(
                            &Zoned {
                                value: DateOrDateTime::DateTime(period.start),
                                tzid,
                            },
                            resolver,
                        )?;
                        let length = match period.end {
                            PeriodEnd::Duration(d) => length_of_duration(d),
                            PeriodEnd::End(end) => {
                                let end = when_of(
                                    &Zoned {
                                        value: DateOrDateTime::DateTime(end),
                                        tzid,
                                    },
                                    resolver,
                                )?;
                                match (seconds_of(&start), seconds_of(&end)) {
                                    (Some((s, _)), Some((e, _))) => Length::seconds(e - s),
                                    _ => rec.length,
                                }
                            }
                        };
                        rec.rdates.push(RDate::Period { start, length });
                    }
                } else {
                    for z in p.date_times()? {
                        rec.rdates.push(RDate::At(when_of(&z, resolver)?));
                    }
                }
            }
            object.recurrence = Some(rec);
        }
        for (index, o) in object.overrides.iter().enumerate() {
            let Some(rid_prop) = o.property("RECURRENCE-ID") else {
                continue;
            };
            let rid = when_of(&rid_prop.date_time()?, resolver)?;
            let Some(start) = start_of(o, resolver)? else {
                return Err(ExpandError::MissingStart {
                    uid: object.uid.clone(),
                });
            };
            let length = length_of(o, &start, resolver)?;
            let mut spec = Override::new(rid, start, length, index);
            spec.this_and_future = rid_prop
                .param_value("RANGE")
                .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"));
            object.specs.push(spec);
        }
    }
    Ok(out)
}
