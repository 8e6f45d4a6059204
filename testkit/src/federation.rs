//! A national body for federation tests: its keys and anchor, a province's entry for a
//! test world's ledger, and a signed national trust list.

use ecert_schemas::federation::{
    NationalAnchor, NationalTrustList, ProvinceEntry, TrustListBody, TRUST_LIST_VERSION,
};
use ecert_schemas::{ChainId, KindId, UnixTime};
use ecert_verifier::crypto;
use ecert_verifier::federation::approve_trust_list;
use ed25519_dalek::SigningKey;

use crate::World;

/// The national body's four keys.
pub fn national_keys() -> Vec<SigningKey> {
    (11..=14u8)
        .map(|i| SigningKey::from_bytes(&[i; 32]))
        .collect()
}

/// The national anchor a counter pins: federation `ecert-national` and [`national_keys`].
pub fn national_anchor() -> NationalAnchor {
    NationalAnchor {
        federation: ChainId::new("ecert-national").unwrap(),
        keys: national_keys().iter().map(crypto::public_key).collect(),
    }
}

/// The list's entry for `world`'s ledger, named `name`, allowed `kinds` (every built-in
/// kind when empty).
pub fn province_entry(name: &str, world: &World, kinds: &[&str]) -> ProvinceEntry {
    let anchor = world.province.trust_anchor().unwrap();
    let mut kinds: Vec<KindId> = if kinds.is_empty() {
        world.province.kinds.iter().map(|k| k.id.clone()).collect()
    } else {
        kinds.iter().map(|k| KindId::new(*k).unwrap()).collect()
    };
    kinds.sort();
    ProvinceEntry {
        name: name.into(),
        chain_id: anchor.chain_id,
        validators_hash: anchor.validators_hash,
        kinds,
    }
}

/// Version `seq` of the national list naming `provinces` (sorted here), made at
/// `issued_at`, expiring at `expires`, approved by the national keys `signers`.
pub fn trust_list(
    seq: u64,
    mut provinces: Vec<ProvinceEntry>,
    issued_at: UnixTime,
    expires: UnixTime,
    signers: &[u16],
) -> NationalTrustList {
    provinces.sort_by(|a, b| a.chain_id.cmp(&b.chain_id));
    let body = TrustListBody {
        version: TRUST_LIST_VERSION,
        federation: national_anchor().federation,
        seq,
        issued_at,
        expires,
        provinces,
    };
    let keys = national_keys();
    let approvals = signers
        .iter()
        .map(|&i| approve_trust_list(&keys[usize::from(i)], i, &body).unwrap())
        .collect();
    NationalTrustList { body, approvals }
}
