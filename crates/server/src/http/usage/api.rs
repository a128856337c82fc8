use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::AppError;
use app::budgets::{self, BudgetInput, BudgetView};
use app::usage::{self, GroupBy, UsageReport};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::ModelsManage);
    Routes::default()
        .api(manage, routes!(get_usage))
        .api(manage, routes!(list_budgets, create_budget))
        .api(manage, routes!(patch_budget, delete_budget))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsageQuery {
    /// First day (UTC), `YYYY-MM-DD`; default: the first of this month.
    pub from: Option<String>,
    /// Last day, included; default: today. At most 366 days after `from`.
    pub to: Option<String>,
    /// `model` (default), `day`, `user` or `module`.
    #[param(value_type = Option<String>, pattern = "^(model|day|user|module)$")]
    pub group_by: Option<String>,
}

/// Tokens, calls and cost of model calls (generations and evaluations), grouped.
#[utoipa::path(get, path = "/api/usage", tag = "usage", params(UsageQuery),
    responses((status = 200, body = UsageReport), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn get_usage(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> ApiResult<Json<UsageReport>> {
    let group_by = match q.group_by.as_deref() {
        None => GroupBy::Model,
        Some(g) => g
            .parse::<GroupBy>()
            .map_err(|m| AppError::invalid("groupBy", m))?,
    };
    let window = usage::window(q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(
        usage::report(&state.app, &by, window, group_by).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct BudgetList {
    pub items: Vec<BudgetView>,
}

/// Every budget with this month's use of it.
#[utoipa::path(get, path = "/api/budgets", tag = "usage", responses((status = 200, body = BudgetList)))]
async fn list_budgets(
    State(state): State<AppState>,
    by: CurrentUser,
) -> ApiResult<Json<BudgetList>> {
    Ok(Json(BudgetList {
        items: budgets::list(&state.app, &by).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBudget {
    /// A model's id; absent: all models together.
    pub model_id: Option<String>,
    /// `month` (the calendar month, UTC).
    #[schema(pattern = "^month$")]
    pub period: String,
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub limit_tokens: Option<i64>,
    /// In `currency`.
    #[schema(exclusive_minimum = 0, maximum = 1000000000)]
    pub limit_cost: Option<f64>,
    /// ISO 4217; default: the model's price currency, else USD.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// Adds a monthly budget, per model or over all models, in tokens, money or both.
/// A generation that would start past it is refused (`budget_exhausted`); at 80% the
/// administrators are notified.
#[utoipa::path(post, path = "/api/budgets", tag = "usage", request_body = CreateBudget,
    responses((status = 201, body = BudgetView), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create_budget(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiJson(b): ApiJson<CreateBudget>,
) -> ApiResult<(StatusCode, Json<BudgetView>)> {
    let input = BudgetInput {
        model_id: Some(b.model_id),
        period: Some(b.period),
        limit_tokens: Some(b.limit_tokens),
        limit_cost: Some(b.limit_cost),
        currency: b.currency,
    };
    let v = budgets::create(&state.app, &by, input).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchBudget {
    /// `null`: all models.
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<String>)]
    pub model_id: Option<Option<String>>,
    #[schema(pattern = "^month$")]
    pub period: Option<String>,
    /// `null` removes the token limit.
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1000000000000i64)]
    pub limit_tokens: Option<Option<i64>>,
    /// `null` removes the money limit.
    #[serde(default, deserialize_with = "crate::http::extract::double_option")]
    #[schema(value_type = Option<f64>, exclusive_minimum = 0, maximum = 1000000000)]
    pub limit_cost: Option<Option<f64>>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// Changes a budget; a changed limit may warn again this month.
#[utoipa::path(patch, path = "/api/budgets/{id}", tag = "usage", params(("id" = String, Path)), request_body = PatchBudget,
    responses((status = 200, body = BudgetView), (status = 404, body = crate::http::openapi::ErrorBody),
              (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn patch_budget(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchBudget>,
) -> ApiResult<Json<BudgetView>> {
    let input = BudgetInput {
        model_id: b.model_id,
        period: b.period,
        limit_tokens: b.limit_tokens,
        limit_cost: b.limit_cost,
        currency: b.currency,
    };
    Ok(Json(budgets::update(&state.app, &by, &id, input).await?))
}

/// Removes a budget.
#[utoipa::path(delete, path = "/api/budgets/{id}", tag = "usage", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn delete_budget(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    budgets::delete(&state.app, &by, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
