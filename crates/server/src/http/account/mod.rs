//! The caller's own account: personal API tokens.

mod api;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
