//! The tokenizer under the tree builder: markup boundaries of a UTF-8 checked document
//! (XML 1.0 §2.4 character data, §2.5 comments, §2.6 processing instructions, §2.7 CDATA,
//! §3.1 tags), and the decoding of character data (§2.11 end-of-line handling, §4.1 and §4.6
//! references).
//!
//! Why not quick-xml's event loop: it stops text at every `&` and hands each reference over as
//! an event of its own, so text escaped the way SabreDAV and Nextcloud send calendar data
//! (`&#13;` on every line) costs two events per line, and its end-of-line pass is a second
//! walk over the text. Here a text run is one token, decoded in one pass that borrows from the
//! input when there is nothing to change. Attributes are still parsed by quick-xml
//! ([`quick_xml::events::BytesStart`]).
//!
//! The boundaries found here are the ones the stream decoder's scanner finds
//! ([`crate::stream`]): a tag ends at the first `>` outside quotes, a tag name at the first
//! whitespace or `/`, so that whole and streamed decoding agree on every input.

use std::borrow::Cow;
use std::sync::OnceLock;

use memchr::memmem;

use crate::error::Error;

/// One piece of a document.
#[derive(Debug)]
pub(crate) enum Token<'a> {
    /// Character data, raw: references and line ends not yet decoded (see [`text`]).
    Text(&'a str),
    /// The content of a CDATA section, raw (see [`cdata`]).
    CData(&'a str),
    /// A start tag or an empty-element tag: `content` is what stands between `<` and `>` (or
    /// `/>`), its first `name_len` bytes the raw name.
    Start {
        content: &'a str,
        name_len: usize,
        empty: bool,
    },
    /// An end tag's raw name, trailing whitespace removed.
    End(&'a str),
    /// A comment, a processing instruction or the XML declaration: no data.
    Skipped,
    /// A document type declaration, which is refused.
    DocType,
}

/// Walks a document from the start, one token at a time.
#[derive(Clone)]
pub(crate) struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(input: &'a str) -> Self {
        Self { input, pos: 0 }
    }

    /// Resumes walking `input` at byte `pos`, which must start a token.
    pub(crate) fn at(input: &'a str, pos: usize) -> Self {
        Self { input, pos }
    }

    /// Byte offset of the next token.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The next token, `None` at the end of the input.
    pub(crate) fn next_token(&mut self) -> Result<Option<Token<'a>>, Error> {
        let bytes = self.input.as_bytes();
        let start = self.pos;
        let Some(rest) = bytes.get(start..).filter(|rest| !rest.is_empty()) else {
            return Ok(None);
        };
        if rest.first() != Some(&b'<') {
            let end = find_short(b'<', rest).map_or(bytes.len(), |i| start + i);
            return self.token_until(end, end, Token::Text);
        }
        match rest.get(1) {
            Some(b'?') => {
                let end = self.find(start + 2, b"?>", "unclosed processing instruction")?;
                self.pos = end;
                Ok(Some(Token::Skipped))
            }
            Some(b'!') => {
                const COMMENT: &[u8] = b"<!--";
                const CDATA: &[u8] = b"<![CDATA[";
                if rest.starts_with(COMMENT) {
                    let end = self.find(start + COMMENT.len(), b"-->", "unclosed comment")?;
                    self.pos = end;
                    Ok(Some(Token::Skipped))
                } else if rest.starts_with(CDATA) {
                    let end = self.find(start + CDATA.len(), b"]]>", "unclosed cdata")?;
                    self.token_between(start + CDATA.len(), end - 3, end, Token::CData)
                } else if rest.starts_with(b"<!DOCTYPE") {
                    Ok(Some(Token::DocType))
                } else {
                    Err(self.syntax(start, "invalid markup after `<!`"))
                }
            }
            Some(b'/') => {
                let Some(i) = rest.get(2..).and_then(|tail| find_short(b'>', tail)) else {
                    return Err(self.syntax(start, "unclosed end tag"));
                };
                let end = start + 2 + i;
                let name = self
                    .input
                    .get(start + 2..end)
                    .unwrap_or_default()
                    .trim_end_matches(is_space_char);
                self.pos = end + 1;
                Ok(Some(Token::End(name)))
            }
            _ => {
                let Some(gt) = tag_end(rest) else {
                    return Err(self.syntax(start, "unclosed tag"));
                };
                let empty = gt >= 2 && rest.get(gt - 1) == Some(&b'/');
                let content = self
                    .input
                    .get(start + 1..start + gt - usize::from(empty))
                    .unwrap_or_default();
                let name_len = content
                    .bytes()
                    .position(|b| is_space(b) || b == b'/')
                    .unwrap_or(content.len());
                self.pos = start + gt + 1;
                Ok(Some(Token::Start {
                    content,
                    name_len,
                    empty,
                }))
            }
        }
    }

    fn token_until(
        &mut self,
        end: usize,
        next: usize,
        make: fn(&'a str) -> Token<'a>,
    ) -> Result<Option<Token<'a>>, Error> {
        self.token_between(self.pos, end, next, make)
    }

    fn token_between(
        &mut self,
        from: usize,
        to: usize,
        next: usize,
        make: fn(&'a str) -> Token<'a>,
    ) -> Result<Option<Token<'a>>, Error> {
        // Every boundary is an ASCII delimiter, so `get` cannot fail on a char boundary.
        let slice = self
            .input
            .get(from..to)
            .ok_or_else(|| self.syntax(from, "invalid character boundary"))?;
        self.pos = next;
        Ok(Some(make(slice)))
    }

    /// The end (exclusive) of `terminator`, searched from `from`.
    fn find(&self, from: usize, terminator: &[u8], unclosed: &str) -> Result<usize, Error> {
        self.input
            .as_bytes()
            .get(from..)
            .and_then(|tail| find_terminator(tail, terminator))
            .map(|i| from + i + terminator.len())
            .ok_or_else(|| self.syntax(self.pos, unclosed))
    }

    fn syntax(&self, offset: usize, message: &str) -> Error {
        Error::Syntax {
            offset: offset as u64,
            message: message.into(),
        }
    }
}

/// The first `needle` in `haystack`, which is most often short (indentation, an end tag, an
/// etag): the first bytes are looked at one by one, before paying `memchr`'s setup.
fn find_short(needle: u8, haystack: &[u8]) -> Option<usize> {
    const SHORT: usize = 16;
    let (head, tail) = haystack.split_at_checked(SHORT).unwrap_or((haystack, &[]));
    match head.iter().position(|&b| b == needle) {
        Some(i) => Some(i),
        None => memchr::memchr(needle, tail).map(|i| SHORT + i),
    }
}

/// Where `terminator` (`?>`, `-->` or `]]>`) starts in `haystack`.
pub(crate) fn find_terminator(haystack: &[u8], terminator: &[u8]) -> Option<usize> {
    // `memmem::find` builds a searcher on every call; calendar data makes one call per
    // resource for `]]>`, so that one is built once.
    static CDATA_END: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    if terminator == b"]]>" {
        CDATA_END
            .get_or_init(|| memmem::Finder::new(b"]]>"))
            .find(haystack)
    } else {
        memmem::find(haystack, terminator)
    }
}

/// The index of the `>` that ends the tag starting at `tag[0]` (`<`), skipping quoted
/// attribute values.
fn tag_end(tag: &[u8]) -> Option<usize> {
    let mut i = 1;
    loop {
        let at = i + memchr::memchr3(b'>', b'"', b'\'', tag.get(i..)?)?;
        let quote = *tag.get(at)?;
        if quote == b'>' {
            return Some(at);
        }
        i = at + 1 + memchr::memchr(quote, tag.get(at + 1..)?)? + 1;
    }
}

pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

pub(crate) fn is_space_char(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Decodes raw character data: references resolved, `CRLF` and lone `CR` turned into `LF`,
/// a raw NUL (which XML cannot carry) read as U+FFFD. Borrows when nothing changes.
///
/// `offset` is the byte offset of `raw` in the document, for errors.
#[inline]
pub(crate) fn text(raw: &str, offset: u64) -> Result<Cow<'_, str>, Error> {
    // Indentation and short values, most text runs of a multistatus, have nothing to decode:
    // settled here, without the call.
    if raw.len() < 16 && !raw.bytes().any(|b| b == b'\r' || b == 0 || b == b'&') {
        return Ok(Cow::Borrowed(raw));
    }
    decode(raw, offset)
}

/// Decodes the content of a CDATA section: line ends and NUL as in [`text`], no references.
///
/// Calendar data arrives here with a `CRLF` every few dozen bytes; a search call per line
/// (`memchr`) costs more in setup than in searching, so after the first line end the rest is
/// read in blocks whose special bytes are found with branch-free compares that the compiler
/// vectorizes. Each stretch between line ends is copied once, straight into the output.
pub(crate) fn cdata(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let first = if bytes.len() < 16 {
        bytes.iter().position(|&b| is_cdata_special(b))
    } else {
        memchr::memchr2(b'\r', 0, bytes)
    };
    let Some(first) = first else {
        return Cow::Borrowed(raw);
    };
    // Decoding only shrinks calendar data (a NUL, three bytes as U+FFFD, may grow it).
    let mut out = String::with_capacity(raw.len());
    // `raw[from..]` is not yet in `out`.
    let mut from = 0;
    let mut block = first;
    while let Some(rest) = bytes.get(block..).filter(|rest| !rest.is_empty()) {
        let (words, len) = match rest.first_chunk::<BLOCK>() {
            Some(chunk) => (block_flags(chunk), BLOCK),
            None => {
                let mut padded = [b' '; BLOCK];
                for (to, from) in padded.iter_mut().zip(rest) {
                    *to = *from;
                }
                (block_flags(&padded), rest.len())
            }
        };
        for (j, mut word) in words.into_iter().enumerate() {
            while word != 0 {
                let at = block + 8 * j + (word.trailing_zeros() / 8) as usize;
                word &= word - 1;
                // CR and NUL are ASCII, so `at` is a char boundary.
                out.push_str(raw.get(from..at).unwrap_or_default());
                if bytes.get(at) == Some(&0) {
                    out.push('\u{FFFD}');
                } else if bytes.get(at + 1) != Some(&b'\n') {
                    // A CRLF's LF is copied with the stretch that follows it.
                    out.push('\n');
                }
                from = at + 1;
            }
        }
        block += len;
    }
    out.push_str(raw.get(from..).unwrap_or_default());
    Cow::Owned(out)
}

/// XML 1.0 §2.11 end-of-line handling over a whole document, in place, before it is parsed
/// (where the specification puts it): `CRLF` and a lone `CR` become `LF`.
///
/// ```text
/// the XML processor MUST behave as if it normalized all line breaks in external parsed
/// entities (including the document entity) on input, before parsing, by translating both
/// the two-character sequence #xD #xA and any #xD that is not followed by #xA to a single
/// #xA character.
/// ```
///
/// A document without `CR` is only searched. After the first `CR`, the rest is read in the
/// blocks of [`cdata`], and each stretch between line ends moves left once. A `CR` is ASCII
/// and never part of a multi-byte UTF-8 sequence, so the result is valid UTF-8 exactly when
/// the input was, and a character reference (`&#13;`) is text, left for the parser.
pub(crate) fn normalize_line_ends(document: &mut Vec<u8>) {
    let Some(first) = memchr::memchr(b'\r', document) else {
        return;
    };
    let len = document.len();
    // `document[..to]` is the output so far, `document[block..]` not yet read; `to <= block`.
    let mut to = first;
    let mut block = first;
    while let Some(&chunk) = document
        .get(block..)
        .and_then(|rest| rest.first_chunk::<BLOCK>())
    {
        let words = cr_flags(&chunk);
        let store = if words == [0; BLOCK / 8] {
            // Nothing to drop: the block moves as it is.
            (chunk, BLOCK)
        } else {
            // The block, the byte after it (a CR's LF may start the next block) and bytes
            // that are copied along but never kept: every copy has a fixed size (a few vector
            // moves, no call).
            let mut read = [0u8; 2 * BLOCK];
            let (head, tail) = read.split_at_mut(BLOCK);
            head.copy_from_slice(&chunk);
            if let (Some(next), Some(after)) = (tail.first_mut(), document.get(block + BLOCK)) {
                *next = *after;
            }
            let mut out = [0u8; 2 * BLOCK];
            // `out[..kept]` is kept; `read[from..]` is not yet copied.
            let mut kept = 0;
            let mut from = 0;
            for (j, mut word) in words.into_iter().enumerate() {
                while word != 0 {
                    let at = 8 * j + (word.trailing_zeros() / 8) as usize;
                    word &= word - 1;
                    copy_block(&mut out, kept, &read, from);
                    kept += at - from;
                    if read.get(at + 1) != Some(&b'\n') {
                        if let Some(byte) = out.get_mut(kept) {
                            *byte = b'\n';
                        }
                        kept += 1;
                    }
                    // A CRLF's LF is copied with the stretch that follows it.
                    from = at + 1;
                }
            }
            copy_block(&mut out, kept, &read, from);
            (
                out.first_chunk::<BLOCK>().copied().unwrap_or_default(),
                kept + BLOCK - from,
            )
        };
        // The one store into the document: at `to <= block`, so it ends at the end of this
        // block at the latest, never on bytes not yet read.
        if let Some(to) = document.get_mut(to..to + BLOCK) {
            to.copy_from_slice(&store.0);
        }
        to += store.1;
        block += BLOCK;
    }
    // The last bytes, fewer than a block, one at a time.
    let mut at = block;
    while let Some(&b) = document.get(at) {
        let next = document.get(at + 1).copied();
        if let Some(byte) = document.get_mut(to) {
            *byte = if b == b'\r' { b'\n' } else { b };
        }
        to += 1;
        at += if b == b'\r' && next == Some(b'\n') {
            2
        } else {
            1
        };
    }
    document.truncate(to.min(len));
}

/// Copies `BLOCK` bytes from `read[from..]` to `out[to..]` (both at most `BLOCK`).
#[inline(always)]
fn copy_block(out: &mut [u8; 2 * BLOCK], to: usize, read: &[u8; 2 * BLOCK], from: usize) {
    if let (Some(out), Some(read)) = (
        out.get_mut(to..)
            .and_then(|out| out.first_chunk_mut::<BLOCK>()),
        read.get(from..)
            .and_then(|read| read.first_chunk::<BLOCK>()),
    ) {
        *out = *read;
    }
}

/// Bytes looked at in one step by [`cdata`].
const BLOCK: usize = 32;

/// Whether `b` needs decoding inside CDATA.
#[inline(always)]
fn is_cdata_special(b: u8) -> bool {
    (b == b'\r') | (b == 0)
}

/// The special bytes of a block as four words, one per eight bytes: byte `k` of word `j` is
/// 1 when `block[8 * j + k]` is special. Written without branches so that the compares compile
/// to vector instructions (gathering the flags into a bit mask by multiplication defeats that).
#[inline(always)]
fn block_flags(block: &[u8; BLOCK]) -> [u64; BLOCK / 8] {
    let mut flags = [0u8; BLOCK];
    for (flag, &b) in flags.iter_mut().zip(block) {
        *flag = u8::from(is_cdata_special(b));
    }
    flag_words(&flags)
}

/// [`block_flags`] for `CR` alone (its own compare loop: passing the test in as a parameter
/// keeps the compiler from vectorizing it).
#[inline(always)]
fn cr_flags(block: &[u8; BLOCK]) -> [u64; BLOCK / 8] {
    let mut flags = [0u8; BLOCK];
    for (flag, &b) in flags.iter_mut().zip(block) {
        *flag = u8::from(b == b'\r');
    }
    flag_words(&flags)
}

/// A block's 0/1 flags as four little-endian words, eight flags each.
#[inline(always)]
fn flag_words(flags: &[u8; BLOCK]) -> [u64; BLOCK / 8] {
    let mut words = [0u64; BLOCK / 8];
    for (word, bytes) in words.iter_mut().zip(flags.chunks_exact(8)) {
        let mut le = [0u8; 8];
        le.copy_from_slice(bytes);
        *word = u64::from_le_bytes(le);
    }
    words
}

#[inline(never)]
fn decode(raw: &str, offset: u64) -> Result<Cow<'_, str>, Error> {
    let bytes = raw.as_bytes();
    let special = |from: usize| {
        let tail = bytes.get(from..).unwrap_or_default();
        // Indentation and short values: a loop beats `memchr`'s setup.
        let found = if tail.len() < 16 {
            tail.iter().position(|&b| b == b'\r' || b == 0 || b == b'&')
        } else {
            memchr::memchr3(b'&', b'\r', 0, tail)
        };
        found.map(|i| from + i)
    };
    let Some(mut at) = special(0) else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    let mut from = 0;
    loop {
        out.push_str(raw.get(from..at).unwrap_or_default());
        match bytes.get(at) {
            Some(b'\r') => {
                at += 1;
                // A CRLF's LF is copied with the stretch that follows it.
                if bytes.get(at) != Some(&b'\n') {
                    out.push('\n');
                }
            }
            Some(b'&') => {
                let name_from = at + 1;
                let semicolon = bytes
                    .get(name_from..)
                    .and_then(|tail| {
                        let (head, rest) = tail.split_at_checked(16).unwrap_or((tail, &[]));
                        match head.iter().position(|&b| b == b';' || b == b'&') {
                            Some(i) => Some(i),
                            None => memchr::memchr2(b';', b'&', rest).map(|i| 16 + i),
                        }
                    })
                    .map(|i| name_from + i)
                    .filter(|end| bytes.get(*end) == Some(&b';'));
                let Some(semicolon) = semicolon else {
                    return Err(Error::Syntax {
                        offset: offset + at as u64,
                        message: "unclosed reference".into(),
                    });
                };
                let name = raw.get(name_from..semicolon).unwrap_or_default();
                resolve(name, &mut out).ok_or_else(|| Error::Entity {
                    offset: offset + at as u64,
                    name: name.to_owned(),
                })?;
                at = semicolon + 1;
            }
            _ => {
                out.push('\u{FFFD}');
                at += 1;
            }
        }
        from = at;
        match special(from) {
            Some(next) => at = next,
            None => {
                out.push_str(raw.get(from..).unwrap_or_default());
                return Ok(Cow::Owned(out));
            }
        }
    }
}

/// Appends what reference `&name;` stands for: one of the five predefined entities
/// (§4.6) or a character reference (§4.1). `None` for anything else (no DTD declares more).
fn resolve(name: &str, out: &mut String) -> Option<()> {
    let predefined = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => {
            let number = name.strip_prefix('#')?;
            let (digits, radix) = match number.strip_prefix('x') {
                Some(hex) => (hex, 16),
                None => (number, 10),
            };
            // `from_str_radix` would take a sign; a reference may not.
            if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let code = u32::from_str_radix(digits, radix).ok()?;
            if code == 0 {
                return None;
            }
            char::from_u32(code)?
        }
    };
    out.push(predefined);
    Some(())
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Just;

    use super::*;

    fn tokens(input: &str) -> Vec<String> {
        let mut lexer = Lexer::new(input);
        let mut out = Vec::new();
        while let Some(token) = lexer.next_token().unwrap() {
            out.push(format!("{token:?}"));
        }
        out
    }

    #[test]
    fn tags_text_and_markup() {
        assert_eq!(
            tokens("<?xml version='1.0'?><a x='>' y=\"'\">t<!-- c --><![CDATA[<d>]]></a ><b/>"),
            [
                "Skipped",
                "Start { content: \"a x='>' y=\\\"'\\\"\", name_len: 1, empty: false }",
                "Text(\"t\")",
                "Skipped",
                "CData(\"<d>\")",
                "End(\"a\")",
                "Start { content: \"b\", name_len: 1, empty: true }",
            ]
        );
    }

    #[test]
    fn unclosed_markup_is_an_error() {
        for input in [
            "<a",
            "<a x='>",
            "</a",
            "<!-- x",
            "<![CDATA[x",
            "<?pi",
            "<!x>",
        ] {
            let mut lexer = Lexer::new(input);
            assert!(
                matches!(lexer.next_token(), Err(Error::Syntax { offset: 0, .. })),
                "{input}"
            );
        }
        assert!(matches!(
            Lexer::new("<!DOCTYPE x>").next_token(),
            Ok(Some(Token::DocType))
        ));
    }

    #[test]
    fn text_decoding_borrows_when_nothing_changes() {
        assert!(matches!(text("plain", 0), Ok(Cow::Borrowed("plain"))));
        assert!(matches!(cdata("a&amp;b"), Cow::Borrowed("a&amp;b")));
        assert_eq!(
            text("a&#13;\r\nb\rc&lt;&#x41;&amp;&quot;&apos;&gt;\0", 0).unwrap(),
            "a\r\nb\nc<A&\"'>\u{FFFD}"
        );
        assert_eq!(cdata("a\r\n\r\rb\0"), "a\n\n\nb\u{FFFD}");
    }

    #[test]
    fn short_and_long_searches() {
        for len in [0, 1, 15, 16, 17, 40] {
            let mut hay = vec![b'a'; len];
            assert_eq!(find_short(b'<', &hay), None);
            for at in 0..len {
                hay[at] = b'<';
                assert_eq!(find_short(b'<', &hay), Some(at));
                hay[at] = b'a';
            }
        }
        let long = format!("{}\r\n{}\0\r", "x".repeat(20), "y".repeat(20));
        assert_eq!(
            cdata(&long),
            format!("{}\n{}\u{FFFD}\n", "x".repeat(20), "y".repeat(20))
        );
    }

    /// XML 1.0 §2.11 (and NUL as U+FFFD), one character at a time.
    fn cdata_reference(raw: &str) -> String {
        let mut out = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    out.push('\n');
                }
                '\0' => out.push('\u{FFFD}'),
                other => out.push(other),
            }
        }
        out
    }

    #[test]
    fn cdata_line_ends_at_every_block_position() {
        // A CR, CRLF, NUL or CRCR at each position around the 32-byte blocks, with multi-byte
        // characters before and after, so that every split of a pair falls on a boundary.
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100] {
            for at in 0..=len {
                for special in ["\r", "\r\n", "\0", "\r\r", "\n\r", "\r\né"] {
                    let head = "x".repeat(at);
                    let tail = "ü".repeat((len - at) / 2);
                    let raw = format!("{head}{special}{tail}\r\n{head}");
                    assert_eq!(cdata(&raw), cdata_reference(&raw), "{raw:?}");
                }
            }
        }
    }

    /// XML 1.0 §2.11 alone, one byte at a time.
    fn line_ends_reference(raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut bytes = raw.iter().peekable();
        while let Some(&b) = bytes.next() {
            if b == b'\r' {
                if bytes.peek() == Some(&&b'\n') {
                    bytes.next();
                }
                out.push(b'\n');
            } else {
                out.push(b);
            }
        }
        out
    }

    fn normalized(raw: &[u8]) -> Vec<u8> {
        let mut document = raw.to_vec();
        normalize_line_ends(&mut document);
        document
    }

    #[test]
    fn document_line_ends_at_every_block_position() {
        // CR, CRLF, CRCR, LFCR and a CR at the very end, at each position around the 32-byte
        // blocks, so that every pair is split by a block edge somewhere.
        for len in [0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100] {
            for at in 0..=len {
                for special in ["\r", "\r\n", "\r\r", "\n\r", "\r\n\r\n", "&#13;\r"] {
                    let head = "x".repeat(at);
                    let tail = "ü".repeat((len - at) / 2);
                    for raw in [
                        format!("{head}{special}{tail}\r\n{head}"),
                        format!("{head}{special}"),
                        format!("{special}{head}\r"),
                    ] {
                        let got = normalized(raw.as_bytes());
                        assert_eq!(got, line_ends_reference(raw.as_bytes()), "{raw:?}");
                    }
                }
            }
        }
        assert_eq!(normalized(b"a&#13;\r\nb"), b"a&#13;\nb");
    }

    #[test]
    fn a_document_without_cr_is_left_as_it_is() {
        let raw = "<a>\nline\n</a>".repeat(10);
        assert_eq!(normalized(raw.as_bytes()), raw.as_bytes());
    }

    proptest::proptest! {
        #[test]
        fn document_line_ends_match_the_reference(raw in proptest::collection::vec(
            proptest::prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'a'), Just(0xC3u8)],
            0..300,
        )) {
            proptest::prop_assert_eq!(normalized(&raw), line_ends_reference(&raw));
        }

        #[test]
        fn cdata_matches_the_reference(raw in "[a\r\n\0é]{0,200}") {
            proptest::prop_assert_eq!(cdata(&raw), cdata_reference(&raw));
        }

        #[test]
        fn cdata_and_escaped_text_agree(raw in "[a<>&\r\n]{0,120}") {
            // The same characters as text: `CR` kept raw in both, markup escaped in the text.
            let escaped = raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            proptest::prop_assert_eq!(cdata(&raw), text(&escaped, 0).unwrap());
        }
    }

    #[test]
    fn bad_references() {
        for (raw, at) in [
            ("x&bogus;", 1),
            ("&#0;", 0),
            ("&#-1;", 0),
            ("&#+1;", 0),
            ("&#xD800;", 0),
            ("&;", 0),
        ] {
            assert!(
                matches!(text(raw, 10), Err(Error::Entity { offset, .. }) if offset == 10 + at),
                "{raw}"
            );
        }
        assert!(matches!(
            text("a&amp", 0),
            Err(Error::Syntax { offset: 1, .. })
        ));
        assert!(matches!(
            text("a&b&amp;", 0),
            Err(Error::Syntax { offset: 1, .. })
        ));
    }
}
