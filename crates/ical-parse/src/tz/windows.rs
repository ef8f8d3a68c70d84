//! Windows time zone names (`Eastern Standard Time`) and Outlook display labels
//! (`(UTC-05:00) Eastern Time (US & Canada)`) to IANA names.
//!
//! Windows names map through CLDR's windowsZones table, embedded as data
//! ([`WINDOWS_ZONES`]). Outlook labels are not in any published table; they are matched
//! best-effort: the label's words with `Time` read as `Standard Time` against the Windows names
//! (`Eastern Time (US & Canada)` -> `Eastern Standard Time`), then the label's city names
//! against the IANA zones CLDR lists per Windows zone (`Amsterdam, Berlin, ...` -> `W. Europe
//! Standard Time` -> `Europe/Berlin`). A label that matches nothing is not guessed.

#[path = "windows_table.rs"]
mod table;

pub use table::WINDOWS_ZONES;

/// The primary IANA zone of a Windows zone name (CLDR territory `001`), case-insensitively.
///
/// ```
/// assert_eq!(ical_parse::tz::windows::to_iana("Eastern Standard Time"), Some("America/New_York"));
/// assert_eq!(ical_parse::tz::windows::to_iana("Nowhere Standard Time"), None);
/// ```
#[must_use]
pub fn to_iana(windows_name: &str) -> Option<&'static str> {
    WINDOWS_ZONES
        .iter()
        .find(|(w, t, _)| *t == "001" && w.eq_ignore_ascii_case(windows_name))
        .and_then(|(_, _, iana)| iana.split(' ').next())
}

/// Best-effort IANA zone of an Outlook-style label such as
/// `(UTC-05:00) Eastern Time (US & Canada)`; `None` when nothing matches.
///
/// ```
/// use ical_parse::tz::windows::outlook_label_to_iana;
///
/// assert_eq!(outlook_label_to_iana("(UTC-05:00) Eastern Time (US & Canada)"), Some("America/New_York"));
/// assert_eq!(outlook_label_to_iana("(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London"),
///            Some("Europe/London"));
/// ```
#[must_use]
pub fn outlook_label_to_iana(label: &str) -> Option<&'static str> {
    let rest = label.trim();
    let rest = match rest.strip_prefix('(') {
        Some(r) if r.starts_with("UTC") || r.starts_with("GMT") => {
            r.split_once(')').map_or(r, |(_, tail)| tail).trim()
        }
        _ => rest,
    };
    if rest.is_empty() {
        return None;
    }
    // "Eastern Time (US & Canada)" -> "Eastern Standard Time".
    let head = rest.split(['(', ':']).next().unwrap_or(rest).trim();
    for candidate in [
        head.to_owned(),
        format!("{head} Standard Time"),
        head.strip_suffix(" Time")
            .map(|h| format!("{h} Standard Time"))
            .unwrap_or_default(),
    ] {
        if let Some(iana) = to_iana(&candidate) {
            return Some(iana);
        }
    }
    // City names: "Amsterdam, Berlin, Bern" or "Greenwich Mean Time : Dublin, Edinburgh".
    let cities = rest.split_once(':').map_or(rest, |(_, tail)| tail);
    for city in cities
        .split([',', ';', '&'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let wanted = city.replace(' ', "_");
        for (windows, _, zones) in WINDOWS_ZONES {
            let hit = zones.split(' ').any(|z| {
                z.rsplit('/')
                    .next()
                    .is_some_and(|c| c.eq_ignore_ascii_case(&wanted))
            });
            if hit {
                return to_iana(windows);
            }
        }
    }
    None
}
