//! Limits that keep a server up under hostile clients (`docs/api.md`, "Limits"):
//! connections at once, in all and from one client ([`conn`]); how long a client may take
//! to send its request's headers, its body, and how long a connection may stay idle; how
//! large a body may be; how often one client may submit ([`rate`], [`guards`]); and how
//! many expensive requests run at once ([`guards`]).
//!
//! [`Limits`] holds them with their defaults; [`LimitArgs`] is the command-line flags of
//! both servers (`ecert-node run`, `ecert-issuer serve`), flattened into each.

pub mod conn;
pub mod guards;
pub mod rate;

use std::time::Duration;

use clap::builder::TypedValueParser as _;

pub use guards::{error, read_bodies_whole, ConcurrencyLimit, SubmissionLimit};
pub use rate::{RateLimiter, RatePolicy, RetryAfter};

/// The limits of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: usize,
    /// Connections from one client (an IPv4 address, an IPv6 `/64`) at once; further
    /// ones are closed at once.
    pub max_connections_per_client: usize,
    /// How long a client may take to send a request's headers (the first request's,
    /// after the TLS handshake, and each later one's on HTTP/1.1).
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body, once its headers arrived.
    pub body_timeout: Duration,
    /// How long a connection may stay open with no request in flight.
    pub idle_timeout: Duration,
    /// Largest request body, in bytes (the service's own, not a flag).
    pub max_body_bytes: usize,
    /// Submissions (the node's transactions, the issuer's offer redemptions) per client.
    pub submissions: RatePolicy,
    /// Expensive requests (whole-ledger reads; offer redemptions) at once; others wait.
    pub max_heavy_requests: usize,
}

impl Limits {
    /// Connections at once.
    pub const MAX_CONNECTIONS: usize = 1_024;
    /// Connections from one client.
    pub const MAX_CONNECTIONS_PER_CLIENT: usize = 64;
    /// Seconds to send the headers.
    pub const HEADER_TIMEOUT_SECS: u64 = 10;
    /// Seconds to send the body.
    pub const BODY_TIMEOUT_SECS: u64 = 20;
    /// Seconds idle.
    pub const IDLE_TIMEOUT_SECS: u64 = 60;
    /// Submissions a second from one client.
    pub const SUBMIT_RATE: u32 = 100;
    /// Submissions at once from one client after a quiet time.
    pub const SUBMIT_BURST: u32 = 200;
    /// Expensive requests at once.
    pub const MAX_HEAVY_REQUESTS: usize = 8;
    /// How long an expensive request waits for its turn before `503 busy`.
    pub const HEAVY_WAIT: Duration = Duration::from_secs(10);
    /// Largest request body by default (a service sets its own).
    pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: Limits::MAX_CONNECTIONS,
            max_connections_per_client: Limits::MAX_CONNECTIONS_PER_CLIENT,
            header_timeout: Duration::from_secs(Limits::HEADER_TIMEOUT_SECS),
            body_timeout: Duration::from_secs(Limits::BODY_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(Limits::IDLE_TIMEOUT_SECS),
            max_body_bytes: Limits::MAX_BODY_BYTES,
            submissions: RatePolicy {
                per_second: Limits::SUBMIT_RATE,
                burst: Limits::SUBMIT_BURST,
            },
            max_heavy_requests: Limits::MAX_HEAVY_REQUESTS,
        }
    }
}

/// The limits as command-line flags (`#[command(flatten)]`), with the defaults of
/// [`Limits`].
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct LimitArgs {
    /// Most connections served at once; more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = Limits::MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1_000_000).map(|n| n as usize))]
    pub max_connections: usize,
    /// Most connections at once from one client (an IPv4 address or an IPv6 /64); more are
    /// closed at once. Behind a proxy every client is the proxy: raise it.
    #[arg(long, value_name = "N", default_value_t = Limits::MAX_CONNECTIONS_PER_CLIENT, value_parser = clap::value_parser!(u32).range(1..=1_000_000).map(|n| n as usize))]
    pub max_connections_per_client: usize,
    /// Seconds a client may take to send a request's headers (TLS handshake apart);
    /// slower connections are closed.
    #[arg(long, value_name = "SECS", default_value_t = Limits::HEADER_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub header_timeout: u64,
    /// Seconds a client may take to send a request's body after its headers (408 after).
    #[arg(long, value_name = "SECS", default_value_t = Limits::BODY_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub body_timeout: u64,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(long, value_name = "SECS", default_value_t = Limits::IDLE_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout: u64,
    /// Submissions a second from one client, sustained (ledger node: transactions;
    /// issuer: offer redemptions); 429 with Retry-After beyond. 0: no limit.
    #[arg(long, value_name = "N", default_value_t = Limits::SUBMIT_RATE)]
    pub submit_rate: u32,
    /// Submissions one client may make at once after a quiet time.
    #[arg(long, value_name = "N", default_value_t = Limits::SUBMIT_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub submit_burst: u32,
    /// Most expensive requests at once (ledger node: export, revocations, checkpoints,
    /// batches, registry; issuer: redemptions); more wait their turn.
    #[arg(long, value_name = "N", default_value_t = Limits::MAX_HEAVY_REQUESTS, value_parser = clap::value_parser!(u32).range(1..=65_536).map(|n| n as usize))]
    pub max_heavy_requests: usize,
}

impl Default for LimitArgs {
    fn default() -> LimitArgs {
        LimitArgs::from(Limits::default())
    }
}

impl From<Limits> for LimitArgs {
    fn from(l: Limits) -> LimitArgs {
        LimitArgs {
            max_connections: l.max_connections,
            max_connections_per_client: l.max_connections_per_client,
            header_timeout: l.header_timeout.as_secs(),
            body_timeout: l.body_timeout.as_secs(),
            idle_timeout: l.idle_timeout.as_secs(),
            submit_rate: l.submissions.per_second,
            submit_burst: l.submissions.burst,
            max_heavy_requests: l.max_heavy_requests,
        }
    }
}

impl LimitArgs {
    /// The limits asked for, with a service's largest body.
    pub fn limits(&self, max_body_bytes: usize) -> Limits {
        Limits {
            max_connections: self.max_connections,
            max_connections_per_client: self.max_connections_per_client,
            header_timeout: Duration::from_secs(self.header_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_body_bytes,
            submissions: RatePolicy {
                per_second: self.submit_rate,
                burst: self.submit_burst,
            },
            max_heavy_requests: self.max_heavy_requests,
        }
    }
}
