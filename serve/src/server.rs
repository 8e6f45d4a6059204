//! Listening and serving: an axum [`Router`] over TLS or plain TCP, until told to stop,
//! then finishing the requests in flight.
//!
//! Plain HTTP listens only on loopback addresses (tests, the local test network) unless
//! the operator asked for it with `--insecure-http`: a phone's camera and service workers
//! need a secure context, and nothing on a department's network should travel in clear by
//! accident.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use rustls::ServerConfig;
use thiserror::Error;

use crate::limits::conn::Gate;
use crate::limits::{read_bodies_whole, Limits};

/// How long requests in flight may take to finish after the stop signal.
pub const GRACE: Duration = Duration::from_secs(10);
/// Largest buffer an HTTP/1.1 connection reads into (the request line and headers must
/// fit; hyper's own default is about 400 KiB).
const HTTP1_MAX_BUF: usize = 64 * 1024;
/// Largest header list of an HTTP/2 request.
const HTTP2_MAX_HEADER_LIST: u32 = 32 * 1024;
/// Requests at once on one HTTP/2 connection.
const HTTP2_MAX_STREAMS: u32 = 32;
/// HTTP/2 pings: how often on a quiet connection, and how long to wait for the answer.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Why a server cannot listen.
#[derive(Debug, Error)]
pub enum ServeError {
    /// Plain HTTP on a non-loopback address without `--insecure-http`.
    #[error(
        "refusing to serve plain HTTP on {addr}: it is not a loopback address. Give a \
         certificate and key with --tls-cert FILE --tls-key FILE (browsers and phones need \
         HTTPS), or add --insecure-http to serve unencrypted HTTP on a network you trust"
    )]
    PlainHttpRefused {
        /// The address asked.
        addr: SocketAddr,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// How a server speaks: TLS with this configuration, or plain HTTP.
#[derive(Clone, Debug)]
pub enum Security {
    /// HTTPS.
    Tls(Arc<ServerConfig>),
    /// Plain HTTP (loopback, or `--insecure-http`).
    Plain,
}

impl Security {
    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Security::Tls(_) => "https",
            Security::Plain => "http",
        }
    }
}

/// Whether plain HTTP may be served on `addr`: only on loopback, unless `insecure_http`.
pub fn check_plain(addr: SocketAddr, insecure_http: bool) -> Result<(), ServeError> {
    if addr.ip().is_loopback() || insecure_http {
        Ok(())
    } else {
        Err(ServeError::PlainHttpRefused { addr })
    }
}

/// A bound listening socket, not serving yet.
#[derive(Debug)]
pub struct Listener {
    socket: std::net::TcpListener,
    addr: SocketAddr,
    security: Security,
    limits: Limits,
}

impl Listener {
    /// Binds `addr` (port 0: any free port). Plain HTTP is refused on a non-loopback
    /// address unless `insecure_http`.
    pub fn bind(
        addr: SocketAddr,
        security: Security,
        insecure_http: bool,
    ) -> Result<Listener, ServeError> {
        if matches!(security, Security::Plain) {
            check_plain(addr, insecure_http)?;
        }
        let bind_error = |source| ServeError::Bind { addr, source };
        let socket = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        let bound = socket.local_addr().map_err(bind_error)?;
        socket.set_nonblocking(true).map_err(bind_error)?;
        Ok(Listener {
            socket,
            addr: bound,
            security,
            limits: Limits::default(),
        })
    }

    /// Serves with these limits instead of [`Limits::default`].
    pub fn with_limits(mut self, limits: Limits) -> Listener {
        self.limits = limits;
        self
    }

    /// The limits it will serve with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        self.security.scheme()
    }

    /// The base URL of this listener as seen from this computer
    /// (`https://127.0.0.1:7200`).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme(), self.addr)
    }

    /// Serves `router` until `shutdown` completes, then lets requests in flight finish (at
    /// most [`GRACE`]), within the listener's [`Limits`]: connections bounded in all and
    /// per client, slow and idle clients cut off, every body read whole within its size and
    /// time before a route sees it. Must run inside a Tokio runtime.
    pub async fn serve(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let limits = self.limits;
        let handle: Handle<SocketAddr> = Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopper.graceful_shutdown(Some(GRACE));
        });
        let router = read_bodies_whole(router, limits.max_body_bytes, limits.body_timeout);
        let gate = Gate::new(
            router,
            limits.max_connections,
            limits.max_connections_per_client,
            limits.idle_timeout,
        );
        let refused = |client: Option<&SocketAddr>, e: &std::io::Error| {
            tracing::debug!(?client, "connection not served: {e}");
        };
        match self.security {
            Security::Tls(config) => {
                let mut server = axum_server::tls_rustls::from_tcp_rustls(
                    self.socket,
                    RustlsConfig::from_config(config),
                )?
                .map(|acceptor| acceptor.handshake_timeout(limits.header_timeout));
                tune(server.http_builder(), &limits);
                server
                    .handle(handle)
                    .first_request_timeout(limits.header_timeout)
                    .accept_error_handler(refused)
                    .serve(gate)
                    .await
            }
            Security::Plain => {
                let mut server = axum_server::from_tcp(self.socket)?;
                tune(server.http_builder(), &limits);
                server
                    .handle(handle)
                    .first_request_timeout(limits.header_timeout)
                    .accept_error_handler(refused)
                    .serve(gate)
                    .await
            }
        }
    }
}

/// The HTTP protocol settings that bound one connection: the header timeout (also the
/// wait for the next request on a kept-alive HTTP/1.1 connection), buffer and header
/// sizes, HTTP/2 streams and pings.
fn tune(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &Limits,
) {
    builder
        .http1()
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(HTTP1_MAX_BUF);
    builder
        .http2()
        .max_concurrent_streams(HTTP2_MAX_STREAMS)
        .max_header_list_size(HTTP2_MAX_HEADER_LIST)
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_unless_asked() {
        let here: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let six: SocketAddr = "[::1]:7200".parse().unwrap();
        let lan: SocketAddr = "192.0.2.10:7200".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:7200".parse().unwrap();
        assert!(check_plain(here, false).is_ok());
        assert!(check_plain(six, false).is_ok());
        for addr in [lan, any] {
            let e = check_plain(addr, false).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("--tls-cert") && text.contains("--insecure-http"),
                "{text}"
            );
            assert!(check_plain(addr, true).is_ok());
        }
        // Refused before anything is bound.
        assert!(matches!(
            Listener::bind(any, Security::Plain, false),
            Err(ServeError::PlainHttpRefused { .. })
        ));
        let bound = Listener::bind(here, Security::Plain, false).unwrap();
        assert_ne!(bound.local_addr().port(), 0);
        assert!(bound.url().starts_with("http://127.0.0.1:"));
    }
}
