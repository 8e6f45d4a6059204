//! RFC 6962 / RFC 9162 Merkle trees over SHA-256.
//!
//! Leaves hash as `SHA-256(0x00 ‖ data)` and nodes as `SHA-256(0x01 ‖ left ‖ right)`; the
//! empty tree's root is `SHA-256("")`. Trees and audit paths are built with `rs_merkle`
//! through [`Rfc6962Hasher`] (its default hasher has no domain separation; an unpaired node
//! is promoted unchanged, which yields exactly RFC 6962's tree shape). Proofs are checked
//! with the algorithm of RFC 9162 §2.1.3.2, which rejects every malformed input instead of
//! panicking.

use ecert_schemas::Hash32;
use sha2::{Digest, Sha256};

/// `rs_merkle` hasher with RFC 6962 interior-node hashing.
#[derive(Clone, Copy, Debug)]
pub struct Rfc6962Hasher;

impl rs_merkle::Hasher for Rfc6962Hasher {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => node_hash(&Hash32(*left), &Hash32(*right)).0,
            None => *left,
        }
    }
}

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash32(h.finalize().into())
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash32(h.finalize().into())
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash32 {
    Hash32(Sha256::digest([]).into())
}

/// A Merkle tree over leaf hashes, for building roots and audit paths.
pub struct MerkleTree {
    inner: rs_merkle::MerkleTree<Rfc6962Hasher>,
    size: u64,
}

impl MerkleTree {
    /// Builds the tree over already-hashed leaves.
    pub fn from_leaf_hashes(leaves: &[Hash32]) -> MerkleTree {
        let raw: Vec<[u8; 32]> = leaves.iter().map(|h| h.0).collect();
        MerkleTree {
            inner: rs_merkle::MerkleTree::from_leaves(&raw),
            size: leaves.len() as u64,
        }
    }

    /// Builds the tree over leaf data (each hashed with [`leaf_hash`]).
    pub fn from_leaves<T: AsRef<[u8]>>(leaves: &[T]) -> MerkleTree {
        let hashes: Vec<Hash32> = leaves.iter().map(|l| leaf_hash(l.as_ref())).collect();
        MerkleTree::from_leaf_hashes(&hashes)
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree's root (the empty root for no leaves).
    pub fn root(&self) -> Hash32 {
        self.inner.root().map(Hash32).unwrap_or_else(empty_root)
    }

    /// The audit path of leaf `index`, leaf to root; `None` past the last leaf.
    pub fn audit_path(&self, index: u64) -> Option<Vec<Hash32>> {
        if index >= self.size {
            return None;
        }
        let index = usize::try_from(index).ok()?;
        let proof = self.inner.proof(&[index]);
        Some(proof.proof_hashes().iter().map(|h| Hash32(*h)).collect())
    }
}

/// The root over leaf hashes.
pub fn root_of(leaves: &[Hash32]) -> Hash32 {
    MerkleTree::from_leaf_hashes(leaves).root()
}

/// `MTH` of RFC 6962 §2.1 over leaf hashes, straight from the definition. O(n) hashes,
/// O(log n) stack, no allocation.
fn subtree_root(leaves: &[Hash32]) -> Hash32 {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let (left, right) = leaves.split_at(split_point(leaves.len()));
            node_hash(&subtree_root(left), &subtree_root(right))
        }
    }
}

/// The largest power of two strictly below `n` (for `n ≥ 2`): where RFC 6962 splits a
/// tree of `n` leaves.
pub(crate) fn split_point(n: usize) -> usize {
    let below = n.saturating_sub(1).max(1);
    1 << (usize::BITS - 1 - below.leading_zeros())
}

/// The RFC 6962 §2.1.1 audit path `PATH(index, leaves)`, leaf to root: what
/// [`verify_inclusion`] checks against the root of `leaves`. `None` when `index` is not a
/// leaf. Computes O(n) hashes and keeps no tree, so a node can answer for any prefix of
/// an append-only log (e.g. the anchor log as of an older certified header).
pub fn inclusion_path(leaves: &[Hash32], index: u64) -> Option<Vec<Hash32>> {
    let mut index = usize::try_from(index).ok()?;
    if index >= leaves.len() {
        return None;
    }
    let mut subtree = leaves;
    let mut path = Vec::new();
    while subtree.len() > 1 {
        let (left, right) = subtree.split_at(split_point(subtree.len()));
        if index < left.len() {
            path.push(subtree_root(right));
            subtree = left;
        } else {
            path.push(subtree_root(left));
            index -= left.len();
            subtree = right;
        }
    }
    path.reverse();
    Some(path)
}

/// Checks an RFC 9162 §2.1.3.2 inclusion proof: that `leaf` is leaf `index` of a tree of
/// `size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash32,
    index: u64,
    size: u64,
    path: &[Hash32],
    root: &Hash32,
) -> bool {
    root_of_inclusion(leaf, index, size, path, node_hash).as_ref() == Some(root)
}

/// The root an RFC 9162 §2.1.3.2 inclusion proof leads to, with `node` as the interior
/// hash; `None` when the path's shape does not fit leaf `index` of a tree of `size`.
pub(crate) fn root_of_inclusion<H: Copy>(
    leaf: &H,
    index: u64,
    size: u64,
    path: &[H],
    node: impl Fn(&H, &H) -> H,
) -> Option<H> {
    if index >= size {
        return None;
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// The root of the RFC 6962 tree in which `leaf` is leaf `index` with audit `path` (leaf
/// to root), computed without knowing the tree's size; `None` if no tree size fits
/// `index` and the path's length.
///
/// The size matters only through where the leaf's ancestors reach the tree's right edge,
/// and for a given `index` and path length there is at most one such place: below it every
/// level has a sibling (left if that bit of `index` is 1), above it only the 1 bits of
/// the rest of `index` have one (always on the left). So a wallet can find its batch's
/// root from a certificate package alone, and then check the result against the batch's
/// real size with [`verify_inclusion`].
pub fn root_from_path(leaf: &Hash32, index: u64, path: &[Hash32]) -> Option<Hash32> {
    root_from_path_with(leaf, index, path, node_hash)
}

/// [`root_from_path`] with `node` as the interior hash.
pub(crate) fn root_from_path_with<H: Copy>(
    leaf: &H,
    index: u64,
    path: &[H],
    node: impl Fn(&H, &H) -> H,
) -> Option<H> {
    // `edge`: the level at which the leaf's ancestor is the last node of its level.
    let edge = (0..=path.len().min(63)).find(|&k| {
        let fresh = k == 0 || (index >> (k - 1)) & 1 == 0;
        // The smallest such tree has `index | (2^k - 1)` + 1 leaves: it must fit a u64.
        let fits = (index | ((1u64 << k) - 1)) < u64::MAX;
        fresh && fits && k + (index >> k).count_ones() as usize == path.len()
    })?;
    let mut root = *leaf;
    for (level, sibling) in path.iter().enumerate() {
        let on_left = level >= edge || (index >> level) & 1 == 1;
        root = if on_left {
            node(sibling, &root)
        } else {
            node(&root, sibling)
        };
    }
    Some(root)
}

/// The right edge of an append-only RFC 6962 tree: the roots of its perfect subtrees,
/// largest first. Appending a leaf and computing the root take O(log n), so a ledger can
/// commit to its whole anchor log in every block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    /// (subtree height, subtree root), strictly decreasing heights.
    subtrees: Vec<(u32, Hash32)>,
    size: u64,
}

impl Frontier {
    /// An empty log.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash32) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.subtrees.last() {
            if height != node.0 {
                break;
            }
            self.subtrees.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.subtrees.push(node);
        self.size += 1;
    }

    /// The root of the log so far. With `n = 2^a + 2^b + ...` (a > b > ...), RFC 6962's
    /// split rule gives `MTH = H(S_a, H(S_b, ...))`, folded from the right.
    pub fn root(&self) -> Hash32 {
        let mut iter = self.subtrees.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return empty_root();
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

/// An RFC 6962 tree kept whole, level by level, so that changing one leaf costs
/// O(log n) hashes: how a ledger keeps its revocation root (one leaf per issuer's status
/// list) up to date when a block touches a few lists. Pairing each level's nodes from the
/// left and promoting an unpaired last node unchanged gives exactly RFC 6962's shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeafTree {
    /// `levels[0]` the leaf hashes; each next level half the one below, rounded up; the
    /// last level holds the root alone (no levels for no leaves).
    levels: Vec<Vec<Hash32>>,
}

impl LeafTree {
    /// Builds the tree over leaf hashes: O(n) hashes.
    pub fn from_leaf_hashes(leaves: Vec<Hash32>) -> LeafTree {
        let mut levels = Vec::new();
        if !leaves.is_empty() {
            levels.push(leaves);
        }
        while let Some(below) = levels.last().filter(|l| l.len() > 1) {
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    [one] => *one,
                    _ => empty_root(),
                })
                .collect();
            levels.push(above);
        }
        LeafTree { levels }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The leaf hashes.
    pub fn leaves(&self) -> &[Hash32] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// The root (the empty root for no leaves).
    pub fn root(&self) -> Hash32 {
        self.levels
            .last()
            .and_then(|top| top.first())
            .copied()
            .unwrap_or_else(empty_root)
    }

    /// Replaces leaf `index` and the nodes above it: O(log n) hashes. `false` (and no
    /// change) past the last leaf.
    pub fn set(&mut self, index: u64, leaf: Hash32) -> bool {
        let Ok(mut i) = usize::try_from(index) else {
            return false;
        };
        match self.levels.first_mut().and_then(|l| l.get_mut(i)) {
            Some(slot) => *slot = leaf,
            None => return false,
        }
        for level in 1..self.levels.len() {
            let (below, above) = self.levels.split_at_mut(level);
            let Some(below) = below.last() else { break };
            let left = i & !1;
            let node = match (below.get(left), below.get(left + 1)) {
                (Some(l), Some(r)) => node_hash(l, r),
                (Some(l), None) => *l,
                _ => break,
            };
            i /= 2;
            if let Some(slot) = above.first_mut().and_then(|l| l.get_mut(i)) {
                *slot = node;
            }
        }
        true
    }

    /// Inserts a leaf at `index` (at most the size), moving the later ones up: O(n)
    /// hashes, since every later leaf changes position.
    pub fn insert(&mut self, index: u64, leaf: Hash32) -> bool {
        let mut leaves = self.levels.first().cloned().unwrap_or_default();
        match usize::try_from(index) {
            Ok(i) if i <= leaves.len() => leaves.insert(i, leaf),
            _ => return false,
        }
        *self = LeafTree::from_leaf_hashes(leaves);
        true
    }

    /// The RFC 6962 audit path of leaf `index`, leaf to root; `None` past the last leaf.
    pub fn audit_path(&self, index: u64) -> Option<Vec<Hash32>> {
        let mut i = usize::try_from(index).ok()?;
        if i >= self.levels.first()?.len() {
            return None;
        }
        let mut path = Vec::new();
        let below_root = self.levels.split_last().map_or(&[][..], |(_, rest)| rest);
        for level in below_root {
            if let Some(sibling) = level.get(i ^ 1) {
                path.push(*sibling);
            }
            i /= 2;
        }
        Some(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_and_single() {
        assert_eq!(
            empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let t = MerkleTree::from_leaves(&[b""]);
        assert_eq!(
            t.root().to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(t.audit_path(0), Some(vec![]));
        assert_eq!(t.audit_path(1), None);
        assert_eq!(inclusion_path(&[t.root()], 0), Some(vec![]));
        assert_eq!(inclusion_path(&[], 0), None);
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert!(verify_inclusion(&t.root(), 0, 1, &[], &t.root()));
    }

    /// RFC 6962 §2.1 MTH, straight from the definition.
    fn reference_root(leaves: &[Hash32]) -> Hash32 {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = n.next_power_of_two() / 2;
                let k = if k == n { n / 2 } else { k };
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn root_from_path_needs_no_size() {
        for n in 1u64..=70 {
            let leaves: Vec<Hash32> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let tree = MerkleTree::from_leaf_hashes(&leaves);
            for i in 0..n {
                let leaf = leaves[i as usize];
                let path = tree.audit_path(i).unwrap();
                assert_eq!(
                    root_from_path(&leaf, i, &path),
                    Some(tree.root()),
                    "{i} of {n}"
                );
                // A path one hash too short or too long does not give the root.
                if let Some((_, shorter)) = path.split_last() {
                    assert_ne!(root_from_path(&leaf, i, shorter), Some(tree.root()));
                }
                let mut longer = path.clone();
                longer.push(leaf);
                assert_ne!(root_from_path(&leaf, i, &longer), Some(tree.root()));
                // Another index with the same path does not either (unless it is the
                // same tree position, which only a one-leaf tree has).
                if n > 1 {
                    assert_ne!(root_from_path(&leaf, (i + 1) % n, &path), Some(tree.root()));
                }
            }
        }
        // Impossible shapes: index 3 needs at least 2 hashes; index 0 of a tree of one
        // leaf has none.
        let leaf = leaf_hash(b"x");
        assert_eq!(root_from_path(&leaf, 3, &[leaf]), None);
        assert_eq!(root_from_path(&leaf, 0, &[]), Some(leaf));
        assert_eq!(root_from_path(&leaf, u64::MAX, &[]), None);
        assert_eq!(root_from_path(&leaf, u64::MAX, &[leaf; 64]), None);
        assert!(root_from_path(&leaf, u64::MAX - 1, &[leaf; 63]).is_some());
        assert_eq!(root_from_path(&leaf, 0, &[leaf; 65]), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn rs_merkle_matches_rfc6962_and_proofs_verify(n in 1usize..70, pick in any::<prop::sample::Index>()) {
            let leaves: Vec<Hash32> = (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect();
            let tree = MerkleTree::from_leaf_hashes(&leaves);
            prop_assert_eq!(tree.root(), reference_root(&leaves));
            let i = pick.index(n);
            let path = tree.audit_path(i as u64).unwrap();
            prop_assert!(verify_inclusion(&leaves[i], i as u64, n as u64, &path, &tree.root()));
            // wrong index, wrong size, wrong leaf all fail
            if n > 1 {
                let j = (i + 1) % n;
                prop_assert!(!verify_inclusion(&leaves[i], j as u64, n as u64, &path, &tree.root()));
                prop_assert!(!verify_inclusion(&leaves[j], i as u64, n as u64, &path, &tree.root()));
            }
        }

        #[test]
        fn inclusion_paths_match_rs_merkle(n in 1usize..140, pick in any::<prop::sample::Index>()) {
            let leaves: Vec<Hash32> = (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect();
            let tree = MerkleTree::from_leaf_hashes(&leaves);
            prop_assert_eq!(subtree_root(&leaves), tree.root());
            let i = pick.index(n) as u64;
            let path = inclusion_path(&leaves, i).unwrap();
            prop_assert_eq!(Some(path.clone()), tree.audit_path(i));
            prop_assert!(verify_inclusion(&leaves[i as usize], i, n as u64, &path, &tree.root()));
            prop_assert_eq!(inclusion_path(&leaves, n as u64), None);
        }

        #[test]
        fn frontier_matches_full_tree(n in 0usize..300) {
            let leaves: Vec<Hash32> = (0..n).map(|i| leaf_hash(&(i as u64).to_le_bytes())).collect();
            let mut f = Frontier::new();
            for l in &leaves {
                f.push(*l);
            }
            prop_assert_eq!(f.size(), n as u64);
            prop_assert_eq!(f.root(), root_of(&leaves));
        }

        #[test]
        fn leaf_tree_matches_rfc6962(n in 0usize..80, pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>()) {
            let mut leaves: Vec<Hash32> = (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect();
            let mut tree = LeafTree::from_leaf_hashes(leaves.clone());
            prop_assert_eq!(tree.root(), reference_root(&leaves));
            prop_assert_eq!(tree.size(), n as u64);
            if n > 0 {
                let i = pick.index(n);
                prop_assert_eq!(tree.audit_path(i as u64), inclusion_path(&leaves, i as u64));
                leaves[i] = leaf_hash(b"changed");
                prop_assert!(tree.set(i as u64, leaves[i]));
                prop_assert_eq!(tree.root(), reference_root(&leaves));
                let path = tree.audit_path(i as u64).unwrap();
                prop_assert!(verify_inclusion(&leaves[i], i as u64, n as u64, &path, &tree.root()));
            }
            prop_assert!(!tree.set(n as u64, leaf_hash(b"x")));
            prop_assert_eq!(tree.audit_path(n as u64), None);
            let j = at.index(n + 1);
            leaves.insert(j, leaf_hash(b"inserted"));
            prop_assert!(tree.insert(j as u64, leaves[j]));
            prop_assert_eq!(tree.root(), reference_root(&leaves));
            prop_assert_eq!(tree.leaves(), leaves.as_slice());
            prop_assert!(!tree.insert(n as u64 + 2, leaf_hash(b"x")));
        }

        #[test]
        fn arbitrary_proofs_never_panic(index in any::<u64>(), size in any::<u64>(), len in 0usize..70) {
            let path = vec![Hash32([7; 32]); len];
            let _ = verify_inclusion(&Hash32([1; 32]), index, size, &path, &Hash32([2; 32]));
        }
    }
}
