use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::routing::Routes;
use crate::state::AppState;
use access::{Access, Permission};
use app::menus::{self, MenuGroup, MenuInput, MenuItem};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::MenusManage);
    Routes::default()
        .api(Access::Authenticated, routes!(my_menu))
        .api(manage, routes!(list_items))
        .api(manage, routes!(patch_item))
}

#[derive(Serialize, ToSchema)]
pub struct MyMenu {
    /// Groups of items the caller may open.
    #[schema(value_type = Vec<Object>)]
    pub groups: Vec<MenuGroup>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MenuItemView {
    pub id: String,
    pub parent_id: Option<String>,
    pub label: String,
    pub path: Option<String>,
    pub icon: Option<String>,
    pub sort_order: i64,
    /// Permission needed to see the item; none means every logged-in user.
    pub permission: Option<String>,
    pub visible: bool,
    /// Whether the page at `path` exists in this version; items without one stay hidden.
    pub page_exists: bool,
}

fn view(item: MenuItem, state: &AppState) -> MenuItemView {
    let page_exists = item
        .path
        .as_ref()
        .is_some_and(|p| state.page_paths.contains(p));
    MenuItemView {
        id: item.id,
        parent_id: item.parent_id,
        label: item.label,
        path: item.path,
        icon: item.icon,
        sort_order: item.sort_order,
        permission: item.permission,
        visible: item.visible,
        page_exists,
    }
}

#[derive(Serialize, ToSchema)]
pub struct MenuItemList {
    pub items: Vec<MenuItemView>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchMenuItem {
    #[schema(min_length = 1, max_length = 80)]
    pub label: Option<String>,
    #[schema(minimum = 0, maximum = 100000)]
    pub sort_order: Option<i64>,
    pub visible: Option<bool>,
    /// A permission name; `""` removes the requirement.
    pub permission: Option<String>,
}

/// The caller's System Management menu: only what they may open.
#[utoipa::path(get, path = "/api/menu", tag = "menus", responses((status = 200, body = MyMenu)))]
async fn my_menu(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<MyMenu>> {
    Ok(Json(MyMenu {
        groups: menus::visible(&state.app, &user, &state.page_paths).await?,
    }))
}

/// Every menu item, for administration.
#[utoipa::path(get, path = "/api/menu-items", tag = "menus", responses((status = 200, body = MenuItemList)))]
async fn list_items(
    State(state): State<AppState>,
    by: CurrentUser,
) -> ApiResult<Json<MenuItemList>> {
    let items = menus::list(&state.app, &by)
        .await?
        .into_iter()
        .map(|i| view(i, &state))
        .collect();
    Ok(Json(MenuItemList { items }))
}

/// Relabels, reorders, hides or re-permissions a menu item.
#[utoipa::path(patch, path = "/api/menu-items/{id}", tag = "menus", params(("id" = String, Path)), request_body = PatchMenuItem,
    responses((status = 200, body = MenuItemView), (status = 404, body = crate::http::openapi::ErrorBody), (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn patch_item(
    State(state): State<AppState>,
    by: CurrentUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PatchMenuItem>,
) -> ApiResult<Json<MenuItemView>> {
    let input = MenuInput {
        label: b.label,
        sort_order: b.sort_order,
        visible: b.visible,
        permission: b.permission,
    };
    let item = menus::update(&state.app, &by, &id, input).await?;
    Ok(Json(view(item, &state)))
}
