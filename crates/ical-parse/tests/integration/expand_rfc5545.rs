//! Every recurrence example of RFC 5545 §3.8.5.3, with its instance list written out, expanded
//! in America/New_York as the RFC's DTSTARTs say (`DTSTART;TZID=America/New_York:...`).
//!
//! Divergence: "Every 3 hours from 9:00 AM to 5:00 PM on a specific day" writes
//! `UNTIL=19970902T170000Z`, which is 13:00 EDT, yet lists 15:00 too (a known erratum, 3883 in
//! the RFC errata list): UNTIL is compared as UTC here, so the list ends at 12:00.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ical_parse::expand::{ExpandOptions, Length, Recurrence, When, expand};
use ical_parse::recur::Recur;
use ical_parse::tz::Zone;
use jiff::civil::{Date, DateTime};

fn ny() -> Zone {
    Zone::iana("America/New_York").unwrap()
}

fn dt(s: &str) -> DateTime {
    let n = |a: usize, b: usize| s[a..b].parse::<i16>().unwrap();
    jiff::civil::date(n(0, 4), n(4, 6) as i8, n(6, 8) as i8).at(
        n(9, 11) as i8,
        n(11, 13) as i8,
        n(13, 15) as i8,
        0,
    )
}

/// Every day from `from` to `to` (inclusive) at `time`, as `YYYYMMDDTHHMMSS`.
fn days(from: &str, to: &str, time: &str) -> Vec<String> {
    let mut d: Date = from.parse().unwrap();
    let end: Date = to.parse().unwrap();
    let mut out = Vec::new();
    while d <= end {
        out.push(format!("{}T{time}", d.strftime("%Y%m%d")));
        d = d.tomorrow().unwrap();
    }
    out
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Dates written as `MMDD` in `year` at 09:00.
fn at9(year: &str, mmdd: &[&str]) -> Vec<String> {
    mmdd.iter().map(|d| format!("{year}{d}T090000")).collect()
}

/// Expands and checks local times; also checks each offset is New York's at that instant.
fn check(name: &str, dtstart: &str, rules: &[&str], exdates: &[&str], expected: &[String]) {
    let zone = ny();
    let mut rec = Recurrence::new(
        When::Zoned {
            local: dt(dtstart),
            zone: zone.clone(),
        },
        Length::seconds(3600),
    );
    for r in rules {
        rec.rrules.push(Recur::parse(r).unwrap());
    }
    for e in exdates {
        rec.exdates.push(When::Zoned {
            local: dt(e),
            zone: zone.clone(),
        });
    }
    let mut options = ExpandOptions::default();
    options.max_instances = expected.len() + 5;
    let got: Vec<_> = expand(&rec, &[], &options).collect();
    let open_ended = rules
        .iter()
        .all(|r| !r.contains("COUNT") && !r.contains("UNTIL"));
    let shown: Vec<String> = got
        .iter()
        .take(if open_ended {
            expected.len()
        } else {
            usize::MAX
        })
        .map(|i| i.recurrence_id.to_string())
        .collect();
    assert_eq!(shown, expected, "{name}");
    for i in &got {
        let jiff_offset = zone.offset_at(jiff::Timestamp::from_second(i.start_key).unwrap());
        match i.start {
            ical_parse::expand::Moment::Zoned { offset, .. } => {
                assert_eq!(offset, jiff_offset, "{name}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn rfc5545_section_3_8_5_3_examples() {
    let s = "19970902T090000";
    check(
        "Daily for 10 occurrences",
        s,
        &["FREQ=DAILY;COUNT=10"],
        &[],
        &days("1997-09-02", "1997-09-11", "090000"),
    );
    check(
        "Daily until December 24, 1997",
        s,
        &["FREQ=DAILY;UNTIL=19971224T000000Z"],
        &[],
        &days("1997-09-02", "1997-12-23", "090000"),
    );
    let mut every_other = Vec::new();
    let mut d: Date = "1997-09-02".parse().unwrap();
    for _ in 0..60 {
        every_other.push(format!("{}T090000", d.strftime("%Y%m%d")));
        d = d.tomorrow().unwrap().tomorrow().unwrap();
    }
    check(
        "Every other day - forever",
        s,
        &["FREQ=DAILY;INTERVAL=2"],
        &[],
        &every_other,
    );
    check(
        "Every 10 days, 5 occurrences",
        s,
        &["FREQ=DAILY;INTERVAL=10;COUNT=5"],
        &[],
        &list(&[
            "19970902T090000",
            "19970912T090000",
            "19970922T090000",
            "19971002T090000",
            "19971012T090000",
        ]),
    );
    let mut january = days("1998-01-01", "1998-01-31", "090000");
    january.extend(days("1999-01-01", "1999-01-31", "090000"));
    january.extend(days("2000-01-01", "2000-01-31", "090000"));
    check(
        "Every day in January, for 3 years (yearly)",
        "19980101T090000",
        &["FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA"],
        &[],
        &january,
    );
    check(
        "Every day in January, for 3 years (daily)",
        "19980101T090000",
        &["FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1"],
        &[],
        &january,
    );
    check(
        "Weekly for 10 occurrences",
        s,
        &["FREQ=WEEKLY;COUNT=10"],
        &[],
        &at9(
            "1997",
            &[
                "0902", "0909", "0916", "0923", "0930", "1007", "1014", "1021", "1028", "1104",
            ],
        ),
    );
    check(
        "Weekly until December 24, 1997",
        s,
        &["FREQ=WEEKLY;UNTIL=19971224T000000Z"],
        &[],
        &at9(
            "1997",
            &[
                "0902", "0909", "0916", "0923", "0930", "1007", "1014", "1021", "1028", "1104",
                "1111", "1118", "1125", "1202", "1209", "1216", "1223",
            ],
        ),
    );
    let mut biweekly = at9(
        "1997",
        &[
            "0902", "0916", "0930", "1014", "1028", "1111", "1125", "1209", "1223",
        ],
    );
    biweekly.extend(at9("1998", &["0106", "0120", "0203", "0217"]));
    check(
        "Every other week - forever",
        s,
        &["FREQ=WEEKLY;INTERVAL=2;WKST=SU"],
        &[],
        &biweekly,
    );
    let tu_th = at9(
        "1997",
        &[
            "0902", "0904", "0909", "0911", "0916", "0918", "0923", "0925", "0930", "1002",
        ],
    );
    check(
        "Weekly on Tuesday and Thursday for five weeks (UNTIL)",
        s,
        &["FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH"],
        &[],
        &tu_th,
    );
    check(
        "Weekly on Tuesday and Thursday for five weeks (COUNT)",
        s,
        &["FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH"],
        &[],
        &tu_th,
    );
    check(
        "Every other week on Monday, Wednesday, and Friday until December 24, 1997",
        "19970901T090000",
        &["FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR"],
        &[],
        &at9(
            "1997",
            &[
                "0901", "0903", "0905", "0915", "0917", "0919", "0929", "1001", "1003", "1013",
                "1015", "1017", "1027", "1029", "1031", "1110", "1112", "1114", "1124", "1126",
                "1128", "1208", "1210", "1212", "1222",
            ],
        ),
    );
    check(
        "Every other week on Tuesday and Thursday, for 8 occurrences",
        s,
        &["FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH"],
        &[],
        &at9(
            "1997",
            &[
                "0902", "0904", "0916", "0918", "0930", "1002", "1014", "1016",
            ],
        ),
    );
    let mut first_friday = at9("1997", &["0905", "1003", "1107", "1205"]);
    first_friday.extend(at9(
        "1998",
        &["0102", "0206", "0306", "0403", "0501", "0605"],
    ));
    check(
        "Monthly on the first Friday for 10 occurrences",
        "19970905T090000",
        &["FREQ=MONTHLY;COUNT=10;BYDAY=1FR"],
        &[],
        &first_friday,
    );
    check(
        "Monthly on the first Friday until December 24, 1997",
        "19970905T090000",
        &["FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR"],
        &[],
        &at9("1997", &["0905", "1003", "1107", "1205"]),
    );
    let mut first_last_sunday = at9("1997", &["0907", "0928", "1102", "1130"]);
    first_last_sunday.extend(at9(
        "1998",
        &["0104", "0125", "0301", "0329", "0503", "0531"],
    ));
    check(
        "Every other month on the first and last Sunday of the month for 10 occurrences",
        "19970907T090000",
        &["FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU"],
        &[],
        &first_last_sunday,
    );
    let mut second_to_last_monday = at9("1997", &["0922", "1020", "1117", "1222"]);
    second_to_last_monday.extend(at9("1998", &["0119", "0216"]));
    check(
        "Monthly on the second-to-last Monday of the month for 6 months",
        "19970922T090000",
        &["FREQ=MONTHLY;COUNT=6;BYDAY=-2MO"],
        &[],
        &second_to_last_monday,
    );
    let mut third_to_last = at9("1997", &["0928", "1029", "1128", "1229"]);
    third_to_last.extend(at9("1998", &["0129", "0226"]));
    check(
        "Monthly on the third-to-the-last day of the month, forever",
        "19970928T090000",
        &["FREQ=MONTHLY;BYMONTHDAY=-3"],
        &[],
        &third_to_last,
    );
    let mut second_fifteenth = at9(
        "1997",
        &[
            "0902", "0915", "1002", "1015", "1102", "1115", "1202", "1215",
        ],
    );
    second_fifteenth.extend(at9("1998", &["0102", "0115"]));
    check(
        "Monthly on the 2nd and 15th of the month for 10 occurrences",
        s,
        &["FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15"],
        &[],
        &second_fifteenth,
    );
    let mut first_and_last = at9(
        "1997",
        &["0930", "1001", "1031", "1101", "1130", "1201", "1231"],
    );
    first_and_last.extend(at9("1998", &["0101", "0131", "0201"]));
    check(
        "Monthly on the first and last day of the month for 10 occurrences",
        "19970930T090000",
        &["FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1"],
        &[],
        &first_and_last,
    );
    let mut every_18 = at9("1997", &["0910", "0911", "0912", "0913", "0914", "0915"]);
    every_18.extend(at9("1999", &["0310", "0311", "0312", "0313"]));
    check(
        "Every 18 months on the 10th thru 15th of the month for 10 occurrences",
        "19970910T090000",
        &["FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15"],
        &[],
        &every_18,
    );
    let mut tuesdays = at9(
        "1997",
        &[
            "0902", "0909", "0916", "0923", "0930", "1104", "1111", "1118", "1125",
        ],
    );
    tuesdays.extend(at9(
        "1998",
        &[
            "0106", "0113", "0120", "0127", "0303", "0310", "0317", "0324", "0331",
        ],
    ));
    check(
        "Every Tuesday, every other month",
        s,
        &["FREQ=MONTHLY;INTERVAL=2;BYDAY=TU"],
        &[],
        &tuesdays,
    );
    let mut june_july = Vec::new();
    for y in ["1997", "1998", "1999", "2000", "2001"] {
        june_july.extend(at9(y, &["0610", "0710"]));
    }
    check(
        "Yearly in June and July for 10 occurrences",
        "19970610T090000",
        &["FREQ=YEARLY;COUNT=10;BYMONTH=6,7"],
        &[],
        &june_july,
    );
    let mut q1 = at9("1997", &["0310"]);
    for y in ["1999", "2001", "2003"] {
        q1.extend(at9(y, &["0110", "0210", "0310"]));
    }
    check(
        "Every other year on January, February, and March for 10 occurrences",
        "19970310T090000",
        &["FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3"],
        &[],
        &q1,
    );
    let mut yeardays = at9("1997", &["0101", "0410", "0719"]);
    yeardays.extend(at9("2000", &["0101", "0409", "0718"]));
    yeardays.extend(at9("2003", &["0101", "0410", "0719"]));
    yeardays.extend(at9("2006", &["0101"]));
    check(
        "Every third year on the 1st, 100th, and 200th day for 10 occurrences",
        "19970101T090000",
        &["FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200"],
        &[],
        &yeardays,
    );
    check(
        "Every 20th Monday of the year, forever",
        "19970519T090000",
        &["FREQ=YEARLY;BYDAY=20MO"],
        &[],
        &list(&["19970519T090000", "19980518T090000", "19990517T090000"]),
    );
    check(
        "Monday of week number 20, forever",
        "19970512T090000",
        &["FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"],
        &[],
        &list(&["19970512T090000", "19980511T090000", "19990517T090000"]),
    );
    let mut march = at9("1997", &["0313", "0320", "0327"]);
    march.extend(at9("1998", &["0305", "0312", "0319", "0326"]));
    march.extend(at9("1999", &["0304", "0311", "0318", "0325"]));
    check(
        "Every Thursday in March, forever",
        "19970313T090000",
        &["FREQ=YEARLY;BYMONTH=3;BYDAY=TH"],
        &[],
        &march,
    );
    let mut summer = at9(
        "1997",
        &[
            "0605", "0612", "0619", "0626", "0703", "0710", "0717", "0724", "0731", "0807", "0814",
            "0821", "0828",
        ],
    );
    summer.extend(at9(
        "1998",
        &[
            "0604", "0611", "0618", "0625", "0702", "0709", "0716", "0723", "0730", "0806", "0813",
            "0820", "0827",
        ],
    ));
    summer.extend(at9(
        "1999",
        &[
            "0603", "0610", "0617", "0624", "0701", "0708", "0715", "0722", "0729", "0805", "0812",
            "0819", "0826",
        ],
    ));
    check(
        "Every Thursday, but only during June, July, and August, forever",
        "19970605T090000",
        &["FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8"],
        &[],
        &summer,
    );
    check(
        "Every Friday the 13th, forever",
        s,
        &["FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13"],
        &[s],
        &list(&[
            "19980213T090000",
            "19980313T090000",
            "19981113T090000",
            "19990813T090000",
            "20001013T090000",
        ]),
    );
    let mut saturday = at9("1997", &["0913", "1011", "1108", "1213"]);
    saturday.extend(at9(
        "1998",
        &["0110", "0207", "0307", "0411", "0509", "0613"],
    ));
    check(
        "The first Saturday that follows the first Sunday of the month, forever",
        "19970913T090000",
        &["FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13"],
        &[],
        &saturday,
    );
    check(
        "Every 4 years, the first Tuesday after a Monday in November, forever",
        "19961105T090000",
        &["FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8"],
        &[],
        &list(&["19961105T090000", "20001107T090000", "20041102T090000"]),
    );
    check(
        "The third instance into the month of one of Tuesday, Wednesday, or Thursday, for the next 3 months",
        "19970904T090000",
        &["FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"],
        &[],
        &at9("1997", &["0904", "1007", "1106"]),
    );
    let mut second_to_last_weekday = at9("1997", &["0929", "1030", "1127", "1230"]);
    second_to_last_weekday.extend(at9("1998", &["0129", "0226", "0330"]));
    check(
        "The second-to-last weekday of the month",
        "19970929T090000",
        &["FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2"],
        &[],
        &second_to_last_weekday,
    );
    check(
        "Every 3 hours from 9:00 AM to 5:00 PM on a specific day (erratum: UNTIL is 13:00 EDT)",
        s,
        &["FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z"],
        &[],
        &list(&["19970902T090000", "19970902T120000"]),
    );
    check(
        "Every 3 hours from 9:00 AM to 5:00 PM on a specific day (UNTIL as meant)",
        s,
        &["FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T210000Z"],
        &[],
        &list(&["19970902T090000", "19970902T120000", "19970902T150000"]),
    );
    check(
        "Every 15 minutes for 6 occurrences",
        s,
        &["FREQ=MINUTELY;INTERVAL=15;COUNT=6"],
        &[],
        &list(&[
            "19970902T090000",
            "19970902T091500",
            "19970902T093000",
            "19970902T094500",
            "19970902T100000",
            "19970902T101500",
        ]),
    );
    check(
        "Every hour and a half for 4 occurrences",
        s,
        &["FREQ=MINUTELY;INTERVAL=90;COUNT=4"],
        &[],
        &list(&[
            "19970902T090000",
            "19970902T103000",
            "19970902T120000",
            "19970902T133000",
        ]),
    );
    let mut twenty = Vec::new();
    for day in ["19970902", "19970903"] {
        for h in 9..17 {
            for m in [0, 20, 40] {
                twenty.push(format!("{day}T{h:02}{m:02}00"));
            }
        }
    }
    check(
        "Every 20 minutes from 9:00 AM to 4:40 PM every day (daily)",
        s,
        &["FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40"],
        &[],
        &twenty,
    );
    check(
        "Every 20 minutes from 9:00 AM to 4:40 PM every day (minutely)",
        s,
        &["FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16"],
        &[],
        &twenty,
    );
    check(
        "WKST=MO",
        "19970805T090000",
        &["FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO"],
        &[],
        &at9("1997", &["0805", "0810", "0819", "0824"]),
    );
    check(
        "WKST=SU",
        "19970805T090000",
        &["FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"],
        &[],
        &at9("1997", &["0805", "0817", "0819", "0831"]),
    );
    check(
        "An invalid date (February 30) is ignored",
        "20070115T090000",
        &["FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5"],
        &[],
        &at9("2007", &["0115", "0130", "0215", "0315", "0330"]),
    );
}
