//! [`ecert_schemas::api::LedgerCheck`] for [`TrustAnchor`]: the checks `ecert-client`
//! runs on what it fetches from a ledger node, with this crate's rules. Pure.

use ecert_schemas::api::LedgerCheck;
use ecert_schemas::ledger::{
    AnchorReceipt, BlockHeader, RevocationDelta, RevocationSnapshot, TrustBundle,
};
use ecert_schemas::KindRegistry;

use crate::{
    verify_anchor_receipt, verify_revocation_delta, TrustAnchor, TrustStore, VerifiedAnchor,
    VerifyError,
};

impl LedgerCheck for TrustAnchor {
    type Error = VerifyError;
    type Store = TrustStore;
    type Receipt = VerifiedAnchor;

    fn error_code(error: &VerifyError) -> &'static str {
        error.code()
    }

    fn check_export(
        &self,
        bundle: TrustBundle,
        kinds: KindRegistry,
    ) -> Result<TrustStore, VerifyError> {
        TrustStore::from_bundle(bundle, self, kinds)
    }

    fn check_revocations(
        &self,
        held: &RevocationSnapshot,
        delta: &RevocationDelta,
    ) -> Result<(BlockHeader, RevocationSnapshot), VerifyError> {
        verify_revocation_delta(held, delta, self)
    }

    fn check_anchor_receipt(&self, receipt: &AnchorReceipt) -> Result<VerifiedAnchor, VerifyError> {
        verify_anchor_receipt(receipt, self)
    }
}
