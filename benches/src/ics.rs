//! iCalendar inputs (RFC 5545) and the line-unfolding floor.
//!
//! [`calendar`] writes one VCALENDAR with a VTIMEZONE and any number of VEVENTs shaped like
//! real meeting invitations: TZID-qualified DTSTART/DTEND, a long DESCRIPTION with escapes and
//! non-ASCII text folded at 75 octets (RFC 5545 §3.1), an ORGANIZER and three ATTENDEEs with
//! quoted CN parameters (folded too), an RRULE on four events in five, and one or two VALARMs.
//! An event is about 1.2 KB, so 10,000 events make a calendar of about 11.7 MB.

use crate::SeedError;
use dav_xml::{Multistatus, QName};
use std::fmt::Write as _;

/// Line ends to write.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Eol {
    /// `CRLF`, as RFC 5545 §3.1 requires.
    CrLf,
    /// Bare `LF`, what calendar data becomes after XML end-of-line handling.
    Lf,
}

impl Eol {
    fn as_str(self) -> &'static str {
        match self {
            Eol::CrLf => "\r\n",
            Eol::Lf => "\n",
        }
    }
}

/// The longest line RFC 5545 §3.1 wants, in octets, line end excluded.
const FOLD_AT: usize = 75;

const VTIMEZONE: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "X-LIC-LOCATION:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

const WORDS: &[&str] = &[
    "agenda",
    "budget",
    "review",
    "Größe",
    "réunion",
    "quarterly",
    "roadmap",
    "会議",
    "follow-up",
    "R&D",
    "<draft>",
    "milestones",
    "Zürich",
    "dependencies",
    "release",
    "sync",
];

const RRULES: &[Option<&str>] = &[
    Some("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=30"),
    Some("FREQ=DAILY;INTERVAL=2;UNTIL=20261231T230000Z"),
    Some("FREQ=MONTHLY;BYDAY=-1FR"),
    Some("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15;COUNT=5"),
    None,
];

const MONTH_DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Appends `line` and a line end to `out`, folded at 75 octets without splitting a UTF-8
/// sequence (RFC 5545 §3.1).
pub fn write_folded(out: &mut String, line: &str, eol: Eol) {
    let mut rest = line;
    let mut limit = FOLD_AT;
    loop {
        if rest.len() <= limit {
            out.push_str(rest);
            out.push_str(eol.as_str());
            return;
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push_str(head);
        out.push_str(eol.as_str());
        out.push(' ');
        rest = tail;
        // The leading space of a continuation line counts toward its 75 octets.
        limit = FOLD_AT - 1;
    }
}

/// The (month, day) of day `n` (0-based) of a non-leap year.
fn month_day(mut n: u32) -> (u32, u32) {
    for (month, days) in (1..).zip(MONTH_DAYS) {
        if n < days {
            return (month, n + 1);
        }
        n -= days;
    }
    (12, 31)
}

/// Appends the VTIMEZONE for Europe/Berlin that every generated event refers to.
pub fn write_vtimezone(out: &mut String, eol: Eol) {
    for line in VTIMEZONE {
        write_folded(out, line, eol);
    }
}

/// Appends event number `i`: deterministic, about 1.2 KB, different from its neighbours.
pub fn write_event(out: &mut String, i: usize, eol: Eol) {
    let n = u32::try_from(i % 100_000).unwrap_or(0);
    let (month, day) = month_day(n % 365);
    let hour = 8 + n % 10;
    let mut line = String::with_capacity(512);
    let put = |out: &mut String, line: &mut String| {
        write_folded(out, line, eol);
        line.clear();
    };
    write_folded(out, "BEGIN:VEVENT", eol);
    let _ = write!(line, "UID:{i:08}-4f6c-bench@example.com");
    put(out, &mut line);
    write_folded(out, "DTSTAMP:20250101T090000Z", eol);
    write_folded(out, "CREATED:20241215T101500Z", eol);
    let _ = write!(
        line,
        "LAST-MODIFIED:202412{:02}T{:02}3000Z",
        1 + n % 28,
        n % 24
    );
    put(out, &mut line);
    let _ = write!(
        line,
        "DTSTART;TZID=Europe/Berlin:2025{month:02}{day:02}T{hour:02}0000"
    );
    put(out, &mut line);
    let _ = write!(
        line,
        "DTEND;TZID=Europe/Berlin:2025{month:02}{day:02}T{:02}3000",
        hour + 1
    );
    put(out, &mut line);
    let word = |k: u32| {
        let idx = usize::try_from((n.wrapping_mul(7).wrapping_add(k * 13)) % 16).unwrap_or(0);
        WORDS.get(idx).copied().unwrap_or("word")
    };
    let _ = write!(
        line,
        "SUMMARY:{} {}\\, {} #{i}",
        word(1).to_uppercase(),
        word(2),
        word(3)
    );
    put(out, &mut line);
    line.push_str("DESCRIPTION:");
    for k in 0..24 {
        line.push_str(word(k));
        line.push_str(match k % 9 {
            4 => "\\, ",
            8 => "\\;\\n",
            _ => " ",
        });
    }
    put(out, &mut line);
    let _ = write!(line, "LOCATION:Room {}\\, Building {}", n % 40, n % 7);
    put(out, &mut line);
    let _ = write!(
        line,
        "ORGANIZER;CN=\"Organizer {}\":mailto:organizer{}@example.com",
        n % 50,
        n % 50
    );
    put(out, &mut line);
    for j in 0..3 {
        let who = (n + j * 17) % 500;
        let _ = write!(
            line,
            "ATTENDEE;CN=\"Attendee {who}, Team {}\";ROLE=REQ-PARTICIPANT;\
             PARTSTAT={};RSVP=TRUE:mailto:attendee{who}@example.com",
            who % 9,
            if j == 0 { "ACCEPTED" } else { "NEEDS-ACTION" }
        );
        put(out, &mut line);
    }
    if let Some(Some(rule)) = RRULES.get(i % RRULES.len()) {
        let _ = write!(line, "RRULE:{rule}");
        put(out, &mut line);
    }
    write_folded(out, "CATEGORIES:Work,Planning", eol);
    write_folded(out, "SEQUENCE:1", eol);
    write_folded(out, "STATUS:CONFIRMED", eol);
    write_folded(out, "TRANSP:OPAQUE", eol);
    let alarms = if i.is_multiple_of(3) { 2 } else { 1 };
    for a in 0..alarms {
        write_folded(out, "BEGIN:VALARM", eol);
        write_folded(out, "ACTION:DISPLAY", eol);
        let _ = write!(line, "TRIGGER:-PT{}M", 15 * (a + 1));
        put(out, &mut line);
        write_folded(out, "DESCRIPTION:Reminder", eol);
        write_folded(out, "END:VALARM", eol);
    }
    write_folded(out, "END:VEVENT", eol);
}

fn write_header(out: &mut String, eol: Eol) {
    write_folded(out, "BEGIN:VCALENDAR", eol);
    write_folded(out, "VERSION:2.0", eol);
    write_folded(out, "PRODID:-//caldav-rs//benches//EN", eol);
    write_folded(out, "CALSCALE:GREGORIAN", eol);
    write_vtimezone(out, eol);
}

/// One VCALENDAR with the Berlin VTIMEZONE and `events` events.
///
/// # Example
///
/// ```
/// let text = caldav_benches::ics::calendar(3, caldav_benches::ics::Eol::CrLf);
/// let calendar = ical_parse::parse_strict(&text).unwrap();
/// assert_eq!(calendar.events().count(), 3);
/// ```
#[must_use]
pub fn calendar(events: usize, eol: Eol) -> String {
    let mut out = String::with_capacity(events * 1200 + 1024);
    write_header(&mut out, eol);
    for i in 0..events {
        write_event(&mut out, i, eol);
    }
    write_folded(&mut out, "END:VCALENDAR", eol);
    out
}

/// Calendar object resource number `i` (RFC 4791 §4.1): a VCALENDAR with the VTIMEZONE and
/// event `i`, what a CalDAV server stores and sends for one href.
#[must_use]
pub fn calendar_object(i: usize, eol: Eol) -> String {
    let mut out = String::with_capacity(2048);
    write_header(&mut out, eol);
    write_event(&mut out, i, eol);
    write_folded(&mut out, "END:VCALENDAR", eol);
    out
}

/// The calendar data of the seed trace's calendar-multiget response: five small VCALENDARs
/// with LF line ends, as XML hands them on.
///
/// # Errors
///
/// When the seed does not read or its multistatus does not decode (the workspace's tests say
/// it does).
pub fn seed_calendar_objects() -> Result<Vec<String>, SeedError> {
    let mut out = Vec::new();
    for exchange in caldav_trace::seed::exchanges().map_err(SeedError::Trace)? {
        let Some(response) = &exchange.response else {
            continue;
        };
        if response.status() != http::StatusCode::MULTI_STATUS {
            continue;
        }
        let multistatus = Multistatus::decode(response.body()).map_err(SeedError::Xml)?;
        for r in &multistatus.responses {
            if let Some(data) = r.prop(&QName::CALDAV_CALENDAR_DATA) {
                let text = data.text();
                if !text.is_empty() {
                    out.push(text.into_owned());
                }
            }
        }
    }
    Ok(out)
}

/// The floor: finds and unfolds content lines and splits each at its first `:`, nothing more.
///
/// Line ends are found with memchr (`LF`, with an optional `CR` before it); a line is copied
/// only when a continuation line (starting with a space or a tab) follows it. Calls `line`
/// with the name-and-parameters part and the value of every unfolded line (a line without `:`
/// gives an empty value) and returns the number of lines. No parser can do less work.
pub fn unfold_lines(input: &[u8], mut line: impl FnMut(&[u8], &[u8])) -> usize {
    fn emit(text: &[u8], line: &mut impl FnMut(&[u8], &[u8])) {
        match memchr::memchr(b':', text) {
            Some(colon) => {
                let (head, value) = text.split_at(colon);
                line(head, value.get(1..).unwrap_or_default());
            }
            None => line(text, b""),
        }
    }
    let mut count = 0;
    let mut folded: Vec<u8> = Vec::new();
    let mut is_folded = false;
    let mut current: Option<&[u8]> = None;
    let mut start = 0;
    while start < input.len() {
        let rest = input.get(start..).unwrap_or_default();
        let (physical, next) = match memchr::memchr(b'\n', rest) {
            Some(end) => (rest.get(..end).unwrap_or_default(), start + end + 1),
            None => (rest, input.len()),
        };
        let physical = physical.strip_suffix(b"\r").unwrap_or(physical);
        start = next;
        match (physical.first(), current) {
            (Some(b' ' | b'\t'), Some(open)) => {
                if !is_folded {
                    folded.clear();
                    folded.extend_from_slice(open);
                    is_folded = true;
                }
                folded.extend_from_slice(physical.get(1..).unwrap_or_default());
            }
            _ => {
                if let Some(open) = current.take() {
                    emit(if is_folded { &folded } else { open }, &mut line);
                    count += 1;
                }
                is_folded = false;
                current = (!physical.is_empty()).then_some(physical);
            }
        }
    }
    if let Some(open) = current {
        emit(if is_folded { &folded } else { open }, &mut line);
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_lines_stay_within_75_octets_and_unfold_to_the_original() {
        let long = format!("DESCRIPTION:{}", "Größe 会議 ".repeat(40));
        let mut out = String::new();
        write_folded(&mut out, &long, Eol::CrLf);
        assert!(out.split("\r\n").all(|l| l.len() <= FOLD_AT));
        assert_eq!(out.replace("\r\n ", ""), format!("{long}\r\n"));
    }

    #[test]
    fn calendar_is_deterministic_and_about_1_kb_per_event() {
        let a = calendar(100, Eol::CrLf);
        assert_eq!(a, calendar(100, Eol::CrLf));
        let per_event = a.len() / 100;
        assert!(
            (900..1400).contains(&per_event),
            "{per_event} bytes per event"
        );
        assert!(a.split("\r\n").all(|l| l.len() <= FOLD_AT));
    }

    #[test]
    fn generated_calendar_parses_strictly_with_every_feature() {
        let text = calendar(50, Eol::CrLf);
        let calendar = ical_parse::parse_strict(&text).unwrap();
        assert_eq!(calendar.events().count(), 50);
        assert_eq!(calendar.timezones().count(), 1);
        let recurring = calendar.events().filter(|e| e.rrule().unwrap().is_some());
        assert_eq!(recurring.count(), 40);
        for event in calendar.events() {
            assert_eq!(event.attendees().count(), 3);
            assert!(event.alarms().count() >= 1);
            assert_eq!(
                event.dtstart().unwrap().unwrap().tzid,
                Some("Europe/Berlin")
            );
            assert!(event.description().unwrap().contains("Größe"));
        }
    }

    #[test]
    fn lf_calendar_differs_only_in_line_ends() {
        assert_eq!(
            calendar(5, Eol::CrLf).replace("\r\n", "\n"),
            calendar(5, Eol::Lf)
        );
        assert_eq!(
            calendar_object(7, Eol::Lf).matches("BEGIN:VEVENT").count(),
            1
        );
    }

    #[test]
    fn floor_sees_the_same_lines_as_the_parser() {
        for eol in [Eol::CrLf, Eol::Lf] {
            let text = calendar(20, eol);
            let mut descriptions = Vec::new();
            let count = unfold_lines(text.as_bytes(), |head, value| {
                if head == b"DESCRIPTION" && value.len() > 100 {
                    descriptions.push(String::from_utf8(value.to_vec()).unwrap());
                }
            });
            let unfolded = text.replace(eol.as_str(), "\n").replace("\n ", "");
            assert_eq!(count, unfolded.lines().count());
            let parsed = ical_parse::parse(&text).unwrap();
            let expected: Vec<String> = parsed
                .events()
                .map(|e| {
                    e.component()
                        .property("DESCRIPTION")
                        .unwrap()
                        .raw_value
                        .to_string()
                })
                .collect();
            assert_eq!(descriptions, expected);
        }
    }

    #[test]
    fn floor_handles_edges() {
        let mut seen = Vec::new();
        let n = unfold_lines(b"A:1\n\tb\r\nNOCOLON\n\n C\nD:x:y", |h, v| {
            seen.push((h.to_vec(), v.to_vec()));
        });
        assert_eq!(n, 4);
        assert_eq!(seen[0], (b"A".to_vec(), b"1b".to_vec()));
        assert_eq!(seen[1], (b"NOCOLON".to_vec(), Vec::new()));
        assert_eq!(seen[2], (b" C".to_vec(), Vec::new()));
        assert_eq!(seen[3], (b"D".to_vec(), b"x:y".to_vec()));
        assert_eq!(unfold_lines(b"", |_, _| ()), 0);
    }

    #[test]
    fn seed_has_five_calendar_objects() {
        let objects = seed_calendar_objects().unwrap();
        assert_eq!(objects.len(), 5);
        for object in &objects {
            assert!(object.starts_with("BEGIN:VCALENDAR"));
            ical_parse::parse(object).unwrap();
        }
    }
}
