//! `serve`: the offer endpoint, over HTTPS (or plain HTTP on loopback), until Ctrl-C (or
//! SIGTERM).

use std::net::SocketAddr;

use anyhow::{Context, Result};
use ecert_client::Transport;
use ecert_issuer::home::Home;
use ecert_issuer::offer::OfferStore;
use ecert_issuer::refill::RefillDesk;
use ecert_issuer::server::{self, OfferPage};
use ecert_serve::{Listener, Security, TlsFiles};

use super::print;
use crate::cli::ServeArgs;
use crate::exit;

/// Seconds in a day, for `--redelivery-days`.
const SECS_PER_DAY: u64 = 24 * 60 * 60;

/// `serve`.
pub fn run(home: &Home, args: &ServeArgs, net: &Transport) -> Result<()> {
    home.require()?;
    let config = home.config()?;
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        exit::input(format!(
            "--listen {:?} is not an address and port (for example 127.0.0.1:7400 or \
             0.0.0.0:7400)",
            args.listen
        ))
    })?;
    let security = match TlsFiles::from_flags(args.tls_cert.clone(), args.tls_key.clone()) {
        Some(files) => Security::Tls(files.load().map_err(|e| exit::input(e.to_string()))?),
        None => Security::Plain,
    };
    if let Some(app) = &args.wallet_app {
        if !server::is_wallet_app_url(app) {
            return Err(exit::input(format!(
                "--wallet-app {app:?} is not the address of a web app (for example \
                 https://10.1.2.3:7200/wallet/; no #fragment)"
            ))
            .into());
        }
    }
    let limits = args.limits.limits(server::MAX_BODY_BYTES);
    let listener = Listener::bind(addr, security, net.insecure_http())
        .map_err(|e| exit::input(e.to_string()))?
        .with_limits(limits);
    let page = OfferPage {
        department: config.issuer.clone(),
        public_url: config.serve_url.clone(),
        scheme: listener.scheme(),
        wallet_app: args.wallet_app.clone(),
    };
    let store = OfferStore::new(home.offers_dir())
        .with_redelivery_secs(args.redelivery_days.saturating_mul(SECS_PER_DAY));
    let refills = RefillDesk::new(config.issuer_id()?, home.dir().to_owned());
    let mut router = server::router(store.clone(), page, refills, &limits);
    if let Some(cors) = ecert_serve::cors::layer(&args.allow_origins) {
        router = router.layer(cors);
    }

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
    // Packages kept past their redelivery window (the endpoint was stopped, or the window
    // shortened) are deleted before anything is served.
    server::sweep(&store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server")?;
    print(&format!(
        "Serving offers of {} on {} (Ctrl-C to stop)\n",
        home.dir().display(),
        listener.url()
    ))?;
    runtime.block_on(async {
        tokio::spawn(server::sweep_periodically(store, server::SWEEP_EVERY));
        let shutdown = async {
            ecert_serve::shutdown_signal().await;
            tracing::info!("shutting down: finishing the requests in flight");
        };
        listener
            .serve(router, shutdown)
            .await
            .context("the server failed")?;
        tracing::info!("stopped");
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(())
}
