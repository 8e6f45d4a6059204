//! A ledger's genesis file (`ecert-node init --genesis`, `ecert-testnet`): `Genesis::from_toml`
//! with every check, and for an accepted one, its trust anchor, its kinds against the
//! built-in ones, and a round trip (written back out and read again, the same genesis).
#![no_main]

use ecert_ledger_node::genesis::Genesis;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(genesis) = Genesis::from_toml(text) else {
        return;
    };
    let _ = genesis.trust_anchor();
    let _ = genesis.check_kinds(&ecert_fuzz::world().kinds);
    let again = genesis.to_toml().expect("an accepted genesis writes out");
    assert_eq!(Genesis::from_toml(&again).ok(), Some(genesis));
});
