use crate::auth::CurrentUser;
use crate::http::extract::FormFields;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult, Refusal};
use access::{Access, Permission, PlatformRole};
use app::AppError;
use app::accounts::users::{self, CreateInput, UpdateInput, User};
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde_json::json;

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

/// The form's inputs for the API's field names.
const INPUTS: &[(&str, &str)] = &[
    ("displayName", "display_name"),
    ("businessRoles", "business_roles"),
];

/// A refusal as the user forms show it: field errors beside their inputs; a
/// conflict on creation is about the username, one on an edit about the active flag
/// (the last administrator).
fn refusal(e: &AppError, conflict_input: &str) -> Refusal {
    let r = Refusal::of(e, INPUTS);
    if e.fields().is_empty() {
        r.at(conflict_input)
    } else {
        r
    }
}

async fn list(State(state): State<AppState>, page: Page) -> PageResult {
    let users = users::list(&state.app, &page.user).await?;
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
    by: CurrentUser,
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
    match users::create(&state.app, &by, input).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) if e.is_callers() => {
            let r = refusal(&e, "username");
            let form = context! {
                username => f.one("username"), display_name => f.one("display_name"),
                email => f.one("email"), roles => roles, business_roles => f.one("business_roles"),
            };
            let mut resp = page.render(
                "users/new.html",
                context! { all_roles => all_roles(), form => form, errors => Serde(r.errors), flash_error => r.message },
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
    error: Option<Refusal>,
) -> PageResult {
    let user = users::get(&state.app, &page.user, id).await?;
    let form = form.unwrap_or_else(|| form_of_user(&user));
    let (errors, flash, status) = match error {
        Some(r) => (r.errors, Some(r.message), r.status),
        None => (Default::default(), None, StatusCode::OK),
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
    by: CurrentUser,
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
    match users::update(&state.app, &by, &id, input).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) if e.is_callers() && !matches!(e, AppError::NotFound { .. }) => {
            let r = refusal(&e, "active");
            render_edit(&state, &page, &id, Some(form_as_typed(&f)), Some(r)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn reset_password(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    match users::reset_password(&state.app, &by, &id, &f.one("password")).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            render_edit(&state, &page, &id, None, Some(Refusal::of(&e, INPUTS))).await
        }
        Err(e) => Err(e.into()),
    }
}
