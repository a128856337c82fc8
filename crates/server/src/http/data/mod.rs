//! CRM data on the live spec: the JSON data API (pages come with the CRM section).

mod api;
mod pages;
mod spec_api;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes()
        .merge(spec_api::routes())
        .merge(pages::routes())
}
