//! The paths of ecert's two HTTP APIs (`docs/api.md`), shared by the servers that route
//! them (the ledger node, the issuer's offer endpoint) and by `ecert-client`. Pure data:
//! no I/O.
//!
//! Route patterns (with `{name}` placeholders, as `axum` writes them) are the `*_ROUTE`
//! constants; the functions build a concrete path.

use crate::ledger::{AnchorReceipt, BlockHeader, RevocationDelta, RevocationSnapshot, TrustBundle};
use crate::{Hash32, KindRegistry};

/// `POST`: submit a `Transaction` (CBOR). Query: [`WAIT`], [`TIMEOUT_MS`].
pub const TRANSACTIONS: &str = "/v1/transactions";
/// Query parameter of [`TRANSACTIONS`]: `certified`, `committed` or `none`.
pub const WAIT: &str = "wait";
/// Query parameter of [`TRANSACTIONS`]: how long to wait, in milliseconds.
pub const TIMEOUT_MS: &str = "timeout_ms";
/// The most a node waits for a submitted transaction, in milliseconds.
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// Prefix of a batch's anchor receipt: `GET /v1/anchors/{batch_root_hex}`.
pub const ANCHORS: &str = "/v1/anchors";
/// The route of one anchor receipt.
pub const ANCHOR_ROUTE: &str = "/v1/anchors/{root}";

/// `GET`: certified checkpoints. Query: [`FROM`], [`LIMIT`].
pub const CHECKPOINTS: &str = "/v1/checkpoints";
/// Query parameter of [`CHECKPOINTS`]: the first height.
pub const FROM: &str = "from";
/// Query parameter of [`CHECKPOINTS`]: how many at most.
pub const LIMIT: &str = "limit";
/// `GET`: the newest certified checkpoint.
pub const CHECKPOINTS_LATEST: &str = "/v1/checkpoints/latest";

/// `GET`: the registry as of the latest applied block.
pub const REGISTRY: &str = "/v1/registry";
/// `GET`: an issuer's batches. Query: [`ISSUER`].
pub const BATCHES: &str = "/v1/batches";
/// Query parameter of [`BATCHES`]: the issuer id.
pub const ISSUER: &str = "issuer";
/// `GET`: the revocation snapshot, or with [`SINCE`] the certified revocation delta.
pub const REVOCATIONS: &str = "/v1/revocations";
/// Query parameter of [`REVOCATIONS`]: the height the delta starts after.
pub const SINCE: &str = "since";
/// `GET`: the trust bundle.
pub const EXPORT: &str = "/v1/export";
/// `GET`: what changed after the certified header at height [`SINCE`], up to the newest
/// certified header (`TrustUpdate`, CBOR): a counter's incremental sync.
pub const UPDATES: &str = "/v1/updates";
/// `GET`: the validators' freshness statements over the newest certified header
/// (`Freshness`, CBOR).
pub const FRESHNESS: &str = "/v1/freshness";
/// The validator set as of the newest certified header, proven from genesis (CBOR
/// `ValidatorSetProof`).
pub const VALIDATORS: &str = "/v1/validators";
/// `GET`: the node's health (JSON).
pub const HEALTH: &str = "/health";
/// `GET`: Prometheus metrics (text).
pub const METRICS: &str = "/metrics";

/// Prefix of an offer URL, `https://HOST:PORT/v1/offers/{code}` (issuer offer endpoint).
pub const OFFERS: &str = "/v1/offers";
/// The route of an offer URL itself: `GET /v1/offers/{code}`, a page for people who open
/// the link in a browser.
pub const OFFER_ROUTE: &str = "/v1/offers/{code}";
/// The route of a redemption: `POST /v1/offers/{code}/redeem`.
pub const OFFER_REDEEM_ROUTE: &str = "/v1/offers/{code}/redeem";
/// The route of a wallet's refill request (issuer offer endpoint): `POST /v1/refills`
/// with a CBOR `RefillRequest`, answered with a new package of copies (200) or "queued"
/// (202).
pub const REFILL_ROUTE: &str = "/v1/refills";

/// The checks a client of the ledger node's API runs on what it fetched, against a trust
/// anchor. `ecert_verifier::TrustAnchor` implements them with the verifier's rules
/// (`TrustStore::from_bundle`, `verify_revocation_delta`, `verify_anchor_receipt`); they
/// are named here so that `ecert-client` can return checked data without depending on the
/// verifier (whose counter tool depends on the client). Pure.
pub trait LedgerCheck {
    /// A refusal (the verifier's `VerifyError`).
    type Error: std::error::Error + Send + Sync + 'static;
    /// A checked export (the verifier's `TrustStore`).
    type Store;
    /// A checked anchor receipt (the verifier's `VerifiedAnchor`).
    type Receipt;

    /// The stable code of a refusal (`header-not-certified`, ...).
    fn error_code(error: &Self::Error) -> &'static str;

    /// Checks an export (trust bundle) against this anchor.
    fn check_export(
        &self,
        bundle: TrustBundle,
        kinds: KindRegistry,
    ) -> Result<Self::Store, Self::Error>;

    /// Applies the revocations after `held` (a checked state at its height) and checks
    /// the result against this anchor: the certified header and the new state.
    fn check_revocations(
        &self,
        held: &RevocationSnapshot,
        delta: &RevocationDelta,
    ) -> Result<(BlockHeader, RevocationSnapshot), Self::Error>;

    /// Checks an anchor receipt against this anchor.
    fn check_anchor_receipt(&self, receipt: &AnchorReceipt) -> Result<Self::Receipt, Self::Error>;
}

/// The path of the anchor receipt of the batch with this root.
pub fn anchor(root: &Hash32) -> String {
    format!("{ANCHORS}/{}", root.to_hex())
}

/// The path of a submission, waiting as asked (`wait` is `certified`, `committed` or
/// `none`; `timeout_ms` is capped at [`MAX_TIMEOUT_MS`]).
pub fn transactions(wait: &str, timeout_ms: u64) -> String {
    format!(
        "{TRANSACTIONS}?{WAIT}={wait}&{TIMEOUT_MS}={}",
        timeout_ms.min(MAX_TIMEOUT_MS)
    )
}

/// The path of the certified revocation delta after height `since`.
pub fn revocations_since(since: u64) -> String {
    format!("{REVOCATIONS}?{SINCE}={since}")
}

/// The path of the trust update after the certified header at height `since`.
pub fn updates_since(since: u64) -> String {
    format!("{UPDATES}?{SINCE}={since}")
}

/// The path of at most `limit` checkpoints from height `from`.
pub fn checkpoints(from: u64, limit: u64) -> String {
    format!("{CHECKPOINTS}?{FROM}={from}&{LIMIT}={limit}")
}

/// The path of an issuer's batches (`issuer` is an issuer id: lowercase letters, digits
/// and `-`, nothing to escape).
pub fn batches(issuer: &str) -> String {
    format!("{BATCHES}?{ISSUER}={issuer}")
}

/// The path of an offer (the offer URL's path): `/v1/offers/{code}`.
pub fn offer(code: &str) -> String {
    format!("{OFFERS}/{code}")
}

/// The path that redeems an offer: `/v1/offers/{code}/redeem`.
pub fn offer_redeem(code: &str) -> String {
    format!("{OFFERS}/{code}/redeem")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_their_routes() {
        assert_eq!(
            anchor(&Hash32([1; 32])),
            ANCHOR_ROUTE.replace("{root}", &"01".repeat(32))
        );
        assert_eq!(
            offer_redeem("K7Q2"),
            OFFER_REDEEM_ROUTE.replace("{code}", "K7Q2")
        );
        assert_eq!(
            transactions("certified", 90_000),
            "/v1/transactions?wait=certified&timeout_ms=60000"
        );
        assert_eq!(revocations_since(0), "/v1/revocations?since=0");
        assert_eq!(checkpoints(3, 10), "/v1/checkpoints?from=3&limit=10");
        assert_eq!(batches("justice"), "/v1/batches?issuer=justice");
        assert_eq!(offer("abc"), "/v1/offers/abc");
    }
}
