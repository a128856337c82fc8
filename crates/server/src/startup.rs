//! Building and running the server; tests use the same path with port 0.

use crate::config::Config;
use crate::secret::InstanceSecret;
use crate::seed::{self, SeedOutcome};
use crate::state::AppState;
use crate::{http, views};
use anyhow::Context;
use axum::http::Method;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use store::Db;
use tokio::net::TcpListener;

/// Connects to the configured database and applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    }
    let url = config.effective_database_url();
    let db = Db::connect(&url)
        .await
        .with_context(|| format!("cannot open database {}", redact_url(&url)))?;
    db.migrate().await.context("database migration failed")?;
    Ok(db)
}

/// A database URL with any password removed, fit for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Everything a request handler can reach, without a listener: the migrated and
/// seeded database, the instance secret, the live spec. The server and the command
/// line's service commands (such as `module generate`) share it.
pub async fn open_state(config: Config) -> anyhow::Result<(AppState, SeedOutcome)> {
    let db = open_database(&config).await?;
    let seeded = seed::run(&db, config.admin_password.as_ref().map(|s| s.expose())).await?;
    let secret = InstanceSecret::load_or_create(&config)?;
    let live = Arc::new(crate::live::LiveSpec::load(&db).await?);
    let page_paths = http::routes()
        .table
        .iter()
        .filter(|r| r.surface == http::routing::Surface::Page && r.method == Method::GET)
        .map(|r| r.path.clone())
        .collect();
    // Compile templates now, so a broken one fails start-up rather than a request.
    let _ = &*views::VIEWS;
    let state = AppState {
        db,
        config: Arc::new(config),
        secret: Arc::new(secret),
        page_paths: Arc::new(page_paths),
        live,
        identities: Arc::default(),
    };
    Ok((state, seeded))
}

/// A server bound to its port, with its database migrated and seeded.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<(Application, SeedOutcome)> {
        let bind = config.bind;
        let (state, seeded) = open_state(config).await?;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        Ok((Application { listener, state }, seeded))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let db = self.state.db.clone();
        self.state.live.clone().watch(db.clone());
        let app = http::app(self.state);
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        db.close().await;
        Ok(())
    }
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            super::redact_url("sqlite:./modgate.db"),
            "sqlite:./modgate.db"
        );
    }
}
