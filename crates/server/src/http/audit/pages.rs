use crate::http::routing::Routes;
use crate::state::AppState;
use crate::views::{Page, PageResult};
use access::{Access, Permission};
use app::audit::{self, Walk};
use axum::extract::{Query, State};
use axum::http::Method;
use minijinja::context;
use minijinja::value::Serde;

pub fn routes() -> Routes {
    Routes::default().page(
        Method::GET,
        "/admin/audit",
        Access::Permission(Permission::AuditRead),
        list,
    )
}

async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<audit::Query>,
    Query(paging): Query<audit::Paging>,
) -> PageResult {
    let p = audit::list(&state.app, &page.user, &q, &paging).await?;
    // Resumes from the checkpoint: a page view does not walk the whole chain.
    let chain = audit::verify(&state.app, &page.user, Walk::FromCheckpoint).await?;
    let (entries, total, n, per) = (p.entries, p.total, p.page, p.per_page);
    let pages = ((total + per - 1) / per).max(1);
    let query = q.filter_query();
    let shown = context! {
        action => q.action, actor => q.actor, resource_type => q.resource_type,
        outcome => q.outcome, from_text => q.from, to_text => q.to,
    };
    Ok(page.render(
        "audit.html",
        context! {
            entries => Serde(&entries), total => total, page => n, pages => pages,
            filter => shown, query => query, chain => Serde(&chain),
        },
    ))
}
