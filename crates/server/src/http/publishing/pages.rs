use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::{Access, Permission};
use axum::extract::State;
use axum::http::Method;
use minijinja::context;
use minijinja::value::Serde;

pub fn routes() -> Routes {
    Routes::default().page(
        Method::GET,
        "/admin/ai-modules/publish",
        Access::Permission(Permission::ModulesPublish),
        page,
    )
}

async fn page(State(state): State<AppState>, page: Page) -> PageResult {
    let app = &state.app;
    let publications = app::publishing::list(app, &page.user).await?;
    // Approved versions that are not the live one of their module.
    let ready: Vec<_> = app::reviews::list(
        app,
        &page.user,
        Some(app::reviews::ReviewStatus::Approved),
        app::reviews::Assigned::Any,
    )
    .await?
    .into_iter()
    .filter(|r| {
        !publications.iter().any(|p| {
            p.module_id == r.module_id && p.version == r.version && p.status == "published"
        })
    })
    .collect();
    let mut releases = Vec::new();
    for p in &publications {
        releases.push(app::publishing::releases(app, &page.user, &p.module_id).await?);
    }
    let history = app::publishing::spec_history(app, &page.user).await?;
    Ok(page.render(
        "publishing.html",
        context! {
            ready => Serde(&ready), publications => Serde(&publications),
            releases => Serde(&releases), history => Serde(&history),
            may_restore => page.user.can(Permission::SpecRestore),
        },
    ))
}
