use crate::auth::CurrentUser;
use crate::http::extract::PageForm;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::{Access, Permission};
use app::AppError;
use app::menus::{self, MenuInput};
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::MenusManage);
    Routes::default()
        .page(Method::GET, "/admin/menus", manage, list)
        .page(Method::POST, "/admin/menus/{id}", manage, update)
}

async fn render_list(state: &AppState, page: &Page, error: Option<String>) -> PageResult {
    let items: Vec<_> = menus::list(&state.app, &page.user)
        .await?
        .into_iter()
        .map(|i| {
            let exists = i
                .path
                .as_ref()
                .is_some_and(|p| state.page_paths.contains(p));
            let mut v = serde_json::to_value(&i).unwrap_or_default();
            v["page_exists"] = json!(exists);
            v
        })
        .collect();
    let permissions: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut resp = page.render(
        "menus.html",
        context! { items => Serde(&items), permissions => permissions, flash_error => error },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn list(State(state): State<AppState>, page: Page) -> PageResult {
    render_list(&state, &page, None).await
}

#[derive(Deserialize)]
struct MenuForm {
    label: String,
    sort_order: String,
    #[serde(default)]
    permission: String,
    visible: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    Path(id): Path<String>,
    PageForm(f): PageForm<MenuForm>,
) -> PageResult {
    let Ok(sort_order) = f.sort_order.trim().parse::<i64>() else {
        return render_list(
            &state,
            &page,
            Some(format!("order: '{}' is not a whole number", f.sort_order)),
        )
        .await;
    };
    let input = MenuInput {
        label: Some(f.label),
        sort_order: Some(sort_order),
        visible: Some(f.visible.as_deref() == Some("true")),
        permission: Some(f.permission),
    };
    match menus::update(&state.app, &by, &id, input).await {
        Ok(_) => Ok(Redirect::to("/admin/menus").into_response()),
        Err(e) if e.is_callers() && !matches!(e, AppError::NotFound { .. }) => {
            render_list(&state, &page, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}
