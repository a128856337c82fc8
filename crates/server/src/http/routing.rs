//! The route table: every route is registered with the access it requires, and the
//! registration itself installs the guard that enforces it. A route cannot be added
//! without declaring its access, and the table is what the route × role test walks.

use crate::auth::{self, CurrentUser, csrf};
use crate::error::ApiError;
use crate::state::AppState;
use access::Access;
use app::Via;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::MethodFilter;
use utoipa::openapi::path::Paths;
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa_axum::router::UtoipaMethodRouter;

/// Whether a route answers machines (JSON errors, 401) or people (HTML, redirect to login).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Api,
    Page,
}

/// One registered route.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    pub method: Method,
    /// In axum's syntax, e.g. `/api/users/{id}`.
    pub path: String,
    pub access: Access,
    pub surface: Surface,
    /// Streams for as long as its own bounds allow (a model generation): exempt from
    /// the request timeout.
    pub long_running: bool,
}

/// The server's request limits, put on every request by the outer layers: each
/// route's guard applies the timeout unless the route was registered as
/// long-running, and reads a form to check its CSRF token within the body limit.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub timeout: std::time::Duration,
    pub body_bytes: usize,
}

/// Routes under construction, with their access table and OpenAPI paths.
pub struct Routes {
    router: Router<AppState>,
    pub table: Vec<RouteInfo>,
    pub paths: Paths,
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            router: Router::new(),
            table: Vec::new(),
            paths: Paths::new(),
            schemas: Vec::new(),
        }
    }
}

fn methods_of(item: &utoipa::openapi::PathItem) -> Vec<Method> {
    let mut m = Vec::new();
    if item.get.is_some() {
        m.push(Method::GET);
    }
    if item.post.is_some() {
        m.push(Method::POST);
    }
    if item.put.is_some() {
        m.push(Method::PUT);
    }
    if item.patch.is_some() {
        m.push(Method::PATCH);
    }
    if item.delete.is_some() {
        m.push(Method::DELETE);
    }
    m
}

impl Routes {
    /// Adds JSON API handlers (from `utoipa_axum::routes!`), all requiring `access`.
    /// Their OpenAPI description comes from their `#[utoipa::path]` attributes.
    pub fn api(self, access: Access, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.add_api(access, routes, false)
    }

    /// Like [`Routes::api`], for handlers that stream progress for as long as their own
    /// bounds (model timeouts, attempts, token budget) allow: no request timeout.
    pub fn api_long_running(self, access: Access, routes: UtoipaMethodRouter<AppState>) -> Self {
        self.add_api(access, routes, true)
    }

    fn add_api(
        mut self,
        access: Access,
        (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
        long_running: bool,
    ) -> Self {
        let mut path_names = Vec::new();
        for (path, item) in paths.paths.iter() {
            path_names.push(path.clone());
            for method in methods_of(item) {
                self.table.push(RouteInfo {
                    method,
                    path: path.clone(),
                    access,
                    surface: Surface::Api,
                    long_running,
                });
            }
        }
        assert_eq!(
            path_names.len(),
            1,
            "one routes!() call registers handlers of one path"
        );
        let guarded =
            method_router.route_layer(middleware::from_fn(move |req: Request, next: Next| {
                guard(access, Surface::Api, long_running, req, next)
            }));
        self.router = self.router.route(&path_names[0], guarded);
        self.paths.merge(paths);
        self.schemas.extend(schemas);
        self
    }

    /// Adds an HTML page handler for one method.
    pub fn page<H, T>(mut self, method: Method, path: &str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("pages use standard methods");
        self.table.push(RouteInfo {
            method,
            path: path.to_owned(),
            access,
            surface: Surface::Page,
            long_running: false,
        });
        let guarded = axum::routing::on(filter, handler).route_layer(middleware::from_fn(
            move |req: Request, next: Next| guard(access, Surface::Page, false, req, next),
        ));
        self.router = self.router.route(path, guarded);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self.paths.merge(other.paths);
        self.schemas.extend(other.schemas);
        self
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn deny(surface: Surface, err: ApiError, req: &Request) -> Response {
    match surface {
        Surface::Api => err.into_response(),
        Surface::Page if err.status == StatusCode::UNAUTHORIZED => {
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let target = format!("/login?next={}", urlencode(next));
            Redirect::to(&target).into_response()
        }
        Surface::Page => crate::views::error_page(req, err),
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q[1..].to_owned())
        .unwrap_or_default()
}

/// Checks the caller against the route's declared access and CSRF, then runs the
/// handler within the request timeout (unless the route is long-running).
async fn guard(
    access: Access,
    surface: Surface,
    long_running: bool,
    req: Request,
    next: Next,
) -> Response {
    let limits = req.extensions().get::<RequestLimits>().copied();
    let checked = check(access, surface, limits.map(|l| l.body_bytes), req).await;
    let req = match checked {
        Ok(req) => req,
        Err(resp) => return resp,
    };
    match limits {
        Some(limits) if !long_running => tokio::time::timeout(limits.timeout, next.run(req))
            .await
            .unwrap_or_else(|_| StatusCode::REQUEST_TIMEOUT.into_response()),
        _ => next.run(req).await,
    }
}

/// The access and CSRF checks: the request back when it may proceed, else the answer.
async fn check(
    access: Access,
    surface: Surface,
    body_limit: Option<usize>,
    req: Request,
) -> Result<Request, Response> {
    let user = req.extensions().get::<CurrentUser>().cloned();
    match (access, &user) {
        (Access::Public, _) => {}
        (_, None) => return Err(deny(surface, ApiError::unauthorized(), &req)),
        (Access::Authenticated, Some(_)) => {}
        (Access::Permission(p), Some(u)) => {
            if !u.can(p) {
                return Err(deny(
                    surface,
                    ApiError::forbidden(format!("this needs the '{p}' permission")),
                    &req,
                ));
            }
        }
        (Access::AnyOf(ps), Some(u)) => {
            if !ps.iter().any(|p| u.can(*p)) {
                let names: Vec<&str> = ps.iter().map(|p| p.as_str()).collect();
                return Err(deny(
                    surface,
                    ApiError::forbidden(format!(
                        "this needs one of the permissions {}",
                        names.join(", ")
                    )),
                    &req,
                ));
            }
        }
    }
    if is_safe(req.method()) {
        return Ok(req);
    }
    let expected = match &user {
        Some(u) => match &u.via {
            Via::Session { csrf, .. } => csrf.clone(),
            // Browsers never attach bearer tokens on their own.
            Via::Token { .. } | Via::Cli | Via::System => return Ok(req),
        },
        // Anonymous state changes: only the login form has one, protected by a
        // double-submit cookie. The JSON login needs a JSON content type, which a
        // cross-site form cannot send.
        None if surface == Surface::Api => return Ok(req),
        None => {
            auth::current::cookie_value(req.headers(), auth::LOGIN_CSRF_COOKIE).unwrap_or_default()
        }
    };
    let header_token = req
        .headers()
        .get(auth::CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if csrf::matches(&expected, header_token.as_deref()) {
        return Ok(req);
    }
    let csrf_error = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "missing or wrong CSRF token; reload the page and try again",
        )
    };
    if surface == Surface::Api {
        return Err(csrf_error().into_response());
    }
    // A form post: read the body within the configured limit, check `_csrf`, and
    // hand the same bytes on to the handler.
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(deny(surface, csrf_error(), &req));
    }
    let (parts, body) = req.into_parts();
    let limit = body_limit.unwrap_or(app::Config::default().body_limit_bytes);
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            let req = Request::from_parts(parts, Body::empty());
            return Err(deny(
                surface,
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "the form is too large",
                ),
                &req,
            ));
        }
    };
    let ok = csrf::matches(&expected, csrf::form_token(&bytes).as_deref());
    let req = Request::from_parts(parts, Body::from(bytes));
    if ok {
        Ok(req)
    } else {
        Err(deny(surface, csrf_error(), &req))
    }
}
