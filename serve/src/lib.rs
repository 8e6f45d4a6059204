//! # ecert-serve
//!
//! The one server plumbing of ecert's HTTP services, the ledger node's client API
//! (`ecert-node run`) and the department's offer endpoint (`ecert-issuer serve`):
//!
//! - [`tls`]: the certificate chain and key from PEM files (`--tls-cert`, `--tls-key`) as a
//!   rustls server configuration (ring provider), with errors that name the file;
//! - [`server`]: binding and serving an axum `Router` over TLS or plain TCP, with graceful
//!   shutdown; plain HTTP only on loopback unless `--insecure-http`;
//! - [`cors`]: cross-origin calls for exactly the origins of `--allow-origin`;
//! - [`limits`]: what keeps a server up under hostile clients — connections bounded in all
//!   and per client, header, body and idle timeouts, body sizes, per-client submission
//!   rates, expensive requests at once — and their flags (`LimitArgs`);
//! - [`apps`]: the web apps' static files (`--web DIR`), with their content types,
//!   compression and page headers;
//! - [`shutdown_signal`]: Ctrl-C or SIGTERM.
//!
//! The routers themselves (which paths, which answers) stay with the services.

pub mod apps;
pub mod cors;
pub mod limits;
pub mod server;
pub mod tls;

pub use apps::AppsError;
pub use cors::{Origin, OriginError};
pub use limits::{LimitArgs, Limits};
pub use server::{check_plain, Listener, Security, ServeError};
pub use tls::{TlsFileError, TlsFiles};

/// Completes on Ctrl-C or (on Unix) SIGTERM: the signal to stop serving and let requests
/// in flight finish.
pub async fn shutdown_signal() {
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
}
