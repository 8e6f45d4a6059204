//! The ledger node's client API, moved to `ecert-client` ([`ecert_client::node`]); re-exported
//! here so that the issuer's modules keep their paths until they use the client directly.
pub use ecert_client::node::*;
