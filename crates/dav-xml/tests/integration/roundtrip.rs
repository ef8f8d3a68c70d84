//! Encoding then decoding gives back the same tree (property tests).

use dav_xml::{
    Attribute, Element, MkCalendar, Node, PropFind, PropertyOperation, PropertyUpdate, QName, Text,
};
use proptest::prelude::*;

fn qname() -> impl Strategy<Value = QName> {
    let namespace = prop_oneof![
        Just("DAV:"),
        Just("urn:ietf:params:xml:ns:caldav"),
        Just("http://calendarserver.org/ns/"),
        Just(""),
        Just("urn:x-example:a"),
        Just("http://example.com/q?a=1&b=\"2\""),
    ];
    (namespace, "[a-zA-Z_][a-zA-Z0-9._-]{0,8}")
        .prop_map(|(ns, local)| QName::new(ns.to_owned(), local))
}

fn text() -> impl Strategy<Value = String> {
    "[ -~\t\n\r\u{e9}\u{20ac}\u{1f600}]{1,24}"
}

fn cdata() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~\n\u{e9}]{0,24}",
        Just("a]]>b".to_owned()),
        Just("]]]]>>".to_owned())
    ]
}

/// Puts a generated tree in the form decoding produces.
fn normalize(mut element: Element) -> Element {
    let mut children: Vec<Node> = Vec::new();
    for child in element.children.drain(..) {
        match (child, children.last_mut()) {
            (Node::Element(e), _) => children.push(Node::Element(normalize(e))),
            (Node::Text(t), _) if t.is_empty() => {}
            (Node::Text(t), Some(Node::Text(last))) => last.push_str(&t),
            (Node::Text(t), _) => children.push(Node::Text(t)),
            (Node::CData(t), Some(Node::CData(last))) => last.push_str(&t),
            (other, _) => children.push(other),
        }
    }
    if children.iter().any(|c| matches!(c, Node::Element(_))) {
        children.retain(
            |c| !matches!(c, Node::Text(t) if t.trim_matches([' ', '\t', '\r', '\n']).is_empty()),
        );
    }
    element.children = children;
    let mut seen = Vec::new();
    element.attributes.retain(|a| {
        let fresh = !seen.contains(&a.name);
        seen.push(a.name.clone());
        fresh
    });
    element
}

fn attributes() -> impl Strategy<Value = Vec<Attribute>> {
    proptest::collection::vec((qname(), "[ -~\t\n\r\u{e9}]{0,12}"), 0..4).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(name, value)| Attribute { name, value })
            .collect()
    })
}

fn element() -> impl Strategy<Value = Element> {
    let leaf = (qname(), attributes(), proptest::option::of(text())).prop_map(
        |(name, attributes, text)| {
            let mut e = Element::new(name);
            e.attributes = attributes;
            e.children.extend(text.map(|t| Node::Text(t.into())));
            e
        },
    );
    leaf.prop_recursive(4, 40, 6, move |inner| {
        let node = prop_oneof![
            3 => inner.prop_map(Node::Element),
            1 => text().prop_map(|t| Node::Text(t.into())),
            1 => cdata().prop_map(|t| Node::CData(t.into())),
        ];
        (qname(), attributes(), proptest::collection::vec(node, 0..6)).prop_map(
            |(name, attributes, children)| {
                let mut e = Element::new(name);
                e.attributes = attributes;
                e.children = children;
                e
            },
        )
    })
    .prop_map(normalize)
}

proptest! {
    #[test]
    fn element_encode_decode_is_identity(tree in element()) {
        let tree = normalize(tree);
        let xml = tree.encode();
        let back = Element::decode(xml.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}: {xml}")))?;
        prop_assert_eq!(back, tree, "{}", xml);
    }

    #[test]
    fn propfind_round_trip(names in proptest::collection::vec(qname(), 0..6), form in 0..3u8) {
        let propfind = match form {
            0 => PropFind::Prop(names),
            1 => PropFind::AllProp { include: names },
            _ => PropFind::PropName,
        };
        prop_assert_eq!(PropFind::decode(propfind.encode().as_bytes()).unwrap(), propfind);
    }

    #[test]
    fn normalized_is_stable(tree in element()) {
        prop_assert_eq!(normalize(tree.clone()), tree);
    }

    #[test]
    fn propertyupdate_round_trip(sets in proptest::collection::vec(element(), 1..4), removes in proptest::collection::vec(qname(), 1..4)) {
        let sets = sets.into_iter().map(normalize).collect();
        let update = PropertyUpdate::new(vec![PropertyOperation::Set(sets), PropertyOperation::Remove(removes)]);
        prop_assert_eq!(PropertyUpdate::decode(update.encode().as_bytes()).unwrap(), update);
    }

    #[test]
    fn mkcalendar_round_trip(properties in proptest::collection::vec(element(), 0..4)) {
        let body = MkCalendar::new(properties.into_iter().map(normalize).collect());
        let tree = Element::decode(body.encode().as_bytes()).unwrap();
        prop_assert_eq!(MkCalendar::from_element(&tree), body);
    }
}

#[test]
fn normalize_merges_cdata() {
    let mut e = Element::new(QName::DAV_PROP);
    e.children = vec![
        Node::CData(Text::new()),
        Node::CData(Text::new()),
        Node::Element(Element::new(QName::DAV_HREF)),
    ];
    assert_eq!(normalize(e).children.len(), 2);
}
