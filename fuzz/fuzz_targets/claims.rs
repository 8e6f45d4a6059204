//! A department's claims input (`ecert-issuer issue --claims FILE`): one certificate's
//! claims as JSON or TOML, or many as CSV, checked against a built-in kind with
//! `claims_input`. The first byte picks the kind and the format; the rest is the file.
#![no_main]

use ecert_issuer::claims_input::{parse_claims_file, parse_csv, parse_holder, ClaimsFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let kinds: Vec<_> = ecert_fuzz::world().kinds.iter().collect();
    let kind = kinds[usize::from(choice >> 2) % kinds.len()];
    match choice & 3 {
        0 => {
            if let Ok(claims) = parse_claims_file(kind, ClaimsFormat::Json, text) {
                assert!(kind.validate_claims(&claims).is_ok());
            }
        }
        1 => {
            if let Ok(claims) = parse_claims_file(kind, ClaimsFormat::Toml, text) {
                assert!(kind.validate_claims(&claims).is_ok());
            }
        }
        2 => {
            if let Ok(rows) = parse_csv(kind, text) {
                for row in rows {
                    assert!(kind.validate_claims(&row.claims).is_ok());
                }
            }
        }
        _ => {
            let _ = parse_holder(text);
        }
    }
});
