//! The caller's own account: personal API tokens.

mod api;
mod pages;
pub mod service;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
