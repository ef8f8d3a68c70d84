//! The recurrence bench's rules and contenders, shared by `benches/recur.rs` (criterion) and
//! `examples/recur_peers.rs` (one contender on one rule, for instruction counts under
//! `valgrind --tool=callgrind`, which a loaded machine does not disturb).

use ical_parse::expand::{ExpandOptions, Length, Recurrence, When, expand};
use ical_parse::recur::Recur;
use ical_parse::tz::Zone;
use jiff::civil::{DateTime, date};
use pimalaya_ical::recur::expand::IcalRecurExpand;
use pimalaya_ical::recur::{IcalRecurDateTime, IcalRecurRule};
use pimalaya_ical::tz::{IcalTz, IcalTzTransitions};
use std::hint::black_box;

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) start: DateTime,
    pub(crate) rule: &'static str,
}

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "daily_10y",
            start: date(2000, 1, 3).at(9, 0, 0, 0),
            rule: "FREQ=DAILY;COUNT=3653",
        },
        Case {
            name: "weekly_mo_we_fr",
            start: date(2000, 1, 3).at(9, 0, 0, 0),
            rule: "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=1565",
        },
        Case {
            name: "monthly_last_fr",
            start: date(2000, 1, 28).at(9, 0, 0, 0),
            rule: "FREQ=MONTHLY;BYDAY=-1FR;COUNT=120",
        },
        Case {
            name: "monthly_last_workday",
            start: date(2000, 1, 31).at(9, 0, 0, 0),
            rule: "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=120",
        },
        Case {
            name: "yearly_feb29",
            start: date(2000, 2, 29).at(9, 0, 0, 0),
            rule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=25",
        },
        Case {
            name: "hourly_1y",
            start: date(2000, 1, 3).at(0, 30, 0, 0),
            rule: "FREQ=HOURLY;COUNT=8784",
        },
    ]
}

/// The Europe/Berlin VTIMEZONE calendars carry (the EU rule, in force since 1996).
const BERLIN_VTIMEZONE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n\
BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n\
DTSTART:19810329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
DTSTART:19961027T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\nEND:VCALENDAR\r\n";

/// One rule, ready for each contender.
pub(crate) struct Prepared {
    pub(crate) ours: Recurrence,
    pub(crate) rrule: rrule::RRuleSet,
    pub(crate) calcard: calcard::icalendar::ICalendar,
    pub(crate) ical_rs: IcalRs,
}

impl Prepared {
    pub(crate) fn new(case: &Case) -> Prepared {
        let berlin = Zone::iana("Europe/Berlin").unwrap();
        let mut ours = Recurrence::new(
            When::Zoned {
                local: case.start,
                zone: berlin,
            },
            Length::seconds(3600),
        );
        ours.rrules.push(Recur::parse(case.rule).unwrap());
        let dtstart = case.start.strftime("%Y%m%dT%H%M%S").to_string();
        let rrule = format!("DTSTART;TZID=Europe/Berlin:{dtstart}\nRRULE:{}", case.rule)
            .parse()
            .unwrap();
        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n\
             UID:recur-bench\r\nDTSTAMP:20000101T000000Z\r\n\
             DTSTART;TZID=Europe/Berlin:{dtstart}\r\nDURATION:PT1H\r\nRRULE:{}\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n",
            case.rule
        );
        let calcard = calcard::icalendar::ICalendar::parse(&ics).unwrap();
        let s = case.start;
        let ical_rs = IcalRs {
            rule: IcalRecurRule::parse(case.rule).unwrap(),
            start: IcalRecurDateTime {
                year: i32::from(s.year()),
                month: s.month().unsigned_abs(),
                day: s.day().unsigned_abs(),
                hour: s.hour().unsigned_abs(),
                minute: s.minute().unsigned_abs(),
                second: s.second().unsigned_abs(),
            },
            zone: ical_rs_berlin(),
        };
        Prepared {
            ours,
            rrule,
            calcard,
            ical_rs,
        }
    }

    /// Every contender's instants, in its own order, ours first.
    pub(crate) fn instants(&self) -> [(&'static str, Vec<i64>); 4] {
        let mut ours = Vec::new();
        ours_each(&self.ours, |u| ours.push(u));
        let mut rrule = Vec::new();
        rrule_each(&self.rrule, |u| rrule.push(u));
        let mut calcard = Vec::new();
        calcard_each(&self.calcard, |u| calcard.push(u));
        let mut ical_rs = Vec::new();
        self.ical_rs.each(|u| ical_rs.push(u));
        [
            ("ical-parse", ours),
            ("rrule", rrule),
            ("calcard", calcard),
            ("ical-rs", ical_rs),
        ]
    }

    /// Run one contender once, returning its instance count.
    pub(crate) fn run(&self, contender: &str) -> Option<usize> {
        let sink = |u: i64| {
            black_box(u);
        };
        Some(match contender {
            "ical-parse" => ours_each(&self.ours, sink),
            "rrule" => rrule_each(&self.rrule, sink),
            "calcard" => calcard_each(&self.calcard, sink),
            "ical-rs" => self.ical_rs.each(sink),
            _ => return None,
        })
    }
}

pub(crate) const CONTENDERS: [&str; 4] = ["ical-parse", "rrule", "calcard", "ical-rs"];

fn ours_each(rec: &Recurrence, mut f: impl FnMut(i64)) -> usize {
    let mut options = ExpandOptions::default();
    options.max_instances = 100_000;
    let mut n = 0;
    for i in expand(rec, &[], &options) {
        f(i.start_key);
        n += 1;
    }
    n
}

/// `rrule`: the whole set at once, each instance's instant.
fn rrule_each(set: &rrule::RRuleSet, mut f: impl FnMut(i64)) -> usize {
    let dates = set.clone().all(u16::MAX).dates;
    for d in &dates {
        f(d.timestamp());
    }
    dates.len()
}

/// calcard: the calendar's expansion, each event's instant.
fn calcard_each(cal: &calcard::icalendar::ICalendar, mut f: impl FnMut(i64)) -> usize {
    let expanded = cal.expand_dates(calcard::common::timezone::Tz::Floating, 100_000);
    for e in &expanded.events {
        f(e.start.timestamp());
    }
    expanded.events.len()
}

/// ical-rs: civil instances, gaps dropped by `in_zone`, each converted with the VTIMEZONE.
pub(crate) struct IcalRs {
    rule: IcalRecurRule,
    start: IcalRecurDateTime,
    zone: IcalTz,
}

impl IcalRs {
    fn each(&self, mut f: impl FnMut(i64)) -> usize {
        let mut offsets = IcalTzTransitions::of_zone(self.zone.clone());
        let mut n = 0;
        for local in IcalRecurExpand::new(self.rule.clone(), self.start).in_zone(self.zone.clone())
        {
            if let Some(unix) = offsets.resolve(local).instant(local) {
                f(unix);
                n += 1;
            }
        }
        n
    }
}

fn ical_rs_berlin() -> IcalTz {
    let cst = pimalaya_ical::tree::cst::IcalCst::parse(BERLIN_VTIMEZONE).unwrap();
    IcalTz::of_calendar(&cst.decode(), "Europe/Berlin").unwrap()
}
