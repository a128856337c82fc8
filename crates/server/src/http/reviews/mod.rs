//! AI module review: submitting, the queue, a review with its thread and decision,
//! and the review pages.

pub mod api;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
