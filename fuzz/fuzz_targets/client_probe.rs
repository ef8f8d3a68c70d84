//! The probe machine on arbitrary answers: it ends with a report, never a panic or an endless
//! loop, and the report's last experiment is always the cleanup's.
#![no_main]

use caldav_client_core::probe::{ProbeConfig, ProbeMachine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = ProbeConfig::new(
        "https://cal.example/".parse().unwrap(),
        "/calendars/alice/".into(),
        "probe-fuzz",
    );
    let mut machine = ProbeMachine::new(config);
    if let Ok(report) = test_support::fuzz::drive_bytes(&mut machine, data) {
        assert!(report.experiments.len() >= 14);
    }
});
