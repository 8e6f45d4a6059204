//! What the fuzz targets share: a fixed test world (written by `examples/seed.rs` into
//! `fixtures/`, built into every target so that a run needs no files) and a second
//! reading of CBOR for the differential checks.
//!
//! The world is the one `ecert-testkit` builds for the tests: a province of four
//! departments, an ID card and a no-criminal-record certificate issued to one wallet and
//! anchored, a third certificate revoked, the same again as one-time copies (format 2:
//! three copies each, every copy of the third revoked), and a counter's trust store
//! synced at `now`.
//! The seed corpora hold presentations, packages, receipts and deltas of this world, so
//! that mutations start from inputs that pass every check.

use std::sync::OnceLock;

use ecert_ledger_node::state::{LedgerSnapshot, LedgerState};
use ecert_schemas::codec::from_cbor_bounded;
use ecert_schemas::ledger::{TrustBundle, MAX_TRUST_BUNDLE_BYTES};
use ecert_schemas::{KindRegistry, Nonce, UnixTime};
use ecert_verifier::{TrustAnchor, TrustStore};
use ecert_wallet::HolderKey;
use zeroize::Zeroizing;

/// The passphrase of every sealed file in the corpora.
pub const PASSPHRASE: &str = "fuzzing passphrase";

/// The offer code the offer-redemption seeds are signed for.
pub const OFFER_CODE: &str = "K7Q2-99XF-M3PA-77CD";

const WORLD: &str = include_str!("../fixtures/world.toml");
const ANCHOR: &str = include_str!("../fixtures/anchor.toml");
const BUNDLE: &[u8] = include_bytes!("../fixtures/bundle.cbor");
const BUNDLE_BEFORE: &[u8] = include_bytes!("../fixtures/bundle-before.cbor");
const LEDGER: &[u8] = include_bytes!("../fixtures/ledger.cbor");

#[derive(serde::Deserialize)]
struct WorldFile {
    now: u64,
    wallet_seed: String,
    nonce: String,
}

/// The fixed world, loaded once per process.
pub struct World {
    /// The counter's "now": presentations in the corpora were signed just before it.
    pub now: UnixTime,
    /// The nonce the nonce-mode presentations in the corpora answer.
    pub nonce: Nonce,
    /// The trust anchor every counter and wallet of the world is set up with.
    pub anchor: TrustAnchor,
    /// The trust bundle a node exports at `now`.
    pub bundle: TrustBundle,
    /// The counter's trust store, checked from the bundle.
    pub store: TrustStore,
    /// A counter's store synced one block earlier (before the revocation): what the
    /// incremental-sync seeds apply to.
    pub store_before: TrustStore,
    /// The built-in certificate kinds.
    pub kinds: KindRegistry,
    /// The ledger state at `now` (what a node checks transactions against).
    pub ledger: LedgerState,
    /// The seed of the wallet the world's certificates are issued to.
    pub wallet_seed: Zeroizing<[u8; 32]>,
}

impl World {
    /// The wallet's key.
    pub fn wallet(&self) -> HolderKey {
        HolderKey::from_seed(&self.wallet_seed)
    }

    /// The passphrase of the corpora's sealed files.
    pub fn passphrase() -> Zeroizing<String> {
        Zeroizing::new(PASSPHRASE.to_owned())
    }
}

/// The world. Panics if the fixtures are unreadable (the wire formats changed since they
/// were written): a stale build of the fuzz targets, not a finding.
pub fn world() -> &'static World {
    static WORLD_CELL: OnceLock<World> = OnceLock::new();
    WORLD_CELL.get_or_init(|| {
        fn stale<T, E: std::fmt::Debug>(what: &str, r: Result<T, E>) -> T {
            r.unwrap_or_else(|e| {
                panic!("fixture {what} does not load ({e:?}): run scripts/fuzz seed, then build")
            })
        }
        let file: WorldFile = stale("world.toml", toml::from_str(WORLD));
        let anchor = stale(
            "anchor.toml",
            ecert_verifier::anchor_file::parse_anchor(ANCHOR),
        );
        let bundle = stale("bundle.cbor", TrustBundle::from_bytes(BUNDLE));
        let kinds = stale("built-in kinds", KindRegistry::builtin());
        let store = stale(
            "bundle.cbor against anchor.toml",
            TrustStore::from_bundle(bundle.clone(), &anchor, kinds.clone()),
        );
        let store_before = stale(
            "bundle-before.cbor against anchor.toml",
            TrustBundle::from_bytes(BUNDLE_BEFORE)
                .and_then(|b| Ok(TrustStore::from_bundle(b, &anchor, kinds.clone())))
                .map_err(|e| format!("{e:?}"))
                .and_then(|r| r.map_err(|e| format!("{e:?}"))),
        );
        let snapshot: LedgerSnapshot = stale(
            "ledger.cbor",
            from_cbor_bounded("ledger snapshot", LEDGER, MAX_TRUST_BUNDLE_BYTES),
        );
        let ledger = stale("ledger.cbor", LedgerState::from_snapshot(snapshot));
        let mut seed = Zeroizing::new([0u8; 32]);
        stale(
            "wallet seed",
            hex::decode_to_slice(&file.wallet_seed, seed.as_mut_slice()),
        );
        World {
            now: UnixTime(file.now),
            nonce: stale("nonce", Nonce::from_hex(&file.nonce)),
            anchor,
            bundle,
            store,
            store_before,
            kinds,
            ledger,
            wallet_seed: seed,
        }
    })
}

/// A fuzz target for one wire type read from outside: the input is decoded strictly with
/// the type's `from_bytes`, a value that decodes must encode back to the same bytes
/// (`to_bytes`: one encoding per value), and then `$body` checks it further.
///
/// ```ignore
/// ecert_fuzz::decoded_target!(|receipt: AnchorReceipt| {
///     let _ = verify_anchor_receipt(&receipt, &ecert_fuzz::world().anchor);
/// });
/// ```
#[macro_export]
macro_rules! decoded_target {
    (|$value:ident: $ty:ty| $body:block) => {
        ::libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            let Ok($value) = <$ty>::from_bytes(data) else {
                return;
            };
            assert_eq!($value.to_bytes().as_deref(), Ok(data));
            $body
        });
    };
}

/// Checks, with a second CBOR implementation (`ciborium`), that bytes the strict codec
/// accepted are deterministically encoded CBOR as `docs/protocol.md` §2.1 requires: one
/// complete item, re-encoded identically (shortest heads, definite lengths), every map's
/// keys in strictly ascending bytewise order of their encodings (so no duplicates), no tag
/// but 18 at the head of a COSE_Sign1, no floats and no booleans. Panics if not: the
/// codec promised one encoding per value.
pub fn assert_deterministic_cbor(what: &str, bytes: &[u8]) {
    let value = read_and_reencode(what, bytes);
    let value = match value {
        ciborium::Value::Tag(18, inner) => *inner,
        other => other,
    };
    assert_protocol_cbor(what, &value);
}

/// [`assert_deterministic_cbor`] for a format-2 certificate package, whose fields carry
/// their values inline (`PackageField = [field, field-value / null]`): a derived fact's
/// value there is a CBOR boolean, as a field value may be (`docs/protocol.md` §3.3); every
/// other boolean, float or tag is refused as anywhere else.
pub fn assert_copy_package_cbor(what: &str, bytes: &[u8]) {
    use ciborium::Value;
    let mut value = read_and_reencode(what, bytes);
    if let Value::Array(members) = &mut value {
        if let Some(Value::Array(fields)) = members.get_mut(8) {
            for field in fields.iter_mut() {
                if let Value::Array(pair) = field {
                    if let [_, v @ Value::Bool(_)] = pair.as_mut_slice() {
                        *v = Value::Null;
                    }
                }
            }
        }
    }
    assert_protocol_cbor(what, &value);
}

/// The first half of [`assert_deterministic_cbor`], for structures outside the protocol
/// (a node's Raft snapshot is serde's map of named fields, in declaration order): one
/// complete item in its shortest, definite form.
pub fn assert_shortest_cbor(what: &str, bytes: &[u8]) {
    read_and_reencode(what, bytes);
}

fn read_and_reencode(what: &str, bytes: &[u8]) -> ciborium::Value {
    let value: ciborium::Value = match ciborium::from_reader(bytes) {
        Ok(v) => v,
        Err(e) => panic!("{what}: accepted by the codec, unreadable as CBOR by ciborium: {e}"),
    };
    let mut again = Vec::new();
    ciborium::into_writer(&value, &mut again).expect("ciborium encodes its own value");
    assert_eq!(
        again, bytes,
        "{what}: accepted by the codec but not in the shortest, definite form"
    );
    value
}

fn assert_protocol_cbor(what: &str, value: &ciborium::Value) {
    use ciborium::Value;
    match value {
        Value::Array(items) => items.iter().for_each(|v| assert_protocol_cbor(what, v)),
        Value::Tag(tag, _) => panic!("{what}: accepted a CBOR tag {tag} inside a structure"),
        Value::Float(_) | Value::Bool(_) => panic!("{what}: accepted a float or a boolean"),
        Value::Map(entries) => {
            let keys: Vec<Vec<u8>> = entries
                .iter()
                .map(|(k, _)| {
                    let mut out = Vec::new();
                    ciborium::into_writer(k, &mut out).expect("encode key");
                    out
                })
                .collect();
            assert!(
                keys.windows(2).all(|w| w[0] < w[1]),
                "{what}: accepted a map whose keys are not in strictly ascending order"
            );
            for (k, v) in entries {
                assert_protocol_cbor(what, k);
                assert_protocol_cbor(what, v);
            }
        }
        _ => {}
    }
}
