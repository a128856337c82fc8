//! Switching the interface language (English / 中文), remembered in a cookie.

use super::routing::Routes;
use crate::error::ApiError;
use crate::views::PageError;
use access::Access;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};

pub fn routes() -> Routes {
    Routes::default().page(Method::GET, "/lang/{code}", Access::Public, switch)
}

async fn switch(Path(code): Path<String>, headers: HeaderMap) -> Result<Response, PageError> {
    if code != "en" && code != "zh" {
        return Err(ApiError::not_found(format!("language '{code}' (available: en, zh)")).into());
    }
    // Back to the page the person came from, if it was one of ours.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = cookie::Cookie::build(("lang", code))
        .path("/")
        .max_age(cookie::time::Duration::days(365))
        .same_site(cookie::SameSite::Lax)
        .build();
    let mut resp = Redirect::to(&back).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie.to_string().parse().expect("valid cookie"),
    );
    Ok(resp)
}
