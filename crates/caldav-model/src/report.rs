//! Request bodies a CalDAV client sends: the reports calendar-query (RFC 4791 §7.8),
//! calendar-multiget (§7.9), free-busy-query (§7.10), sync-collection (RFC 6578 §3.2),
//! expand-property (RFC 3253 §3.8) and principal-property-search (RFC 3744 §9.4), and
//! PROPPATCH and MKCALENDAR bodies from typed properties (RFC 4918 §9.2, RFC 4791 §5.3.1).
//! PROPFIND bodies are [`dav_xml::request::PropFind`].
//!
//! Every report builder has `to_element` (a `dav-xml` tree) and `encode` (the document, with
//! namespace prefixes `dav-xml` allocates), so no body here depends on a prefix.
//!
//! ```text
//! <!ELEMENT calendar-query ((DAV:allprop | DAV:propname | DAV:prop)?, filter, timezone?)>
//! <!ELEMENT calendar-data (comp?, (expand | limit-recurrence-set)?, limit-freebusy-set?)>
//! <!ELEMENT calendar-multiget ((DAV:allprop | DAV:propname | DAV:prop)?, DAV:href+)>
//! <!ELEMENT free-busy-query (time-range)>
//! <!ELEMENT sync-collection (sync-token, sync-level, limit?, prop)>
//! ```
//!
//! # Example
//!
//! ```
//! use caldav_model::filter::{CompFilter, Filter, TimeRange, parse_utc};
//! use caldav_model::property::names;
//! use caldav_model::report::{CalendarQuery, PropRequest};
//!
//! let range = TimeRange::new(parse_utc("20170919T010101Z"), parse_utc("20171010T010101Z")).unwrap();
//! let query = CalendarQuery::new(Filter::component(CompFilter::new("VEVENT").time_range(range)))
//!     .props(PropRequest::names([names::GETETAG, names::GETCONTENTTYPE]));
//! let body = query.to_element();
//! assert_eq!(body.name.local(), "calendar-query");
//! ```

use dav_xml::name::{CALDAV, DAV};
use dav_xml::request::{MkCalendar, PropertyOperation, PropertyUpdate};
use dav_xml::{Element, Href, QName};

use crate::Error;
use crate::filter::{
    Collation, CompFilter, Filter, ParamFilter, PropFilter, PropTest, TextMatch, TimeRange,
    format_utc, parse_utc,
};
use crate::property::{Property, SyncToken};

const fn dav(local: &'static str) -> QName {
    QName::from_static(DAV, local)
}

const fn cal(local: &'static str) -> QName {
    QName::from_static(CALDAV, local)
}

const fn attr(local: &'static str) -> QName {
    QName::from_static("", local)
}

/// What a report asks for about each resource (RFC 4918 §14.20, RFC 4791 §9.5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropRequest {
    /// `DAV:prop` with these items.
    Prop(Vec<PropItem>),
    /// `DAV:allprop`.
    AllProp,
    /// `DAV:propname`.
    PropName,
}

impl PropRequest {
    /// `DAV:prop` listing plain property names.
    #[must_use]
    pub fn names(names: impl IntoIterator<Item = QName>) -> Self {
        PropRequest::Prop(names.into_iter().map(PropItem::Name).collect())
    }

    fn to_element(&self) -> Element {
        match self {
            PropRequest::Prop(items) => items.iter().fold(Element::new(dav("prop")), |e, item| {
                e.with_child(item.to_element())
            }),
            PropRequest::AllProp => Element::new(dav("allprop")),
            PropRequest::PropName => Element::new(dav("propname")),
        }
    }
}

/// One item of a `DAV:prop` request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropItem {
    /// A property by name.
    Name(QName),
    /// `CALDAV:calendar-data` with its sub-options (RFC 4791 §9.6).
    CalendarData(CalendarData),
}

impl PropItem {
    fn to_element(&self) -> Element {
        match self {
            PropItem::Name(name) => Element::new(name.clone()),
            PropItem::CalendarData(data) => data.to_element(),
        }
    }
}

impl From<QName> for PropItem {
    fn from(name: QName) -> Self {
        PropItem::Name(name)
    }
}

impl From<CalendarData> for PropItem {
    fn from(data: CalendarData) -> Self {
        PropItem::CalendarData(data)
    }
}

/// `CALDAV:calendar-data` in a request: which parts of each object to return (RFC 4791 §9.6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CalendarData {
    /// `CALDAV:comp`: the components and properties to return; `None` returns everything.
    pub comp: Option<CompRequest>,
    /// `CALDAV:expand` or `CALDAV:limit-recurrence-set`.
    pub recurrence: Option<RecurrenceLimit>,
    /// `CALDAV:limit-freebusy-set`.
    pub limit_freebusy_set: Option<TimeRange>,
    /// The `content-type` attribute (e.g. `application/calendar+json`, RFC 7265), if not the
    /// default `text/calendar`.
    pub content_type: Option<String>,
    /// The `version` attribute, if not the default `2.0`.
    pub version: Option<String>,
}

/// `CALDAV:expand` or `CALDAV:limit-recurrence-set` (RFC 4791 §9.6.5, §9.6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecurrenceLimit {
    /// Expand recurring components into instances overlapping the range.
    Expand(TimeRange),
    /// Return the master and only the overrides that affect the range.
    LimitRecurrenceSet(TimeRange),
}

/// `CALDAV:comp` in calendar-data (RFC 4791 §9.6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompRequest {
    /// The component name, e.g. `VCALENDAR`.
    pub name: String,
    /// `None` for `CALDAV:allprop`, else the `CALDAV:prop` names (with `novalue`).
    pub props: Option<Vec<(String, bool)>>,
    /// `None` for `CALDAV:allcomp`, else the nested components.
    pub comps: Option<Vec<CompRequest>>,
}

impl CalendarData {
    /// `<calendar-data/>`: whole objects.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// With `CALDAV:expand`.
    #[must_use]
    pub fn expand(mut self, range: TimeRange) -> Self {
        self.recurrence = Some(RecurrenceLimit::Expand(range));
        self
    }

    /// With `CALDAV:limit-recurrence-set`.
    #[must_use]
    pub fn limit_recurrence_set(mut self, range: TimeRange) -> Self {
        self.recurrence = Some(RecurrenceLimit::LimitRecurrenceSet(range));
        self
    }

    /// With `CALDAV:limit-freebusy-set`.
    #[must_use]
    pub fn limit_freebusy_set(mut self, range: TimeRange) -> Self {
        self.limit_freebusy_set = Some(range);
        self
    }

    /// With a `CALDAV:comp` selection.
    #[must_use]
    pub fn comp(mut self, comp: CompRequest) -> Self {
        self.comp = Some(comp);
        self
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(cal("calendar-data"));
        if let Some(ct) = &self.content_type {
            e = e.with_attribute(attr("content-type"), ct.clone());
        }
        if let Some(v) = &self.version {
            e = e.with_attribute(attr("version"), v.clone());
        }
        if let Some(comp) = &self.comp {
            e = e.with_child(comp.to_element());
        }
        match self.recurrence {
            Some(RecurrenceLimit::Expand(r)) => e = e.with_child(range_element(cal("expand"), r)),
            Some(RecurrenceLimit::LimitRecurrenceSet(r)) => {
                e = e.with_child(range_element(cal("limit-recurrence-set"), r));
            }
            None => {}
        }
        if let Some(r) = self.limit_freebusy_set {
            e = e.with_child(range_element(cal("limit-freebusy-set"), r));
        }
        e
    }
}

impl CompRequest {
    /// A comp selection returning every property and sub-component of `name`.
    #[must_use]
    pub fn all(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            props: None,
            comps: None,
        }
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(cal("comp")).with_attribute(attr("name"), self.name.clone());
        match &self.props {
            None => e = e.with_child(Element::new(cal("allprop"))),
            Some(props) => {
                for (name, novalue) in props {
                    let mut p =
                        Element::new(cal("prop")).with_attribute(attr("name"), name.clone());
                    if *novalue {
                        p = p.with_attribute(attr("novalue"), "yes");
                    }
                    e = e.with_child(p);
                }
            }
        }
        match &self.comps {
            None => e = e.with_child(Element::new(cal("allcomp"))),
            Some(comps) => {
                for c in comps {
                    e = e.with_child(c.to_element());
                }
            }
        }
        e
    }
}

fn range_element(name: QName, range: TimeRange) -> Element {
    let mut e = Element::new(name);
    if let Some(s) = range.start() {
        e = e.with_attribute(attr("start"), format_utc(s));
    }
    if let Some(end) = range.end() {
        e = e.with_attribute(attr("end"), format_utc(end));
    }
    e
}

/// A PROPPATCH body (RFC 4918 §9.2) from typed properties: one `DAV:set` with every property
/// of `set`, then one `DAV:remove` with every name of `remove` (either left out when empty).
/// PROPFIND bodies need nothing typed: use [`dav_xml::request::PropFind`] with the constants
/// of [`names`](crate::property::names).
///
/// # Example
///
/// ```
/// use caldav_model::property::{names, Property, Value};
/// use caldav_model::report::property_update;
/// let body = property_update(&[Property::new(names::CALENDAR_ORDER, Value::Order(1))], &[]);
/// assert!(body.encode().contains(">1</"));
/// ```
#[must_use]
pub fn property_update(set: &[Property], remove: &[QName]) -> PropertyUpdate {
    let mut operations = Vec::new();
    if !set.is_empty() {
        operations.push(PropertyOperation::Set(
            set.iter().map(Property::encode).collect(),
        ));
    }
    if !remove.is_empty() {
        operations.push(PropertyOperation::Remove(remove.to_vec()));
    }
    PropertyUpdate::new(operations)
}

/// A MKCALENDAR body (RFC 4791 §5.3.1) from typed properties (displayname,
/// supported-calendar-component-set, calendar-timezone, ...).
#[must_use]
pub fn mkcalendar(set: &[Property]) -> MkCalendar {
    MkCalendar::new(set.iter().map(Property::encode).collect())
}

/// A `CALDAV:calendar-query` REPORT body (RFC 4791 §7.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarQuery {
    /// What to return for each match; `None` sends no prop element.
    pub props: Option<PropRequest>,
    /// The filter.
    pub filter: Filter,
    /// `CALDAV:timezone`: a VCALENDAR with one VTIMEZONE for floating times.
    pub timezone: Option<String>,
}

impl CalendarQuery {
    /// A query with `filter`, asking for nothing else yet.
    #[must_use]
    pub fn new(filter: Filter) -> Self {
        Self {
            props: None,
            filter,
            timezone: None,
        }
    }

    /// Sets what to return.
    #[must_use]
    pub fn props(mut self, props: PropRequest) -> Self {
        self.props = Some(props);
        self
    }

    /// The `CALDAV:calendar-query` element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(cal("calendar-query"));
        if let Some(p) = &self.props {
            e = e.with_child(p.to_element());
        }
        e = e.with_child(Element::new(cal("filter")).with_child(comp_filter(&self.filter.root)));
        if let Some(tz) = &self.timezone {
            e = e.with_child(Element::new(cal("timezone")).with_text(tz.clone()));
        }
        e
    }
}

fn comp_filter(f: &CompFilter) -> Element {
    let mut e = Element::new(cal("comp-filter")).with_attribute(attr("name"), f.name.clone());
    if f.is_not_defined {
        return e.with_child(Element::new(cal("is-not-defined")));
    }
    if let Some(r) = f.time_range {
        e = e.with_child(range_element(cal("time-range"), r));
    }
    for p in &f.props {
        e = e.with_child(prop_filter(p));
    }
    for c in &f.comps {
        e = e.with_child(comp_filter(c));
    }
    e
}

fn prop_filter(f: &PropFilter) -> Element {
    let mut e = Element::new(cal("prop-filter")).with_attribute(attr("name"), f.name.clone());
    match &f.test {
        PropTest::IsNotDefined => return e.with_child(Element::new(cal("is-not-defined"))),
        PropTest::Defined => {}
        PropTest::TimeRange(r) => e = e.with_child(range_element(cal("time-range"), *r)),
        PropTest::TextMatch(t) => e = e.with_child(text_match(t)),
    }
    for p in &f.params {
        e = e.with_child(param_filter(p));
    }
    e
}

fn param_filter(f: &ParamFilter) -> Element {
    let e = Element::new(cal("param-filter")).with_attribute(attr("name"), f.name.clone());
    if f.is_not_defined {
        return e.with_child(Element::new(cal("is-not-defined")));
    }
    match &f.text_match {
        Some(t) => e.with_child(text_match(t)),
        None => e,
    }
}

fn text_match(t: &TextMatch) -> Element {
    let mut e = Element::new(cal("text-match"));
    if t.collation != crate::filter::Collation::default() {
        e = e.with_attribute(attr("collation"), t.collation.as_str());
    }
    if t.negate {
        e = e.with_attribute(attr("negate-condition"), "yes");
    }
    e.with_text(t.text.clone())
}

/// A `CALDAV:calendar-multiget` REPORT body (RFC 4791 §7.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarMultiget {
    /// What to return for each href.
    pub props: PropRequest,
    /// The objects to fetch (path-absolute, QUIRKS.md #3).
    pub hrefs: Vec<Href>,
}

impl CalendarMultiget {
    /// A multiget of `hrefs` returning `props`.
    #[must_use]
    pub fn new(props: PropRequest, hrefs: impl IntoIterator<Item = Href>) -> Self {
        Self {
            props,
            hrefs: hrefs.into_iter().collect(),
        }
    }

    /// The `CALDAV:calendar-multiget` element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        self.hrefs.iter().fold(
            Element::new(cal("calendar-multiget")).with_child(self.props.to_element()),
            |e, h| e.with_child(Element::new(dav("href")).with_text(h.as_str())),
        )
    }
}

/// `CALDAV:free-busy-query` (RFC 4791 §7.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeBusyQuery {
    /// The range to report on.
    pub range: TimeRange,
}

impl FreeBusyQuery {
    /// The `CALDAV:free-busy-query` element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        Element::new(cal("free-busy-query"))
            .with_child(range_element(cal("time-range"), self.range))
    }
}

/// `DAV:sync-level` (RFC 6578 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncLevel {
    /// `1`: direct members only (what CalDAV calendars use).
    #[default]
    One,
    /// `infinite`.
    Infinite,
}

/// A `DAV:sync-collection` REPORT body (RFC 6578 §3.2).
///
/// # Example
///
/// ```
/// use caldav_model::property::names;
/// use caldav_model::report::{PropRequest, SyncCollection};
/// let initial = SyncCollection::new(None, PropRequest::names([names::GETETAG]));
/// let body = initial.to_element();
/// // An initial sync sends an empty sync-token element (RFC 6578 §3.4).
/// assert_eq!(body.elements().next().unwrap().text(), "");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCollection {
    /// The token from the last sync; `None` for an initial sync.
    pub token: Option<SyncToken>,
    /// The depth.
    pub level: SyncLevel,
    /// `DAV:limit/DAV:nresults` (RFC 5323 §5.17), if any.
    pub limit: Option<u32>,
    /// What to return for changed members.
    pub props: PropRequest,
}

impl SyncCollection {
    /// A sync from `token` (or an initial one) at level 1, with no limit.
    #[must_use]
    pub fn new(token: Option<SyncToken>, props: PropRequest) -> Self {
        Self {
            token,
            level: SyncLevel::One,
            limit: None,
            props,
        }
    }

    /// The `DAV:sync-collection` element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let token = Element::new(dav("sync-token"));
        let token = match &self.token {
            Some(t) => token.with_text(t.0.clone()),
            None => token,
        };
        let level = Element::new(dav("sync-level")).with_text(match self.level {
            SyncLevel::One => "1",
            SyncLevel::Infinite => "infinite",
        });
        let mut e = Element::new(dav("sync-collection"))
            .with_child(token)
            .with_child(level);
        if let Some(n) = self.limit {
            e = e.with_child(
                Element::new(dav("limit"))
                    .with_child(Element::new(dav("nresults")).with_text(n.to_string())),
            );
        }
        e.with_child(self.props.to_element())
    }
}

/// One `DAV:property` of an expand-property report (RFC 3253 §3.8): a property to return,
/// and for href-valued ones, what to fetch from the resources they name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandItem {
    /// The property.
    pub name: QName,
    /// Properties of the referenced resources.
    pub children: Vec<ExpandItem>,
}

impl ExpandItem {
    /// A property without expansion.
    #[must_use]
    pub fn new(name: QName) -> Self {
        Self {
            name,
            children: Vec::new(),
        }
    }

    /// Adds a property to fetch from the referenced resources.
    #[must_use]
    pub fn child(mut self, child: ExpandItem) -> Self {
        self.children.push(child);
        self
    }

    fn to_element(&self) -> Element {
        let mut e = Element::new(dav("property"))
            .with_attribute(attr("name"), self.name.local().to_owned());
        if self.name.namespace() != DAV {
            e = e.with_attribute(attr("namespace"), self.name.namespace().to_owned());
        }
        self.children
            .iter()
            .fold(e, |e, c| e.with_child(c.to_element()))
    }
}

/// A `DAV:expand-property` REPORT body (RFC 3253 §3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandProperty {
    /// The properties to return and expand.
    pub items: Vec<ExpandItem>,
}

impl ExpandProperty {
    /// The `DAV:expand-property` element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        self.items
            .iter()
            .fold(Element::new(dav("expand-property")), |e, i| {
                e.with_child(i.to_element())
            })
    }
}

/// A `DAV:principal-property-search` REPORT body (RFC 3744 §9.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalPropertySearch {
    /// `(properties, text)` pairs: each `DAV:property-search` matches when one of the
    /// properties contains the text.
    pub searches: Vec<(Vec<QName>, String)>,
    /// `test="anyof"` instead of the default all-of.
    pub any_of: bool,
    /// What to return for each principal.
    pub props: Vec<QName>,
    /// `DAV:apply-to-principal-collection-set`.
    pub apply_to_principal_collection_set: bool,
}

impl PrincipalPropertySearch {
    /// The `DAV:principal-property-search` element.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(dav("principal-property-search"));
        if self.any_of {
            e = e.with_attribute(attr("test"), "anyof");
        }
        for (props, text) in &self.searches {
            let prop = props.iter().fold(Element::new(dav("prop")), |p, n| {
                p.with_child(Element::new(n.clone()))
            });
            e = e.with_child(
                Element::new(dav("property-search"))
                    .with_child(prop)
                    .with_child(Element::new(dav("match")).with_text(text.clone())),
            );
        }
        e = e.with_child(PropRequest::names(self.props.iter().cloned()).to_element());
        if self.apply_to_principal_collection_set {
            e = e.with_child(Element::new(dav("apply-to-principal-collection-set")));
        }
        e
    }
}

macro_rules! encodable {
    ($($ty:ident),*) => {
        $(
            impl $ty {
                /// The body as an XML document, namespaces declared once on the root.
                #[must_use]
                pub fn encode(&self) -> String {
                    self.to_element().encode()
                }
            }
        )*
    };
}

encodable!(
    CalendarQuery,
    CalendarMultiget,
    FreeBusyQuery,
    SyncCollection,
    ExpandProperty,
    PrincipalPropertySearch
);

// What a server reads: the same bodies, decoded.

fn invalid(element: &QName, reason: &'static str) -> Error {
    Error::InvalidRequest {
        element: element.to_string(),
        reason,
    }
}

fn name_attr(e: &Element) -> Result<String, Error> {
    e.attribute(&attr("name"))
        .map(str::to_owned)
        .ok_or_else(|| invalid(&e.name, "missing name attribute"))
}

fn decode_range(e: &Element) -> Result<TimeRange, Error> {
    let at = |local: &'static str| -> Result<Option<jiff::Timestamp>, Error> {
        e.attribute(&attr(local))
            .map(|v| parse_utc(v.trim()).ok_or_else(|| invalid(&e.name, "not a utc date-time")))
            .transpose()
    };
    TimeRange::new(at("start")?, at("end")?).ok_or_else(|| invalid(&e.name, "empty time range"))
}

fn decode_text_match(e: &Element) -> Result<TextMatch, Error> {
    let negate = match e.attribute(&attr("negate-condition")).map(str::trim) {
        None | Some("no") => false,
        Some("yes") => true,
        Some(_) => return Err(invalid(&e.name, "negate-condition is not yes or no")),
    };
    Ok(TextMatch {
        text: e.text().into_owned(),
        collation: e
            .attribute(&attr("collation"))
            .map_or_else(Collation::default, Collation::from_name),
        negate,
    })
}

fn decode_param_filter(e: &Element) -> Result<ParamFilter, Error> {
    let mut f = ParamFilter::new(name_attr(e)?);
    if e.child(&cal("is-not-defined")).is_some() {
        f.is_not_defined = true;
    } else if let Some(t) = e.child(&cal("text-match")) {
        f.text_match = Some(decode_text_match(t)?);
    }
    Ok(f)
}

fn decode_prop_filter(e: &Element) -> Result<PropFilter, Error> {
    let mut f = PropFilter::new(name_attr(e)?);
    if e.child(&cal("is-not-defined")).is_some() {
        f.test = PropTest::IsNotDefined;
        return Ok(f);
    }
    if let Some(r) = e.child(&cal("time-range")) {
        f.test = PropTest::TimeRange(decode_range(r)?);
    } else if let Some(t) = e.child(&cal("text-match")) {
        f.test = PropTest::TextMatch(decode_text_match(t)?);
    }
    f.params = e
        .children_named(&cal("param-filter"))
        .map(decode_param_filter)
        .collect::<Result<_, _>>()?;
    Ok(f)
}

fn decode_comp_filter(e: &Element) -> Result<CompFilter, Error> {
    let mut f = CompFilter::new(name_attr(e)?);
    if e.child(&cal("is-not-defined")).is_some() {
        f.is_not_defined = true;
        return Ok(f);
    }
    f.time_range = e.child(&cal("time-range")).map(decode_range).transpose()?;
    f.props = e
        .children_named(&cal("prop-filter"))
        .map(decode_prop_filter)
        .collect::<Result<_, _>>()?;
    f.comps = e
        .children_named(&cal("comp-filter"))
        .map(decode_comp_filter)
        .collect::<Result<_, _>>()?;
    Ok(f)
}

fn decode_comp_request(e: &Element) -> Result<CompRequest, Error> {
    let props = if e.child(&cal("allprop")).is_some() {
        None
    } else {
        Some(
            e.children_named(&cal("prop"))
                .map(|p| {
                    Ok((
                        name_attr(p)?,
                        p.attribute(&attr("novalue")).map(str::trim) == Some("yes"),
                    ))
                })
                .collect::<Result<_, Error>>()?,
        )
    };
    let comps = if e.child(&cal("allcomp")).is_some() {
        None
    } else {
        Some(
            e.children_named(&cal("comp"))
                .map(decode_comp_request)
                .collect::<Result<_, _>>()?,
        )
    };
    Ok(CompRequest {
        name: name_attr(e)?,
        props,
        comps,
    })
}

fn decode_calendar_data(e: &Element) -> Result<CalendarData, Error> {
    let recurrence = if let Some(x) = e.child(&cal("expand")) {
        Some(RecurrenceLimit::Expand(decode_range(x)?))
    } else if let Some(x) = e.child(&cal("limit-recurrence-set")) {
        Some(RecurrenceLimit::LimitRecurrenceSet(decode_range(x)?))
    } else {
        None
    };
    Ok(CalendarData {
        comp: e.child(&cal("comp")).map(decode_comp_request).transpose()?,
        recurrence,
        limit_freebusy_set: e
            .child(&cal("limit-freebusy-set"))
            .map(decode_range)
            .transpose()?,
        content_type: e.attribute(&attr("content-type")).map(str::to_owned),
        version: e.attribute(&attr("version")).map(str::to_owned),
    })
}

impl PropRequest {
    /// Reads `DAV:prop`, `DAV:allprop` or `DAV:propname` from a report body.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] for a `calendar-data` whose ranges or names are malformed,
    /// or an element that is none of the three.
    pub fn from_element(e: &Element) -> Result<Self, Error> {
        if e.name == dav("allprop") {
            return Ok(PropRequest::AllProp);
        }
        if e.name == dav("propname") {
            return Ok(PropRequest::PropName);
        }
        if e.name != dav("prop") {
            return Err(invalid(&e.name, "expected prop, allprop or propname"));
        }
        e.elements()
            .map(|item| {
                if item.name == cal("calendar-data") {
                    decode_calendar_data(item).map(PropItem::CalendarData)
                } else {
                    Ok(PropItem::Name(item.name.clone()))
                }
            })
            .collect::<Result<_, _>>()
            .map(PropRequest::Prop)
    }
}

impl CalendarQuery {
    /// Reads a `CALDAV:calendar-query` body from its element tree.
    ///
    /// Unknown child elements are ignored, as RFC 4918 §17 asks of recipients.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when the root is not `calendar-query`, the filter is missing
    /// or does not start with a comp-filter, a name attribute is missing, a time range is not
    /// a valid UTC range, or `negate-condition` is neither `yes` nor `no`.
    ///
    /// # Example
    ///
    /// ```
    /// use caldav_model::filter::{CompFilter, Filter};
    /// use caldav_model::report::CalendarQuery;
    /// let query = CalendarQuery::new(Filter::component(CompFilter::new("VTODO")));
    /// let text = query.encode();
    /// assert_eq!(CalendarQuery::decode(text.as_bytes()).unwrap(), query);
    /// ```
    pub fn from_element(e: &Element) -> Result<Self, Error> {
        if e.name != cal("calendar-query") {
            return Err(invalid(&e.name, "expected calendar-query"));
        }
        let props = e
            .elements()
            .find(|c| c.name.namespace() == DAV)
            .map(PropRequest::from_element)
            .transpose()?;
        let root = e
            .child(&cal("filter"))
            .and_then(|f| f.child(&cal("comp-filter")))
            .ok_or_else(|| invalid(&e.name, "missing filter"))?;
        Ok(CalendarQuery {
            props,
            filter: Filter {
                root: decode_comp_filter(root)?,
            },
            timezone: e.child(&cal("timezone")).map(|t| t.text().into_owned()),
        })
    }

    /// Decodes a `CALDAV:calendar-query` body, with `dav-xml`'s default limits.
    ///
    /// # Errors
    ///
    /// [`Error::Xml`] for malformed XML or an exceeded limit, else as
    /// [`CalendarQuery::from_element`].
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        Self::from_element(&Element::decode(body)?)
    }
}

impl FreeBusyQuery {
    /// Reads a `CALDAV:free-busy-query` body.
    ///
    /// # Errors
    ///
    /// [`Error::Xml`] for malformed XML, [`Error::InvalidRequest`] without a valid
    /// `time-range`.
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let e = Element::decode(body)?;
        if e.name != cal("free-busy-query") {
            return Err(invalid(&e.name, "expected free-busy-query"));
        }
        let range = e
            .child(&cal("time-range"))
            .ok_or_else(|| invalid(&e.name, "missing time-range"))?;
        Ok(FreeBusyQuery {
            range: decode_range(range)?,
        })
    }
}
