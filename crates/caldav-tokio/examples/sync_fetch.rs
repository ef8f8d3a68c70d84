//! One full fetch of a calendar by the driver running client-core's sync machine from an empty
//! state, nothing written anywhere: the "our driver" contender of `cargo xtask bench fetch`.
//!
//! ```sh
//! CALDAV_PASSWORD=... cargo run --release -p caldav-tokio --example sync_fetch -- \
//!     http://127.0.0.1:5232/ /alice/work/ alice [MULTIGET_BATCH [IN_FLIGHT]]
//! ```
//!
//! `MULTIGET_BATCH` is the quirk profile's cap on hrefs per multiget, `IN_FLIGHT` the requests
//! in flight (driver and sync machine). Compressed answers are asked for as the client's
//! default decides ([`caldav_tokio::Compression::Auto`]: not on loopback); `SYNC_FETCH_GZIP`
//! set asks for them anyway, `SYNC_FETCH_IDENTITY` set never. The first sync is one
//! `sync-collection` answer with the data (client-core's default, `InitialFetch::Inline`);
//! with `SYNC_FETCH_MULTIGET` set, a listing then multigets (`InitialFetch::Multiget`).
//!
//! Prints one JSON line: items fetched, requests, wire bytes and seconds of the run (the
//! client is made before the clock starts; the process's own start-up is not in `seconds`).

use std::time::Instant;

use caldav_client_core::quirks::QuirkProfile;
use caldav_client_core::sync::{InitialFetch, SyncConfig, SyncMachine, SyncState};
use caldav_tokio::{Core, Credentials, Driver, HttpClient, HttpConfig};
use dav_xml::Href;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: sync_fetch BASE_URL CALENDAR_PATH USER [MULTIGET_BATCH [IN_FLIGHT]] \
                 (password in CALDAV_PASSWORD)";
    let (Some(base), Some(path), Some(user)) = (args.next(), args.next(), args.next()) else {
        return Err(usage.into());
    };
    let mut quirks = QuirkProfile::default();
    if let Some(batch) = args.next() {
        quirks.multiget_batch_size = batch.parse()?;
    }
    let in_flight = args.next().map_or(Ok(4), |n| n.parse())?;
    let password = std::env::var("CALDAV_PASSWORD").map_err(|_| usage)?;
    let mut config = HttpConfig::default();
    config.allow_plain_http_credentials = true;
    // The bench's rows compare the default with gzip forced, to show what it costs a server.
    if std::env::var_os("SYNC_FETCH_IDENTITY").is_some() {
        config.compression = caldav_tokio::Compression::Never;
    } else if std::env::var_os("SYNC_FETCH_GZIP").is_some() {
        config.compression = caldav_tokio::Compression::Always;
    }
    let config = config.with_credentials(Credentials::password(user, password));
    let driver = Driver::new(HttpClient::new(config)?).with_max_in_flight(in_flight);
    let mut sync = SyncConfig::new(base.parse()?, vec![Href::new(path)]).with_quirks(quirks);
    sync.max_in_flight = in_flight;
    if std::env::var_os("SYNC_FETCH_MULTIGET").is_some() {
        sync.initial_fetch = InitialFetch::Multiget;
    }
    let mut machine = Core(SyncMachine::new(sync, SyncState::default()));
    let start = Instant::now();
    let outcome = driver
        .run(&mut machine)
        .await?
        .map_err(|e| format!("{e:?}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let calendar = outcome
        .calendars
        .first()
        .ok_or("no calendar in the outcome")?;
    let result = calendar
        .result
        .as_ref()
        .map_err(|e| format!("the calendar failed: {e:?}"))?;
    println!(
        "{{\"items\": {}, \"seconds\": {seconds}}}",
        result.added.len()
    );
    Ok(())
}
