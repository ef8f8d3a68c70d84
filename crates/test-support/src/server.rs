//! The in-memory CalDAV server model.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use dav_xml::{Element, QName};
use http::{Method, Request, Response, StatusCode};

const SYNC_PREFIX: &str = "http://test-support.invalid/sync/";

/// Behaviours of real servers (`QUIRKS.md`, `SERVERS.md`) the model can imitate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerQuirks {
    /// Answers `DAV:sync-collection`; when off, the REPORT is refused with 403 (SabreDAV 1.8).
    pub sync_collection: bool,
    /// Refuses a sync-collection with an empty token (Cyrus, QUIRKS #9).
    pub reject_empty_token: bool,
    /// The status for an invalid token: 403 (sabre, Cyrus), 409, 412 (Xandikos) or 500.
    pub invalid_token_status: u16,
    /// Most members per sync-collection answer; more are truncated with a 507 (RFC 6578 §3.6).
    pub sync_page_size: Option<usize>,
    /// Lists deleted members as 404s in an initial sync (Radicale).
    pub initial_tombstones: bool,
    /// Reports `CS:getctag`.
    pub ctag: bool,
    /// Answers calendar-multiget; when off, the REPORT is refused with 403.
    pub multiget: bool,
    /// Fails a whole multiget with 404 when one href is missing (SabreDAV 1.8).
    pub multiget_404_whole: bool,
    /// Leaves missing hrefs out of a multiget instead of answering 404 for each.
    pub multiget_omit_missing: bool,
    /// The next this-many multiget answers silently drop their last href (QUIRKS #13).
    pub multiget_drop_last: usize,
    /// Repeats every response in a multiget (QUIRKS #15).
    pub duplicate_responses: bool,
    /// Writes hrefs as absolute URLs with this prefix, e.g. `http://cal.example` (QUIRKS #3).
    pub absolute_hrefs: Option<String>,
    /// Percent-encodes every byte outside `A-Za-z0-9/.-_` in hrefs, `@` included (QUIRKS #4).
    /// Names are stored decoded except for `%2F`, which hrefs keep as it is.
    pub encode_all: bool,
    /// Sends an ETag with PUT answers (QUIRKS #17 when off).
    pub put_etag: bool,
    /// Honours `If-None-Match: *` (Google does not, QUIRKS #7).
    pub if_none_match: bool,
}

impl Default for ServerQuirks {
    fn default() -> Self {
        Self {
            sync_collection: true,
            reject_empty_token: false,
            invalid_token_status: 403,
            sync_page_size: None,
            initial_tombstones: false,
            ctag: true,
            multiget: true,
            multiget_404_whole: false,
            multiget_omit_missing: false,
            multiget_drop_last: 0,
            duplicate_responses: false,
            absolute_hrefs: None,
            encode_all: false,
            put_etag: true,
            if_none_match: true,
        }
    }
}

/// A stored calendar object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The iCalendar data as stored.
    pub data: String,
    /// Its entity tag (quoted).
    pub etag: String,
    /// The revision that last wrote it.
    revision: u64,
}

#[derive(Debug, Clone, Default)]
struct Collection {
    displayname: String,
    properties: BTreeMap<QName, String>,
    components: Vec<String>,
    items: BTreeMap<String, Object>,
    tombstones: BTreeMap<String, u64>,
    changed: u64,
    token_floor: u64,
}

/// An in-memory CalDAV server: one principal, one calendar home, any number of calendars.
#[derive(Debug, Clone)]
pub struct Server {
    /// Behaviours to imitate.
    pub quirks: ServerQuirks,
    principal: String,
    home: String,
    collections: BTreeMap<String, Collection>,
    revision: u64,
    /// Every request seen: method and path.
    pub log: Vec<(Method, String)>,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

/// Decodes each segment of a request path; a slash inside a segment stays `%2F`, so that the
/// path still splits into the same segments (an object named from a UID with a `/` in it).
fn decode_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .replace('/', "%2F")
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\r', "&#13;")
}

fn respond(status: StatusCode, body: impl Into<Bytes>) -> Response<Bytes> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
}

fn dav_error(status: StatusCode, condition: &str) -> Response<Bytes> {
    respond(
        status,
        format!(
            "<D:error xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><{condition}/></D:error>"
        ),
    )
}

fn propstat(props: &str, status: &str) -> String {
    format!(
        "<D:propstat><D:prop>{props}</D:prop><D:status>HTTP/1.1 {status}</D:status></D:propstat>"
    )
}

impl Server {
    /// A server with principal `/principals/alice/`, home `/calendars/alice/` and one empty
    /// calendar, `/calendars/alice/default/`.
    #[must_use]
    pub fn new() -> Self {
        let mut server = Self {
            quirks: ServerQuirks::default(),
            principal: "/principals/alice/".into(),
            home: "/calendars/alice/".into(),
            collections: BTreeMap::new(),
            revision: 1,
            log: Vec::new(),
        };
        server.add_calendar("/calendars/alice/default/", "Default");
        server
    }

    /// The same server with `quirks`.
    #[must_use]
    pub fn with_quirks(mut self, quirks: ServerQuirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// The principal's path.
    #[must_use]
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The calendar home's path.
    #[must_use]
    pub fn home(&self) -> &str {
        &self.home
    }

    fn bump(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    /// Adds a calendar at `path` (decoded, with a trailing slash).
    pub fn add_calendar(&mut self, path: &str, displayname: &str) {
        let revision = self.bump();
        self.collections.insert(
            path.to_owned(),
            Collection {
                displayname: displayname.to_owned(),
                components: vec!["VEVENT".into(), "VTODO".into()],
                changed: revision,
                ..Collection::default()
            },
        );
    }

    /// Stores `data` at `calendar` + `name`, returning the new etag; `None` when there is no
    /// such calendar.
    pub fn put(&mut self, calendar: &str, name: &str, data: &str) -> Option<String> {
        let revision = self.bump();
        let collection = self.collections.get_mut(calendar)?;
        let etag = format!("\"r{revision}\"");
        collection.items.insert(
            name.to_owned(),
            Object {
                data: data.to_owned(),
                etag: etag.clone(),
                revision,
            },
        );
        collection.tombstones.remove(name);
        collection.changed = revision;
        Some(etag)
    }

    /// Deletes `calendar` + `name`; whether it existed.
    pub fn delete(&mut self, calendar: &str, name: &str) -> bool {
        let revision = self.bump();
        let Some(collection) = self.collections.get_mut(calendar) else {
            return false;
        };
        if collection.items.remove(name).is_none() {
            return false;
        }
        collection.tombstones.insert(name.to_owned(), revision);
        collection.changed = revision;
        true
    }

    /// Invalidates every sync token handed out so far for `calendar` (an expired token).
    pub fn expire_tokens(&mut self, calendar: &str) {
        let revision = self.bump();
        if let Some(collection) = self.collections.get_mut(calendar) {
            collection.token_floor = revision;
        }
    }

    /// The objects of `calendar`, by name.
    #[must_use]
    pub fn objects(&self, calendar: &str) -> BTreeMap<String, Object> {
        self.collections
            .get(calendar)
            .map(|c| c.items.clone())
            .unwrap_or_default()
    }

    /// A property set on `calendar` by PROPPATCH or MKCALENDAR, as text.
    #[must_use]
    pub fn property(&self, calendar: &str, name: &QName) -> Option<&str> {
        self.collections
            .get(calendar)?
            .properties
            .get(name)
            .map(String::as_str)
    }

    /// Whether a calendar exists at `path`.
    #[must_use]
    pub fn has_calendar(&self, path: &str) -> bool {
        self.collections.contains_key(path)
    }

    /// An href for `path` as this server writes them.
    fn href(&self, path: &str) -> String {
        let encoded = if self.quirks.encode_all {
            let mut out = String::new();
            for byte in path.bytes() {
                if byte.is_ascii_alphanumeric() || b"/.-_%".contains(&byte) {
                    out.push(char::from(byte));
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
            out
        } else {
            percent_encoding::utf8_percent_encode(path, PATH).to_string()
        };
        match &self.quirks.absolute_hrefs {
            Some(prefix) => format!("{prefix}{encoded}"),
            None => encoded,
        }
    }

    /// Answers one request.
    pub fn handle(&mut self, request: Request<Bytes>) -> Response<Bytes> {
        let path = decode_path(request.uri().path());
        self.log.push((request.method().clone(), path.clone()));
        let body = request.body();
        let xml = matches!(
            request.method().as_str(),
            "PROPFIND" | "REPORT" | "PROPPATCH" | "MKCALENDAR"
        );
        let root = if body.is_empty() || !xml {
            None
        } else {
            match Element::decode(body) {
                Ok(root) => Some(root),
                Err(_) => return respond(StatusCode::BAD_REQUEST, ""),
            }
        };
        let depth_one = request
            .headers()
            .get("Depth")
            .is_some_and(|d| d.as_bytes() == b"1");
        match request.method().as_str() {
            "OPTIONS" => {
                let mut response = respond(StatusCode::OK, "");
                let headers = response.headers_mut();
                let dav = if self.quirks.sync_collection {
                    "1, 2, 3, access-control, calendar-access, sync-collection"
                } else {
                    "1, 2, 3, access-control, calendar-access"
                };
                headers.insert("DAV", http::HeaderValue::from_static(dav));
                headers.insert(
                    "Allow",
                    http::HeaderValue::from_static(
                        "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR",
                    ),
                );
                response
            }
            "PROPFIND" => self.propfind(&path, root.as_ref(), depth_one),
            "REPORT" => match root {
                Some(root) if root.name == QName::dav("sync-collection") => {
                    self.sync_collection(&path, &root)
                }
                Some(root) if root.name == QName::caldav("calendar-multiget") => {
                    self.multiget(&path, &root)
                }
                _ => respond(StatusCode::FORBIDDEN, ""),
            },
            "GET" => self.get(&path),
            "PUT" => self.handle_put(&path, &request),
            "DELETE" => self.handle_delete(&path, &request),
            "MKCALENDAR" => self.mkcalendar(&path, root.as_ref()),
            "PROPPATCH" => self.proppatch(&path, root.as_ref()),
            _ => respond(StatusCode::METHOD_NOT_ALLOWED, ""),
        }
    }

    fn split(&self, path: &str) -> Option<(String, String)> {
        let (dir, name) = path.rsplit_once('/')?;
        let calendar = format!("{dir}/");
        (self.collections.contains_key(&calendar) && !name.is_empty())
            .then(|| (calendar, name.to_owned()))
    }

    fn sync_token(&self, collection: &Collection) -> String {
        format!(
            "{SYNC_PREFIX}{}-{}",
            collection.token_floor, collection.changed
        )
    }

    fn collection_props(&self, path: &str, wanted: &[QName]) -> String {
        let Some(collection) = self.collections.get(path) else {
            return String::new();
        };
        let mut found = String::new();
        let mut missing = String::new();
        for name in wanted {
            let value = match (name.namespace(), name.local()) {
                ("DAV:", "resourcetype") => {
                    Some("<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>".to_owned())
                }
                ("DAV:", "displayname") => Some(format!(
                    "<D:displayname>{}</D:displayname>",
                    escape(&collection.displayname)
                )),
                ("DAV:", "sync-token") if self.quirks.sync_collection => Some(format!(
                    "<D:sync-token>{}</D:sync-token>",
                    self.sync_token(collection)
                )),
                ("http://calendarserver.org/ns/", "getctag") if self.quirks.ctag => {
                    Some(format!("<CS:getctag>c{}</CS:getctag>", collection.changed))
                }
                ("urn:ietf:params:xml:ns:caldav", "supported-calendar-component-set") => {
                    let comps: String = collection
                        .components
                        .iter()
                        .map(|c| format!("<C:comp name=\"{c}\"/>"))
                        .collect();
                    Some(format!(
                        "<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
                    ))
                }
                _ => collection.properties.get(name).map(|v| {
                    format!(
                        "<X:{local} xmlns:X=\"{ns}\">{}</X:{local}>",
                        escape(v),
                        local = name.local(),
                        ns = name.namespace()
                    )
                }),
            };
            match value {
                Some(v) => found.push_str(&v),
                None => missing.push_str(&format!(
                    "<X:{local} xmlns:X=\"{ns}\"/>",
                    local = name.local(),
                    ns = name.namespace()
                )),
            }
        }
        let mut out = format!("<D:response><D:href>{}</D:href>", self.href(path));
        out.push_str(&propstat(&found, "200 OK"));
        if !missing.is_empty() {
            out.push_str(&propstat(&missing, "404 Not Found"));
        }
        out.push_str("</D:response>");
        out
    }

    fn object_response(&self, path: &str, object: &Object, wanted: &[QName]) -> String {
        let mut found = String::new();
        for name in wanted {
            match (name.namespace(), name.local()) {
                ("DAV:", "getetag") => {
                    found.push_str(&format!("<D:getetag>{}</D:getetag>", escape(&object.etag)));
                }
                ("DAV:", "getcontenttype") => found
                    .push_str("<D:getcontenttype>text/calendar; charset=utf-8</D:getcontenttype>"),
                ("DAV:", "resourcetype") => found.push_str("<D:resourcetype/>"),
                ("urn:ietf:params:xml:ns:caldav", "calendar-data") => found.push_str(&format!(
                    "<C:calendar-data>{}</C:calendar-data>",
                    escape(&object.data)
                )),
                _ => {}
            }
        }
        format!(
            "<D:response><D:href>{}</D:href>{}</D:response>",
            self.href(path),
            propstat(&found, "200 OK")
        )
    }

    fn multistatus(inner: &str, token: Option<&str>) -> Response<Bytes> {
        let token = token
            .map(|t| format!("<D:sync-token>{}</D:sync-token>", escape(t)))
            .unwrap_or_default();
        respond(
            StatusCode::MULTI_STATUS,
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\" \
                 xmlns:C=\"urn:ietf:params:xml:ns:caldav\" xmlns:CS=\"http://calendarserver.org/ns/\">\
                 {inner}{token}</D:multistatus>"
            ),
        )
    }

    fn propfind(&self, path: &str, root: Option<&Element>, depth_one: bool) -> Response<Bytes> {
        let wanted: Vec<QName> = root
            .and_then(|r| r.child(&QName::DAV_PROP))
            .map(|p| p.elements().map(|e| e.name.clone()).collect())
            .unwrap_or_default();
        if path == self.principal {
            let mut props = String::new();
            for name in &wanted {
                match name.local() {
                    "current-user-principal" | "principal-URL" => props.push_str(&format!(
                        "<D:{l}><D:href>{}</D:href></D:{l}>",
                        self.href(&self.principal),
                        l = name.local()
                    )),
                    "calendar-home-set" => props.push_str(&format!(
                        "<C:calendar-home-set><D:href>{}</D:href></C:calendar-home-set>",
                        self.href(&self.home)
                    )),
                    "displayname" => props.push_str("<D:displayname>alice</D:displayname>"),
                    "resourcetype" => {
                        props.push_str("<D:resourcetype><D:principal/></D:resourcetype>");
                    }
                    _ => {}
                }
            }
            let inner = format!(
                "<D:response><D:href>{}</D:href>{}</D:response>",
                self.href(path),
                propstat(&props, "200 OK")
            );
            return Self::multistatus(&inner, None);
        }
        if path == self.home || path == "/" {
            let mut inner = format!(
                "<D:response><D:href>{}</D:href>{}</D:response>",
                self.href(path),
                propstat(
                    &format!(
                        "<D:resourcetype><D:collection/></D:resourcetype>\
                         <D:current-user-principal><D:href>{}</D:href></D:current-user-principal>",
                        self.href(&self.principal)
                    ),
                    "200 OK"
                )
            );
            if depth_one && path == self.home {
                for calendar in self.collections.keys() {
                    inner.push_str(&self.collection_props(calendar, &wanted));
                }
            }
            return Self::multistatus(&inner, None);
        }
        if let Some(collection) = self.collections.get(path) {
            let mut inner = self.collection_props(path, &wanted);
            if depth_one {
                for (name, object) in &collection.items {
                    inner.push_str(&self.object_response(
                        &format!("{path}{name}"),
                        object,
                        &wanted,
                    ));
                }
            }
            return Self::multistatus(&inner, None);
        }
        if let Some((calendar, name)) = self.split(path)
            && let Some(object) = self
                .collections
                .get(&calendar)
                .and_then(|c| c.items.get(&name))
        {
            return Self::multistatus(&self.object_response(path, object, &wanted), None);
        }
        respond(StatusCode::NOT_FOUND, "")
    }

    fn sync_collection(&self, path: &str, root: &Element) -> Response<Bytes> {
        if !self.quirks.sync_collection {
            return dav_error(StatusCode::FORBIDDEN, "D:supported-report");
        }
        let Some(collection) = self.collections.get(path) else {
            return respond(StatusCode::NOT_FOUND, "");
        };
        let token = root
            .child(&QName::DAV_SYNC_TOKEN)
            .map(|t| t.text().trim().to_owned())
            .unwrap_or_default();
        let invalid = || {
            dav_error(
                StatusCode::from_u16(self.quirks.invalid_token_status)
                    .unwrap_or(StatusCode::FORBIDDEN),
                "D:valid-sync-token",
            )
        };
        let since = if token.is_empty() {
            if self.quirks.reject_empty_token {
                return invalid();
            }
            None
        } else {
            match token
                .strip_prefix(SYNC_PREFIX)
                .and_then(|r| r.split_once('-'))
                .and_then(|(e, r)| Some((e.parse::<u64>().ok()?, r.parse::<u64>().ok()?)))
            {
                Some((epoch, rev)) if epoch == collection.token_floor && rev <= self.revision => {
                    Some(rev)
                }
                _ => return invalid(),
            }
        };
        let wanted: Vec<QName> = root
            .child(&QName::DAV_PROP)
            .map(|p| p.elements().map(|e| e.name.clone()).collect())
            .unwrap_or_default();
        // Changes in revision order: (revision, name, present).
        let mut changes: Vec<(u64, &String, Option<&Object>)> = collection
            .items
            .iter()
            .filter(|(_, o)| since.is_none_or(|s| o.revision > s))
            .map(|(n, o)| (o.revision, n, Some(o)))
            .collect();
        if since.is_some() || self.quirks.initial_tombstones {
            changes.extend(
                collection
                    .tombstones
                    .iter()
                    .filter(|(_, r)| since.is_none_or(|s| **r > s))
                    .map(|(n, r)| (*r, n, None)),
            );
        }
        changes.sort_by_key(|c| (c.0, c.1.clone()));
        let mut inner = String::new();
        let mut new_token = self.sync_token(collection);
        if let Some(page) = self.quirks.sync_page_size
            && changes.len() > page.max(1)
        {
            changes.truncate(page.max(1));
            let last = changes.last().map_or(0, |c| c.0);
            new_token = format!("{SYNC_PREFIX}{}-{last}", collection.token_floor);
            inner.push_str(&format!(
                    "<D:response><D:href>{}</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status>\
                     <D:error><D:number-of-matches-within-limits/></D:error></D:response>",
                    self.href(path)
                ));
        }
        for (_, name, object) in changes {
            let member = format!("{path}{name}");
            match object {
                Some(object) => inner.push_str(&self.object_response(&member, object, &wanted)),
                None => inner.push_str(&format!(
                    "<D:response><D:href>{}</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>",
                    self.href(&member)
                )),
            }
        }
        Self::multistatus(&inner, Some(&new_token))
    }

    fn multiget(&mut self, path: &str, root: &Element) -> Response<Bytes> {
        if !self.quirks.multiget {
            return dav_error(StatusCode::FORBIDDEN, "D:supported-report");
        }
        let wanted: Vec<QName> = root
            .child(&QName::DAV_PROP)
            .map(|p| p.elements().map(|e| e.name.clone()).collect())
            .unwrap_or_default();
        let mut hrefs: Vec<String> = root
            .children_named(&QName::DAV_HREF)
            .map(|h| decode_path(h.text().trim()))
            .collect();
        if self.quirks.multiget_drop_last > 0 {
            self.quirks.multiget_drop_last -= 1;
            hrefs.pop();
        }
        let mut inner = String::new();
        for href in hrefs {
            let object = self
                .split(&href)
                .and_then(|(c, n)| self.collections.get(&c).and_then(|c| c.items.get(&n)));
            match object {
                Some(object) => {
                    let response = self.object_response(&href, object, &wanted);
                    if self.quirks.duplicate_responses {
                        inner.push_str(&response);
                    }
                    inner.push_str(&response);
                }
                None if self.quirks.multiget_404_whole => {
                    return respond(StatusCode::NOT_FOUND, "");
                }
                None if self.quirks.multiget_omit_missing => {}
                None => inner.push_str(&format!(
                    "<D:response><D:href>{}</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>",
                    self.href(&href)
                )),
            }
        }
        let _ = path;
        Self::multistatus(&inner, None)
    }

    fn get(&self, path: &str) -> Response<Bytes> {
        let Some((calendar, name)) = self.split(path) else {
            return respond(StatusCode::NOT_FOUND, "");
        };
        match self
            .collections
            .get(&calendar)
            .and_then(|c| c.items.get(&name))
        {
            Some(object) => {
                let mut response = respond(StatusCode::OK, object.data.clone());
                if let Ok(etag) = http::HeaderValue::from_str(&object.etag) {
                    response.headers_mut().insert(http::header::ETAG, etag);
                }
                response
            }
            None => respond(StatusCode::NOT_FOUND, ""),
        }
    }

    fn handle_put(&mut self, path: &str, request: &Request<Bytes>) -> Response<Bytes> {
        let Some((calendar, name)) = self.split(path) else {
            return respond(StatusCode::CONFLICT, "");
        };
        let Ok(data) = std::str::from_utf8(request.body()) else {
            return dav_error(StatusCode::FORBIDDEN, "C:valid-calendar-data");
        };
        if !data.contains("BEGIN:VCALENDAR") {
            return dav_error(StatusCode::FORBIDDEN, "C:valid-calendar-data");
        }
        let existing = self
            .collections
            .get(&calendar)
            .and_then(|c| c.items.get(&name))
            .cloned();
        let uid = uid_of(data);
        if let Some(uid) = &uid {
            let clash = self.collections.get(&calendar).is_some_and(|c| {
                c.items
                    .iter()
                    .any(|(n, o)| *n != name && uid_of(&o.data).as_ref() == Some(uid))
            });
            if clash {
                return dav_error(StatusCode::CONFLICT, "C:no-uid-conflict");
            }
        }
        let headers = request.headers();
        if self.quirks.if_none_match
            && headers.get(http::header::IF_NONE_MATCH).is_some()
            && existing.is_some()
        {
            return respond(StatusCode::PRECONDITION_FAILED, "");
        }
        if let Some(want) = headers.get(http::header::IF_MATCH)
            && existing
                .as_ref()
                .is_none_or(|o| o.etag.as_bytes() != want.as_bytes())
        {
            return respond(StatusCode::PRECONDITION_FAILED, "");
        }
        let Some(etag) = self.put(&calendar, &name, data) else {
            return respond(StatusCode::CONFLICT, "");
        };
        let status = if existing.is_some() {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::CREATED
        };
        let mut response = respond(status, "");
        if self.quirks.put_etag
            && let Ok(etag) = http::HeaderValue::from_str(&etag)
        {
            response.headers_mut().insert(http::header::ETAG, etag);
        }
        response
    }

    fn handle_delete(&mut self, path: &str, request: &Request<Bytes>) -> Response<Bytes> {
        if path != self.home && self.collections.remove(path).is_some() {
            // A calendar and its members (RFC 4918 §9.6.1).
            self.bump();
            return respond(StatusCode::NO_CONTENT, "");
        }
        let Some((calendar, name)) = self.split(path) else {
            return respond(StatusCode::NOT_FOUND, "");
        };
        let existing = self
            .collections
            .get(&calendar)
            .and_then(|c| c.items.get(&name))
            .cloned();
        let Some(existing) = existing else {
            return respond(StatusCode::NOT_FOUND, "");
        };
        if let Some(want) = request.headers().get(http::header::IF_MATCH)
            && existing.etag.as_bytes() != want.as_bytes()
        {
            return respond(StatusCode::PRECONDITION_FAILED, "");
        }
        self.delete(&calendar, &name);
        respond(StatusCode::NO_CONTENT, "")
    }

    fn set_props(&mut self, path: &str, set: Option<&Element>) -> Vec<QName> {
        let mut names = Vec::new();
        let Some(collection) = self.collections.get_mut(path) else {
            return names;
        };
        let Some(prop) = set.and_then(|s| s.child(&QName::DAV_PROP)) else {
            return names;
        };
        for element in prop.elements() {
            names.push(element.name.clone());
            if element.name == QName::DAV_DISPLAYNAME {
                collection.displayname = element.text().into_owned();
            } else if element.name == QName::caldav("supported-calendar-component-set") {
                collection.components = element
                    .elements()
                    .filter_map(|c| c.attribute(&QName::new("", "name")).map(str::to_owned))
                    .collect();
            } else {
                collection
                    .properties
                    .insert(element.name.clone(), element.text().into_owned());
            }
        }
        names
    }

    fn mkcalendar(&mut self, path: &str, root: Option<&Element>) -> Response<Bytes> {
        if self.collections.contains_key(path) || !path.starts_with(&self.home) {
            return dav_error(StatusCode::FORBIDDEN, "D:resource-must-be-null");
        }
        self.add_calendar(path, "");
        self.set_props(path, root.and_then(|r| r.child(&QName::DAV_SET)));
        respond(StatusCode::CREATED, "")
    }

    fn proppatch(&mut self, path: &str, root: Option<&Element>) -> Response<Bytes> {
        if !self.collections.contains_key(path) {
            return respond(StatusCode::NOT_FOUND, "");
        }
        let mut names = Vec::new();
        if let Some(root) = root {
            for set in root.children_named(&QName::DAV_SET) {
                names.extend(self.set_props(path, Some(set)));
            }
            for remove in root.children_named(&QName::DAV_REMOVE) {
                if let Some(prop) = remove.child(&QName::DAV_PROP) {
                    for element in prop.elements() {
                        names.push(element.name.clone());
                        if let Some(c) = self.collections.get_mut(path) {
                            c.properties.remove(&element.name);
                        }
                    }
                }
            }
        }
        let props: String = names
            .iter()
            .map(|n| {
                format!(
                    "<X:{l} xmlns:X=\"{ns}\"/>",
                    l = n.local(),
                    ns = n.namespace()
                )
            })
            .collect();
        let inner = format!(
            "<D:response><D:href>{}</D:href>{}</D:response>",
            self.href(path),
            propstat(&props, "200 OK")
        );
        Self::multistatus(&inner, None)
    }

    /// Names of every calendar.
    #[must_use]
    pub fn calendars(&self) -> BTreeSet<String> {
        self.collections.keys().cloned().collect()
    }
}

/// The characters a path keeps unencoded in this server's hrefs.
const PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

fn uid_of(data: &str) -> Option<String> {
    data.lines()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix("UID:"))
        .map(str::to_owned)
}
