//! The certificates in a wallet as their holder sees them: decoded entries of both formats,
//! short ids, the kinds' names and field labels, validity at a given time, the copies left
//! of a certificate of one-time copies, picking certificates by kind or short id, and every
//! field of one certificate with its labels.
//!
//! A certificate of format 2 has an id too, in its package: it names the certificate
//! between its holder and its department (to have it issued again, or revoked) and is
//! never shown to a counter, so its short id serves the holder as a format-1 one does.
//!
//! Pure: time is passed in, and the texts for people (lists, error advice naming a
//! command) are left to the tool or app on top.

use ecert_schemas::presentation::MAX_ITEMS;
use ecert_schemas::{Certificate, CertificatePackage, Disclosure, FieldValue, Kind, KindRegistry};
use ecert_schemas::{CertificateId, FieldDef, IssuerId, KindId, SchemaError, UnixTime};
use ecert_verifier::report::ValueView;
use serde::Serialize;
use thiserror::Error;

use crate::copies::{CopiesLeft, HeldCopies};
use crate::store::Held;

/// Number of hex digits of a certificate id shown as its short id.
pub const SHORT_ID_LEN: usize = 8;

/// Why the certificates of a wallet could not be read, or a choice among them not made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CertsError {
    /// A stored package's certificate cannot be decoded.
    #[error("certificate {} in the wallet is unreadable", .index + 1)]
    Unreadable {
        /// Its position in the wallet (from 0).
        index: usize,
        /// Why.
        source: SchemaError,
    },
    /// An empty selector.
    #[error("say which certificate: its kind (e.g. id-card) or its short ID")]
    NoSelector,
    /// A known kind, but the wallet holds no certificate of it.
    #[error("there is no {kind} certificate in this wallet")]
    NoneOfKind {
        /// The kind asked for.
        kind: String,
    },
    /// Neither a kind nor hexadecimal digits.
    #[error("{selector:?} is neither a certificate kind nor a short ID")]
    NotAKindOrShortId {
        /// What was given.
        selector: String,
    },
    /// No certificate id starts with these digits.
    #[error("no certificate has a short ID starting with {prefix:?}")]
    NoSuchShortId {
        /// The digits given.
        prefix: String,
    },
    /// Several certificates fit the selector.
    #[error(
        "{selector:?} could mean {} certificates ({}); use one of their short IDs instead",
        .short_ids.len(),
        .short_ids.join(", ")
    )]
    Ambiguous {
        /// What was given.
        selector: String,
        /// The candidates' positions in the wallet.
        indexes: Vec<usize>,
        /// The candidates' short ids, in the same order.
        short_ids: Vec<String>,
    },
    /// One certificate chosen twice for one presentation.
    #[error("certificate {short_id} is chosen twice; list all its fields in one choice")]
    ChosenTwice {
        /// Its short id.
        short_id: String,
    },
    /// No certificate, or more than fit in one presentation.
    #[error("choose 1 to {MAX_ITEMS} certificates for one QR code, not {count}")]
    ChoiceCount {
        /// How many were chosen.
        count: usize,
    },
}

/// Whether a certificate's dates allow its use at some time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// Within its validity period: a counter accepts its dates.
    Valid,
    /// Its validity has ended.
    Expired,
    /// Its validity has not started.
    NotYetValid,
}

/// A certificate of the wallet in its format.
#[derive(Clone, Debug)]
pub enum Form<'a> {
    /// Format 1: one certificate, shown as it is at every counter.
    Whole {
        /// The package as received.
        package: &'a CertificatePackage,
        /// Its certificate, decoded.
        certificate: Box<Certificate>,
    },
    /// Format 2: one-time copies, each shown once.
    Copies(&'a HeldCopies),
}

/// One certificate of the wallet, decoded.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// Its position in the wallet.
    pub index: usize,
    /// The certificate, in its format.
    pub form: Form<'a>,
}

impl Entry<'_> {
    /// The certificate id (format 2: the package's, between holder and department only).
    pub fn id(&self) -> &CertificateId {
        match &self.form {
            Form::Whole { certificate, .. } => &certificate.claims.id,
            Form::Copies(held) => &held.package().id,
        }
    }

    /// The certificate id in hex.
    pub fn id_hex(&self) -> String {
        self.id().to_hex()
    }

    /// The first [`SHORT_ID_LEN`] hex digits of the certificate id.
    pub fn short_id(&self) -> String {
        self.id_hex().chars().take(SHORT_ID_LEN).collect()
    }

    /// The certificate's kind.
    pub fn kind_id(&self) -> &KindId {
        match &self.form {
            Form::Whole { certificate, .. } => &certificate.claims.kind,
            Form::Copies(held) => &held.package().kind,
        }
    }

    /// The department that issued it.
    pub fn issuer(&self) -> &IssuerId {
        match &self.form {
            Form::Whole { certificate, .. } => &certificate.claims.issuer,
            Form::Copies(held) => &held.package().issuer,
        }
    }

    /// When it was issued.
    pub fn issued_at(&self) -> UnixTime {
        match &self.form {
            Form::Whole { certificate, .. } => certificate.claims.issued_at,
            Form::Copies(held) => held.package().issued_at,
        }
    }

    /// The start of its validity.
    pub fn valid_from(&self) -> UnixTime {
        match &self.form {
            Form::Whole { certificate, .. } => certificate.claims.valid_from,
            Form::Copies(held) => held.package().valid_from,
        }
    }

    /// The end of its validity (the first second it is no longer valid).
    pub fn expires(&self) -> UnixTime {
        match &self.form {
            Form::Whole { certificate, .. } => certificate.claims.expires,
            Form::Copies(held) => held.package().expires,
        }
    }

    /// Format 2: the copies left to show, of how many; `None` for format 1.
    pub fn copies(&self) -> Option<CopiesLeft> {
        match &self.form {
            Form::Whole { .. } => None,
            Form::Copies(held) => Some(held.count()),
        }
    }

    /// The certificate's kind, if this software knows it.
    pub fn kind<'k>(&self, kinds: &'k KindRegistry) -> Option<&'k Kind> {
        kinds.get(self.kind_id()).ok()
    }

    /// The kind's name for people, e.g. "National ID card (居民身份证)"; the kind id if
    /// this software does not know the kind.
    pub fn kind_name(&self, kinds: &KindRegistry) -> String {
        kind_name(self.kind_id(), kinds)
    }

    /// The certificate's validity at `now`.
    pub fn validity(&self, now: UnixTime) -> Validity {
        if now >= self.expires() {
            Validity::Expired
        } else if now < self.valid_from() {
            Validity::NotYetValid
        } else {
            Validity::Valid
        }
    }

    /// Whether the certificate's validity has ended at `now`.
    pub fn expired(&self, now: UnixTime) -> bool {
        self.validity(now) == Validity::Expired
    }

    /// Whether the certificate's validity has not started at `now`.
    pub fn not_yet_valid(&self, now: UnixTime) -> bool {
        self.validity(now) == Validity::NotYetValid
    }

    /// Whether a counter would accept its dates at `now`.
    pub fn valid_at(&self, now: UnixTime) -> bool {
        self.validity(now) == Validity::Valid
    }

    /// The values the certificate carries, by field number.
    fn values(&self) -> Vec<(u16, FieldValue)> {
        match &self.form {
            Form::Whole { package, .. } => package
                .disclosures
                .iter()
                .filter_map(|bytes| Disclosure::from_bytes(bytes).ok())
                .map(|d| (d.field, d.value))
                .collect(),
            Form::Copies(held) => held
                .package()
                .fields
                .iter()
                .filter_map(|f| f.value.clone().map(|v| (f.field, v)))
                .collect(),
        }
    }

    /// Every field of the certificate with its labels: the kind's fields in the kind's
    /// order (those this certificate does not carry with no value), then values whose
    /// field number the kind lacks (or all of them, by number, when the kind is unknown).
    /// Disclosures that cannot be decoded are left out.
    pub fn fields(&self, kinds: &KindRegistry) -> Vec<FieldLine> {
        let mut values = self.values();
        let mut lines = Vec::new();
        if let Some(kind) = self.kind(kinds) {
            for field in &kind.fields {
                let value = values
                    .iter()
                    .position(|(n, _)| *n == field.number)
                    .map(|at| values.remove(at).1);
                lines.push(FieldLine::new(field.number, Some(field), value));
            }
        }
        lines.extend(
            values
                .into_iter()
                .map(|(number, value)| FieldLine::new(number, None, Some(value))),
        );
        lines
    }
}

/// One field of a certificate, as [`Entry::fields`] lists it. Serializes with
/// `camelCase` member names (the browser wallet's `FieldView`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldLine {
    /// The field's number in the kind.
    pub number: u16,
    /// Its key (what a presentation asks for), if the kind is known and has the field.
    pub key: Option<String>,
    /// Its label in English, likewise.
    pub label: Option<String>,
    /// Its label in the local language, if the kind has one.
    pub label_local: Option<String>,
    /// The value, if the certificate carries the field.
    pub value: Option<ValueView>,
    /// The value as one line of text, likewise.
    pub text: Option<String>,
}

impl FieldLine {
    fn new(number: u16, field: Option<&FieldDef>, value: Option<FieldValue>) -> FieldLine {
        FieldLine {
            number,
            key: field.map(|f| f.key.clone()),
            label: field.map(|f| f.label.clone()),
            label_local: field.and_then(|f| f.label_local.clone()),
            text: value.as_ref().map(FieldValue::to_string),
            value: value.as_ref().map(ValueView::from),
        }
    }
}

/// A kind's name for people, e.g. "National ID card (居民身份证)"; the kind id if this
/// software does not know the kind.
pub fn kind_name(kind: &KindId, kinds: &KindRegistry) -> String {
    match kinds.get(kind) {
        Ok(known) => match &known.name_local {
            Some(local) => format!("{} ({local})", known.name),
            None => known.name.clone(),
        },
        Err(_) => kind.to_string(),
    }
}

/// Decodes every certificate of the wallet.
pub fn entries(packages: &[Held]) -> Result<Vec<Entry<'_>>, CertsError> {
    packages
        .iter()
        .enumerate()
        .map(|(index, held)| {
            let form = match held {
                Held::Whole(package) => Form::Whole {
                    package,
                    certificate: Box::new(
                        Certificate::from_bytes(&package.certificate)
                            .map_err(|source| CertsError::Unreadable { index, source })?,
                    ),
                },
                Held::Copies(copies) => Form::Copies(copies),
            };
            Ok(Entry { index, form })
        })
        .collect()
}

/// Finds the one certificate meant by `selector`: a kind id (`id-card`) or the start of a
/// certificate id (`3fa2`, case-insensitive).
///
/// Several certificates of one kind: the one valid at `now` is taken if there is exactly
/// one; otherwise [`CertsError::Ambiguous`] names the candidates.
pub fn select<'e, 'p>(
    entries: &'e [Entry<'p>],
    selector: &str,
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<&'e Entry<'p>, CertsError> {
    let selector = selector.trim();
    if selector.is_empty() {
        return Err(CertsError::NoSelector);
    }
    let by_kind: Vec<&Entry<'p>> = entries
        .iter()
        .filter(|e| e.kind_id().as_str() == selector)
        .collect();
    let known_kind = kinds.get_str(selector).is_ok() || !by_kind.is_empty();
    let candidates = if known_kind {
        if by_kind.is_empty() {
            return Err(CertsError::NoneOfKind {
                kind: selector.to_owned(),
            });
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
            return Err(CertsError::NotAKindOrShortId {
                selector: selector.to_owned(),
            });
        }
        entries
            .iter()
            .filter(|e| e.id_hex().starts_with(&prefix))
            .collect()
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(CertsError::NoSuchShortId {
            prefix: selector.to_owned(),
        }),
        several => Err(CertsError::Ambiguous {
            selector: selector.to_owned(),
            indexes: several.iter().map(|e| e.index).collect(),
            short_ids: several.iter().map(|e| e.short_id()).collect(),
        }),
    }
}

/// One certificate chosen for a presentation and the keys of the fields to show from it.
#[derive(Clone, Debug)]
pub struct Choice<'e, 'p> {
    /// The certificate.
    pub entry: &'e Entry<'p>,
    /// The field keys to disclose (may be empty).
    pub fields: Vec<String>,
}

/// Resolves the `(selector, field keys)` pairs of one presentation with [`select`]:
/// 1 to [`MAX_ITEMS`] certificates, none chosen twice. Field keys are trimmed and empty
/// ones dropped; whether they exist is checked by [`crate::present()`].
pub fn choose<'e, 'p>(
    entries: &'e [Entry<'p>],
    specs: &[(String, Vec<String>)],
    kinds: &KindRegistry,
    now: UnixTime,
) -> Result<Vec<Choice<'e, 'p>>, CertsError> {
    if specs.is_empty() || specs.len() > MAX_ITEMS {
        return Err(CertsError::ChoiceCount { count: specs.len() });
    }
    let mut choices: Vec<Choice<'e, 'p>> = Vec::with_capacity(specs.len());
    for (selector, fields) in specs {
        let entry = select(entries, selector, kinds, now)?;
        if choices.iter().any(|c| c.entry.index == entry.index) {
            return Err(CertsError::ChosenTwice {
                short_id: entry.short_id(),
            });
        }
        let fields = fields
            .iter()
            .map(|f| f.trim())
            .filter(|f| !f.is_empty())
            .map(String::from)
            .collect();
        choices.push(Choice { entry, fields });
    }
    Ok(choices)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::HolderKey;
    use ecert_schemas::codec::ByteBuf;
    use ecert_schemas::{AnchorProof, CertificateClaims, CertificateId, IssuerId, KeyId};
    use ecert_schemas::{KindId, Salt, StatusIndex};
    use ecert_verifier::crypto;
    use rand_core::OsRng;
    use std::collections::BTreeMap;

    /// A signed package of `kind` with id bytes `id`, valid `from..until`, carrying
    /// `fields` (number, text).
    pub(crate) fn package(
        holder: &HolderKey,
        kind: &str,
        id: [u8; 16],
        from: u64,
        until: u64,
        fields: &[(u16, &str)],
    ) -> CertificatePackage {
        let disclosures: Vec<(u16, Vec<u8>)> = fields
            .iter()
            .map(|(n, v)| {
                let bytes = Disclosure {
                    salt: Salt([*n as u8; 16]),
                    field: *n,
                    value: FieldValue::Text((*v).into()),
                }
                .to_bytes()
                .unwrap();
                (*n, bytes)
            })
            .collect();
        let claims = CertificateClaims {
            issuer: IssuerId::new("public-security").unwrap(),
            expires: UnixTime(until),
            valid_from: UnixTime(from),
            issued_at: UnixTime(from),
            id: CertificateId(id),
            holder: holder.public_key(),
            kind: KindId::new(kind).unwrap(),
            status_index: StatusIndex(0),
            digests: disclosures
                .iter()
                .map(|(n, b)| (*n, ecert_schemas::field_digest(b)))
                .collect::<BTreeMap<_, _>>(),
        };
        let issuer = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let mut cose =
            Certificate::unsigned(&claims, KeyId::of(&crypto::public_key(&issuer))).unwrap();
        crypto::sign_cose_sign1(&issuer, &mut cose, &[]).unwrap();
        CertificatePackage {
            version: 1,
            certificate: ByteBuf::from(cose.to_bytes().unwrap()),
            disclosures: disclosures
                .into_iter()
                .map(|(_, b)| ByteBuf::from(b))
                .collect(),
            anchor: AnchorProof {
                batch_seq: 0,
                leaf_index: 0,
                path: vec![],
            },
        }
    }

    /// A time at which every certificate of [`wallet`] is valid.
    const NOW: UnixTime = UnixTime(150);

    fn wallet() -> Vec<Held> {
        let holder = HolderKey::generate(&mut OsRng);
        let packages = vec![
            package(
                &holder,
                "id-card",
                [0xab; 16],
                100,
                1000,
                &[(0, "张伟"), (77, "?")],
            ),
            package(
                &holder,
                "no-criminal-record",
                [0x12; 16],
                100,
                200,
                &[(0, "李娜")],
            ),
            package(
                &holder,
                "no-criminal-record",
                [0x13; 16],
                100,
                1000,
                &[(0, "李娜")],
            ),
        ];
        packages.into_iter().map(Held::from).collect()
    }

    #[test]
    fn names_validity_and_fields() {
        let kinds = KindRegistry::builtin().unwrap();
        let packages = wallet();
        let all = entries(&packages).unwrap();
        let id = &all[0];
        assert_eq!(id.short_id(), "abababab");
        assert_eq!(id.kind_name(&kinds), "National ID card (居民身份证)");
        assert_eq!(id.validity(UnixTime(99)), Validity::NotYetValid);
        assert_eq!(id.validity(UnixTime(100)), Validity::Valid);
        assert_eq!(id.validity(UnixTime(1000)), Validity::Expired);
        let fields = id.fields(&kinds);
        let kind = kinds.get_str("id-card").unwrap();
        assert_eq!(fields.len(), kind.fields.len() + 1);
        let name = &fields[0];
        assert_eq!(name.key.as_deref(), Some("name"));
        assert_eq!(name.label_local.as_deref(), Some("姓名"));
        assert_eq!(name.value, Some(ValueView::Text("张伟".into())));
        assert_eq!(name.text.as_deref(), Some("张伟"));
        assert!(fields[1].value.is_none(), "a field this certificate lacks");
        let extra = fields.last().unwrap();
        assert_eq!((extra.number, extra.key.as_ref()), (77, None));

        let mut broken = packages.clone();
        if let Held::Whole(p) = &mut broken[1] {
            p.certificate = ByteBuf::from(vec![1, 2, 3]);
        }
        assert!(matches!(
            entries(&broken),
            Err(CertsError::Unreadable { index: 1, .. })
        ));
    }

    #[test]
    fn selecting_by_kind_or_short_id() {
        let kinds = KindRegistry::builtin().unwrap();
        let packages = wallet();
        let all = entries(&packages).unwrap();
        assert_eq!(select(&all, " id-card ", &kinds, NOW).unwrap().index, 0);
        assert_eq!(select(&all, "ABAB", &kinds, NOW).unwrap().index, 0);
        // Two of one kind, both valid: ambiguous; later only one is valid.
        match select(&all, "no-criminal-record", &kinds, NOW) {
            Err(CertsError::Ambiguous {
                indexes, short_ids, ..
            }) => {
                assert_eq!(indexes, [1, 2]);
                assert_eq!(short_ids, ["12121212", "13131313"]);
            }
            other => panic!("{other:?}"),
        }
        let later = select(&all, "no-criminal-record", &kinds, UnixTime(500));
        assert_eq!(later.unwrap().index, 2);
        assert_eq!(select(&all, "1", &kinds, NOW).unwrap_err().to_string(),
            "\"1\" could mean 2 certificates (12121212, 13131313); use one of their short IDs instead");
        assert_eq!(
            select(&all, "", &kinds, NOW).unwrap_err(),
            CertsError::NoSelector
        );
        assert!(matches!(
            select(&all, "driver-licence", &kinds, NOW),
            Err(CertsError::NoneOfKind { .. })
        ));
        assert!(matches!(
            select(&all, "passport", &kinds, NOW),
            Err(CertsError::NotAKindOrShortId { .. })
        ));
        assert!(matches!(
            select(&all, "ff", &kinds, NOW),
            Err(CertsError::NoSuchShortId { .. })
        ));
    }

    #[test]
    fn choosing_for_a_presentation() {
        let kinds = KindRegistry::builtin().unwrap();
        let packages = wallet();
        let all = entries(&packages).unwrap();
        let spec = |s: &str, f: &[&str]| (s.to_owned(), f.iter().map(|x| x.to_string()).collect());
        let chosen = choose(
            &all,
            &[spec("id-card", &[" name", "", "sex"]), spec("1212", &[])],
            &kinds,
            NOW,
        )
        .unwrap();
        assert_eq!(chosen[0].fields, ["name", "sex"]);
        assert_eq!(chosen[1].entry.index, 1);
        assert!(matches!(
            choose(
                &all,
                &[spec("id-card", &[]), spec("abab", &[])],
                &kinds,
                NOW
            ),
            Err(CertsError::ChosenTwice { .. })
        ));
        assert!(matches!(
            choose(&all, &[], &kinds, NOW),
            Err(CertsError::ChoiceCount { count: 0 })
        ));
        let nine: Vec<_> = (0..9).map(|_| spec("id-card", &[])).collect();
        assert!(matches!(
            choose(&all, &nine, &kinds, NOW),
            Err(CertsError::ChoiceCount { count: 9 })
        ));
    }

    #[test]
    fn certificates_of_one_time_copies_are_listed_and_chosen_like_the_others() {
        let kinds = KindRegistry::builtin().unwrap();
        let mut packages = wallet();
        let holder = HolderKey::generate(&mut OsRng).public_key();
        let copies = crate::copies::tests::package(
            &holder,
            [0xcd; 16],
            100,
            1000,
            &[(0, "张伟"), (5, "110108199003070016")],
            4,
        );
        let mut held = HeldCopies::new(copies);
        held.spend(0).unwrap();
        packages.push(Held::Copies(held));
        let all = entries(&packages).unwrap();
        let card = &all[3];
        assert_eq!(card.short_id(), "cdcdcdcd");
        assert_eq!(card.kind_id().as_str(), "id-card");
        assert_eq!(card.issuer().as_str(), "public-security");
        assert_eq!(card.copies(), Some(CopiesLeft { left: 3, total: 4 }));
        assert_eq!(all[0].copies(), None);
        assert_eq!(card.validity(UnixTime(150)), Validity::Valid);
        assert_eq!(card.validity(UnixTime(1000)), Validity::Expired);
        let fields = card.fields(&kinds);
        assert_eq!(fields.len(), kinds.get_str("id-card").unwrap().fields.len());
        assert_eq!(fields[0].text.as_deref(), Some("张伟"));
        assert!(fields[1].value.is_none());
        assert_eq!(
            fields
                .iter()
                .find(|f| f.key.as_deref() == Some("id_number"))
                .and_then(|f| f.text.as_deref()),
            Some("110108199003070016")
        );
        // By short id; by kind, two ID cards valid now are ambiguous.
        assert_eq!(select(&all, "CDCD", &kinds, NOW).unwrap().index, 3);
        match select(&all, "id-card", &kinds, NOW) {
            Err(CertsError::Ambiguous { short_ids, .. }) => {
                assert_eq!(short_ids, ["abababab", "cdcdcdcd"])
            }
            other => panic!("{other:?}"),
        }
    }
}
