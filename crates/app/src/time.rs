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

#[cfg(test)]
mod tests {
    use super::*;

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
