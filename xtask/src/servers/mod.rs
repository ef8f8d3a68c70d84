//! `cargo xtask servers`: real CalDAV servers and a real DNS server on 127.0.0.1.
//!
//! Each server is installed on demand (Debian packages with `apt-get`, Python packages into a
//! venv under the state folder), configured by files this code writes, started in the
//! background with its output in a log file, and waited for until it answers. Everything a
//! server keeps lives in `<repo>/.state/servers/<name>/`; deleting that folder starts over.
//!
//! The facts behind each configuration (ports, paths, principals, quirks) are measured and
//! written down in `docs/servers.md`.

mod cyrus;
mod dns;
mod http;
mod imap;
pub(crate) mod install;
mod knot;
mod process;
pub(crate) mod radicale;
mod sabredav;
mod tls;
mod xandikos;

use crate::run;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The first test user of every server, and the one the checks authenticate as.
pub(crate) const ALICE: (&str, &str) = ("alice", "alicepw");
/// The second test user (for "changed on the server by another client" scenarios).
pub(crate) const BOB: (&str, &str) = ("bob", "bobpw");

/// Arguments of `cargo xtask servers`.
#[derive(Args)]
pub(crate) struct ServersArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Install (when missing), configure and start servers, then wait until they answer.
    Start {
        /// Servers to start (default: all).
        names: Vec<Name>,
    },
    /// Stop servers started by `start` (their data stays unless `--wipe`).
    Stop {
        /// Servers to stop (default: all).
        names: Vec<Name>,
        /// Also delete the servers' data (calendars, users); installs and the test CA stay.
        #[arg(long)]
        wipe: bool,
    },
    /// Show which servers are running.
    Status {
        /// Servers to show (default: all).
        names: Vec<Name>,
    },
    /// Print base URLs, users, CA path and DNS address as `KEY=value` lines.
    Env {
        /// Servers to describe (default: all).
        names: Vec<Name>,
    },
    /// Prove that each running server answers as the tests expect (principal, TLS, DNS).
    Check {
        /// Servers to check (default: all that are running).
        names: Vec<Name>,
    },
}

/// A server this command manages.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Name {
    /// Radicale from PyPI, htpasswd users.
    Radicale,
    /// Xandikos from PyPI, single user without authentication.
    Xandikos,
    /// Cyrus IMAP's CalDAV from Debian, with HTTPS by the test CA.
    Cyrus,
    /// SabreDAV 1.8 from Debian under `php -S`, SQLite storage.
    Sabredav,
    /// Knot DNS from Debian, serving the `example.test` zone.
    Dns,
    /// Every server above.
    All,
}

impl Name {
    const EVERY: [Name; 5] = [
        Name::Radicale,
        Name::Xandikos,
        Name::Cyrus,
        Name::Sabredav,
        Name::Dns,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Name::Radicale => "radicale",
            Name::Xandikos => "xandikos",
            Name::Cyrus => "cyrus",
            Name::Sabredav => "sabredav",
            Name::Dns => "dns",
            Name::All => "all",
        }
    }

    /// Debian packages this server needs.
    fn apt_packages(self) -> &'static [&'static str] {
        match self {
            Name::Radicale | Name::Xandikos => install::VENV_APT_PACKAGES,
            Name::Cyrus => cyrus::APT_PACKAGES,
            Name::Sabredav => sabredav::APT_PACKAGES,
            Name::Dns => knot::APT_PACKAGES,
            Name::All => &[],
        }
    }

    /// What answers when the server is up.
    fn probes(self) -> &'static [Probe] {
        match self {
            Name::Radicale => radicale::PROBES,
            Name::Xandikos => xandikos::PROBES,
            Name::Cyrus => cyrus::PROBES,
            Name::Sabredav => sabredav::PROBES,
            Name::Dns => knot::PROBES,
            Name::All => &[],
        }
    }
}

/// A way to ask a listener on 127.0.0.1 whether the server behind it is ready.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Probe {
    /// Plain HTTP: any HTTP response to `OPTIONS /`.
    Http(u16),
    /// HTTPS: any HTTP response to `OPTIONS /` over TLS trusting the test CA.
    Https(u16),
    /// IMAP: an untagged `OK` greeting.
    Imap(u16),
    /// DNS: an answer (any rcode) to a query over UDP and over TCP.
    Dns(u16),
}

impl Probe {
    fn port(self) -> u16 {
        match self {
            Probe::Http(port) | Probe::Https(port) | Probe::Imap(port) | Probe::Dns(port) => port,
        }
    }

    /// One attempt; `Ok(())` when the listener answered like its server (`dir`: its state).
    fn once(self, dir: &Path) -> Result<()> {
        match self {
            Probe::Http(port) => http::request(port, "OPTIONS", "/", &[], b"").map(drop),
            Probe::Https(port) => {
                tls::https_request(port, &tls::ca_path(dir), "OPTIONS", "/", &[], b"").map(drop)
            }
            Probe::Imap(port) => imap::greeting(port),
            Probe::Dns(port) => {
                dns::query(port, "example.test", dns::Type::Soa, dns::Transport::Udp)?;
                dns::query(port, "example.test", dns::Type::Soa, dns::Transport::Tcp).map(drop)
            }
        }
    }
}

/// Where every server keeps its files: `<repo>/.state/servers`.
pub(crate) fn state_root() -> Result<PathBuf> {
    Ok(run::project_root()?.join(".state").join("servers"))
}

/// Runs `cargo xtask servers ...`.
pub(crate) fn run(args: &ServersArgs) -> Result<()> {
    let state = state_root()?;
    match &args.action {
        Action::Start { names } => start(&state, &expand(names)),
        Action::Stop { names, wipe } => stop(&state, &expand(names), *wipe),
        Action::Status { names } => status(&state, &expand(names)),
        Action::Env { names } => {
            print!("{}", env_lines(&state, &expand(names)));
            Ok(())
        }
        Action::Check { names } => check(&state, names),
    }
}

/// Servers that `cargo xtask test` started itself and stops again when the tests end.
#[must_use = "the servers are stopped when this guard is dropped"]
pub(crate) struct TestServers {
    state: PathBuf,
    started: Vec<Name>,
}

impl Drop for TestServers {
    fn drop(&mut self) {
        if !self.started.is_empty()
            && let Err(error) = stop(&self.state, &self.started, false)
        {
            eprintln!("stopping the test servers failed: {error:#}");
        }
    }
}

/// Starts every server that is not running yet (installing on demand) and returns a guard that
/// stops, when dropped, exactly the ones this call started: servers a developer or CI started
/// before are left as they were.
pub(crate) fn ensure_running_for_tests() -> Result<TestServers> {
    ensure_running(&Name::EVERY)
}

/// Like [`ensure_running_for_tests`], for the named servers only (the demo needs Radicale).
pub(crate) fn ensure_running(names: &[Name]) -> Result<TestServers> {
    let state = state_root()?;
    let mut missing = Vec::new();
    for &name in names {
        if process::running(&state.join(name.as_str()))?.is_none() {
            missing.push(name);
        }
    }
    let guard = TestServers {
        state: state.clone(),
        started: missing.clone(),
    };
    if !missing.is_empty() {
        start(&state, &missing)?;
    }
    Ok(guard)
}

/// The named servers in a stable order, `all` (or nothing) meaning every one.
fn expand(names: &[Name]) -> Vec<Name> {
    if names.is_empty() || names.contains(&Name::All) {
        return Name::EVERY.to_vec();
    }
    let mut out = names.to_vec();
    out.sort();
    out.dedup();
    out
}

fn start(state: &Path, names: &[Name]) -> Result<()> {
    let began = Instant::now();
    std::fs::create_dir_all(state).with_context(|| format!("creating {}", state.display()))?;
    // One apt-get run for every server asked for: installs are the slow part of a fresh start.
    let mut installer = install::Installer::default();
    let mut packages: Vec<&str> = names
        .iter()
        .flat_map(|n| n.apt_packages())
        .copied()
        .collect();
    packages.sort_unstable();
    packages.dedup();
    installer.apt(&packages)?;
    for &name in names {
        let dir = state.join(name.as_str());
        if let Some(pid) = process::running(&dir)? {
            println!("{}: already running (pid {pid})", name.as_str());
            wait_ready(name, &dir)?;
            continue;
        }
        for probe in name.probes() {
            if process::port_in_use(probe.port()) {
                let ours = process::servers_of_any_checkout();
                let hint = if ours.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; servers started from a checkout (run `cargo xtask servers stop` \
                         there):\n{}",
                        ours.join("\n")
                    )
                };
                bail!(
                    "{}: port {} on 127.0.0.1 is taken by a process this checkout did not \
                     start{hint}",
                    name.as_str(),
                    probe.port()
                );
            }
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let command = match name {
            Name::Radicale => radicale::prepare(&dir, &mut installer)?,
            Name::Xandikos => xandikos::prepare(&dir, &mut installer)?,
            Name::Cyrus => cyrus::prepare(&dir)?,
            Name::Sabredav => sabredav::prepare(&dir)?,
            Name::Dns => knot::prepare(&dir)?,
            Name::All => continue,
        };
        let pid = process::spawn(&dir, command)?;
        println!(
            "{}: started (pid {pid}), waiting for it to answer",
            name.as_str()
        );
        wait_ready(name, &dir)?;
        match name {
            Name::Cyrus => cyrus::after_start(&dir)?,
            Name::Sabredav | Name::Radicale | Name::Xandikos | Name::Dns | Name::All => {}
        }
        println!("{}: ready", name.as_str());
    }
    let env = env_lines(state, &running(state)?);
    let env_file = state.join("env");
    std::fs::write(&env_file, &env).with_context(|| format!("writing {}", env_file.display()))?;
    println!(
        "servers ready in {:.1} s; `cargo xtask servers env` (or {}) says where they are",
        began.elapsed().as_secs_f64(),
        env_file.display()
    );
    Ok(())
}

/// Polls the server's probes until each answers, failing early if the process died.
fn wait_ready(name: Name, dir: &Path) -> Result<()> {
    // 600 attempts 100 ms apart: a minute at most, far above the few seconds each one takes.
    const ATTEMPTS: u32 = 600;
    for probe in name.probes() {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match probe.once(dir) {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(error) => last = Some(error),
            }
            if process::running(dir)?.is_none() {
                bail!(
                    "{} exited while starting; the end of {}:\n{}",
                    name.as_str(),
                    process::log_path(dir).display(),
                    process::log_tail(dir)
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if let Some(error) = last {
            return Err(error.context(format!(
                "{} did not answer on port {} after {ATTEMPTS} attempts; the end of {}:\n{}",
                name.as_str(),
                probe.port(),
                process::log_path(dir).display(),
                process::log_tail(dir)
            )));
        }
    }
    Ok(())
}

fn stop(state: &Path, names: &[Name], wipe: bool) -> Result<()> {
    for &name in names {
        let dir = state.join(name.as_str());
        match process::stop(&dir)? {
            Some(pid) => println!("{}: stopped (pid {pid})", name.as_str()),
            None => println!("{}: not running", name.as_str()),
        }
        if wipe {
            let wiped = match name {
                Name::Radicale => radicale::wipe(&dir)?,
                Name::Xandikos => xandikos::wipe(&dir)?,
                Name::Cyrus => cyrus::wipe(&dir)?,
                Name::Sabredav => sabredav::wipe(&dir)?,
                Name::Dns => knot::wipe(&dir)?,
                Name::All => false,
            };
            if wiped {
                println!("{}: data wiped", name.as_str());
            }
        }
    }
    let env = env_lines(state, &running(state)?);
    let env_file = state.join("env");
    if state.is_dir() {
        std::fs::write(&env_file, env)
            .with_context(|| format!("writing {}", env_file.display()))?;
    }
    Ok(())
}

/// The servers whose recorded process is alive.
fn running(state: &Path) -> Result<Vec<Name>> {
    let mut out = Vec::new();
    for name in Name::EVERY {
        if process::running(&state.join(name.as_str()))?.is_some() {
            out.push(name);
        }
    }
    Ok(out)
}

fn status(state: &Path, names: &[Name]) -> Result<()> {
    for &name in names {
        let dir = state.join(name.as_str());
        let ports: Vec<String> = name.probes().iter().map(|p| p.port().to_string()).collect();
        match process::running(&dir)? {
            Some(pid) => println!(
                "{:<9} running  pid {pid:<8} 127.0.0.1 port {}",
                name.as_str(),
                ports.join(", ")
            ),
            None => println!("{:<9} stopped", name.as_str()),
        }
    }
    Ok(())
}

/// `KEY=value` lines describing the named servers, plus the list of the ones running.
fn env_lines(state: &Path, names: &[Name]) -> String {
    let mut out = String::new();
    let running: Vec<&str> = Name::EVERY
        .iter()
        .filter(|n| matches!(process::running(&state.join(n.as_str())), Ok(Some(_))))
        .map(|n| n.as_str())
        .collect();
    let _ = writeln!(out, "CALDAV_TEST_SERVERS_RUNNING={}", running.join(","));
    for &name in names {
        let dir = state.join(name.as_str());
        let pairs = match name {
            Name::Radicale => radicale::env(),
            Name::Xandikos => xandikos::env(),
            Name::Cyrus => cyrus::env(&dir),
            Name::Sabredav => sabredav::env(),
            Name::Dns => knot::env(),
            Name::All => Vec::new(),
        };
        for (key, value) in pairs {
            let _ = writeln!(out, "{key}={value}");
        }
    }
    out
}

/// The `KEY=value` pairs every CalDAV server has: URL, principal, users.
fn caldav_env(prefix: &str, url: &str, principal: &str, users: bool) -> Vec<(String, String)> {
    let key = |k: &str| format!("CALDAV_TEST_{prefix}_{k}");
    let mut out = vec![
        (key("URL"), url.to_owned()),
        (key("PRINCIPAL"), principal.to_owned()),
    ];
    if users {
        out.extend([
            (key("AUTH"), "basic".to_owned()),
            (key("USER"), ALICE.0.to_owned()),
            (key("PASSWORD"), ALICE.1.to_owned()),
            (key("USER2"), BOB.0.to_owned()),
            (key("PASSWORD2"), BOB.1.to_owned()),
        ]);
    } else {
        out.push((key("AUTH"), "none".to_owned()));
    }
    out
}

fn check(state: &Path, names: &[Name]) -> Result<()> {
    let names = if names.is_empty() || names.contains(&Name::All) {
        let running = running(state)?;
        if running.is_empty() {
            bail!("no server is running: `cargo xtask servers start` first");
        }
        running
    } else {
        expand(names)
    };
    let mut failed = 0_usize;
    let mut passed = 0_usize;
    for name in names {
        let dir = state.join(name.as_str());
        if process::running(&dir)?.is_none() {
            println!("FAIL {}: not running", name.as_str());
            failed += 1;
            continue;
        }
        let results = match name {
            Name::Radicale => radicale::check(),
            Name::Xandikos => xandikos::check(),
            Name::Cyrus => cyrus::check(&dir),
            Name::Sabredav => sabredav::check(),
            Name::Dns => knot::check(),
            Name::All => Vec::new(),
        };
        for (what, result) in results {
            match result {
                Ok(detail) => {
                    passed += 1;
                    println!("ok   {}: {what}: {detail}", name.as_str());
                }
                Err(error) => {
                    failed += 1;
                    println!("FAIL {}: {what}: {error:#}", name.as_str());
                }
            }
        }
    }
    println!("servers check: {passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} server check(s) failed");
    }
    Ok(())
}

/// One check's name and outcome (a short description of what was seen on success).
pub(crate) type CheckResult = (&'static str, Result<String>);

/// PROPFIND Depth:0 for `current-user-principal` over plain HTTP; passes when the answer is a
/// 207 naming `expected`.
pub(crate) fn check_principal_http(
    port: u16,
    path: &str,
    auth: Option<(&str, &str)>,
    expected: &str,
) -> Result<String> {
    let headers = principal_headers(auth);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = http::request(port, "PROPFIND", path, &headers, http::PRINCIPAL_PROPFIND)?;
    expect_principal(&response, expected)
}

/// The headers of the principal PROPFIND.
pub(crate) fn principal_headers(auth: Option<(&str, &str)>) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("Depth", "0".to_owned()),
        ("Content-Type", "application/xml; charset=utf-8".to_owned()),
    ];
    if let Some((user, password)) = auth {
        headers.push(("Authorization", http::basic_auth(user, password)));
    }
    headers
}

/// Passes when `response` is a 207 whose current-user-principal href is `expected`.
pub(crate) fn expect_principal(response: &http::Response, expected: &str) -> Result<String> {
    if response.status != 207 {
        bail!("expected 207, got {}", response.status);
    }
    let body = String::from_utf8_lossy(&response.body);
    let href = http::principal_href(&body)
        .with_context(|| format!("no current-user-principal href in the 207 body: {body}"))?;
    if href != expected {
        bail!("current-user-principal is {href}, expected {expected}");
    }
    Ok(format!("207, current-user-principal {href}"))
}

/// Passes when a wrong password is refused with 401 (the server really checks its users).
pub(crate) fn check_wrong_password(port: u16, path: &str) -> Result<String> {
    let headers = principal_headers(Some((ALICE.0, "not-the-password")));
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = http::request(port, "PROPFIND", path, &headers, http::PRINCIPAL_PROPFIND)?;
    if response.status != 401 {
        bail!("expected 401 for a wrong password, got {}", response.status);
    }
    Ok("401".to_owned())
}

/// Removes `paths` under `dir` that exist; true when anything was removed.
pub(crate) fn remove_all(dir: &Path, paths: &[&str]) -> Result<bool> {
    let mut removed = false;
    for path in paths {
        let path = dir.join(path);
        if path.is_dir() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing {}", path.display()))?;
            removed = true;
        } else if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            removed = true;
        }
    }
    Ok(removed)
}

/// Writes `contents` to `path`, creating its folder.
pub(crate) fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))
}

/// A path as text for a configuration file (state paths are made by this code: UTF-8).
pub(crate) fn text(path: &Path) -> Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_expand_to_every_server_in_start_order() {
        assert_eq!(expand(&[]), Name::EVERY);
        assert_eq!(expand(&[Name::Dns, Name::All]), Name::EVERY);
        assert_eq!(
            expand(&[Name::Dns, Name::Radicale, Name::Dns]),
            [Name::Radicale, Name::Dns]
        );
    }

    #[test]
    fn env_names_every_url_user_and_the_ca() {
        let state = Path::new("/nonexistent/state");
        let env = env_lines(state, &Name::EVERY);
        for line in [
            "CALDAV_TEST_SERVERS_RUNNING=\n",
            "CALDAV_TEST_RADICALE_URL=http://127.0.0.1:5232/\n",
            "CALDAV_TEST_RADICALE_PRINCIPAL=/alice/\n",
            "CALDAV_TEST_XANDIKOS_AUTH=none\n",
            "CALDAV_TEST_CYRUS_HTTPS_URL=https://127.0.0.1:8443/\n",
            "CALDAV_TEST_CYRUS_PASSWORD2=bobpw\n",
            "CALDAV_TEST_CA=/nonexistent/state/cyrus/tls/ca.pem\n",
            "CALDAV_TEST_SABREDAV_USER=alice\n",
            "CALDAV_TEST_DNS_SERVER=127.0.0.1:5353\n",
        ] {
            assert!(env.contains(line), "{line:?} missing from\n{env}");
        }
        assert!(!env_lines(state, &[Name::Dns]).contains("RADICALE"));
    }
}
