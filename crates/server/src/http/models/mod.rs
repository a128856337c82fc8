//! AI model configuration: the JSON API, the admin pages, and the rules they share.

pub mod api;
mod pages;
pub mod service;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
