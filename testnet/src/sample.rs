//! Sample citizens' claims for the four certificate kinds.

use std::collections::BTreeMap;

use ecert_schemas::{Claims, FieldValue, UnixTime};

use crate::province::Order;

/// One year, in seconds.
pub const YEAR: u64 = 365 * 86_400;

/// One day, in seconds.
const DAY: u64 = 86_400;

/// The sample citizen's ID number (valid check character).
pub const ID_NUMBER: &str = "110108199003070016";

/// The sample citizen's name.
const NAME: &str = "张伟";

/// An order for one of the sample citizen's certificates, holding the fields every kind
/// has: name and ID number.
fn order(kind: &'static str, valid_from: UnixTime, expires: UnixTime) -> Order {
    let claims = Claims::from([
        ("name".to_owned(), FieldValue::Text(NAME.to_owned())),
        (
            "id_number".to_owned(),
            FieldValue::Text(ID_NUMBER.to_owned()),
        ),
    ]);
    Order {
        kind,
        claims,
        valid_from,
        expires,
    }
}

/// Adds a kind's own fields to an order.
trait Fields {
    /// With the field `key` set to `value`.
    fn field(self, key: &str, value: FieldValue) -> Self;

    /// With the text field `key` set to `value`.
    fn text(self, key: &str, value: &str) -> Self
    where
        Self: Sized,
    {
        self.field(key, FieldValue::Text(value.to_owned()))
    }
}

impl Fields for Order {
    fn field(mut self, key: &str, value: FieldValue) -> Order {
        self.claims.insert(key.to_owned(), value);
        self
    }
}

/// ID card claims for the sample citizen.
pub fn id_card(now: UnixTime) -> Order {
    order("id-card", now.minus(YEAR), now.plus(19 * YEAR))
        .text("sex", "male")
        .text("ethnicity", "汉")
        .text("birth_date", "1990-03-07")
        .text("address", "北京市海淀区中关村大街27号")
        .text("issuing_authority", "北京市公安局海淀分局")
        .field("portrait_digest", FieldValue::Bytes(vec![0x5a; 32]))
}

/// Social security card claims.
pub fn social_security_card(now: UnixTime) -> Order {
    order("social-security-card", now.minus(DAY), now.plus(9 * YEAR))
        .text("card_number", "B12345678")
        .text("insurance_region", "北京市海淀区")
        .text("issue_date", "2021-06-01")
}

/// Driver licence claims.
pub fn driver_licence(now: UnixTime) -> Order {
    order("driver-licence", now.minus(DAY), now.plus(6 * YEAR))
        .text("licence_number", ID_NUMBER)
        .field("vehicle_classes", FieldValue::TextList(vec!["C1".into()]))
        .text("first_issue_date", "2012-08-15")
}

/// No-criminal-record certificate claims.
pub fn no_criminal_record(now: UnixTime) -> Order {
    order("no-criminal-record", now.minus(3600), now.plus(90 * DAY))
        .text("purpose", "employment")
        .text("result", "no-record")
        .text("checked_through", "2026-11-20")
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
                FieldValue::Bool(b) => serde_json::Value::from(*b),
            };
            (k.as_str(), value)
        })
        .collect();
    serde_json::to_string_pretty(&map).unwrap_or_default()
}
