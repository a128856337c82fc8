//! The System Management menu: the caller's own menu, and its administration.

mod api;
mod pages;
pub mod service;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
