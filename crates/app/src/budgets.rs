//! Monthly budgets on model use, per model or over all models, in tokens or money.
//! A generation that would start past one is refused (`budget_exhausted`); at 80%
//! the administrators are told once per month.

use crate::error::{AppError, AppResult, FieldErrors, Problem};
use crate::notifications::{self, Announcement};
use crate::time::month_of;
use crate::usage::prices_of;
use crate::{App, Caller};
use access::Permission;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use store::audit::{self, Outcome};
use store::budgets::Budget;
use store::models::ModelConfig;
use store::{new_id, now_ms};

/// The share of a budget at which the administrators are warned.
const WARN_AT: f64 = 0.8;

/// A budget as given; for an edit, `None` keeps a field and `Some(None)` clears an
/// optional one.
#[derive(Debug, Default, Clone)]
pub struct BudgetInput {
    pub model_id: Option<Option<String>>,
    pub period: Option<String>,
    pub limit_tokens: Option<Option<i64>>,
    /// In the budget's currency.
    pub limit_cost: Option<Option<f64>>,
    pub currency: Option<String>,
}

/// A budget with what this month has used of it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BudgetView {
    pub id: String,
    /// Absent: all models together.
    pub model_id: Option<String>,
    /// The model's name, or "all models".
    pub scope: String,
    /// `month` (calendar month, UTC).
    pub period: String,
    pub limit_tokens: Option<i64>,
    pub limit_cost: Option<f64>,
    pub currency: String,
    /// The period reported on, like `2026-12`.
    pub month: String,
    pub spent_tokens: i64,
    pub spent_cost: f64,
    /// The larger of the used shares (1.0 = spent).
    pub used: f64,
    /// `ok`, `warning` (80% or more) or `exhausted`.
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
}

impl BudgetView {
    /// "the monthly budget for Kimi".
    pub fn name(&self) -> String {
        format!("the monthly budget for {}", self.scope)
    }

    /// "41,500 of 50,000 tokens; 3.10 of 5.00 USD".
    pub fn spent_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = self.limit_tokens {
            parts.push(format!("{} of {} tokens", self.spent_tokens, l));
        }
        if let Some(l) = self.limit_cost {
            parts.push(format!(
                "{:.2} of {:.2} {}",
                self.spent_cost, l, self.currency
            ));
        }
        parts.join("; ")
    }
}

fn micros(x: f64) -> i64 {
    (x * 1_000_000.0).round() as i64
}

async fn view(app: &App, b: &Budget, models: &[ModelConfig]) -> AppResult<BudgetView> {
    let (from, to, month) = month_of(now_ms());
    let (tokens, cost) =
        store::usage::spent(&app.db, b.model_id.as_deref(), from, to, &b.currency).await?;
    let share = |spent: i64, limit: Option<i64>| {
        limit.map_or(0.0, |l| if l <= 0 { 1.0 } else { spent as f64 / l as f64 })
    };
    let used = share(tokens, b.limit_tokens).max(share(cost, b.limit_cost_micros));
    let scope = match &b.model_id {
        None => "all models".to_owned(),
        Some(id) => models
            .iter()
            .find(|m| &m.id == id)
            .map_or_else(|| format!("model {id}"), |m| m.name.clone()),
    };
    Ok(BudgetView {
        id: b.id.clone(),
        model_id: b.model_id.clone(),
        scope,
        period: b.period.clone(),
        limit_tokens: b.limit_tokens,
        limit_cost: b.limit_cost_micros.map(|m| m as f64 / 1_000_000.0),
        currency: b.currency.clone(),
        month,
        spent_tokens: tokens,
        spent_cost: cost as f64 / 1_000_000.0,
        used,
        state: if used >= 1.0 {
            "exhausted"
        } else if used >= WARN_AT {
            "warning"
        } else {
            "ok"
        }
        .into(),
        created_at: crate::time::rfc3339(b.created_at),
        updated_at: crate::time::rfc3339(b.updated_at),
    })
}

async fn views_of(app: &App, budgets: &[Budget]) -> AppResult<Vec<BudgetView>> {
    let models = store::models::list(&app.db).await?;
    let mut out = Vec::with_capacity(budgets.len());
    for b in budgets {
        out.push(view(app, b, &models).await?);
    }
    Ok(out)
}

pub async fn list(app: &App, by: &Caller) -> AppResult<Vec<BudgetView>> {
    by.require(Permission::ModelsManage)?;
    let all = store::budgets::list(&app.db).await?;
    views_of(app, &all).await
}

pub async fn get(app: &App, by: &Caller, id: &str) -> AppResult<BudgetView> {
    by.require(Permission::ModelsManage)?;
    let b = find(app, id).await?;
    views_of(app, std::slice::from_ref(&b))
        .await
        .map(|mut v| v.remove(0))
}

async fn find(app: &App, id: &str) -> AppResult<Budget> {
    store::budgets::get(&app.db, id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("budget {id}")))
}

/// `input` applied to `current` (or to a new budget), with every problem at once.
async fn resolve(app: &App, current: Option<&Budget>, input: &BudgetInput) -> AppResult<Budget> {
    let mut errs = FieldErrors::default();
    let now = now_ms();
    let mut b = current.cloned().unwrap_or_else(|| Budget {
        id: new_id(),
        model_id: None,
        period: "month".into(),
        limit_tokens: None,
        limit_cost_micros: None,
        currency: String::new(),
        warned_period: None,
        created_at: now,
        updated_at: now,
    });
    let mut model = None;
    if let Some(m) = &input.model_id {
        b.model_id = m.clone();
    }
    if let Some(id) = &b.model_id {
        match store::models::get(&app.db, id).await? {
            Some(m) => model = Some(m),
            None => errs.add("modelId", format!("no model with id '{id}'")),
        }
    }
    if let Some(p) = &input.period {
        if p == "month" {
            b.period = p.clone();
        } else {
            errs.add(
                "period",
                format!("'{p}' is not a period; budgets are per 'month'"),
            );
        }
    }
    if let Some(t) = input.limit_tokens {
        match t {
            Some(t) if !(1..=1_000_000_000_000).contains(&t) => {
                errs.add("limitTokens", "must be between 1 and 1000000000000")
            }
            t => b.limit_tokens = t,
        }
    }
    if let Some(c) = input.limit_cost {
        match c {
            Some(c) if !(c.is_finite() && c > 0.0 && c <= 1e9) => errs.add(
                "limitCost",
                "must be an amount above 0 and at most 1000000000",
            ),
            c => b.limit_cost_micros = c.map(micros),
        }
    }
    match &input.currency {
        Some(c) if c.len() == 3 && c.bytes().all(|x| x.is_ascii_uppercase()) => {
            b.currency = c.clone()
        }
        Some(c) => errs.add(
            "currency",
            format!("'{c}' is not a currency code like USD or CNY"),
        ),
        None if b.currency.is_empty() => {
            // The model's own currency; else the one most prices are in.
            b.currency = model
                .as_ref()
                .and_then(prices_of)
                .map_or_else(|| "USD".to_owned(), |p| p.currency);
        }
        None => {}
    }
    if b.limit_tokens.is_none() && b.limit_cost_micros.is_none() {
        errs.add(
            "limitTokens",
            "give a limit in tokens (limitTokens), in money (limitCost), or both",
        );
    }
    errs.into_result()?;
    // A changed limit may warn again this month.
    if current.is_some_and(|c| {
        c.limit_tokens != b.limit_tokens
            || c.limit_cost_micros != b.limit_cost_micros
            || c.model_id != b.model_id
    }) {
        b.warned_period = None;
    }
    Ok(b)
}

fn entry(by: &Caller, action: &str, b: &Budget) -> store::audit::NewEntry {
    let mut e = by.audit(action, Outcome::Success);
    e.resource_type = Some("budget".into());
    e.resource_id = Some(b.id.clone());
    e.details = json!({
        "modelId": b.model_id, "period": b.period, "limitTokens": b.limit_tokens,
        "limitCost": b.limit_cost_micros.map(|m| m as f64 / 1_000_000.0), "currency": b.currency,
    });
    e
}

pub async fn create(app: &App, by: &Caller, input: BudgetInput) -> AppResult<BudgetView> {
    by.require(Permission::ModelsManage)?;
    let b = resolve(app, None, &input).await?;
    let mut tx = app.db.begin().await?;
    store::budgets::insert(&mut tx, &b).await?;
    audit::append(&mut tx, entry(by, "budget.create", &b)).await?;
    tx.commit().await?;
    get(app, by, &b.id).await
}

pub async fn update(app: &App, by: &Caller, id: &str, input: BudgetInput) -> AppResult<BudgetView> {
    by.require(Permission::ModelsManage)?;
    let current = find(app, id).await?;
    let b = resolve(app, Some(&current), &input).await?;
    let mut tx = app.db.begin().await?;
    store::budgets::update(&mut tx, &b).await?;
    audit::append(&mut tx, entry(by, "budget.update", &b)).await?;
    tx.commit().await?;
    get(app, by, id).await
}

pub async fn delete(app: &App, by: &Caller, id: &str) -> AppResult<()> {
    by.require(Permission::ModelsManage)?;
    let b = find(app, id).await?;
    let mut tx = app.db.begin().await?;
    store::budgets::delete(&mut tx, id).await?;
    audit::append(&mut tx, entry(by, "budget.delete", &b)).await?;
    tx.commit().await?;
    Ok(())
}

/// The budgets that count calls to `model`: its own and the overall ones.
async fn applying(app: &App, model: &ModelConfig) -> AppResult<Vec<BudgetView>> {
    let all: Vec<Budget> = store::budgets::list(&app.db)
        .await?
        .into_iter()
        .filter(|b| b.model_id.as_ref().is_none_or(|id| *id == model.id))
        .collect();
    views_of(app, &all).await
}

/// The first spent budget that counts calls to `model`, if any.
pub async fn exhausted(app: &App, model: &ModelConfig) -> AppResult<Option<BudgetView>> {
    Ok(applying(app, model)
        .await?
        .into_iter()
        .find(|b| b.state == "exhausted"))
}

/// The refusal of a model call past `b`, naming it.
pub fn refusal(b: &BudgetView) -> AppError {
    AppError::Conflict(Box::new(
        Problem::new(
            "budget_exhausted",
            format!(
                "{} is spent for {} ({}); nothing was generated — an administrator can raise it on the usage page",
                b.name(),
                b.month,
                b.spent_text()
            ),
        )
        .detail("budget", b),
    ))
}

/// Refuses to start model calls past a budget, naming it.
pub async fn check(app: &App, model: &ModelConfig) -> AppResult<()> {
    match exhausted(app, model).await? {
        Some(b) => Err(refusal(&b)),
        None => Ok(()),
    }
}

/// After a call: tells the administrators, once per month per budget, that a
/// budget counting `model` passed 80%.
pub async fn warn_if_near(app: &App, model: &ModelConfig) -> AppResult<()> {
    let near: Vec<BudgetView> = applying(app, model)
        .await?
        .into_iter()
        .filter(|b| b.used >= WARN_AT)
        .collect();
    if near.is_empty() {
        return Ok(());
    }
    let people = notifications::people(app).await?;
    let admins: BTreeSet<String> = people
        .iter()
        .filter(|u| {
            u.roles
                .iter()
                .any(|r| r.permissions().contains(&Permission::ModelsManage))
        })
        .map(|u| u.username.clone())
        .collect();
    for b in near {
        let mut tx = app.db.begin().await?;
        // One replica, one call wins the month's warning.
        if !store::budgets::claim_warning(&mut tx, &b.id, &b.month).await? {
            continue;
        }
        let percent = (b.used * 100.0).floor() as i64;
        let announced = notifications::announce(
            app,
            &mut tx,
            &people,
            Announcement {
                event: "budget.warning",
                actor: "modgate".into(),
                module_id: String::new(),
                module_name: String::new(),
                version: 0,
                review: None,
                recipients: admins.clone(),
                extra: Some(json!({ "budget": {
                    "id": b.id, "name": b.name(), "month": b.month, "percent": percent,
                    "spent": b.spent_text(), "modelId": b.model_id,
                }})),
            },
        )
        .await?;
        let mut e = Caller::system().audit("budget.warning", Outcome::Success);
        e.resource_type = Some("budget".into());
        e.resource_id = Some(b.id.clone());
        e.details = json!({ "month": b.month, "percent": percent, "spent": b.spent_text() });
        audit::append(&mut tx, e).await?;
        tx.commit().await?;
        app.signals.announced(announced.user_ids);
    }
    Ok(())
}
