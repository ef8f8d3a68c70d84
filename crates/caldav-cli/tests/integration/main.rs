//! The integration tests of `caldav`, one module per command group.

mod ics;
