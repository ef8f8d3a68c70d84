//! Calendar listing: PROPFIND Depth:1 on each calendar home (RFC 4791 §4.2, §5.2; RFC 6638
//! §2.2 and §2.1 for the scheduling inbox and outbox; CalendarServer's notification collection
//! and sharing properties), plus Depth:0 on collections outside the homes (the seed's
//! `/notifications/user/ken/`), into a typed list of collections.

use std::collections::BTreeSet;

use bytes::Bytes;
use caldav_model::property::{PropertySet, Sharee, Value, names};
use dav_xml::name::{CALDAV, CALENDARSERVER};
use dav_xml::{Href, Multistatus, QName};
use http::{Method, StatusCode, Uri};

use crate::bootstrap::Account;
use crate::error::{Error, UsageError};
use crate::machine::{
    Depth, InFlight, Machine, Output, RequestId, TransportFailure, dav_request, key, status_error,
    xml_content_type,
};
use crate::quirks::QuirkProfile;

/// What a client needs of each collection (a subset of the seed's Depth:1 list).
const LISTING_PROPS: [QName; 20] = [
    names::RESOURCETYPE,
    names::DISPLAYNAME,
    names::CALENDAR_DESCRIPTION,
    names::CALENDAR_COLOR,
    names::CALENDAR_ORDER,
    names::CALENDAR_TIMEZONE,
    names::SUPPORTED_CALENDAR_COMPONENT_SET,
    names::GETCTAG,
    names::SYNC_TOKEN,
    names::CURRENT_USER_PRIVILEGE_SET,
    names::INVITE,
    names::ALLOWED_SHARING_MODES,
    names::OWNER,
    names::SOURCE,
    names::SUPPORTED_REPORT_SET,
    names::SCHEDULE_CALENDAR_TRANSP,
    names::SCHEDULE_DEFAULT_CALENDAR_URL,
    names::ADD_MEMBER,
    names::PUSHKEY,
    names::REFRESHRATE,
];

const CALENDAR: QName = QName::from_static(CALDAV, "calendar");
const SCHEDULE_INBOX: QName = QName::from_static(CALDAV, "schedule-inbox");
const SCHEDULE_OUTBOX: QName = QName::from_static(CALDAV, "schedule-outbox");
const NOTIFICATION: QName = QName::from_static(CALENDARSERVER, "notification");
const SHARED_OWNER: QName = QName::from_static(CALENDARSERVER, "shared-owner");
const SHARED: QName = QName::from_static(CALENDARSERVER, "shared");
const SUBSCRIBED: QName = QName::from_static(CALENDARSERVER, "subscribed");
const SYNC_COLLECTION: QName = QName::from_static(dav_xml::name::DAV, "sync-collection");

/// What a listing needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListingConfig {
    /// The URL hrefs are resolved against.
    pub base: Uri,
    /// Calendar homes, listed with Depth:1.
    pub homes: Vec<Href>,
    /// Other collections, read with Depth:0 unless a home listing already named them, each
    /// with the kind the caller knows it to be (an account's inbox, outbox, notifications):
    /// used when the answer carries no resource type.
    pub extra: Vec<(Href, CollectionKind)>,
    /// Server behaviours.
    pub quirks: QuirkProfile,
    /// Most collections over all answers.
    pub max_collections: usize,
    /// Ask each collection's `CS:getctag` and `DAV:sync-token` (RFC 6578 §4). Some servers
    /// compute both from every item of every collection (Radicale: seconds for a home of
    /// many calendars, against 50 ms without them); a caller that syncs by
    /// `sync-collection`, which answers with the token anyway, can leave them out.
    pub sync_state: bool,
    /// Count each calendar's and schedule inbox's members ([`Collection::items`]) with one
    /// more Depth:1 PROPFIND per collection, asking only `DAV:resourcetype`. Off by default:
    /// no standard property holds the count, so it costs what listing the collection costs
    /// (on Radicale, reading every item). A count the server refuses is left unknown; it
    /// never fails the listing.
    pub count_items: bool,
}

impl ListingConfig {
    /// A listing of `homes` with default quirks.
    #[must_use]
    pub fn new(base: Uri, homes: Vec<Href>) -> Self {
        Self {
            base,
            homes,
            extra: Vec::new(),
            quirks: QuirkProfile::default(),
            max_collections: 10_000,
            sync_state: true,
            count_items: false,
        }
    }

    /// A listing of an account's homes, plus its inbox, outbox and notification collection.
    #[must_use]
    pub fn for_account(base: Uri, account: &Account) -> Self {
        let mut config = Self::new(base, account.calendar_home_set.clone());
        config.extra = [
            (&account.schedule_inbox, CollectionKind::ScheduleInbox),
            (&account.schedule_outbox, CollectionKind::ScheduleOutbox),
            (&account.notification_url, CollectionKind::Notifications),
        ]
        .into_iter()
        .filter_map(|(href, kind)| href.clone().map(|h| (h, kind)))
        .collect();
        config
    }
}

/// What a collection is, by its `DAV:resourcetype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollectionKind {
    /// `CALDAV:calendar` (RFC 4791 §4.2).
    Calendar,
    /// `CALDAV:schedule-inbox` (RFC 6638 §2.2).
    ScheduleInbox,
    /// `CALDAV:schedule-outbox` (RFC 6638 §2.1).
    ScheduleOutbox,
    /// `CS:notification`: CalendarServer's notification collection.
    Notifications,
    /// `CS:subscribed`: a subscribed (webcal) calendar.
    Subscribed,
    /// Any other collection.
    Other,
}

/// How a calendar is shared (CalendarServer sharing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Sharing {
    /// `CS:allowed-sharing-modes` (`can-be-shared`, `can-be-published`).
    pub allowed_modes: Vec<QName>,
    /// The sharees of `CS:invite`.
    pub sharees: Vec<Sharee>,
    /// The calendar is shared by its owner (`CS:shared-owner` resource type).
    pub shared_by_me: bool,
    /// The calendar is shared with this user (`CS:shared` resource type).
    pub shared_with_me: bool,
}

/// One collection found by the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Collection {
    /// The href as the server sent it.
    pub href: Href,
    /// What it is.
    pub kind: CollectionKind,
    /// `DAV:displayname`.
    pub displayname: Option<String>,
    /// `CALDAV:calendar-description`.
    pub description: Option<String>,
    /// `ICAL:calendar-color`, as sent (`#RRGGBBAA`).
    pub color: Option<String>,
    /// `ICAL:calendar-order`.
    pub order: Option<i64>,
    /// `CALDAV:calendar-timezone` (a VTIMEZONE in a VCALENDAR).
    pub timezone: Option<String>,
    /// `CALDAV:supported-calendar-component-set`; `None` when the server did not say (all).
    pub components: Option<Vec<String>>,
    /// `CS:getctag`.
    pub ctag: Option<String>,
    /// `DAV:sync-token`.
    pub sync_token: Option<String>,
    /// `DAV:current-user-privilege-set`.
    pub privileges: Vec<QName>,
    /// Sharing state.
    pub sharing: Sharing,
    /// `DAV:supported-report-set`.
    pub supported_reports: Vec<QName>,
    /// Every property, unknown ones included.
    pub properties: PropertySet,
    /// How many members (non-collection resources) it holds, when
    /// [`ListingConfig::count_items`] asked and the server answered.
    pub items: Option<u64>,
}

impl Collection {
    /// Whether the server lists `DAV:sync-collection` among this collection's reports.
    #[must_use]
    pub fn supports_sync_collection(&self) -> bool {
        self.supported_reports.contains(&SYNC_COLLECTION)
    }
}

/// The result of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct Listing {
    /// The collections, homes excluded, in the order the answers named them.
    pub collections: Vec<Collection>,
}

impl Listing {
    /// The calendars only.
    pub fn calendars(&self) -> impl Iterator<Item = &Collection> {
        self.collections
            .iter()
            .filter(|c| c.kind == CollectionKind::Calendar)
    }
}

#[derive(Debug, Clone)]
struct Purpose {
    href: Href,
    url: Uri,
    home: bool,
    role: Option<CollectionKind>,
    /// A count of the members of `collections[i]` (see [`ListingConfig::count_items`]).
    count: Option<usize>,
}

/// The listing machine: one PROPFIND per home, all in flight at once.
#[derive(Debug)]
pub struct ListingMachine {
    config: ListingConfig,
    flight: InFlight<Purpose>,
    queue: Vec<Purpose>,
    homes: BTreeSet<String>,
    seen: BTreeSet<String>,
    collections: Vec<Collection>,
    extra_pending: Vec<Purpose>,
    /// The member counts have been queued (they go out once every collection is known).
    counting: bool,
    done: Option<Result<Listing, Error>>,
}

fn kind_of(types: &[QName]) -> CollectionKind {
    if types.contains(&CALENDAR) {
        CollectionKind::Calendar
    } else if types.contains(&SCHEDULE_INBOX) {
        CollectionKind::ScheduleInbox
    } else if types.contains(&SCHEDULE_OUTBOX) {
        CollectionKind::ScheduleOutbox
    } else if types.contains(&NOTIFICATION) {
        CollectionKind::Notifications
    } else if types.contains(&SUBSCRIBED) {
        CollectionKind::Subscribed
    } else {
        CollectionKind::Other
    }
}

fn collection(href: Href, set: PropertySet, role: Option<CollectionKind>) -> Collection {
    let types = set.resource_type().to_vec();
    let kind = match (kind_of(&types), role) {
        (CollectionKind::Other, Some(role)) if types.is_empty() => role,
        (kind, _) => kind,
    };
    let sharing = Sharing {
        allowed_modes: match set.get(&names::ALLOWED_SHARING_MODES) {
            Some(Value::Names(modes)) => modes.clone(),
            _ => Vec::new(),
        },
        sharees: set.sharees().to_vec(),
        shared_by_me: types.contains(&SHARED_OWNER),
        shared_with_me: types.contains(&SHARED),
    };
    Collection {
        href,
        kind,
        displayname: set.displayname().map(str::to_owned),
        description: set.calendar_description().map(str::to_owned),
        color: set.calendar_color().map(|c| c.value.clone()),
        order: set.calendar_order(),
        timezone: set.calendar_timezone().map(str::to_owned),
        components: set.supported_components().map(<[String]>::to_vec),
        ctag: set.ctag().map(|c| c.0.clone()),
        sync_token: set.sync_token().map(|t| t.0.clone()),
        privileges: set.privileges().to_vec(),
        sharing,
        supported_reports: set.supported_reports().to_vec(),
        properties: set,
        items: None,
    }
}

impl ListingMachine {
    /// A machine that lists `config.homes` and reads `config.extra`.
    pub fn new(config: ListingConfig) -> Self {
        let mut machine = Self {
            flight: InFlight::default(),
            queue: Vec::new(),
            homes: BTreeSet::new(),
            seen: BTreeSet::new(),
            collections: Vec::new(),
            extra_pending: Vec::new(),
            counting: false,
            done: None,
            config,
        };
        let homes = machine.config.homes.iter().map(|h| (h.clone(), None));
        let extra = machine
            .config
            .extra
            .iter()
            .map(|(h, k)| (h.clone(), Some(*k)));
        let all: Vec<(Href, Option<CollectionKind>)> = homes.chain(extra).collect();
        for (href, role) in &all {
            let home = role.is_none();
            {
                let Ok(url) = href.resolve(&machine.config.base) else {
                    machine.done = Some(Err(Error::InvalidUrl {
                        url: href.as_str().to_owned(),
                    }));
                    return machine;
                };
                let purpose = Purpose {
                    href: href.clone(),
                    url,
                    home,
                    role: *role,
                    count: None,
                };
                if home {
                    if let Some(k) = key(&machine.config.base, href) {
                        machine.homes.insert(k);
                    }
                    machine.queue.push(purpose);
                } else {
                    machine.extra_pending.push(purpose);
                }
            }
        }
        machine.queue.reverse();
        machine
    }

    fn request(&self, purpose: &Purpose) -> Result<http::Request<Bytes>, Error> {
        let propfind = Method::from_bytes(b"PROPFIND").map_err(|_| Error::InvalidUrl {
            url: "PROPFIND".into(),
        })?;
        let mut headers = vec![xml_content_type()];
        if self.config.quirks.prefer_minimal {
            headers.push((
                http::header::HeaderName::from_static("prefer"),
                "return=minimal".into(),
            ));
            headers.push((http::header::HeaderName::from_static("brief"), "t".into()));
        }
        if purpose.count.is_some() {
            return dav_request(
                propfind,
                &purpose.url,
                Some(Depth::One),
                &headers,
                crate::body::propfind(&[names::RESOURCETYPE]),
            );
        }
        dav_request(
            propfind,
            &purpose.url,
            Some(if purpose.home {
                Depth::One
            } else {
                Depth::Zero
            }),
            &headers,
            crate::body::propfind(&self.props()),
        )
    }

    /// One count for each calendar and schedule inbox found, once all are known.
    fn queue_counts(&mut self) {
        self.counting = true;
        if !self.config.count_items {
            return;
        }
        let base = self.config.base.clone();
        self.queue = self
            .collections
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                matches!(
                    c.kind,
                    CollectionKind::Calendar | CollectionKind::ScheduleInbox
                )
            })
            .filter_map(|(i, c)| {
                Some(Purpose {
                    href: c.href.clone(),
                    url: c.href.resolve(&base).ok()?,
                    home: false,
                    role: None,
                    count: Some(i),
                })
            })
            .rev()
            .collect();
    }

    /// A member count's answer: every `<response>` but the collection's own and
    /// sub-collections'. Anything but a readable 207 leaves the count unknown.
    fn on_count(&mut self, index: usize, purpose: &Purpose, response: &http::Response<Bytes>) {
        if response.status() != StatusCode::MULTI_STATUS {
            return;
        }
        let Ok(ms) = Multistatus::decode(response.body()) else {
            return;
        };
        let own = key(&purpose.url, &purpose.href);
        let members = ms
            .responses
            .iter()
            .filter(|entry| {
                entry
                    .href()
                    .is_some_and(|href| key(&purpose.url, href) != own)
                    && !PropertySet::from_response(entry).is_collection()
            })
            .count();
        if let Some(collection) = self.collections.get_mut(index) {
            collection.items = u64::try_from(members).ok();
        }
    }

    fn props(&self) -> Vec<QName> {
        LISTING_PROPS
            .iter()
            .filter(|p| {
                self.config.sync_state || (**p != names::GETCTAG && **p != names::SYNC_TOKEN)
            })
            .cloned()
            .collect()
    }

    fn on_response(
        &mut self,
        purpose: &Purpose,
        response: &http::Response<Bytes>,
    ) -> Result<(), Error> {
        if response.status() != StatusCode::MULTI_STATUS {
            if !purpose.home && response.status() == StatusCode::NOT_FOUND {
                // An advertised inbox or notification URL that is not there is not fatal.
                return Ok(());
            }
            return Err(status_error(&purpose.url, response));
        }
        let ms = Multistatus::decode(response.body()).map_err(|e| Error::ServerMisbehaved {
            what: format!("unreadable multistatus: {e}"),
        })?;
        for entry in ms.responses {
            let Some(href) = entry.href().cloned() else {
                continue;
            };
            let Some(k) = key(&purpose.url, &href) else {
                continue;
            };
            if self.homes.contains(&k) || !self.seen.insert(k) {
                continue;
            }
            let set = PropertySet::from_response(&entry);
            // A collection the caller named needs no resource type to be one (the seed's
            // inbox answers a Depth:0 PROPFIND with an empty prop).
            let role = if purpose.home { None } else { purpose.role };
            if !set.is_collection() && role.is_none() {
                continue;
            }
            if self.collections.len() >= self.config.max_collections {
                return Err(Error::LimitExceeded {
                    what: "collections in a listing",
                });
            }
            self.collections.push(collection(href, set, role));
        }
        Ok(())
    }
}

impl Machine for ListingMachine {
    type Outcome = Listing;

    fn poll(&mut self) -> Output<Listing> {
        if let Some(done) = &self.done {
            return Output::Done(done.clone());
        }
        if self.queue.is_empty() && self.flight.is_empty() {
            // Extra collections go out once the homes are listed, unless a home named them.
            let base = self.config.base.clone();
            let pending = std::mem::take(&mut self.extra_pending);
            self.queue = pending
                .into_iter()
                .filter(|p| key(&base, &p.href).is_none_or(|k| !self.seen.contains(&k)))
                .rev()
                .collect();
            if self.queue.is_empty() && !self.counting {
                self.queue_counts();
            }
            if self.queue.is_empty() {
                let listing = Listing {
                    collections: std::mem::take(&mut self.collections),
                };
                self.done = Some(Ok(listing.clone()));
                return Output::Done(Ok(listing));
            }
        }
        let Some(purpose) = self.queue.pop() else {
            return Output::Wait;
        };
        match self.request(&purpose) {
            Ok(request) => {
                let id = self.flight.issue(purpose);
                Output::Http { id, request }
            }
            Err(error) => {
                self.done = Some(Err(error.clone()));
                Output::Done(Err(error))
            }
        }
    }

    fn handle_answer(
        &mut self,
        id: RequestId,
        answer: Result<http::Response<Bytes>, TransportFailure>,
    ) -> Result<(), UsageError> {
        let Some(purpose) = self.flight.settle(self.done.is_some(), id, &answer)? else {
            return Ok(());
        };
        if let Some(index) = purpose.count {
            // A count is extra information: a refusal or a failed transport leaves it unknown.
            if let Ok(response) = answer {
                self.on_count(index, &purpose, &response);
            }
            return Ok(());
        }
        let result = match answer {
            Ok(response) => self.on_response(&purpose, &response),
            Err(failure) => Err(Error::Transport {
                message: failure.message,
            }),
        };
        if let Err(error) = result {
            self.done = Some(Err(error));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Output;

    fn first_body(config: ListingConfig) -> String {
        let mut machine = ListingMachine::new(config);
        match machine.poll() {
            Output::Http { request, .. } => String::from_utf8(request.body().to_vec()).unwrap(),
            other => panic!("no request: {other:?}"),
        }
    }

    #[test]
    fn a_listing_without_sync_state_asks_no_token_or_ctag() {
        let base: Uri = "http://example.test/".parse().unwrap();
        let mut config = ListingConfig::new(base, vec![Href::new("/home/")]);
        let with = first_body(config.clone());
        assert!(
            with.contains("sync-token") && with.contains("getctag"),
            "{with}"
        );
        config.sync_state = false;
        let without = first_body(config);
        assert!(
            !without.contains("sync-token") && !without.contains("getctag"),
            "{without}"
        );
        assert!(without.contains("displayname") && without.contains("supported-report-set"));
    }
}
