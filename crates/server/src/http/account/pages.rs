use super::service;
use crate::auth::CurrentUser;
use crate::http::extract::{PageForm, RequestMeta};
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::Access;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::default()
        .page(Method::GET, "/account", Access::Authenticated, show)
        .page(
            Method::POST,
            "/account/tokens",
            Access::Authenticated,
            create,
        )
        .page(
            Method::POST,
            "/account/tokens/{id}/revoke",
            Access::Authenticated,
            revoke,
        )
}

async fn render(
    state: &AppState,
    page: &Page,
    new_token: Option<String>,
    error: Option<String>,
) -> PageResult {
    let tokens = store::tokens::list_for_user(&state.db, &page.user.id).await?;
    Ok(page.render(
        "account.html",
        context! { tokens => Serde(&tokens), new_token => new_token, flash_error => error },
    ))
}

async fn show(State(state): State<AppState>, page: Page) -> PageResult {
    render(&state, &page, None, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
}

async fn create(
    State(state): State<AppState>,
    page: Page,
    user: CurrentUser,
    meta: RequestMeta,
    PageForm(f): PageForm<TokenForm>,
) -> PageResult {
    match service::create(&state, &user, &meta, &f.name).await {
        // Rendered, not redirected: the secret must not end up in a URL or be lost.
        Ok((_, secret)) => render(&state, &page, Some(secret), None).await,
        Err(e) if e.status.is_client_error() => render(&state, &page, None, Some(e.message)).await,
        Err(e) => Err(e.into()),
    }
}

async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> PageResult {
    service::revoke(&state, &user, &meta, &id).await?;
    Ok(Redirect::to("/account").into_response())
}
