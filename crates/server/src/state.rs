use app::App;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The application layer: every use case goes through it.
    pub app: App,
    /// Paths of the HTML pages that exist: menu items pointing elsewhere stay hidden.
    pub page_paths: Arc<BTreeSet<String>>,
}
