//! What an operator hands `ecert-issuer issue`: one certificate's claims as a JSON or TOML
//! file, or many as a CSV file with one row per certificate. Pure: text in, claims checked
//! against their kind out, every problem naming its row and field.
//!
//! Claim files map field keys to values:
//!
//! ```json
//! {"name": "王芳", "id_number": "110108199003070016", "purpose": "visa",
//!  "result": "no-record", "checked_through": "2026-01-31"}
//! ```
//!
//! Text, date (`YYYY-MM-DD`), choice and ID-number fields are strings; a list field
//! (driver licence classes) is an array of strings; a digest field is 64 hex digits.
//! A kind's derived facts (`age_over_18`, ...) are computed when a certificate is issued:
//! input that gives one is refused.
//!
//! A CSV file has a header row with a `holder` column (the citizen's wallet ID, 64 hex
//! digits) and one column per field key; an empty cell leaves an optional field out; a
//! list is written with `;` between values (`C1;C2`). Rows are numbered as a spreadsheet
//! shows them: the header is row 1, the first certificate row 2.

use std::collections::BTreeSet;
use std::io;

use ecert_schemas::{Claims, FieldDef, FieldType, FieldValue, IssuerId, Kind, PublicKeyBytes};
use ecert_verifier::crypto;
use thiserror::Error;

/// Most problems listed for one input file before stopping.
pub const MAX_REPORTED: usize = 50;

/// One problem with the input, at a row (CSV) and field when known.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{}{message}", location(*.row, .field.as_deref()))]
pub struct InputProblem {
    /// The spreadsheet row (CSV only; the header is row 1).
    pub row: Option<u64>,
    /// The field key or column.
    pub field: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

fn location(row: Option<u64>, field: Option<&str>) -> String {
    match (row, field) {
        (Some(r), Some(f)) => format!("row {r}, field {f:?}: "),
        (Some(r), None) => format!("row {r}: "),
        (None, Some(f)) => format!("field {f:?}: "),
        (None, None) => String::new(),
    }
}

/// Everything wrong with an input file (at most [`MAX_REPORTED`] problems).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct InputError {
    /// The problems, in file order.
    pub problems: Vec<InputProblem>,
    /// Whether more problems were left out.
    pub truncated: bool,
}

impl InputError {
    /// One problem.
    pub fn one(row: Option<u64>, field: Option<&str>, message: impl Into<String>) -> InputError {
        InputError {
            problems: vec![InputProblem {
                row,
                field: field.map(str::to_owned),
                message: message.into(),
            }],
            truncated: false,
        }
    }

    /// The problems found in a whole input (at most [`MAX_REPORTED`] kept, `truncated`
    /// set when more were found), or nothing if there were none.
    pub fn check(mut problems: Vec<InputProblem>, mut truncated: bool) -> Result<(), InputError> {
        if problems.len() > MAX_REPORTED {
            problems.truncate(MAX_REPORTED);
            truncated = true;
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(InputError {
            problems,
            truncated,
        })
    }
}

/// One certificate to issue: its holder and claims, checked against the kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputRow {
    /// The spreadsheet row (CSV), or `None` for a single claims file.
    pub row: Option<u64>,
    /// The holder's wallet key.
    pub holder: PublicKeyBytes,
    /// The claims.
    pub claims: Claims,
    /// New copies of a certificate issued before (a wallet's refill): its id and validity,
    /// which the new copies keep. `None`: a new certificate.
    pub refill: Option<RefillTerms>,
}

/// What new copies of a certificate keep from it: its id and its validity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefillTerms {
    /// The certificate's id.
    pub id: ecert_schemas::CertificateId,
    /// Start of validity.
    pub valid_from: ecert_schemas::UnixTime,
    /// End of validity.
    pub expires: ecert_schemas::UnixTime,
}

/// A value as read from JSON, TOML or CSV, before its field's type is applied.
enum Raw {
    Text(String),
    List(Vec<String>),
    Other(&'static str),
}

/// Refuses a kind this department may not issue.
pub fn check_entitled(kind: &Kind, issuer: &IssuerId) -> Result<(), InputError> {
    if kind.issuers.contains(issuer) {
        Ok(())
    } else {
        Err(InputError::one(
            None,
            None,
            format!(
                "this department ({issuer}) may not issue {} certificates (issuers: {})",
                kind.id,
                kind.issuers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}

/// Reads a holder key: 64 hex digits that are a usable Ed25519 public key.
pub fn parse_holder(text: &str) -> Result<PublicKeyBytes, String> {
    let text = text.trim();
    let key = PublicKeyBytes::from_hex(text).map_err(|_| {
        format!("{text:?} is not a wallet ID (64 hexadecimal digits, from 'ecert-wallet id')")
    })?;
    if crypto::parse_public_key(&key).is_none() {
        return Err(format!(
            "{text:?} is not a valid wallet ID (not a usable public key)"
        ));
    }
    Ok(key)
}

fn convert(field: &FieldDef, raw: Raw) -> Result<FieldValue, String> {
    match (field.field_type, raw) {
        (FieldType::EnumList, Raw::List(items)) => Ok(FieldValue::TextList(items)),
        (FieldType::EnumList, Raw::Text(t)) => Ok(FieldValue::TextList(
            t.split(';')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        )),
        (FieldType::Digest, Raw::Text(t)) => {
            let t = t.trim();
            match hex::decode(t) {
                Ok(bytes) if bytes.len() == 32 => Ok(FieldValue::Bytes(bytes)),
                _ => Err("must be a SHA-256 digest written as 64 hexadecimal digits".into()),
            }
        }
        (FieldType::EnumList, Raw::Other(found)) => {
            Err(format!("must be a list of text values, found {found}"))
        }
        (_, Raw::Text(t)) => Ok(FieldValue::Text(t)),
        (_, Raw::List(_)) => Err("must be a single text value, found a list".into()),
        (_, Raw::Other(found)) => Err(format!("must be text (in quotes), found {found}")),
    }
}

/// Applies the kind's field types to raw values and validates the result.
fn claims_from_raw(
    kind: &Kind,
    row: Option<u64>,
    values: Vec<(String, Raw)>,
) -> Result<Claims, Vec<InputProblem>> {
    let mut problems = Vec::new();
    let mut claims = Claims::new();
    let problem = |field: &str, message: String| InputProblem {
        row,
        field: Some(field.to_owned()),
        message,
    };
    for (key, raw) in values {
        let Some(field) = kind.field_by_key(&key) else {
            problems.push(problem(
                &key,
                format!(
                    "{} certificates have no such field (fields: {})",
                    kind.id,
                    field_list(kind)
                ),
            ));
            continue;
        };
        if let Some(message) = derived_message(field) {
            problems.push(problem(&key, message));
            continue;
        }
        match convert(field, raw) {
            Ok(value) => {
                if let Err(e) = kind.validate_value(field, &value) {
                    problems.push(problem(&key, strip_kind(&e.to_string(), kind, &key)));
                } else {
                    claims.insert(key, value);
                }
            }
            Err(message) => problems.push(problem(&key, message)),
        }
    }
    for field in kind.claim_fields() {
        if field.mandatory
            && !claims.contains_key(&field.key)
            && !problems
                .iter()
                .any(|p| p.field.as_deref() == Some(&field.key))
        {
            problems.push(problem(&field.key, "is missing (it is mandatory)".into()));
        }
    }
    if problems.is_empty() {
        // Belt and braces: the one validation rule of the schemas crate.
        kind.validate_claims(&claims).map_err(|e| {
            vec![InputProblem {
                row,
                field: None,
                message: e.to_string(),
            }]
        })?;
        Ok(claims)
    } else {
        Err(problems)
    }
}

/// `"kind: field \"x\" is ..."` → `"is ..."`: the location is printed separately.
fn strip_kind(message: &str, kind: &Kind, key: &str) -> String {
    let prefix = format!("{}: field {key:?} ", kind.id);
    message
        .strip_prefix(&prefix)
        .map(str::to_owned)
        .unwrap_or_else(|| message.to_owned())
}

/// Why a derived fact cannot be given, if `field` is one.
fn derived_message(field: &FieldDef) -> Option<String> {
    field.derived.as_ref().map(|rule| {
        format!(
            "is a derived fact: it is computed from {:?} when the certificate is issued, so it \
             cannot be given; leave it out",
            rule.source()
        )
    })
}

/// The keys of the fields an input gives (derived facts are computed, not given).
fn field_list(kind: &Kind) -> String {
    kind.claim_fields()
        .map(|f| f.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which syntax a claims file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimsFormat {
    /// JSON object.
    Json,
    /// TOML table.
    Toml,
}

impl ClaimsFormat {
    /// By file name: `.json` or `.toml`.
    pub fn of_file_name(name: &str) -> Option<ClaimsFormat> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(ClaimsFormat::Json)
        } else if lower.ends_with(".toml") {
            Some(ClaimsFormat::Toml)
        } else {
            None
        }
    }
}

/// A list of text values, or what it is when one of its items is not text.
fn text_list(items: impl Iterator<Item = Raw>) -> Raw {
    let texts = items.map(|item| match item {
        Raw::Text(s) => Some(s),
        _ => None,
    });
    match texts.collect::<Option<Vec<String>>>() {
        Some(list) => Raw::List(list),
        None => Raw::Other("a list with a value that is not text"),
    }
}

fn json_raw(value: serde_json::Value) -> Raw {
    use serde_json::Value;
    match value {
        Value::String(s) => Raw::Text(s),
        Value::Array(items) => text_list(items.into_iter().map(json_raw)),
        Value::Null => Raw::Other("null"),
        Value::Bool(_) => Raw::Other("true/false"),
        Value::Number(_) => Raw::Other("a number"),
        Value::Object(_) => Raw::Other("a nested object"),
    }
}

fn toml_raw(value: toml::Value) -> Raw {
    use toml::Value;
    match value {
        Value::String(s) => Raw::Text(s),
        Value::Array(items) => text_list(items.into_iter().map(toml_raw)),
        Value::Integer(_) | Value::Float(_) => Raw::Other("a number"),
        Value::Boolean(_) => Raw::Other("true/false"),
        Value::Datetime(_) => Raw::Other("an unquoted date (write it in quotes: \"2026-01-31\")"),
        Value::Table(_) => Raw::Other("a nested table"),
    }
}

/// Reads one certificate's claims from a JSON or TOML file's text.
pub fn parse_claims_file(
    kind: &Kind,
    format: ClaimsFormat,
    text: &str,
) -> Result<Claims, InputError> {
    let values: Vec<(String, Raw)> = match format {
        ClaimsFormat::Json => {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| InputError::one(None, None, format!("not valid JSON: {e}")))?;
            let serde_json::Value::Object(map) = value else {
                return Err(InputError::one(
                    None,
                    None,
                    "expected a JSON object mapping field keys to values",
                ));
            };
            map.into_iter().map(|(k, v)| (k, json_raw(v))).collect()
        }
        ClaimsFormat::Toml => {
            let table: toml::Table = toml::from_str(text).map_err(|e| {
                InputError::one(None, None, format!("not valid TOML: {}", e.message()))
            })?;
            table.into_iter().map(|(k, v)| (k, toml_raw(v))).collect()
        }
    };
    claims_from_raw(kind, None, values).map_err(|problems| InputError {
        problems,
        truncated: false,
    })
}

/// A CSV file read row by row (so that a file of a million rows is never held in memory):
/// the header row is checked when it is opened, then each row is checked as it is read.
pub struct CsvRows<'k, R: io::Read> {
    kind: &'k Kind,
    headers: Vec<String>,
    records: csv::StringRecordsIntoIter<R>,
    read: u64,
}

impl<'k, R: io::Read> CsvRows<'k, R> {
    /// Opens CSV text from `reader` (a UTF-8 byte-order mark is skipped) and checks its
    /// header row: a `holder` column, one column per field, every mandatory field present.
    pub fn new(kind: &'k Kind, reader: R) -> Result<CsvRows<'k, R>, InputError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::Headers)
            .from_reader(reader);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| {
                InputError::one(Some(1), None, format!("cannot read the header row: {e}"))
            })?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if i == 0 {
                    h.trim_start_matches('\u{feff}').to_owned()
                } else {
                    h.to_owned()
                }
            })
            .collect();
        let mut seen = BTreeSet::new();
        let mut header_problems = Vec::new();
        for name in &headers {
            if !seen.insert(name.as_str()) {
                header_problems.push(InputProblem {
                    row: Some(1),
                    field: Some(name.clone()),
                    message: "this column appears twice".into(),
                });
            } else if name != "holder" {
                let message = match kind.field_by_key(name) {
                    None => Some(format!(
                        "{} certificates have no such field (columns: holder, {})",
                        kind.id,
                        field_list(kind)
                    )),
                    Some(field) => derived_message(field),
                };
                if let Some(message) = message {
                    header_problems.push(InputProblem {
                        row: Some(1),
                        field: Some(name.clone()),
                        message,
                    });
                }
            }
        }
        if !seen.contains("holder") {
            header_problems.push(InputProblem {
                row: Some(1),
                field: Some("holder".into()),
                message: "the header row has no holder column (the citizens' wallet IDs)".into(),
            });
        }
        for field in kind.claim_fields() {
            if field.mandatory && !seen.contains(field.key.as_str()) {
                header_problems.push(InputProblem {
                    row: Some(1),
                    field: Some(field.key.clone()),
                    message: "the header row has no column for this mandatory field".into(),
                });
            }
        }
        if !header_problems.is_empty() {
            return Err(InputError {
                problems: header_problems,
                truncated: false,
            });
        }
        Ok(CsvRows {
            kind,
            headers,
            records: reader.into_records(),
            read: 0,
        })
    }
}

impl<R: io::Read> Iterator for CsvRows<'_, R> {
    /// A certificate row, or every problem of that row.
    type Item = Result<InputRow, Vec<InputProblem>>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = self.records.next()?;
        // Spreadsheet numbering: header is row 1.
        let row = self.read + 2;
        self.read += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                return Some(Err(vec![InputProblem {
                    row: Some(row),
                    field: None,
                    message: format!("cannot be read: {e}"),
                }]))
            }
        };
        let mut problems = Vec::new();
        let mut holder = None;
        let mut values = Vec::new();
        for (name, cell) in self.headers.iter().zip(record.iter()) {
            if name == "holder" {
                match parse_holder(cell) {
                    Ok(key) => holder = Some(key),
                    Err(message) => problems.push(InputProblem {
                        row: Some(row),
                        field: Some("holder".into()),
                        message,
                    }),
                }
            } else if !cell.trim().is_empty() {
                values.push((name.clone(), Raw::Text(cell.to_owned())));
            }
        }
        match claims_from_raw(self.kind, Some(row), values) {
            Ok(claims) => match holder {
                Some(holder) if problems.is_empty() => Some(Ok(InputRow {
                    row: Some(row),
                    holder,
                    claims,
                    refill: None,
                })),
                _ => Some(Err(problems)),
            },
            Err(p) => {
                problems.extend(p);
                Some(Err(problems))
            }
        }
    }
}

/// Reads a CSV file's text: a `holder` column and one column per field; every row
/// checked. Fails with every problem found (up to [`MAX_REPORTED`]) if any row is bad,
/// so that nothing is issued from a file with a mistake in it.
pub fn parse_csv(kind: &Kind, text: &str) -> Result<Vec<InputRow>, InputError> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut truncated = false;
    for row in CsvRows::new(kind, text.as_bytes())? {
        if problems.len() >= MAX_REPORTED {
            truncated = true;
            break;
        }
        match row {
            Ok(row) => rows.push(row),
            Err(p) => problems.extend(p),
        }
    }
    InputError::check(problems, truncated)?;
    if rows.is_empty() {
        return Err(InputError::one(
            None,
            None,
            "the file has no certificate rows below its header",
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecert_schemas::{KindId, KindRegistry};

    fn kind(id: &str) -> Kind {
        KindRegistry::builtin()
            .unwrap()
            .get(&KindId::new(id).unwrap())
            .unwrap()
            .clone()
    }

    fn holder() -> String {
        crypto::public_key(&ed25519_dalek::SigningKey::from_bytes(&[4; 32])).to_hex()
    }

    const NCR_JSON: &str = r#"{"name": "王芳", "id_number": "110108199003070016",
        "purpose": "visa", "result": "no-record", "checked_through": "2026-01-31"}"#;

    #[test]
    fn json_and_toml_claims() {
        let k = kind("no-criminal-record");
        let claims = parse_claims_file(&k, ClaimsFormat::Json, NCR_JSON).unwrap();
        assert_eq!(claims.len(), 5);
        let toml_text = "name = \"王芳\"\nid_number = \"110108199003070016\"\npurpose = \"visa\"\n\
                         result = \"no-record\"\nchecked_through = \"2026-01-31\"\n";
        assert_eq!(
            parse_claims_file(&k, ClaimsFormat::Toml, toml_text).unwrap(),
            claims
        );
        let bad = NCR_JSON.replace("no-record", "maybe");
        let err = parse_claims_file(&k, ClaimsFormat::Json, &bad).unwrap_err();
        assert_eq!(err.problems[0].field.as_deref(), Some("result"));
        assert!(err.to_string().contains("field \"result\""), "{err}");
        let missing = r#"{"name": "王芳"}"#;
        let err = parse_claims_file(&k, ClaimsFormat::Json, missing).unwrap_err();
        assert!(err.to_string().contains("\"purpose\": is missing"), "{err}");
        let number = r#"{"name": 5}"#;
        let err = parse_claims_file(&k, ClaimsFormat::Json, number).unwrap_err();
        assert!(err.to_string().contains("found a number"), "{err}");
    }

    #[test]
    fn lists_and_digests() {
        let k = kind("driver-licence");
        let json = r#"{"name": "张伟", "id_number": "110108199003070016",
            "licence_number": "X", "vehicle_classes": ["C1", "C2"], "first_issue_date": "2012-08-15"}"#;
        let claims = parse_claims_file(&k, ClaimsFormat::Json, json).unwrap();
        assert_eq!(
            claims.get("vehicle_classes"),
            Some(&FieldValue::TextList(vec!["C1".into(), "C2".into()]))
        );
        let k = kind("id-card");
        let csv_text = format!(
            "holder,name,sex,ethnicity,birth_date,address,id_number,issuing_authority,portrait_digest\n\
             {},张伟,male,汉,1990-03-07,北京,110108199003070016,北京市公安局,{}\n",
            holder(),
            "5a".repeat(32)
        );
        let rows = parse_csv(&k, &csv_text).unwrap();
        assert_eq!(
            rows[0].claims.get("portrait_digest"),
            Some(&FieldValue::Bytes(vec![0x5a; 32]))
        );
    }

    #[test]
    fn csv_rows_are_checked_and_numbered() {
        let k = kind("no-criminal-record");
        let good = format!(
            "holder,name,id_number,purpose,result,checked_through\n\
             {h},王芳,110108199003070016,visa,no-record,2026-01-31\n\
             {h},李娜,110108199003070016,job,record-found,2026-01-31\n",
            h = holder()
        );
        let rows = parse_csv(&k, &good).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].row, Some(3));
        let bad = format!(
            "holder,name,id_number,purpose,result,checked_through\n\
             {h},王芳,110108199003070016,visa,no-record,2026-01-31\n\
             {h},李娜,110108199003070017,job,record-found,2026-01-31\n\
             abc,李娜,110108199003070016,job,record-found,2026-13-31\n",
            h = holder()
        );
        let err = parse_csv(&k, &bad).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("row 3, field \"id_number\""), "{text}");
        assert!(text.contains("row 4, field \"holder\""), "{text}");
        assert!(text.contains("row 4, field \"checked_through\""), "{text}");
        let unknown_column = "holder,name,colour\n";
        let text = parse_csv(&k, unknown_column).unwrap_err().to_string();
        assert!(text.contains("field \"colour\""), "{text}");
        assert!(text.contains("field \"purpose\""), "{text}");
        assert!(parse_csv(&k, "holder,name,id_number,purpose,result,checked_through\n").is_err());
    }

    #[test]
    fn derived_facts_are_refused_in_every_format() {
        let k = kind("id-card");
        let json = r#"{"name": "张伟", "sex": "male", "ethnicity": "汉", "birth_date": "1990-03-07",
            "address": "北京", "id_number": "110108199003070016", "issuing_authority": "北京市公安局",
            "age_over_18": true}"#;
        let err = parse_claims_file(&k, ClaimsFormat::Json, json).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        let text = err.to_string();
        assert!(
            text.contains(
                "field \"age_over_18\": is a derived fact: it is computed from \"birth_date\""
            ),
            "{text}"
        );
        let toml_text =
            "name = \"张伟\"\nsex = \"male\"\nethnicity = \"汉\"\nbirth_date = \"1990-03-07\"\n\
                         address = \"北京\"\nid_number = \"110108199003070016\"\n\
                         issuing_authority = \"北京市公安局\"\nage_over_60 = \"no\"\n";
        let err = parse_claims_file(&k, ClaimsFormat::Toml, toml_text).unwrap_err();
        assert!(
            err.to_string()
                .contains("field \"age_over_60\": is a derived fact"),
            "{err}"
        );
        let csv_text = format!(
            "holder,name,sex,ethnicity,birth_date,address,id_number,issuing_authority,age_over_18\n\
             {},张伟,male,汉,1990-03-07,北京,110108199003070016,北京市公安局,yes\n",
            holder()
        );
        let err = parse_csv(&k, &csv_text).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("row 1, field \"age_over_18\": is a derived fact"),
            "{text}"
        );
        // The facts are not asked for, and not offered among the fields.
        let unknown = parse_claims_file(&k, ClaimsFormat::Json, r#"{"shoe_size": "42"}"#)
            .unwrap_err()
            .to_string();
        assert!(!unknown.contains("age_over"), "{unknown}");
        assert!(
            unknown.contains("issuing_authority, portrait_digest)"),
            "{unknown}"
        );
    }

    #[test]
    fn entitlement() {
        let k = kind("id-card");
        assert!(check_entitled(&k, &IssuerId::new("public-security").unwrap()).is_ok());
        assert!(check_entitled(&k, &IssuerId::new("justice").unwrap()).is_err());
    }
}
