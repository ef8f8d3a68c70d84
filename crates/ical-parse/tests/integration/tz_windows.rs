//! The embedded CLDR Windows-zone table equals `fixtures/corpora/cldr/windowsZones.json`, and
//! every IANA name it maps to is in jiff's bundled database.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::tz::windows::{WINDOWS_ZONES, outlook_label_to_iana, to_iana};
use ical_parse::tz::{ResolvedBy, Resolver, Zone};
use serde_json::Value;

const CLDR: &str = include_str!("../../../../fixtures/corpora/cldr/windowsZones.json");

#[test]
fn table_matches_cldr_json() {
    let doc: Value = serde_json::from_str(CLDR).unwrap();
    let rows: Vec<(String, String, String)> = doc["supplemental"]["windowsZones"]["mapTimezones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let z = &m["mapZone"];
            (
                z["_other"].as_str().unwrap().to_owned(),
                z["_territory"].as_str().unwrap().to_owned(),
                z["_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let table: Vec<(String, String, String)> = WINDOWS_ZONES
        .iter()
        .map(|(w, t, i)| ((*w).to_owned(), (*t).to_owned(), (*i).to_owned()))
        .collect();
    assert_eq!(table, rows);
}

#[test]
fn every_primary_zone_is_in_the_bundled_database() {
    let mut missing = Vec::new();
    for (windows, territory, _) in WINDOWS_ZONES {
        if *territory != "001" {
            continue;
        }
        let iana = to_iana(windows).unwrap();
        if Zone::iana(iana).is_none() {
            missing.push(iana);
        }
    }
    assert_eq!(missing, Vec::<&str>::new());
}

#[test]
fn resolution_order_and_outlook_labels() {
    let r = Resolver::new();
    let cases = [
        ("America/New_York", "America/New_York", ResolvedBy::Iana),
        (
            "Eastern Standard Time",
            "America/New_York",
            ResolvedBy::Windows,
        ),
        (
            "W. Europe Standard Time",
            "Europe/Berlin",
            ResolvedBy::Windows,
        ),
        (
            "(UTC-05:00) Eastern Time (US & Canada)",
            "America/New_York",
            ResolvedBy::OutlookLabel,
        ),
        (
            "(UTC-08:00) Pacific Time (US & Canada)",
            "America/Los_Angeles",
            ResolvedBy::OutlookLabel,
        ),
        (
            "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris",
            "Europe/Paris",
            ResolvedBy::OutlookLabel,
        ),
        (
            "(UTC+10:00) Canberra, Melbourne, Sydney",
            "Australia/Sydney",
            ResolvedBy::OutlookLabel,
        ),
    ];
    for (tzid, want, by) in cases {
        let (zone, got_by) = r.resolve_with_source(tzid).unwrap();
        assert_eq!((zone.name(), got_by), (want, by), "{tzid}");
    }
    assert_eq!(outlook_label_to_iana("(UTC+99:00) Atlantis"), None);
    assert_eq!(
        r.resolve("Customized Time Zone").unwrap_err().to_string(),
        "unknown time zone \"Customized Time Zone\""
    );
}
