//! Cyrus IMAP's CalDAV from Debian: a private instance (its own configuration, spool and
//! sasldb under the state folder; the packaged service is never started), plain HTTP, HTTPS
//! with the test CA's certificate (HTTP/2 by ALPN), and IMAP for provisioning users.
//!
//! Cyrus gives a user a CalDAV home only once the user's INBOX exists, so `start` creates the
//! INBOXes over IMAP as `admin`, then makes one authenticated request per user so that
//! `Default/`, `Inbox/` and `Outbox/` exist before any test runs.

use super::{ALICE, BOB, CheckResult, Probe, http, imap, text, tls, write_file};
use anyhow::{Context, Result, bail};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

const HTTP_PORT: u16 = 8008;
const HTTPS_PORT: u16 = 8443;
const IMAP_PORT: u16 = 1143;
/// The server's administrator (creates mailboxes; no calendars of its own).
const ADMIN: (&str, &str) = ("admin", "adminpw");
/// Cyrus's name for itself; the SASL realm of every user must equal it.
const SERVERNAME: &str = "localhost";
const PRINCIPAL: &str = "/dav/principals/user/alice/";
const MASTER: &str = "/usr/lib/cyrus/bin/master";

/// Debian packages Cyrus needs.
pub(crate) const APT_PACKAGES: &[&str] = &[
    "cyrus-caldav",
    "cyrus-imapd",
    "libsasl2-modules",
    "sasl2-bin",
];

/// What answers when Cyrus is up.
pub(crate) const PROBES: &[Probe] = &[
    Probe::Http(HTTP_PORT),
    Probe::Https(HTTPS_PORT),
    Probe::Imap(IMAP_PORT),
];

/// Writes the certificates, configuration and users; returns the command to run.
pub(crate) fn prepare(dir: &Path) -> Result<Command> {
    tls::ensure_certificates(dir)?;
    for folder in [
        "lib",
        "run/proc",
        "run/lock",
        "run/socket",
        "spool",
        "sieve",
    ] {
        std::fs::create_dir_all(dir.join(folder))?;
    }
    let d = text(dir)?;
    let imapd_conf = dir.join("imapd.conf");
    write_file(
        &imapd_conf,
        format!(
            "configdirectory: {d}/lib\n\
             proc_path: {d}/run/proc\n\
             mboxname_lockpath: {d}/run/lock\n\
             defaultpartition: default\n\
             partition-default: {d}/spool\n\
             sievedir: {d}/sieve\n\
             lmtpsocket: {d}/run/socket/lmtp\n\
             idlesocket: {d}/run/socket/idle\n\
             notifysocket: {d}/run/socket/notify\n\
             servername: {SERVERNAME}\n\
             defaultdomain: example.test\n\
             calendar_user_address_set: example.test\n\
             admins: {admin}\n\
             allowplaintext: yes\n\
             sasl_pwcheck_method: auxprop\n\
             sasl_auxprop_plugin: sasldb\n\
             sasl_sasldb_path: {d}/sasldb2\n\
             sasl_mech_list: PLAIN LOGIN\n\
             httpmodules: caldav carddav freebusy\n\
             httpallowcompress: no\n\
             unixhierarchysep: yes\n\
             altnamespace: yes\n\
             hashimapspool: true\n\
             umask: 077\n\
             syslog_prefix: cyrus-test\n\
             tls_server_cert: {cert}\n\
             tls_server_key: {key}\n",
            admin = ADMIN.0,
            cert = text(&tls::dir(dir).join("server.crt"))?,
            key = text(&tls::dir(dir).join("server.key"))?,
        ),
    )?;
    let conf = text(&imapd_conf)?;
    let cyrus_conf = dir.join("cyrus.conf");
    write_file(
        &cyrus_conf,
        format!(
            "START {{\n  recover cmd=\"ctl_cyrusdb -C {conf} -r\"\n}}\n\
             SERVICES {{\n\
             \x20 imap  cmd=\"imapd -C {conf}\" listen=\"127.0.0.1:{IMAP_PORT}\" prefork=0 maxchild=20\n\
             \x20 http  cmd=\"httpd -C {conf}\" listen=\"127.0.0.1:{HTTP_PORT}\" prefork=0 maxchild=20\n\
             \x20 https cmd=\"httpd -s -C {conf}\" listen=\"127.0.0.1:{HTTPS_PORT}\" prefork=0 maxchild=20\n\
             }}\n\
             EVENTS {{\n  checkpoint cmd=\"ctl_cyrusdb -C {conf} -c\" period=30\n}}\n\
             DAEMON {{\n}}\n"
        ),
    )?;
    let sasldb = dir.join("sasldb2");
    for (user, password) in [ADMIN, ALICE, BOB] {
        set_password(&sasldb, user, password)?;
    }
    // master runs as root and its services as `cyrus`, which must own everything here.
    crate::run::status(Command::new("chown").args(["-R", "cyrus:mail"]).arg(dir))?;
    let mut command = Command::new(MASTER);
    command
        .arg("-C")
        .arg(&imapd_conf)
        .arg("-M")
        .arg(&cyrus_conf)
        .arg("-p")
        .arg(dir.join("master.pid"))
        .current_dir(dir);
    Ok(command)
}

/// Creates or updates a user in the sasldb (password on stdin, realm = servername).
fn set_password(sasldb: &Path, user: &str, password: &str) -> Result<()> {
    let mut child = Command::new("saslpasswd2")
        .args(["-p", "-c", "-f"])
        .arg(sasldb)
        .args(["-u", SERVERNAME, user])
        .stdin(Stdio::piped())
        .spawn()
        .context("running saslpasswd2 (from sasl2-bin)")?;
    child
        .stdin
        .take()
        .context("saslpasswd2 stdin")?
        .write_all(password.as_bytes())?;
    let status = child.wait()?;
    if !status.success() {
        bail!("saslpasswd2 for {user} failed with {status}");
    }
    Ok(())
}

/// Creates the users' INBOXes and has Cyrus provision their calendar homes.
pub(crate) fn after_start(_dir: &Path) -> Result<()> {
    imap::create_mailboxes(IMAP_PORT, ADMIN, &["user/alice", "user/bob"])
        .context("creating the users' mailboxes over IMAP")?;
    for (user, password) in [ALICE, BOB] {
        let path = format!("/dav/calendars/user/{user}/");
        let auth = http::basic_auth(user, password);
        let response = http::request(
            HTTP_PORT,
            "PROPFIND",
            &path,
            &[
                ("Depth", "1"),
                ("Content-Type", "application/xml; charset=utf-8"),
                ("Authorization", &auth),
            ],
            http::PRINCIPAL_PROPFIND,
        )?;
        if response.status != 207 {
            bail!("PROPFIND {path} as {user} gave {}", response.status);
        }
    }
    Ok(())
}

/// Deletes mailboxes, calendars and databases (users are rewritten at the next start; the
/// test CA stays so clients keep trusting the same file).
pub(crate) fn wipe(dir: &Path) -> Result<bool> {
    super::remove_all(dir, &["lib", "run", "spool", "sieve", "sasldb2"])
}

/// Where Cyrus is, who may log in, and the CA its HTTPS certificate chains to.
pub(crate) fn env(dir: &Path) -> Vec<(String, String)> {
    let mut out = super::caldav_env(
        "CYRUS",
        &format!("http://127.0.0.1:{HTTP_PORT}/"),
        PRINCIPAL,
        true,
    );
    let ca = tls::ca_path(dir).display().to_string();
    out.extend([
        (
            "CALDAV_TEST_CYRUS_HTTPS_URL".to_owned(),
            format!("https://127.0.0.1:{HTTPS_PORT}/"),
        ),
        (
            "CALDAV_TEST_CYRUS_HTTPS_NAME_URL".to_owned(),
            format!("https://{}:{HTTPS_PORT}/", tls::SERVER_NAME),
        ),
        (
            "CALDAV_TEST_CYRUS_IMAP".to_owned(),
            format!("127.0.0.1:{IMAP_PORT}"),
        ),
        (
            "CALDAV_TEST_CYRUS_ADMIN_USER".to_owned(),
            ADMIN.0.to_owned(),
        ),
        (
            "CALDAV_TEST_CYRUS_ADMIN_PASSWORD".to_owned(),
            ADMIN.1.to_owned(),
        ),
        ("CALDAV_TEST_CA".to_owned(), ca),
    ]);
    out
}

/// Principal over HTTP and HTTPS, the certificate trusted through the test CA only (and
/// refused without it), HTTP/2 offered by ALPN, a wrong password refused.
pub(crate) fn check(dir: &Path) -> Vec<CheckResult> {
    let ca = tls::ca_path(dir);
    vec![
        (
            "PROPFIND current-user-principal as alice over http",
            super::check_principal_http(HTTP_PORT, "/dav/", Some(ALICE), PRINCIPAL),
        ),
        (
            "wrong password refused",
            super::check_wrong_password(HTTP_PORT, PRINCIPAL),
        ),
        (
            "TLS handshake for cal.example.test trusting only the test CA",
            tls::handshake(
                HTTPS_PORT,
                tls::SERVER_NAME,
                Some(&ca),
                &[b"h2", b"http/1.1"],
            )
            .and_then(|alpn| match alpn.as_deref() {
                Some("h2") => Ok("verified, ALPN h2".to_owned()),
                other => bail!("verified, but ALPN chose {other:?} instead of h2"),
            }),
        ),
        (
            "PROPFIND current-user-principal as alice over https",
            https_principal(&ca),
        ),
        (
            "certificate refused without the test CA",
            untrusted_refused(),
        ),
    ]
}

fn https_principal(ca: &Path) -> Result<String> {
    let headers = super::principal_headers(Some(ALICE));
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = tls::https_request_to(
        HTTPS_PORT,
        tls::SERVER_NAME,
        ca,
        "PROPFIND",
        "/dav/",
        &headers,
        http::PRINCIPAL_PROPFIND,
    )?;
    super::expect_principal(&response, PRINCIPAL)
}

fn untrusted_refused() -> Result<String> {
    match tls::handshake(HTTPS_PORT, tls::SERVER_NAME, None, &[b"http/1.1"]) {
        Ok(_) => bail!("a client trusting nothing completed the handshake"),
        Err(error) => Ok(format!("refused: {:#}", error.root_cause())),
    }
}
