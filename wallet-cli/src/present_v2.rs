//! Building a format-2 presentation: one unused copy of each chosen certificate, the
//! chosen fields of it with their multiproof, signed by the first copy's key and linked
//! to the others.

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::copy::{
    CopyEnvelope, CopyPackage, HolderProofV2, PresentationV2, PresentedCopy, PRESENTATION_V2,
};
use ecert_schemas::presentation::{HolderSignedData, MAX_ITEMS};
use ecert_schemas::{KindRegistry, Nonce, UnixTime};
use ecert_verifier::copy_key::{copy_disclosure, field_leaves, CopyKey};
use ecert_verifier::crypto::SigningContext;
use ecert_verifier::merkle16::field_multiproof;

use crate::{HolderKey, WalletError};

/// One copy to show and the keys of the fields to disclose from it.
#[derive(Clone, Debug)]
pub struct CopySelection<'a> {
    /// The certificate's package, as received.
    pub package: &'a CopyPackage,
    /// Which of its copies to spend (the caller marks it used before showing the code).
    pub copy: usize,
    /// Field keys to disclose. May be empty (the counter then learns only the kind,
    /// issuer and validity).
    pub fields: Vec<String>,
}

/// Builds and signs a format-2 presentation of `selections` at `time`.
pub fn present_copies(
    holder: &HolderKey,
    kinds: &KindRegistry,
    selections: &[CopySelection<'_>],
    time: UnixTime,
    nonce: Option<Nonce>,
) -> Result<PresentationV2, WalletError> {
    if selections.is_empty() || selections.len() > MAX_ITEMS {
        return Err(WalletError::NothingToPresent);
    }
    let mut items = Vec::with_capacity(selections.len());
    let mut keys = Vec::with_capacity(selections.len());
    for selection in selections {
        let (item, key) = present_copy(holder, kinds, selection)?;
        items.push(item);
        keys.push(key);
    }
    let mut presentation = PresentationV2 {
        version: PRESENTATION_V2,
        items: ByteBuf::from(PresentationV2::encode_items(&items)?),
        holder: HolderProofV2 {
            time,
            nonce: nonce.clone(),
            signature: ecert_schemas::SignatureBytes([0; 64]),
            links: Vec::new(),
        },
    };
    let signed = HolderSignedData {
        time,
        nonce,
        items_hash: presentation.items_hash(),
    }
    .to_bytes()?;
    let (first, rest) = keys.split_first().ok_or(WalletError::NothingToPresent)?;
    presentation.holder.signature = first.sign(SigningContext::HolderProofV2, &signed);
    presentation.holder.links = rest.iter().map(|k| k.link_from(first, &signed)).collect();
    Ok(presentation)
}

fn present_copy(
    holder: &HolderKey,
    kinds: &KindRegistry,
    selection: &CopySelection<'_>,
) -> Result<(PresentedCopy, CopyKey), WalletError> {
    let package = selection.package;
    let envelope: &CopyEnvelope =
        package
            .copies
            .get(selection.copy)
            .ok_or(WalletError::NoSuchCopy {
                copy: selection.copy,
                copies: package.copies.len(),
            })?;
    let kind = kinds.get(&package.kind)?;
    let numbers: Vec<u16> = package.fields.iter().map(|f| f.field).collect();
    let declared: Vec<u16> = kind.fields.iter().map(|f| f.number).collect();
    if numbers != declared {
        return Err(WalletError::PackageDoesNotFitKind {
            kind: kind.id.clone(),
        });
    }
    let mut positions = Vec::with_capacity(selection.fields.len());
    for key in &selection.fields {
        let position = kind
            .fields
            .iter()
            .position(|f| f.key == *key)
            .ok_or_else(|| WalletError::UnknownField {
                kind: kind.id.clone(),
                field: key.clone(),
                available: kind
                    .fields
                    .iter()
                    .map(|f| f.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !positions.contains(&position) {
            positions.push(position);
        }
    }
    positions.sort_unstable();
    let mut disclosures = Vec::with_capacity(positions.len());
    for &position in &positions {
        let misfit = || WalletError::PackageDoesNotFitKind {
            kind: kind.id.clone(),
        };
        let (field, def) = package
            .fields
            .get(position)
            .zip(kind.fields.get(position))
            .ok_or_else(misfit)?;
        let value = field
            .value
            .as_ref()
            .ok_or_else(|| WalletError::FieldNotInCertificate {
                kind: kind.id.clone(),
                field: def.key.clone(),
            })?;
        disclosures.push(ByteBuf::from(copy_disclosure(
            &envelope.secret,
            field.field,
            value,
        )?));
    }
    let leaves = field_leaves(&package.fields, &envelope.secret)?;
    let field_proof = field_multiproof(&leaves, &positions).ok_or_else(|| {
        WalletError::PackageDoesNotFitKind {
            kind: kind.id.clone(),
        }
    })?;
    let key = holder.copy_key(&envelope.secret);
    let item = PresentedCopy {
        batch_seq: envelope.batch_seq,
        leaf_index: envelope.leaf_index,
        path: envelope.path.clone(),
        kind_index: envelope.kind_index,
        issued_at: package.issued_at,
        valid_from: package.valid_from,
        expires: package.expires,
        status_index: envelope.status_index,
        holder: key.public_key(),
        signature: envelope.signature,
        field_proof,
        disclosures,
    };
    Ok((item, key))
}
