use crate::http::routing::Routes;
pub fn routes() -> Routes {
    Routes::default()
}
