//! AI module development: modules, versions, generation through the Patch Gateway:
//! the JSON API and the workspace pages.

pub mod api;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
