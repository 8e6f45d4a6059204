//! An append-only RFC 6962 log kept as its complete subtrees, with RFC 9162 consistency
//! proofs.
//!
//! A ledger's anchor log only grows. Keeping the root of every complete, aligned subtree
//! (`2^k` leaves starting at a multiple of `2^k`) — about two hashes per leaf — lets a node
//! answer for the log as it was at any earlier size without rehashing it: the root of a
//! prefix, an inclusion path in it, or a consistency proof between two sizes each take
//! O(log² n) hashes. A counter that holds the log up to one size checks with
//! [`verify_consistency`] that a newer root extends it.

use ecert_schemas::Hash32;

use crate::merkle::{empty_root, node_hash};

/// An append-only RFC 6962 tree over leaf hashes, kept level by level: `levels[k][i]` is
/// the root of leaves `i·2^k .. (i+1)·2^k`, for every such complete subtree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogTree {
    levels: Vec<Vec<Hash32>>,
}

impl LogTree {
    /// An empty log.
    pub fn new() -> LogTree {
        LogTree::default()
    }

    /// The log over these leaf hashes, in order.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash32>) -> LogTree {
        let mut tree = LogTree::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash: O(1) amortised hashes.
    pub fn push(&mut self, leaf: Hash32) {
        let mut node = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(node);
            if row.len() % 2 == 1 {
                return;
            }
            let (Some(right), Some(left)) = (row.last(), row.get(row.len().wrapping_sub(2))) else {
                return;
            };
            node = node_hash(left, right);
            level += 1;
        }
    }

    /// Drops every leaf from `size` on (nothing when the log is not longer): how a
    /// refused block is undone.
    pub fn truncate(&mut self, size: u64) {
        for (k, row) in self.levels.iter_mut().enumerate() {
            let keep = size.checked_shr(k as u32).unwrap_or(0);
            row.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// The root of the log as it was at `size` leaves; `None` past the current size.
    pub fn root_at(&self, size: u64) -> Option<Hash32> {
        if size > self.size() {
            return None;
        }
        if size == 0 {
            return Some(empty_root());
        }
        self.subtree(0, size)
    }

    /// The root of the whole log.
    pub fn root(&self) -> Hash32 {
        self.root_at(self.size()).unwrap_or_else(empty_root)
    }

    /// The RFC 6962 audit path of leaf `index` in the log as it was at `size` leaves, leaf
    /// to root (what [`crate::merkle::verify_inclusion`] checks); `None` when `index` is
    /// not below `size` or `size` is past the current size.
    pub fn inclusion_path(&self, index: u64, size: u64) -> Option<Vec<Hash32>> {
        if index >= size || size > self.size() {
            return None;
        }
        let (mut start, mut len, mut index) = (0u64, size, index);
        let mut path = Vec::new();
        while len > 1 {
            let k = split_point(len);
            if index < k {
                path.push(self.subtree(start + k, len - k)?);
                len = k;
            } else {
                path.push(self.subtree(start, k)?);
                start += k;
                index -= k;
                len -= k;
            }
        }
        path.reverse();
        Some(path)
    }

    /// The RFC 6962 §2.1.2 consistency proof `PROOF(old, D[new])`: that the log at `new`
    /// leaves extends the log at `old` leaves. Empty when `old` is 0 or equals `new`;
    /// `None` when `old > new` or `new` is past the current size.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Option<Vec<Hash32>> {
        if old > new || new > self.size() {
            return None;
        }
        if old == 0 || old == new {
            return Some(Vec::new());
        }
        // SUBPROOF(m, D[start..start+n], whole), unrolled: the right-hand subtrees are
        // pushed on the way down and the proof is read bottom-up.
        let (mut m, mut start, mut n, mut whole) = (old, 0u64, new, true);
        let mut tail = Vec::new();
        while m != n {
            let k = split_point(n);
            if m <= k {
                tail.push(self.subtree(start + k, n - k)?);
                n = k;
            } else {
                tail.push(self.subtree(start, k)?);
                start += k;
                m -= k;
                n -= k;
                whole = false;
            }
        }
        if !whole {
            tail.push(self.subtree(start, n)?);
        }
        tail.reverse();
        Some(tail)
    }

    /// `MTH(D[start .. start+len])` for a subtree of the RFC 6962 split of a prefix: a
    /// complete aligned subtree is stored; otherwise it is split at the largest power of
    /// two below `len` (whose left part is complete and aligned) and the right part
    /// recursed into, O(log len) hashes.
    fn subtree(&self, start: u64, len: u64) -> Option<Hash32> {
        if len == 0 || start.checked_add(len)? > self.size() {
            return None;
        }
        let (mut start, mut len) = (start, len);
        let mut lefts = Vec::new();
        while !len.is_power_of_two() {
            let k = split_point(len);
            lefts.push(self.stored(start, k)?);
            start += k;
            len -= k;
        }
        let mut acc = self.stored(start, len)?;
        while let Some(left) = lefts.pop() {
            acc = node_hash(&left, &acc);
        }
        Some(acc)
    }

    /// The stored root of the complete subtree of `len` (a power of two) leaves from
    /// `start` (a multiple of `len`).
    fn stored(&self, start: u64, len: u64) -> Option<Hash32> {
        let level = len.trailing_zeros() as usize;
        let i = usize::try_from(start >> level).ok()?;
        self.levels.get(level)?.get(i).copied()
    }
}

/// The largest power of two strictly below `n` (for `n ≥ 2`).
fn split_point(n: u64) -> u64 {
    let below = n.saturating_sub(1).max(1);
    1 << (63 - below.leading_zeros())
}

/// Checks an RFC 9162 §2.1.4.2 consistency proof: that the tree of `new_size` leaves with
/// root `new_root` extends the tree of `old_size` leaves with root `old_root`. An empty
/// tree is extended by every tree (with an empty proof); a tree of the same size only by
/// itself (same root, empty proof).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash32,
    new_root: &Hash32,
    proof: &[Hash32],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == 0 {
        return proof.is_empty() && *old_root == empty_root();
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash32> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *old_root && sr == *new_root && sn == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{inclusion_path, leaf_hash, root_of, verify_inclusion};

    fn leaves(n: u64) -> Vec<Hash32> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn roots_and_paths_of_every_prefix_match_the_definition() {
        let all = leaves(70);
        let tree = LogTree::from_leaf_hashes(all.iter().copied());
        assert_eq!(tree.size(), 70);
        for size in 0..=70u64 {
            let prefix = &all[..size as usize];
            let root = root_of(prefix);
            assert_eq!(tree.root_at(size), Some(root), "size {size}");
            for index in 0..size {
                let path = tree.inclusion_path(index, size).unwrap();
                assert_eq!(Some(path.clone()), inclusion_path(prefix, index));
                assert!(verify_inclusion(
                    &all[index as usize],
                    index,
                    size,
                    &path,
                    &root
                ));
            }
            assert_eq!(tree.inclusion_path(size, size), None);
        }
        assert_eq!(tree.root_at(71), None);
        assert_eq!(tree.root(), root_of(&all));
        assert_eq!(LogTree::new().root(), empty_root());
    }

    #[test]
    fn consistency_proofs_between_every_pair_of_sizes_verify_and_nothing_else_does() {
        let all = leaves(40);
        let tree = LogTree::from_leaf_hashes(all.iter().copied());
        let root = |n: u64| root_of(&all[..n as usize]);
        for new in 0..=40u64 {
            for old in 0..=new {
                let proof = tree.consistency_proof(old, new).unwrap();
                assert!(
                    verify_consistency(old, new, &root(old), &root(new), &proof),
                    "{old} -> {new}"
                );
                if old == 0 || old == new {
                    assert!(proof.is_empty());
                    continue;
                }
                // Any other root or proof hash fails. (The sizes are bound by the
                // certified headers they come from: a proof cannot tell a leaf from a
                // node, so it does not pin them on its own.)
                let other = leaf_hash(b"other");
                assert!(!verify_consistency(old, new, &other, &root(new), &proof));
                assert!(!verify_consistency(old, new, &root(old), &other, &proof));
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = other;
                    assert!(!verify_consistency(old, new, &root(old), &root(new), &bad));
                }
                let mut longer = proof.clone();
                longer.push(other);
                assert!(!verify_consistency(
                    old,
                    new,
                    &root(old),
                    &root(new),
                    &longer
                ));
                assert!(!verify_consistency(old, new, &root(old), &root(new), &[]));
            }
        }
        assert_eq!(tree.consistency_proof(5, 4), None);
        assert_eq!(tree.consistency_proof(5, 41), None);
        assert!(!verify_consistency(5, 4, &root(5), &root(4), &[]));
        // A log that rewrote its history is not consistent with what was held.
        let mut forked = all[..20].to_vec();
        forked[3] = leaf_hash(b"rewritten");
        forked.extend_from_slice(&all[20..]);
        let fork = LogTree::from_leaf_hashes(forked.iter().copied());
        let proof = fork.consistency_proof(10, 40).unwrap();
        assert!(!verify_consistency(10, 40, &root(10), &fork.root(), &proof));
    }

    #[test]
    fn a_truncated_log_is_the_log_of_that_size() {
        let all = leaves(37);
        for size in 0..=37u64 {
            let mut tree = LogTree::from_leaf_hashes(all.iter().copied());
            tree.truncate(size);
            let expected = LogTree::from_leaf_hashes(all[..size as usize].iter().copied());
            assert_eq!(tree, expected, "size {size}");
        }
        let mut tree = LogTree::from_leaf_hashes(all.iter().copied());
        tree.truncate(100);
        assert_eq!(tree.size(), 37);
    }
}
