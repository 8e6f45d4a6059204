//! The leader's queue of checked transactions waiting for a block.
//!
//! Pure: it never reads the clock. Whoever pushes a transaction says when it arrived, and
//! whoever asks whether a block is due says what time it is now.
//!
//! A transaction that must be alone in its block (a validator-set change, which the state
//! machine skips in a block with others) is queued as such: a block taken from the queue
//! is either that transaction alone or transactions up to the next such one.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use ecert_schemas::codec::ByteBuf;
use ecert_schemas::Hash32;

/// Transactions waiting to be ordered, oldest first, without repeats.
pub struct Mempool {
    /// Hash, bytes, arrival, and whether it must be alone in its block.
    queue: VecDeque<(Hash32, ByteBuf, Instant, bool)>,
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

    /// Queues a transaction that arrived at `now`.
    pub fn push(&mut self, hash: Hash32, tx: ByteBuf, now: Instant) -> Result<(), QueueRefusal> {
        self.enqueue(hash, tx, false, now)
    }

    /// Queues a transaction that arrived at `now` and must be alone in its block.
    pub fn push_alone(
        &mut self,
        hash: Hash32,
        tx: ByteBuf,
        now: Instant,
    ) -> Result<(), QueueRefusal> {
        self.enqueue(hash, tx, true, now)
    }

    fn enqueue(
        &mut self,
        hash: Hash32,
        tx: ByteBuf,
        alone: bool,
        now: Instant,
    ) -> Result<(), QueueRefusal> {
        if self.known.contains(&hash) {
            return Err(QueueRefusal::Duplicate);
        }
        if self.queue.len() >= self.max_txs {
            return Err(QueueRefusal::Full);
        }
        self.known.insert(hash);
        self.queue.push_back((hash, tx, now, alone));
        Ok(())
    }

    /// How long the oldest transaction has waited at `now`.
    pub fn oldest_wait(&self, now: Instant) -> Option<Duration> {
        self.queue
            .front()
            .map(|(_, _, at, _)| now.saturating_duration_since(*at))
    }

    /// Whether a block is due at `now`: the oldest transaction has waited `interval`, or
    /// `full_block` transactions are queued.
    pub fn block_due(&self, now: Instant, interval: Duration, full_block: usize) -> bool {
        self.oldest_wait(now).is_some_and(|w| w >= interval) || self.queue.len() >= full_block
    }

    /// Number of waiting transactions.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes every waiting transaction, oldest first (to hand them to the leader).
    pub fn take_all(&mut self) -> Vec<(Hash32, ByteBuf)> {
        self.known.clear();
        self.queue
            .drain(..)
            .map(|(hash, tx, _, _)| (hash, tx))
            .collect()
    }

    /// Takes the oldest transactions, at most `max_txs` of them and at most `max_bytes`
    /// in all (always at least one when not empty): one block. A transaction that must be
    /// alone is taken alone, and ends the block of those before it.
    pub fn take(&mut self, max_txs: usize, max_bytes: usize) -> Vec<(Hash32, ByteBuf)> {
        let mut out = Vec::new();
        let mut size = 0;
        while out.len() < max_txs {
            let Some((_, tx, _, alone)) = self.queue.front() else {
                break;
            };
            if !out.is_empty() && (*alone || size + tx.len() > max_bytes) {
                break;
            }
            let alone = *alone;
            let Some((hash, tx, _, _)) = self.queue.pop_front() else {
                break;
            };
            size += tx.len();
            self.known.remove(&hash);
            out.push((hash, tx));
            if alone {
                break;
            }
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
        let t0 = Instant::now();
        let mut pool = Mempool::new(3);
        let (h1, t1) = tx(1, 10);
        let (h2, t2) = tx(2, 10);
        let (h3, t3) = tx(3, 10);
        pool.push(h1, t1.clone(), t0).unwrap();
        assert_eq!(pool.push(h1, t1, t0), Err(QueueRefusal::Duplicate));
        pool.push(h2, t2, t0).unwrap();
        pool.push(h3, t3, t0).unwrap();
        assert_eq!(
            pool.push(Hash32([4; 32]), ByteBuf::new(), t0),
            Err(QueueRefusal::Full)
        );
        let first = pool.take(10, 15);
        assert_eq!(first.len(), 1, "the byte limit stops after the first");
        assert_eq!(first[0].0, h1);
        let rest = pool.take(10, 1_000);
        assert_eq!(rest.iter().map(|t| t.0).collect::<Vec<_>>(), vec![h2, h3]);
        assert!(pool.is_empty());
    }

    #[test]
    fn the_oldest_wait_follows_the_time_it_is_told() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut pool = Mempool::new(10);
        assert_eq!(pool.oldest_wait(t0), None);
        let (h1, t1) = tx(1, 1);
        let (h2, t2) = tx(2, 1);
        pool.push(h1, t1, t0).unwrap();
        pool.push(h2, t2, t0 + ms(30)).unwrap();
        assert_eq!(pool.oldest_wait(t0), Some(Duration::ZERO));
        assert_eq!(pool.oldest_wait(t0 + ms(70)), Some(ms(70)));
        pool.take(1, usize::MAX);
        assert_eq!(
            pool.oldest_wait(t0 + ms(70)),
            Some(ms(40)),
            "now the second"
        );
        // A time before the arrival (a caller's earlier reading) counts as no wait.
        assert_eq!(pool.oldest_wait(t0), Some(Duration::ZERO));
    }

    #[test]
    fn a_block_is_due_after_the_interval_or_when_full() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut pool = Mempool::new(10);
        assert!(
            !pool.block_due(t0 + ms(1_000), ms(100), 3),
            "never an empty block"
        );
        let (h1, t1) = tx(1, 1);
        pool.push(h1, t1, t0).unwrap();
        assert!(!pool.block_due(t0 + ms(99), ms(100), 3));
        assert!(pool.block_due(t0 + ms(100), ms(100), 3));
        let (h2, t2) = tx(2, 1);
        let (h3, t3) = tx(3, 1);
        pool.push(h2, t2, t0).unwrap();
        pool.push(h3, t3, t0).unwrap();
        assert!(
            pool.block_due(t0, ms(100), 3),
            "a full block is due at once"
        );
    }

    #[test]
    fn a_transaction_that_must_be_alone_gets_a_block_of_its_own() {
        let t0 = Instant::now();
        let mut pool = Mempool::new(10);
        let (h1, t1) = tx(1, 1);
        let (h2, t2) = tx(2, 1);
        let (h3, t3) = tx(3, 1);
        let (h4, t4) = tx(4, 1);
        let (h5, t5) = tx(5, 1);
        pool.push(h1, t1, t0).unwrap();
        pool.push(h2, t2, t0).unwrap();
        pool.push_alone(h3, t3, t0).unwrap();
        pool.push_alone(h4, t4, t0).unwrap();
        pool.push(h5, t5, t0).unwrap();
        let hashes = |block: Vec<(Hash32, ByteBuf)>| block.iter().map(|t| t.0).collect::<Vec<_>>();
        assert_eq!(
            hashes(pool.take(10, 1_000)),
            vec![h1, h2],
            "the ones before it"
        );
        assert_eq!(hashes(pool.take(10, 1_000)), vec![h3], "alone");
        assert_eq!(
            hashes(pool.take(10, 1_000)),
            vec![h4],
            "the next one alone too"
        );
        assert_eq!(hashes(pool.take(10, 1_000)), vec![h5], "then the others");
        assert!(pool.is_empty());
    }
}
