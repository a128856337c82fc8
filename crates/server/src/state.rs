use app::App;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What every handler can reach. Cloned for every extractor of every request: one
/// reference count, not one per part of the application.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    /// The application layer: every use case goes through it.
    pub app: App,
    /// Paths of the HTML pages that exist: menu items pointing elsewhere stay hidden.
    pub page_paths: BTreeSet<String>,
}

impl AppState {
    pub fn new(app: App, page_paths: BTreeSet<String>) -> AppState {
        AppState(Arc::new(Shared { app, page_paths }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
