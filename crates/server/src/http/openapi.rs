//! The OpenAPI 3.1 document, assembled from the handlers' `#[utoipa::path]`
//! attributes as the routes are registered — never a hand-kept copy.

use super::routing::Routes;
use access::Access;
use axum::Json;
use axum::response::IntoResponse;
use serde::Serialize;
use std::sync::LazyLock;
use utoipa::ToSchema;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_axum::routes;

/// The shape of every API error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, e.g. `validation`, `forbidden`, `csrf`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// Structured detail, e.g. `{"fields":[{"field","message"}]}` for validation errors.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

pub fn routes() -> Routes {
    Routes::default().api(Access::Public, routes!(openapi_json))
}

static DOC: LazyLock<OpenApi> = LazyLock::new(|| document(&super::routes()));

/// Builds the document for a set of routes.
pub fn document(routes: &Routes) -> OpenApi {
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        )
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("modgate_session"))),
        )
        .schema_from::<ErrorBody>()
        .schema_from::<ErrorDetail>();
    for (name, schema) in &routes.schemas {
        components = components.schema(name.clone(), schema.clone());
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Modgate API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Governed AI-written CRM modules. Authenticate with a session cookie (send \
                     X-CSRF-Token on state-changing calls) or a personal API token as a bearer token.",
                ))
                .build(),
        )
        .paths(routes.paths.clone())
        .components(Some(components.build()))
        .build()
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
async fn openapi_json() -> impl IntoResponse {
    Json(DOC.clone())
}
