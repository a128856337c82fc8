//! What a call costs: list prices per million tokens and the arithmetic on a call's
//! usage. Amounts are whole millionths of the currency unit ("micros"), so sums over
//! thousands of calls stay exact.

use crate::Usage;
use serde::{Deserialize, Serialize};

/// Prices per million tokens, in `currency` (ISO 4217, like `USD` or `CNY`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    pub input: f64,
    /// Input served from the provider's prompt cache.
    pub cached_input: f64,
    pub output: f64,
    pub currency: String,
}

impl Prices {
    /// The cost of one call in micros. A price per million tokens times a token count
    /// is already in micros; rounding happens once per call.
    pub fn cost_micros(&self, u: &Usage) -> i64 {
        let cached = u.cached_input_tokens.min(u.input_tokens);
        let fresh = u.input_tokens - cached;
        let total = fresh as f64 * self.input
            + cached as f64 * self.cached_input
            + u.output_tokens as f64 * self.output;
        total.round().clamp(0.0, i64::MAX as f64) as i64
    }

    /// Checks the numbers and the currency code; each problem as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (field, v) in [
            ("input", self.input),
            ("cachedInput", self.cached_input),
            ("output", self.output),
        ] {
            if !v.is_finite() || !(0.0..=10_000.0).contains(&v) {
                out.push((
                    field,
                    "must be a price between 0 and 10000 per million tokens".into(),
                ));
            }
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            out.push((
                "currency",
                format!("'{}' is not a currency code like USD or CNY", self.currency),
            ));
        }
        out
    }
}

/// List prices of models whose prices are published (`PROVIDERS.md`), for pre-filling.
pub fn known_prices(provider: &str, model: &str) -> Option<Prices> {
    let usd = |input, cached_input, output| Prices {
        input,
        cached_input,
        output,
        currency: "USD".into(),
    };
    match (provider, model) {
        ("kimi", "kimi-k2.6") => Some(usd(0.95, 0.16, 4.00)),
        ("kimi", "kimi-k2.5") => Some(usd(0.60, 0.10, 3.00)),
        // Nothing is paid for the offline engine.
        ("builtin", _) => Some(usd(0.0, 0.0, 0.0)),
        _ => None,
    }
}

/// Micros as a decimal amount with six places, trailing zeros kept to two: "0.0123",
/// "1.50".
pub fn format_micros(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    let mut frac = format!("{:06}", m % 1_000_000);
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{sign}{}.{frac}", m / 1_000_000)
}

/// A decimal amount as micros; `None` for anything but a plain non-negative number
/// with at most six decimals.
pub fn parse_amount(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 6
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 12
    {
        return None;
    }
    let w: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let f: i64 = format!("{frac:0<6}").parse().ok()?;
    w.checked_mul(1_000_000)?.checked_add(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usage(i: u64, c: u64, o: u64) -> Usage {
        Usage {
            input_tokens: i,
            cached_input_tokens: c,
            output_tokens: o,
        }
    }

    #[test]
    fn kimi_prices_give_the_cost_of_a_generation() {
        let p = known_prices("kimi", "kimi-k2.6").unwrap();
        // 10k input of which 4k cached, 2k output:
        // 6000 × 0.95 + 4000 × 0.16 + 2000 × 4.00 = 5700 + 640 + 8000 micros.
        assert_eq!(p.cost_micros(&usage(10_000, 4_000, 2_000)), 14_340);
        assert_eq!(format_micros(14_340), "0.01434");
        assert_eq!(
            known_prices("builtin", "builtin")
                .unwrap()
                .cost_micros(&usage(9, 0, 9)),
            0
        );
        assert!(known_prices("openai", "gpt-x").is_none());
    }

    #[test]
    fn amounts_read_and_print() {
        assert_eq!(parse_amount("12.5"), Some(12_500_000));
        assert_eq!(parse_amount("0.000001"), Some(1));
        assert_eq!(parse_amount(".5"), Some(500_000));
        assert_eq!(parse_amount("7"), Some(7_000_000));
        for bad in [
            "",
            ".",
            "-1",
            "1e3",
            "0.0000001",
            "1,5",
            "abc",
            "99999999999999",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
        assert_eq!(format_micros(0), "0.00");
        assert_eq!(format_micros(1_500_000), "1.50");
        assert_eq!(format_micros(1), "0.000001");
    }

    #[test]
    fn price_problems_are_named() {
        let p = Prices {
            input: -1.0,
            cached_input: f64::NAN,
            output: 1.0,
            currency: "usd".into(),
        };
        let fields: Vec<_> = p.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["input", "cachedInput", "currency"]);
    }

    proptest! {
        #[test]
        fn amounts_round_trip(m in 0i64..1_000_000_000_000) {
            prop_assert_eq!(parse_amount(&format_micros(m)), Some(m));
        }

        #[test]
        fn cost_grows_with_tokens(i in 0u64..1_000_000, c in 0u64..1_000_000, o in 0u64..1_000_000, extra in 1u64..1000) {
            let p = known_prices("kimi", "kimi-k2.6").unwrap();
            let base = p.cost_micros(&usage(i, c, o));
            prop_assert!(p.cost_micros(&usage(i, c, o + extra)) > base);
            prop_assert!(p.cost_micros(&usage(i + extra, c, o)) >= base);
            prop_assert!(base >= 0);
        }
    }
}
