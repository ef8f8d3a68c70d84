//! The few IMAP4rev1 lines that provision Cyrus users (RFC 3501 §6.2.3, §6.3.3).
//!
//! Cyrus only gives a user a CalDAV home once the user's INBOX exists, and the admin creates
//! that INBOX over IMAP.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Read as _, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest response line read (the checks' lines are short).
const MAX_LINE: usize = 64 * 1024;

struct Session {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl Session {
    fn connect(port: u16) -> Result<Self> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let stream = TcpStream::connect_timeout(&address, TIMEOUT)
            .with_context(|| format!("connecting to {address}"))?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let mut session = Session {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            tag: 0,
        };
        let greeting = session.line()?;
        if !greeting.starts_with("* OK") {
            bail!("IMAP greeting is not OK: {greeting:?}");
        }
        Ok(session)
    }

    fn line(&mut self) -> Result<String> {
        let mut line = Vec::new();
        let read = std::io::Read::by_ref(&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            bail!("IMAP server closed the connection");
        }
        Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
    }

    /// Sends a command; returns the tagged completion line (`OK`, `NO` or `BAD` ...).
    fn command(&mut self, command: &str) -> Result<String> {
        self.command_with_data(command).map(|(_, done)| done)
    }

    /// Sends a command; returns the untagged lines it produced and its completion line.
    fn command_with_data(&mut self, command: &str) -> Result<(Vec<String>, String)> {
        self.tag += 1;
        let tag = format!("x{}", self.tag);
        self.writer
            .write_all(format!("{tag} {command}\r\n").as_bytes())?;
        let mut untagged = Vec::new();
        // A bound on the lines one command may produce: a LIST of one name gives one.
        for _ in 0..10_000 {
            let line = self.line()?;
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                return Ok((untagged, rest.to_owned()));
            }
            untagged.push(line);
        }
        bail!("IMAP command {command:?} did not complete")
    }
}

/// Succeeds when 127.0.0.1:`port` greets like an IMAP server.
pub(crate) fn greeting(port: u16) -> Result<()> {
    let mut session = Session::connect(port)?;
    session.command("LOGOUT").map(drop)
}

/// Quotes a string for IMAP (RFC 3501 §4.3); the names used here need no literals.
fn quoted(text: &str) -> Result<String> {
    if text.contains(['\r', '\n', '\0']) {
        bail!("{text:?} cannot be an IMAP quoted string");
    }
    Ok(format!(
        "\"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// Logs in as `admin` and creates each mailbox unless it exists already.
pub(crate) fn create_mailboxes(
    port: u16,
    (admin, password): (&str, &str),
    mailboxes: &[&str],
) -> Result<()> {
    let mut session = Session::connect(port)?;
    let login = session.command(&format!("LOGIN {} {}", quoted(admin)?, quoted(password)?))?;
    if !login.starts_with("OK") {
        bail!("IMAP LOGIN as {admin} failed: {login}");
    }
    for mailbox in mailboxes {
        let created = session.command(&format!("CREATE {}", quoted(mailbox)?))?;
        if created.starts_with("OK") {
            continue;
        }
        // An existing mailbox makes CREATE fail; that is the idempotent case.
        let (lines, listed) =
            session.command_with_data(&format!("LIST \"\" {}", quoted(mailbox)?))?;
        let exists = lines.iter().any(|l| l.starts_with("* LIST"));
        if !(listed.starts_with("OK") && exists) {
            bail!("IMAP CREATE {mailbox} failed: {created}");
        }
    }
    session.command("LOGOUT")?;
    Ok(())
}
