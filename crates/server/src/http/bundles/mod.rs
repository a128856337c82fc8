//! Moving modules between instances: this instance's key, trusted keys, export and
//! import of signed bundles (docs/bundles.md).

mod api;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
