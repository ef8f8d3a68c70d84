//! Substring matching under the collations RFC 4791 §7.5 names (RFC 4790, RFC 5051).
//!
//! ```text
//! i;octet          RFC 4790 §9.3  octets compare exactly
//! i;ascii-casemap  RFC 4790 §9.2  a-z map to A-Z, other octets compare exactly
//! i;unicode-casemap RFC 5051      each character case-folded, then NFKD-decomposed
//! ```

use unicode_normalization::UnicodeNormalization;

use crate::filter::{Collation, TextMatch};

/// Whether `value` contains `needle` under `collation`; `None` for a collation this crate
/// does not implement (a server answers those with `CALDAV:supported-collation`).
#[must_use]
pub fn contains(value: &str, needle: &str, collation: &Collation) -> Option<bool> {
    match collation {
        Collation::Octet => Some(value.contains(needle)),
        Collation::AsciiCasemap => Some(
            needle.is_empty()
                || value
                    .as_bytes()
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle.as_bytes())),
        ),
        Collation::UnicodeCasemap => Some(unicode_key(value).contains(&unicode_key(needle))),
        Collation::Other(_) => None,
    }
}

/// Evaluates a `CALDAV:text-match` against one value, `negate-condition` included.
///
/// An unknown collation never matches, negated or not: RFC 4791 §7.5.1 makes it an error,
/// and an error must not turn into a match.
///
/// # Example
///
/// ```
/// use caldav_model::collation::text_match;
/// use caldav_model::filter::{Collation, TextMatch};
///
/// assert!(text_match("Meeting with Bernard", &TextMatch::new("BERNARD")));
/// assert!(!text_match("Meeting", &TextMatch::new("MEET").collation(Collation::Octet)));
/// assert!(text_match("CONFIRMED", &TextMatch::new("CANCELLED").negate(true)));
/// ```
#[must_use]
pub fn text_match(value: &str, test: &TextMatch) -> bool {
    contains(value, &test.text, &test.collation).is_some_and(|found| found != test.negate)
}

/// RFC 5051's comparison key: titlecase each character (approximated by the full uppercase
/// mapping followed by lowercase, which puts every case variant in one class), then NFKD.
fn unicode_key(text: &str) -> String {
    text.chars()
        .flat_map(char::to_uppercase)
        .flat_map(char::to_lowercase)
        .nfkd()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_casemap_folds_only_ascii() {
        assert_eq!(contains("Éa", "éA", &Collation::AsciiCasemap), Some(false));
        assert_eq!(contains("xÉAy", "ÉA", &Collation::AsciiCasemap), Some(true));
        assert_eq!(contains("abc", "", &Collation::AsciiCasemap), Some(true));
        assert_eq!(contains("ab", "abc", &Collation::AsciiCasemap), Some(false));
    }

    #[test]
    fn unicode_casemap_folds_case_and_compatibility_forms() {
        assert_eq!(
            contains("Élan", "éLA", &Collation::UnicodeCasemap),
            Some(true)
        );
        // U+00E9 vs "e" + U+0301 and the "fi" ligature: equal after NFKD.
        assert_eq!(
            contains("caf\u{e9}", "CAFE\u{301}", &Collation::UnicodeCasemap),
            Some(true)
        );
        assert_eq!(
            contains("\u{fb01}x", "FI", &Collation::UnicodeCasemap),
            Some(true)
        );
        assert_eq!(
            contains("abc", "abd", &Collation::UnicodeCasemap),
            Some(false)
        );
    }

    #[test]
    fn unknown_collation_never_matches() {
        let other = Collation::Other("i;bogus".into());
        assert_eq!(contains("a", "a", &other), None);
        assert!(!text_match(
            "a",
            &TextMatch::new("a").collation(other.clone())
        ));
        assert!(!text_match(
            "a",
            &TextMatch::new("b").collation(other).negate(true)
        ));
    }
}
