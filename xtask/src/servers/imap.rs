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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A scripted IMAP server: answers each tagged command by the first matching rule.
    fn fake_server(
        rules: &'static [(&'static str, &'static str)],
    ) -> (u16, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            writer.write_all(b"* OK fake IMAP ready\r\n").unwrap();
            let mut seen = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 {
                    return seen;
                }
                let line = line.trim_end().to_owned();
                let (tag, command) = line.split_once(' ').unwrap();
                let reply = rules
                    .iter()
                    .find(|(prefix, _)| command.starts_with(prefix))
                    .map_or("BAD unexpected", |(_, reply)| reply);
                for part in reply.split('|') {
                    if part.starts_with('*') {
                        writer.write_all(format!("{part}\r\n").as_bytes()).unwrap();
                    } else {
                        writer
                            .write_all(format!("{tag} {part}\r\n").as_bytes())
                            .unwrap();
                    }
                }
                seen.push(command.to_owned());
                if command == "LOGOUT" {
                    return seen;
                }
            }
        });
        (port, handle)
    }

    #[test]
    fn existing_mailbox_is_accepted_and_new_one_created() {
        let (port, server) = fake_server(&[
            ("LOGIN", "OK logged in"),
            ("CREATE \"user/alice\"", "NO Mailbox already exists"),
            (
                "LIST \"\" \"user/alice\"",
                "* LIST (\\HasNoChildren) \"/\" user/alice|OK done",
            ),
            ("CREATE \"user/bob\"", "OK created"),
            ("LOGOUT", "* BYE|OK bye"),
        ]);
        create_mailboxes(port, ("admin", "adminpw"), &["user/alice", "user/bob"]).unwrap();
        let seen = server.join().unwrap();
        assert_eq!(
            seen,
            [
                "LOGIN \"admin\" \"adminpw\"",
                "CREATE \"user/alice\"",
                "LIST \"\" \"user/alice\"",
                "CREATE \"user/bob\"",
                "LOGOUT"
            ]
        );
    }

    #[test]
    fn refused_create_of_a_missing_mailbox_is_an_error() {
        let (port, server) = fake_server(&[
            ("LOGIN", "OK logged in"),
            ("CREATE", "NO Permission denied"),
            ("LIST", "OK done"),
            ("LOGOUT", "OK bye"),
        ]);
        let error = create_mailboxes(port, ("admin", "adminpw"), &["user/carol"]).unwrap_err();
        assert!(error.to_string().contains("Permission denied"), "{error}");
        drop(server);
    }

    #[test]
    fn quoting_escapes_and_refuses_line_breaks() {
        assert_eq!(quoted(r#"a"b\c"#).unwrap(), r#""a\"b\\c""#);
        assert!(quoted("a\r\nb").is_err());
    }
}
