use crate::auth::CurrentUser;
use crate::http::extract::PageForm;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::Access;
use app::accounts::tokens;
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
    let list = tokens::list(&state.app, &page.user).await?;
    Ok(page.render(
        "account.html",
        context! { tokens => Serde(&list), new_token => new_token, flash_error => error },
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
    PageForm(f): PageForm<TokenForm>,
) -> PageResult {
    match tokens::create(&state.app, &user, &f.name).await {
        // Rendered, not redirected: the secret must not end up in a URL or be lost.
        Ok((_, secret)) => render(&state, &page, Some(secret), None).await,
        Err(e) if e.is_callers() => render(&state, &page, None, Some(e.to_string())).await,
        Err(e) => Err(e.into()),
    }
}

async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    tokens::revoke(&state.app, &user, &id).await?;
    Ok(Redirect::to("/account").into_response())
}
