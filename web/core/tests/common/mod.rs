//! A counter registered by the justice department and its requests, for the tests of the
//! browser cores.

use ecert_schemas::codec::to_cbor;
use ecert_schemas::request::{CounterRegistrationBody, FieldsAsked};
use ecert_schemas::{KindId, PublicKeyBytes, UnixTime};
use ecert_testkit::{World, DAY};
use ecert_web::counter::Counter;
use ecert_web::request::{
    counter_public_key, new_counter_key, sign_request_text, AskInput, LedgerRegistry,
};
use rand_core::OsRng;

/// The registered counter's name.
pub const COUNTER: &str = "Visa office, desk 3";

/// `kind` and `fields`, as the apps pass them.
pub fn ask(kind: &str, fields: &[&str]) -> AskInput {
    AskInput {
        kind: kind.into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
    }
}

/// A counter key and its registration file, signed by the justice department of `world`
/// for `role`, to ask for the result and purpose of a no-criminal-record certificate.
pub fn register(world: &World, counter: &Counter, role: &str) -> (Vec<u8>, Vec<u8>) {
    let seed = new_counter_key(&mut OsRng).unwrap().to_vec();
    let justice = world.province.department("justice").unwrap();
    let registration = justice
        .issuer_key
        .sign_counter_registration(CounterRegistrationBody {
            chain_id: counter.store().chain_id().clone(),
            department: justice.id.clone(),
            key_id: justice.issuer_key.key_id(),
            counter_key: PublicKeyBytes::from_hex(&counter_public_key(&seed).unwrap()).unwrap(),
            name: COUNTER.into(),
            name_local: Some("签证处3号窗口".into()),
            role: role.into(),
            may_ask: vec![FieldsAsked {
                kind: KindId::new("no-criminal-record").unwrap(),
                fields: vec!["result".into(), "purpose".into()],
            }],
            valid_from: world.now,
            valid_until: UnixTime(world.now.secs() + 30 * DAY),
        })
        .unwrap()
        .to_bytes()
        .unwrap();
    (seed, registration)
}

/// A request for `asks`, signed with `seed` under `registration` at `now`.
pub fn request(seed: &[u8], registration: &[u8], asks: &[AskInput], now: UnixTime) -> String {
    sign_request_text(
        registration,
        seed,
        asks,
        "Visa application",
        now,
        &mut OsRng,
    )
    .unwrap()
}

/// The ledger's registry as a wallet keeps it, from the counter's certified data.
pub fn registry(counter: &Counter) -> LedgerRegistry {
    let store = counter.store();
    LedgerRegistry::check(&to_cbor(store.registry()).unwrap(), store.header()).unwrap()
}
