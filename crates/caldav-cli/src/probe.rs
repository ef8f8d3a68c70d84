//! `caldav probe`: runs `caldav_client_core::probe::ProbeMachine` against the account's
//! server, prints the concluded quirk profile as TOML and a table of the experiments, and with
//! `--save` stores the profile where every later command of the account reads it.

use anyhow::{Context, Result, anyhow, bail};
use caldav_client_core::probe::{ProbeConfig, ProbeMachine, ProbeReport};
use caldav_tokio::Core;
use std::process::ExitCode;

use crate::account::{Global, save_profile};
use crate::remote::{Session, core_error};

/// A scratch name no other run uses: the time and a random suffix.
fn scratch_name() -> Result<String> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 4];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow!("no randomness for the scratch name"))?;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("caldav-probe-{secs}-{suffix}"))
}

/// Widest a table column grows before its cells wrap: experiment, request, observation,
/// conclusion.
const COLUMNS: [usize; 4] = [16, 36, 48, 40];

/// `text` in lines of at most `width` characters, broken at spaces where it can be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than the column: cut it.
            let rest = word.split_off(width.min(word.len()));
            lines.push(word.into_iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The report as a table: experiment, request, observation, conclusion (long cells wrap).
pub(crate) fn table(report: &ProbeReport) -> String {
    let header = ["EXPERIMENT", "REQUEST", "OBSERVATION", "CONCLUSION"].map(str::to_owned);
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    let rows: Vec<[String; 4]> = report
        .experiments
        .iter()
        .map(|e| {
            [
                e.name.to_owned(),
                dash(e.sent.trim()),
                dash(&e.observed),
                dash(&e.concluded),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for ((w, cell), max) in widths.iter_mut().zip(row).zip(COLUMNS) {
            *w = (*w).max(cell.chars().count().min(max));
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<Vec<String>> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| wrap(cell, w))
            .collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        for i in 0..height {
            let parts: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(lines, w)| {
                    let part = lines.get(i).map_or("", String::as_str);
                    format!("{part:<w$}")
                })
                .collect();
            out.push_str(parts.join("  ").trim_end());
            out.push('\n');
        }
    }
    out
}

/// `caldav probe [--save]`.
pub(crate) async fn probe(global: &Global, save: bool) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let result = async {
        let account = session.account().await?;
        let home = account
            .calendar_home_set
            .first()
            .context("the server names no calendar home for this account")?
            .clone();
        let config = ProbeConfig::new(session.base.clone(), home, scratch_name()?);
        let mut machine = Core(ProbeMachine::new(config));
        session
            .driver
            .run(&mut machine)
            .await
            .map_err(|e| anyhow!("probe: {e}"))?
            .map_err(|e| core_error("probe", e))
    }
    .await;
    session.finish()?;
    let report = result?;
    let profile = toml::to_string(&report.profile).context("encoding the profile")?;
    say!("# quirk profile of {}", session.profile_key)?;
    say!("{}", profile.trim_end())?;
    say!()?;
    match (&report.calendar, report.scratch_created) {
        (Some(calendar), true) => say!("# ran in the scratch calendar {}", calendar.as_str())?,
        (Some(calendar), false) => say!(
            "# MKCALENDAR refused: ran in {} with uniquely named resources",
            calendar.as_str()
        )?,
        (None, _) => say!("# no calendar to run in: the resource experiments were skipped")?,
    }
    {
        use std::io::Write as _;
        std::io::stdout()
            .write_all(table(&report).as_bytes())
            .context("writing to standard output")?;
    }
    if save {
        let path = save_profile(&session.profile_key, &report.profile)?;
        say!(
            "\nsaved as [{:?}] in {}",
            session.profile_key,
            path.display()
        )?;
    }
    if !report.leftovers.is_empty() {
        let left: Vec<&str> = report.leftovers.iter().map(|h| h.as_str()).collect();
        bail!("the probe could not delete: {}", left.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert_eq!(wrap("ab  cd", 10), vec!["ab  cd"]);
        for line in wrap(
            "DELETE /alice/caldav-probe-1-ab/x.ics If-Match: \"abc\"",
            12,
        ) {
            assert!(line.chars().count() <= 12, "{line}");
        }
    }
}
