//! Ledger transaction rules: what a node checks before ordering a transaction, and again
//! when applying it (a transaction that fails here is skipped, deterministically).

use ecert_schemas::codec::to_cbor;
use ecert_schemas::ledger::{
    AnchorBatchTx, Registry, RevocationTx, MAX_BATCH_KINDS, MAX_REVOCATIONS_PER_TX,
    MAX_STATUS_INDEX,
};
use ecert_schemas::{ChainId, Hash32, IssuerId, KeyId, SignatureBytes, UnixTime};

use crate::crypto::{self, SigningContext};
use crate::VerifyError;

fn refused(detail: impl Into<String>) -> VerifyError {
    VerifyError::TransactionRefused {
        detail: detail.into(),
    }
}

/// Checks the signer of an issuer transaction: a registered issuer, a registered key valid
/// at `at`, and a valid signature over `body` in `context`.
fn check_issuer_signature(
    registry: &Registry,
    issuer_id: &IssuerId,
    key_id: KeyId,
    at: UnixTime,
    context: SigningContext,
    body: &[u8],
    signature: &SignatureBytes,
) -> Result<(), VerifyError> {
    let issuer = registry
        .issuer(issuer_id)
        .ok_or_else(|| VerifyError::UnknownIssuer(issuer_id.clone()))?;
    let key = issuer
        .keys
        .iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(|| VerifyError::UnknownIssuerKey {
            issuer: issuer_id.clone(),
            key_id,
        })?;
    if at < key.valid_from || key.valid_until.is_some_and(|u| at >= u) {
        return Err(VerifyError::IssuerKeyNotValidAtIssue {
            issuer: issuer_id.clone(),
            key_id,
        });
    }
    let vk = crypto::parse_public_key(&key.key)
        .ok_or_else(|| refused("the registered key is not a valid Ed25519 key"))?;
    if !crypto::verify(&vk, context, body, signature) {
        return Err(VerifyError::BadIssuerSignature {
            issuer: issuer_id.clone(),
        });
    }
    Ok(())
}

/// Checks an anchor batch: right chain, registered issuer and key valid at `at`, valid
/// signature, declared kinds sorted, registered and entitled, a non-empty batch, and a
/// root not anchored before (`already_anchored`).
pub fn check_anchor_batch(
    tx: &AnchorBatchTx,
    chain_id: &ChainId,
    registry: &Registry,
    at: UnixTime,
    already_anchored: impl Fn(&Hash32) -> bool,
) -> Result<(), VerifyError> {
    let body = &tx.body;
    if &body.chain_id != chain_id {
        return Err(refused(format!(
            "meant for chain {}, this is {}",
            body.chain_id, chain_id
        )));
    }
    check_issuer_signature(
        registry,
        &body.issuer,
        body.key_id,
        at,
        SigningContext::AnchorBatch,
        &to_cbor(body)?,
        &tx.signature,
    )?;
    if body.count == 0 {
        return Err(refused(
            "an anchor batch must hold at least one certificate",
        ));
    }
    if body.kinds.is_empty() || body.kinds.len() > MAX_BATCH_KINDS {
        return Err(refused(format!(
            "a batch declares 1 to {MAX_BATCH_KINDS} kinds"
        )));
    }
    if body.kinds.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(refused("declared kinds must be sorted and distinct"));
    }
    let issuer = registry
        .issuer(&body.issuer)
        .ok_or_else(|| VerifyError::UnknownIssuer(body.issuer.clone()))?;
    for kind in &body.kinds {
        if !registry.kinds.iter().any(|k| &k.kind == kind) {
            return Err(VerifyError::UnknownKind(kind.clone()));
        }
        if !issuer.kinds.contains(kind) {
            return Err(VerifyError::IssuerNotEntitled {
                issuer: body.issuer.clone(),
                kind: kind.clone(),
            });
        }
    }
    if already_anchored(&body.batch_root) {
        return Err(refused(format!(
            "batch {} is already anchored (replay)",
            body.batch_root
        )));
    }
    Ok(())
}

/// Checks a revocation: right chain, registered issuer and key valid at `at`, valid
/// signature, 1 to [`MAX_REVOCATIONS_PER_TX`] status indexes in ascending order, none above
/// [`MAX_STATUS_INDEX`].
pub fn check_revocation(
    tx: &RevocationTx,
    chain_id: &ChainId,
    registry: &Registry,
    at: UnixTime,
) -> Result<(), VerifyError> {
    let body = &tx.body;
    if &body.chain_id != chain_id {
        return Err(refused(format!(
            "meant for chain {}, this is {}",
            body.chain_id, chain_id
        )));
    }
    check_issuer_signature(
        registry,
        &body.issuer,
        body.key_id,
        at,
        SigningContext::Revocation,
        &to_cbor(body)?,
        &tx.signature,
    )?;
    if body.entries.is_empty() || body.entries.len() > MAX_REVOCATIONS_PER_TX {
        return Err(refused(format!(
            "a revocation lists 1 to {MAX_REVOCATIONS_PER_TX} certificates"
        )));
    }
    if body
        .entries
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.index >= b.index))
    {
        return Err(refused("status indexes must be ascending and distinct"));
    }
    if body.entries.iter().any(|e| e.index.0 > MAX_STATUS_INDEX) {
        return Err(refused(format!("status indexes end at {MAX_STATUS_INDEX}")));
    }
    Ok(())
}
