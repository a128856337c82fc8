use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::openapi::ErrorBody;
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::publishing::{
    self, Impact, PublicationView, Published, Releases, Restored, SpecVersionView,
};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

/// Who follows modules to production: publishers, reviewers, developers.
pub const READERS: &[Permission] = &[
    Permission::ModulesPublish,
    Permission::ModulesReview,
    Permission::ModulesDevelop,
];

pub fn routes() -> Routes {
    let publish = Access::Permission(Permission::ModulesPublish);
    let readers = Access::AnyOf(READERS);
    Routes::default()
        .api(publish, routes!(publish_module))
        .api(publish, routes!(unpublish_module))
        .api(publish, routes!(rollback_module))
        .api(
            Access::Permission(Permission::SpecRestore),
            routes!(restore_spec),
        )
        .api(readers, routes!(impact))
        .api(readers, routes!(releases))
        .api(readers, routes!(publications))
        .api(readers, routes!(spec_history))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishBody {
    /// An approved version of the module.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The release name (semver); absent: the next patch (L1) or minor (L2).
    pub release: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackBody {
    /// A version published before and still approved.
    #[schema(minimum = 1)]
    pub version: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreBody {
    /// The spec version whose published set to bring back.
    #[schema(minimum = 1)]
    pub spec_version: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImpactQuery {
    /// `publish`, `unpublish` or `rollback`.
    pub action: String,
    /// The version to publish or roll back to.
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicationList {
    pub items: Vec<PublicationView>,
}

#[derive(Serialize, ToSchema)]
pub struct SpecHistory {
    pub items: Vec<SpecVersionView>,
}

fn key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Publishes an approved version (上架): the live spec is recomputed with it, in one
/// transaction with the release record and the audit row. 409 `not_approved` unless
/// an approval is bound to the version's content hash; 422 `conflict_with_module`
/// naming the published module it conflicts with. `Idempotency-Key`: a retry returns
/// the first answer.
#[utoipa::path(post, path = "/api/modules/{id}/publish", tag = "publishing", request_body = PublishBody,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 200, body = Published), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn publish_module(
    State(state): State<AppState>,
    by: CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PublishBody>,
) -> ApiResult<Json<Published>> {
    let request = format!("publish {id} v{}", b.version);
    let out = publishing::idempotent(&state.app, &by, key(&headers).as_deref(), &request, || {
        publishing::publish(&state.app, &by, &id, b.version, b.release.as_deref())
    })
    .await?;
    Ok(Json(out))
}

/// Takes the module out of the live spec (下架); records keep every value. 409
/// `required_by` naming a published module that depends on it.
#[utoipa::path(post, path = "/api/modules/{id}/unpublish", tag = "publishing",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 200, body = Published), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn unpublish_module(
    State(state): State<AppState>,
    by: CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Published>> {
    let request = format!("unpublish {id}");
    let out = publishing::idempotent(&state.app, &by, key(&headers).as_deref(), &request, || {
        publishing::unpublish(&state.app, &by, &id)
    })
    .await?;
    Ok(Json(out))
}

/// Publishes an earlier version that was published before and is still approved.
#[utoipa::path(post, path = "/api/modules/{id}/rollback", tag = "publishing", request_body = RollbackBody,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 200, body = Published), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rollback_module(
    State(state): State<AppState>,
    by: CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RollbackBody>,
) -> ApiResult<Json<Published>> {
    let request = format!("rollback {id} v{}", b.version);
    let out = publishing::idempotent(&state.app, &by, key(&headers).as_deref(), &request, || {
        publishing::rollback(&state.app, &by, &id, b.version)
    })
    .await?;
    Ok(Json(out))
}

/// Brings back the published modules (and versions) of an earlier spec version
/// (administrators); refused like a publish when it would not validate.
#[utoipa::path(post, path = "/api/spec/restore", tag = "publishing", request_body = RestoreBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first answer")),
    responses((status = 200, body = Restored), (status = 422, body = ErrorBody)))]
async fn restore_spec(
    State(state): State<AppState>,
    by: CurrentUser,
    headers: HeaderMap,
    ApiJson(b): ApiJson<RestoreBody>,
) -> ApiResult<Json<Restored>> {
    let request = format!("restore spec {}", b.spec_version);
    let out = publishing::idempotent(&state.app, &by, key(&headers).as_deref(), &request, || {
        publishing::restore(&state.app, &by, b.spec_version)
    })
    .await?;
    Ok(Json(out))
}

/// What a publish, unpublish or rollback would do: the live spec diff, every changed
/// definition in words, and per object the records that would fail a new or narrower
/// constraint and the fields and objects that would be hidden (counted in SQL).
#[utoipa::path(get, path = "/api/modules/{id}/impact", tag = "publishing", params(("id" = String, Path), ImpactQuery),
    responses((status = 200, body = Impact), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn impact(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ImpactQuery>,
) -> ApiResult<Json<Impact>> {
    Ok(Json(
        publishing::impact(&state.app, &by, &id, &q.action, q.version).await?,
    ))
}

/// The module's releases (newest first, the live one marked) and its publication.
#[utoipa::path(get, path = "/api/modules/{id}/releases", tag = "publishing", params(("id" = String, Path)),
    responses((status = 200, body = Releases), (status = 404, body = ErrorBody)))]
async fn releases(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Releases>> {
    Ok(Json(publishing::releases(&state.app, &by, &id).await?))
}

/// Every module ever published, in publish order.
#[utoipa::path(get, path = "/api/publications", tag = "publishing",
    responses((status = 200, body = PublicationList)))]
async fn publications(
    State(state): State<AppState>,
    by: CurrentUser,
) -> ApiResult<Json<PublicationList>> {
    Ok(Json(PublicationList {
        items: publishing::list(&state.app, &by).await?,
    }))
}

/// The live spec's history, newest first.
#[utoipa::path(get, path = "/api/spec/versions", tag = "publishing",
    responses((status = 200, body = SpecHistory)))]
async fn spec_history(
    State(state): State<AppState>,
    by: CurrentUser,
) -> ApiResult<Json<SpecHistory>> {
    Ok(Json(SpecHistory {
        items: publishing::spec_history(&state.app, &by).await?,
    }))
}
