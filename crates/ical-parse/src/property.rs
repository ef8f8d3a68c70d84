//! Properties and their parameters (RFC 5545 §3.1, §3.2, §3.7, §3.8; RFC 7986 §5).
//!
//! ```text
//! contentline = name *(";" param ) ":" value CRLF
//! param       = param-name "=" param-value *("," param-value)
//! ```
//!
//! A [`Property`] keeps its value as the text that was read (still TEXT-escaped), so writing it
//! back loses nothing; typed accessors ([`Property::value`], [`Property::values`],
//! [`Property::date_time`], [`Property::text`]) read that text on demand. Parameter values are
//! kept unquoted and with RFC 6868's `^n ^^ ^'` decoded.

use crate::error::{Error, ErrorKind};
use crate::recur::Recur;
use crate::value::{
    self, DateOrDateTime, Duration, Period, Value, ValueType, Zoned, split_list, unescape_text,
};
use std::borrow::Cow;

/// A property parameter: a name and one or more values (RFC 5545 §3.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Parameter<'a> {
    /// The name, in uppercase.
    pub name: Cow<'a, str>,
    /// The values, unquoted and RFC 6868-decoded; at least one (possibly empty).
    pub values: ParameterValues<'a>,
}

/// The values of a [`Parameter`]: a slice of text (it derefs to `[Cow<str>]`) that holds the
/// usual single value inline and only a list of several on the heap.
///
/// # Example
///
/// ```
/// let p = ical_parse::Parameter::with_values("member", vec!["a".into(), "b".into()]);
/// assert_eq!(p.values, ["a", "b"]);
/// assert_eq!(p.values.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct ParameterValues<'a>(Values<'a>);

/// One value needs no allocation; the empty list is an empty `Vec`, which allocates nothing.
#[derive(Clone)]
enum Values<'a> {
    One([Cow<'a, str>; 1]),
    Many(Vec<Cow<'a, str>>),
}

impl Default for Values<'_> {
    fn default() -> Self {
        Values::Many(Vec::new())
    }
}

impl<'a> ParameterValues<'a> {
    /// No values.
    #[must_use]
    pub fn new() -> ParameterValues<'a> {
        ParameterValues::default()
    }

    /// One value.
    pub(crate) fn one(value: Cow<'a, str>) -> ParameterValues<'a> {
        ParameterValues(Values::One([value]))
    }

    /// Appends a value.
    pub fn push(&mut self, value: Cow<'a, str>) {
        match &mut self.0 {
            Values::Many(v) if !v.is_empty() => v.push(value),
            Values::Many(_) => self.0 = Values::One([value]),
            Values::One(_) => {
                if let Values::One([first]) = std::mem::take(&mut self.0) {
                    self.0 = Values::Many(vec![first, value]);
                }
            }
        }
    }

    /// The values as a slice.
    #[must_use]
    pub fn as_slice(&self) -> &[Cow<'a, str>] {
        match &self.0 {
            Values::One(one) => one,
            Values::Many(v) => v,
        }
    }

    /// The values of a parameter split from `line`, rebased onto `head` (see
    /// [`Parameter::rebase`]).
    fn rebase<'h>(self, line: &str, head: Option<&'h str>) -> ParameterValues<'h> {
        ParameterValues(match self.0 {
            Values::One([v]) => Values::One([rebase(v, line, head, own_value)]),
            Values::Many(v) => Values::Many(
                v.into_iter()
                    .map(|v| rebase(v, line, head, own_value))
                    .collect(),
            ),
        })
    }

    /// The values with everything they borrow copied.
    #[must_use]
    pub fn into_owned(self) -> ParameterValues<'static> {
        ParameterValues(match self.0 {
            Values::One([v]) => Values::One([own_value(v)]),
            Values::Many(v) => Values::Many(v.into_iter().map(own_value).collect()),
        })
    }
}

impl<'a> std::ops::Deref for ParameterValues<'a> {
    type Target = [Cow<'a, str>];

    fn deref(&self) -> &[Cow<'a, str>] {
        self.as_slice()
    }
}

impl<'a> From<Vec<Cow<'a, str>>> for ParameterValues<'a> {
    fn from(mut values: Vec<Cow<'a, str>>) -> ParameterValues<'a> {
        if values.len() == 1
            && let Some(one) = values.pop()
        {
            return ParameterValues(Values::One([one]));
        }
        ParameterValues(Values::Many(values))
    }
}

impl<'s, 'a> IntoIterator for &'s ParameterValues<'a> {
    type Item = &'s Cow<'a, str>;
    type IntoIter = std::slice::Iter<'s, Cow<'a, str>>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl std::fmt::Debug for ParameterValues<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl PartialEq for ParameterValues<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ParameterValues<'_> {}

impl std::hash::Hash for ParameterValues<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<const N: usize> PartialEq<[&str; N]> for ParameterValues<'_> {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.as_slice().len() == N && self.as_slice().iter().zip(other).all(|(a, b)| a == b)
    }
}

impl PartialEq<[&str]> for ParameterValues<'_> {
    fn eq(&self, other: &[&str]) -> bool {
        self.as_slice().len() == other.len()
            && self.as_slice().iter().zip(other).all(|(a, b)| a == b)
    }
}

impl<'a> PartialEq<Vec<Cow<'a, str>>> for ParameterValues<'a> {
    fn eq(&self, other: &Vec<Cow<'a, str>>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// The parameters of a [`Property`], in order: a slice of [`Parameter`]s (it derefs to
/// `[Parameter]`, mutably too).
///
/// A parsed line in canonical form keeps its parameter section as the text it was read from
/// (`;TZID=Europe/Berlin`, folds included), decoded into [`Parameter`]s the first time
/// someone looks at them as a slice; the writer copies that text as it is (quotes a value
/// did not need included: `CN="Jane"` stays so, where a parameter built in code is written
/// `CN=Jane`), and
/// [`Parameters::value_of`], [`Property::tzid`] and [`Property::value_type`] read it without
/// decoding. A mutation (`push`, `remove`, `DerefMut`, ...) decodes it and keeps the
/// parameters as a `Vec` from then on. Equality, hashing and `Debug` see the decoded
/// parameters only, never the form.
///
/// It offers what code written against a `Vec<Parameter>` uses: `push`, `insert`, `remove`,
/// `retain`, `clear`, iteration, `collect`, `extend` and `From<Vec<Parameter>>`.
///
/// # Example
///
/// ```
/// use ical_parse::{Parameter, Parameters};
///
/// let mut params = Parameters::new();
/// params.push(Parameter::new("TZID", "Europe/Berlin"));
/// params.push(Parameter::new("VALUE", "DATE-TIME"));
/// params.retain(|p| p.name != "VALUE");
/// assert_eq!(params.len(), 1);
/// assert_eq!(params[0].value(), "Europe/Berlin");
/// ```
#[derive(Clone, Default)]
pub struct Parameters<'a>(Params<'a>);

#[derive(Clone)]
enum Params<'a> {
    /// A parameter section as read, not yet edited.
    Raw(Raw<'a>),
    /// Parameters built in code, edited, or read from a line not in canonical form.
    Owned(Vec<Parameter<'a>>),
}

impl Default for Params<'_> {
    /// The empty section: dropping it is a test of the cell, where an empty `Vec` of
    /// parameters takes a call of its drop (most properties have no parameters).
    fn default() -> Self {
        Params::Raw(Raw {
            text: "",
            decoded: std::sync::OnceLock::new(),
        })
    }
}

/// A parameter section of a content line (empty: no parameters); `;NAME=value` or `;NAME="value"`
/// each, names in uppercase, each value one that reads back the same when written as it
/// stands (quoted when it holds `;`, `:`, `,` or a backslash, and maybe when it does not,
/// as RFC 5545 allows; nothing RFC 6868 encodes; no control character), with the line's
/// folds (CRLF or LF, then a space or tab) where they fell.
#[derive(Clone)]
struct Raw<'a> {
    text: &'a str,
    /// The section decoded, once someone asked for it as a slice. Boxed, to keep
    /// [`Property`] small for the properties nobody asks; owned, because a cell of borrowed
    /// parameters would make `Property<'a>` invariant in `'a` (callers shorten it).
    // A thin pointer: a `Vec` or a boxed slice in the cell would make it 16 bytes larger.
    #[allow(clippy::box_collection)]
    decoded: std::sync::OnceLock<Box<Vec<Parameter<'static>>>>,
}

impl<'a> Raw<'a> {
    fn decoded(&self) -> &[Parameter<'static>] {
        if self.text.is_empty() {
            return &[];
        }
        self.decoded
            .get_or_init(|| Box::new(decode_raw(self.text, own_name, own_value)))
    }

    fn into_vec(self) -> Vec<Parameter<'a>> {
        match self.decoded.into_inner() {
            Some(v) => *v,
            None => decode_raw(self.text, |n| n, |v| v),
        }
    }

    fn into_owned(self) -> Vec<Parameter<'static>> {
        match self.decoded.into_inner() {
            Some(v) => *v,
            None => decode_raw(self.text, own_name, own_value),
        }
    }
}

/// The parts of a canonical parameter section without folds: `(name, value)` of each.
struct RawParts<'a>(&'a str);

impl<'a> Iterator for RawParts<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let rest = self.0.strip_prefix(';')?;
        let (name, after) = rest.split_once('=')?;
        let (value, rest) = match after.strip_prefix('"') {
            Some(quoted) => {
                let (value, rest) = quoted.split_once('"')?;
                (value, rest)
            }
            None => after.split_at(after.find(';').unwrap_or(after.len())),
        };
        self.0 = rest;
        Some((name, value))
    }
}

/// Whether a raw section holds a fold.
fn has_fold(text: &str) -> bool {
    memchr::memchr(b'\n', text.as_bytes()).is_some()
}

/// Appends `text` with its folds (a line break and the space or tab after it) removed.
pub(crate) fn push_unfolded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(nl) = memchr::memchr(b'\n', rest.as_bytes()) {
        let (line, after) = rest.split_at(nl);
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        // Past the line break and the continuation's leading space or tab (both ASCII).
        rest = after.get(2..).unwrap_or_default();
    }
    out.push_str(rest);
}

/// The parameters of a raw section, each part passed through `name` and `value` (to borrow
/// or to own it); owned where folds cut the section.
fn decode_raw<'t, 'p>(
    text: &'t str,
    name: fn(Cow<'t, str>) -> Cow<'p, str>,
    value: fn(Cow<'t, str>) -> Cow<'p, str>,
) -> Vec<Parameter<'p>> {
    if has_fold(text) {
        let mut unfolded = String::with_capacity(text.len());
        push_unfolded(&mut unfolded, text);
        return RawParts(&unfolded)
            .map(|(n, v)| Parameter {
                name: own_name(Cow::Borrowed(n)),
                values: ParameterValues::one(own_value(Cow::Borrowed(v))),
            })
            .collect();
    }
    RawParts(text)
        .map(|(n, v)| Parameter {
            name: name(Cow::Borrowed(n)),
            values: ParameterValues::one(value(Cow::Borrowed(v))),
        })
        .collect()
}

impl<'a> Parameters<'a> {
    /// No parameters.
    #[must_use]
    pub fn new() -> Parameters<'a> {
        Parameters::default()
    }

    /// Room for `n` parameters.
    pub(crate) fn with_capacity(n: usize) -> Parameters<'a> {
        Parameters(Params::Owned(Vec::with_capacity(n)))
    }

    /// The parameter section `text` of a line in canonical form, kept as it is (see [`Raw`]
    /// for what it must be); no parameters when it is empty.
    pub(crate) fn raw(text: &'a str) -> Parameters<'a> {
        Parameters(Params::Raw(Raw {
            text,
            decoded: std::sync::OnceLock::new(),
        }))
    }

    /// The parameter section as read, when it is still kept so: it starts with `;` and may
    /// hold folds.
    pub(crate) fn raw_text(&self) -> Option<&'a str> {
        match &self.0 {
            Params::Raw(raw) if !raw.text.is_empty() => Some(raw.text),
            _ => None,
        }
    }

    /// Whether there are no parameters (without decoding a section read from a line).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Params::Raw(raw) => raw.text.is_empty(),
            Params::Owned(v) => v.is_empty(),
        }
    }

    /// The number of parameters (without decoding a section read from a line).
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.0 {
            Params::Raw(raw) => match raw.decoded.get() {
                Some(v) => v.len(),
                None if has_fold(raw.text) => raw.decoded().len(),
                None => RawParts(raw.text).count(),
            },
            Params::Owned(v) => v.len(),
        }
    }

    /// The first value of the first parameter named `name` (case-insensitive), read without
    /// decoding a section read from a line where it can be.
    ///
    /// # Example
    ///
    /// ```
    /// let cal = ical_parse::parse("BEGIN:VCALENDAR\nX;TZID=A;CN=\"B, C\":1\nEND:VCALENDAR\n")
    ///     .unwrap();
    /// let params = &cal.components[0].properties[0].params;
    /// assert_eq!(params.value_of("cn"), Some("B, C"));
    /// assert_eq!(params.value_of("ROLE"), None);
    /// ```
    #[must_use]
    pub fn value_of(&self, name: &str) -> Option<&str> {
        if let Params::Raw(raw) = &self.0
            && raw.decoded.get().is_none()
            && !has_fold(raw.text)
        {
            return RawParts(raw.text)
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v);
        }
        self.as_slice()
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(Parameter::value)
    }

    /// The parameters as a slice (a section read from a line is decoded the first time).
    #[must_use]
    pub fn as_slice(&self) -> &[Parameter<'a>] {
        match &self.0 {
            Params::Raw(raw) => raw.decoded(),
            Params::Owned(v) => v,
        }
    }

    /// `edit` applied to the parameters as a `Vec`: a section read from a line is decoded
    /// and kept so from then on.
    fn edit<R>(&mut self, edit: impl FnOnce(&mut Vec<Parameter<'a>>) -> R) -> R {
        let mut v = std::mem::take(self).into_vec();
        let result = edit(&mut v);
        self.0 = Params::Owned(v);
        result
    }

    /// The parameters as a mutable slice (a section read from a line is decoded, and kept
    /// so from then on).
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [Parameter<'a>] {
        if let Params::Raw(_) = &self.0 {
            self.edit(|_| ());
        }
        match &mut self.0 {
            Params::Owned(v) => v,
            // Not reached: made `Owned` above.
            Params::Raw(_) => &mut [],
        }
    }

    /// Appends a parameter.
    pub fn push(&mut self, param: Parameter<'a>) {
        self.edit(|v| v.push(param));
    }

    /// Inserts a parameter at `index`, shifting those after it.
    ///
    /// # Panics
    ///
    /// When `index` is greater than the length, as [`Vec::insert`].
    pub fn insert(&mut self, index: usize, param: Parameter<'a>) {
        self.edit(|v| v.insert(index, param));
    }

    /// Removes and returns the parameter at `index`, shifting those after it.
    ///
    /// # Panics
    ///
    /// When `index` is out of bounds, as [`Vec::remove`].
    pub fn remove(&mut self, index: usize) -> Parameter<'a> {
        self.edit(|v| v.remove(index))
    }

    /// Keeps only the parameters for which `keep` returns `true`, in order.
    pub fn retain(&mut self, keep: impl FnMut(&Parameter<'a>) -> bool) {
        self.edit(|v| v.retain(keep));
    }

    /// Removes every parameter.
    pub fn clear(&mut self) {
        self.0 = Params::default();
    }

    /// The parameters as a `Vec`.
    #[must_use]
    pub fn into_vec(self) -> Vec<Parameter<'a>> {
        match self.0 {
            Params::Raw(raw) => raw.into_vec(),
            Params::Owned(v) => v,
        }
    }

    /// Each parameter passed through `f`.
    pub(crate) fn map<'b>(self, f: impl FnMut(Parameter<'a>) -> Parameter<'b>) -> Parameters<'b> {
        Parameters(Params::Owned(self.into_vec().into_iter().map(f).collect()))
    }

    /// The parameters with everything they borrow copied.
    #[must_use]
    pub fn into_owned(self) -> Parameters<'static> {
        match self.0 {
            Params::Raw(raw) if raw.text.is_empty() => Parameters::new(),
            Params::Raw(raw) => Parameters(Params::Owned(raw.into_owned())),
            Params::Owned(v) => Parameters(Params::Owned(
                v.into_iter().map(Parameter::into_owned).collect(),
            )),
        }
    }
}

impl<'a> std::ops::Deref for Parameters<'a> {
    type Target = [Parameter<'a>];

    fn deref(&self) -> &[Parameter<'a>] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for Parameters<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.as_mut_slice()
    }
}

impl<'a> From<Vec<Parameter<'a>>> for Parameters<'a> {
    fn from(params: Vec<Parameter<'a>>) -> Parameters<'a> {
        Parameters(Params::Owned(params))
    }
}

impl<'a> From<Parameters<'a>> for Vec<Parameter<'a>> {
    fn from(params: Parameters<'a>) -> Vec<Parameter<'a>> {
        params.into_vec()
    }
}

impl<'a> FromIterator<Parameter<'a>> for Parameters<'a> {
    fn from_iter<I: IntoIterator<Item = Parameter<'a>>>(iter: I) -> Parameters<'a> {
        Parameters(Params::Owned(iter.into_iter().collect()))
    }
}

impl<'a> Extend<Parameter<'a>> for Parameters<'a> {
    fn extend<I: IntoIterator<Item = Parameter<'a>>>(&mut self, iter: I) {
        self.edit(|v| v.extend(iter));
    }
}

/// The owning iterator of [`Parameters`].
#[derive(Debug)]
pub struct IntoIter<'a>(std::vec::IntoIter<Parameter<'a>>);

impl<'a> Iterator for IntoIter<'a> {
    type Item = Parameter<'a>;

    fn next(&mut self) -> Option<Parameter<'a>> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for IntoIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}

impl ExactSizeIterator for IntoIter<'_> {}

impl<'a> IntoIterator for Parameters<'a> {
    type Item = Parameter<'a>;
    type IntoIter = IntoIter<'a>;

    fn into_iter(self) -> IntoIter<'a> {
        IntoIter(self.into_vec().into_iter())
    }
}

impl<'s, 'a> IntoIterator for &'s Parameters<'a> {
    type Item = &'s Parameter<'a>;
    type IntoIter = std::slice::Iter<'s, Parameter<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<'s, 'a> IntoIterator for &'s mut Parameters<'a> {
    type Item = &'s mut Parameter<'a>;
    type IntoIter = std::slice::IterMut<'s, Parameter<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_mut_slice().iter_mut()
    }
}

impl std::fmt::Debug for Parameters<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl PartialEq for Parameters<'_> {
    fn eq(&self, other: &Self) -> bool {
        // The same section decodes the same: no need to decode it.
        if let (Some(a), Some(b)) = (self.raw_text(), other.raw_text())
            && a == b
        {
            return true;
        }
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Parameters<'_> {}

impl std::hash::Hash for Parameters<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<'a> PartialEq<Vec<Parameter<'a>>> for Parameters<'a> {
    fn eq(&self, other: &Vec<Parameter<'a>>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<'a> PartialEq<[Parameter<'a>]> for Parameters<'a> {
    fn eq(&self, other: &[Parameter<'a>]) -> bool {
        self.as_slice() == other
    }
}

impl<'a> Parameter<'a> {
    /// A parameter with one value. The name is uppercased.
    ///
    /// # Example
    ///
    /// ```
    /// let p = ical_parse::Parameter::new("tzid", "Europe/Berlin");
    /// assert_eq!(p.name, "TZID");
    /// ```
    #[must_use]
    pub fn new(name: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) -> Parameter<'a> {
        Parameter {
            name: uppercase(name.into()),
            values: ParameterValues(Values::One([value.into()])),
        }
    }

    /// A parameter with several values (`MEMBER="a","b"`). The name is uppercased.
    #[must_use]
    pub fn with_values(name: impl Into<Cow<'a, str>>, values: Vec<Cow<'a, str>>) -> Parameter<'a> {
        Parameter {
            name: uppercase(name.into()),
            values: values.into(),
        }
    }

    /// A parameter from a name already in uppercase and the values the content-line
    /// splitter collected, without a `Vec`.
    pub(crate) fn with_parameter_values(
        name: Cow<'a, str>,
        values: ParameterValues<'a>,
    ) -> Parameter<'a> {
        Parameter { name, values }
    }

    /// The first value (parameters usually have one).
    #[must_use]
    pub fn value(&self) -> &str {
        self.values.first().map_or("", |v| v.as_ref())
    }

    /// A parameter split from an unfolded `line`, detached from it: what lies within `head`
    /// (the line's first physical line, borrowed from the input) borrows from there instead,
    /// the rest is copied.
    pub(crate) fn rebase<'h>(self, line: &str, head: Option<&'h str>) -> Parameter<'h> {
        Parameter {
            name: rebase(self.name, line, head, own_name),
            values: self.values.rebase(line, head),
        }
    }

    /// The parameter with everything it borrows copied.
    #[must_use]
    pub fn into_owned(self) -> Parameter<'static> {
        Parameter {
            name: own_name(self.name),
            values: self.values.into_owned(),
        }
    }
}

/// `text`, borrowed from `line`, detached from it: the same bytes of `head` when `line`
/// starts with `head` and `text` lies within it, else `own(text)`.
pub(crate) fn rebase<'h>(
    text: Cow<'_, str>,
    line: &str,
    head: Option<&'h str>,
    own: fn(Cow<'_, str>) -> Cow<'static, str>,
) -> Cow<'h, str> {
    if let (Cow::Borrowed(s), Some(head)) = (&text, head) {
        // Where `s` starts in `line`: both are one buffer, so the addresses say it.
        let start = (s.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
        if let Some(same) = start
            .checked_add(s.len())
            .filter(|end| *end <= head.len() && start <= line.len())
            .and_then(|end| head.get(start..end))
        {
            return Cow::Borrowed(same);
        }
    }
    own(text)
}

/// An owned name; a registered one borrows a static copy instead of allocating, since the
/// names of a folded line (copied out of their unfolding buffer) are nearly always those.
pub(crate) fn own_name(name: Cow<'_, str>) -> Cow<'static, str> {
    match name {
        Cow::Owned(s) => Cow::Owned(s),
        Cow::Borrowed(s) => match static_name(s) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(s.to_owned()),
        },
    }
}

/// An owned parameter value; an enumerated one of RFC 5545 §3.2 (`PARTSTAT=NEEDS-ACTION`)
/// borrows a static copy, as the values of a folded ATTENDEE line mostly are.
pub(crate) fn own_value(value: Cow<'_, str>) -> Cow<'static, str> {
    match value {
        Cow::Owned(s) => Cow::Owned(s),
        Cow::Borrowed(s) => match static_value(s) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(s.to_owned()),
        },
    }
}

/// The static copy of an enumerated parameter value of RFC 5545 §3.2 or RFC 6638 §7, found
/// among those of the same length.
fn static_value(s: &str) -> Option<&'static str> {
    let candidates: &[&'static str] = match s.len() {
        3 => &["URI", "END"],
        4 => &["TRUE", "ROOM", "DATE", "8BIT", "FREE", "BUSY", "NONE"],
        5 => &["FALSE", "CHAIR", "GROUP", "START", "CHILD", "REPLY"],
        6 => &["BINARY", "BASE64", "PARENT", "SERVER", "CLIENT"],
        7 => &["UNKNOWN", "SIBLING", "REQUEST"],
        8 => &["ACCEPTED", "DECLINED", "RESOURCE"],
        9 => &["TENTATIVE", "DELEGATED", "COMPLETED", "DATE-TIME"],
        10 => &["INDIVIDUAL", "IN-PROCESS"],
        12 => &["NEEDS-ACTION"],
        13 => &["THISANDFUTURE"],
        14 => &["BUSY-TENTATIVE"],
        15 => &["REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT"],
        16 => &["BUSY-UNAVAILABLE"],
        _ => &[],
    };
    candidates.iter().copied().find(|known| *known == s)
}

/// The static copy of a registered property or parameter name (RFC 5545, 7986, 7953, 6638),
/// found among those of the same length.
fn static_name(s: &str) -> Option<&'static str> {
    let candidates: &[&'static str] = match s.len() {
        2 => &["CN"],
        3 => &["URL", "DIR", "UID"],
        4 => &["ROLE", "RSVP", "TZID"],
        5 => &[
            "EMAIL", "RRULE", "RDATE", "RANGE", "VALUE", "LABEL", "DTEND",
        ],
        6 => &["CUTYPE", "EXDATE", "ATTACH", "ALTREP", "FBTYPE", "MEMBER"],
        7 => &[
            "SUMMARY", "COMMENT", "CONTACT", "FMTTYPE", "RELATED", "RELTYPE", "SENT-BY", "DISPLAY",
            "FEATURE", "DTSTART", "DTSTAMP",
        ],
        8 => &["ATTENDEE", "LOCATION", "PARTSTAT", "ENCODING", "LANGUAGE"],
        9 => &["ORGANIZER"],
        10 => &["CATEGORIES", "CONFERENCE", "RELATED-TO"],
        11 => &["DESCRIPTION"],
        12 => &["DELEGATED-TO"],
        14 => &[
            "REQUEST-STATUS",
            "DELEGATED-FROM",
            "SCHEDULE-AGENT",
            "X-LIC-LOCATION",
        ],
        15 => &["SCHEDULE-STATUS"],
        19 => &["SCHEDULE-FORCE-SEND"],
        _ => &[],
    };
    candidates.iter().copied().find(|known| *known == s)
}

pub(crate) fn uppercase(name: Cow<'_, str>) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(name.to_ascii_uppercase())
    } else {
        name
    }
}

/// A property: name, parameters in order, and the value text as read.
///
/// A property with an empty name is a *raw line*: a line a lenient parse could not read,
/// kept verbatim in [`Property::raw_value`] and written back as it was.
///
/// Equality compares name, parameters and value, not the position it was read at.
///
/// # Example
///
/// ```
/// use ical_parse::Property;
///
/// let p = Property::new("summary", r"Lunch\, then talk");
/// assert_eq!(p.name, "SUMMARY");
/// assert_eq!(p.text(), "Lunch, then talk");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Property<'a> {
    /// The name, in uppercase (empty for a raw line).
    pub name: Cow<'a, str>,
    /// The parameters, in order.
    pub params: Parameters<'a>,
    /// The value as written (TEXT still escaped), or the whole line for a raw line.
    pub raw_value: Cow<'a, str>,
    /// The 1-based line the property starts on (0 when built in code).
    pub line: u32,
    /// The 1-based byte column of the value in that line (0 when built in code).
    pub value_column: u32,
}

impl PartialEq for Property<'_> {
    fn eq(&self, other: &Property<'_>) -> bool {
        self.name == other.name && self.params == other.params && self.raw_value == other.raw_value
    }
}

impl Eq for Property<'_> {}

impl<'a> Property<'a> {
    /// A property with a value already in property-text form (escaped if TEXT). The name is
    /// uppercased.
    #[must_use]
    pub fn new(name: impl Into<Cow<'a, str>>, raw_value: impl Into<Cow<'a, str>>) -> Property<'a> {
        Property {
            name: uppercase(name.into()),
            params: Parameters::new(),
            raw_value: raw_value.into(),
            line: 0,
            value_column: 0,
        }
    }

    /// A TEXT property from unescaped text (escaping it).
    ///
    /// # Example
    ///
    /// ```
    /// let p = ical_parse::Property::text_value("DESCRIPTION", "a; b\nc");
    /// assert_eq!(p.raw_value, r"a\; b\nc");
    /// ```
    #[must_use]
    pub fn text_value(name: impl Into<Cow<'a, str>>, text: &str) -> Property<'a> {
        Property::new(name, Cow::Owned(value::escape_text(text).into_owned()))
    }

    /// A raw line, written back verbatim.
    #[must_use]
    pub fn raw(line: impl Into<Cow<'a, str>>) -> Property<'a> {
        Property {
            name: Cow::Borrowed(""),
            params: Parameters::new(),
            raw_value: line.into(),
            line: 0,
            value_column: 0,
        }
    }

    /// Adds a parameter (builder style).
    #[must_use]
    pub fn with_param(mut self, param: Parameter<'a>) -> Property<'a> {
        self.params.push(param);
        self
    }

    /// Whether this is a raw line a lenient parse could not read.
    #[must_use]
    pub fn is_raw(&self) -> bool {
        self.name.is_empty()
    }

    /// Whether the name is `name` (case-insensitive).
    #[must_use]
    pub fn is(&self, name: &str) -> bool {
        // Parsed names are uppercase, and so are most names asked for: the exact comparison
        // answers those.
        self.name.as_bytes() == name.as_bytes() || self.name.eq_ignore_ascii_case(name)
    }

    /// The first parameter named `name` (case-insensitive).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&Parameter<'a>> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The first value of the first parameter named `name`.
    #[must_use]
    pub fn param_value(&self, name: &str) -> Option<&str> {
        self.params.value_of(name)
    }

    /// The `TZID` parameter.
    #[must_use]
    pub fn tzid(&self) -> Option<&str> {
        self.param_value("TZID")
    }

    /// The value type: the `VALUE` parameter when present, else the property's default
    /// (RFC 5545 §3.7-3.8, RFC 7986 §5, RFC 7953, RFC 9073 for the ones this crate knows);
    /// [`ValueType::Unknown`] for other properties (IANA and X- names).
    #[must_use]
    pub fn value_type(&self) -> ValueType {
        match self.param_value("VALUE") {
            Some(v) => ValueType::from_name(v),
            None => default_value_type(&self.name),
        }
    }

    /// The unescaped TEXT of the value (for any property: TEXT escapes undone).
    #[must_use]
    pub fn text(&self) -> Cow<'_, str> {
        unescape_text(&self.raw_value)
    }

    /// Whether this property's value is a comma-separated list (RFC 5545 §3.1.1): CATEGORIES,
    /// RESOURCES, RDATE, EXDATE and FREEBUSY.
    #[must_use]
    pub fn is_list(&self) -> bool {
        is_list_property(&self.name)
    }

    /// The GEO value: latitude and longitude (§3.8.1.6, `FLOAT;FLOAT`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] with position when the value is not two FLOATs.
    pub fn geo(&self) -> Result<(f64, f64), Error> {
        let Some((lat, lon)) = self.raw_value.split_once(';') else {
            return Err(self.locate(
                Error::in_value(
                    0,
                    ErrorKind::InvalidValue {
                        value_type: ValueType::Float,
                        reason: "expected latitude;longitude",
                    },
                ),
                0,
            ));
        };
        let lat = value::parse_float(lat).map_err(|e| self.locate(e, 0))?;
        let lon = value::parse_float(lon)
            .map_err(|e| self.locate(e, self.raw_value.len() - lon.len()))?;
        Ok((lat, lon))
    }

    /// The typed value of a single-valued property.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] (or [`ErrorKind::Recur`]) with the value's line and column
    /// when the text does not follow its type's grammar.
    ///
    /// # Example
    ///
    /// ```
    /// use ical_parse::{Property, value::Value};
    /// let p = Property::new("SEQUENCE", "3");
    /// assert_eq!(p.value().unwrap(), Value::Integer(3));
    /// ```
    pub fn value(&self) -> Result<Value<'_>, Error> {
        Value::parse(self.value_type(), &self.raw_value).map_err(|e| self.locate(e, 0))
    }

    /// The typed values: each element of a list property, or the one value of another.
    ///
    /// # Errors
    ///
    /// As [`Property::value`], for the first element that does not parse.
    pub fn values(&self) -> Result<Vec<Value<'_>>, Error> {
        let value_type = self.value_type();
        if !self.is_list() {
            return Ok(vec![self.value()?]);
        }
        let mut out = Vec::new();
        let mut offset = 0;
        for part in split_list(&self.raw_value) {
            out.push(Value::parse(value_type, part).map_err(|e| self.locate(e, offset))?);
            offset += part.len() + 1;
        }
        Ok(out)
    }

    /// The DATE or DATE-TIME value with its TZID (DTSTART, DTEND, DUE, RECURRENCE-ID, ...).
    ///
    /// A value of 8 characters without `VALUE=DATE` is read as a DATE all the same (a
    /// frequent deviation).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] with position when the value is neither.
    ///
    /// # Example
    ///
    /// ```
    /// use ical_parse::{Parameter, Property, value::DateOrDateTime};
    /// let p = Property::new("DTSTART", "20240105T090000")
    ///     .with_param(Parameter::new("TZID", "Europe/Paris"));
    /// let at = p.date_time().unwrap();
    /// assert_eq!(at.tzid, Some("Europe/Paris"));
    /// assert!(matches!(at.value, DateOrDateTime::DateTime(t) if !t.utc));
    /// ```
    pub fn date_time(&self) -> Result<Zoned<'_>, Error> {
        let value =
            DateOrDateTime::parse(self.raw_value.trim_end()).map_err(|e| self.locate(e, 0))?;
        Ok(Zoned {
            value,
            tzid: self.tzid(),
        })
    }

    /// Each DATE or DATE-TIME of a list property (EXDATE, RDATE), with the TZID.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] with position for the first element that is neither (a
    /// PERIOD in an RDATE is one: see [`Property::periods`]).
    pub fn date_times(&self) -> Result<Vec<Zoned<'_>>, Error> {
        let tzid = self.tzid();
        let mut out = Vec::new();
        let mut offset = 0;
        for part in split_list(&self.raw_value) {
            let value = DateOrDateTime::parse(part).map_err(|e| self.locate(e, offset))?;
            out.push(Zoned { value, tzid });
            offset += part.len() + 1;
        }
        Ok(out)
    }

    /// Each PERIOD of a list property (RDATE;VALUE=PERIOD, FREEBUSY).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] with position for the first element that is not a PERIOD.
    pub fn periods(&self) -> Result<Vec<Period>, Error> {
        let mut out = Vec::new();
        let mut offset = 0;
        for part in split_list(&self.raw_value) {
            out.push(Period::parse(part).map_err(|e| self.locate(e, offset))?);
            offset += part.len() + 1;
        }
        Ok(out)
    }

    /// The DURATION value (DURATION, TRIGGER without `VALUE=DATE-TIME`, REFRESH-INTERVAL).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] with position when the value is not a DURATION.
    pub fn duration(&self) -> Result<Duration, Error> {
        Duration::parse(&self.raw_value).map_err(|e| self.locate(e, 0))
    }

    /// The RECUR value (RRULE, EXRULE).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Recur`] with position when the rule does not parse.
    pub fn recur(&self) -> Result<Recur, Error> {
        Recur::parse(&self.raw_value)
            .map_err(|e| self.locate(Error::in_value(e.offset, ErrorKind::Recur(e)), 0))
    }

    /// The INTEGER value (SEQUENCE, PRIORITY, PERCENT-COMPLETE, REPEAT).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] with position when the value is not an INTEGER.
    pub fn integer(&self) -> Result<i32, Error> {
        value::parse_integer(&self.raw_value).map_err(|e| self.locate(e, 0))
    }

    /// `error` (found at byte `offset` of the value) at the value's line and column.
    pub(crate) fn locate(&self, error: Error, offset: usize) -> Error {
        let column = self
            .value_column
            .saturating_add(u32::try_from(offset).unwrap_or(u32::MAX));
        error.at(self.line, column.max(1))
    }

    /// The property with everything it borrows copied.
    #[must_use]
    pub fn into_owned(self) -> Property<'static> {
        Property {
            name: own_name(self.name),
            params: self.params.into_owned(),
            raw_value: Cow::Owned(self.raw_value.into_owned()),
            line: self.line,
            value_column: self.value_column,
        }
    }
}

fn is_list_property(name: &str) -> bool {
    matches!(
        name,
        "CATEGORIES" | "RESOURCES" | "RDATE" | "EXDATE" | "FREEBUSY"
    )
}

/// Whether `name` (uppercase) is a property this crate knows from RFC 5545, RFC 7986 or
/// RFC 7953 (as opposed to an X- name or another IANA name).
#[must_use]
pub fn is_registered_property(name: &str) -> bool {
    default_value_type(name) != ValueType::Unknown
}

/// Whether `name` (uppercase) is a parameter of RFC 5545 §3.2, RFC 7986 §6 or RFC 6638 §7.
#[must_use]
pub fn is_registered_parameter(name: &str) -> bool {
    matches!(
        name,
        "ALTREP"
            | "CN"
            | "CUTYPE"
            | "DELEGATED-FROM"
            | "DELEGATED-TO"
            | "DIR"
            | "ENCODING"
            | "FMTTYPE"
            | "FBTYPE"
            | "LANGUAGE"
            | "MEMBER"
            | "PARTSTAT"
            | "RANGE"
            | "RELATED"
            | "RELTYPE"
            | "ROLE"
            | "RSVP"
            | "SENT-BY"
            | "TZID"
            | "VALUE"
            | "DISPLAY"
            | "EMAIL"
            | "FEATURE"
            | "LABEL"
            | "SCHEDULE-AGENT"
            | "SCHEDULE-FORCE-SEND"
            | "SCHEDULE-STATUS"
    )
}

/// The default value type of a property name (uppercase), per the RFC that defines it.
#[must_use]
pub fn default_value_type(name: &str) -> ValueType {
    crate::name::known(name).map_or(ValueType::Unknown, crate::name::Known::value_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_values_one_and_many_compare_as_slices() {
        let mut values = ParameterValues::new();
        assert!(values.is_empty());
        values.push("a".into());
        assert_eq!(values, ["a"]);
        assert_eq!(values, ParameterValues::from(vec![Cow::Borrowed("a")]));
        values.push("b".into());
        values.push("c".into());
        assert_eq!(values, ["a", "b", "c"]);
        assert_ne!(values, ["a", "b"]);
        assert_eq!(format!("{values:?}"), r#"["a", "b", "c"]"#);
    }

    #[test]
    fn parameters_inline_one_and_heap_many_behave_as_a_vec() {
        let a = || Parameter::new("TZID", "A");
        let b = || Parameter::new("VALUE", "DATE");
        let mut params = Parameters::new();
        assert!(params.is_empty());
        params.push(a());
        assert_eq!(params, vec![a()]);
        params.insert(0, b());
        assert_eq!(params, vec![b(), a()]);
        assert_eq!(params.remove(0), b());
        assert_eq!(params.remove(0), a());
        assert!(params.is_empty());
        params.insert(0, a());
        params.retain(|p| p.name != "TZID");
        assert!(params.is_empty());
        params.extend([a(), b()]);
        params[1].name = "X-B".into();
        for p in &mut params {
            p.values.push("2".into());
        }
        assert_eq!(params.iter().map(|p| p.values.len()).sum::<usize>(), 4);
        params.clear();
        assert_eq!(params, Parameters::from(Vec::new()));
        let one: Parameters<'_> = [a()].into_iter().collect();
        assert_eq!(one.clone().into_iter().rev().collect::<Vec<_>>(), vec![a()]);
        assert_eq!(Vec::from(one.into_owned()), vec![a()]);
        assert_eq!(
            format!("{:?}", Parameters::from(vec![a()])),
            format!("{:?}", [a()])
        );
    }

    /// The empty list is an empty section (see `Params::default`): it reads, compares,
    /// hashes and edits as an empty `Vec`, and asking for it as a slice allocates nothing.
    #[test]
    fn empty_parameters_behave_as_an_empty_vec() {
        let hash = |p: &Parameters<'_>| {
            use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
            BuildHasherDefault::<DefaultHasher>::default().hash_one(p)
        };
        let vec = Parameters::from(Vec::new());
        for mut empty in [
            Parameters::new(),
            Parameters::default(),
            Parameters::raw(""),
        ] {
            assert!(empty.is_empty());
            assert_eq!(empty.len(), 0);
            assert!(empty.as_slice().is_empty());
            assert_eq!(empty.raw_text(), None);
            assert_eq!(empty.value_of("TZID"), None);
            assert_eq!(empty, vec);
            assert_eq!(hash(&empty), hash(&vec));
            assert_eq!(format!("{empty:?}"), "[]");
            assert!(empty.clone().into_owned().is_empty());
            assert!(empty.as_mut_slice().is_empty());
            empty.push(Parameter::new("TZID", "A"));
            assert_eq!(empty.value_of("tzid"), Some("A"));
            empty.clear();
            assert_eq!(empty, vec);
        }
        let p = Property::new("X", "1");
        assert!(p.params.is_empty());
        assert_eq!(p.to_line(), "X:1");
    }

    #[test]
    fn parameters_take_the_room_of_a_section_and_its_cell() {
        assert_eq!(std::mem::size_of::<Parameters<'_>>(), 32);
        assert_eq!(std::mem::size_of::<Property<'_>>(), 88);
    }

    #[test]
    fn properties_are_send_and_sync_and_covariant() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Property<'static>>();
        send_sync::<Parameters<'static>>();
        fn shorten<'s>(p: Property<'static>, _: &'s str) -> Property<'s> {
            p
        }
        assert_eq!(shorten(Property::new("X", "1"), "").name, "X");
    }

    proptest::proptest! {
        #[test]
        fn parameters_agree_with_a_vec(ops in proptest::collection::vec((0u8..6, 0usize..4), 0..24)) {
            let mut ours = Parameters::new();
            let mut model: Vec<Parameter<'static>> = Vec::new();
            for (step, (op, at)) in ops.into_iter().enumerate() {
                let p = Parameter::new(format!("X-{}", step % 3), step.to_string());
                match op {
                    0 | 1 => {
                        ours.push(p.clone());
                        model.push(p);
                    }
                    2 => {
                        let at = at.min(model.len());
                        ours.insert(at, p.clone());
                        model.insert(at, p);
                    }
                    3 if at < model.len() => {
                        proptest::prop_assert_eq!(ours.remove(at), model.remove(at));
                    }
                    4 => {
                        let name = format!("X-{at}");
                        ours.retain(|q| q.name != name);
                        model.retain(|q| q.name != name);
                    }
                    5 if at == 0 => {
                        ours.clear();
                        model.clear();
                    }
                    _ => {}
                }
                proptest::prop_assert_eq!(ours.as_slice(), model.as_slice());
            }
            proptest::prop_assert_eq!(ours.clone().into_iter().collect::<Vec<_>>(), model.clone());
            proptest::prop_assert_eq!(Parameters::from(model.clone()), ours);
        }
    }

    #[test]
    fn into_owned_keeps_names_and_values() {
        let line = String::from("NEEDS-ACTION");
        let p = Parameter::with_values("PARTSTAT", vec![Cow::Borrowed(line.as_str())]);
        let owned = p.clone().into_owned();
        drop(line);
        assert_eq!(owned.name, "PARTSTAT");
        assert_eq!(owned.values, ["NEEDS-ACTION"]);
        let x = Parameter::with_values("X-A", vec!["Needs-Action".into(), "2".into()]);
        assert_eq!(x.clone().into_owned(), x);
    }

    #[test]
    fn list_and_typed_values() {
        let p = Property::new("EXDATE", "19960402T010000Z,19960403T010000Z");
        assert_eq!(p.values().unwrap().len(), 2);
        assert_eq!(p.date_times().unwrap().len(), 2);
        let c = Property::new("CATEGORIES", r"A\,B,C");
        assert_eq!(
            c.values().unwrap(),
            [Value::Text("A,B".into()), Value::Text("C".into())]
        );
        let s = Property::new("SUMMARY", r"a\,b,c");
        assert_eq!(s.values().unwrap().len(), 1);
        let geo = Property::new("GEO", "37.386013;-122.082932");
        assert_eq!(geo.geo().unwrap(), (37.386013, -122.082932));
    }

    #[test]
    fn value_errors_carry_position() {
        let mut p = Property::new("DTSTART", "2024010XT000000");
        p.line = 7;
        p.value_column = 9;
        let e = p.date_time().unwrap_err();
        assert_eq!((e.line, e.column), (7, 9));
        let mut x = Property::new("EXDATE", "20240101T000000,2024");
        x.line = 3;
        x.value_column = 8;
        let e = x.date_times().unwrap_err();
        assert_eq!((e.line, e.column), (3, 24));
    }

    #[test]
    fn value_override() {
        let p = Property::new("DTSTART", "19970714").with_param(Parameter::new("value", "date"));
        assert_eq!(p.value_type(), ValueType::Date);
        assert!(p.date_time().unwrap().value.is_date());
        assert_eq!(Property::new("X-FOO", "x").value_type(), ValueType::Unknown);
    }
}
