use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::{Access, Permission};
use app::reviews::{self, Assigned};
use axum::extract::{Path, Query, State};
use axum::http::Method;
use minijinja::context;
use minijinja::value::{Serde, Value};

pub fn routes() -> Routes {
    let review = Access::Permission(Permission::ModulesReview);
    Routes::default()
        .page(Method::GET, "/admin/ai-modules/review", review, queue)
        // Developers open the review of their module from the workspace too.
        .page(
            Method::GET,
            "/admin/ai-modules/review/{id}",
            Access::AnyOf(reviews::READERS),
            detail,
        )
        .page(Method::GET, "/notifications", Access::Authenticated, inbox)
}

#[derive(serde::Deserialize, Default)]
struct Q {
    assigned: Option<String>,
    status: Option<String>,
}

async fn queue(State(state): State<AppState>, page: Page, Query(q): Query<Q>) -> PageResult {
    let assigned: Assigned = q.assigned.as_deref().unwrap_or("any").parse()?;
    let status = reviews::parse_status(q.status.as_deref().unwrap_or(""))?;
    let items = reviews::list(&state.app, &page.user, status, assigned).await?;
    Ok(page.render(
        "reviews/queue.html",
        context! {
            items => Serde(&items),
            assigned => q.assigned.unwrap_or_else(|| "any".into()),
            status => q.status.unwrap_or_default(),
            statuses => ["pending", "reviewing", "approved", "rejected", "withdrawn", "superseded"],
        },
    ))
}

async fn detail(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> PageResult {
    let r = reviews::get(&state.app, &page.user, &id).await?;
    let ops = r.version_info.report["operations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(page.render(
        "reviews/detail.html",
        context! {
            r => Serde(&r), ops => Serde(&ops),
            diff => Value::from(r.spec_diff.clone()),
        },
    ))
}

async fn inbox(State(state): State<AppState>, page: Page) -> PageResult {
    let items = app::notifications::list(&state.app, &page.user, false).await?;
    let prefs = app::notifications::preferences(&state.app, &page.user).await?;
    Ok(page.render(
        "notifications.html",
        context! { items => Serde(&items), prefs => Serde(&prefs),
        email => state.app.config.smtp_url.is_some() },
    ))
}
