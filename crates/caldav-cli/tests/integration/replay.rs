//! `caldav replay`: a run recorded with `caldav trace`, replayed without a network, concludes
//! what the live run printed; the seed's Apple trace replays through bootstrap and listing.

use std::path::Path;
use std::process::{Command, Output};

use crate::servers::{Server, server, temp_dir};

fn caldav(args: &[String], password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_caldav"));
    command.args(args).env_remove("CALDAV_CONFIG");
    if let Some(password) = password {
        command.env("CALDAV_PASSWORD", password);
    }
    command.output().unwrap()
}

/// `caldav trace -o LOG -- ACCOUNT COMMAND...`: the live run's standard output.
fn traced(server: &Server, log: &Path, command: &[&str]) -> String {
    let mut args = vec![
        "trace".to_owned(),
        "-o".to_owned(),
        log.display().to_string(),
        "--".to_owned(),
    ];
    args.extend(server.account_args());
    args.extend(command.iter().map(|a| (*a).to_owned()));
    let out = caldav(&args, server.user.as_ref().map(|(_, p)| p.as_str()));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// `caldav replay FILE`: its exit code and standard output.
fn replayed(file: &Path) -> (Option<i32>, String) {
    // No account, no password, no network: a replay needs none.
    let out = caldav(&["replay".to_owned(), file.display().to_string()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

/// The lines of `section` (after its heading, up to the next unindented line).
fn section<'a>(output: &'a str, heading: &str) -> Vec<&'a str> {
    output
        .lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect()
}

#[test]
fn a_recorded_ls_replays_to_the_same_calendars_radicale() {
    let server = server("radicale", "/");
    let dir = temp_dir("replay-ls");
    let log = dir.join("ls.log");
    let live = traced(&server, &log, &["ls"]);
    assert!(live.starts_with("NAME"), "{live}");

    let (code, replay) = replayed(&log);
    assert_eq!(code, Some(0), "{replay}");
    // The very table `ls` printed, line for line, in order.
    let table: Vec<&str> = replay
        .lines()
        .skip_while(|l| !l.starts_with("NAME"))
        .take(live.lines().count())
        .collect();
    assert_eq!(table, live.lines().collect::<Vec<_>>(), "{replay}");
    assert!(replay.contains("principal: /alice/"), "{replay}");
    // Every request the machines made was in the recording, and every recorded one was used.
    assert!(
        !replay.contains("wanted but not in the recording"),
        "{replay}"
    );
    assert!(!replay.contains("recorded but not replayed"), "{replay}");
}

#[test]
fn a_recorded_discover_replays_to_the_same_account_radicale() {
    let server = server("radicale", "/");
    let dir = temp_dir("replay-discover");
    let log = dir.join("discover.log");
    let url = server.url.clone();
    let live = traced(&server, &log, &["discover", &url]);
    assert!(live.contains("principal:"), "{live}");

    let (code, replay) = replayed(&log);
    assert_eq!(code, Some(0), "{replay}");
    // What bootstrap concluded, line for line.
    let account: Vec<&str> = live
        .lines()
        .skip_while(|l| !l.starts_with("principal:"))
        .collect();
    let replayed_account: Vec<&str> = replay
        .lines()
        .skip_while(|l| !l.starts_with("principal:"))
        .take(account.len())
        .collect();
    assert_eq!(replayed_account, account, "{replay}");
    // And discovery's trail, from the recorded well-known requests.
    assert_eq!(
        section(&replay, "trail:"),
        section(&live, "trail:"),
        "{replay}"
    );
    assert!(
        !replay.contains("wanted but not in the recording"),
        "{replay}"
    );
}

#[test]
fn a_recorded_sync_replays_to_its_change_set_radicale() {
    // Away from the first user's home, which other tests fill and empty meanwhile.
    let server = crate::faults::as_second_user(server("radicale", "/"));
    let name = crate::servers::unique("cli2-replay");
    server.ok(&["mkcalendar", &name]);
    let _cleanup = crate::servers::Cleanup::new(&server, &name);
    let href = crate::servers::calendar_href(&server, &name);
    let source = temp_dir("replay-sync-src");
    for i in 0..3 {
        let uid = format!("{name}-{i}");
        let path = source.join(format!("{uid}.ics"));
        std::fs::write(
            &path,
            format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//caldav-rs//replay test//EN\r\n\
                 BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
                 DTSTART:20260105T100000Z\r\nSUMMARY:replayed {i}\r\nEND:VEVENT\r\n\
                 END:VCALENDAR\r\n"
            ),
        )
        .unwrap();
        server.ok(&["put", path.to_str().unwrap(), "--calendar", &name]);
    }
    let dir = temp_dir("replay-sync");
    let log = dir.join("sync.log");
    let folder = dir.join("cal");
    let live = traced(&server, &log, &["sync", &name, folder.to_str().unwrap()]);
    assert!(live.contains("from server +3 ~0 -0"), "{live}");

    let (code, replay) = replayed(&log);
    assert_eq!(code, Some(0), "{replay}");
    let heading = replay
        .lines()
        .find(|l| l.starts_with(&format!("sync {name} ")))
        .unwrap_or_else(|| panic!("{replay}"));
    assert!(heading.ends_with(": +3 ~0 -0, 0 missing"), "{heading}");
    let added: Vec<&str> = replay.lines().filter(|l| l.starts_with("  + ")).collect();
    assert_eq!(added.len(), 3, "{replay}");
    for line in added {
        assert!(line.starts_with(&format!("  + {href}")), "{line}");
    }
    assert!(
        !replay.contains("wanted but not in the recording"),
        "{replay}"
    );
}

#[test]
fn the_seed_replays_through_bootstrap_and_listing_and_names_what_it_lacks() {
    let seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/seed/000_4100585a271ce1c6.txt");
    let (code, replay) = replayed(&seed);
    // Apple synced with calendar-query and multiget: the sync machine's sync-collection has no
    // recorded answer, and that is a failed machine.
    assert_eq!(code, Some(1), "{replay}");
    assert!(
        replay.contains("against http://192.168.1.203\n"),
        "{replay}"
    );
    assert!(replay.contains("\nprincipal: "), "{replay}");
    // Apple listed ken's calendar home itself; the listing machine reads its answer.
    let table: Vec<&str> = replay
        .lines()
        .skip_while(|l| *l != "calendars:")
        .skip(1)
        .take(4)
        .collect();
    assert!(table[0].starts_with("NAME "), "{replay}");
    assert!(table[3].starts_with("sync "), "two calendars: {replay}");
    let row = |i: usize| table[i].split_whitespace().take(3).collect::<Vec<_>>();
    assert_eq!(
        row(1),
        [
            "Default",
            "/calendars/user/ken/Default/",
            "VEVENT,VTODO,VJOURNAL,VFREEBUSY,VAVAILABILITY"
        ]
    );
    assert_eq!(
        row(2),
        [
            "test",
            "/calendars/user/ken/b77929e-54c-1438801751723-942343/",
            "VEVENT,VTODO,VPOLL"
        ]
    );
    let lacking = section(&replay, "wanted but not in the recording:");
    assert!(
        lacking.contains(&"  OPTIONS /calendars/user/ken/Inbox/"),
        "{lacking:?}"
    );
    assert!(
        lacking.contains(&"  REPORT /calendars/user/ken/Default/ (sync-collection)"),
        "{lacking:?}"
    );
    let unused = section(&replay, "recorded but not replayed:");
    // Apple's PROPPATCHes and calendar-queries are not what our machines do.
    assert!(
        unused.contains(&"  PROPPATCH /calendars/user/ken/Default/ -> 207"),
        "{unused:?}"
    );
    assert!(
        unused.contains(&"  REPORT /calendars/user/ken/Default/ (calendar-query) -> 207"),
        "{unused:?}"
    );
}
