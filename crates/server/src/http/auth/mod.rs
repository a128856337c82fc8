//! Logging in and out, by API and by form, and `GET /api/me`.

mod api;
mod login;
mod pages;

pub use login::session_cookie;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
