//! Who to talk to and as whom: global options, the accounts file, and passwords.
//!
//! Accounts live in `$XDG_CONFIG_HOME/caldav/config.toml` (or `~/.config/caldav/config.toml`;
//! `CALDAV_CONFIG` names another file):
//!
//! ```toml
//! [accounts.work]
//! url = "https://cal.example.com/dav/"   # or: address = "alice@example.com" (discovery)
//! user = "alice"
//! password-command = "pass show caldav/work"
//! ```
//!
//! A password is never read from argv or from a file of ours: it comes from `CALDAV_PASSWORD`,
//! from a command's standard output, or from a prompt on the terminal.
//!
//! An account's server habits (a [`QuirkProfile`]) come from three places, later ones winning
//! field by field: the built-in defaults, the profile `caldav probe --save` stored in
//! `$XDG_STATE_HOME/caldav/profiles.toml` (or `~/.local/state/caldav/profiles.toml`;
//! `CALDAV_PROFILES` names another file) under the account's key, and the account's own
//! `quirks = { ... }` table in the config file.

use anyhow::{Context, Result, bail};
use caldav_client_core::QuirkProfile;
use clap::Args;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;

/// Options every command accepts, before or after the subcommand.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct Global {
    /// Use this account of the config file.
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "url")]
    pub(crate) account: Option<String>,
    /// The server's URL (a context path such as https://host/dav/, or the server root).
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// The user name to authenticate as.
    #[arg(long, global = true, value_name = "USER")]
    pub(crate) user: Option<String>,
    /// A command whose first output line is the password (run with `sh -c`).
    #[arg(long, global = true, value_name = "CMD")]
    pub(crate) password_command: Option<String>,
    /// Let discovery try plain http (an explicit http:// URL is always used as given).
    #[arg(long, global = true)]
    pub(crate) allow_http: bool,
    /// Resolve names (SRV, TXT, hosts) with this DNS server instead of the system's.
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub(crate) dns_server: Option<std::net::SocketAddr>,
    /// Trust this PEM certificate authority too (a private server's CA).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Record the conversation (credentials redacted) into FILE, in telemetry-log format.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) trace: Option<PathBuf>,
    /// Log requests to standard error: -v one line each, -vv the whole (redacted) exchange.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// One account of the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct AccountConfig {
    /// The server's URL.
    pub(crate) url: Option<String>,
    /// An address to discover the server from (`user@domain` or a host).
    pub(crate) address: Option<String>,
    /// The user name.
    pub(crate) user: Option<String>,
    /// The password command.
    pub(crate) password_command: Option<String>,
    /// Let discovery use plain http.
    #[serde(default)]
    pub(crate) allow_http: bool,
    /// A DNS server for discovery.
    pub(crate) dns_server: Option<std::net::SocketAddr>,
    /// An extra CA.
    pub(crate) ca_file: Option<PathBuf>,
    /// Quirk profile fields that override the probed profile (`quirks = { ctag = false }`).
    pub(crate) quirks: Option<toml::Table>,
}

/// The config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Accounts by name.
    #[serde(default)]
    pub(crate) accounts: BTreeMap<String, AccountConfig>,
}

/// Where the config file is.
pub(crate) fn config_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CALDAV_CONFIG") {
        return Some(PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("caldav").join("config.toml"))
}

/// Reads the config file (empty when there is none).
pub(crate) fn load_config() -> Result<Config> {
    let Some(path) = config_path() else {
        return Ok(Config::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("reading {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The account a command runs as, with the command line over the config file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolved {
    /// The server's URL, when known without discovery.
    pub(crate) url: Option<String>,
    /// An address to discover from.
    pub(crate) address: Option<String>,
    /// The user.
    pub(crate) user: Option<String>,
    /// The password command.
    pub(crate) password_command: Option<String>,
    /// Let discovery use plain http.
    pub(crate) allow_http: bool,
    /// The DNS server.
    pub(crate) dns_server: Option<std::net::SocketAddr>,
    /// An extra CA.
    pub(crate) ca_file: Option<PathBuf>,
    /// What the profiles file is keyed by for this account.
    pub(crate) profile_key: String,
    /// The server habits the machines read: defaults, then the stored probe, then the
    /// account's `quirks` table.
    pub(crate) quirks: QuirkProfile,
}

/// The key of an account in the profiles file: its name, or `user@url` without one.
pub(crate) fn profile_key(
    account: Option<&str>,
    url: Option<&str>,
    address: Option<&str>,
    user: Option<&str>,
) -> String {
    if let Some(name) = account {
        return name.to_owned();
    }
    let server = url.or(address).unwrap_or_default();
    match user {
        Some(user) => format!("{user}@{server}"),
        None => server.to_owned(),
    }
}

/// Where probed profiles are stored.
pub(crate) fn profiles_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CALDAV_PROFILES") {
        return Some(PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("caldav").join("profiles.toml"))
}

/// The stored profiles by account key (empty when there is no file).
pub(crate) fn load_profiles() -> Result<toml::Table> {
    let Some(path) = profiles_path() else {
        return Ok(toml::Table::new());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .parse::<toml::Table>()
            .with_context(|| format!("reading {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(toml::Table::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Stores `profile` under `key`, keeping the other accounts' profiles; returns the file.
pub(crate) fn save_profile(key: &str, profile: &QuirkProfile) -> Result<PathBuf> {
    let path = profiles_path().context("no $HOME or $XDG_STATE_HOME to store profiles in")?;
    let mut profiles = load_profiles()?;
    let value = toml::Table::try_from(profile).context("encoding the profile")?;
    profiles.insert(key.to_owned(), toml::Value::Table(value));
    let text = toml::to_string(&profiles).context("encoding the profiles")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::vdir::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// `base` with the fields of every table in `layers` laid over it, in order. A field the
/// profile does not have is an error (a typo would otherwise be silently ignored).
pub(crate) fn layered_profile(
    base: QuirkProfile,
    layers: &[(&str, &toml::Table)],
) -> Result<QuirkProfile> {
    let mut table = toml::Table::try_from(&base).context("encoding the default profile")?;
    for (origin, layer) in layers {
        for (field, value) in layer.iter() {
            if !table.contains_key(field) {
                bail!("{origin}: {field:?} is not a quirk profile field");
            }
            table.insert(field.clone(), value.clone());
        }
    }
    toml::Value::Table(table)
        .try_into()
        .context("reading the quirk profile")
}

/// The profile for account `key`: stored probe, then `overrides`.
fn profile_for(key: &str, overrides: Option<&toml::Table>) -> Result<QuirkProfile> {
    let profiles = load_profiles()?;
    let stored = profiles.get(key).and_then(toml::Value::as_table);
    let stored_origin = format!(
        "{} [{key}]",
        profiles_path().map_or_else(String::new, |p| p.display().to_string())
    );
    let mut layers: Vec<(&str, &toml::Table)> = Vec::new();
    if let Some(stored) = stored {
        layers.push((&stored_origin, stored));
    }
    if let Some(overrides) = overrides {
        layers.push(("the account's quirks", overrides));
    }
    layered_profile(QuirkProfile::default(), &layers)
}

/// Merges the global options with the named account.
pub(crate) fn resolve(global: &Global) -> Result<Resolved> {
    let account = match &global.account {
        Some(name) => {
            let config = load_config()?;
            match config.accounts.get(name) {
                Some(account) => account.clone(),
                None => {
                    let known: Vec<&str> = config.accounts.keys().map(String::as_str).collect();
                    bail!(
                        "no account {name:?} in {} (known: {})",
                        config_path().map_or_else(String::new, |p| p.display().to_string()),
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    );
                }
            }
        }
        None => AccountConfig::default(),
    };
    let url = global.url.clone().or(account.url);
    let user = global.user.clone().or(account.user);
    let key = profile_key(
        global.account.as_deref(),
        url.as_deref(),
        account.address.as_deref(),
        user.as_deref(),
    );
    let quirks = profile_for(&key, account.quirks.as_ref())?;
    Ok(Resolved {
        url,
        address: account.address,
        user,
        password_command: global.password_command.clone().or(account.password_command),
        allow_http: global.allow_http || account.allow_http,
        dns_server: global.dns_server.or(account.dns_server),
        ca_file: global.ca_file.clone().or(account.ca_file),
        profile_key: key,
        quirks,
    })
}

/// The password for `user`: `CALDAV_PASSWORD`, then the password command, then a prompt on
/// the terminal; `None` when none of them gives one.
pub(crate) fn password(resolved: &Resolved, user: &str) -> Result<Option<String>> {
    if let Ok(password) = std::env::var("CALDAV_PASSWORD") {
        return Ok(Some(password));
    }
    if let Some(command) = &resolved.password_command {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("running the password command {command:?}"))?;
        if !output.status.success() {
            bail!(
                "the password command {command:?} failed with {}",
                output.status
            );
        }
        let text = String::from_utf8(output.stdout)
            .context("the password command's output is not UTF-8")?;
        let line = text.lines().next().unwrap_or_default().to_owned();
        return Ok(Some(line));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let password = rpassword::prompt_password(format!("password for {user}: "))
            .context("reading the password from the terminal")?;
        return Ok(Some(password));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_with_several_accounts_parses() {
        let config: Config = toml::from_str(
            r#"
            [accounts.work]
            url = "https://cal.example.com/dav/"
            user = "alice"
            password-command = "pass show work"

            [accounts.home]
            address = "bob@example.org"
            allow-http = true
            dns-server = "127.0.0.1:5353"
            "#,
        )
        .unwrap();
        assert_eq!(config.accounts.len(), 2);
        let work = &config.accounts["work"];
        assert_eq!(work.user.as_deref(), Some("alice"));
        assert_eq!(work.password_command.as_deref(), Some("pass show work"));
        let home = &config.accounts["home"];
        assert!(home.allow_http);
        assert_eq!(home.dns_server.unwrap().port(), 5353);
    }

    #[test]
    fn quirks_layer_over_the_stored_profile_field_by_field() {
        let config: Config = toml::from_str(
            r#"
            [accounts.work]
            url = "https://cal.example.com/"
            quirks = { ctag = false, invalid_sync_token = "forbidden" }
            "#,
        )
        .unwrap();
        let overrides = config.accounts["work"].quirks.clone().unwrap();
        let stored: toml::Table =
            toml::from_str("sync_collection = false\nctag = true\ndelete_ok_statuses = [200]")
                .unwrap();
        let profile = layered_profile(
            QuirkProfile::default(),
            &[("stored", &stored), ("config", &overrides)],
        )
        .unwrap();
        assert!(!profile.sync_collection, "from the stored profile");
        assert!(!profile.ctag, "the account's table wins");
        assert_eq!(profile.delete_ok_statuses, vec![200]);
        assert_eq!(
            profile.invalid_sync_token,
            caldav_client_core::InvalidSyncToken::Forbidden
        );
        assert!(profile.multiget, "untouched fields keep their defaults");
    }

    #[test]
    fn an_unknown_quirk_field_is_refused() {
        let typo: toml::Table = toml::from_str("sync_colection = false").unwrap();
        let error = layered_profile(QuirkProfile::default(), &[("config", &typo)]).unwrap_err();
        assert!(error.to_string().contains("sync_colection"), "{error}");
        let wrong_type: toml::Table = toml::from_str("ctag = 3").unwrap();
        assert!(layered_profile(QuirkProfile::default(), &[("config", &wrong_type)]).is_err());
    }

    #[test]
    fn profile_keys() {
        assert_eq!(
            profile_key(Some("work"), Some("u"), None, Some("a")),
            "work"
        );
        assert_eq!(
            profile_key(None, Some("http://h/"), None, Some("alice")),
            "alice@http://h/"
        );
        assert_eq!(profile_key(None, None, Some("a@b.c"), None), "a@b.c");
    }

    #[test]
    fn a_password_key_in_the_config_is_refused() {
        let result: Result<Config, _> = toml::from_str(
            r#"
            [accounts.work]
            url = "https://cal.example.com/"
            password = "secret"
            "#,
        );
        assert!(result.is_err());
    }
}
