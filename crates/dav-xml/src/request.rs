//! Request bodies: PROPFIND (RFC 4918 §9.1, §14.20), PROPPATCH (§9.2, §14.19), extended MKCOL
//! (RFC 5689 §5.1) and MKCALENDAR (RFC 4791 §5.3.1.2).
//!
//! ```text
//! <!ELEMENT propfind ( propname | (allprop, include?) | prop ) >
//! <!ELEMENT propertyupdate (remove | set)+ >
//! <!ELEMENT mkcol (set+) >
//! <!ELEMENT mkcalendar (DAV:set) >
//! ```
//!
//! Each body is built as an [`Element`] tree and written by [`Element::encode`]; each also
//! decodes from a tree, so that a recorded request can be read back.

use crate::element::{Element, ElementBudget, Node, Scope, build, utf8};
use crate::error::Error;
use crate::limits::Limits;
use crate::name::QName;

/// A PROPFIND request body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropFind {
    /// `DAV:prop`: the named properties.
    Prop(Vec<QName>),
    /// `DAV:allprop`, with the `DAV:include`d properties that allprop would not return.
    AllProp {
        /// Properties to include besides the dead and RFC 4918 live ones.
        include: Vec<QName>,
    },
    /// `DAV:propname`: names only.
    PropName,
}

/// One step of a PROPPATCH; steps apply in document order (RFC 4918 §14.19).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropertyOperation {
    /// `DAV:set`: the properties with their new values.
    Set(Vec<Element>),
    /// `DAV:remove`: the properties to remove.
    Remove(Vec<QName>),
}

/// A PROPPATCH request body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PropertyUpdate {
    /// The operations, in order.
    pub operations: Vec<PropertyOperation>,
}

/// An extended MKCOL request body (RFC 5689): the properties, `DAV:resourcetype` included.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MkCol {
    /// The properties to set on the new collection.
    pub properties: Vec<Element>,
}

/// A MKCALENDAR request body (RFC 4791 §5.3.1): the properties to set.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MkCalendar {
    /// The properties to set on the new calendar (displayname, calendar-timezone...).
    pub properties: Vec<Element>,
}

/// Statics, so that iterators over children can borrow them beyond one statement.
static PROP: QName = QName::DAV_PROP;
static SET: QName = QName::DAV_SET;

fn empty_elements(names: &[QName]) -> impl Iterator<Item = Node> + '_ {
    names
        .iter()
        .map(|name| Node::Element(Element::new(name.clone())))
}

fn prop_of(properties: impl IntoIterator<Item = Node>) -> Element {
    let mut prop = Element::new(QName::DAV_PROP);
    prop.children.extend(properties);
    prop
}

fn names(element: &Element) -> Vec<QName> {
    element.elements().map(|e| e.name.clone()).collect()
}

fn decode_root(input: &[u8], expected: &'static str, name: &QName) -> Result<Element, Error> {
    let limits = Limits::default();
    let root = build(
        utf8(input)?,
        &mut Scope::default(),
        &limits,
        ElementBudget::new(&limits),
    )?;
    if root.name != *name {
        return Err(Error::UnexpectedDocument {
            offset: 0,
            expected,
            found: root.name.to_string(),
        });
    }
    Ok(root)
}

impl PropFind {
    /// The request body as a tree.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let root = Element::new(QName::DAV_PROPFIND);
        match self {
            Self::Prop(names) => root.with_child(prop_of(empty_elements(names))),
            Self::PropName => root.with_child(Element::new(QName::DAV_PROPNAME)),
            Self::AllProp { include } => {
                let root = root.with_child(Element::new(QName::DAV_ALLPROP));
                if include.is_empty() {
                    return root;
                }
                let mut element = Element::new(QName::DAV_INCLUDE);
                element.children.extend(empty_elements(include));
                root.with_child(element)
            }
        }
    }

    /// The request body as an XML document.
    ///
    /// # Example
    ///
    /// ```
    /// use dav_xml::{QName, request::PropFind};
    /// let body = PropFind::Prop(vec![QName::DAV_GETETAG, QName::CALDAV_CALENDAR_DATA]).encode();
    /// assert!(body.ends_with(
    ///     "<D:propfind xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:caldav\">\
    ///      <D:prop><D:getetag/><C:calendar-data/></D:prop></D:propfind>"
    /// ));
    /// ```
    #[must_use]
    pub fn encode(&self) -> String {
        self.to_element().encode()
    }

    /// Reads a `DAV:propfind` tree. An empty propfind means allprop (RFC 4918 §9.1).
    #[must_use]
    pub fn from_element(element: &Element) -> Self {
        if let Some(prop) = element.child(&QName::DAV_PROP) {
            return Self::Prop(names(prop));
        }
        if element.child(&QName::DAV_PROPNAME).is_some() {
            return Self::PropName;
        }
        let include = element
            .child(&QName::DAV_INCLUDE)
            .map(names)
            .unwrap_or_default();
        Self::AllProp { include }
    }

    /// Decodes a PROPFIND body.
    ///
    /// # Errors
    ///
    /// [`Error`] for malformed XML or a root other than `DAV:propfind`.
    pub fn decode(input: &[u8]) -> Result<Self, Error> {
        decode_root(input, "{DAV:}propfind", &QName::DAV_PROPFIND)
            .map(|root| Self::from_element(&root))
    }
}

impl PropertyUpdate {
    /// A body with these operations.
    #[must_use]
    pub fn new(operations: Vec<PropertyOperation>) -> Self {
        Self { operations }
    }

    /// The request body as a tree.
    #[must_use]
    pub fn to_element(&self) -> Element {
        let mut root = Element::new(QName::DAV_PROPERTYUPDATE);
        for operation in &self.operations {
            let child = match operation {
                PropertyOperation::Set(properties) => Element::new(QName::DAV_SET)
                    .with_child(prop_of(properties.iter().cloned().map(Node::Element))),
                PropertyOperation::Remove(names) => {
                    Element::new(QName::DAV_REMOVE).with_child(prop_of(empty_elements(names)))
                }
            };
            root.children.push(Node::Element(child));
        }
        root
    }

    /// The request body as an XML document.
    #[must_use]
    pub fn encode(&self) -> String {
        self.to_element().encode()
    }

    /// Reads a `DAV:propertyupdate` tree; unknown children are skipped.
    #[must_use]
    pub fn from_element(element: &Element) -> Self {
        let operations = element
            .elements()
            .filter_map(|child| {
                let props = child.children_named(&PROP).flat_map(Element::elements);
                if child.name == QName::DAV_SET {
                    Some(PropertyOperation::Set(props.cloned().collect()))
                } else if child.name == QName::DAV_REMOVE {
                    Some(PropertyOperation::Remove(
                        props.map(|p| p.name.clone()).collect(),
                    ))
                } else {
                    None
                }
            })
            .collect();
        Self { operations }
    }

    /// Decodes a PROPPATCH body.
    ///
    /// # Errors
    ///
    /// [`Error`] for malformed XML or a root other than `DAV:propertyupdate`.
    pub fn decode(input: &[u8]) -> Result<Self, Error> {
        decode_root(input, "{DAV:}propertyupdate", &QName::DAV_PROPERTYUPDATE)
            .map(|root| Self::from_element(&root))
    }
}

fn set_body(root: QName, properties: &[Element]) -> Element {
    Element::new(root).with_child(
        Element::new(QName::DAV_SET)
            .with_child(prop_of(properties.iter().cloned().map(Node::Element))),
    )
}

fn set_properties(element: &Element) -> Vec<Element> {
    element
        .children_named(&SET)
        .flat_map(|set| set.children_named(&PROP))
        .flat_map(Element::elements)
        .cloned()
        .collect()
}

impl MkCol {
    /// A body with these properties.
    #[must_use]
    pub fn new(properties: Vec<Element>) -> Self {
        Self { properties }
    }

    /// The request body as a tree.
    #[must_use]
    pub fn to_element(&self) -> Element {
        set_body(QName::DAV_MKCOL, &self.properties)
    }

    /// The request body as an XML document.
    #[must_use]
    pub fn encode(&self) -> String {
        self.to_element().encode()
    }

    /// Reads a `DAV:mkcol` tree.
    #[must_use]
    pub fn from_element(element: &Element) -> Self {
        Self {
            properties: set_properties(element),
        }
    }
}

impl MkCalendar {
    /// A body with these properties.
    #[must_use]
    pub fn new(properties: Vec<Element>) -> Self {
        Self { properties }
    }

    /// The request body as a tree.
    #[must_use]
    pub fn to_element(&self) -> Element {
        set_body(QName::CALDAV_MKCALENDAR, &self.properties)
    }

    /// The request body as an XML document.
    #[must_use]
    pub fn encode(&self) -> String {
        self.to_element().encode()
    }

    /// Reads a `CALDAV:mkcalendar` tree.
    #[must_use]
    pub fn from_element(element: &Element) -> Self {
        Self {
            properties: set_properties(element),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propfind_forms_round_trip() {
        for propfind in [
            PropFind::Prop(vec![
                QName::DAV_GETETAG,
                QName::new("http://calendarserver.org/ns/", "getctag"),
            ]),
            PropFind::AllProp { include: vec![] },
            PropFind::AllProp {
                include: vec![QName::caldav("supported-calendar-component-set")],
            },
            PropFind::PropName,
        ] {
            assert_eq!(
                PropFind::decode(propfind.encode().as_bytes()).unwrap(),
                propfind
            );
        }
    }

    #[test]
    fn propertyupdate_keeps_order() {
        let update = PropertyUpdate {
            operations: vec![
                PropertyOperation::Set(vec![
                    Element::new(QName::DAV_DISPLAYNAME).with_text("Work & play"),
                ]),
                PropertyOperation::Remove(vec![QName::new(
                    "http://apple.com/ns/ical/",
                    "calendar-color",
                )]),
                PropertyOperation::Set(vec![
                    Element::new(QName::caldav("calendar-description")).with_text("x"),
                ]),
            ],
        };
        let xml = update.encode();
        assert!(
            xml.contains("<D:displayname>Work &amp; play</D:displayname>"),
            "{xml}"
        );
        assert_eq!(PropertyUpdate::decode(xml.as_bytes()).unwrap(), update);
    }

    #[test]
    fn mkcol_and_mkcalendar() {
        let resourcetype = Element::new(QName::DAV_RESOURCETYPE)
            .with_child(Element::new(QName::DAV_COLLECTION))
            .with_child(Element::new(QName::caldav("calendar")));
        let mkcol = MkCol {
            properties: vec![
                resourcetype,
                Element::new(QName::DAV_DISPLAYNAME).with_text("Cal"),
            ],
        };
        let tree = Element::decode(mkcol.encode().as_bytes()).unwrap();
        assert_eq!(tree.name, QName::DAV_MKCOL);
        assert_eq!(MkCol::from_element(&tree), mkcol);
        let mkcalendar = MkCalendar {
            properties: vec![Element::new(QName::DAV_DISPLAYNAME).with_text("Cal")],
        };
        let xml = mkcalendar.encode();
        assert!(xml.contains("<C:mkcalendar xmlns:C=\"urn:ietf:params:xml:ns:caldav\" xmlns:D=\"DAV:\"><D:set><D:prop><D:displayname>Cal</D:displayname></D:prop></D:set></C:mkcalendar>"), "{xml}");
        assert_eq!(
            MkCalendar::from_element(&Element::decode(xml.as_bytes()).unwrap()),
            mkcalendar
        );
    }
}
