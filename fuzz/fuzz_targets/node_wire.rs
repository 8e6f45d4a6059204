//! Node-to-node messages (`/ecert/node/1` over libp2p, `ecert_ledger_node::node::wire`),
//! read exactly as a node reads them: through libp2p's request-response CBOR codec with
//! the node's size limits, requests and answers alike. What a request carries for the
//! pure parts of the node goes on to them: a forwarded transaction to the ledger's
//! check, a header vote to a vote pool, the transactions of a Raft append to the ledger's
//! check. The first byte says whether the rest is a request or an answer.
//!
//! Needs the `node` feature (RocksDB, libp2p and openraft in the build).
#![no_main]

use ecert_ledger_node::node::wire::{
    NodeRequest, NodeResponse, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, PROTOCOL,
};
use ecert_ledger_node::vote_pool::{ValidatorSets, VotePool};
use ecert_schemas::ledger::{Checkpoint, Transaction};
use futures::executor::block_on;
use futures::io::Cursor;
use libfuzzer_sys::fuzz_target;
use libp2p::request_response::{cbor::codec::Codec as CborCodec, Codec};
use libp2p::StreamProtocol;
use openraft::EntryPayload;

fn check_transaction(bytes: &[u8]) {
    let world = ecert_fuzz::world();
    if let Ok(tx) = Transaction::from_bytes(bytes) {
        let _ = world.ledger.check(&tx, world.now.secs() * 1000);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((choice, bytes)) = data.split_first() else {
        return;
    };
    let mut codec = CborCodec::<NodeRequest, NodeResponse>::default()
        .set_request_size_maximum(MAX_REQUEST_BYTES)
        .set_response_size_maximum(MAX_RESPONSE_BYTES);
    let protocol = StreamProtocol::new(PROTOCOL);
    if choice % 2 == 0 {
        let Ok(request) = block_on(codec.read_request(&protocol, &mut Cursor::new(bytes))) else {
            return;
        };
        match request {
            NodeRequest::Submit(tx) => check_transaction(&tx),
            NodeRequest::HeaderVote { height, vote } => {
                let world = ecert_fuzz::world();
                let sets = ValidatorSets::genesis(world.bundle.validators.clone());
                let me = world.bundle.validators.first().map_or(ecert_schemas::PublicKeyBytes([0; 32]), |v| v.key);
                let mut pool = VotePool::new(sets, me);
                let _ = pool.on_vote(height, vote);
            }
            NodeRequest::AppendEntries(rpc) => {
                for entry in &rpc.entries {
                    if let EntryPayload::Normal(block) = &entry.payload {
                        for tx in &block.txs {
                            check_transaction(tx);
                        }
                    }
                }
            }
            _ => {}
        }
    } else {
        let Ok(response) = block_on(codec.read_response(&protocol, &mut Cursor::new(bytes))) else {
            return;
        };
        if let NodeResponse::Checkpoints(page) = response {
            let validators = &ecert_fuzz::world().bundle.validators;
            for bytes in page {
                if let Ok(c) = Checkpoint::from_bytes(&bytes) {
                    let _ = ecert_verifier::checkpoint::verify_checkpoint(&c, validators);
                }
            }
        }
    }
});
