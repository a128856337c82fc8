//! AI module testing: runs of the CRM suite plus a module's scenarios over a version,
//! their reports (JSON, JUnit, HTML), readiness to submit, and the testing page.

pub mod api;
mod pages;

use super::routing::Routes;

pub fn routes() -> Routes {
    api::routes().merge(pages::routes())
}
