//! Receiving certificate packages: every check a package passes before it enters the
//! wallet, and adding a set of them all or nothing.
//!
//! A package is checked on its own first
//! ([`check_package`](crate::receive::check_package): it decodes strictly, its certificate
//! decodes, and every disclosure decodes and matches the digest the issuer signed), then
//! against the wallet ([`add`](crate::receive::add): issued to this wallet's key; one
//! already held, or received twice, is skipped). [`receive`] does both for several
//! packages. The command-line wallet (files, offers) and the browser wallet use these same
//! functions.

use ecert_schemas::{Certificate, CertificatePackage, Disclosure, PublicKeyBytes, SchemaError};
use ecert_verifier::disclosure_matches;
use thiserror::Error;

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

/// A package that passed [`check_package`], with its decoded certificate.
#[derive(Clone, Debug)]
pub struct Received {
    /// The package, as delivered.
    pub package: CertificatePackage,
    /// Its certificate, decoded.
    pub certificate: Certificate,
}

impl Received {
    /// The wallet ID (holder key) the certificate is bound to.
    pub fn holder(&self) -> PublicKeyBytes {
        self.certificate.claims.holder
    }
}

/// What [`add`] did, by position in its input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Added {
    /// Packages added, in order; they are now at the end of the wallet.
    pub added: Vec<usize>,
    /// Packages skipped because the wallet already held their certificate (or it came
    /// earlier in the same input).
    pub already_held: Vec<usize>,
}

/// Checks that `bytes` are an intact package: strict decoding of the package and its
/// certificate, and every disclosure decodes and matches its signed digest.
pub fn check_package(bytes: &[u8]) -> Result<Received, ReceiveError> {
    let package = CertificatePackage::from_bytes(bytes).map_err(ReceiveError::NotAPackage)?;
    let certificate = Certificate::from_bytes(&package.certificate)
        .map_err(ReceiveError::UnreadableCertificate)?;
    for (i, bytes) in package.disclosures.iter().enumerate() {
        let intact = Disclosure::from_bytes(bytes)
            .is_ok_and(|d| disclosure_matches(&certificate.claims, d.field, bytes));
        if !intact {
            return Err(ReceiveError::Damaged { position: i + 1 });
        }
    }
    Ok(Received {
        package,
        certificate,
    })
}

/// Adds the `received` packages to `contents`, all or nothing: if any is issued to
/// another wallet, nothing is added. Packages whose certificate the wallet holds already
/// are skipped. The new packages go to the end of `contents.packages`, in order.
pub fn add(contents: &mut WalletContents, received: Vec<Received>) -> Result<Added, Refused> {
    let wallet = contents.holder.public_key();
    if let Some((position, r)) = received
        .iter()
        .enumerate()
        .find(|(_, r)| r.holder() != wallet)
    {
        return Err(Refused {
            position,
            error: ReceiveError::IssuedToAnotherWallet {
                holder: r.holder(),
                wallet,
            },
        });
    }
    let mut outcome = Added::default();
    for (position, r) in received.into_iter().enumerate() {
        let held = contents
            .packages
            .iter()
            .any(|p| p.certificate == r.package.certificate);
        if held {
            outcome.already_held.push(position);
        } else {
            contents.packages.push(r.package);
            outcome.added.push(position);
        }
    }
    Ok(outcome)
}

/// [`check_package`] on every input, then [`add`]: all or nothing.
pub fn receive(contents: &mut WalletContents, packages: &[&[u8]]) -> Result<Added, Refused> {
    let received = packages
        .iter()
        .enumerate()
        .map(|(position, bytes)| check_package(bytes).map_err(|error| Refused { position, error }))
        .collect::<Result<Vec<_>, _>>()?;
    add(contents, received)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::tests::package;
    use crate::HolderKey;
    use ecert_schemas::codec::ByteBuf;
    use rand_core::OsRng;

    fn wallet() -> WalletContents {
        WalletContents {
            holder: HolderKey::generate(&mut OsRng),
            packages: vec![],
        }
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
}
