//! Webhook subscriptions and their deliveries (administrators).

pub mod api;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes()
}
