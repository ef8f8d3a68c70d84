//! What differs between servers, as plain data (`QUIRKS.md`, `SERVERS.md`).
//!
//! A machine never tests a server's name: it reads a [`QuirkProfile`]. The defaults describe a
//! server that follows RFC 4791, RFC 6578 and RFC 4918; every field is a behaviour seen in the
//! wild that changes what a machine sends or how it reads an answer. A probe or the caller's
//! configuration fills it in; it is serde data so that it can be stored beside the account.

use serde::{Deserialize, Serialize};

/// The server behaviours the machines consult.
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
    /// Use `CS:getctag` to skip unchanged collections (QUIRKS: ctag is Apple's extension).
    pub ctag: bool,
    /// The server answers `CALDAV:calendar-multiget` (RFC 4791 §7.9). Off: fetch with GET.
    pub multiget: bool,
    /// The server answers a whole multiget with 404 when one href is missing (SabreDAV 1.8):
    /// a 404 REPORT then means "fetch this batch one by one", not "the calendar is gone".
    pub multiget_404_on_missing_href: bool,
    /// Most hrefs in one multiget (QUIRKS #13: Zoho caps at 1,000; Cyrus stalls per request,
    /// so bigger is faster there).
    pub multiget_batch_size: usize,
    /// The server honours `If-None-Match: *` on PUT (Google does not, QUIRKS #7): when off, a
    /// create is sent without it.
    pub if_none_match: bool,
    /// The ETag of a PUT answer names the stored bytes (QUIRKS #17: some servers transform the
    /// data or send a weak or wrong tag). When off, a write fetches the etag afterwards.
    pub trust_put_etag: bool,
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
            ctag: true,
            multiget: true,
            multiget_404_on_missing_href: false,
            multiget_batch_size: 100,
            if_none_match: true,
            trust_put_etag: true,
            prefer_minimal: true,
        }
    }
}

impl QuirkProfile {
    /// The batch size actually used: at least one href.
    #[must_use]
    pub(crate) fn batch_size(&self) -> usize {
        self.multiget_batch_size.max(1)
    }
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
}
