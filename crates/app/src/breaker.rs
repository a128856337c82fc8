//! Circuit breakers for model calls: a model that failed `failures` times within a
//! minute is skipped for a cool-down, then tried again with one call (half-open): a
//! success closes the circuit, a failure opens it again. Per replica and in memory —
//! each replica learns a provider is down from its own calls, which is what matters
//! for the calls it makes.

use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Track {
    /// Failures within the window, oldest first.
    recent: VecDeque<Instant>,
    open_until: Option<Instant>,
}

/// A model's circuit, as the models page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CircuitView {
    /// `closed` (calls go through), `open` (skipped) or `half_open` (the next call
    /// decides).
    pub state: &'static str,
    /// Failures within the last minute.
    pub recent_failures: u32,
    /// While open: seconds until the model is tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_secs: Option<u64>,
}

pub struct Breakers {
    failures: u32,
    cooldown: Duration,
    tracks: Mutex<HashMap<String, Track>>,
}

impl Breakers {
    pub fn new(failures: u32, cooldown: Duration) -> Breakers {
        Breakers {
            failures: failures.max(1),
            cooldown,
            tracks: Mutex::default(),
        }
    }

    fn with<R>(&self, id: &str, f: impl FnOnce(&mut Track) -> R) -> R {
        let mut tracks = self.tracks.lock().unwrap_or_else(|p| p.into_inner());
        f(tracks.entry(id.to_owned()).or_default())
    }

    /// Whether a call to the model may go out now.
    pub fn allows(&self, id: &str, now: Instant) -> bool {
        self.with(id, |t| t.open_until.is_none_or(|until| now >= until))
    }

    pub fn failed(&self, id: &str, now: Instant) {
        let (limit, cooldown) = (self.failures as usize, self.cooldown);
        self.with(id, |t| {
            prune(t, now);
            t.recent.push_back(now);
            // A failure while half-open opens the circuit again at once.
            let half_open = t.open_until.is_some_and(|u| now >= u);
            if t.recent.len() >= limit || half_open {
                t.open_until = Some(now + cooldown);
            }
        })
    }

    pub fn succeeded(&self, id: &str) {
        self.with(id, |t| *t = Track::default())
    }

    pub fn view(&self, id: &str, now: Instant) -> CircuitView {
        self.with(id, |t| {
            prune(t, now);
            let (state, retry_in_secs) = match t.open_until {
                Some(until) if now < until => ("open", Some((until - now).as_secs().max(1))),
                Some(_) => ("half_open", None),
                None => ("closed", None),
            };
            CircuitView {
                state,
                recent_failures: t.recent.len() as u32,
                retry_in_secs,
            }
        })
    }
}

fn prune(t: &mut Track, now: Instant) {
    while t
        .recent
        .front()
        .is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW)
    {
        t.recent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn opens_after_n_failures_in_a_minute_and_retries_after_the_cooldown() {
        let b = Breakers::new(3, 30 * S);
        let t0 = Instant::now();
        b.failed("m", t0);
        b.failed("m", t0 + S);
        assert!(b.allows("m", t0 + 2 * S), "two failures keep it closed");
        b.failed("m", t0 + 2 * S);
        assert!(!b.allows("m", t0 + 3 * S));
        assert_eq!(b.view("m", t0 + 3 * S).state, "open");
        assert_eq!(b.view("m", t0 + 3 * S).retry_in_secs, Some(29));
        // After the cool-down one call may try.
        assert!(b.allows("m", t0 + 33 * S));
        assert_eq!(b.view("m", t0 + 33 * S).state, "half_open");
        // It fails: open again at once, without waiting for three.
        b.failed("m", t0 + 34 * S);
        assert!(!b.allows("m", t0 + 35 * S));
        // Success closes it.
        b.succeeded("m");
        assert!(b.allows("m", t0 + 35 * S));
        assert_eq!(b.view("m", t0 + 35 * S).state, "closed");
    }

    #[test]
    fn failures_older_than_a_minute_do_not_count() {
        let b = Breakers::new(3, 30 * S);
        let t0 = Instant::now();
        b.failed("m", t0);
        b.failed("m", t0 + S);
        b.failed("m", t0 + 61 * S);
        assert!(b.allows("m", t0 + 62 * S));
        assert_eq!(b.view("m", t0 + 62 * S).recent_failures, 1);
        assert!(b.allows("other", t0), "models have their own circuits");
    }
}
