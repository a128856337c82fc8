//! Building and running the server; tests use the same path with port 0.

use crate::state::AppState;
use crate::{http, views};
use anyhow::Context;
use app::seed::SeedOutcome;
use app::{App, Config};
use axum::http::Method;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The handlers' state over an opened application: the page paths that exist are
/// read off the route table.
pub fn state_of(app: App) -> AppState {
    let page_paths = http::routes()
        .table
        .iter()
        .filter(|r| r.surface == http::routing::Surface::Page && r.method == Method::GET)
        .map(|r| r.path.clone())
        .collect();
    // Compile templates now, so a broken one fails start-up rather than a request.
    let _ = &*views::VIEWS;
    // Counting starts with the first request.
    let _ = http::metrics::recorder();
    AppState::new(app, page_paths)
}

/// A server bound to its port, with its database migrated and seeded.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<(Application, SeedOutcome)> {
        let bind = config.bind;
        let (app, seeded) = App::open_seeded(config).await?;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        Ok((
            Application {
                listener,
                state: state_of(app),
            },
            seeded,
        ))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests, stops the
    /// live spec's poller and the delivery worker, and closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.state.app.clone();
        let stop = llm::CancellationToken::new();
        let poller = app.live.clone().watch(app.db.clone(), stop.clone());
        let deliveries = app::deliveries::spawn(app.clone(), stop.clone());
        let upkeep = http::metrics::spawn_upkeep(stop.clone());
        let router = http::app(self.state);
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        stop.cancel();
        if let Err(e) = poller.await {
            tracing::warn!(error = %e, "the live spec poller ended abnormally");
        }
        let _ = upkeep.await;
        if let Err(e) = deliveries.await {
            tracing::warn!(error = %e, "the delivery worker ended abnormally");
        }
        app.db.close().await;
        served?;
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
