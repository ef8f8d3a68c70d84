//! Bootstrap and listing on arbitrary answers: each ends with an outcome or an error, never a
//! panic or an endless loop.
#![no_main]

use caldav_client_core::bootstrap::{BootstrapConfig, BootstrapMachine};
use caldav_client_core::listing::{CollectionKind, ListingConfig, ListingMachine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base: http::Uri = "https://cal.example/dav/".parse().unwrap();
    let mut bootstrap = BootstrapMachine::new(BootstrapConfig::new(base.clone()));
    let _ = test_support::fuzz::drive_bytes(&mut bootstrap, data);
    let mut config = ListingConfig::new(base, vec!["/dav/home/".into(), "/dav/home2/".into()]);
    config.extra = vec![("/dav/inbox/".into(), CollectionKind::ScheduleInbox)];
    // Member counts on every other input: their answers go through the same bytes.
    config.count_items = data.first().is_some_and(|b| b & 1 == 1);
    let mut listing = ListingMachine::new(config);
    let _ = test_support::fuzz::drive_bytes(&mut listing, data);
});
