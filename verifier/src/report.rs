//! What a counter reports for one check: the facts of a [`Verdict`] or of a refusal,
//! with the data's height and age, and each verified certificate as people read it (names
//! in both languages, dates, values as text), whatever the screen or format that shows
//! them (`ecert-verify verify` and its `--json`, the browser counter).
//!
//! These views serialize with `camelCase` member names, the convention of the apps that
//! receive them as data (the browser counter's `VerifyResult`); the command-line counter's
//! documented JSON keeps its own `snake_case` names.

use ecert_schemas::date::date_of_unix;
use ecert_schemas::{FieldValue, KindRegistry, UnixTime};
use serde::Serialize;

use crate::{DisclosedField, TrustStore, Verdict, VerifiedCertificate, VerifyError};

/// A calendar date (UTC) of a time, `YYYY-MM-DD`.
pub fn day(t: UnixTime) -> String {
    date_of_unix(t.secs()).to_string()
}

/// A field value as data: text, a list of texts (driver licence classes), or yes/no (a
/// derived fact, `true`/`false` in JSON); digests as hexadecimal text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ValueView {
    /// Text (also dates, enumerated values and hexadecimal digests).
    Text(String),
    /// A list of texts.
    List(Vec<String>),
    /// A derived fact: yes or no.
    Bool(bool),
}

impl From<&FieldValue> for ValueView {
    fn from(value: &FieldValue) -> ValueView {
        match value {
            FieldValue::Text(t) => ValueView::Text(t.clone()),
            FieldValue::TextList(list) => ValueView::List(list.clone()),
            FieldValue::Bytes(_) => ValueView::Text(value.to_string()),
            FieldValue::Bool(b) => ValueView::Bool(*b),
        }
    }
}

/// A value as one line of text for a counter: text as it is, a list joined with commas,
/// a digest in hexadecimal, a derived fact in both languages (`yes / 是`, `no / 否`).
pub fn value_text(value: &FieldValue) -> String {
    match value {
        FieldValue::Bool(true) => both("yes", Some("是")),
        FieldValue::Bool(false) => both("no", Some("否")),
        other => other.to_string(),
    }
}

/// A field the holder disclosed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisclosedView {
    /// Key, e.g. `id_number`.
    pub key: String,
    /// Label in English.
    pub label: String,
    /// Label in the local language.
    pub label_local: Option<String>,
    /// The value.
    pub value: ValueView,
    /// The value as one line of text.
    pub text: String,
}

impl DisclosedView {
    /// The label in both languages, `Name / 姓名` (English alone when there is no other).
    pub fn labels(&self) -> String {
        both(&self.label, self.label_local.as_deref())
    }
}

impl From<&DisclosedField> for DisclosedView {
    fn from(f: &DisclosedField) -> DisclosedView {
        DisclosedView {
            key: f.key.clone(),
            label: f.label.clone(),
            label_local: f.label_local.clone(),
            value: ValueView::from(&f.value),
            text: value_text(&f.value),
        }
    }
}

/// A verified certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedView {
    /// Kind id.
    pub kind: String,
    /// Kind name in English.
    pub kind_name: String,
    /// Kind name in the local language.
    pub kind_name_local: Option<String>,
    /// Issuer id.
    pub issuer: String,
    /// Issuer's name, from the ledger's registry.
    pub issuer_name: String,
    /// Certificate id, 32 hex digits; none for a one-time copy (format 2), which shows
    /// no id.
    pub id: Option<String>,
    /// Issue time (seconds).
    pub issued_at: u64,
    /// Start of validity (seconds).
    pub valid_from: u64,
    /// End of validity (seconds).
    pub expires: u64,
    /// `issued_at` as a date.
    pub issued_date: String,
    /// `valid_from` as a date.
    pub valid_from_date: String,
    /// `expires` as a date.
    pub expires_date: String,
    /// The fields the holder chose to show, in the kind's order.
    pub disclosed: Vec<DisclosedView>,
}

impl VerifiedView {
    /// The view of a verified certificate, with the local names of `kinds`.
    pub fn of(cert: &VerifiedCertificate, kinds: &KindRegistry) -> VerifiedView {
        VerifiedView {
            kind: cert.kind.to_string(),
            kind_name: cert.kind_name.clone(),
            kind_name_local: kinds
                .get(&cert.kind)
                .ok()
                .and_then(|k| k.name_local.clone()),
            issuer: cert.issuer.to_string(),
            issuer_name: cert.issuer_name.clone(),
            id: cert.id.map(|id| id.to_hex()),
            issued_at: cert.issued_at.secs(),
            valid_from: cert.valid_from.secs(),
            expires: cert.expires.secs(),
            issued_date: day(cert.issued_at),
            valid_from_date: day(cert.valid_from),
            expires_date: day(cert.expires),
            disclosed: cert.disclosed.iter().map(DisclosedView::from).collect(),
        }
    }

    /// The kind's name in both languages, `National ID card / 居民身份证`.
    pub fn title(&self) -> String {
        both(&self.kind_name, self.kind_name_local.as_deref())
    }
}

/// `english / local`, or `english` alone when there is no local text.
fn both(english: &str, local: Option<&str>) -> String {
    match local {
        Some(local) if !local.is_empty() => format!("{english} / {local}"),
        _ => english.to_owned(),
    }
}

/// The facts of one check at `checked_at`. `C` is how the caller shows a verified
/// certificate (usually [`VerifiedView`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome<C> {
    /// VALID or not.
    pub valid: bool,
    /// INVALID: the reason's stable code (`expired`, `revoked`, …).
    pub code: Option<&'static str>,
    /// INVALID: the reason in plain words.
    pub reason: Option<String>,
    /// VALID: the certificates, in presentation order (empty when INVALID).
    pub certificates: Vec<C>,
    /// VALID: the holder's wallet ID (hex).
    pub holder: Option<String>,
    /// VALID: when the wallet signed (seconds).
    pub signed_at: Option<u64>,
    /// VALID: whether a challenge was checked.
    pub nonce_checked: Option<bool>,
    /// The time the check used (seconds).
    pub checked_at: u64,
    /// The certified block the data is as of.
    pub synced_height: u64,
    /// That block's time (seconds).
    pub synced_at: u64,
    /// Age of the revocation data at `checked_at` (seconds).
    pub revocation_age_secs: u64,
}

impl<C> Outcome<C> {
    /// The outcome of `result`, checked at `now` against `store`; each verified
    /// certificate shown with `show`.
    pub fn of(
        result: &Result<Verdict, VerifyError>,
        store: &TrustStore,
        now: UnixTime,
        show: impl Fn(&VerifiedCertificate) -> C,
    ) -> Outcome<C> {
        let base = Outcome {
            valid: false,
            code: None,
            reason: None,
            certificates: Vec::new(),
            holder: None,
            signed_at: None,
            nonce_checked: None,
            checked_at: now.secs(),
            synced_height: store.header().height,
            synced_at: store.as_of().secs(),
            revocation_age_secs: now.secs().saturating_sub(store.as_of().secs()),
        };
        match result {
            Ok(verdict) => Outcome {
                valid: true,
                certificates: verdict.certificates.iter().map(show).collect(),
                holder: Some(verdict.holder.to_hex()),
                signed_at: Some(verdict.signed_at.secs()),
                nonce_checked: Some(verdict.nonce_checked),
                synced_height: verdict.synced_height,
                synced_at: verdict.synced_at.secs(),
                revocation_age_secs: verdict.revocation_age_secs,
                ..base
            },
            Err(error) => Outcome {
                code: Some(error.code()),
                reason: Some(error.to_string()),
                ..base
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_names_as_people_read_them() {
        assert_eq!(
            ValueView::from(&FieldValue::Bytes(vec![0xab, 0x01])),
            ValueView::Text("ab01".into())
        );
        assert_eq!(
            ValueView::from(&FieldValue::TextList(vec!["C1".into()])),
            ValueView::List(vec!["C1".into()])
        );
        assert_eq!(
            ValueView::from(&FieldValue::Bool(true)),
            ValueView::Bool(true)
        );
        assert_eq!(value_text(&FieldValue::Bool(true)), "yes / 是");
        assert_eq!(value_text(&FieldValue::Bool(false)), "no / 否");
        assert_eq!(
            value_text(&FieldValue::TextList(vec!["C1".into(), "D".into()])),
            "C1, D"
        );
        assert_eq!(
            serde_json::to_value(ValueView::Bool(false)).unwrap(),
            serde_json::json!(false)
        );
        assert_eq!(both("Name", Some("姓名")), "Name / 姓名");
        assert_eq!(both("Name", Some("")), "Name");
        assert_eq!(both("Name", None), "Name");
        assert_eq!(day(UnixTime(0)), "1970-01-01");
    }

    /// The member names the browser counter reads (`VerifyResult` in its bindings).
    #[test]
    fn serializes_with_the_apps_names() {
        let field = DisclosedView {
            key: "classes".into(),
            label: "Classes".into(),
            label_local: None,
            value: ValueView::List(vec!["C1".into(), "C2".into()]),
            text: "C1, C2".into(),
        };
        let outcome = Outcome {
            valid: true,
            code: None,
            reason: None,
            certificates: vec![field],
            holder: Some("ab".into()),
            signed_at: Some(5),
            nonce_checked: Some(false),
            checked_at: 6,
            synced_height: 7,
            synced_at: 1,
            revocation_age_secs: 5,
        };
        let json = serde_json::to_value(&outcome).unwrap();
        for name in [
            "signedAt",
            "nonceChecked",
            "checkedAt",
            "syncedHeight",
            "syncedAt",
            "revocationAgeSecs",
        ] {
            assert!(json.get(name).is_some(), "{name} missing: {json}");
        }
        let field = &json["certificates"][0];
        assert_eq!(field["labelLocal"], serde_json::Value::Null);
        assert_eq!(field["value"], serde_json::json!(["C1", "C2"]));
    }
}
