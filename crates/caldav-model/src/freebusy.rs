//! Free-busy computation (RFC 4791 §7.10): busy periods of a set of calendar objects, as
//! one VFREEBUSY.
//!
//! ```text
//! TRANSP       STATUS                 FBTYPE
//! OPAQUE       CONFIRMED (default)    BUSY
//! (default)    CANCELLED              FREE
//!              TENTATIVE              BUSY-TENTATIVE
//!              x-name                 BUSY or x-name
//! TRANSPARENT  any                    FREE
//! ```
//!
//! "Servers SHOULD coalesce consecutive or overlapping busy time periods of the same type";
//! periods of different types may overlap. Free time is never listed: it is what is left.
//!
//! A server's answer comes back here too: [`busy_periods`] reads the VFREEBUSY of a
//! free-busy-query REPORT (RFC 4791 §7.10) or of one recipient of an outbox POST, and
//! [`ScheduleResponse`] decodes the `CALDAV:schedule-response` of that POST (RFC 6638 §6.1.4,
//! §10.2):
//!
//! ```text
//! <!ELEMENT schedule-response (response*)>
//! <!ELEMENT response (recipient, request-status, calendar-data?, DAV:error?,
//!                     DAV:responsedescription?)>
//! <!ELEMENT recipient (DAV:href)>
//! ```

use std::fmt::Write as _;

use dav_xml::{Element, QName};
use jiff::Timestamp;

use crate::Error;
use crate::filter::{TimeRange, format_utc};
use crate::query::EvalOptions;

/// The `FBTYPE` of a busy period (RFC 5545 §3.2.9).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FbType {
    /// `FREE`.
    Free,
    /// `BUSY`, the default.
    Busy,
    /// `BUSY-TENTATIVE`.
    BusyTentative,
    /// `BUSY-UNAVAILABLE`.
    BusyUnavailable,
    /// An x-name or IANA token, kept as sent (uppercase).
    Other(String),
}

impl FbType {
    /// The parameter value as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            FbType::Free => "FREE",
            FbType::Busy => "BUSY",
            FbType::BusyTentative => "BUSY-TENTATIVE",
            FbType::BusyUnavailable => "BUSY-UNAVAILABLE",
            FbType::Other(name) => name,
        }
    }

    /// Reads an `FBTYPE` parameter value (case-insensitive, RFC 5545 §3.2).
    #[must_use]
    pub fn parse(value: &str) -> Self {
        match value.to_ascii_uppercase().as_str() {
            "FREE" => FbType::Free,
            "BUSY" => FbType::Busy,
            "BUSY-TENTATIVE" => FbType::BusyTentative,
            "BUSY-UNAVAILABLE" => FbType::BusyUnavailable,
            other => FbType::Other(other.to_owned()),
        }
    }

    /// The busy type an event contributes, from its `TRANSP` and `STATUS` values, or `None`
    /// when it leaves the time free (RFC 4791 §7.10's table).
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::freebusy::FbType;
    /// assert_eq!(FbType::for_event(None, None), Some(FbType::Busy));
    /// assert_eq!(FbType::for_event(None, Some("TENTATIVE")), Some(FbType::BusyTentative));
    /// assert_eq!(FbType::for_event(Some("TRANSPARENT"), None), None);
    /// assert_eq!(FbType::for_event(None, Some("CANCELLED")), None);
    /// ```
    #[must_use]
    pub fn for_event(transp: Option<&str>, status: Option<&str>) -> Option<FbType> {
        if transp.is_some_and(|t| t.eq_ignore_ascii_case("TRANSPARENT")) {
            return None;
        }
        match status {
            Some(s) if s.eq_ignore_ascii_case("CANCELLED") => None,
            Some(s) if s.eq_ignore_ascii_case("TENTATIVE") => Some(FbType::BusyTentative),
            _ => Some(FbType::Busy),
        }
    }
}

/// One `FREEBUSY` period: `[start, end)` with its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BusyPeriod {
    /// Inclusive start.
    pub start: Timestamp,
    /// Exclusive end.
    pub end: Timestamp,
    /// Its type.
    pub fb_type: FbType,
}

/// Collects busy periods and turns them into a VFREEBUSY (RFC 4791 §7.10).
///
/// # Example
///
/// ```
/// use caldav_model::filter::{parse_utc, TimeRange};
/// use caldav_model::freebusy::{FbType, FreeBusyBuilder};
///
/// let t = |s| parse_utc(s).unwrap();
/// let range = TimeRange::new(Some(t("20060104T140000Z")), Some(t("20060104T220000Z"))).unwrap();
/// let mut fb = FreeBusyBuilder::new(range);
/// fb.add(t("20060104T150000Z"), t("20060104T160000Z"), FbType::BusyTentative);
/// fb.add(t("20060104T190000Z"), t("20060104T200000Z"), FbType::Busy);
/// fb.add(t("20060104T193000Z"), t("20060104T203000Z"), FbType::Busy);
/// let periods = fb.periods();
/// assert_eq!(periods.len(), 2);
/// assert_eq!(periods[1].end, t("20060104T203000Z"));
/// ```
#[derive(Debug, Clone)]
pub struct FreeBusyBuilder {
    range: TimeRange,
    periods: Vec<BusyPeriod>,
}

impl FreeBusyBuilder {
    /// An empty free-busy answer for `range`.
    #[must_use]
    pub fn new(range: TimeRange) -> Self {
        Self {
            range,
            periods: Vec::new(),
        }
    }

    /// Adds a busy period; the part outside the range is cut off, and a period that does not
    /// overlap the range (or has no length) is ignored, as is `FBTYPE=FREE`.
    pub fn add(&mut self, start: Timestamp, end: Timestamp, fb_type: FbType) {
        if fb_type == FbType::Free {
            return;
        }
        let start = self.range.start().map_or(start, |s| start.max(s));
        let end = self.range.end().map_or(end, |e| end.min(e));
        if start < end {
            self.periods.push(BusyPeriod {
                start,
                end,
                fb_type,
            });
        }
    }

    /// The range asked for.
    #[must_use]
    pub fn range(&self) -> TimeRange {
        self.range
    }

    /// The periods, sorted by start then type, with overlapping or adjacent periods of one
    /// type coalesced.
    #[must_use]
    pub fn periods(&self) -> Vec<BusyPeriod> {
        let mut sorted = self.periods.clone();
        sorted.sort_by(|a, b| (&a.fb_type, a.start, a.end).cmp(&(&b.fb_type, b.start, b.end)));
        let mut out: Vec<BusyPeriod> = Vec::with_capacity(sorted.len());
        for period in sorted {
            match out.last_mut() {
                Some(last) if last.fb_type == period.fb_type && period.start <= last.end => {
                    last.end = last.end.max(period.end);
                }
                _ => out.push(period),
            }
        }
        out.sort_by(|a, b| (a.start, &a.fb_type).cmp(&(b.start, &b.fb_type)));
        out
    }

    /// The answer as an iCalendar object with one VFREEBUSY, CRLF line ends; `dtstamp` is
    /// the caller's "now" (this crate reads no clock) and `prodid` its product identifier.
    #[must_use]
    pub fn to_icalendar(&self, dtstamp: Timestamp, prodid: &str) -> String {
        let mut out = String::new();
        let mut line = |s: &str| {
            out.push_str(s);
            out.push_str("\r\n");
        };
        line("BEGIN:VCALENDAR");
        line("VERSION:2.0");
        line(&format!("PRODID:{prodid}"));
        line("BEGIN:VFREEBUSY");
        line(&format!("DTSTAMP:{}", format_utc(dtstamp)));
        if let Some(start) = self.range.start() {
            line(&format!("DTSTART:{}", format_utc(start)));
        }
        if let Some(end) = self.range.end() {
            line(&format!("DTEND:{}", format_utc(end)));
        }
        for period in self.periods() {
            let mut text = String::from("FREEBUSY");
            if period.fb_type != FbType::Busy {
                let _ = write!(text, ";FBTYPE={}", period.fb_type.as_str());
            }
            let _ = write!(
                text,
                ":{}/{}",
                format_utc(period.start),
                format_utc(period.end)
            );
            line(&text);
        }
        line("END:VFREEBUSY");
        line("END:VCALENDAR");
        out
    }
}

/// The busy periods of an iCalendar answer (a VFREEBUSY, or events) within `range`, typed and
/// coalesced as [`FreeBusyBuilder::periods`] does, so that a server's answer and a local
/// computation compare equal when they agree.
///
/// # Errors
///
/// [`Error::ICalendar`] when the text is not iCalendar.
///
/// # Example
///
/// ```
/// use caldav_model::filter::{parse_utc, TimeRange};
/// use caldav_model::freebusy::{busy_periods, FbType};
///
/// let t = |s| parse_utc(s).unwrap();
/// let answer = "BEGIN:VCALENDAR\nBEGIN:VFREEBUSY\nDTSTART:20261201T000000Z\n\
///               DTEND:20261202T000000Z\nFREEBUSY:20261201T100000Z/PT1H\n\
///               FREEBUSY;FBTYPE=BUSY-TENTATIVE:20261201T120000Z/20261201T130000Z\n\
///               END:VFREEBUSY\nEND:VCALENDAR\n";
/// let range = TimeRange::new(Some(t("20261201T000000Z")), Some(t("20261202T000000Z"))).unwrap();
/// let periods = busy_periods(answer, range)?;
/// assert_eq!(periods.len(), 2);
/// assert_eq!(periods[0].end, t("20261201T110000Z"));
/// assert_eq!(periods[1].fb_type, FbType::BusyTentative);
/// # Ok::<(), caldav_model::Error>(())
/// ```
pub fn busy_periods(text: &str, range: TimeRange) -> Result<Vec<BusyPeriod>, Error> {
    let parsed = ical_parse::parse_with(text, &ical_parse::ParseOptions::lenient())?;
    let mut builder = FreeBusyBuilder::new(range);
    builder.add_calendar(&parsed.calendar, &EvalOptions::default());
    Ok(builder.periods())
}

/// The iTIP free-busy REQUEST an organizer POSTs to its outbox (RFC 5546 §3.3.2, RFC 6638
/// §5): one VFREEBUSY with DTSTART, DTEND, ORGANIZER, one ATTENDEE per address asked about,
/// a caller-chosen UID and `dtstamp` (this crate reads no clock). CRLF line ends; TEXT-free,
/// so nothing needs escaping, but addresses with control characters are dropped.
///
/// # Example
///
/// ```
/// use caldav_model::filter::parse_utc;
/// use caldav_model::freebusy::freebusy_request;
///
/// let t = |s| parse_utc(s).unwrap();
/// let text = freebusy_request("mailto:a@example.com", &["mailto:b@example.com"],
///     t("20261201T000000Z"), t("20261202T000000Z"), "fb-1", t("20261124T100000Z"));
/// assert!(text.contains("METHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\n"));
/// assert!(text.contains("ATTENDEE:mailto:b@example.com\r\n"));
/// ```
#[must_use]
pub fn freebusy_request(
    organizer: &str,
    attendees: &[&str],
    start: Timestamp,
    end: Timestamp,
    uid: &str,
    dtstamp: Timestamp,
) -> String {
    let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(s);
        out.push_str("\r\n");
    };
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//caldav-model//free-busy//EN");
    line("METHOD:REQUEST");
    line("BEGIN:VFREEBUSY");
    line(&format!("UID:{}", clean(uid)));
    line(&format!("DTSTAMP:{}", format_utc(dtstamp)));
    line(&format!("DTSTART:{}", format_utc(start)));
    line(&format!("DTEND:{}", format_utc(end)));
    line(&format!("ORGANIZER:{}", clean(organizer)));
    for attendee in attendees {
        line(&format!("ATTENDEE:{}", clean(attendee)));
    }
    line("END:VFREEBUSY");
    line("END:VCALENDAR");
    out
}

/// One recipient's answer in a `CALDAV:schedule-response` (RFC 6638 §10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecipientResponse {
    /// The recipient's calendar user address (the `DAV:href` of `CALDAV:recipient`).
    pub recipient: String,
    /// The iTIP REQUEST-STATUS value, e.g. `2.0;Success` (RFC 5546 §3.6).
    pub request_status: String,
    /// The answer itself (for free-busy, a VFREEBUSY REPLY), if the server sent one.
    pub calendar_data: Option<String>,
    /// `DAV:responsedescription`, if any.
    pub description: Option<String>,
    /// The precondition elements of a `DAV:error`, kept as sent.
    pub error: Option<Element>,
}

impl RecipientResponse {
    /// The status code before the first `;` (`2.0`, `3.7`, `5.3`...).
    #[must_use]
    pub fn status_code(&self) -> &str {
        self.request_status
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
    }

    /// Whether the request succeeded for this recipient (a `2.x` code, RFC 5546 §3.6).
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.status_code().starts_with("2.")
    }
}

/// A decoded `CALDAV:schedule-response`: one entry per recipient, in the server's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ScheduleResponse {
    /// The recipients' answers.
    pub responses: Vec<RecipientResponse>,
}

impl ScheduleResponse {
    /// Decodes a POST answer body with `dav-xml`'s default limits. Unknown elements are
    /// ignored; a response without a recipient is an error.
    ///
    /// # Errors
    ///
    /// [`Error::Xml`] for malformed XML (with its byte offset), [`Error::InvalidRequest`]
    /// when the root is not `schedule-response` or a response has no recipient.
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::freebusy::ScheduleResponse;
    ///
    /// let body = br#"<C:schedule-response xmlns:C="urn:ietf:params:xml:ns:caldav"
    ///   xmlns:D="DAV:"><C:response><C:recipient><D:href>mailto:b@example.com</D:href>
    ///   </C:recipient><C:request-status>2.0;Success</C:request-status>
    ///   </C:response></C:schedule-response>"#;
    /// let answer = ScheduleResponse::decode(body)?;
    /// assert_eq!(answer.responses[0].recipient, "mailto:b@example.com");
    /// assert!(answer.responses[0].is_success());
    /// # Ok::<(), caldav_model::Error>(())
    /// ```
    pub fn decode(body: &[u8]) -> Result<ScheduleResponse, Error> {
        let root = Element::decode(body)?;
        let cal = |local: &'static str| QName::caldav(local);
        if root.name != cal("schedule-response") {
            return Err(Error::InvalidRequest {
                element: root.name.to_string(),
                reason: "expected schedule-response",
            });
        }
        let mut responses = Vec::new();
        for response in root.children_named(&cal("response")) {
            let recipient = response
                .child(&cal("recipient"))
                .and_then(|r| r.child(&QName::DAV_HREF))
                .map(|h| h.text().trim().to_owned())
                .ok_or_else(|| Error::InvalidRequest {
                    element: response.name.to_string(),
                    reason: "response without recipient",
                })?;
            let text = |name: QName| response.child(&name).map(|e| e.text().into_owned());
            responses.push(RecipientResponse {
                recipient,
                request_status: text(cal("request-status"))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default(),
                calendar_data: text(cal("calendar-data")),
                description: text(QName::dav("responsedescription")),
                error: response.child(&QName::dav("error")).cloned(),
            });
        }
        Ok(ScheduleResponse { responses })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_utc;

    fn t(s: &str) -> Timestamp {
        parse_utc(s).unwrap()
    }

    fn builder() -> FreeBusyBuilder {
        FreeBusyBuilder::new(
            TimeRange::new(Some(t("20060104T140000Z")), Some(t("20060104T220000Z"))).unwrap(),
        )
    }

    #[test]
    fn periods_are_clipped_and_outside_ones_dropped() {
        let mut fb = builder();
        fb.add(t("20060104T100000Z"), t("20060104T120000Z"), FbType::Busy);
        fb.add(t("20060104T130000Z"), t("20060104T150000Z"), FbType::Busy);
        fb.add(t("20060104T200000Z"), t("20060104T230000Z"), FbType::Free);
        let periods = fb.periods();
        assert_eq!(periods.len(), 1);
        assert_eq!(periods[0].start, t("20060104T140000Z"));
        assert_eq!(periods[0].end, t("20060104T150000Z"));
    }

    #[test]
    fn adjacent_same_type_coalesces_but_different_types_overlap() {
        let mut fb = builder();
        fb.add(t("20060104T150000Z"), t("20060104T160000Z"), FbType::Busy);
        fb.add(t("20060104T160000Z"), t("20060104T170000Z"), FbType::Busy);
        fb.add(
            t("20060104T153000Z"),
            t("20060104T163000Z"),
            FbType::BusyTentative,
        );
        let periods = fb.periods();
        assert_eq!(periods.len(), 2);
        assert_eq!(periods[0].fb_type, FbType::Busy);
        assert_eq!(periods[0].end, t("20060104T170000Z"));
        assert_eq!(periods[1].fb_type, FbType::BusyTentative);
    }

    #[test]
    fn icalendar_output_lists_types() {
        let mut fb = builder();
        fb.add(
            t("20060104T150000Z"),
            t("20060104T160000Z"),
            FbType::BusyTentative,
        );
        fb.add(t("20060104T190000Z"), t("20060104T200000Z"), FbType::Busy);
        let text = fb.to_icalendar(t("20050125T090000Z"), "-//Example//EN");
        assert!(text.contains(
            "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20060104T150000Z/20060104T160000Z\r\n\
             FREEBUSY:20060104T190000Z/20060104T200000Z\r\n"
        ));
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.contains("DTSTART:20060104T140000Z\r\nDTEND:20060104T220000Z\r\n"));
    }

    #[test]
    fn fbtype_parse_is_case_insensitive_and_keeps_unknown() {
        assert_eq!(FbType::parse("busy-unavailable"), FbType::BusyUnavailable);
        assert_eq!(FbType::parse("x-out"), FbType::Other("X-OUT".into()));
        assert_eq!(
            FbType::for_event(Some("opaque"), Some("x-foo")),
            Some(FbType::Busy)
        );
    }
}
