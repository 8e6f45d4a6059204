//! Certificate kinds, defined as data.
//!
//! A kind is one TOML file in `schemas/kinds/`: its id, who may issue it, its validity rule,
//! its fields (number, key, label, type, mandatory) and its derived facts (yes/no fields the
//! issuer computes from another field, [`DerivedRule`]). The files are embedded at build
//! time; more can be loaded at run time from text with [`KindRegistry::add_file`].
//! Claims are validated against their kind, and derived facts computed and checked, here
//! and nowhere else; so is what a revised kind file must keep of the registered one
//! ([`Kind::check_revision`]).

mod derived;
mod revision;
mod value;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use derived::{age_reached, DerivedRule, MAX_AGE_YEARS};
pub use revision::RevisionError;
pub use value::FieldValue;

use crate::certificate::MAX_FIELDS;
use crate::ledger::KindRecord;
use crate::{Hash32, IssuerId, KindId, SchemaError, UnixTime};

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
    /// Yes or no: the type of every derived fact, and of nothing else (a `[[fields]]`
    /// entry cannot have it).
    Bool,
}

/// One field of a kind: a `[[fields]]` entry, whose value the issuing department gives, or
/// a `[[derived]]` entry (`derived` is set), whose value is computed when the certificate is
/// issued. Both are salted, digested, disclosed and checked alike.
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
    /// For a derived fact (type `bool`, mandatory): how its value follows from another
    /// field. Never read from a `[[fields]]` entry.
    #[serde(skip)]
    pub derived: Option<DerivedRule>,
}

impl FieldDef {
    /// Whether the field is a derived fact: computed at issuance, never given in claims.
    pub fn is_derived(&self) -> bool {
        self.derived.is_some()
    }
}

/// A `[[derived]]` entry of a kind file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DerivedEntry {
    number: u16,
    key: String,
    label: String,
    #[serde(default)]
    label_local: Option<String>,
    rule: DerivedRule,
}

impl DerivedEntry {
    fn into_field(self) -> FieldDef {
        FieldDef {
            number: self.number,
            key: self.key,
            label: self.label,
            label_local: self.label_local,
            field_type: FieldType::Bool,
            mandatory: true,
            max_len: None,
            values: None,
            derived: Some(self.rule),
        }
    }
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
    #[serde(default)]
    audience: Option<Vec<String>>,
    fields: Vec<FieldDef>,
    #[serde(default)]
    derived: Vec<DerivedEntry>,
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
    /// Who may see it: the counter roles (`employer`, `office`, ...) a wallet shows it
    /// to, and only in answer to a registered counter's request; `None`: anyone.
    pub audience: Option<BTreeSet<String>>,
    /// Fields: the `[[fields]]` entries in file order, then the `[[derived]]` entries in
    /// file order (the order of disclosures in packages and of fields on screens).
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
        if file.fields.is_empty() || file.fields.len() + file.derived.len() > MAX_FIELDS {
            return Err(bad(
                &file.id,
                format!("a kind has 1 to {MAX_FIELDS} fields, derived facts included"),
            ));
        }
        // The given fields, then the derived facts: one space of numbers and keys.
        let mut fields = file.fields;
        fields.extend(file.derived.into_iter().map(DerivedEntry::into_field));
        let mut numbers = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for f in &fields {
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
            if f.field_type == FieldType::Bool && !f.is_derived() {
                return Err(bad(
                    &file.id,
                    format!(
                        "field {:?}: type bool is for derived facts only ([[derived]] entries)",
                        f.key
                    ),
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
        for fact in &fields {
            if let Some(rule) = &fact.derived {
                check_rule(fact, rule, &fields).map_err(|detail| bad(&file.id, detail))?;
            }
        }
        let audience = match file.audience {
            None => None,
            Some(roles) => {
                let set: BTreeSet<String> = roles.iter().cloned().collect();
                let word = |r: &String| {
                    !r.is_empty()
                        && r.len() <= 32
                        && r.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                };
                if set.is_empty() || set.len() != roles.len() || !roles.iter().all(word) {
                    return Err(bad(
                        &file.id,
                        "audience lists one or more distinct roles, lowercase words such as \"employer\""
                            .into(),
                    ));
                }
                Some(set)
            }
        };
        Ok(Kind {
            id,
            version: file.version,
            name: file.name,
            name_local: file.name_local,
            description: file.description,
            issuers,
            validity: file.validity,
            audience,
            fields,
            content_hash: Hash32(Sha256::digest(text.as_bytes()).into()),
        })
    }

    /// Whether a counter of `role` may be shown certificates of this kind.
    pub fn audience_admits(&self, role: Option<&str>) -> bool {
        match (&self.audience, role) {
            (None, _) => true,
            (Some(roles), Some(role)) => roles.contains(role),
            (Some(_), None) => false,
        }
    }

    /// The fields whose values the issuing department gives (`[[fields]]`), in order.
    pub fn claim_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| !f.is_derived())
    }

    /// The derived facts (`[[derived]]`), in order.
    pub fn derived_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.is_derived())
    }

    /// The field with this key.
    pub fn field_by_key(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The field with this number.
    pub fn field_by_number(&self, number: u16) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.number == number)
    }

    /// Checks a full set of claims: every mandatory field present, no unknown field and no
    /// derived fact (those are computed at issuance, [`Kind::with_derived`]), every value of
    /// its field's type. The first problem found is returned, naming the field.
    pub fn validate_claims(&self, claims: &Claims) -> Result<(), SchemaError> {
        for key in claims.keys() {
            match self.field_by_key(key) {
                None => {
                    return Err(SchemaError::UnknownField {
                        kind: self.id.to_string(),
                        field: key.clone(),
                    })
                }
                Some(FieldDef {
                    derived: Some(rule),
                    ..
                }) => {
                    return Err(SchemaError::DerivedField {
                        kind: self.id.to_string(),
                        field: key.clone(),
                        from: rule.source().to_owned(),
                    })
                }
                Some(_) => {}
            }
        }
        for field in self.claim_fields() {
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

    /// The values a certificate of the kind carries, by key: the claims, validated
    /// ([`Kind::validate_claims`]), and every derived fact computed from them as of
    /// `issued_at` (the certificate's `iat`).
    pub fn with_derived(
        &self,
        claims: &Claims,
        issued_at: UnixTime,
    ) -> Result<Claims, SchemaError> {
        self.validate_claims(claims)?;
        let mut values = claims.clone();
        for fact in self.derived_fields() {
            let Some(rule) = &fact.derived else {
                continue;
            };
            let source = claims
                .get(rule.source())
                .ok_or_else(|| SchemaError::MissingField {
                    kind: self.id.to_string(),
                    field: rule.source().to_owned(),
                })?;
            let value = rule.evaluate(source, issued_at).map_err(|problem| {
                SchemaError::InvalidFieldValue {
                    kind: self.id.to_string(),
                    field: rule.source().to_owned(),
                    problem,
                }
            })?;
            values.insert(fact.key.clone(), FieldValue::Bool(value));
        }
        Ok(values)
    }

    /// Checks that derived facts agree with their source fields as of `issued_at` (the
    /// certificate's `iat`), for every derived fact whose value and whose source's value
    /// `value_of` (by key) both has: what a counter checks when a holder discloses both.
    pub fn check_derived<'v>(
        &self,
        value_of: impl Fn(&str) -> Option<&'v FieldValue>,
        issued_at: UnixTime,
    ) -> Result<(), SchemaError> {
        for fact in self.derived_fields() {
            let Some(rule) = &fact.derived else {
                continue;
            };
            let (Some(value), Some(source)) = (value_of(&fact.key), value_of(rule.source())) else {
                continue;
            };
            let problem = match rule.evaluate(source, issued_at) {
                Ok(expected) if *value == FieldValue::Bool(expected) => continue,
                Ok(expected) => format!(
                    "is {value}, but {:?} ({source}) makes it {} as of the issue date {}",
                    rule.source(),
                    FieldValue::Bool(expected),
                    crate::date::date_of_unix(issued_at.secs())
                ),
                Err(problem) => problem,
            };
            return Err(SchemaError::InvalidFieldValue {
                kind: self.id.to_string(),
                field: fact.key.clone(),
                problem,
            });
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
        (FieldType::Bool, FieldValue::Bool(_)) => Ok(()),
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
        FieldType::Bool => "true or false",
    }
}

/// A type as kind files write it.
fn file_type(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "text",
        FieldType::Date => "date",
        FieldType::Enum => "enum",
        FieldType::EnumList => "enum-list",
        FieldType::Digest => "digest",
        FieldType::CnResidentId => "cn-resident-id",
        FieldType::Bool => "bool",
    }
}

/// Checks a derived fact's rule against the kind's fields: its source is a given (not
/// derived), mandatory field of the rule's type, and the rule's values are the source's.
fn check_rule(fact: &FieldDef, rule: &DerivedRule, fields: &[FieldDef]) -> Result<(), String> {
    let name = &fact.key;
    let key = rule.source();
    let source = fields
        .iter()
        .find(|f| f.key == key)
        .ok_or_else(|| format!("derived fact {name:?}: the kind has no field {key:?}"))?;
    if source.is_derived() {
        return Err(format!(
            "derived fact {name:?}: {key:?} is itself derived; a fact is computed from a field the department gives"
        ));
    }
    if source.field_type != rule.source_type() {
        return Err(format!(
            "derived fact {name:?}: the {} rule needs a field of type {}, but {key:?} is {}",
            rule.name(),
            file_type(rule.source_type()),
            file_type(source.field_type)
        ));
    }
    if !source.mandatory {
        return Err(format!(
            "derived fact {name:?}: its field {key:?} must be mandatory, so that every certificate carries the fact"
        ));
    }
    let allowed = source.values.as_deref().unwrap_or(&[]);
    let unknown = |value: &str| {
        format!(
            "derived fact {name:?}: {value:?} is not a value of {key:?} ({})",
            allowed.join(", ")
        )
    };
    match rule {
        DerivedRule::AgeAtLeast { years, .. } => {
            if *years == 0 || *years > MAX_AGE_YEARS {
                return Err(format!(
                    "derived fact {name:?}: years must be 1 to {MAX_AGE_YEARS}, found {years}"
                ));
            }
        }
        DerivedRule::ContainsAny { values, .. } => {
            if values.is_empty() {
                return Err(format!(
                    "derived fact {name:?}: the contains-any rule needs at least one value"
                ));
            }
            let mut seen = BTreeSet::new();
            for value in values {
                if !allowed.contains(value) {
                    return Err(unknown(value));
                }
                if !seen.insert(value) {
                    return Err(format!(
                        "derived fact {name:?}: the rule lists {value:?} twice"
                    ));
                }
            }
        }
        DerivedRule::Equals { value, .. } => {
            if !allowed.contains(value) {
                return Err(unknown(value));
            }
        }
    }
    Ok(())
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
    fn an_audience_is_a_set_of_role_words() {
        let file = |audience: &str| {
            format!(
                "id = \"permit\"\nversion = 1\nname = \"P\"\ndescription = \"d\"\n\
                 issuers = [\"justice\"]\n{audience}\n[validity]\nmax_days = 9\n\
                 [[fields]]\nnumber = 0\nkey = \"name\"\nlabel = \"N\"\ntype = \"text\"\n\
                 mandatory = true\n"
            )
        };
        let open = Kind::from_toml("p.toml", &file("")).unwrap();
        assert_eq!(open.audience, None);
        assert!(open.audience_admits(None));
        let kept =
            Kind::from_toml("p.toml", &file("audience = [\"employer\", \"office\"]")).unwrap();
        assert!(kept.audience_admits(Some("office")));
        assert!(!kept.audience_admits(Some("hotel")));
        assert!(!kept.audience_admits(None));
        for bad in [
            "audience = []",
            "audience = [\"Employer\"]",
            "audience = [\"a\", \"a\"]",
            "audience = [\"\"]",
        ] {
            assert!(
                Kind::from_toml("p.toml", &file(bad)).is_err(),
                "{bad} accepted"
            );
        }
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
            base(&field(0, "a", "bool")),
        ] {
            assert!(Kind::from_toml("k", &bad).is_err(), "{bad}");
        }
    }

    /// A kind with a mandatory date, an optional date, a list and a choice, and `derived`.
    fn with_derived_entries(derived: &str) -> Result<Kind, SchemaError> {
        let file = format!(
            r#"
id = "k"
version = 1
name = "K"
description = "d"
issuers = ["ps"]
[validity]
max_days = 1
[[fields]]
number = 0
key = "born"
label = "Born"
type = "date"
mandatory = true
[[fields]]
number = 1
key = "seen"
label = "Seen"
type = "date"
mandatory = false
[[fields]]
number = 2
key = "classes"
label = "Classes"
type = "enum-list"
values = ["A", "B", "C"]
mandatory = true
[[fields]]
number = 3
key = "result"
label = "Result"
type = "enum"
values = ["yes", "no"]
mandatory = true
{derived}"#
        );
        Kind::from_toml("k.toml", &file)
    }

    fn derived(number: u16, key: &str, rule: &str) -> String {
        format!("[[derived]]\nnumber = {number}\nkey = \"{key}\"\nlabel = \"L\"\nrule = {rule}\n")
    }

    /// The detail of a kind file's error.
    fn detail(result: Result<Kind, SchemaError>) -> String {
        match result {
            Err(SchemaError::KindDefinition { detail, .. }) => detail,
            other => panic!("expected a kind definition error, got {other:?}"),
        }
    }

    #[test]
    fn derived_facts_are_read_as_mandatory_bool_fields_after_the_given_ones() {
        let kind = with_derived_entries(
            &(derived(
                7,
                "adult",
                r#"{ type = "age-at-least", field = "born", years = 18 }"#,
            ) + &derived(
                4,
                "has_b",
                r#"{ type = "contains-any", field = "classes", values = ["B", "C"] }"#,
            ) + &derived(
                5,
                "is_yes",
                r#"{ type = "equals", field = "result", value = "yes" }"#,
            )),
        )
        .unwrap();
        let keys: Vec<&str> = kind.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            ["born", "seen", "classes", "result", "adult", "has_b", "is_yes"]
        );
        let adult = kind.field_by_number(7).unwrap();
        assert_eq!(adult.field_type, FieldType::Bool);
        assert!(adult.mandatory && adult.is_derived());
        assert_eq!(
            adult.derived,
            Some(DerivedRule::AgeAtLeast {
                field: "born".into(),
                years: 18
            })
        );
        assert_eq!(kind.claim_fields().count(), 4);
        assert_eq!(kind.derived_fields().count(), 3);
        assert!(kind.validate_value(adult, &FieldValue::Bool(false)).is_ok());
        assert!(kind.validate_value(adult, &text("yes")).is_err());
        let born = kind.field_by_key("born").unwrap();
        assert!(kind.validate_value(born, &FieldValue::Bool(true)).is_err());
    }

    #[test]
    fn bad_derived_facts_are_refused_with_what_is_wrong() {
        let age = |field: &str, years: u16| {
            format!(r#"{{ type = "age-at-least", field = "{field}", years = {years} }}"#)
        };
        let cases: Vec<(String, &str)> = vec![
            (
                derived(0, "adult", &age("born", 18)),
                "field number 0 is used twice",
            ),
            (
                derived(9, "born", &age("born", 18)),
                "field key \"born\" is used twice",
            ),
            (
                derived(9, "Adult", &age("born", 18)),
                "must be 1 to 32 of a-z",
            ),
            (
                derived(9, "adult", &age("died", 18)),
                "the kind has no field \"died\"",
            ),
            (derived(9, "adult", &age("seen", 18)), "must be mandatory"),
            (
                derived(9, "adult", &age("result", 18)),
                "needs a field of type date, but \"result\" is enum",
            ),
            (
                derived(9, "adult", &age("born", 0)),
                "years must be 1 to 150",
            ),
            (
                derived(9, "adult", &age("born", 151)),
                "years must be 1 to 150",
            ),
            (
                derived(9, "adult", &age("born", 18))
                    + &derived(
                        10,
                        "adult_too",
                        r#"{ type = "equals", field = "adult", value = "x" }"#,
                    ),
                "\"adult\" is itself derived",
            ),
            (
                derived(
                    9,
                    "any",
                    r#"{ type = "contains-any", field = "classes", values = [] }"#,
                ),
                "needs at least one value",
            ),
            (
                derived(
                    9,
                    "any",
                    r#"{ type = "contains-any", field = "classes", values = ["D"] }"#,
                ),
                "\"D\" is not a value of \"classes\" (A, B, C)",
            ),
            (
                derived(
                    9,
                    "any",
                    r#"{ type = "contains-any", field = "classes", values = ["A", "A"] }"#,
                ),
                "lists \"A\" twice",
            ),
            (
                derived(
                    9,
                    "any",
                    r#"{ type = "contains-any", field = "result", values = ["yes"] }"#,
                ),
                "needs a field of type enum-list",
            ),
            (
                derived(
                    9,
                    "same",
                    r#"{ type = "equals", field = "result", value = "maybe" }"#,
                ),
                "\"maybe\" is not a value of \"result\"",
            ),
            (
                derived(
                    9,
                    "same",
                    r#"{ type = "equals", field = "classes", value = "A" }"#,
                ),
                "needs a field of type enum,",
            ),
            (
                derived(
                    9,
                    "same",
                    r#"{ type = "matches", field = "result", value = "yes" }"#,
                ),
                "unknown variant `matches`",
            ),
            (
                derived(
                    9,
                    "same",
                    r#"{ type = "equals", field = "result", value = "yes", also = 1 }"#,
                ),
                "unknown field `also`",
            ),
            (
                derived(
                    9,
                    "same",
                    r#"{ type = "equals", field = "result", value = "yes" }"#,
                ) + "type = \"bool\"\n",
                "unknown field `type`",
            ),
            (
                derived(
                    9,
                    "same",
                    r#"{ type = "equals", field = "result", value = "yes" }"#,
                ) + "mandatory = true\n",
                "unknown field `mandatory`",
            ),
            (
                "[[derived]]\nnumber = 9\nkey = \"same\"\nlabel = \"L\"\n".into(),
                "missing field `rule`",
            ),
        ];
        for (entries, expected) in cases {
            let found = detail(with_derived_entries(&entries));
            assert!(
                found.contains(expected),
                "{entries}: {found:?} lacks {expected:?}"
            );
        }
        // 64 fields in all, derived facts included.
        let many: String = (4..=63)
            .map(|n| derived(n, &format!("f{n}"), &age("born", 18)))
            .collect();
        assert!(with_derived_entries(&many).is_ok());
        let too_many = many + &derived(64, "f64", &age("born", 18));
        assert!(detail(with_derived_entries(&too_many)).contains("1 to 64 fields"));
    }

    /// `id_card_claims` issued at noon UTC of `day`: the derived facts.
    fn id_card_facts(birth: &str, day: &str) -> (FieldValue, FieldValue) {
        let kind = builtin("id-card");
        let mut claims = id_card_claims();
        claims.insert("birth_date".into(), text(birth));
        let at =
            crate::date::Date::parse(day).unwrap().days_since_epoch() as u64 * 86_400 + 12 * 3600;
        let values = kind.with_derived(&claims, UnixTime(at)).unwrap();
        assert_eq!(values.len(), claims.len() + 2);
        (values["age_over_18"].clone(), values["age_over_60"].clone())
    }

    #[test]
    fn the_built_in_facts_are_computed_as_of_the_issue_date() {
        let (yes, no) = (FieldValue::Bool(true), FieldValue::Bool(false));
        assert_eq!(
            id_card_facts("2008-03-07", "2026-03-06"),
            (no.clone(), no.clone())
        );
        assert_eq!(
            id_card_facts("2008-03-07", "2026-03-07"),
            (yes.clone(), no.clone())
        );
        assert_eq!(
            id_card_facts("2008-02-29", "2026-02-28"),
            (no.clone(), no.clone())
        );
        assert_eq!(
            id_card_facts("2008-02-29", "2026-03-01"),
            (yes.clone(), no.clone())
        );
        assert_eq!(
            id_card_facts("1966-02-28", "2026-02-28"),
            (yes.clone(), yes.clone())
        );
        assert_eq!(
            id_card_facts("1966-03-01", "2026-02-28"),
            (yes.clone(), no.clone())
        );

        let licence = builtin("driver-licence");
        let c1 = licence.field_by_key("valid_for_class_c1").unwrap();
        let rule = c1.derived.as_ref().unwrap();
        let list = |v: &[&str]| FieldValue::TextList(v.iter().map(|s| s.to_string()).collect());
        for (classes, expected) in [
            (&["C1"][..], true),
            (&["A1"], true),
            (&["A2"], true),
            (&["A3"], true),
            (&["B1", "D"], true),
            (&["B2"], true),
            (&["C2"], false),
            (
                &["C2", "C3", "C4", "C5", "C6", "D", "E", "F", "M", "N", "P"],
                false,
            ),
        ] {
            assert_eq!(
                rule.evaluate(&list(classes), UnixTime(0)),
                Ok(expected),
                "{classes:?}"
            );
        }

        let record = builtin("no-criminal-record");
        let rule = record
            .field_by_key("no_record")
            .unwrap()
            .derived
            .clone()
            .unwrap();
        assert_eq!(rule.evaluate(&text("no-record"), UnixTime(0)), Ok(true));
        assert_eq!(rule.evaluate(&text("record-found"), UnixTime(0)), Ok(false));
        assert!(builtin("social-security-card")
            .derived_fields()
            .next()
            .is_none());
    }

    #[test]
    fn claims_cannot_give_a_derived_fact() {
        let kind = builtin("id-card");
        let mut claims = id_card_claims();
        claims.insert("age_over_18".into(), FieldValue::Bool(true));
        let err = kind.validate_claims(&claims).unwrap_err();
        assert_eq!(
            err,
            SchemaError::DerivedField {
                kind: "id-card".into(),
                field: "age_over_18".into(),
                from: "birth_date".into()
            }
        );
        assert!(err.to_string().contains("cannot be given"), "{err}");
        assert!(kind.with_derived(&claims, UnixTime(0)).is_err());
    }

    #[test]
    fn disclosed_facts_must_agree_with_their_disclosed_source() {
        let kind = builtin("id-card");
        // 2026-05-01, noon UTC.
        let at = UnixTime(1_777_636_800);
        let birth = text("2008-05-01");
        let check = |values: &[(&str, &FieldValue)]| {
            kind.check_derived(
                |key| values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v),
                at,
            )
        };
        let (yes, no) = (FieldValue::Bool(true), FieldValue::Bool(false));
        assert!(check(&[("birth_date", &birth), ("age_over_18", &yes)]).is_ok());
        assert!(check(&[("birth_date", &birth), ("age_over_60", &no)]).is_ok());
        // Alone, a fact is what the issuer signed.
        assert!(check(&[("age_over_18", &no)]).is_ok());
        assert!(check(&[("birth_date", &birth)]).is_ok());
        let err = check(&[("birth_date", &birth), ("age_over_18", &no)]).unwrap_err();
        assert!(
            matches!(&err, SchemaError::InvalidFieldValue { field, .. } if field == "age_over_18"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("is no, but \"birth_date\" (2008-05-01) makes it yes as of the issue date 2026-05-01"),
            "{err}"
        );
        // A fact that is not a yes/no value is refused too.
        assert!(check(&[("birth_date", &birth), ("age_over_18", &text("yes"))]).is_err());
    }
}
