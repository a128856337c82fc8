//! The start page.

use super::routing::Routes;
use crate::views::{Page, PageResult};
use access::Access;
use axum::http::Method;
use minijinja::context;

pub fn routes() -> Routes {
    Routes::default().page(Method::GET, "/", Access::Authenticated, home)
}

async fn home(page: Page) -> PageResult {
    Ok(page.render("home.html", context! {}))
}
