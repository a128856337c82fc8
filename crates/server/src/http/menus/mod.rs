//! The System Management menu: the caller's own menu, and its administration.

mod api;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
