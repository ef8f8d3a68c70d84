//! Background processes with pid files, found again and stopped by later invocations.
//!
//! A server runs in a process group of its own (so a Ctrl-C to `cargo xtask` does not reach
//! it, and stopping it reaches every worker it forked), with its output in `server.log`. The pid
//! file records the pid and the process's start time from `/proc`, so a pid reused by an
//! unrelated process is never mistaken for the server.

use anyhow::{Context, Result, bail};
use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PID_FILE: &str = "server.pid";
const LOG_FILE: &str = "server.log";

/// Where the server's stdout and stderr go.
pub(crate) fn log_path(dir: &Path) -> PathBuf {
    dir.join(LOG_FILE)
}

/// The last lines of the server's log, for error messages.
pub(crate) fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(log_path(dir)).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(30);
    lines.get(from..).unwrap_or_default().join("\n")
}

/// Starts `command` in the background in its own process group and records its pid.
pub(crate) fn spawn(dir: &Path, mut command: Command) -> Result<u32> {
    let log = log_path(dir);
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .with_context(|| format!("opening {}", log.display()))?;
    writeln!(file, "==== cargo xtask servers start: {command:?}")?;
    let stderr = file.try_clone()?;
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .process_group(0);
    let child = command
        .spawn()
        .with_context(|| format!("could not start {command:?}"))?;
    let pid = child.id();
    // The child outlives this process on purpose; `stop` ends it by its pid file.
    drop(child);
    let started = start_time(pid).with_context(|| format!("{command:?} exited at once"))?;
    let pid_file = dir.join(PID_FILE);
    std::fs::write(&pid_file, format!("{pid} {started}\n"))
        .with_context(|| format!("writing {}", pid_file.display()))?;
    Ok(pid)
}

/// The pid of the server recorded in `dir`, if that process is alive.
pub(crate) fn running(dir: &Path) -> Result<Option<u32>> {
    let pid_file = dir.join(PID_FILE);
    let text = match std::fs::read_to_string(&pid_file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(error).with_context(|| format!("reading {}", pid_file.display()));
        }
    };
    let mut fields = text.split_whitespace();
    let (Some(pid), Some(started)) = (fields.next(), fields.next()) else {
        return Ok(None);
    };
    let (Ok(pid), Ok(started)) = (pid.parse::<u32>(), started.parse::<u64>()) else {
        return Ok(None);
    };
    Ok((start_time(pid) == Some(started)).then_some(pid))
}

/// Stops the server recorded in `dir` and every process of its group; returns its pid if it
/// was running.
pub(crate) fn stop(dir: &Path) -> Result<Option<u32>> {
    let Some(pid) = running(dir)? else {
        remove_pid_file(dir)?;
        return Ok(None);
    };
    signal_group(pid, "TERM")?;
    // 200 attempts 50 ms apart: servers here exit within a second of SIGTERM.
    for _ in 0..200 {
        if group_members(pid).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if !group_members(pid).is_empty() {
        signal_group(pid, "KILL")?;
        for _ in 0..100 {
            if group_members(pid).is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !group_members(pid).is_empty() {
            bail!("process group {pid} survived SIGKILL");
        }
    }
    remove_pid_file(dir)?;
    Ok(Some(pid))
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
pub(crate) fn port_in_use(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok()
}

/// Live processes started by this command from any checkout (their command line names a
/// `.state/servers/` folder), as `pid: command line`: the usual holders of a taken port.
pub(crate) fn servers_of_any_checkout() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<(u32, String)> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| start_time(pid).is_some())
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            line.contains("/.state/servers/")
                .then(|| (pid, line.trim().chars().take(160).collect()))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|(pid, line)| format!("{pid}: {line}"))
        .collect()
}

fn remove_pid_file(dir: &Path) -> Result<()> {
    let pid_file = dir.join(PID_FILE);
    match std::fs::remove_file(&pid_file) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error).with_context(|| format!("removing {}", pid_file.display())),
    }
}

/// Sends a signal to a whole process group (the shell's `kill` takes negative pids; dash's
/// does not accept `--` before them).
fn signal_group(pgid: u32, signal: &str) -> Result<()> {
    // A group may empty between the check and the signal; kill's exit status is not an error.
    Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{signal} -{pgid} 2>/dev/null"))
        .status()
        .context("running sh -c kill")?;
    Ok(())
}

/// Live (not zombie) processes whose process group is `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            stat_fields(pid).is_some_and(|fields| {
                let alive = !matches!(fields.first().map(String::as_str), Some("Z" | "X"));
                // Field 5 of stat (index 2 after the command name) is the process group.
                alive && fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
            })
        })
        .collect()
}

/// The start time (clock ticks since boot) of a live, non-zombie process.
fn start_time(pid: u32) -> Option<u64> {
    let fields = stat_fields(pid)?;
    if matches!(fields.first().map(String::as_str), Some("Z" | "X")) {
        return None;
    }
    // Field 22 of stat is the start time; fields here begin at field 3 (the state).
    fields.get(19)?.parse().ok()
}

/// The fields of `/proc/PID/stat` after the command name (which may contain spaces).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch folder of this test process (no temp-file crate needed for one folder).
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-process-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn spawned_group_is_found_then_stopped_with_its_children() {
        let dir = scratch("group");
        assert_eq!(running(&dir).unwrap(), None);
        // A shell that forks a child, like Cyrus's master and php -S's workers do.
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 300 & echo forked; wait"]);
        let pid = spawn(&dir, command).unwrap();
        assert_eq!(running(&dir).unwrap(), Some(pid));
        // Wait (bounded) for the forked child to join the group.
        for _ in 0..100 {
            if group_members(pid).len() >= 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(group_members(pid).len() >= 2, "{:?}", group_members(pid));
        assert_eq!(stop(&dir).unwrap(), Some(pid));
        assert!(group_members(pid).is_empty());
        assert_eq!(running(&dir).unwrap(), None);
        assert!(!dir.join(PID_FILE).exists());
        assert!(log_tail(&dir).contains("forked"));
        // Stopping again is a no-op, not an error.
        assert_eq!(stop(&dir).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn pid_file_of_a_reused_pid_is_not_running() {
        let dir = scratch("reused");
        // Our own pid, with a start time it never had: a pid reused by another process.
        std::fs::write(dir.join(PID_FILE), format!("{} 1\n", std::process::id())).unwrap();
        assert_eq!(running(&dir).unwrap(), None);
        std::fs::write(dir.join(PID_FILE), "garbage\n").unwrap();
        assert_eq!(running(&dir).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
