//! The scenarios of the matrix, one module per group.

mod account;
mod data;
mod discovery;
mod objects;
mod probe;
mod sync;

use crate::{Ctx, Outcome};

/// One scenario of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scenario {
    /// RFC 6764 discovery of `alice@example.test` through the test DNS zone's SRV and TXT.
    DiscoverySrv,
    /// RFC 6764 discovery from the server's `/.well-known/caldav`.
    DiscoveryWellKnown,
    /// Bootstrap: principal, calendar homes, capabilities.
    Bootstrap,
    /// Listing of the calendar home.
    Listing,
    /// MKCALENDAR with properties, read back by a listing.
    MkCalendar,
    /// PUT / GET / update / DELETE with etags.
    Crud,
    /// 412 conflicts on a stale etag and on `If-None-Match: *`.
    Conflict,
    /// `caldav probe`'s experiments find the server's quirk profile; the scenarios after it run
    /// with that profile.
    Probe,
    /// sync-collection: initial, then incremental after another client's changes.
    SyncCollection,
    /// An invalid sync token leads to a full resync that finds the changes.
    InvalidToken,
    /// The ctag and etag fallback, without sync-collection.
    CtagEtagFallback,
    /// A 2,000-event calendar synced from scratch.
    Large,
    /// A recurring event with overrides and X- properties round-tripped.
    RoundTrip,
    /// The seed trace's five events uploaded and read back.
    Seed,
    /// calendar-query with a time range over recurring events, against our own evaluation.
    TimeRangeQuery,
}

impl Scenario {
    /// Every scenario, in the table's order.
    pub const ALL: &'static [Scenario] = &[
        Scenario::DiscoverySrv,
        Scenario::DiscoveryWellKnown,
        Scenario::Bootstrap,
        Scenario::Listing,
        Scenario::MkCalendar,
        Scenario::Crud,
        Scenario::Conflict,
        Scenario::Probe,
        Scenario::SyncCollection,
        Scenario::InvalidToken,
        Scenario::CtagEtagFallback,
        Scenario::Large,
        Scenario::RoundTrip,
        Scenario::Seed,
        Scenario::TimeRangeQuery,
    ];

    /// The row heading.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Scenario::DiscoverySrv => "discovery by SRV+TXT",
            Scenario::DiscoveryWellKnown => "discovery by .well-known",
            Scenario::Bootstrap => "bootstrap",
            Scenario::Listing => "listing",
            Scenario::MkCalendar => "MKCALENDAR with properties",
            Scenario::Crud => "PUT/GET/update/DELETE with etags",
            Scenario::Conflict => "412 on a stale etag",
            Scenario::Probe => "probe -> quirk profile",
            Scenario::SyncCollection => "sync-collection initial + incremental",
            Scenario::InvalidToken => "invalid token -> full resync",
            Scenario::CtagEtagFallback => "ctag/etag fallback sync",
            Scenario::Large => "2,000-event calendar synced",
            Scenario::RoundTrip => "recurring event + overrides + X- round trip",
            Scenario::Seed => "the seed's five events",
            Scenario::TimeRangeQuery => "calendar-query time range vs our evaluation",
        }
    }

    /// What the scenario does and checks.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Scenario::DiscoverySrv => {
                "service-discovery's machine resolves `alice@example.test` through Knot on \
                 127.0.0.1 (`_caldavs._tcp` SRV, TXT `path=`), connects over TLS trusting only \
                 the test CA, and must land on the test user's principal."
            }
            Scenario::DiscoveryWellKnown => {
                "service-discovery's machine starts at `/.well-known/caldav`, follows the \
                 redirect, and must find the test user's principal."
            }
            Scenario::Bootstrap => {
                "the bootstrap machine from the context URL: the principal must be the test \
                 user's, with a calendar home."
            }
            Scenario::Listing => {
                "a fresh calendar is made, and the listing machine must list it as a calendar \
                 with its display name."
            }
            Scenario::MkCalendar => {
                "MKCALENDAR with display name, description, color, order and a component set; \
                 a listing reads them back. Display name and description must be kept; the \
                 note names what else the server dropped."
            }
            Scenario::Crud => {
                "the write machine creates (`If-None-Match: *`), a GET reads the object and \
                 its etag, an update (`If-Match`) moves the etag, a delete (`If-Match`) \
                 removes it (GET then 404)."
            }
            Scenario::Conflict => {
                "an update and a delete with a stale etag, and a create over an existing \
                 object, must each end as a typed conflict (412) carrying the server's \
                 current etag; the server's version must be unchanged."
            }
            Scenario::Probe => {
                "the probe machine runs its documented experiments in a scratch calendar and \
                 must leave nothing behind; the note names where the profile differs from the \
                 built-in defaults. Every sync scenario below runs with this probed profile."
            }
            Scenario::SyncCollection => {
                "the sync machine syncs three events with sync-collection; another client \
                 adds, changes and deletes one each; the incremental sync must report exactly \
                 those three changes."
            }
            Scenario::InvalidToken => {
                "after a sync, another client adds and deletes an event and the stored token \
                 is replaced by a bogus one of the same shape: the server's refusal must lead \
                 to a full resync that finds exactly the two changes."
            }
            Scenario::CtagEtagFallback => {
                "the sync machine with sync-collection turned off: a Depth:1 etag listing, \
                 then an unchanged ctag (where the server has one) skips the listing, then \
                 another client's change and addition are found."
            }
            Scenario::Large => {
                "2,000 events are stored (Radicale: one PUT of the whole calendar onto the \
                 collection; elsewhere eight PUTs at a time; Xandikos holds fewer, its note \
                 says why), then the sync machine fetches the calendar from scratch: every \
                 event must arrive, by UID; requests, bytes and time are noted."
            }
            Scenario::RoundTrip => {
                "a weekly event in a VTIMEZONE with an EXDATE, a moved override, folded \
                 lines and X- properties and parameters is PUT and read back: byte-for-byte, \
                 or semantically equal with the server's changes named."
            }
            Scenario::Seed => {
                "the five calendar objects of the seed's recorded multiget are PUT as they \
                 are (with the CRLF line ends XML parsing turned into LF) and read back \
                 unchanged (semantically where the server rewrites)."
            }
            Scenario::TimeRangeQuery => {
                "seven events (weekly, ended, EXDATE, overrides moved into and out of the \
                 week, monthly all-day, single) and a one-week calendar-query: our \
                 evaluation (caldav-model) must match the hand-checked answer, and the \
                 server's answer is compared with it."
            }
        }
    }

    /// Runs the scenario against the server of `ctx`.
    pub async fn run(self, ctx: &Ctx) -> Outcome {
        match self {
            Scenario::DiscoverySrv => discovery::srv(ctx).await,
            Scenario::DiscoveryWellKnown => discovery::well_known(ctx).await,
            Scenario::Bootstrap => account::bootstrap(ctx).await,
            Scenario::Listing => account::listing(ctx).await,
            Scenario::MkCalendar => account::mkcalendar(ctx).await,
            Scenario::Crud => objects::crud(ctx).await,
            Scenario::Conflict => objects::conflict(ctx).await,
            Scenario::Probe => probe::probe(ctx).await,
            Scenario::SyncCollection => sync::sync_collection(ctx).await,
            Scenario::InvalidToken => sync::invalid_token(ctx).await,
            Scenario::CtagEtagFallback => sync::fallback(ctx).await,
            Scenario::Large => sync::large(ctx).await,
            Scenario::RoundTrip => data::round_trip(ctx).await,
            Scenario::Seed => data::seed(ctx).await,
            Scenario::TimeRangeQuery => data::time_range_query(ctx).await,
        }
    }
}

/// A minimal event.
pub(crate) fn event(uid: &str, summary: &str, start: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//interop//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\n\
         SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}
