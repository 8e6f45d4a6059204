//! Federation: a national trust list file (`ecert-verify sync --trust-list FILE`, first
//! byte 0) checked against a national anchor with `verify_trust_list`, and a national
//! anchor file (`ecert-verify init --national-anchor FILE`, first byte 1) read with
//! `parse_national_anchor` and, when accepted, written out and read back the same.
#![no_main]

use ecert_schemas::federation::{NationalAnchor, NationalTrustList};
use ecert_schemas::{ChainId, PublicKeyBytes};
use ecert_verifier::anchor_file::{national_anchor_to_toml, parse_national_anchor};
use ecert_verifier::federation::verify_trust_list;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    if choice % 2 == 0 {
        let Ok(list) = NationalTrustList::from_bytes(rest) else {
            return;
        };
        assert_eq!(list.to_bytes().as_deref(), Ok(rest));
        let world = ecert_fuzz::world();
        // The national keys of the seed lists: the world's validator keys.
        let anchor = NationalAnchor {
            federation: list.body.federation.clone(),
            keys: world
                .bundle
                .validators
                .iter()
                .map(|v| v.key)
                .collect::<Vec<PublicKeyBytes>>(),
        };
        if let Ok(verified) = verify_trust_list(&list, &anchor, world.now) {
            for province in verified.provinces() {
                assert!(verified.province_anchor(&province.chain_id).is_some());
            }
        }
        let elsewhere = NationalAnchor {
            federation: ChainId::new("elsewhere").unwrap_or_else(|_| list.body.federation.clone()),
            keys: anchor.keys,
        };
        if list.body.federation.as_str() != "elsewhere" {
            assert!(verify_trust_list(&list, &elsewhere, world.now).is_err());
        }
    } else {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let Ok(anchor) = parse_national_anchor(text) else {
            return;
        };
        let again = national_anchor_to_toml(&anchor, "");
        assert_eq!(parse_national_anchor(&again).ok(), Some(anchor));
    }
});
