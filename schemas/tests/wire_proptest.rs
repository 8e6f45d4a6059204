//! Property-based tests of the wire types of `ecert-schemas` and their strict CBOR codec.
//!
//! For every wire type (certificate claims, COSE_Sign1, certificate, disclosure, anchor
//! proof, presentation and its parts, offer redemption, ledger transactions, anchor log
//! records, block headers, votes, checkpoints, registry records, status lists, revocation
//! snapshots, governance transactions, anchor receipts and trust bundles) this file checks
//! that:
//!
//! 1. encoding then decoding gives back an equal value, and re-encoding gives identical
//!    bytes (including the presentation's QR string form);
//! 2. decoding arbitrary bytes, arbitrary CBOR values and single-byte mutations,
//!    truncations and extensions of valid encodings never panics; a truncated or extended
//!    encoding is always rejected; and whatever is accepted re-encodes to exactly the
//!    bytes that were read (the codec's determinism rule);
//! 3. a status list reports exactly the indexes that were revoked.

// Test code: a failed `unwrap` or index is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use ecert_schemas::codec::qr::{MAX_QR_CHARS, PREFIX_RAW, PREFIX_ZLIB};
use ecert_schemas::codec::{from_cbor, to_cbor};
use ecert_schemas::cose::{CoseSign1, UnprotectedHeader};
use ecert_schemas::ledger::{
    AnchorBatchBody, AnchorBatchTx, AnchorReceipt, Approval, BatchRecord, BlockHeader, Checkpoint,
    GovernanceAction, GovernanceBody, GovernanceTx, GrantKind, IssuerKeyRecord, IssuerRecord,
    KindRecord, RegisterIssuerKey, Registry, RetireIssuerKey, RevocationBody, RevocationDelta,
    RevocationEntry, RevocationReason, RevocationSnapshot, RevocationTx, RevokedAt,
    RotateIssuerKey, StatusList, Transaction, TrustBundle, ValidatorChange, ValidatorInfo,
    ValidatorSetChange, Vote, TRUST_BUNDLE_VERSION,
};
use ecert_schemas::presentation::PRESENTATION_VERSION;
use ecert_schemas::status_code::StatusCode;
use ecert_schemas::{
    field_digest, AnchorProof, Certificate, CertificateClaims, CertificateId, ChainId, Disclosure,
    FieldDigest, FieldValue, Hash32, HolderProof, HolderSignedData, IssuerId, KeyId, KindId, Nonce,
    OfferRedemption, Presentation, PresentedCertificate, PublicKeyBytes, Salt, SchemaError,
    SignatureBytes, StatusIndex, UnixTime,
};
use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_bytes::ByteBuf;
use serde_cbor::Value;

// ---------------------------------------------------------------------------------------
// Strategies: identifiers, fixed-size byte values, times.
// ---------------------------------------------------------------------------------------

const IDENT: &str = "[a-z0-9][a-z0-9.-]{0,20}";

fn issuer_id() -> impl Strategy<Value = IssuerId> {
    IDENT.prop_map(|s| IssuerId::new(s).unwrap())
}

fn kind_id() -> impl Strategy<Value = KindId> {
    IDENT.prop_map(|s| KindId::new(s).unwrap())
}

fn chain_id() -> impl Strategy<Value = ChainId> {
    IDENT.prop_map(|s| ChainId::new(s).unwrap())
}

fn hash32() -> impl Strategy<Value = Hash32> {
    any::<[u8; 32]>().prop_map(Hash32)
}

fn public_key() -> impl Strategy<Value = PublicKeyBytes> {
    any::<[u8; 32]>().prop_map(PublicKeyBytes)
}

fn field_digest_value() -> impl Strategy<Value = FieldDigest> {
    any::<[u8; 16]>().prop_map(FieldDigest)
}

fn salt() -> impl Strategy<Value = Salt> {
    any::<[u8; 16]>().prop_map(Salt)
}

fn certificate_id() -> impl Strategy<Value = CertificateId> {
    any::<[u8; 16]>().prop_map(CertificateId)
}

fn key_id() -> impl Strategy<Value = KeyId> {
    any::<[u8; 8]>().prop_map(KeyId)
}

fn signature_vec() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 64)
}

fn signature() -> impl Strategy<Value = SignatureBytes> {
    signature_vec().prop_map(|v| SignatureBytes(v.try_into().unwrap()))
}

fn unix_time() -> impl Strategy<Value = UnixTime> {
    any::<u64>().prop_map(UnixTime)
}

fn nonce() -> impl Strategy<Value = Nonce> {
    vec(any::<u8>(), 1..=Nonce::MAX_LEN).prop_map(|b| Nonce::new(b).unwrap())
}

fn byte_buf(max: usize) -> impl Strategy<Value = ByteBuf> {
    vec(any::<u8>(), 0..max).prop_map(ByteBuf::from)
}

// ---------------------------------------------------------------------------------------
// Strategies: certificates and presentations.
// ---------------------------------------------------------------------------------------

fn claims() -> impl Strategy<Value = CertificateClaims> {
    (
        (
            issuer_id(),
            unix_time(),
            unix_time(),
            unix_time(),
            certificate_id(),
        ),
        (
            public_key(),
            kind_id(),
            any::<u32>(),
            btree_map(any::<u16>(), field_digest_value(), 1..20),
        ),
    )
        .prop_map(
            |((issuer, expires, valid_from, issued_at, id), (holder, kind, status, digests))| {
                CertificateClaims {
                    issuer,
                    expires,
                    valid_from,
                    issued_at,
                    id,
                    holder,
                    kind,
                    status_index: StatusIndex(status),
                    digests,
                }
            },
        )
}

fn cose_sign1() -> impl Strategy<Value = CoseSign1> {
    (
        vec(any::<u8>(), 0..64),
        option::of(vec(any::<u8>(), 0..=64)),
        vec(any::<u8>(), 0..256),
        vec(any::<u8>(), 0..80),
    )
        .prop_map(|(protected, kid, payload, signature)| CoseSign1 {
            protected,
            unprotected: UnprotectedHeader { kid },
            payload,
            signature,
        })
}

/// A structurally valid certificate's bytes, with the claims and key id it was built from.
fn certificate_parts() -> impl Strategy<Value = (CertificateClaims, KeyId, Vec<u8>)> {
    (claims(), key_id(), signature_vec()).prop_map(|(claims, key_id, signature)| {
        let mut cose = Certificate::unsigned(&claims, key_id).unwrap();
        cose.signature = signature;
        let bytes = cose.to_bytes().unwrap();
        (claims, key_id, bytes)
    })
}

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<String>().prop_map(FieldValue::Text),
        vec(any::<String>(), 0..=10).prop_map(FieldValue::TextList),
        vec(any::<u8>(), 0..64).prop_map(FieldValue::Bytes),
        any::<bool>().prop_map(FieldValue::Bool),
    ]
}

fn disclosure() -> impl Strategy<Value = Disclosure> {
    (salt(), any::<u16>(), field_value()).prop_map(|(salt, field, value)| Disclosure {
        salt,
        field,
        value,
    })
}

fn anchor_proof() -> impl Strategy<Value = AnchorProof> {
    (any::<u64>(), any::<u64>(), vec(hash32(), 0..8)).prop_map(|(batch_seq, leaf_index, path)| {
        AnchorProof {
            batch_seq,
            leaf_index,
            path,
        }
    })
}

/// Disclosure bytes: real disclosures most of the time, arbitrary bytes sometimes (the
/// presentation layer carries them as opaque byte strings).
fn disclosure_bytes() -> impl Strategy<Value = ByteBuf> {
    prop_oneof![
        3 => (salt(), any::<u16>(), "[ -~]{0,12}").prop_map(|(salt, field, text)| {
            ByteBuf::from(Disclosure { salt, field, value: FieldValue::Text(text) }.to_bytes().unwrap())
        }),
        1 => (salt(), any::<u16>(), any::<bool>()).prop_map(|(salt, field, fact)| {
            ByteBuf::from(Disclosure { salt, field, value: FieldValue::Bool(fact) }.to_bytes().unwrap())
        }),
        1 => byte_buf(40),
    ]
}

fn presented_certificate() -> impl Strategy<Value = PresentedCertificate> {
    (byte_buf(150), vec(disclosure_bytes(), 0..4), anchor_proof()).prop_map(
        |(certificate, disclosures, anchor)| PresentedCertificate {
            certificate,
            disclosures,
            anchor,
        },
    )
}

fn holder_proof() -> impl Strategy<Value = HolderProof> {
    (unix_time(), option::of(nonce()), signature()).prop_map(|(time, nonce, signature)| {
        HolderProof {
            time,
            nonce,
            signature,
        }
    })
}

fn holder_signed_data() -> impl Strategy<Value = HolderSignedData> {
    (unix_time(), option::of(nonce()), hash32()).prop_map(|(time, nonce, items_hash)| {
        HolderSignedData {
            time,
            nonce,
            items_hash,
        }
    })
}

/// A presentation built as a wallet builds it, with the items it carries.
fn presentation_parts() -> impl Strategy<Value = (Vec<PresentedCertificate>, Presentation)> {
    (
        vec(presented_certificate(), 1..=3),
        option::of(holder_proof()),
    )
        .prop_map(|(items, holder)| {
            let presentation = Presentation {
                version: PRESENTATION_VERSION,
                items: ByteBuf::from(Presentation::encode_items(&items).unwrap()),
                holder,
            };
            (items, presentation)
        })
}

fn presentation() -> impl Strategy<Value = Presentation> {
    presentation_parts().prop_map(|(_, p)| p)
}

// ---------------------------------------------------------------------------------------
// Strategies: ledger.
// ---------------------------------------------------------------------------------------

fn revocation_reason() -> impl Strategy<Value = RevocationReason> {
    select(RevocationReason::ALL.to_vec())
}

fn anchor_batch_body() -> impl Strategy<Value = AnchorBatchBody> {
    (
        chain_id(),
        issuer_id(),
        key_id(),
        vec(kind_id(), 0..4),
        hash32(),
        any::<u64>(),
    )
        .prop_map(
            |(chain_id, issuer, key_id, kinds, batch_root, count)| AnchorBatchBody {
                chain_id,
                issuer,
                key_id,
                kinds,
                batch_root,
                count,
            },
        )
}

fn anchor_batch_tx() -> impl Strategy<Value = AnchorBatchTx> {
    (anchor_batch_body(), signature())
        .prop_map(|(body, signature)| AnchorBatchTx { body, signature })
}

fn revocation_entry() -> impl Strategy<Value = RevocationEntry> {
    (any::<u32>(), revocation_reason()).prop_map(|(index, reason)| RevocationEntry {
        index: StatusIndex(index),
        reason,
    })
}

fn revocation_body() -> impl Strategy<Value = RevocationBody> {
    (
        chain_id(),
        issuer_id(),
        key_id(),
        vec(revocation_entry(), 0..8),
        unix_time(),
    )
        .prop_map(|(chain_id, issuer, key_id, entries, time)| RevocationBody {
            chain_id,
            issuer,
            key_id,
            entries,
            time,
        })
}

fn revocation_tx() -> impl Strategy<Value = RevocationTx> {
    (revocation_body(), signature()).prop_map(|(body, signature)| RevocationTx { body, signature })
}

fn governance_action() -> impl Strategy<Value = GovernanceAction> {
    prop_oneof![
        (issuer_id(), public_key(), unix_time()).prop_map(|(issuer, key, valid_from)| {
            GovernanceAction::RegisterIssuerKey(RegisterIssuerKey {
                issuer,
                key,
                valid_from,
            })
        }),
        (issuer_id(), key_id(), public_key(), unix_time()).prop_map(
            |(issuer, old_key_id, new_key, valid_from)| {
                GovernanceAction::RotateIssuerKey(RotateIssuerKey {
                    issuer,
                    old_key_id,
                    new_key,
                    valid_from,
                })
            }
        ),
        (issuer_id(), key_id(), unix_time()).prop_map(|(issuer, key_id, at)| {
            GovernanceAction::RetireIssuerKey(RetireIssuerKey { issuer, key_id, at })
        }),
        issuer_record().prop_map(GovernanceAction::RegisterIssuer),
        kind_record().prop_map(GovernanceAction::AddKind),
        kind_record().prop_map(GovernanceAction::ReviseKind),
        (issuer_id(), kind_id())
            .prop_map(|(issuer, kind)| GovernanceAction::GrantKind(GrantKind { issuer, kind })),
        (vec(validator_info(), 0..4), vec(any::<String>(), 0..4)).prop_map(
            |(validators, addresses)| {
                GovernanceAction::ChangeValidators(ValidatorSetChange {
                    validators,
                    addresses,
                })
            }
        ),
    ]
}

fn validator_change() -> impl Strategy<Value = ValidatorChange> {
    (vec(validator_info(), 0..4), checkpoint(), governance_tx()).prop_map(
        |(previous, checkpoint, change)| ValidatorChange {
            previous,
            checkpoint,
            change,
        },
    )
}

fn validator_changes() -> impl Strategy<Value = Vec<ValidatorChange>> {
    vec(validator_change(), 0..2)
}

fn governance_body() -> impl Strategy<Value = GovernanceBody> {
    (chain_id(), any::<u64>(), governance_action()).prop_map(|(chain_id, seq, action)| {
        GovernanceBody {
            chain_id,
            seq,
            action,
        }
    })
}

fn approval() -> impl Strategy<Value = Approval> {
    (any::<u16>(), signature()).prop_map(|(validator, signature)| Approval {
        validator,
        signature,
    })
}

fn governance_tx() -> impl Strategy<Value = GovernanceTx> {
    (governance_body(), vec(approval(), 0..5))
        .prop_map(|(body, approvals)| GovernanceTx { body, approvals })
}

fn transaction() -> impl Strategy<Value = Transaction> {
    prop_oneof![
        anchor_batch_tx().prop_map(Transaction::AnchorBatch),
        revocation_tx().prop_map(Transaction::Revocation),
        governance_tx().prop_map(Transaction::Governance),
    ]
}

fn batch_record() -> impl Strategy<Value = BatchRecord> {
    (
        issuer_id(),
        key_id(),
        vec(kind_id(), 0..4),
        hash32(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(issuer, key_id, kinds, batch_root, count, height, time_ms)| BatchRecord {
                issuer,
                key_id,
                kinds,
                batch_root,
                count,
                height,
                time_ms,
            },
        )
}

fn block_header() -> impl Strategy<Value = BlockHeader> {
    (
        (chain_id(), any::<u64>(), hash32(), any::<u64>(), hash32()),
        (hash32(), any::<u64>(), hash32(), hash32(), hash32()),
    )
        .prop_map(
            |(
                (chain_id, height, prev_hash, time_ms, txs_root),
                (anchors_root, anchor_count, revocation_root, registry_root, validators_hash),
            )| BlockHeader {
                chain_id,
                height,
                prev_hash,
                time_ms,
                txs_root,
                anchors_root,
                anchor_count,
                revocation_root,
                registry_root,
                validators_hash,
            },
        )
}

fn vote() -> impl Strategy<Value = Vote> {
    (any::<u16>(), signature()).prop_map(|(validator, signature)| Vote {
        validator,
        signature,
    })
}

/// A checkpoint whose header is a real header's encoding.
fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    (block_header(), vec(vote(), 0..4)).prop_map(|(header, votes)| Checkpoint {
        header: ByteBuf::from(header.to_bytes().unwrap()),
        votes,
    })
}

fn validator_info() -> impl Strategy<Value = ValidatorInfo> {
    (issuer_id(), public_key()).prop_map(|(department, key)| ValidatorInfo { department, key })
}

fn revocation_delta() -> impl Strategy<Value = RevocationDelta> {
    (
        any::<u64>(),
        vec(
            (any::<u64>(), issuer_id(), any::<u32>()).prop_map(|(height, issuer, index)| {
                RevokedAt {
                    height,
                    issuer,
                    index: StatusIndex(index),
                }
            }),
            0..5,
        ),
        checkpoint(),
        vec(validator_info(), 0..4),
        validator_changes(),
    )
        .prop_map(
            |(since, entries, checkpoint, validators, changes)| RevocationDelta {
                since,
                entries,
                checkpoint,
                validators,
                changes,
            },
        )
}

fn anchor_receipt() -> impl Strategy<Value = AnchorReceipt> {
    (
        batch_record(),
        any::<u64>(),
        vec(hash32(), 0..6),
        checkpoint(),
        vec(validator_info(), 0..4),
        validator_changes(),
    )
        .prop_map(
            |(record, batch_seq, path, checkpoint, validators, changes)| AnchorReceipt {
                record,
                batch_seq,
                path,
                checkpoint,
                validators,
                changes,
            },
        )
}

fn issuer_key_record() -> impl Strategy<Value = IssuerKeyRecord> {
    (key_id(), public_key(), unix_time(), option::of(unix_time())).prop_map(
        |(key_id, key, valid_from, valid_until)| IssuerKeyRecord {
            key_id,
            key,
            valid_from,
            valid_until,
        },
    )
}

fn issuer_record() -> impl Strategy<Value = IssuerRecord> {
    (
        issuer_id(),
        any::<String>(),
        vec(kind_id(), 0..3),
        vec(issuer_key_record(), 0..3),
    )
        .prop_map(|(issuer, name, kinds, keys)| IssuerRecord {
            issuer,
            name,
            kinds,
            keys,
        })
}

fn kind_record() -> impl Strategy<Value = KindRecord> {
    (kind_id(), hash32()).prop_map(|(kind, content_hash)| KindRecord { kind, content_hash })
}

fn registry() -> impl Strategy<Value = Registry> {
    (
        vec(issuer_record(), 0..3),
        vec(kind_record(), 0..3),
        any::<u64>(),
    )
        .prop_map(|(issuers, kinds, governance_seq)| Registry {
            issuers,
            kinds,
            governance_seq,
        })
}

fn status_list() -> impl Strategy<Value = StatusList> {
    (issuer_id(), btree_set(0u32..5_000, 0..24)).prop_map(|(issuer, revoked)| {
        let revoked: Vec<StatusIndex> = revoked.into_iter().map(StatusIndex).collect();
        StatusList {
            issuer,
            revoked: StatusCode::from_indexes(&revoked).unwrap(),
        }
    })
}

fn revocation_snapshot() -> impl Strategy<Value = RevocationSnapshot> {
    (any::<u64>(), vec(status_list(), 0..3))
        .prop_map(|(height, lists)| RevocationSnapshot { height, lists })
}

fn trust_bundle() -> impl Strategy<Value = TrustBundle> {
    (
        chain_id(),
        vec(validator_info(), 0..3),
        checkpoint(),
        registry(),
        vec(batch_record(), 0..3),
        revocation_snapshot(),
        validator_changes(),
    )
        .prop_map(
            |(chain_id, validators, checkpoint, registry, anchors, revocations, changes)| {
                TrustBundle {
                    version: TRUST_BUNDLE_VERSION,
                    chain_id,
                    validators,
                    checkpoint,
                    registry,
                    anchors,
                    revocations,
                    changes,
                }
            },
        )
}

// ---------------------------------------------------------------------------------------
// Strategies: hostile input.
// ---------------------------------------------------------------------------------------

/// Arbitrary CBOR values whose leaves look like the pieces ecert's types are made of
/// (small integers, 8/16/32/64-byte strings, identifiers, nulls, tag 18), so that
/// decoding gets past the first few checks more often than with random bytes.
fn cbor_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0i128..30).prop_map(Value::Integer),
        any::<u64>().prop_map(|n| Value::Integer(i128::from(n))),
        any::<i64>().prop_map(|n| Value::Integer(i128::from(n))),
        Just(Value::Integer(-65_537)),
        Just(Value::Integer(-65_538)),
        Just(Value::Integer(-65_539)),
        any::<f64>().prop_map(Value::Float),
        select(vec![0usize, 1, 8, 16, 32, 64])
            .prop_flat_map(|n| vec(any::<u8>(), n).prop_map(Value::Bytes)),
        IDENT.prop_map(Value::Text),
        any::<String>().prop_map(Value::Text),
    ];
    leaf.prop_recursive(5, 64, 10, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..10).prop_map(Value::Array),
            btree_map(inner.clone(), inner.clone(), 0..6).prop_map(Value::Map),
            (select(vec![18u64, 17, 0, 24, 55_799]), inner.clone())
                .prop_map(|(tag, v)| Value::Tag(tag, Box::new(v))),
            // A value wrapped into a byte string, as certificates, items and headers are.
            inner.prop_map(|v| Value::Bytes(serde_cbor::to_vec(&v).unwrap_or_default())),
        ]
    })
}

/// One change to a valid encoding.
#[derive(Clone, Debug)]
enum Mutation {
    /// Replace one byte with another value (possibly the same).
    Replace(Index, u8),
    /// Flip one bit of one byte.
    FlipBit(Index, u8),
    /// Keep only a strict prefix.
    Truncate(Index),
    /// Append one byte.
    Append(u8),
    /// Insert one byte.
    Insert(Index, u8),
    /// Remove one byte.
    Remove(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        any::<u8>().prop_map(Mutation::Append),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Remove),
    ]
}

fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.is_empty() {
        if let Mutation::Append(b) | Mutation::Insert(_, b) = m {
            out.push(*b);
        }
        return out;
    }
    match m {
        Mutation::Replace(i, b) => out[i.index(bytes.len())] = *b,
        Mutation::FlipBit(i, bit) => out[i.index(bytes.len())] ^= 1 << bit,
        Mutation::Truncate(i) => out.truncate(i.index(bytes.len())),
        Mutation::Append(b) => out.push(*b),
        Mutation::Insert(i, b) => out.insert(i.index(bytes.len() + 1), *b),
        Mutation::Remove(i) => {
            out.remove(i.index(bytes.len()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Checks.
// ---------------------------------------------------------------------------------------

/// Encodes, decodes strictly and re-encodes `value`; returns its encoding.
fn round_trip<T>(what: &'static str, value: &T) -> Result<Vec<u8>, TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = to_cbor(value).map_err(fail)?;
    let back: T = from_cbor(what, &bytes).map_err(fail)?;
    prop_assert_eq!(&back, value);
    let again = to_cbor(&back).map_err(fail)?;
    prop_assert_eq!(&again, &bytes);
    Ok(bytes)
}

fn fail(e: SchemaError) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// A strict decoder under test: decodes the bytes and returns the decoded value's
/// re-encoding.
type Decoder = fn(&[u8]) -> Result<Vec<u8>, SchemaError>;

fn decode_presentation(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    let p = Presentation::from_bytes(b)?;
    assert_eq!(p.version, PRESENTATION_VERSION, "accepted version");
    p.to_bytes()
}

fn decode_certificate(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    let c = Certificate::from_bytes(b)?;
    assert_eq!(c.bytes, b, "certificate keeps its exact bytes");
    assert_eq!(c.cose.unprotected.kid.as_deref(), Some(&c.key_id.0[..]));
    assert_eq!(c.cose.signature.len(), 64);
    assert_eq!(
        c.claims.to_bytes()?,
        c.cose.payload,
        "claims re-encode to the payload"
    );
    c.cose.to_bytes()
}

fn decode_claims(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    CertificateClaims::from_bytes(b)?.to_bytes()
}

fn decode_cose(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    CoseSign1::from_bytes(b)?.to_bytes()
}

fn decode_disclosure(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    Disclosure::from_bytes(b)?.to_bytes()
}

fn decode_offer_redemption(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    OfferRedemption::from_bytes(b)?.to_bytes()
}

fn decode_transaction(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    Transaction::from_bytes(b)?.to_bytes()
}

fn decode_header(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    BlockHeader::from_bytes(b)?.to_bytes()
}

fn decode_checkpoint(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    let c = Checkpoint::from_bytes(b)?;
    let _ = c.decode_header();
    c.to_bytes()
}

fn decode_anchor_receipt(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    AnchorReceipt::from_bytes(b)?.to_bytes()
}

fn decode_revocation_delta(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    RevocationDelta::from_bytes(b)?.to_bytes()
}

fn decode_trust_bundle(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    let t = TrustBundle::from_bytes(b)?;
    assert_eq!(t.version, TRUST_BUNDLE_VERSION, "accepted version");
    t.to_bytes()
}

fn decode_items(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    let p = Presentation {
        version: PRESENTATION_VERSION,
        items: ByteBuf::from(b.to_vec()),
        holder: None,
    };
    let items = p.decode_items()?;
    assert!(!items.is_empty() && items.len() <= 8);
    Presentation::encode_items(&items)
}

fn decode_strict<T: Serialize + DeserializeOwned>(b: &[u8]) -> Result<Vec<u8>, SchemaError> {
    to_cbor(&from_cbor::<T>("value under test", b)?)
}

/// The public decoders, by name.
const DECODERS: &[(&str, Decoder)] = &[
    ("Presentation", decode_presentation),
    ("Certificate", decode_certificate),
    ("CertificateClaims", decode_claims),
    ("CoseSign1", decode_cose),
    ("Disclosure", decode_disclosure),
    ("OfferRedemption", decode_offer_redemption),
    ("Transaction", decode_transaction),
    ("BlockHeader", decode_header),
    ("Checkpoint", decode_checkpoint),
    ("TrustBundle", decode_trust_bundle),
    ("AnchorReceipt", decode_anchor_receipt),
    ("RevocationDelta", decode_revocation_delta),
    ("presentation items", decode_items),
];

/// Runs every decoder on `bytes`: none may panic, and whatever one accepts must re-encode
/// to exactly `bytes`.
fn decode_everything(bytes: &[u8]) -> Result<(), TestCaseError> {
    for (name, decode) in DECODERS {
        if let Ok(again) = decode(bytes) {
            prop_assert_eq!(&again, &bytes, "{} accepted a non-canonical encoding", name);
        }
    }
    Ok(())
}

/// Applies `m` to the valid encoding `valid` and decodes the result with `decode`.
fn check_mutation(
    name: &str,
    decode: Decoder,
    valid: &[u8],
    m: &Mutation,
) -> Result<(), TestCaseError> {
    prop_assert!(decode(valid).is_ok(), "{} rejected its own encoding", name);
    let mutated = apply(valid, m);
    let result = decode(&mutated);
    match m {
        Mutation::Truncate(_) | Mutation::Remove(_)
            if mutated.len() < valid.len() && valid.starts_with(&mutated) =>
        {
            prop_assert!(result.is_err(), "{} accepted a truncated encoding", name)
        }
        Mutation::Append(_) => prop_assert!(result.is_err(), "{} accepted a trailing byte", name),
        _ => {}
    }
    if mutated == valid {
        prop_assert!(result.is_ok(), "{} rejected an unchanged encoding", name);
    }
    if let Ok(again) = result {
        prop_assert_eq!(again, mutated, "{} accepted a non-canonical encoding", name);
    }
    // The other decoders must not panic on it either.
    decode_everything(&apply(valid, m))
}

// ---------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    // --- 1. round trips: certificates and presentations --------------------------------

    #[test]
    fn certificate_claims_round_trip(c in claims()) {
        let bytes = round_trip("certificate claims", &c)?;
        prop_assert_eq!(c.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(CertificateClaims::from_bytes(&bytes).unwrap(), c);
    }

    #[test]
    fn cose_sign1_round_trip(m in cose_sign1()) {
        let bytes = round_trip("COSE_Sign1", &m)?;
        prop_assert_eq!(bytes[0], 0xd2, "COSE_Sign1 is tagged 18");
        prop_assert_eq!(m.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(CoseSign1::from_bytes(&bytes).unwrap(), m);
        // Untagged, it is refused.
        prop_assert!(CoseSign1::from_bytes(&bytes[1..]).is_err());
    }

    #[test]
    fn certificate_round_trip((claims, key_id, bytes) in certificate_parts()) {
        let cert = Certificate::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&cert.claims, &claims);
        prop_assert_eq!(cert.key_id, key_id);
        prop_assert_eq!(&cert.bytes, &bytes);
        prop_assert_eq!(cert.cose.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(&cert.cose.payload, &claims.to_bytes().unwrap());
        let again = Certificate::from_bytes(&cert.cose.to_bytes().unwrap()).unwrap();
        prop_assert_eq!(again, cert);
    }

    #[test]
    fn certificate_shape_is_enforced(
        (claims, key_id, _bytes) in certificate_parts(),
        sig_len in (0usize..100).prop_filter("not 64", |n| *n != 64),
        kid_len in (0usize..=64).prop_filter("not 8", |n| *n != 8),
    ) {
        let good = {
            let mut c = Certificate::unsigned(&claims, key_id).unwrap();
            c.signature = vec![7; 64];
            c
        };
        let mut bad_sig = good.clone();
        bad_sig.signature = vec![7; sig_len];
        prop_assert!(Certificate::from_bytes(&bad_sig.to_bytes().unwrap()).is_err());
        let mut bad_kid = good.clone();
        bad_kid.unprotected.kid = Some(vec![1; kid_len]);
        prop_assert!(Certificate::from_bytes(&bad_kid.to_bytes().unwrap()).is_err());
        let mut no_kid = good.clone();
        no_kid.unprotected.kid = None;
        prop_assert!(Certificate::from_bytes(&no_kid.to_bytes().unwrap()).is_err());
        let mut bad_protected = good.clone();
        bad_protected.protected = vec![0xa1, 0x01, 0x26]; // alg ES256
        prop_assert!(Certificate::from_bytes(&bad_protected.to_bytes().unwrap()).is_err());
        prop_assert!(Certificate::from_bytes(&good.to_bytes().unwrap()).is_ok());
    }

    #[test]
    fn disclosure_round_trip(d in disclosure()) {
        let bytes = round_trip("disclosure", &d)?;
        prop_assert_eq!(d.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(&Disclosure::from_bytes(&bytes).unwrap(), &d);
        // The digest a certificate signs is a function of the exact bytes.
        prop_assert_eq!(field_digest(&bytes), field_digest(&d.to_bytes().unwrap()));
    }

    #[test]
    fn anchor_proof_round_trip(a in anchor_proof()) {
        round_trip("anchor proof", &a)?;
    }

    #[test]
    fn presented_certificate_round_trip(p in presented_certificate()) {
        round_trip("presented certificate", &p)?;
    }

    #[test]
    fn holder_proof_round_trip(h in holder_proof(), n in nonce()) {
        round_trip("holder proof", &h)?;
        let with_nonce = HolderProof { nonce: Some(n), ..h.clone() };
        round_trip("holder proof", &with_nonce)?;
        let without_nonce = HolderProof { nonce: None, ..h };
        let bytes = round_trip("holder proof", &without_nonce)?;
        // [time, null, signature]
        let mut expected = vec![0x83];
        expected.extend(to_cbor(&without_nonce.time).unwrap());
        expected.push(0xf6);
        expected.extend(to_cbor(&without_nonce.signature).unwrap());
        prop_assert_eq!(bytes, expected);
    }

    #[test]
    fn offer_redemption_round_trip(
        holder_key in public_key(),
        signature in signature(),
        bad_len in (0usize..100).prop_filter("not 32", |n| *n != 32),
    ) {
        let r = OfferRedemption { holder_key, signature };
        let bytes = round_trip("offer redemption", &r)?;
        prop_assert_eq!(r.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(OfferRedemption::from_bytes(&bytes).unwrap(), r.clone());
        // [bstr .size 32, bstr .size 64]
        let mut expected = vec![0x82, 0x58, 32];
        expected.extend_from_slice(&r.holder_key.0);
        expected.extend_from_slice(&[0x58, 64]);
        expected.extend_from_slice(&r.signature.0);
        prop_assert_eq!(&bytes, &expected);
        // A key of another length is refused.
        let wrong = to_cbor(&(ByteBuf::from(vec![1u8; bad_len]), r.signature)).unwrap();
        prop_assert!(OfferRedemption::from_bytes(&wrong).is_err());
        // Every strict prefix is refused.
        for len in 0..bytes.len() {
            prop_assert!(OfferRedemption::from_bytes(&bytes[..len]).is_err());
        }
    }

    #[test]
    fn holder_signed_data_round_trip(h in holder_signed_data()) {
        let bytes = round_trip("holder signed data", &h)?;
        prop_assert_eq!(h.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn presentation_round_trip((items, p) in presentation_parts()) {
        let bytes = round_trip("presentation", &p)?;
        prop_assert_eq!(p.to_bytes().unwrap(), bytes.clone());
        let back = Presentation::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.decode_items().unwrap(), items);
        prop_assert_eq!(back.items_hash(), p.items_hash());
    }

    #[test]
    fn presentation_qr_round_trip(p in presentation()) {
        let text = p.to_qr_string().unwrap();
        prop_assert!(text.starts_with(PREFIX_RAW) || text.starts_with(PREFIX_ZLIB));
        prop_assert!(text.len() <= MAX_QR_CHARS, "test presentations fit one QR code");
        prop_assert_eq!(&Presentation::from_qr_string(&text).unwrap(), &p);
        // A scanner's line ending is ignored.
        prop_assert_eq!(&Presentation::from_qr_string(&format!("{text}\r\n")).unwrap(), &p);
        prop_assert_eq!(Presentation::from_qr_string(&text).unwrap().to_qr_string().unwrap(), text);
    }

    #[test]
    fn presentation_item_bounds(items in vec(presented_certificate(), 9..12), holder in option::of(holder_proof())) {
        let empty = Presentation {
            version: PRESENTATION_VERSION,
            items: ByteBuf::from(Presentation::encode_items(&[]).unwrap()),
            holder: holder.clone(),
        };
        prop_assert!(empty.decode_items().is_err());
        let too_many = Presentation {
            version: PRESENTATION_VERSION,
            items: ByteBuf::from(Presentation::encode_items(&items).unwrap()),
            holder,
        };
        prop_assert!(too_many.decode_items().is_err());
    }

    #[test]
    fn presentation_other_versions_are_unsupported(p in presentation(), version in 0u64..65_536) {
        prop_assume!(version != PRESENTATION_VERSION);
        let bytes = Presentation { version, ..p }.to_bytes().unwrap();
        let is_unsupported = matches!(
            Presentation::from_bytes(&bytes),
            Err(SchemaError::UnsupportedVersion { found, .. }) if found == version
        );
        prop_assert!(is_unsupported);
    }

    // --- 1. round trips: ledger ---------------------------------------------------------

    #[test]
    fn anchor_batch_body_round_trip(b in anchor_batch_body()) {
        round_trip("anchor batch body", &b)?;
    }

    #[test]
    fn anchor_batch_tx_round_trip(t in anchor_batch_tx()) {
        round_trip("anchor batch tx", &t)?;
    }

    #[test]
    fn revocation_entry_round_trip(e in revocation_entry(), bad_code in 6u8..=255) {
        let bytes = round_trip("revocation entry", &e)?;
        prop_assert_eq!(RevocationReason::from_code(e.reason.code()), Some(e.reason));
        // The reason is the last byte (codes are below 24); any other code is refused.
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        prop_assert_eq!(bad[last], e.reason.code());
        bad.truncate(last);
        bad.extend(to_cbor(&bad_code).unwrap());
        prop_assert!(from_cbor::<RevocationEntry>("revocation entry", &bad).is_err());
    }

    #[test]
    fn revocation_body_round_trip(b in revocation_body()) {
        round_trip("revocation body", &b)?;
    }

    #[test]
    fn revocation_tx_round_trip(t in revocation_tx()) {
        round_trip("revocation tx", &t)?;
    }

    #[test]
    fn transaction_round_trip(t in transaction()) {
        let bytes = round_trip("transaction", &t)?;
        prop_assert_eq!(t.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(&Transaction::from_bytes(&bytes).unwrap(), &t);
        let ty = match &t {
            Transaction::AnchorBatch(_) => 0,
            Transaction::Revocation(_) => 1,
            Transaction::Governance(_) => 2,
        };
        prop_assert_eq!(t.type_code(), ty);
        prop_assert_eq!(&bytes[..2], &[0x82, ty][..]);
        // Another type number is refused: the bodies have different shapes.
        for other in [0u8, 1, 2, 3, 23] {
            if other != ty {
                let mut swapped = bytes.clone();
                swapped[1] = other;
                prop_assert!(Transaction::from_bytes(&swapped).is_err());
            }
        }
    }

    #[test]
    fn governance_round_trip(t in governance_tx(), bad_code in 8u8..=23) {
        round_trip("governance action", &t.body.action)?;
        round_trip("approval", &t.approvals)?;
        let body = round_trip("governance body", &t.body)?;
        prop_assert_eq!(t.body.to_bytes().unwrap(), body.clone());
        round_trip("governance tx", &t)?;
        // [chain_id, seq, [type, action]]
        prop_assert_eq!(body[0], 0x83);
        let action = to_cbor(&t.body.action).unwrap();
        prop_assert!(body.ends_with(&action));
        prop_assert_eq!(&action[..2], &[0x82, t.body.action.type_code()][..]);
        // An unknown action type is refused.
        let mut unknown = action.clone();
        unknown[1] = bad_code;
        prop_assert!(from_cbor::<GovernanceAction>("governance action", &unknown).is_err());
    }

    #[test]
    fn batch_record_round_trip(r in batch_record()) {
        let bytes = round_trip("batch record", &r)?;
        prop_assert_eq!(r.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn block_header_round_trip(h in block_header()) {
        let bytes = round_trip("block header", &h)?;
        prop_assert_eq!(h.to_bytes().unwrap(), bytes.clone());
        let back = BlockHeader::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back.time(), UnixTime(h.time_ms / 1000));
        prop_assert_eq!(back, h);
    }

    #[test]
    fn vote_round_trip(v in vote()) {
        round_trip("vote", &v)?;
    }

    #[test]
    fn checkpoint_round_trip(c in checkpoint()) {
        let bytes = round_trip("checkpoint", &c)?;
        prop_assert_eq!(c.to_bytes().unwrap(), bytes.clone());
        let back = Checkpoint::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back.decode_header().unwrap().to_bytes().unwrap(), c.header.to_vec());
        prop_assert_eq!(back, c);
    }

    #[test]
    fn revocation_delta_round_trip(d in revocation_delta()) {
        let bytes = round_trip("revocation delta", &d)?;
        prop_assert_eq!(&RevocationDelta::from_bytes(&bytes).unwrap(), &d);
        // [since, entries, checkpoint, validators (, changes)]
        prop_assert_eq!(bytes[0], if d.changes.is_empty() { 0x84 } else { 0x85 });
    }

    #[test]
    fn anchor_receipt_round_trip(r in anchor_receipt()) {
        let bytes = round_trip("anchor receipt", &r)?;
        prop_assert_eq!(r.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(&AnchorReceipt::from_bytes(&bytes).unwrap(), &r);
        // [record, batch_seq, path, checkpoint, validators (, changes)]
        prop_assert_eq!(bytes[0], if r.changes.is_empty() { 0x85 } else { 0x86 });
        prop_assert_eq!(&bytes[1..][..r.record.to_bytes().unwrap().len()], &r.record.to_bytes().unwrap()[..]);
    }

    #[test]
    fn validator_changes_are_left_out_when_empty_and_never_written_empty(r in anchor_receipt()) {
        let without = AnchorReceipt { changes: Vec::new(), ..r };
        let bytes = without.to_bytes().unwrap();
        prop_assert_eq!(bytes[0], 0x85);
        // The same receipt with an empty list written out: a second encoding, refused.
        let Value::Array(mut items) = serde_cbor::from_slice::<Value>(&bytes).unwrap() else {
            return Err(TestCaseError::fail("a receipt is an array"));
        };
        items.push(Value::Array(Vec::new()));
        let padded = serde_cbor::to_vec(&Value::Array(items)).unwrap();
        prop_assert!(AnchorReceipt::from_bytes(&padded).is_err());
    }

    #[test]
    fn validator_info_round_trip(v in validator_info()) {
        round_trip("validator info", &v)?;
    }

    #[test]
    fn issuer_key_record_round_trip(k in issuer_key_record()) {
        round_trip("issuer key record", &k)?;
    }

    #[test]
    fn issuer_record_round_trip(r in issuer_record()) {
        round_trip("issuer record", &r)?;
    }

    #[test]
    fn kind_record_round_trip(k in kind_record()) {
        round_trip("kind record", &k)?;
    }

    #[test]
    fn registry_round_trip(r in registry()) {
        round_trip("registry", &r)?;
        for issuer in &r.issuers {
            prop_assert_eq!(&r.issuer(&issuer.issuer).unwrap().issuer, &issuer.issuer);
        }
    }

    #[test]
    fn status_list_round_trip(s in status_list()) {
        round_trip("status list", &s)?;
    }

    #[test]
    fn revocation_snapshot_round_trip(s in revocation_snapshot()) {
        round_trip("revocation snapshot", &s)?;
    }

    #[test]
    fn trust_bundle_round_trip(t in trust_bundle(), other_version in any::<u64>()) {
        let bytes = round_trip("trust bundle", &t)?;
        prop_assert_eq!(t.to_bytes().unwrap(), bytes.clone());
        prop_assert_eq!(&TrustBundle::from_bytes(&bytes).unwrap(), &t);
        prop_assume!(other_version != TRUST_BUNDLE_VERSION);
        let other = TrustBundle { version: other_version, ..t }.to_bytes().unwrap();
        let is_unsupported = matches!(
            TrustBundle::from_bytes(&other),
            Err(SchemaError::UnsupportedVersion { found, .. }) if found == other_version
        );
        prop_assert!(is_unsupported);
    }

    // --- 2. hostile input ----------------------------------------------------------------

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        decode_everything(&bytes)?;
    }

    #[test]
    fn arbitrary_cbor_never_panics(value in cbor_value()) {
        let bytes = serde_cbor::to_vec(&value).unwrap();
        decode_everything(&bytes)?;
    }

    #[test]
    fn arbitrary_qr_text_never_panics(body in "[0-9A-Z $%*+./:-]{0,200}", z in any::<bool>()) {
        let prefix = if z { PREFIX_ZLIB } else { PREFIX_RAW };
        if let Ok(p) = Presentation::from_qr_string(&format!("{prefix}{body}")) {
            prop_assert_eq!(p.version, PRESENTATION_VERSION);
        }
    }

    #[test]
    fn mutated_presentation(p in presentation(), m in mutation()) {
        check_mutation("Presentation", decode_presentation, &p.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_presentation_items(p in presentation(), m in mutation()) {
        check_mutation("presentation items", decode_items, &p.items, &m)?;
    }

    #[test]
    fn mutated_certificate((_, _, bytes) in certificate_parts(), m in mutation()) {
        check_mutation("Certificate", decode_certificate, &bytes, &m)?;
        check_mutation("CoseSign1", decode_cose, &bytes, &m)?;
    }

    #[test]
    fn mutated_certificate_claims(c in claims(), m in mutation()) {
        check_mutation("CertificateClaims", decode_claims, &c.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_cose_sign1(c in cose_sign1(), m in mutation()) {
        check_mutation("CoseSign1", decode_cose, &c.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_disclosure(d in disclosure(), m in mutation()) {
        check_mutation("Disclosure", decode_disclosure, &d.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_offer_redemption(k in public_key(), sig in signature(), m in mutation()) {
        let r = OfferRedemption { holder_key: k, signature: sig };
        check_mutation("OfferRedemption", decode_offer_redemption, &r.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_transaction(t in transaction(), m in mutation()) {
        check_mutation("Transaction", decode_transaction, &t.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_block_header(h in block_header(), m in mutation()) {
        check_mutation("BlockHeader", decode_header, &h.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_checkpoint(c in checkpoint(), m in mutation()) {
        check_mutation("Checkpoint", decode_checkpoint, &c.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_governance(t in governance_tx(), m in mutation()) {
        check_mutation("GovernanceTx", decode_strict::<GovernanceTx>, &to_cbor(&t).unwrap(), &m)?;
        check_mutation("GovernanceBody", decode_strict::<GovernanceBody>, &t.body.to_bytes().unwrap(), &m)?;
        check_mutation(
            "GovernanceAction",
            decode_strict::<GovernanceAction>,
            &to_cbor(&t.body.action).unwrap(),
            &m,
        )?;
    }

    #[test]
    fn mutated_anchor_receipt(r in anchor_receipt(), m in mutation()) {
        check_mutation("AnchorReceipt", decode_anchor_receipt, &r.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_trust_bundle(t in trust_bundle(), m in mutation()) {
        check_mutation("TrustBundle", decode_trust_bundle, &t.to_bytes().unwrap(), &m)?;
    }

    #[test]
    fn mutated_other_wire_types(
        values in (
            (holder_proof(), holder_signed_data(), presented_certificate(), anchor_proof()),
            (batch_record(), vote(), validator_info(), issuer_key_record()),
            (issuer_record(), kind_record(), registry(), status_list(), revocation_snapshot()),
        ),
        m in mutation(),
    ) {
        let ((hp, hs, pc, ap), (br, vo, vi, ik), (ir, kr, rg, sl, rs)) = values;
        let cases: [(&str, Decoder, Vec<u8>); 13] = [
            ("HolderProof", decode_strict::<HolderProof>, to_cbor(&hp).unwrap()),
            ("HolderSignedData", decode_strict::<HolderSignedData>, to_cbor(&hs).unwrap()),
            ("PresentedCertificate", decode_strict::<PresentedCertificate>, to_cbor(&pc).unwrap()),
            ("AnchorProof", decode_strict::<AnchorProof>, to_cbor(&ap).unwrap()),
            ("BatchRecord", decode_strict::<BatchRecord>, to_cbor(&br).unwrap()),
            ("Vote", decode_strict::<Vote>, to_cbor(&vo).unwrap()),
            ("ValidatorInfo", decode_strict::<ValidatorInfo>, to_cbor(&vi).unwrap()),
            ("IssuerKeyRecord", decode_strict::<IssuerKeyRecord>, to_cbor(&ik).unwrap()),
            ("IssuerRecord", decode_strict::<IssuerRecord>, to_cbor(&ir).unwrap()),
            ("KindRecord", decode_strict::<KindRecord>, to_cbor(&kr).unwrap()),
            ("Registry", decode_strict::<Registry>, to_cbor(&rg).unwrap()),
            ("StatusList", decode_strict::<StatusList>, to_cbor(&sl).unwrap()),
            ("RevocationSnapshot", decode_strict::<RevocationSnapshot>, to_cbor(&rs).unwrap()),
        ];
        for (name, decode, bytes) in &cases {
            check_mutation(name, *decode, bytes, &m)?;
        }
    }

    // --- 3. status lists ---------------------------------------------------------------------

    #[test]
    fn status_list_revokes_exactly_the_given_indexes(
        issuer in issuer_id(),
        revoked in btree_set(0u32..100_000, 0..64),
        probes in vec(0u32..100_100, 0..64),
    ) {
        let mut list = StatusList::new(issuer.clone());
        let indexes: Vec<StatusIndex> = revoked.iter().copied().map(StatusIndex).collect();
        prop_assert_eq!(list.revoke(&indexes).unwrap(), indexes.clone());
        // Revoking twice changes nothing and reports nothing new.
        let once = list.clone();
        prop_assert_eq!(list.revoke(&indexes).unwrap(), vec![]);
        prop_assert_eq!(&list, &once);
        prop_assert_eq!(list.revoked_count(), revoked.len() as u64);
        // Revoked one by one, in any order, it is the same list (one coding per set).
        let mut one_by_one = StatusList::new(issuer.clone());
        for &i in indexes.iter().rev() {
            one_by_one.revoke(&[i]).unwrap();
        }
        prop_assert_eq!(&one_by_one, &list);
        // Every index up to a little beyond the last, plus the probes.
        let covered = revoked.iter().next_back().map_or(16, |&max| max + 16);
        for i in (0..covered).chain(probes.iter().copied()).chain([u32::MAX]) {
            prop_assert_eq!(list.is_revoked(StatusIndex(i)), revoked.contains(&i), "index {}", i);
        }
        // The same through a snapshot, after a round trip.
        let snapshot = RevocationSnapshot { height: 1, lists: vec![list] };
        round_trip("revocation snapshot", &snapshot)?;
        let other = IssuerId::new(format!("{issuer}-other")).unwrap();
        for &i in revoked.iter().chain(probes.iter()) {
            prop_assert_eq!(snapshot.is_revoked(&issuer, StatusIndex(i)), revoked.contains(&i));
            prop_assert!(!snapshot.is_revoked(&other, StatusIndex(i)));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fixed cases.
// ---------------------------------------------------------------------------------------

#[test]
fn every_revocation_reason_round_trips() {
    for (code, reason) in RevocationReason::ALL.into_iter().enumerate() {
        assert_eq!(usize::from(reason.code()), code);
        let entry = RevocationEntry {
            index: StatusIndex(u32::MAX),
            reason,
        };
        let bytes = to_cbor(&entry).unwrap();
        assert_eq!(
            from_cbor::<RevocationEntry>("revocation entry", &bytes).unwrap(),
            entry
        );
        assert!(!reason.name().is_empty());
    }
    assert_eq!(RevocationReason::from_code(6), None);
}

#[test]
fn deeply_nested_input_is_an_error() {
    for opener in [0x81u8, 0xa1, 0xd2, 0x9f, 0x41] {
        let bytes = vec![opener; 4096];
        for (name, decode) in DECODERS {
            assert!(
                decode(&bytes).is_err(),
                "{name} accepted {opener:#x} x 4096"
            );
        }
    }
}

#[test]
fn empty_input_is_an_error() {
    for (name, decode) in DECODERS {
        assert!(decode(&[]).is_err(), "{name} accepted no bytes");
    }
}

/// An unknown version is reported as such whatever its encoded width, including versions
/// of 65 536 and more (4- and 8-byte integers).
#[test]
fn presentation_large_versions_are_unsupported() {
    // [65536, h'00', null]
    let bytes = [0x83, 0x1a, 0x00, 0x01, 0x00, 0x00, 0x41, 0x00, 0xf6];
    let result = Presentation::from_bytes(&bytes);
    assert!(
        matches!(
            result,
            Err(SchemaError::UnsupportedVersion { found: 65_536, .. })
        ),
        "{result:?}"
    );
}

#[test]
fn extreme_claims_round_trip() {
    let claims = CertificateClaims {
        issuer: IssuerId::new("0").unwrap(),
        expires: UnixTime(u64::MAX),
        valid_from: UnixTime(0),
        issued_at: UnixTime(1),
        id: CertificateId([0; 16]),
        holder: PublicKeyBytes([0; 32]),
        kind: KindId::new("a.b-c").unwrap(),
        status_index: StatusIndex(0),
        digests: BTreeMap::from([(0, FieldDigest([1; 16])), (u16::MAX, FieldDigest([2; 16]))]),
    };
    let bytes = claims.to_bytes().unwrap();
    assert_eq!(CertificateClaims::from_bytes(&bytes).unwrap(), claims);
}
