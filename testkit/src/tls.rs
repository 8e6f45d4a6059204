//! Test certificate authorities: a CA in a folder (the local network's own kind,
//! [`ecert_testnet::tls::LocalCa`]) and server certificates from it, as files.

use std::path::{Path, PathBuf};

use ecert_testnet::tls::LocalCa;

/// Seconds since 1970, now.
fn now() -> u64 {
    crate::now().0
}

/// A CA in its own folder, making server certificates for tests.
pub struct TestCa {
    ca: LocalCa,
    dir: PathBuf,
}

impl TestCa {
    /// A new CA in `dir` (created).
    pub fn new(dir: &Path) -> TestCa {
        TestCa {
            ca: LocalCa::open_or_create(dir, now()).unwrap(),
            dir: dir.to_owned(),
        }
    }

    /// The CA certificate (PEM file), what clients pin with `--ca`.
    pub fn ca_file(&self) -> PathBuf {
        self.ca.ca_path()
    }

    /// A server certificate and key named `name`, for 127.0.0.1, ::1, localhost and
    /// `hosts`, written as `DIR/NAME.pem` and `DIR/NAME.key`; returns both paths.
    pub fn server(&self, name: &str, hosts: &[&str]) -> (PathBuf, PathBuf) {
        let hosts: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
        let (cert, key) = (
            self.dir.join(format!("{name}.pem")),
            self.dir.join(format!("{name}.key")),
        );
        self.ca.write(name, &hosts, now(), &cert, &key).unwrap();
        (cert, key)
    }

    /// A certificate and key for other names only (`hosts`, none of this computer's),
    /// written as `DIR/NAME.pem` and `DIR/NAME.key`.
    pub fn server_for_others(&self, name: &str, hosts: &[&str]) -> (PathBuf, PathBuf) {
        let issued = self
            .ca
            .issue_for(
                name,
                &hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>(),
                now(),
            )
            .unwrap();
        let (cert, key) = (
            self.dir.join(format!("{name}.pem")),
            self.dir.join(format!("{name}.key")),
        );
        std::fs::write(&cert, issued.cert_pem).unwrap();
        std::fs::write(&key, issued.key_pem).unwrap();
        (cert, key)
    }
}
