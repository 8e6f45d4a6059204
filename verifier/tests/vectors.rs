//! Public test vectors for the verification core, read at run time from `shared/testdata/`
//! (the folder beside the repository checkout; see each `SOURCE.txt` there):
//!
//! - Ed25519: Project Wycheproof (C2SP/wycheproof, Apache-2.0)
//!   `wycheproof/ed25519_test.json` (testvectors_v1) and `wycheproof/eddsa_test_legacy.json`
//!   (legacy testvectors/eddsa_test.json), through `parse_public_key` + `verify_raw`.
//! - RFC 6962 Merkle trees: transparency-dev/merkle (Apache-2.0) — the classic Certificate
//!   Transparency leaves/roots and the 98 inclusion-proof vectors, both as the converted
//!   `merkle/rfc6962_vectors.json` and as the original
//!   `merkle/transparency-dev-testdata/inclusion/**.json` files (base64).
//!   Consistency proofs are not implemented by ecert yet and are not tested here.
//! - COSE_Sign1 / EdDSA: cose-wg/Examples (public domain) `cose/eddsa-sig-01.json`.
//!
//! A missing `shared/testdata/` directory is a test failure, never a skip.

// Test code: a failed `panic!`-style check or index is a failed test (same convention as
// schemas/tests/wire_proptest.rs; clippy's test allowances don't cover helper functions).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ecert_schemas::cose::CoseSign1;
use ecert_schemas::{Hash32, PublicKeyBytes};
use ecert_testkit::vectors::{read_json, testdata};
use ecert_verifier::crypto::{
    parse_public_key, public_key, sign_cose_sign1, verify_cose_sign1, verify_raw,
};
use ecert_verifier::merkle::{leaf_hash, verify_inclusion, LeafTree, MerkleTree};
use serde_json::Value;

fn hex_field(v: &Value, what: &str) -> Vec<u8> {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what}: not a string: {v}"));
    hex::decode(s).unwrap_or_else(|e| panic!("{what}: bad hex {s:?}: {e}"))
}

fn u64_field(v: &Value, what: &str) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("{what}: not a u64: {v}"))
}

fn array<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what}: not an array: {v}"))
}

// ---------------------------------------------------------------------------------------
// a. Wycheproof Ed25519
// ---------------------------------------------------------------------------------------

/// How the verifier treated one Wycheproof vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accepted,
    /// The public key is not 32 bytes.
    KeyWrongLength,
    /// `parse_public_key` refused the key (not a canonical point, or of small order).
    KeyRefused,
    /// `verify_raw` (`verify_strict`) refused the signature.
    SignatureRefused,
}

struct WycheproofRun {
    processed: usize,
    declared: usize,
    /// (tcId, outcome, lenient ed25519-dalek `verify` result) for every `valid` vector
    /// that was not accepted.
    valid_rejected: Vec<(u64, Outcome, bool)>,
    /// tcIds of `invalid` vectors that were accepted.
    invalid_accepted: Vec<u64>,
    valid: usize,
    invalid: usize,
}

fn run_wycheproof(file: &str) -> WycheproofRun {
    let doc = read_json(file);
    let declared =
        usize::try_from(u64_field(&doc["numberOfTests"], "numberOfTests")).unwrap_or(usize::MAX);
    let mut run = WycheproofRun {
        processed: 0,
        declared,
        valid_rejected: Vec::new(),
        invalid_accepted: Vec::new(),
        valid: 0,
        invalid: 0,
    };
    for group in array(&doc["testGroups"], "testGroups") {
        assert_eq!(
            group["type"], "EddsaVerify",
            "{file}: unexpected group type"
        );
        let pk_value = if group["publicKey"].is_object() {
            &group["publicKey"]["pk"]
        } else {
            &group["key"]["pk"]
        };
        let pk = hex_field(pk_value, "pk");
        for test in array(&group["tests"], "tests") {
            let tc_id = u64_field(&test["tcId"], "tcId");
            let msg = hex_field(&test["msg"], "msg");
            let sig = hex_field(&test["sig"], "sig");
            let outcome = match PublicKeyBytes::from_slice(&pk) {
                Err(_) => Outcome::KeyWrongLength,
                Ok(pk) => match parse_public_key(&pk) {
                    None => Outcome::KeyRefused,
                    Some(vk) if verify_raw(&vk, &msg, &sig) => Outcome::Accepted,
                    Some(_) => Outcome::SignatureRefused,
                },
            };
            match test["result"].as_str() {
                Some("valid") => {
                    run.valid += 1;
                    if outcome != Outcome::Accepted {
                        run.valid_rejected
                            .push((tc_id, outcome, lenient_verify(&pk, &msg, &sig)));
                    }
                }
                Some("invalid") => {
                    run.invalid += 1;
                    if outcome == Outcome::Accepted {
                        run.invalid_accepted.push(tc_id);
                    }
                }
                other => panic!("{file} tcId {tc_id}: unexpected result {other:?}"),
            }
            run.processed += 1;
        }
    }
    run
}

/// ed25519-dalek's ordinary (non-strict) `verify`, used only to explain a rejection.
fn lenient_verify(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    use ed25519_dalek::Verifier;
    let Ok(pk) = <[u8; 32]>::try_from(pk) else {
        return false;
    };
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
        return false;
    };
    vk.verify(msg, &sig).is_ok()
}

/// Checks one Wycheproof file; returns (valid, invalid) counts.
fn check_wycheproof(file: &str, expected_valid_rejected: &[u64]) -> (usize, usize) {
    let run = run_wycheproof(file);
    assert_eq!(
        run.processed, run.declared,
        "{file}: processed {} vectors but the file declares numberOfTests = {}",
        run.processed, run.declared
    );
    assert!(
        run.invalid_accepted.is_empty(),
        "{file}: INVALID signatures accepted, tcIds {:?}",
        run.invalid_accepted
    );
    // Every valid vector that is rejected must be rejected only for verify_strict's
    // deliberate extra rules: the ordinary (cofactorless, lenient) check accepts it.
    let not_strictness: Vec<_> = run
        .valid_rejected
        .iter()
        .filter(|(_, _, lenient)| !lenient)
        .collect();
    assert!(
        not_strictness.is_empty(),
        "{file}: valid vectors rejected for a reason other than verify_strict's \
         stricter rules: {not_strictness:?}"
    );
    let observed: BTreeSet<u64> = run.valid_rejected.iter().map(|(id, _, _)| *id).collect();
    let expected: BTreeSet<u64> = expected_valid_rejected.iter().copied().collect();
    assert_eq!(
        observed, expected,
        "{file}: set of valid-but-rejected tcIds changed (details: {:?})",
        run.valid_rejected
    );
    assert_eq!(run.valid + run.invalid, run.processed);
    (run.valid, run.invalid)
}

#[test]
fn wycheproof_ed25519_v1() {
    // ed25519_test.json: 151 tests (88 valid, 63 invalid).
    // Every valid vector is accepted, including under verify_strict: none uses a small-order
    // key, a small-order R or a non-canonical encoding, so the expected set is empty.
    let counts = check_wycheproof("wycheproof/ed25519_test.json", &[]);
    assert_eq!(counts, (88, 63));
}

#[test]
fn wycheproof_eddsa_legacy() {
    // eddsa_test_legacy.json: 145 tests (84 valid, 61 invalid).
    // As above: no valid vector trips verify_strict's extra rules.
    let counts = check_wycheproof("wycheproof/eddsa_test_legacy.json", &[]);
    assert_eq!(counts, (84, 61));
}

// ---------------------------------------------------------------------------------------
// b. RFC 6962 trees and inclusion proofs (converted hex vectors)
// ---------------------------------------------------------------------------------------

fn hash32(v: &Value, what: &str) -> Hash32 {
    Hash32::from_slice(&hex_field(v, what)).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Runs one inclusion vector: any hash that is not exactly 32 bytes makes it "rejected".
/// Returns `true` when rejected.
fn inclusion_rejected(leaf: &[u8], index: u64, size: u64, proof: &[Vec<u8>], root: &[u8]) -> bool {
    let (Ok(leaf), Ok(root)) = (Hash32::from_slice(leaf), Hash32::from_slice(root)) else {
        return true;
    };
    let Ok(path) = proof
        .iter()
        .map(|p| Hash32::from_slice(p))
        .collect::<Result<Vec<_>, _>>()
    else {
        return true;
    };
    !verify_inclusion(&leaf, index, size, &path, &root)
}

/// The RFC 6962 vectors file and its leaves.
fn rfc6962_vectors() -> (Value, Vec<Vec<u8>>) {
    let doc = read_json("merkle/rfc6962_vectors.json");
    let leaves = array(&doc["leaves"], "leaves")
        .iter()
        .map(|v| hex_field(v, "leaf"))
        .collect();
    (doc, leaves)
}

#[test]
fn rfc6962_leaves_roots_and_audit_paths() {
    let (doc, leaves) = rfc6962_vectors();
    assert_eq!(leaves.len(), 8);
    let leaf_hashes: Vec<Hash32> = array(&doc["leaf_hashes"], "leaf_hashes")
        .iter()
        .map(|v| hash32(v, "leaf_hashes"))
        .collect();
    assert_eq!(leaf_hashes.len(), leaves.len());
    for (i, (leaf, want)) in leaves.iter().zip(&leaf_hashes).enumerate() {
        assert_eq!(leaf_hash(leaf), *want, "leaf_hash of leaf {i}");
    }

    let roots = doc["roots_by_size"]
        .as_object()
        .unwrap_or_else(|| panic!("roots_by_size: not an object"));
    assert_eq!(roots.len(), 9);
    let mut paths_checked = 0;
    for n in 0..=8usize {
        let want = hash32(&roots[&n.to_string()], "root");
        let tree = MerkleTree::from_leaves(&leaves[..n]);
        assert_eq!(tree.root(), want, "root of the first {n} leaves");
        assert_eq!(tree.size(), n as u64);
        // The tree the ledger keeps for its revocation root gives the same root and paths.
        let kept = LeafTree::from_leaf_hashes(leaf_hashes[..n].to_vec());
        assert_eq!(kept.root(), want, "kept tree of the first {n} leaves");
        let size = n as u64;
        for i in 0..size {
            let path = tree
                .audit_path(i)
                .unwrap_or_else(|| panic!("no audit path for {i} of {n}"));
            assert_eq!(kept.audit_path(i).as_ref(), Some(&path));
            let leaf = &leaf_hashes[i as usize];
            assert!(
                verify_inclusion(leaf, i, size, &path, &want),
                "audit path {i} of {n} does not verify"
            );
            // The same path must not prove another position or a neighbouring leaf.
            if size > 1 {
                let j = (i + 1) % size;
                assert!(
                    !verify_inclusion(leaf, j, size, &path, &want),
                    "path {i} of {n} proves index {j}"
                );
                assert!(!verify_inclusion(
                    &leaf_hashes[j as usize],
                    i,
                    size,
                    &path,
                    &want
                ));
            }
            paths_checked += 1;
        }
        assert_eq!(tree.audit_path(size), None);
    }
    assert_eq!(paths_checked, 36); // 1 + 2 + … + 8
}

#[test]
fn rfc6962_inclusion_proofs_hex() {
    let (doc, leaves) = rfc6962_vectors();
    let leaf_hashes: Vec<Hash32> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let roots = &doc["roots_by_size"];

    let vectors = array(&doc["inclusion_proofs"], "inclusion_proofs");
    assert_eq!(vectors.len(), 98);
    let mut disagreements = Vec::new();
    let mut happy_paths_compared = 0;
    for v in vectors {
        let file = v["file"].as_str().unwrap_or("?");
        let index = u64_field(&v["leaf_index"], "leaf_index");
        let size = u64_field(&v["tree_size"], "tree_size");
        let root = hex_field(&v["root"], "root");
        let leaf = hex_field(&v["leaf_hash"], "leaf_hash");
        let proof: Vec<Vec<u8>> = array(&v["proof"], "proof")
            .iter()
            .map(|p| hex_field(p, "proof"))
            .collect();
        let want_err = v["want_err"]
            .as_bool()
            .unwrap_or_else(|| panic!("{file}: want_err"));
        let rejected = inclusion_rejected(&leaf, index, size, &proof, &root);
        if rejected != want_err {
            disagreements.push((file.to_owned(), want_err, rejected));
        }

        if !want_err {
            // The rs_merkle-built audit path must equal the published proof.
            let leaf = Hash32::from_slice(&leaf).unwrap_or_else(|e| panic!("{file}: {e}"));
            let tree = if size <= 8
                && leaf_hashes.get(index as usize) == Some(&leaf)
                && hex_field(&roots[&size.to_string()], "root") == root
            {
                MerkleTree::from_leaves(&leaves[..size as usize])
            } else {
                assert_eq!(size, 1, "{file}: happy path outside the 8-leaf tree");
                MerkleTree::from_leaf_hashes(&[leaf])
            };
            assert_eq!(tree.root().0.to_vec(), root, "{file}: root");
            let built: Vec<Vec<u8>> = tree
                .audit_path(index)
                .unwrap_or_else(|| panic!("{file}: no audit path"))
                .iter()
                .map(|h| h.0.to_vec())
                .collect();
            assert_eq!(
                built, proof,
                "{file}: rs_merkle audit path differs from the vector's proof"
            );
            happy_paths_compared += 1;
        }
    }
    assert!(
        disagreements.is_empty(),
        "want_err disagreements (file, want_err, rejected): {disagreements:?}"
    );
    assert_eq!(happy_paths_compared, 6);
}

// ---------------------------------------------------------------------------------------
// c. The original transparency-dev inclusion files (base64)
// ---------------------------------------------------------------------------------------

/// Standard base64 (RFC 4648 §4) with `=` padding; `None` on anything malformed.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (n, chunk) in bytes.chunks(4).enumerate() {
        let last = n + 1 == bytes.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | value(c)?;
        }
        acc <<= 6 * pad as u32;
        let group = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&group[..3 - pad]);
    }
    Some(out)
}

#[test]
fn base64_decoder_self_check() {
    assert_eq!(base64_decode(""), Some(vec![]));
    assert_eq!(base64_decode("Zg=="), Some(b"f".to_vec()));
    assert_eq!(base64_decode("Zm8="), Some(b"fo".to_vec()));
    assert_eq!(base64_decode("Zm9vYmFy"), Some(b"foobar".to_vec()));
    assert_eq!(base64_decode("Zm9vYg=="), Some(b"foob".to_vec()));
    assert_eq!(base64_decode("Zg="), None);
    assert_eq!(base64_decode("Zg==Zg=="), None);
    assert_eq!(base64_decode("Z!=="), None);
}

fn json_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            json_files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[test]
fn transparency_dev_inclusion_files() {
    let base = testdata().join("merkle/transparency-dev-testdata");
    let mut files = Vec::new();
    json_files_under(&base.join("inclusion"), &mut files);
    files.sort();
    assert_eq!(files.len(), 98, "number of inclusion vector files");

    // The converted hex vectors, by file name, to cross-check the base64 decoding.
    let doc = read_json("merkle/rfc6962_vectors.json");
    let hex_vectors = array(&doc["inclusion_proofs"], "inclusion_proofs");

    let b64 = |v: &Value, what: &str, file: &Path| -> Vec<u8> {
        let s = v
            .as_str()
            .unwrap_or_else(|| panic!("{}: {what} not a string", file.display()));
        base64_decode(s).unwrap_or_else(|| panic!("{}: {what}: bad base64 {s:?}", file.display()))
    };
    let mut disagreements = Vec::new();
    let mut names = BTreeSet::new();
    for file in &files {
        let text =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let index = u64_field(&v["leafIdx"], "leafIdx");
        let size = u64_field(&v["treeSize"], "treeSize");
        let root = b64(&v["root"], "root", file);
        let leaf = b64(&v["leafHash"], "leafHash", file);
        let proof: Vec<Vec<u8>> = match &v["proof"] {
            Value::Null => Vec::new(),
            p => array(p, "proof")
                .iter()
                .map(|e| b64(e, "proof", file))
                .collect(),
        };
        let want_err = v["wantErr"]
            .as_bool()
            .unwrap_or_else(|| panic!("{}: wantErr", file.display()));
        if inclusion_rejected(&leaf, index, size, &proof, &root) != want_err {
            disagreements.push(file.display().to_string());
        }

        let name = file
            .strip_prefix(&base)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .to_string_lossy()
            .replace('\\', "/");
        let twin = hex_vectors
            .iter()
            .find(|h| h["file"] == name.as_str())
            .unwrap_or_else(|| panic!("{name}: not in rfc6962_vectors.json"));
        assert_eq!(
            u64_field(&twin["leaf_index"], "leaf_index"),
            index,
            "{name}"
        );
        assert_eq!(u64_field(&twin["tree_size"], "tree_size"), size, "{name}");
        assert_eq!(hex_field(&twin["root"], "root"), root, "{name}");
        assert_eq!(hex_field(&twin["leaf_hash"], "leaf_hash"), leaf, "{name}");
        let twin_proof: Vec<Vec<u8>> = array(&twin["proof"], "proof")
            .iter()
            .map(|p| hex_field(p, "proof"))
            .collect();
        assert_eq!(twin_proof, proof, "{name}");
        assert_eq!(twin["want_err"].as_bool(), Some(want_err), "{name}");
        names.insert(name);
    }
    assert!(
        disagreements.is_empty(),
        "want_err disagreements: {disagreements:?}"
    );
    assert_eq!(names.len(), 98, "every file has a distinct hex twin");
}

// ---------------------------------------------------------------------------------------
// d. COSE_Sign1 with EdDSA (cose-wg/Examples eddsa-sig-01)
// ---------------------------------------------------------------------------------------

#[test]
fn cose_eddsa_sig_01() {
    let doc = read_json("cose/eddsa-sig-01.json");
    let input = hex_field(&doc["output"]["cbor"], "output.cbor");
    let tbs = hex_field(&doc["intermediates"]["ToBeSign_hex"], "ToBeSign_hex");
    let key = &doc["input"]["sign0"]["key"];
    assert_eq!(key["crv"], "Ed25519");
    let x = PublicKeyBytes::from_slice(&hex_field(&key["x_hex"], "x_hex"))
        .unwrap_or_else(|e| panic!("x_hex: {e}"));
    let d = <[u8; 32]>::try_from(hex_field(&key["d_hex"], "d_hex"))
        .unwrap_or_else(|_| panic!("d_hex: not 32 bytes"));

    let msg =
        CoseSign1::from_bytes(&input).unwrap_or_else(|e| panic!("COSE_Sign1 does not parse: {e}"));
    assert_eq!(msg.payload, b"This is the content.");
    assert_eq!(msg.unprotected.kid.as_deref(), Some(&b"11"[..]));
    assert_eq!(
        msg.to_be_signed(&[]).unwrap_or_else(|e| panic!("{e}")),
        tbs,
        "Sig_structure"
    );
    assert_eq!(
        msg.to_bytes().unwrap_or_else(|e| panic!("{e}")),
        input,
        "re-encoding differs"
    );

    let vk = parse_public_key(&x).unwrap_or_else(|| panic!("x_hex refused"));
    assert!(
        verify_cose_sign1(&vk, &msg, &[]),
        "vector signature does not verify"
    );
    assert!(
        !verify_cose_sign1(&vk, &msg, b"aad"),
        "verifies with a different external AAD"
    );

    // Flipping one bit in any byte of the payload, signature or protected header is refused
    // (one bit per byte, rotating through the bit positions: every bit of every byte would
    // take ~6 s of unoptimised Ed25519 for no extra coverage).
    let mut flips = 0;
    for part in ["payload", "signature", "protected"] {
        let len = match part {
            "payload" => msg.payload.len(),
            "signature" => msg.signature.len(),
            _ => msg.protected.len(),
        };
        for byte in 0..len {
            let bit = byte % 8;
            let mut m = msg.clone();
            let field = match part {
                "payload" => &mut m.payload,
                "signature" => &mut m.signature,
                _ => &mut m.protected,
            };
            field[byte] ^= 1 << bit;
            assert!(
                !verify_cose_sign1(&vk, &m, &[]),
                "{part}: flipping bit {bit} of byte {byte} still verifies"
            );
            flips += 1;
        }
    }
    assert_eq!(flips, 20 + 64 + 5);

    // Signing: Ed25519 is deterministic, so re-signing gives the vector's signature.
    let sk = ed25519_dalek::SigningKey::from_bytes(&d);
    assert_eq!(public_key(&sk), x, "d_hex does not match x_hex");
    let mut resigned = msg.clone();
    resigned.signature.clear();
    sign_cose_sign1(&sk, &mut resigned, &[]).unwrap_or_else(|e| panic!("sign_cose_sign1: {e}"));
    assert_eq!(
        resigned.signature, msg.signature,
        "signature differs from the vector's"
    );
    assert_eq!(resigned.to_bytes().unwrap_or_else(|e| panic!("{e}")), input);
}
