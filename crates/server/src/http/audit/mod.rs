//! The audit log: browse, filter, export, verify.

mod api;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
