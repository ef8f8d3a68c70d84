//! Sync of one or many calendars (RFC 6578, RFC 4791 §7.9, DESIGN.md "Sync, quirks and hrefs").
//!
//! The ladder, per calendar:
//!
//! 1. `DAV:sync-collection` from the stored token (or the empty token for a first sync), paged
//!    while the server truncates with 507 (RFC 6578 §3.6); a calendar's first sync asks for
//!    every member's data in that one answer ([`InitialFetch::Inline`], below);
//! 2. on an invalid token (403, 409 or 412 with `DAV:valid-sync-token`, 410, or a 5xx on a
//!    token: RFC 6578 §3.2), one full resync from the empty token, diffed against the known
//!    state so that deletions are found;
//! 3. where sync-collection is absent or the empty token is refused, a `CS:getctag` check, then
//!    a Depth:1 `DAV:getetag` listing diffed against the known state;
//! 4. changed items fetched with `CALDAV:calendar-multiget` (RFC 4791 §7.9) in batches as
//!    large as the limits allow (the profile's cap on hrefs, the expected answer size from the
//!    listed `DAV:getcontentlength` or an estimate), large ones of a calendar one at a time,
//!    small ones several in flight; a batch refused with 413 is halved; hrefs a multiget leaves
//!    out are asked again, then reported as missing; servers that refuse multiget are read
//!    with GET.
//!
//! # The first sync in one answer
//!
//! RFC 6578 §3.2 lets a `sync-collection` request ask for any property of the members, so a
//! first sync ([`InitialFetch::Inline`], the default) asks the empty token for `getetag` and
//! `CALDAV:calendar-data` together: the token, the listing and the data in one consistent
//! answer, with no multiget after it.
//!
//! ```text
//!    <D:prop>
//!      <D:getetag/>
//!      <C:calendar-data/>
//!    </D:prop>
//! ```
//!
//! Measured on 2,000 events over loopback: Radicale answers it in what the listing alone costs
//! it (0.67-0.84 s against 0.68-0.89 s, and 0.94-1.08 s for a getetag PROPFIND plus one
//! multiget), Cyrus in 0.10-0.13 s. Where the answer does not serve, the machine falls back
//! to the listing and multigets: a refusal (`403`, `501`: no sync-collection, the etag
//! ladder), `507` or a truncated answer, an answer larger than
//! [`SyncConfig::max_inline_bytes`] (it is dropped: the whole answer is held in memory; the
//! request carries the limit as a [`ResponseLimit`], so a driver stops reading there), a
//! transport failure of that one request; members the answer gives without data (Xandikos
//! sends none) are fetched by multiget, the answer serving as their listing. It is used only
//! when nothing is known of the calendar: a resumed first sync lists and skips what it holds.
//!
//! With checkpoints, the answer's items are handed out in pieces of a multiget batch, each a
//! checkpoint; but a first sync cut off while the answer is still arriving fetches it all
//! again. So [`SyncConfig::with_checkpoints`] picks [`InitialFetch::Multiget`], where no
//! answer holds more than a batch; a caller that checkpoints and prefers the one answer (the
//! `caldav` CLI does: it is the fastest first sync, and a kill loses at most one answer) sets
//! [`SyncConfig::initial_fetch`] back.
//!
//! A calendar's new token is committed only when its sync is complete, so a sync interrupted
//! at any point and restarted from the last persisted state ends in the same result. A
//! calendar with missing items keeps its old token, so the next sync asks again.
//!
//! # Checkpoints
//!
//! With [`SyncConfig::checkpoints`] on, every applied fetch batch (a multiget answer, a GET,
//! or a piece of an inline answer no larger than a multiget batch) is handed out by
//! [`SyncMachine::poll_checkpoint`] as a [`Checkpoint`], and
//! [`SyncMachine::state`] then claims its items. A caller writes the items locally, then
//! persists the state; a machine restarted from that state does not fetch those items again:
//! the listing (from the last complete token, or a full one) is repeated, and every member
//! whose etag equals the checkpointed one is skipped. The state marks such progress with
//! [`CalendarState::resume`]: a checkpointed item that the repeated listing no longer names
//! (deleted in between, even where the server's token history forgets it) is reported deleted,
//! and the ctag shortcut is not taken. The listing is cheap (etags only); the data is not
//! fetched twice, except for the batch in flight when the run was cut off.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;
use caldav_model::property::names;
use dav_xml::{Condition, Href, Multistatus, QName, Response};
use http::{Method, StatusCode, Uri};
use serde::{Deserialize, Serialize};

use crate::body;
use crate::error::{Error, UsageError};
use crate::machine::{
    Depth, InFlight, Machine, Output, RequestId, ResponseLimit, TransportFailure, conditions,
    dav_request, key, resolve, status_error, xml_content_type,
};
use crate::quirks::QuirkProfile;

const GETETAG: QName = names::GETETAG;
const RESOURCETYPE: QName = names::RESOURCETYPE;
const SYNC_TOKEN: QName = names::SYNC_TOKEN;
const GETCTAG: QName = names::GETCTAG;
const CALENDAR_DATA: QName = names::CALENDAR_DATA;
/// `DAV:getcontentlength` (RFC 4918 §15.4): what a multiget of the member will weigh.
const GETCONTENTLENGTH: QName = QName::from_static(dav_xml::name::DAV, "getcontentlength");
/// The members' properties a listing asks for: what the sync reads, nothing more (each one
/// costs a server per member: Radicale computes a content type per item).
const MEMBER_PROPS: [QName; 3] = [GETETAG, RESOURCETYPE, GETCONTENTLENGTH];
/// What a first sync in one answer asks of every member.
const INLINE_PROPS: [QName; 3] = [GETETAG, RESOURCETYPE, CALENDAR_DATA];

/// What is known locally about synced calendars: plain data for the caller to persist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncState {
    /// Per calendar, keyed by the calendar's canonical path.
    pub calendars: BTreeMap<String, CalendarState>,
}

/// What is known about one calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CalendarState {
    /// The calendar's href as last used.
    pub href: String,
    /// The RFC 6578 sync token of the last complete sync.
    pub sync_token: Option<String>,
    /// The `CS:getctag` of the last complete sync.
    pub ctag: Option<String>,
    /// The calendar's objects, keyed by canonical path.
    pub items: BTreeMap<String, ItemState>,
    /// Present while a sync of this calendar is under way (or ended incomplete): `items`
    /// then holds checkpointed progress beyond the last complete sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
}

/// The progress of an interrupted sync, kept in [`CalendarState::resume`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Resume {
    /// The interrupted sync was the calendar's first: its items are not a completed sync, so
    /// the restart asks for a first sync again (and skips what it already holds).
    pub initial: bool,
    /// Canonical paths of the items checkpoints recorded since the last complete sync: each
    /// must be named again by the restarted listing, or it is gone.
    pub touched: BTreeSet<String>,
}

/// One calendar object as last synced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemState {
    /// The href as the server sent it.
    pub href: String,
    /// The entity tag of the synced version.
    pub etag: String,
}

impl SyncState {
    /// The state of the calendar at `href` (resolved against `base`), if it was synced.
    #[must_use]
    pub fn calendar(&self, base: &Uri, href: &Href) -> Option<&CalendarState> {
        self.calendars.get(&key(base, href)?)
    }
}

/// What a sync machine needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncConfig {
    /// The URL hrefs are resolved against (scheme and authority of the account).
    pub base: Uri,
    /// The calendars to sync.
    pub calendars: Vec<Href>,
    /// Server behaviours.
    pub quirks: QuirkProfile,
    /// Most requests in flight at once, over all calendars (at least one).
    pub max_in_flight: usize,
    /// How often hrefs a multiget left out are asked for again before they are reported.
    pub max_refetch_rounds: usize,
    /// Most sync-collection pages (507 continuations) per calendar.
    pub max_pages: usize,
    /// Most members one calendar may list.
    pub max_items: usize,
    /// Hand out a [`Checkpoint`] after every applied fetch batch (see the module docs). Off:
    /// the state changes only when the machine is done.
    pub checkpoints: bool,
    /// The expected size of one multiget answer, in bytes of calendar data: batches are cut
    /// so that the members' listed `DAV:getcontentlength` (or
    /// [`SyncConfig::estimated_item_bytes`] where the listing gave none) stays below it. It
    /// bounds the memory one answer takes; a single larger member still goes alone.
    pub max_multiget_bytes: u64,
    /// What a member whose listing gave no `DAV:getcontentlength` is expected to weigh.
    pub estimated_item_bytes: u64,
    /// How a calendar's first sync fetches its data (default [`InitialFetch::Inline`];
    /// [`SyncConfig::with_checkpoints`] picks [`InitialFetch::Multiget`]).
    pub initial_fetch: InitialFetch,
    /// The largest [`InitialFetch::Inline`] answer used, in bytes of (decoded) body; a larger
    /// one is dropped and the calendar listed and fetched by multigets instead (default
    /// 16 MiB, as [`SyncConfig::max_multiget_bytes`]). The request carries it as a
    /// [`ResponseLimit`]: a driver that honours it (caldav-tokio does) stops the download
    /// there instead of reading the whole answer first.
    pub max_inline_bytes: u64,
}

/// How a calendar's first sync (nothing known of it) fetches its members' data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitialFetch {
    /// One `sync-collection` REPORT from the empty token asking `getetag` and
    /// `calendar-data` (see the module docs), falling back to [`InitialFetch::Multiget`]
    /// where it does not serve.
    #[default]
    Inline,
    /// A listing (etags only), then `calendar-multiget` in batches: each batch a checkpoint.
    Multiget,
}

impl SyncConfig {
    /// A configuration with default quirks and limits.
    #[must_use]
    pub fn new(base: Uri, calendars: Vec<Href>) -> Self {
        Self {
            base,
            calendars,
            quirks: QuirkProfile::default(),
            max_in_flight: 4,
            max_refetch_rounds: 1,
            max_pages: 1000,
            max_items: 1_000_000,
            checkpoints: false,
            max_multiget_bytes: 16 << 20,
            estimated_item_bytes: 2 << 10,
            initial_fetch: InitialFetch::Inline,
            max_inline_bytes: 16 << 20,
        }
    }

    /// The same configuration with checkpoints on (see [`SyncMachine::poll_checkpoint`]), and
    /// first syncs fetched by [`InitialFetch::Multiget`]: a caller that persists progress gets
    /// a checkpoint per multiget batch, where one answer holding the whole calendar could not
    /// be checkpointed half-way. Set [`SyncConfig::initial_fetch`] after this to choose
    /// otherwise.
    #[must_use]
    pub fn with_checkpoints(mut self) -> Self {
        self.checkpoints = true;
        self.initial_fetch = InitialFetch::Multiget;
        self
    }

    /// The same configuration with `quirks`.
    #[must_use]
    pub fn with_quirks(mut self, quirks: QuirkProfile) -> Self {
        self.quirks = quirks;
        self
    }
}

/// How a calendar was brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncMethod {
    /// `DAV:sync-collection` from a stored token, or the initial empty token.
    SyncCollection,
    /// A full resync with the empty token after the stored one was refused.
    FullResync,
    /// The ctag had not moved: nothing was listed.
    CtagUnchanged,
    /// A Depth:1 etag listing diffed against the known state.
    EtagListing,
}

/// A calendar object fetched by the sync.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Item {
    /// The href as the server sent it.
    pub href: Href,
    /// Its entity tag.
    pub etag: String,
    /// Its iCalendar data.
    pub data: String,
}

/// The changes one calendar went through since its last sync.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct ChangeSet {
    /// Objects not known before.
    pub added: Vec<Item>,
    /// Objects known before whose etag moved.
    pub changed: Vec<Item>,
    /// Objects known before that are gone.
    pub deleted: Vec<Href>,
    /// Objects the server listed as changed but never delivered (asked again, then given up):
    /// their old state is kept and the calendar's token is not advanced.
    pub missing: Vec<Href>,
    /// How the calendar was synced.
    pub method: SyncMethod,
}

/// The result for one calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CalendarSync {
    /// The calendar, as configured.
    pub href: Href,
    /// Its changes, or why it could not be synced (its state is then left as it was).
    pub result: Result<ChangeSet, Error>,
}

/// The result of a sync machine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct SyncOutcome {
    /// One entry per configured calendar, in configuration order.
    pub calendars: Vec<CalendarSync>,
}

/// A batch of fetched items, handed out by [`SyncMachine::poll_checkpoint`]: write them
/// locally, then persist [`SyncMachine::state`], which claims them from then on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct Checkpoint {
    /// The calendar, as configured.
    pub calendar: Href,
    /// The items fetched, new or changed since the state the machine started from. They are
    /// listed again in the calendar's final [`ChangeSet`], with the same etags.
    pub items: Vec<Item>,
}

/// A listed member: its href as sent, and the etag and size the listing gave.
#[derive(Debug, Clone)]
struct Member {
    href: Href,
    etag: Option<String>,
    size: Option<u64>,
}

#[derive(Debug, Clone)]
enum Purpose {
    Sync {
        token: String,
    },
    /// The first sync in one answer: the empty token, members with their data.
    SyncInline,
    Ctag,
    Etags,
    Multiget {
        keys: Vec<String>,
        round: usize,
    },
    Get {
        key: String,
    },
}

impl Purpose {
    /// A multiget of [`LARGE_MULTIGET_HREFS`] or more.
    fn is_large(&self) -> bool {
        matches!(self, Self::Multiget { keys, .. } if keys.len() >= LARGE_MULTIGET_HREFS)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Listing,
    Fetching,
    Finished,
}

/// One calendar's run.
#[derive(Debug)]
struct Run {
    href: Href,
    url: Uri,
    key: String,
    old: CalendarState,
    step: Step,
    queue: VecDeque<Purpose>,
    in_flight: usize,
    method: SyncMethod,
    /// Whether the listing names every member (initial sync or etag listing).
    full: bool,
    restarted: bool,
    pages: usize,
    members: BTreeMap<String, Member>,
    gone: BTreeSet<String>,
    token: Option<String>,
    ctag: Option<String>,
    wanted: BTreeMap<String, Member>,
    fetched: BTreeMap<String, Item>,
    vanished: BTreeSet<String>,
    missing: BTreeSet<String>,
    /// The interrupted or current sync is the calendar's first (see [`Resume::initial`]).
    initial: bool,
    /// Items fetched by the last answer, for the next checkpoint.
    batch: Vec<(String, Item)>,
    /// Large multigets in flight (see [`LARGE_MULTIGET_HREFS`]).
    large_multigets: usize,
    result: Option<Result<(ChangeSet, CalendarState), Error>>,
}

/// The sync machine: brings many calendars up to date at once.
///
/// # Example
///
/// ```
/// use caldav_client_core::sync::{SyncConfig, SyncMachine, SyncState};
/// use caldav_client_core::{Machine, Output};
///
/// let config = SyncConfig::new(
///     "https://cal.example/".parse().unwrap(),
///     vec!["/calendars/ken/Default/".into()],
/// );
/// let mut machine = SyncMachine::new(config, SyncState::default());
/// let Output::Http { request, .. } = machine.poll() else { panic!() };
/// assert_eq!(request.method().as_str(), "REPORT");
/// ```
#[derive(Debug)]
pub struct SyncMachine {
    config: SyncConfig,
    state: SyncState,
    runs: Vec<Run>,
    flight: InFlight<(usize, Purpose)>,
    cursor: usize,
    checkpoints: VecDeque<(usize, Vec<(String, Item)>)>,
    done: Option<SyncOutcome>,
}

impl SyncMachine {
    /// A machine that syncs `config.calendars` starting from `state`.
    pub fn new(config: SyncConfig, state: SyncState) -> Self {
        let runs = config
            .calendars
            .iter()
            .map(|href| Run::new(&config, &state, href))
            .collect();
        Self {
            config,
            state,
            runs,
            flight: InFlight::default(),
            cursor: 0,
            checkpoints: VecDeque::new(),
            done: None,
        }
    }

    /// The state to persist: the starting state, plus every checkpoint handed out by
    /// [`SyncMachine::poll_checkpoint`], and once the machine is done, the new state of every
    /// calendar that was synced.
    #[must_use]
    pub fn state(&self) -> &SyncState {
        &self.state
    }

    /// How many checkpoints [`SyncMachine::poll_checkpoint`] has yet to hand out. A caller
    /// that saves after each checkpoint takes all but the last before it polls the machine:
    /// once the machine is done, its state claims every item it fetched, so the checkpoints
    /// left then are covered only by the final save.
    #[must_use]
    pub fn pending_checkpoints(&self) -> usize {
        self.checkpoints.len()
    }

    /// The next batch of fetched items, if any (only with [`SyncConfig::checkpoints`]). Call
    /// it after every input until it returns `None`; from the moment a checkpoint is handed
    /// out, [`SyncMachine::state`] claims its items, so apply them before persisting it.
    ///
    /// # Panics
    ///
    /// Never.
    pub fn poll_checkpoint(&mut self) -> Option<Checkpoint> {
        let (index, batch) = self.checkpoints.pop_front()?;
        let run = self.runs.get(index)?;
        if self.done.is_some() {
            // The final state already claims every item the machine fetched.
            return Some(Checkpoint {
                calendar: run.href.clone(),
                items: batch.into_iter().map(|(_, item)| item).collect(),
            });
        }
        let calendar = self
            .state
            .calendars
            .entry(run.key.clone())
            .or_insert_with(|| run.old.clone());
        let resume = calendar.resume.get_or_insert_with(|| Resume {
            initial: run.initial,
            touched: BTreeSet::new(),
        });
        resume.touched.extend(batch.iter().map(|(k, _)| k.clone()));
        let mut items = Vec::with_capacity(batch.len());
        for (k, item) in batch {
            calendar.items.insert(
                k,
                ItemState {
                    href: item.href.as_str().to_owned(),
                    etag: item.etag.clone(),
                },
            );
            items.push(item);
        }
        Some(Checkpoint {
            calendar: run.href.clone(),
            items,
        })
    }

    /// The state, by value.
    #[must_use]
    pub fn into_state(self) -> SyncState {
        self.state
    }

    fn finish(&mut self) -> SyncOutcome {
        let mut calendars = Vec::with_capacity(self.runs.len());
        for run in &mut self.runs {
            let result = match run.result.take() {
                Some(Ok((changes, new_state))) => {
                    self.state.calendars.insert(run.key.clone(), new_state);
                    Ok(changes)
                }
                Some(Err(error)) => Err(error),
                None => Err(Error::ServerMisbehaved {
                    what: "sync ended without a result".into(),
                }),
            };
            calendars.push(CalendarSync {
                href: run.href.clone(),
                result,
            });
        }
        SyncOutcome { calendars }
    }
}

impl Machine for SyncMachine {
    type Outcome = SyncOutcome;

    fn poll(&mut self) -> Output<SyncOutcome> {
        if let Some(done) = &self.done {
            return Output::Done(Ok(done.clone()));
        }
        let count = self.runs.len();
        let limit = self.config.max_in_flight.max(1);
        for step in 0..count {
            if self.flight.len() >= limit {
                return Output::Wait;
            }
            let index = (self.cursor + step) % count;
            let Some(run) = self.runs.get_mut(index) else {
                continue;
            };
            // A large multiget keeps a server busy on its own: the next one of the same
            // calendar waits for its answer (Radicale serves concurrent ones slower).
            if run.large_multigets > 0 && run.queue.front().is_some_and(Purpose::is_large) {
                continue;
            }
            let Some(purpose) = run.queue.pop_front() else {
                continue;
            };
            match run.request(&self.config, &purpose) {
                Ok(request) => {
                    run.in_flight += 1;
                    run.large_multigets += usize::from(purpose.is_large());
                    self.cursor = (index + 1) % count;
                    let id = self.flight.issue((index, purpose));
                    return Output::Http { id, request };
                }
                Err(error) => {
                    run.fail(error);
                    run.settle(&self.config);
                    return self.poll();
                }
            }
        }
        if self.flight.is_empty() && self.runs.iter().all(|r| r.step == Step::Finished) {
            let outcome = self.finish();
            self.done = Some(outcome.clone());
            return Output::Done(Ok(outcome));
        }
        Output::Wait
    }

    fn handle_answer(
        &mut self,
        id: RequestId,
        answer: Result<http::Response<Bytes>, TransportFailure>,
    ) -> Result<(), UsageError> {
        if self.done.is_some() {
            return Err(UsageError::Done);
        }
        if let Some(result) = self.flight.interim(id, &answer) {
            return result;
        }
        let (index, purpose) = self.flight.take(id)?;
        let Some(run) = self.runs.get_mut(index) else {
            return Err(UsageError::UnknownId(id));
        };
        run.in_flight = run.in_flight.saturating_sub(1);
        if purpose.is_large() {
            run.large_multigets = run.large_multigets.saturating_sub(1);
        }
        if run.step == Step::Finished {
            return Ok(());
        }
        match answer {
            Ok(response) => run.on_response(&self.config, purpose, response),
            // The one answer of a first sync may be what broke (too large, too slow): the
            // listing and multigets ask for less at a time.
            Err(_) if matches!(purpose, Purpose::SyncInline) => {
                run.queue.push_back(Purpose::Sync {
                    token: String::new(),
                });
            }
            Err(failure) => run.fail(Error::Transport {
                message: failure.message,
            }),
        }
        // One answer can hold the whole calendar (a first sync's inline answer): handed out
        // in pieces of a multiget batch, each a checkpoint of its own, a caller that saves
        // after each loses at most one piece to a kill, as with multigets.
        let mut batch = std::mem::take(&mut run.batch);
        let size = self.config.quirks.batch_size();
        while batch.len() > size {
            let rest = batch.split_off(size);
            self.checkpoints.push_back((index, batch));
            batch = rest;
        }
        if !batch.is_empty() {
            self.checkpoints.push_back((index, batch));
        }
        run.settle(&self.config);
        Ok(())
    }
}

/// What one member's `<response>` adds to a multiget answer beyond its calendar data (href,
/// etag, propstat markup, escaping of the data's few markup characters).
const RESPONSE_OVERHEAD: u64 = 256;

/// How the members to fetch are cut into multigets (RFC 4791 §7.9).
///
/// Every request costs a server a fixed price (a connection where it closes them, the
/// authentication, the collection's lookup), so batches are as large as the limits allow: the
/// profile's cap on hrefs per multiget, and the expected answer size, which bounds what one
/// answer holds in memory. Large batches of one calendar are sent one at a time
/// ([`LARGE_MULTIGET_HREFS`]).
#[derive(Debug, Clone, Copy)]
struct Batching {
    /// Most hrefs in one multiget ([`QuirkProfile::multiget_batch_size`]).
    max_hrefs: usize,
    /// Most expected bytes in one answer ([`SyncConfig::max_multiget_bytes`]).
    max_bytes: u64,
}

/// A multiget of at least this many hrefs is not sent while another of the same calendar is in
/// flight: it keeps a server busy on its own, and a server that serializes requests (Radicale)
/// serves two at once slower than one after the other, while one that serves them in parallel
/// (Cyrus) gains little (measured with 2,000 events: 4 of 500 at once 10% slower than 2 of
/// 1,000 in turn on Radicale, 3% faster on Cyrus). Smaller ones go several at a time, where the
/// round trip is a large part of each.
const LARGE_MULTIGET_HREFS: usize = 250;

impl Batching {
    /// The lengths of consecutive batches of members whose expected sizes are `sizes`.
    fn split(self, sizes: &[u64]) -> Vec<usize> {
        let count = sizes.len();
        if count == 0 {
            return Vec::new();
        }
        let weight = |size: u64| size.saturating_add(RESPONSE_OVERHEAD);
        let total = sizes
            .iter()
            .map(|s| weight(*s))
            .fold(0, u64::saturating_add);
        let max_bytes = self.max_bytes.max(1);
        let max_hrefs = self.max_hrefs.max(1);
        let by_bytes = usize::try_from(total.div_ceil(max_bytes)).unwrap_or(usize::MAX);
        let batches = count.div_ceil(max_hrefs).max(by_bytes);
        let target = count.div_ceil(batches).clamp(1, max_hrefs);
        let mut lengths = Vec::with_capacity(batches);
        let (mut len, mut bytes) = (0usize, 0u64);
        for size in sizes {
            let size = weight(*size);
            if len > 0 && (len >= target || bytes.saturating_add(size) > max_bytes) {
                lengths.push(len);
                (len, bytes) = (0, 0);
            }
            len += 1;
            bytes = bytes.saturating_add(size);
        }
        lengths.push(len);
        lengths
    }
}

fn text_prop(response: &Response, name: QName) -> Option<String> {
    let text = response.prop(&name)?.text();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The member's listed `DAV:getcontentlength`, if the server gave a number.
fn content_length(response: &Response) -> Option<u64> {
    text_prop(response, GETCONTENTLENGTH)?.parse().ok()
}

fn is_collection(response: &Response) -> bool {
    response
        .prop(&QName::DAV_RESOURCETYPE)
        .is_some_and(|t| t.child(&QName::DAV_COLLECTION).is_some())
}

fn header_etag(response: &http::Response<Bytes>) -> Option<String> {
    let etag = response.headers().get(http::header::ETAG)?.to_str().ok()?;
    let etag = etag.trim();
    (!etag.is_empty()).then(|| etag.to_owned())
}

fn is_invalid_token(quirks: &QuirkProfile, response: &http::Response<Bytes>) -> bool {
    let status = response.status();
    if quirks.invalid_sync_token.status() == Some(status.as_u16()) {
        return true;
    }
    // 503 and 504 say "later" (rate limits, QUIRKS #25), not "this token is bad": they end
    // the calendar's sync with their Retry-After instead of forcing a full resync.
    let transient = matches!(status.as_u16(), 503 | 504);
    if status == StatusCode::GONE || (status.is_server_error() && !transient) {
        return true;
    }
    matches!(status.as_u16(), 403 | 409 | 412)
        && conditions(response.body()).contains(&Condition::ValidSyncToken)
}

impl Run {
    fn new(config: &SyncConfig, state: &SyncState, href: &Href) -> Self {
        let url = href.resolve(&config.base);
        let key = key(&config.base, href).unwrap_or_else(|| href.as_str().to_owned());
        let old = state
            .calendars
            .get(&key)
            .cloned()
            .unwrap_or_else(|| CalendarState {
                href: href.as_str().to_owned(),
                ..CalendarState::default()
            });
        let initial = old.resume.as_ref().map_or_else(
            || old.sync_token.is_none() && old.ctag.is_none() && old.items.is_empty(),
            |r| r.initial,
        );
        let mut run = Self {
            href: href.clone(),
            url: url.clone().unwrap_or_default(),
            key,
            old,
            step: Step::Listing,
            queue: VecDeque::new(),
            in_flight: 0,
            method: SyncMethod::SyncCollection,
            full: false,
            restarted: false,
            pages: 0,
            members: BTreeMap::new(),
            gone: BTreeSet::new(),
            token: None,
            ctag: None,
            wanted: BTreeMap::new(),
            fetched: BTreeMap::new(),
            vanished: BTreeSet::new(),
            missing: BTreeSet::new(),
            initial,
            batch: Vec::new(),
            large_multigets: 0,
            result: None,
        };
        if url.is_err() {
            run.fail(Error::InvalidUrl {
                url: href.as_str().to_owned(),
            });
            return run;
        }
        let quirks = &config.quirks;
        let token = run.old.sync_token.clone().filter(|t| !t.is_empty());
        // A calendar synced before without a token came from a server that gave none: the
        // etag ladder, without asking for sync-collection again.
        let synced_before = !run.initial;
        if quirks.sync_collection && quirks.tokens_trusted() {
            match token {
                None if synced_before => run.start_listing(quirks),
                Some(token) => run.queue.push_back(Purpose::Sync { token }),
                None if !quirks.empty_sync_token_rejected => {
                    run.full = true;
                    let nothing_known = run.old.items.is_empty() && run.old.resume.is_none();
                    run.queue.push_back(
                        if nothing_known && config.initial_fetch == InitialFetch::Inline {
                            Purpose::SyncInline
                        } else {
                            Purpose::Sync {
                                token: String::new(),
                            }
                        },
                    );
                }
                None => run.start_listing(quirks),
            }
        } else {
            run.start_listing(quirks);
        }
        run
    }

    fn start_listing(&mut self, quirks: &QuirkProfile) {
        self.members.clear();
        self.gone.clear();
        self.full = true;
        // Checkpointed progress moved the items past the stored ctag: list them.
        if quirks.ctag
            && self.old.ctag.is_some()
            && self.old.resume.is_none()
            && quirks.tokens_trusted()
        {
            self.queue.push_back(Purpose::Ctag);
        } else {
            self.method = SyncMethod::EtagListing;
            self.queue.push_back(Purpose::Etags);
        }
    }

    fn fail(&mut self, error: Error) {
        self.queue.clear();
        self.result = Some(Err(error));
        self.step = Step::Finished;
    }

    fn request(
        &self,
        config: &SyncConfig,
        purpose: &Purpose,
    ) -> Result<http::Request<Bytes>, Error> {
        let mut headers = vec![xml_content_type()];
        let minimal = config.quirks.prefer_minimal;
        if minimal {
            headers.push((
                http::header::HeaderName::from_static("prefer"),
                "return=minimal".into(),
            ));
            headers.push((http::header::HeaderName::from_static("brief"), "t".into()));
        }
        let report = Method::from_bytes(b"REPORT").map_err(|_| Error::InvalidUrl {
            url: self.url.to_string(),
        })?;
        let propfind = Method::from_bytes(b"PROPFIND").map_err(|_| Error::InvalidUrl {
            url: self.url.to_string(),
        })?;
        match purpose {
            Purpose::Sync { token } => dav_request(
                report,
                &self.url,
                Some(Depth::Zero),
                &headers,
                body::sync_collection(token, &MEMBER_PROPS),
            ),
            // Never minimal: the data is the point, as in a multiget. An answer over the limit
            // is dropped (`on_sync_inline`): the driver may stop reading it there.
            Purpose::SyncInline => dav_request(
                report,
                &self.url,
                Some(Depth::Zero),
                &[xml_content_type()],
                body::sync_collection("", &INLINE_PROPS),
            )
            .map(|mut request| {
                request
                    .extensions_mut()
                    .insert(ResponseLimit(config.max_inline_bytes));
                request
            }),
            Purpose::Ctag => dav_request(
                propfind,
                &self.url,
                Some(Depth::Zero),
                &headers,
                body::propfind(&[GETCTAG, SYNC_TOKEN]),
            ),
            Purpose::Etags => dav_request(
                propfind,
                &self.url,
                Some(Depth::One),
                &headers,
                body::propfind(&[GETETAG, RESOURCETYPE, GETCONTENTLENGTH, GETCTAG, SYNC_TOKEN]),
            ),
            Purpose::Multiget { keys, .. } => {
                // Multiget answers are never minimal: the data is the point. No Depth: the
                // hrefs say what is wanted (RFC 4791 §7.9), and CalendarAgent sends none.
                let hrefs: Vec<String> = keys.clone();
                dav_request(
                    report,
                    &self.url,
                    None,
                    &[xml_content_type()],
                    body::multiget(&hrefs),
                )
            }
            Purpose::Get { key } => {
                let url = resolve(&self.url, &Href::new(key.as_str()))?;
                dav_request(Method::GET, &url, None, &[], Bytes::new())
            }
        }
    }

    fn on_response(
        &mut self,
        config: &SyncConfig,
        purpose: Purpose,
        response: http::Response<Bytes>,
    ) {
        match purpose {
            Purpose::Sync { token } => self.on_sync(config, &token, &response),
            Purpose::SyncInline => self.on_sync_inline(config, response),
            Purpose::Ctag => self.on_ctag(config, &response),
            Purpose::Etags => self.on_etags(config, &response),
            Purpose::Multiget { keys, round } => self.on_multiget(config, keys, round, response),
            Purpose::Get { key } => self.on_get(config, key, &response),
        }
    }

    fn decode(&mut self, response: &http::Response<Bytes>) -> Option<Multistatus> {
        self.decoded(Multistatus::decode(response.body()))
    }

    fn decoded(&mut self, decoded: Result<Multistatus, dav_xml::Error>) -> Option<Multistatus> {
        match decoded {
            Ok(ms) => Some(ms),
            Err(error) => {
                self.fail(Error::ServerMisbehaved {
                    what: format!("unreadable multistatus: {error}"),
                });
                None
            }
        }
    }

    fn member_key(&self, config: &SyncConfig, href: &Href) -> Option<String> {
        let _ = config;
        key(&self.url, href)
    }

    fn add_member(&mut self, config: &SyncConfig, key: String, member: Member) -> bool {
        self.gone.remove(&key);
        self.members.insert(key, member);
        if self.members.len() > config.max_items {
            self.fail(Error::LimitExceeded {
                what: "members per calendar",
            });
            return false;
        }
        true
    }

    fn on_sync(&mut self, config: &SyncConfig, token: &str, response: &http::Response<Bytes>) {
        let status = response.status();
        if status == StatusCode::MULTI_STATUS {
            let Some(ms) = self.decode(response) else {
                return;
            };
            let mut truncated = false;
            for entry in &ms.responses {
                for href in &entry.hrefs {
                    let Some(k) = self.member_key(config, href) else {
                        continue;
                    };
                    if k == self.key {
                        truncated |= entry.status == Some(StatusCode::INSUFFICIENT_STORAGE);
                        continue;
                    }
                    if matches!(entry.status, Some(s) if s == StatusCode::NOT_FOUND || s == StatusCode::GONE)
                    {
                        self.members.remove(&k);
                        self.gone.insert(k);
                        continue;
                    }
                    if entry.propstats.is_empty() || is_collection(entry) || k.ends_with('/') {
                        continue;
                    }
                    let member = Member {
                        href: href.clone(),
                        etag: text_prop(entry, GETETAG),
                        size: content_length(entry),
                    };
                    if !self.add_member(config, k, member) {
                        return;
                    }
                }
            }
            let Some(new_token) = ms.sync_token.filter(|t| !t.is_empty()) else {
                self.fail(Error::ServerMisbehaved {
                    what: "sync-collection answer without a sync-token".into(),
                });
                return;
            };
            if truncated {
                self.pages += 1;
                if new_token == token {
                    self.fail(Error::ServerMisbehaved {
                        what: "truncated sync-collection without a new token".into(),
                    });
                } else if self.pages >= config.max_pages {
                    self.fail(Error::LimitExceeded {
                        what: "sync-collection pages",
                    });
                } else {
                    self.queue.push_back(Purpose::Sync { token: new_token });
                }
                return;
            }
            self.token = Some(new_token);
            self.start_fetch(config);
        } else if status == StatusCode::UNAUTHORIZED {
            self.fail(status_error(&self.url, response));
        } else if !token.is_empty() && is_invalid_token(&config.quirks, response) && !self.restarted
        {
            self.restarted = true;
            self.full = true;
            self.method = SyncMethod::FullResync;
            self.members.clear();
            self.gone.clear();
            if config.quirks.empty_sync_token_rejected {
                self.start_listing(&config.quirks);
                self.method = SyncMethod::FullResync;
            } else {
                self.queue.push_back(Purpose::Sync {
                    token: String::new(),
                });
            }
        } else if token.is_empty() && status != StatusCode::NOT_FOUND {
            // The empty token refused, or no sync-collection at all: the etag ladder.
            let restarted = self.restarted;
            self.old.ctag = self.old.ctag.take().filter(|_| !restarted);
            self.start_listing(&config.quirks);
        } else {
            self.fail(status_error(&self.url, response));
        }
    }

    /// The answer to [`Purpose::SyncInline`]: used whole, or dropped for the listing path.
    fn on_sync_inline(&mut self, config: &SyncConfig, response: http::Response<Bytes>) {
        let status = response.status();
        let fall_back = |run: &mut Self| {
            run.queue.push_back(Purpose::Sync {
                token: String::new(),
            });
        };
        if status != StatusCode::MULTI_STATUS {
            if matches!(status.as_u16(), 401 | 403 | 404 | 405 | 501) {
                // No sync-collection here (or no access): what the plain request would meet.
                self.on_sync(config, "", &response);
            } else {
                fall_back(self);
            }
            return;
        }
        let too_large =
            u64::try_from(response.body().len()).map_or(true, |n| n > config.max_inline_bytes);
        if too_large {
            fall_back(self);
            return;
        }
        // The body is ours: decoded in place, each object's data copied once, into its `Item`.
        let Ok(ms) = Multistatus::decode_owned(response.into_body()) else {
            fall_back(self);
            return;
        };
        let Some(new_token) = ms.sync_token.clone().filter(|t| !t.is_empty()) else {
            fall_back(self);
            return;
        };
        let mut members = BTreeMap::new();
        let mut fetched = BTreeMap::new();
        for entry in &ms.responses {
            for href in &entry.hrefs {
                let Some(k) = self.member_key(config, href) else {
                    continue;
                };
                if k == self.key {
                    if entry.status == Some(StatusCode::INSUFFICIENT_STORAGE) {
                        // Truncated (RFC 6578 §3.6): paging is the listing's business.
                        fall_back(self);
                        return;
                    }
                    continue;
                }
                if entry.propstats.is_empty()
                    || entry.status.is_some_and(|s| !s.is_success())
                    || is_collection(entry)
                    || k.ends_with('/')
                {
                    continue;
                }
                let etag = text_prop(entry, GETETAG);
                let data = (entry
                    .prop_status(&CALENDAR_DATA)
                    .is_none_or(|s| s.is_success()))
                .then(|| entry.prop(&CALENDAR_DATA).map(|d| d.text().into_owned()))
                .flatten()
                .filter(|d| !d.trim().is_empty());
                if let (Some(etag), Some(data)) = (etag.clone(), data) {
                    let item = Item {
                        href: href.clone(),
                        etag,
                        data,
                    };
                    fetched.insert(k.clone(), item);
                }
                members.insert(
                    k,
                    Member {
                        href: href.clone(),
                        etag,
                        size: None,
                    },
                );
                if members.len() > config.max_items {
                    self.fail(Error::LimitExceeded {
                        what: "members per calendar",
                    });
                    return;
                }
            }
        }
        self.members = members;
        if config.checkpoints {
            self.batch
                .extend(fetched.iter().map(|(k, item)| (k.clone(), item.clone())));
        }
        self.fetched = fetched;
        self.token = Some(new_token);
        self.start_fetch(config);
    }

    fn on_ctag(&mut self, config: &SyncConfig, response: &http::Response<Bytes>) {
        if response.status() != StatusCode::MULTI_STATUS {
            self.fail(status_error(&self.url, response));
            return;
        }
        let Some(ms) = self.decode(response) else {
            return;
        };
        let own = ms
            .responses
            .iter()
            .find(|r| r.href().and_then(|h| key(&self.url, h)).as_deref() == Some(&self.key))
            .or_else(|| ms.responses.first());
        let ctag = own.and_then(|r| text_prop(r, GETCTAG));
        let token = own.and_then(|r| text_prop(r, SYNC_TOKEN));
        if ctag.is_some() && ctag == self.old.ctag {
            self.method = SyncMethod::CtagUnchanged;
            self.ctag = ctag;
            self.token = token.or_else(|| self.old.sync_token.clone());
            self.members = self
                .old
                .items
                .iter()
                .map(|(k, item)| {
                    (
                        k.clone(),
                        Member {
                            href: Href::new(item.href.as_str()),
                            etag: Some(item.etag.clone()),
                            size: None,
                        },
                    )
                })
                .collect();
            self.start_fetch(config);
        } else {
            self.method = SyncMethod::EtagListing;
            self.queue.push_back(Purpose::Etags);
        }
    }

    fn on_etags(&mut self, config: &SyncConfig, response: &http::Response<Bytes>) {
        if response.status() != StatusCode::MULTI_STATUS {
            self.fail(status_error(&self.url, response));
            return;
        }
        let Some(ms) = self.decode(response) else {
            return;
        };
        self.full = true;
        for entry in &ms.responses {
            let Some(href) = entry.href() else { continue };
            let Some(k) = self.member_key(config, href) else {
                continue;
            };
            if k == self.key {
                self.ctag = text_prop(entry, GETCTAG);
                self.token = text_prop(entry, SYNC_TOKEN);
                continue;
            }
            if entry.propstats.is_empty() || is_collection(entry) || k.ends_with('/') {
                continue;
            }
            let member = Member {
                href: href.clone(),
                etag: text_prop(entry, GETETAG),
                size: content_length(entry),
            };
            if !self.add_member(config, k, member) {
                return;
            }
        }
        self.start_fetch(config);
    }

    fn start_fetch(&mut self, config: &SyncConfig) {
        self.step = Step::Fetching;
        let wanted: BTreeMap<String, Member> = self
            .members
            .iter()
            // What the listing itself delivered (a first sync in one answer) is not asked again.
            .filter(|(k, _)| !self.fetched.contains_key(*k))
            .filter(|(k, m)| match (self.old.items.get(*k), &m.etag) {
                (Some(known), Some(etag)) => known.etag != *etag,
                _ => true,
            })
            .map(|(k, m)| (k.clone(), m.clone()))
            .collect();
        let keys: Vec<String> = wanted.keys().cloned().collect();
        self.wanted = wanted;
        self.enqueue_fetch(config, keys, 0);
    }

    fn enqueue_fetch(&mut self, config: &SyncConfig, keys: Vec<String>, round: usize) {
        if config.quirks.multiget {
            let sizes: Vec<u64> = keys
                .iter()
                .map(|k| {
                    self.wanted
                        .get(k)
                        .and_then(|m| m.size)
                        .unwrap_or(config.estimated_item_bytes)
                })
                .collect();
            let plan = Batching {
                max_hrefs: config.quirks.batch_size(),
                max_bytes: config.max_multiget_bytes,
            };
            let mut keys = keys.into_iter();
            for len in plan.split(&sizes) {
                let keys: Vec<String> = keys.by_ref().take(len).collect();
                self.queue.push_back(Purpose::Multiget { keys, round });
            }
        } else {
            self.queue
                .extend(keys.into_iter().map(|key| Purpose::Get { key }));
        }
    }

    fn on_multiget(
        &mut self,
        config: &SyncConfig,
        keys: Vec<String>,
        round: usize,
        response: http::Response<Bytes>,
    ) {
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status.is_server_error() {
            self.fail(status_error(&self.url, &response));
            return;
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE && keys.len() > 1 {
            // The server (or a proxy in front of it) refuses a request or an answer this large:
            // the same hrefs in two halves, down to one, before reading any one by one.
            let mut keys = keys;
            let second = keys.split_off(keys.len() / 2);
            self.queue.push_back(Purpose::Multiget { keys, round });
            self.queue.push_back(Purpose::Multiget {
                keys: second,
                round,
            });
            return;
        }
        if status != StatusCode::MULTI_STATUS {
            // A server that refuses multiget (or, like SabreDAV 1.8, fails the whole report for
            // one missing href): read this batch one by one.
            self.queue
                .extend(keys.into_iter().map(|key| Purpose::Get { key }));
            return;
        }
        // The body is ours: its line ends are normalised in place and the decoded text
        // borrows it, so each object's data is copied once, into its `Item` (a buffer that
        // is still shared is copied once more, whole).
        let decoded = Multistatus::decode_owned(response.into_body());
        let Some(ms) = self.decoded(decoded) else {
            return;
        };
        let mut asked: BTreeSet<String> = keys.into_iter().collect();
        for entry in &ms.responses {
            for href in &entry.hrefs {
                let Some(k) = key(&self.url, href) else {
                    continue;
                };
                if !asked.contains(&k) {
                    continue;
                }
                let data_status = entry.prop_status(&CALENDAR_DATA);
                let gone = |s: Option<StatusCode>| matches!(s, Some(s) if s == StatusCode::NOT_FOUND || s == StatusCode::GONE);
                if gone(entry.status) || (entry.propstats.len() == 1 && gone(data_status)) {
                    asked.remove(&k);
                    self.vanished.insert(k);
                    continue;
                }
                let Some(data) = entry.prop(&CALENDAR_DATA).map(|d| d.text().into_owned()) else {
                    continue;
                };
                let listed = self.wanted.get(&k).and_then(|m| m.etag.clone());
                let Some(etag) = text_prop(entry, GETETAG).or(listed) else {
                    continue;
                };
                asked.remove(&k);
                // A duplicate of an href already delivered is not asked for any more: one
                // item per href.
                let item = Item {
                    href: href.clone(),
                    etag,
                    data,
                };
                if config.checkpoints {
                    self.batch.push((k.clone(), item.clone()));
                }
                self.fetched.insert(k, item);
            }
        }
        if asked.is_empty() {
            return;
        }
        if config.quirks.multiget_omits_missing {
            // An omitted href is how this server says "not found": ask for each one alone.
            self.queue
                .extend(asked.into_iter().map(|key| Purpose::Get { key }));
        } else if round < config.max_refetch_rounds {
            self.enqueue_fetch(config, asked.into_iter().collect(), round + 1);
        } else {
            self.missing.extend(asked);
        }
    }

    fn on_get(&mut self, config: &SyncConfig, key: String, response: &http::Response<Bytes>) {
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            self.fail(status_error(&self.url, response));
        } else if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            self.vanished.insert(key);
        } else if status.is_success() {
            let listed = self.wanted.get(&key).and_then(|m| m.etag.clone());
            let etag = header_etag(response).or(listed);
            let data = std::str::from_utf8(response.body()).ok().map(str::to_owned);
            let href = self
                .wanted
                .get(&key)
                .map_or_else(|| Href::new(key.as_str()), |m| m.href.clone());
            match (etag, data) {
                (Some(etag), Some(data)) => {
                    let item = Item { href, etag, data };
                    if config.checkpoints {
                        self.batch.push((key.clone(), item.clone()));
                    }
                    self.fetched.insert(key, item);
                }
                _ => {
                    self.missing.insert(key);
                }
            }
        } else {
            self.missing.insert(key);
        }
    }

    /// Finishes the run once nothing is queued or in flight.
    fn settle(&mut self, _config: &SyncConfig) {
        if self.step != Step::Fetching || !self.queue.is_empty() || self.in_flight > 0 {
            return;
        }
        self.step = Step::Finished;
        let old = &self.old;
        let mut deleted: BTreeSet<String> = self
            .gone
            .iter()
            .chain(self.vanished.iter())
            .filter(|k| old.items.contains_key(*k))
            .cloned()
            .collect();
        if self.full {
            deleted.extend(
                old.items
                    .keys()
                    .filter(|k| !self.members.contains_key(*k))
                    .cloned(),
            );
        } else if let Some(resume) = &old.resume {
            // Each checkpointed item changed after the token the listing started from, so the
            // listing names it while it exists.
            deleted.extend(
                resume
                    .touched
                    .iter()
                    .filter(|k| old.items.contains_key(*k) && !self.members.contains_key(*k))
                    .cloned(),
            );
        }
        let missing: BTreeSet<String> = self
            .wanted
            .keys()
            .filter(|k| !self.fetched.contains_key(*k) && !self.vanished.contains(*k))
            .cloned()
            .chain(self.missing.iter().cloned())
            .filter(|k| !self.fetched.contains_key(k))
            .collect();
        let mut items = old.items.clone();
        for k in &deleted {
            items.remove(k);
        }
        let mut added = Vec::new();
        let mut changed = Vec::new();
        let fetched_keys: Vec<String> = self.fetched.keys().cloned().collect();
        for (k, item) in std::mem::take(&mut self.fetched) {
            items.insert(
                k.clone(),
                ItemState {
                    href: item.href.as_str().to_owned(),
                    etag: item.etag.clone(),
                },
            );
            if old.items.contains_key(&k) {
                changed.push(item);
            } else {
                added.push(item);
            }
        }
        let complete = missing.is_empty();
        let resume = (!complete).then(|| Resume {
            initial: self.initial,
            touched: old
                .resume
                .iter()
                .flat_map(|r| r.touched.iter())
                .chain(fetched_keys.iter())
                .filter(|k| items.contains_key(*k))
                .cloned()
                .collect(),
        });
        let new_state = CalendarState {
            href: self.href.as_str().to_owned(),
            sync_token: if complete {
                self.token.clone().or_else(|| {
                    (self.method == SyncMethod::CtagUnchanged)
                        .then(|| old.sync_token.clone())
                        .flatten()
                })
            } else {
                old.sync_token.clone()
            },
            ctag: if complete {
                self.ctag.clone()
            } else {
                old.ctag.clone()
            },
            items,
            resume,
        };
        let changes = ChangeSet {
            added,
            changed,
            deleted: deleted
                .iter()
                .map(|k| {
                    old.items
                        .get(k)
                        .map_or_else(|| Href::new(k.as_str()), |i| Href::new(i.href.as_str()))
                })
                .collect(),
            missing: missing
                .iter()
                .map(|k| {
                    self.wanted
                        .get(k)
                        .map_or_else(|| Href::new(k.as_str()), |m| m.href.clone())
                })
                .collect(),
            method: self.method,
        };
        self.result = Some(Ok((changes, new_state)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plan(max_hrefs: usize, max_bytes: u64) -> Batching {
        Batching {
            max_hrefs,
            max_bytes,
        }
    }

    #[test]
    fn a_small_fetch_is_one_multiget() {
        assert_eq!(plan(1000, 8 << 20).split(&[900; 200]), [200]);
        assert!(plan(1000, 8 << 20).split(&[]).is_empty());
    }

    #[test]
    fn a_large_fetch_is_cut_evenly_under_the_cap() {
        assert_eq!(plan(1000, 8 << 20).split(&[900; 2000]), [1000, 1000]);
        assert_eq!(plan(1000, 8 << 20).split(&[900; 2500]), [834, 834, 832]);
        assert_eq!(plan(5000, 8 << 20).split(&[900; 2000]), [2000]);
    }

    #[test]
    fn the_cap_on_hrefs_holds() {
        assert_eq!(plan(100, 8 << 20).split(&[900; 250]), [84, 84, 82]);
        assert_eq!(plan(0, 8 << 20).split(&[1; 3]), [1, 1, 1]);
    }

    #[test]
    fn large_members_make_smaller_batches() {
        // 100 KiB each: 8 MiB holds 81 of them with their markup.
        let lengths = plan(1000, 8 << 20).split(&[100 << 10; 200]);
        assert_eq!(lengths.iter().sum::<usize>(), 200);
        assert!(lengths.iter().all(|l| *l <= 81), "{lengths:?}");
        // One member above the bound still goes, alone.
        assert_eq!(plan(1000, 1000).split(&[10, 5000, 10]), [1, 1, 1]);
    }

    proptest! {
        #[test]
        fn batches_cover_every_member_within_the_limits(
            sizes in proptest::collection::vec(0u64..200_000, 0..3000),
            max_hrefs in 0usize..1500,
            max_bytes in 0u64..(16 << 20),
        ) {
            let lengths = plan(max_hrefs, max_bytes).split(&sizes);
            prop_assert_eq!(lengths.iter().sum::<usize>(), sizes.len());
            let mut at = 0;
            for len in lengths {
                prop_assert!(len >= 1 && len <= max_hrefs.max(1));
                let batch = &sizes[at..at + len];
                let bytes: u64 = batch.iter().map(|s| s + RESPONSE_OVERHEAD).sum();
                prop_assert!(len == 1 || bytes <= max_bytes.max(1));
                at += len;
            }
        }
    }
}
