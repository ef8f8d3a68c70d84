//! The overlap tables of RFC 4791 §9.9, on unix seconds.
//!
//! Each function takes the range as `[start, end)` (open ends as `i64::MIN`/`i64::MAX`) and
//! the effective times of one instance, already resolved to UTC.

use crate::filter::TimeRange;

/// `[start, end)` of a time range in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

impl From<&TimeRange> for Window {
    fn from(range: &TimeRange) -> Self {
        Window {
            start: range.start().map_or(i64::MIN, |t| t.as_second()),
            end: range.end().map_or(i64::MAX, |t| t.as_second()),
        }
    }
}

impl Window {
    /// `(start <= t AND end > t)`: the test for a single point in time (DTSTAMP, a DATE-TIME
    /// DTSTART without length, an alarm trigger).
    pub(crate) fn holds(self, t: i64) -> bool {
        self.start <= t && self.end > t
    }

    /// `(start < e AND end > s)`: the test for an interval of positive length.
    pub(crate) fn meets(self, s: i64, e: i64) -> bool {
        self.start < e && self.end > s
    }

    /// The VEVENT table, for one instance from `dtstart` to its effective end (DTEND,
    /// DTSTART+DURATION, or DTSTART+P1D for a date). A zero length uses the point test, which
    /// is also what the table says for a DATE-TIME DTSTART without DTEND or DURATION.
    pub(crate) fn event(self, dtstart: i64, end: i64) -> bool {
        if end > dtstart {
            self.meets(dtstart, end)
        } else {
            self.holds(dtstart)
        }
    }

    /// The VTODO table.
    pub(crate) fn todo(self, todo: TodoTimes) -> bool {
        let (start, end) = (self.start, self.end);
        match todo {
            TodoTimes {
                dtstart: Some(s),
                end: Some(TodoEnd::Duration(e)),
                ..
            } => start <= e && (end > s || end >= e),
            TodoTimes {
                dtstart: Some(s),
                end: Some(TodoEnd::Due(due)),
                ..
            } => (start < due || start <= s) && (end > s || end >= due),
            TodoTimes {
                dtstart: Some(s),
                end: None,
                ..
            } => start <= s && end > s,
            TodoTimes {
                dtstart: None,
                end: Some(TodoEnd::Due(due) | TodoEnd::Duration(due)),
                ..
            } => start < due && end >= due,
            TodoTimes {
                dtstart: None,
                end: None,
                completed,
                created,
            } => match (completed, created) {
                (Some(done), Some(made)) => {
                    (start <= made || start <= done) && (end >= made || end >= done)
                }
                (Some(done), None) => start <= done && end >= done,
                (None, Some(made)) => end > made,
                (None, None) => true,
            },
        }
    }

    /// The VJOURNAL table: `None` when there is no DTSTART; `day_end` is DTSTART+P1D for a
    /// date DTSTART.
    pub(crate) fn journal(self, dtstart: Option<i64>, day_end: Option<i64>) -> bool {
        match (dtstart, day_end) {
            (None, _) => false,
            (Some(s), None) => self.holds(s),
            (Some(s), Some(e)) => self.meets(s, e),
        }
    }

    /// The VFREEBUSY table.
    pub(crate) fn freebusy(self, span: Option<(i64, i64)>, periods: &[(i64, i64)]) -> bool {
        match span {
            Some((s, e)) => self.start <= e && self.end > s,
            None => periods.iter().any(|&(s, e)| self.meets(s, e)),
        }
    }
}

/// How a VTODO instance ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TodoEnd {
    /// DTSTART+DURATION.
    Duration(i64),
    /// DUE.
    Due(i64),
}

/// The times of one VTODO instance that the table looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TodoTimes {
    pub(crate) dtstart: Option<i64>,
    pub(crate) end: Option<TodoEnd>,
    pub(crate) completed: Option<i64>,
    pub(crate) created: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Window = Window {
        start: 100,
        end: 200,
    };

    #[test]
    fn event_rows() {
        assert!(W.event(150, 160));
        assert!(W.event(50, 101));
        assert!(!W.event(50, 100), "end is exclusive of the event's end");
        assert!(!W.event(200, 300), "the range end is exclusive");
        assert!(W.event(100, 100), "zero length at the range start holds");
        assert!(!W.event(200, 200));
    }

    #[test]
    fn todo_rows() {
        let t = |dtstart, end, completed, created| TodoTimes {
            dtstart,
            end,
            completed,
            created,
        };
        // DTSTART + DURATION: ends exactly at the range start still overlaps.
        assert!(W.todo(t(Some(50), Some(TodoEnd::Duration(100)), None, None)));
        assert!(!W.todo(t(Some(50), Some(TodoEnd::Duration(99)), None, None)));
        // DTSTART + DUE.
        assert!(W.todo(t(Some(150), Some(TodoEnd::Due(250)), None, None)));
        assert!(!W.todo(t(Some(200), Some(TodoEnd::Due(250)), None, None)));
        assert!(W.todo(t(Some(10), Some(TodoEnd::Due(101)), None, None)));
        // DTSTART only.
        assert!(W.todo(t(Some(100), None, None, None)));
        assert!(!W.todo(t(Some(200), None, None, None)));
        // DUE only: the due time itself must be in (start, end].
        assert!(W.todo(t(None, Some(TodoEnd::Due(200)), None, None)));
        assert!(!W.todo(t(None, Some(TodoEnd::Due(100)), None, None)));
        // COMPLETED and CREATED.
        assert!(W.todo(t(None, None, Some(300), Some(50))));
        assert!(!W.todo(t(None, None, Some(300), Some(250))));
        assert!(W.todo(t(None, None, Some(200), None)));
        assert!(!W.todo(t(None, None, Some(201), None)));
        assert!(W.todo(t(None, None, None, Some(199))));
        assert!(!W.todo(t(None, None, None, Some(200))));
        assert!(W.todo(t(None, None, None, None)));
    }

    #[test]
    fn journal_and_freebusy_rows() {
        assert!(!W.journal(None, None));
        assert!(W.journal(Some(100), None));
        assert!(!W.journal(Some(200), None));
        assert!(W.journal(Some(0), Some(101)));
        assert!(!W.freebusy(Some((200, 300)), &[]));
        assert!(W.freebusy(Some((0, 100)), &[]));
        assert!(!W.freebusy(None, &[]));
        assert!(W.freebusy(None, &[(0, 10), (190, 210)]));
        assert!(!W.freebusy(None, &[(0, 100)]));
    }
}
