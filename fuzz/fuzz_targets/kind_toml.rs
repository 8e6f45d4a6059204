//! A certificate kind's definition file (`schemas/kinds/*.toml`, added as data):
//! `Kind::from_toml` with every check, and for an accepted kind, adding it to the
//! built-in registry, checking values, validity periods and claims against it, and
//! computing and checking its derived facts.
#![no_main]

use ecert_schemas::{Claims, FieldValue, KindRegistry, UnixTime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(kind) = ecert_schemas::Kind::from_toml("fuzz.toml", text) else {
        return;
    };
    let mut registry = KindRegistry::builtin().expect("built-in kinds");
    let _ = registry.add(kind.clone());
    let values = [
        FieldValue::Text(String::new()),
        FieldValue::Text("2026-02-29".into()),
        FieldValue::Text("2008-02-29".into()),
        FieldValue::Text("110108199003070016".into()),
        FieldValue::TextList(vec!["a".into(), "a".into()]),
        FieldValue::Bytes(vec![0; 32]),
        FieldValue::Bool(true),
    ];
    let mut claims = Claims::new();
    for field in &kind.fields {
        for value in &values {
            if kind.validate_value(field, value).is_ok() {
                claims.insert(field.key.clone(), value.clone());
            }
        }
        let _ = kind.field_by_key(&field.key);
        let _ = kind.field_by_number(field.number);
    }
    if kind.validate_claims(&claims).is_ok() {
        for at in [0, 1_790_000_000, u64::MAX] {
            // Claims that validate always give every derived fact, which then agrees with
            // its source.
            let values = kind
                .with_derived(&claims, UnixTime(at))
                .expect("derived facts of valid claims");
            assert_eq!(values.len(), claims.len() + kind.derived_fields().count());
            kind.check_derived(|key| values.get(key), UnixTime(at))
                .expect("derived facts agree with their sources");
        }
    }
    for (from, until) in [
        (0, 0),
        (0, u64::MAX),
        (u64::MAX, 0),
        (1_790_000_000, 1_800_000_000),
    ] {
        let _ = kind.validate_validity(from, until);
    }
});
