//! The certificates in a wallet as a citizen sees them: short ids, kind names, validity,
//! and picking one by kind or short id.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use ecert_schemas::date::date_of_unix;
use ecert_schemas::{Certificate, CertificatePackage, KindRegistry, UnixTime};

/// Number of hex digits of a certificate id shown as its short id.
pub const SHORT_ID_LEN: usize = 8;

/// The wallet's clock: the computer's time.
pub fn now() -> Result<UnixTime> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("this computer's clock is set before 1970")?
        .as_secs();
    Ok(UnixTime(secs))
}

/// One certificate of the wallet, decoded.
pub struct Entry<'a> {
    /// Its position in the wallet.
    pub index: usize,
    /// The package as received.
    pub package: &'a CertificatePackage,
    /// The decoded certificate.
    pub certificate: Certificate,
}

impl Entry<'_> {
    /// The certificate id in hex.
    pub fn id_hex(&self) -> String {
        self.certificate.claims.id.to_hex()
    }

    /// The first [`SHORT_ID_LEN`] hex digits of the certificate id.
    pub fn short_id(&self) -> String {
        self.id_hex().chars().take(SHORT_ID_LEN).collect()
    }

    /// The kind's name for people, e.g. "National ID card (居民身份证)"; the kind id if
    /// this software does not know the kind.
    pub fn kind_name(&self, kinds: &KindRegistry) -> String {
        let id = &self.certificate.claims.kind;
        match kinds.get(id) {
            Ok(kind) => match &kind.name_local {
                Some(local) => format!("{} ({local})", kind.name),
                None => kind.name.clone(),
            },
            Err(_) => id.to_string(),
        }
    }

    /// Whether the certificate's validity has ended at `now`.
    pub fn expired(&self, now: UnixTime) -> bool {
        now >= self.certificate.claims.expires
    }

    /// Whether the certificate's validity has not started at `now`.
    pub fn not_yet_valid(&self, now: UnixTime) -> bool {
        now < self.certificate.claims.valid_from
    }

    /// Whether a counter would accept its dates at `now`.
    pub fn valid_at(&self, now: UnixTime) -> bool {
        !self.expired(now) && !self.not_yet_valid(now)
    }

    /// One line for lists: short id, kind, issuer, valid until, kind name, EXPIRED.
    pub fn line(&self, kinds: &KindRegistry, now: UnixTime) -> String {
        let claims = &self.certificate.claims;
        let mark = if self.expired(now) {
            "  EXPIRED"
        } else if self.not_yet_valid(now) {
            "  NOT YET VALID"
        } else {
            ""
        };
        format!(
            "{:<8}  {:<22} {:<18} {:<11}  {}{mark}",
            self.short_id(),
            claims.kind.as_str(),
            claims.issuer.as_str(),
            date_of_unix(claims.expires.secs()).to_string(),
            self.kind_name(kinds),
        )
    }
}

/// The column titles above [`Entry::line`]s.
pub const LIST_HEADER: &str =
    "ID        KIND                   ISSUER             VALID UNTIL  NAME";

/// Decodes every package of the wallet.
pub fn entries(packages: &[CertificatePackage]) -> Result<Vec<Entry<'_>>> {
    packages
        .iter()
        .enumerate()
        .map(|(index, package)| {
            let certificate = Certificate::from_bytes(&package.certificate).with_context(|| {
                format!("certificate {} in the wallet is unreadable", index + 1)
            })?;
            Ok(Entry {
                index,
                package,
                certificate,
            })
        })
        .collect()
}

/// Finds the one certificate meant by `selector`: a kind id (`id-card`) or the start of a
/// certificate id (`3fa2`, case-insensitive).
///
/// Several certificates of one kind: the one valid now is taken if there is exactly one;
/// otherwise the error lists the candidates with their short ids.
pub fn select<'e, 'p>(
    entries: &'e [Entry<'p>],
    selector: &str,
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<&'e Entry<'p>> {
    let selector = selector.trim();
    if selector.is_empty() {
        bail!("say which certificate: its kind (e.g. id-card) or its short ID from 'ecert-wallet list'");
    }
    let by_kind: Vec<&Entry<'p>> = entries
        .iter()
        .filter(|e| e.certificate.claims.kind.as_str() == selector)
        .collect();
    let known_kind = kinds.get_str(selector).is_ok() || !by_kind.is_empty();
    let candidates = if known_kind {
        if by_kind.is_empty() {
            bail!(
                "you have no {selector} certificate in your wallet{}",
                overview(entries, kinds, now)
            );
        }
        let valid: Vec<&Entry<'p>> = by_kind
            .iter()
            .copied()
            .filter(|e| e.valid_at(now))
            .collect();
        if valid.len() == 1 {
            valid
        } else {
            by_kind
        }
    } else {
        let prefix = selector.to_ascii_lowercase();
        if !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            bail!(
                "{selector:?} is neither a certificate kind nor a short ID{}",
                overview(entries, kinds, now)
            );
        }
        entries
            .iter()
            .filter(|e| e.id_hex().starts_with(&prefix))
            .collect()
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "no certificate has a short ID starting with {selector:?}{}",
            overview(entries, kinds, now)
        ),
        several => {
            let list: Vec<String> = several
                .iter()
                .map(|e| format!("  {}", e.line(kinds, now)))
                .collect();
            bail!(
                "{selector:?} could mean {} certificates; use one of their short IDs instead:\n{}",
                several.len(),
                list.join("\n")
            )
        }
    }
}

/// ": your certificates are …" for error messages.
fn overview(entries: &[Entry<'_>], kinds: &KindRegistry, now: UnixTime) -> String {
    if entries.is_empty() {
        return " (your wallet is empty: add certificates with 'ecert-wallet receive')".into();
    }
    let lines: Vec<String> = entries
        .iter()
        .map(|e| format!("  {}", e.line(kinds, now)))
        .collect();
    format!("; your certificates are:\n{}", lines.join("\n"))
}
