//! The OpenAPI 3.1 document, assembled from the handlers' `#[utoipa::path]`
//! attributes as the routes are registered — never a hand-kept copy.

use super::routing::{RouteInfo, Routes};
use access::Access;
use axum::Json;
use axum::http::Method;
use axum::response::IntoResponse;
use serde::Serialize;
use std::sync::LazyLock;
use utoipa::ToSchema;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr,
    ResponseBuilder,
};
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
    /// Structured detail (an object, empty when there is none), e.g.
    /// `{"fields":[{"field","message"}]}` for validation errors.
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
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
        .paths(complete(routes.paths.clone(), &routes.table))
        .components(Some(components.build()))
        .build()
}

/// Adds to every operation the error answers that the layers around its handler
/// give, so that the document lists every status a client can meet: the route
/// guard (401, 403, 408), the extractors (400, 413, 415, 422), the path (404) and
/// the catch-all (500). Handlers document their own outcomes; this adds the rest.
fn complete(mut paths: Paths, table: &[RouteInfo]) -> Paths {
    for (path, item) in paths.paths.iter_mut() {
        let ops = [
            (Method::GET, &mut item.get),
            (Method::POST, &mut item.post),
            (Method::PUT, &mut item.put),
            (Method::PATCH, &mut item.patch),
            (Method::DELETE, &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let route = table.iter().find(|r| &r.path == path && r.method == method);
            add_errors(op, route);
        }
    }
    paths
}

fn add_errors(op: &mut Operation, route: Option<&RouteInfo>) {
    let params = op.parameters.iter().flatten().filter_map(|p| match p {
        RefOr::T(p) => Some(p.parameter_in.clone()),
        RefOr::Ref(_) => None,
    });
    let (mut in_path, mut in_query) = (false, false);
    for place in params {
        match place {
            ParameterIn::Path => in_path = true,
            ParameterIn::Query => in_query = true,
            _ => {}
        }
    }
    let body = op.request_body.is_some();
    let guarded = route.is_some_and(|r| r.access != Access::Public);
    let timed = route.is_some_and(|r| !r.long_running);
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                    )
                    .build()
                    .into()
            });
    };
    if in_path || in_query || body {
        add("400", "A malformed parameter or request body.");
    }
    if guarded {
        add("401", "Not logged in.");
        add(
            "403",
            "The caller lacks the permission, or a cookie-authenticated change lacks its CSRF token.",
        );
    }
    if in_path {
        add("404", "What the path names does not exist.");
    }
    if timed {
        add(
            "408",
            "The request took longer than the server's request timeout.",
        );
    }
    if body {
        add("413", "The request body is over the size limit.");
        add("415", "The request body is not JSON.");
        add(
            "422",
            "The request body does not have the documented shape, or breaks a rule.",
        );
    }
    add(
        "500",
        "An internal error; the x-request-id header identifies it in the log.",
    );
    // The document must describe every response; handlers may leave it to the status.
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = response
            && r.description.is_empty()
        {
            r.description = status_text(status);
        }
    }
}

fn status_text(status: &str) -> String {
    status
        .parse::<u16>()
        .ok()
        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Response")
        .to_owned()
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
async fn openapi_json() -> impl IntoResponse {
    Json(DOC.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/openapi.json` is the API's published contract: clients in this workspace
    /// (`modgate remote`) are checked against that file, not against this crate. It
    /// must be what the routes document; `UPDATE_OPENAPI=1 cargo test -p server
    /// openapi` writes it anew after a change to the API.
    #[test]
    fn the_published_document_is_the_one_the_routes_make() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let live = serde_json::to_value(&*DOC).unwrap();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            let text = serde_json::to_string_pretty(&live).unwrap() + "\n";
            std::fs::write(path, text).unwrap();
        }
        let published: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(
            published == live,
            "docs/openapi.json differs from the API the routes document: run \
             `UPDATE_OPENAPI=1 cargo test -p server openapi` and commit the file"
        );
    }
}
