//! Static assets, embedded in the binary.

use super::routing::Routes;
use access::Access;
use axum::http::{Method, header};
use axum::response::IntoResponse;

const APP_CSS: &str = include_str!("../../static/app.css");

pub fn routes() -> Routes {
    Routes::default().page(Method::GET, "/static/app.css", Access::Public, app_css)
}

async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_CSS,
    )
}
