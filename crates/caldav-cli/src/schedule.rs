//! Scheduling commands (RFC 6638): `invite`, `inbox`, `reply`, `freebusy`. The server does
//! the sending (`calendar-auto-schedule`); these commands write the objects that make it send
//! and read what it delivered.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use caldav_client_core::Machine;
use caldav_client_core::bootstrap::Account;
use caldav_client_core::schedule::{
    FreeBusyConfig, FreeBusyMachine, FreeBusyOutcome, FreeBusyRequest, InboxConfig, InboxItem,
    InboxMachine, ReplyConfig, ReplyMachine, ReplyOutcome, ScheduleWrite, ScheduleWriteConfig,
    ScheduleWriteMachine, ScheduleWriteOutcome, Scheduling,
};
use caldav_client_core::write::{WriteOutcome, WriteRequest};
use caldav_model::freebusy::BusyPeriod;
use caldav_model::itip::{
    ForceSend, Method as ItipMethod, PartStat, ScheduleAgent, set_schedule_force_send,
};
use caldav_tokio::Core;
use clap::ValueEnum;
use ical_parse::{Calendar, Component, Parameter, Property};

use crate::account::Global;
use crate::remote::{EXIT_CONFLICT, EXIT_NETWORK, Exit, Session, core_error, find_calendar};

/// Exit code: the server does not support what was asked (scheduling).
pub(crate) const EXIT_UNSUPPORTED: u8 = 6;

/// `caldav reply` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Answer {
    /// PARTSTAT=ACCEPTED.
    Accept,
    /// PARTSTAT=DECLINED.
    Decline,
    /// PARTSTAT=TENTATIVE.
    Tentative,
}

impl Answer {
    fn partstat(self) -> PartStat {
        match self {
            Answer::Accept => PartStat::Accepted,
            Answer::Decline => PartStat::Declined,
            Answer::Tentative => PartStat::Tentative,
        }
    }
}

/// What `caldav invite` sends.
pub(crate) struct InviteArgs {
    pub(crate) calendar: String,
    pub(crate) summary: Option<String>,
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
    pub(crate) uid: Option<String>,
    pub(crate) file: Option<PathBuf>,
    pub(crate) force_send: bool,
    pub(crate) attendees: Vec<String>,
}

async fn run<M: Machine>(session: &Session, what: &str, machine: M) -> Result<M::Outcome> {
    let mut machine = Core(machine);
    session
        .driver
        .run(&mut machine)
        .await
        .map_err(|e| {
            anyhow::Error::new(Exit {
                code: EXIT_NETWORK,
                message: format!("{what}: {e}"),
            })
        })?
        .map_err(|e| core_error(what, e))
}

/// Bootstrap, then scheduling support or a clear "not supported" (exit 6).
async fn scheduling(session: &Session) -> Result<(Account, Scheduling)> {
    let account = session.account().await?;
    match Scheduling::from_account(&account) {
        Ok(scheduling) => Ok((account, scheduling)),
        Err(why) => Err(anyhow::Error::new(Exit {
            code: EXIT_UNSUPPORTED,
            message: format!("scheduling is not supported by this server: {why}"),
        })),
    }
}

/// An address as typed: `bob@example.com` becomes `mailto:bob@example.com`.
fn address(typed: &str) -> String {
    let typed = typed.trim();
    if typed.contains(':') {
        typed.to_owned()
    } else {
        format!("mailto:{typed}")
    }
}

/// A time as typed: RFC 3339 (`2026-12-10T10:00:00Z`), iCalendar UTC (`20261210T100000Z`),
/// or a civil time taken as UTC (`2026-12-10T10:00`).
fn time(typed: &str) -> Result<jiff::Timestamp> {
    if let Ok(t) = typed.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    if let Some(t) = caldav_model::filter::parse_utc(typed) {
        return Ok(t);
    }
    let civil: jiff::civil::DateTime = typed
        .parse()
        .with_context(|| format!("{typed:?} is not a time (2026-12-10T10:00:00Z)"))?;
    Ok(jiff::tz::TimeZone::UTC.to_timestamp(civil)?)
}

fn utc(t: jiff::Timestamp) -> String {
    caldav_model::filter::format_utc(t)
}

/// `t` for people (RFC 3339, UTC).
fn local(t: jiff::Timestamp) -> String {
    t.to_string()
}

/// A new event with us as ORGANIZER and the attendees invited.
fn event(args: &InviteArgs, organizer: &str, now: jiff::Timestamp) -> Result<String> {
    let (Some(summary), Some(start), Some(end)) = (&args.summary, &args.start, &args.end) else {
        bail!("give --summary, --start and --end (or --file)");
    };
    let (start, end) = (time(start)?, time(end)?);
    if end <= start {
        bail!("--end must be after --start");
    }
    let uid = args
        .uid
        .clone()
        .unwrap_or_else(|| format!("{}-{}@caldav-cli", now.as_nanosecond(), std::process::id()));
    let mut vevent = Component::new("VEVENT")
        .with_property(Property::new("UID", uid))
        .with_property(Property::new("DTSTAMP", utc(now)))
        .with_property(Property::new("DTSTART", utc(start)))
        .with_property(Property::new("DTEND", utc(end)))
        .with_property(Property::text_value("SUMMARY", summary))
        .with_property(Property::new("ORGANIZER", organizer.to_owned()))
        .with_property(
            Property::new("ATTENDEE", organizer.to_owned())
                .with_param(Parameter::new("ROLE", "CHAIR"))
                .with_param(Parameter::new("PARTSTAT", "ACCEPTED")),
        );
    for attendee in &args.attendees {
        vevent = vevent.with_property(
            Property::new("ATTENDEE", address(attendee))
                .with_param(Parameter::new("ROLE", "REQ-PARTICIPANT"))
                .with_param(Parameter::new("PARTSTAT", "NEEDS-ACTION"))
                .with_param(Parameter::new("RSVP", "TRUE")),
        );
    }
    let vcal = Component::new("VCALENDAR")
        .with_property(Property::new("VERSION", "2.0"))
        .with_property(Property::new(
            "PRODID",
            concat!("-//caldav-cli//", env!("CARGO_PKG_VERSION"), "//EN"),
        ))
        .with_component(vevent);
    let mut calendar = Calendar::new();
    calendar.components.push(vcal);
    if args.force_send {
        for attendee in &args.attendees {
            set_schedule_force_send(&mut calendar, &address(attendee), ForceSend::Request);
        }
    }
    Ok(calendar.write())
}

/// What a SCHEDULE-STATUS code says (RFC 6638 §3.2.9, RFC 5546 §3.6).
fn status_meaning(code: &str) -> &'static str {
    match code {
        "1.0" => "pending",
        "1.1" => "sent",
        "1.2" => "delivered",
        "2.0" => "success",
        "3.7" => "invalid calendar user",
        "3.8" => "no scheduling privilege",
        "5.1" => "could not deliver",
        "5.2" => "invalid delivery method",
        "5.3" => "refused by the recipient",
        _ if code.starts_with('5') => "failed",
        _ => "",
    }
}

/// `caldav invite`.
pub(crate) async fn invite(global: &Global, args: &InviteArgs) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let result = async {
        let (account, scheduling) = scheduling(&session).await?;
        let data = match &args.file {
            Some(file) => std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?,
            None => event(args, scheduling.organizer(), jiff::Timestamp::now())?,
        };
        let calendars = session.calendars(&account).await?;
        let target = find_calendar(&calendars, &args.calendar)?;
        let write = ScheduleWrite::Create {
            collection: target.href.clone(),
            data,
        };
        let config = ScheduleWriteConfig::new(session.base.clone(), write);
        let outcome = run(&session, "invite", ScheduleWriteMachine::new(config)).await?;
        let object = match outcome {
            ScheduleWriteOutcome::Written { object, .. } => object,
            ScheduleWriteOutcome::Conflict { href, .. } => {
                return Err(anyhow::Error::new(Exit {
                    code: EXIT_CONFLICT,
                    message: format!("{}: an object with this UID exists", href.as_str()),
                }));
            }
            other => bail!("unexpected outcome: {other:?}"),
        };
        say!("{}", object.href.as_str())?;
        if let Some(tag) = &object.schedule_tag {
            eprintln!("schedule-tag: {tag}");
        }
        for attendee in object.attendees() {
            if scheduling.is_ours(&attendee.address) {
                continue;
            }
            let status = attendee.schedule_status.join(",");
            let meaning = attendee
                .schedule_status
                .first()
                .map_or("", |c| status_meaning(c));
            let note = if attendee.schedule_agent == ScheduleAgent::Server {
                ""
            } else {
                " (SCHEDULE-AGENT is not SERVER: the server does not notify this attendee)"
            };
            say!("{}\t{status}\t{meaning}{note}", attendee.address)?;
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    session.finish()?;
    result
}

async fn list_inbox(session: &Session, scheduling: &Scheduling) -> Result<Vec<InboxItem>> {
    let config = InboxConfig::new(session.base.clone(), scheduling.inbox.clone());
    run(session, "inbox", InboxMachine::new(config)).await
}

/// `caldav inbox [--json] [--delete ITEM]...`.
pub(crate) async fn inbox(global: &Global, json: bool, delete: &[String]) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let result = async {
        let (_, scheduling) = scheduling(&session).await?;
        let items = list_inbox(&session, &scheduling).await?;
        if !delete.is_empty() {
            for wanted in delete {
                let item = find_item(&items, &scheduling, wanted)?;
                delete_item(&session, item).await?;
                say!("deleted {}", item.href.as_str())?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        for item in &items {
            let seen = item.invitation(&scheduling.addresses).ok();
            let seen = seen.as_ref();
            let field = |f: Option<&String>| f.cloned().unwrap_or_default();
            let method = seen
                .and_then(|s| s.method.as_ref())
                .map_or(String::new(), ToString::to_string);
            let is_reply = seen.and_then(|s| s.method.as_ref()) == Some(&ItipMethod::Reply);
            let partstat = if is_reply {
                // A REPLY carries the answering attendee's line: show who said what.
                replies(&item.data)
            } else {
                seen.and_then(|s| s.partstat.as_ref())
                    .map_or(String::new(), ToString::to_string)
            };
            let start = seen
                .and_then(|s| s.start.as_deref())
                .map(|s| caldav_model::filter::parse_utc(s).map_or_else(|| s.to_owned(), local))
                .unwrap_or_default();
            if json {
                let line = serde_json::json!({
                    "item": item.href.as_str(),
                    "method": method,
                    "uid": seen.and_then(|s| s.uid.clone()),
                    "organizer": seen.and_then(|s| s.organizer.clone()),
                    "summary": seen.and_then(|s| s.summary.clone()),
                    "start": seen.and_then(|s| s.start.clone()),
                    "partstat": partstat,
                });
                say!("{line}")?;
            } else {
                say!(
                    "{}\t{method}\t{}\t{}\t{start}\t{partstat}",
                    item.href.as_str(),
                    field(seen.and_then(|s| s.organizer.as_ref())),
                    field(seen.and_then(|s| s.summary.as_ref())),
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    session.finish()?;
    result
}

/// `address=PARTSTAT` of each attendee of a REPLY message.
fn replies(data: &str) -> String {
    let Ok(parsed) = ical_parse::parse_with(data, &ical_parse::ParseOptions::lenient()) else {
        return String::new();
    };
    caldav_model::itip::attendees(&parsed.calendar)
        .iter()
        .map(|a| format!("{}={}", a.address, a.partstat))
        .collect::<Vec<_>>()
        .join(",")
}

/// The inbox item `wanted` names: its href, the last segment of it, or the UID it carries.
fn find_item<'a>(
    items: &'a [InboxItem],
    scheduling: &Scheduling,
    wanted: &str,
) -> Result<&'a InboxItem> {
    let by_href = items.iter().find(|i| {
        i.href.as_str() == wanted || crate::remote::last_segment(i.href.as_str()) == wanted
    });
    if let Some(item) = by_href {
        return Ok(item);
    }
    items
        .iter()
        .find(|i| {
            i.invitation(&scheduling.addresses)
                .is_ok_and(|s| s.uid.as_deref() == Some(wanted))
        })
        .ok_or_else(|| anyhow!("no inbox item {wanted:?} (see `caldav inbox`)"))
}

async fn delete_item(session: &Session, item: &InboxItem) -> Result<()> {
    let Some(etag) = item.etag.clone() else {
        bail!("{}: the server gave no etag", item.href.as_str());
    };
    match session
        .write(WriteRequest::Delete {
            href: item.href.clone(),
            etag,
        })
        .await?
    {
        WriteOutcome::Deleted { .. } => Ok(()),
        other => bail!("deleting {}: {other:?}", item.href.as_str()),
    }
}

/// `caldav reply accept|decline|tentative ITEM`.
pub(crate) async fn reply(global: &Global, answer: Answer, wanted: &str) -> Result<ExitCode> {
    let session = Session::open(global).await?;
    let result = async {
        let (account, scheduling) = scheduling(&session).await?;
        let items = list_inbox(&session, &scheduling).await?;
        let item = find_item(&items, &scheduling, wanted)?;
        let seen = item
            .invitation(&scheduling.addresses)
            .map_err(|e| anyhow!("{}: {e}", item.href.as_str()))?;
        let uid = seen
            .uid
            .clone()
            .context("the inbox item has no UID to answer")?;
        let component = seen.component.clone().unwrap_or_else(|| "VEVENT".into());
        let calendars: Vec<_> = session
            .calendars(&account)
            .await?
            .into_iter()
            .filter(|c| {
                c.components
                    .as_ref()
                    .is_none_or(|k| k.iter().any(|k| k.eq_ignore_ascii_case(&component)))
            })
            .map(|c| c.href)
            .collect();
        let mut config = ReplyConfig::new(
            session.base.clone(),
            calendars,
            uid.clone(),
            scheduling.addresses.clone(),
            answer.partstat(),
        )
        .with_invitation(item.data.clone());
        config.component = component;
        match run(&session, "reply", ReplyMachine::new(config)).await? {
            ReplyOutcome::Replied { href, .. } => {
                say!("{} {}", answer.partstat(), href.as_str())?;
            }
            ReplyOutcome::Conflict { href } => {
                return Err(anyhow::Error::new(Exit {
                    code: EXIT_CONFLICT,
                    message: format!("{}: changed twice while answering", href.as_str()),
                }));
            }
            other => bail!("unexpected outcome: {other:?}"),
        }
        // Every message about this UID is now processed (RFC 6638 §4.2: the client removes them).
        for other in items.iter().filter(|i| {
            i.invitation(&scheduling.addresses)
                .is_ok_and(|s| s.uid.as_deref() == Some(uid.as_str()))
        }) {
            delete_item(&session, other).await?;
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    session.finish()?;
    result
}

fn print_periods(periods: &[BusyPeriod]) -> Result<()> {
    for period in periods {
        say!(
            "  {}\t{}\t{}",
            utc(period.start),
            utc(period.end),
            period.fb_type.as_str()
        )?;
    }
    Ok(())
}

/// `caldav freebusy ADDRESS... --from T --to T` (outbox POST), or `--calendar NAME`
/// (free-busy-query of one of our calendars).
pub(crate) async fn freebusy(
    global: &Global,
    addresses: &[String],
    from: &str,
    to: &str,
    calendar: Option<&str>,
) -> Result<ExitCode> {
    let (start, end) = (time(from)?, time(to)?);
    let session = Session::open(global).await?;
    let result = async {
        if let Some(name) = calendar {
            let account = session.account().await?;
            let calendars = session.calendars(&account).await?;
            let target = find_calendar(&calendars, name)?;
            let config = FreeBusyConfig::new(
                session.base.clone(),
                FreeBusyRequest::Query {
                    calendar: target.href.clone(),
                },
                start,
                end,
            );
            if let FreeBusyOutcome::Calendar(periods) =
                run(&session, "free-busy-query", FreeBusyMachine::new(config)).await?
            {
                say!("{}", target.href.as_str())?;
                print_periods(&periods)?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        if addresses.is_empty() {
            bail!("give one or more addresses, or --calendar NAME");
        }
        let (_, scheduling) = scheduling(&session).await?;
        let now = jiff::Timestamp::now();
        let request = FreeBusyRequest::Outbox {
            outbox: scheduling.outbox.clone(),
            organizer: scheduling.organizer().to_owned(),
            attendees: addresses.iter().map(|a| address(a)).collect(),
            uid: format!("{}-{}@caldav-cli", now.as_nanosecond(), std::process::id()),
            dtstamp: now,
        };
        let config = FreeBusyConfig::new(session.base.clone(), request, start, end);
        let mut failed = false;
        if let FreeBusyOutcome::Recipients(recipients) =
            run(&session, "free-busy", FreeBusyMachine::new(config)).await?
        {
            for recipient in recipients {
                say!("{}\t{}", recipient.recipient, recipient.request_status)?;
                failed |= !recipient.is_success();
                print_periods(&recipient.periods)?;
            }
        }
        Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    }
    .await;
    session.finish()?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_shows_who_answered_what() {
        let data = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:u\r\n\
                    ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.test\r\n\
                    END:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(replies(data), "mailto:bob@example.test=ACCEPTED");
    }

    #[test]
    fn addresses_and_times_as_typed() {
        assert_eq!(address("bob@example.test"), "mailto:bob@example.test");
        assert_eq!(address("mailto:bob@x"), "mailto:bob@x");
        let t = time("2026-12-10T10:00:00Z").unwrap();
        assert_eq!(time("20261210T100000Z").unwrap(), t);
        assert!(time("tomorrow").is_err());
    }

    #[test]
    fn invite_event_has_organizer_attendees_and_force_send() {
        let args = InviteArgs {
            calendar: "Default".into(),
            summary: Some("Plan, review; ship".into()),
            start: Some("2026-12-10T10:00:00Z".into()),
            end: Some("2026-12-10T11:00:00Z".into()),
            uid: Some("u-1".into()),
            file: None,
            force_send: true,
            attendees: vec!["bob@example.test".into()],
        };
        let now = "2026-11-24T12:00:00Z".parse().unwrap();
        let text = event(&args, "mailto:alice@example.test", now).unwrap();
        let calendar = ical_parse::parse_strict(&text).unwrap();
        let list = caldav_model::itip::attendees(&calendar);
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].address, "mailto:bob@example.test");
        assert!(list[1].rsvp);
        assert!(text.contains("SUMMARY:Plan\\, review\\; ship\r\n"));
        assert!(
            text.replace("\r\n ", "")
                .contains("SCHEDULE-FORCE-SEND=REQUEST")
        );
        let message = caldav_model::itip::ItipMessage::with_method(
            calendar,
            caldav_model::itip::Method::Request,
        );
        assert!(message.is_ok(), "a valid iTIP REQUEST: {message:?}");
        let backwards = InviteArgs {
            end: Some("2026-12-10T09:00:00Z".into()),
            ..args
        };
        assert!(event(&backwards, "mailto:a@x", now).is_err());
    }
}
