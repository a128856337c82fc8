use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::openapi::ErrorBody;
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::reviews::{self, CommentInput, CommentView, ReviewDetail, ReviewView, SubmitInput};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let dev = Access::Permission(Permission::ModulesDevelop);
    let review = Access::Permission(Permission::ModulesReview);
    let readers = Access::AnyOf(reviews::READERS);
    Routes::default()
        .api(dev, routes!(submit))
        .api(readers, routes!(module_reviews))
        .api(readers, routes!(list_reviews))
        .api(readers, routes!(get_review))
        .api(
            Access::Permission(Permission::ReviewsAssign),
            routes!(assign),
        )
        .api(review, routes!(claim))
        .api(readers, routes!(add_comment))
        .api(readers, routes!(resolve_comment))
        .api(review, routes!(approve))
        .api(review, routes!(reject))
        .api(dev, routes!(withdraw))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitBody {
    /// The module's current version.
    #[schema(minimum = 1)]
    pub version: i64,
    /// Usernames of the reviewers to assign; absent or empty: any reviewer.
    pub reviewers: Option<Vec<String>>,
    /// A note for the reviewers.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewList {
    pub items: Vec<ReviewView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `pending`, `reviewing`, `approved`, `rejected`, `withdrawn` or `superseded`.
    pub status: Option<String>,
    /// `me`, `none` or `any` (default).
    pub assigned: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignBody {
    /// Usernames of reviewers (users with `modules.review`).
    #[schema(min_items = 1)]
    pub reviewers: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommentBody {
    /// Markdown.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// The index of the patch operation the comment is about.
    #[schema(minimum = 0)]
    pub operation: Option<i64>,
    /// The comment this one answers.
    pub reply_to: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApproveBody {
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RejectBody {
    /// Why; required.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Submits the module's current version for review. Refused with 409 `not_ready`
/// listing every unmet condition in `details.reasons` (untested, tests failed,
/// coverage below the gate with `need` and `have`, L2 unconfirmed, invalid, not the
/// current version); nothing changes then.
#[utoipa::path(post, path = "/api/modules/{id}/submit", tag = "review", params(("id" = String, Path)), request_body = SubmitBody,
    responses((status = 201, body = ReviewView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "not ready, or under review already"), (status = 422, body = ErrorBody)))]
async fn submit(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<SubmitBody>,
) -> ApiResult<(StatusCode, Json<ReviewView>)> {
    let r = reviews::submit(
        &state.app,
        &by,
        &id,
        SubmitInput {
            version: b.version,
            reviewers: b.reviewers.unwrap_or_default(),
            note: b.note,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The module's reviews, newest first.
#[utoipa::path(get, path = "/api/modules/{id}/reviews", tag = "review", params(("id" = String, Path)),
    responses((status = 200, body = ReviewList), (status = 404, body = ErrorBody)))]
async fn module_reviews(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ReviewList>> {
    Ok(Json(ReviewList {
        items: reviews::for_module(&state.app, &by, &id).await?,
    }))
}

/// Reviews, newest first: by status, and assigned to the caller, to nobody or any.
#[utoipa::path(get, path = "/api/reviews", tag = "review", params(ListQuery),
    responses((status = 200, body = ReviewList), (status = 422, body = ErrorBody)))]
async fn list_reviews(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ReviewList>> {
    let status = reviews::parse_status(q.status.as_deref().unwrap_or(""))?;
    let assigned = q.assigned.as_deref().unwrap_or("any").parse()?;
    Ok(Json(ReviewList {
        items: reviews::list(&state.app, &by, status, assigned).await?,
    }))
}

/// A review with everything a reviewer decides on: the version and its operations,
/// the spec diff against the live spec, the test report, AI provenance, the comment
/// thread, and what the caller may do (or why not).
#[utoipa::path(get, path = "/api/reviews/{id}", tag = "review", params(("id" = String, Path)),
    responses((status = 200, body = ReviewDetail), (status = 404, body = ErrorBody)))]
async fn get_review(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ReviewDetail>> {
    Ok(Json(reviews::get(&state.app, &by, &id).await?))
}

/// Names the reviewers (administrators).
#[utoipa::path(post, path = "/api/reviews/{id}/assign", tag = "review", params(("id" = String, Path)), request_body = AssignBody,
    responses((status = 200, body = ReviewView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AssignBody>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(
        reviews::assign(&state.app, &by, &id, &b.reviewers).await?,
    ))
}

/// Takes the review: it moves to `reviewing` and the caller becomes a reviewer.
#[utoipa::path(post, path = "/api/reviews/{id}/claim", tag = "review", params(("id" = String, Path)),
    responses((status = 200, body = ReviewView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn claim(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(reviews::claim(&state.app, &by, &id).await?))
}

/// Adds a comment (Markdown), optionally on one operation of the patch or in reply.
#[utoipa::path(post, path = "/api/reviews/{id}/comments", tag = "review", params(("id" = String, Path)), request_body = CommentBody,
    responses((status = 201, body = CommentView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_comment(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CommentBody>,
) -> ApiResult<(StatusCode, Json<CommentView>)> {
    let c = reviews::comment(
        &state.app,
        &by,
        &id,
        CommentInput {
            body: b.body,
            operation: b.operation,
            reply_to: b.reply_to,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Marks a comment resolved.
#[utoipa::path(post, path = "/api/reviews/{id}/comments/{c}/resolve", tag = "review", params(("id" = String, Path), ("c" = String, Path)),
    responses((status = 200, body = CommentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resolve_comment(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath((id, c)): ApiPath<(String, String)>,
) -> ApiResult<Json<CommentView>> {
    Ok(Json(
        reviews::resolve_comment(&state.app, &by, &id, &c).await?,
    ))
}

/// Approves the version under review; the approval binds to its content hash.
/// 403 `four_eyes` for anyone who wrote or generated the module since its last
/// approval; 409 when someone else decided first.
#[utoipa::path(post, path = "/api/reviews/{id}/approve", tag = "review", params(("id" = String, Path)), request_body(content = Option<ApproveBody>),
    responses((status = 200, body = ReviewView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn approve(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ReviewView>> {
    // The body is optional: none approves without a note.
    let b: ApproveBody = if body.iter().all(u8::is_ascii_whitespace) {
        ApproveBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            app::AppError::invalid("body", format!("expected {{\"note\"?: string}}: {e}"))
        })?
    };
    Ok(Json(
        reviews::approve(&state.app, &by, &id, b.note.as_deref()).await?,
    ))
}

/// Rejects with a reason (required); the module returns to draft.
#[utoipa::path(post, path = "/api/reviews/{id}/reject", tag = "review", params(("id" = String, Path)), request_body = RejectBody,
    responses((status = 200, body = ReviewView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reject(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RejectBody>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(
        reviews::reject(&state.app, &by, &id, &b.reason).await?,
    ))
}

/// The submitter takes the review back; the module returns to draft.
#[utoipa::path(post, path = "/api/reviews/{id}/withdraw", tag = "review", params(("id" = String, Path)),
    responses((status = 200, body = ReviewView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn withdraw(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(reviews::withdraw(&state.app, &by, &id).await?))
}
