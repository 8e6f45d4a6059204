//! Taking in a transaction: decode, check against the current ledger state, queue on the
//! leader. A client's submission ([`Shared::submit`]) and a transaction forwarded by
//! another validator ([`Shared::take_forwarded`]) go through the same [`Shared::admit`].
//! A node that is no validator of the current set (joining, or removed) serves the ledger
//! read-only and refuses submissions.

use std::time::Duration;

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::ledger::Transaction;
use ecert_schemas::Hash32;
use ecert_verifier::commit::transaction_hash;

use super::cutter::must_be_alone;
use super::mempool::QueueRefusal;
use super::shared::{lock, Now, Shared};
use super::wire::{NodeRequest, NodeResponse, SubmitRefusal};
use crate::NodeError;

/// Shortest time a submission looks for a leader (elections, leader changes).
const SUBMIT_LOOK_AT_LEAST: Duration = Duration::from_secs(2);
/// How long it waits between two looks.
const SUBMIT_RETRY: Duration = Duration::from_millis(100);

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The transaction fails the ledger's checks.
    #[error("{message}")]
    Invalid {
        /// Stable reason code.
        code: String,
        /// Plain words.
        message: String,
    },
    /// No leader is known (elections under way, or too few validators up).
    #[error("no leader: the ledger cannot order transactions right now")]
    NoLeader,
    /// The leader's queue is full.
    #[error("the ledger is busy: retry shortly")]
    Busy,
    /// This node is no validator of the current set: it serves the ledger read-only.
    #[error("this node is not a validator of the ledger's current set: submit to a validator")]
    NotValidator,
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl SubmitError {
    fn invalid(code: &str, message: impl ToString) -> SubmitError {
        SubmitError::Invalid {
            code: code.to_owned(),
            message: message.to_string(),
        }
    }

    /// The refusal sent back to a validator that forwarded the transaction.
    fn into_refusal(self) -> SubmitRefusal {
        match self {
            SubmitError::Invalid { code, message } => SubmitRefusal::Invalid { code, message },
            // A node failure here is the leader's own; the sender may retry.
            SubmitError::NoLeader
            | SubmitError::Busy
            | SubmitError::NotValidator
            | SubmitError::Node(_) => SubmitRefusal::Busy,
        }
    }
}

impl Shared {
    /// Checks a transaction against the current ledger state and hands it to the leader.
    pub async fn submit(&self, bytes: Vec<u8>) -> Result<Hash32, SubmitError> {
        if !self.is_validator() {
            return Err(SubmitError::NotValidator);
        }
        let bytes = ByteBuf::from(bytes);
        let mut checked = false;
        // Election or leader change: look for a leader for as long as an election after a
        // leader stopped may take (the followers' lease on the old leader, then a vote)
        // before giving up.
        let look_for =
            Duration::from_millis(self.leader_lease_ms.saturating_mul(2)).max(SUBMIT_LOOK_AT_LEAST);
        let deadline = tokio::time::Instant::now() + look_for;
        for attempt in 0u32.. {
            if attempt > 0 {
                if tokio::time::Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(SUBMIT_RETRY).await;
            }
            if self.is_leader() {
                return self.admit(bytes, Now::read());
            }
            // Refused here whoever leads, so a bad transaction is refused at once.
            if !checked {
                self.check(&bytes, Now::read().wall_ms)?;
                checked = true;
            }
            let Some(peer) = self.leader_peer() else {
                continue;
            };
            match self
                .net
                .request(peer, NodeRequest::Submit(bytes.clone()))
                .await
            {
                Ok(NodeResponse::Submitted(Ok(()))) => return Ok(transaction_hash(&bytes)),
                Ok(NodeResponse::Submitted(Err(SubmitRefusal::Invalid { code, message }))) => {
                    return Err(SubmitError::Invalid { code, message })
                }
                Ok(NodeResponse::Submitted(Err(SubmitRefusal::Busy))) => {
                    return Err(SubmitError::Busy)
                }
                Ok(_) | Err(_) => continue,
            }
        }
        Err(SubmitError::NoLeader)
    }

    /// A transaction forwarded by another validator: admitted if this node leads.
    pub(super) fn take_forwarded(&self, bytes: ByteBuf, now: Now) -> Result<(), SubmitRefusal> {
        if !self.is_leader() {
            return Err(SubmitRefusal::NotLeader(self.leader()));
        }
        self.admit(bytes, now)
            .map(drop)
            .map_err(SubmitError::into_refusal)
    }

    /// Decodes, checks and queues a transaction on this node (the leader): what a client's
    /// submission and a forwarded transaction both go through.
    fn admit(&self, bytes: ByteBuf, now: Now) -> Result<Hash32, SubmitError> {
        let (hash, alone) = self.check(&bytes, now.wall_ms)?;
        let mut pool = lock(&self.mempool)?;
        let queued = if alone {
            pool.push_alone(hash, bytes, now.at)
        } else {
            pool.push(hash, bytes, now.at)
        };
        match queued {
            Ok(()) | Err(QueueRefusal::Duplicate) => Ok(hash),
            Err(QueueRefusal::Full) => Err(SubmitError::Busy),
        }
    }

    /// Decodes a transaction and checks it as if in a block at `now_ms` (never before the
    /// last block). Returns its hash, and whether it must be alone in its block.
    fn check(&self, bytes: &[u8], now_ms: u64) -> Result<(Hash32, bool), SubmitError> {
        let tx =
            Transaction::from_bytes(bytes).map_err(|e| SubmitError::invalid("malformed", e))?;
        self.machine
            .read(|s| s.check(&tx, now_ms.max(s.last_time_ms())))?
            .map_err(|e| SubmitError::invalid(e.code(), &e))?;
        Ok((transaction_hash(bytes), must_be_alone(&tx)))
    }
}
