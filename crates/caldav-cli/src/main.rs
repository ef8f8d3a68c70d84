//! `caldav`: the command-line front end of the workspace.
//!
//! Each command group lives in its own module: `ics` (iCalendar files), `xml` (WebDAV bodies),
//! `commands` (discover, ls, get, put, rm, mkcalendar), `sync` (two-way sync to a vdir
//! folder, stored by `vdir`), `replay` (the machines driven from a recording); `account`
//! resolves who to talk to, `remote` how.

/// `println!` that reports a closed standard output as an error instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)
    }};
}

mod account;
mod commands;
mod ics;
mod ics_expand;
mod probe;
mod remote;
mod replay;
mod schedule;
mod sync;
mod vdir;
mod xml;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Accounts:
  --account NAME reads [accounts.NAME] of $XDG_CONFIG_HOME/caldav/config.toml (url or address,
  user, password-command, allow-http, dns-server, ca-file); --url URL --user USER needs no file.
  The password comes from CALDAV_PASSWORD, --password-command CMD, or a prompt on a terminal;
  never from argv or a file of ours.

Examples:
  caldav --url https://cal.example.com/dav/ --user alice ls
  caldav --account work ls --count --json
  caldav discover alice@example.com
  caldav --account work mkcalendar Work --color '#FB0055FF' --components VEVENT,VTODO
  caldav --account work put meeting.ics --calendar Work
  caldav --account work sync Work ~/.calendars
  caldav --account work probe --save
  caldav ics expand --from 2026-01-01 --to 2026-02-01 event.ics
  caldav completions bash > ~/.local/share/bash-completion/completions/caldav

Exit codes:
  0  success
  1  failure: input rejected, a server error, an item that could not be synced
  2  usage error
  3  a conflict (both sides changed) was left for you to resolve
  4  the server refused the credentials
  5  the server could not be reached (network, DNS, TLS, timeout)
  6  the server does not support scheduling (invite, inbox, reply, freebusy)";

/// CalDAV from the command line: discover, list and sync calendars; inspect iCalendar and
/// WebDAV XML.
#[derive(Parser)]
#[command(name = "caldav", version, about, propagate_version = true, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    global: account::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find the CalDAV service of an address (RFC 6764), then print the trail, the principal,
    /// the calendar homes and the server's capabilities.
    Discover {
        /// `user@domain`, a domain, or a URL.
        address: String,
    },
    /// List the account's calendars (name, href, components, color; with --count, items).
    Ls {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// Count each calendar's items too: one more request per calendar, which costs a
        /// server what listing the calendar costs (no standard property holds the count).
        #[arg(long)]
        count: bool,
    },
    /// Print a calendar object (its etag goes to standard error).
    Get {
        /// The object's href (path or URL).
        href: String,
    },
    /// Upload an iCalendar file as a new object (If-None-Match: *), named from its UID.
    Put {
        /// The .ics file.
        file: PathBuf,
        /// The calendar (display name or last href segment); needed when there are several.
        #[arg(long)]
        calendar: Option<String>,
        /// Replace an existing object with the same UID (If-Match its current etag).
        #[arg(long)]
        replace: bool,
    },
    /// Delete an object (If-Match its etag: the current one, or --etag).
    Rm {
        /// The object's href.
        href: String,
        /// Delete only if the object still has this etag.
        #[arg(long)]
        etag: Option<String>,
    },
    /// Make a calendar whose display name and last href segment are NAME.
    Mkcalendar {
        /// The calendar's name.
        name: String,
        /// Its color, `#RRGGBB` or `#RRGGBBAA`.
        #[arg(long)]
        color: Option<String>,
        /// The components it holds.
        #[arg(long, value_delimiter = ',', value_name = "VEVENT,VTODO")]
        components: Vec<String>,
    },
    /// Two-way sync of calendars (default: all) with a vdir folder (khal, todoman,
    /// vdirsyncer layout). Resumable; conflicts are never overwritten.
    Sync {
        /// Calendars (display name or last href segment), then the folder.
        #[arg(required = true, num_args = 1..)]
        args: Vec<String>,
        /// What to do when an item changed on both sides.
        #[arg(long, value_enum, default_value_t = sync::OnConflict::Report)]
        on_conflict: sync::OnConflict,
        /// Discover the account's calendars again instead of starting from the folder's
        /// cache (needed to pick up calendars created since, when syncing all).
        #[arg(long)]
        rediscover: bool,
    },
    /// Invite attendees (RFC 6638): create an event with us as ORGANIZER in --calendar; the
    /// server sends the invitations. Prints the object's href, then each attendee's
    /// SCHEDULE-STATUS.
    Invite {
        /// The calendar the event goes to.
        #[arg(long)]
        calendar: String,
        /// The event's title.
        #[arg(long)]
        summary: Option<String>,
        /// Start: `2026-12-10T10:00:00Z`, `20261210T100000Z` or `2026-12-10T10:00` (UTC).
        #[arg(long)]
        start: Option<String>,
        /// End, as --start.
        #[arg(long)]
        end: Option<String>,
        /// The UID (default: made from the time and process id).
        #[arg(long)]
        uid: Option<String>,
        /// An .ics file with ORGANIZER and ATTENDEEs instead of --summary/--start/--end.
        #[arg(long, conflicts_with_all = ["summary", "start", "end"])]
        file: Option<PathBuf>,
        /// Ask the server to send although it would not (SCHEDULE-FORCE-SEND=REQUEST).
        #[arg(long)]
        force_send: bool,
        /// Attendees: `bob@example.com` or `mailto:bob@example.com`.
        attendees: Vec<String>,
    },
    /// List the schedule inbox: item, method, organizer, summary, start, our PARTSTAT.
    Inbox {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Delete these items (href, last segment or UID) instead of listing.
        #[arg(long)]
        delete: Vec<String>,
    },
    /// Answer an invitation (inbox item href, last segment or UID); the server sends the
    /// REPLY, and the inbox items of that event are deleted.
    Reply {
        /// The answer.
        #[arg(value_enum)]
        answer: schedule::Answer,
        /// The inbox item.
        item: String,
    },
    /// Free-busy of ADDRESS... (outbox POST, RFC 6638) or of one of our calendars
    /// (--calendar, free-busy-query, RFC 4791).
    Freebusy {
        /// Addresses asked about.
        addresses: Vec<String>,
        /// Start of the period.
        #[arg(long)]
        from: String,
        /// End of the period.
        #[arg(long)]
        to: String,
        /// Ask one of our calendars instead.
        #[arg(long)]
        calendar: Option<String>,
    },
    /// Find out the server's habits with harmless experiments in a scratch calendar (deleted
    /// at the end); print the quirk profile as TOML and a table of what was seen.
    Probe {
        /// Store the profile for this account; later commands use it.
        #[arg(long)]
        save: bool,
    },
    /// Run a `caldav` command and record its conversation (credentials redacted) in the
    /// seed's telemetry-log format: `caldav trace -o sync.log -- sync Work ~/cal`.
    Trace {
        /// Where the recording goes.
        #[arg(short, long, default_value = "caldav-trace.log")]
        output: PathBuf,
        /// The command, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Drive the machines from a recording (`caldav trace`, or the seed's telemetry log)
    /// without any network, and print what they concluded: discovery's trail, the account,
    /// the calendars, the change sets; then the requests the recording lacks.
    Replay {
        /// The recording.
        file: PathBuf,
        /// Scheme and host the recording was made against (default: `http://` and the Host
        /// field of the first request).
        #[arg(long, value_name = "URL")]
        base: Option<String>,
        /// Where bootstrap starts (default: discovery's result, else the first request).
        #[arg(long, value_name = "URL")]
        context: Option<String>,
    },
    /// Print a shell completion script (e.g. `caldav completions bash > /etc/bash_completion.d/caldav`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Work with iCalendar (.ics) files: lint, format, statistics, jCal, expansion.
    #[command(subcommand)]
    Ics(ics::IcsCommand),
    /// Work with WebDAV XML bodies: decode a multistatus to JSON lines.
    #[command(subcommand)]
    Xml(xml::XmlCommand),
}

fn run_async(
    future: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    // One thread: a command runs one flow at a time, and every thread more costs memory
    // (its stack and its own malloc arena) that a 2,000-item sync under 20 MiB cannot spare.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(future)
}

/// `caldav trace`: the same binary, run again with `--trace FILE`, its exit code passed on.
fn trace(output: &std::path::Path, command: &[String]) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let me = std::env::current_exe().context("finding the caldav binary")?;
    let status = std::process::Command::new(me)
        .arg("--trace")
        .arg(output)
        .args(command)
        .status()
        .context("running the traced command")?;
    let code = status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1);
    eprintln!("caldav: conversation recorded in {}", output.display());
    Ok(ExitCode::from(code))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = &cli.global;
    let result = match cli.command {
        Command::Discover { address } => run_async(commands::discover_command(global, &address)),
        Command::Ls { json, count } => run_async(commands::ls(global, json, count)),
        Command::Get { href } => run_async(commands::get(global, &href)),
        Command::Put {
            file,
            calendar,
            replace,
        } => run_async(commands::put(global, &file, calendar.as_deref(), replace)),
        Command::Rm { href, etag } => run_async(commands::rm(global, &href, etag.as_deref())),
        Command::Mkcalendar {
            name,
            color,
            components,
        } => run_async(commands::mkcalendar(
            global,
            &name,
            color.as_deref(),
            &components,
        )),
        Command::Sync {
            args,
            on_conflict,
            rediscover,
        } => {
            let (dir, names) = match args.split_last() {
                Some((dir, names)) => (PathBuf::from(dir), names.to_vec()),
                None => (PathBuf::from("."), Vec::new()),
            };
            run_async(sync::sync(global, &names, &dir, on_conflict, rediscover))
        }
        Command::Invite {
            calendar,
            summary,
            start,
            end,
            uid,
            file,
            force_send,
            attendees,
        } => run_async(schedule::invite(
            global,
            &schedule::InviteArgs {
                calendar,
                summary,
                start,
                end,
                uid,
                file,
                force_send,
                attendees,
            },
        )),
        Command::Inbox { json, delete } => run_async(schedule::inbox(global, json, &delete)),
        Command::Reply { answer, item } => run_async(schedule::reply(global, answer, &item)),
        Command::Freebusy {
            addresses,
            from,
            to,
            calendar,
        } => run_async(schedule::freebusy(
            global,
            &addresses,
            &from,
            &to,
            calendar.as_deref(),
        )),
        Command::Probe { save } => run_async(probe::probe(global, save)),
        Command::Trace { output, command } => trace(&output, &command),
        Command::Replay {
            file,
            base,
            context,
        } => replay::replay(&file, base.as_deref(), context.as_deref()),
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "caldav", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Ics(command) => ics::run(command),
        Command::Xml(command) => xml::run(command),
    };
    match result {
        Ok(code) => code,
        Err(error)
            if error.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            // The reader went away (`caldav ls | head`): not a failure of ours.
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("caldav: {error:#}");
            let code = error
                .downcast_ref::<remote::Exit>()
                .map_or(1, |exit| exit.code);
            ExitCode::from(code)
        }
    }
}
