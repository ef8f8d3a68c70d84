//! Streamed `DAV:multistatus` decoding (RFC 4918 §13): feed bytes as they arrive, take each
//! `DAV:response` as soon as its end tag has been read.
//!
//! **Feed once, then drain**: after each [`StreamDecoder::feed`], call
//! [`StreamDecoder::poll`] until it returns `None`; after the last chunk, call
//! [`StreamDecoder::finish`].
//!
//! Chunks may split the document anywhere: inside a tag, an attribute value, a CDATA section or
//! a UTF-8 sequence. The decoder keeps only the bytes of the response being read (plus an
//! incomplete tag or text run), so memory is bounded by the largest response, never by the
//! document, and [`Limits::max_response_bytes`] caps even that.
//!
//! The children of the multistatus that a chunk holds whole are decoded in one pass by the
//! same tree builder as [`Multistatus::decode`], with the namespace declarations of their
//! ancestors in scope; the builder says where each ends. Anything else (the envelope around
//! them, a child cut by the end of a chunk, a child that fails) goes to a light scanner that
//! finds the boundaries of markup, keeps the bytes of the child until its end tag arrives and
//! then hands it to the same builder. The result equals whole decoding, errors included.

use std::collections::VecDeque;

use crate::element::{Absorb, Child, ElementBudget, Scope, Shared, build_absorbing, build_prefix};
use crate::error::{Error, LimitKind};
use crate::lexer::{Token, find_terminator};
use crate::limits::Limits;
use crate::multistatus::{Multistatus, Response};
use crate::name::QName;

/// A sans-IO multistatus decoder that takes the body in chunks.
///
/// # Example
///
/// ```
/// use dav_xml::StreamDecoder;
///
/// let body = br#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a</d:href>
///   <d:status>HTTP/1.1 200 OK</d:status></d:response><d:response><d:href>/b</d:href>
///   <d:status>HTTP/1.1 404 Not Found</d:status></d:response>
///   <d:sync-token>http://example.com/sync/7</d:sync-token></d:multistatus>"#;
///
/// let mut decoder = StreamDecoder::new();
/// let mut hrefs = Vec::new();
/// for chunk in body.chunks(7) {
///     decoder.feed(chunk)?;
///     while let Some(response) = decoder.poll() {
///         hrefs.push(response.hrefs[0].to_string());
///     }
/// }
/// let rest = decoder.finish()?;
/// assert_eq!(hrefs, ["/a", "/b"]);
/// assert_eq!(rest.sync_token.as_deref(), Some("http://example.com/sync/7"));
/// # Ok::<(), dav_xml::Error>(())
/// ```
#[derive(Debug)]
pub struct StreamDecoder {
    limits: Limits,
    /// Unconsumed bytes; `buf[0]` is stream offset `base`.
    buf: Vec<u8>,
    base: u64,
    /// Start of the next item in `buf`.
    pos: usize,
    /// Resume point of the terminator search for the item at `pos`.
    searched: usize,
    /// The quote a partially scanned tag is inside of.
    quote: Option<u8>,
    /// Raw names of open elements outside any segment (wrappers and the multistatus).
    open: Vec<String>,
    scope: Scope,
    /// Index in `open` + 1 of the multistatus, while it is open.
    multistatus_depth: Option<usize>,
    found_multistatus: bool,
    root_closed: bool,
    segment: Option<Segment>,
    ready: VecDeque<Response>,
    rest: Multistatus,
    failed: Option<Error>,
}

/// A child of the multistatus being collected.
#[derive(Debug)]
struct Segment {
    start: usize,
    depth: usize,
    elements: usize,
    /// Children of something other than the multistatus are skipped, not decoded.
    keep: bool,
}

enum Item {
    /// More bytes are needed.
    Incomplete,
    Text {
        end: usize,
    },
    Start {
        end: usize,
        empty: bool,
    },
    End {
        end: usize,
    },
    CData {
        end: usize,
    },
    Ignored {
        end: usize,
    },
}

impl Default for StreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamDecoder {
    /// A decoder with default [`Limits`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A decoder with the given limits.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            buf: Vec::new(),
            base: 0,
            pos: 0,
            searched: 0,
            quote: None,
            open: Vec::new(),
            scope: Scope::default(),
            multistatus_depth: None,
            found_multistatus: false,
            root_closed: false,
            segment: None,
            ready: VecDeque::new(),
            rest: Multistatus::default(),
            failed: None,
        }
    }

    /// Feeds the next chunk of the body.
    ///
    /// # Errors
    ///
    /// The first decoding error, with its offset in the stream; the decoder then stays failed
    /// and returns the same error from every later call.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        self.buf.extend_from_slice(chunk);
        let result = self.advance();
        self.compact();
        if let Err(error) = &result {
            self.failed = Some(error.clone());
            self.buf = Vec::new();
        }
        result
    }

    /// Bytes of input the decoder currently holds allocated: the response being read plus the
    /// unread rest of the last chunk. Bounded by the largest response (and
    /// [`Limits::max_response_bytes`]), never by the document.
    #[must_use]
    pub fn buffered_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The next complete response, in document order.
    #[must_use]
    pub fn poll(&mut self) -> Option<Response> {
        self.ready.pop_front()
    }

    /// Ends the stream: checks that the document was complete and returns what is left, the
    /// responses not yet polled and the multistatus' `sync-token`, `responsedescription` and
    /// unknown children.
    ///
    /// # Errors
    ///
    /// [`Error::UnexpectedEof`] for a truncated document, [`Error::UnexpectedDocument`] when no
    /// `DAV:multistatus` was seen, or the error that failed an earlier feed.
    pub fn finish(self) -> Result<Multistatus, Error> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let end = self.base + self.buf.len() as u64;
        if self.segment.is_some() || !self.root_closed {
            return Err(Error::UnexpectedEof { offset: end });
        }
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if !rest.iter().all(|b| is_space(*b)) {
            let offset = self.base + self.pos as u64;
            return Err(Error::Syntax {
                offset,
                message: "content after the root element".into(),
            });
        }
        if !self.found_multistatus {
            return Err(Error::UnexpectedDocument {
                offset: 0,
                expected: "{DAV:}multistatus",
                found: "no multistatus element".into(),
            });
        }
        let mut rest = self.rest;
        rest.responses = self.ready.into_iter().collect();
        Ok(rest)
    }

    fn offset(&self, index: usize) -> u64 {
        self.base + index as u64
    }

    /// Drops consumed bytes. Done once per feed, so the cost is linear in what is kept.
    fn compact(&mut self) {
        let keep_from = self.segment.as_ref().map_or(self.pos, |s| s.start);
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.base += keep_from as u64;
            self.pos -= keep_from;
            self.searched = self.searched.saturating_sub(keep_from);
            if let Some(segment) = &mut self.segment {
                segment.start = 0;
            }
        }
        // After one large response, give the memory back rather than hold it to the end.
        if self.buf.capacity() > (1 << 20) && self.buf.capacity() > 4 * self.buf.len() {
            self.buf.shrink_to(2 * self.buf.len());
        }
    }

    fn advance(&mut self) -> Result<(), Error> {
        if self.base == 0 && self.pos == 0 {
            let bom = b"\xEF\xBB\xBF";
            if self.buf.len() < bom.len() && bom.starts_with(&self.buf) {
                return Ok(());
            }
            if self.buf.starts_with(bom) {
                self.pos = bom.len();
                self.searched = self.pos;
            }
        }
        loop {
            let held_from = self.segment.as_ref().map_or(self.pos, |s| s.start);
            if self.buf.len() - held_from > self.limits.max_response_bytes {
                return Err(Error::Limit {
                    offset: self.offset(self.buf.len()),
                    limit: LimitKind::ResponseBytes,
                });
            }
            // Not while the scanner is inside an item it has begun: feeding a long tag in
            // small chunks would otherwise have it read again and again.
            if self.segment.is_none()
                && self.searched <= self.pos
                && !self.root_closed
                && self.multistatus_depth == Some(self.open.len())
                && self.decode_children()
            {
                continue;
            }
            let start = self.pos;
            match self.scan()? {
                Item::Incomplete => {
                    // Text outside a segment need not be kept to be judged.
                    if self.segment.is_none() && self.buf.get(start) != Some(&b'<') {
                        self.text(start, self.buf.len())?;
                        self.pos = self.buf.len();
                        self.searched = self.pos;
                    }
                    return Ok(());
                }
                Item::Text { end } => {
                    if self.segment.is_none() {
                        self.text(start, end)?;
                    }
                    self.next(end);
                }
                Item::Ignored { end } => self.next(end),
                Item::CData { end } => {
                    if self.segment.is_none() && self.open.is_empty() {
                        return Err(Error::Syntax {
                            offset: self.offset(start),
                            message: "cdata outside the root element".into(),
                        });
                    }
                    self.next(end);
                }
                Item::Start { end, empty } => {
                    self.start_tag(start, end, empty)?;
                    self.next(end);
                }
                Item::End { end } => {
                    self.end_tag(start, end)?;
                    self.next(end);
                }
            }
        }
    }

    /// Decodes the complete children of the multistatus that start at `pos`, in one pass: the
    /// tree builder reads each from the buffer and says where it ends, so these bytes are never
    /// scanned first. Stops at the first child that is incomplete or fails, at the
    /// multistatus' end tag and at anything else the scanner must judge, and leaves that to
    /// the scanner, which then goes on exactly as it would have without this pass (and
    /// reports any error). Returns whether it got past anything.
    fn decode_children(&mut self) -> bool {
        let buf = std::mem::take(&mut self.buf);
        let from = self.pos;
        // The longest valid prefix: a chunk may end inside a character. (`from_utf8` has a
        // fast path for ASCII that `utf8_chunks` lacks.)
        let tail = buf.get(from..).unwrap_or_default();
        let text = match std::str::from_utf8(tail) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(tail.get(..e.valid_up_to()).unwrap_or_default())
                .unwrap_or_default(),
        };
        let mut limits = self.limits.clone();
        limits.max_depth = limits.max_depth.saturating_sub(self.open.len());
        let mut lexer = crate::lexer::Lexer::new(text);
        let done = loop {
            let at = lexer.position();
            let Ok(Some(token)) = lexer.next_token() else {
                break at;
            };
            match token {
                Token::Start { .. } => {
                    let Some(child_text) = text.get(at..) else {
                        break at;
                    };
                    let depth = self.scope.depth();
                    let mut child = None;
                    let mut sink = |finished: Child, _end: usize| child = Some(finished);
                    let mut absorb = Absorb::root(&mut sink);
                    let built = build_prefix(
                        child_text,
                        &mut self.scope,
                        &limits,
                        ElementBudget::new(&self.limits),
                        Some(&mut absorb),
                    );
                    let Ok((_, len)) = built else {
                        self.scope.close_to(depth);
                        break at;
                    };
                    match child {
                        Some(Child::Response(response)) => self.ready.push_back(response),
                        Some(Child::Element(element)) => self.rest.absorb(element),
                        None => {}
                    }
                    lexer = crate::lexer::Lexer::at(text, at + len);
                }
                // Text that runs to the end may go on in the next chunk: the scanner's.
                Token::Text(_) if lexer.position() >= text.len() => break at,
                // Beside the children of the multistatus, text and markup carry nothing.
                Token::Text(_) | Token::CData(_) | Token::Skipped => {}
                Token::End(_) | Token::DocType => break at,
            }
        };
        self.buf = buf;
        if done == 0 {
            return false;
        }
        self.next(from + done);
        true
    }

    fn next(&mut self, end: usize) {
        self.pos = end;
        self.searched = end;
        self.quote = None;
    }

    fn text(&self, start: usize, end: usize) -> Result<(), Error> {
        if !self.open.is_empty() {
            return Ok(());
        }
        let text = self.buf.get(start..end).unwrap_or_default();
        match text.iter().position(|b| !is_space(*b)) {
            // The first offending byte, so that the offset does not depend on the chunking.
            Some(i) => Err(Error::Syntax {
                offset: self.offset(start + i),
                message: "text outside the root element".into(),
            }),
            None => Ok(()),
        }
    }

    /// Finds the end of the item at `pos`.
    fn scan(&mut self) -> Result<Item, Error> {
        let buf = &self.buf;
        let pos = self.pos;
        let Some(rest) = buf.get(pos..) else {
            return Ok(Item::Incomplete);
        };
        if rest.is_empty() {
            return Ok(Item::Incomplete);
        }
        if rest.first() != Some(&b'<') {
            let from = self.searched.max(pos);
            return Ok(
                match buf.get(from..).and_then(|tail| memchr::memchr(b'<', tail)) {
                    Some(i) => Item::Text { end: from + i },
                    None => {
                        self.searched = buf.len();
                        Item::Incomplete
                    }
                },
            );
        }
        let Some(&second) = rest.get(1) else {
            return Ok(Item::Incomplete);
        };
        match second {
            b'?' => Ok(self
                .find_terminator(pos + 2, b"?>")
                .map_or(Item::Incomplete, |end| Item::Ignored { end })),
            b'!' => {
                const COMMENT: &[u8] = b"<!--";
                const CDATA: &[u8] = b"<![CDATA[";
                if rest.starts_with(COMMENT) {
                    Ok(self
                        .find_terminator(pos + COMMENT.len(), b"-->")
                        .map_or(Item::Incomplete, |end| Item::Ignored { end }))
                } else if rest.starts_with(CDATA) {
                    Ok(self
                        .find_terminator(pos + CDATA.len(), b"]]>")
                        .map_or(Item::Incomplete, |end| Item::CData { end }))
                } else if COMMENT.starts_with(rest)
                    || CDATA.starts_with(rest)
                    || b"<!DOCTYPE".starts_with(rest)
                {
                    Ok(Item::Incomplete)
                } else if rest.starts_with(b"<!DOCTYPE") {
                    Err(Error::Dtd {
                        offset: self.offset(pos),
                    })
                } else {
                    Err(Error::Syntax {
                        offset: self.offset(pos),
                        message: "invalid markup after `<!`".into(),
                    })
                }
            }
            b'/' => Ok(
                match buf
                    .get(pos + 2..)
                    .and_then(|tail| memchr::memchr(b'>', tail))
                {
                    Some(i) => Item::End {
                        end: pos + 2 + i + 1,
                    },
                    None => Item::Incomplete,
                },
            ),
            _ => {
                let from = self.searched.max(pos + 1);
                let mut quote = self.quote;
                for (i, &b) in buf.get(from..).unwrap_or_default().iter().enumerate() {
                    match quote {
                        Some(q) if b == q => quote = None,
                        Some(_) => {}
                        None if b == b'"' || b == b'\'' => quote = Some(b),
                        None if b == b'>' => {
                            let end = from + i + 1;
                            let empty = end >= 2 && buf.get(end - 2) == Some(&b'/');
                            return Ok(Item::Start { end, empty });
                        }
                        None => {}
                    }
                }
                self.quote = quote;
                self.searched = buf.len();
                Ok(Item::Incomplete)
            }
        }
    }

    /// The end (exclusive) of `terminator` searched from `from`, resuming where the last search
    /// stopped.
    fn find_terminator(&mut self, from: usize, terminator: &[u8]) -> Option<usize> {
        let resume = self.searched.saturating_sub(terminator.len() - 1).max(from);
        let found = self
            .buf
            .get(resume..)
            .and_then(|tail| find_terminator(tail, terminator));
        match found {
            Some(i) => Some(resume + i + terminator.len()),
            None => {
                self.searched = self.buf.len();
                None
            }
        }
    }

    fn start_tag(&mut self, start: usize, end: usize, empty: bool) -> Result<(), Error> {
        let offset = self.offset(start);
        let depth_base = self.open.len();
        if let Some(segment) = &mut self.segment {
            segment.elements += 1;
            if segment.elements > self.limits.max_elements {
                return Err(Error::Limit {
                    offset,
                    limit: LimitKind::Elements,
                });
            }
            if depth_base + segment.depth + 1 > self.limits.max_depth {
                return Err(Error::Limit {
                    offset,
                    limit: LimitKind::Depth,
                });
            }
            if !empty {
                segment.depth += 1;
            }
            return Ok(());
        }
        if self.root_closed {
            return Err(Error::Syntax {
                offset,
                message: "content after the root element".into(),
            });
        }
        if depth_base >= self.limits.max_depth {
            return Err(Error::Limit {
                offset,
                limit: LimitKind::Depth,
            });
        }
        if self.multistatus_depth.is_some() || self.found_multistatus {
            // A child of the multistatus (kept), or anything after it (skipped, as whole
            // decoding skips it).
            let keep = self.multistatus_depth == Some(depth_base);
            self.segment = Some(Segment {
                start,
                depth: usize::from(!empty),
                elements: 1,
                keep,
            });
            if empty {
                self.finish_segment(end)?;
            }
            return Ok(());
        }
        // A wrapper, or the multistatus itself: resolve its name with its declarations.
        let tag = self
            .buf
            .get(start + 1..end - 1 - usize::from(empty))
            .unwrap_or_default();
        let tag = std::str::from_utf8(tag).map_err(|e| Error::InvalidUtf8 {
            offset: offset + 1 + e.valid_up_to() as u64,
        })?;
        let name_len = tag
            .find(|c: char| c.is_ascii_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let raw = tag.get(..name_len).unwrap_or_default();
        if raw.is_empty() {
            return Err(Error::Syntax {
                offset,
                message: "empty tag name".into(),
            });
        }
        self.scope.open();
        self.scope
            .declare_from(tag, name_len, offset, &self.limits)?;
        let name = self.scope.resolve_element(raw, offset)?;
        let is_multistatus = name == QName::DAV_MULTISTATUS;
        if is_multistatus {
            self.found_multistatus = true;
        }
        if empty {
            self.scope.close();
            if depth_base == 0 {
                self.root_closed = true;
            }
        } else {
            self.open.push(raw.to_owned());
            if is_multistatus {
                self.multistatus_depth = Some(self.open.len());
            }
        }
        Ok(())
    }

    fn end_tag(&mut self, start: usize, end: usize) -> Result<(), Error> {
        let offset = self.offset(start);
        if let Some(segment) = &mut self.segment {
            segment.depth = segment.depth.saturating_sub(1);
            if segment.depth == 0 {
                self.finish_segment(end)?;
            }
            return Ok(());
        }
        let name = self.buf.get(start + 2..end - 1).unwrap_or_default();
        let name = name.trim_ascii_end();
        match self.open.pop() {
            Some(open) if open.as_bytes() == name => {}
            Some(open) => {
                return Err(Error::Syntax {
                    offset,
                    message: format!(
                        "end tag `{}` does not match `{open}`",
                        String::from_utf8_lossy(name)
                    ),
                });
            }
            None => {
                return Err(Error::Syntax {
                    offset,
                    message: "unmatched end tag".into(),
                });
            }
        }
        self.scope.close();
        if self.multistatus_depth == Some(self.open.len() + 1) {
            self.multistatus_depth = None;
        }
        if self.open.is_empty() {
            self.root_closed = true;
        }
        Ok(())
    }

    fn finish_segment(&mut self, end: usize) -> Result<(), Error> {
        let Some(segment) = self.segment.take() else {
            return Ok(());
        };
        if !segment.keep {
            return Ok(());
        }
        let base = self.offset(segment.start);
        let bytes = self.buf.get(segment.start..end).unwrap_or_default();
        let text = std::str::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 {
            offset: base + e.valid_up_to() as u64,
        })?;
        let mut limits = self.limits.clone();
        limits.max_depth = limits.max_depth.saturating_sub(self.open.len());
        let mut child = None;
        let mut sink = |finished: Child, _end: usize| child = Some(finished);
        let mut absorb = Absorb::root(&mut sink);
        // The segment's declarations are pushed onto the decoder's own scope and popped again
        // as its elements close; after an error the decoder is done, so a scope left with
        // them does not matter.
        build_absorbing(
            text,
            &mut self.scope,
            &limits,
            ElementBudget::new(&self.limits),
            Some(&mut absorb),
            Shared::default(),
        )
        .map_err(|e| e.shifted(base))?;
        match child {
            Some(Child::Response(response)) => self.ready.push_back(response),
            Some(Child::Element(element)) => self.rest.absorb(element),
            None => {}
        }
        Ok(())
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_children_are_decoded_in_one_pass_up_to_the_cut_one() {
        let head = "<d:multistatus xmlns:d=\"DAV:\">";
        let one =
            "<d:response><d:href>/a</d:href><d:status>HTTP/1.1 200 OK</d:status></d:response>";
        let mut decoder = StreamDecoder::new();
        decoder.feed(head.as_bytes()).unwrap();
        assert_eq!(decoder.multistatus_depth, Some(1));
        // Put two whole responses and half a third in the buffer without running `advance`.
        let cut = format!("{one}<!-- c -->\n{one}{}", &one[..30]);
        decoder.buf.extend_from_slice(cut.as_bytes());
        assert!(decoder.decode_children());
        assert_eq!(decoder.ready.len(), 2);
        assert_eq!(decoder.pos, cut.len() - 30);
        assert_eq!(decoder.searched, decoder.pos);
        // Nothing whole left: no progress, and the scope is as it was.
        assert!(!decoder.decode_children());
        assert_eq!(decoder.scope.depth(), 1);
        decoder.feed(&one.as_bytes()[30..]).unwrap();
        assert_eq!(decoder.ready.len(), 3);
    }
}
