//! Recorded HTTP conversations in Cyrus' telemetry-log format.
//!
//! This crate is being built; see the project README for the plan.
