use crate::auth::CurrentUser;
use crate::http::extract::FormFields;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult, Refusal};
use access::{Access, Permission};
use app::bundles;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use minijinja::value::Serde;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::UsersManage);
    Routes::default()
        .page(Method::GET, "/admin/trusted-keys", manage, show)
        .page(Method::POST, "/admin/trusted-keys", manage, add)
        .page(
            Method::POST,
            "/admin/trusted-keys/{id}/delete",
            manage,
            remove,
        )
}

#[derive(serde::Deserialize, Default)]
struct Done {
    done: Option<String>,
}

const INPUTS: &[(&str, &str)] = &[("publicKey", "public_key")];

async fn render(
    state: &AppState,
    page: &Page,
    refused: Option<Refusal>,
    form: minijinja::Value,
    flash_ok: Option<String>,
) -> PageResult {
    let instance = bundles::instance(&state.app, &page.user).await?;
    let keys = bundles::trusted(&state.app, &page.user).await?;
    let (errors, message, status) = match refused {
        Some(r) => (r.errors, Some(r.message), r.status),
        None => (Default::default(), None, StatusCode::OK),
    };
    let mut resp = page.render(
        "trusted_keys.html",
        context! { instance => Serde(&instance), keys => Serde(&keys), errors => Serde(errors),
        flash_error => message, flash_ok => flash_ok, form => form },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn show(State(state): State<AppState>, page: Page, Query(q): Query<Done>) -> PageResult {
    let flash = match q.done.as_deref() {
        Some("added") => Some(page.t("keys.trusted_now")),
        Some("removed") => Some(page.t("keys.removed")),
        _ => None,
    };
    render(&state, &page, None, context! {}, flash).await
}

async fn add(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    match bundles::trust(&state.app, &by, &f.one("name"), &f.one("public_key")).await {
        Ok(_) => Ok(Redirect::to("/admin/trusted-keys?done=added").into_response()),
        Err(e) if e.is_callers() => {
            let form = context! { name => f.one("name"), public_key => f.one("public_key") };
            render(&state, &page, Some(Refusal::of(&e, INPUTS)), form, None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn remove(
    State(state): State<AppState>,
    by: CurrentUser,
    Path(id): Path<String>,
) -> PageResult {
    bundles::distrust(&state.app, &by, &id).await?;
    Ok(Redirect::to("/admin/trusted-keys?done=removed").into_response())
}
