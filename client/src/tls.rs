//! How the tools' connections are secured: which certificate authorities `https://` trusts,
//! and whether plain `http://` may leave this computer.
//!
//! - Without `--ca`, `https://` trusts the public web PKI roots bundled with the tools
//!   (`webpki-roots`, Mozilla's list), not the operating system's store.
//! - With `--ca FILE` (PEM, one or more certificates), only those authorities are trusted:
//!   the department's own CA is pinned, and a certificate from any other CA, public or not,
//!   is refused.
//! - Plain `http://` goes only to loopback hosts (127.0.0.0/8, `::1`, `localhost`) unless
//!   the person gave `--insecure-http`.
//!
//! A failed TLS handshake is told apart from other connection failures ([`TlsProblem`]):
//! an unknown authority, a certificate for another name, an expired one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ecert_shell::files::{read_limited, FileError};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use thiserror::Error;

use crate::url::{Scheme, ServerUrl, UrlError, UrlProblem};

/// Largest CA file read (a bundle of a few hundred certificates).
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Why a CA file cannot be used. Every message names the file.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CaError {
    /// The file could not be read.
    #[error("cannot read the CA file {}: {detail}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// Larger than [`MAX_CA_FILE_BYTES`].
    #[error("the CA file {} is larger than {MAX_CA_FILE_BYTES} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// Not PEM, or no `CERTIFICATE` in it.
    #[error(
        "the CA file {} holds no PEM certificate (a block starting with -----BEGIN \
         CERTIFICATE-----){}",
        path.display(),
        detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said, if anything.
        detail: Option<String>,
    },
    /// A certificate in it cannot be a trust anchor.
    #[error("the CA file {}: certificate {number} cannot be trusted as an authority: {detail}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// Its position in the file, from 1.
        number: usize,
        /// Why.
        detail: String,
    },
}

/// Why a TLS handshake failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TlsProblem {
    /// The server's certificate does not chain to a trusted authority.
    #[error(
        "its certificate is not issued by an authority trusted here (with --ca FILE only that \
         CA is trusted; without it, only the public web authorities)"
    )]
    UnknownAuthority,
    /// The certificate is for another name than the one in the address.
    #[error(
        "its certificate is not made out for the name or address used; use the name the \
         certificate was made for"
    )]
    WrongName,
    /// Expired, or not valid yet.
    #[error("its certificate has expired or is not valid yet (check this computer's clock)")]
    Expired,
    /// Any other TLS failure (the server may not speak TLS at all).
    #[error("the secure (TLS) connection failed ({0}); is it an https server?")]
    Other(String),
}

impl TlsProblem {
    /// Classifies a rustls error.
    pub(crate) fn of_rustls(error: &rustls::Error) -> TlsProblem {
        use rustls::CertificateError as C;
        match error {
            rustls::Error::InvalidCertificate(cert) => match cert {
                // A certificate from another CA of the same name fails its signature check.
                C::UnknownIssuer | C::BadSignature => TlsProblem::UnknownAuthority,
                C::NotValidForName | C::NotValidForNameContext { .. } => TlsProblem::WrongName,
                C::Expired
                | C::ExpiredContext { .. }
                | C::NotValidYet
                | C::NotValidYetContext { .. } => TlsProblem::Expired,
                other => TlsProblem::Other(format!("invalid certificate: {other:?}")),
            },
            other => TlsProblem::Other(other.to_string()),
        }
    }

    /// The TLS problem inside an I/O error, if it is one.
    pub(crate) fn of_io(error: &std::io::Error) -> Option<TlsProblem> {
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(TlsProblem::of_rustls)
    }
}

/// The authorities `https://` trusts.
#[derive(Clone, Debug, Default)]
enum Roots {
    /// The bundled web PKI roots.
    #[default]
    WebPki,
    /// Only these (from `--ca`).
    Pinned {
        certificates: Arc<Vec<ureq::tls::Certificate<'static>>>,
        source: String,
    },
}

/// The connection policy of a tool: the authorities trusted for `https://` and whether
/// plain `http://` may go beyond this computer. The default trusts the web PKI roots and
/// keeps plain HTTP on loopback.
#[derive(Clone, Debug, Default)]
pub struct Transport {
    roots: Roots,
    insecure_http: bool,
}

/// The connection flags of every tool that talks to a server, global to all its commands:
/// `--ca FILE` and `--insecure-http`. A tool's command line takes them with
/// `#[command(flatten)]`; [`TransportArgs::transport`] makes the policy they ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct TransportArgs {
    /// Trust only this certificate authority (PEM file, one or more certificates) for
    /// https:// servers [default: the public web authorities bundled with the tool]
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// Allow plain http:// to another computer than this one (unencrypted; only on a
    /// network you trust). Plain http:// to 127.0.0.1, ::1 or localhost is always allowed.
    #[arg(long, global = true)]
    pub insecure_http: bool,
}

impl TransportArgs {
    /// The policy of these flags: `--ca FILE` pins that CA (else the web PKI roots),
    /// `--insecure-http` allows plain HTTP to other computers.
    pub fn transport(&self) -> Result<Transport, CaError> {
        let transport = match &self.ca {
            Some(path) => Transport::pinned_file(path)?,
            None => Transport::default(),
        };
        Ok(transport.allow_insecure_http(self.insecure_http))
    }
}

impl Transport {
    /// Trusts only the certificates of the PEM file at `path`.
    pub fn pinned_file(path: &Path) -> Result<Transport, CaError> {
        let pem = read_limited(path, MAX_CA_FILE_BYTES).map_err(|e| match e {
            FileError::TooLarge { path, .. } => CaError::TooLarge { path },
            FileError::Io { source, .. } => CaError::Unreadable {
                path: path.to_owned(),
                detail: source.to_string(),
            },
            other => CaError::Unreadable {
                path: path.to_owned(),
                detail: other.to_string(),
            },
        })?;
        Transport::pinned_pem(&pem, path)
    }

    /// Trusts only the certificates in `pem`, read from `path` (named in errors).
    pub fn pinned_pem(pem: &[u8], path: &Path) -> Result<Transport, CaError> {
        let mut certificates = Vec::new();
        for (i, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| CaError::NoCertificate {
                path: path.to_owned(),
                detail: Some(e.to_string()),
            })?;
            let mut check = rustls::RootCertStore::empty();
            check
                .add(der.clone())
                .map_err(|e| CaError::BadCertificate {
                    path: path.to_owned(),
                    number: i + 1,
                    detail: e.to_string(),
                })?;
            certificates.push(ureq::tls::Certificate::from_der(der.as_ref()).to_owned());
        }
        if certificates.is_empty() {
            return Err(CaError::NoCertificate {
                path: path.to_owned(),
                detail: None,
            });
        }
        Ok(Transport {
            roots: Roots::Pinned {
                certificates: Arc::new(certificates),
                source: path.display().to_string(),
            },
            insecure_http: false,
        })
    }

    /// The same policy, with plain HTTP to other computers allowed or not.
    pub fn allow_insecure_http(mut self, allowed: bool) -> Transport {
        self.insecure_http = allowed;
        self
    }

    /// Whether plain HTTP may go to other computers (`--insecure-http`).
    pub fn insecure_http(&self) -> bool {
        self.insecure_http
    }

    /// The pinned CA file, if `https://` trusts only it.
    pub fn pinned_source(&self) -> Option<&str> {
        match &self.roots {
            Roots::Pinned { source, .. } => Some(source),
            Roots::WebPki => None,
        }
    }

    /// Whether this policy lets a request go to `server`: HTTPS always, plain HTTP to a
    /// loopback host, or anywhere with `--insecure-http`.
    pub fn check(&self, server: &ServerUrl) -> Result<(), UrlError> {
        if server.scheme() == Scheme::Http && !server.is_loopback() && !self.insecure_http {
            return Err(UrlError {
                text: server.base().to_owned(),
                problem: UrlProblem::PlainHttp,
            });
        }
        Ok(())
    }

    /// Reads a server address a person gave and checks it against this policy.
    pub fn server(&self, text: &str) -> Result<ServerUrl, UrlError> {
        let server = ServerUrl::parse(text)?;
        self.check(&server)?;
        Ok(server)
    }

    /// ureq's TLS configuration for this policy (rustls, ring provider).
    pub(crate) fn tls_config(&self) -> ureq::tls::TlsConfig {
        let roots = match &self.roots {
            Roots::WebPki => ureq::tls::RootCerts::WebPki,
            Roots::Pinned { certificates, .. } => {
                ureq::tls::RootCerts::Specific(certificates.clone())
            }
        };
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(roots)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_stays_on_this_computer_unless_allowed() {
        let strict = Transport::default();
        for ok in [
            "http://127.0.0.1:7300",
            "http://localhost:1",
            "http://[::1]:2",
            "https://10.1.2.3:8443",
            "https://node.example",
        ] {
            assert!(strict.server(ok).is_ok(), "{ok}");
        }
        let e = strict.server("http://192.0.2.7:7300").unwrap_err();
        assert_eq!(e.problem, UrlProblem::PlainHttp);
        let text = e.to_string();
        assert!(
            text.contains("--insecure-http") && text.contains("https://"),
            "{text}"
        );
        let loose = Transport::default().allow_insecure_http(true);
        assert!(loose.server("http://192.0.2.7:7300").is_ok());
        assert!(loose.insecure_http());
    }

    #[test]
    fn the_flags_make_the_policy() {
        let loose = TransportArgs {
            ca: None,
            insecure_http: true,
        };
        let policy = loose.transport().unwrap();
        assert!(policy.insecure_http() && policy.pinned_source().is_none());
        let pinned = TransportArgs {
            ca: Some(PathBuf::from("/nowhere/ca.pem")),
            insecure_http: false,
        };
        assert!(matches!(
            pinned.transport(),
            Err(CaError::Unreadable { path, .. }) if path == Path::new("/nowhere/ca.pem")
        ));
    }

    #[test]
    fn ca_files_are_checked_and_named() {
        let path = Path::new("/nowhere/ca.pem");
        let e = Transport::pinned_file(path).unwrap_err();
        assert!(matches!(e, CaError::Unreadable { .. }));
        assert!(e.to_string().contains("/nowhere/ca.pem"), "{e}");
        let e = Transport::pinned_pem(b"not pem at all", path).unwrap_err();
        assert!(matches!(e, CaError::NoCertificate { .. }), "{e}");
        assert!(e.to_string().contains("/nowhere/ca.pem"), "{e}");
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let e = Transport::pinned_pem(junk, path).unwrap_err();
        assert!(
            matches!(e, CaError::BadCertificate { number: 1, .. }),
            "{e}"
        );
        let e = Transport::pinned_pem(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            path,
        )
        .unwrap_err();
        assert!(matches!(e, CaError::NoCertificate { .. }), "{e}");
        assert_eq!(Transport::default().pinned_source(), None);
    }

    #[test]
    fn tls_errors_are_classified() {
        use rustls::CertificateError as C;
        let of = |c: C| TlsProblem::of_rustls(&rustls::Error::InvalidCertificate(c));
        assert_eq!(of(C::UnknownIssuer), TlsProblem::UnknownAuthority);
        assert_eq!(of(C::NotValidForName), TlsProblem::WrongName);
        assert_eq!(of(C::Expired), TlsProblem::Expired);
        assert_eq!(of(C::BadSignature), TlsProblem::UnknownAuthority);
        assert!(matches!(of(C::Revoked), TlsProblem::Other(_)));
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(C::UnknownIssuer),
        );
        assert_eq!(TlsProblem::of_io(&io), Some(TlsProblem::UnknownAuthority));
        assert_eq!(TlsProblem::of_io(&std::io::Error::other("plain")), None);
    }
}
