//! The corpus format:
//!
//! ```yaml
//! name: base-crm
//! cases:
//!   - id: loyalty-points
//!     request: add an integer field loyaltyPoints to Customer
//!     start: { ... }            # optional: the module's patch before the request
//!     expect:
//!       operations:             # each must match some operation of the answer
//!         - { scope: object, op: add, target: { object: Customer, field: loyaltyPoints } }
//!       scenarios: [ ... ]      # optional: scenarios (docs/testing.md) that must pass
//! ```

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// The corpus the project ships: requests over the base CRM, half in Chinese.
pub fn shipped() -> Corpus {
    Corpus::parse("base-crm.yaml", SHIPPED).expect("the shipped corpus is valid")
}

const SHIPPED: &str = include_str!("../corpus/base-crm.yaml");

/// At most this many cases, so one evaluation stays a bounded spend.
pub const MAX_CASES: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    pub name: String,
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub request: String,
    /// The module's patch before the request, when the request changes a module.
    pub start: Option<Value>,
    pub expect: Expect,
}

impl Case {
    /// `zh` when the request has Chinese characters, else `en`.
    pub fn language(&self) -> &'static str {
        if self
            .request
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        {
            "zh"
        } else {
            "en"
        }
    }
}

/// What an answer must hold to be accepted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expect {
    /// Partial operations (see [`crate::matching`]).
    pub operations: Vec<Value>,
    /// Scenarios in the test format, run on the spec with the answer applied.
    pub scenarios: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct CorpusError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCorpus {
    name: Option<String>,
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    request: String,
    #[serde(default)]
    start: Option<Value>,
    #[serde(default)]
    expect: RawExpect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    operations: Vec<Value>,
    #[serde(default)]
    scenarios: Vec<Value>,
}

const SCOPES: &[&str] = &["object", "state", "page", "permission", "menu"];
const OPS: &[&str] = &["add", "remove", "update", "replace", "reorder"];

impl Corpus {
    /// Reads a corpus and checks what the format alone can: ids, requests, checks.
    pub fn parse(file: &str, text: &str) -> Result<Corpus, CorpusError> {
        let err = |message: String| CorpusError {
            file: file.to_owned(),
            message,
        };
        let raw: RawCorpus = serde_norway::from_str(text).map_err(|e| err(e.to_string()))?;
        if raw.cases.is_empty() {
            return Err(err("the corpus has no cases".into()));
        }
        if raw.cases.len() > MAX_CASES {
            return Err(err(format!(
                "the corpus has {} cases; at most {MAX_CASES}",
                raw.cases.len()
            )));
        }
        let mut ids = BTreeSet::new();
        let mut cases = Vec::with_capacity(raw.cases.len());
        for (i, c) in raw.cases.into_iter().enumerate() {
            let at = |m: String| err(format!("case {} ('{}'): {m}", i + 1, c.id));
            let id = c.id.trim().to_owned();
            if id.is_empty() || id.len() > 100 {
                return Err(at("id must be 1 to 100 characters".into()));
            }
            if !ids.insert(id.clone()) {
                return Err(at("the id is used twice".into()));
            }
            let request = c.request.trim().to_owned();
            if request.is_empty() || request.chars().count() > 8_000 {
                return Err(at("request must be 1 to 8000 characters".into()));
            }
            if c.expect.operations.is_empty() && c.expect.scenarios.is_empty() {
                return Err(at(
                    "expect needs operations or scenarios: a case that accepts anything measures nothing"
                        .into(),
                ));
            }
            for (j, op) in c.expect.operations.iter().enumerate() {
                check_op(op).map_err(|m| at(format!("expect.operations[{j}]: {m}")))?;
            }
            if let Some(s) = &c.start
                && !s.is_object()
            {
                return Err(at("start must be a patch document (an object)".into()));
            }
            cases.push(Case {
                id,
                request,
                start: c.start,
                expect: Expect {
                    operations: c.expect.operations,
                    scenarios: c.expect.scenarios,
                },
            });
        }
        Ok(Corpus {
            name: raw
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| file.trim_end_matches(".yaml").to_owned()),
            cases,
        })
    }

    /// Which scopes and operations the expectations cover (`object add`, …).
    pub fn coverage(&self) -> BTreeSet<(String, String)> {
        self.cases
            .iter()
            .flat_map(|c| &c.expect.operations)
            .filter_map(|o| {
                Some((
                    o.get("scope")?.as_str()?.to_owned(),
                    o.get("op")?.as_str()?.to_owned(),
                ))
            })
            .collect()
    }
}

fn check_op(op: &Value) -> Result<(), String> {
    let o = op.as_object().ok_or("must be an object")?;
    for (k, allowed) in [("scope", SCOPES), ("op", OPS)] {
        match o.get(k) {
            None => {}
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => {}
            Some(v) => {
                return Err(format!("{k} {v} is not one of {}", allowed.join(", ")));
            }
        }
    }
    if o.get("scope").is_none() && o.get("op").is_none() && o.get("target").is_none() {
        return Err("name at least a scope, an op or a target".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_corpus_covers_every_scope_and_operation_half_in_chinese() {
        let c = shipped();
        assert!(c.cases.len() >= 60, "{}", c.cases.len());
        let zh = c.cases.iter().filter(|c| c.language() == "zh").count();
        assert!(
            zh * 2 >= c.cases.len(),
            "{zh} of {} in Chinese",
            c.cases.len()
        );
        let cov = c.coverage();
        for s in SCOPES {
            assert!(cov.iter().any(|(x, _)| x == s), "scope {s} uncovered");
        }
        for o in OPS {
            assert!(cov.iter().any(|(_, x)| x == o), "op {o} uncovered");
        }
    }

    #[test]
    fn format_errors_name_the_case() {
        let bad = |t: &str| Corpus::parse("c.yaml", t).unwrap_err().message;
        assert!(bad("cases: []").contains("no cases"));
        assert!(bad("cases:\n  - {id: a, request: x}").contains("expect needs"));
        let twice = "cases:\n  - {id: a, request: x, expect: {operations: [{scope: object}]}}\n  - {id: a, request: y, expect: {operations: [{scope: page}]}}";
        assert!(bad(twice).contains("used twice"));
        let scope = "cases:\n  - {id: a, request: x, expect: {operations: [{scope: table}]}}";
        let m = bad(scope);
        assert!(m.contains("case 1 ('a')") && m.contains("table"), "{m}");
        assert!(bad("cases:\n  - {id: a, request: x, colour: red}").contains("colour"));
        assert!(bad("{{{{").len() > 3);
    }
}
