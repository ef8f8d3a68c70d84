//! `cargo xtask bench`: runs the criterion benchmarks, then prints each group's contenders
//! side by side with ratios, read from criterion's estimates, and the streaming decoder's
//! peak memory.
//!
//! Ratios are what to quote: the machine may be shared and loaded, which moves absolute
//! numbers far more than it moves the ratio of two contenders measured in the same run.

use crate::run;
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The contenders that are ours: each group's ratios are taken against the first of these
/// that it has.
const OURS: &[&str] = &["ical-parse", "dav-xml"];

pub(crate) fn run(filter: Option<&str>) -> Result<()> {
    // Against peer programs and real servers rather than criterion groups.
    match filter {
        Some("fetch") => return crate::bench_peers::fetch(),
        Some("vdirsyncer") => return crate::bench_peers::vdirsyncer(),
        _ => {}
    }
    let started = SystemTime::now();
    let mut args = vec!["bench", "--package", "caldav-benches"];
    if let Some(filter) = filter {
        args.extend(["--", filter]);
    }
    run::cargo(&args)?;
    summarize(&criterion_dir()?, started)?;
    let wants_memory = filter.is_none_or(|f| f.starts_with("dav_xml") || f == "stream_peak");
    if wants_memory {
        for variant in ["cdata", "escaped"] {
            run::cargo(&[
                "run",
                "--quiet",
                "--release",
                "--package",
                "caldav-benches",
                "--example",
                "stream_peak",
                "--",
                variant,
            ])?;
        }
    }
    Ok(())
}

fn criterion_dir() -> Result<PathBuf> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => run::project_root()?.join("target"),
    };
    Ok(target.join("criterion"))
}

/// One measured contender of one group.
struct Measured {
    group: String,
    name: String,
    /// Median time per iteration, in nanoseconds.
    nanos: f64,
    /// Bytes or elements per iteration, and which.
    throughput: Option<(f64, &'static str)>,
}

fn summarize(dir: &Path, since: SystemTime) -> Result<()> {
    let mut found = Vec::new();
    collect(dir, since, &mut found)?;
    found.sort_by(|a, b| a.group.cmp(&b.group));
    let mut groups: Vec<(String, Vec<Measured>)> = Vec::new();
    for m in found {
        match groups.last_mut() {
            Some((group, members)) if *group == m.group => members.push(m),
            _ => groups.push((m.group.clone(), vec![m])),
        }
    }
    println!("\n== Ratios (median time per iteration; \"x ours\" > 1 means faster than ours)");
    for (group, members) in &mut groups {
        let rank = |m: &Measured| match m.name.as_str() {
            n if OURS.iter().any(|o| n.starts_with(o)) => 0,
            "floor" => 2,
            _ => 1,
        };
        members.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.nanos.total_cmp(&b.nanos)));
        let ours = OURS
            .iter()
            .find_map(|o| members.iter().find(|m| m.name == *o))
            .map(|m| m.nanos);
        let floor = members.iter().find(|m| m.name == "floor").map(|m| m.nanos);
        println!("\n{group}");
        println!(
            "  {:<22} {:>12} {:>14} {:>9} {:>10}",
            "contender", "time", "throughput", "x ours", "x floor"
        );
        for m in members.iter() {
            let throughput = match m.throughput {
                Some((n, "bytes")) => format!("{:.1} MB/s", n / m.nanos * 1e3),
                Some((n, _)) => format!("{:.2} M/s", n / m.nanos * 1e3),
                None => String::new(),
            };
            let ratio =
                |base: Option<f64>| base.map_or(String::new(), |b| format!("{:.2}", b / m.nanos));
            println!(
                "  {:<22} {:>12} {:>14} {:>9} {:>10}",
                m.name,
                human_time(m.nanos),
                throughput,
                ratio(ours),
                ratio(floor)
            );
        }
    }
    Ok(())
}

fn human_time(nanos: f64) -> String {
    if nanos >= 1e9 {
        format!("{:.2} s", nanos / 1e9)
    } else if nanos >= 1e6 {
        format!("{:.2} ms", nanos / 1e6)
    } else if nanos >= 1e3 {
        format!("{:.2} µs", nanos / 1e3)
    } else {
        format!("{nanos:.0} ns")
    }
}

/// Finds every `new/benchmark.json` under `dir` written since `since`.
fn collect(dir: &Path, since: SystemTime, out: &mut Vec<Measured>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let benchmark = path.join("new").join("benchmark.json");
        let fresh = std::fs::metadata(&benchmark)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since);
        if fresh {
            if let Some(m) = read(&path.join("new"))? {
                out.push(m);
            }
        } else {
            collect(&path, since, out)?;
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn read(dir: &Path) -> Result<Option<Measured>> {
    let benchmark = read_json(&dir.join("benchmark.json"))?;
    let estimates = read_json(&dir.join("estimates.json"))?;
    let (Some(group), Some(name), Some(nanos)) = (
        benchmark.get("group_id").and_then(Value::as_str),
        benchmark.get("function_id").and_then(Value::as_str),
        estimates
            .pointer("/median/point_estimate")
            .and_then(Value::as_f64),
    ) else {
        return Ok(None);
    };
    let throughput = match benchmark.get("throughput") {
        Some(Value::Object(t)) => t.iter().find_map(|(kind, n)| {
            let unit = if kind == "Bytes" || kind == "BytesDecimal" {
                "bytes"
            } else {
                "elements"
            };
            n.as_f64().map(|n| (n, unit))
        }),
        _ => None,
    };
    Ok(Some(Measured {
        group: group.to_owned(),
        name: name.to_owned(),
        nanos,
        throughput,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn write(dir: &Path, function: &str, nanos: f64) {
        let new = dir.join("g_x").join(function).join("new");
        std::fs::create_dir_all(&new).unwrap();
        let benchmark = format!(
            r#"{{"group_id":"g/x","function_id":"{function}","throughput":{{"Bytes":2000}}}}"#
        );
        std::fs::write(new.join("benchmark.json"), benchmark).unwrap();
        let estimates = format!(r#"{{"median":{{"point_estimate":{nanos}}}}}"#);
        std::fs::write(new.join("estimates.json"), estimates).unwrap();
    }

    #[test]
    fn reads_the_estimates_written_since_the_run_began() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir, "dav-xml", 1000.0);
        write(&dir, "floor", 250.0);

        let mut found = Vec::new();
        collect(&dir, SystemTime::UNIX_EPOCH, &mut found).unwrap();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        let summary: Vec<_> = found
            .iter()
            .map(|m| (m.group.as_str(), m.name.as_str(), m.nanos, m.throughput))
            .collect();
        assert_eq!(
            summary,
            [
                ("g/x", "dav-xml", 1000.0, Some((2000.0, "bytes"))),
                ("g/x", "floor", 250.0, Some((2000.0, "bytes"))),
            ]
        );

        // Estimates older than the run (left by an earlier one) are not this run's.
        let mut stale = Vec::new();
        let later = SystemTime::now() + Duration::from_secs(3600);
        collect(&dir, later, &mut stale).unwrap();
        assert!(stale.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn times_read_in_their_unit() {
        assert_eq!(human_time(512.0), "512 ns");
        assert_eq!(human_time(1_500.0), "1.50 µs");
        assert_eq!(human_time(2_250_000.0), "2.25 ms");
        assert_eq!(human_time(3_000_000_000.0), "3.00 s");
    }
}
