//! SabreDAV 1.8 (the one Debian ships) under PHP's built-in server, SQLite storage, HTTP Basic
//! users from a table of its own. It has no sync-collection: the ctag/etag fallback's server.

use super::{ALICE, BOB, CheckResult, Probe, text, write_file};
use anyhow::{Context, Result, bail};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

const PORT: u16 = 8081;
const PRINCIPAL: &str = "/principals/alice/";
/// Where Debian's `php-sabre-dav` puts its SQLite schemas.
const SCHEMA_DIR: &str = "/usr/share/doc/php-sabre-dav/examples/sql";
/// Concurrent requests `php -S` serves (it is single-worker by default).
const WORKERS: &str = "4";

/// Debian packages SabreDAV needs.
pub(crate) const APT_PACKAGES: &[&str] = &[
    "php-cli",
    "php-mbstring",
    "php-sabre-dav",
    "php-sqlite3",
    "php-xml",
    "sqlite3",
];

/// What answers when SabreDAV is up.
pub(crate) const PROBES: &[Probe] = &[Probe::Http(PORT)];

/// The front controller `php -S` runs for every request.
const SERVER_PHP: &str = r#"<?php
// CalDAV on SabreDAV 1.8 for `cargo xtask servers`: SQLite through PDO, HTTP Basic users from
// the `users` table (plaintext test passwords), principals and calendars from Sabre's tables.
date_default_timezone_set('UTC');
// Sabre 1.8 predates PHP 8: its deprecation notices would corrupt the responses.
error_reporting(E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED & ~E_NOTICE & ~E_WARNING);
ini_set('display_errors', '0');
require_once 'Sabre/autoload.php';

// Sabre 1.8 does not answer /.well-known/caldav (RFC 6764 §5); web servers in front of it
// usually redirect it to the root, and so does this script.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if (preg_match('#^/\.well-known/(caldav|carddav)/?$#', $path)) {
    header('Location: /', true, 301);
    exit;
}

$db = new \PDO('sqlite:' . getenv('SABRE_DB'));
$db->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
// Several workers share the file: wait for a lock rather than fail.
$db->setAttribute(\PDO::ATTR_TIMEOUT, 10);

class TestUsers extends \Sabre\DAV\Auth\Backend\AbstractBasic {
    private $db;
    function __construct($db) { $this->db = $db; }
    protected function validateUserPass($username, $password) {
        $query = $this->db->prepare('SELECT password FROM users WHERE username = ?');
        $query->execute(array($username));
        $stored = $query->fetchColumn();
        return is_string($stored) && hash_equals($stored, $password);
    }
}

$principals = new \Sabre\DAVACL\PrincipalBackend\PDO($db);
$calendars = new \Sabre\CalDAV\Backend\PDO($db);
$server = new \Sabre\DAV\Server(array(
    new \Sabre\CalDAV\Principal\Collection($principals),
    new \Sabre\CalDAV\CalendarRootNode($principals, $calendars),
));
$server->setBaseUri('/');
$server->addPlugin(new \Sabre\DAV\Auth\Plugin(new TestUsers($db), 'SabreDAV'));
$server->addPlugin(new \Sabre\DAVACL\Plugin());
$server->addPlugin(new \Sabre\CalDAV\Plugin());
$server->exec();
"#;

/// Writes the front controller and, on the first start, the database with its users;
/// returns the command to run.
pub(crate) fn prepare(dir: &Path) -> Result<Command> {
    write_file(&dir.join("server.php"), SERVER_PHP)?;
    let db = dir.join("db.sqlite");
    if !db.is_file() {
        create_database(dir, &db)?;
    }
    let mut command = Command::new("php");
    command
        .args(["-d", "include_path=.:/usr/share/php"])
        .args(["-S", &format!("127.0.0.1:{PORT}"), "server.php"])
        .env("SABRE_DB", &db)
        .env("PHP_CLI_SERVER_WORKERS", WORKERS)
        .current_dir(dir);
    Ok(command)
}

/// Sabre's schemas plus the test users, their principals and a `default` calendar each.
fn create_database(dir: &Path, db: &Path) -> Result<()> {
    let mut sql = String::new();
    for table in ["calendars", "principals", "locks"] {
        let path = Path::new(SCHEMA_DIR).join(format!("sqlite.{table}.sql"));
        sql.push_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("reading {} (from php-sabre-dav)", path.display()))?,
        );
        sql.push('\n');
    }
    sql.push_str(
        "CREATE TABLE users (id INTEGER PRIMARY KEY ASC, username TEXT UNIQUE, password TEXT);\n",
    );
    for (user, password) in [ALICE, BOB] {
        let display = capitalised(user);
        sql.push_str(&format!(
            "INSERT INTO users (username, password) VALUES ('{user}', '{password}');\n\
             INSERT INTO principals (uri, email, displayname) VALUES\n\
             \x20 ('principals/{user}', '{user}@example.test', '{display}'),\n\
             \x20 ('principals/{user}/calendar-proxy-read', NULL, NULL),\n\
             \x20 ('principals/{user}/calendar-proxy-write', NULL, NULL);\n\
             INSERT INTO calendars (principaluri, displayname, uri, ctag, description,\n\
             \x20 calendarorder, calendarcolor, timezone, components, transparent)\n\
             \x20 VALUES ('principals/{user}', 'Default', 'default', 1, '', 0, '', '',\n\
             \x20 'VEVENT,VTODO', 0);\n"
        ));
    }
    let partial = dir.join("db.sqlite.partial");
    super::remove_all(dir, &["db.sqlite.partial"])?;
    let mut child = Command::new("sqlite3")
        .arg(text(&partial)?)
        .stdin(Stdio::piped())
        .spawn()
        .context("running sqlite3")?;
    child
        .stdin
        .take()
        .context("sqlite3 stdin")?
        .write_all(sql.as_bytes())?;
    let status = child.wait()?;
    if !status.success() {
        bail!("sqlite3 failed ({status}) creating {}", partial.display());
    }
    // Renamed only when complete, so a failed first start is retried from scratch.
    std::fs::rename(&partial, db).with_context(|| format!("creating {}", db.display()))
}

fn capitalised(user: &str) -> String {
    let mut chars = user.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Deletes the database (users and calendars come back at the next start).
pub(crate) fn wipe(dir: &Path) -> Result<bool> {
    super::remove_all(dir, &["db.sqlite"])
}

/// Where SabreDAV is and who may log in.
pub(crate) fn env() -> Vec<(String, String)> {
    super::caldav_env(
        "SABREDAV",
        &format!("http://127.0.0.1:{PORT}/"),
        PRINCIPAL,
        true,
    )
}

/// The principal PROPFIND as alice, and a wrong password refused.
pub(crate) fn check() -> Vec<CheckResult> {
    vec![
        (
            "PROPFIND current-user-principal as alice",
            super::check_principal_http(PORT, "/", Some(ALICE), PRINCIPAL),
        ),
        (
            "wrong password refused",
            super::check_wrong_password(PORT, "/"),
        ),
    ]
}
