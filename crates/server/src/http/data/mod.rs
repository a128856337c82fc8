//! CRM data on the live spec: the JSON data API (pages come with the CRM section),
//! and the same API inside a live preview.

pub(super) mod api;
mod pages;
mod preview_api;
mod preview_pages;
mod spec_api;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes()
        .merge(spec_api::routes())
        .merge(preview_api::routes())
        .merge(pages::routes())
}
