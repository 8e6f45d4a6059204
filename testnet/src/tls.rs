//! The local network's certificate authority: made once with `rcgen` in `DIR/tls/`
//! (`ca.pem`, and `ca.key` readable by its owner only), kept and reused by every later
//! `up`, and used to sign a certificate for each node (and, on request, for a department's
//! offer server) for this computer's names — `127.0.0.1`, `::1`, `localhost` — plus any
//! names given for a phone on the local network.
//!
//! It is a test authority: whoever holds `ca.key` can make certificates for any name that
//! a browser trusting `ca.pem` accepts. Trust it only on machines used for testing, and
//! remove it from the browser when done.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::TestnetError;

/// The CA certificate's file name in the TLS folder.
pub const CA_FILE: &str = "ca.pem";
/// The CA key's file name in the TLS folder (mode 0600).
pub const CA_KEY_FILE: &str = "ca.key";
/// The names every certificate is made for: this computer.
pub const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];
/// How long a server certificate is valid (under the 398 days browsers accept).
const SERVER_DAYS: u64 = 397;
/// How long the CA is valid.
const CA_DAYS: u64 = 10 * 365;
const DAY: u64 = 86_400;

/// A certificate and its key, in PEM.
#[derive(Clone, Debug)]
pub struct IssuedCert {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

/// The local certificate authority of one network folder.
pub struct LocalCa {
    dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> TestnetError {
    TestnetError::local(what, e)
}

/// Sets a certificate's validity: from the day of `from` to the day of `to` (seconds since
/// 1970).
fn set_validity(params: &mut CertificateParams, from: u64, to: u64) {
    let from = ecert_schemas::date::date_of_unix(from);
    let to = ecert_schemas::date::date_of_unix(to);
    params.not_before = rcgen::date_time_ymd(i32::from(from.year), from.month, from.day);
    params.not_after = rcgen::date_time_ymd(i32::from(to.year), to.month, to.day);
}

/// The CA's parameters: the same every time for the same key, so that a CA read back from
/// its key signs certificates that chain to the `ca.pem` written when it was made. Its name
/// carries the start of its key, so that two networks' CAs never share a name.
fn ca_params(key: &KeyPair, now: u64) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    let id: String = key
        .public_key_raw()
        .iter()
        .skip(1)
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    name.push(DnType::CommonName, format!("ecert local test CA {id}"));
    name.push(DnType::OrganizationName, "ecert-testnet");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(
        &mut params,
        now.saturating_sub(DAY),
        now.saturating_add(CA_DAYS * DAY),
    );
    params
}

/// Writes `bytes` to `path`, readable by its owner only (Unix).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TestnetError> {
    let what = path.display().to_string();
    fs::write(path, bytes).map_err(|e| failed(&what, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| failed(&what, e))?;
    }
    Ok(())
}

impl LocalCa {
    /// The CA in `dir` (the network's `tls/` folder): read back if `ca.pem` and `ca.key`
    /// are there, else made and written. `now`: seconds since 1970.
    pub fn open_or_create(dir: &Path, now: u64) -> Result<LocalCa, TestnetError> {
        let cert_path = dir.join(CA_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        if key_path.exists() && cert_path.exists() {
            let pem = fs::read_to_string(&key_path)
                .map_err(|e| failed(&key_path.display().to_string(), e))?;
            let key =
                KeyPair::from_pem(&pem).map_err(|e| failed(&key_path.display().to_string(), e))?;
            return Ok(LocalCa {
                dir: dir.to_owned(),
                issuer: Issuer::new(ca_params(&key, now), key),
            });
        }
        fs::create_dir_all(dir).map_err(|e| failed(&dir.display().to_string(), e))?;
        let key = KeyPair::generate().map_err(|e| failed("make the CA key", e))?;
        let params = ca_params(&key, now);
        let cert = params
            .self_signed(&key)
            .map_err(|e| failed("make the CA certificate", e))?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        fs::write(&cert_path, cert.pem())
            .map_err(|e| failed(&cert_path.display().to_string(), e))?;
        Ok(LocalCa {
            dir: dir.to_owned(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate's file (`ca.pem`): what browsers, phones and `--ca` trust.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join(CA_FILE)
    }

    /// A server certificate named `name`, for this computer's names plus `hosts` (DNS
    /// names or IP addresses), valid from yesterday for [`SERVER_DAYS`].
    pub fn issue(
        &self,
        name: &str,
        hosts: &[String],
        now: u64,
    ) -> Result<IssuedCert, TestnetError> {
        let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect();
        for host in hosts {
            if !names.contains(host) {
                names.push(host.clone());
            }
        }
        self.issue_for(name, &names, now)
    }

    /// A server certificate named `name` for exactly `names` (DNS names or IP addresses).
    pub fn issue_for(
        &self,
        name: &str,
        names: &[String],
        now: u64,
    ) -> Result<IssuedCert, TestnetError> {
        let names = names.to_vec();
        let mut params = CertificateParams::new(names)
            .map_err(|e| failed(&format!("certificate names for {name}"), e))?;
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, name.to_owned());
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        set_validity(
            &mut params,
            now.saturating_sub(DAY),
            now.saturating_add(SERVER_DAYS * DAY),
        );
        let key = KeyPair::generate().map_err(|e| failed("make a server key", e))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| failed(&format!("sign the certificate of {name}"), e))?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Issues a certificate ([`LocalCa::issue`]) and writes it to `cert` and its key to
    /// `key` (mode 0600).
    pub fn write(
        &self,
        name: &str,
        hosts: &[String],
        now: u64,
        cert: &Path,
        key: &Path,
    ) -> Result<(), TestnetError> {
        let issued = self.issue(name, hosts, now)?;
        for path in [cert, key] {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent).map_err(|e| failed(&parent.display().to_string(), e))?;
            }
        }
        write_private(key, issued.key_pem.as_bytes())?;
        fs::write(cert, issued.cert_pem).map_err(|e| failed(&cert.display().to_string(), e))
    }
}

/// Checks a `--tls-host` value: a DNS name or an IP address, nothing else.
pub fn check_host(host: &str) -> Result<String, TestnetError> {
    let host = host.trim();
    let ok = !host.is_empty()
        && host.len() <= 253
        && (host.parse::<std::net::IpAddr>().is_ok()
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    if ok {
        Ok(host.to_ascii_lowercase())
    } else {
        Err(TestnetError::local(
            format!("--tls-host {host:?}"),
            "give a host name (phone-test.local) or an IP address (192.168.1.20)",
        ))
    }
}
