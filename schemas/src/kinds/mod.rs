//! Certificate kinds, defined as data.
//!
//! A kind is one TOML file in `schemas/kinds/`: its id, who may issue it, its validity rule
//! and its fields (number, key, label, type, mandatory). The files are embedded at build
//! time; more can be loaded at run time from text with [`KindRegistry::add_file`].
//! Claims are validated against their kind here, and nowhere else.

mod value;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use value::FieldValue;

use crate::ledger::KindRecord;
use crate::{Hash32, IssuerId, KindId, SchemaError};

include!(concat!(env!("OUT_DIR"), "/builtin_kinds.rs"));

/// Longest text value when a field sets no `max_len`.
const DEFAULT_MAX_TEXT: usize = 256;

/// How a field's value is written and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    /// Free text: non-empty, no control characters, at most `max_len` characters.
    Text,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of `values`.
    Enum,
    /// A non-empty list of distinct `values`.
    EnumList,
    /// A SHA-256 digest: 32 bytes (given as 64 hex digits in claim files).
    Digest,
    /// An 18-character PRC resident identity number (GB 11643-1999) with a valid
    /// ISO 7064 MOD 11-2 check character and a valid embedded birth date.
    CnResidentId,
}

/// One field of a kind.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// The field's number: what disclosures carry. Stable forever.
    pub number: u16,
    /// The field's key in claim files, e.g. `id_number`.
    pub key: String,
    /// A label for people, in English.
    pub label: String,
    /// A label for people, in the local language.
    #[serde(default)]
    pub label_local: Option<String>,
    /// How the value is written and checked.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether every certificate of the kind must have it.
    pub mandatory: bool,
    /// Longest text, in characters (text fields).
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Allowed values (enum and enum-list fields).
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

/// The rule for a certificate's validity period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidityRule {
    /// The longest validity period, in days, from valid-from to expiry.
    pub max_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindFile {
    id: String,
    version: u32,
    name: String,
    #[serde(default)]
    name_local: Option<String>,
    description: String,
    issuers: Vec<String>,
    validity: ValidityRule,
    fields: Vec<FieldDef>,
}

/// A certificate kind, read from its definition file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kind {
    /// The kind's id, carried in every certificate of the kind.
    pub id: KindId,
    /// Revision of the definition.
    pub version: u32,
    /// Name for people, in English.
    pub name: String,
    /// Name for people, in the local language.
    pub name_local: Option<String>,
    /// What the certificate says.
    pub description: String,
    /// Departments entitled to issue the kind.
    pub issuers: BTreeSet<IssuerId>,
    /// Validity rule.
    pub validity: ValidityRule,
    /// Fields, in the order of the file.
    pub fields: Vec<FieldDef>,
    /// SHA-256 of the definition file's bytes: what a ledger's genesis names.
    pub content_hash: Hash32,
}

/// A certificate's field values by field key, before issuance.
pub type Claims = BTreeMap<String, FieldValue>;

impl Kind {
    /// The kind as a ledger's registry lists it: its id and the hash of its definition.
    pub fn record(&self) -> KindRecord {
        KindRecord {
            kind: self.id.clone(),
            content_hash: self.content_hash,
        }
    }

    /// Reads and checks one kind definition file.
    pub fn from_toml(file_name: &str, text: &str) -> Result<Kind, SchemaError> {
        let bad = |kind: &str, detail: String| SchemaError::KindDefinition {
            kind: kind.to_owned(),
            detail,
        };
        let file: KindFile = toml::from_str(text).map_err(|e| bad(file_name, e.to_string()))?;
        let id = KindId::new(file.id.clone()).map_err(|e| bad(&file.id, e.to_string()))?;
        let issuers = file
            .issuers
            .iter()
            .map(|i| IssuerId::new(i.clone()))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|e| bad(&file.id, e.to_string()))?;
        if issuers.len() != file.issuers.len() {
            return Err(bad(
                &file.id,
                "a department is listed twice in issuers".into(),
            ));
        }
        if issuers.is_empty() {
            return Err(bad(
                &file.id,
                "no department may issue it (issuers is empty)".into(),
            ));
        }
        if file.validity.max_days == 0 {
            return Err(bad(&file.id, "validity.max_days must be at least 1".into()));
        }
        if file.fields.is_empty() || file.fields.len() > 64 {
            return Err(bad(&file.id, "a kind has 1 to 64 fields".into()));
        }
        let mut numbers = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for f in &file.fields {
            if !numbers.insert(f.number) {
                return Err(bad(
                    &file.id,
                    format!("field number {} is used twice", f.number),
                ));
            }
            if !keys.insert(f.key.as_str()) {
                return Err(bad(
                    &file.id,
                    format!("field key {:?} is used twice", f.key),
                ));
            }
            let key_ok = !f.key.is_empty()
                && f.key.len() <= 32
                && f.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !key_ok {
                return Err(bad(
                    &file.id,
                    format!("field key {:?} must be 1 to 32 of a-z, 0-9, _", f.key),
                ));
            }
            let needs_values = matches!(f.field_type, FieldType::Enum | FieldType::EnumList);
            match (&f.values, needs_values) {
                (Some(v), true) if !v.is_empty() => {
                    if v.iter().collect::<BTreeSet<_>>().len() != v.len() {
                        return Err(bad(
                            &file.id,
                            format!("field {:?} lists a value twice", f.key),
                        ));
                    }
                }
                (_, true) => {
                    return Err(bad(
                        &file.id,
                        format!("field {:?} needs a non-empty `values` list", f.key),
                    ))
                }
                (Some(_), false) => {
                    return Err(bad(
                        &file.id,
                        format!("field {:?}: only enum fields take `values`", f.key),
                    ))
                }
                (None, false) => {}
            }
        }
        Ok(Kind {
            id,
            version: file.version,
            name: file.name,
            name_local: file.name_local,
            description: file.description,
            issuers,
            validity: file.validity,
            fields: file.fields,
            content_hash: Hash32(Sha256::digest(text.as_bytes()).into()),
        })
    }

    /// The field with this key.
    pub fn field_by_key(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The field with this number.
    pub fn field_by_number(&self, number: u16) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.number == number)
    }

    /// Checks a full set of claims: every mandatory field present, no unknown field, every
    /// value of its field's type. The first problem found is returned, naming the field.
    pub fn validate_claims(&self, claims: &Claims) -> Result<(), SchemaError> {
        for key in claims.keys() {
            if self.field_by_key(key).is_none() {
                return Err(SchemaError::UnknownField {
                    kind: self.id.to_string(),
                    field: key.clone(),
                });
            }
        }
        for field in &self.fields {
            match claims.get(&field.key) {
                Some(value) => self.validate_value(field, value)?,
                None if field.mandatory => {
                    return Err(SchemaError::MissingField {
                        kind: self.id.to_string(),
                        field: field.key.clone(),
                    })
                }
                None => {}
            }
        }
        Ok(())
    }

    /// Checks one value against its field's type.
    pub fn validate_value(&self, field: &FieldDef, value: &FieldValue) -> Result<(), SchemaError> {
        check_value(field, value).map_err(|problem| SchemaError::InvalidFieldValue {
            kind: self.id.to_string(),
            field: field.key.clone(),
            problem,
        })
    }

    /// Checks a validity period (seconds since the epoch) against the kind's rule.
    pub fn validate_validity(&self, valid_from: u64, expires: u64) -> Result<(), SchemaError> {
        let problem = if expires <= valid_from {
            Some("expiry must be after valid-from".to_owned())
        } else if expires - valid_from > u64::from(self.validity.max_days) * 86_400 {
            Some(format!(
                "validity period of {} days exceeds the kind's maximum of {} days",
                (expires - valid_from).div_ceil(86_400),
                self.validity.max_days
            ))
        } else {
            None
        };
        match problem {
            Some(problem) => Err(SchemaError::InvalidValidity {
                kind: self.id.to_string(),
                problem,
            }),
            None => Ok(()),
        }
    }
}

fn check_value(field: &FieldDef, value: &FieldValue) -> Result<(), String> {
    let allowed = field.values.as_deref().unwrap_or(&[]);
    match (field.field_type, value) {
        (FieldType::Text, FieldValue::Text(t)) => {
            let max = field.max_len.unwrap_or(DEFAULT_MAX_TEXT);
            if t.trim().is_empty() {
                Err("must not be empty".into())
            } else if t.chars().count() > max {
                Err(format!("is longer than {max} characters"))
            } else if t.chars().any(char::is_control) {
                Err("contains control characters".into())
            } else {
                Ok(())
            }
        }
        (FieldType::Date, FieldValue::Text(t)) => crate::date::Date::parse(t).map(|_| ()),
        (FieldType::Enum, FieldValue::Text(t)) => {
            if allowed.iter().any(|a| a == t) {
                Ok(())
            } else {
                Err(format!(
                    "must be one of {}, found {t:?}",
                    allowed.join(", ")
                ))
            }
        }
        (FieldType::EnumList, FieldValue::TextList(list)) => {
            if list.is_empty() {
                return Err("must list at least one value".into());
            }
            let mut seen = BTreeSet::new();
            for item in list {
                if !allowed.iter().any(|a| a == item) {
                    return Err(format!(
                        "must list values from {}, found {item:?}",
                        allowed.join(", ")
                    ));
                }
                if !seen.insert(item) {
                    return Err(format!("lists {item:?} twice"));
                }
            }
            Ok(())
        }
        (FieldType::Digest, FieldValue::Bytes(b)) => {
            if b.len() == 32 {
                Ok(())
            } else {
                Err(format!(
                    "must be a 32-byte SHA-256 digest, found {} bytes",
                    b.len()
                ))
            }
        }
        (FieldType::CnResidentId, FieldValue::Text(t)) => check_cn_resident_id(t),
        (expected, _) => Err(format!(
            "has the wrong type: expected {}",
            type_name(expected)
        )),
    }
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "text",
        FieldType::Date => "a date (YYYY-MM-DD)",
        FieldType::Enum => "one text value",
        FieldType::EnumList => "a list of text values",
        FieldType::Digest => "a 32-byte digest",
        FieldType::CnResidentId => "an 18-character ID number",
    }
}

/// GB 11643-1999: 17 digits (6 region, 8 birth date, 3 sequence) and an ISO 7064
/// MOD 11-2 check character.
fn check_cn_resident_id(text: &str) -> Result<(), String> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = text.as_bytes();
    if b.len() != 18 || !b.iter().take(17).all(u8::is_ascii_digit) {
        return Err("must be 17 digits followed by a digit or X".into());
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = CHECK.get((sum % 11) as usize).copied();
    if b.get(17).copied() != expected {
        return Err("has a wrong check character".into());
    }
    let birth = format!(
        "{}-{}-{}",
        text.get(6..10).unwrap_or(""),
        text.get(10..12).unwrap_or(""),
        text.get(12..14).unwrap_or("")
    );
    crate::date::Date::parse(&birth).map_err(|_| "holds an invalid birth date".to_string())?;
    Ok(())
}

/// The certificate kinds a party knows, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindRegistry {
    kinds: BTreeMap<KindId, Kind>,
}

impl KindRegistry {
    /// The kinds whose files ship in `schemas/kinds/`.
    pub fn builtin() -> Result<KindRegistry, SchemaError> {
        let mut registry = KindRegistry::default();
        for (name, text) in BUILTIN_KIND_FILES {
            registry.add_file(name, text)?;
        }
        Ok(registry)
    }

    /// Adds one kind from its file's text.
    pub fn add_file(&mut self, file_name: &str, text: &str) -> Result<&Kind, SchemaError> {
        let kind = Kind::from_toml(file_name, text)?;
        self.add(kind)
    }

    /// Adds a kind already read.
    pub fn add(&mut self, kind: Kind) -> Result<&Kind, SchemaError> {
        use std::collections::btree_map::Entry;
        match self.kinds.entry(kind.id.clone()) {
            Entry::Occupied(_) => Err(SchemaError::DuplicateKind(kind.id.to_string())),
            Entry::Vacant(slot) => Ok(slot.insert(kind)),
        }
    }

    /// The kind with this id.
    pub fn get(&self, id: &KindId) -> Result<&Kind, SchemaError> {
        self.kinds
            .get(id)
            .ok_or_else(|| SchemaError::UnknownKind(id.to_string()))
    }

    /// The kind with this id, given as text.
    pub fn get_str(&self, id: &str) -> Result<&Kind, SchemaError> {
        self.kinds
            .values()
            .find(|k| k.id.as_str() == id)
            .ok_or_else(|| SchemaError::UnknownKind(id.to_owned()))
    }

    /// All kinds, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Kind> {
        self.kinds.values()
    }

    /// Number of kinds.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether there are no kinds.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    fn id_card_claims() -> Claims {
        let mut c = Claims::new();
        c.insert("name".into(), text("张三"));
        c.insert("sex".into(), text("male"));
        c.insert("ethnicity".into(), text("汉"));
        c.insert("birth_date".into(), text("1990-03-07"));
        c.insert("address".into(), text("北京市海淀区中关村大街1号"));
        c.insert("id_number".into(), text("110108199003070016"));
        c.insert("issuing_authority".into(), text("北京市公安局海淀分局"));
        c
    }

    #[test]
    fn builtin_kinds_load() {
        let reg = KindRegistry::builtin().unwrap();
        let ids: Vec<_> = reg.iter().map(|k| k.id.to_string()).collect();
        assert_eq!(
            ids,
            [
                "driver-licence",
                "id-card",
                "no-criminal-record",
                "social-security-card"
            ]
        );
        let ncr = reg.get_str("no-criminal-record").unwrap();
        assert!(ncr.issuers.contains(&IssuerId::new("justice").unwrap()));
        assert!(ncr
            .issuers
            .contains(&IssuerId::new("public-security").unwrap()));
    }

    /// The built-in kind `id`.
    fn builtin(id: &str) -> Kind {
        KindRegistry::builtin()
            .unwrap()
            .get_str(id)
            .unwrap()
            .clone()
    }

    #[test]
    fn valid_claims_pass() {
        builtin("id-card")
            .validate_claims(&id_card_claims())
            .unwrap();
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let kind = builtin("id-card");
        let mut missing = id_card_claims();
        missing.remove("birth_date");
        let mut unknown = id_card_claims();
        unknown.insert("blood_type".into(), text("A"));
        assert_eq!(
            kind.validate_claims(&missing).unwrap_err(),
            SchemaError::MissingField {
                kind: "id-card".into(),
                field: "birth_date".into()
            }
        );
        assert_eq!(
            kind.validate_claims(&unknown).unwrap_err(),
            SchemaError::UnknownField {
                kind: "id-card".into(),
                field: "blood_type".into()
            }
        );
    }

    #[test]
    fn optional_field_may_be_absent_but_must_be_right_when_present() {
        let kind = builtin("id-card");
        let mut c = id_card_claims();
        c.insert("portrait_digest".into(), FieldValue::Bytes(vec![0; 31]));
        assert!(matches!(
            kind.validate_claims(&c),
            Err(SchemaError::InvalidFieldValue { field, .. }) if field == "portrait_digest"
        ));
        c.insert("portrait_digest".into(), FieldValue::Bytes(vec![0; 32]));
        kind.validate_claims(&c).unwrap();
    }

    #[test]
    fn wrong_types_and_formats_are_named() {
        let kind = builtin("id-card");
        let cases: [(&str, FieldValue); 6] = [
            ("birth_date", text("07/03/1990")),
            ("sex", text("x")),
            ("name", FieldValue::Bytes(vec![1])),
            ("id_number", text("110108199003070011")),
            ("id_number", text("110108199013070016")),
            ("name", text("   ")),
        ];
        for (field, value) in cases {
            let mut c = id_card_claims();
            c.insert(field.into(), value.clone());
            match kind.validate_claims(&c) {
                Err(SchemaError::InvalidFieldValue { field: f, .. }) => {
                    assert_eq!(f, field, "{value:?}")
                }
                other => panic!("{field} {value:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn enum_lists_are_checked() {
        let kind = builtin("driver-licence");
        let field = kind.field_by_key("vehicle_classes").unwrap();
        let list = |v: &[&str]| FieldValue::TextList(v.iter().map(|s| s.to_string()).collect());
        assert!(kind.validate_value(field, &list(&["C1", "D"])).is_ok());
        assert!(kind.validate_value(field, &list(&[])).is_err());
        assert!(kind.validate_value(field, &list(&["C1", "C1"])).is_err());
        assert!(kind.validate_value(field, &list(&["Z9"])).is_err());
    }

    #[test]
    fn validity_rule() {
        let ncr = builtin("no-criminal-record");
        assert!(ncr.validate_validity(0, 183 * 86_400).is_ok());
        assert!(ncr.validate_validity(0, 184 * 86_400).is_err());
        assert!(ncr.validate_validity(10, 10).is_err());
    }

    #[test]
    fn adding_a_kind_is_adding_a_file() {
        let file = r#"
id = "residence-permit"
version = 1
name = "Residence permit"
description = "Permission to reside in a city."
issuers = ["public-security"]
[validity]
max_days = 1096
[[fields]]
number = 0
key = "name"
label = "Name"
type = "text"
mandatory = true
[[fields]]
number = 1
key = "city"
label = "City"
type = "enum"
values = ["hangzhou", "ningbo"]
mandatory = true
"#;
        let mut reg = KindRegistry::builtin().unwrap();
        let kind = reg.add_file("residence-permit.toml", file).unwrap().clone();
        assert_eq!(reg.len(), 5);
        let mut c = Claims::new();
        c.insert("name".into(), text("李四"));
        c.insert("city".into(), text("ningbo"));
        kind.validate_claims(&c).unwrap();
        assert!(matches!(
            reg.add_file("again.toml", file),
            Err(SchemaError::DuplicateKind(_))
        ));
    }

    #[test]
    fn bad_kind_files_are_rejected() {
        let base = |extra: &str| {
            format!(
                "id = \"k\"\nversion = 1\nname = \"K\"\ndescription = \"d\"\nissuers = [\"ps\"]\n[validity]\nmax_days = 1\n{extra}"
            )
        };
        let field = |n: u16, key: &str, ty: &str| {
            format!("[[fields]]\nnumber = {n}\nkey = \"{key}\"\nlabel = \"L\"\ntype = \"{ty}\"\nmandatory = true\n")
        };
        assert!(Kind::from_toml("k", &base(&field(0, "a", "text"))).is_ok());
        for bad in [
            base(""),
            base(&(field(0, "a", "text") + &field(0, "b", "text"))),
            base(&(field(0, "a", "text") + &field(1, "a", "text"))),
            base(&field(0, "A", "text")),
            base(&field(0, "a", "enum")),
            base(&field(0, "a", "colour")),
            base(&(field(0, "a", "text") + "surprise = 1\n")),
            base(&field(0, "a", "enum").replace("mandatory", "values = [\"x\", \"x\"]\nmandatory")),
            base(&field(0, "a", "text")).replace("[\"ps\"]", "[\"ps\", \"ps\"]"),
        ] {
            assert!(Kind::from_toml("k", &bad).is_err(), "{bad}");
        }
    }
}
