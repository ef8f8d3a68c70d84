//! Content lines (RFC 5545 §3.1, RFC 6868): finding, unfolding and splitting lines.
//!
//! ```text
//! contentline = name *(";" param ) ":" value CRLF
//! name        = iana-token / x-name        ; 1*(ALPHA / DIGIT / "-")
//! param-value = paramtext / quoted-string
//! paramtext   = *SAFE-CHAR                 ; not CTL, DQUOTE, ";", ":", ","
//! ```
//!
//! Lines are found eight bytes a step, by a search that also notes whether a line holds a
//! control character; a line borrows from the input, and a folded one in canonical form is
//! split on its physical text, copying only the parts a fold cuts. Positions are 1-based lines and byte columns of the physical input.

use crate::error::{Error, ErrorKind, Limit, col};
use crate::property::{Parameter, ParameterValues, Parameters};
use std::borrow::Cow;

/// Where a logical line came from, to map its byte offsets back to physical lines and columns.
#[derive(Clone, Copy)]
pub(crate) struct LinePos<'a> {
    /// The physical line it starts on.
    pub(crate) line: u32,
    /// The physical bytes of a folded line (line breaks and continuation marks included);
    /// empty for a line that is not folded, whose offsets are columns as they are.
    physical: &'a [u8],
    /// Where the first two continuations start in the text (`usize::MAX`: none), so that
    /// the usual positions need no walk through `physical`.
    folds: [usize; 2],
    /// Bytes cut from the start of the text (leading whitespace a lenient parse removed).
    base: usize,
}

impl LinePos<'_> {
    /// The position of a line that is not folded, starting on `line`.
    pub(crate) fn unfolded(line: u32) -> LinePos<'static> {
        LinePos {
            line,
            physical: &[],
            folds: [usize::MAX; 2],
            base: 0,
        }
    }

    /// Accounts for `by` bytes cut from the start of the text.
    pub(crate) fn shift(&mut self, by: usize) {
        self.base = self.base.saturating_add(by);
    }

    /// The physical line and column of byte `offset` of the logical line.
    ///
    /// A folded line's continuations are found again in its physical bytes: errors are rare,
    /// so no list of folds is kept for every line.
    #[inline]
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.saturating_add(self.base);
        match self.folds {
            [first, _] if offset < first => (self.line, col(offset)),
            [first, second] if offset < second => (
                self.line.saturating_add(1),
                col(offset - first).saturating_add(1),
            ),
            _ => self.position_after_folds(offset),
        }
    }

    /// [`LinePos::position`] past the first two folds, found again in the physical bytes.
    #[inline(never)]
    fn position_after_folds(&self, mut offset: usize) -> (u32, u32) {
        let mut rest = self.physical;
        let mut line = self.line;
        // A continuation's content starts at column 2: its leading space or tab is column 1.
        let mut lead = 0;
        loop {
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                return (line, col(offset).saturating_add(lead));
            };
            let len = if nl > 0 && rest.get(nl - 1) == Some(&b'\r') {
                nl - 1
            } else {
                nl
            };
            let after = rest.get(nl + 1..).unwrap_or_default();
            if offset < len || after.is_empty() {
                return (line, col(offset).saturating_add(lead));
            }
            offset -= len;
            rest = after.get(1..).unwrap_or_default();
            line = line.saturating_add(1);
            lead = 1;
        }
    }
}

/// One logical (unfolded) line.
pub(crate) struct Line<'a> {
    pub(crate) text: Cow<'a, str>,
    pub(crate) pos: LinePos<'a>,
    /// For a folded line of UTF-8 input: its first physical line, borrowed from the input.
    /// Names and parameters that lie in it can borrow from the input rather than be copied
    /// out of the unfolded line.
    pub(crate) head: Option<&'a str>,
    /// For a folded line of UTF-8 input: all its physical lines (line breaks and fold marks
    /// included), borrowed from the input, so that a part of it that lies within one physical
    /// line can borrow from there (see [`lift`]).
    pub(crate) source: Option<&'a str>,
    /// Whether the line is a folded line of UTF-8 input, left as it stands: its physical text
    /// is [`Lexer::folded`], and [`Lexer::unfold_buffered`] unfolds it into the lexer's
    /// buffer ([`Lexer::unfolded`]) when a split of the physical text does not do.
    pub(crate) buffered: bool,
}

/// What the lexer reports: a line, or a deviation to forgive or refuse.
pub(crate) enum Event<'a> {
    Line(Line<'a>),
    Deviation(Error),
}

/// The deviations the lexer found and has not reported yet, first in first out. A stream
/// usually has one or none (its first bare LF), which waits in a slot of its own: most
/// parses of LF input (what XML hands on) allocate no queue.
#[derive(Default)]
struct Pending {
    /// The oldest; `None` only when `more` is empty too (one test says whether any waits).
    first: Option<Error>,
    /// The ones after `first`.
    more: std::collections::VecDeque<Error>,
}

impl Pending {
    fn push_back(&mut self, error: Error) {
        if self.first.is_none() {
            self.first = Some(error);
        } else {
            self.more.push_back(error);
        }
    }

    #[inline(always)]
    fn pop_front(&mut self) -> Option<Error> {
        let oldest = self.first.take()?;
        self.first = self.more.pop_front();
        Some(oldest)
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

/// Splits input into logical lines.
pub(crate) struct Lexer<'a> {
    input: &'a [u8],
    /// The input as text when it is valid UTF-8 as a whole. Then so is every unfolded line:
    /// unfolding removes only ASCII bytes, which always stand between whole characters.
    text: Option<&'a str>,
    pos: usize,
    line: u32,
    max_line: usize,
    seen_bare_lf: bool,
    pending: Pending,
    /// The unfolded text of the last folded line of UTF-8 input, once asked for.
    unfolded: String,
    /// The physical text of the last folded line of UTF-8 input (see [`Lexer::folded`]).
    folded: &'a str,
    /// Where the physical lines of that line lie.
    segments: Segments<'a>,
    /// Whether the last line returned holds no control character but HTAB (and its line
    /// breaks), found by the search for its end: then its value needs no check of its own.
    clean: bool,
    /// The end of the line at `pos` and whether it is clean, when [`Lexer::next_simple`]
    /// found them and left the line (a folded one) to [`Lexer::next_event`]: the line's
    /// first physical line is not searched twice.
    found: Option<(usize, Option<usize>, bool)>,
}

impl<'a> Lexer<'a> {
    /// A lexer over `input`; `text` is the same input when the caller knows it is UTF-8.
    pub(crate) fn new(input: &'a [u8], text: Option<&'a str>, max_line: usize) -> Lexer<'a> {
        let mut lexer = Lexer {
            input,
            text,
            pos: 0,
            line: 1,
            max_line,
            seen_bare_lf: false,
            pending: Pending::default(),
            unfolded: String::new(),
            folded: "",
            segments: Segments::default(),
            clean: true,
            found: None,
        };
        if input.starts_with(b"\xEF\xBB\xBF") {
            lexer.pos = 3;
            lexer
                .pending
                .push_back(Error::new(1, 1, ErrorKind::ByteOrderMark));
        }
        lexer
    }

    /// The next physical line: (start, end without line break, start of the next line).
    fn physical(&mut self, at: usize) -> (usize, usize, usize) {
        let rest = self.input.get(at..).unwrap_or_default();
        let (nl, clean) = match self.found.take() {
            Some((found_at, nl, clean)) if found_at == at => (nl, clean),
            _ => find_line_end(rest),
        };
        self.clean &= clean;
        match nl {
            Some(i) => {
                let nl = at + i;
                let crlf = nl > at && self.input.get(nl - 1) == Some(&b'\r');
                if !crlf && !self.seen_bare_lf {
                    self.seen_bare_lf = true;
                    let column = col(nl - at);
                    self.pending
                        .push_back(Error::new(self.line, column, ErrorKind::BareLf));
                }
                (at, if crlf { nl - 1 } else { nl }, nl + 1)
            }
            None => (at, self.input.len(), self.input.len()),
        }
    }

    /// Reports no bare LF, for a caller that would forgive it and keep no warning of it: the
    /// first line of LF input (what XML hands on) then takes [`Lexer::next_simple`] too.
    pub(crate) fn ignore_bare_lf(&mut self) {
        self.seen_bare_lf = true;
    }

    /// The next line with its line number when it is the usual kind: UTF-8 input, not
    /// folded, within the length limit, and nothing to report before or with it (the first
    /// bare LF is reported by [`Lexer::next_event`]). `None` leaves the lexer as it was, for
    /// [`Lexer::next_event`] to read the line.
    #[inline]
    pub(crate) fn next_simple(&mut self) -> Option<(&'a str, u32)> {
        if !self.pending.is_empty() {
            return None;
        }
        let text = self.text?;
        let rest = self.input.get(self.pos..)?;
        let (nl, clean) = find_line_end(rest);
        let i = nl?;
        let crlf = i > 0 && rest.get(i - 1) == Some(&b'\r');
        if !crlf && !self.seen_bare_lf {
            self.found = Some((self.pos, nl, clean));
            return None;
        }
        let len = if crlf { i - 1 } else { i };
        if len > self.max_line || matches!(rest.get(i + 1), Some(b' ' | b'\t')) {
            self.found = Some((self.pos, nl, clean));
            return None;
        }
        // In two steps the compiler inlines (a range's `get` on a `str` is a call here).
        let (line, _) = text.get(self.pos..)?.split_at_checked(len)?;
        self.clean = clean;
        self.pos += i + 1;
        let number = self.line;
        self.line = self.line.saturating_add(1);
        Some((line, number))
    }

    /// The next line or deviation; `Ok(None)` at the end.
    ///
    /// # Errors
    ///
    /// A line longer than the limit, or (in the caller's strict mode) invalid UTF-8.
    pub(crate) fn next_event(&mut self) -> Result<Option<Event<'a>>, Error> {
        if let Some(d) = self.pending.pop_front() {
            return Ok(Some(Event::Deviation(d)));
        }
        if self.pos >= self.input.len() {
            return Ok(None);
        }
        let first_line = self.line;
        self.clean = true;
        let (start, end, mut next) = self.physical(self.pos);
        self.line = self.line.saturating_add(1);
        self.check_length(end - start, first_line)?;
        // Fast path: the next line is no continuation, so the line is borrowed as is.
        if !matches!(self.input.get(next), Some(b' ' | b'\t')) {
            self.pos = next;
            let text = self.slice(start, end, first_line);
            return Ok(Some(Event::Line(Line {
                text,
                pos: LinePos {
                    line: first_line,
                    physical: &[],
                    folds: [usize::MAX; 2],
                    base: 0,
                },
                head: None,
                source: None,
                buffered: false,
            })));
        }
        // Text input is not unfolded here: the canonical line is split on its physical text
        // (see [`split_canonical_folded`]), and only the rest is unfolded, on request
        // ([`Lexer::unfold_buffered`]).
        let mut buf = match self.text {
            Some(_) => None,
            // Room for one continuation as long as the first line (the usual fold at 75
            // octets), so most folded lines take one allocation, not one per continuation.
            None => Some(Vec::with_capacity(
                end.saturating_sub(start).saturating_mul(2),
            )),
        };
        if let Some(b) = &mut buf {
            b.extend_from_slice(self.input.get(start..end).unwrap_or_default());
        }
        let mut len = end - start;
        let mut last_end = end;
        let mut folds = [usize::MAX; 2];
        let mut count = 0;
        let mut segments = Segments::default();
        segments.note(0, 0, end - start);
        while matches!(self.input.get(next), Some(b' ' | b'\t')) {
            let this_line = self.line;
            let (s, e, n) = self.physical(next + 1);
            self.line = self.line.saturating_add(1);
            if self.input.get(s).is_some_and(|b| (0x80..0xC0).contains(b)) {
                self.pending
                    .push_back(Error::new(this_line, 2, ErrorKind::FoldInsideUtf8));
            }
            if let Some(fold) = folds.get_mut(count) {
                *fold = len;
                count += 1;
            }
            segments.note(len, s - start, e - s);
            if let Some(b) = &mut buf {
                b.extend_from_slice(self.input.get(s..e).unwrap_or_default());
            }
            len += e - s;
            self.check_length(len, first_line)?;
            last_end = e;
            next = n;
        }
        self.pos = next;
        let pos = LinePos {
            line: first_line,
            physical: self.input.get(start..next).unwrap_or_default(),
            folds,
            base: 0,
        };
        let source = self.text.and_then(|t| t.get(start..next));
        let head = source.and_then(|s| Some(s.split_at_checked(end - start)?.0));
        let Some(buf) = buf else {
            self.folded = source
                .and_then(|s| Some(s.split_at_checked(last_end.checked_sub(start)?)?.0))
                .unwrap_or_default();
            segments.source = source.unwrap_or_default();
            self.segments = segments;
            return Ok(Some(Event::Line(Line {
                text: Cow::Borrowed(""),
                pos,
                head,
                source,
                buffered: true,
            })));
        };
        let text = match String::from_utf8(buf) {
            Ok(s) => Cow::Owned(s),
            Err(e) => {
                let (l, c) = pos.position(e.utf8_error().valid_up_to());
                self.pending
                    .push_back(Error::new(l, c, ErrorKind::InvalidUtf8));
                Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
        };
        Ok(Some(Event::Line(Line {
            text,
            pos,
            head,
            source,
            buffered: false,
        })))
    }

    /// Whether the last line returned (by [`Lexer::next_simple`] or as an [`Event::Line`])
    /// is known to hold no control character but HTAB: its value needs no check of its own.
    #[inline]
    pub(crate) fn clean(&self) -> bool {
        self.clean
    }

    /// The unfolded text of the last line reported as [`Line::buffered`] (unfolded by
    /// [`Lexer::unfold_buffered`]).
    pub(crate) fn unfolded(&self) -> &str {
        &self.unfolded
    }

    /// Unfolds the last line reported as [`Line::buffered`] into the buffer that
    /// [`Lexer::unfolded`] reads; the buffer is reused from line to line.
    #[inline(never)]
    pub(crate) fn unfold_buffered(&mut self) {
        self.unfolded.clear();
        unfold_into(&mut self.unfolded, self.folded);
    }

    /// The physical text of the last line reported as [`Line::buffered`], without its final
    /// line break: line breaks and fold marks between its physical lines included.
    pub(crate) fn folded(&self) -> &'a str {
        self.folded
    }

    /// Where the physical lines of the last line reported as [`Line::buffered`] lie.
    pub(crate) fn segments(&self) -> &Segments<'a> {
        &self.segments
    }

    fn check_length(&self, len: usize, line: u32) -> Result<(), Error> {
        if len > self.max_line {
            return Err(Error::new(
                line,
                1,
                ErrorKind::LimitExceeded(Limit::LineBytes),
            ));
        }
        Ok(())
    }

    /// The text of one physical line: borrowed from input known to be UTF-8, else checked.
    fn slice(&mut self, start: usize, end: usize, line: u32) -> Cow<'a, str> {
        if let Some(text) = self.text.and_then(|t| t.get(start..end)) {
            return Cow::Borrowed(text);
        }
        let bytes = self.input.get(start..end).unwrap_or_default();
        match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(e) => {
                self.pending.push_back(Error::new(
                    line,
                    col(e.valid_up_to()),
                    ErrorKind::InvalidUtf8,
                ));
                Cow::Owned(String::from_utf8_lossy(bytes).into_owned())
            }
        }
    }
}

/// A content line split into its parts, borrowing from the line text.
#[derive(Debug)]
pub(crate) struct ContentLine<'s> {
    pub(crate) name: &'s str,
    /// Whether the name has lowercase letters (names are case-insensitive, §3.1).
    pub(crate) lowercase: bool,
    pub(crate) params: Parameters<'s>,
    pub(crate) value: &'s str,
    /// Byte offset of the value in the line.
    pub(crate) value_offset: usize,
}

/// Splits a content line. Deviations a lenient parse forgives are pushed to `forgiven` (with
/// their byte offset) when `lenient`, and returned as the error otherwise.
///
/// # Errors
///
/// `(offset, kind)` of the first thing that cannot be read.
pub(crate) fn split<'s>(
    text: &'s str,
    lenient: bool,
    max_params: usize,
    forgiven: &mut Vec<(usize, ErrorKind)>,
) -> Result<ContentLine<'s>, (usize, ErrorKind)> {
    let before = forgiven.len();
    match split_with(text, lenient, false, max_params, forgiven) {
        Err(first) if lenient && text.contains('\\') => {
            // RFC 5545 gives a backslash no meaning in a parameter value, so `CN=X\:a:b` is
            // valid as it stands; only a line that fails so is read with `\;` `\:` `\,` as
            // escapes (Apple writes `X-TITLE=1-5\; Linz`).
            forgiven.truncate(before);
            split_with(text, lenient, true, max_params, forgiven).map_err(|_| first)
        }
        other => other,
    }
}

fn split_with<'s>(
    text: &'s str,
    lenient: bool,
    escapes: bool,
    max_params: usize,
    forgiven: &mut Vec<(usize, ErrorKind)>,
) -> Result<ContentLine<'s>, (usize, ErrorKind)> {
    let b = text.as_bytes();
    let mut deviate = |at: usize, kind: ErrorKind| -> Result<(), (usize, ErrorKind)> {
        if lenient {
            forgiven.push((at, kind));
            Ok(())
        } else {
            Err((at, kind))
        }
    };
    let is_name = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    let (mut i, mut lowercase) = scan_name(b, 0);
    let mut name_end = i;
    if !matches!(b.get(i), Some(b';' | b':')) {
        // Lenient: a name with other characters, or whitespace before `;`/`:`.
        if !lenient {
            return Err((i, ErrorKind::Expected("a name character, ';' or ':'")));
        }
        while b
            .get(i)
            .is_some_and(|&c| !matches!(c, b';' | b':' | b'=' | b'"') && (0x20..0x7F).contains(&c))
        {
            i += 1;
        }
        let trimmed = text.get(..i).unwrap_or_default().trim_end();
        if trimmed.is_empty()
            || trimmed.contains([' ', '\t'])
            || !matches!(b.get(i), Some(b';' | b':'))
        {
            return Err((i, ErrorKind::UnreadableLine));
        }
        if trimmed.len() < i {
            deviate(trimmed.len(), ErrorKind::Whitespace("a name"))?;
        }
        if !trimmed.bytes().all(is_name) {
            deviate(0, ErrorKind::Expected("a name of letters, digits and '-'"))?;
        }
        lowercase = trimmed.bytes().any(|c| c.is_ascii_lowercase());
        name_end = trimmed.len();
    }
    if name_end == 0 {
        return Err((0, ErrorKind::UnreadableLine));
    }
    let name = text.get(..name_end).unwrap_or_default();
    let mut params = if b.get(i) == Some(&b';') {
        // One allocation of the right size: a ';' before the first ':' starts a parameter
        // (a quoted ':' only makes this an estimate).
        let head = memchr::memchr(b':', b).map_or(b, |colon| b.get(..colon).unwrap_or(b));
        Parameters::with_capacity(memchr::memchr_iter(b';', head).count().min(max_params))
    } else {
        Parameters::new()
    };
    while b.get(i) == Some(&b';') {
        i += 1;
        let ws = skip_ws(b, i);
        if ws > i {
            deviate(i, ErrorKind::Whitespace("a parameter"))?;
            i = ws;
        }
        let pstart = i;
        let (end, mut plower) = scan_name(b, i);
        i = end;
        let mut pend = i;
        if b.get(i) != Some(&b'=') {
            let ws = skip_ws(b, i);
            if ws > i && b.get(ws) == Some(&b'=') {
                deviate(i, ErrorKind::Whitespace("a parameter"))?;
                i = ws;
            } else if lenient {
                // A parameter name with other characters (`X_FOO=`).
                while b.get(i).is_some_and(|&c| {
                    !matches!(c, b';' | b':' | b'=' | b'"' | b',') && (0x20..0x7F).contains(&c)
                }) {
                    i += 1;
                }
                if b.get(i) != Some(&b'=') || i == pstart {
                    return Err((i, ErrorKind::UnreadableLine));
                }
                pend = text.get(pstart..i).unwrap_or_default().trim_end().len() + pstart;
                plower = true; // checked again when the name is uppercased
                deviate(
                    pstart,
                    ErrorKind::Expected("a parameter name of letters, digits and '-'"),
                )?;
            } else {
                return Err((i, ErrorKind::Expected("'=' after a parameter name")));
            }
        }
        if pend == pstart {
            if !lenient {
                return Err((pstart, ErrorKind::Expected("a parameter name")));
            }
            return Err((pstart, ErrorKind::UnreadableLine));
        }
        let pname = text.get(pstart..pend).unwrap_or_default();
        let had_ws = i > pend;
        i += 1; // '='
        if had_ws && lenient {
            i = skip_ws(b, i);
        }
        let mut values = ParameterValues::new();
        loop {
            if b.get(i) == Some(&b'"') {
                let vstart = i + 1;
                let Some(close) = memchr::memchr(b'"', b.get(vstart..).unwrap_or_default()) else {
                    return Err((i, ErrorKind::Expected("a closing '\"'")));
                };
                let raw = text.get(vstart..vstart + close).unwrap_or_default();
                if raw.bytes().all(|c| class(c) & (CTL | CARET) == 0) {
                    values.push(Cow::Borrowed(raw));
                } else {
                    if let Some(bad) = raw.bytes().position(is_ctl) {
                        deviate(vstart + bad, ErrorKind::ControlCharacter)?;
                    }
                    values.push(decode_param(raw));
                }
                i = vstart + close + 1;
                if !matches!(b.get(i), Some(b';' | b':' | b',')) {
                    let ws = skip_ws(b, i);
                    if lenient && ws > i && matches!(b.get(ws), Some(b';' | b':' | b',')) {
                        deviate(i, ErrorKind::Whitespace("a parameter"))?;
                        i = ws;
                    } else {
                        return Err((i, ErrorKind::Expected("';', ',' or ':' after '\"'")));
                    }
                }
            } else {
                let vstart = i;
                let mut escaped = false;
                let mut caret = false;
                loop {
                    while b.get(i).is_some_and(|&c| class(c) & UNQUOTED_STOP == 0) {
                        i += 1;
                    }
                    let Some(&c) = b.get(i) else { break };
                    match c {
                        b';' | b':' | b',' => break,
                        b'\\'
                            if escapes
                                && matches!(b.get(i + 1), Some(b';' | b':' | b',' | b'\\')) =>
                        {
                            escaped = true;
                            i += 2;
                        }
                        b'"' => {
                            deviate(i, ErrorKind::Expected("no '\"' inside an unquoted value"))?;
                            i += 1;
                        }
                        b'^' => {
                            caret = true;
                            i += 1;
                        }
                        c if is_ctl(c) => {
                            deviate(i, ErrorKind::ControlCharacter)?;
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
                if escaped {
                    deviate(vstart, ErrorKind::ParameterEscape)?;
                }
                let raw = text.get(vstart..i).unwrap_or_default();
                values.push(if caret {
                    decode_param(raw)
                } else {
                    Cow::Borrowed(raw)
                });
            }
            if b.get(i) == Some(&b',') {
                i += 1;
                continue;
            }
            break;
        }
        if params.len() >= max_params {
            return Err((
                pstart,
                ErrorKind::LimitExceeded(Limit::ParametersPerProperty),
            ));
        }
        params.push(Parameter::with_parameter_values(
            if plower {
                crate::property::uppercase(Cow::Borrowed(pname))
            } else {
                Cow::Borrowed(pname)
            },
            values,
        ));
    }
    if b.get(i) != Some(&b':') {
        return Err((i, ErrorKind::Expected("':' before the value")));
    }
    let value_offset = i + 1;
    let value = text.get(value_offset..).unwrap_or_default();
    if let Some(bad) = find_ctl(value.as_bytes()) {
        deviate(value_offset + bad, ErrorKind::ControlCharacter)?;
    }
    Ok(ContentLine {
        name,
        lowercase,
        params,
        value,
        value_offset,
    })
}

/// The most parameters [`split_canonical`] takes; a line with more takes the general path.
pub(crate) const CANONICAL_PARAMS: usize = 8;

/// A content line in canonical form, as byte ranges of its text.
#[derive(Default)]
pub(crate) struct Canonical {
    /// Where the name ends (it starts the line).
    pub(crate) name_end: usize,
    /// Name start, name end, value start and value end of each parameter (a quoted value
    /// without its quotes); the first `param_count` are set.
    pub(crate) params: [[usize; 4]; CANONICAL_PARAMS],
    pub(crate) param_count: usize,
    /// Where the value starts (after the `:`).
    pub(crate) value_offset: usize,
    /// Whether a parameter is named `TZID`.
    pub(crate) tzid: bool,
    /// Where the value of the first parameter named `VALUE` lies.
    pub(crate) value: Option<(usize, usize)>,
}

/// Splits a line in the canonical form most input is in: uppercase names, at most
/// `max_params` (and [`CANONICAL_PARAMS`]) parameters of one value each that needs no
/// RFC 6868 decoding, no control character. `None` for any other line, which [`split`] then
/// reads; where this one succeeds, [`split`] finds the same parts and nothing to forgive, so
/// the common line skips the general machinery (deviations, lists of values, positions).
///
/// `clean` says that the caller knows the line to hold no control character but HTAB (see
/// [`Lexer::clean`]), which spares the check of its value.
// Kept out of line, as it was before the folded variant shared its body.
#[inline(never)]
pub(crate) fn split_canonical(
    text: &str,
    max_params: usize,
    clean: bool,
    out: &mut Canonical,
) -> Option<()> {
    split_canonical_in::<false>(text.as_bytes(), max_params, clean, out)
}

/// [`split_canonical`] of a folded line on its physical text (see [`Lexer::folded`]), folds
/// and all, which spares unfolding it first: the ranges are offsets of the physical text,
/// and a parameter value or the value may hold folds ([`has_fold`], [`unfold_into`]). Names
/// and a `VALUE` parameter's value cut by a fold, and a line with a control character
/// (`clean` false), are left to [`split_canonical`] of the unfolded text.
pub(crate) fn split_canonical_folded(
    physical: &str,
    max_params: usize,
    clean: bool,
    out: &mut Canonical,
) -> Option<()> {
    if !clean {
        return None;
    }
    split_canonical_in::<true>(physical.as_bytes(), max_params, clean, out)
}

/// The length of the fold (line break and continuation mark) at `i`, 0 if there is none.
#[inline(always)]
fn fold_at(b: &[u8], i: usize) -> usize {
    match b.get(i..) {
        Some([b'\r', b'\n', b' ' | b'\t', ..]) => 3,
        Some([b'\n', b' ' | b'\t', ..]) => 2,
        _ => 0,
    }
}

/// Past the folds at `i` (an empty continuation line makes two in a row).
#[inline(always)]
fn skip_folds(b: &[u8], i: usize) -> usize {
    if matches!(b.get(i), Some(b'\r' | b'\n')) {
        skip_folds_slow(b, i)
    } else {
        i
    }
}

fn skip_folds_slow(b: &[u8], mut i: usize) -> usize {
    loop {
        match fold_at(b, i) {
            0 => return i,
            n => i += n,
        }
    }
}

/// Whether a part of a folded line's physical text holds a fold.
#[inline]
pub(crate) fn has_fold(part: &str) -> bool {
    memchr::memchr(b'\n', part.as_bytes()).is_some()
}

/// Appends the unfolded text of `physical`, a folded line's physical text without its final
/// line break (every line break in it is a fold).
pub(crate) fn unfold_into(out: &mut String, physical: &str) {
    let mut rest = physical;
    while let Some(nl) = memchr::memchr(b'\n', rest.as_bytes()) {
        let (piece, after) = rest.split_at_checked(nl).unwrap_or((rest, ""));
        out.push_str(piece.strip_suffix('\r').unwrap_or(piece));
        // The line break and the continuation's space or tab (both ASCII).
        rest = after.get(2..).unwrap_or_default();
    }
    out.push_str(rest);
}

#[inline(always)]
fn split_canonical_in<const FOLDED: bool>(
    b: &[u8],
    max_params: usize,
    clean: bool,
    out: &mut Canonical,
) -> Option<()> {
    let name_end = scan_upper_name(b, 0);
    if name_end == 0 || !b.first().is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    out.name_end = name_end;
    out.param_count = 0;
    out.tzid = false;
    out.value = None;
    let mut i = name_end;
    loop {
        match b.get(i) {
            Some(b':') => break,
            Some(b';') => {}
            // A fold between parts (after a quoted value, or after the name).
            Some(b'\r' | b'\n') if FOLDED && fold_at(b, i) > 0 => {
                i += fold_at(b, i);
                continue;
            }
            _ => return None,
        }
        // A fold inside a parameter's name or around its `=` is left to the unfolded split:
        // names are borrowed as they stand.
        let pstart = i + 1;
        let pend = scan_upper_name(b, pstart);
        if pend == pstart || b.get(pend) != Some(&b'=') {
            return None;
        }
        let (vstart, vend);
        // A value may start and end with a fold (a part with one is unfolded when copied).
        if b.get(pend + 1) == Some(&b'"') {
            vstart = pend + 2;
            // Quoted values are short: a byte loop costs less than a call to memchr.
            let mut j = scan_quads_until(b, vstart, QUOTED_STOP);
            loop {
                let f = class(*b.get(j)?);
                if f & QUOTED_STOP != 0 {
                    if FOLDED {
                        let n = fold_at(b, j);
                        if n > 0 {
                            j += n;
                            continue;
                        }
                    }
                    break;
                }
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                return None;
            }
            vend = j;
            i = vend + 1;
        } else {
            vstart = pend + 1;
            let mut from = vstart;
            vend = loop {
                let quads = scan_quads_until(b, from, UNQUOTED_STOP);
                let rest = b.get(quads..)?;
                let stop = quads + rest.iter().position(|&c| class(c) & UNQUOTED_STOP != 0)?;
                if FOLDED {
                    let n = fold_at(b, stop);
                    if n > 0 {
                        from = stop + n;
                        continue;
                    }
                }
                break stop;
            };
            i = vend;
        }
        if out.param_count >= max_params {
            return None;
        }
        // What the checks of the value need, while the name is at hand (by length first:
        // most names are neither).
        match pend - pstart {
            4 if b.get(pstart..pend) == Some(b"TZID") => out.tzid = true,
            5 if out.value.is_none() && b.get(pstart..pend) == Some(b"VALUE") => {
                // Read as a name later: a fold inside is left to the unfolded split.
                if FOLDED && memchr::memchr(b'\n', b.get(vstart..vend)?).is_some() {
                    return None;
                }
                out.value = Some((vstart, vend));
            }
            _ => {}
        }
        *out.params.get_mut(out.param_count)? = [pstart, pend, vstart, vend];
        out.param_count += 1;
    }
    out.value_offset = if FOLDED { skip_folds(b, i + 1) } else { i + 1 };
    if !clean && find_ctl(b.get(out.value_offset..)?).is_some() {
        return None;
    }
    Some(())
}

/// The end of the run of uppercase name characters (`A-Z`, digits, `-`) from `i`.
fn scan_upper_name(b: &[u8], i: usize) -> usize {
    let rest = b.get(i..).unwrap_or_default();
    i + rest
        .iter()
        .position(|&c| class(c) & UPPER_NAME == 0)
        .unwrap_or(rest.len())
}

/// From `i`, the start of the first four bytes (read four at a time) one of which has a
/// class with `stop`, or of the last bytes too few to read so: a parameter value of ten
/// bytes and more takes half the instructions of a byte loop. The caller reads on byte by
/// byte from there.
#[inline(always)]
fn scan_quads_until(b: &[u8], mut i: usize, stop: u8) -> usize {
    while let Some(&[w, x, y, z]) = b.get(i..).and_then(<[u8]>::first_chunk::<4>) {
        let f = class(w) | class(x) | class(y) | class(z);
        if f & stop != 0 {
            break;
        }
        i += 4;
    }
    i
}

/// The physical lines of a folded line, to find where a part of its unfolded text lies in
/// the input: the first [`Segments::MAX`], which is where nearly every part lies.
#[derive(Default)]
pub(crate) struct Segments<'a> {
    source: &'a str,
    /// Where each physical line starts in the unfolded text and in `source`, and its length.
    at: [(usize, usize, usize); Segments::MAX],
    count: usize,
    /// How many physical lines there are, noted or not.
    total: usize,
}

impl<'a> Segments<'a> {
    const MAX: usize = 4;

    /// Notes a physical line: where it starts in the unfolded text and in the source, and
    /// its length.
    fn note(&mut self, text: usize, source: usize, len: usize) {
        self.total += 1;
        if let Some(slot) = self.at.get_mut(self.count) {
            *slot = (text, source, len);
            self.count += 1;
        }
    }

    /// Appends the unfolded text of the part `from..` of the physical text, its pieces cut
    /// where the lexer noted its physical lines (no search for the line breaks); `false`,
    /// with nothing appended, when not all lines were noted.
    #[inline]
    pub(crate) fn unfold_from(&self, out: &mut String, from: usize) -> bool {
        if self.total > self.count {
            return false;
        }
        for &(_, source, len) in self.at.get(..self.count).unwrap_or_default() {
            let start = source.max(from);
            let end = source + len;
            if start < end
                && let Some(piece) = self.source.get(start..end)
            {
                out.push_str(piece);
            }
        }
        true
    }

    /// For `offset` of the physical text (not inside a fold): the index of its physical line
    /// and whether a fold follows it in the line; `None` when not all lines were noted.
    #[inline]
    pub(crate) fn locate(&self, offset: usize) -> Option<(usize, usize, bool)> {
        if self.total > self.count {
            return None;
        }
        let noted = self.at.get(..self.count)?;
        let mut found = (0, 0);
        for (k, &(_, source, _)) in noted.iter().enumerate() {
            if source <= offset {
                found = (k, source);
            }
        }
        Some((found.0, found.1, found.0 + 1 < self.count))
    }

    /// The physical lines of `source`, a folded line's physical text (line breaks and fold
    /// marks included), found again (the lexer notes them as it unfolds).
    #[cfg(test)]
    pub(crate) fn new(source: &'a str) -> Segments<'a> {
        let src = source.as_bytes();
        let mut out = Segments {
            source,
            at: [(0, 0, 0); Segments::MAX],
            count: 0,
            total: 0,
        };
        let (mut at_text, mut at_src) = (0, 0);
        for slot in &mut out.at {
            let Some(rest) = src.get(at_src..) else { break };
            let nl = memchr::memchr(b'\n', rest).map_or(src.len(), |n| at_src + n);
            let end = if nl > at_src && src.get(nl - 1) == Some(&b'\r') {
                nl - 1
            } else {
                nl
            };
            *slot = (at_text, at_src, end - at_src);
            out.count += 1;
            out.total += 1;
            at_text += end - at_src;
            // Past the line break and the continuation's leading space or tab.
            at_src = nl + 2;
            if at_src > src.len() {
                break;
            }
        }
        out
    }

    /// The physical text of the part `start..end` (`start < end`) of the unfolded text, folds
    /// included, when both ends lie in the physical lines noted.
    pub(crate) fn span(&self, start: usize, end: usize) -> Option<&'a str> {
        let segments = self.at.get(..self.count).unwrap_or_default();
        let &(t0, s0, _) = segments
            .iter()
            .find(|&&(text, _, len)| start >= text && start < text + len)?;
        let &(t1, s1, _) = segments
            .iter()
            .find(|&&(text, _, len)| end > text && end <= text + len)?;
        self.source.get(s0 + (start - t0)..s1 + (end - t1))
    }

    /// The part `start..end` of the unfolded text, borrowed from the input when it lies
    /// within one physical line, else `None`.
    pub(crate) fn lift(&self, start: usize, end: usize) -> Option<&'a str> {
        let segments = self.at.get(..self.count).unwrap_or_default();
        let &(text, src, _) = segments
            .iter()
            .find(|&&(text, _, len)| start >= text && end <= text + len)?;
        let from = src + (start - text);
        self.source.get(from..from + (end - start))
    }
}

/// Byte classes for the scanning loops: one table lookup per byte instead of a chain of tests.
const NAME: u8 = 1;
const LOWER: u8 = 2;
const CTL: u8 = 4;
const CARET: u8 = 8;
/// Ends the fast run of an unquoted parameter value: `; : , " \ ^` or a control character.
const UNQUOTED_STOP: u8 = 16;
/// Ends a quoted parameter value in canonical form: `"`, `^` or a control character.
const QUOTED_STOP: u8 = 32;
/// A name character in the canonical (uppercase) form: `A-Z`, digits, `-` (one test a byte
/// where `NAME` without `LOWER` takes two).
const UPPER_NAME: u8 = 64;

// Evaluated at compile time: an index out of bounds would fail the build, not a parse.
#[allow(clippy::indexing_slicing)]
const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut f = 0;
        if b.is_ascii_alphanumeric() || b == b'-' {
            f |= NAME;
        }
        if b.is_ascii_lowercase() {
            f |= LOWER;
        }
        if b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' {
            f |= UPPER_NAME;
        }
        if (b < 0x20 && b != b'\t') || b == 0x7F {
            f |= CTL | UNQUOTED_STOP | QUOTED_STOP;
        }
        if b == b'^' {
            f |= CARET | UNQUOTED_STOP | QUOTED_STOP;
        }
        if b == b'"' {
            f |= QUOTED_STOP;
        }
        if matches!(b, b';' | b':' | b',' | b'"' | b'\\') {
            f |= UNQUOTED_STOP;
        }
        t[c] = f;
        c += 1;
    }
    t
};

/// Whether every byte of `b` is a name character in canonical (uppercase) form.
pub(crate) fn is_upper_name(b: &[u8]) -> bool {
    b.iter().all(|&c| class(c) & UPPER_NAME != 0)
}

fn class(c: u8) -> u8 {
    CLASSES.get(usize::from(c)).copied().unwrap_or(0)
}

/// The end of the run of name characters from `i`, and whether it holds a lowercase letter.
fn scan_name(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut seen = 0;
    while let Some(&c) = b.get(i) {
        let f = class(c);
        if f & NAME == 0 {
            break;
        }
        seen |= f;
        i += 1;
    }
    (i, seen & LOWER != 0)
}

/// Where the first LF of `b` lies, and whether the bytes before it hold no control character
/// but HTAB (and a CR right before that LF). One search eight bytes a step finds both: the
/// line break is the first control character of the usual line, and a separate check of the
/// line's value would read most of it again.
#[inline]
fn find_line_end(b: &[u8]) -> (Option<usize>, bool) {
    let mut clean = true;
    let mut from = 0;
    while let Some(i) = find_control(b, from) {
        match b.get(i) {
            Some(b'\n') => return (Some(i), clean),
            Some(b'\r') if b.get(i + 1) == Some(&b'\n') => return (Some(i + 1), clean),
            Some(b'\t') => {}
            _ => clean = false,
        }
        from = i + 1;
    }
    (None, clean)
}

/// The offset of the first byte of `b` from `from` on that is below 0x20 (HTAB included) or
/// 0x7F, sixteen bytes a step.
#[inline]
fn find_control(b: &[u8], from: usize) -> Option<usize> {
    let rest = b.get(from..)?;
    let mut chunks = rest.chunks_exact(16);
    let mut at = from;
    for chunk in &mut chunks {
        let (lo, hi) = chunk.split_at(8);
        let (lo, hi) = (control_bits(lo), control_bits(hi));
        if lo | hi != 0 {
            let bits = if lo != 0 {
                lo.trailing_zeros()
            } else {
                64 + hi.trailing_zeros()
            };
            return Some(at + (bits / 8) as usize);
        }
        at += 16;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c < 0x20 || c == 0x7F)
        .map(|p| at + p)
}

/// A high bit for each byte of the eight of `word` below 0x20 and each equal to 0x7F; exact
/// up to the first such byte (a borrow only spreads upwards from a byte that is one), which
/// is the lowest bit set in little-endian order.
#[inline(always)]
fn control_bits(word: &[u8]) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(word);
    let v = u64::from_le_bytes(bytes);
    let below = v.wrapping_sub(ONES * 0x20) & !v & HIGH;
    let x = v ^ (ONES * 0x7F);
    let del = x.wrapping_sub(ONES) & !x & HIGH;
    below | del
}

/// The offset of the first control character other than HTAB, eight bytes at a time (a
/// value is most of a line, and almost never holds one).
fn find_ctl(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_ne_bytes(word);
        // A high bit for each byte below 0x20, and for each byte equal to 0x7F.
        let below = v.wrapping_sub(ONES * 0x20) & !v & HIGH;
        let x = v ^ (ONES * 0x7F);
        let del = x.wrapping_sub(ONES) & !x & HIGH;
        if below | del != 0
            && let Some(p) = chunk.iter().position(|&c| is_ctl(c))
        {
            return Some(at + p);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| is_ctl(c))
        .map(|p| at + p)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

fn is_ctl(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7F
}

/// RFC 6868: `^n` is a line break, `^^` a caret, `^'` a double quote; any other `^` stays.
fn decode_param(raw: &str) -> Cow<'_, str> {
    if !raw.contains('^') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            match chars.peek() {
                Some('n') => {
                    out.push('\n');
                    chars.next();
                }
                Some('^') => {
                    out.push('^');
                    chars.next();
                }
                Some('\'') => {
                    out.push('"');
                    chars.next();
                }
                _ => out.push('^'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Encodes a parameter value with RFC 6868 (only where decoding would otherwise differ) and
/// quotes it when it holds `;`, `:`, `,` or a backslash (a lenient parse reads a backslash escape in
/// an unquoted value).
pub(crate) fn write_param_value(out: &mut String, value: &str) {
    let quote = value
        .bytes()
        .any(|b| matches!(b, b';' | b':' | b',' | b'\\'));
    if quote {
        out.push('"');
    }
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push_str("^n"),
            '"' => out.push_str("^'"),
            '^' if matches!(chars.peek(), Some('n' | '^' | '\'' | '"' | '\n')) => {
                out.push_str("^^")
            }
            c => out.push(c),
        }
    }
    if quote {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The pending deviations come out in the order they went in, however pushes and
        /// pops interleave (the slot and the queue behind it are one queue).
        #[test]
        fn pending_deviations_are_first_in_first_out(
            ops in proptest::collection::vec(proptest::bool::ANY, 0..40),
        ) {
            let mut pending = Pending::default();
            let mut model = std::collections::VecDeque::new();
            for (i, push) in (1u32..).zip(ops) {
                if push {
                    pending.push_back(Error::new(i, 1, ErrorKind::BareLf));
                    model.push_back(i);
                } else {
                    proptest::prop_assert_eq!(pending.pop_front().map(|e| e.line), model.pop_front());
                }
                proptest::prop_assert_eq!(pending.is_empty(), model.is_empty());
            }
            while let Some(line) = model.pop_front() {
                proptest::prop_assert_eq!(pending.pop_front().map(|e| e.line), Some(line));
            }
            proptest::prop_assert!(pending.pop_front().is_none());
        }
    }

    fn lines(input: &str) -> Vec<(String, u32)> {
        let mut lexer = Lexer::new(input.as_bytes(), Some(input), 1 << 20);
        let mut out = Vec::new();
        while let Some(event) = lexer.next_event().unwrap() {
            if let Event::Line(l) = event {
                let text = if l.buffered {
                    lexer.unfold_buffered();
                    lexer.unfolded().to_owned()
                } else {
                    l.text.into_owned()
                };
                out.push((text, l.pos.line));
            }
        }
        out
    }

    #[test]
    fn unfolds_and_counts_lines() {
        let got = lines("A:1\r\nB:x\r\n y\r\n\tz\r\nC:3");
        assert_eq!(
            got,
            [("A:1".into(), 1), ("B:xyz".into(), 2), ("C:3".into(), 5)]
        );
        assert_eq!(lines("A:1\nB:2\n").len(), 2);
    }

    #[test]
    fn fold_positions_map_to_physical_lines() {
        let mut lexer = Lexer::new(b"X:abc\r\n def\r\n", None, 100);
        let Some(Event::Line(line)) = lexer.next_event().unwrap() else {
            panic!("no line")
        };
        assert_eq!(line.pos.position(2), (1, 3));
        assert_eq!(line.pos.position(6), (2, 3));
    }

    #[test]
    fn splits_parameters() {
        let mut f = Vec::new();
        let cl = split(
            r#"ATTENDEE;CN="Doe, J";ROLE=REQ-PARTICIPANT;MEMBER="a:b","c:d":mailto:j@x"#,
            false,
            10,
            &mut f,
        )
        .unwrap();
        assert_eq!(cl.name, "ATTENDEE");
        assert_eq!(cl.params.len(), 3);
        assert_eq!(cl.params[0].values, ["Doe, J"]);
        assert_eq!(cl.params[2].values, ["a:b", "c:d"]);
        assert_eq!(cl.value, "mailto:j@x");
        let cl = split("X;P=a^nb^^c^'d^x:v", false, 10, &mut f).unwrap();
        assert_eq!(cl.params[0].values, ["a\nb^c\"d^x"]);
    }

    #[test]
    fn strict_refuses_what_lenient_forgives() {
        let mut f = Vec::new();
        assert!(split("DTSTART ;TZID = X:1", false, 10, &mut f).is_err());
        let cl = split("DTSTART ;TZID = X:1", true, 10, &mut f).unwrap();
        assert_eq!(cl.params[0], Parameter::new("TZID", "X"));
        assert!(!f.is_empty());
        assert!(matches!(
            split("X-APPLE-RADIUS=49.9", true, 10, &mut f),
            Err((_, ErrorKind::UnreadableLine))
        ));
        assert!(split("X;A=1;B=2:v", true, 1, &mut f).is_err());
        // A backslash means nothing in a parameter value while the line is valid so...
        let cl = split(r"X;CN=X\:a:b", true, 10, &mut f).unwrap();
        assert_eq!((cl.params[0].values[0].as_ref(), cl.value), (r"X\", "a:b"));
        // ...and escapes only what would otherwise not read (Apple's structured location).
        let cl = split(r"X;T=1-5\; Linz;R=1:geo:1,2", true, 10, &mut f).unwrap();
        assert_eq!(cl.params[0].values[0], r"1-5\; Linz");
        assert_eq!(cl.value, "geo:1,2");
        assert!(split(r"X;T=1-5\; Linz;R=1:geo:1,2", false, 10, &mut f).is_err());
    }

    #[test]
    fn param_value_encoding_round_trips() {
        for v in [
            "plain", "a;b", "a\nb", "q\"q", "^n", "^", "a^b", "^^", "", "^\"\n", "^\n", "\\",
        ] {
            let mut out = String::new();
            write_param_value(&mut out, v);
            let line = format!("X;P={out}:v");
            let mut f = Vec::new();
            let cl = split(&line, false, 4, &mut f).unwrap();
            assert_eq!(cl.params[0].values, [v], "{line}");
        }
    }

    /// Name, parameters (name, value) and value offset of a canonical line.
    type Parts = (String, Vec<(String, String)>, usize);

    /// What the canonical splitter finds, as the general one gives it.
    fn canonical_parts(text: &str, max: usize) -> Option<Parts> {
        let mut c = Canonical::default();
        split_canonical(text, max, false, &mut c)?;
        let params = c
            .params
            .get(..c.param_count)
            .unwrap()
            .iter()
            .map(|&[n0, n1, v0, v1]| (text[n0..n1].to_owned(), text[v0..v1].to_owned()))
            .collect();
        Some((text[..c.name_end].to_owned(), params, c.value_offset))
    }

    #[test]
    fn canonical_split_takes_only_canonical_lines() {
        let (name, params, at) =
            canonical_parts(r#"ATTENDEE;CN="Doe, J";ROLE=CHAIR:mailto:j@x"#, 10).unwrap();
        assert_eq!((name.as_str(), at), ("ATTENDEE", 32));
        assert_eq!(params[0], ("CN".to_owned(), "Doe, J".to_owned()));
        for other in [
            "summary:x",
            "X;p=1:v",
            "X;P=a,b:v",
            "X;P=a^nb:v",
            "X;P=\"a^'\":v",
            "X ;P=1:v",
            "X:a\u{1}b",
            "-X:v",
            "X;P=1;Q=2:v",
        ] {
            assert!(canonical_parts(other, 1).is_none(), "{other}");
        }
    }

    proptest::proptest! {
        /// Where the canonical splitter takes a line, the general one (strict or lenient)
        /// reads the same parts and forgives nothing.
        #[test]
        fn canonical_split_agrees_with_the_general_one(
            text in "[A-Za-z0-9;:,=\"^\\ \t\u{1}é-]{0,40}",
            max in 1usize..4,
        ) {
            let Some((name, params, at)) = canonical_parts(&text, max) else {
                return Ok(());
            };
            for lenient in [false, true] {
                let mut forgiven = Vec::new();
                let cl = split(&text, lenient, max, &mut forgiven).unwrap();
                proptest::prop_assert!(forgiven.is_empty());
                proptest::prop_assert_eq!(cl.name, name.as_str());
                proptest::prop_assert_eq!(cl.value_offset, at);
                let general: Vec<_> = cl
                    .params
                    .iter()
                    .map(|p| (p.name.to_string(), p.values.iter().map(|v| v.to_string()).collect::<Vec<_>>()))
                    .collect();
                let fast: Vec<_> = params.iter().map(|(n, v)| (n.clone(), vec![v.clone()])).collect();
                proptest::prop_assert_eq!(general, fast);
            }
        }

        /// A part of a folded line is borrowed from where it lies in the input, or not at all.
        #[test]
        fn segments_lift_what_lies_in_one_physical_line(
            line in "[a-z;:=]{1,30}",
            cuts in proptest::collection::vec(1usize..30, 0..6),
            start in 0usize..40,
            len in 0usize..20,
        ) {
            let mut source = String::new();
            let mut cut_at: Vec<usize> = cuts.into_iter().filter(|&c| c < line.len()).collect();
            cut_at.sort_unstable();
            cut_at.dedup();
            let mut last = 0;
            for c in cut_at {
                source.push_str(&line[last..c]);
                source.push_str("\r\n ");
                last = c;
            }
            source.push_str(&line[last..]);
            source.push_str("\r\n");
            let end = start + len;
            if end <= line.len()
                && let Some(part) = Segments::new(&source).lift(start, end)
            {
                proptest::prop_assert_eq!(part, &line[start..end]);
            }
        }
    }

    #[test]
    fn find_ctl_finds_the_first_control_character_at_every_position() {
        for len in 0..40 {
            let clean = "a\té".repeat(len).into_bytes();
            assert_eq!(find_ctl(&clean), None);
            for at in 0..clean.len() {
                for ctl in [0x00, 0x0A, 0x1F, 0x7F] {
                    let mut bytes = clean.clone();
                    bytes[at] = ctl;
                    let first = bytes.iter().position(|&c| is_ctl(c));
                    assert_eq!(find_ctl(&bytes), first, "{len} {at} {ctl}");
                }
            }
        }
    }

    proptest::proptest! {
        /// The search for a line's end finds the first LF, and calls the bytes before it
        /// clean exactly when none is a control character but HTAB and a CR right before it.
        #[test]
        fn line_end_search_agrees_with_a_byte_loop(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::num::u8::ANY.prop_map(|b| b | 0x20),
                    2 => proptest::sample::select(vec![b'\r', b'\n', b'\t']),
                    1 => proptest::sample::select(vec![0u8, 0x0B, 0x1F, 0x7F, 0x80, 0xA0]),
                ],
                0..100,
            ),
        ) {
            let nl = bytes.iter().position(|&c| c == b'\n');
            let line = &bytes[..nl.unwrap_or(bytes.len())];
            let line = match nl {
                Some(_) => line.strip_suffix(b"\r").unwrap_or(line),
                None => line,
            };
            let clean = !line.iter().any(|&c| is_ctl(c));
            proptest::prop_assert_eq!(find_line_end(&bytes), (nl, clean));
        }
    }

    /// A control character (or a bare CR) anywhere in a long input makes the lexer call its
    /// line unclean, so that the line takes the general splitter.
    #[test]
    fn control_characters_anywhere_make_their_line_unclean() {
        for bad in ["\u{1}", "\r", "\u{7f}"] {
            for at in [0, 1, 63, 64, 65, 4000, 4097, 9000] {
                let mut text = String::from("BEGIN:VCALENDAR\r\n");
                let mut n = 0;
                while text.len() < at {
                    text.push_str(&format!("X-N;P=1:{n:020}\r\n"));
                    n += 1;
                }
                text.push_str(&format!(
                    "X-BAD:a{bad}b\r\nX-F:{}\r\n c{bad}\r\n",
                    "y".repeat(80)
                ));
                for _ in 0..200 {
                    text.push_str("X-M:clean\r\n");
                }
                text.push_str("END:VCALENDAR\r\n");
                let mut lexer = Lexer::new(text.as_bytes(), Some(&text), 1 << 20);
                let mut flagged = Vec::new();
                loop {
                    if let Some((line, _)) = lexer.next_simple() {
                        let clean = lexer.clean();
                        let has = line.bytes().any(is_ctl);
                        assert!(!(clean && has), "{bad:?} {at}: {line:?}");
                        if has {
                            flagged.push(line.to_owned());
                        }
                        continue;
                    }
                    match lexer.next_event().unwrap() {
                        None => break,
                        Some(Event::Line(line)) => {
                            let clean = lexer.clean();
                            let t = if line.buffered {
                                lexer.unfold_buffered();
                                lexer.unfolded().to_owned()
                            } else {
                                line.text.to_string()
                            };
                            let has = t.bytes().any(is_ctl);
                            assert!(!(clean && has), "{bad:?} {at}: {t:?}");
                            if has {
                                flagged.push(t);
                            }
                        }
                        Some(Event::Deviation(_)) => {}
                    }
                }
                assert_eq!(flagged.len(), 2, "{bad:?} {at}: {flagged:?}");
            }
        }
    }

    #[test]
    fn lexer_notes_the_segments_it_unfolds() {
        for input in [
            "X:abc\r\n def\r\n\tg\r\nY:1\r\n",
            "ATTENDEE;CN=\"A\r\n B\":mailto:a@x\n",
            "D:1\r\n 2\r\n 3\r\n 4\r\n 5\r\n 6\r\n",
            "E:x\r\n ",
        ] {
            let mut lexer = Lexer::new(input.as_bytes(), Some(input), 1 << 20);
            while let Some(event) = lexer.next_event().unwrap() {
                if let Event::Line(line) = event
                    && line.buffered
                {
                    let found = Segments::new(line.source.unwrap());
                    let noted = lexer.segments();
                    assert_eq!(noted.count, found.count, "{input:?}");
                    assert_eq!(noted.at, found.at, "{input:?}");
                    assert_eq!(noted.source, found.source, "{input:?}");
                }
            }
        }
    }
}
