//! A generic XML element tree: what a WebDAV property value is (RFC 4918 §4.3, §14.18).
//!
//! Properties are arbitrary XML, so nothing here is WebDAV-specific: elements, attributes,
//! text and CDATA, in document order, with namespaces resolved into [`QName`]s. Comments and
//! processing instructions carry no property data and are skipped. Namespace declarations
//! are consumed by name resolution; encoding declares what the tree needs again.
//!
//! # What text looks like after decoding
//!
//! XML 1.0 §2.11 end-of-line handling applies before anything else, including inside CDATA:
//! `CRLF` and a lone `CR` become `LF`. Only a character reference (`&#13;`) yields a `CR`.
//! So iCalendar data inside `CALDAV:calendar-data` reaches the iCalendar parser with the
//! line ends the XML defines: `LF` for a CDATA section or raw text, `CRLF` where the server
//! escaped the `CR` as `&#13;` (SabreDAV and Nextcloud do). An iCalendar parser fed from here
//! must accept bare `LF` line ends.
//!
//! XML cannot carry NUL; a raw NUL some server sent reads as U+FFFD. Other control characters
//! are kept as sent (lenient: some servers send them).
//!
//! Whitespace-only text between child elements is indentation, not data: an element with child
//! elements keeps only its non-blank text nodes and its CDATA sections.

use std::borrow::Cow;
use std::sync::Arc;

use quick_xml::events::BytesStart;

use crate::error::{Error, LimitKind};
use crate::lexer::{self, Lexer, Token};
use crate::limits::Limits;
use crate::multistatus::{PropStat, Response, href_from_text, parse_status_line};
use crate::name::{QName, intern_local, intern_str, same, same_bytes};
pub use crate::text::Text;

/// An XML element with its attributes and content.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Element {
    /// The element's expanded name.
    pub name: QName,
    /// Attributes other than namespace declarations, in document order.
    pub attributes: Vec<Attribute>,
    /// Content in document order.
    pub children: Vec<Node>,
}

/// One attribute of an [`Element`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attribute {
    /// The attribute's expanded name (unprefixed attributes have no namespace).
    pub name: QName,
    /// The value with entities resolved and whitespace normalised (XML 1.0 §3.3.3).
    pub value: String,
}

/// A piece of an element's content.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Character data, with references resolved and line ends normalised.
    Text(Text),
    /// The content of a `<![CDATA[...]]>` section (adjacent sections joined), line ends
    /// normalised.
    CData(Text),
}

impl Element {
    /// An element with no attributes and no content.
    #[must_use]
    pub fn new(name: QName) -> Self {
        Self {
            name,
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Appends a child element (builder style).
    #[must_use]
    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Appends a text node (builder style).
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(Text::from(text.into())));
        self
    }

    /// Appends an attribute (builder style).
    #[must_use]
    pub fn with_attribute(mut self, name: QName, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute {
            name,
            value: value.into(),
        });
        self
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) | Node::CData(_) => None,
        })
    }

    /// The first child element called `name`.
    #[must_use]
    pub fn child(&self, name: &QName) -> Option<&Element> {
        self.elements().find(|element| element.name == *name)
    }

    /// All child elements called `name`.
    pub fn children_named<'a>(&'a self, name: &'a QName) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |element| element.name == *name)
    }

    /// The value of the attribute called `name`.
    #[must_use]
    pub fn attribute(&self, name: &QName) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == *name)
            .map(|a| a.value.as_str())
    }

    /// The concatenated text and CDATA directly inside this element (not inside children).
    ///
    /// Text written as CDATA and the same text written with entity references give the same
    /// string.
    #[must_use]
    pub fn text(&self) -> Cow<'_, str> {
        let mut pieces = self.children.iter().filter_map(|node| match node {
            Node::Text(text) | Node::CData(text) => Some(text.as_str()),
            Node::Element(_) => None,
        });
        let Some(first) = pieces.next() else {
            return Cow::Borrowed("");
        };
        match pieces.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut all = String::with_capacity(first.len() + second.len());
                all.push_str(first);
                all.push_str(second);
                pieces.for_each(|piece| all.push_str(piece));
                Cow::Owned(all)
            }
        }
    }

    /// Whether the element holds no child elements (only text, CDATA, or nothing).
    #[must_use]
    pub fn is_text_only(&self) -> bool {
        self.elements().next().is_none()
    }

    /// Decodes a standalone XML document into its root element, with default [`Limits`].
    ///
    /// # Errors
    ///
    /// [`Error`] with a byte offset for malformed XML, a DTD, an unknown entity, an unbound
    /// prefix or an exceeded limit.
    ///
    /// # Example
    ///
    /// ```
    /// use dav_xml::{Element, QName};
    /// let root = Element::decode(b"<d:prop xmlns:d='DAV:'><d:getetag>&quot;1&quot;</d:getetag></d:prop>")?;
    /// assert_eq!(root.child(&QName::DAV_GETETAG).unwrap().text(), "\"1\"");
    /// # Ok::<(), dav_xml::Error>(())
    /// ```
    pub fn decode(input: &[u8]) -> Result<Element, Error> {
        Self::decode_with(input, &Limits::default())
    }

    /// Decodes a standalone XML document with the given limits.
    ///
    /// # Errors
    ///
    /// As [`Element::decode`].
    pub fn decode_with(input: &[u8], limits: &Limits) -> Result<Element, Error> {
        let text = utf8(input)?;
        build(
            text,
            &mut Scope::default(),
            limits,
            ElementBudget::new(limits),
        )
    }
}

/// Checks UTF-8, skipping a byte-order mark.
pub(crate) fn utf8(input: &[u8]) -> Result<&str, Error> {
    let (input, bom) = match input.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (input, 0),
    };
    std::str::from_utf8(input).map_err(|e| Error::InvalidUtf8 {
        offset: (e.valid_up_to() + bom) as u64,
    })
}

/// Namespace bindings in scope: a stack of (prefix, namespace) with a mark per open element.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    /// (start of the prefix in `prefixes`, its length, the namespace it is bound to).
    bindings: Vec<(usize, usize, Cow<'static, str>)>,
    /// The declared prefixes, one after the other: one string for all of them.
    prefixes: String,
    marks: Vec<usize>,
    /// Raw element names already resolved under the current bindings: a document repeats a
    /// handful of names over and over.
    resolved: Resolved,
}

/// Raw names and what they resolved to, kept without an allocation per name, once a document
/// has shown it is large: resolving a name afresh costs less than keeping it would in a small
/// one (a PROPFIND answer names twenty elements, a dozen of them once). A multistatus repeats
/// a handful of names, so a short list, searched from its start, finds them.
#[derive(Clone, Debug, Default)]
struct Resolved {
    /// The raw names of `entries`, one after the other.
    raw: String,
    /// (start of the raw name in `raw`, its length, the name it resolved to).
    entries: Vec<(usize, usize, QName)>,
    /// Names resolved afresh so far, up to [`WARM`].
    fresh: usize,
}

/// Names [`Resolved`] keeps at most, and the bytes of their raw names.
const RESOLVED: usize = 16;
const RESOLVED_BYTES: usize = 512;
/// Names resolved afresh before [`Resolved`] starts keeping them.
const WARM: usize = 64;

impl Resolved {
    #[inline]
    fn get(&self, raw: &str) -> Option<&QName> {
        let raw = raw.as_bytes();
        let stored = self.raw.as_bytes();
        self.entries
            .iter()
            .find(|&&(start, len, _)| {
                len == raw.len()
                    && stored
                        .get(start..start + len)
                        .is_some_and(|seen| same_bytes(seen, raw))
            })
            .map(|(_, _, name)| name)
    }

    fn insert(&mut self, raw: &str, name: &QName) {
        if self.fresh < WARM {
            self.fresh += 1;
            return;
        }
        if self.entries.len() >= RESOLVED || self.raw.len() + raw.len() > RESOLVED_BYTES {
            return;
        }
        if self.entries.capacity() == 0 {
            self.entries.reserve_exact(RESOLVED);
            self.raw.reserve_exact(RESOLVED_BYTES);
        }
        self.entries.push((self.raw.len(), raw.len(), name.clone()));
        self.raw.push_str(raw);
    }

    #[cold]
    fn clear(&mut self) {
        self.entries.clear();
        self.raw.clear();
    }
}

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

impl Scope {
    /// Opens an element: declarations pushed after this belong to it.
    #[inline]
    pub(crate) fn open(&mut self) {
        if self.marks.capacity() == 0 {
            // Deep enough for a multistatus in one allocation.
            self.marks.reserve_exact(16);
        }
        self.marks.push(self.bindings.len());
    }

    /// How many elements are open.
    pub(crate) fn depth(&self) -> usize {
        self.marks.len()
    }

    /// Closes open elements until `depth` are left.
    pub(crate) fn close_to(&mut self, depth: usize) {
        while self.marks.len() > depth {
            self.close();
        }
    }

    /// Closes the innermost element, dropping its declarations.
    #[inline]
    pub(crate) fn close(&mut self) {
        if let Some(mark) = self.marks.pop()
            && let Some(&(start, _, _)) = self.bindings.get(mark)
        {
            self.bindings.truncate(mark);
            self.prefixes.truncate(start);
            if !self.resolved.entries.is_empty() {
                self.resolved.clear();
            }
        }
    }

    pub(crate) fn declare(&mut self, prefix: &str, namespace: &str) {
        let namespace =
            intern_str(namespace).map_or_else(|| Cow::Owned(namespace.to_owned()), Cow::Borrowed);
        if self.prefixes.capacity() == 0 {
            self.prefixes.reserve_exact(32);
        }
        self.bindings
            .push((self.prefixes.len(), prefix.len(), namespace));
        self.prefixes.push_str(prefix);
        if !self.resolved.entries.is_empty() {
            self.resolved.clear();
        }
    }

    fn lookup(&self, prefix: &str) -> Option<Cow<'static, str>> {
        if prefix == "xml" {
            return Some(Cow::Borrowed(XML_NS));
        }
        let found = self
            .bindings
            .iter()
            .rev()
            .find(|(start, len, _)| {
                // Prefixes are a few bytes: compared in place, without a call to `memcmp`.
                *len == prefix.len()
                    && self
                        .prefixes
                        .as_bytes()
                        .get(*start..*start + *len)
                        .is_some_and(|p| p.iter().zip(prefix.as_bytes()).all(|(a, b)| a == b))
            })
            .map(|(_, _, ns)| crate::name::clone_cow(ns));
        match found {
            Some(ns) => Some(ns),
            None if prefix.is_empty() => Some(Cow::Borrowed("")),
            None => None,
        }
    }

    /// Resolves a raw `prefix:local` element name (unprefixed: default namespace).
    pub(crate) fn resolve_element(&mut self, raw: &str, offset: u64) -> Result<QName, Error> {
        if let Some(name) = self.resolved.get(raw) {
            return Ok(name.clone());
        }
        let name = self.resolve_uncached(raw, offset)?;
        self.resolved.insert(raw, &name);
        Ok(name)
    }

    fn resolve_uncached(&self, raw: &str, offset: u64) -> Result<QName, Error> {
        // Names are short: a loop beats `split_once`'s searcher.
        let colon = raw.bytes().position(|b| b == b':');
        let (prefix, local) = match colon {
            Some(i) => (
                raw.get(..i).unwrap_or_default(),
                raw.get(i + 1..).unwrap_or_default(),
            ),
            None => ("", raw),
        };
        if local.is_empty() || (prefix.is_empty() && colon.is_some()) {
            return Err(Error::Syntax {
                offset,
                message: format!("invalid name `{raw}`"),
            });
        }
        let namespace = self.lookup(prefix).ok_or_else(|| Error::UnboundPrefix {
            offset,
            prefix: prefix.to_owned(),
        })?;
        let local = intern_local(local).map_or_else(|| Cow::Owned(local.to_owned()), Cow::Borrowed);
        Ok(QName::new(namespace, local))
    }

    /// Reads the `xmlns` declarations of a start tag (`content`, whose first `name_len` bytes
    /// are the name) into this scope (call after `open`). Returns the number of attributes
    /// seen.
    pub(crate) fn declare_from(
        &mut self,
        content: &str,
        name_len: usize,
        offset: u64,
        limits: &Limits,
    ) -> Result<usize, Error> {
        let rest = content.get(name_len..).unwrap_or_default();
        if let Some(plain) = PlainAttributes::read(rest, limits) {
            for &(key, value) in plain.items() {
                if let Some(prefix) = declared_prefix(key) {
                    self.declare(prefix, value);
                }
            }
            return Ok(plain.len);
        }
        self.declare_from_start(&BytesStart::from_content(content, name_len), offset, limits)
    }

    /// [`Scope::declare_from`] through quick-xml's attribute parser.
    fn declare_from_start(
        &mut self,
        start: &BytesStart<'_>,
        offset: u64,
        limits: &Limits,
    ) -> Result<usize, Error> {
        let mut count = 0usize;
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| syntax(offset, &e))?;
            count += 1;
            if count > limits.max_attributes {
                return Err(Error::Limit {
                    offset,
                    limit: LimitKind::Attributes,
                });
            }
            let Some(prefix) = declared_prefix(attribute.key.as_ref()) else {
                continue;
            };
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| syntax(offset, &e))?;
            self.declare(prefix, &without_nul(value));
        }
        Ok(count)
    }
}

/// The prefix a namespace declaration binds (`""` for the default namespace), or `None` for
/// an attribute that is no declaration.
fn declared_prefix(key: &str) -> Option<&str> {
    if key == "xmlns" {
        Some("")
    } else {
        key.strip_prefix("xmlns:")
    }
}

/// Most attributes a start tag may have for [`PlainAttributes`] to read it.
const PLAIN_MAX: usize = 8;

/// The attributes of a start tag written the plain way, read without quick-xml's attribute
/// parser (which allocates on every tag to look for duplicates): each one after whitespace,
/// `name="value"` or `name='value'`, the name of ASCII letters, digits, `:`, `-`, `_` or `.`,
/// the value without a reference, `<` or a control character (so nothing to decode or
/// normalise, XML 1.0 §3.3.3), no name twice, at most [`PLAIN_MAX`]. A tag written any other
/// way, and so every malformed one, goes through quick-xml: results and errors are the same
/// either way.
struct PlainAttributes<'a> {
    items: [(&'a str, &'a str); PLAIN_MAX],
    len: usize,
}

impl<'a> PlainAttributes<'a> {
    /// Reads the rest of a start tag after its name; `None` when it is not plain or holds
    /// more attributes than `limits` allow.
    #[inline]
    fn read(rest: &'a str, limits: &Limits) -> Option<Self> {
        let mut out = Self {
            items: [("", ""); PLAIN_MAX],
            len: 0,
        };
        out.fill(rest, limits)?;
        Some(out)
    }

    /// [`PlainAttributes::read`] into `self` (empty), in place.
    fn fill(&mut self, rest: &'a str, limits: &Limits) -> Option<()> {
        let out = self;
        let bytes = rest.as_bytes();
        let mut i = 0;
        loop {
            let start = i;
            while bytes.get(i).is_some_and(|&b| lexer::is_space(b)) {
                i += 1;
            }
            if i == bytes.len() {
                return Some(());
            }
            if i == start {
                return None;
            }
            let key_start = i;
            while bytes.get(i).is_some_and(|&b| {
                b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.')
            }) {
                i += 1;
            }
            if i == key_start || bytes.get(i) != Some(&b'=') {
                return None;
            }
            let key = rest.get(key_start..i)?;
            let quote = *bytes.get(i + 1)?;
            if quote != b'"' && quote != b'\'' {
                return None;
            }
            i += 2;
            let value_start = i;
            i += memchr::memchr(quote, bytes.get(i..)?)?;
            // Any control character (tab and line ends included), reference or `<` sends the
            // tag to quick-xml; one pass without early exit, which the compiler vectorises.
            let special = bytes.get(value_start..i)?.iter().fold(false, |found, &b| {
                found | (b < 0x20) | (b == b'&') | (b == b'<')
            });
            if special {
                return None;
            }
            let value = rest.get(value_start..i)?;
            i += 1;
            if out.len >= PLAIN_MAX.min(limits.max_attributes)
                || out.items().iter().any(|(seen, _)| *seen == key)
            {
                return None;
            }
            *out.items.get_mut(out.len)? = (key, value);
            out.len += 1;
        }
    }

    /// The attributes, `(name, value)`, in document order.
    fn items(&self) -> &[(&'a str, &'a str)] {
        self.items.get(..self.len).unwrap_or_default()
    }
}

pub(crate) fn syntax(offset: u64, error: &dyn std::fmt::Display) -> Error {
    Error::Syntax {
        offset,
        message: error.to_string(),
    }
}

/// How many elements a decode may still create; shared across the segments of a stream
/// would defeat "bounded by the largest response", so each decode gets its own.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ElementBudget(usize);

impl ElementBudget {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self(limits.max_elements)
    }
}

/// An element being built: its raw name (for the end tag) and the byte count of its text.
struct Open<'a> {
    element: Element,
    raw: &'a str,
    text_bytes: usize,
    kind: Kind,
    /// Whether a blank text node was stored (only before a CDATA section: other blank runs
    /// wait in `pending` and are dropped or joined), which `finish` removes again when the
    /// element turns out to hold child elements.
    blank_text: bool,
}

impl<'a> Open<'a> {
    /// Appends decoded character data. A blank run that starts a new text node waits in
    /// `pending`: indentation beside child elements is dropped without ever being stored.
    fn push_text(
        &mut self,
        text: Cow<'a, str>,
        pending: &mut Option<Cow<'a, str>>,
        shared: Shared<'_>,
        offset: u64,
        limits: &Limits,
    ) -> Result<(), Error> {
        self.add_bytes(text.len(), offset, limits)?;
        if let Some(Node::Text(last)) = self.element.children.last_mut() {
            last.push_str(&text);
        } else if is_blank(&text) {
            match pending {
                Some(blank) => blank.to_mut().push_str(&text),
                None => *pending = Some(text),
            }
        } else {
            let node = match pending.take() {
                Some(blank) => {
                    let mut node = blank.into_owned();
                    node.push_str(&text);
                    Text::from(node)
                }
                None => shared.store(text),
            };
            push_node(&mut self.element.children, Node::Text(node));
        }
        Ok(())
    }

    fn add_bytes(&mut self, len: usize, offset: u64, limits: &Limits) -> Result<(), Error> {
        self.text_bytes = self.text_bytes.saturating_add(len);
        if self.text_bytes > limits.max_text_bytes {
            return Err(Error::Limit {
                offset,
                limit: LimitKind::TextBytes,
            });
        }
        Ok(())
    }

    fn finish(mut self) -> Element {
        if self.blank_text && !self.element.is_text_only() {
            self.element
                .children
                .retain(|node| !matches!(node, Node::Text(text) if is_blank(text)));
        }
        self.element
    }
}

/// The document that text may be a slice of: set by the owned decode, whose input is a
/// normalised document behind an [`Arc`] (see [`Text`]).
#[derive(Clone, Copy, Default)]
pub(crate) struct Shared<'d>(pub(crate) Option<&'d Arc<String>>);

impl Shared<'_> {
    /// Stores decoded text: a slice of the shared document when it was borrowed from it.
    fn store(self, text: Cow<'_, str>) -> Text {
        match (text, self.0) {
            (Cow::Borrowed(slice), Some(document)) => {
                Text::slice_of(document, slice).unwrap_or_else(|| Text::from(slice))
            }
            (text, _) => Text::from(text.into_owned()),
        }
    }
}

/// Appends a node, allocating room for exactly one when it is the first: most elements of a
/// multistatus hold one text node, and a decoded document holds thousands of them.
fn push_node(children: &mut Vec<Node>, node: Node) {
    if children.capacity() == 0 {
        children.reserve_exact(1);
    }
    children.push(node);
}

/// XML cannot carry NUL at all (not even as `&#0;`); servers that send one raw get it read as
/// U+FFFD, which is also what the writer emits for it, so trees round-trip.
fn without_nul(text: Cow<'_, str>) -> Cow<'_, str> {
    if memchr::memchr(0, text.as_bytes()).is_some() {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        text
    }
}

fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Builds the tree of the single root element in `input`, with `scope` holding namespace
/// bindings inherited from enclosing elements (for stream segments).
pub(crate) fn build(
    input: &str,
    scope: &mut Scope,
    limits: &Limits,
    budget: ElementBudget,
) -> Result<Element, Error> {
    build_absorbing(input, scope, limits, budget, None, Shared::default())?.ok_or(
        Error::UnexpectedEof {
            offset: input.len() as u64,
        },
    )
}

/// A finished child of the multistatus: a response, decoded straight from the tokens, or any
/// other element as a tree.
pub(crate) enum Child {
    Response(Response),
    Element(Element),
}

/// Hands the children of a multistatus to `sink` as each one closes, instead of keeping them
/// in the tree: a whole multistatus is decoded without ever holding the tree of all its
/// responses, and each `DAV:response` is decoded into a [`Response`] as it is read. The sink
/// also gets the byte offset in the input just after the child (to size the responses' `Vec`).
pub(crate) struct Absorb<'a> {
    /// The element whose children are collected: the first one so called in document order.
    /// `None`: the document's root is itself such a child (a segment of the stream decoder).
    name: Option<&'a QName>,
    sink: &'a mut dyn FnMut(Child, usize),
    /// Whether the target was seen.
    pub(crate) found: bool,
}

impl<'a> Absorb<'a> {
    pub(crate) fn new(name: &'a QName, sink: &'a mut dyn FnMut(Child, usize)) -> Self {
        Self {
            name: Some(name),
            sink,
            found: false,
        }
    }

    /// Collects the document's root element itself.
    pub(crate) fn root(sink: &'a mut dyn FnMut(Child, usize)) -> Self {
        Self {
            name: None,
            sink,
            found: true,
        }
    }
}

/// What an open element becomes. The envelope of a multistatus (RFC 4918 §14.24 response,
/// §14.22 propstat, §14.18 prop) is decoded into typed values while it is read: only property
/// values and unknown elements are built as trees.
///
/// At most one response, one propstat and one prop are open at a time (each only directly
/// inside the one before), so what they hold is kept once, in [`Envelope`], not on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tree,
    /// The multistatus: its children go to the sink.
    Collect,
    Response,
    PropStat,
    Prop,
}

impl Kind {
    /// Whether the element's own text is part of the result.
    fn keeps_text(self) -> bool {
        matches!(self, Kind::Tree | Kind::Collect)
    }
}

/// The response and propstat being decoded.
#[derive(Default)]
struct Envelope {
    response: Response,
    propstat: PropStat,
}

impl Envelope {
    /// Reads an href of the response or a status of the response or the propstat when the
    /// element just opened is one and holds nothing but text, straight from the tokens that
    /// follow (`lexer` stands after its start tag). Returns the lexer past its end tag, or
    /// `None` to build it as an element (the result is the same).
    fn take_text_child<'a>(
        &mut self,
        name: &QName,
        parent: Kind,
        raw: &str,
        lexer: &Lexer<'a>,
        limits: &Limits,
    ) -> Result<Option<Lexer<'a>>, Error> {
        let is_href = *name == QName::DAV_HREF && parent == Kind::Response;
        let is_status =
            *name == QName::DAV_STATUS && matches!(parent, Kind::Response | Kind::PropStat);
        if !is_href && !is_status {
            return Ok(None);
        }
        let mut ahead = lexer.clone();
        let at = ahead.position();
        let (text, end) = match ahead.next_token() {
            Ok(Some(Token::Text(text))) => (text, ahead.next_token()),
            Ok(Some(Token::End(end))) => ("", Ok(Some(Token::End(end)))),
            _ => return Ok(None),
        };
        if !matches!(end, Ok(Some(Token::End(end))) if same(end, raw)) {
            return Ok(None);
        }
        let offset = at as u64;
        let text = lexer::text(text, offset)?;
        if text.len() > limits.max_text_bytes {
            return Err(Error::Limit {
                offset,
                limit: LimitKind::TextBytes,
            });
        }
        if is_href {
            self.response.hrefs.push(href_from_text(text));
        } else if parent == Kind::Response {
            self.response.status = parse_status_line(&text);
        } else {
            self.propstat.status = parse_status_line(&text);
        }
        Ok(Some(ahead))
    }
}

/// Builds the tree of the single root element in `input`, handing the children of a
/// multistatus to `absorb`. Returns the root, or `None` when `absorb` took it.
pub(crate) fn build_absorbing(
    input: &str,
    scope: &mut Scope,
    limits: &Limits,
    budget: ElementBudget,
    absorb: Option<&mut Absorb<'_>>,
    shared: Shared<'_>,
) -> Result<Option<Element>, Error> {
    build_tokens(input, scope, limits, budget, absorb, false, shared).map(|(root, _)| root)
}

/// Builds the first element of `input`, which may go on after it, and returns it (or `None`
/// when `absorb` took it) with the byte length it spans. Used by the stream decoder to decode
/// the complete children of a multistatus in one pass over what it holds.
///
/// # Errors
///
/// As [`build_absorbing`]; [`Error::UnexpectedEof`] when the element does not end in `input`.
/// After an error, `scope` may hold the element's declarations: the caller restores it
/// ([`Scope::depth`], [`Scope::close_to`]).
pub(crate) fn build_prefix(
    input: &str,
    scope: &mut Scope,
    limits: &Limits,
    budget: ElementBudget,
    absorb: Option<&mut Absorb<'_>>,
) -> Result<(Option<Element>, usize), Error> {
    build_tokens(
        input,
        scope,
        limits,
        budget,
        absorb,
        true,
        Shared::default(),
    )
}

fn build_tokens(
    input: &str,
    scope: &mut Scope,
    limits: &Limits,
    mut budget: ElementBudget,
    mut absorb: Option<&mut Absorb<'_>>,
    stop_at_root: bool,
    shared: Shared<'_>,
) -> Result<(Option<Element>, usize), Error> {
    let mut lexer = Lexer::new(input);
    let base_depth = scope.marks.len();
    // Deep enough for a multistatus in one allocation.
    let mut stack: Vec<Open<'_>> = Vec::with_capacity(8);
    let mut root: Option<Element> = None;
    let mut root_closed = false;
    let mut envelope = Envelope::default();
    // A blank run that may be indentation: stored only if the element turns out to hold text.
    let mut pending: Option<Cow<'_, str>> = None;
    loop {
        let at = lexer.position();
        if stop_at_root && root_closed {
            return Ok((root, at));
        }
        let offset = at as u64;
        let Some(token) = lexer.next_token()? else {
            break;
        };
        match token {
            Token::Start { .. } if root_closed => {
                return Err(Error::Syntax {
                    offset,
                    message: "content after the root element".into(),
                });
            }
            Token::Start {
                content,
                name_len,
                empty,
            } => {
                let (element, raw) = open_element(
                    content,
                    name_len,
                    scope,
                    limits,
                    &mut budget,
                    stack.len(),
                    offset,
                )?;
                pending = None;
                let kind = kind_of(&element.name, &stack, absorb.as_deref_mut());
                if !empty
                    && kind == Kind::Tree
                    && let Some(parent) = stack.last().map(|open| open.kind)
                    && let Some(ahead) =
                        envelope.take_text_child(&element.name, parent, raw, &lexer, limits)?
                {
                    // An href or status read straight into the envelope: no element, no node.
                    scope.close();
                    lexer = ahead;
                    continue;
                }
                if empty {
                    scope.close();
                    root_closed |= stack.is_empty();
                    attach(
                        &mut stack,
                        &mut root,
                        &mut envelope,
                        element,
                        kind,
                        absorb.as_deref_mut(),
                        lexer.position(),
                    );
                } else {
                    stack.push(Open {
                        element,
                        raw,
                        text_bytes: 0,
                        kind,
                        blank_text: false,
                    });
                }
            }
            Token::End(name) => {
                let Some(mut open) = stack.pop() else {
                    return Err(Error::Syntax {
                        offset,
                        message: "unmatched end tag".into(),
                    });
                };
                if !same(open.raw, name) {
                    return Err(Error::Syntax {
                        offset,
                        message: format!("end tag `{name}` does not match `{}`", open.raw),
                    });
                }
                scope.close();
                if let Some(text) = pending.take()
                    && open.kind.keeps_text()
                    && open.element.is_text_only()
                {
                    push_node(&mut open.element.children, Node::Text(shared.store(text)));
                }
                root_closed |= stack.is_empty();
                let kind = open.kind;
                attach(
                    &mut stack,
                    &mut root,
                    &mut envelope,
                    open.finish(),
                    kind,
                    absorb.as_deref_mut(),
                    lexer.position(),
                );
            }
            Token::Text(raw) => match stack.last_mut() {
                Some(open) if open.kind.keeps_text() => {
                    let content = lexer::text(raw, offset)?;
                    open.push_text(content, &mut pending, shared, offset, limits)?;
                }
                Some(open) => {
                    // Text beside a response's children is no data, but still checked.
                    let content = lexer::text(raw, offset)?;
                    open.add_bytes(content.len(), offset, limits)?;
                }
                None => {
                    if let Some(i) = raw.bytes().position(|b| !lexer::is_space(b)) {
                        return Err(Error::Syntax {
                            offset: offset + i as u64,
                            message: "text outside the root element".into(),
                        });
                    }
                }
            },
            Token::CData(raw) => {
                let Some(open) = stack.last_mut() else {
                    return Err(Error::Syntax {
                        offset,
                        message: "cdata outside the root element".into(),
                    });
                };
                let content = lexer::cdata(raw);
                open.add_bytes(content.len(), offset, limits)?;
                if !open.kind.keeps_text() {
                    continue;
                }
                if let Some(blank) = pending.take() {
                    push_node(&mut open.element.children, Node::Text(shared.store(blank)));
                    open.blank_text = true;
                }
                // Adjacent sections are one run of character data (a writer splits around `]]>`).
                if let Some(Node::CData(last)) = open.element.children.last_mut() {
                    last.push_str(&content);
                } else {
                    push_node(
                        &mut open.element.children,
                        Node::CData(shared.store(content)),
                    );
                }
            }
            Token::DocType => return Err(Error::Dtd { offset }),
            Token::Skipped => {}
        }
    }
    // Defensive: a truncated document leaves the scope with our marks.
    while scope.marks.len() > base_depth {
        scope.close();
    }
    if root_closed && stack.is_empty() {
        Ok((root, input.len()))
    } else {
        Err(Error::UnexpectedEof {
            offset: input.len() as u64,
        })
    }
}

/// What the element `name`, about to be opened inside `stack`, becomes.
fn kind_of(name: &QName, stack: &[Open<'_>], absorb: Option<&mut Absorb<'_>>) -> Kind {
    let Some(absorb) = absorb else {
        return Kind::Tree;
    };
    let parent = stack.last().map(|open| &open.kind);
    match parent {
        Some(Kind::Collect) if *name == QName::DAV_RESPONSE => Kind::Response,
        None if absorb.name.is_none() && *name == QName::DAV_RESPONSE => Kind::Response,
        Some(Kind::Response) if *name == QName::DAV_PROPSTAT => Kind::PropStat,
        Some(Kind::PropStat) if *name == QName::DAV_PROP => Kind::Prop,
        _ if !absorb.found && absorb.name == Some(name) => {
            absorb.found = true;
            Kind::Collect
        }
        _ => Kind::Tree,
    }
}

/// Opens an element from a start tag's content: checks the limits, takes its namespace
/// declarations into `scope` (the caller closes it again for an empty element), and resolves
/// its name and attributes. Returns the element and its raw name.
fn open_element<'a>(
    content: &'a str,
    name_len: usize,
    scope: &mut Scope,
    limits: &Limits,
    budget: &mut ElementBudget,
    depth: usize,
    offset: u64,
) -> Result<(Element, &'a str), Error> {
    if depth >= limits.max_depth {
        return Err(Error::Limit {
            offset,
            limit: LimitKind::Depth,
        });
    }
    budget.0 = budget.0.checked_sub(1).ok_or(Error::Limit {
        offset,
        limit: LimitKind::Elements,
    })?;
    let raw = content.get(..name_len).unwrap_or_default();
    if raw.is_empty() {
        return Err(Error::Syntax {
            offset,
            message: "empty tag name".into(),
        });
    }
    scope.open();
    // Most tags of a multistatus have no attributes: skip quick-xml's attribute parser.
    let rest = content.get(name_len..).unwrap_or_default();
    if rest.bytes().all(lexer::is_space) {
        let name = scope.resolve_element(raw, offset)?;
        return Ok((Element::new(name), raw));
    }
    if let Some(plain) = PlainAttributes::read(rest, limits) {
        for &(key, value) in plain.items() {
            if let Some(prefix) = declared_prefix(key) {
                scope.declare(prefix, value);
            }
        }
        let name = scope.resolve_element(raw, offset)?;
        let mut attributes = Vec::new();
        for &(key, value) in plain.items() {
            if declared_prefix(key).is_some() {
                continue;
            }
            if attributes.capacity() == 0 {
                attributes.reserve_exact(plain.len);
            }
            attributes.push(Attribute {
                name: attribute_name(scope, key, offset)?,
                value: value.to_owned(),
            });
        }
        return Ok((
            Element {
                name,
                attributes,
                children: Vec::new(),
            },
            raw,
        ));
    }
    let start = BytesStart::from_content(content, name_len);
    let count = scope.declare_from_start(&start, offset, limits)?;
    let name = scope.resolve_element(raw, offset)?;
    let mut attributes = Vec::with_capacity(count);
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| syntax(offset, &e))?;
        let key = attribute.key.as_ref();
        if declared_prefix(key).is_some() {
            continue;
        }
        let name = attribute_name(scope, key, offset)?;
        let value = attribute
            .normalized_value_with(
                quick_xml::XmlVersion::Implicit1_0,
                1,
                quick_xml::escape::resolve_predefined_entity,
            )
            .map_err(|e| match e {
                quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(
                    _,
                    name,
                )) => Error::Entity { offset, name },
                other => syntax(offset, &other),
            })?;
        attributes.push(Attribute {
            name,
            value: without_nul(value).into_owned(),
        });
    }
    Ok((
        Element {
            name,
            attributes,
            children: Vec::new(),
        },
        raw,
    ))
}

/// An attribute's expanded name: an unprefixed attribute is in no namespace (Namespaces in
/// XML 1.0 §6.2), a prefixed one resolves like an element name.
fn attribute_name(scope: &mut Scope, key: &str, offset: u64) -> Result<QName, Error> {
    if key.contains(':') {
        scope.resolve_element(key, offset)
    } else {
        Ok(QName::new("", key.to_owned()))
    }
}

fn attach(
    stack: &mut [Open<'_>],
    root: &mut Option<Element>,
    envelope: &mut Envelope,
    element: Element,
    kind: Kind,
    absorb: Option<&mut Absorb<'_>>,
    end: usize,
) {
    let parent = stack.last_mut();
    let child = match (kind, parent.as_ref().map(|open| open.kind)) {
        (Kind::PropStat, _) => {
            let propstat = std::mem::take(&mut envelope.propstat);
            envelope.response.propstats.push(propstat);
            return;
        }
        // Its children went to the propstat as they closed.
        (Kind::Prop, _) => return,
        (Kind::Response, _) => Child::Response(std::mem::take(&mut envelope.response)),
        (_, Some(Kind::Response)) => {
            envelope.response.take_child(element);
            return;
        }
        (_, Some(Kind::PropStat)) => {
            envelope.propstat.take_child(element);
            return;
        }
        (_, Some(Kind::Prop)) => {
            envelope.propstat.props.push(element);
            return;
        }
        (_, Some(Kind::Tree)) => {
            if let Some(parent) = parent {
                parent.element.children.push(Node::Element(element));
            }
            return;
        }
        (_, Some(Kind::Collect)) => Child::Element(element),
        (_, None) if absorb.as_ref().is_some_and(|a| a.name.is_none()) => Child::Element(element),
        (_, None) => {
            *root = Some(element);
            return;
        }
    };
    if let Some(absorb) = absorb {
        (absorb.sink)(child, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_do_not_matter() {
        let a = Element::decode(b"<A:prop xmlns:A='DAV:'><A:href>/x</A:href></A:prop>").unwrap();
        let b = Element::decode(b"<prop xmlns='DAV:'>\n  <href>/x</href>\n</prop>").unwrap();
        let c = Element::decode(b"<d:prop xmlns:d='DAV:'><href xmlns='DAV:'>/x</href></d:prop>")
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn cdata_and_escaped_text_read_the_same() {
        let a = Element::decode(b"<x><![CDATA[a<b>\r\nc]]></x>").unwrap();
        let b = Element::decode(b"<x>a&lt;b&gt;\r\nc</x>").unwrap();
        assert_eq!(a.text(), "a<b>\nc");
        assert_eq!(a.text(), b.text());
        let c = Element::decode(b"<x>a&#13;\nb</x>").unwrap();
        assert_eq!(c.text(), "a\r\nb");
    }

    #[test]
    fn regression_fuzz_raw_nul_reads_as_replacement_character() {
        let tree = Element::decode(b"<x a='\0'>a\0b<![CDATA[\0]]></x>").unwrap();
        assert_eq!(tree.text(), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(tree.attributes[0].value, "\u{FFFD}");
        let tree = Element::decode(b"<x xmlns='urn:\0'/>").unwrap();
        assert_eq!(tree.name.namespace(), "urn:\u{FFFD}");
        assert_eq!(Element::decode(tree.encode().as_bytes()).unwrap(), tree);
        assert_eq!(Element::decode(tree.encode().as_bytes()).unwrap(), tree);
    }

    #[test]
    fn control_characters_round_trip_as_references() {
        let tree = Element::new(QName::new("", "x")).with_text("a\u{1}\u{1f}b");
        let xml = tree.encode();
        assert!(xml.contains("a&#1;&#31;b"), "{xml}");
        assert_eq!(Element::decode(xml.as_bytes()).unwrap(), tree);
    }

    #[test]
    fn dtd_and_unknown_entities_are_refused() {
        let bomb = b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aa'>]><x>&a;</x>";
        assert!(matches!(
            Element::decode(bomb),
            Err(Error::Dtd { offset: 21 })
        ));
        assert!(matches!(
            Element::decode(b"<x>&a;</x>"),
            Err(Error::Entity { offset: 3, .. })
        ));
        assert!(matches!(
            Element::decode(b"<x a='&b;'/>"),
            Err(Error::Entity { .. })
        ));
    }

    #[test]
    fn regression_fuzz_empty_element_names_are_refused() {
        for body in [
            &b"<\t\t/>"[..],
            b"<a:/>",
            b"<:a/>",
            b"<x xmlns:a='urn:a'><a:/></x>",
        ] {
            assert!(
                matches!(Element::decode(body), Err(Error::Syntax { .. })),
                "{body:?}"
            );
        }
    }

    #[test]
    fn remembered_names_follow_redeclarations() {
        let mut scope = Scope::default();
        scope.open();
        scope.declare("d", "DAV:");
        assert_eq!(scope.resolve_element("d:href", 0).unwrap(), QName::DAV_HREF);
        assert_eq!(scope.resolve_element("d:href", 0).unwrap(), QName::DAV_HREF);
        scope.open();
        scope.declare("d", "urn:other");
        let inner = scope.resolve_element("d:href", 0).unwrap();
        assert_eq!(inner, QName::new("urn:other", "href"));
        scope.open();
        // No declarations: what was resolved stays valid.
        assert_eq!(scope.resolve_element("d:href", 0).unwrap(), inner);
        scope.close();
        scope.close();
        assert_eq!(scope.resolve_element("d:href", 0).unwrap(), QName::DAV_HREF);
        scope.close();
        assert!(scope.resolve_element("d:href", 0).is_err());
        let tree = Element::decode(
            b"<a:x xmlns:a='DAV:'><a:href/><a:y xmlns:a='urn:y'><a:href/></a:y><a:href/></a:x>",
        )
        .unwrap();
        let names: Vec<_> = tree.elements().map(|e| e.name.to_string()).collect();
        assert_eq!(names, ["{DAV:}href", "{urn:y}y", "{DAV:}href"]);
        let y = tree.child(&QName::new("urn:y", "y")).unwrap();
        assert_eq!(
            y.elements().next().unwrap().name,
            QName::new("urn:y", "href")
        );
    }

    #[test]
    fn remembered_names_stay_right_and_bounded_when_slots_collide() {
        let mut scope = Scope::default();
        scope.open();
        scope.declare("d", "DAV:");
        // Far more names than slots: many share one, and the table fills up.
        for round in 0..2 {
            for i in 0..400 {
                let name = scope.resolve_element(&format!("d:name-{i}"), 0).unwrap();
                assert_eq!(name, QName::new("DAV:", format!("name-{i}")), "{round}");
                assert_eq!(scope.resolve_element("d:href", 0).unwrap(), QName::DAV_HREF);
            }
        }
        assert!(scope.resolved.entries.len() <= RESOLVED);
        assert!(scope.resolved.raw.len() <= RESOLVED_BYTES);
    }

    /// What quick-xml's attribute parser reads from the rest of a start tag, or `None` when
    /// it fails.
    fn quick_xml_attributes(rest: &str) -> Option<Vec<(String, String)>> {
        let content = format!("x{rest}");
        BytesStart::from_content(content.as_str(), 1)
            .attributes()
            .map(|a| {
                let a = a.ok()?;
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()?;
                Some((a.key.as_ref().to_owned(), value.into_owned()))
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn plain_attributes_read_what_quick_xml_reads(
            rest in "[ \t\nxa:=\"'&<b-]{0,24}",
        ) {
            if let Some(plain) = PlainAttributes::read(&rest, &Limits::default()) {
                let plain: Vec<_> = plain
                    .items()
                    .iter()
                    .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                proptest::prop_assert_eq!(Some(plain), quick_xml_attributes(&rest));
            }
        }

        #[test]
        fn trees_are_the_same_through_either_attribute_reader(
            attributes in proptest::collection::vec(
                ("(xmlns|xmlns:a|a|b|a:b|a:c|c)", "[a-z:/ &;<>\t]{0,6}", proptest::bool::ANY),
                0..5,
            ),
        ) {
            // The same tag written plainly and with a space before each `=`, which sends it
            // to quick-xml's reader: the same tree or the same error.
            let mut plain = String::from("<r xmlns:a='urn:a'><e");
            let mut spaced = plain.clone();
            for (key, value, double) in &attributes {
                let quote = if *double { '"' } else { '\'' };
                plain.push_str(&format!(" {key}={quote}{value}{quote}"));
                spaced.push_str(&format!(" {key} ={quote}{value}{quote}"));
            }
            plain.push_str("/></r>");
            spaced.push_str("/></r>");
            // quick-xml's messages count from the tag's start; the spaces move those counts.
            let error = |e: Error| match e {
                Error::Syntax { offset, .. } => format!("syntax at {offset}"),
                other => other.to_string(),
            };
            let a = Element::decode(plain.as_bytes()).map_err(error);
            let b = Element::decode(spaced.as_bytes()).map_err(error);
            proptest::prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn plain_attributes_leave_the_unusual_to_quick_xml() {
        let limits = Limits::default();
        let read =
            |rest: &'static str| PlainAttributes::read(rest, &limits).map(|p| p.items().to_vec());
        assert_eq!(read(""), Some(vec![]));
        assert_eq!(
            read(" xmlns:d='DAV:' a=\"1\" "),
            Some(vec![("xmlns:d", "DAV:"), ("a", "1")])
        );
        for rest in [
            " a='1'b='2'",
            " a = '1'",
            " a='&amp;'",
            " a='x\ty'",
            " a='1' a='2'",
            " a=1",
            " a='1",
            "a='1'",
            " é='1'",
        ] {
            assert!(read(rest).is_none(), "{rest}");
        }
        let many: String = (0..=PLAIN_MAX).map(|i| format!(" a{i}='1'")).collect();
        assert!(PlainAttributes::read(&many, &limits).is_none());
        let few = Limits {
            max_attributes: 1,
            ..Limits::default()
        };
        assert!(PlainAttributes::read(" a='1' b='2'", &few).is_none());
    }

    #[test]
    fn blank_text_before_cdata_is_dropped_only_beside_child_elements() {
        let mixed = Element::decode(b"<x>\n <![CDATA[a]]>\n <y/>\n <![CDATA[b]]></x>").unwrap();
        assert_eq!(mixed.children.len(), 3, "{mixed:?}");
        assert_eq!(mixed.text(), "ab");
        let text_only = Element::decode(b"<x> <![CDATA[a]]> </x>").unwrap();
        assert_eq!(text_only.text(), " a ");
        let indented = Element::decode(b"<x>\n <y/>\n <z>t</z>\n</x>").unwrap();
        assert_eq!(indented.children.len(), 2, "{indented:?}");
    }

    #[test]
    fn unbound_prefix_is_an_error() {
        assert!(matches!(
            Element::decode(b"<a:x/>"),
            Err(Error::UnboundPrefix { offset: 0, .. })
        ));
    }

    #[test]
    fn depth_limit() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(Element::decode_with(b"<a><b><c/></b></a>", &limits).is_ok());
        assert!(matches!(
            Element::decode_with(b"<a><b><c><d/></c></b></a>", &limits),
            Err(Error::Limit {
                offset: 9,
                limit: LimitKind::Depth
            })
        ));
    }

    #[test]
    fn truncated_and_trailing_content() {
        assert!(matches!(
            Element::decode(b"<a><b/>"),
            Err(Error::UnexpectedEof { .. })
        ));
        assert!(matches!(
            Element::decode(b"<a/><b/>"),
            Err(Error::Syntax { offset: 4, .. })
        ));
        assert!(matches!(
            Element::decode(b"<a></b>"),
            Err(Error::Syntax { .. })
        ));
        assert!(matches!(
            Element::decode(b""),
            Err(Error::UnexpectedEof { .. })
        ));
    }
}
