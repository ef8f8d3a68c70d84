//! RFC 4791 §7.8 calendar-query examples and the §7.10 free-busy example, run against the
//! Appendix B calendar data (`tests/fixtures/rfc4791/`, see its README for the RFC's own
//! inconsistencies and how they are handled here).

use caldav_model::filter::{
    Collation, CompFilter, Filter, ParamFilter, PropFilter, TextMatch, TimeRange, parse_utc,
};
use caldav_model::freebusy::{FbType, FreeBusyBuilder};
use caldav_model::query::EvalOptions;
use ical_parse::Calendar;

const COLLECTION: [(&str, &str); 8] = [
    ("abcd1", include_str!("../fixtures/rfc4791/abcd1.ics")),
    ("abcd2", include_str!("../fixtures/rfc4791/abcd2.ics")),
    ("abcd3", include_str!("../fixtures/rfc4791/abcd3.ics")),
    ("abcd4", include_str!("../fixtures/rfc4791/abcd4.ics")),
    ("abcd5", include_str!("../fixtures/rfc4791/abcd5.ics")),
    ("abcd6", include_str!("../fixtures/rfc4791/abcd6.ics")),
    ("abcd7", include_str!("../fixtures/rfc4791/abcd7.ics")),
    ("abcd8", include_str!("../fixtures/rfc4791/abcd8.ics")),
];

fn collection() -> Vec<(&'static str, Calendar<'static>)> {
    COLLECTION
        .iter()
        .map(|(name, text)| (*name, ical_parse::parse_strict(text).unwrap()))
        .collect()
}

fn range(start: &str, end: &str) -> TimeRange {
    TimeRange::new(parse_utc(start), parse_utc(end)).unwrap()
}

fn query(filter: &Filter) -> Vec<&'static str> {
    collection()
        .iter()
        .filter(|(_, cal)| filter.matches(cal, &EvalOptions::default()))
        .map(|(name, _)| *name)
        .collect()
}

#[test]
fn s7_8_1_events_in_a_time_range() {
    let f = Filter::component(
        CompFilter::new("VEVENT").time_range(range("20060104T000000Z", "20060105T000000Z")),
    );
    assert_eq!(query(&f), ["abcd2", "abcd3"]);
}

#[test]
fn s7_8_2_and_7_8_3_recurring_events_in_a_time_range() {
    let f = Filter::component(
        CompFilter::new("VEVENT").time_range(range("20060103T000000Z", "20060105T000000Z")),
    );
    assert_eq!(query(&f), ["abcd2", "abcd3"]);
}

#[test]
fn s7_8_4_stored_free_busy_in_a_time_range() {
    let f = Filter::component(
        CompFilter::new("VFREEBUSY").time_range(range("20060102T000000Z", "20060103T000000Z")),
    );
    assert_eq!(query(&f), ["abcd8"]);
}

#[test]
fn s7_8_5_todos_by_alarm_time_range() {
    let f =
        Filter::component(CompFilter::new("VTODO").comp(
            CompFilter::new("VALARM").time_range(range("20060106T100000Z", "20060107T100000Z")),
        ));
    // Appendix B's abcd5 is due on the date 2006-01-06, so its alarm (ten minutes before,
    // anchored on DUE) fires at 2006-01-05T23:50Z, before the range: no match.
    assert_eq!(query(&f), Vec::<&str>::new());
    // The to-do as the RFC's answer shows it (due 12:00 US/Eastern) does match.
    let answer = COLLECTION[4].1.replace(
        "DUE;VALUE=DATE:20060106",
        "DUE;TZID=US/Eastern:20060106T120000",
    );
    let answer = format!(
        "{}{}",
        &COLLECTION[0].1[..COLLECTION[0].1.find("BEGIN:VEVENT").unwrap()],
        &answer[answer.find("BEGIN:VTODO").unwrap()..]
    );
    let cal = ical_parse::parse_strict(&answer).unwrap();
    assert!(f.matches(&cal, &EvalOptions::default()));
    // An alarm one day later is outside the range again.
    let later = answer.replace("20060106T120000", "20060107T120000");
    let cal = ical_parse::parse_strict(&later).unwrap();
    assert!(!f.matches(&cal, &EvalOptions::default()));
}

#[test]
fn s7_8_6_event_by_uid() {
    let f = Filter::component(
        CompFilter::new("VEVENT").prop(PropFilter::new("UID").text_match(
            TextMatch::new("DC6C50A017428C5216A2F1CD@example.com").collation(Collation::Octet),
        )),
    );
    assert_eq!(query(&f), ["abcd3"]);
    // i;octet is case-sensitive.
    let f = Filter::component(
        CompFilter::new("VEVENT").prop(PropFilter::new("UID").text_match(
            TextMatch::new("dc6c50a017428c5216a2f1cd@example.com").collation(Collation::Octet),
        )),
    );
    assert_eq!(query(&f), Vec::<&str>::new());
}

#[test]
fn s7_8_7_events_by_partstat() {
    let f = Filter::component(
        CompFilter::new("VEVENT").prop(
            PropFilter::new("ATTENDEE")
                .text_match(TextMatch::new("mailto:lisa@example.com"))
                .param(ParamFilter::new("PARTSTAT").text_match(TextMatch::new("NEEDS-ACTION"))),
        ),
    );
    assert_eq!(query(&f), ["abcd3"]);
    // The parameter test applies to the same ATTENDEE as the text-match: Cyrus accepted.
    let f = Filter::component(
        CompFilter::new("VEVENT").prop(
            PropFilter::new("ATTENDEE")
                .text_match(TextMatch::new("mailto:lisa@example.com"))
                .param(ParamFilter::new("PARTSTAT").text_match(TextMatch::new("ACCEPTED"))),
        ),
    );
    assert_eq!(query(&f), Vec::<&str>::new());
}

#[test]
fn s7_8_8_events_only() {
    let f = Filter::component(CompFilter::new("VEVENT"));
    assert_eq!(query(&f), ["abcd1", "abcd2", "abcd3"]);
}

#[test]
fn s7_8_9_pending_todos() {
    let f = Filter::component(
        CompFilter::new("VTODO")
            .prop(PropFilter::is_not_defined("COMPLETED"))
            .prop(PropFilter::new("STATUS").text_match(TextMatch::new("CANCELLED").negate(true))),
    );
    assert_eq!(query(&f), ["abcd4", "abcd5"]);
}

#[test]
fn whole_collection_and_absent_components() {
    assert_eq!(query(&Filter::any()).len(), 8);
    let no_alarm =
        Filter::component(CompFilter::new("VTODO").comp(CompFilter::is_not_defined("VALARM")));
    assert_eq!(query(&no_alarm), ["abcd6", "abcd7"]);
    let journals = Filter::component(CompFilter::new("VJOURNAL"));
    assert_eq!(query(&journals), Vec::<&str>::new());
}

#[test]
fn todo_time_ranges_follow_the_vtodo_table() {
    // abcd4 due 2006-01-04 (date, floating in UTC), abcd5 due 2006-01-06, abcd6 due
    // 2005-12-25 and completed 2005-12-23, abcd7 due 2006-01-01.
    let f = |s, e| Filter::component(CompFilter::new("VTODO").time_range(range(s, e)));
    assert_eq!(query(&f("20060103T000000Z", "20060104T000000Z")), ["abcd4"]);
    assert_eq!(
        query(&f("20060104T000000Z", "20060105T000000Z")),
        Vec::<&str>::new()
    );
    assert_eq!(query(&f("20051231T000000Z", "20060101T000000Z")), ["abcd7"]);
    assert_eq!(query(&f("20051224T000000Z", "20051226T000000Z")), ["abcd6"]);
}

#[test]
fn prop_time_range_on_dtstamp() {
    let f = Filter::component(CompFilter::new("VTODO").prop(
        PropFilter::new("DTSTAMP").time_range(range("20060205T235330Z", "20060205T235500Z")),
    ));
    assert_eq!(query(&f), ["abcd4", "abcd6"]);
}

#[test]
fn recurring_event_instances_and_overrides() {
    // Event #2 recurs daily at 12:00 US/Eastern (17:00Z) from 2006-01-02, five times; the
    // 4 January instance moved to 14:00 (19:00Z).
    let at = |s, e| Filter::component(CompFilter::new("VEVENT").time_range(range(s, e)));
    assert_eq!(
        query(&at("20060106T170000Z", "20060106T173000Z")),
        ["abcd2"]
    );
    assert_eq!(
        query(&at("20060107T170000Z", "20060107T173000Z")),
        Vec::<&str>::new()
    );
    // The overridden slot is free, the override's slot is busy.
    assert_eq!(
        query(&at("20060104T170000Z", "20060104T173000Z")),
        Vec::<&str>::new()
    );
    assert_eq!(
        query(&at("20060104T190000Z", "20060104T193000Z")),
        ["abcd2"]
    );
    // A prop-filter next to the time-range is tested on the component that produced the
    // overlapping instance: only the override is summarised "Event #2 bis".
    let bis = |s, e| {
        Filter::component(
            CompFilter::new("VEVENT")
                .time_range(range(s, e))
                .prop(PropFilter::new("SUMMARY").text_match(TextMatch::new("bis"))),
        )
    };
    assert_eq!(
        query(&bis("20060104T190000Z", "20060104T193000Z")),
        ["abcd2"]
    );
    assert_eq!(
        query(&bis("20060105T170000Z", "20060105T173000Z")),
        Vec::<&str>::new()
    );
}

fn free_busy(start: &str, end: &str) -> Vec<(String, String, FbType)> {
    let mut fb = FreeBusyBuilder::new(range(start, end));
    for (_, cal) in collection() {
        fb.add_calendar(&cal, &EvalOptions::default());
    }
    fb.periods()
        .into_iter()
        .map(|p| {
            (
                caldav_model::filter::format_utc(p.start),
                caldav_model::filter::format_utc(p.end),
                p.fb_type,
            )
        })
        .collect()
}

#[test]
fn s7_10_1_free_busy_for_the_interval_the_prose_describes() {
    let periods = free_busy("20060104T140000Z", "20060104T220000Z");
    assert_eq!(
        periods,
        [
            (
                "20060104T150000Z".into(),
                "20060104T160000Z".into(),
                FbType::BusyTentative
            ),
            (
                "20060104T190000Z".into(),
                "20060104T200000Z".into(),
                FbType::Busy
            ),
        ]
    );
}

#[test]
fn s7_10_1_free_busy_for_the_literal_request() {
    let periods = free_busy("20060104T140000Z", "20060105T220000Z");
    assert_eq!(
        periods,
        [
            (
                "20060104T150000Z".into(),
                "20060104T160000Z".into(),
                FbType::BusyTentative
            ),
            (
                "20060104T190000Z".into(),
                "20060104T200000Z".into(),
                FbType::Busy
            ),
            (
                "20060105T100000Z".into(),
                "20060105T120000Z".into(),
                FbType::BusyUnavailable
            ),
            (
                "20060105T170000Z".into(),
                "20060105T180000Z".into(),
                FbType::Busy
            ),
        ]
    );
}

mod as_a_server {
    //! The §7.8 and §7.10 request bodies as a server receives them: decoded, then evaluated.

    use super::{collection, free_busy};
    use caldav_model::query::EvalOptions;
    use caldav_model::report::{CalendarQuery, FreeBusyQuery, PropItem, PropRequest};

    fn run(body: &str) -> Vec<&'static str> {
        let query = CalendarQuery::decode(body.as_bytes()).unwrap();
        collection()
            .iter()
            .filter(|(_, cal)| query.filter.matches(cal, &EvalOptions::default()))
            .map(|(name, _)| *name)
            .collect()
    }

    #[test]
    fn s7_8_1_request() {
        let body = r#"<?xml version="1.0" encoding="utf-8" ?>
   <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
     <D:prop>
       <C:calendar-data>
         <C:comp name="VCALENDAR">
           <C:prop name="VERSION"/>
           <C:comp name="VEVENT">
             <C:prop name="SUMMARY"/>
             <C:prop name="UID"/>
             <C:prop name="DTSTART"/>
             <C:prop name="DTEND"/>
             <C:prop name="DURATION"/>
             <C:prop name="RRULE"/>
             <C:prop name="RDATE"/>
             <C:prop name="EXRULE"/>
             <C:prop name="EXDATE"/>
             <C:prop name="RECURRENCE-ID"/>
           </C:comp>
           <C:comp name="VTIMEZONE"/>
         </C:comp>
       </C:calendar-data>
     </D:prop>
     <C:filter>
       <C:comp-filter name="VCALENDAR">
         <C:comp-filter name="VEVENT">
           <C:time-range start="20060104T000000Z"
                         end="20060105T000000Z"/>
         </C:comp-filter>
       </C:comp-filter>
     </C:filter>
   </C:calendar-query>"#;
        assert_eq!(run(body), ["abcd2", "abcd3"]);
        let query = CalendarQuery::decode(body.as_bytes()).unwrap();
        let Some(PropRequest::Prop(items)) = &query.props else {
            panic!()
        };
        let PropItem::CalendarData(data) = &items[0] else {
            panic!()
        };
        let comp = data.comp.as_ref().unwrap();
        assert_eq!(comp.props.as_ref().unwrap().len(), 1);
        assert_eq!(
            comp.comps.as_ref().unwrap()[0]
                .props
                .as_ref()
                .unwrap()
                .len(),
            10
        );
    }

    #[test]
    fn s7_8_7_request() {
        let body = r#"<?xml version="1.0" encoding="utf-8" ?>
   <C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav">
     <D:prop xmlns:D="DAV:">
       <D:getetag/>
       <C:calendar-data/>
     </D:prop>
     <C:filter>
       <C:comp-filter name="VCALENDAR">
         <C:comp-filter name="VEVENT">
           <C:prop-filter name="ATTENDEE">
             <C:text-match collation="i;ascii-casemap"
              >mailto:lisa@example.com</C:text-match>
             <C:param-filter name="PARTSTAT">
               <C:text-match collation="i;ascii-casemap"
                >NEEDS-ACTION</C:text-match>
             </C:param-filter>
           </C:prop-filter>
         </C:comp-filter>
       </C:comp-filter>
     </C:filter>
   </C:calendar-query>"#;
        assert_eq!(run(body), ["abcd3"]);
    }

    #[test]
    fn s7_8_9_request() {
        let body = r#"<?xml version="1.0" encoding="utf-8" ?>
   <C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav">
     <D:prop xmlns:D="DAV:">
       <D:getetag/>
       <C:calendar-data/>
     </D:prop>
     <C:filter>
       <C:comp-filter name="VCALENDAR">
         <C:comp-filter name="VTODO">
           <C:prop-filter name="COMPLETED">
             <C:is-not-defined/>
           </C:prop-filter>
           <C:prop-filter name="STATUS">
             <C:text-match
                negate-condition="yes">CANCELLED</C:text-match>
           </C:prop-filter>
         </C:comp-filter>
       </C:comp-filter>
     </C:filter>
   </C:calendar-query>"#;
        assert_eq!(run(body), ["abcd4", "abcd5"]);
    }

    #[test]
    fn s7_10_1_request() {
        let body = r#"<?xml version="1.0" encoding="utf-8" ?>
   <C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
     <C:time-range start="20060104T140000Z"
                     end="20060105T220000Z"/>
   </C:free-busy-query>"#;
        let query = FreeBusyQuery::decode(body.as_bytes()).unwrap();
        let start = caldav_model::filter::format_utc(query.range.start().unwrap());
        let end = caldav_model::filter::format_utc(query.range.end().unwrap());
        assert_eq!(free_busy(&start, &end).len(), 4);
    }

    #[test]
    fn malformed_requests_are_errors() {
        for body in [
            r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"/>"#,
            r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter/></C:filter></C:calendar-query>"#,
            r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:time-range start="2006"/></C:comp-filter></C:filter></C:calendar-query>"#,
            r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:time-range start="20060105T000000Z" end="20060104T000000Z"/></C:comp-filter></C:filter></C:calendar-query>"#,
            r#"<C:calendar-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:prop-filter name="X"><C:text-match negate-condition="maybe">a</C:text-match></C:prop-filter></C:comp-filter></C:filter></C:calendar-query>"#,
            r#"<D:propfind xmlns:D="DAV:"/>"#,
            "<not xml",
        ] {
            assert!(CalendarQuery::decode(body.as_bytes()).is_err(), "{body}");
        }
    }
}
