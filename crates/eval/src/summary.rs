//! Per-request results and the totals over a run.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    /// A valid patch that meets the case's checks.
    Accepted,
    /// A valid patch that misses what the case expects.
    ValidNotAccepted,
    /// No valid patch (refused, invalid after every attempt, or the call failed).
    Failed,
}

impl CaseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::Accepted => "accepted",
            CaseOutcome::ValidNotAccepted => "valid_not_accepted",
            CaseOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResult {
    pub id: String,
    pub request: String,
    /// `en` or `zh`.
    pub language: String,
    pub outcome: CaseOutcome,
    pub attempts: u32,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Per currency, in millionths.
    pub cost_micros: BTreeMap<String, i64>,
    pub latency_ms: u64,
    /// Why it was not accepted, or what failed; empty when accepted.
    pub detail: String,
}

/// The totals of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub requests: usize,
    pub accepted: usize,
    pub valid_not_accepted: usize,
    pub failed: usize,
    /// Accepted over requests, 0–1.
    pub score: f64,
    pub attempts: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_micros: BTreeMap<String, i64>,
    pub latency_p50_ms: u64,
    pub latency_p95_ms: u64,
    /// Accepted per language (`en`, `zh`).
    pub accepted_by_language: BTreeMap<String, (usize, usize)>,
}

/// The value at quantile `q` (0–1) of sorted values, nearest rank.
pub fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Summary {
    pub fn of(results: &[CaseResult]) -> Summary {
        let mut s = Summary {
            requests: results.len(),
            ..Summary::default()
        };
        let mut latencies: Vec<u64> = results.iter().map(|r| r.latency_ms).collect();
        latencies.sort_unstable();
        for r in results {
            match r.outcome {
                CaseOutcome::Accepted => s.accepted += 1,
                CaseOutcome::ValidNotAccepted => s.valid_not_accepted += 1,
                CaseOutcome::Failed => s.failed += 1,
            }
            s.attempts += u64::from(r.attempts);
            s.tokens_in += r.tokens_in;
            s.tokens_out += r.tokens_out;
            for (c, m) in &r.cost_micros {
                *s.cost_micros.entry(c.clone()).or_default() += m;
            }
            let lang = s
                .accepted_by_language
                .entry(r.language.clone())
                .or_default();
            lang.1 += 1;
            if r.outcome == CaseOutcome::Accepted {
                lang.0 += 1;
            }
        }
        s.score = if s.requests == 0 {
            0.0
        } else {
            s.accepted as f64 / s.requests as f64
        };
        s.latency_p50_ms = percentile(&latencies, 0.5);
        s.latency_p95_ms = percentile(&latencies, 0.95);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn result(outcome: CaseOutcome, latency_ms: u64, lang: &str) -> CaseResult {
        CaseResult {
            id: "x".into(),
            request: "r".into(),
            language: lang.into(),
            outcome,
            attempts: 2,
            tokens_in: 100,
            tokens_out: 10,
            cost_micros: BTreeMap::from([("USD".to_owned(), 5)]),
            latency_ms,
            detail: String::new(),
        }
    }

    #[test]
    fn totals_and_percentiles() {
        let rs: Vec<_> = (1..=20)
            .map(|i| {
                let o = match i % 4 {
                    0 => CaseOutcome::Failed,
                    1 => CaseOutcome::ValidNotAccepted,
                    _ => CaseOutcome::Accepted,
                };
                result(o, i * 10, if i % 2 == 0 { "zh" } else { "en" })
            })
            .collect();
        let s = Summary::of(&rs);
        assert_eq!(
            (s.requests, s.accepted, s.valid_not_accepted, s.failed),
            (20, 10, 5, 5)
        );
        assert_eq!(s.score, 0.5);
        assert_eq!((s.attempts, s.tokens_in, s.tokens_out), (40, 2000, 200));
        assert_eq!(s.cost_micros["USD"], 100);
        assert_eq!((s.latency_p50_ms, s.latency_p95_ms), (100, 190));
        assert_eq!(s.accepted_by_language["zh"], (5, 10));
        assert_eq!(Summary::of(&[]).latency_p95_ms, 0);
    }

    proptest! {
        #[test]
        fn percentiles_are_values_in_order(mut v in prop::collection::vec(0u64..10_000, 1..200)) {
            v.sort_unstable();
            let (p50, p95) = (percentile(&v, 0.5), percentile(&v, 0.95));
            prop_assert!(v.contains(&p50) && v.contains(&p95));
            prop_assert!(p50 <= p95 && p95 <= *v.last().unwrap());
        }
    }
}
