//! The offline check of a format-2 presentation (one-time copies), as one pure function.
//!
//! The same checks as format 1 (`docs/protocol.md` §6), in the same order, on what a copy
//! carries: the issuer and key are the batch's, the kind is the batch's `kind_index`-th,
//! and the issuer's signature covers a Merkle root over the copy's fields that the counter
//! recomputes from the disclosed fields and their multiproof. A changed field therefore
//! shows as a bad issuer signature.

use ecert_schemas::copy::{CopySignedData, PresentationV2, PresentedCopy};
use ecert_schemas::ledger::BatchRecord;
use ecert_schemas::presentation::HolderSignedData;
use ecert_schemas::{Hash16, Kind, KindId, UnixTime};
use ed25519_dalek::VerifyingKey;

use crate::copy_key::verify_link;
use crate::crypto::{self, SigningContext};
use crate::merkle16::{copy_leaf, field_leaf, field_root_from_proof, verify_copy_inclusion};
use crate::presentation::{
    anchor_invalid, anchored_batch, check_not_revoked, check_validity, check_window_and_nonce,
    data_age, entitled_signer, read_disclosures, Ledger, Policy, Verdict, VerifiedCertificate,
};
use crate::trust::TrustStore;
use crate::VerifyError;

/// [`crate::verify_presentation`] on an already-decoded format-2 presentation.
pub fn verify_decoded_v2(
    presentation: &PresentationV2,
    store: &TrustStore,
    now: UnixTime,
    policy: &Policy,
) -> Result<Verdict, VerifyError> {
    data_age(store, now, policy)?;
    verify_v2_with(presentation, now, policy, |_| {
        Ok(Ledger { store, kinds: None })
    })
}

/// The holder's proof: the first copy's key signed, every further copy is linked to it,
/// within the time window, answering the counter's nonce. The copies' keys, in order.
fn check_holder_proof(
    presentation: &PresentationV2,
    items: &[PresentedCopy],
    now: UnixTime,
    policy: &Policy,
) -> Result<Vec<VerifyingKey>, VerifyError> {
    let proof = &presentation.holder;
    let keys = items
        .iter()
        .map(|item| crypto::parse_public_key(&item.holder).ok_or(VerifyError::HolderProofBad))
        .collect::<Result<Vec<_>, _>>()?;
    let signed = HolderSignedData {
        time: proof.time,
        nonce: proof.nonce.clone(),
        items_hash: presentation.items_hash(),
    }
    .to_bytes()?;
    let (first, rest) = keys.split_first().ok_or(VerifyError::HolderProofMissing)?;
    if !crypto::verify(
        first,
        SigningContext::HolderProofV2,
        &signed,
        &proof.signature,
    ) {
        return Err(VerifyError::HolderProofBad);
    }
    if proof.links.len() != rest.len() {
        return Err(VerifyError::HolderProofBad);
    }
    for (key, link) in rest.iter().zip(&proof.links) {
        if !verify_link(first, key, &signed, link) {
            return Err(VerifyError::MixedHolders);
        }
    }
    check_window_and_nonce(proof.time, proof.nonce.as_ref(), now, policy)?;
    Ok(keys)
}

/// The checks of [`verify_decoded_v2`] with each copy checked against the ledger
/// `ledger_of` picks for it (whose data must be fresh enough).
pub(crate) fn verify_v2_with<'a>(
    presentation: &PresentationV2,
    now: UnixTime,
    policy: &Policy,
    ledger_of: impl Fn(&PresentedCopy) -> Result<Ledger<'a>, VerifyError>,
) -> Result<Verdict, VerifyError> {
    let items = presentation.decode_items()?;
    check_holder_proof(presentation, &items, now, policy)?;
    let mut oldest: Option<(&TrustStore, u64)> = None;
    let mut verified = Vec::with_capacity(items.len());
    for item in &items {
        let ledger = ledger_of(item)?;
        let age = data_age(ledger.store, now, policy)?;
        let batch = anchored_batch(ledger.store, item.batch_seq)?;
        let kind_id = batch_kind(batch, item)?;
        if let Some((province, kinds)) = ledger.kinds {
            if !kinds.contains(kind_id) {
                return Err(VerifyError::ProvinceNotEntitled {
                    province: province.clone(),
                    kind: kind_id.clone(),
                });
            }
        }
        verified.push(verify_copy(
            item,
            batch,
            kind_id,
            ledger.store,
            now,
            policy,
        )?);
        if oldest.is_none_or(|(_, a)| age > a) {
            oldest = Some((ledger.store, age));
        }
    }
    let (store, revocation_age_secs) = oldest.ok_or(VerifyError::HolderProofMissing)?;
    let first = items.first().ok_or(VerifyError::HolderProofMissing)?;
    Ok(Verdict {
        holder: first.holder,
        signed_at: presentation.holder.time,
        nonce_checked: policy.expected_nonce.is_some(),
        certificates: verified,
        synced_height: store.header().height,
        synced_at: store.as_of(),
        revocation_age_secs,
    })
}

/// The kind a copy names: the `kind_index`-th kind its batch declared.
fn batch_kind<'b>(batch: &'b BatchRecord, item: &PresentedCopy) -> Result<&'b KindId, VerifyError> {
    batch
        .kinds
        .get(usize::from(item.kind_index))
        .ok_or_else(|| anchor_invalid("the batch declared no such kind"))
}

/// The field tree's root from the disclosed fields (as `(field number, leaf)`) and the
/// copy's multiproof; `None` if they do not fit the kind's tree.
fn field_root(kind: &Kind, shown: &[(u16, Hash16)], proof: &[Hash16]) -> Option<Hash16> {
    let mut positioned = shown
        .iter()
        .map(|(number, leaf)| {
            let position = kind.fields.iter().position(|f| f.number == *number)?;
            Some((position, *leaf))
        })
        .collect::<Option<Vec<_>>>()?;
    positioned.sort_by_key(|(position, _)| *position);
    field_root_from_proof(kind.fields.len(), &positioned, proof)
}

/// The bytes the issuer signed for `item`, with the issuer, key and kind of `batch`, and
/// the field root given.
fn signed_data(
    item: &PresentedCopy,
    batch: &BatchRecord,
    kind: &KindId,
    field_root: Hash16,
) -> Result<Vec<u8>, VerifyError> {
    Ok(CopySignedData {
        issuer: batch.issuer.clone(),
        key_id: batch.key_id,
        kind: kind.clone(),
        issued_at: item.issued_at,
        valid_from: item.valid_from,
        expires: item.expires,
        status_index: item.status_index,
        holder: item.holder,
        field_root,
    }
    .to_bytes()?)
}

/// Whether `store`'s anchor log holds `item` in the batch it names: how a federation's
/// counter finds the province of a copy (the copy names no issuer).
pub(crate) fn store_holds_copy(store: &TrustStore, item: &PresentedCopy) -> bool {
    let holds = || -> Option<bool> {
        let batch = store.batch(item.batch_seq)?;
        let kind_id = batch.kinds.get(usize::from(item.kind_index))?;
        let kind = store.kind(kind_id).ok()?;
        let shown = item
            .disclosures
            .iter()
            .map(|bytes| {
                let disclosure = ecert_schemas::Disclosure::from_bytes(bytes).ok()?;
                Some((disclosure.field, field_leaf(bytes)))
            })
            .collect::<Option<Vec<_>>>()?;
        let root = field_root(kind, &shown, &item.field_proof)?;
        let signed = signed_data(item, batch, kind_id, root).ok()?;
        let leaf = copy_leaf(&signed, &item.signature.0);
        Some(verify_copy_inclusion(
            &leaf,
            item.leaf_index,
            batch.count,
            &item.path,
            &batch.batch_root,
        ))
    };
    holds().unwrap_or(false)
}

/// Every check of one copy: issuer, fields, signature, validity, anchor, revocation.
fn verify_copy(
    item: &PresentedCopy,
    batch: &BatchRecord,
    kind_id: &KindId,
    store: &TrustStore,
    now: UnixTime,
    policy: &Policy,
) -> Result<VerifiedCertificate, VerifyError> {
    let signer = entitled_signer(store, &batch.issuer, kind_id, batch.key_id)?;
    let mut shown = Vec::with_capacity(item.disclosures.len());
    let disclosed = read_disclosures(
        signer.kind,
        &item.disclosures,
        item.issued_at,
        |field, bytes| {
            shown.push((field, field_leaf(bytes)));
            true
        },
    )?;
    let root = field_root(signer.kind, &shown, &item.field_proof).ok_or_else(|| {
        VerifyError::DisclosureInvalid {
            detail: "the disclosed fields and their proof do not fit the kind's field tree".into(),
        }
    })?;
    let signed = signed_data(item, batch, kind_id, root)?;
    if !crypto::verify(
        signer.key,
        SigningContext::CopyIssue,
        &signed,
        &item.signature,
    ) {
        return Err(VerifyError::BadIssuerSignature {
            issuer: batch.issuer.clone(),
        });
    }
    signer.check_issued(item.issued_at)?;
    check_validity(item.valid_from, item.expires, now)?;
    if !verify_copy_inclusion(
        &copy_leaf(&signed, &item.signature.0),
        item.leaf_index,
        batch.count,
        &item.path,
        &batch.batch_root,
    ) {
        return Err(anchor_invalid("the copy is not in the anchored batch"));
    }
    signer.check_anchored(batch, item.issued_at, policy)?;
    check_not_revoked(store, &batch.issuer, item.status_index)?;
    Ok(VerifiedCertificate {
        ledger: store.chain_id().clone(),
        kind: kind_id.clone(),
        kind_name: signer.kind.name.clone(),
        issuer: batch.issuer.clone(),
        issuer_name: signer.issuer.name.clone(),
        id: None,
        issued_at: item.issued_at,
        valid_from: item.valid_from,
        expires: item.expires,
        disclosed,
    })
}
