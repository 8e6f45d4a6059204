//! Format 2's Merkle trees, with 128-bit nodes: one over a copy's fields, one over a
//! batch's copies.
//!
//! Both have RFC 6962's shape (split at the largest power of two below the size) and hash
//! with SHA-256 truncated to 16 bytes, each with its own one-byte domain tag:
//!
//! | tree | leaf | node | root |
//! |---|---|---|---|
//! | fields of a copy | `T(0x10 ‖ disclosure)` | `T(0x11 ‖ l ‖ r)` | the top node |
//! | copies of a batch | `T(0x20 ‖ signed data ‖ signature)` | `T(0x21 ‖ l ‖ r)` | `SHA-256(0x22 ‖ top)` |
//!
//! where `T(x)` is the first 16 bytes of `SHA-256(x)`. A batch root stays 32 bytes (it is
//! what the anchor log records); the hashes a presentation carries are 16 bytes. Why 128
//! bits are enough against everyone but the issuer is `docs/decisions.md` §21.

use ecert_schemas::{Hash16, Hash32};
use sha2::{Digest, Sha256};

use crate::merkle::{root_from_path_with, root_of_inclusion, split_point};

const FIELD_LEAF: u8 = 0x10;
const FIELD_NODE: u8 = 0x11;
const COPY_LEAF: u8 = 0x20;
const COPY_NODE: u8 = 0x21;
const BATCH_ROOT: u8 = 0x22;

/// The first 16 bytes of SHA-256 over the concatenated `parts`.
pub fn truncated(parts: &[&[u8]]) -> Hash16 {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part);
    }
    let full: [u8; 32] = h.finalize().into();
    let mut out = [0u8; 16];
    for (o, f) in out.iter_mut().zip(full) {
        *o = f;
    }
    Hash16(out)
}

/// The leaf of a disclosed field: `T(0x10 ‖ disclosure bytes)`.
pub fn field_leaf(disclosure_bytes: &[u8]) -> Hash16 {
    truncated(&[&[FIELD_LEAF], disclosure_bytes])
}

fn field_node(left: &Hash16, right: &Hash16) -> Hash16 {
    truncated(&[&[FIELD_NODE], &left.0, &right.0])
}

/// The root of the field tree over `leaves` (one per field of the kind, in its order).
/// `None` for no leaves.
pub fn field_root(leaves: &[Hash16]) -> Option<Hash16> {
    match leaves {
        [] => None,
        [one] => Some(*one),
        _ => {
            let (left, right) = leaves.split_at(split_point(leaves.len()));
            Some(field_node(&field_root(left)?, &field_root(right)?))
        }
    }
}

/// The multiproof for the leaves at `disclosed` (ascending positions): the roots of the
/// maximal subtrees holding no disclosed leaf, left to right. `None` if a position is out
/// of range or the positions are not strictly ascending.
pub fn field_multiproof(leaves: &[Hash16], disclosed: &[usize]) -> Option<Vec<Hash16>> {
    if !ascending(disclosed.iter().copied()) || disclosed.iter().any(|&p| p >= leaves.len()) {
        return None;
    }
    let mut proof = Vec::new();
    collect_proof(leaves, 0, disclosed, &mut proof)?;
    Some(proof)
}

/// Whether the positions are strictly ascending.
fn ascending(positions: impl Iterator<Item = usize>) -> bool {
    let mut previous = None;
    positions.into_iter().all(|p| {
        let ok = previous.is_none_or(|q| q < p);
        previous = Some(p);
        ok
    })
}

fn collect_proof(
    leaves: &[Hash16],
    offset: usize,
    disclosed: &[usize],
    out: &mut Vec<Hash16>,
) -> Option<()> {
    let end = offset + leaves.len();
    if !disclosed.iter().any(|&p| p >= offset && p < end) {
        out.push(field_root(leaves)?);
        return Some(());
    }
    if leaves.len() == 1 {
        return Some(());
    }
    let (left, right) = leaves.split_at(split_point(leaves.len()));
    collect_proof(left, offset, disclosed, out)?;
    collect_proof(right, offset + left.len(), disclosed, out)
}

/// The root of a field tree of `size` leaves given the disclosed leaves (position, leaf;
/// strictly ascending positions) and their multiproof. `None` when they do not fit
/// together: a position out of range, too few or too many hashes. With nothing disclosed
/// the proof is the root itself.
pub fn field_root_from_proof(
    size: usize,
    disclosed: &[(usize, Hash16)],
    proof: &[Hash16],
) -> Option<Hash16> {
    if size == 0
        || !ascending(disclosed.iter().map(|(p, _)| *p))
        || disclosed.iter().any(|&(p, _)| p >= size)
    {
        return None;
    }
    let mut hashes = proof.iter();
    let root = fold_proof(0, size, disclosed, &mut hashes)?;
    hashes.next().is_none().then_some(root)
}

fn fold_proof<'a>(
    offset: usize,
    len: usize,
    disclosed: &[(usize, Hash16)],
    hashes: &mut impl Iterator<Item = &'a Hash16>,
) -> Option<Hash16> {
    let end = offset + len;
    let inside: Vec<&(usize, Hash16)> = disclosed
        .iter()
        .filter(|(p, _)| *p >= offset && *p < end)
        .collect();
    match (inside.as_slice(), len) {
        ([], _) => hashes.next().copied(),
        ([(_, leaf)], 1) => Some(*leaf),
        (_, 1) => None,
        _ => {
            let k = split_point(len);
            let left = fold_proof(offset, k, disclosed, hashes)?;
            let right = fold_proof(offset + k, len - k, disclosed, hashes)?;
            Some(field_node(&left, &right))
        }
    }
}

/// The leaf of a copy in its batch: `T(0x20 ‖ signed data ‖ signature)`.
pub fn copy_leaf(signed_data: &[u8], signature: &[u8; 64]) -> Hash16 {
    truncated(&[&[COPY_LEAF], signed_data, signature])
}

fn copy_node(left: &Hash16, right: &Hash16) -> Hash16 {
    truncated(&[&[COPY_NODE], &left.0, &right.0])
}

/// A batch's root from its top node: `SHA-256(0x22 ‖ top)`.
pub fn batch_root_of(top: &Hash16) -> Hash32 {
    let mut h = Sha256::new();
    h.update([BATCH_ROOT]);
    h.update(top.0);
    Hash32(h.finalize().into())
}

/// Whether `leaf` is copy `index` of a batch of `size` copies whose root is `root`.
pub fn verify_copy_inclusion(
    leaf: &Hash16,
    index: u64,
    size: u64,
    path: &[Hash16],
    root: &Hash32,
) -> bool {
    root_of_inclusion(leaf, index, size, path, copy_node)
        .is_some_and(|top| batch_root_of(&top) == *root)
}

/// The root of the batch in which `leaf` is copy `index` with `path`, without knowing the
/// batch's size (see [`crate::merkle::root_from_path`]): how a counter of a federation
/// finds the province whose anchor log holds the batch.
pub fn batch_root_from_path(leaf: &Hash16, index: u64, path: &[Hash16]) -> Option<Hash32> {
    root_from_path_with(leaf, index, path, copy_node).map(|top| batch_root_of(&top))
}

/// `rs_merkle` hasher for batch trees.
#[derive(Clone, Copy, Debug)]
struct CopyTreeHasher;

impl rs_merkle::Hasher for CopyTreeHasher {
    type Hash = [u8; 16];

    fn hash(data: &[u8]) -> [u8; 16] {
        truncated(&[&[COPY_LEAF], data]).0
    }

    fn concat_and_hash(left: &[u8; 16], right: Option<&[u8; 16]>) -> [u8; 16] {
        match right {
            Some(right) => copy_node(&Hash16(*left), &Hash16(*right)).0,
            None => *left,
        }
    }
}

/// A batch's tree over its copies' leaves, for the issuer: its root and every copy's
/// audit path.
pub struct CopyTree {
    inner: rs_merkle::MerkleTree<CopyTreeHasher>,
    size: u64,
}

impl CopyTree {
    /// Builds the tree over copy leaves ([`copy_leaf`]), in batch order.
    pub fn new(leaves: &[Hash16]) -> CopyTree {
        let raw: Vec<[u8; 16]> = leaves.iter().map(|h| h.0).collect();
        CopyTree {
            inner: rs_merkle::MerkleTree::from_leaves(&raw),
            size: leaves.len() as u64,
        }
    }

    /// Number of copies.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The batch root (as the anchor log records it); `None` for an empty tree.
    pub fn root(&self) -> Option<Hash32> {
        self.inner.root().map(|top| batch_root_of(&Hash16(top)))
    }

    /// The audit path of copy `index`; `None` past the last copy.
    pub fn audit_path(&self, index: u64) -> Option<Vec<Hash16>> {
        if index >= self.size {
            return None;
        }
        let index = usize::try_from(index).ok()?;
        let proof = self.inner.proof(&[index]);
        Some(proof.proof_hashes().iter().map(|h| Hash16(*h)).collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash16> {
        (0..n).map(|i| field_leaf(&[i as u8, 7])).collect()
    }

    #[test]
    fn tags_separate_the_trees() {
        let a = Hash16([1; 16]);
        let b = Hash16([2; 16]);
        assert_ne!(field_node(&a, &b), copy_node(&a, &b));
        assert_ne!(field_leaf(b"x"), truncated(&[&[COPY_LEAF], b"x"]));
    }

    #[test]
    fn a_multiproof_of_everything_is_empty_and_of_nothing_is_the_root() {
        let l = leaves(10);
        let all: Vec<usize> = (0..10).collect();
        assert_eq!(field_multiproof(&l, &all).unwrap(), vec![]);
        let shown: Vec<(usize, Hash16)> = all.iter().map(|&i| (i, l[i])).collect();
        assert_eq!(field_root_from_proof(10, &shown, &[]), field_root(&l));
        let root = field_root(&l).unwrap();
        assert_eq!(field_multiproof(&l, &[]).unwrap(), vec![root]);
        assert_eq!(field_root_from_proof(10, &[], &[root]), Some(root));
    }

    #[test]
    fn four_of_ten_fields_need_four_hashes() {
        let l = leaves(10);
        let proof = field_multiproof(&l, &[0, 1, 3, 5]).unwrap();
        assert_eq!(proof.len(), 4);
    }

    proptest! {
        #[test]
        fn multiproofs_round_trip_and_bind(n in 1usize..=64, mask in any::<u64>(), flip in any::<usize>()) {
            let l = leaves(n);
            let disclosed: Vec<usize> = (0..n).filter(|i| mask >> i & 1 == 1).collect();
            let proof = field_multiproof(&l, &disclosed).unwrap();
            let shown: Vec<(usize, Hash16)> = disclosed.iter().map(|&i| (i, l[i])).collect();
            prop_assert_eq!(field_root_from_proof(n, &shown, &proof), field_root(&l));
            // Another value, another position, a hash more or less: another root or none.
            if !shown.is_empty() {
                let mut bent = shown.clone();
                let k = flip % bent.len();
                bent[k].1 = Hash16([0xee; 16]);
                prop_assert_ne!(field_root_from_proof(n, &bent, &proof), field_root(&l));
            }
            let mut longer = proof.clone();
            longer.push(Hash16([0; 16]));
            prop_assert_eq!(field_root_from_proof(n, &shown, &longer), None);
            if !proof.is_empty() {
                prop_assert_eq!(field_root_from_proof(n, &shown, &proof[1..]), None);
            }
        }

        #[test]
        fn batch_paths_verify_and_find_their_root(n in 1u64..300, pick in any::<u64>()) {
            let l: Vec<Hash16> = (0..n).map(|i| copy_leaf(&i.to_be_bytes(), &[0; 64])).collect();
            let tree = CopyTree::new(&l);
            let root = tree.root().unwrap();
            let i = pick % n;
            let path = tree.audit_path(i).unwrap();
            prop_assert!(verify_copy_inclusion(&l[i as usize], i, n, &path, &root));
            prop_assert_eq!(batch_root_from_path(&l[i as usize], i, &path), Some(root));
            let other = (i + 1) % n;
            if other != i {
                prop_assert!(!verify_copy_inclusion(&l[i as usize], other, n, &path, &root));
            }
        }
    }
}
