//! What model calls used and cost: one row per call (written by the gateway and the
//! evaluation bench), and the reports the usage page and `GET /api/usage` show.

use crate::error::{AppError, AppResult};
use crate::time::{day_of, day_start, month_of, parse_day};
use crate::{App, Caller};
use access::Permission;
use llm::{Prices, Usage};
use serde::Serialize;
use std::collections::BTreeMap;
use store::models::ModelConfig;
use store::now_ms;
use store::usage::{Dim, Filter, NewUsage, Sums};

/// Amounts per currency, in micros.
pub type Costs = BTreeMap<String, i64>;

/// Amounts per currency as numbers for people and clients (six decimals at most).
pub fn costs_view(c: &Costs) -> BTreeMap<String, f64> {
    c.iter()
        .map(|(k, v)| (k.clone(), *v as f64 / 1_000_000.0))
        .collect()
}

/// The model's prices; `None` when it has none (or they cannot be read, which the
/// models page shows as unpriced rather than failing a generation).
pub fn prices_of(m: &ModelConfig) -> Option<Prices> {
    m.prices
        .as_ref()
        .and_then(|p| serde_json::from_value(p.clone()).ok())
}

/// What one call is about, beyond the model.
#[derive(Clone, Copy)]
pub struct CallContext<'a> {
    pub by: &'a Caller,
    pub module_id: Option<&'a str>,
    /// `generate` or `eval`.
    pub purpose: &'static str,
}

/// A recorded call's cost: micros in a currency, or nothing for an unpriced model.
#[derive(Debug, Clone, Default)]
pub struct CallCost {
    pub micros: i64,
    pub currency: Option<String>,
}

impl CallCost {
    /// `{"USD": 0.0143}`, or `{}` for an unpriced model: what audit rows keep.
    pub fn view(&self) -> BTreeMap<String, f64> {
        let mut c = Costs::new();
        self.add_to(&mut c);
        costs_view(&c)
    }

    pub fn add_to(&self, costs: &mut Costs) {
        if let Some(c) = &self.currency {
            *costs.entry(c.clone()).or_default() += self.micros;
        }
    }
}

/// Records one model call (a failed one with what it used, usually nothing) and
/// warns the administrators when a budget passes 80%.
pub async fn record(
    app: &App,
    cx: CallContext<'_>,
    model: &ModelConfig,
    outcome: &str,
    usage: &Usage,
    latency_ms: u64,
) -> AppResult<CallCost> {
    let prices = prices_of(model);
    let cost = CallCost {
        micros: prices.as_ref().map_or(0, |p| p.cost_micros(usage)),
        currency: prices.map(|p| p.currency),
    };
    let clamp = |n: u64| n.min(i64::MAX as u64) as i64;
    store::usage::record(
        &app.db,
        &NewUsage {
            at: now_ms(),
            model_id: model.id.clone(),
            model_name: model.name.clone(),
            user_id: Some(cx.by.id.clone()).filter(|s| !s.is_empty()),
            username: Some(cx.by.username.clone()).filter(|s| !s.is_empty()),
            module_id: cx.module_id.map(str::to_owned),
            purpose: cx.purpose,
            outcome: outcome.to_owned(),
            tokens_in: clamp(usage.input_tokens),
            cached_in: clamp(usage.cached_input_tokens),
            tokens_out: clamp(usage.output_tokens),
            cost_micros: cost.micros,
            currency: cost.currency.clone(),
            latency_ms: clamp(latency_ms),
        },
    )
    .await?;
    if usage.input_tokens + usage.output_tokens > 0 {
        crate::budgets::warn_if_near(app, model).await?;
    }
    Ok(cost)
}

/// How a usage report groups calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Model,
    Day,
    User,
    Module,
}

impl std::str::FromStr for GroupBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "model" => Ok(GroupBy::Model),
            "day" => Ok(GroupBy::Day),
            "user" => Ok(GroupBy::User),
            "module" => Ok(GroupBy::Module),
            _ => Err(format!(
                "groupBy: '{s}' is not one of model, day, user, module"
            )),
        }
    }
}

impl GroupBy {
    fn dim(self) -> Dim {
        match self {
            GroupBy::Model => Dim::Model,
            GroupBy::Day => Dim::Day,
            GroupBy::User => Dim::User,
            GroupBy::Module => Dim::Module,
        }
    }
}

/// One group's usage.
#[derive(Debug, Clone, Serialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    /// The model id, the day (`2026-12-01`), the username or the module id; empty
    /// for calls without one (an evaluation has no module).
    pub key: String,
    /// What people call it: the model's or module's name, the day, the username.
    pub label: String,
    pub calls: i64,
    /// Calls that failed (they are counted, and cost what the provider billed).
    pub failed: i64,
    pub tokens_in: i64,
    pub cached_tokens_in: i64,
    pub tokens_out: i64,
    /// Cost per currency (`{"USD": 0.0143}`); empty when the models are unpriced.
    pub cost: BTreeMap<String, f64>,
    #[serde(skip)]
    pub cost_micros: Costs,
}

impl UsageRow {
    fn add(&mut self, s: &Sums) {
        self.calls += s.calls;
        self.failed += s.failed;
        self.tokens_in += s.tokens_in;
        self.cached_tokens_in += s.cached_in;
        self.tokens_out += s.tokens_out;
        if !s.currency.is_empty() {
            *self.cost_micros.entry(s.currency.clone()).or_default() += s.cost_micros;
        }
        self.cost = costs_view(&self.cost_micros);
    }

    pub fn tokens(&self) -> i64 {
        self.tokens_in + self.tokens_out
    }
}

/// A usage report over whole days `[from, to]` (UTC).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    pub from: String,
    pub to: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub group_by: GroupBy,
    /// Largest first (by tokens); by day, in date order.
    pub rows: Vec<UsageRow>,
    pub total: UsageRow,
}

/// The window of a report: given days, or the current month up to today.
pub fn window(from: Option<&str>, to: Option<&str>) -> AppResult<(i64, i64)> {
    let now = now_ms();
    let (month_start, _, _) = month_of(now);
    let from = match from.filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_day("from", s).map_err(|m| AppError::invalid("from", m))?,
        None => month_start,
    };
    let to = match to.filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_day("to", s).map_err(|m| AppError::invalid("to", m))?,
        None => parse_day("to", &day_of(now)).map_err(|m| AppError::invalid("to", m))?,
    } + day_start(1);
    if to <= from {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    if to - from > day_start(366) {
        return Err(AppError::invalid("to", "a report covers at most 366 days"));
    }
    Ok((from, to))
}

/// Usage in `[from, to)` by `group_by`.
pub async fn report(
    app: &App,
    by: &Caller,
    (from, to): (i64, i64),
    group_by: GroupBy,
) -> AppResult<UsageReport> {
    by.require(Permission::ModelsManage)?;
    let f = Filter {
        from,
        to,
        module_id: None,
    };
    let sums = store::usage::grouped(&app.db, &f, group_by.dim(), None).await?;
    let names = module_names(app, group_by).await?;
    let mut rows: Vec<UsageRow> = Vec::new();
    let mut total = UsageRow::default();
    for s in &sums {
        total.add(s);
        let i = match rows.iter().position(|r| r.key == s.key) {
            Some(i) => i,
            None => {
                rows.push(UsageRow {
                    key: key_of(group_by, &s.key),
                    label: label_of(group_by, s, &names),
                    ..UsageRow::default()
                });
                rows.len() - 1
            }
        };
        rows[i].add(s);
    }
    if group_by == GroupBy::Day {
        rows.sort_by(|a, b| a.key.cmp(&b.key));
    } else {
        rows.sort_by_key(|r| std::cmp::Reverse(r.tokens()));
    }
    Ok(UsageReport {
        from: day_of(from),
        to: day_of(to - 1),
        group_by,
        rows,
        total,
    })
}

fn key_of(g: GroupBy, key: &str) -> String {
    match g {
        GroupBy::Day => key
            .parse::<i64>()
            .map(|d| day_of(day_start(d)))
            .unwrap_or_default(),
        _ => key.to_owned(),
    }
}

fn label_of(g: GroupBy, s: &Sums, modules: &BTreeMap<String, String>) -> String {
    match g {
        GroupBy::Model => s.label.clone(),
        GroupBy::Day => key_of(g, &s.key),
        GroupBy::User => s.key.clone(),
        GroupBy::Module if s.key.is_empty() => "(evaluations)".into(),
        GroupBy::Module => modules
            .get(&s.key)
            .cloned()
            .unwrap_or_else(|| format!("(deleted module {})", s.key)),
    }
}

async fn module_names(app: &App, g: GroupBy) -> AppResult<BTreeMap<String, String>> {
    if g != GroupBy::Module {
        return Ok(BTreeMap::new());
    }
    Ok(store::modules::list(&app.db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect())
}

/// Tokens and cost per day per model, for the usage chart: `(day, model name) → row`.
pub async fn daily_by_model(
    app: &App,
    by: &Caller,
    (from, to): (i64, i64),
) -> AppResult<Vec<(String, String, UsageRow)>> {
    by.require(Permission::ModelsManage)?;
    let f = Filter {
        from,
        to,
        module_id: None,
    };
    // Grouped by model first, so the label is the model's name.
    let sums = store::usage::grouped(&app.db, &f, Dim::Model, Some(Dim::Day)).await?;
    let mut out: Vec<(String, String, UsageRow)> = Vec::new();
    for s in &sums {
        let day = key_of(GroupBy::Day, &s.key2);
        match out.iter_mut().find(|(d, m, _)| *d == day && *m == s.label) {
            Some((_, _, r)) => r.add(s),
            None => {
                let mut r = UsageRow {
                    key: s.key.clone(),
                    label: s.label.clone(),
                    ..UsageRow::default()
                };
                r.add(s);
                out.push((day, s.label.clone(), r));
            }
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(out)
}

/// What a module's generations have cost so far (every call, failed ones too).
pub async fn module_total(app: &App, module_id: &str) -> AppResult<UsageRow> {
    let f = Filter {
        from: 0,
        to: i64::MAX,
        module_id: Some(module_id.to_owned()),
    };
    let mut total = UsageRow {
        key: module_id.to_owned(),
        ..UsageRow::default()
    };
    for s in store::usage::grouped(&app.db, &f, Dim::Module, None).await? {
        total.add(&s);
    }
    Ok(total)
}
