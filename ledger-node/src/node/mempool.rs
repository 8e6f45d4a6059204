//! The leader's queue of checked transactions waiting for a block.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::Hash32;

/// Transactions waiting to be ordered, oldest first, without repeats.
pub struct Mempool {
    queue: VecDeque<(Hash32, ByteBuf, Instant)>,
    known: HashSet<Hash32>,
    max_txs: usize,
}

/// Why a transaction was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueRefusal {
    /// The same transaction is already waiting.
    Duplicate,
    /// The queue is full.
    Full,
}

impl Mempool {
    /// An empty queue holding at most `max_txs` transactions.
    pub fn new(max_txs: usize) -> Mempool {
        Mempool {
            queue: VecDeque::new(),
            known: HashSet::new(),
            max_txs,
        }
    }

    /// Queues a transaction.
    pub fn push(&mut self, hash: Hash32, tx: ByteBuf) -> Result<(), QueueRefusal> {
        if self.known.contains(&hash) {
            return Err(QueueRefusal::Duplicate);
        }
        if self.queue.len() >= self.max_txs {
            return Err(QueueRefusal::Full);
        }
        self.known.insert(hash);
        self.queue.push_back((hash, tx, Instant::now()));
        Ok(())
    }

    /// How long the oldest transaction has waited.
    pub fn oldest_wait(&self) -> Option<Duration> {
        self.queue.front().map(|(_, _, at)| at.elapsed())
    }

    /// Number of waiting transactions.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes the oldest transactions, at most `max_txs` of them and at most `max_bytes`
    /// in all (always at least one when not empty).
    pub fn take(&mut self, max_txs: usize, max_bytes: usize) -> Vec<(Hash32, ByteBuf)> {
        let mut out = Vec::new();
        let mut size = 0;
        while out.len() < max_txs {
            let Some((_, tx, _)) = self.queue.front() else {
                break;
            };
            if !out.is_empty() && size + tx.len() > max_bytes {
                break;
            }
            let Some((hash, tx, _)) = self.queue.pop_front() else {
                break;
            };
            size += tx.len();
            self.known.remove(&hash);
            out.push((hash, tx));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(n: u8, len: usize) -> (Hash32, ByteBuf) {
        (Hash32([n; 32]), ByteBuf::from(vec![n; len]))
    }

    #[test]
    fn queues_in_order_without_repeats_and_within_limits() {
        let mut pool = Mempool::new(3);
        let (h1, t1) = tx(1, 10);
        let (h2, t2) = tx(2, 10);
        let (h3, t3) = tx(3, 10);
        pool.push(h1, t1.clone()).unwrap();
        assert_eq!(pool.push(h1, t1), Err(QueueRefusal::Duplicate));
        pool.push(h2, t2).unwrap();
        pool.push(h3, t3).unwrap();
        assert_eq!(
            pool.push(Hash32([4; 32]), ByteBuf::new()),
            Err(QueueRefusal::Full)
        );
        let first = pool.take(10, 15);
        assert_eq!(first.len(), 1, "the byte limit stops after the first");
        assert_eq!(first[0].0, h1);
        let rest = pool.take(10, 1_000);
        assert_eq!(rest.iter().map(|t| t.0).collect::<Vec<_>>(), vec![h2, h3]);
        assert!(pool.is_empty());
    }
}
