//! Writes the fuzz targets' fixtures (`fixtures/`) and seed corpora (`corpus/TARGET/`)
//! from a test world built with `ecert-testkit`, as the workspace's tests build theirs.
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example seed
//! ```
//!
//! The world is the testkit's (`ecert_testkit::world`: its province, sample citizen and
//! times), built from a seeded random source, so that the same code writes the same
//! files: they change only when a wire format does. The fixtures and the seeds that pass
//! every check against them are written together (seeds are named `seed-*` and replaced;
//! what fuzzing added to a corpus is kept).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use ecert_ledger_node::genesis::Genesis;
use ecert_ledger_node::governance::{approve, assemble_governance};
use ecert_schemas::codec::{qr::decode_qr, to_cbor, ByteBuf};
use ecert_schemas::copy::{AnyPackage, CopyPackage, PresentationV2};
use ecert_schemas::ledger::{
    GovernanceAction, GovernanceBody, GrantKind, RevocationEntry, RevocationReason, Transaction,
    TrustBundle,
};
use ecert_schemas::{
    Certificate, CertificatePackage, FieldValue, IssuerId, KindId, Nonce, Presentation,
};
use ecert_schemas::{PublicKeyBytes, UnixTime};
use ecert_testkit::province::{Order, Province};
use ecert_testkit::world::{copy_status_indexes, status_index, FIXED_NOW};
use ecert_testkit::{sample, seeds, DAY, HOUR};
use ecert_verifier::anchor_file::anchor_to_toml;
use ecert_verifier::{verify_presentation, Policy, TrustStore};
use ecert_wallet::history::{Entry as HistoryEntry, History, Shown};
use ecert_wallet::{sealed, store, HolderKey, KdfParams, WalletContents};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroizing;

/// Where the seeds go: one folder per target, files `seed-NAME`.
struct Out {
    root: PathBuf,
}

impl Out {
    fn seed(&self, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.root.join("corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }

    /// A seed of `wire_roundtrip`: `bytes` behind the first byte that picks their type.
    fn wire(&self, name: &str, choice: u8, bytes: &[u8]) {
        self.seed("wire_roundtrip", name, prefixed(choice, bytes));
    }

    fn fixture(&self, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.root.join("fixtures");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
    }

    /// Removes the previous run's seeds (fuzzing's own finds stay).
    fn clear_seeds(&self) {
        let Ok(targets) = fs::read_dir(self.root.join("corpus")) else {
            return;
        };
        for target in targets.flatten() {
            for file in fs::read_dir(target.path()).into_iter().flatten().flatten() {
                if file.file_name().to_string_lossy().starts_with("seed-") {
                    fs::remove_file(file.path()).unwrap();
                }
            }
        }
    }
}

fn prefixed(prefix: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![prefix];
    out.extend_from_slice(bytes);
    out
}

fn cbor_value(value: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

/// The claims as the TOML and CSV files `ecert-issuer issue --claims` reads.
fn claims_toml(claims: &BTreeMap<String, FieldValue>) -> String {
    let mut table = toml::Table::new();
    for (k, v) in claims {
        let value = match v {
            FieldValue::Text(t) => toml::Value::String(t.clone()),
            FieldValue::TextList(l) => {
                toml::Value::Array(l.iter().cloned().map(toml::Value::String).collect())
            }
            FieldValue::Bytes(b) => toml::Value::String(hex::encode(b)),
            FieldValue::Bool(b) => toml::Value::Boolean(*b),
        };
        table.insert(k.clone(), value);
    }
    toml::to_string(&table).unwrap()
}

fn claims_csv(holder: &str, claims: &BTreeMap<String, FieldValue>) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let header: Vec<String> = std::iter::once("holder".to_owned())
        .chain(claims.keys().cloned())
        .collect();
    let row: Vec<String> = std::iter::once(holder.to_owned())
        .chain(claims.values().map(|v| match v {
            FieldValue::Text(t) => quote(t),
            FieldValue::TextList(l) => quote(&l.join(";")),
            FieldValue::Bytes(b) => hex::encode(b),
            FieldValue::Bool(b) => b.to_string(),
        }))
        .collect();
    format!(
        "{}\n{}\n{}\n",
        header.join(","),
        row.join(","),
        row.join(",")
    )
}

/// The testkit's world (`ecert_testkit::World`), from a seeded random source.
struct World {
    province: Province,
    wallet: HolderKey,
    holder: PublicKeyBytes,
    rng: ChaCha20Rng,
}

impl World {
    fn new(now: UnixTime) -> World {
        let mut rng = ChaCha20Rng::seed_from_u64(0x0ec3_f022);
        let province = Province::new("ecert-test", now.minus(30 * DAY), &mut rng).unwrap();
        let wallet = HolderKey::generate(&mut rng);
        let holder = wallet.public_key();
        World {
            province,
            wallet,
            holder,
            rng,
        }
    }

    /// Issued by `dept` at `at` and anchored alone in a certified block at `at`.
    fn issue(&mut self, dept: &str, order: Order, at: UnixTime) -> CertificatePackage {
        let issued = self
            .province
            .issue(dept, self.holder, &[order], at, &mut self.rng)
            .unwrap();
        self.province.anchor(dept, issued, at).unwrap().remove(0)
    }

    /// `orders` issued by `dept` at `at` as `copies` one-time copies each (format 2),
    /// anchored together in one batch in a certified block at `at`.
    fn issue_copies(
        &mut self,
        dept: &str,
        orders: &[Order],
        copies: u16,
        at: UnixTime,
    ) -> Vec<CopyPackage> {
        let issued = self
            .province
            .issue_copies(dept, self.holder, orders, copies, at, &mut self.rng)
            .unwrap();
        self.province
            .anchor_copies(dept, issued, at, &mut self.rng)
            .unwrap()
    }

    /// Revokes `package` and every copy of each of `copies` (all issued by `dept`) in one
    /// transaction.
    fn revoke(
        &mut self,
        dept: &str,
        package: &CertificatePackage,
        copies: &[&CopyPackage],
        at: UnixTime,
    ) {
        let mut indexes = vec![status_index(package)];
        indexes.extend(copies.iter().flat_map(|p| copy_status_indexes(p)));
        self.province
            .revoke(dept, &indexes, RevocationReason::Withdrawn, at)
            .unwrap();
    }

    fn show_all(
        &self,
        packages: &[(&CertificatePackage, &[&str])],
        at: UnixTime,
        nonce: Option<Nonce>,
    ) -> String {
        seeds::show_all(&self.wallet, &self.province.kinds, packages, at, nonce)
    }

    fn show(&self, package: &CertificatePackage, fields: &[&str], at: UnixTime) -> String {
        self.show_all(&[(package, fields)], at, None)
    }

    fn show_copies(
        &self,
        copies: &[(&CopyPackage, usize, &[&str])],
        at: UnixTime,
        nonce: Option<Nonce>,
    ) -> String {
        seeds::show_copies(&self.wallet, &self.province.kinds, copies, at, nonce)
    }

    fn anchor_toml(&self) -> String {
        anchor_to_toml(
            &self.province.trust_anchor().unwrap(),
            "the fuzz targets' test ledger",
        )
    }

    fn bundle_bytes(&self) -> Vec<u8> {
        self.province.trust_bundle().unwrap().to_bytes().unwrap()
    }
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf());
    let out = Out { root };
    out.clear_seeds();
    let now = FIXED_NOW;
    let signed_at = now.minus(5);
    let mut world = World::new(now);
    // As the testkit's world: an ID card and a no-criminal-record certificate anchored an
    // hour ago; and a third certificate, revoked half an hour ago.
    let id_card = world.issue("public-security", sample::id_card(now), now.minus(HOUR));
    let record = world.issue("justice", sample::no_criminal_record(now), now.minus(HOUR));
    let revoked = world.issue("public-security", sample::id_card(now), now.minus(HOUR));
    // Format 2: an ID card and a second one (revoked below) as three one-time copies each
    // in one batch, and a no-criminal-record certificate's copies in a batch of their own.
    let [id_copies, revoked_copies] = <[CopyPackage; 2]>::try_from(world.issue_copies(
        "public-security",
        &[sample::id_card(now), sample::id_card(now)],
        3,
        now.minus(HOUR),
    ))
    .unwrap();
    let record_copies = world
        .issue_copies(
            "justice",
            &[sample::no_criminal_record(now)],
            3,
            now.minus(HOUR),
        )
        .remove(0);
    let bundle_before = world.bundle_bytes();
    let height_before = world.province.ledger().height();
    world.revoke(
        "public-security",
        &revoked,
        &[&revoked_copies],
        now.minus(HOUR / 2),
    );

    // Fixtures.
    let nonce = Nonce::new(vec![0x4e; 16]).unwrap();
    let wallet = HolderKey::from_seed(&world.wallet.seed());
    out.fixture(
        "world.toml",
        format!(
            "# Written by examples/seed.rs with the seed corpora: regenerate both together.\n\
             now = {}\nwallet_seed = \"{}\"\nnonce = \"{}\"\n",
            now.secs(),
            hex::encode(wallet.seed().as_slice()),
            nonce.to_hex()
        ),
    );
    out.fixture("anchor.toml", world.anchor_toml());
    let bundle = world.bundle_bytes();
    out.fixture("bundle.cbor", &bundle);
    out.fixture("bundle-before.cbor", &bundle_before);
    let ledger = world.province.ledger().clone();
    out.fixture("ledger.cbor", to_cbor(&ledger.snapshot()).unwrap());

    // Presentations, as QR strings and as CBOR.
    let qrs = [
        (
            "id-name",
            world.show(&id_card, &["name", "id_number"], signed_at),
        ),
        (
            "id-all",
            world.show(
                &id_card,
                &[
                    "name",
                    "sex",
                    "ethnicity",
                    "birth_date",
                    "address",
                    "id_number",
                    "issuing_authority",
                    "portrait_digest",
                ],
                signed_at,
            ),
        ),
        (
            "record",
            world.show(&record, &["name", "result", "checked_through"], signed_at),
        ),
        (
            "two-nonce",
            world.show_all(
                &[(&id_card, &["name"]), (&record, &["result"])],
                signed_at,
                Some(nonce.clone()),
            ),
        ),
        ("revoked", world.show(&revoked, &["name"], signed_at)),
        ("stale", world.show(&id_card, &["name"], now.minus(HOUR))),
    ];
    // The seeds pass every check a counter makes (but the two made to fail).
    let store = world.province.sync_counter().unwrap();
    for (name, qr) in &qrs {
        let policy = Policy {
            expected_nonce: name.ends_with("nonce").then(|| nonce.clone()),
            ..Policy::default()
        };
        let verdict = verify_presentation(qr, &store, now, &policy);
        assert_eq!(
            verdict.is_ok(),
            !["revoked", "stale"].contains(name),
            "{name}: {verdict:?}"
        );
        out.seed("qr_verify", name, qr);
        let cbor = decode_qr(qr).unwrap();
        out.seed("presentation", name, &cbor);
        out.wire(&format!("presentation-{name}"), 3, &cbor);
        let items = Presentation::from_bytes(&cbor).unwrap().items;
        out.wire(&format!("items-{name}"), 4, &items);
        out.seed(
            "base45_diff",
            name,
            qr.trim_start_matches("EC1R:").trim_start_matches("EC1Z:"),
        );
    }

    // Format-2 presentations (one-time copies), as QR strings and as CBOR.
    let all_id_fields: &[&str] = &[
        "name",
        "sex",
        "ethnicity",
        "birth_date",
        "address",
        "id_number",
        "issuing_authority",
        "portrait_digest",
        "age_over_18",
        "age_over_60",
    ];
    let copy_qrs = [
        (
            "v2-id-name",
            world.show_copies(&[(&id_copies, 0, &["name", "id_number"])], signed_at, None),
        ),
        (
            "v2-id-all",
            world.show_copies(&[(&id_copies, 1, all_id_fields)], signed_at, None),
        ),
        (
            "v2-record",
            world.show_copies(
                &[(&record_copies, 0, &["name", "result", "checked_through"])],
                signed_at,
                None,
            ),
        ),
        (
            "v2-none",
            world.show_copies(&[(&record_copies, 1, &[])], signed_at, None),
        ),
        (
            "v2-two-nonce",
            world.show_copies(
                &[(&id_copies, 2, &["name"]), (&record_copies, 2, &["result"])],
                signed_at,
                Some(nonce.clone()),
            ),
        ),
        (
            "v2-revoked",
            world.show_copies(&[(&revoked_copies, 0, &["name"])], signed_at, None),
        ),
        (
            "v2-stale",
            world.show_copies(&[(&id_copies, 0, &["name"])], now.minus(HOUR), None),
        ),
    ];
    for (name, qr) in &copy_qrs {
        let policy = Policy {
            expected_nonce: name.ends_with("nonce").then(|| nonce.clone()),
            ..Policy::default()
        };
        let verdict = verify_presentation(qr, &store, now, &policy);
        assert_eq!(
            verdict.is_ok(),
            !["v2-revoked", "v2-stale"].contains(name),
            "{name}: {verdict:?}"
        );
        out.seed("qr_verify", name, qr);
        let cbor = decode_qr(qr).unwrap();
        out.seed("presentation", name, &cbor);
        out.wire(&format!("presentation-{name}"), 16, &cbor);
        let presentation = PresentationV2::from_bytes(&cbor).unwrap();
        out.wire(&format!("items-{name}"), 17, &presentation.items);
        out.wire(
            &format!("holder-proof-{name}"),
            19,
            &to_cbor(&presentation.holder).unwrap(),
        );
        out.seed(
            "base45_diff",
            name,
            qr.trim_start_matches("EC1R:").trim_start_matches("EC1Z:"),
        );
    }
    let copy_packages: [(&str, &CopyPackage); 3] = [
        ("v2-id-card", &id_copies),
        ("v2-record", &record_copies),
        ("v2-revoked", &revoked_copies),
    ];
    for (name, package) in copy_packages {
        let bytes = package.to_bytes().unwrap();
        assert_eq!(CopyPackage::from_bytes(&bytes).as_ref(), Ok(package));
        out.seed("package", name, &bytes);
        out.wire(&format!("package-{name}"), 18, &bytes);
    }

    // Packages and certificates.
    let packages: [(&str, &CertificatePackage); 3] = [
        ("id-card", &id_card),
        ("record", &record),
        ("revoked", &revoked),
    ];
    for (name, package) in packages {
        let bytes = package.to_bytes().unwrap();
        ecert_wallet::receive::check_package(&bytes).unwrap();
        out.seed("package", name, &bytes);
        out.wire(&format!("package-{name}"), 2, &bytes);
        out.seed("cose_diff", name, &package.certificate);
        out.wire(&format!("cose-{name}"), 12, &package.certificate);
        let certificate = Certificate::from_bytes(&package.certificate).unwrap();
        out.wire(&format!("claims-{name}"), 0, &certificate.cose.payload);
        if let Some(d) = package.disclosures.first() {
            out.wire(&format!("disclosure-{name}"), 1, d);
        }
    }

    // Trust bundles, checkpoints, receipts, deltas.
    out.seed("trust_bundle", "now", &bundle);
    out.seed("trust_bundle", "before-revocation", &bundle_before);
    out.wire("bundle", 11, &bundle);
    let checkpoint = world.province.checkpoint().unwrap().clone();
    let anchor = world.province.trust_anchor().unwrap();
    let checkpoint_bytes = checkpoint.to_bytes().unwrap();
    out.wire("checkpoint", 8, &checkpoint_bytes);
    out.wire("header", 7, &checkpoint.header);
    out.wire(
        "checkpoint-page",
        14,
        &to_cbor(&vec![ByteBuf::from(checkpoint_bytes.clone())]).unwrap(),
    );
    out.wire("registry", 13, &to_cbor(ledger.registry()).unwrap());
    out.wire("snapshot", 15, &to_cbor(&ledger.snapshot()).unwrap());
    for seq in 0..ledger.anchors().len() as u64 {
        let receipt = ledger
            .anchor_receipt(seq, &checkpoint, Vec::new())
            .unwrap()
            .unwrap();
        ecert_verifier::verify_anchor_receipt(&receipt, &anchor).unwrap();
        let bytes = receipt.to_bytes().unwrap();
        out.seed("anchor_receipt", &format!("batch-{seq}"), &bytes);
        out.wire(&format!("receipt-{seq}"), 9, &bytes);
    }
    let genesis_revocations = ecert_schemas::ledger::RevocationSnapshot {
        height: 0,
        lists: Vec::new(),
    };
    for since in [0, height_before] {
        let delta = ledger
            .revocation_delta(since, &checkpoint, Vec::new())
            .unwrap()
            .unwrap();
        if since == 0 {
            ecert_verifier::verify_revocation_delta(&genesis_revocations, &delta, &anchor).unwrap();
        }
        let bytes = delta.to_bytes().unwrap();
        out.seed("revocation_delta", &format!("since-{since}"), &bytes);
        out.wire(&format!("delta-{since}"), 10, &bytes);
    }

    // Incremental sync: from the store a block older (the revocation) and from the current
    // one (nothing new).
    let kinds = world.province.kinds.clone();
    let anchor_store = |bytes: &[u8]| {
        TrustStore::from_bundle(
            TrustBundle::from_bytes(bytes).unwrap(),
            &anchor,
            kinds.clone(),
        )
        .unwrap()
    };
    for (name, held) in [
        ("since-before", anchor_store(&bundle_before)),
        ("since-now", anchor_store(&bundle)),
    ] {
        let update = ledger
            .trust_update(held.header(), checkpoint.clone(), Vec::new())
            .unwrap();
        held.apply_update(&update, &anchor).unwrap();
        out.seed("trust_update", name, update.to_bytes().unwrap());
    }

    // Federation: a national trust list naming the world's ledger, approved by three of
    // the four national keys (the world's validator keys stand in for them), and a
    // national anchor file.
    {
        use ecert_schemas::federation::{
            NationalAnchor, NationalTrustList, ProvinceEntry, TrustListBody, TRUST_LIST_VERSION,
        };
        let keys = world.province.validator_keys();
        let body = TrustListBody {
            version: TRUST_LIST_VERSION,
            federation: ecert_schemas::ChainId::new("ecert-fuzz-national").unwrap(),
            seq: 1,
            issued_at: now.minus(HOUR),
            expires: now.plus(30 * 24 * HOUR),
            provinces: vec![ProvinceEntry {
                name: "Fuzz province".into(),
                chain_id: anchor.chain_id.clone(),
                validators_hash: anchor.validators_hash,
                kinds: kinds_of(&world),
            }],
        };
        let approvals = (0u16..3)
            .map(|i| {
                ecert_verifier::federation::approve_trust_list(&keys[usize::from(i)], i, &body)
                    .unwrap()
            })
            .collect();
        let list = NationalTrustList { body, approvals };
        let national = NationalAnchor {
            federation: list.body.federation.clone(),
            keys: keys
                .iter()
                .map(ecert_verifier::crypto::public_key)
                .collect(),
        };
        ecert_verifier::federation::verify_trust_list(&list, &national, now).unwrap();
        out.seed("trust_list", "list", prefixed(0, &list.to_bytes().unwrap()));
        let toml = ecert_verifier::anchor_file::national_anchor_to_toml(&national, "fuzz");
        out.seed(
            "trust_list",
            "national-anchor",
            prefixed(1, toml.as_bytes()),
        );
    }

    // Transactions a node would accept now: an anchor batch, a revocation, a governance
    // change; and the three in one block.
    let holder = world.holder;
    let issued = world
        .province
        .issue(
            "transport",
            holder,
            &[sample::driver_licence(now)],
            now,
            &mut world.rng,
        )
        .unwrap();
    let transport = &world.province.department("transport").unwrap().issuer_key;
    let batch = ecert_issuer::Batch::new(transport, issued).unwrap();
    let anchor_tx = Transaction::AnchorBatch(
        batch
            .anchor_transaction(transport, ledger.chain_id())
            .unwrap(),
    );
    let dept = world.province.department("justice").unwrap();
    let revocation = ecert_issuer::revocation_transaction(
        &dept.issuer_key,
        ledger.chain_id(),
        vec![RevocationEntry {
            index: status_index(&record),
            reason: RevocationReason::DataError,
        }],
        now,
    )
    .unwrap();
    let body = GovernanceBody {
        chain_id: ledger.chain_id().clone(),
        seq: ledger.registry().governance_seq,
        action: GovernanceAction::GrantKind(GrantKind {
            issuer: IssuerId::new("social-security").unwrap(),
            kind: KindId::new("driver-licence").unwrap(),
        }),
    };
    let approvals = world
        .province
        .departments
        .iter()
        .enumerate()
        .map(|(i, d)| approve(&d.validator_key, i as u16, &body).unwrap())
        .collect();
    let governance =
        assemble_governance(body, approvals, world.province.departments.len()).unwrap();
    let txs = [
        ("anchor", anchor_tx),
        ("revocation", Transaction::Revocation(revocation)),
        ("governance", Transaction::Governance(governance)),
    ];
    let mut block = vec![0xff];
    for (name, tx) in &txs {
        let bytes = tx.to_bytes().unwrap();
        assert!(
            ledger.check(tx, now.secs() * 1000).is_ok(),
            "{name} seed is refused"
        );
        out.seed("transaction", name, &bytes);
        out.wire(&format!("tx-{name}"), 6, &bytes);
        block.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        block.extend_from_slice(&bytes);
    }
    out.seed("transaction", "block", &block);

    // Genesis, kinds, the trust anchor file.
    let genesis = Genesis {
        chain_id: ledger.chain_id().clone(),
        validators: ledger.validators().to_vec(),
        addresses: (0..ledger.validators().len())
            .map(|i| format!("/ip4/127.0.0.1/tcp/{}", 7001 + i))
            .collect(),
        registry: ledger.registry().clone(),
    };
    out.seed("genesis_toml", "province", genesis.to_toml().unwrap());
    let kinds_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/kinds");
    for file in fs::read_dir(kinds_dir).unwrap().flatten() {
        let name = file.file_name().to_string_lossy().into_owned();
        out.seed("kind_toml", &name, fs::read(file.path()).unwrap());
    }
    out.seed("anchor_file", "world", world.anchor_toml());

    // Claims input: the first byte is (kind position << 2) | format (JSON, TOML, CSV).
    let kinds: Vec<KindId> = world.province.kinds.iter().map(|k| k.id.clone()).collect();
    for (_, order) in sample::by_department(now) {
        let position = kinds.iter().position(|k| k.as_str() == order.kind).unwrap() as u8;
        let json = sample::claims_json(&order.claims);
        out.seed(
            "claims",
            &format!("{}.json", order.kind),
            prefixed(position << 2, json.as_bytes()),
        );
        let toml = claims_toml(&order.claims);
        out.seed(
            "claims",
            &format!("{}.toml", order.kind),
            prefixed(position << 2 | 1, toml.as_bytes()),
        );
        let csv = claims_csv(&holder.to_hex(), &order.claims);
        out.seed(
            "claims",
            &format!("{}.csv", order.kind),
            prefixed(position << 2 | 2, csv.as_bytes()),
        );
    }
    out.seed("claims", "holder", prefixed(3, holder.to_hex().as_bytes()));

    // Sealed files with the fixed passphrase and a cheap derivation.
    let passphrase = Zeroizing::new(ecert_fuzz::PASSPHRASE.to_owned());
    let params = KdfParams::new(64, 1, 1).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let contents = WalletContents {
        holder: HolderKey::from_seed(&wallet.seed()),
        packages: vec![
            ecert_wallet::Held::Whole(id_card.clone()),
            ecert_wallet::Held::Whole(record.clone()),
        ],
    };
    let wallet_file = store::seal(&contents, &passphrase, params, &mut rng).unwrap();
    out.seed("sealed_files", "wallet", prefixed(0, &wallet_file));
    for (choice, magic) in [(1, *b"ECK1"), (2, *b"ECN1")] {
        let file = sealed::seal_secret(magic, &[0x42; 32], &passphrase, params, &mut rng).unwrap();
        out.seed(
            "sealed_files",
            &String::from_utf8_lossy(&magic),
            prefixed(choice, &file),
        );
    }
    let plaintext = sealed::open_secret(store::MAGIC, &wallet_file, &passphrase).unwrap();
    out.seed("sealed_files", "wallet-contents", prefixed(3, &plaintext));
    // A wallet holding format-2 copies too, one of them shown.
    let mut with_copies = WalletContents {
        holder: HolderKey::from_seed(&wallet.seed()),
        packages: vec![
            ecert_wallet::Held::Whole(id_card.clone()),
            ecert_wallet::Held::of(ecert_schemas::copy::AnyPackage::V2(id_copies.clone())),
        ],
    };
    if let Some(ecert_wallet::Held::Copies(held)) = with_copies.packages.get_mut(1) {
        held.spend(0).unwrap();
    }
    let copies_file = store::seal(&with_copies, &passphrase, params, &mut rng).unwrap();
    out.seed("sealed_files", "wallet-copies", prefixed(0, &copies_file));
    let plaintext = sealed::open_secret(store::MAGIC, &copies_file, &passphrase).unwrap();
    out.seed(
        "sealed_files",
        "wallet-contents-copies",
        prefixed(3, &plaintext),
    );
    // The same wallet with one presentation in its history, and as version 1 of the
    // contents (before the history), which is still read.
    let mut history = History::new();
    history
        .record(HistoryEntry {
            time: UnixTime(1_777_600_000),
            challenge: Some(Nonce::from_hex("9f3a61c2").unwrap()),
            counter: None,
            certificates: vec![Shown {
                short_id: "0123abcd".into(),
                kind: KindId::new("id-card").unwrap(),
                issuer: IssuerId::new("public-security").unwrap(),
                fields: vec!["name".into(), "id_number".into()],
            }],
        })
        .unwrap();
    let with_history =
        store::seal_with_history(&contents, &history, &passphrase, params, &mut rng).unwrap();
    out.seed("sealed_files", "wallet-history", prefixed(0, &with_history));
    let plaintext = sealed::open_secret(store::MAGIC, &with_history, &passphrase).unwrap();
    out.seed(
        "sealed_files",
        "wallet-contents-history",
        prefixed(3, &plaintext),
    );
    let packages: Vec<ByteBuf> = contents
        .packages
        .iter()
        .map(|p| ByteBuf::from(p.package_bytes().unwrap()))
        .collect();
    let version_1 = to_cbor(&(
        1u64,
        ByteBuf::from(contents.holder.seed().to_vec()),
        packages,
    ))
    .unwrap();
    out.seed(
        "sealed_files",
        "wallet-contents-version-1",
        prefixed(3, &version_1),
    );

    // Offers and addresses.
    let redemption = ecert_wallet::offer::redeem_request(&wallet, ecert_fuzz::OFFER_CODE);
    let mut offer = ecert_fuzz::OFFER_CODE.as_bytes().to_vec();
    offer.push(b'\n');
    offer.extend_from_slice(&redemption.to_bytes().unwrap());
    out.seed("offer_redemption", "signed", &offer);
    out.wire("offer", 5, &redemption.to_bytes().unwrap());
    // A wallet's requests for new copies: of its ID card, of a revoked certificate, and of
    // a certificate issued whole (its upgrade to copies).
    let refills = [
        ("id-card", ecert_wallet::Held::of(AnyPackage::V2(id_copies.clone()))),
        ("revoked", ecert_wallet::Held::of(AnyPackage::V2(revoked_copies.clone()))),
        ("whole", ecert_wallet::Held::Whole(record.clone())),
    ];
    for (name, held) in &refills {
        let request = ecert_wallet::offer::refill_request(&wallet, held, now).unwrap();
        out.seed("refill_request", name, request.to_bytes().unwrap());
    }
    let link = format!(
        "https://issuer.example:8443/v1/offers/{}",
        ecert_fuzz::OFFER_CODE
    );
    let addresses = [
        "https://127.0.0.1:8443".to_owned(),
        "http://localhost:7001/".to_owned(),
        "  HTTPS://[::1]:443 ".to_owned(),
        link.clone(),
        ecert_schemas::address::wallet_app_link("https://node.example/wallet/", &link),
    ];
    for (i, text) in addresses.iter().enumerate() {
        out.seed("address", &format!("{i}"), text);
    }

    // Node-to-node messages, as libp2p's CBOR codec carries them (serde's externally
    // tagged enums): requests behind 0, answers behind 1.
    use ciborium::Value;
    let text = |s: &str| Value::Text(s.to_owned());
    let map = |k: &str, v: Value| Value::Map(vec![(text(k), v)]);
    let vote = &checkpoint.votes[0];
    let vote_value = Value::Array(vec![
        Value::Integer(vote.validator.into()),
        Value::Bytes(vote.signature.0.to_vec()),
    ]);
    let header_height = checkpoint.decode_header().unwrap().height;
    let requests = [
        (
            "submit",
            map("Submit", Value::Bytes(txs[1].1.to_bytes().unwrap())),
        ),
        (
            "vote",
            map(
                "HeaderVote",
                Value::Map(vec![
                    (text("height"), Value::Integer(header_height.into())),
                    (text("vote"), vote_value.clone()),
                ]),
            ),
        ),
        (
            "checkpoints",
            map(
                "Checkpoints",
                Value::Map(vec![
                    (text("from"), Value::Integer(1.into())),
                    (text("limit"), Value::Integer(16.into())),
                ]),
            ),
        ),
    ];
    for (name, value) in &requests {
        out.seed(
            "node_wire",
            &format!("request-{name}"),
            prefixed(0, &cbor_value(value)),
        );
    }
    let responses = [
        (
            "checkpoints",
            map(
                "Checkpoints",
                Value::Array(vec![Value::Bytes(checkpoint_bytes)]),
            ),
        ),
        ("votes", map("HeaderVotes", Value::Array(vec![vote_value]))),
        ("submitted", map("Submitted", map("Ok", Value::Null))),
        (
            "refused",
            map(
                "Submitted",
                map(
                    "Err",
                    map(
                        "Invalid",
                        Value::Map(vec![
                            (text("code"), text("malformed")),
                            (text("message"), text("bad")),
                        ]),
                    ),
                ),
            ),
        ),
        ("not-permitted", text("NotPermitted")),
    ];
    for (name, value) in &responses {
        out.seed(
            "node_wire",
            &format!("response-{name}"),
            prefixed(1, &cbor_value(value)),
        );
    }

    // Validator-set changes: the social security department's validator key replaced
    // (the change alone in its block, certified by the old set), then a batch anchored and
    // certified under the new set. Every artefact now carries the change, and checks
    // against the same genesis anchor as the fixtures.
    let held = anchor_store(&bundle);
    let (change_tx, _) = world
        .province
        .replace_validator_key(2, ed25519_dalek::SigningKey::from_bytes(&[0x5e; 32]), now)
        .unwrap();
    out.seed(
        "transaction",
        "change-validators",
        change_tx.to_bytes().unwrap(),
    );
    world.issue("transport", sample::driver_licence(now), now);
    let after = world.province.ledger().clone();
    let checkpoint = world.province.checkpoint().unwrap().clone();
    let changes = world.province.validator_changes().unwrap();
    assert_eq!(changes.len(), 1);
    let changed_bundle = world.bundle_bytes();
    anchor_store(&changed_bundle);
    out.seed("trust_bundle", "after-validator-change", &changed_bundle);
    let last = after.anchors().len() as u64 - 1;
    let receipt = after
        .anchor_receipt(last, &checkpoint, changes.clone())
        .unwrap()
        .unwrap();
    ecert_verifier::verify_anchor_receipt(&receipt, &anchor).unwrap();
    out.seed(
        "anchor_receipt",
        "after-validator-change",
        receipt.to_bytes().unwrap(),
    );
    let delta = after
        .revocation_delta(0, &checkpoint, changes.clone())
        .unwrap()
        .unwrap();
    ecert_verifier::verify_revocation_delta(&genesis_revocations, &delta, &anchor).unwrap();
    out.seed(
        "revocation_delta",
        "after-validator-change",
        delta.to_bytes().unwrap(),
    );
    let update = after
        .trust_update(held.header(), checkpoint, changes)
        .unwrap();
    held.apply_update(&update, &anchor).unwrap();
    out.seed(
        "trust_update",
        "across-validator-change",
        update.to_bytes().unwrap(),
    );

    println!("fixtures and seeds written under {}", out.root.display());
}

/// The world's kinds, sorted: what a national trust list lets its province issue.
fn kinds_of(world: &World) -> Vec<KindId> {
    let mut kinds: Vec<KindId> = world.province.kinds.iter().map(|k| k.id.clone()).collect();
    kinds.sort();
    kinds
}
