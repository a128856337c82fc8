use crate::auth::CurrentUser;
use crate::http::extract::FormFields;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult, Refusal};
use access::{Access, Permission};
use app::budgets::{self, BudgetInput};
use app::usage::{self, GroupBy};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use minijinja::value::Serde;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::ModelsManage);
    Routes::default()
        .page(Method::GET, "/admin/ai-usage", manage, show)
        .page(Method::POST, "/admin/ai-usage/budgets", manage, add_budget)
        .page(
            Method::POST,
            "/admin/ai-usage/budgets/{id}/delete",
            manage,
            delete_budget,
        )
}

#[derive(serde::Deserialize, Default)]
struct Window {
    from: Option<String>,
    to: Option<String>,
    done: Option<String>,
}

/// The budget form's inputs for the API's field names.
const INPUTS: &[(&str, &str)] = &[
    ("modelId", "model_id"),
    ("limitTokens", "limit_tokens"),
    ("limitCost", "limit_cost"),
    ("currency", "currency"),
];

async fn render(
    state: &AppState,
    page: &Page,
    w: &Window,
    refused: Option<Refusal>,
    form: Option<minijinja::Value>,
) -> PageResult {
    let (window, window_error) = match usage::window(w.from.as_deref(), w.to.as_deref()) {
        Ok(win) => (win, None),
        // A bad day in the address shows this month, with the reason.
        Err(e) => (usage::window(None, None)?, Some(e.to_string())),
    };
    let app = &state.app;
    let by_model = usage::report(app, &page.user, window, GroupBy::Model).await?;
    let by_module = usage::report(app, &page.user, window, GroupBy::Module).await?;
    let by_user = usage::report(app, &page.user, window, GroupBy::User).await?;
    let daily = usage::daily_by_model(app, &page.user, window).await?;
    let chart = super::chart::tokens_per_day(&daily, window);
    let budgets = budgets::list(app, &page.user).await?;
    let models = app::models::list(app, &page.user).await?;
    let model_names: Vec<minijinja::Value> = models
        .iter()
        .map(|m| context! { id => m.id.clone(), name => m.name.clone() })
        .collect();
    let (errors, message, status) = match refused {
        Some(r) => (r.errors, Some(r.message), r.status),
        None => (Default::default(), window_error, StatusCode::OK),
    };
    let flash_ok = match w.done.as_deref() {
        Some("added") => Some(page.t("usage.budget_added")),
        Some("deleted") => Some(page.t("usage.budget_deleted")),
        _ => None,
    };
    let mut resp = page.render(
        "usage.html",
        context! {
            report => Serde(&by_model), modules => Serde(&by_module), users => Serde(&by_user),
            chart => Serde(&chart), budgets => Serde(&budgets), models => model_names,
            errors => Serde(errors), flash_error => message, flash_ok => flash_ok,
            form => form.unwrap_or_else(|| context! { currency => "" }),
        },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn show(State(state): State<AppState>, page: Page, Query(w): Query<Window>) -> PageResult {
    render(&state, &page, &w, None, None).await
}

/// The budget form: empty numbers are "no limit"; text that is not a number is an
/// error of its own, reported with the rest.
fn input_of(f: &FormFields) -> (BudgetInput, Vec<(String, String)>) {
    let mut bad = Vec::new();
    let tokens = f.number::<f64>("limit_tokens", "limitTokens", &mut bad);
    let cost = f.number::<f64>("limit_cost", "limitCost", &mut bad);
    let model = f.one("model_id");
    let currency = f.one("currency").trim().to_uppercase();
    let input = BudgetInput {
        model_id: Some(Some(model.trim().to_owned()).filter(|m| !m.is_empty())),
        period: Some("month".into()),
        limit_tokens: Some(tokens.map(|t| t.round() as i64)),
        limit_cost: Some(cost),
        currency: Some(currency).filter(|c| !c.is_empty()),
    };
    (input, bad)
}

async fn add_budget(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let (input, bad) = input_of(&f);
    let refused = if bad.is_empty() {
        match budgets::create(&state.app, &by, input).await {
            Ok(_) => return Ok(Redirect::to("/admin/ai-usage?done=added").into_response()),
            Err(e) if e.is_callers() => Refusal::of(&e, INPUTS),
            Err(e) => return Err(e.into()),
        }
    } else {
        let mut r = Refusal {
            errors: Default::default(),
            message: String::new(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
        };
        for (field, m) in &bad {
            let input = INPUTS
                .iter()
                .find(|(a, _)| a == field)
                .map_or(field.as_str(), |(_, i)| i);
            r.errors.insert(input.to_owned(), m.clone());
            r.message = format!("{field}: {m}");
        }
        r
    };
    let form = context! {
        model_id => f.one("model_id"), limit_tokens => f.one("limit_tokens"),
        limit_cost => f.one("limit_cost"), currency => f.one("currency"),
    };
    render(&state, &page, &Window::default(), Some(refused), Some(form)).await
}

async fn delete_budget(
    State(state): State<AppState>,
    by: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    budgets::delete(&state.app, &by, &id).await?;
    Ok(Redirect::to("/admin/ai-usage?done=deleted").into_response())
}
