//! `cargo xtask demo`: the project at work on real data, through the real `caldav` binary.
//!
//! The seed trace's calendar objects (the five `calendar-data` bodies of its multiget answer)
//! are extracted with `caldav_trace::seed` and `dav-xml` into a temporary folder, linted, and
//! the recurring ones expanded.

use anyhow::{Context, Result};
use dav_xml::{Multistatus, QName};
use std::path::{Path, PathBuf};

use crate::run;

/// The seed's calendar objects, as `(file name, iCalendar text)` in the trace's order.
pub(crate) fn seed_objects() -> Result<Vec<(String, String)>> {
    let mut objects: Vec<(String, String)> = Vec::new();
    for exchange in caldav_trace::seed::exchanges().context("reading the seed trace")? {
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

/// Writes the seed's objects into `dir` (created), returning their paths.
pub(crate) fn write_seed_objects(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut paths = Vec::new();
    for (name, text) in seed_objects()? {
        let path = dir.join(&name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

/// Whether an iCalendar text has a recurrence rule or extra dates.
fn is_recurring(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("RRULE") || l.starts_with("RDATE"))
}

/// Runs the demo.
pub(crate) fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("caldav-demo-{}", std::process::id()));
    let seed = write_seed_objects(&dir.join("seed"))?;
    println!(
        "== {} calendar objects extracted from the seed trace into {}",
        seed.len(),
        dir.join("seed").display()
    );
    println!("== Linted by `caldav ics lint --lenient` (the seed's copy lost its CRs)");
    let mut args = vec!["ics".to_owned(), "lint".to_owned(), "--lenient".to_owned()];
    args.extend(seed.iter().map(|f| f.display().to_string()));
    run::cargo_run_caldav(&args)?;
    for path in &seed {
        let text = std::fs::read_to_string(path)?;
        if is_recurring(&text) {
            println!("== Instances of the recurring {}", path.display());
            run::cargo_run_caldav(&[
                "ics".to_owned(),
                "expand".to_owned(),
                "--max".to_owned(),
                "5".to_owned(),
                path.display().to_string(),
            ])?;
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
