//! Bounded connections: at most so many at once, and at most so many from one client.
//!
//! [`Gate`] is the server's per-connection service factory. Before each accepted
//! connection is served it waits for one of the server's connection slots (until one is
//! free the server accepts nothing more: further connections wait in the kernel's
//! listen queue, and past it are refused by the kernel), then refuses the connection at
//! once if its client already holds its share. The slot is held by the connection's
//! service and given back when the connection ends.
//!
//! Each connection's service also adds the client's address to every request
//! (axum's `ConnectInfo<SocketAddr>`, for per-client limits), and closes a connection
//! that has had no request in flight for the idle timeout.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum_server::ConnectionShutdown;
use thiserror::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::Service;

use super::rate::ClientKey;

/// Why a connection was not served.
#[derive(Debug, Error)]
pub enum Refused {
    /// The client already holds its share of the connections.
    #[error("{client}: already {held} connections from this client")]
    ClientShare {
        /// The client's address.
        client: SocketAddr,
        /// Connections it holds.
        held: usize,
    },
    /// The server is stopping.
    #[error("the server is stopping")]
    Closed,
}

/// Connections held per client.
#[derive(Debug, Default)]
struct Shares {
    held: Mutex<HashMap<ClientKey, usize>>,
}

impl Shares {
    fn take(&self, key: ClientKey, max: usize) -> Result<(), usize> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let count = held.entry(key).or_insert(0);
        if *count >= max {
            return Err(*count);
        }
        *count += 1;
        Ok(())
    }

    fn give_back(&self, key: ClientKey) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = held.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.remove(&key);
            }
        }
    }
}

/// What one connection holds: a server slot and its client's share, given back on drop;
/// and what the idle watch needs to know.
#[derive(Debug)]
struct Ticket {
    _slot: OwnedSemaphorePermit,
    shares: Arc<Shares>,
    key: ClientKey,
    in_flight: AtomicUsize,
    last_active: Mutex<Instant>,
    watched: std::sync::atomic::AtomicBool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.shares.give_back(self.key);
    }
}

impl Ticket {
    fn touch(&self) {
        *self.last_active.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    fn idle_since(&self) -> Option<Instant> {
        (self.in_flight.load(Ordering::Acquire) == 0)
            .then(|| *self.last_active.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Closes the connection once it has had no request in flight for `idle`.
async fn watch_idle(ticket: Weak<Ticket>, shutdown: ConnectionShutdown, idle: Duration) {
    loop {
        let wake = match ticket.upgrade() {
            None => return,
            Some(ticket) => match ticket.idle_since() {
                Some(since) if since + idle <= Instant::now() => break,
                Some(since) => since + idle,
                None => Instant::now() + idle,
            },
        };
        tokio::time::sleep_until(wake).await;
    }
    // Asked to finish what it is sending; a client that does not read it either is cut off
    // after another idle period.
    shutdown.graceful_shutdown();
    tokio::time::sleep(idle).await;
    if ticket.upgrade().is_some() {
        shutdown.shutdown();
    }
}

/// The per-connection service factory of a server with bounded connections.
pub struct Gate<S> {
    inner: S,
    slots: Arc<Semaphore>,
    shares: Arc<Shares>,
    per_client: usize,
    idle: Duration,
    /// A slot taken by `poll_ready` for the next `call`.
    pending: Option<OwnedSemaphorePermit>,
    /// Waiting for a slot.
    acquiring: Option<AcquireFuture>,
}

type AcquireFuture =
    Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, tokio::sync::AcquireError>> + Send>>;

impl<S> Gate<S> {
    /// At most `max` connections at once, `per_client` from one client, each closed after
    /// `idle` without a request in flight.
    pub fn new(inner: S, max: usize, per_client: usize, idle: Duration) -> Gate<S> {
        Gate {
            inner,
            slots: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            shares: Arc::new(Shares::default()),
            per_client: per_client.max(1),
            idle,
            pending: None,
            acquiring: None,
        }
    }
}

impl<S: Clone + Send + 'static> Service<SocketAddr> for Gate<S> {
    type Response = Connection<S>;
    type Error = Refused;
    type Future = std::future::Ready<Result<Connection<S>, Refused>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Refused>> {
        if self.pending.is_some() {
            return Poll::Ready(Ok(()));
        }
        let slots = &self.slots;
        let future = self
            .acquiring
            .get_or_insert_with(|| Box::pin(slots.clone().acquire_owned()));
        let taken = std::task::ready!(future.as_mut().poll(cx));
        self.acquiring = None;
        match taken {
            Ok(permit) => {
                self.pending = Some(permit);
                Poll::Ready(Ok(()))
            }
            Err(_) => Poll::Ready(Err(Refused::Closed)),
        }
    }

    fn call(&mut self, client: SocketAddr) -> Self::Future {
        let Some(slot) = self.pending.take() else {
            return std::future::ready(Err(Refused::Closed));
        };
        let key = ClientKey::of(client.ip());
        if let Err(held) = self.shares.take(key, self.per_client) {
            tracing::debug!(%client, held, "connection refused: the client holds its share");
            return std::future::ready(Err(Refused::ClientShare { client, held }));
        }
        let ticket = Arc::new(Ticket {
            _slot: slot,
            shares: self.shares.clone(),
            key,
            in_flight: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
            watched: std::sync::atomic::AtomicBool::new(false),
        });
        std::future::ready(Ok(Connection {
            inner: self.inner.clone(),
            client,
            ticket,
            idle: self.idle,
        }))
    }
}

/// One connection's service: the router, with the client's address added to each
/// request, holding the connection's slot.
#[derive(Clone, Debug)]
pub struct Connection<S> {
    inner: S,
    client: SocketAddr,
    ticket: Arc<Ticket>,
    idle: Duration,
}

/// Marks a request finished (and the connection active) when dropped.
struct InFlight(Arc<Ticket>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<S, B> Service<Request<B>> for Connection<S>
where
    S: Service<Request<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.client));
        if !self.ticket.watched.swap(true, Ordering::AcqRel) {
            if let Some(shutdown) = request.extensions().get::<ConnectionShutdown>() {
                tokio::spawn(watch_idle(
                    Arc::downgrade(&self.ticket),
                    shutdown.clone(),
                    self.idle,
                ));
            }
        }
        self.ticket.in_flight.fetch_add(1, Ordering::AcqRel);
        let in_flight = InFlight(self.ticket.clone());
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await;
            drop(in_flight);
            response
        })
    }
}
