use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::http::extract::FormFields;
use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult, Refusal};
use access::{Access, Permission};
use app::AppError;
use app::modules::{self, VersionView};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use minijinja::context;
use minijinja::value::Serde;
use std::collections::BTreeMap;

pub fn routes() -> Routes {
    let dev = Access::Permission(Permission::ModulesDevelop);
    Routes::default()
        .page(Method::GET, "/admin/ai-modules/develop", dev, list)
        .page(Method::POST, "/admin/ai-modules/develop", dev, create)
        .page(
            Method::GET,
            "/admin/ai-modules/develop/{id}",
            dev,
            workspace,
        )
}

async fn models(
    state: &AppState,
    page: &Page,
) -> Result<Vec<super::super::models::api::ModelView>, AppError> {
    Ok(app::models::enabled(&state.app, &page.user)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

async fn render_list(
    state: &AppState,
    page: &Page,
    form: BTreeMap<String, String>,
    error: Option<Refusal>,
) -> PageResult {
    let items = modules::list(&state.app, &page.user).await?;
    let (errors, flash, status) = match error {
        Some(r) => (r.errors, Some(r.message), r.status),
        None => (BTreeMap::new(), None, StatusCode::OK),
    };
    let mut resp = page.render(
        "modules/list.html",
        context! { modules => Serde(&items), models => Serde(&models(state, page).await?), form => Serde(&form),
                   errors => Serde(&errors), flash_error => flash },
    );
    *resp.status_mut() = status;
    Ok(resp)
}

async fn list(State(state): State<AppState>, page: Page) -> PageResult {
    render_list(&state, &page, BTreeMap::new(), None).await
}

async fn create(
    State(state): State<AppState>,
    page: Page,
    by: CurrentUser,
    body: axum::body::Bytes,
) -> PageResult {
    let f = FormFields::parse(&body);
    let model = Some(f.one("model_id")).filter(|m| !m.is_empty());
    match modules::create(
        &state.app,
        &by,
        &f.one("name"),
        Some(&f.one("description")),
        model.as_deref(),
    )
    .await
    {
        Ok(m) => Ok(Redirect::to(&format!("/admin/ai-modules/develop/{}", m.id)).into_response()),
        Err(e) if e.is_callers() => {
            let r = Refusal::of(&e, &[("modelId", "model_id")]);
            render_list(&state, &page, f.firsts(), Some(r)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
struct WorkspaceQuery {
    /// Which version to show in the editor (default: the current one).
    v: Option<i64>,
}

async fn workspace(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(q): Query<WorkspaceQuery>,
) -> PageResult {
    let module = modules::get(&state.app, &page.user, &id).await?;
    let versions: Vec<VersionView> = modules::versions(&state.app, &page.user, &id)
        .await?
        .into_iter()
        .map(VersionView::from)
        .collect();
    let shown_number = q.v.unwrap_or(module.current_version);
    let shown = versions.iter().find(|v| v.number == shown_number).cloned();
    if q.v.is_some() && shown.is_none() {
        return Err(ApiError::not_found(format!("version {shown_number} of module {id}")).into());
    }
    let editor_text = match &shown {
        Some(v) => match &v.patch {
            serde_json::Value::String(s) => s.clone(),
            other => serde_json::to_string_pretty(other).unwrap_or_default(),
        },
        None => serde_json::to_string_pretty(&serde_json::json!({
            "dsl": patch::DSL_VERSION, "title": module.name, "operations": [] }))
        .unwrap_or_default(),
    };
    let conversation: Vec<&VersionView> = versions
        .iter()
        .rev()
        .filter(|v| v.prompt.is_some())
        .collect();
    let view = modules::view(&state.app, module).await?;
    let spent = app::usage::module_total(&state.app, &id).await?;
    let latest_review = app::reviews::for_module(&state.app, &page.user, &id)
        .await?
        .into_iter()
        .next();
    Ok(page.render(
        "modules/workspace.html",
        context! { module => Serde(&view), versions => Serde(&versions), shown => Serde(&shown),
        latest_review => Serde(&latest_review), spent => Serde(&spent),
        conversation => Serde(&conversation), editor_text => editor_text,
        models => Serde(&models(&state, &page).await?) },
    ))
}
