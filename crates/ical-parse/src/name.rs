//! The property names this crate knows (RFC 5545 §3.7, §3.8; RFC 7986 §5; RFC 7953 §3.2),
//! with their default value types (RFC 5545 §3.2.20), found by one table lookup.
//!
//! ```text
//! name = iana-token / x-name
//! ```
//!
//! The parser asks three things of each line's name: whether it opens or closes a component,
//! what type its value has by default, and which bit it takes in its component's occurrence
//! rules. One lookup answers all three (a hash of its first three bytes, last byte and length
//! picks the one candidate, a comparison confirms it), where three searches by name did.

use crate::value::ValueType;

/// A name of [`NAMES`], by its index there.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Known(u8);

impl Known {
    /// The index in [`NAMES`].
    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The default value type (RFC 5545 §3.2.20; [`ValueType::Unknown`] for BEGIN and END).
    pub(crate) fn value_type(self) -> ValueType {
        NAMES
            .get(self.index())
            .map_or(ValueType::Unknown, |&(_, t)| t)
    }
}

use ValueType as T;

/// The known names (uppercase) and their default value types.
pub(crate) const NAMES: [(&str, ValueType); 56] = [
    ("BEGIN", T::Unknown),
    ("END", T::Unknown),
    // RFC 5545 §3.7 calendar properties, §3.8 component properties.
    ("CALSCALE", T::Text),
    ("METHOD", T::Text),
    ("PRODID", T::Text),
    ("VERSION", T::Text),
    ("CATEGORIES", T::Text),
    ("CLASS", T::Text),
    ("COMMENT", T::Text),
    ("DESCRIPTION", T::Text),
    ("LOCATION", T::Text),
    ("RESOURCES", T::Text),
    ("STATUS", T::Text),
    ("SUMMARY", T::Text),
    ("TRANSP", T::Text),
    ("TZID", T::Text),
    ("TZNAME", T::Text),
    ("CONTACT", T::Text),
    ("RELATED-TO", T::Text),
    ("UID", T::Text),
    ("ACTION", T::Text),
    ("REQUEST-STATUS", T::Text),
    ("ATTACH", T::Uri),
    ("TZURL", T::Uri),
    ("URL", T::Uri),
    ("GEO", T::Float),
    ("PERCENT-COMPLETE", T::Integer),
    ("PRIORITY", T::Integer),
    ("SEQUENCE", T::Integer),
    ("REPEAT", T::Integer),
    ("COMPLETED", T::DateTime),
    ("DTEND", T::DateTime),
    ("DUE", T::DateTime),
    ("DTSTART", T::DateTime),
    ("RECURRENCE-ID", T::DateTime),
    ("EXDATE", T::DateTime),
    ("RDATE", T::DateTime),
    ("CREATED", T::DateTime),
    ("DTSTAMP", T::DateTime),
    ("LAST-MODIFIED", T::DateTime),
    ("DURATION", T::Duration),
    ("TRIGGER", T::Duration),
    ("FREEBUSY", T::Period),
    ("TZOFFSETFROM", T::UtcOffset),
    ("TZOFFSETTO", T::UtcOffset),
    ("ATTENDEE", T::CalAddress),
    ("ORGANIZER", T::CalAddress),
    ("RRULE", T::Recur),
    ("EXRULE", T::Recur),
    // RFC 7986 §5.
    ("NAME", T::Text),
    ("COLOR", T::Text),
    ("REFRESH-INTERVAL", T::Duration),
    ("SOURCE", T::Uri),
    ("IMAGE", T::Uri),
    ("CONFERENCE", T::Uri),
    // RFC 7953 §3.2 (VAVAILABILITY): BUSYTYPE is TEXT.
    ("BUSYTYPE", T::Text),
];

pub(crate) const BEGIN: Known = Known(0);
pub(crate) const END: Known = Known(1);
pub(crate) const GEO: Known = Known(find("GEO"));
pub(crate) const REQUEST_STATUS: Known = Known(find("REQUEST-STATUS"));

/// An empty slot of [`TABLE`].
const EMPTY: u8 = u8::MAX;

/// Found by a search for a multiplier that gives every name of [`NAMES`] its own slot; a
/// name added to the list that collides fails the build (see [`TABLE`]).
const MULTIPLIER: u64 = 0x609a_c842_4b6a_7d91;

/// The slot of `name` in [`TABLE`]: a hash of its first three bytes, its last byte and its
/// length. `None` for a name shorter than every known one.
const fn slot(name: &[u8]) -> Option<usize> {
    let [x0, x1, x2, rest @ ..] = name else {
        return None;
    };
    let last = match rest {
        [.., last] => *last,
        [] => *x2,
    };
    let word = (*x0 as u64)
        | (*x1 as u64) << 8
        | (*x2 as u64) << 16
        | (last as u64) << 24
        | (name.len() as u64) << 32;
    Some((word.wrapping_mul(MULTIPLIER) >> 56) as usize)
}

/// For each slot, the index in [`NAMES`] of the name that hashes to it, or [`EMPTY`].
// Evaluated at compile time: an index out of bounds or a collision fails the build.
#[allow(clippy::indexing_slicing)]
const TABLE: [u8; 256] = {
    let mut table = [EMPTY; 256];
    let mut i = 0;
    while i < NAMES.len() {
        let Some(slot) = slot(NAMES[i].0.as_bytes()) else {
            panic!("a known name shorter than three bytes");
        };
        assert!(table[slot] == EMPTY, "two known names hash to one slot");
        table[slot] = i as u8;
        i += 1;
    }
    table
};

/// The index of `name` in [`NAMES`], when the crate is built (a name not listed fails it).
// Evaluated at compile time: an index out of bounds fails the build.
#[allow(clippy::indexing_slicing)]
pub(crate) const fn find(name: &str) -> u8 {
    let Some(slot) = slot(name.as_bytes()) else {
        panic!("not a known name");
    };
    let i = TABLE[slot];
    assert!(i != EMPTY, "not a known name");
    let (a, b) = (NAMES[i as usize].0.as_bytes(), name.as_bytes());
    assert!(a.len() == b.len(), "not a known name");
    let mut j = 0;
    while j < a.len() {
        assert!(a[j] == b[j], "not a known name");
        j += 1;
    }
    i
}

/// The longest known name, in bytes.
const LONGEST: usize = 16;

/// `name` as two words that tell apart any two names of one length from 3 to [`LONGEST`]
/// bytes: its first and last eight bytes (overlapping when shorter than sixteen), or for a
/// name shorter than eight its first and last four, or its three bytes. Comparing these
/// and the length is a few instructions where a call to `memcmp` is a few dozen.
#[inline(always)]
const fn key(name: &[u8]) -> (u64, u64) {
    /// The `N` bytes of `b` from `at` (little-endian, zero-filled), read as one word.
    #[inline(always)]
    const fn word<const N: usize>(b: &[u8], at: usize) -> u64 {
        let Some((_, rest)) = b.split_at_checked(at) else {
            return 0;
        };
        match rest.first_chunk::<N>() {
            Some(w) => {
                // N is at most 8.
                let mut word = [0u8; 8];
                word.split_at_mut(N).0.copy_from_slice(w);
                u64::from_le_bytes(word)
            }
            None => 0,
        }
    }
    match name.len() {
        0..=2 => (0, 0),
        3 => (word::<3>(name, 0), 0),
        n @ 4..=7 => (word::<4>(name, 0) | word::<4>(name, n - 4) << 32, 0),
        n => (word::<8>(name, 0), word::<8>(name, n - 8)),
    }
}

/// [`key`] of each name of [`NAMES`], by its index.
// Evaluated at compile time: an index out of bounds or a name too long fails the build.
#[allow(clippy::indexing_slicing)]
const KEYS: [(u64, u64); NAMES.len()] = {
    let mut keys = [(0, 0); NAMES.len()];
    let mut i = 0;
    while i < NAMES.len() {
        assert!(
            NAMES[i].0.len() <= LONGEST,
            "a known name longer than LONGEST"
        );
        keys[i] = key(NAMES[i].0.as_bytes());
        i += 1;
    }
    keys
};

/// The known name `name` (uppercase, compared exactly), if it is one.
#[inline]
pub(crate) fn known(name: &str) -> Option<Known> {
    let b = name.as_bytes();
    let i = *TABLE.get(slot(b)?)?;
    let &(candidate, _) = NAMES.get(usize::from(i))?;
    // Equal lengths of at most LONGEST and equal keys are equal names.
    let same = candidate.len() == b.len() && KEYS.get(usize::from(i)) == Some(&key(b));
    same.then_some(Known(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_found_at_its_index_and_nothing_else_is() {
        for (i, (name, _)) in NAMES.iter().enumerate() {
            assert_eq!(known(name), Some(Known(i as u8)), "{name}");
            assert_eq!(usize::from(find(name)), i);
            for other in [
                name.to_lowercase(),
                format!("X-{name}"),
                format!("{name}S"),
                name[..name.len() - 1].to_owned(),
                format!("{}#{}", &name[..1], &name[2..]),
            ] {
                assert_eq!(known(&other), None, "{other}");
            }
        }
        for other in ["", "A", "CN", "X-WR-CALNAME", "VEVENT", "É"] {
            assert_eq!(known(other), None, "{other}");
        }
        assert_eq!(known("BEGIN"), Some(BEGIN));
        assert_eq!(known("END"), Some(END));
        assert_eq!(NAMES[GEO.index()].0, "GEO");
        assert_eq!(NAMES[REQUEST_STATUS.index()].0, "REQUEST-STATUS");
    }

    /// The key tells apart any two names of one length up to LONGEST: changing any one byte
    /// changes it (what `known` relies on instead of comparing the bytes).
    #[test]
    fn keys_tell_apart_names_of_one_length() {
        let text = b"ABCDEFGHIJKLMNOP";
        for len in 3..=LONGEST {
            let name = &text[..len];
            for at in 0..len {
                let mut other = name.to_vec();
                other[at] = b'-';
                assert_ne!(key(&other), key(name), "{len} {at}");
            }
        }
    }

    #[test]
    fn value_types_are_the_rfcs_defaults() {
        for (name, t) in [
            ("DTSTART", ValueType::DateTime),
            ("RRULE", ValueType::Recur),
            ("TRIGGER", ValueType::Duration),
            ("ATTENDEE", ValueType::CalAddress),
            ("GEO", ValueType::Float),
            ("COLOR", ValueType::Text),
            ("BUSYTYPE", ValueType::Text),
            ("BEGIN", ValueType::Unknown),
        ] {
            assert_eq!(known(name).map(Known::value_type), Some(t), "{name}");
        }
    }
}
