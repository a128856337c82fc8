use super::login;
use crate::auth::{self, CurrentUser, MaybeUser};
use crate::http::extract::{ClientOrigin, PageForm};
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{self, Lang, PageResult};
use access::Access;
use app::accounts::login as accounts;
use app::credentials;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::default()
        .page(Method::GET, "/login", Access::Public, login_page)
        .page(Method::POST, "/login", Access::Public, login_submit)
        .page(Method::POST, "/logout", Access::Authenticated, logout)
}

#[derive(Deserialize, Default)]
struct NextParam {
    next: Option<String>,
}

/// Only local paths: an open redirect would let a link to our login page send a
/// person anywhere after logging in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn render_login(headers: &HeaderMap, username: &str, next: &str, error: Option<&str>) -> Response {
    // A fresh double-submit token per rendering of the form.
    let csrf = credentials::random_token();
    let cookie = cookie::Cookie::build((auth::LOGIN_CSRF_COOKIE, csrf.clone()))
        .path("/login")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .build()
        .to_string();
    let lang = Lang::from_headers(headers);
    let mut resp = views::render(
        "login.html",
        context! { lang => lang.code(), csrf => csrf, next => next, username => username, error => error },
    );
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

async fn login_page(
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Query(q): Query<NextParam>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if user.is_some() {
        return Redirect::to(&next).into_response();
    }
    render_login(&headers, "", &next, None)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> PageResult {
    let next = safe_next(form.next.as_deref());
    let user =
        match accounts::authenticate(&state.app, &origin, &form.username, &form.password).await {
            Ok(u) => u,
            Err(e) if e.is_callers() => {
                let mut resp = render_login(&headers, &form.username, &next, Some(&e.to_string()));
                *resp.status_mut() = crate::error::status_of(&e);
                return Ok(resp);
            }
            Err(e) => return Err(e.into()),
        };
    let token = accounts::start_session(&state.app, &origin, &user, "form")
        .await?
        .token;
    let mut resp = Redirect::to(&next).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        login::session_cookie(&state, &token)
            .parse()
            .expect("valid cookie"),
    );
    Ok(resp)
}

async fn logout(State(state): State<AppState>, user: CurrentUser) -> PageResult {
    accounts::end_session(&state.app, &user).await?;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        login::session_cookie(&state, "")
            .parse()
            .expect("valid cookie"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_local() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
