//! Proleptic Gregorian day arithmetic on plain integers.
//!
//! The iterator works on day numbers (days since 1970-01-01) and civil seconds (day number *
//! 86400 + seconds of the day, no time zone) because they make periods, week starts and
//! skip-ahead exact integer arithmetic; jiff's types are used at the edges.

use jiff::civil::{Date, DateTime, Time};

/// Seconds in a civil day.
pub(crate) const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12, day 1..=31).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The (year, month, day) of a day number.
#[inline]
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    if (-4_000_000..4_000_000).contains(&days) {
        return civil_from_days_fast(days);
    }
    civil_from_days_wide(days)
}

/// Neri and Schneider's "Euclidean affine functions" form (2021): multiplications and shifts
/// on `u32` in a calendar shifted by 82 whole 400-year cycles so that every value is
/// non-negative. Valid for day numbers of years -32800..=+32767; callers keep to ±4M days.
#[inline]
fn civil_from_days_fast(days: i64) -> (i64, i64, i64) {
    const SHIFT_CYCLES: i64 = 82;
    const K: i64 = 719_468 + 146_097 * SHIFT_CYCLES;
    const L: i64 = 400 * SHIFT_CYCLES;
    let n = u64::try_from(days + K).unwrap_or(0);
    let n1 = 4 * n + 3;
    let century = n1 / 146_097;
    let n_c = n1 % 146_097 / 4;
    let n2 = 4 * n_c + 3;
    let p2 = 2_939_745 * n2;
    let z = p2 / 4_294_967_296;
    let n_y = p2 % 4_294_967_296 / 2_939_745 / 4;
    let year = 100 * century + z;
    let n3 = 2141 * n_y + 197_913;
    let month = n3 / 65_536;
    let day = n3 % 65_536 / 2141;
    let january_or_february = n_y >= 306;
    let year = i64::try_from(year).unwrap_or(0) - L + i64::from(january_or_february);
    let month = i64::try_from(month).unwrap_or(0) - if january_or_february { 12 } else { 0 };
    (year, month, i64::try_from(day).unwrap_or(0) + 1)
}

fn civil_from_days_wide(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Monday = 0 .. Sunday = 6.
pub(crate) fn weekday_of(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

pub(crate) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub(crate) fn days_in_year(year: i64) -> i64 {
    if is_leap(year) { 366 } else { 365 }
}

/// Civil seconds of a jiff date-time (sub-second precision is dropped).
pub(crate) fn secs_of(dt: DateTime) -> i64 {
    days_from_civil(
        i64::from(dt.year()),
        i64::from(dt.month()),
        i64::from(dt.day()),
    ) * DAY
        + i64::from(dt.hour()) * 3600
        + i64::from(dt.minute()) * 60
        + i64::from(dt.second())
}

/// Day number of a jiff date.
pub(crate) fn days_of(d: Date) -> i64 {
    days_from_civil(
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    )
}

/// A jiff date of a day number, `None` outside jiff's range (years -9999..=9999).
#[inline]
pub(crate) fn date_of(days: i64) -> Option<Date> {
    let (y, m, d) = civil_from_days(days);
    Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

/// The time of day of civil seconds.
#[inline]
pub(crate) fn time_of(secs: i64) -> Option<Time> {
    let tod = secs.rem_euclid(DAY);
    Time::new(
        i8::try_from(tod / 3600).ok()?,
        i8::try_from(tod / 60 % 60).ok()?,
        i8::try_from(tod % 60).ok()?,
        0,
    )
    .ok()
}

/// A jiff date-time of civil seconds, `None` outside jiff's range.
#[inline]
pub(crate) fn datetime_of(secs: i64) -> Option<DateTime> {
    let days = secs.div_euclid(DAY);
    let tod = secs.rem_euclid(DAY);
    let time = Time::new(
        i8::try_from(tod / 3600).ok()?,
        i8::try_from(tod / 60 % 60).ok()?,
        i8::try_from(tod % 60).ok()?,
        0,
    )
    .ok()?;
    Some(DateTime::from_parts(date_of(days)?, time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(weekday_of(0), 3);
        assert_eq!(civil_from_days(days_from_civil(-4, 2, 29)), (-4, 2, 29));
        // Every day of 1600..2400 and the edges of the fast form's range.
        for d in (days_from_civil(1600, 1, 1)..days_from_civil(2400, 1, 1))
            .chain([-4_000_000, -3_999_999, 3_999_998, 3_999_999])
        {
            assert_eq!(civil_from_days_fast(d), civil_from_days_wide(d), "{d}");
        }
    }

    proptest! {
        #[test]
        fn fast_and_wide_agree(days in -4_000_000i64..4_000_000) {
            prop_assert_eq!(civil_from_days_fast(days), civil_from_days_wide(days));
        }

        #[test]
        fn agrees_with_jiff(days in -4_000_000i64..2_900_000) {
            let (y, m, d) = civil_from_days(days);
            let date = jiff::civil::Date::new(y as i16, m as i8, d as i8).unwrap();
            prop_assert_eq!(days_from_civil(y, m, d), days);
            prop_assert_eq!(date.weekday().to_monday_zero_offset() as i64, weekday_of(days));
            prop_assert_eq!(date.days_in_month() as i64, days_in_month(y, m));
            prop_assert_eq!(date_of(days), Some(date));
        }
    }
}
