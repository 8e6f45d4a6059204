//! The shared test world: a province whose public security bureau issued an ID card and
//! whose court issued a no-criminal-record certificate to one wallet, both anchored in
//! certified blocks an hour before "now".

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ecert_schemas::copy::CopyPackage;
use ecert_schemas::ledger::RevocationReason;
use ecert_schemas::{
    Certificate, CertificatePackage, Nonce, PresentedCertificate, PublicKeyBytes, StatusIndex,
    UnixTime,
};
use ecert_verifier::{verify_presentation, Policy, TrustStore, Verdict, VerifyError};
use ecert_wallet::{HolderKey, Selection};
use rand_core::OsRng;

use crate::province::{Order, Province};
use crate::sample;

/// An hour, in seconds.
pub const HOUR: u64 = 3600;
/// A day, in seconds.
pub const DAY: u64 = 86_400;
/// A fixed "now" for tests that do not run a tool (2026-09-21).
pub const FIXED_NOW: UnixTime = UnixTime(1_790_000_000);

/// The system clock, as the tools read it.
pub fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

/// How to build a [`World`].
#[derive(Clone, Debug)]
pub struct Builder {
    chain: String,
    now: UnixTime,
    genesis_age: u64,
}

impl Builder {
    /// The ledger's chain id (default `ecert-test`).
    pub fn chain(mut self, chain: &str) -> Builder {
        self.chain = chain.to_owned();
        self
    }

    /// The world's "now" (default: the system clock).
    pub fn now(mut self, now: UnixTime) -> Builder {
        self.now = now;
        self
    }

    /// How long before "now" the ledger started (default 30 days).
    pub fn genesis_age(mut self, secs: u64) -> Builder {
        self.genesis_age = secs;
        self
    }

    /// The world, with a new wallet key it holds itself.
    pub fn build(self) -> World {
        let wallet = HolderKey::generate(&mut OsRng);
        let mut world = self.build_for(wallet.public_key());
        world.wallet = Some(wallet);
        world
    }

    /// The world, issued to a wallet key held elsewhere (e.g. by the `ecert-wallet`
    /// binary): [`World::wallet`] is then not available.
    pub fn build_for(self, holder: PublicKeyBytes) -> World {
        let now = self.now;
        let mut province =
            Province::new(&self.chain, now.minus(self.genesis_age), &mut OsRng).unwrap();
        let at = now.minus(HOUR);
        let id_card = issue_one(
            &mut province,
            "public-security",
            holder,
            sample::id_card(now),
            at,
            at,
        );
        let record = issue_one(
            &mut province,
            "justice",
            holder,
            sample::no_criminal_record(now),
            at,
            at,
        );
        World {
            province,
            holder,
            wallet: None,
            id_card,
            record,
            now,
        }
    }
}

/// A province, a holder, an ID card and a no-criminal-record certificate.
pub struct World {
    /// The province (ledger, departments, kinds).
    pub province: Province,
    /// The holder's public key (the wallet ID).
    pub holder: PublicKeyBytes,
    wallet: Option<HolderKey>,
    /// The ID card (public security bureau), anchored in batch 0.
    pub id_card: CertificatePackage,
    /// The no-criminal-record certificate (justice), anchored in batch 1.
    pub record: CertificatePackage,
    /// The world's "now".
    pub now: UnixTime,
}

impl World {
    /// How to build a world other than [`World::new`]'s.
    pub fn builder() -> Builder {
        Builder {
            chain: "ecert-test".into(),
            now: now(),
            genesis_age: 30 * DAY,
        }
    }

    /// The world on ledger `ecert-test` at the system clock, with a wallet of its own.
    pub fn new() -> World {
        World::builder().build()
    }

    /// The same at a fixed `now`.
    pub fn at(now: UnixTime) -> World {
        World::builder().now(now).build()
    }

    /// The wallet's key (worlds built with [`Builder::build`]).
    pub fn wallet(&self) -> &HolderKey {
        self.wallet
            .as_ref()
            .expect("this world's wallet is held elsewhere (Builder::build_for)")
    }

    /// Issues `order` from `dept` to the holder at `issued_at` and anchors it alone in a
    /// certified block at `anchored_at`.
    pub fn issue_one(
        &mut self,
        dept: &str,
        order: Order,
        issued_at: UnixTime,
        anchored_at: UnixTime,
    ) -> CertificatePackage {
        let holder = self.holder;
        issue_one(
            &mut self.province,
            dept,
            holder,
            order,
            issued_at,
            anchored_at,
        )
    }

    /// Issues and anchors `order` an hour before now.
    pub fn issue_now(&mut self, dept: &str, order: Order) -> CertificatePackage {
        self.issue_now_to(dept, self.holder, order)
    }

    /// The same for any holder.
    pub fn issue_now_to(
        &mut self,
        dept: &str,
        holder: PublicKeyBytes,
        order: Order,
    ) -> CertificatePackage {
        let at = self.now.minus(HOUR);
        issue_one(&mut self.province, dept, holder, order, at, at)
    }

    /// Issues `order` from `dept` to the holder as `copies` one-time copies (format 2) an
    /// hour before now, anchored alone in a batch.
    pub fn issue_copies_now(&mut self, dept: &str, order: Order, copies: u16) -> CopyPackage {
        self.issue_copies_now_to(dept, self.holder, order, copies)
    }

    /// The same for any holder.
    pub fn issue_copies_now_to(
        &mut self,
        dept: &str,
        holder: PublicKeyBytes,
        order: Order,
        copies: u16,
    ) -> CopyPackage {
        let at = self.now.minus(HOUR);
        let issued = self
            .province
            .issue_copies(dept, holder, &[order], copies, at, &mut OsRng)
            .unwrap();
        self.province
            .anchor_copies(dept, issued, at, &mut OsRng)
            .unwrap()
            .remove(0)
    }

    /// Revokes every copy of `package` (issued by `dept`) in a certified block at `time`.
    pub fn revoke_copies(&mut self, dept: &str, package: &CopyPackage, time: UnixTime) {
        let indexes = copy_status_indexes(package);
        self.province
            .revoke(dept, &indexes, RevocationReason::Withdrawn, time)
            .unwrap();
    }

    /// The wallet's presentation of `fields` of copy `copy` of `package` at `time`, as a
    /// QR string.
    pub fn show_copy(
        &self,
        package: &CopyPackage,
        copy: usize,
        fields: &[&str],
        time: UnixTime,
    ) -> String {
        self.show_copies(&[(package, copy, fields)], time, None)
    }

    /// The wallet's format-2 presentation of one copy of each of several packages (the
    /// package, which copy, the fields) at `time`, answering `nonce`, as a QR string.
    pub fn show_copies(
        &self,
        copies: &[(&CopyPackage, usize, &[&str])],
        time: UnixTime,
        nonce: Option<Nonce>,
    ) -> String {
        crate::seeds::show_copies(self.wallet(), &self.province.kinds, copies, time, nonce)
    }

    /// Revokes `package` (issued by `dept`) in a certified block at `time`.
    pub fn revoke(&mut self, dept: &str, package: &CertificatePackage, time: UnixTime) {
        let index = status_index(package);
        self.province
            .revoke(dept, &[index], RevocationReason::Withdrawn, time)
            .unwrap();
    }

    /// A counter's trust store synced now.
    pub fn store(&self) -> TrustStore {
        self.province.sync_counter().unwrap()
    }

    /// What a counter synced now says of `qr` at the world's "now".
    pub fn verify(&self, qr: &str, policy: &Policy) -> Result<Verdict, VerifyError> {
        verify_presentation(qr, &self.store(), self.now, policy)
    }

    /// The wallet's presentation of `fields` of `package` at `time`, as a QR string.
    pub fn show(&self, package: &CertificatePackage, fields: &[&str], time: UnixTime) -> String {
        self.show_all(&[(package, fields)], time, None)
    }

    /// The wallet's presentation of several packages' fields, at `time`, answering
    /// `nonce`.
    pub fn show_all(
        &self,
        packages: &[(&CertificatePackage, &[&str])],
        time: UnixTime,
        nonce: Option<Nonce>,
    ) -> String {
        crate::seeds::show_all(self.wallet(), &self.province.kinds, packages, time, nonce)
    }

    /// The trust anchor file a counter or wallet is set up with.
    pub fn anchor_toml(&self) -> String {
        ecert_verifier::anchor_file::anchor_to_toml(
            &self.province.trust_anchor().unwrap(),
            "test ledger",
        )
    }

    /// Writes [`World::anchor_toml`] to `path`.
    pub fn write_anchor(&self, path: &Path) -> PathBuf {
        std::fs::write(path, self.anchor_toml()).unwrap();
        path.to_path_buf()
    }

    /// The trust bundle a ledger node exports now, encoded.
    pub fn bundle_bytes(&self) -> Vec<u8> {
        self.province.trust_bundle().unwrap().to_bytes().unwrap()
    }

    /// Writes [`World::bundle_bytes`] to `path`.
    pub fn write_bundle(&self, path: &Path) -> PathBuf {
        std::fs::write(path, self.bundle_bytes()).unwrap();
        path.to_path_buf()
    }
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

/// Issues `order` from `dept` to `holder` at `issued_at` and anchors it alone in a
/// certified block at `anchored_at`.
pub fn issue_one(
    province: &mut Province,
    dept: &str,
    holder: PublicKeyBytes,
    order: Order,
    issued_at: UnixTime,
    anchored_at: UnixTime,
) -> CertificatePackage {
    let issued = province
        .issue(dept, holder, &[order], issued_at, &mut OsRng)
        .unwrap();
    province
        .anchor(dept, issued, anchored_at)
        .unwrap()
        .remove(0)
}

/// A certificate package's certificate, decoded.
pub fn certificate(package: &CertificatePackage) -> Certificate {
    Certificate::from_bytes(&package.certificate).unwrap()
}

/// A certificate package's status index.
pub fn status_index(package: &CertificatePackage) -> StatusIndex {
    certificate(package).claims.status_index
}

/// The status indexes of a format-2 package's copies, in the package's order.
pub fn copy_status_indexes(package: &CopyPackage) -> Vec<StatusIndex> {
    package.copies.iter().map(|c| c.status_index).collect()
}

/// The first 8 hex digits of a package's certificate id, as the tools show it.
pub fn short_id(package: &CertificatePackage) -> String {
    certificate(package).claims.id.to_hex()[..8].to_owned()
}

/// The item of `package` with its first `disclosures` disclosures, as a presentation
/// carries it.
pub fn item(package: &CertificatePackage, disclosures: usize) -> PresentedCertificate {
    PresentedCertificate {
        certificate: package.certificate.clone(),
        disclosures: package
            .disclosures
            .iter()
            .take(disclosures)
            .cloned()
            .collect(),
        anchor: package.anchor.clone(),
    }
}

/// A crowd for benchmarks: `n` ID cards of one wallet, issued at [`FIXED_NOW`] an hour
/// ago and anchored together in one batch (so that a package proves inclusion in a large
/// batch), on ledger `ecert-bench`.
pub struct Crowd {
    /// The province.
    pub province: Province,
    /// The wallet.
    pub wallet: HolderKey,
    /// The packages, in batch order.
    pub packages: Vec<CertificatePackage>,
}

impl Crowd {
    /// Issues and anchors the `n` ID cards.
    pub fn id_cards(n: usize) -> Crowd {
        let mut province = Province::new("ecert-bench", FIXED_NOW.minus(DAY), &mut OsRng).unwrap();
        let wallet = HolderKey::generate(&mut OsRng);
        let orders = vec![sample::id_card(FIXED_NOW); n];
        let packages = province
            .issue_and_anchor(
                "public-security",
                wallet.public_key(),
                &orders,
                FIXED_NOW.minus(HOUR),
                &mut OsRng,
            )
            .unwrap();
        Crowd {
            province,
            wallet,
            packages,
        }
    }

    /// The wallet's choice of `fields` of package `i`.
    pub fn selection(&self, i: usize, fields: &[&str]) -> [Selection<'_>; 1] {
        [Selection {
            package: &self.packages[i],
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }]
    }
}

/// A batch of `orders` issued by `dept` to `holder` at `time`, and its anchor transaction
/// for the province's chain (not applied).
pub fn batch_of(
    province: &mut Province,
    dept: &str,
    holder: PublicKeyBytes,
    orders: &[Order],
    time: UnixTime,
) -> (ecert_issuer::Batch, ecert_schemas::ledger::Transaction) {
    let issued = province
        .issue(dept, holder, orders, time, &mut OsRng)
        .unwrap();
    let key = &province.department(dept).unwrap().issuer_key;
    let batch = ecert_issuer::Batch::new(key, issued).unwrap();
    let tx = batch
        .anchor_transaction(key, province.ledger().chain_id())
        .unwrap();
    (batch, ecert_schemas::ledger::Transaction::AnchorBatch(tx))
}

/// The checkpoint of `header_bytes` with every one of `province`'s validators' votes:
/// certification of a header the province's own ledger did not produce (another chain of
/// the same validators, a hand-made block).
pub fn certify(province: &Province, header_bytes: &[u8]) -> ecert_schemas::ledger::Checkpoint {
    crate::province::certified_by(&province.validator_keys(), header_bytes).unwrap()
}

/// Lets a test's fixture that keeps a [`World`] in its field `world`, beside what the
/// test adds (a device, a folder), be used as that world: `Deref` and `DerefMut` to it.
///
/// ```
/// use ecert_testkit::{Scratch, World};
///
/// struct Counter {
///     world: World,
///     dir: Scratch,
/// }
/// ecert_testkit::deref_to_world!(Counter);
///
/// fn clock(counter: &Counter) -> ecert_schemas::UnixTime {
///     counter.now // the world's field, through `Deref`
/// }
/// ```
#[macro_export]
macro_rules! deref_to_world {
    ($fixture:ty) => {
        impl ::std::ops::Deref for $fixture {
            type Target = $crate::World;
            fn deref(&self) -> &$crate::World {
                &self.world
            }
        }

        impl ::std::ops::DerefMut for $fixture {
            fn deref_mut(&mut self) -> &mut $crate::World {
                &mut self.world
            }
        }
    };
}
