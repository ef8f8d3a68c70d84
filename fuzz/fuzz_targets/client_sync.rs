//! The sync machine on arbitrary answers: it ends with an outcome or an error, never a panic
//! or an endless loop. The first input byte picks quirks and a known state.
#![no_main]

use caldav_client_core::QuirkProfile;
use caldav_client_core::sync::{InitialFetch, SyncConfig, SyncMachine, SyncState};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut quirks = QuirkProfile::default();
    quirks.sync_collection = flags & 1 == 0;
    quirks.empty_sync_token_rejected = flags & 2 != 0;
    quirks.multiget = flags & 4 == 0;
    quirks.multiget_batch_size = usize::from(flags >> 6) + 1;
    let state = if flags & 8 != 0 {
        test_support::fuzz::known_state()
    } else {
        SyncState::default()
    };
    let calendar = test_support::fuzz::CALENDAR;
    let calendars = if flags & 16 != 0 {
        vec![calendar.into(), "/other/".into()]
    } else {
        vec![calendar.into()]
    };
    let mut config =
        SyncConfig::new("https://cal.example/".parse().unwrap(), calendars).with_quirks(quirks);
    // A first sync in one answer (the default) or by listing and multigets.
    if flags & 32 != 0 {
        config.initial_fetch = InitialFetch::Multiget;
    }
    let mut machine = SyncMachine::new(config, state);
    let _ = test_support::fuzz::drive_bytes(&mut machine, rest);
});
