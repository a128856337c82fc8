//! When to try again, and how long to wait first.

use std::time::{Duration, SystemTime};

/// Exponential backoff with full jitter, bounded; a provider's `Retry-After` wins
/// when it asks for longer, unless it asks for more than `max_wait` (then waiting
/// is pointless for an interactive call and the error is returned).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(400),
            cap: Duration::from_secs(8),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first retry), given a random
    /// fraction `jitter` in [0, 1). `None` when the provider asks for too long a wait.
    pub fn delay(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX))
            .min(self.cap);
        // Full jitter spreads clients apart; keep at least half so a retry never
        // fires immediately.
        let backoff = exp.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        match retry_after {
            Some(ra) if ra > self.max_wait => None,
            Some(ra) => Some(ra.max(backoff.min(ra + self.base))),
            None => Some(backoff),
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3); also the
/// millisecond variant some providers send.
pub fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        let d0 = p.delay(0, None, 0.0).unwrap();
        let d1 = p.delay(1, None, 0.0).unwrap();
        assert_eq!(d0, Duration::from_millis(200));
        assert_eq!(d1, Duration::from_millis(400));
        assert_eq!(p.delay(0, None, 0.999_999).unwrap().as_millis(), 399);
        assert_eq!(p.delay(30, None, 1.0).unwrap(), Duration::from_secs(8));
    }

    #[test]
    fn retry_after_is_honoured_within_reason() {
        let p = RetryPolicy::default();
        let ra = Duration::from_secs(2);
        let d = p.delay(0, Some(ra), 0.5).unwrap();
        assert!(d >= ra && d <= ra + p.base);
        assert_eq!(p.delay(0, Some(Duration::from_secs(3600)), 0.5), None);
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(1500)));
        let mut h = HeaderMap::new();
        let later = SystemTime::now() + Duration::from_secs(120);
        h.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let d = parse_retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("-1"));
        assert_eq!(parse_retry_after(&h), None);
    }
}
