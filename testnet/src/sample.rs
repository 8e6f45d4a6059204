//! Sample citizens' claims for the four certificate kinds.

use std::collections::BTreeMap;

use ecert_schemas::{Claims, FieldValue, UnixTime};

use crate::province::Order;

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.to_owned())
}

/// One year, in seconds.
pub const YEAR: u64 = 365 * 86_400;

/// The sample citizen's ID number (valid check character).
pub const ID_NUMBER: &str = "110108199003070016";

/// ID card claims for the sample citizen.
pub fn id_card(now: UnixTime) -> Order {
    let mut c = Claims::new();
    c.insert("name".into(), text("张伟"));
    c.insert("sex".into(), text("male"));
    c.insert("ethnicity".into(), text("汉"));
    c.insert("birth_date".into(), text("1990-03-07"));
    c.insert("address".into(), text("北京市海淀区中关村大街27号"));
    c.insert("id_number".into(), text(ID_NUMBER));
    c.insert("issuing_authority".into(), text("北京市公安局海淀分局"));
    c.insert("portrait_digest".into(), FieldValue::Bytes(vec![0x5a; 32]));
    Order {
        kind: "id-card",
        claims: c,
        valid_from: now.minus(YEAR),
        expires: now.plus(19 * YEAR),
    }
}

/// Social security card claims.
pub fn social_security_card(now: UnixTime) -> Order {
    let mut c = Claims::new();
    c.insert("name".into(), text("张伟"));
    c.insert("id_number".into(), text(ID_NUMBER));
    c.insert("card_number".into(), text("B12345678"));
    c.insert("insurance_region".into(), text("北京市海淀区"));
    c.insert("issue_date".into(), text("2021-06-01"));
    Order {
        kind: "social-security-card",
        claims: c,
        valid_from: now.minus(86_400),
        expires: now.plus(9 * YEAR),
    }
}

/// Driver licence claims.
pub fn driver_licence(now: UnixTime) -> Order {
    let mut c = Claims::new();
    c.insert("name".into(), text("张伟"));
    c.insert("id_number".into(), text(ID_NUMBER));
    c.insert("licence_number".into(), text(ID_NUMBER));
    c.insert(
        "vehicle_classes".into(),
        FieldValue::TextList(vec!["C1".into()]),
    );
    c.insert("first_issue_date".into(), text("2012-08-15"));
    Order {
        kind: "driver-licence",
        claims: c,
        valid_from: now.minus(86_400),
        expires: now.plus(6 * YEAR),
    }
}

/// No-criminal-record certificate claims.
pub fn no_criminal_record(now: UnixTime) -> Order {
    let mut c = Claims::new();
    c.insert("name".into(), text("张伟"));
    c.insert("id_number".into(), text(ID_NUMBER));
    c.insert("purpose".into(), text("employment"));
    c.insert("result".into(), text("no-record"));
    c.insert("checked_through".into(), text("2026-11-20"));
    Order {
        kind: "no-criminal-record",
        claims: c,
        valid_from: now.minus(3600),
        expires: now.plus(90 * 86_400),
    }
}

/// The sample citizen's four certificates, each with the department (issuer id) of the
/// local network that issues it.
pub fn by_department(now: UnixTime) -> [(&'static str, Order); 4] {
    [
        ("public-security", id_card(now)),
        ("social-security", social_security_card(now)),
        ("transport", driver_licence(now)),
        ("justice", no_criminal_record(now)),
    ]
}

/// The claims as the JSON file `ecert-issuer issue --claims` reads (bytes in hex).
pub fn claims_json(claims: &Claims) -> String {
    let map: BTreeMap<&str, serde_json::Value> = claims
        .iter()
        .map(|(k, v)| {
            let value = match v {
                FieldValue::Text(t) => serde_json::Value::from(t.clone()),
                FieldValue::TextList(l) => serde_json::Value::from(l.clone()),
                FieldValue::Bytes(b) => serde_json::Value::from(hex::encode(b)),
            };
            (k.as_str(), value)
        })
        .collect();
    serde_json::to_string_pretty(&map).unwrap_or_default()
}
