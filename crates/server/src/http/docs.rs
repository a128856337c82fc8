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
    (
        "spec",
        "The application spec",
        include_str!("../../../../docs/spec.md"),
    ),
    (
        "patch-dsl",
        "The Patch DSL",
        include_str!("../../../../docs/patch-dsl.md"),
    ),
    (
        "ai-models",
        "AI model configuration",
        include_str!("../../../../docs/ai-models.md"),
    ),
    (
        "model-operations",
        "Fallbacks, cost, budgets, evaluations",
        include_str!("../../../../docs/model-operations.md"),
    ),
    (
        "module-development",
        "AI module development",
        include_str!("../../../../docs/module-development.md"),
    ),
    (
        "testing",
        "Testing modules",
        include_str!("../../../../docs/testing.md"),
    ),
    (
        "review",
        "Reviewing AI modules",
        include_str!("../../../../docs/review.md"),
    ),
    (
        "preview",
        "Live preview",
        include_str!("../../../../docs/preview.md"),
    ),
    (
        "bundles",
        "Moving modules between instances",
        include_str!("../../../../docs/bundles.md"),
    ),
    (
        "ci",
        "The lifecycle from CI",
        include_str!("../../../../docs/ci.md"),
    ),
    (
        "publishing",
        "Publishing AI modules",
        include_str!("../../../../docs/publishing.md"),
    ),
    ("api", "API", include_str!("../../../../docs/api.md")),
    (
        "performance",
        "Performance",
        include_str!("../../../../docs/performance.md"),
    ),
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
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(md).map(served_link));
    let docs: Vec<_> = DOCS
        .iter()
        .map(|(s, t, _)| json!({ "slug": s, "title": t }))
        .collect();
    Ok(page.render("docs.html", context! { title => *title, html => html, docs => minijinja::Value::from(minijinja::value::Serde(&docs)) }))
}

/// Links between the markdown files (`data.md`) point at their served pages.
fn served_link(ev: pulldown_cmark::Event<'_>) -> pulldown_cmark::Event<'_> {
    use pulldown_cmark::{Event, Tag};
    match ev {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !dest_url.contains("://") => {
            let (file, anchor) = match dest_url.split_once('#') {
                Some((f, a)) => (f, format!("#{a}")),
                None => (&*dest_url, String::new()),
            };
            let dest = match file.strip_suffix(".md") {
                Some(stem) if !stem.contains('/') => format!("/docs/{stem}{anchor}").into(),
                _ => dest_url.clone(),
            };
            Event::Start(Tag::Link {
                link_type,
                dest_url: dest,
                title,
                id,
            })
        }
        other => other,
    }
}

async fn index(page: Page) -> PageResult {
    render(&page, "index")
}

async fn show(page: Page, Path(slug): Path<String>) -> PageResult {
    render(&page, &slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_between_pages_keep_their_anchor() {
        let mut html = String::new();
        let md = "[a](module-development.md#the-live-spec) [b](audit.md) [c](https://x.test/y.md)";
        pulldown_cmark::html::push_html(
            &mut html,
            pulldown_cmark::Parser::new(md).map(served_link),
        );
        assert!(
            html.contains("href=\"/docs/module-development#the-live-spec\""),
            "{html}"
        );
        assert!(html.contains("href=\"/docs/audit\""), "{html}");
        assert!(html.contains("href=\"https://x.test/y.md\""), "{html}");
    }

    /// Every page in docs/ is served (a new page must be listed above).
    #[test]
    fn every_doc_is_served() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(stem) = name.strip_suffix(".md") {
                assert!(
                    DOCS.iter().any(|(s, _, _)| *s == stem),
                    "docs/{name} is not served"
                );
            }
        }
    }
}
