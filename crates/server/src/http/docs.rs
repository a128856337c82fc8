//! The project's docs (`docs/*.md`), embedded and served as pages, so the running
//! product explains itself.

use super::routing::Routes;
use crate::error::ApiError;
use crate::views::{Page, PageResult};
use access::Access;
use axum::extract::Path;
use axum::http::Method;
use minijinja::context;
use serde_json::json;

/// (slug, title, markdown)
const DOCS: &[(&str, &str, &str)] = &[
    (
        "index",
        "Overview",
        include_str!("../../../../docs/index.md"),
    ),
    (
        "getting-started",
        "Getting started",
        include_str!("../../../../docs/getting-started.md"),
    ),
    (
        "users-and-permissions",
        "Users and permissions",
        include_str!("../../../../docs/users-and-permissions.md"),
    ),
    (
        "audit",
        "Audit log",
        include_str!("../../../../docs/audit.md"),
    ),
    (
        "data",
        "Working with CRM data",
        include_str!("../../../../docs/data.md"),
    ),
    ("api", "API", include_str!("../../../../docs/api.md")),
    (
        "architecture",
        "Architecture",
        include_str!("../../../../docs/architecture.md"),
    ),
];

pub fn routes() -> Routes {
    Routes::default()
        .page(Method::GET, "/docs", Access::Authenticated, index)
        .page(Method::GET, "/docs/{slug}", Access::Authenticated, show)
}

fn render(page: &Page, slug: &str) -> PageResult {
    let Some((_, title, md)) = DOCS.iter().find(|(s, _, _)| *s == slug) else {
        return Err(ApiError::not_found(format!("document '{slug}'")).into());
    };
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(md));
    let docs: Vec<_> = DOCS
        .iter()
        .map(|(s, t, _)| json!({ "slug": s, "title": t }))
        .collect();
    Ok(page.render("docs.html", context! { title => *title, html => html, docs => minijinja::Value::from(minijinja::value::Serde(&docs)) }))
}

async fn index(page: Page) -> PageResult {
    render(&page, "index")
}

async fn show(page: Page, Path(slug): Path<String>) -> PageResult {
    render(&page, &slug)
}
