//! Writing element trees as XML documents (XML 1.0 §2.4, §2.7, §3.1; Namespaces in XML §3).
//!
//! Every namespace the tree uses is declared once, on the root element, with a prefix from a
//! small allocator: `D` for `DAV:`, `C` for CalDAV, `CR` for CardDAV, `CS` for CalendarServer,
//! `I` for Apple iCal, and `ns0`, `ns1`... for others. Names in no namespace are written
//! unprefixed (no default namespace is ever declared, so they stay in no namespace).
//!
//! Text escapes `&`, `<`, `>` and `CR` (as `&#13;`, so that it survives end-of-line
//! normalisation); attribute values also escape `"`, tab and `LF`. CDATA sections are written as
//! CDATA, split around any `]]>`; a CDATA node holding a `CR` is written as escaped text instead,
//! since CDATA cannot carry one. Characters XML 1.0 cannot carry at all (C0 controls other than
//! tab, LF and CR) are written as character references, except NUL, which becomes U+FFFD.
//!
//! Decoding the output gives back the same tree whenever the tree is in the form decoding
//! produces: no empty or adjacent text nodes, and no whitespace-only text beside child elements.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::element::{Element, Node};
use crate::name::{APPLE_ICAL, CALDAV, CALENDARSERVER, CARDDAV, DAV, QName};

/// Namespace to prefix assignments for one document.
#[derive(Debug, Default)]
struct Prefixes {
    assigned: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    others: usize,
}

impl Prefixes {
    fn add(&mut self, namespace: &str) {
        if namespace.is_empty() || self.assigned.iter().any(|(ns, _)| ns == namespace) {
            return;
        }
        let prefix = match namespace {
            DAV => Cow::Borrowed("D"),
            CALDAV => Cow::Borrowed("C"),
            CARDDAV => Cow::Borrowed("CR"),
            CALENDARSERVER => Cow::Borrowed("CS"),
            APPLE_ICAL => Cow::Borrowed("I"),
            _ => {
                let prefix = format!("ns{}", self.others);
                self.others += 1;
                Cow::Owned(prefix)
            }
        };
        self.assigned
            .push((Cow::Owned(namespace.to_owned()), prefix));
    }

    fn prefix(&self, namespace: &str) -> Option<&str> {
        self.assigned
            .iter()
            .find(|(ns, _)| ns == namespace)
            .map(|(_, p)| p.as_ref())
    }
}

impl Element {
    /// Writes this element as a complete XML document (with an XML declaration), declaring
    /// every namespace once on the root.
    ///
    /// # Panics
    ///
    /// Never.
    ///
    /// # Example
    ///
    /// ```
    /// use dav_xml::{Element, QName};
    /// let prop = Element::new(QName::DAV_PROP).with_child(Element::new(QName::DAV_GETETAG));
    /// assert_eq!(
    ///     prop.encode(),
    ///     "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\"><D:getetag/></D:prop>"
    /// );
    /// ```
    #[must_use]
    pub fn encode(&self) -> String {
        let mut prefixes = Prefixes::default();
        let mut stack = vec![self];
        while let Some(element) = stack.pop() {
            prefixes.add(element.name.namespace());
            for attribute in &element.attributes {
                prefixes.add(attribute.name.namespace());
            }
            let before = stack.len();
            stack.extend(element.elements());
            if let Some(added) = stack.get_mut(before..) {
                added.reverse();
            }
        }
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        write_element(&mut out, self, &prefixes, true);
        out
    }
}

fn write_name(out: &mut String, name: &QName, prefixes: &Prefixes) {
    if let Some(prefix) = prefixes.prefix(name.namespace()) {
        out.push_str(prefix);
        out.push(':');
    }
    out.push_str(name.local());
}

fn write_element(out: &mut String, element: &Element, prefixes: &Prefixes, root: bool) {
    out.push('<');
    write_name(out, &element.name, prefixes);
    if root {
        for (namespace, prefix) in &prefixes.assigned {
            out.push_str(" xmlns:");
            out.push_str(prefix);
            out.push_str("=\"");
            escape(out, namespace, true);
            out.push('"');
        }
    }
    for attribute in &element.attributes {
        out.push(' ');
        write_name(out, &attribute.name, prefixes);
        out.push_str("=\"");
        escape(out, &attribute.value, true);
        out.push('"');
    }
    if element.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &element.children {
        match child {
            Node::Element(child) => write_element(out, child, prefixes, false),
            Node::Text(text) => escape(out, text, false),
            Node::CData(text) if text.contains('\r') => escape(out, text, false),
            Node::CData(text) => write_cdata(out, text),
        }
    }
    out.push_str("</");
    write_name(out, &element.name, prefixes);
    out.push('>');
}

fn write_cdata(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    let mut rest = text;
    while let Some(i) = rest.find("]]>") {
        let (head, tail) = rest.split_at(i + 2);
        out.push_str(head);
        out.push_str("]]><![CDATA[");
        rest = tail;
    }
    out.push_str(rest);
    out.push_str("]]>");
}

fn escape(out: &mut String, text: &str, attribute: bool) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\0' => out.push('\u{FFFD}'),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_cdata_split() {
        let element = Element::new(QName::new("urn:x", "a"))
            .with_attribute(QName::new("", "v"), "\"<&>\t\n\r")
            .with_text("a<&>]]>\rb");
        let mut element = element;
        element.children.push(Node::CData("x]]>y".into()));
        let xml = element.encode();
        assert!(
            xml.contains(r#"<ns0:a xmlns:ns0="urn:x" v="&quot;&lt;&amp;&gt;&#9;&#10;&#13;">"#),
            "{xml}"
        );
        assert!(
            xml.contains("a&lt;&amp;&gt;]]&gt;&#13;b<![CDATA[x]]]]><![CDATA[>y]]>"),
            "{xml}"
        );
        let back = Element::decode(xml.as_bytes()).unwrap();
        assert_eq!(back.text(), "a<&>]]>\rbx]]>y");
        assert_eq!(back.attributes[0].value, "\"<&>\t\n\r");
    }

    #[test]
    fn namespaces_declared_once_on_the_root() {
        let tree = Element::new(QName::DAV_PROP)
            .with_child(Element::new(QName::caldav("calendar-data")))
            .with_child(
                Element::new(QName::new("urn:a", "x"))
                    .with_child(Element::new(QName::new("urn:b", "y"))),
            )
            .with_child(Element::new(QName::new("", "plain")));
        let xml = tree.encode();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\" \
             xmlns:C=\"urn:ietf:params:xml:ns:caldav\" xmlns:ns0=\"urn:a\" xmlns:ns1=\"urn:b\">\
             <C:calendar-data/><ns0:x><ns1:y/></ns0:x><plain/></D:prop>"
        );
        assert_eq!(Element::decode(xml.as_bytes()).unwrap(), tree);
    }
}
