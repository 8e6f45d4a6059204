//! Ledger transaction rules: what a node checks before ordering a transaction, and again
//! when applying it (a transaction that fails here is skipped, deterministically).

use ecert_schemas::codec::to_cbor;
use ecert_schemas::ledger::{
    AnchorBatchTx, GovernanceAction, GovernanceTx, IssuerRecord, Registry, RevocationTx,
    ValidatorInfo, ValidatorSetChange, MAX_BATCH_KINDS, MAX_REVOCATIONS_PER_TX, MAX_STATUS_INDEX,
    MAX_VALIDATOR_ADDRESS_LEN,
};
use ecert_schemas::{ChainId, Hash32, IssuerId, KeyId, PublicKeyBytes, SignatureBytes, UnixTime};
use ed25519_dalek::VerifyingKey;

use crate::checkpoint::is_quorum;
use crate::crypto::{self, SigningContext};
use crate::VerifyError;

fn refused(detail: impl Into<String>) -> VerifyError {
    VerifyError::TransactionRefused {
        detail: detail.into(),
    }
}

/// A transaction signed for another ledger is refused (a replay across chains).
fn check_chain(signed_for: &ChainId, chain_id: &ChainId) -> Result<(), VerifyError> {
    if signed_for != chain_id {
        return Err(refused(format!(
            "meant for chain {signed_for}, this is {chain_id}"
        )));
    }
    Ok(())
}

/// An issuer's key as registered, valid at the time it was checked for.
struct RegisteredKey<'a> {
    issuer: &'a IssuerId,
    key: VerifyingKey,
}

/// The key `key_id` of issuer `issuer_id`: a registered issuer, a registered key valid at
/// `at`.
fn registered_key<'a>(
    registry: &Registry,
    issuer_id: &'a IssuerId,
    key_id: KeyId,
    at: UnixTime,
) -> Result<RegisteredKey<'a>, VerifyError> {
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
    let key = crypto::parse_public_key(&key.key)
        .ok_or_else(|| refused("the registered key is not a valid Ed25519 key"))?;
    Ok(RegisteredKey {
        issuer: issuer_id,
        key,
    })
}

impl RegisteredKey<'_> {
    /// Checks `signature` over `body` in `context`.
    fn check(
        &self,
        context: SigningContext,
        body: &[u8],
        signature: &SignatureBytes,
    ) -> Result<(), VerifyError> {
        if !crypto::verify(&self.key, context, body, signature) {
            return Err(VerifyError::BadIssuerSignature {
                issuer: self.issuer.clone(),
            });
        }
        Ok(())
    }
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
    check_chain(&body.chain_id, chain_id)?;
    let key = registered_key(registry, &body.issuer, body.key_id, at)?;
    key.check(SigningContext::AnchorBatch, &to_cbor(body)?, &tx.signature)?;
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
    check_chain(&body.chain_id, chain_id)?;
    let key = registered_key(registry, &body.issuer, body.key_id, at)?;
    key.check(SigningContext::Revocation, &to_cbor(body)?, &tx.signature)?;
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

/// Checks a governance transaction against the current validator set and registry, with
/// `at` the block time. In order:
///
/// 1. `chain_id` is this ledger's ([`VerifyError::TransactionRefused`]);
/// 2. `seq` equals the registry's `governance_seq`
///    ([`VerifyError::GovernanceSeqMismatch`]: a replay, or approved for another state);
/// 3. approvals name validators by strictly ascending position
///    ([`VerifyError::DuplicateApproval`]) within the set
///    ([`VerifyError::UnknownValidator`]);
/// 4. there are more than two thirds of the validators' approvals
///    ([`VerifyError::TooFewApprovals`]);
/// 5. each approval verifies under its validator's key over the `governance` context and
///    the body's encoding ([`VerifyError::BadApprovalSignature`]);
/// 6. the action applies to the registry (see [`check_governance_action`]), or, for a
///    validator-set change, the new set is well formed and differs from the current one
///    ([`check_validator_set_change`]).
pub fn check_governance(
    tx: &GovernanceTx,
    chain_id: &ChainId,
    validators: &[ValidatorInfo],
    registry: &Registry,
    at: UnixTime,
) -> Result<(), VerifyError> {
    let body = &tx.body;
    check_chain(&body.chain_id, chain_id)?;
    if body.seq != registry.governance_seq {
        return Err(VerifyError::GovernanceSeqMismatch {
            expected: registry.governance_seq,
            found: body.seq,
        });
    }
    if body.seq == u64::MAX {
        return Err(refused("the governance sequence is exhausted"));
    }
    check_approvals(tx, validators)?;
    match &body.action {
        GovernanceAction::ChangeValidators(change) => {
            check_validator_set_change(change, validators)
        }
        action => check_governance_action(action, registry, at),
    }
}

/// Checks that more than two thirds of `validators` approved `tx.body`: steps 3 to 5 of
/// [`check_governance`], without the registry. What a verifier checks of a validator-set
/// change it follows from its trust anchor.
pub fn check_approvals(tx: &GovernanceTx, validators: &[ValidatorInfo]) -> Result<(), VerifyError> {
    let body = &tx.body;
    let mut previous: Option<u16> = None;
    for approval in &tx.approvals {
        if previous.is_some_and(|p| approval.validator <= p) {
            return Err(VerifyError::DuplicateApproval {
                validator: approval.validator,
            });
        }
        previous = Some(approval.validator);
        if usize::from(approval.validator) >= validators.len() {
            return Err(VerifyError::UnknownValidator {
                validator: approval.validator,
                validators: validators.len(),
            });
        }
    }
    if !is_quorum(tx.approvals.len(), validators.len()) {
        return Err(VerifyError::TooFewApprovals {
            approvals: tx.approvals.len(),
            validators: validators.len(),
        });
    }
    let message = to_cbor(body)?;
    for approval in &tx.approvals {
        let bad = || VerifyError::BadApprovalSignature {
            validator: approval.validator,
        };
        let validator = validators
            .get(usize::from(approval.validator))
            .ok_or_else(bad)?;
        let key = crypto::parse_public_key(&validator.key).ok_or_else(bad)?;
        if !crypto::verify(
            &key,
            SigningContext::Governance,
            &message,
            &approval.signature,
        ) {
            return Err(bad());
        }
    }
    Ok(())
}

/// Most validators a set may have (positions are `u16`).
pub const MAX_VALIDATORS: usize = u16::MAX as usize;

/// Checks a new validator set against the `current` one: 1 to [`MAX_VALIDATORS`]
/// validators, each key a usable Ed25519 key and no key twice, one address per validator
/// (non-blank, at most [`MAX_VALIDATOR_ADDRESS_LEN`] bytes of printable ASCII), and a set
/// different from the current one ([`VerifyError::TransactionRefused`] otherwise).
pub fn check_validator_set_change(
    change: &ValidatorSetChange,
    current: &[ValidatorInfo],
) -> Result<(), VerifyError> {
    let set = &change.validators;
    if set.is_empty() || set.len() > MAX_VALIDATORS {
        return Err(refused(format!(
            "a validator set has 1 to {MAX_VALIDATORS} validators"
        )));
    }
    if change.addresses.len() != set.len() {
        return Err(refused(format!(
            "{} addresses for {} validators: one address per validator",
            change.addresses.len(),
            set.len()
        )));
    }
    for (i, (validator, address)) in set.iter().zip(&change.addresses).enumerate() {
        if crypto::parse_public_key(&validator.key).is_none() {
            return Err(refused(format!(
                "the key of validator {} is not a usable Ed25519 key",
                validator.department
            )));
        }
        if set.iter().take(i).any(|v| v.key == validator.key) {
            return Err(refused(format!(
                "validator {}'s key is in the set twice",
                validator.department
            )));
        }
        let printable = address.bytes().all(|b| b.is_ascii_graphic());
        if address.is_empty() || address.len() > MAX_VALIDATOR_ADDRESS_LEN || !printable {
            return Err(refused(format!(
                "validator {}'s address must be 1 to {MAX_VALIDATOR_ADDRESS_LEN} printable \
                 ASCII characters",
                validator.department
            )));
        }
    }
    if set.as_slice() == current {
        return Err(refused("the new validator set is the current one"));
    }
    Ok(())
}

/// Checks that a governance action applies to `registry` at block time `at`:
///
/// - `RegisterIssuerKey`: the issuer is registered ([`VerifyError::UnknownIssuer`]); the
///   key is a usable Ed25519 key ([`VerifyError::TransactionRefused`]) not registered for
///   it yet ([`VerifyError::IssuerKeyAlreadyRegistered`]).
/// - `RotateIssuerKey`: the issuer is registered; the old key is one of its keys
///   ([`VerifyError::UnknownIssuerKey`]); it is not retired at or before `valid_from`
///   already ([`VerifyError::IssuerKeyRetired`]); `valid_from ≥ at`
///   ([`VerifyError::TransactionRefused`]: no retroactive retirement); the new key as for
///   `RegisterIssuerKey`.
/// - `RetireIssuerKey`: the issuer and key are registered; the key is not retired at or
///   before the requested time already; that time is not before the block time.
/// - `RegisterIssuer`: not registered yet ([`VerifyError::IssuerAlreadyRegistered`]); a
///   non-blank name; kinds strictly ascending ([`VerifyError::TransactionRefused`]) and
///   registered ([`VerifyError::UnknownKind`]); every key usable, its `key_id` equal to
///   `SHA-256(key)[0..8]`, `valid_until` null ([`VerifyError::TransactionRefused`]), and no
///   key id twice ([`VerifyError::IssuerKeyAlreadyRegistered`]).
/// - `AddKind`: not registered yet ([`VerifyError::KindAlreadyRegistered`]).
/// - `ReviseKind`: registered ([`VerifyError::UnknownKind`]), and the new content hash is
///   not the registered one ([`VerifyError::TransactionRefused`]). Whether the new kind
///   file keeps what certificates already issued rely on is for the approvers to check
///   (`Kind::check_revision`): the ledger holds hashes, not kind files.
/// - `GrantKind`: the issuer and kind are registered; the issuer is not entitled to the
///   kind yet ([`VerifyError::TransactionRefused`]).
/// - `ChangeValidators`: nothing of the registry; [`check_governance`] checks the new set
///   against the current one.
pub fn check_governance_action(
    action: &GovernanceAction,
    registry: &Registry,
    at: UnixTime,
) -> Result<(), VerifyError> {
    match action {
        GovernanceAction::RegisterIssuerKey(a) => {
            let issuer = registered_issuer(registry, &a.issuer)?;
            check_new_key(issuer, &a.key)
        }
        GovernanceAction::RotateIssuerKey(a) => {
            let issuer = registered_issuer(registry, &a.issuer)?;
            check_retirement(issuer, a.old_key_id, a.valid_from, at)?;
            check_new_key(issuer, &a.new_key)
        }
        GovernanceAction::RetireIssuerKey(a) => {
            let issuer = registered_issuer(registry, &a.issuer)?;
            check_retirement(issuer, a.key_id, a.at, at)
        }
        GovernanceAction::RegisterIssuer(record) => {
            if registry.issuer(&record.issuer).is_some() {
                return Err(VerifyError::IssuerAlreadyRegistered(record.issuer.clone()));
            }
            if record.name.trim().is_empty() {
                return Err(refused("a new issuer needs a name"));
            }
            if record
                .kinds
                .windows(2)
                .any(|w| matches!(w, [a, b] if a >= b))
            {
                return Err(refused("the issuer's kinds must be sorted and distinct"));
            }
            if let Some(kind) = record.kinds.iter().find(|k| registry.kind(k).is_none()) {
                return Err(VerifyError::UnknownKind(kind.clone()));
            }
            for (i, key) in record.keys.iter().enumerate() {
                if crypto::parse_public_key(&key.key).is_none() {
                    return Err(refused(format!(
                        "key {} of the new issuer is not a usable Ed25519 key",
                        key.key_id
                    )));
                }
                if KeyId::of(&key.key) != key.key_id {
                    return Err(refused(format!(
                        "key id {} is not SHA-256(key)[0..8]",
                        key.key_id
                    )));
                }
                if key.valid_until.is_some() {
                    return Err(refused(
                        "a new issuer's keys start unretired (valid_until null)",
                    ));
                }
                if record.keys.iter().take(i).any(|k| k.key_id == key.key_id) {
                    return Err(VerifyError::IssuerKeyAlreadyRegistered {
                        issuer: record.issuer.clone(),
                        key_id: key.key_id,
                    });
                }
            }
            Ok(())
        }
        GovernanceAction::AddKind(kind) => {
            if registry.kind(&kind.kind).is_some() {
                return Err(VerifyError::KindAlreadyRegistered(kind.kind.clone()));
            }
            Ok(())
        }
        GovernanceAction::ReviseKind(kind) => {
            let registered = registry
                .kind(&kind.kind)
                .ok_or_else(|| VerifyError::UnknownKind(kind.kind.clone()))?;
            if registered.content_hash == kind.content_hash {
                return Err(refused(format!(
                    "kind {} is already registered with content hash {}: a revision names \
                     the revised kind file's hash",
                    kind.kind,
                    kind.content_hash.to_hex()
                )));
            }
            Ok(())
        }
        // It depends on the validator set, not the registry: `check_governance` checks it
        // with `check_validator_set_change`; on its own it fits any registry.
        GovernanceAction::ChangeValidators(_) => Ok(()),
        GovernanceAction::GrantKind(g) => {
            let issuer = registered_issuer(registry, &g.issuer)?;
            if registry.kind(&g.kind).is_none() {
                return Err(VerifyError::UnknownKind(g.kind.clone()));
            }
            if issuer.kinds.contains(&g.kind) {
                return Err(refused(format!(
                    "{} is already entitled to {}",
                    g.issuer, g.kind
                )));
            }
            Ok(())
        }
    }
}

fn registered_issuer<'a>(
    registry: &'a Registry,
    id: &IssuerId,
) -> Result<&'a IssuerRecord, VerifyError> {
    registry
        .issuer(id)
        .ok_or_else(|| VerifyError::UnknownIssuer(id.clone()))
}

/// A key to add: usable, and not one of the issuer's keys yet.
fn check_new_key(issuer: &IssuerRecord, key: &PublicKeyBytes) -> Result<(), VerifyError> {
    if crypto::parse_public_key(key).is_none() {
        return Err(refused("the new key is not a usable Ed25519 key"));
    }
    let key_id = KeyId::of(key);
    if issuer.keys.iter().any(|k| k.key_id == key_id) {
        return Err(VerifyError::IssuerKeyAlreadyRegistered {
            issuer: issuer.issuer.clone(),
            key_id,
        });
    }
    Ok(())
}

/// A key to retire at `retire_at`, in a block at `at`: registered, not retired already at
/// or before that time, and no retirement in the past (certificates anchored under the key
/// so far stay valid).
fn check_retirement(
    issuer: &IssuerRecord,
    key_id: KeyId,
    retire_at: UnixTime,
    at: UnixTime,
) -> Result<(), VerifyError> {
    let key = issuer
        .keys
        .iter()
        .find(|k| k.key_id == key_id)
        .ok_or_else(|| VerifyError::UnknownIssuerKey {
            issuer: issuer.issuer.clone(),
            key_id,
        })?;
    if let Some(since) = key.valid_until.filter(|since| *since <= retire_at) {
        return Err(VerifyError::IssuerKeyRetired {
            issuer: issuer.issuer.clone(),
            key_id,
            since,
        });
    }
    if retire_at < at {
        return Err(refused(format!(
            "key {key_id} cannot be retired at {retire_at}, before the block time {at}: \
             certificates already anchored under it would stop verifying; choose a later time"
        )));
    }
    Ok(())
}
