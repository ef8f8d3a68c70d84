//! Scheduling commands (`invite`, `inbox`, `reply`, `freebusy`) against the real servers: two
//! users on Cyrus, and "not supported" (exit 6) where a server cannot schedule.

use std::process::{Command, Output};

use caldav_model::filter::{TimeRange, format_utc};
use caldav_model::freebusy::FreeBusyBuilder;
use caldav_model::query::EvalOptions;

use crate::env::var;

/// `caldav` as `user` of Cyrus (`CALDAV_TEST_CYRUS_USER` or `..._USER2`).
fn cyrus(second: bool, args: &[&str]) -> Output {
    let suffix = if second { "2" } else { "" };
    let user = var(&format!("CALDAV_TEST_CYRUS_USER{suffix}"));
    let password = var(&format!("CALDAV_TEST_CYRUS_PASSWORD{suffix}"));
    let url = format!("{}dav/", var("CALDAV_TEST_CYRUS_URL"));
    Command::new(env!("CARGO_BIN_EXE_caldav"))
        .args(["--url", &url, "--user", &user])
        .args(args)
        .env_remove("CALDAV_CONFIG")
        .env("CALDAV_PASSWORD", password)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("sched-{}-{nanos:x}", std::process::id())
}

/// Deletes every inbox item of `uid` for one user.
fn clear_inbox(second: bool, uid: &str) {
    let listing = ok(&cyrus(second, &["inbox", "--json"]));
    for line in listing.lines() {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        if item["uid"] == uid {
            ok(&cyrus(
                second,
                &["inbox", "--delete", item["item"].as_str().unwrap()],
            ));
        }
    }
}

/// The unfolded ATTENDEE line of `address` in `data`.
fn attendee_line(data: &str, address: &str) -> String {
    let unfolded = data.replace("\r\n ", "").replace("\n ", "");
    unfolded
        .lines()
        .find(|l| l.starts_with("ATTENDEE") && l.ends_with(address))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn cyrus_alice_invites_bob_who_accepts_and_free_busy_agrees() {
    let uid = unique();
    // A day of its own, so that nobody else's events on the shared server count.
    let day = 1 + (std::process::id() % 27);
    let (start, end) = (
        format!("2027-03-{day:02}T10:00:00Z"),
        format!("2027-03-{day:02}T11:00:00Z"),
    );
    let (from, to) = (
        format!("2027-03-{day:02}T00:00:00Z"),
        format!("2027-03-{:02}T00:00:00Z", day + 1),
    );
    let bob = "mailto:bob@example.test";

    let invited = ok(&cyrus(
        false,
        &[
            "invite",
            "--calendar",
            "Default",
            "--summary",
            &uid,
            "--start",
            &start,
            "--end",
            &end,
            "--uid",
            &uid,
            "bob@example.test",
        ],
    ));
    let href = invited.lines().next().unwrap().to_owned();
    assert!(href.ends_with(".ics"), "{invited}");
    assert!(
        invited.contains(&format!("{bob}\t1.2\tdelivered")),
        "{invited}"
    );

    let result = std::panic::catch_unwind(|| {
        // Bob sees the invitation, accepts, and it leaves his inbox.
        let inbox = ok(&cyrus(true, &["inbox"]));
        let line = inbox
            .lines()
            .find(|l| l.contains(&uid))
            .expect("invitation");
        assert!(
            line.contains("\tREQUEST\tmailto:alice@example.test\t"),
            "{line}"
        );
        assert!(line.ends_with("NEEDS-ACTION"), "{line}");
        let replied = ok(&cyrus(true, &["reply", "accept", &uid]));
        assert!(
            replied.starts_with("ACCEPTED /dav/calendars/user/bob/"),
            "{replied}"
        );
        assert!(!ok(&cyrus(true, &["inbox"])).contains(&uid));

        // Alice's inbox has bob's REPLY, and her copy says so. One full run of the suite
        // right after Cyrus started found no REPLY at the first look (not seen again in a
        // dozen runs): look a few times before failing, and say what the inbox held.
        let mut inbox = String::new();
        for _ in 0..10 {
            inbox = ok(&cyrus(false, &["inbox"]));
            if inbox.contains(&uid) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        let line = inbox
            .lines()
            .find(|l| l.contains(&uid))
            .unwrap_or_else(|| panic!("no REPLY for {uid} in alice's inbox:\n{inbox}"));
        assert!(line.contains("\tREPLY\t"), "{line}");
        assert!(line.ends_with(&format!("\t{bob}=ACCEPTED")), "{line}");
        let data = ok(&cyrus(false, &["get", &href]));
        assert!(
            attendee_line(&data, bob).contains("PARTSTAT=ACCEPTED"),
            "{data}"
        );

        // Free-busy of both by outbox POST, and of alice's calendar by free-busy-query: the
        // event's hour, the same from every source.
        let busy = format!(
            "  {}\t{}\tBUSY",
            start.replace(['-', ':'], ""),
            end.replace(['-', ':'], "")
        );
        let answer = ok(&cyrus(
            false,
            &[
                "freebusy",
                "bob@example.test",
                "alice@example.test",
                "--from",
                &from,
                "--to",
                &to,
            ],
        ));
        assert_eq!(
            answer,
            format!("{bob}\t2.0;Success\n{busy}\nmailto:alice@example.test\t2.0;Success\n{busy}\n")
        );
        let query = ok(&cyrus(
            false,
            &[
                "freebusy",
                "--calendar",
                "Default",
                "--from",
                &from,
                "--to",
                &to,
            ],
        ));
        assert!(query.ends_with(&format!("{busy}\n")), "{query}");

        // And the local computation (caldav-model) from alice's stored event agrees.
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let range = TimeRange::new(Some(t(&from)), Some(t(&to))).unwrap();
        let parsed = ical_parse::parse_with(&data, &ical_parse::ParseOptions::lenient()).unwrap();
        let mut local = FreeBusyBuilder::new(range);
        local.add_calendar(&parsed.calendar, &EvalOptions::default());
        let local: Vec<String> = local
            .periods()
            .iter()
            .map(|p| {
                format!(
                    "  {}\t{}\t{}",
                    format_utc(p.start),
                    format_utc(p.end),
                    p.fb_type.as_str()
                )
            })
            .collect();
        assert_eq!(local, [busy]);
    });

    // Clean up whatever happened: both copies and every inbox message of this UID.
    let bob_copy = format!("/dav/calendars/user/bob/Default/{uid}.ics");
    let _ = cyrus(false, &["rm", &href]);
    let _ = cyrus(true, &["rm", &bob_copy]);
    clear_inbox(true, &uid);
    clear_inbox(false, &uid);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    assert!(!ok(&cyrus(true, &["inbox"])).contains(&uid));
    assert!(!ok(&cyrus(false, &["inbox"])).contains(&uid));
}

/// A VTODO invitation from a file: bob finds his copy among to-dos and answers it.
#[test]
fn cyrus_a_todo_invitation_from_a_file_is_answered() {
    let uid = unique();
    let file = std::env::temp_dir().join(format!("{uid}.ics"));
    std::fs::write(
        &file,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-cli tests//EN\r\n\
             BEGIN:VTODO\r\nUID:{uid}\r\nDTSTAMP:20261124T120000Z\r\nDUE:20270701T100000Z\r\n\
             SUMMARY:{uid}\r\nORGANIZER:mailto:alice@example.test\r\n\
             ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.test\r\n\
             ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.test\r\n\
             END:VTODO\r\nEND:VCALENDAR\r\n"
        ),
    )
    .unwrap();
    let invited = ok(&cyrus(
        false,
        &[
            "invite",
            "--calendar",
            "Default",
            "--file",
            file.to_str().unwrap(),
        ],
    ));
    std::fs::remove_file(&file).unwrap();
    let href = invited.lines().next().unwrap().to_owned();
    let result = std::panic::catch_unwind(|| {
        assert!(
            invited.contains("mailto:bob@example.test\t1.2\t"),
            "{invited}"
        );
        let replied = ok(&cyrus(true, &["reply", "decline", &uid]));
        assert!(replied.starts_with("DECLINED "), "{replied}");
        let data = ok(&cyrus(false, &["get", &href]));
        let line = attendee_line(&data, "mailto:bob@example.test");
        assert!(line.contains("PARTSTAT=DECLINED"), "{data}");
    });
    let _ = cyrus(false, &["rm", &href]);
    let _ = cyrus(
        true,
        &["rm", &format!("/dav/calendars/user/bob/Default/{uid}.ics")],
    );
    clear_inbox(true, &uid);
    clear_inbox(false, &uid);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn cyrus_unknown_attendee_gets_a_failed_free_busy_status() {
    let out = cyrus(
        false,
        &[
            "freebusy",
            "nobody-sched@example.test",
            "--from",
            "2027-04-01T00:00:00Z",
            "--to",
            "2027-04-02T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("mailto:nobody-sched@example.test\t5."),
        "{stdout}"
    );
}

/// Radicale and SabreDAV 1.8 do not advertise calendar-auto-schedule; Xandikos does and has
/// both boxes, but its principal has no calendar-user-address-set, so nobody can be addressed.
#[test]
fn servers_without_scheduling_say_so_with_exit_6() {
    for (name, context, why) in [
        ("RADICALE", "", "does not advertise calendar-auto-schedule"),
        ("SABREDAV", "", "does not advertise calendar-auto-schedule"),
        ("XANDIKOS", "user/", "no calendar-user-address-set"),
    ] {
        let url = format!("{}{context}", var(&format!("CALDAV_TEST_{name}_URL")));
        let run = |args: &[&str]| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_caldav"));
            command.args(["--url", &url]).env_remove("CALDAV_CONFIG");
            if var(&format!("CALDAV_TEST_{name}_AUTH")) != "none" {
                command
                    .args(["--user", &var(&format!("CALDAV_TEST_{name}_USER"))])
                    .env(
                        "CALDAV_PASSWORD",
                        var(&format!("CALDAV_TEST_{name}_PASSWORD")),
                    );
            }
            command.args(args).output().unwrap()
        };
        let period = [
            "--from",
            "2027-01-01T00:00:00Z",
            "--to",
            "2027-01-02T00:00:00Z",
        ];
        for args in [
            vec!["inbox"],
            vec!["reply", "accept", "some-uid"],
            [vec!["freebusy", "bob@example.test"], period.to_vec()].concat(),
            [
                vec!["invite", "--calendar", "x", "--summary", "s", "--start"],
                vec![period[1], "--end", period[3], "bob@example.test"],
            ]
            .concat(),
        ] {
            let out = run(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(6), "{name} {args:?}: {stderr}");
            assert!(
                stderr.contains("not supported by this server"),
                "{name}: {stderr}"
            );
            assert!(stderr.contains(why), "{name}: {stderr}");
        }
    }
}

/// Runs a client-core machine against a real server through the tokio driver, as `user`.
fn drive<M>(url: &str, user: Option<(String, String)>, machine: M) -> M::Outcome
where
    M: caldav_client_core::Machine,
{
    use caldav_tokio::{Core, Credentials, Driver, HttpClient, HttpConfig, Origin};
    let url: http::Uri = url.parse().unwrap();
    let mut config = HttpConfig::default();
    if let Some((user, password)) = user {
        config = config.with_credentials(Credentials::password(user, password));
        config.allow_plain_http_credentials = true;
        config.credential_origins = Origin::of(&url).into_iter().collect();
    }
    let driver = Driver::new(HttpClient::new(config).unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut machine = Core(machine);
    runtime.block_on(driver.run(&mut machine)).unwrap().unwrap()
}

fn event(uid: &str, organizer: &str, day: u32) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-cli tests//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20261124T120000Z\r\nDTSTART:202705{day:02}T100000Z\r\n\
         DTEND:202705{day:02}T110000Z\r\nSUMMARY:{uid}\r\nORGANIZER:{organizer}\r\n\
         ATTENDEE;PARTSTAT=ACCEPTED:{organizer}\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.test\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// QUIRKS #19, organizer side: Cyrus changes the organizer's Schedule-Tag when it applies an
/// attendee's REPLY (RFC 6638 §3.2.10 means the tag to survive such server-side PARTSTAT
/// updates), so an organizer update conditional on the tag it got at creation is refused.
/// The machine reports that as a conflict carrying the server's version, whose tag then works.
#[test]
fn cyrus_organizer_update_after_a_reply_meets_a_new_schedule_tag() {
    use caldav_client_core::schedule::{
        ReplyConfig, ReplyMachine, ReplyOutcome, ScheduleWrite, ScheduleWriteConfig,
        ScheduleWriteMachine, ScheduleWriteOutcome,
    };
    use caldav_model::itip::PartStat;

    let url = var("CALDAV_TEST_CYRUS_URL");
    let alice = Some((
        var("CALDAV_TEST_CYRUS_USER"),
        var("CALDAV_TEST_CYRUS_PASSWORD"),
    ));
    let bob = Some((
        var("CALDAV_TEST_CYRUS_USER2"),
        var("CALDAV_TEST_CYRUS_PASSWORD2"),
    ));
    let base: http::Uri = url.parse().unwrap();
    let uid = unique();
    let day = 1 + (std::process::id() % 27);
    let data = event(&uid, "mailto:alice@example.test", day);
    let created = drive(
        &url,
        alice.clone(),
        ScheduleWriteMachine::new(ScheduleWriteConfig::new(
            base.clone(),
            ScheduleWrite::Create {
                collection: "/dav/calendars/user/alice/Default/".into(),
                data: data.clone(),
            },
        )),
    );
    let ScheduleWriteOutcome::Written { object, .. } = created else {
        panic!("not written: {created:?}")
    };
    let result = std::panic::catch_unwind(|| {
        let first_tag = object
            .schedule_tag
            .clone()
            .expect("Cyrus sends Schedule-Tag");
        let replied = drive(
            &url,
            bob.clone(),
            ReplyMachine::new(ReplyConfig::new(
                base.clone(),
                vec!["/dav/calendars/user/bob/Default/".into()],
                uid.clone(),
                vec!["mailto:bob@example.test".into()],
                PartStat::Accepted,
            )),
        );
        assert!(
            matches!(replied, ReplyOutcome::Replied { created: false, .. }),
            "{replied:?}"
        );
        let moved = data.replace(&format!("SUMMARY:{uid}"), &format!("SUMMARY:{uid} moved"));
        let update = |tag: String| {
            drive(
                &url,
                alice.clone(),
                ScheduleWriteMachine::new(ScheduleWriteConfig::new(
                    base.clone(),
                    ScheduleWrite::Update {
                        href: object.href.clone(),
                        schedule_tag: Some(tag),
                        etag: None,
                        data: moved.clone(),
                    },
                )),
            )
        };
        let ScheduleWriteOutcome::Conflict { server, .. } = update(first_tag.clone()) else {
            panic!("Cyrus kept the organizer's Schedule-Tag across the REPLY: QUIRKS #19 changed")
        };
        let server = server.expect("the server's version");
        let current = server.schedule_tag.clone().unwrap();
        assert_ne!(current, first_tag);
        let bob_line = attendee_line(&server.data, "mailto:bob@example.test");
        assert!(bob_line.contains("PARTSTAT=ACCEPTED"), "{}", server.data);
        let ScheduleWriteOutcome::Written { object: after, .. } = update(current) else {
            panic!("the current tag was refused")
        };
        assert!(after.data.contains(" moved"));
    });
    let _ = cyrus(false, &["rm", object.href.as_str()]);
    let _ = cyrus(
        true,
        &["rm", &format!("/dav/calendars/user/bob/Default/{uid}.ics")],
    );
    clear_inbox(true, &uid);
    clear_inbox(false, &uid);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// What Xandikos does with scheduling, bypassing the address check: a PUT with attendees is
/// stored with a Schedule-Tag but no SCHEDULE-STATUS and nothing is delivered; the outbox
/// answers every recipient with `3.8;No authority`.
#[test]
fn xandikos_advertises_scheduling_but_schedules_nothing() {
    use caldav_client_core::schedule::{
        FreeBusyConfig, FreeBusyMachine, FreeBusyOutcome, FreeBusyRequest, InboxConfig,
        InboxMachine, ScheduleWrite, ScheduleWriteConfig, ScheduleWriteMachine,
        ScheduleWriteOutcome,
    };

    let url = var("CALDAV_TEST_XANDIKOS_URL");
    let base: http::Uri = url.parse().unwrap();
    let uid = unique();
    let written = drive(
        &url,
        None,
        ScheduleWriteMachine::new(ScheduleWriteConfig::new(
            base.clone(),
            ScheduleWrite::Create {
                collection: "/user/calendars/calendar/".into(),
                data: event(&uid, "mailto:user@example.test", 5),
            },
        )),
    );
    let ScheduleWriteOutcome::Written { object, .. } = written else {
        panic!("not written: {written:?}")
    };
    let delete = ScheduleWrite::Delete {
        href: object.href.clone(),
        schedule_tag: None,
        etag: object.etag.clone(),
    };
    let result = std::panic::catch_unwind(|| {
        assert!(object.schedule_tag.is_some());
        assert!(
            object
                .attendees()
                .iter()
                .all(|a| a.schedule_status.is_empty())
        );
        let inbox = drive(
            &url,
            None,
            InboxMachine::new(InboxConfig::new(base.clone(), "/user/inbox/".into())),
        );
        assert!(!inbox.iter().any(|i| i.data.contains(&uid)));
        let start = "2027-05-05T00:00:00Z".parse().unwrap();
        let end = "2027-05-06T00:00:00Z".parse().unwrap();
        let answer = drive(
            &url,
            None,
            FreeBusyMachine::new(FreeBusyConfig::new(
                base.clone(),
                FreeBusyRequest::Outbox {
                    outbox: "/user/outbox/".into(),
                    organizer: "mailto:user@example.test".into(),
                    attendees: vec!["mailto:bob@example.test".into()],
                    uid: uid.clone(),
                    dtstamp: start,
                },
                start,
                end,
            )),
        );
        let FreeBusyOutcome::Recipients(recipients) = answer else {
            panic!("not per recipient")
        };
        assert_eq!(recipients.len(), 1);
        assert!(
            recipients[0].request_status.starts_with("3.8"),
            "{recipients:?}"
        );
    });
    let deleted = drive(
        &url,
        None,
        ScheduleWriteMachine::new(ScheduleWriteConfig::new(base, delete)),
    );
    assert!(matches!(deleted, ScheduleWriteOutcome::Deleted { .. }));
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
