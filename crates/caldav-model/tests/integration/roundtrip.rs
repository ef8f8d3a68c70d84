//! proptest: encode -> decode of every typed property is the identity, and the same holds
//! through the XML text `dav-xml` writes.

use caldav_model::property::{
    BulkMode, BulkRequests, Color, Ctag, Etag, MediaType, Principal, Property, PushTransport,
    Sharee, SyncToken, Transp, Value, names,
};
use dav_xml::{Element, Href, QName};
use jiff::Timestamp;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&'\"#:/.,;=+é\u{1F600}-]{0,24}"
}

fn calendar_text() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Z:;=0-9]{1,12}", 0..4)
        .prop_map(|lines| lines.iter().map(|l| format!("{l}\r\n")).collect::<String>())
}

fn token() -> impl Strategy<Value = String> {
    "[!-~]{1,20}"
}

fn href() -> impl Strategy<Value = Href> {
    "/[a-z0-9/._@%-]{0,20}".prop_map(Href::new)
}

fn qname() -> impl Strategy<Value = QName> {
    prop_oneof![
        Just(QName::new("DAV:", "collection")),
        Just(QName::new("urn:ietf:params:xml:ns:caldav", "calendar")),
        Just(QName::new("http://calendarserver.org/ns/", "shared-owner")),
        "[a-z][a-z-]{0,10}".prop_map(|l| QName::new("urn:x-test", l)),
    ]
}

fn names_of() -> impl Strategy<Value = Vec<QName>> {
    prop::collection::vec(qname(), 0..5)
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..253_402_300_799).prop_map(|s| Timestamp::from_second(s).unwrap())
}

/// A property name with a value of the type that name carries.
fn property() -> impl Strategy<Value = Property> {
    prop_oneof![
        text().prop_map(|t| Property::new(names::DISPLAYNAME, Value::Text(t))),
        calendar_text().prop_map(|t| Property::new(names::CALENDAR_TIMEZONE, Value::Text(t))),
        calendar_text().prop_map(|t| Property::new(names::CALENDAR_DATA, Value::Text(t))),
        Just(Property::new(names::SUBSCRIBED_STRIP_TODOS, Value::Empty)),
        token().prop_map(|t| Property::new(names::GETETAG, Value::Etag(Etag(t)))),
        token().prop_map(|t| Property::new(names::GETCTAG, Value::Ctag(Ctag(t)))),
        token().prop_map(|t| Property::new(names::SYNC_TOKEN, Value::SyncToken(SyncToken(t)))),
        href().prop_map(|h| Property::new(names::PRINCIPAL_URL, Value::Href(h))),
        prop::option::of(href()).prop_map(|h| Property::new(names::OWNER, Value::Owner(h))),
        prop::collection::vec(href(), 0..4)
            .prop_map(|h| Property::new(names::CALENDAR_HOME_SET, Value::Hrefs(h))),
        prop_oneof![
            href().prop_map(Principal::Href),
            Just(Principal::Unauthenticated)
        ]
        .prop_map(|p| Property::new(names::CURRENT_USER_PRINCIPAL, Value::Principal(p))),
        any::<u64>().prop_map(|n| Property::new(names::QUOTA_USED_BYTES, Value::Integer(n))),
        any::<i64>().prop_map(|n| Property::new(names::CALENDAR_ORDER, Value::Order(n))),
        timestamp().prop_map(|t| Property::new(names::MIN_DATE_TIME, Value::DateTime(t))),
        names_of().prop_map(|n| Property::new(names::RESOURCETYPE, Value::ResourceType(n))),
        names_of().prop_map(|n| Property::new(names::SUPPORTED_REPORT_SET, Value::Reports(n))),
        names_of().prop_map(|n| {
            Property::new(names::CURRENT_USER_PRIVILEGE_SET, Value::Privileges(n))
        }),
        names_of().prop_map(|n| Property::new(names::ALLOWED_SHARING_MODES, Value::Names(n))),
        prop::collection::vec("[A-Z]{1,10}", 0..5).prop_map(|c| {
            Property::new(
                names::SUPPORTED_CALENDAR_COMPONENT_SET,
                Value::Components(c),
            )
        }),
        prop::collection::vec(("[a-z]{1,8}/[a-z+]{1,8}", "[0-9.]{1,4}"), 0..3).prop_map(|m| {
            Property::new(
                names::SUPPORTED_CALENDAR_DATA,
                Value::MediaTypes(
                    m.into_iter()
                        .map(|(content_type, version)| MediaType {
                            content_type,
                            version,
                        })
                        .collect(),
                ),
            )
        }),
        prop_oneof![Just(Transp::Opaque), Just(Transp::Transparent)]
            .prop_map(|t| Property::new(names::SCHEDULE_CALENDAR_TRANSP, Value::Transp(t))),
        prop::collection::vec("[a-z]{1,8}@[a-z]{1,8}\\.org", 0..3)
            .prop_map(|e| Property::new(names::EMAIL_ADDRESS_SET, Value::Emails(e))),
        prop::collection::vec(
            (
                href(),
                prop::option::of(text()),
                prop::option::of(prop_oneof![
                    Just("invite-noresponse"),
                    Just("invite-accepted"),
                    Just("invite-declined")
                ]),
                prop::option::of(prop_oneof![Just("read"), Just("read-write")]),
            ),
            0..3
        )
        .prop_map(|users| {
            let cs = "http://calendarserver.org/ns/";
            Property::new(
                names::INVITE,
                Value::Invite(
                    users
                        .into_iter()
                        .map(|(href, common_name, status, access)| Sharee {
                            href,
                            common_name,
                            status: status.map(|s| QName::new(cs, s)),
                            access: access.map(|a| QName::new(cs, a)),
                        })
                        .collect(),
                ),
            )
        }),
        prop::collection::vec(
            prop::collection::vec(("[a-z-]{1,10}", prop::option::of(any::<u64>())), 0..3),
            0..3
        )
        .prop_map(|modes| {
            let me = "http://me.com/_namespace/";
            Property::new(
                names::BULK_REQUESTS,
                Value::BulkRequests(BulkRequests {
                    modes: modes
                        .into_iter()
                        .enumerate()
                        .map(|(i, limits)| BulkMode {
                            name: QName::new(me, format!("mode{i}")),
                            limits: limits
                                .into_iter()
                                .map(|(l, n)| (QName::new(me, l), n))
                                .collect(),
                        })
                        .collect(),
                }),
            )
        }),
        prop::collection::vec(
            (
                prop::option::of("[A-Z]{1,6}"),
                prop::option::of(href()),
                prop::collection::vec(("[a-z]{1,8}", "[a-zA-Z0-9.]{0,12}"), 0..3),
            ),
            0..3
        )
        .prop_map(|transports| {
            let cs = "http://calendarserver.org/ns/";
            Property::new(
                names::PUSH_TRANSPORTS,
                Value::PushTransports(
                    transports
                        .into_iter()
                        .map(|(kind, subscription_url, settings)| PushTransport {
                            kind,
                            subscription_url,
                            settings: settings
                                .into_iter()
                                .map(|(n, v)| (QName::new(cs, format!("x-{n}")), v))
                                .collect(),
                        })
                        .collect(),
                ),
            )
        }),
        ("#[0-9A-F]{8}", prop::option::of("[a-z]{1,8}")).prop_map(|(value, symbolic)| {
            Property::new(
                names::CALENDAR_COLOR,
                Value::Color(Color { value, symbolic }),
            )
        }),
    ]
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(prop in property()) {
        let element = prop.encode();
        prop_assert_eq!(&Property::decode(&element).unwrap(), &prop);
        // Through the bytes dav-xml writes, too.
        let text = element.encode();
        let back = Element::decode(text.as_bytes()).unwrap();
        prop_assert_eq!(Property::decode(&back).unwrap(), prop);
    }

    #[test]
    fn unknown_properties_keep_their_tree(local in "[a-z][a-z0-9-]{0,12}", t in text()) {
        let element = Element::new(QName::new("urn:x-unknown", local)).with_text(t);
        let prop = Property::decode(&element).unwrap();
        prop_assert_eq!(&prop.value, &Value::Xml(element.clone()));
        prop_assert_eq!(prop.encode(), element);
    }
}

mod query {
    use caldav_model::filter::{
        Collation, CompFilter, Filter, ParamFilter, PropFilter, TextMatch, TimeRange,
    };
    use caldav_model::property::names;
    use caldav_model::report::{
        CalendarData, CalendarQuery, CompRequest, PropItem, PropRequest, RecurrenceLimit,
    };
    use jiff::Timestamp;
    use proptest::prelude::*;

    fn range() -> impl Strategy<Value = TimeRange> {
        (
            prop::option::of(0i64..4_000_000_000),
            prop::option::of(1i64..4_000_000_000),
        )
            .prop_filter_map("a valid range", |(s, len)| {
                let start = s.map(|s| Timestamp::from_second(s).unwrap());
                let end = len.map(|l| Timestamp::from_second(s.unwrap_or(0) + l).unwrap());
                TimeRange::new(start, end)
            })
    }

    fn text_match() -> impl Strategy<Value = TextMatch> {
        (
            "[a-zA-Z0-9 @.:é-]{0,16}",
            prop_oneof![
                Just(Collation::AsciiCasemap),
                Just(Collation::Octet),
                Just(Collation::UnicodeCasemap),
                "x;[a-z]{1,6}".prop_map(Collation::Other),
            ],
            any::<bool>(),
        )
            .prop_map(|(t, c, n)| TextMatch::new(t).collation(c).negate(n))
    }

    fn param_filter() -> impl Strategy<Value = ParamFilter> {
        ("[A-Z]{1,8}", 0..3u8, text_match()).prop_map(|(name, kind, tm)| match kind {
            0 => ParamFilter::new(name),
            1 => ParamFilter::is_not_defined(name),
            _ => ParamFilter::new(name).text_match(tm),
        })
    }

    fn prop_filter() -> impl Strategy<Value = PropFilter> {
        (
            "[A-Z]{1,8}",
            0..4u8,
            text_match(),
            range(),
            prop::collection::vec(param_filter(), 0..3),
        )
            .prop_map(|(name, kind, tm, r, params)| {
                let f = match kind {
                    0 => return PropFilter::is_not_defined(name),
                    1 => PropFilter::new(name),
                    2 => PropFilter::new(name).text_match(tm),
                    _ => PropFilter::new(name).time_range(r),
                };
                params.into_iter().fold(f, PropFilter::param)
            })
    }

    fn comp_filter() -> impl Strategy<Value = CompFilter> {
        let leaf = ("V[A-Z]{1,8}", any::<bool>()).prop_map(|(n, not)| {
            if not {
                CompFilter::is_not_defined(n)
            } else {
                CompFilter::new(n)
            }
        });
        leaf.prop_recursive(4, 24, 4, |inner| {
            (
                "V[A-Z]{1,8}",
                prop::option::of(range()),
                prop::collection::vec(prop_filter(), 0..3),
                prop::collection::vec(inner, 0..3),
            )
                .prop_map(|(name, r, props, comps)| {
                    let mut f = CompFilter::new(name);
                    f.time_range = r;
                    f.props = props;
                    f.comps = comps;
                    f
                })
        })
    }

    fn props() -> impl Strategy<Value = Option<PropRequest>> {
        prop::option::of(prop_oneof![
            Just(PropRequest::AllProp),
            Just(PropRequest::PropName),
            (
                any::<bool>(),
                prop::option::of(range()),
                prop::option::of(range()),
                any::<bool>()
            )
                .prop_map(|(expand, rec, fb, comp)| {
                    let mut data = CalendarData::new();
                    data.recurrence = rec.map(|r| {
                        if expand {
                            RecurrenceLimit::Expand(r)
                        } else {
                            RecurrenceLimit::LimitRecurrenceSet(r)
                        }
                    });
                    data.limit_freebusy_set = fb;
                    if comp {
                        data.comp = Some(CompRequest {
                            name: "VCALENDAR".into(),
                            props: Some(vec![("VERSION".into(), false)]),
                            comps: Some(vec![CompRequest::all("VEVENT")]),
                        });
                    }
                    PropRequest::Prop(vec![
                        PropItem::Name(names::GETETAG),
                        PropItem::CalendarData(data),
                    ])
                }),
        ])
    }

    proptest! {
        #[test]
        fn calendar_query_encode_then_decode_is_identity(
            root in comp_filter(),
            props in props(),
            timezone in prop::option::of("[A-Z:0-9\r\n]{0,30}"),
        ) {
            let query = CalendarQuery { props, filter: Filter { root }, timezone };
            let text = query.encode();
            prop_assert_eq!(CalendarQuery::decode(text.as_bytes()).unwrap(), query);
        }
    }
}
