//! Format-2 test vectors (`testdata/format2/vectors.json` in this repository): every
//! intermediate value of issuing, anchoring, presenting and checking a one-time copy, from
//! fixed keys and secrets, so that a second implementation can be checked step by step
//! (`docs/protocol.md` §3.3a, §5, §6, §9a, §10.2a).
//!
//! The test recomputes every value from the inputs with the real code and compares it
//! with the file. `ECERT_WRITE_VECTORS=1 cargo test -p ecert-verifier --test
//! format2_vectors` rewrites the file (after a deliberate change of the format only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use ecert_issuer::copies::{CopyRef, IssuedCopies};
use ecert_issuer::{issue_copies, CopiesRequest, CopyBatch, IssuerKey};
use ecert_schemas::copy::{AnyPresentation, CopySignedData, PresentationV2};
use ecert_schemas::presentation::HolderSignedData;
use ecert_schemas::{
    Claims, CopySecret, FieldValue, IssuerId, KindId, KindRegistry, Nonce, StatusIndex, UnixTime,
};
use ecert_verifier::copy_key::{
    copy_public_key, copy_salt, field_leaves, hidden_leaf, verify_link,
};
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::merkle16::{
    copy_leaf, field_multiproof, field_root, field_root_from_proof, verify_copy_inclusion,
};
use ecert_wallet::{present_copies, CopySelection, HolderKey};
use rand_core::{CryptoRng, RngCore};
use serde_json::{json, Value};
use zeroize::Zeroizing;

/// A generator that hands out a fixed byte stream: the copies' secrets, then the id.
struct Script(Vec<u8>);

impl RngCore for Script {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let taken: Vec<u8> = self.0.drain(..dest.len()).collect();
        dest.copy_from_slice(&taken);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl CryptoRng for Script {}

const ISSUED_AT: UnixTime = UnixTime(1_790_000_000);
const SHOWN_AT: UnixTime = UnixTime(1_790_003_600);

fn file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/format2/vectors.json")
}

fn secrets() -> [CopySecret; 3] {
    [
        CopySecret([0x10; 32]),
        CopySecret([0x11; 32]),
        CopySecret([0x12; 32]),
    ]
}

fn claims() -> Claims {
    let mut claims = Claims::new();
    for (k, v) in [
        ("name", "张伟"),
        ("sex", "male"),
        ("ethnicity", "汉"),
        ("birth_date", "1990-03-07"),
        ("address", "北京市海淀区中关村大街1号"),
        ("id_number", "110108199003070016"),
        ("issuing_authority", "北京市公安局海淀分局"),
    ] {
        claims.insert(k.into(), FieldValue::Text(v.into()));
    }
    claims
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(bytes)
}

/// Every value, computed.
fn compute() -> Value {
    let kinds = KindRegistry::builtin().unwrap();
    let wallet = HolderKey::from_seed(&Zeroizing::new([0x01; 32]));
    let issuer = IssuerKey::from_seed(
        IssuerId::new("public-security").unwrap(),
        &Zeroizing::new([0x02; 32]),
    );
    let request = CopiesRequest {
        kind: KindId::new("id-card").unwrap(),
        claims: claims(),
        holder: wallet.public_key(),
        valid_from: UnixTime(ISSUED_AT.secs() - 86_400),
        expires: UnixTime(ISSUED_AT.secs() + 10 * 365 * 86_400),
        status_indexes: vec![StatusIndex(7), StatusIndex(3), StatusIndex(11)],
    };
    let mut stream: Vec<u8> = secrets().iter().flat_map(|s| s.0).collect();
    stream.extend([0x20; 16]);
    let issued: IssuedCopies =
        issue_copies(&issuer, &kinds, &request, ISSUED_AT, &mut Script(stream)).unwrap();

    // The copies, each with its derivations.
    let mut copies = Vec::new();
    for (copy, secret) in issued.copies.iter().zip(secrets()) {
        let leaves = field_leaves(&issued.fields, &secret).unwrap();
        let signed = CopySignedData::to_bytes(
            &ecert_schemas::codec::from_cbor::<CopySignedData>("vector", &copy.signed).unwrap(),
        )
        .unwrap();
        assert_eq!(signed, copy.signed);
        assert_eq!(
            copy_public_key(&wallet.public_key(), &secret),
            Some(copy.holder)
        );
        copies.push(json!({
            "secret": hex(secret.0),
            "status_index": copy.status_index.0,
            "holder_key": hex(copy.holder.0),
            "salt_field_0": hex(copy_salt(&secret, 0).0),
            "hidden_leaf_field_7": hex(hidden_leaf(&secret, 7).0),
            "field_leaves": leaves.iter().map(|l| hex(l.0)).collect::<Vec<_>>(),
            "field_root": hex(field_root(&leaves).unwrap().0),
            "signed_data": hex(&copy.signed),
            "signature": hex(copy.signature.0),
            "copy_leaf": hex(copy_leaf(&copy.signed, &copy.signature.0).0),
        }));
    }

    // The batch: the three copies in the order 2, 0, 1.
    let order = vec![
        CopyRef {
            certificate: 0,
            copy: 2,
        },
        CopyRef {
            certificate: 0,
            copy: 0,
        },
        CopyRef {
            certificate: 0,
            copy: 1,
        },
    ];
    let batch = CopyBatch::new(&issuer, vec![issued.clone()], order).unwrap();
    let package = batch.package(0, 4).unwrap();
    let first = &package.copies[0];
    assert!(verify_copy_inclusion(
        &issued.copies[0].leaf(),
        first.leaf_index,
        3,
        &first.path,
        &batch.root()
    ));

    // A presentation of copy 0: name and birth date, answering a nonce.
    let nonce = Nonce::new(vec![0x33; 16]).unwrap();
    let presentation = present_copies(
        &wallet,
        &kinds,
        &[CopySelection {
            package: &package,
            copy: 0,
            fields: vec!["name".into(), "birth_date".into()],
        }],
        SHOWN_AT,
        Some(nonce.clone()),
    )
    .unwrap();
    let items = presentation.decode_items().unwrap();
    let signed = HolderSignedData {
        time: SHOWN_AT,
        nonce: Some(nonce),
        items_hash: presentation.items_hash(),
    }
    .to_bytes()
    .unwrap();
    let leaves = field_leaves(&issued.fields, &secrets()[0]).unwrap();
    let proof = field_multiproof(&leaves, &[0, 3]).unwrap();
    assert_eq!(proof, items[0].field_proof);
    assert_eq!(
        field_root_from_proof(leaves.len(), &[(0, leaves[0]), (3, leaves[3])], &proof),
        field_root(&leaves)
    );
    let key0 = wallet.copy_key(&secrets()[0]);
    let key1 = wallet.copy_key(&secrets()[1]);
    let link = key1.link_from(&key0, &signed);
    assert!(verify_link(
        &crypto::parse_public_key(&key0.public_key()).unwrap(),
        &crypto::parse_public_key(&key1.public_key()).unwrap(),
        &signed,
        &link
    ));
    let qr = presentation.to_qr_string().unwrap();
    assert!(matches!(
        AnyPresentation::from_qr_string(&qr).unwrap(),
        AnyPresentation::V2(_)
    ));
    let vk = crypto::parse_public_key(&issuer.public_key()).unwrap();
    assert!(crypto::verify(
        &vk,
        SigningContext::CopyIssue,
        &issued.copies[0].signed,
        &issued.copies[0].signature
    ));

    json!({
        "description": "ecert format 2 (one-time copies): docs/protocol.md §3.3a, §5, §6, §9a, §10.2a. Byte strings in hex.",
        "inputs": {
            "wallet_seed": hex([0x01; 32]),
            "wallet_key": hex(wallet.public_key().0),
            "issuer": "public-security",
            "issuer_seed": hex([0x02; 32]),
            "issuer_key": hex(issuer.public_key().0),
            "issuer_key_id": hex(issuer.key_id().0),
            "kind": "id-card",
            "kind_content_hash": hex(kinds.get_str("id-card").unwrap().content_hash.0),
            "claims": claims().iter().map(|(k, v)| (k.clone(), json!(v.to_string()))).collect::<serde_json::Map<_, _>>(),
            "issued_at": ISSUED_AT.secs(),
            "valid_from": request.valid_from.secs(),
            "expires": request.expires.secs(),
            "certificate_id": hex(issued.id.0),
        },
        "package_fields": hex(ecert_schemas::codec::to_cbor(&issued.fields).unwrap()),
        "copies": copies,
        "batch": {
            "order": "copy 2, copy 0, copy 1",
            "count": 3,
            "root": hex(batch.root().0),
            "batch_seq": 4,
            "copy_0_leaf_index": first.leaf_index,
            "copy_0_path": first.path.iter().map(|h| hex(h.0)).collect::<Vec<_>>(),
        },
        "package": hex(package.to_bytes().unwrap()),
        "presentation": {
            "copy": 0,
            "fields": ["name", "birth_date"],
            "time": SHOWN_AT.secs(),
            "nonce": hex([0x33; 16]),
            "field_proof": proof.iter().map(|h| hex(h.0)).collect::<Vec<_>>(),
            "items": hex(&presentation.items),
            "holder_signed_data": hex(&signed),
            "holder_signature": hex(presentation.holder.signature.0),
            "link_copy_1_from_copy_0": hex(link.0),
            "cbor": hex(presentation.to_bytes().unwrap()),
            "qr": qr,
        },
    })
}

#[test]
fn format2_vectors_match_the_code() {
    let computed = compute();
    if std::env::var_os("ECERT_WRITE_VECTORS").is_some() {
        std::fs::create_dir_all(file().parent().unwrap()).unwrap();
        std::fs::write(
            file(),
            serde_json::to_string_pretty(&computed).unwrap() + "\n",
        )
        .unwrap();
    }
    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(file()).expect("testdata/format2/vectors.json is missing"),
    )
    .unwrap();
    assert_eq!(
        stored, computed,
        "the format-2 vectors differ from the code"
    );
    // The stored presentation decodes as format 2 with the stored values.
    let cbor = hex::decode(stored["presentation"]["cbor"].as_str().unwrap()).unwrap();
    let p = PresentationV2::from_bytes(&cbor).unwrap();
    assert_eq!(
        hex(p.holder.signature.0),
        stored["presentation"]["holder_signature"]
    );
}
