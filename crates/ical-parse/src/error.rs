//! The crate's error type, the warnings of a lenient parse, and the limits they can name.
//!
//! Every error and warning carries the line and column (both 1-based; columns count bytes of
//! the physical line) where the problem starts. A value parsed on its own (for example
//! [`crate::value::Date::parse`]) reports line 0 and the column within the value.

use crate::recur::RecurError;
use crate::value::ValueType;
use std::fmt;

/// Why input was rejected, and where.
///
/// The same [`ErrorKind`] names a deviation that a lenient parse forgives (as a [`Warning`])
/// and a strict parse refuses (as an `Error`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct Error {
    /// The 1-based line where the problem starts (0 when the input was a lone value).
    pub line: u32,
    /// The 1-based byte column in that line.
    pub column: u32,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// An error of `kind` at `line`, `column`.
    #[must_use]
    pub fn new(line: u32, column: u32, kind: ErrorKind) -> Error {
        Error { line, column, kind }
    }

    /// An error in a lone value, at byte `offset` of it (reported as column `offset + 1`).
    pub(crate) fn in_value(offset: usize, kind: ErrorKind) -> Error {
        Error::new(0, col(offset), kind)
    }

    /// Moves an error found in a lone value to where that value starts in a document.
    pub(crate) fn at(mut self, line: u32, column: u32) -> Error {
        if self.line == 0 {
            self.line = line;
            self.column = column.saturating_add(self.column.saturating_sub(1));
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 && self.column == 0 {
            write!(f, "{}", self.kind)
        } else if self.line == 0 {
            write!(f, "column {}: {}", self.column, self.kind)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.kind
            )
        }
    }
}

pub(crate) fn col(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX).saturating_add(1)
}

/// A deviation a lenient parse forgave (or a note on legal but unusual input), and where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// The 1-based line.
    pub line: u32,
    /// The 1-based byte column.
    pub column: u32,
    /// What was forgiven.
    pub kind: ErrorKind,
}

impl From<Error> for Warning {
    fn from(error: Error) -> Warning {
        Warning {
            line: error.line,
            column: error.column,
            kind: error.kind,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

/// A configurable limit of [`crate::Limits`], named in [`ErrorKind::LimitExceeded`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`crate::Limits::max_input_bytes`].
    InputBytes,
    /// [`crate::Limits::max_line_bytes`].
    LineBytes,
    /// [`crate::Limits::max_depth`].
    Depth,
    /// [`crate::Limits::max_properties_per_component`].
    PropertiesPerComponent,
    /// [`crate::Limits::max_components`].
    Components,
    /// [`crate::Limits::max_parameters_per_property`].
    ParametersPerProperty,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::InputBytes => "input size",
            Limit::LineBytes => "line length",
            Limit::Depth => "nesting depth",
            Limit::PropertiesPerComponent => "properties per component",
            Limit::Components => "component count",
            Limit::ParametersPerProperty => "parameters per property",
        })
    }
}

/// What is wrong with the input. Variants marked *lenient* are forgiven by a lenient parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The grammar wanted something else here.
    #[error("expected {0}")]
    Expected(&'static str),
    /// A typed value does not follow its grammar (RFC 5545 §3.3).
    #[error("invalid {value_type} value: {reason}")]
    InvalidValue {
        /// The value type that was expected.
        value_type: ValueType,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A RECUR value was rejected.
    #[error("invalid RECUR value: {0}")]
    Recur(RecurError),
    /// A configured limit was exceeded; the parse stops.
    #[error("{0} limit exceeded")]
    LimitExceeded(Limit),
    /// Bytes that are not UTF-8 (lenient: replaced by U+FFFD, which loses those bytes).
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// A control character other than HTAB in a line (lenient: kept).
    #[error("control character in line")]
    ControlCharacter,
    /// `END` with no open component of that name (lenient: kept as a raw line).
    #[error("END:{0} without BEGIN")]
    UnmatchedEnd(String),
    /// A component not closed before its parent or the input ended (lenient: closed there).
    #[error("missing END:{0}")]
    MissingEnd(String),
    /// The top level holds something other than VCALENDAR (lenient: kept at the top level).
    #[error("{0} outside VCALENDAR")]
    OutsideCalendar(String),
    /// A property the RFC requires is missing (lenient: left missing).
    #[error("{component} without {property}")]
    MissingProperty {
        /// The component's name.
        component: String,
        /// The property's name.
        property: &'static str,
    },
    /// A property that MUST NOT occur more than once in its component did (lenient: both
    /// kept).
    #[error("{property} more than once in {component}")]
    DuplicateProperty {
        /// The component's name.
        component: String,
        /// The property's name.
        property: String,
    },
    /// Two properties that MUST NOT occur in the same component did, such as DTEND and
    /// DURATION in a VEVENT (lenient: both kept).
    #[error("{first} and {second} together in {component}")]
    ExclusiveProperties {
        /// The component's name.
        component: String,
        /// The property that came first in RFC 5545's rule.
        first: &'static str,
        /// The other one.
        second: &'static str,
    },
    /// A component lacks a sub-component the RFC requires, such as a VTIMEZONE without
    /// STANDARD or DAYLIGHT (lenient: left missing).
    #[error("{component} without {expected}")]
    MissingComponent {
        /// The component's name.
        component: String,
        /// What it needs.
        expected: &'static str,
    },
    /// A line with no `NAME:` part (lenient: kept verbatim as a raw line).
    #[error("unreadable line: expected NAME[;PARAM=VALUE]:VALUE")]
    UnreadableLine,
    /// *lenient*: a line ended by LF alone rather than CRLF (reported once, at the first).
    #[error("line ends with bare LF instead of CRLF")]
    BareLf,
    /// *lenient*: a UTF-8 byte order mark before the first line.
    #[error("UTF-8 byte order mark")]
    ByteOrderMark,
    /// *lenient*: a fold (line break + space) inside a UTF-8 sequence.
    #[error("line folded inside a UTF-8 sequence")]
    FoldInsideUtf8,
    /// *lenient*: an empty line (skipped).
    #[error("empty line")]
    BlankLine,
    /// *lenient*: whitespace around a name, `;` or `=` (ignored).
    #[error("whitespace in {0}")]
    Whitespace(&'static str),
    /// *lenient*: a backslash escape in an unquoted parameter value (kept verbatim).
    #[error("backslash escape in unquoted parameter value")]
    ParameterEscape,
    /// *lenient*: a DATE-TIME with both `Z` and a TZID parameter (the TZID is kept; RFC 5545
    /// §3.3.5 says it must not apply to a UTC time).
    #[error("UTC date-time with TZID parameter")]
    UtcWithTzid,
    /// Not an error: a lenient parse hit its warning cap and stops reporting.
    #[error("too many warnings; further ones are not reported")]
    TooManyWarnings,
}
