//! TEXT escaping (RFC 5545 §3.3.11) and value lists (§3.1.1).
//!
//! ```text
//! ESCAPED-CHAR = ("\\" / "\;" / "\," / "\N" / "\n")
//! ```

use std::borrow::Cow;

/// Unescapes a TEXT value: `\\` `\;` `\,` `\n` `\N`. Borrows when there is nothing to undo.
///
/// Any other backslash pair (`\:` is a common one) reads as the character after the backslash,
/// which is what its producers meant; a trailing lone backslash is kept.
///
/// # Example
///
/// ```
/// use ical_parse::value::unescape_text;
/// assert_eq!(unescape_text(r"a\, b\nc\\"), "a, b\nc\\");
/// ```
#[must_use]
pub fn unescape_text(text: &str) -> Cow<'_, str> {
    let Some(first) = memchr::memchr(b'\\', text.as_bytes()) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(text.get(..first).unwrap_or_default());
    let mut chars = text.get(first..).unwrap_or_default().chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Escapes text as a TEXT value: backslash, `;`, `,` and LF (as `\n`). Borrows when there is
/// nothing to escape.
///
/// TEXT has no escape for CR, so a CR is kept as it is (and [`unescape_text`] gives it back);
/// normalise line breaks to LF first for output that strict parsers accept.
///
/// # Example
///
/// ```
/// use ical_parse::value::escape_text;
/// assert_eq!(escape_text("a, b;\nc"), r"a\, b\;\nc");
/// ```
#[must_use]
pub fn escape_text(text: &str) -> Cow<'_, str> {
    if !text
        .bytes()
        .any(|b| matches!(b, b'\\' | b';' | b',' | b'\n'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Splits a raw value at the commas that separate list elements (§3.1.1), leaving escaped
/// commas (`\,`) inside their element. Each element is still escaped.
///
/// # Example
///
/// ```
/// use ical_parse::value::split_list;
/// let parts: Vec<&str> = split_list(r"a\,b,c").collect();
/// assert_eq!(parts, [r"a\,b", "c"]);
/// ```
pub fn split_list(raw: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(raw);
    std::iter::from_fn(move || {
        let s = rest?;
        let bytes = s.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\\' => i += 2,
                b',' => {
                    rest = s.get(i + 1..);
                    return s.get(..i);
                }
                _ => i += 1,
            }
        }
        rest = None;
        Some(s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_unescape_round_trip() {
        for s in [
            "",
            "plain",
            "a,b;c\\d\ne",
            "trailing\\",
            "ü, ö",
            "cr\r\nlf",
            "\0\r",
        ] {
            assert_eq!(unescape_text(&escape_text(s)), s);
        }
        assert!(matches!(unescape_text("plain"), Cow::Borrowed(_)));
        assert_eq!(escape_text("a\r\nb\rc"), "a\r\\nb\rc");
        assert_eq!(unescape_text("a\\:b\\"), "a:b\\");
    }

    #[test]
    fn list_splitting() {
        assert_eq!(split_list("").collect::<Vec<_>>(), [""]);
        assert_eq!(split_list("a,,b").collect::<Vec<_>>(), ["a", "", "b"]);
        assert_eq!(
            split_list("a\\,b\\\\,c").collect::<Vec<_>>(),
            ["a\\,b\\\\", "c"]
        );
        assert_eq!(split_list("x,").collect::<Vec<_>>(), ["x", ""]);
        assert_eq!(split_list("ends\\").collect::<Vec<_>>(), ["ends\\"]);
    }
}
