//! In-app notifications: the list, read marks, preferences, and the live unread count
//! (SSE) behind the bell in the header.

pub mod api;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes()
}
