//! # ecert-client
//!
//! The one client of ecert's two HTTP APIs (`docs/api.md`), used by the department's
//! tool, the wallet, the counter and the test network:
//!
//! - [`url`]: the server address a person gives (`https://HOST:PORT`), parsed once;
//! - [`tls`]: the connection policy ([`Transport`]): the authorities `https://` trusts (the
//!   bundled web PKI roots, or only the CA pinned with `--ca`), and plain `http://` only to
//!   loopback unless `--insecure-http`; and [`TransportArgs`], those two flags as every
//!   tool's command line takes them;
//! - [`http`]: the agent (timeouts, no redirects, user agent, TLS), bounded reads, the JSON
//!   error body, and [`HttpError`], which tells an unreachable server from an unusable
//!   answer and an unexpected status;
//! - [`node`]: the ledger node's API; the `certified_*` calls return data already checked
//!   against the trust anchor (`ecert_verifier::TrustAnchor`, through
//!   [`ecert_schemas::api::LedgerCheck`]);
//! - [`offer`]: redeeming a one-time offer at a department's offer endpoint.
//!
//! The paths are the constants of [`ecert_schemas::api`], shared with the servers. TLS is
//! rustls with the ring provider, through ureq.

pub mod http;
pub mod node;
pub mod offer;
pub mod tls;
/// The server address and offer link parsers (`ecert_schemas::address`).
pub use ecert_schemas::address as url;

pub use http::{ErrorBody, Http, HttpError, Reply};
pub use node::{NodeClient, NodeError};
pub use offer::OfferError;
pub use tls::{CaError, TlsProblem, Transport, TransportArgs};
pub use url::{ServerUrl, UrlError};
