//! Receiving certificate packages: every check a package passes before it enters the
//! wallet, and adding a set of them all or nothing.
//!
//! A package is checked on its own first
//! ([`check_package`](crate::receive::check_package)): it decodes strictly, as format 1 or
//! format 2. Format 1: its certificate decodes, and every disclosure decodes and matches
//! the digest the issuer signed. Format 2: its fields are listed once each, and no two of
//! its copies share a secret, a status index or a place in a batch (two such copies would
//! be linked by the counters that saw them).
//!
//! Then against the wallet ([`check_holder`], [`add`]): a format-1 certificate names this
//! wallet's key. A format-2 package names no key: each copy's holder key is this wallet's
//! key tweaked by the copy's secret, and what the issuer signed for the copy (its
//! [`CopySignedData`](ecert_schemas::copy::CopySignedData)) is rebuilt with that key and the
//! root of the copy's field tree; the copy's leaf and audit path then give the root of its
//! batch. The copies of one batch must give the same root, and when the wallet knows the
//! issuer's key ([`IssuerKeys`]) every copy's signature must verify. Copies that give no
//! common root (or whose signatures all fail) were made for another wallet's key; one
//! copy that does not fit the others is damaged. (Which batch root the ledger anchored is
//! checked by `ecert-wallet refresh` and by a counter; a package of one copy, or of copies
//! each in its own batch, can be checked against this wallet only there or with the
//! issuer's key.)
//!
//! A package already held is skipped. A format-2 package of a certificate held already
//! (the same id from the same department) that is a newer issue — issued later, or at the
//! same time with more copies — replaces the one held, in its place, with none of its
//! copies shown (except copies the two have in common, which stay shown); an older issue
//! is skipped. Copies of a certificate held whole (format 1, the same id from the same
//! department, issued later) replace it too: that is how a wallet's older certificates are
//! upgraded (`ecert-wallet refill`). [`receive`] does all of it for several packages. The command-line wallet
//! (files, offers) and the browser wallet use these same functions.

use std::collections::{BTreeMap, BTreeSet};

use ecert_schemas::copy::{AnyPackage, CopyPackage};
use ecert_schemas::{
    Certificate, CertificateId, CertificatePackage, Disclosure, Hash32, IssuerId, KeyId,
    PublicKeyBytes, SchemaError,
};
use ecert_verifier::crypto::{self, SigningContext};
use ecert_verifier::disclosure_matches;
use ecert_verifier::merkle16::{batch_root_from_path, copy_leaf};
use ecert_verifier::TrustStore;
use ed25519_dalek::VerifyingKey;
use thiserror::Error;

use crate::copies::{self, HeldCopies};
use crate::store::Held;
use crate::WalletContents;

/// Why a package is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReceiveError {
    /// The bytes are not a certificate package.
    #[error("this is not a certificate file from a department")]
    NotAPackage(#[source] SchemaError),
    /// The package's certificate cannot be decoded.
    #[error("the certificate in it is unreadable")]
    UnreadableCertificate(#[source] SchemaError),
    /// A disclosure is unreadable or does not match its certificate's digest.
    #[error("it is damaged: field {position} does not match its certificate")]
    Damaged {
        /// The disclosure's position in the package (from 1).
        position: usize,
    },
    /// The certificate is bound to another wallet's key.
    #[error("it was issued to another wallet (wallet ID {holder}), not to this one ({wallet})")]
    IssuedToAnotherWallet {
        /// The key the certificate is bound to.
        holder: PublicKeyBytes,
        /// This wallet's key.
        wallet: PublicKeyBytes,
    },
    /// Format 2: no copy fits this wallet's key (the package names no wallet ID).
    #[error(
        "its copies do not fit this wallet's key: it was issued to another wallet, not to this one ({wallet}), or it is damaged"
    )]
    CopiesForAnotherWallet {
        /// This wallet's key.
        wallet: PublicKeyBytes,
    },
    /// Format 2: one copy does not fit the others, or its issuer's signature.
    #[error("it is damaged: copy {copy} does not fit the others")]
    DamagedCopy {
        /// The copy's position in the package (from 1).
        copy: usize,
    },
    /// Format 2: a copy repeats an earlier one (its secret, status index or place in its
    /// batch), so that showing both would let counters link them.
    #[error("it is damaged: copy {copy} repeats an earlier copy, so counters could link the two")]
    RepeatedCopy {
        /// The copy's position in the package (from 1).
        copy: usize,
    },
}

/// A refused package among several: its position in the input and why.
///
/// Its text is "package N: " and the reason's; its [`source`](std::error::Error::source)
/// is the reason's source (the decoding error), so that a chain of causes says each
/// thing once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The package's position in the input (from 0).
    pub position: usize,
    /// Why it was refused.
    pub error: ReceiveError,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "package {}: {}", self.position + 1, self.error)
    }
}

impl std::error::Error for Refused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

/// A package that passed [`check_package`].
#[derive(Clone, Debug)]
pub enum Received {
    /// Format 1: the package and its decoded certificate.
    Whole {
        /// The package, as delivered.
        package: CertificatePackage,
        /// Its certificate, decoded.
        certificate: Box<Certificate>,
    },
    /// Format 2: one-time copies.
    Copies(CopyPackage),
}

impl Received {
    /// Format 1: the wallet ID (holder key) the certificate is bound to. A format-2
    /// package names none ([`check_holder`] checks it against a wallet).
    pub fn holder(&self) -> Option<PublicKeyBytes> {
        match self {
            Received::Whole { certificate, .. } => Some(certificate.claims.holder),
            Received::Copies(_) => None,
        }
    }

    /// The certificate's id.
    pub fn id(&self) -> &CertificateId {
        match self {
            Received::Whole { certificate, .. } => &certificate.claims.id,
            Received::Copies(package) => &package.id,
        }
    }

    /// The department that issued it.
    pub fn issuer(&self) -> &IssuerId {
        match self {
            Received::Whole { certificate, .. } => &certificate.claims.issuer,
            Received::Copies(package) => &package.issuer,
        }
    }
}

/// The issuers' keys a wallet knows, to check the signature of every copy it receives.
pub trait IssuerKeys {
    /// The key `key_id` of `issuer`, if known.
    fn issuer_key(&self, issuer: &IssuerId, key_id: KeyId) -> Option<VerifyingKey>;
}

/// A counter's synced data knows every registered issuer's keys.
impl IssuerKeys for TrustStore {
    fn issuer_key(&self, issuer: &IssuerId, key_id: KeyId) -> Option<VerifyingKey> {
        let record = self.issuer(issuer).ok()?;
        self.issuer_key(record, key_id).ok().map(|(_, key)| *key)
    }
}

/// What [`add`] did, by position in its input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Added {
    /// Packages added, in order; they are now at the end of the wallet.
    pub added: Vec<usize>,
    /// Packages that replaced an older issue of the same certificate (format 2): their
    /// position in the input and their place in the wallet (the older issue's).
    pub replaced: Vec<(usize, usize)>,
    /// Packages skipped because the wallet already held their certificate (or it came
    /// earlier in the same input).
    pub already_held: Vec<usize>,
    /// Format 2: packages skipped because the wallet holds a newer issue of their
    /// certificate.
    pub not_newer: Vec<usize>,
}

/// Checks that `bytes` are an intact package of either format, as far as it can be
/// checked without the wallet: see the [module](self) documentation.
pub fn check_package(bytes: &[u8]) -> Result<Received, ReceiveError> {
    match AnyPackage::from_bytes(bytes).map_err(ReceiveError::NotAPackage)? {
        AnyPackage::V1(package) => check_whole(package),
        AnyPackage::V2(package) => check_copies(&package).map(|()| Received::Copies(package)),
    }
}

fn check_whole(package: CertificatePackage) -> Result<Received, ReceiveError> {
    let certificate = Certificate::from_bytes(&package.certificate)
        .map_err(ReceiveError::UnreadableCertificate)?;
    for (i, bytes) in package.disclosures.iter().enumerate() {
        let intact = Disclosure::from_bytes(bytes)
            .is_ok_and(|d| disclosure_matches(&certificate.claims, d.field, bytes));
        if !intact {
            return Err(ReceiveError::Damaged { position: i + 1 });
        }
    }
    Ok(Received::Whole {
        package,
        certificate: Box::new(certificate),
    })
}

/// A format-2 package's own consistency: each field once, each copy its own.
fn check_copies(package: &CopyPackage) -> Result<(), ReceiveError> {
    let mut numbers = BTreeSet::new();
    for (i, field) in package.fields.iter().enumerate() {
        if !numbers.insert(field.field) {
            return Err(ReceiveError::Damaged { position: i + 1 });
        }
    }
    let mut secrets = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    let mut places = BTreeSet::new();
    for (i, copy) in package.copies.iter().enumerate() {
        let fresh = secrets.insert(copy.secret.0)
            & indexes.insert(copy.status_index)
            & places.insert((copy.batch_seq, copy.leaf_index));
        if !fresh {
            return Err(ReceiveError::RepeatedCopy { copy: i + 1 });
        }
    }
    Ok(())
}

/// Checks a package that passed [`check_package`] against the wallet whose key is
/// `wallet`: a format-1 certificate names it; a format-2 package's copies fit it (see the
/// [module](self) documentation), their signatures checked when `issuers` knows the key.
pub fn check_holder(
    wallet: &PublicKeyBytes,
    received: &Received,
    issuers: Option<&dyn IssuerKeys>,
) -> Result<(), ReceiveError> {
    match received {
        Received::Whole { certificate, .. } if certificate.claims.holder != *wallet => {
            Err(ReceiveError::IssuedToAnotherWallet {
                holder: certificate.claims.holder,
                wallet: *wallet,
            })
        }
        Received::Whole { .. } => Ok(()),
        Received::Copies(package) => copies_fit(package, wallet, issuers),
    }
}

/// One copy as the wallet rebuilds it: its batch, the root its path leads to, and whether
/// the issuer's signature verifies (`None`: the key is not known).
struct Rebuilt {
    batch_seq: u64,
    root: Option<Hash32>,
    signature: Option<bool>,
}

/// Whether the copies of `package` were made for the wallet key `wallet`.
fn copies_fit(
    package: &CopyPackage,
    wallet: &PublicKeyBytes,
    issuers: Option<&dyn IssuerKeys>,
) -> Result<(), ReceiveError> {
    let key = issuers.and_then(|k| k.issuer_key(&package.issuer, package.key_id));
    let rebuilt: Vec<Rebuilt> = package
        .copies
        .iter()
        .map(|copy| match copies::signed_data(package, copy, wallet) {
            Some(signed) => Rebuilt {
                batch_seq: copy.batch_seq,
                root: batch_root_from_path(
                    &copy_leaf(&signed, &copy.signature.0),
                    copy.leaf_index,
                    &copy.path,
                ),
                signature: key.map(|key| {
                    crypto::verify(&key, SigningContext::CopyIssue, &signed, &copy.signature)
                }),
            },
            None => Rebuilt {
                batch_seq: copy.batch_seq,
                root: None,
                signature: key.map(|_| false),
            },
        })
        .collect();
    // Per batch: how many copies it has, and the root most of them lead to when at least
    // two agree.
    let mut batches: BTreeMap<u64, (usize, BTreeMap<Hash32, usize>)> = BTreeMap::new();
    for r in &rebuilt {
        let (size, roots) = batches.entry(r.batch_seq).or_default();
        *size += 1;
        if let Some(root) = r.root {
            *roots.entry(root).or_default() += 1;
        }
    }
    let common: BTreeMap<u64, (usize, Option<Hash32>)> = batches
        .into_iter()
        .map(|(seq, (size, roots))| {
            let best = roots
                .into_iter()
                .max_by_key(|(_, n)| *n)
                .filter(|(_, n)| *n >= 2)
                .map(|(root, _)| root);
            (seq, (size, best))
        })
        .collect();
    let checked = key.is_some() || common.values().any(|(size, _)| *size >= 2);
    let bad: Vec<bool> = rebuilt
        .iter()
        .map(|r| {
            let (size, best) = common.get(&r.batch_seq).copied().unwrap_or((1, None));
            r.root.is_none() || r.signature == Some(false) || (size >= 2 && r.root != best)
        })
        .collect();
    if checked && bad.iter().all(|b| *b) {
        return Err(ReceiveError::CopiesForAnotherWallet { wallet: *wallet });
    }
    match bad.iter().position(|b| *b) {
        Some(copy) => Err(ReceiveError::DamagedCopy { copy: copy + 1 }),
        None => Ok(()),
    }
}

/// Adds the `received` packages to `contents`, all or nothing: if any is not this
/// wallet's ([`check_holder`], without issuers' keys), nothing is added. See
/// [`add_with`].
pub fn add(contents: &mut WalletContents, received: Vec<Received>) -> Result<Added, Refused> {
    add_with(contents, received, None)
}

/// Adds the `received` packages to `contents`, all or nothing: if any is not this
/// wallet's ([`check_holder`], with the issuers' keys `issuers` knows), nothing is added.
/// Packages the wallet holds already are skipped; a newer issue of a format-2 certificate
/// held replaces it in its place, an older one is skipped. The new packages go to the end
/// of `contents.packages`, in order.
pub fn add_with(
    contents: &mut WalletContents,
    received: Vec<Received>,
    issuers: Option<&dyn IssuerKeys>,
) -> Result<Added, Refused> {
    let wallet = contents.holder.public_key();
    for (position, r) in received.iter().enumerate() {
        check_holder(&wallet, r, issuers).map_err(|error| Refused { position, error })?;
    }
    let mut outcome = Added::default();
    for (position, r) in received.into_iter().enumerate() {
        match r {
            Received::Whole { package, .. } => {
                let held = contents
                    .packages
                    .iter()
                    .filter_map(Held::whole)
                    .any(|p| p.certificate == package.certificate);
                if held {
                    outcome.already_held.push(position);
                } else {
                    contents.packages.push(Held::Whole(package));
                    outcome.added.push(position);
                }
            }
            Received::Copies(package) => add_copies(contents, package, position, &mut outcome),
        }
    }
    Ok(outcome)
}

/// Adds one format-2 package, replacing an older issue of its certificate.
fn add_copies(
    contents: &mut WalletContents,
    package: CopyPackage,
    position: usize,
    outcome: &mut Added,
) {
    let same = contents.packages.iter().position(|h| {
        h.copies()
            .is_some_and(|c| c.package().id == package.id && c.package().issuer == package.issuer)
    });
    let Some((at, old)) = same.and_then(|at| {
        contents
            .packages
            .get(at)
            .and_then(Held::copies)
            .map(|c| (at, c))
    }) else {
        // Copies of a certificate held whole (format 1), issued since: its upgrade.
        let whole = contents.packages.iter().position(|h| {
            h.whole()
                .and_then(|p| Certificate::from_bytes(&p.certificate).ok())
                .is_some_and(|c| {
                    c.claims.id == package.id
                        && c.claims.issuer == package.issuer
                        && c.claims.issued_at < package.issued_at
                })
        });
        match whole.and_then(|at| contents.packages.get_mut(at).map(|slot| (at, slot))) {
            Some((at, slot)) => {
                *slot = Held::from(package);
                outcome.replaced.push((position, at));
            }
            None => {
                contents.packages.push(Held::from(package));
                outcome.added.push(position);
            }
        }
        return;
    };
    let repeats = package.copies.iter().all(|new| {
        old.package()
            .copies
            .iter()
            .any(|held| held.secret == new.secret)
    });
    let newer = (package.issued_at, package.copies.len())
        > (old.package().issued_at, old.package().copies.len());
    if repeats {
        outcome.already_held.push(position);
    } else if newer {
        let mut fresh = HeldCopies::new(package);
        fresh.keep_marks_of(old);
        if let Some(slot) = contents.packages.get_mut(at) {
            *slot = Held::Copies(fresh);
        }
        outcome.replaced.push((position, at));
    } else {
        outcome.not_newer.push(position);
    }
}

/// [`check_package`] on every input, then [`add`]: all or nothing.
pub fn receive(contents: &mut WalletContents, packages: &[&[u8]]) -> Result<Added, Refused> {
    receive_with(contents, packages, None)
}

/// [`check_package`] on every input, then [`add_with`]: all or nothing.
pub fn receive_with(
    contents: &mut WalletContents,
    packages: &[&[u8]],
    issuers: Option<&dyn IssuerKeys>,
) -> Result<Added, Refused> {
    let received = packages
        .iter()
        .enumerate()
        .map(|(position, bytes)| check_package(bytes).map_err(|error| Refused { position, error }))
        .collect::<Result<Vec<_>, _>>()?;
    add_with(contents, received, issuers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::tests::package;
    use crate::copies::tests::{issuer_key, package as copy_package};
    use crate::HolderKey;
    use ecert_schemas::codec::ByteBuf;
    use ecert_schemas::UnixTime;
    use rand_core::OsRng;

    fn wallet() -> WalletContents {
        WalletContents::new(HolderKey::generate(&mut OsRng))
    }

    #[test]
    fn adds_intact_packages_once() {
        let mut w = wallet();
        let a = package(
            &w.holder,
            "id-card",
            [1; 16],
            1,
            9,
            &[(0, "张伟"), (5, "X")],
        );
        let b = package(&w.holder, "driver-licence", [2; 16], 1, 9, &[(0, "张伟")]);
        let (a, b) = (a.to_bytes().unwrap(), b.to_bytes().unwrap());
        let outcome = receive(&mut w, &[&a, &b, &a]).unwrap();
        assert_eq!(outcome.added, [0, 1]);
        assert_eq!(outcome.already_held, [2]);
        assert_eq!(w.packages.len(), 2);
        let again = receive(&mut w, &[&b]).unwrap();
        assert_eq!((again.added.len(), again.already_held), (0, vec![0]));
        assert_eq!(w.packages.len(), 2);
    }

    #[test]
    fn refuses_damaged_or_foreign_packages_and_adds_nothing() {
        let mut w = wallet();
        let stranger = HolderKey::generate(&mut OsRng);
        let mine = package(&w.holder, "id-card", [1; 16], 1, 9, &[(0, "张伟")]);
        let theirs = package(&stranger, "id-card", [2; 16], 1, 9, &[(0, "张伟")]);
        let good = mine.to_bytes().unwrap();
        let err = receive(&mut w, &[&good, &theirs.to_bytes().unwrap()]).unwrap_err();
        assert_eq!(err.position, 1);
        assert!(matches!(
            err.error,
            ReceiveError::IssuedToAnotherWallet { holder, .. } if holder == stranger.public_key()
        ));
        assert!(w.packages.is_empty(), "nothing added");

        assert!(matches!(
            check_package(b"hello"),
            Err(ReceiveError::NotAPackage(_))
        ));
        let mut bad_cert = mine.clone();
        bad_cert.certificate = ByteBuf::from(vec![0xa0]);
        assert!(matches!(
            check_package(&bad_cert.to_bytes().unwrap()),
            Err(ReceiveError::UnreadableCertificate(_))
        ));
        // A disclosure from another certificate (other salt and value).
        let other = package(&w.holder, "id-card", [3; 16], 1, 9, &[(0, "李娜")]);
        let mut swapped = mine.clone();
        swapped.disclosures = other.disclosures.clone();
        let err = receive(&mut w, &[&good, &swapped.to_bytes().unwrap()]).unwrap_err();
        assert_eq!(
            (err.position, err.error),
            (1, ReceiveError::Damaged { position: 1 })
        );
        assert_eq!(
            err_text(&swapped),
            "it is damaged: field 1 does not match its certificate"
        );
        let mut garbage = mine;
        garbage.disclosures.push(ByteBuf::from(vec![0xff]));
        assert_eq!(
            check_package(&garbage.to_bytes().unwrap()).unwrap_err(),
            ReceiveError::Damaged { position: 2 }
        );
        assert!(w.packages.is_empty());
    }

    fn err_text(p: &CertificatePackage) -> String {
        check_package(&p.to_bytes().unwrap())
            .unwrap_err()
            .to_string()
    }

    /// The issuer key of the test packages, as a wallet that knows it has it.
    struct Known;

    impl IssuerKeys for Known {
        fn issuer_key(&self, _: &IssuerId, _: KeyId) -> Option<VerifyingKey> {
            Some(issuer_key().verifying_key())
        }
    }

    #[test]
    fn copies_of_a_certificate_held_whole_and_issued_since_replace_it() {
        let mut w = wallet();
        let me = w.holder.public_key();
        let whole = package(&w.holder, "id-card", [9; 16], 1, 9, &[(0, "张伟")]);
        let other = package(&w.holder, "id-card", [8; 16], 1, 9, &[(0, "张伟")]);
        receive_with(
            &mut w,
            &[&whole.to_bytes().unwrap(), &other.to_bytes().unwrap()],
            Some(&Known),
        )
        .unwrap();
        // Issued at the same time: not an upgrade, a certificate of its own.
        let same_time = copy_package(&me, [8; 16], 1, 9, &[(0, "张伟")], 2);
        let outcome = receive(&mut w, &[&same_time.to_bytes().unwrap()]).unwrap();
        assert_eq!(outcome.added, [0]);
        assert_eq!(w.packages.len(), 3);
        // Issued later: the upgrade takes the whole certificate's place.
        let upgrade = copy_package(&me, [9; 16], 2, 9, &[(0, "张伟")], 3);
        let outcome = receive(&mut w, &[&upgrade.to_bytes().unwrap()]).unwrap();
        assert_eq!(outcome.replaced, [(0, 0)]);
        assert_eq!(w.packages.len(), 3);
        assert_eq!(w.packages[0].copies().unwrap().package(), &upgrade);
        assert!(w.packages[1].whole().is_some());
    }

    #[test]
    fn copies_are_received_and_a_newer_issue_replaces_the_older() {
        let mut w = wallet();
        let me = w.holder.public_key();
        let whole = package(&w.holder, "id-card", [1; 16], 1, 9, &[(0, "张伟")]);
        let card = copy_package(&me, [7; 16], 1, 9, &[(0, "张伟")], 4);
        let card_bytes = card.to_bytes().unwrap();
        let outcome = receive_with(
            &mut w,
            &[&whole.to_bytes().unwrap(), &card_bytes, &card_bytes],
            Some(&Known),
        )
        .unwrap();
        assert_eq!((outcome.added, outcome.already_held), (vec![0, 1], vec![2]));
        assert!(matches!(&w.packages[1], Held::Copies(c) if c.count().total == 4));
        if let Some(Held::Copies(c)) = w.packages.get_mut(1) {
            c.spend(0).unwrap();
            c.spend(1).unwrap();
        }
        // Issued again with more copies: it takes the older one's place, all copies unshown.
        let mut reissued = copy_package(&me, [7; 16], 1, 9, &[(0, "张伟")], 6);
        for copy in &mut reissued.copies {
            copy.secret.0[31] = 0xee;
        }
        let reissued = resigned(&me, reissued);
        let outcome = receive(&mut w, &[&reissued.to_bytes().unwrap()]).unwrap();
        assert_eq!(outcome.replaced, [(0, 1)]);
        assert_eq!(w.packages.len(), 2);
        let held = w.packages[1].copies().unwrap();
        assert_eq!((held.count().left, held.count().total), (6, 6));
        // The older issue again: skipped, the newer kept.
        let outcome = receive(&mut w, &[&card_bytes]).unwrap();
        assert_eq!(outcome.not_newer, [0]);
        assert_eq!(w.packages[1].copies().unwrap().package(), &reissued);
        // The same copies in a package dated later: held already.
        let mut more = reissued.clone();
        more.issued_at = UnixTime(2);
        let more = resigned(&me, more);
        assert!(more
            .copies
            .iter()
            .zip(&reissued.copies)
            .all(|(a, b)| a.secret == b.secret));
        let outcome = receive(&mut w, &[&more.to_bytes().unwrap()]).unwrap();
        assert_eq!(outcome.already_held, [0], "the same copies: held already");
    }

    /// `package` with its copies signed again and put in a batch again (after a change).
    fn resigned(holder: &PublicKeyBytes, mut package: CopyPackage) -> CopyPackage {
        let issuer = issuer_key();
        let mut leaves = Vec::new();
        let view = CopyPackage {
            copies: Vec::new(),
            ..package.clone()
        };
        for copy in &mut package.copies {
            let signed = copies::signed_data(&view, copy, holder).unwrap();
            copy.signature = crypto::sign(&issuer, SigningContext::CopyIssue, &signed);
            leaves.push(copy_leaf(&signed, &copy.signature.0));
        }
        let tree = ecert_verifier::merkle16::CopyTree::new(&leaves);
        for (i, copy) in package.copies.iter_mut().enumerate() {
            copy.path = tree.audit_path(i as u64).unwrap();
        }
        package
    }

    #[test]
    fn copies_of_another_wallet_or_damaged_copies_are_refused() {
        let mut w = wallet();
        let me = w.holder.public_key();
        let stranger = HolderKey::generate(&mut OsRng).public_key();
        let theirs = copy_package(&stranger, [8; 16], 1, 9, &[(0, "张伟")], 5);
        let err = receive(&mut w, &[&theirs.to_bytes().unwrap()]).unwrap_err();
        assert_eq!(
            err.error,
            ReceiveError::CopiesForAnotherWallet { wallet: me }
        );
        assert!(
            err.to_string().contains("issued to another wallet"),
            "{err}"
        );
        // One copy only: its batch cannot tell without the issuer's key; with it, it can.
        let mut single = theirs.clone();
        single.copies.truncate(1);
        let single = single.to_bytes().unwrap();
        assert!(receive(&mut wallet(), &[&single]).is_ok());
        assert_eq!(
            receive_with(&mut w, &[&single], Some(&Known))
                .unwrap_err()
                .error,
            ReceiveError::CopiesForAnotherWallet { wallet: me }
        );

        // One copy changed: damaged, and which.
        let mine = copy_package(&me, [9; 16], 1, 9, &[(0, "张伟")], 5);
        let mut bent = mine.clone();
        bent.copies[3].status_index = ecert_schemas::StatusIndex(9_999);
        let err = receive(&mut w, &[&bent.to_bytes().unwrap()]).unwrap_err();
        assert_eq!(err.error, ReceiveError::DamagedCopy { copy: 4 });
        // A changed value: every copy's field tree changes, so none fits.
        let mut changed = mine.clone();
        changed.fields[0].value = Some(ecert_schemas::FieldValue::Text("李娜".into()));
        assert!(matches!(
            receive(&mut w, &[&changed.to_bytes().unwrap()])
                .unwrap_err()
                .error,
            ReceiveError::CopiesForAnotherWallet { .. }
        ));
        // A copy twice, or two copies of one status index: counters could link them.
        let mut twice = mine.clone();
        twice.copies[2] = twice.copies[0].clone();
        assert_eq!(
            check_package(&twice.to_bytes().unwrap()).unwrap_err(),
            ReceiveError::RepeatedCopy { copy: 3 }
        );
        let mut same_index = mine.clone();
        same_index.copies[1].status_index = same_index.copies[0].status_index;
        assert_eq!(
            check_package(&same_index.to_bytes().unwrap()).unwrap_err(),
            ReceiveError::RepeatedCopy { copy: 2 }
        );
        let mut field_twice = mine.clone();
        field_twice.fields[1].field = field_twice.fields[0].field;
        assert_eq!(
            check_package(&field_twice.to_bytes().unwrap()).unwrap_err(),
            ReceiveError::Damaged { position: 2 }
        );
        assert!(w.packages.is_empty(), "nothing added");
        // Intact, with the issuer's key checked.
        assert_eq!(
            receive_with(&mut w, &[&mine.to_bytes().unwrap()], Some(&Known))
                .unwrap()
                .added,
            [0]
        );
    }
}
