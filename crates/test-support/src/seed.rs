//! The seed trace's calendar objects: the `calendar-data` of its recorded multistatus answers,
//! for the demo and the interop matrix, which both upload them to real servers.

use dav_xml::{Multistatus, QName};

/// The seed's calendar objects as `(file name, iCalendar text)`, in the trace's order, each
/// once (by the last segment of its href).
///
/// The text is as XML hands it on: XML end-of-line handling (XML 1.0 §2.11) turned the stored
/// objects' CRLF into LF.
///
/// # Errors
///
/// When the seed trace cannot be read (as [`caldav_trace::seed::exchanges`]).
pub fn calendar_objects() -> Result<Vec<(String, String)>, caldav_trace::Error> {
    let mut objects: Vec<(String, String)> = Vec::new();
    for exchange in caldav_trace::seed::exchanges()? {
        let Some(response) = &exchange.response else {
            continue;
        };
        let Ok(multistatus) = Multistatus::decode(response.body()) else {
            continue;
        };
        for item in &multistatus.responses {
            let (Some(href), Some(data)) = (item.href(), item.prop(&QName::CALDAV_CALENDAR_DATA))
            else {
                continue;
            };
            let text = data.text();
            if text.trim().is_empty() {
                continue;
            }
            let name = href
                .as_str()
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("object.ics")
                .to_owned();
            if !objects.iter().any(|(n, _)| *n == name) {
                objects.push((name, text.into_owned()));
            }
        }
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_holds_five_distinct_calendar_objects() {
        let objects = calendar_objects().unwrap();
        assert_eq!(
            objects.len(),
            5,
            "{:?}",
            objects.iter().map(|o| &o.0).collect::<Vec<_>>()
        );
        for (name, text) in &objects {
            assert!(name.ends_with(".ics"), "{name}");
            assert!(text.contains("BEGIN:VCALENDAR"), "{name}");
        }
    }
}
