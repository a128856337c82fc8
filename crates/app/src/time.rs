//! Times as the product shows them. The database keeps unix milliseconds.

/// Unix milliseconds as RFC 3339 (UTC), the way record times are shown too.
pub use runtime::rfc3339;

/// Parses a time given as RFC 3339, or as an HTML `datetime-local` value taken as
/// UTC; `Ok(None)` for an empty string. The error names `field`.
pub fn parse_time(field: &str, s: &str) -> Result<Option<i64>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    use time::format_description::well_known::Rfc3339;
    let parsed = time::OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        let fmt_s =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        time::PrimitiveDateTime::parse(s, &fmt)
            .or_else(|_| time::PrimitiveDateTime::parse(s, &fmt_s))
            .ok()
            .map(|t| t.assume_utc())
    });
    match parsed {
        Some(t) => Ok(Some((t.unix_timestamp_nanos() / 1_000_000) as i64)),
        None => Err(format!(
            "{field}: '{s}' is not a time (use RFC 3339, e.g. 2026-11-25T08:00:00Z)"
        )),
    }
}

const DAY_MS: i64 = 86_400_000;

fn date_of(ms: i64) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN)
}

fn ms_of(d: time::Date) -> i64 {
    (d.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The calendar month (UTC) holding `ms`: its first millisecond, the first of the
/// next month, and its name (`2026-12`).
pub fn month_of(ms: i64) -> (i64, i64, String) {
    let d = date_of(ms);
    let first = d.replace_day(1).unwrap_or(d);
    let next = if first.month() == time::Month::December {
        time::Date::from_calendar_date(first.year() + 1, time::Month::January, 1)
    } else {
        time::Date::from_calendar_date(first.year(), first.month().next(), 1)
    }
    .unwrap_or(first);
    let name = format!("{:04}-{:02}", first.year(), first.month() as u8);
    (ms_of(first), ms_of(next), name)
}

/// A day as `YYYY-MM-DD` → its first millisecond (UTC).
pub fn parse_day(field: &str, s: &str) -> Result<i64, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &fmt)
        .map(ms_of)
        .map_err(|_| format!("{field}: '{s}' is not a day like 2026-12-01"))
}

/// The day (UTC) of `ms` as `YYYY-MM-DD`.
pub fn day_of(ms: i64) -> String {
    let d = date_of(ms);
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Days since the epoch → the day's first millisecond.
pub fn day_start(days: i64) -> i64 {
    days * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_days() {
        let dec = parse_day("d", "2026-12-15").unwrap() + 5_000;
        let (from, to, name) = month_of(dec);
        assert_eq!(name, "2026-12");
        assert_eq!(day_of(from), "2026-12-01");
        assert_eq!(day_of(to), "2027-01-01");
        assert_eq!(day_of(to - 1), "2026-12-31");
        let (_, to, name) = month_of(parse_day("d", "2028-02-10").unwrap());
        assert_eq!(
            (name.as_str(), day_of(to - 1).as_str()),
            ("2028-02", "2028-02-29")
        );
        assert!(
            parse_day("from", "2026-13-01")
                .unwrap_err()
                .contains("from")
        );
        assert_eq!(day_start(1), 86_400_000);
    }

    #[test]
    fn times_parse_both_ways_and_reject_garbage() {
        assert_eq!(
            parse_time("from", "1970-01-01T00:00:01Z").unwrap(),
            Some(1000)
        );
        assert_eq!(
            parse_time("from", "1970-01-01T00:01").unwrap(),
            Some(60_000)
        );
        assert_eq!(parse_time("from", "").unwrap(), None);
        let e = parse_time("to", "yesterday").unwrap_err();
        assert!(e.starts_with("to:"));
        assert_eq!(rfc3339(1000), "1970-01-01T00:00:01Z");
    }
}
