//! Parsing a stream (RFC 5545 §3.4, §3.6) into the model, in strict or lenient mode.

use crate::component::{Calendar, Component, missing};
use crate::contentline::{self, ContentLine, Event, Lexer, Line, LinePos};
use crate::error::{Error, ErrorKind, Limit, Warning};
use crate::name::{self, Known};
use crate::occurrence::{self, Rules, Seen, Violation};
use crate::property::{
    Parameter, ParameterValues, Parameters, Property, own_name, own_value, rebase, uppercase,
};
use crate::value::{self, ValueType, split_list};
use std::borrow::Cow;

/// How forgiving a parse is.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// RFC 5545's grammar, no stricter: the first deviation is an [`Error`].
    Strict,
    /// Accept what real servers and clients send; report each forgiven deviation as a
    /// [`Warning`]. Unreadable lines are kept as raw lines, never dropped.
    #[default]
    Lenient,
}

/// Limits on untrusted input. Exceeding one is [`ErrorKind::LimitExceeded`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Input size in bytes (default 64 MiB).
    pub max_input_bytes: usize,
    /// One unfolded line in bytes (default 8 MiB, room for an inline ATTACH).
    pub max_line_bytes: usize,
    /// Component nesting depth, VCALENDAR counting 1 (default 16).
    pub max_depth: usize,
    /// Properties in one component (default 10,000).
    pub max_properties_per_component: usize,
    /// Components in the whole input (default 1,000,000).
    pub max_components: usize,
    /// Parameters on one property (default 100).
    pub max_parameters_per_property: usize,
    /// Warnings kept; later ones are counted into one [`ErrorKind::TooManyWarnings`]
    /// (default 1,000).
    pub max_warnings: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_input_bytes: 64 << 20,
            max_line_bytes: 8 << 20,
            max_depth: 16,
            max_properties_per_component: 10_000,
            max_components: 1_000_000,
            max_parameters_per_property: 100,
            max_warnings: 1_000,
        }
    }
}

/// How to parse: the [`Mode`] and the [`Limits`].
///
/// # Example
///
/// ```
/// use ical_parse::{Limits, Mode, ParseOptions};
///
/// let mut limits = Limits::default();
/// limits.max_depth = 4;
/// let options = ParseOptions::strict().with_limits(limits);
/// assert_eq!(options.mode, Mode::Strict);
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Strict or lenient.
    pub mode: Mode,
    /// The limits.
    pub limits: Limits,
}

impl ParseOptions {
    /// Strict mode, default limits.
    #[must_use]
    pub fn strict() -> ParseOptions {
        ParseOptions {
            mode: Mode::Strict,
            limits: Limits::default(),
        }
    }

    /// Lenient mode, default limits (the default).
    #[must_use]
    pub fn lenient() -> ParseOptions {
        ParseOptions::default()
    }

    /// These options with other limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> ParseOptions {
        self.limits = limits;
        self
    }
}

/// A parse's result: the calendar and the warnings (forgiven deviations, in input order).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct Parsed<'a> {
    /// The parsed stream.
    pub calendar: Calendar<'a>,
    /// What was forgiven (lenient) or noted (both modes), in order.
    pub warnings: Vec<Warning>,
}

/// Parses an iCalendar stream leniently (what CalDAV servers send: LF line ends and all),
/// dropping the warnings.
///
/// # Errors
///
/// An [`Error`] with line and column when a limit is exceeded (lenient parsing forgives
/// everything else).
///
/// # Example
///
/// ```
/// let cal = ical_parse::parse("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nEND:VCALENDAR\n").unwrap();
/// assert_eq!(cal.vcalendars().next().unwrap().version().as_deref(), Some("2.0"));
/// ```
pub fn parse(input: &str) -> Result<Calendar<'_>, Error> {
    calendar_only(input, &ParseOptions::lenient())
}

/// Parses an iCalendar stream strictly (RFC 5545 §3's grammar).
///
/// # Errors
///
/// The first deviation, with line, column and what was expected.
///
/// # Example
///
/// ```
/// let err = ical_parse::parse_strict("BEGIN:VCALENDAR\nEND:VCALENDAR\n").unwrap_err();
/// assert_eq!((err.line, err.column), (1, 16));
/// assert_eq!(err.to_string(), "line 1, column 16: line ends with bare LF instead of CRLF");
/// ```
pub fn parse_strict(input: &str) -> Result<Calendar<'_>, Error> {
    calendar_only(input, &ParseOptions::strict())
}

/// The calendar alone: the warnings would be dropped, so they are not collected.
fn calendar_only<'a>(input: &'a str, options: &ParseOptions) -> Result<Calendar<'a>, Error> {
    parse_input(input.as_bytes(), Some(input), options, false).map(|p| p.calendar)
}

/// Parses an iCalendar stream with `options`, returning the warnings too.
///
/// # Errors
///
/// See [`parse`] and [`parse_strict`].
///
/// # Example
///
/// ```
/// use ical_parse::{ErrorKind, ParseOptions};
/// let text = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:1\nEND:VCALENDAR\n";
/// let parsed = ical_parse::parse_with(text, &ParseOptions::lenient()).unwrap();
/// let kinds: Vec<_> = parsed.warnings.iter().map(|w| (w.line, w.kind.clone())).collect();
/// assert_eq!(kinds[1], (6, ErrorKind::MissingEnd("VEVENT".into())));
/// ```
pub fn parse_with<'a>(input: &'a str, options: &ParseOptions) -> Result<Parsed<'a>, Error> {
    parse_input(input.as_bytes(), Some(input), options, true)
}

/// Parses bytes that may not be UTF-8 (a fold inside a UTF-8 sequence, stray Latin-1).
///
/// # Errors
///
/// See [`parse_with`]; in strict mode invalid UTF-8 is [`ErrorKind::InvalidUtf8`], in lenient
/// mode it is replaced by U+FFFD and reported.
pub fn parse_bytes_with<'a>(input: &'a [u8], options: &ParseOptions) -> Result<Parsed<'a>, Error> {
    // One check of the whole input (fast on ASCII) spares one per line.
    parse_input(input, std::str::from_utf8(input).ok(), options, true)
}

/// Parses `input`; `text` is the same input when it is known to be UTF-8. Forgiven
/// deviations are collected as warnings only when `keep_warnings` says the caller reads them.
fn parse_input<'a>(
    input: &'a [u8],
    text: Option<&'a str>,
    options: &ParseOptions,
    keep_warnings: bool,
) -> Result<Parsed<'a>, Error> {
    if input.len() > options.limits.max_input_bytes {
        return Err(Error::new(
            1,
            1,
            ErrorKind::LimitExceeded(Limit::InputBytes),
        ));
    }
    let Spare {
        mut stack,
        mut properties,
    } = Spare::take();
    stack.reserve(4);
    // Room for the properties of a usual component and its parent from the start: a small
    // object (a CalDAV resource) would otherwise grow the buffer three times.
    properties.reserve((input.len() / 32).clamp(4, 64));
    let mut parser = Parser {
        lenient: options.mode == Mode::Lenient,
        keep_warnings,
        limits: options.limits,
        warnings: Vec::new(),
        stack,
        properties,
        root: Calendar::default(),
        components: 0,
        forgiven: Vec::new(),
        canonical: contentline::Canonical::default(),
    };
    let mut lexer = Lexer::new(input, text, options.limits.max_line_bytes);
    if parser.lenient && !keep_warnings {
        lexer.ignore_bare_lf();
    }
    let max_params = options.limits.max_parameters_per_property;
    loop {
        // The usual line takes the shortest way: no event, no line record.
        if let Some((text, number)) = lexer.next_simple() {
            let clean = lexer.clean();
            match contentline::split_canonical(text, max_params, clean, &mut parser.canonical) {
                // BEGIN and END of the components with rules, the usual way, need no
                // property built, looked up and dropped.
                Some(()) if parser.begin_or_end(text, number)? => {}
                Some(()) => {
                    let c = &parser.canonical;
                    let property =
                        split_property(text, c, number, crate::error::col(c.value_offset));
                    let hints = Hints::of_split(text, c);
                    parser.dispatch_with(property, hints)?;
                }
                None => parser.line(Line {
                    text: Cow::Borrowed(text),
                    pos: LinePos::unfolded(number),
                    head: None,
                    source: None,
                    buffered: false,
                })?,
            }
            continue;
        }
        let Some(event) = lexer.next_event()? else {
            break;
        };
        match event {
            Event::Deviation(error) => parser.deviate(error)?,
            Event::Line(line) if line.buffered => {
                let clean = lexer.clean();
                match canonical_physical(
                    &line,
                    lexer.folded(),
                    lexer.segments(),
                    max_params,
                    clean,
                    &mut parser.canonical,
                ) {
                    Some((property, hints)) => parser.dispatch_with(property, hints)?,
                    None => {
                        lexer.unfold_buffered();
                        parser.folded_line(line, lexer.unfolded(), lexer.segments(), clean)?;
                    }
                }
            }
            Event::Line(line) => {
                match canonical(&line, max_params, lexer.clean(), &mut parser.canonical) {
                    Some((property, hints)) => parser.dispatch_with(property, hints)?,
                    None => parser.line(line)?,
                }
            }
        }
    }
    parser.finish()
}

/// The parser's two working buffers (its stack of open components and the properties of
/// those), lent from one parse on a thread to the next: parsing many small objects, the
/// usual CalDAV case, then allocates neither. Only buffers of a small capacity are kept, so
/// a thread holds at most about 13 KB (128 properties of 88 bytes, 16 open components).
struct Spare {
    stack: Vec<Open<'static>>,
    properties: Vec<Property<'static>>,
}

std::thread_local! {
    static SPARE: std::cell::Cell<Option<Spare>> = const { std::cell::Cell::new(None) };
}

impl Spare {
    /// The most open components a kept stack has room for.
    const MAX_STACK: usize = 16;
    /// The most properties a kept buffer has room for.
    const MAX_PROPERTIES: usize = 128;

    /// The buffers the last parse on this thread left, or new ones.
    fn take() -> Spare {
        SPARE.with(std::cell::Cell::take).unwrap_or(Spare {
            stack: Vec::new(),
            properties: Vec::new(),
        })
    }

    /// Keeps the (emptied) buffers of a parse for the next one on this thread.
    fn keep(stack: Vec<Open<'_>>, properties: Vec<Property<'_>>) {
        if stack.capacity() > Spare::MAX_STACK || properties.capacity() > Spare::MAX_PROPERTIES {
            return;
        }
        let spare = Spare {
            stack: detach(stack),
            properties: detach(properties),
        };
        SPARE.with(|cell| cell.set(Some(spare)));
    }
}

/// An empty `Vec` of another element type in the same allocation: an in-place `collect` of
/// no elements keeps the buffer when the layouts are equal (here they are: only the lifetime
/// differs), and allocates nothing when they are not.
fn detach<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None::<U>).collect::<Vec<U>>()
}

/// A BEGIN or END line's component name, with its occurrence rules if it has some.
type NamedComponent<'a> = (Cow<'a, str>, Option<&'static Rules>);

/// A component between its BEGIN and END.
struct Open<'a> {
    component: Component<'a>,
    /// Where its properties start in [`Parser::properties`].
    start: usize,
    /// How often its properties may occur, for the components RFC 5545 names.
    rules: Option<&'static Rules>,
    seen: Seen,
}

struct Parser<'a> {
    lenient: bool,
    /// Whether forgiven deviations are kept as warnings (the caller reads them).
    keep_warnings: bool,
    limits: Limits,
    warnings: Vec<Warning>,
    /// The open components, innermost last.
    stack: Vec<Open<'a>>,
    /// The properties of every open component, in one buffer: a component takes its own in
    /// one allocation of the right size when it closes, rather than growing a `Vec` of its
    /// own several times.
    properties: Vec<Property<'a>>,
    root: Calendar<'a>,
    components: usize,
    forgiven: Vec<(usize, ErrorKind)>,
    /// The parts of the line being read, when it is in canonical form.
    canonical: contentline::Canonical,
}

impl<'a> Parser<'a> {
    /// Forgives `error` (lenient) or returns it (strict).
    fn deviate(&mut self, error: Error) -> Result<(), Error> {
        if self.lenient {
            self.warn(error);
            Ok(())
        } else {
            Err(error)
        }
    }

    fn warn(&mut self, error: Error) {
        if !self.keep_warnings {
            return;
        }
        let cap = self.limits.max_warnings;
        if self.warnings.len() < cap {
            self.warnings.push(error.into());
        } else if self.warnings.len() == cap {
            let (line, column) = (error.line, error.column);
            self.warnings.push(Warning::from(Error::new(
                line,
                column,
                ErrorKind::TooManyWarnings,
            )));
        }
    }

    /// A folded line whose unfolded text is `unfolded` (the lexer's buffer).
    fn folded_line(
        &mut self,
        line: Line<'a>,
        unfolded: &str,
        segments: &contentline::Segments<'a>,
        clean: bool,
    ) -> Result<(), Error> {
        let max_params = self.limits.max_parameters_per_property;
        if let Some((property, hints)) = canonical_folded(
            &line,
            unfolded,
            segments,
            max_params,
            clean,
            &mut self.canonical,
        ) {
            return self.dispatch_with(property, hints);
        }
        self.line(Line {
            text: Cow::Owned(unfolded.to_owned()),
            buffered: false,
            ..line
        })
    }

    /// A line the canonical splitter did not take (see [`canonical`]).
    #[inline(never)]
    fn line(&mut self, line: Line<'a>) -> Result<(), Error> {
        let max_params = self.limits.max_parameters_per_property;
        let Line {
            mut text,
            mut pos,
            head: mut first,
            source: _,
            buffered: _,
        } = line;
        // A byte order mark inside the stream (files concatenated) carries no data either.
        if !text
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphanumeric)
        {
            let trimmed = text.trim_start_matches([' ', '\t', '\u{feff}']);
            if trimmed.is_empty() {
                return self.deviate(Error::new(pos.line, 1, ErrorKind::BlankLine));
            }
            if trimmed.len() < text.len() {
                // Only a line after a blank line (or the first) can start with whitespace: it
                // cannot be written back as it is, so the whitespace goes, reported.
                let kind = if text.starts_with('\u{feff}') {
                    ErrorKind::ByteOrderMark
                } else {
                    ErrorKind::Whitespace("a line start")
                };
                self.deviate(Error::new(pos.line, 1, kind))?;
                // The text no longer starts with the first physical line.
                first = None;
                let cut = text.len() - trimmed.len();
                text = match text {
                    Cow::Borrowed(s) => Cow::Borrowed(s.get(cut..).unwrap_or_default()),
                    Cow::Owned(s) => Cow::Owned(s.get(cut..).unwrap_or_default().to_owned()),
                };
                pos.shift(cut);
            }
        }
        self.forgiven.clear();
        let mut forgiven = std::mem::take(&mut self.forgiven);
        let lenient = self.lenient;
        let split = match text {
            Cow::Borrowed(t) => contentline::split(t, lenient, max_params, &mut forgiven)
                .map(|cl| build(cl, &pos))
                .map_err(|e| (e, Cow::Borrowed(t))),
            Cow::Owned(t) => {
                let split = contentline::split(&t, lenient, max_params, &mut forgiven);
                match split.map(|cl| head(cl, &t, first)) {
                    Ok(head) => Ok(head.with_value(t, &pos)),
                    Err(e) => Err((e, Cow::Owned(t))),
                }
            }
        };
        if !forgiven.is_empty() {
            for (offset, kind) in forgiven.drain(..) {
                let (l, c) = pos.position(offset);
                self.warn(Error::new(l, c, kind));
            }
        }
        self.forgiven = forgiven;
        let property = match split {
            Ok(p) => p,
            Err(((offset, kind), text)) => {
                let (l, c) = pos.position(offset);
                let error = Error::new(l, c, kind);
                if matches!(error.kind, ErrorKind::LimitExceeded(_)) || !self.lenient {
                    return Err(error);
                }
                self.warn(error);
                let mut raw = Property::raw(text);
                raw.line = pos.line;
                raw.value_column = 1;
                return self.push_property_named(raw);
            }
        };
        self.dispatch(property)
    }

    /// Takes a line's property: a component's BEGIN or END, or a property of the open one.
    fn dispatch(&mut self, property: Property<'a>) -> Result<(), Error> {
        let hints = Hints::of(&property.params);
        self.dispatch_with(property, hints)
    }

    /// [`Parser::dispatch`] with what the checks need of the parameters already known.
    fn dispatch_with(&mut self, property: Property<'a>, hints: Hints) -> Result<(), Error> {
        // Names are uppercase once parsed: an exact lookup suffices, and its answer serves
        // the value's check and the occurrence rules too.
        let known = name::known(&property.name);
        match known {
            Some(name::BEGIN) => self.begin(property),
            Some(name::END) => self.end(property),
            _ => {
                self.check_value(&property, hints, known)?;
                self.push_property(property, known)
            }
        }
    }

    /// The component name of a BEGIN or END line (uppercase), with the occurrence rules of
    /// the components RFC 5545 and RFC 7986 give some; `None` when the line names none.
    fn component_name(
        &mut self,
        property: &Property<'a>,
    ) -> Result<Option<NamedComponent<'a>>, Error> {
        // The usual line (`BEGIN:VEVENT`) names a component with rules as it is.
        if property.params.is_empty()
            && let Some((known, rules)) = occurrence::rules(&property.raw_value)
        {
            return Ok(Some((Cow::Borrowed(known), Some(rules))));
        }
        let Some(name) = self.read_component_name(property)? else {
            return Ok(None);
        };
        Ok(Some(match occurrence::rules(&name) {
            // The crate's copy of the name (see `occurrence::rules`).
            Some((known, rules)) => (Cow::Borrowed(known), Some(rules)),
            None => (name, None),
        }))
    }

    fn read_component_name(
        &mut self,
        property: &Property<'a>,
    ) -> Result<Option<Cow<'a, str>>, Error> {
        // The usual name (`VEVENT`) is taken as it is.
        if property.params.is_empty()
            && !property.raw_value.is_empty()
            && contentline::is_upper_name(property.raw_value.as_bytes())
        {
            return Ok(Some(property.raw_value.clone()));
        }
        let at = |kind| Error::new(property.line, property.value_column, kind);
        if !property.params.is_empty() {
            self.deviate(at(ErrorKind::Expected("no parameters on BEGIN or END")))?;
            return Ok(None);
        }
        let trimmed = property.raw_value.trim_end_matches([' ', '\t']);
        if trimmed.is_empty() {
            self.deviate(at(ErrorKind::Expected("a component name")))?;
            return Ok(None);
        }
        if !trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            self.deviate(at(ErrorKind::Expected(
                "a component name of letters, digits and '-'",
            )))?;
            return Ok(None);
        }
        if trimmed.len() < property.raw_value.len() {
            self.deviate(at(ErrorKind::Whitespace("a component name")))?;
        }
        let name = match &property.raw_value {
            Cow::Borrowed(s) => Cow::Borrowed(s.get(..trimmed.len()).unwrap_or_default()),
            Cow::Owned(_) => Cow::Owned(trimmed.to_owned()),
        };
        // Names are case-insensitive (§3.1): `begin:vevent` is legal and stored uppercase.
        Ok(Some(uppercase(name)))
    }

    /// A canonical line just split (see [`Parser::canonical`]) that is `BEGIN` or `END` of a
    /// component with rules, without parameters and matched where it ends one: opened or
    /// closed, `true`. For any other line nothing is done, `false`: the caller builds its
    /// property and dispatches it, which gives the same result for these lines by a longer
    /// way (and reports what they break).
    #[inline]
    fn begin_or_end(&mut self, text: &'a str, number: u32) -> Result<bool, Error> {
        let c = &self.canonical;
        if c.param_count != 0 {
            return Ok(false);
        }
        let (Some(name), Some(value)) = (text.get(..c.name_end), text.get(c.value_offset..)) else {
            return Ok(false);
        };
        let begin = match name {
            "BEGIN" => true,
            "END" => false,
            _ => return Ok(false),
        };
        let Some((known, rules)) = occurrence::rules(value) else {
            return Ok(false);
        };
        let value_column = crate::error::col(c.value_offset);
        if begin {
            self.open(Cow::Borrowed(known), Some(rules), number, value_column)?;
            return Ok(true);
        }
        match self.open_named(known) {
            Some(depth) => self.close_to(depth, number).map(|()| true),
            None => Ok(false),
        }
    }

    fn begin(&mut self, property: Property<'a>) -> Result<(), Error> {
        let Some((name, rules)) = self.component_name(&property)? else {
            return self.push_property_named(raw_of(property));
        };
        self.open(name, rules, property.line, property.value_column)
    }

    /// Opens the component `name` (uppercase, see `component_name`) whose BEGIN is on `line`.
    fn open(
        &mut self,
        name: Cow<'a, str>,
        rules: Option<&'static Rules>,
        line: u32,
        value_column: u32,
    ) -> Result<(), Error> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Error::new(line, 1, ErrorKind::LimitExceeded(Limit::Depth)));
        }
        if self.components >= self.limits.max_components {
            return Err(Error::new(
                line,
                1,
                ErrorKind::LimitExceeded(Limit::Components),
            ));
        }
        self.components += 1;
        if self.stack.is_empty() && name != "VCALENDAR" {
            self.deviate(Error::new(
                line,
                value_column,
                ErrorKind::OutsideCalendar(name.to_string()),
            ))?;
        }
        let component = Component {
            name,
            properties: Vec::new(),
            components: Vec::new(),
            line,
        };
        self.stack.push(Open {
            rules,
            component,
            start: self.properties.len(),
            seen: Seen::default(),
        });
        Ok(())
    }

    fn end(&mut self, property: Property<'a>) -> Result<(), Error> {
        let Some((name, _)) = self.component_name(&property)? else {
            return self.push_property_named(raw_of(property));
        };
        let Some(depth) = self.open_named(&name) else {
            self.deviate(Error::new(
                property.line,
                property.value_column,
                ErrorKind::UnmatchedEnd(name.to_string()),
            ))?;
            return self.push_property_named(raw_of(property));
        };
        self.close_to(depth, property.line)
    }

    /// Where the innermost open component named `name` is on the stack.
    fn open_named(&self, name: &str) -> Option<usize> {
        self.stack.iter().rposition(|open| {
            // The crate's copy of a name is one pointer: compared before the bytes.
            let open = open.component.name.as_ref();
            std::ptr::eq(open, name) || open == name
        })
    }

    /// Closes the open components down to the one at `depth` (by an END on `line`),
    /// reporting each one inside it as missing its END.
    fn close_to(&mut self, depth: usize, line: u32) -> Result<(), Error> {
        while self.stack.len() > depth + 1 {
            if let Some(open) = self.stack.last() {
                let error = Error::new(
                    line,
                    1,
                    ErrorKind::MissingEnd(open.component.name.to_string()),
                );
                self.deviate(error)?;
            }
            self.close()?;
        }
        self.close()
    }

    /// Closes the innermost open component and attaches it to its parent.
    fn close(&mut self) -> Result<(), Error> {
        let Some(Open {
            mut component,
            start,
            rules,
            seen,
        }) = self.stack.pop()
        else {
            return Ok(());
        };
        // One allocation at the final size and one copy.
        component.properties = self.properties.split_off(start.min(self.properties.len()));
        if let Some(rules) = rules {
            let children = component.components.iter().map(|c| c.name.as_ref());
            for violation in rules.violations(seen, children) {
                let error = match violation {
                    Violation::Missing(property) => missing(&component, property),
                    Violation::Exclusive(first, second) => Error::new(
                        component
                            .property(second)
                            .map_or(component.line, |p| p.line),
                        1,
                        ErrorKind::ExclusiveProperties {
                            component: component.name.to_string(),
                            first,
                            second,
                        },
                    ),
                    Violation::MissingComponent(expected) => Error::new(
                        component.line,
                        1,
                        ErrorKind::MissingComponent {
                            component: component.name.to_string(),
                            expected,
                        },
                    ),
                };
                self.deviate(error)?;
            }
        }
        if component.name == "VALARM" {
            for error in occurrence::alarm_violations(&component) {
                self.deviate(error)?;
            }
        }
        match self.stack.last_mut() {
            // The first child gets room for two (an event's alarm; a calendar's VTIMEZONE and
            // event; STANDARD and DAYLIGHT), not the four of a `Vec`'s first growth.
            Some(parent) if parent.component.components.capacity() == 0 => {
                let mut children = Vec::with_capacity(2);
                children.push(component);
                parent.component.components = children;
            }
            Some(parent) => parent.component.components.push(component),
            None => self.root.components.push(component),
        }
        Ok(())
    }

    /// [`Parser::push_property`] of a property whose name was not looked up yet.
    fn push_property_named(&mut self, property: Property<'a>) -> Result<(), Error> {
        let known = name::known(&property.name);
        self.push_property(property, known)
    }

    // Inlined, a property is written into the buffer once instead of being copied into a
    // call's argument first.
    #[inline(always)]
    fn push_property(&mut self, property: Property<'a>, known: Option<Known>) -> Result<(), Error> {
        let limit = self.limits.max_properties_per_component;
        let line = property.line;
        let (target, start) = match self.stack.last_mut() {
            Some(open) => {
                if let Some(rules) = open.rules
                    && !rules.note(&mut open.seen, known)
                {
                    let error = Error::new(
                        line,
                        1,
                        ErrorKind::DuplicateProperty {
                            component: open.component.name.to_string(),
                            property: property.name.to_string(),
                        },
                    );
                    self.deviate(error)?;
                }
                (
                    &mut self.properties,
                    self.stack.last().map_or(0, |o| o.start),
                )
            }
            None => {
                if !property.is_raw() {
                    self.deviate(Error::new(
                        line,
                        1,
                        ErrorKind::OutsideCalendar(property.name.to_string()),
                    ))?;
                }
                (&mut self.root.properties, 0)
            }
        };
        if target.len() - start >= limit {
            return Err(Error::new(
                line,
                1,
                ErrorKind::LimitExceeded(Limit::PropertiesPerComponent),
            ));
        }
        target.push(property);
        Ok(())
    }

    /// Checks the value against its type's grammar (§3.3) and the property's rules.
    fn check_value(
        &mut self,
        property: &Property<'_>,
        hints: Hints,
        known: Option<Known>,
    ) -> Result<(), Error> {
        // `Property::value_type`, from the name's lookup.
        let value_type = match (hints.value, known) {
            (Some(t), _) => t,
            (None, Some(k)) => k.value_type(),
            (None, None) => ValueType::Unknown,
        };
        let raw = property.raw_value.as_ref();
        let checked = match value_type {
            ValueType::Unknown | ValueType::CalAddress | ValueType::Uri => Ok(()),
            _ if known == Some(name::GEO) => property.geo().map(drop),
            _ if known == Some(name::REQUEST_STATUS) => Ok(()),
            ValueType::Text => check_text(raw).map_err(|o| {
                Error::new(
                    0,
                    crate::error::col(o),
                    ErrorKind::Expected(r"an escape \\ \; \, or \n"),
                )
                .at(property.line, property.value_column)
            }),
            ValueType::DateTime if value::is_date_time(raw) => Ok(()),
            ValueType::Date if value::is_date(raw) => Ok(()),
            // Checked without building the rule (its lists would allocate).
            ValueType::Recur => crate::recur::Recur::check(raw)
                .map_err(|e| property.locate(Error::in_value(e.offset, ErrorKind::Recur(e)), 0)),
            _ if property.is_list() => {
                let mut offset = 0;
                let mut result = Ok(());
                for part in split_list(raw) {
                    if let Err(e) = value::Value::parse(value_type, part) {
                        result = Err(shift_error(e, property, offset));
                        break;
                    }
                    offset += part.len() + 1;
                }
                result
            }
            _ => value::Value::parse(value_type, raw)
                .map(drop)
                .map_err(|e| property.locate(e, 0)),
        };
        if let Err(error) = checked {
            self.deviate(error)?;
        }
        if matches!(value_type, ValueType::DateTime | ValueType::Period)
            && hints.tzid
            && split_list(raw).any(|v| v.split('/').next().is_some_and(|s| s.ends_with('Z')))
        {
            self.deviate(Error::new(
                property.line,
                property.value_column,
                ErrorKind::UtcWithTzid,
            ))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Parsed<'a>, Error> {
        while let Some(Open {
            component: open, ..
        }) = self.stack.last()
        {
            let error = Error::new(open.line, 1, ErrorKind::MissingEnd(open.name.to_string()));
            self.deviate(error)?;
            self.close()?;
        }
        if self.root.components.is_empty() {
            self.deviate(Error::new(1, 1, ErrorKind::Expected("BEGIN:VCALENDAR")))?;
        }
        Spare::keep(self.stack, self.properties);
        Ok(Parsed {
            calendar: self.root,
            warnings: self.warnings,
        })
    }
}

/// What the checks of a value need of its property's parameters.
#[derive(Clone, Copy)]
struct Hints {
    /// The type the first `VALUE` parameter names.
    value: Option<ValueType>,
    /// Whether there is a `TZID` parameter.
    tzid: bool,
}

impl Hints {
    /// The hints of decoded parameters (names in uppercase).
    fn of(params: &Parameters<'_>) -> Hints {
        Hints {
            value: params
                .iter()
                .find(|p| p.name == "VALUE")
                .map(|p| ValueType::from_name(p.value())),
            tzid: params.iter().any(|p| p.name == "TZID"),
        }
    }

    /// The hints of a canonical split `c` of `text`, noted by the splitter.
    #[inline]
    fn of_split(text: &str, c: &contentline::Canonical) -> Hints {
        Hints {
            value: c
                .value
                .map(|(from, to)| ValueType::from_name(text.get(from..to).unwrap_or_default())),
            tzid: c.tzid,
        }
    }
}

fn shift_error(error: Error, property: &Property<'_>, offset: usize) -> Error {
    let column = property
        .value_column
        .saturating_add(u32::try_from(offset).unwrap_or(u32::MAX));
    error.at(property.line, column)
}

/// The offset of the first backslash not followed by `\ ; , n N`.
fn check_text(raw: &str) -> Result<(), usize> {
    let b = raw.as_bytes();
    // A short value is searched faster byte by byte than by a call to memchr.
    if b.len() < 16 && !b.contains(&b'\\') {
        return Ok(());
    }
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'\\', b.get(from..).unwrap_or_default()) {
        let at = from + i;
        if !matches!(b.get(at + 1), Some(b'\\' | b';' | b',' | b'n' | b'N')) {
            return Err(at);
        }
        from = at + 2;
    }
    Ok(())
}

fn raw_of(property: Property<'_>) -> Property<'_> {
    let mut text = String::new();
    crate::write::content_line(&mut text, &property);
    let mut raw = Property::raw(text);
    raw.line = property.line;
    raw.value_column = 1;
    raw
}

/// Builds a property from a split line, its name in uppercase (names are case-insensitive,
/// §3.1, and the writer writes the canonical uppercase form).
fn build<'s>(cl: ContentLine<'s>, pos: &LinePos<'_>) -> Property<'s> {
    let (line, value_column) = pos.position(cl.value_offset);
    let name = if cl.lowercase {
        uppercase(Cow::Borrowed(cl.name))
    } else {
        Cow::Borrowed(cl.name)
    };
    Property {
        name,
        params: cl.params,
        raw_value: Cow::Borrowed(cl.value),
        line,
        value_column,
    }
}

/// The property of a line in canonical form (see [`contentline::split_canonical`]), built
/// without the general splitter; `None` for another line.
fn canonical<'a>(
    line: &Line<'a>,
    max_params: usize,
    clean: bool,
    c: &mut contentline::Canonical,
) -> Option<(Property<'a>, Hints)> {
    let Cow::Borrowed(t) = line.text else {
        return None;
    };
    contentline::split_canonical(t, max_params, clean, c)?;
    let (l, value_column) = line.pos.position(c.value_offset);
    Some((split_property(t, c, l, value_column), Hints::of_split(t, c)))
}

/// The property a canonical split `c` of `text` describes, borrowing every part of `text`.
#[inline(always)]
fn split_property<'a>(
    text: &'a str,
    c: &contentline::Canonical,
    line: u32,
    value_column: u32,
) -> Property<'a> {
    // Split at the name's end and the value's start (inlined, where a range's `get` on a
    // `str` is a call of its own here).
    let (name, rest) = text.split_at_checked(c.name_end).unwrap_or((text, ""));
    let (head, value) = rest
        .split_at_checked(c.value_offset.saturating_sub(c.name_end))
        .unwrap_or((rest, ""));
    Property {
        name: Cow::Borrowed(name),
        // The section as it stands (see `Parameters::raw`).
        params: Parameters::raw(head.strip_suffix(':').unwrap_or(head)),
        raw_value: Cow::Borrowed(value),
        line,
        value_column,
    }
}

/// The property of a folded line in canonical form, its unfolded text `t`: each part borrows
/// from the input where it lies within one physical line, and is copied where a fold cuts it.
fn canonical_folded<'a>(
    line: &Line<'a>,
    t: &str,
    segments: &contentline::Segments<'a>,
    max_params: usize,
    clean: bool,
    c: &mut contentline::Canonical,
) -> Option<(Property<'a>, Hints)> {
    line.source?;
    contentline::split_canonical(t, max_params, clean, c)?;
    let (l, value_column) = line.pos.position(c.value_offset);
    let ranges = c.params.get(..c.param_count).unwrap_or_default();
    let section = c.name_end..c.value_offset.saturating_sub(1);
    let part = |from: usize, to: usize, own: fn(Cow<'_, str>) -> Cow<'static, str>| match segments
        .lift(from, to)
    {
        Some(s) => Cow::Borrowed(s),
        None => own(Cow::Borrowed(t.get(from..to).unwrap_or_default())),
    };
    // The section as it stands in the input, folds and all, when it lies in one piece of
    // the input; it is unfolded when written or decoded.
    let raw = match section.is_empty() {
        false => segments.span(section.start, section.end),
        true => None,
    };
    let params = match raw {
        Some(raw) => Parameters::raw(raw),
        None => ranges
            .iter()
            .map(|&[n0, n1, v0, v1]| {
                Parameter::with_parameter_values(
                    part(n0, n1, own_name),
                    ParameterValues::one(part(v0, v1, own_value)),
                )
            })
            .collect(),
    };
    Some((
        Property {
            name: part(0, c.name_end, own_name),
            params,
            raw_value: part(c.value_offset, t.len(), |v| Cow::Owned(v.into_owned())),
            line: l,
            value_column,
        },
        Hints::of_split(t, c),
    ))
}

/// The property of a folded line in canonical form, split on its physical text `physical`
/// (see [`contentline::split_canonical_folded`]) without unfolding it first: each part
/// borrows from the input where no fold cuts it and is unfolded into a copy where one does;
/// the parameter section is kept as it stands, folds included (it is unfolded when written
/// or decoded).
fn canonical_physical<'a>(
    line: &Line<'a>,
    physical: &'a str,
    segments: &contentline::Segments<'a>,
    max_params: usize,
    clean: bool,
    c: &mut contentline::Canonical,
) -> Option<(Property<'a>, Hints)> {
    line.source?;
    contentline::split_canonical_folded(physical, max_params, clean, c)?;
    let b = physical.as_bytes();
    // The value's physical line and whether a fold cuts it, from the lines the lexer noted
    // (a continuation's space or tab is column 1).
    let (l, value_column, value_folded) = match segments.locate(c.value_offset) {
        Some((0, _, folded)) => (line.pos.line, crate::error::col(c.value_offset), folded),
        Some((k, start, folded)) => (
            line.pos
                .line
                .saturating_add(u32::try_from(k).unwrap_or(u32::MAX)),
            crate::error::col(c.value_offset - start).saturating_add(1),
            folded,
        ),
        None => {
            let (before, value) = physical.split_at_checked(c.value_offset)?;
            let breaks = memchr::memchr_iter(b'\n', before.as_bytes()).count();
            let column = match memchr::memrchr(b'\n', before.as_bytes()) {
                Some(nl) => crate::error::col(c.value_offset - nl - 1),
                None => crate::error::col(c.value_offset),
            };
            (
                line.pos
                    .line
                    .saturating_add(u32::try_from(breaks).unwrap_or(u32::MAX)),
                column,
                contentline::has_fold(value),
            )
        }
    };
    let ranges = c.params.get(..c.param_count).unwrap_or_default();
    // The section from its first `;` to the `:`, without the folds around it.
    let colon = c.value_offset.checked_sub(1)?;
    let mut end = colon;
    while end > c.name_end && b.get(end) != Some(&b':') {
        end -= 1;
    }
    let start = ranges.first().map_or(end, |_| {
        let mut s = c.name_end;
        while s < end && b.get(s) != Some(&b';') {
            s += 1;
        }
        s
    });
    let params = Parameters::raw(trim_folds(physical.get(start..end).unwrap_or_default()));
    Some((
        Property {
            name: Cow::Borrowed(physical.get(..c.name_end).unwrap_or_default()),
            params,
            raw_value: match physical.get(c.value_offset..) {
                Some(v) if !value_folded => Cow::Borrowed(v),
                Some(v) => {
                    let mut unfolded = String::with_capacity(v.len());
                    if !segments.unfold_from(&mut unfolded, c.value_offset) {
                        contentline::unfold_into(&mut unfolded, v);
                    }
                    Cow::Owned(unfolded)
                }
                None => Cow::Borrowed(""),
            },
            line: l,
            value_column,
        },
        Hints::of_split(physical, c),
    ))
}

/// `s` without the folds that end it.
fn trim_folds(s: &str) -> &str {
    let mut s = s;
    while let Some(rest) = s
        .strip_suffix([' ', '\t'])
        .and_then(|r| r.strip_suffix('\n'))
    {
        s = rest.strip_suffix('\r').unwrap_or(rest);
    }
    s
}

/// What a folded line's property keeps before its value: owned, so that the line's buffer
/// can become the value.
struct Head<'a> {
    name: Cow<'a, str>,
    params: Parameters<'a>,
    value_offset: usize,
}

/// The name and parameters of a folded `line`, borrowed from its first physical line `first`
/// where they lie in it (they nearly always start there), copied otherwise.
fn head<'a>(cl: ContentLine<'_>, line: &str, first: Option<&'a str>) -> Head<'a> {
    Head {
        name: rebase(uppercase(Cow::Borrowed(cl.name)), line, first, own_name),
        params: cl.params.map(|p| p.rebase(line, first)),
        value_offset: cl.value_offset,
    }
}

impl<'h> Head<'h> {
    /// The property, its value the unfolded line with name and parameters cut off (moved
    /// within the buffer, not copied into a new one).
    fn with_value(self, mut line: String, pos: &LinePos<'_>) -> Property<'h> {
        let (l, c) = pos.position(self.value_offset);
        if line.is_char_boundary(self.value_offset) {
            line.drain(..self.value_offset);
        } else {
            // Not reached: the value starts after an ASCII ':'.
            line = line.get(self.value_offset..).unwrap_or_default().to_owned();
        }
        Property {
            name: self.name,
            params: self.params,
            raw_value: Cow::Owned(line),
            line: l,
            value_column: c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n\
        BEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART;TZID=Europe/Paris:\
        20240101T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn folded_line_borrows_what_lies_in_its_first_physical_line() {
        let text = MINIMAL.replace(
            "UID:1\r\n",
            "UID:1\r\nATTENDEE;ROLE=CHAIR;CN=\"Jane\r\n  Doe\";X-P=a\r\n b:mailto:j@x\r\n",
        );
        let cal = parse_strict(&text).unwrap();
        let attendee = cal.events().next().unwrap().attendees().next().unwrap();
        assert!(matches!(attendee.name, Cow::Borrowed("ATTENDEE")));
        let params: Vec<_> = attendee.params.iter().collect();
        assert!(matches!(params[0].name, Cow::Borrowed("ROLE")));
        assert!(matches!(params[0].values[0], Cow::Borrowed("CHAIR")));
        assert!(matches!(params[1].name, Cow::Borrowed("CN")));
        // Across the fold: copied, and unfolded.
        assert!(matches!(&params[1].values[0], Cow::Owned(v) if v == "Jane Doe"));
        assert!(matches!(&params[2].values[0], Cow::Owned(v) if v == "ab"));
        assert_eq!(attendee.raw_value, "mailto:j@x");
        assert_eq!(parse_strict(&cal.write()).unwrap(), cal);
    }

    #[test]
    fn strict_accepts_minimal() {
        let cal = parse_strict(MINIMAL).unwrap();
        assert_eq!(cal.components.len(), 1);
        assert_eq!(cal.events().count(), 1);
        assert!(matches!(
            cal.components[0].properties[0].raw_value,
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn lenient_keeps_unreadable_lines() {
        let text = MINIMAL.replace("UID:1\r\n", "UID:1\r\nX-APPLE-RADIUS=49.9\r\n");
        assert!(parse_strict(&text).is_err());
        let parsed = parse_with(&text, &ParseOptions::lenient()).unwrap();
        let event = parsed.calendar.events().next().unwrap();
        assert!(
            event
                .0
                .properties
                .iter()
                .any(|p| p.is_raw() && p.raw_value == "X-APPLE-RADIUS=49.9")
        );
        assert_eq!(parsed.warnings[0].line, 6);
        assert_eq!(parsed.warnings[0].kind, ErrorKind::UnreadableLine);
    }

    #[test]
    fn limits_are_errors() {
        let limits = Limits {
            max_depth: 1,
            ..Limits::default()
        };
        let e = parse_with(MINIMAL, &ParseOptions::lenient().with_limits(limits)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::LimitExceeded(Limit::Depth));
        assert_eq!(e.line, 4);
        let limits = Limits {
            max_input_bytes: 10,
            ..Limits::default()
        };
        assert!(parse_with(MINIMAL, &ParseOptions::lenient().with_limits(limits)).is_err());
    }

    /// The first property of a VCALENDAR made of `line`.
    fn first_property(line: &str) -> Property<'_> {
        let cal = parse(line).unwrap();
        cal.components
            .into_iter()
            .next()
            .unwrap()
            .properties
            .remove(0)
    }

    #[test]
    fn canonical_sections_are_kept_as_read_folds_included() {
        let text = MINIMAL.replace(
            "UID:1\r\n",
            "UID:1\r\nATTENDEE;ROLE=CHAIR;CN=\"Jane\r\n  Doe, J\";X-P=a\r\n b:mailto:j@x\r\n",
        );
        let cal = parse_strict(&text).unwrap();
        let event = cal.events().next().unwrap();
        let attendee = event.attendees().next().unwrap();
        assert_eq!(
            attendee.params.raw_text(),
            Some(";ROLE=CHAIR;CN=\"Jane\r\n  Doe, J\";X-P=a\r\n b")
        );
        assert_eq!(attendee.params.value_of("CN"), Some("Jane Doe, J"));
        assert_eq!(attendee.params.len(), 3);
        assert_eq!(
            attendee.params[2],
            Parameter::new("X-P", "ab"),
            "decoded on access"
        );
        assert_eq!(
            attendee.to_line(),
            r#"ATTENDEE;ROLE=CHAIR;CN="Jane Doe, J";X-P=ab:mailto:j@x"#
        );
        let dtstart = event.0.property("DTSTART").unwrap();
        assert_eq!(dtstart.params.raw_text(), Some(";TZID=Europe/Paris"));
        assert_eq!(dtstart.tzid(), Some("Europe/Paris"));
        assert_eq!(parse_strict(&cal.write()).unwrap(), cal);
        // Quotes the writer would not need are kept as read too (RFC 5545 allows them on any
        // value); a section built in code is quoted only where it must be.
        let quoted = first_property("BEGIN:VCALENDAR\r\nX;CN=\"Jane\":1\r\nEND:VCALENDAR\r\n");
        assert_eq!(quoted.params.raw_text(), Some(";CN=\"Jane\""));
        assert_eq!(quoted.params.value_of("CN"), Some("Jane"));
        assert_eq!(quoted.to_line(), "X;CN=\"Jane\":1");
        let built = Property::new("X", "1").with_param(Parameter::new("CN", "Jane"));
        assert_eq!(built, quoted, "the form is not part of equality");
        assert_eq!(built.to_line(), "X;CN=Jane:1");
    }

    #[test]
    fn editing_a_section_read_from_a_line_decodes_it_first() {
        let line = "BEGIN:VCALENDAR\r\nX;A=1;B=\"2,3\";C=4:v\r\nEND:VCALENDAR\r\n";
        let eager = || {
            vec![
                Parameter::new("A", "1"),
                Parameter::new("B", "2,3"),
                Parameter::new("C", "4"),
            ]
        };
        let mut p = first_property(line);
        p.params[1].values.push("x".into());
        let mut expected = eager();
        expected[1].values.push("x".into());
        assert_eq!(p.params, expected);
        assert_eq!(p.params.raw_text(), None);
        assert_eq!(p.to_line(), r#"X;A=1;B="2,3",x;C=4:v"#);

        let mut p = first_property(line);
        assert_eq!(p.params.remove(0), Parameter::new("A", "1"));
        p.params.push(Parameter::new("D", "5"));
        p.params.insert(0, Parameter::new("E", "6"));
        p.params.retain(|q| q.name != "C");
        assert_eq!(p.to_line(), r#"X;E=6;B="2,3";D=5:v"#);

        let mut p = first_property(line);
        p.params.extend([Parameter::new("F", "7")]);
        assert_eq!(p.params.len(), 4);
        for q in &mut p.params {
            q.name = q.name.to_lowercase().into();
        }
        assert_eq!(p.params[3].name, "f");
        p.params.clear();
        assert!(p.params.is_empty());
        assert_eq!(p.to_line(), "X:v");

        let p = first_property(line);
        assert_eq!(p.params.clone().into_vec(), eager());
        assert_eq!(p.params.clone().into_iter().collect::<Vec<_>>(), eager());
        assert_eq!(p.clone().into_owned(), p);
        assert_eq!(format!("{:?}", p.params), format!("{:?}", eager()));
    }

    fn hash_of(value: &impl std::hash::Hash) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        BuildHasherDefault::<DefaultHasher>::default().hash_one(value)
    }

    /// Folds `line` at each byte offset of `cuts` (in range, any byte, inside a UTF-8
    /// sequence too) with `eol` and a space or tab.
    fn fold_at_bytes(line: &str, cuts: &[(usize, bool)], eol: &str) -> Vec<u8> {
        let mut cuts: Vec<(usize, bool)> = cuts
            .iter()
            .copied()
            .filter(|&(c, _)| c > 0 && c <= line.len())
            .collect();
        cuts.sort_unstable();
        let mut out = Vec::new();
        let mut last = 0;
        for (cut, tab) in cuts {
            out.extend_from_slice(&line.as_bytes()[last..cut]);
            out.extend_from_slice(eol.as_bytes());
            out.push(if tab { b'\t' } else { b' ' });
            last = cut;
        }
        out.extend_from_slice(&line.as_bytes()[last..]);
        out
    }

    /// `name`, its parameters (quoted when asked or when a value holds one of `specials`) and
    /// `value`, as one content line.
    fn content_line(
        name: &str,
        params: &[(String, String, bool)],
        value: &str,
        specials: &[u8],
    ) -> String {
        let mut line = name.to_owned();
        for (pname, v, quote) in params {
            if *quote || v.bytes().any(|b| specials.contains(&b)) {
                line.push_str(&format!(";{pname}=\"{v}\""));
            } else {
                line.push_str(&format!(";{pname}={v}"));
            }
        }
        line.push(':');
        line.push_str(value);
        line
    }

    proptest::proptest! {
        /// A folded line split on its physical text gives the property (parts, line and
        /// column of the value, warnings, errors) that unfolding it first gives, folded at any
        /// byte: the same as the same line unfolded, and as the path that unfolds first.
        #[test]
        fn folded_line_splits_as_its_unfolded_text(
            name in "(X-[A-Z0-9-]{0,6}|SUMMARY|DESCRIPTION|x-lower)",
            params in proptest::collection::vec(
                (
                    "(TZID|VALUE|CN|X-[A-Z]{0,3}|x-l)",
                    "[a-zA-Z0-9 ,;:/.\\\\^ö€-]{0,12}",
                    proptest::bool::ANY,
                ),
                0..6,
            ),
            value in "[a-zA-Z0-9 :;,\\\\ö€]{0,40}",
            cuts in proptest::collection::vec((0usize..120, proptest::bool::ANY), 0..6),
            lf in proptest::bool::ANY,
        ) {
            let line = content_line(&name, &params, &value, b";:,");
            let eol = if lf { "\n" } else { "\r\n" };
            let wrap = |body: &[u8]| {
                let mut out = format!("BEGIN:VCALENDAR{eol}").into_bytes();
                out.extend_from_slice(body);
                out.extend_from_slice(format!("{eol}END:VCALENDAR{eol}").as_bytes());
                out
            };
            let folded = wrap(&fold_at_bytes(&line, &cuts, eol));
            let plain = wrap(line.as_bytes());
            let first = |parsed: &Parsed<'_>| -> Option<Property<'static>> {
                Some(parsed.calendar.components.first()?.properties.first()?.clone().into_owned())
            };
            for options in [ParseOptions::lenient(), ParseOptions::strict()] {
                // The path that unfolds first: input not known to be text.
                let unfolding = parse_input(&folded, None, &options, true);
                if let Ok(text) = std::str::from_utf8(&folded) {
                    let physical = parse_with(text, &options);
                    match (&physical, &unfolding) {
                        (Ok(a), Ok(b)) => {
                            proptest::prop_assert_eq!(first(a), first(b));
                            let (pa, pb) = (first(a).unwrap(), first(b).unwrap());
                            proptest::prop_assert_eq!(
                                (pa.line, pa.value_column),
                                (pb.line, pb.value_column)
                            );
                            proptest::prop_assert_eq!(&a.warnings, &b.warnings);
                            let written = a.calendar.write();
                            proptest::prop_assert_eq!(
                                parse_with(&written, &ParseOptions::lenient()).unwrap().calendar,
                                a.calendar.clone()
                            );
                        }
                        (Err(a), Err(b)) => proptest::prop_assert_eq!(a, b),
                        (a, b) => proptest::prop_assert!(false, "{a:?} against {b:?}"),
                    }
                }
                // Folded at any byte, the same property as the line unfolded (lenient:
                // a fold inside a UTF-8 sequence is forgiven).
                if options.mode == Mode::Lenient
                    && let (Ok(a), Ok(b)) = (&unfolding, parse_bytes_with(&plain, &options))
                {
                    proptest::prop_assert_eq!(first(a), first(&b));
                }
            }
        }

        /// A parameter section kept as read and decoded on access reads, writes, compares and
        /// hashes as the parameters the general splitter decodes at once.
        #[test]
        fn parameters_decoded_on_access_equal_the_eager_ones(
            params in proptest::collection::vec(
                ("[A-Z][A-Z0-9-]{0,6}", "[a-zA-Z0-9 ,;:/.\\\\-]{0,10}", proptest::bool::ANY),
                0..5,
            ),
            value in "[a-z:0-9]{0,10}",
            folds in proptest::collection::vec(1usize..80, 0..4),
            lf in proptest::bool::ANY,
        ) {
            let line = content_line("X-P", &params, &value, b";:,\\");
            let eol = if lf { "\n" } else { "\r\n" };
            let mut folded = String::new();
            let mut cuts: Vec<usize> = folds.into_iter().filter(|&c| c < line.len()).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut last = 0;
            for cut in cuts {
                folded.push_str(&line[last..cut]);
                folded.push_str(eol);
                folded.push(' ');
                last = cut;
            }
            folded.push_str(&line[last..]);
            let text = format!("BEGIN:VCALENDAR{eol}{folded}{eol}END:VCALENDAR{eol}");
            let ours = first_property(&text);
            let mut forgiven = Vec::new();
            let eager = contentline::split(&line, false, 100, &mut forgiven).unwrap().params;
            let eager_property = Property {
                name: ours.name.clone(),
                params: eager.clone(),
                raw_value: ours.raw_value.clone(),
                line: 0,
                value_column: 0,
            };
            proptest::prop_assert_eq!(ours.params.len(), eager.len());
            proptest::prop_assert_eq!(ours.params.is_empty(), eager.is_empty());
            for (name, _, _) in &params {
                let expected = eager.iter().find(|p| p.name == *name).map(Parameter::value);
                proptest::prop_assert_eq!(ours.param_value(name), expected);
            }
            // Written, it reads back as the same property; a section kept as read is written
            // as read, quotes the writer would not need included.
            let written = format!("BEGIN:VCALENDAR\r\n{}\r\nEND:VCALENDAR\r\n", ours.to_line());
            let again = first_property(&written);
            proptest::prop_assert_eq!(&again, &eager_property);
            if ours.params.raw_text().is_some() {
                proptest::prop_assert_eq!(ours.to_line(), line.clone());
            }
            proptest::prop_assert_eq!(hash_of(&ours.params), hash_of(&eager));
            proptest::prop_assert_eq!(&ours.params, &eager);
            proptest::prop_assert_eq!(&ours, &eager_property);
            proptest::prop_assert_eq!(ours.clone().into_owned(), eager_property.clone());
            proptest::prop_assert_eq!(format!("{:?}", ours.params), format!("{eager:?}"));
        }
    }

    proptest::proptest! {
        /// BEGIN and END lines opened and closed the quick way (see
        /// [`Parser::begin_or_end`]) give what the general way gives, warnings and errors
        /// included, whatever the nesting: matched, unmatched, unclosed, too deep.
        #[test]
        fn begin_and_end_the_quick_way_as_the_general_way(
            lines in proptest::collection::vec(
                (
                    proptest::bool::ANY,
                    "(VCALENDAR|VEVENT|VALARM|VTODO|VTIMEZONE|STANDARD|X-Y|vevent|VEVENT |)",
                ),
                0..24,
            ),
            limits in (1usize..6, 1usize..8),
            crlf in proptest::bool::ANY,
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = String::new();
            for (begin, name) in &lines {
                let keyword = if *begin { "BEGIN" } else { "END" };
                text.push_str(&format!("{keyword}:{name}{eol}UID:1{eol}"));
            }
            let mut options = [ParseOptions::lenient(), ParseOptions::strict()];
            for o in &mut options {
                o.limits.max_depth = limits.0;
                o.limits.max_components = limits.1;
            }
            for o in options {
                // Input not known to be text takes the general way for every line.
                let general = parse_input(text.as_bytes(), None, &o, true);
                proptest::prop_assert_eq!(
                    format!("{:?}", parse_with(&text, &o)),
                    format!("{general:?}")
                );
                proptest::prop_assert_eq!(
                    format!("{:?}", calendar_only(&text, &o)),
                    format!("{:?}", general.map(|p| p.calendar))
                );
            }
        }
    }

    /// The working buffers one parse lends the next on its thread (see [`Spare`]) leave no
    /// trace: each input parses on a thread that parsed others before as on a new thread,
    /// whether those ended well, failed strictly or outgrew the buffers that are kept.
    #[test]
    fn buffers_lent_between_parses_leave_no_trace() {
        let many: String = (0..300).map(|i| format!("X-N{i}:{i}\r\n")).collect();
        let deep: String = (0..20).map(|i| format!("BEGIN:X-C{i}\r\n")).collect();
        let inputs = [
            "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:1\nEND:VEVENT\nEND:VCALENDAR\n"
                .to_owned(),
            format!("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{many}END:VEVENT\r\nEND:VCALENDAR\r\n"),
            format!("BEGIN:VCALENDAR\r\n{deep}X:1\r\nEND:VCALENDAR\r\n"),
            "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nEND:VCALENDAR\r\n".to_owned(),
            "BEGIN:VCALENDAR\r\nX;CN=\"a\":1\r\nBEGIN:VALARM\r\nEND:VALARM\r\nEND:VCALENDAR\r\n"
                .to_owned(),
        ];
        let results = |text: &str| {
            let modes = [ParseOptions::lenient(), ParseOptions::strict()];
            modes.map(|o| format!("{:?}", parse_with(text, &o)))
        };
        let fresh: Vec<_> = inputs
            .iter()
            .map(|t| std::thread::scope(|s| s.spawn(|| results(t)).join().unwrap()))
            .collect();
        for _ in 0..2 {
            for (text, expected) in inputs.iter().zip(&fresh).rev() {
                assert_eq!(&results(text), expected);
                assert_eq!(
                    format!("{:?}", parse(text)),
                    format!(
                        "{:?}",
                        parse_with(text, &ParseOptions::lenient()).map(|p| p.calendar)
                    )
                );
            }
        }
    }

    /// Fuzz crash: a BOM at the start of a later line became part of a name, and the
    /// written form (that line first) lost it to the BOM check of the next parse.
    #[test]
    fn regression_byte_order_mark_inside_the_stream() {
        let parsed = parse_with(
            "\n\n\u{feff}IN:x\nEND:VCALENDAR\n",
            &ParseOptions::lenient(),
        )
        .unwrap();
        assert_eq!(parsed.calendar.properties[0].name, "IN");
        let written = parsed.calendar.write();
        assert_eq!(parse(&written).unwrap(), parsed.calendar);
    }

    /// Proptest found it: a whitespace line after a blank line was kept as a raw line " ",
    /// which writes back as a fold of the line before.
    #[test]
    fn regression_whitespace_line_after_blank_line() {
        let parsed = parse_with("A\n\n\t \n", &ParseOptions::lenient()).unwrap();
        assert_eq!(parsed.calendar.properties.len(), 1);
        let written = parsed.calendar.write();
        let again = parse(&written).unwrap();
        assert_eq!(again, parsed.calendar);
        let parsed = parse_with("X:1\n\n  Y:2\n", &ParseOptions::lenient()).unwrap();
        let y = &parsed.calendar.properties[1];
        assert_eq!((y.name.as_ref(), y.line, y.value_column), ("Y", 3, 5));
    }
}
