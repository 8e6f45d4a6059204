//! `serve`: the offer endpoint, until Ctrl-C (or SIGTERM).

use anyhow::{Context, Result};
use ecert_issuer::home::Home;
use ecert_issuer::offer::OfferStore;
use ecert_issuer::server;

use super::print;
use crate::cli::ServeArgs;
use crate::exit;

/// `serve`.
pub fn run(home: &Home, args: &ServeArgs) -> Result<()> {
    home.require()?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| exit::input(format!("cannot listen on {}: {e}", args.listen)))?;
        let address = listener
            .local_addr()
            .context("cannot read the listening address")?;
        print(&format!(
            "Serving offers of {} on http://{address} (Ctrl-C to stop)\n",
            home.dir().display()
        ))?;
        let router = server::router(OfferStore::new(home.offers_dir()));
        server::serve(listener, router, shutdown_signal())
            .await
            .context("the server failed")?;
        tracing::info!("stopped");
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
