//! Building a presentation: chosen fields from one or more certificates, signed by the
//! holder with the time and, in nonce mode, the counter's challenge.

use ecert_schemas::certificate::Certificate;
use ecert_schemas::codec::ByteBuf;
use ecert_schemas::presentation::{HolderSignedData, PRESENTATION_VERSION};
use ecert_schemas::{
    CertificatePackage, Disclosure, HolderProof, KindRegistry, Nonce, Presentation,
    PresentedCertificate, UnixTime,
};

use crate::{HolderKey, WalletError};

/// One certificate to show and the keys of the fields to disclose from it.
#[derive(Clone, Debug)]
pub struct Selection<'a> {
    /// The certificate package, as received.
    pub package: &'a CertificatePackage,
    /// Field keys to disclose, e.g. `["name", "id_number"]`. May be empty (the counter then
    /// learns only the kind, issuer and validity).
    pub fields: Vec<String>,
}

/// Builds and signs a presentation of `selections` at `time`.
pub fn present(
    holder: &HolderKey,
    kinds: &KindRegistry,
    selections: &[Selection<'_>],
    time: UnixTime,
    nonce: Option<Nonce>,
) -> Result<Presentation, WalletError> {
    if selections.is_empty() || selections.len() > ecert_schemas::presentation::MAX_ITEMS {
        return Err(WalletError::NothingToPresent);
    }
    let mut items = Vec::with_capacity(selections.len());
    for selection in selections {
        items.push(select_fields(holder, kinds, selection)?);
    }
    let items_bytes = Presentation::encode_items(&items)?;
    let mut presentation = Presentation {
        version: PRESENTATION_VERSION,
        items: ByteBuf::from(items_bytes),
        holder: None,
    };
    let signed = HolderSignedData {
        time,
        nonce: nonce.clone(),
        items_hash: presentation.items_hash(),
    };
    let signature = holder.sign_holder_proof(&signed.to_bytes()?);
    presentation.holder = Some(HolderProof {
        time,
        nonce,
        signature,
    });
    Ok(presentation)
}

fn select_fields(
    holder: &HolderKey,
    kinds: &KindRegistry,
    selection: &Selection<'_>,
) -> Result<PresentedCertificate, WalletError> {
    let package = selection.package;
    let cert = Certificate::from_bytes(&package.certificate)?;
    if cert.claims.holder != holder.public_key() {
        return Err(WalletError::NotOurCertificate);
    }
    let kind = kinds.get(&cert.claims.kind)?;
    let mut numbers = Vec::with_capacity(selection.fields.len());
    for key in &selection.fields {
        let field = kind
            .field_by_key(key)
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
        if !numbers.contains(&field.number) {
            numbers.push(field.number);
        }
    }
    // Each disclosure decoded once, by field number.
    let available = package
        .disclosures
        .iter()
        .map(|bytes| Disclosure::from_bytes(bytes).map(|d| (d.field, bytes)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut disclosures = Vec::with_capacity(numbers.len());
    for field in kind.fields.iter().filter(|f| numbers.contains(&f.number)) {
        let bytes = available
            .iter()
            .find(|(number, _)| *number == field.number)
            .map(|(_, bytes)| (*bytes).clone())
            .ok_or_else(|| WalletError::FieldNotInCertificate {
                kind: kind.id.clone(),
                field: field.key.clone(),
            })?;
        disclosures.push(bytes);
    }
    Ok(PresentedCertificate {
        certificate: package.certificate.clone(),
        disclosures,
        anchor: package.anchor.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_verifier::crypto;
    use rand_core::OsRng;

    /// The kinds, a new holder and a signed ID card of theirs with fields 3 and 0 (birth
    /// date and name), in that order, valid from 1 until 2_000_000_000.
    fn holder_with_id_card() -> (KindRegistry, HolderKey, CertificatePackage) {
        let holder = HolderKey::generate(&mut OsRng);
        let fields = [(3, "1988-08-08"), (0, "周杰")];
        let package =
            crate::certs::tests::package(&holder, "id-card", [0; 16], 1, 2_000_000_000, &fields);
        (KindRegistry::builtin().unwrap(), holder, package)
    }

    #[test]
    fn discloses_exactly_the_chosen_fields_in_kind_order_and_signs() {
        let (kinds, holder, p) = holder_with_id_card();
        let sel = [Selection {
            package: &p,
            fields: vec!["birth_date".into(), "name".into(), "name".into()],
        }];
        let presentation = present(&holder, &kinds, &sel, UnixTime(1_700_000_000), None).unwrap();
        let items = presentation.decode_items().unwrap();
        let fields: Vec<u16> = items[0]
            .disclosures
            .iter()
            .map(|d| Disclosure::from_bytes(d).unwrap().field)
            .collect();
        assert_eq!(fields, [0, 3]);
        let proof = presentation.holder.clone().unwrap();
        let signed = HolderSignedData {
            time: proof.time,
            nonce: None,
            items_hash: presentation.items_hash(),
        };
        let vk = crypto::parse_public_key(&holder.public_key()).unwrap();
        assert!(crypto::verify(
            &vk,
            crypto::SigningContext::HolderProof,
            &signed.to_bytes().unwrap(),
            &proof.signature
        ));

        let none = [Selection {
            package: &p,
            fields: vec![],
        }];
        let bare = present(&holder, &kinds, &none, UnixTime(1_700_000_000), None).unwrap();
        assert!(bare.decode_items().unwrap()[0].disclosures.is_empty());
    }

    #[test]
    fn explains_fields_it_cannot_disclose() {
        let (kinds, holder, p) = holder_with_id_card();
        let unknown = [Selection {
            package: &p,
            fields: vec!["shoe_size".into()],
        }];
        let err = present(&holder, &kinds, &unknown, UnixTime(1), None).unwrap_err();
        assert!(matches!(err, WalletError::UnknownField { .. }));
        assert!(
            err.to_string().contains("id_number"),
            "lists the available fields: {err}"
        );
        let absent = [Selection {
            package: &p,
            fields: vec!["address".into()],
        }];
        assert!(matches!(
            present(&holder, &kinds, &absent, UnixTime(1), None),
            Err(WalletError::FieldNotInCertificate { .. })
        ));
        assert!(matches!(
            present(&holder, &kinds, &[], UnixTime(1), None),
            Err(WalletError::NothingToPresent)
        ));
        let stranger = HolderKey::generate(&mut OsRng);
        let ok = [Selection {
            package: &p,
            fields: vec!["name".into()],
        }];
        assert!(matches!(
            present(&stranger, &kinds, &ok, UnixTime(1), None),
            Err(WalletError::NotOurCertificate)
        ));
    }
}
