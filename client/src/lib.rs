//! # ecert-client
//!
//! The one client of ecert's two HTTP APIs (`docs/api.md`), used by the department's
//! tool, the wallet, the counter and the test network:
//!
//! - [`url`]: the server address a person gives (`http://HOST:PORT`), parsed once;
//! - [`http`]: the agent (timeouts, no redirects, user agent), bounded reads, the JSON
//!   error body, and [`HttpError`], which tells an unreachable server from an unusable
//!   answer and an unexpected status;
//! - [`node`]: the ledger node's API; the `certified_*` calls return data already checked
//!   against the trust anchor (`ecert_verifier::TrustAnchor`, through
//!   [`ecert_schemas::api::LedgerCheck`]);
//! - [`offer`]: redeeming a one-time offer at a department's offer endpoint.
//!
//! The paths are the constants of [`ecert_schemas::api`], shared with the servers. Plain
//! HTTP only (department networks): no TLS stack is compiled in.

pub mod http;
pub mod node;
pub mod offer;
pub mod url;

pub use http::{ErrorBody, Http, HttpError, Reply};
pub use node::{NodeClient, NodeError};
pub use offer::OfferError;
pub use url::{ServerUrl, UrlError};
