//! A transaction, as a client submits it to a node (`POST /v1/transactions`, CBOR body)
//! or a validator forwards it: strict decoding, decode → encode gives the same bytes, the
//! node's check against the world's ledger state (`LedgerState::check`, the verifier's
//! transaction rules), and applying it in a block (`LedgerState::apply_block`, which
//! skips what fails). An input starting with `0xff` (no transaction does) holds several,
//! each behind its length (two bytes, big-endian): they are applied as one block.
#![no_main]

use ecert_schemas::ledger::Transaction;
use libfuzzer_sys::fuzz_target;

/// Most transactions taken from one input.
const MOST: usize = 4;

fuzz_target!(|data: &[u8]| {
    let world = ecert_fuzz::world();
    let now_ms = world.now.secs() * 1000;
    let mut txs = Vec::new();
    // The whole input as one transaction, as a submission is.
    if let Ok(tx) = Transaction::from_bytes(data) {
        assert_eq!(tx.to_bytes().as_deref(), Ok(data));
        let _ = world.ledger.check(&tx, now_ms);
        txs.push(tx);
    } else if let Some((0xff, mut rest)) = data.split_first() {
        while let [hi, lo, tail @ ..] = rest {
            let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
            let (part, after) = tail.split_at(len);
            rest = after;
            if let Ok(tx) = Transaction::from_bytes(part) {
                assert_eq!(tx.to_bytes().as_deref(), Ok(part));
                let _ = world.ledger.check(&tx, now_ms);
                txs.push(tx);
            }
            if txs.len() == MOST {
                break;
            }
        }
    }
    if txs.is_empty() {
        return;
    }
    let mut ledger = world.ledger.clone();
    if let Ok(block) = ledger.apply_block(&txs, now_ms) {
        assert_eq!(block.outcomes.len(), txs.len());
        assert_eq!(ledger.height(), world.ledger.height() + 1);
        let snapshot = ledger.snapshot();
        let rebuilt = ecert_ledger_node::state::LedgerState::from_snapshot(snapshot.clone());
        assert_eq!(rebuilt.map(|s| s.snapshot()).ok(), Some(snapshot));
    }
});
