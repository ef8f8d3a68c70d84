//! What differs between servers, as plain data (`QUIRKS.md`, `SERVERS.md`).
//!
//! A machine never tests a server's name: it reads a [`QuirkProfile`]. The defaults describe a
//! server that follows RFC 4791, RFC 6578 and RFC 4918; every field is a behaviour seen in the
//! wild that changes what a machine sends or how it reads an answer. A probe or the caller's
//! configuration fills it in; it is serde data so that it can be stored beside the account.

use caldav_model::filter::{CompFilter, Filter};
use serde::{Deserialize, Serialize};

/// What a server answers to a `DAV:sync-collection` whose token it no longer knows (QUIRKS #8,
/// RFC 6578 §3.2). The sync machine's invalid-token detection reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum InvalidSyncToken {
    /// As RFC 6578 says: 403, 409 or 412 naming `DAV:valid-sync-token` (or 410). Only a
    /// named precondition (or a 5xx other than 503/504) counts.
    #[default]
    ValidSyncToken,
    /// 403, with or without the precondition body (Radicale, Cyrus, sabre).
    Forbidden,
    /// 409, with or without the precondition body.
    Conflict,
    /// 412, with or without the precondition body (Xandikos 0.4).
    PreconditionFailed,
    /// 500 (Xandikos 0.2 in Debian).
    ServerError,
    /// A 207 that silently lists every member, as for an initial sync: the refusal cannot be
    /// seen, so deletions would be missed; the sync machine treats tokens as unreliable and
    /// diffs a full listing every time.
    FullListing,
}

impl InvalidSyncToken {
    /// The status that means "invalid token" on its own, body or not.
    #[must_use]
    pub fn status(self) -> Option<u16> {
        match self {
            Self::ValidSyncToken | Self::FullListing => None,
            Self::Forbidden => Some(403),
            Self::Conflict => Some(409),
            Self::PreconditionFailed => Some(412),
            Self::ServerError => Some(500),
        }
    }
}

/// What `/.well-known/caldav` answers (QUIRKS #1, RFC 6764 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WellKnown {
    /// A redirect (301, 302, 307 or 308) to the context path, as RFC 6764 asks.
    #[default]
    Redirect,
    /// A DAV answer in place (207 to PROPFIND, or 200 from a DAV resource).
    InPlace,
    /// 404 or another refusal: discovery starts from the configured URL or the root.
    Missing,
    /// An HTML page (a web front-end that catches every path): not a context path.
    Html,
}

/// The server behaviours the machines consult.
///
/// Every field has a serde default, so a profile file written before a field existed still
/// loads; `#[serde(default)]` fills what a file leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct QuirkProfile {
    /// Try `DAV:sync-collection` (RFC 6578) before the ctag and etag listing. Off for servers
    /// without it (SabreDAV 1.8); a refusal is detected at run time anyway.
    pub sync_collection: bool,
    /// The server refuses a sync-collection with an empty token (Cyrus/Fastmail, QUIRKS #9):
    /// take the first token from the collection's `DAV:sync-token` in an etag listing instead.
    pub empty_sync_token_rejected: bool,
    /// Sync tokens are unreliable (time-based, deletions missing; QUIRKS #11, #12): diff a full
    /// etag listing on every sync, keeping the token only as a hint.
    pub sync_token_unreliable: bool,
    /// How the server answers an invalid or expired sync token (QUIRKS #8).
    pub invalid_sync_token: InvalidSyncToken,
    /// Use `CS:getctag` to skip unchanged collections (QUIRKS: ctag is Apple's extension).
    pub ctag: bool,
    /// The server answers `CALDAV:calendar-multiget` (RFC 4791 §7.9). Off: fetch with GET
    /// (QUIRKS #14 is the opposite case, where only multiget works).
    pub multiget: bool,
    /// The server answers a whole multiget with 404 when one href is missing (SabreDAV 1.8):
    /// a 404 REPORT then means "fetch this batch one by one", not "the calendar is gone".
    pub multiget_404_on_missing_href: bool,
    /// The server leaves hrefs it does not have out of a multiget answer instead of a per-href
    /// 404 (QUIRKS #13): the sync machine checks an omitted href with a GET instead of asking
    /// the multiget again.
    pub multiget_omits_missing: bool,
    /// Most hrefs in one multiget: the server's or the user's cap (QUIRKS #13: Zoho refuses
    /// more than 1,000). The sync machine sends batches as large as this and the expected
    /// answer size ([`crate::sync::SyncConfig::max_multiget_bytes`]) allow: every request has
    /// a fixed cost on the server (Radicale serves them one at a time, Cyrus stalls per
    /// request on a reused connection), so fewer is faster.
    pub multiget_batch_size: usize,
    /// The server honours `If-None-Match: *` on PUT (Google does not, QUIRKS #7, #18): when
    /// off, a create is sent without it.
    pub if_none_match: bool,
    /// The ETag of a PUT answer names the stored bytes (QUIRKS #17: some servers transform the
    /// data or send a tag that a later GET contradicts). When off, a write fetches the etag
    /// afterwards.
    pub trust_put_etag: bool,
    /// PUT answers carry no ETag at all (QUIRKS #17): the write machine fetches it at once
    /// instead of looking for the header.
    pub put_etag_missing: bool,
    /// The server stores a rewritten copy of what was PUT (reordered properties, re-folded
    /// lines; QUIRKS #17, #30): the write machine compares a read-back body with what it sent
    /// semantically (unfolded, unordered content lines), never byte for byte.
    pub rewrites_data: bool,
    /// The server strips the final CRLF of calendar data (SabreDAV 1.8 in `SERVERS.md`: its
    /// REPORT answers end calendar-data with a bare LF): a body that differs from what was
    /// sent only by it is the same object.
    pub trailing_crlf_stripped: bool,
    /// The success statuses of a DELETE of a calendar object (RFC 9110 §9.3.5 allows 200, 202
    /// and 204; Radicale answers 200, most servers 204). A DELETE answered with another 2xx
    /// (202: not done yet, 207: some part failed) is not counted as done.
    pub delete_ok_statuses: Vec<u16>,
    /// What `/.well-known/caldav` answers (QUIRKS #1). Discovery reads any answer; this says
    /// whether a caller may skip the step.
    pub well_known: WellKnown,
    /// `OPTIONS /` names the server's DAV classes (Cyrus sends none at the root, `SERVERS.md`).
    /// When off, bootstrap reads the capabilities from the calendar home's OPTIONS instead of
    /// the principal's, and never takes an empty `DAV` header for "no CalDAV".
    pub dav_header_at_root: bool,
    /// The server accepts a second resource with a UID already used in the calendar
    /// (SabreDAV 1.8; RFC 4791 §5.3.2.1 `no-uid-conflict`, QUIRKS #20). A client must then
    /// check UIDs itself before a create.
    pub duplicate_uid_accepted: bool,
    /// A calendar-query must name a component under `VCALENDAR` (iCloud, QUIRKS #6):
    /// [`QuirkProfile::query_filters`] splits a bare one into one query per component.
    pub comp_filter_required: bool,
    /// HTTP/2 multiplexing breaks (QUIRKS #26): the driver speaks HTTP/1.1 only.
    pub http2_unreliable: bool,
    /// Send `Prefer: return=minimal` and `Brief: t` (RFC 8144, QUIRKS #16) to shrink PROPFIND
    /// answers; answers that ignore them are read all the same.
    pub prefer_minimal: bool,
}

impl Default for QuirkProfile {
    fn default() -> Self {
        Self {
            sync_collection: true,
            empty_sync_token_rejected: false,
            sync_token_unreliable: false,
            invalid_sync_token: InvalidSyncToken::default(),
            ctag: true,
            multiget: true,
            multiget_404_on_missing_href: false,
            multiget_omits_missing: false,
            multiget_batch_size: 1000,
            if_none_match: true,
            trust_put_etag: true,
            put_etag_missing: false,
            rewrites_data: false,
            trailing_crlf_stripped: false,
            delete_ok_statuses: vec![200, 204],
            well_known: WellKnown::default(),
            dav_header_at_root: true,
            duplicate_uid_accepted: false,
            comp_filter_required: false,
            http2_unreliable: false,
            prefer_minimal: true,
        }
    }
}

/// The components a calendar collection holds objects of (RFC 4791 §5.2.3).
const COMPONENTS: [&str; 3] = ["VEVENT", "VTODO", "VJOURNAL"];

impl QuirkProfile {
    /// The batch size actually used: at least one href.
    #[must_use]
    pub(crate) fn batch_size(&self) -> usize {
        self.multiget_batch_size.max(1)
    }

    /// Whether a sync token can be trusted to find every change since it was issued.
    #[must_use]
    pub(crate) fn tokens_trusted(&self) -> bool {
        !self.sync_token_unreliable && self.invalid_sync_token != InvalidSyncToken::FullListing
    }

    /// Whether a DELETE answered with `status` is done.
    #[must_use]
    pub fn delete_succeeded(&self, status: u16) -> bool {
        if self.delete_ok_statuses.is_empty() {
            return matches!(status, 200 | 204);
        }
        self.delete_ok_statuses.contains(&status)
    }

    /// The calendar-query filters to send for `filter`: `filter` itself, or, when the server
    /// requires a component under `VCALENDAR` and `filter` names none, one filter per
    /// component (`VEVENT`, `VTODO`, `VJOURNAL`) whose answers together are the same set.
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_client_core::QuirkProfile;
    /// use caldav_model::filter::Filter;
    ///
    /// let mut quirks = QuirkProfile::default();
    /// assert_eq!(quirks.query_filters(&Filter::any()), vec![Filter::any()]);
    /// quirks.comp_filter_required = true;
    /// let split = quirks.query_filters(&Filter::any());
    /// assert_eq!(split.len(), 3);
    /// assert!(split.iter().all(|f| f.root.comps.len() == 1));
    /// ```
    #[must_use]
    pub fn query_filters(&self, filter: &Filter) -> Vec<Filter> {
        let bare = filter.root.comps.is_empty() && !filter.root.is_not_defined;
        if !self.comp_filter_required || !bare {
            return vec![filter.clone()];
        }
        COMPONENTS
            .iter()
            .map(|name| {
                let mut root = filter.root.clone();
                root.comps.push(CompFilter::new(*name));
                Filter { root }
            })
            .collect()
    }

    /// Whether `stored` (read back from the server) is the object that was sent as `sent`,
    /// allowing for what this server does to stored data: byte equality, or, when it rewrites
    /// data or strips the final CRLF, equality of the unfolded content lines (in any order
    /// when it rewrites).
    #[must_use]
    pub fn same_data(&self, sent: &str, stored: &str) -> bool {
        if sent == stored {
            return true;
        }
        if self.trailing_crlf_stripped
            && sent.trim_end_matches(['\r', '\n']) == stored.trim_end_matches(['\r', '\n'])
        {
            return true;
        }
        if !self.rewrites_data {
            return false;
        }
        let mut a = content_lines(sent);
        let mut b = content_lines(stored);
        a.sort_unstable();
        b.sort_unstable();
        a == b
    }
}

/// The unfolded, non-empty content lines of iCalendar text (RFC 5545 §3.1).
pub(crate) fn content_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ if raw.is_empty() => {}
            _ => lines.push(raw.to_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_profiles_fill_in_defaults() {
        let profile: QuirkProfile =
            serde_json::from_str(r#"{"sync_collection": false, "multiget_batch_size": 10}"#)
                .unwrap();
        assert!(!profile.sync_collection);
        assert_eq!(profile.multiget_batch_size, 10);
        assert!(profile.ctag && profile.multiget && profile.if_none_match);
    }

    #[test]
    fn zero_batch_is_one() {
        let profile = QuirkProfile {
            multiget_batch_size: 0,
            ..QuirkProfile::default()
        };
        assert_eq!(profile.batch_size(), 1);
    }

    #[test]
    fn enums_serialize_in_kebab_case() {
        let profile = QuirkProfile {
            invalid_sync_token: InvalidSyncToken::PreconditionFailed,
            well_known: WellKnown::Html,
            ..QuirkProfile::default()
        };
        let json = serde_json::to_string(&profile).unwrap();
        assert!(json.contains(r#""invalid_sync_token":"precondition-failed""#));
        assert!(json.contains(r#""well_known":"html""#));
        let back: QuirkProfile = serde_json::from_str(&json).unwrap();
        assert_eq!(back, profile);
    }

    #[test]
    fn same_data_allows_only_what_the_profile_says() {
        let sent = "BEGIN:VCALENDAR\r\nX-A:1\r\nX-B:2\r\nEND:VCALENDAR\r\n";
        let stripped = "BEGIN:VCALENDAR\r\nX-A:1\r\nX-B:2\r\nEND:VCALENDAR";
        let reordered = "BEGIN:VCALENDAR\r\nX-B:2\r\nX-A:\r\n 1\r\nEND:VCALENDAR\r\n";
        let mut quirks = QuirkProfile::default();
        assert!(quirks.same_data(sent, sent));
        assert!(!quirks.same_data(sent, stripped));
        assert!(!quirks.same_data(sent, reordered));
        quirks.trailing_crlf_stripped = true;
        assert!(quirks.same_data(sent, stripped));
        assert!(!quirks.same_data(sent, reordered));
        quirks.rewrites_data = true;
        assert!(quirks.same_data(sent, reordered));
        assert!(!quirks.same_data(sent, "BEGIN:VCALENDAR\r\nX-A:2\r\nEND:VCALENDAR\r\n"));
    }

    #[test]
    fn delete_statuses() {
        let mut quirks = QuirkProfile::default();
        assert!(quirks.delete_succeeded(200) && quirks.delete_succeeded(204));
        assert!(!quirks.delete_succeeded(207) && !quirks.delete_succeeded(202));
        quirks.delete_ok_statuses = vec![204];
        assert!(!quirks.delete_succeeded(200));
        quirks.delete_ok_statuses.clear();
        assert!(quirks.delete_succeeded(200));
    }
}
