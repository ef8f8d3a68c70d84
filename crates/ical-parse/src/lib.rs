//! RFC 5545 iCalendar: lex, parse, typed values, write; recurrence and time zones.
//!
//! This crate is being built; see the project README for the plan.

pub mod expand;
pub mod recur;
pub mod tz;
