//! Character data of a decoded tree (XML 1.0 §2.4 character data, §2.7 CDATA sections):
//! [`Text`], a string that either owns its bytes or is a slice of a shared document.
//!
//! [`Multistatus::decode_owned`](crate::Multistatus::decode_owned) takes the body by value,
//! applies XML 1.0 §2.11 end-of-line handling to it in place and keeps it behind an [`Arc`];
//! text with nothing left to decode (no reference, no NUL) is then a slice of that one buffer
//! instead of a string of its own. The borrowed decoders make owned text as before.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::sync::Arc;

/// Decoded character data: a string, owned or shared with the document it was read from.
///
/// It dereferences to `str` and compares, hashes and prints as its text, whatever it is backed
/// by. A shared `Text` keeps the whole decoded document alive; [`Text::into_string`] (or
/// `String::from`) detaches it.
///
/// # Example
///
/// ```
/// use dav_xml::element::Text;
/// let text = Text::from("BEGIN:VCALENDAR\n");
/// assert!(text.starts_with("BEGIN:"));
/// assert_eq!(text, "BEGIN:VCALENDAR\n");
/// assert_eq!(String::from(text), "BEGIN:VCALENDAR\n");
/// ```
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Owned(String),
    /// `document[range]`, a range on character boundaries (checked when made).
    Shared {
        document: Arc<String>,
        range: Range<usize>,
    },
}

impl Text {
    /// An empty text.
    #[must_use]
    pub const fn new() -> Self {
        Self(Repr::Owned(String::new()))
    }

    /// `slice` as a part of `document`, or `None` when it does not lie inside it.
    pub(crate) fn slice_of(document: &Arc<String>, slice: &str) -> Option<Self> {
        let start = (slice.as_ptr() as usize).checked_sub(document.as_ptr() as usize)?;
        let range = start..start.checked_add(slice.len())?;
        document.get(range.clone())?;
        Some(Self(Repr::Shared {
            document: Arc::clone(document),
            range,
        }))
    }

    /// The text as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Owned(text) => text,
            // The range was checked when the text was made and the document never changes.
            Repr::Shared { document, range } => document.get(range.clone()).unwrap_or_default(),
        }
    }

    /// The text as an owned string: free when it is owned, a copy when shared.
    #[must_use]
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Owned(text) => text,
            Repr::Shared { .. } => self.as_str().to_owned(),
        }
    }

    /// Appends `more` (a shared text becomes owned first).
    pub fn push_str(&mut self, more: &str) {
        match &mut self.0 {
            Repr::Owned(text) => text.push_str(more),
            Repr::Shared { .. } => {
                let mut text = String::with_capacity(self.len() + more.len());
                text.push_str(self.as_str());
                text.push_str(more);
                self.0 = Repr::Owned(text);
            }
        }
    }

    /// Whether the text is a slice of a shared document rather than a string of its own.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Repr::Shared { .. })
    }
}

impl Default for Text {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(Repr::Owned(text))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self(Repr::Owned(text.to_owned()))
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(text: Cow<'_, str>) -> Self {
        Self(Repr::Owned(text.into_owned()))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.into_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_and_owned_text_behave_alike() {
        let document = Arc::new(String::from("<x>héllo</x>"));
        let slice = document.get(3..9).unwrap();
        let shared = Text::slice_of(&document, slice).unwrap();
        assert!(shared.is_shared());
        let owned = Text::from("héllo");
        assert_eq!(shared, owned);
        assert_eq!(format!("{shared:?} {shared}"), format!("{owned:?} {owned}"));
        let hash = |t: &Text| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            t.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&shared), hash(&owned));
        let mut grown = shared.clone();
        grown.push_str("!");
        assert!(!grown.is_shared());
        assert_eq!(grown, "héllo!");
        assert_eq!(shared.into_string(), "héllo");
    }

    #[test]
    fn a_slice_outside_the_document_is_refused() {
        let document = Arc::new(String::from("abc"));
        assert!(Text::slice_of(&document, "abc").is_none());
        let other = String::from("abcdef");
        assert!(Text::slice_of(&document, &other).is_none());
        let empty = document.get(3..).unwrap();
        assert_eq!(Text::slice_of(&document, empty).unwrap(), "");
    }
}
