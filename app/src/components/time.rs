//! Times as people read them: relative ("3 days ago") or a date, the exact UTC time on hover.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A relative time ("3 days ago") with the exact UTC time on hover.
#[component]
pub fn When(at: DateTime<Utc>) -> impl IntoView {
    let exact = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let iso = at.to_rfc3339();
    view! { <time datetime=iso title=exact.clone()>{relative(at, Utc::now())}</time> }
}

/// A date (UTC), with the exact time on hover: for expiry, where "in 2 months" is too vague.
#[component]
pub fn Day(at: DateTime<Utc>) -> impl IntoView {
    let exact = at.format("%Y-%m-%d %H:%M UTC").to_string();
    view! { <time datetime=at.to_rfc3339() title=exact>{at.format("%Y-%m-%d").to_string()}</time> }
}

/// Coarse on purpose: server and browser clocks differ by seconds, and the text must match
/// when the page hydrates.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    let (n, unit, future) = {
        let a = secs.unsigned_abs();
        let future = secs < 0;
        match a {
            0..=89 => {
                return if future {
                    "in a minute".into()
                } else {
                    "just now".into()
                };
            }
            90..=3_599 => (a / 60, "minute", future),
            3_600..=86_399 => (a / 3_600, "hour", future),
            86_400..=2_591_999 => (a / 86_400, "day", future),
            2_592_000..=31_535_999 => (a / 2_592_000, "month", future),
            _ => (a / 31_536_000, "year", future),
        }
    };
    let plural = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn relative_times() {
        let now = Utc::now();
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now - Duration::minutes(5), now), "5 minutes ago");
        assert_eq!(relative(now - Duration::hours(1), now), "1 hour ago");
        assert_eq!(relative(now - Duration::days(3), now), "3 days ago");
        assert_eq!(relative(now + Duration::days(7), now), "in 7 days");
    }
}
