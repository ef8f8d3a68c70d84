//! What servers do to calendar data: a round trip of a recurring event with overrides and X-
//! properties (RFC 5545 §3.8.4.4, §3.8.8.2), the seed's objects, and calendar-query time
//! ranges over recurring events (RFC 4791 §7.8, §9.9) against our own evaluation.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use caldav_model::filter::{CompFilter, Filter, TimeRange, parse_utc};
use caldav_model::property::names;
use caldav_model::query::EvalOptions;
use caldav_model::report::{CalendarQuery, PropRequest};
use dav_xml::{Href, Multistatus};
use http::{Method, Response};

use crate::ctx::{member, refusal};
use crate::{Ctx, Outcome, StepExt, compare_icalendar, ensure};

/// PUT `data` at `href` as a new object (`If-None-Match: *`), the answer as it came.
async fn create(ctx: &Ctx, href: &str, data: String) -> Result<Response<Bytes>, Outcome> {
    ctx.send(
        ctx.driver.http(),
        Method::PUT,
        href,
        &[
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("If-None-Match", "*"),
        ],
        Bytes::from(data),
    )
    .await
}

/// PUTs `data` as `name` in `calendar` (`If-None-Match: *`) and GETs it back. `Ok(Err(..))`
/// is the server's refusal of the PUT.
async fn put_and_get(
    ctx: &Ctx,
    calendar: &Href,
    name: &str,
    data: &str,
) -> Result<Result<String, String>, Outcome> {
    let href = member(calendar, name);
    let put = create(ctx, &href, data.to_owned()).await?;
    if !put.status().is_success() {
        return Ok(Err(refusal(&put)));
    }
    let got = ctx
        .send(ctx.driver.http(), Method::GET, &href, &[], Bytes::new())
        .await?;
    ensure(got.status().is_success(), || {
        format!("GET {href} after PUT: {}", got.status())
    })?;
    Ok(Ok(String::from_utf8_lossy(got.body()).into_owned()))
}

const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nX-LIC-LOCATION:Europe/Berlin\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n\
DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// The round-trip object: canonical (as our writer folds it), so that a server that stores
/// verbatim gives back the same bytes.
fn round_trip_object(uid: &str) -> Result<String, Outcome> {
    let text = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//interop round trip//EN\r\n\
         CALSCALE:GREGORIAN\r\nX-WR-CALNAME:interop\r\n{BERLIN}\
         BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSEQUENCE:2\r\n\
         DTSTART;TZID=Europe/Berlin:20260105T090000\r\nDTEND;TZID=Europe/Berlin:20260105T100000\r\n\
         RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO\r\nEXDATE;TZID=Europe/Berlin:20260119T090000\r\n\
         SUMMARY:Weekly planning\\, with a comma\\; and a semicolon\r\n\
         DESCRIPTION:A description long enough to be folded by any writer that folds at \
         seventy-five octets\\, with an escaped newline\\nand UTF-8: Grüße\\, 日本語.\r\n\
         CATEGORIES:work,planning\r\n\
         X-CALDAV-RS-TEST;X-PARAM=\"quoted; value\";X-OTHER=a,b:kept as sent\r\n\
         X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\n\
         BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\n\
         X-WR-ALARMUID:interop-alarm\r\nEND:VALARM\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260112T090000\r\n\
         DTSTAMP:20260101T000000Z\r\nSEQUENCE:2\r\n\
         DTSTART;TZID=Europe/Berlin:20260112T110000\r\nDTEND;TZID=Europe/Berlin:20260112T120000\r\n\
         SUMMARY:Weekly planning (moved)\r\nX-CALDAV-RS-OVERRIDE:1\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260126T090000\r\n\
         DTSTAMP:20260101T000000Z\r\nSEQUENCE:2\r\n\
         DTSTART;TZID=Europe/Berlin:20260126T090000\r\nDTEND;TZID=Europe/Berlin:20260126T100000\r\n\
         SUMMARY:Weekly planning (cancelled)\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    );
    let parsed = ical_parse::parse_strict(&text).step("the round-trip object")?;
    Ok(parsed.write())
}

/// A recurring event with overrides and X- properties, round-tripped.
pub(crate) async fn round_trip(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("roundtrip", async |calendar| {
        round_trip_in(ctx, calendar).await
    })
    .await
}

async fn round_trip_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let uid = format!("interop-roundtrip-{}", ctx.run_id);
    let sent = round_trip_object(&uid)?;
    let got = match put_and_get(ctx, calendar, "roundtrip.ics", &sent).await? {
        Ok(got) => got,
        Err(refused) => return Ok(Outcome::Fail(format!("PUT refused: {refused}"))),
    };
    let comparison = compare_icalendar(&sent, &got);
    if comparison.identical {
        return Ok(Outcome::Pass("byte-for-byte".into()));
    }
    if comparison.is_equivalent() {
        return Ok(Outcome::Pass(format!(
            "server rewrites data: {}; semantically equal",
            comparison.describe()
        )));
    }
    Ok(Outcome::Fail(comparison.describe()))
}

/// The seed's calendar objects, as `(name, text)` in the trace's order, with the CRLF line
/// ends XML parsing took from them restored.
fn seed_objects() -> Result<Vec<(String, String)>, Outcome> {
    let objects = test_support::seed::calendar_objects().step("the seed trace")?;
    Ok(objects
        .into_iter()
        .map(|(name, text)| (name, crlf(&text)))
        .collect())
}

/// `text` with CRLF line ends: XML parsing turned the stored objects' CRLF into LF (XML 1.0
/// §2.11), and RFC 5545 §3.1 content lines end in CRLF.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Content lines a refusal is not blamed on: structure and what every object needs.
const ESSENTIAL: &[&str] = &[
    "BEGIN", "END", "VERSION", "PRODID", "UID", "DTSTAMP", "DTSTART",
];

/// Which one content line the server objects to: the object is PUT again without each
/// non-essential line in turn (at most [`CULPRIT_TRIES`] times) until the server stores it.
async fn culprit(
    ctx: &Ctx,
    calendar: &Href,
    name: &str,
    text: &str,
) -> Result<Option<String>, Outcome> {
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    let lines: Vec<&str> = unfolded.lines().collect();
    let mut tries = 0;
    for (i, line) in lines.iter().enumerate() {
        let property = line.split([';', ':']).next().unwrap_or_default();
        if ESSENTIAL.contains(&property) {
            continue;
        }
        if tries == CULPRIT_TRIES {
            break;
        }
        tries += 1;
        let mut without: String = lines
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join("\r\n");
        without.push_str("\r\n");
        let probe = format!("probe-{tries}-{name}");
        if put_and_get(ctx, calendar, &probe, &without).await?.is_ok() {
            return Ok(Some((*line).to_owned()));
        }
    }
    Ok(None)
}

/// How many reduced objects [`culprit`] tries.
const CULPRIT_TRIES: usize = 40;

/// The seed's objects uploaded and read back.
pub(crate) async fn seed(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("seed", async |calendar| seed_in(ctx, calendar).await)
        .await
}

async fn seed_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let objects = seed_objects()?;
    ensure(objects.len() == 5, || {
        format!("the seed holds {} objects, expected 5", objects.len())
    })?;
    let mut exact = Vec::new();
    let mut rewritten = Vec::new();
    let mut refused = Vec::new();
    let mut lost = Vec::new();
    for (name, text) in &objects {
        match put_and_get(ctx, calendar, name, text).await? {
            Err(why) => {
                let culprit = match culprit(ctx, calendar, name, text).await? {
                    Some(line) => format!(" (stored once `{line}` is left out)"),
                    None => String::new(),
                };
                refused.push(format!("{name}: {why}{culprit}"));
            }
            Ok(got) => {
                let comparison = compare_icalendar(text, &got);
                if comparison.identical {
                    exact.push(name.clone());
                } else if comparison.is_equivalent() {
                    rewritten.push(format!("{name} ({})", comparison.describe()));
                } else {
                    lost.push(format!("{name}: {}", comparison.describe()));
                }
            }
        }
    }
    if !lost.is_empty() {
        return Ok(Outcome::Fail(lost.join("; ")));
    }
    let mut kept = Vec::new();
    if !exact.is_empty() {
        kept.push(format!("{} byte-for-byte", exact.len()));
    }
    if !rewritten.is_empty() {
        kept.push(format!(
            "{} rewritten, semantically equal: {}",
            rewritten.len(),
            rewritten.join(", ")
        ));
    }
    let kept = kept.join("; ");
    if refused.is_empty() {
        Ok(Outcome::Pass(format!("all five read back: {kept}")))
    } else {
        Ok(Outcome::Unsupported(format!(
            "server refuses {}; the other {} read back: {kept}",
            refused.join("; "),
            objects.len() - refused.len()
        )))
    }
}

/// The query scenario's events: `(tag, body of the VEVENTs)`, and whether RFC 4791 §9.9 has
/// each overlap the week of [`WEEK`] (checked by hand).
const QUERY_EVENTS: &[(&str, &str, bool)] = &[
    (
        "weekly",
        "DTSTART:20260105T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\n",
        true,
    ),
    (
        "ended",
        "DTSTART:20260105T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n",
        false,
    ),
    (
        "exdate",
        "DTSTART:20260105T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\n\
         EXDATE:20260202T090000Z\r\n",
        false,
    ),
    (
        "moved-in",
        "DTSTART:20260105T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n\
         END:VEVENT\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         RECURRENCE-ID:20260112T090000Z\r\nDTSTART:20260203T090000Z\r\nDURATION:PT1H\r\n",
        true,
    ),
    (
        "moved-out",
        "DTSTART:20260105T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\n\
         END:VEVENT\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         RECURRENCE-ID:20260202T090000Z\r\nDTSTART:20260210T090000Z\r\nDURATION:PT1H\r\n",
        false,
    ),
    (
        "allday",
        "DTSTART;VALUE=DATE:20260105\r\nDURATION:P1D\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=5\r\n",
        true,
    ),
    (
        "single",
        "DTSTART:20260301T090000Z\r\nDURATION:PT1H\r\n",
        false,
    ),
];

/// The queried week: `[start, end)`.
const WEEK: (&str, &str) = ("20260202T000000Z", "20260209T000000Z");

fn query_object(tag: &str, body: &str, run_id: &str) -> String {
    let uid = format!("interop-query-{tag}-{run_id}");
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//interop query//EN\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{tag}\r\n{}\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
        body.replace("{uid}", &uid)
    )
}

/// calendar-query with a time range, against our own evaluation.
pub(crate) async fn time_range_query(ctx: &Ctx) -> Outcome {
    ctx.in_scratch("query", async |calendar| {
        time_range_query_in(ctx, calendar).await
    })
    .await
}

fn tags(set: &BTreeSet<&str>) -> String {
    set.iter().copied().collect::<Vec<_>>().join(", ")
}

async fn time_range_query_in(ctx: &Ctx, calendar: &Href) -> Result<Outcome, Outcome> {
    let range = TimeRange::new(parse_utc(WEEK.0), parse_utc(WEEK.1))
        .ok_or_else(|| Outcome::Fail("the query's time range".into()))?;
    let filter = Filter::component(CompFilter::new("VEVENT").time_range(range));
    let expected: BTreeSet<&str> = QUERY_EVENTS
        .iter()
        .filter(|(_, _, hit)| *hit)
        .map(|(tag, _, _)| *tag)
        .collect();
    let mut ours = BTreeSet::new();
    let mut by_name = BTreeMap::new();
    for (tag, body, _) in QUERY_EVENTS {
        let text = query_object(tag, body, &ctx.run_id);
        let parsed = ical_parse::parse_strict(&text).step(tag)?;
        if filter.matches(&parsed, &EvalOptions::default()) {
            ours.insert(*tag);
        }
        let name = format!("{tag}.ics");
        let href = member(calendar, &name);
        let put = create(ctx, &href, text).await?;
        ensure(put.status().is_success(), || {
            format!("PUT {tag}: {}", refusal(&put))
        })?;
        by_name.insert(name, *tag);
    }
    ensure(ours == expected, || {
        format!(
            "our evaluation (caldav-model) matches {{{}}}, the hand-checked answer is {{{}}}",
            tags(&ours),
            tags(&expected)
        )
    })?;
    let body = CalendarQuery::new(filter)
        .props(PropRequest::names([names::GETETAG]))
        .encode();
    let response = ctx
        .send(
            ctx.driver.http(),
            Method::from_bytes(b"REPORT").step("method")?,
            calendar.as_str(),
            &[
                ("Content-Type", "application/xml; charset=utf-8"),
                ("Depth", "1"),
            ],
            Bytes::from(body),
        )
        .await?;
    if response.status().as_u16() != 207 {
        return Ok(Outcome::Unsupported(format!(
            "calendar-query answered {}",
            refusal(&response)
        )));
    }
    let multistatus = Multistatus::decode(response.body()).step("calendar-query answer")?;
    let mut theirs = BTreeSet::new();
    for item in &multistatus.responses {
        let ok = item.status.is_none_or(|s| s.is_success());
        let Some(href) = item.href() else { continue };
        let name = href
            .as_str()
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        if let (true, Some(tag)) = (ok, by_name.get(name)) {
            theirs.insert(*tag);
        }
    }
    if theirs == ours {
        return Ok(Outcome::Pass(format!(
            "the server and our evaluation agree: {{{}}} of {} events",
            tags(&ours),
            QUERY_EVENTS.len()
        )));
    }
    let extra: BTreeSet<&str> = theirs.difference(&ours).copied().collect();
    let missing: BTreeSet<&str> = ours.difference(&theirs).copied().collect();
    let mut what = Vec::new();
    if !extra.is_empty() {
        what.push(format!("also returned {{{}}}", tags(&extra)));
    }
    if !missing.is_empty() {
        what.push(format!("left out {{{}}}", tags(&missing)));
    }
    Ok(Outcome::Unsupported(format!(
        "the server's time-range evaluation differs from RFC 4791 §9.9 (ours, {{{}}}): it {}",
        tags(&ours),
        what.join(" and ")
    )))
}
