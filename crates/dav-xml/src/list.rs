//! [`OneOrMany`]: the list type of a multistatus response's hrefs (RFC 4918 §14.24: one href
//! for a propstat response, one or more for a status response).
//!
//! Nearly every response of a real multistatus has exactly one href, and a whole decode holds
//! thousands of responses: a list that keeps its only item inline saves one heap allocation
//! (and its first write to fresh memory) per response.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

/// A list that holds a single item inline and moves to a `Vec` from the second on.
///
/// It dereferences to a slice (`len`, `iter`, indexing, `first`, ...), and offers the `Vec`
/// methods a decoded response is edited with. It compares, hashes and prints as its slice.
///
/// # Example
///
/// ```
/// use dav_xml::{Href, OneOrMany};
/// let mut hrefs = OneOrMany::new();
/// hrefs.push(Href::new("/a"));
/// assert_eq!(hrefs, [Href::new("/a")]);
/// hrefs.push(Href::new("/b"));
/// assert_eq!(hrefs.len(), 2);
/// assert_eq!(hrefs.into_vec(), vec![Href::new("/a"), Href::new("/b")]);
/// ```
#[derive(Clone)]
pub struct OneOrMany<T>(Repr<T>);

#[derive(Clone)]
enum Repr<T> {
    One(T),
    /// Empty too: an empty `Vec` does not allocate.
    Many(Vec<T>),
}

impl<T> Default for Repr<T> {
    fn default() -> Self {
        Repr::Many(Vec::new())
    }
}

impl<T> OneOrMany<T> {
    /// An empty list.
    #[must_use]
    pub const fn new() -> Self {
        Self(Repr::Many(Vec::new()))
    }

    /// Appends an item: the first one of an empty list is kept inline.
    pub fn push(&mut self, item: T) {
        self.0 = match std::mem::take(&mut self.0) {
            Repr::Many(items) if items.capacity() == 0 => Repr::One(item),
            Repr::Many(mut items) => {
                items.push(item);
                Repr::Many(items)
            }
            Repr::One(first) => Repr::Many(vec![first, item]),
        };
    }

    /// Removes and returns the last item.
    pub fn pop(&mut self) -> Option<T> {
        match &mut self.0 {
            Repr::Many(items) => items.pop(),
            Repr::One(_) => match std::mem::take(&mut self.0) {
                Repr::One(item) => Some(item),
                Repr::Many(_) => None,
            },
        }
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        match &mut self.0 {
            Repr::Many(items) => items.clear(),
            Repr::One(_) => self.0 = Repr::default(),
        }
    }

    /// Keeps only the items for which `keep` returns `true`, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        match &mut self.0 {
            Repr::Many(items) => items.retain(keep),
            Repr::One(item) => {
                if !keep(item) {
                    self.0 = Repr::default();
                }
            }
        }
    }

    /// The items as a slice.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        match &self.0 {
            Repr::One(item) => std::slice::from_ref(item),
            Repr::Many(items) => items,
        }
    }

    /// The items as a mutable slice.
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.0 {
            Repr::One(item) => std::slice::from_mut(item),
            Repr::Many(items) => items,
        }
    }

    /// The items as a `Vec` (allocates for a single item).
    #[must_use]
    pub fn into_vec(self) -> Vec<T> {
        match self.0 {
            Repr::One(item) => vec![item],
            Repr::Many(items) => items,
        }
    }
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for OneOrMany<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> DerefMut for OneOrMany<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T> AsRef<[T]> for OneOrMany<T> {
    fn as_ref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: fmt::Debug> fmt::Debug for OneOrMany<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq> PartialEq for OneOrMany<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Eq> Eq for OneOrMany<T> {}

impl<T: PartialEq> PartialEq<[T]> for OneOrMany<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.as_slice() == other
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[T; N]> for OneOrMany<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        self.as_slice() == other
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for OneOrMany<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Hash> Hash for OneOrMany<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<T> From<Vec<T>> for OneOrMany<T> {
    fn from(items: Vec<T>) -> Self {
        Self(Repr::Many(items))
    }
}

impl<T> From<OneOrMany<T>> for Vec<T> {
    fn from(list: OneOrMany<T>) -> Self {
        list.into_vec()
    }
}

impl<T> FromIterator<T> for OneOrMany<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut list = Self::new();
        list.extend(iter);
        list
    }
}

impl<T> Extend<T> for OneOrMany<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.push(item);
        }
    }
}

impl<T> IntoIterator for OneOrMany<T> {
    type Item = T;
    type IntoIter = std::iter::Chain<std::option::IntoIter<T>, std::vec::IntoIter<T>>;

    fn into_iter(self) -> Self::IntoIter {
        match self.0 {
            Repr::One(item) => Some(item).into_iter().chain(Vec::new()),
            Repr::Many(items) => None.into_iter().chain(items),
        }
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<'a, T> IntoIterator for &'a mut OneOrMany<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_mut_slice().iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Edit {
        Push(u8),
        Pop,
        Clear,
        RetainEven,
        Set(usize, u8),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            4 => any::<u8>().prop_map(Edit::Push),
            2 => Just(Edit::Pop),
            1 => Just(Edit::Clear),
            1 => Just(Edit::RetainEven),
            1 => (0usize..4, any::<u8>()).prop_map(|(i, v)| Edit::Set(i, v)),
        ]
    }

    proptest! {
        #[test]
        fn agrees_with_a_vec(start in proptest::collection::vec(any::<u8>(), 0..3),
                             edits in proptest::collection::vec(edit(), 0..24)) {
            let mut list: OneOrMany<u8> = start.iter().copied().collect();
            let mut vec = start.clone();
            prop_assert_eq!(&list, &vec);
            for edit in edits {
                match edit {
                    Edit::Push(v) => {
                        list.push(v);
                        vec.push(v);
                    }
                    Edit::Pop => prop_assert_eq!(list.pop(), vec.pop()),
                    Edit::Clear => {
                        list.clear();
                        vec.clear();
                    }
                    Edit::RetainEven => {
                        list.retain(|v| v % 2 == 0);
                        vec.retain(|v| v % 2 == 0);
                    }
                    Edit::Set(i, v) => {
                        if let (Some(a), Some(b)) = (list.get_mut(i), vec.get_mut(i)) {
                            *a = v;
                            *b = v;
                        }
                        prop_assert_eq!(list.get(i), vec.get(i));
                    }
                }
                prop_assert_eq!(list.as_slice(), vec.as_slice());
                prop_assert_eq!(format!("{list:?}"), format!("{vec:?}"));
            }
            let by_ref: Vec<u8> = (&list).into_iter().copied().collect();
            prop_assert_eq!(&by_ref, &vec);
            prop_assert_eq!(list.clone().into_vec(), vec.clone());
            let owned: Vec<u8> = list.into_iter().collect();
            prop_assert_eq!(owned, vec);
        }
    }

    #[test]
    fn one_item_is_inline() {
        let mut list = OneOrMany::new();
        list.push(String::from("/a"));
        assert!(matches!(list.0, Repr::One(_)));
        list.push(String::from("/b"));
        assert!(matches!(list.0, Repr::Many(_)));
        assert_eq!(list, ["/a".to_owned(), "/b".to_owned()]);
        let from_vec = OneOrMany::from(vec![1, 2]);
        assert_eq!(from_vec, vec![1, 2]);
        assert_eq!(Vec::from(from_vec), vec![1, 2]);
    }
}
