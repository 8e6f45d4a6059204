//! A server's certificate and key, from PEM files, as a rustls server configuration
//! (ring provider; HTTP/2 and HTTP/1.1 offered by ALPN).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ecert_shell::files::{read_limited, FileError};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

/// Largest certificate or key file read.
pub const MAX_PEM_FILE_BYTES: u64 = 1024 * 1024;

/// Why the certificate or key cannot be used. Every message names the file.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TlsFileError {
    /// The file could not be read (missing, no permission, ...).
    #[error("cannot read the {what} file {}: {detail}", path.display())]
    Unreadable {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// Larger than [`MAX_PEM_FILE_BYTES`].
    #[error("the {what} file {} is larger than {MAX_PEM_FILE_BYTES} bytes", path.display())]
    TooLarge {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// No PEM certificate in the certificate file.
    #[error(
        "the certificate file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        path.display()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// No PEM private key in the key file.
    #[error(
        "the key file {} holds no PEM private key (-----BEGIN PRIVATE KEY-----, or an RSA or \
         EC key)",
        path.display()
    )]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// Malformed PEM.
    #[error("the {what} file {} is not valid PEM: {detail}", path.display())]
    BadPem {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the reader said.
        detail: String,
    },
    /// The key does not belong to the certificate, or either cannot be used.
    #[error(
        "the key file {} does not match the certificate file {} (or cannot be used with it): \
         {detail}",
        key.display(),
        cert.display()
    )]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        detail: String,
    },
}

/// The certificate (chain) and key files of a server (`--tls-cert`, `--tls-key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate, then any intermediate certificates, in PEM.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1), in PEM.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files of `--tls-cert` and `--tls-key`: both or neither.
    pub fn from_flags(cert: Option<PathBuf>, key: Option<PathBuf>) -> Option<TlsFiles> {
        match (cert, key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            _ => None,
        }
    }

    /// Reads both files and builds the server configuration.
    pub fn load(&self) -> Result<Arc<ServerConfig>, TlsFileError> {
        server_config(&self.cert, &self.key)
    }
}

fn read_pem(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    read_limited(path, MAX_PEM_FILE_BYTES).map_err(|e| match e {
        FileError::TooLarge { path, .. } => TlsFileError::TooLarge { what, path },
        FileError::Io { source, .. } => TlsFileError::Unreadable {
            what,
            path: path.to_owned(),
            detail: source.to_string(),
        },
        other => TlsFileError::Unreadable {
            what,
            path: path.to_owned(),
            detail: other.to_string(),
        },
    })
}

/// The rustls server configuration of the certificate chain in `cert` and the key in
/// `key` (both PEM), with the ring provider, TLS 1.2 and 1.3, and ALPN `h2`, `http/1.1`.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsFileError> {
    let cert_pem = read_pem("certificate", cert)?;
    let key_pem = read_pem("key", key)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsFileError::BadPem {
            what: "certificate",
            path: cert.to_owned(),
            detail: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsFileError::NoCertificate {
            path: cert.to_owned(),
        });
    }
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => TlsFileError::NoKey {
            path: key.to_owned(),
        },
        other => TlsFileError::BadPem {
            what: "key",
            path: key.to_owned(),
            detail: other.to_string(),
        },
    })?;
    let mismatch = |e: rustls::Error| TlsFileError::Mismatch {
        cert: cert.to_owned(),
        key: key.to_owned(),
        detail: e.to_string(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(mismatch)?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(mismatch)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let e = server_config(&cert, &key).unwrap_err();
        assert!(
            matches!(
                e,
                TlsFileError::Unreadable {
                    what: "certificate",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("cert.pem"), "{e}");
        std::fs::write(&cert, "no pem here").unwrap();
        let e = server_config(&cert, &key).unwrap_err();
        assert!(
            matches!(e, TlsFileError::Unreadable { what: "key", .. }),
            "{e}"
        );
        std::fs::write(&key, "no pem here").unwrap();
        let e = server_config(&cert, &key).unwrap_err();
        assert!(matches!(e, TlsFileError::NoCertificate { .. }), "{e}");
        assert!(e.to_string().contains("cert.pem"), "{e}");
        std::fs::write(
            &cert,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = server_config(&cert, &key).unwrap_err();
        assert!(matches!(e, TlsFileError::NoKey { .. }), "{e}");
        assert!(e.to_string().contains("key.pem"), "{e}");
        assert_eq!(
            TlsFiles::from_flags(Some(cert.clone()), None),
            None,
            "both or neither"
        );
    }
}
