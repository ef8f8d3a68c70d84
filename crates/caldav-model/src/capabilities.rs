//! What a server says it can do: the `DAV:` and `Allow:` headers of an OPTIONS answer.
//!
//! RFC 4918 §10.1 defines the `DAV:` header as a comma-separated list of compliance classes;
//! a server may send it on several header lines, which HTTP (RFC 9110 §5.3) combines in order:
//!
//! ```text
//! DAV = "DAV" ":" #( compliance-class )
//! compliance-class = ( "1" | "2" | "3" | extend )
//! extend = Coded-URL | token
//! ```
//!
//! CalDAV adds `calendar-access` (RFC 4791 §5.1), scheduling `calendar-auto-schedule`
//! (RFC 6638 §2), `calendar-no-timezone` (RFC 7809 §2), `calendar-managed-attachments`
//! (RFC 8607 §3.1); WebDAV ACL adds `access-control` (RFC 3744 §7.2), extended MKCOL
//! `extended-mkcol` (RFC 5689 §3.1). The `Allow:` header (RFC 9110 §10.2.1) lists methods.
//! Sync-collection (RFC 6578 §3) is not announced in a header but in the
//! `DAV:supported-report-set` property; [`Capabilities::add_report`] takes it from there.
//!
//! Unknown tokens are kept as strings, so a caller can test for an extension this crate does
//! not name.

use http::{HeaderMap, Method};

use crate::{Error, Limits};

/// One compliance class from a `DAV:` header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DavClass {
    /// `1`: WebDAV class 1 (RFC 4918 §18.1).
    Level1,
    /// `2`: locking (RFC 4918 §18.2).
    Level2,
    /// `3`: RFC 4918 revisions (RFC 4918 §18.3).
    Level3,
    /// `access-control`: WebDAV ACL (RFC 3744).
    AccessControl,
    /// `calendar-access`: CalDAV (RFC 4791).
    CalendarAccess,
    /// `calendar-auto-schedule`: server-side scheduling (RFC 6638).
    CalendarAutoSchedule,
    /// `calendar-no-timezone`: time zones by reference (RFC 7809).
    CalendarNoTimezone,
    /// `calendar-managed-attachments` (RFC 8607).
    CalendarManagedAttachments,
    /// `extended-mkcol` (RFC 5689).
    ExtendedMkcol,
    /// `resource-sharing` (draft-pot-webdav-resource-sharing).
    ResourceSharing,
    /// `calendarserver-sharing`: CalendarServer sharing extension.
    CalendarServerSharing,
    /// `calendar-availability` (RFC 7953).
    CalendarAvailability,
    /// `addressbook`: CardDAV (RFC 6352).
    Addressbook,
    /// A token or Coded-URL this crate does not name, exactly as sent (Coded-URLs keep
    /// their angle brackets).
    Other(String),
}

impl DavClass {
    /// Maps one header token to its class.
    ///
    /// Known tokens compare ASCII case-insensitively, because servers are inconsistent and
    /// nothing in RFC 4918 gives case a meaning here.
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::capabilities::DavClass;
    /// assert_eq!(DavClass::from_token("calendar-access"), DavClass::CalendarAccess);
    /// assert_eq!(DavClass::from_token("x-foo"), DavClass::Other("x-foo".into()));
    /// ```
    #[must_use]
    pub fn from_token(token: &str) -> Self {
        const KNOWN: &[(&str, DavClass)] = &[
            ("1", DavClass::Level1),
            ("2", DavClass::Level2),
            ("3", DavClass::Level3),
            ("access-control", DavClass::AccessControl),
            ("calendar-access", DavClass::CalendarAccess),
            ("calendar-auto-schedule", DavClass::CalendarAutoSchedule),
            ("calendar-no-timezone", DavClass::CalendarNoTimezone),
            (
                "calendar-managed-attachments",
                DavClass::CalendarManagedAttachments,
            ),
            ("extended-mkcol", DavClass::ExtendedMkcol),
            ("resource-sharing", DavClass::ResourceSharing),
            ("calendarserver-sharing", DavClass::CalendarServerSharing),
            ("calendar-availability", DavClass::CalendarAvailability),
            ("addressbook", DavClass::Addressbook),
        ];
        KNOWN
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
            .map_or_else(
                || DavClass::Other(token.to_owned()),
                |(_, class)| class.clone(),
            )
    }

    /// The token as it appears in a `DAV:` header.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            DavClass::Level1 => "1",
            DavClass::Level2 => "2",
            DavClass::Level3 => "3",
            DavClass::AccessControl => "access-control",
            DavClass::CalendarAccess => "calendar-access",
            DavClass::CalendarAutoSchedule => "calendar-auto-schedule",
            DavClass::CalendarNoTimezone => "calendar-no-timezone",
            DavClass::CalendarManagedAttachments => "calendar-managed-attachments",
            DavClass::ExtendedMkcol => "extended-mkcol",
            DavClass::ResourceSharing => "resource-sharing",
            DavClass::CalendarServerSharing => "calendarserver-sharing",
            DavClass::CalendarAvailability => "calendar-availability",
            DavClass::Addressbook => "addressbook",
            DavClass::Other(token) => token,
        }
    }
}

/// A report a server lists in `DAV:supported-report-set`, by namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportName {
    /// The namespace URI, e.g. `DAV:` or `urn:ietf:params:xml:ns:caldav`.
    pub namespace: String,
    /// The local name, e.g. `sync-collection`.
    pub local: String,
}

impl ReportName {
    /// A report name from its namespace URI and local name.
    #[must_use]
    pub fn new(namespace: impl Into<String>, local: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            local: local.into(),
        }
    }

    fn is(&self, namespace: &str, local: &str) -> bool {
        self.namespace == namespace && self.local == local
    }
}

/// One typed view of what a server can do: its `DAV:` classes, its `Allow:` methods and
/// the reports it lists in `DAV:supported-report-set`.
///
/// # Example
///
/// ```
/// use caldav_model::capabilities::{Capabilities, DavClass};
///
/// let response = http::Response::builder()
///     .header("DAV", "1, 2, 3, access-control, extended-mkcol")
///     .header("DAV", "calendar-access, calendar-auto-schedule")
///     .header("Allow", "OPTIONS, GET, PROPFIND, REPORT")
///     .body(())
///     .unwrap();
/// let caps = Capabilities::from_headers(response.headers()).unwrap();
/// assert!(caps.calendar_access());
/// assert!(caps.has(&DavClass::ExtendedMkcol));
/// assert!(caps.allows(&http::Method::from_bytes(b"REPORT").unwrap()));
/// assert!(!caps.allows(&http::Method::PUT));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    classes: Vec<DavClass>,
    methods: Vec<Method>,
    allow_seen: bool,
    reports: Vec<ReportName>,
}

impl Capabilities {
    /// Reads every `DAV:` and `Allow:` header line of a response, with default limits.
    ///
    /// # Errors
    ///
    /// [`Error::Header`] if a line holds a byte outside visible ASCII or a malformed
    /// Coded-URL, [`Error::LimitExceeded`] past [`Limits::max_header_tokens`].
    ///
    /// # Panics
    ///
    /// Never.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, Error> {
        Self::from_headers_with(headers, &Limits::default())
    }

    /// Like [`Capabilities::from_headers`], with explicit limits.
    ///
    /// # Errors
    ///
    /// As [`Capabilities::from_headers`].
    pub fn from_headers_with(headers: &HeaderMap, limits: &Limits) -> Result<Self, Error> {
        let mut caps = Capabilities::default();
        let mut count = 0usize;
        for value in headers.get_all(http::header::HeaderName::from_static("dav")) {
            for (_, token) in split_list(value.as_bytes(), "dav")? {
                count = bump(count, limits.max_header_tokens)?;
                let class = DavClass::from_token(token);
                if !caps.classes.contains(&class) {
                    caps.classes.push(class);
                }
            }
        }
        for value in headers.get_all(http::header::ALLOW) {
            caps.allow_seen = true;
            for (offset, token) in split_list(value.as_bytes(), "allow")? {
                count = bump(count, limits.max_header_tokens)?;
                let method = Method::from_bytes(token.as_bytes()).map_err(|_| Error::Header {
                    header: "allow",
                    offset,
                })?;
                if !caps.methods.contains(&method) {
                    caps.methods.push(method);
                }
            }
        }
        Ok(caps)
    }

    /// Records a report from `DAV:supported-report-set` (RFC 3253 §3.1.5).
    pub fn add_report(&mut self, report: ReportName) {
        if !self.reports.contains(&report) {
            self.reports.push(report);
        }
    }

    /// Records every report of a resource's `DAV:supported-report-set`.
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::capabilities::Capabilities;
    /// use caldav_model::property::{names, Property, PropertySet, Value};
    /// let mut props = PropertySet::new();
    /// props.insert(Property::new(
    ///     names::SUPPORTED_REPORT_SET,
    ///     Value::Reports(vec![dav_xml::QName::new("DAV:", "sync-collection")]),
    /// ));
    /// let mut caps = Capabilities::default();
    /// caps.add_reports_from(&props);
    /// assert!(caps.sync_collection());
    /// ```
    pub fn add_reports_from(&mut self, properties: &crate::property::PropertySet) {
        for report in properties.supported_reports() {
            self.add_report(ReportName::new(report.namespace(), report.local()));
        }
    }

    /// The `DAV:` classes, in header order, without duplicates.
    #[must_use]
    pub fn classes(&self) -> &[DavClass] {
        &self.classes
    }

    /// The `Allow:` methods, in header order, without duplicates.
    #[must_use]
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// The reports recorded with [`Capabilities::add_report`].
    #[must_use]
    pub fn reports(&self) -> &[ReportName] {
        &self.reports
    }

    /// Whether the `DAV:` header announced `class`.
    #[must_use]
    pub fn has(&self, class: &DavClass) -> bool {
        self.classes.contains(class)
    }

    /// Whether `method` may be used. Without any `Allow:` header nothing is known, so every
    /// method is assumed allowed: refusing a method the server never ruled out would be worse
    /// than trying it and reading a 405.
    #[must_use]
    pub fn allows(&self, method: &Method) -> bool {
        !self.allow_seen || self.methods.contains(method)
    }

    /// Whether the server sent an `Allow:` header at all.
    #[must_use]
    pub fn allow_known(&self) -> bool {
        self.allow_seen
    }

    /// Whether a report was listed in `DAV:supported-report-set`.
    #[must_use]
    pub fn supports_report(&self, namespace: &str, local: &str) -> bool {
        self.reports.iter().any(|r| r.is(namespace, local))
    }

    /// The highest WebDAV class announced (1, 2 or 3), or `None` if there is no `DAV:` header.
    #[must_use]
    pub fn dav_level(&self) -> Option<u8> {
        [
            (DavClass::Level3, 3),
            (DavClass::Level2, 2),
            (DavClass::Level1, 1),
        ]
        .into_iter()
        .find(|(class, _)| self.has(class))
        .map(|(_, level)| level)
    }

    /// `calendar-access`: the server is a CalDAV server (RFC 4791 §5.1).
    #[must_use]
    pub fn calendar_access(&self) -> bool {
        self.has(&DavClass::CalendarAccess)
    }

    /// `access-control`: WebDAV ACL (RFC 3744).
    #[must_use]
    pub fn access_control(&self) -> bool {
        self.has(&DavClass::AccessControl)
    }

    /// `calendar-auto-schedule`: the server does implicit scheduling (RFC 6638).
    #[must_use]
    pub fn calendar_auto_schedule(&self) -> bool {
        self.has(&DavClass::CalendarAutoSchedule)
    }

    /// `calendar-no-timezone`: VTIMEZONEs may be left out of stored objects (RFC 7809).
    #[must_use]
    pub fn calendar_no_timezone(&self) -> bool {
        self.has(&DavClass::CalendarNoTimezone)
    }

    /// `extended-mkcol` (RFC 5689).
    #[must_use]
    pub fn extended_mkcol(&self) -> bool {
        self.has(&DavClass::ExtendedMkcol)
    }

    /// `calendar-managed-attachments` (RFC 8607).
    #[must_use]
    pub fn calendar_managed_attachments(&self) -> bool {
        self.has(&DavClass::CalendarManagedAttachments)
    }

    /// `resource-sharing` (draft-pot-webdav-resource-sharing).
    #[must_use]
    pub fn resource_sharing(&self) -> bool {
        self.has(&DavClass::ResourceSharing)
    }

    /// Whether the `DAV:sync-collection` report (RFC 6578) is listed in
    /// `DAV:supported-report-set`, or (as a few servers do) named in the `DAV:` header.
    #[must_use]
    pub fn sync_collection(&self) -> bool {
        self.supports_report("DAV:", "sync-collection")
            || self.has(&DavClass::Other("sync-collection".to_owned()))
    }

    /// Whether the `DAV:` header announced a token or Coded-URL by its exact text.
    #[must_use]
    pub fn has_token(&self, token: &str) -> bool {
        self.has(&DavClass::from_token(token))
    }
}

fn bump(count: usize, limit: usize) -> Result<usize, Error> {
    let next = count.saturating_add(1);
    if next > limit {
        return Err(Error::LimitExceeded {
            what: "header tokens",
            limit,
        });
    }
    Ok(next)
}

/// Splits one header line on commas, trimming optional whitespace and skipping empty
/// elements (RFC 9110 §5.6.1 asks recipients to accept them).
fn split_list<'a>(line: &'a [u8], header: &'static str) -> Result<Vec<(usize, &'a str)>, Error> {
    if let Some(offset) = line
        .iter()
        .position(|&b| !(b == b' ' || b == b'\t' || b.is_ascii_graphic()))
    {
        return Err(Error::Header { header, offset });
    }
    let text = std::str::from_utf8(line).map_err(|e| Error::Header {
        header,
        offset: e.valid_up_to(),
    })?;
    let mut out = Vec::new();
    let mut start = 0usize;
    for part in text.split(',') {
        let token = part.trim_matches([' ', '\t']);
        if !token.is_empty() {
            let lead = part.len() - part.trim_start_matches([' ', '\t']).len();
            let offset = start + lead;
            let coded = token.starts_with('<');
            if coded && (!token.ends_with('>') || token.len() < 3) {
                return Err(Error::Header { header, offset });
            }
            if !coded && token.contains([' ', '\t', '<', '>']) {
                return Err(Error::Header { header, offset });
            }
            out.push((offset, token));
        }
        start += part.len() + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn several_dav_lines_combine_in_order() {
        let caps =
            Capabilities::from_headers(&headers(&[("dav", "1, 2"), ("dav", "3,calendar-access")]))
                .unwrap();
        assert_eq!(
            caps.classes(),
            &[
                DavClass::Level1,
                DavClass::Level2,
                DavClass::Level3,
                DavClass::CalendarAccess
            ]
        );
        assert_eq!(caps.dav_level(), Some(3));
    }

    #[test]
    fn empty_list_elements_are_skipped() {
        let caps = Capabilities::from_headers(&headers(&[("dav", " ,1,, 2 ,")])).unwrap();
        assert_eq!(caps.classes(), &[DavClass::Level1, DavClass::Level2]);
    }

    #[test]
    fn coded_url_kept_verbatim() {
        let caps = Capabilities::from_headers(&headers(&[(
            "dav",
            "1, <http://apache.org/dav/propset/fs/1>",
        )]))
        .unwrap();
        assert!(caps.has_token("<http://apache.org/dav/propset/fs/1>"));
    }

    #[test]
    fn unterminated_coded_url_reports_offset() {
        let err = Capabilities::from_headers(&headers(&[("dav", "1, <http://x")])).unwrap_err();
        assert_eq!(
            err,
            Error::Header {
                header: "dav",
                offset: 3
            }
        );
    }

    #[test]
    fn token_limit_is_an_error() {
        let limits = Limits {
            max_header_tokens: 2,
            ..Limits::default()
        };
        let err =
            Capabilities::from_headers_with(&headers(&[("dav", "1, 2, 3")]), &limits).unwrap_err();
        assert!(matches!(err, Error::LimitExceeded { limit: 2, .. }));
    }

    #[test]
    fn no_allow_header_means_unknown_not_forbidden() {
        let caps = Capabilities::from_headers(&headers(&[("dav", "1")])).unwrap();
        assert!(!caps.allow_known());
        assert!(caps.allows(&Method::DELETE));
        let caps = Capabilities::from_headers(&headers(&[("allow", "GET")])).unwrap();
        assert!(!caps.allows(&Method::DELETE));
        assert_eq!(caps.dav_level(), None);
    }

    #[test]
    fn sync_collection_comes_from_reports() {
        let mut caps = Capabilities::default();
        assert!(!caps.sync_collection());
        caps.add_report(ReportName::new("DAV:", "sync-collection"));
        caps.add_report(ReportName::new("DAV:", "sync-collection"));
        assert!(caps.sync_collection());
        assert_eq!(caps.reports().len(), 1);
    }

    #[test]
    fn known_tokens_round_trip_through_as_str() {
        for token in [
            "1",
            "2",
            "3",
            "access-control",
            "calendar-access",
            "calendar-auto-schedule",
            "calendar-no-timezone",
            "calendar-managed-attachments",
            "extended-mkcol",
            "resource-sharing",
            "calendarserver-sharing",
            "calendar-availability",
            "addressbook",
            "x-unknown",
        ] {
            assert_eq!(DavClass::from_token(token).as_str(), token);
        }
    }
}
