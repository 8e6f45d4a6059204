//! Governance: registry changes (register, rotate or retire an issuer key, register an
//! issuer, add a kind, entitle an issuer to a kind) approved by more than two thirds of
//! the validators.
//!
//! Validator operators sign with [`approve`]; anyone collecting approvals builds the
//! transaction with [`assemble_governance`]. The ledger checks it with
//! `ecert_verifier::transaction::check_governance` and, if it passes, applies it to the
//! registry with [`apply_governance`]. Pure: no I/O, no clock.

use ecert_schemas::ledger::{
    Approval, GovernanceAction, GovernanceBody, GovernanceTx, IssuerKeyRecord, IssuerRecord,
    Registry,
};
use ecert_schemas::{IssuerId, KeyId, UnixTime};
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::VerifyError;
use ed25519_dalek::SigningKey;

use crate::certify::quorum;
use crate::LedgerError;

/// A validator's approval of `body`: its signature, in the `governance` context, over the
/// body's encoding. `validator` is its position in the validator set.
pub fn approve(
    key: &SigningKey,
    validator: u16,
    body: &GovernanceBody,
) -> Result<Approval, LedgerError> {
    Ok(Approval {
        validator,
        signature: crypto::sign(key, SigningContext::Governance, &body.to_bytes()?),
    })
}

/// Assembles a governance transaction from approvals (sorted by validator, one per
/// validator), or `None` while they are not yet a quorum of `validator_count`. The
/// signatures are not checked here; the ledger checks them.
pub fn assemble_governance(
    body: GovernanceBody,
    approvals: Vec<Approval>,
    validator_count: usize,
) -> Option<GovernanceTx> {
    Some(GovernanceTx {
        body,
        approvals: quorum(approvals, |a| a.validator, validator_count)?,
    })
}

fn issuer_mut<'a>(
    registry: &'a mut Registry,
    id: &IssuerId,
) -> Result<&'a mut IssuerRecord, VerifyError> {
    registry
        .issuers
        .iter_mut()
        .find(|i| &i.issuer == id)
        .ok_or_else(|| VerifyError::UnknownIssuer(id.clone()))
}

fn key_mut(issuer: &mut IssuerRecord, key_id: KeyId) -> Result<&mut IssuerKeyRecord, VerifyError> {
    let id = issuer.issuer.clone();
    issuer
        .keys
        .iter_mut()
        .find(|k| k.key_id == key_id)
        .ok_or(VerifyError::UnknownIssuerKey { issuer: id, key_id })
}

fn new_key(key: ecert_schemas::PublicKeyBytes, valid_from: UnixTime) -> IssuerKeyRecord {
    IssuerKeyRecord {
        key_id: KeyId::of(&key),
        key,
        valid_from,
        valid_until: None,
    }
}

/// Applies a governance change that `check_governance` accepted against `registry`, and
/// advances `governance_seq`:
///
/// - `RegisterIssuerKey`: the key is appended to the issuer's keys (`valid_until` null);
/// - `RotateIssuerKey`: the old key's `valid_until` becomes `valid_from`, and the new key
///   is appended, valid from `valid_from`;
/// - `RetireIssuerKey`: the key's `valid_until` becomes `at`;
/// - `RegisterIssuer`, `AddKind`: the record is inserted in id order;
/// - `GrantKind`: the kind is inserted in the issuer's kinds, in order;
/// - `ReviseKind`: the kind's record takes the new content hash (from this block on,
///   certificates of the kind are checked against the revised kind file);
/// - `ChangeValidators`: only `governance_seq` advances (the ledger state replaces the
///   validator set).
///
/// Errors only if the change does not fit the registry (it was not checked against it):
/// the reason, as `check_governance` would give it; the registry is then unchanged.
pub fn apply_governance(registry: &mut Registry, body: &GovernanceBody) -> Result<(), VerifyError> {
    let mut next = registry.clone();
    next.governance_seq =
        next.governance_seq
            .checked_add(1)
            .ok_or_else(|| VerifyError::TransactionRefused {
                detail: "the governance sequence is exhausted".into(),
            })?;
    match &body.action {
        GovernanceAction::RegisterIssuerKey(a) => {
            issuer_mut(&mut next, &a.issuer)?
                .keys
                .push(new_key(a.key, a.valid_from));
        }
        GovernanceAction::RotateIssuerKey(a) => {
            let issuer = issuer_mut(&mut next, &a.issuer)?;
            key_mut(issuer, a.old_key_id)?.valid_until = Some(a.valid_from);
            issuer.keys.push(new_key(a.new_key, a.valid_from));
        }
        GovernanceAction::RetireIssuerKey(a) => {
            key_mut(issuer_mut(&mut next, &a.issuer)?, a.key_id)?.valid_until = Some(a.at);
        }
        GovernanceAction::RegisterIssuer(record) => {
            let at = next.issuers.partition_point(|i| i.issuer < record.issuer);
            next.issuers.insert(at, record.clone());
        }
        GovernanceAction::AddKind(kind) => {
            let at = next.kinds.partition_point(|k| k.kind < kind.kind);
            next.kinds.insert(at, kind.clone());
        }
        GovernanceAction::ReviseKind(kind) => {
            next.kinds
                .iter_mut()
                .find(|k| k.kind == kind.kind)
                .ok_or_else(|| VerifyError::UnknownKind(kind.kind.clone()))?
                .content_hash = kind.content_hash;
        }
        GovernanceAction::GrantKind(g) => {
            let kinds = &mut issuer_mut(&mut next, &g.issuer)?.kinds;
            let at = kinds.partition_point(|k| k < &g.kind);
            kinds.insert(at, g.kind.clone());
        }
        // The set lives beside the registry ([`crate::state::LedgerState`]); the registry
        // only counts the change.
        GovernanceAction::ChangeValidators(_) => {}
    }
    *registry = next;
    Ok(())
}
