//! Moving modules between instances: this instance's key, trusted keys, export and
//! import of signed bundles (docs/bundles.md).

mod api;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes()
}
