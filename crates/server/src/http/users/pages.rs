use super::service::{self, CreateInput, UpdateInput};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::extract::{FormFields, RequestMeta};
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::{Access, Permission, PlatformRole};
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde_json::json;
use std::collections::BTreeMap;
use store::users::User;

pub fn routes() -> Routes {
    let manage = Access::Permission(Permission::UsersManage);
    Routes::default()
        .page(Method::GET, "/admin/users", manage, list)
        .page(Method::GET, "/admin/users/new", manage, new_form)
        .page(Method::POST, "/admin/users", manage, create)
        .page(Method::GET, "/admin/users/{id}", manage, edit_form)
        .page(Method::POST, "/admin/users/{id}", manage, update)
        .page(
            Method::POST,
            "/admin/users/{id}/password",
            manage,
            reset_password,
        )
}

fn all_roles() -> Value {
    let roles: Vec<_> = PlatformRole::ALL
        .iter()
        .map(|r| json!({ "name": r.as_str(), "label": r.label() }))
        .collect();
    Value::from(Serde(&roles))
}

fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' ', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Maps a validation error's fields to the form's inputs.
fn field_errors(e: &ApiError) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(fields) = e.details.get("fields").and_then(|f| f.as_array()) {
        for f in fields {
            let field = f["field"].as_str().unwrap_or_default();
            let key = match field {
                "displayName" => "display_name",
                "businessRoles" => "business_roles",
                other => other,
            };
            m.insert(
                key.to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            );
        }
    } else if e.code == "conflict" {
        m.insert("username".into(), e.message.clone());
    } else {
        m.insert("active".into(), e.message.clone());
    }
    m
}

async fn list(State(state): State<AppState>, page: Page) -> PageResult {
    let users = store::users::list(&state.db).await?;
    Ok(page.render("users/list.html", context! { users => Serde(&users) }))
}

async fn new_form(page: Page) -> PageResult {
    Ok(page.render(
        "users/new.html",
        context! { all_roles => all_roles(), form => context!{ roles => Vec::<String>::new() } },
    ))
}

async fn create(
    State(state): State<AppState>,
    page: Page,
    actor: CurrentUser,
    meta: RequestMeta,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let roles = f.all("roles");
    let input = CreateInput {
        username: f.one("username"),
        password: f.one("password"),
        display_name: Some(f.one("display_name")),
        email: Some(f.one("email")),
        roles: roles.clone(),
        business_roles: split_list(&f.one("business_roles")),
    };
    match service::create(&state, &actor, &meta, input).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) if e.status.is_client_error() => {
            let form = context! {
                username => f.one("username"), display_name => f.one("display_name"),
                email => f.one("email"), roles => roles, business_roles => f.one("business_roles"),
            };
            let mut resp = page.render(
                "users/new.html",
                context! { all_roles => all_roles(), form => form, errors => Serde(field_errors(&e)), flash_error => e.message },
            );
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

/// The edit page's form values: from the stored user, or as the person typed them.
fn form_of_user(user: &User) -> Value {
    context! {
        display_name => user.display_name.clone(), email => user.email.clone().unwrap_or_default(),
        roles => user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        business_roles => user.business_roles.join(", "), active => user.active,
    }
}

fn form_as_typed(f: &FormFields) -> Value {
    context! {
        display_name => f.one("display_name"), email => f.one("email"),
        roles => f.all("roles"),
        business_roles => f.one("business_roles"), active => f.checked("active"),
    }
}

/// Renders the edit page, with the error's fields shown inline when there is one.
async fn render_edit(
    state: &AppState,
    page: &Page,
    id: &str,
    form: Option<Value>,
    error: Option<ApiError>,
) -> PageResult {
    let user = store::users::get(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {id}")))?;
    let form = form.unwrap_or_else(|| form_of_user(&user));
    let (errors, flash, status) = match &error {
        Some(e) => (field_errors(e), Some(e.message.clone()), e.status),
        None => (BTreeMap::new(), None, StatusCode::OK),
    };
    let mut resp = page.render(
        "users/edit.html",
        context! { user => Serde(&user), all_roles => all_roles(), form => form, errors => Serde(errors), flash_error => flash },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn edit_form(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> PageResult {
    render_edit(&state, &page, &id, None, None).await
}

async fn update(
    State(state): State<AppState>,
    page: Page,
    actor: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let input = UpdateInput {
        display_name: Some(f.one("display_name")),
        email: Some(Some(f.one("email"))),
        roles: Some(f.all("roles")),
        business_roles: Some(split_list(&f.one("business_roles"))),
        active: Some(f.checked("active")),
    };
    match service::update(&state, &actor, &meta, &id, input).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            render_edit(&state, &page, &id, Some(form_as_typed(&f)), Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn reset_password(
    State(state): State<AppState>,
    page: Page,
    actor: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    match service::reset_password(&state, &actor, &meta, &id, &f.one("password")).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            render_edit(&state, &page, &id, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}
