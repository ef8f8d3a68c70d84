//! How often each property may occur in the components RFC 5545 names (§3.4, §3.6.1–§3.6.6),
//! with the calendar properties RFC 7986 §5 adds, and in RFC 7953's VAVAILABILITY and
//! AVAILABLE (§3.1, §3.1.1). A VALARM also follows the rules of its ACTION (§3.6.6:
//! `audioprop`, `dispprop`, `emailprop`), checked when it closes.
//!
//! ```text
//! eventprop  = *(
//!            ; The following are REQUIRED,
//!            ; but MUST NOT occur more than once.
//!            dtstamp / uid /
//!            ; The following are OPTIONAL,
//!            ; but MUST NOT occur more than once.
//!            class / created / description / dtstart / geo / ...
//!            ; Either 'dtend' or 'duration' MAY appear in
//!            ; a 'eventprop', but 'dtend' and 'duration'
//!            ; MUST NOT occur in the same 'eventprop'.
//!            dtend / duration / ...
//! ```
//!
//! The parser counts each component's properties against these rules as they arrive: a
//! second occurrence is reported at its own line, a missing property at the component's
//! BEGIN line when the component closes. Strict parsing rejects both; lenient parsing keeps
//! the component as it is and reports each as a warning.

use crate::component::{Component, missing};
use crate::error::{Error, ErrorKind};
use crate::name::{Known, NAMES};
use crate::property::Property;

/// The occurrence rules of one component.
pub(crate) struct Rules {
    /// Properties that MUST NOT occur more than once; a bit of the parser's count each. The
    /// REQUIRED ones come first.
    once: &'static [&'static str],
    /// How many of `once` are REQUIRED.
    required: usize,
    /// Pairs that MUST NOT occur together (both in `once`).
    exclusive: &'static [Pair],
    /// Pairs where the first, when present, needs the second (both in `once`).
    needs: &'static [Pair],
    /// Sub-components of which at least one is REQUIRED (empty: none is).
    one_of_components: &'static [&'static str],
    /// How to name them in an error.
    components_named: &'static str,
    /// For each known name (see [`crate::name`]), its bit in `once` (0 when not listed):
    /// the name's one lookup for the parser finds its bit too.
    by_known: [u32; NAMES.len()],
}

/// [`Rules::by_known`] of `once` (every name in it known, or the build fails).
#[allow(clippy::indexing_slicing)] // evaluated at compile time: out of bounds fails the build
const fn by_known(once: &[&str]) -> [u32; NAMES.len()] {
    let mut out = [0u32; NAMES.len()];
    let mut i = 0;
    while i < once.len() {
        out[crate::name::find(once[i]) as usize] |= 1 << i;
        i += 1;
    }
    out
}

/// A component's properties seen so far that [`Rules::once`] lists: one bit each.
/// Two property names of a rule and their bits in the rule's `once` (found when the crate
/// is built, not for every component closed).
pub(crate) struct Pair {
    first: &'static str,
    second: &'static str,
    bits: (u32, u32),
}

/// The pairs `names` with their bits in `once`.
#[allow(clippy::indexing_slicing)] // evaluated at compile time: out of bounds fails the build
const fn pairs<const N: usize>(
    once: &[&str],
    names: [(&'static str, &'static str); N],
) -> [Pair; N] {
    const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    const fn bit(once: &[&str], name: &str) -> u32 {
        let mut i = 0;
        while i < once.len() {
            if same(once[i], name) {
                return 1 << i;
            }
            i += 1;
        }
        0
    }
    let mut out = [const {
        Pair {
            first: "",
            second: "",
            bits: (0, 0),
        }
    }; N];
    let mut i = 0;
    while i < N {
        let (first, second) = names[i];
        let bits = (bit(once, first), bit(once, second));
        // A name outside `once` would make the rule never apply: refused when building.
        assert!(
            bits.0 != 0 && bits.1 != 0,
            "a pair names a property outside `once`"
        );
        out[i] = Pair {
            first,
            second,
            bits,
        };
        i += 1;
    }
    out
}

#[derive(Copy, Clone, Default)]
pub(crate) struct Seen(u32);

/// What a component breaks, found when it closes.
pub(crate) enum Violation {
    /// A REQUIRED property is missing.
    Missing(&'static str),
    /// Two properties that exclude each other are both present.
    Exclusive(&'static str, &'static str),
    /// None of the REQUIRED sub-components is present.
    MissingComponent(&'static str),
}

/// The rules of the component named `name` (uppercase), if RFC 5545 or RFC 7986 gives it
/// some, with the crate's own `'static` copy of the name (which a parsed component keeps
/// instead of a slice of its input: later lookups by name read memory that stays hot).
pub(crate) fn rules(name: &str) -> Option<(&'static str, &'static Rules)> {
    Some(match name {
        "VEVENT" => ("VEVENT", &VEVENT),
        "VTODO" => ("VTODO", &VTODO),
        "VJOURNAL" => ("VJOURNAL", &VJOURNAL),
        "VFREEBUSY" => ("VFREEBUSY", &VFREEBUSY),
        "VCALENDAR" => ("VCALENDAR", &VCALENDAR),
        "VTIMEZONE" => ("VTIMEZONE", &VTIMEZONE),
        "STANDARD" => ("STANDARD", &TZ_RULE),
        "DAYLIGHT" => ("DAYLIGHT", &TZ_RULE),
        "VALARM" => ("VALARM", &VALARM),
        "VAVAILABILITY" => ("VAVAILABILITY", &VAVAILABILITY),
        "AVAILABLE" => ("AVAILABLE", &AVAILABLE),
        _ => return None,
    })
}

impl Rules {
    fn bit(&self, name: Option<Known>) -> u32 {
        name.and_then(|k| self.by_known.get(k.index()))
            .copied()
            .unwrap_or(0)
    }

    /// Notes a property of the name `name` (see [`crate::name::known`]; an unknown name is
    /// never in `once`); `false` when it MUST NOT occur more than once and already did.
    pub(crate) fn note(&self, seen: &mut Seen, name: Option<Known>) -> bool {
        let bit = self.bit(name);
        let again = seen.0 & bit != 0;
        seen.0 |= bit;
        !again
    }

    /// What a closing component with properties `seen` and sub-components `children` breaks.
    pub(crate) fn violations<'n>(
        &self,
        seen: Seen,
        mut children: impl Iterator<Item = &'n str>,
    ) -> Vec<Violation> {
        let has = |bit: u32| seen.0 & bit != 0;
        let mut out = Vec::new();
        let required = self.once.get(..self.required).unwrap_or_default();
        let all = (1u32 << required.len()) - 1;
        if seen.0 & all != all {
            for (i, name) in required.iter().enumerate() {
                if seen.0 & (1 << i) == 0 {
                    out.push(Violation::Missing(name));
                }
            }
        }
        for pair in self.needs {
            if has(pair.bits.0) && !has(pair.bits.1) {
                out.push(Violation::Missing(pair.second));
            }
        }
        for pair in self.exclusive {
            if has(pair.bits.0) && has(pair.bits.1) {
                out.push(Violation::Exclusive(pair.first, pair.second));
            }
        }
        if !self.one_of_components.is_empty()
            && !children.any(|c| self.one_of_components.contains(&c))
        {
            out.push(Violation::MissingComponent(self.components_named));
        }
        out
    }
}

const NO_COMPONENTS: &[&str] = &[];

/// §3.6.1.
const VEVENT_ONCE: &[&str] = &[
    "DTSTAMP",
    "UID",
    "DTSTART",
    "CLASS",
    "CREATED",
    "DESCRIPTION",
    "GEO",
    "LAST-MODIFIED",
    "LOCATION",
    "ORGANIZER",
    "PRIORITY",
    "SEQUENCE",
    "STATUS",
    "SUMMARY",
    "TRANSP",
    "URL",
    "RECURRENCE-ID",
    "DTEND",
    "DURATION",
    "COLOR",
];

static VEVENT: Rules = Rules {
    once: VEVENT_ONCE,
    by_known: by_known(VEVENT_ONCE),
    required: 2,
    exclusive: &pairs(VEVENT_ONCE, [("DTEND", "DURATION")]),
    needs: &[],
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// §3.6.2.
const VTODO_ONCE: &[&str] = &[
    "DTSTAMP",
    "UID",
    "CLASS",
    "COMPLETED",
    "CREATED",
    "DESCRIPTION",
    "DTSTART",
    "GEO",
    "LAST-MODIFIED",
    "LOCATION",
    "ORGANIZER",
    "PERCENT-COMPLETE",
    "PRIORITY",
    "RECURRENCE-ID",
    "SEQUENCE",
    "STATUS",
    "SUMMARY",
    "URL",
    "DUE",
    "DURATION",
    "COLOR",
];

static VTODO: Rules = Rules {
    once: VTODO_ONCE,
    by_known: by_known(VTODO_ONCE),
    required: 2,
    exclusive: &pairs(VTODO_ONCE, [("DUE", "DURATION")]),
    needs: &pairs(VTODO_ONCE, [("DURATION", "DTSTART")]),
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// §3.6.3 (DESCRIPTION may occur more than once in a journal entry).
const VJOURNAL_ONCE: &[&str] = &[
    "DTSTAMP",
    "UID",
    "CLASS",
    "CREATED",
    "DTSTART",
    "LAST-MODIFIED",
    "ORGANIZER",
    "RECURRENCE-ID",
    "SEQUENCE",
    "STATUS",
    "SUMMARY",
    "URL",
    "COLOR",
];

static VJOURNAL: Rules = Rules {
    once: VJOURNAL_ONCE,
    by_known: by_known(VJOURNAL_ONCE),
    required: 2,
    exclusive: &[],
    needs: &[],
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// §3.6.4.
const VFREEBUSY_ONCE: &[&str] = &[
    "DTSTAMP",
    "UID",
    "CONTACT",
    "DTSTART",
    "DTEND",
    "ORGANIZER",
    "URL",
];

static VFREEBUSY: Rules = Rules {
    once: VFREEBUSY_ONCE,
    by_known: by_known(VFREEBUSY_ONCE),
    required: 2,
    exclusive: &[],
    needs: &[],
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// §3.4, §3.6 and RFC 7986 §5 (UID, LAST-MODIFIED, URL, REFRESH-INTERVAL, SOURCE, COLOR).
const VCALENDAR_ONCE: &[&str] = &[
    "PRODID",
    "VERSION",
    "CALSCALE",
    "METHOD",
    "UID",
    "LAST-MODIFIED",
    "URL",
    "REFRESH-INTERVAL",
    "SOURCE",
    "COLOR",
];

static VCALENDAR: Rules = Rules {
    once: VCALENDAR_ONCE,
    by_known: by_known(VCALENDAR_ONCE),
    required: 2,
    exclusive: &[],
    needs: &[],
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// §3.6.5.
const VTIMEZONE_ONCE: &[&str] = &["TZID", "LAST-MODIFIED", "TZURL"];

static VTIMEZONE: Rules = Rules {
    once: VTIMEZONE_ONCE,
    by_known: by_known(VTIMEZONE_ONCE),
    required: 1,
    exclusive: &[],
    needs: &[],
    one_of_components: &["STANDARD", "DAYLIGHT"],
    components_named: "STANDARD or DAYLIGHT",
};

/// §3.6.5, `standardc` and `daylightc` (all three REQUIRED).
const TZ_RULE_ONCE: &[&str] = &["DTSTART", "TZOFFSETTO", "TZOFFSETFROM"];

static TZ_RULE: Rules = Rules {
    once: TZ_RULE_ONCE,
    by_known: by_known(TZ_RULE_ONCE),
    required: 3,
    exclusive: &[],
    needs: &[],
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// §3.6.6: DURATION and REPEAT are optional, "but if one occurs, so MUST the other".
const VALARM_ONCE: &[&str] = &["ACTION", "TRIGGER", "DURATION", "REPEAT"];

static VALARM: Rules = Rules {
    once: VALARM_ONCE,
    by_known: by_known(VALARM_ONCE),
    required: 2,
    exclusive: &[],
    needs: &pairs(
        VALARM_ONCE,
        [("DURATION", "REPEAT"), ("REPEAT", "DURATION")],
    ),
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// RFC 7953 §3.1 (`availabilityprop`): DURATION only with DTSTART, never with DTEND.
const VAVAILABILITY_ONCE: &[&str] = &[
    "DTSTAMP",
    "UID",
    "BUSYTYPE",
    "CLASS",
    "CREATED",
    "DESCRIPTION",
    "DTSTART",
    "LAST-MODIFIED",
    "LOCATION",
    "ORGANIZER",
    "PRIORITY",
    "SEQUENCE",
    "SUMMARY",
    "URL",
    "DTEND",
    "DURATION",
];

static VAVAILABILITY: Rules = Rules {
    once: VAVAILABILITY_ONCE,
    by_known: by_known(VAVAILABILITY_ONCE),
    required: 2,
    exclusive: &pairs(VAVAILABILITY_ONCE, [("DTEND", "DURATION")]),
    needs: &pairs(VAVAILABILITY_ONCE, [("DURATION", "DTSTART")]),
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// RFC 7953 §3.1.1 (`availableprop`): DTSTAMP, DTSTART and UID REQUIRED; DTEND or DURATION,
/// never both.
const AVAILABLE_ONCE: &[&str] = &[
    "DTSTAMP",
    "DTSTART",
    "UID",
    "DTEND",
    "DURATION",
    "CREATED",
    "DESCRIPTION",
    "LAST-MODIFIED",
    "LOCATION",
    "RECURRENCE-ID",
    "RRULE",
    "SUMMARY",
];

static AVAILABLE: Rules = Rules {
    once: AVAILABLE_ONCE,
    by_known: by_known(AVAILABLE_ONCE),
    required: 3,
    exclusive: &pairs(AVAILABLE_ONCE, [("DTEND", "DURATION")]),
    needs: &[],
    one_of_components: NO_COMPONENTS,
    components_named: "",
};

/// What a VALARM's ACTION asks of it beyond the rules every VALARM follows (RFC 5545
/// §3.6.6), as errors in the order of their lines: `audioprop` allows one ATTACH;
/// `dispprop` needs one DESCRIPTION; `emailprop` needs one DESCRIPTION, one SUMMARY and at
/// least one ATTENDEE. Other actions (IANA or X- names) ask for nothing more.
///
/// ```text
/// audioprop  = *( action / trigger / duration / repeat / attach / x-prop / iana-prop )
/// dispprop   = *( action / description / trigger / duration / repeat / x-prop / iana-prop )
/// emailprop  = *( action / description / trigger / summary / attendee /
///                 duration / repeat / attach / x-prop / iana-prop )
/// ```
pub(crate) fn alarm_violations(alarm: &Component<'_>) -> Vec<Error> {
    // One pass over the properties (names are uppercase in a parsed component): for each of
    // DESCRIPTION, SUMMARY, ATTENDEE and ATTACH, how often it occurs and its second one.
    const COUNTED: [&str; 4] = ["DESCRIPTION", "SUMMARY", "ATTENDEE", "ATTACH"];
    let mut action = None;
    let mut count = [0usize; 4];
    let mut second: [Option<&Property<'_>>; 4] = [None; 4];
    for p in &alarm.properties {
        // The indices of COUNTED, by a match the compiler turns into length tests first.
        let i = match p.name.as_ref() {
            "ACTION" => {
                action = action.or(Some(p));
                continue;
            }
            "DESCRIPTION" => 0,
            "SUMMARY" => 1,
            "ATTENDEE" => 2,
            "ATTACH" => 3,
            _ => continue,
        };
        if let (Some(n), Some(s)) = (count.get_mut(i), second.get_mut(i)) {
            *n += 1;
            if *n == 2 {
                *s = Some(p);
            }
        }
    }
    let Some(action) = action else {
        return Vec::new();
    };
    // Enumerated values are case-insensitive (§2).
    let action = action.raw_value.trim_end_matches([' ', '\t']);
    // Which of COUNTED may occur once at most, and which are REQUIRED.
    let (once, required): ([bool; 4], [bool; 4]) = if action.eq_ignore_ascii_case("AUDIO") {
        ([false, false, false, true], [false; 4])
    } else if action.eq_ignore_ascii_case("DISPLAY") {
        ([true, false, false, false], [true, false, false, false])
    } else if action.eq_ignore_ascii_case("EMAIL") {
        ([true, true, false, false], [true, true, true, false])
    } else {
        return Vec::new();
    };
    // The usual alarm breaks nothing: no lists to build.
    let breaks = |i: usize| {
        let (Some(&n), Some(&once), Some(&required)) = (count.get(i), once.get(i), required.get(i))
        else {
            return false;
        };
        (required && n == 0) || (once && n > 1)
    };
    if !(0..COUNTED.len()).any(breaks) {
        return Vec::new();
    }
    let mut out: Vec<Error> = COUNTED
        .iter()
        .zip(required)
        .zip(count)
        .filter(|((_, required), count)| *required && *count == 0)
        .map(|((name, _), _)| missing(alarm, name))
        .collect();
    let mut again: Vec<&Property<'_>> = second
        .iter()
        .zip(once)
        .filter_map(|(second, once)| second.filter(|_| once))
        .collect();
    again.sort_by_key(|p| p.line);
    out.extend(again.into_iter().map(|p| {
        Error::new(
            p.line,
            1,
            ErrorKind::DuplicateProperty {
                component: alarm.name.to_string(),
                property: p.name.to_string(),
            },
        )
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_fit_in_the_bits_and_are_listed_once() {
        for rules in [
            &VEVENT, &VTODO, &VJOURNAL, &VFREEBUSY, &VCALENDAR, &VTIMEZONE, &TZ_RULE, &VALARM,
        ] {
            // One bit each in `Seen`; the REQUIRED ones make a mask of `required` low bits.
            assert!(rules.once.len() <= 32 && rules.required < 32);
            assert!(rules.required <= rules.once.len());
            let pairs = rules.exclusive.iter().chain(rules.needs);
            for pair in pairs {
                for (name, bit) in [(pair.first, pair.bits.0), (pair.second, pair.bits.1)] {
                    assert!(rules.once.contains(&name), "{name}");
                    assert_eq!(bit, rules.bit(crate::name::known(name)), "{name}");
                }
            }
        }
    }

    #[test]
    fn a_second_occurrence_is_noted() {
        let mut seen = Seen::default();
        let known = crate::name::known;
        assert!(VEVENT.note(&mut seen, known("UID")));
        assert!(VEVENT.note(&mut seen, known("ATTENDEE")));
        assert!(VEVENT.note(&mut seen, known("ATTENDEE")));
        assert!(VEVENT.note(&mut seen, known("X-UID")));
        assert!(!VEVENT.note(&mut seen, known("UID")));
        let missing: Vec<_> = VEVENT
            .violations(seen, std::iter::empty())
            .into_iter()
            .map(|v| match v {
                Violation::Missing(name) => name,
                _ => "other",
            })
            .collect();
        assert_eq!(missing, ["DTSTAMP"]);
    }
}
