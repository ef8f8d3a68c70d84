//! When the client sends a request again by itself.
//!
//! - `Retry-After` (RFC 9110 §10.2.3) on a 429 (RFC 6585 §4) or 503 answer: the wait it asks
//!   for, within the caller's bound on how long and how often to wait.
//! - A 500, 502, 503 or 504 without `Retry-After` to a safe request (RFC 9110 §9.2.1: GET,
//!   HEAD, OPTIONS, and WebDAV's PROPFIND and REPORT, which change nothing): once more after a
//!   short pause. Servers answer such transient errors in the wild; Radicale, for one, answers
//!   500 to a Depth:1 PROPFIND of a calendar home while another client deletes a calendar in
//!   it. A write (PUT, DELETE, MKCALENDAR, POST, PROPPATCH) is never repeated blindly: the
//!   server may have applied it.
//!
//! ```text
//! Retry-After = HTTP-date / delay-seconds
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How the client retries a 429 or 503 that carries `Retry-After`, and a transient server
/// error to a safe request.
///
/// A 429 or 503 asking for a longer wait than `max_delay` is handed back to the caller
/// unchanged; so is the last answer once `max_retries` (or `server_error_retries`) is spent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// How many times one request may be retried after `Retry-After` (0 disables these).
    pub max_retries: u32,
    /// The longest single wait the client accepts.
    pub max_delay: Duration,
    /// How many times a safe request (GET, HEAD, OPTIONS, PROPFIND, REPORT) answered 500, 502,
    /// 503 or 504 without `Retry-After` is sent again (0 disables these).
    pub server_error_retries: u32,
    /// The pause before such a repeat.
    pub server_error_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            max_delay: Duration::from_secs(30),
            server_error_retries: 1,
            server_error_delay: Duration::from_millis(250),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    #[must_use]
    pub fn never() -> Self {
        Self {
            max_retries: 0,
            max_delay: Duration::ZERO,
            server_error_retries: 0,
            server_error_delay: Duration::ZERO,
        }
    }

    /// A policy of `max_retries` waits of at most `max_delay` each after `Retry-After`, and
    /// the default repeat of a safe request after a transient server error.
    #[must_use]
    pub fn new(max_retries: u32, max_delay: Duration) -> Self {
        Self {
            max_retries,
            max_delay,
            ..Self::default()
        }
    }

    /// The same policy, repeating a safe request answered with a transient server error
    /// `retries` times after `delay` each.
    #[must_use]
    pub fn with_server_errors(self, retries: u32, delay: Duration) -> Self {
        Self {
            server_error_retries: retries,
            server_error_delay: delay,
            ..self
        }
    }
}

/// Whether a request may be sent again without the server's say: it changes nothing there
/// (RFC 9110 §9.2.1; PROPFIND is RFC 4918 §9.1, REPORT is RFC 3253 §3.6).
pub(crate) fn is_safe(method: &http::Method) -> bool {
    matches!(
        method.as_str(),
        "GET" | "HEAD" | "OPTIONS" | "PROPFIND" | "REPORT"
    )
}

/// Whether a status is a server error worth one more try of a safe request.
pub(crate) fn is_transient(status: http::StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// The wait a `Retry-After` value asks for, measured from `now`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = parse_imf_fixdate(value)?;
    let at = UNIX_EPOCH.checked_add(Duration::from_secs(at))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Seconds since the epoch of an IMF-fixdate (RFC 9110 §5.6.7), e.g.
/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_imf_fixdate(s: &str) -> Option<u64> {
    let (_, rest) = s.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let m: u64 = hms.next()?.parse().ok()?;
    let sec: u64 = hms.next()?.parse().ok()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || !(1970..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, i64::try_from(day).ok()?);
    let days = u64::try_from(days).ok()?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_methods_are_repeated_on_server_errors() {
        for m in ["GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"] {
            assert!(
                is_safe(&http::Method::from_bytes(m.as_bytes()).unwrap()),
                "{m}"
            );
        }
        for m in [
            "PUT",
            "DELETE",
            "POST",
            "MKCALENDAR",
            "PROPPATCH",
            "MOVE",
            "COPY",
        ] {
            assert!(
                !is_safe(&http::Method::from_bytes(m.as_bytes()).unwrap()),
                "{m}"
            );
        }
        assert!(is_transient(http::StatusCode::INTERNAL_SERVER_ERROR));
        assert!(is_transient(http::StatusCode::GATEWAY_TIMEOUT));
        assert!(!is_transient(http::StatusCode::NOT_IMPLEMENTED));
        assert!(!is_transient(http::StatusCode::INSUFFICIENT_STORAGE));
    }

    #[test]
    fn delay_seconds() {
        assert_eq!(
            parse_retry_after("120", UNIX_EPOCH),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("-1", UNIX_EPOCH), None);
        assert_eq!(parse_retry_after("", UNIX_EPOCH), None);
    }

    #[test]
    fn http_date() {
        // RFC 9110 §5.6.7's example date.
        let at = parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(at, 784_111_777);
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        // A date in the past means "now".
        let later = UNIX_EPOCH + Duration::from_secs(784_111_999);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", later),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now),
            None
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,64}") {
            let _ = parse_retry_after(&s, UNIX_EPOCH);
        }
    }
}
