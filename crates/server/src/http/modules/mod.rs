//! AI module development: modules, versions, generation through the Patch Gateway —
//! the JSON API, the workspace pages, and the rules they share.

pub mod api;
mod pages;
pub mod service;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
