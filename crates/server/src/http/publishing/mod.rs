//! AI module publishing: publish (上架), unpublish (下架), rollback, restore, impact,
//! releases, and the publishing page.

pub mod api;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
