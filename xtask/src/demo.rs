//! `cargo xtask demo`: the project at work on real data, through the real `caldav` binary.
//!
//! The seed trace's calendar objects (the five `calendar-data` bodies of its multiget answer)
//! are extracted with `test_support::seed` into a temporary folder and linted;
//! then Radicale is installed and started on 127.0.0.1 and the real CLI discovers it, makes a
//! calendar, uploads the five events, syncs them into a vdir folder, syncs a change from each
//! side, and expands the recurring events; Radicale is stopped at the end (when the demo
//! started it).

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{run, servers};

/// Writes the seed's objects into `dir` (created), returning their paths.
pub(crate) fn write_seed_objects(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut paths = Vec::new();
    for (name, text) in test_support::seed::calendar_objects().context("reading the seed trace")? {
        let path = dir.join(&name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

/// Whether an event, to-do or journal of an iCalendar text recurs (a VTIMEZONE's rules do
/// not count).
fn is_recurring(text: &str) -> bool {
    let mut in_zone = false;
    for line in text.lines() {
        let line = line.trim_end();
        match line {
            "BEGIN:VTIMEZONE" => in_zone = true,
            "END:VTIMEZONE" => in_zone = false,
            _ if !in_zone && (line.starts_with("RRULE") || line.starts_with("RDATE")) => {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// The real `caldav` binary, run through cargo as alice of the demo's Radicale.
struct Caldav {
    url: String,
    user: String,
    password: String,
}

impl Caldav {
    /// Runs `caldav ARGS` with the account options, echoing the command line (the password
    /// goes through the environment, never argv); returns standard output, which is echoed too.
    fn run(&self, args: &[&str]) -> Result<String> {
        let (ok, stdout) = self.try_run(args)?;
        if !ok {
            bail!("caldav {} failed", args.join(" "));
        }
        Ok(stdout)
    }

    /// Like [`Caldav::run`], returning whether it succeeded instead of failing.
    fn try_run(&self, args: &[&str]) -> Result<(bool, String)> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(cargo);
        command
            .args([
                "run",
                "--quiet",
                "--package",
                "caldav-cli",
                "--bin",
                "caldav",
                "--",
            ])
            .args(["--url", &self.url, "--user", &self.user])
            .args(args)
            .env("CALDAV_PASSWORD", &self.password)
            .current_dir(run::project_root()?)
            .stderr(Stdio::inherit());
        println!(
            "$ caldav --url {} --user {} {}",
            self.url,
            self.user,
            args.join(" ")
        );
        let output = command.output().context("running caldav")?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        print!("{stdout}");
        Ok((output.status.success(), stdout))
    }
}

/// Whether something answers on the Radicale's address (started from another checkout).
fn answers(url: &str) -> bool {
    let Some(authority) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
    else {
        return false;
    };
    let Ok(address) = authority.parse::<std::net::SocketAddr>() else {
        return false;
    };
    std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok()
}

/// Replaces the SUMMARY line of an iCalendar text.
fn with_summary(text: &str, summary: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("SUMMARY") {
                format!("SUMMARY:{summary}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n"
}

/// Runs the demo.
pub(crate) fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("caldav-demo-{}", std::process::id()));
    let result = demo_in(&dir);
    std::fs::remove_dir_all(&dir).ok();
    result
}

fn demo_in(dir: &Path) -> Result<()> {
    let seed = write_seed_objects(&dir.join("seed"))?;
    println!(
        "== 1. The seed trace's {} calendar objects, extracted into {}",
        seed.len(),
        dir.join("seed").display()
    );
    let mut args = vec!["ics".to_owned(), "lint".to_owned(), "--lenient".to_owned()];
    args.extend(seed.iter().map(|f| f.display().to_string()));
    run::cargo_run_caldav(&args)?;

    let env: BTreeMap<String, String> = servers::radicale::env().into_iter().collect();
    let url = env
        .get("CALDAV_TEST_RADICALE_URL")
        .context("radicale has no URL")?
        .clone();
    let (user, password) = servers::ALICE;
    // Radicale runs once per machine (fixed port): use one another checkout started.
    let guard = if answers(&url) {
        println!("== 2. Radicale already answers at {url}; using it (and leaving it running)");
        None
    } else {
        println!("== 2. Installing and starting Radicale at {url} (user {user})");
        Some(servers::ensure_running(&[servers::Name::Radicale])?)
    };
    let caldav = Caldav {
        url: url.clone(),
        user: user.to_owned(),
        password: password.to_owned(),
    };

    println!("== 3. Discovery and bootstrap: who is {user} on {url}, and what can the server do");
    caldav.run(&["discover", &url])?;

    let calendar = format!("demo-{}", std::process::id());
    println!("== 4. A new calendar, {calendar}");
    caldav.run(&[
        "mkcalendar",
        &calendar,
        "--color",
        "#2E86C1FF",
        "--components",
        "VEVENT",
    ])?;
    caldav.run(&["ls"])?;

    println!("== 5. The seed's five events, uploaded with If-None-Match: *");
    let mut hrefs = Vec::new();
    for path in &seed {
        let (ok, out) =
            caldav.try_run(&["put", &path.display().to_string(), "--calendar", &calendar])?;
        match out.split_whitespace().nth(1) {
            Some(href) if ok => hrefs.push((path.clone(), href.to_owned())),
            // Radicale's vobject cannot store `RDATE;VALUE=PERIOD` (foo.ics): its 400 is
            // shown, and the demo goes on with the events it accepted.
            _ => println!(
                "   the server refused {}; going on without it",
                path.display()
            ),
        }
    }

    let folder = dir.join("calendars");
    let folder_s = folder.display().to_string();
    println!("== 6. Two-way sync into the vdir folder {folder_s}");
    caldav.run(&["sync", &calendar, &folder_s])?;
    let items = calendar_files(&folder.join(&calendar))?;
    println!(
        "   {} files in {}",
        items.len(),
        folder.join(&calendar).display()
    );

    println!("== 7. One event changed on the server, another changed in the folder");
    let (server_side, server_href) = hrefs.first().context("nothing was uploaded")?;
    let changed = with_summary(
        &std::fs::read_to_string(server_side)?,
        "Changed on the server",
    );
    let changed_path = dir.join("changed-on-server.ics");
    std::fs::write(&changed_path, changed)?;
    caldav.run(&[
        "put",
        &changed_path.display().to_string(),
        "--calendar",
        &calendar,
        "--replace",
    ])?;
    println!("   (on the server: {server_href})");
    let server_name = server_href.rsplit('/').next().unwrap_or_default();
    let local = items
        .iter()
        .find(|p| p.file_name().is_some_and(|n| n != server_name))
        .context("no second event in the folder")?;
    let text = std::fs::read_to_string(local)?;
    std::fs::write(local, with_summary(&text, "Changed in the folder"))?;
    println!("   (in the folder: {})", local.display());

    println!("== 8. Sync again: the server's change comes down, the folder's goes up");
    caldav.run(&["sync", &calendar, &folder_s])?;
    let local_name = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let href = format!("{}{local_name}", server_href.trim_end_matches(server_name));
    let fetched = caldav.run(&["get", &href])?;
    if !fetched.contains("SUMMARY:Changed in the folder") {
        bail!("the folder's change did not reach the server");
    }
    let down = calendar_files(&folder.join(&calendar))?.iter().any(|p| {
        std::fs::read_to_string(p).is_ok_and(|t| t.contains("SUMMARY:Changed on the server"))
    });
    if !down {
        bail!("the server's change did not reach the folder");
    }
    println!("   both changes are on both sides");

    println!("== 9. `caldav ics expand` over the synced recurring events");
    for path in calendar_files(&folder.join(&calendar))? {
        let text = std::fs::read_to_string(&path)?;
        if is_recurring(&text) {
            println!("-- {}", path.display());
            run::cargo_run_caldav(&[
                "ics".to_owned(),
                "expand".to_owned(),
                "--max".to_owned(),
                "5".to_owned(),
                path.display().to_string(),
            ])?;
        }
    }
    println!(
        "== 10. Cleaning up: the events are deleted in the folder, and the sync deletes them on the server"
    );
    for path in calendar_files(&folder.join(&calendar))? {
        std::fs::remove_file(path)?;
    }
    caldav.run(&["sync", &calendar, &folder_s])?;
    if guard.is_some() {
        println!("== Stopping Radicale");
    }
    Ok(())
}

/// The `.ics` files of a vdir calendar folder, sorted.
fn calendar_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "ics") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
