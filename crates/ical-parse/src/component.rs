//! Components (RFC 5545 §3.4, §3.6; RFC 7953 §3): the tree of the model and its typed views.
//!
//! ```text
//! icalstream = 1*icalobject
//! icalobject = "BEGIN" ":" "VCALENDAR" CRLF icalbody "END" ":" "VCALENDAR" CRLF
//! component  = 1*(eventc / todoc / journalc / freebusyc / timezonec / iana-comp / x-comp)
//! ```
//!
//! [`Component`] is the generic form every component has (VPOLL, X- components and the rest
//! included); [`VCalendar`], [`VEvent`], [`VTodo`], [`VJournal`], [`VFreeBusy`],
//! [`VTimeZone`], [`TzRule`] (STANDARD/DAYLIGHT), [`VAlarm`], [`VAvailability`] and
//! [`Available`] are typed views over one.

use crate::error::{Error, ErrorKind};
use crate::property::{Property, uppercase};
use crate::recur::Recur;
use crate::value::{DateOrDateTime, Duration, Period, UtcOffset, ValueType, Zoned};
use std::borrow::Cow;

/// Whether `name` (uppercase) is a component of RFC 5545 §3.6 or RFC 7953 (as opposed to an
/// X- component or another IANA one such as VPOLL).
#[must_use]
pub fn is_registered_component(name: &str) -> bool {
    matches!(
        name,
        "VCALENDAR"
            | "VEVENT"
            | "VTODO"
            | "VJOURNAL"
            | "VFREEBUSY"
            | "VTIMEZONE"
            | "STANDARD"
            | "DAYLIGHT"
            | "VALARM"
            | "VAVAILABILITY"
            | "AVAILABLE"
    )
}

/// A component: name, properties in order, sub-components in order.
///
/// Equality compares names, properties and sub-components, not positions.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Component<'a> {
    /// The name, in uppercase (`VEVENT`, `X-FOO`).
    pub name: Cow<'a, str>,
    /// The properties (and raw lines, see [`Property::is_raw`]), in order.
    pub properties: Vec<Property<'a>>,
    /// The sub-components, in order.
    pub components: Vec<Component<'a>>,
    /// The 1-based line of its `BEGIN` (0 when built in code).
    pub line: u32,
}

impl PartialEq for Component<'_> {
    fn eq(&self, other: &Component<'_>) -> bool {
        self.name == other.name
            && self.properties == other.properties
            && self.components == other.components
    }
}

impl Eq for Component<'_> {}

impl<'a> Component<'a> {
    /// An empty component. The name is uppercased.
    #[must_use]
    pub fn new(name: impl Into<Cow<'a, str>>) -> Component<'a> {
        Component {
            name: uppercase(name.into()),
            properties: Vec::new(),
            components: Vec::new(),
            line: 0,
        }
    }

    /// Whether the name is `name` (case-insensitive).
    #[must_use]
    pub fn is(&self, name: &str) -> bool {
        // Parsed names are uppercase, and so are most names asked for: the exact comparison
        // answers those.
        self.name.as_bytes() == name.as_bytes() || self.name.eq_ignore_ascii_case(name)
    }

    /// The first property named `name` (case-insensitive).
    #[must_use]
    pub fn property(&self, name: &str) -> Option<&Property<'a>> {
        self.properties.iter().find(|p| p.is(name))
    }

    /// Every property named `name`, in order.
    pub fn properties_named<'c>(
        &'c self,
        name: &'c str,
    ) -> impl Iterator<Item = &'c Property<'a>> + 'c {
        self.properties.iter().filter(move |p| p.is(name))
    }

    /// The sub-components named `name`, in order.
    pub fn components_named<'c>(
        &'c self,
        name: &'c str,
    ) -> impl Iterator<Item = &'c Component<'a>> + 'c {
        self.components.iter().filter(move |c| c.is(name))
    }

    /// The unescaped TEXT of the first property named `name`.
    #[must_use]
    pub fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.property(name).map(Property::text)
    }

    /// Adds a property (builder style).
    #[must_use]
    pub fn with_property(mut self, property: Property<'a>) -> Component<'a> {
        self.properties.push(property);
        self
    }

    /// Adds a sub-component (builder style).
    #[must_use]
    pub fn with_component(mut self, component: Component<'a>) -> Component<'a> {
        self.components.push(component);
        self
    }

    /// The component with everything it borrows copied.
    #[must_use]
    pub fn into_owned(self) -> Component<'static> {
        Component {
            name: Cow::Owned(self.name.into_owned()),
            properties: self
                .properties
                .into_iter()
                .map(Property::into_owned)
                .collect(),
            components: self
                .components
                .into_iter()
                .map(Component::into_owned)
                .collect(),
            line: self.line,
        }
    }
}

/// A parsed iCalendar stream (§3.4): its top-level components, usually one VCALENDAR.
///
/// A lenient parse may also hold bare components (a VEVENT without VCALENDAR) and
/// `properties` found outside any component (raw lines included), written back first.
///
/// # Example
///
/// ```
/// let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\n\
///             UID:1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240102T090000Z\r\n\
///             SUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
/// let calendar = ical_parse::parse(text).unwrap();
/// let event = calendar.events().next().unwrap();
/// assert_eq!(event.summary().as_deref(), Some("Standup"));
/// assert_eq!(calendar.write(), text);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Calendar<'a> {
    /// The top-level components, in order.
    pub components: Vec<Component<'a>>,
    /// Properties and raw lines found outside any component (lenient parses only).
    pub properties: Vec<Property<'a>>,
}

impl<'a> Calendar<'a> {
    /// An empty stream.
    #[must_use]
    pub fn new() -> Calendar<'a> {
        Calendar::default()
    }

    /// The VCALENDAR objects.
    pub fn vcalendars(&self) -> impl Iterator<Item = VCalendar<'_, 'a>> {
        self.components
            .iter()
            .filter(|c| c.is("VCALENDAR"))
            .map(VCalendar)
    }

    /// Every component directly inside a VCALENDAR, and every bare top-level component.
    pub fn objects(&self) -> impl Iterator<Item = &Component<'a>> {
        self.components.iter().flat_map(|c| {
            let (inner, bare) = if c.is("VCALENDAR") {
                (c.components.as_slice(), None)
            } else {
                (&[][..], Some(c))
            };
            inner.iter().chain(bare)
        })
    }

    /// Every VEVENT (inside a VCALENDAR or bare).
    pub fn events(&self) -> impl Iterator<Item = VEvent<'_, 'a>> {
        self.objects().filter(|c| c.is("VEVENT")).map(VEvent)
    }

    /// Every VTODO.
    pub fn todos(&self) -> impl Iterator<Item = VTodo<'_, 'a>> {
        self.objects().filter(|c| c.is("VTODO")).map(VTodo)
    }

    /// Every VJOURNAL.
    pub fn journals(&self) -> impl Iterator<Item = VJournal<'_, 'a>> {
        self.objects().filter(|c| c.is("VJOURNAL")).map(VJournal)
    }

    /// Every VTIMEZONE.
    pub fn timezones(&self) -> impl Iterator<Item = VTimeZone<'_, 'a>> {
        self.objects().filter(|c| c.is("VTIMEZONE")).map(VTimeZone)
    }

    /// The stream with everything it borrows copied.
    #[must_use]
    pub fn into_owned(self) -> Calendar<'static> {
        Calendar {
            components: self
                .components
                .into_iter()
                .map(Component::into_owned)
                .collect(),
            properties: self
                .properties
                .into_iter()
                .map(Property::into_owned)
                .collect(),
        }
    }
}

/// A RDATE element: a date or date-time, or a period (§3.8.5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RDate<'a> {
    /// A DATE or DATE-TIME with its TZID.
    At(Zoned<'a>),
    /// A PERIOD with its TZID.
    Period {
        /// The period.
        period: Period,
        /// The TZID parameter.
        tzid: Option<&'a str>,
    },
}

macro_rules! view {
    ($(#[$doc:meta])* $view:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub struct $view<'c, 'a>(pub &'c Component<'a>);

        impl<'c, 'a> $view<'c, 'a> {
            /// The component name this view is for.
            pub const NAME: &'static str = $name;

            /// The view, if `component` has this view's name.
            #[must_use]
            pub fn new(component: &'c Component<'a>) -> Option<$view<'c, 'a>> {
                component.is($name).then_some($view(component))
            }

            /// The generic component.
            #[must_use]
            pub fn component(&self) -> &'c Component<'a> {
                self.0
            }
        }
    };
}

macro_rules! text_accessors {
    ($view:ident: $($(#[$doc:meta])* $fn:ident => $prop:literal),* $(,)?) => {
        impl<'c, 'a> $view<'c, 'a> {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $fn(&self) -> Option<Cow<'c, str>> {
                    self.0.property($prop).map(Property::text)
                }
            )*
        }
    };
}

macro_rules! time_accessors {
    ($view:ident: $($(#[$doc:meta])* $fn:ident => $prop:literal),* $(,)?) => {
        impl<'c, 'a> $view<'c, 'a> {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                ///
                /// The value's [`Error`] (with position) when it is not a DATE or DATE-TIME.
                pub fn $fn(&self) -> Result<Option<Zoned<'c>>, Error> {
                    self.0.property($prop).map(Property::date_time).transpose()
                }
            )*
        }
    };
}

/// Accessors every schedulable component (VEVENT, VTODO, VJOURNAL) has.
macro_rules! schedulable {
    ($view:ident) => {
        text_accessors!($view:
            /// UID (§3.8.4.7).
            uid => "UID",
            /// SUMMARY, unescaped.
            summary => "SUMMARY",
            /// DESCRIPTION, unescaped.
            description => "DESCRIPTION",
            /// STATUS.
            status => "STATUS",
            /// CLASS.
            class => "CLASS",
        );
        time_accessors!($view:
            /// DTSTART with its TZID.
            dtstart => "DTSTART",
            /// DTSTAMP.
            dtstamp => "DTSTAMP",
            /// RECURRENCE-ID with its TZID.
            recurrence_id => "RECURRENCE-ID",
            /// LAST-MODIFIED.
            last_modified => "LAST-MODIFIED",
            /// CREATED.
            created => "CREATED",
        );

        impl<'c, 'a> $view<'c, 'a> {
            /// SEQUENCE (0 when absent, §3.8.7.4).
            ///
            /// # Errors
            ///
            /// The value's [`Error`] when it is not an INTEGER.
            pub fn sequence(&self) -> Result<i32, Error> {
                self.0.property("SEQUENCE").map_or(Ok(0), Property::integer)
            }

            /// Every RRULE, parsed.
            ///
            /// # Errors
            ///
            /// The first rule's [`Error`] that does not parse.
            pub fn rrules(&self) -> Result<Vec<Recur>, Error> {
                self.0.properties_named("RRULE").map(Property::recur).collect()
            }

            /// The first RRULE, parsed.
            ///
            /// # Errors
            ///
            /// The rule's [`Error`] when it does not parse.
            pub fn rrule(&self) -> Result<Option<Recur>, Error> {
                self.0.property("RRULE").map(Property::recur).transpose()
            }

            /// Every EXDATE element, with its TZID.
            ///
            /// # Errors
            ///
            /// The first element's [`Error`] that is not a DATE or DATE-TIME.
            pub fn exdates(&self) -> Result<Vec<Zoned<'c>>, Error> {
                let mut out = Vec::new();
                for p in self.0.properties_named("EXDATE") {
                    out.extend(p.date_times()?);
                }
                Ok(out)
            }

            /// Every RDATE element, with its TZID.
            ///
            /// # Errors
            ///
            /// The first element's [`Error`] that does not parse.
            pub fn rdates(&self) -> Result<Vec<RDate<'c>>, Error> {
                let mut out = Vec::new();
                for p in self.0.properties_named("RDATE") {
                    if p.value_type() == ValueType::Period {
                        let tzid = p.tzid();
                        out.extend(p.periods()?.into_iter().map(|period| RDate::Period { period, tzid }));
                    } else {
                        out.extend(p.date_times()?.into_iter().map(RDate::At));
                    }
                }
                Ok(out)
            }

            /// The ATTENDEE properties.
            pub fn attendees(&self) -> impl Iterator<Item = &'c Property<'a>> + 'c {
                self.0.properties_named("ATTENDEE")
            }

            /// The ORGANIZER property.
            #[must_use]
            pub fn organizer(&self) -> Option<&'c Property<'a>> {
                self.0.property("ORGANIZER")
            }

            /// Every CATEGORIES element, unescaped.
            #[must_use]
            pub fn categories(&self) -> Vec<Cow<'c, str>> {
                self.0
                    .properties_named("CATEGORIES")
                    .flat_map(|p| crate::value::split_list(&p.raw_value))
                    .map(crate::value::unescape_text)
                    .collect()
            }

            /// Whether the component recurs (has an RRULE or RDATE).
            #[must_use]
            pub fn is_recurring(&self) -> bool {
                self.0.property("RRULE").is_some() || self.0.property("RDATE").is_some()
            }
        }
    };
}

macro_rules! duration_accessor {
    ($view:ident) => {
        impl<'c, 'a> $view<'c, 'a> {
            /// DURATION.
            ///
            /// # Errors
            ///
            /// The value's [`Error`] when it is not a DURATION.
            pub fn duration(&self) -> Result<Option<Duration>, Error> {
                self.0
                    .property("DURATION")
                    .map(Property::duration)
                    .transpose()
            }
        }
    };
}

macro_rules! alarms {
    ($view:ident) => {
        impl<'c, 'a> $view<'c, 'a> {
            /// The VALARM sub-components.
            pub fn alarms(&self) -> impl Iterator<Item = VAlarm<'c, 'a>> + 'c {
                self.0.components_named("VALARM").map(VAlarm)
            }
        }
    };
}

view!(
    /// A VCALENDAR object (§3.4, §3.6).
    VCalendar, "VCALENDAR"
);
text_accessors!(VCalendar:
    /// VERSION (§3.7.4).
    version => "VERSION",
    /// PRODID (§3.7.3).
    prodid => "PRODID",
    /// METHOD (§3.7.2).
    method => "METHOD",
    /// CALSCALE (§3.7.1).
    calscale => "CALSCALE",
    /// NAME (RFC 7986 §5.1).
    name => "NAME",
    /// COLOR (RFC 7986 §5.9).
    color => "COLOR",
);

impl<'c, 'a> VCalendar<'c, 'a> {
    /// The VEVENTs.
    pub fn events(&self) -> impl Iterator<Item = VEvent<'c, 'a>> + 'c {
        self.0.components_named("VEVENT").map(VEvent)
    }

    /// The VTODOs.
    pub fn todos(&self) -> impl Iterator<Item = VTodo<'c, 'a>> + 'c {
        self.0.components_named("VTODO").map(VTodo)
    }

    /// The VTIMEZONEs.
    pub fn timezones(&self) -> impl Iterator<Item = VTimeZone<'c, 'a>> + 'c {
        self.0.components_named("VTIMEZONE").map(VTimeZone)
    }

    /// The VTIMEZONE whose TZID is `tzid`.
    #[must_use]
    pub fn timezone(&self, tzid: &str) -> Option<VTimeZone<'c, 'a>> {
        self.timezones().find(|z| z.tzid().as_deref() == Some(tzid))
    }
}

view!(
    /// A VEVENT (§3.6.1).
    VEvent, "VEVENT"
);
schedulable!(VEvent);
duration_accessor!(VEvent);
alarms!(VEvent);
text_accessors!(VEvent:
    /// LOCATION, unescaped.
    location => "LOCATION",
    /// TRANSP.
    transp => "TRANSP",
);
time_accessors!(VEvent:
    /// DTEND with its TZID.
    dtend => "DTEND",
);

view!(
    /// A VTODO (§3.6.2).
    VTodo, "VTODO"
);
schedulable!(VTodo);
duration_accessor!(VTodo);
alarms!(VTodo);
text_accessors!(VTodo:
    /// LOCATION, unescaped.
    location => "LOCATION",
);
time_accessors!(VTodo:
    /// DUE with its TZID.
    due => "DUE",
    /// COMPLETED.
    completed => "COMPLETED",
);

view!(
    /// A VJOURNAL (§3.6.3).
    VJournal, "VJOURNAL"
);
schedulable!(VJournal);

view!(
    /// A VFREEBUSY (§3.6.4).
    VFreeBusy, "VFREEBUSY"
);
text_accessors!(VFreeBusy:
    /// UID.
    uid => "UID",
);
time_accessors!(VFreeBusy:
    /// DTSTART.
    dtstart => "DTSTART",
    /// DTEND.
    dtend => "DTEND",
    /// DTSTAMP.
    dtstamp => "DTSTAMP",
);

impl VFreeBusy<'_, '_> {
    /// Every FREEBUSY period with its FBTYPE (BUSY when absent, §3.2.9).
    ///
    /// # Errors
    ///
    /// The first period's [`Error`] that does not parse.
    pub fn periods(&self) -> Result<Vec<(Period, &str)>, Error> {
        let mut out = Vec::new();
        for p in self.0.properties_named("FREEBUSY") {
            let fbtype = p.param_value("FBTYPE").unwrap_or("BUSY");
            out.extend(p.periods()?.into_iter().map(|period| (period, fbtype)));
        }
        Ok(out)
    }
}

view!(
    /// A VTIMEZONE (§3.6.5).
    VTimeZone, "VTIMEZONE"
);
text_accessors!(VTimeZone:
    /// TZID.
    tzid => "TZID",
    /// TZURL.
    tzurl => "TZURL",
);

impl<'c, 'a> VTimeZone<'c, 'a> {
    /// The STANDARD and DAYLIGHT sub-components, in order.
    pub fn rules(&self) -> impl Iterator<Item = TzRule<'c, 'a>> + 'c {
        self.0
            .components
            .iter()
            .filter(|c| c.is("STANDARD") || c.is("DAYLIGHT"))
            .map(TzRule)
    }
}

/// A STANDARD or DAYLIGHT sub-component of a VTIMEZONE (§3.6.5).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TzRule<'c, 'a>(pub &'c Component<'a>);

impl<'c, 'a> TzRule<'c, 'a> {
    /// The view, if `component` is STANDARD or DAYLIGHT.
    #[must_use]
    pub fn new(component: &'c Component<'a>) -> Option<TzRule<'c, 'a>> {
        (component.is("STANDARD") || component.is("DAYLIGHT")).then_some(TzRule(component))
    }

    /// The generic component.
    #[must_use]
    pub fn component(&self) -> &'c Component<'a> {
        self.0
    }

    /// Whether this is DAYLIGHT.
    #[must_use]
    pub fn is_daylight(&self) -> bool {
        self.0.is("DAYLIGHT")
    }

    /// DTSTART (a local time in TZOFFSETFROM).
    ///
    /// # Errors
    ///
    /// The value's [`Error`] when it is not a DATE-TIME.
    pub fn dtstart(&self) -> Result<Option<DateOrDateTime>, Error> {
        self.0
            .property("DTSTART")
            .map(|p| p.date_time().map(|z| z.value))
            .transpose()
    }

    /// TZOFFSETFROM.
    ///
    /// # Errors
    ///
    /// The value's [`Error`] when it is not a UTC-OFFSET.
    pub fn offset_from(&self) -> Result<Option<UtcOffset>, Error> {
        self.offset("TZOFFSETFROM")
    }

    /// TZOFFSETTO.
    ///
    /// # Errors
    ///
    /// The value's [`Error`] when it is not a UTC-OFFSET.
    pub fn offset_to(&self) -> Result<Option<UtcOffset>, Error> {
        self.offset("TZOFFSETTO")
    }

    fn offset(&self, name: &str) -> Result<Option<UtcOffset>, Error> {
        self.0
            .property(name)
            .map(|p| {
                UtcOffset::parse(&p.raw_value).map_err(|e| e.at(p.line, p.value_column.max(1)))
            })
            .transpose()
    }

    /// Every RRULE, parsed.
    ///
    /// # Errors
    ///
    /// The first rule's [`Error`] that does not parse.
    pub fn rrules(&self) -> Result<Vec<Recur>, Error> {
        self.0
            .properties_named("RRULE")
            .map(Property::recur)
            .collect()
    }

    /// TZNAME, unescaped.
    #[must_use]
    pub fn tzname(&self) -> Option<Cow<'c, str>> {
        self.0.property("TZNAME").map(Property::text)
    }
}

view!(
    /// A VALARM (§3.6.6).
    VAlarm, "VALARM"
);
text_accessors!(VAlarm:
    /// ACTION (AUDIO, DISPLAY, EMAIL).
    action => "ACTION",
    /// DESCRIPTION, unescaped.
    description => "DESCRIPTION",
    /// SUMMARY, unescaped.
    summary => "SUMMARY",
);
duration_accessor!(VAlarm);

/// When a VALARM triggers (§3.8.6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// An offset from the start (or the end, with `RELATED=END`).
    Relative {
        /// The offset.
        offset: Duration,
        /// Whether it is relative to the end (`RELATED=END`).
        from_end: bool,
    },
    /// An absolute UTC time (`VALUE=DATE-TIME`).
    Absolute(DateOrDateTime),
}

impl VAlarm<'_, '_> {
    /// TRIGGER.
    ///
    /// # Errors
    ///
    /// The value's [`Error`] when it is neither a DURATION nor (with `VALUE=DATE-TIME`) a
    /// DATE-TIME.
    pub fn trigger(&self) -> Result<Option<Trigger>, Error> {
        let Some(p) = self.0.property("TRIGGER") else {
            return Ok(None);
        };
        // An absolute trigger needs VALUE=DATE-TIME; one written without it (RFC 5545 §4's own
        // to-do example does so) is read as what it plainly is.
        let looks_absolute = !p.raw_value.starts_with(['P', '+', '-']);
        if p.value_type() == ValueType::DateTime || looks_absolute {
            return Ok(Some(Trigger::Absolute(p.date_time()?.value)));
        }
        Ok(Some(Trigger::Relative {
            offset: p.duration()?,
            from_end: p
                .param_value("RELATED")
                .is_some_and(|r| r.eq_ignore_ascii_case("END")),
        }))
    }

    /// REPEAT (0 when absent).
    ///
    /// # Errors
    ///
    /// The value's [`Error`] when it is not an INTEGER.
    pub fn repeat(&self) -> Result<i32, Error> {
        self.0.property("REPEAT").map_or(Ok(0), Property::integer)
    }
}

view!(
    /// A VAVAILABILITY (RFC 7953 §3.1).
    VAvailability, "VAVAILABILITY"
);
text_accessors!(VAvailability:
    /// UID.
    uid => "UID",
    /// BUSYTYPE (BUSY-UNAVAILABLE when absent, RFC 7953 §3.2).
    busytype => "BUSYTYPE",
    /// SUMMARY, unescaped.
    summary => "SUMMARY",
);
time_accessors!(VAvailability:
    /// DTSTART with its TZID.
    dtstart => "DTSTART",
    /// DTEND with its TZID.
    dtend => "DTEND",
    /// DTSTAMP.
    dtstamp => "DTSTAMP",
);
duration_accessor!(VAvailability);

impl<'c, 'a> VAvailability<'c, 'a> {
    /// The AVAILABLE sub-components.
    pub fn available(&self) -> impl Iterator<Item = Available<'c, 'a>> + 'c {
        self.0.components_named("AVAILABLE").map(Available)
    }
}

view!(
    /// An AVAILABLE sub-component of VAVAILABILITY (RFC 7953 §3.1).
    Available, "AVAILABLE"
);
schedulable!(Available);
duration_accessor!(Available);
time_accessors!(Available:
    /// DTEND with its TZID.
    dtend => "DTEND",
);

impl VEvent<'_, '_> {
    /// The event's end: DTEND, else DTSTART + DURATION, else (§3.6.1) the end of DTSTART's day
    /// for a DATE or DTSTART itself for a DATE-TIME.
    ///
    /// Returns `None` without a DTSTART. Time zones are not applied: a DATE-TIME end is the
    /// civil time in DTSTART's zone, with `DURATION`'s days and seconds added as written.
    ///
    /// # Errors
    ///
    /// The [`Error`] of DTSTART, DTEND or DURATION when one does not parse.
    pub fn end(&self) -> Result<Option<DateOrDateTime>, Error> {
        if let Some(end) = self.dtend()? {
            return Ok(Some(end.value));
        }
        let Some(start) = self.dtstart()? else {
            return Ok(None);
        };
        let duration = self.duration()?;
        Ok(Some(match (start.value, duration) {
            (DateOrDateTime::Date(d), None) => {
                DateOrDateTime::Date(crate::value::Date(d.0.tomorrow().unwrap_or(d.0)))
            }
            (v, None) => v,
            (v, Some(dur)) => add_duration(v, dur),
        }))
    }
}

fn add_duration(v: DateOrDateTime, d: Duration) -> DateOrDateTime {
    let span = jiff::Span::new()
        .try_days(d.signed_days())
        .and_then(|s| s.try_seconds(d.signed_time_seconds()));
    match (v, span) {
        (DateOrDateTime::Date(date), Ok(span)) => date
            .0
            .checked_add(span)
            .map_or(v, |x| DateOrDateTime::Date(crate::value::Date(x))),
        (DateOrDateTime::DateTime(t), Ok(span)) => t.civil.checked_add(span).map_or(v, |x| {
            DateOrDateTime::DateTime(crate::value::DateTime {
                civil: x,
                utc: t.utc,
            })
        }),
        (_, Err(_)) => v,
    }
}

/// An error in a component as a whole (used by the parser's checks).
pub(crate) fn missing(component: &Component<'_>, property: &'static str) -> Error {
    Error::new(
        component.line,
        1,
        ErrorKind::MissingProperty {
            component: component.name.to_string(),
            property,
        },
    )
}
