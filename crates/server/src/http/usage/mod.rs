//! Model usage and budgets: the JSON API and the usage page with its chart.

pub mod api;
mod chart;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
