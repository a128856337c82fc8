//! The audit log: browse, filter, export, verify.

mod api;
mod pages;
pub mod query;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
