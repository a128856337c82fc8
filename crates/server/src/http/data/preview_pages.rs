//! The CRM pages inside a live preview (`/preview/{token}/…`): the same pages as
//! `/crm`, on the preview's candidate spec and sandbox, under a banner naming the
//! module, the version and when the preview ends.

use super::pages::{
    Scope, create_in, delete_in, detail_in, edit_form_in, first_list, list_in, new_form_in,
    transition_in, update_in,
};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::Access;
use axum::extract::{Path, RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect};

pub fn routes() -> Routes {
    let a = Access::Authenticated;
    Routes::default()
        .page(Method::GET, "/preview/{token}/", a, start)
        .page(Method::GET, "/preview/{token}/{page}", a, list)
        .page(Method::GET, "/preview/{token}/o/{object}/new", a, new_form)
        .page(Method::POST, "/preview/{token}/o/{object}", a, create)
        .page(Method::GET, "/preview/{token}/o/{object}/{id}", a, detail)
        .page(
            Method::GET,
            "/preview/{token}/o/{object}/{id}/edit",
            a,
            edit_form,
        )
        .page(Method::POST, "/preview/{token}/o/{object}/{id}", a, update)
        .page(
            Method::POST,
            "/preview/{token}/o/{object}/{id}/transitions/{name}",
            a,
            transition,
        )
        .page(
            Method::POST,
            "/preview/{token}/o/{object}/{id}/delete",
            a,
            delete,
        )
}

/// The preview's scope, and its pages' sidebar: the candidate spec's CRM menu (with
/// preview links) in place of the live one.
fn open(
    state: &AppState,
    user: &CurrentUser,
    token: &str,
    page: Option<&mut Page>,
) -> Result<Scope, ApiError> {
    let (records, session) = app::preview::records(&state.app, user, token)?;
    let base = format!("/preview/{token}");
    if let Some(page) = page {
        let lang = page.lang.code();
        let live_groups = app::menus::crm(&state.app, user, lang).len();
        let rest = page.sidebar.split_off(live_groups.min(page.sidebar.len()));
        page.sidebar = app::menus::crm_of(&session.spec, user, lang, &base);
        page.sidebar.extend(rest);
    }
    Ok(Scope {
        records,
        api: format!("/api/preview/{token}/data"),
        base,
        preview: Some(session),
    })
}

async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token): Path<String>,
) -> PageResult {
    let scope = open(&state, &user, &token, None)?;
    let first = first_list(scope.records.spec())
        .ok_or_else(|| ApiError::not_found("a list page in this preview"))?;
    Ok(Redirect::to(&format!("{}/{first}", scope.base)).into_response())
}

async fn list(
    State(state): State<AppState>,
    mut page: Page,
    user: CurrentUser,
    Path((token, page_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let scope = open(&state, &user, &token, Some(&mut page))?;
    list_in(&scope, &page, page_id, q).await
}

async fn new_form(
    State(state): State<AppState>,
    mut page: Page,
    user: CurrentUser,
    Path((token, object)): Path<(String, String)>,
) -> PageResult {
    let scope = open(&state, &user, &token, Some(&mut page))?;
    new_form_in(&scope, &page, object).await
}

async fn create(
    State(state): State<AppState>,
    mut page: Page,
    user: CurrentUser,
    Path((token, object)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let scope = open(&state, &user, &token, Some(&mut page))?;
    create_in(&scope, &page, object, &body).await
}

async fn detail(
    State(state): State<AppState>,
    mut page: Page,
    user: CurrentUser,
    Path((token, object, id)): Path<(String, String, String)>,
) -> PageResult {
    let scope = open(&state, &user, &token, Some(&mut page))?;
    detail_in(&scope, &page, object, id).await
}

async fn edit_form(
    State(state): State<AppState>,
    mut page: Page,
    user: CurrentUser,
    Path((token, object, id)): Path<(String, String, String)>,
) -> PageResult {
    let scope = open(&state, &user, &token, Some(&mut page))?;
    edit_form_in(&scope, &page, object, id).await
}

async fn update(
    State(state): State<AppState>,
    mut page: Page,
    user: CurrentUser,
    Path((token, object, id)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let scope = open(&state, &user, &token, Some(&mut page))?;
    update_in(&scope, &page, object, id, &body).await
}

async fn transition(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((token, object, id, name)): Path<(String, String, String, String)>,
) -> PageResult {
    let scope = open(&state, &user, &token, None)?;
    transition_in(&scope, object, id, name).await
}

async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((token, object, id)): Path<(String, String, String)>,
) -> PageResult {
    let scope = open(&state, &user, &token, None)?;
    delete_in(&scope, object, id).await
}
