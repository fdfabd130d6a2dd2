//! The Merkle tree of RFC 9162 (Certificate Transparency v2) over the ledger's leaves: leaf hash
//! SHA-256(0x00 ‖ leaf), node hash SHA-256(0x01 ‖ left ‖ right). Proof generation reads complete
//! subtrees through a getter, so a store keeps only those (O(log n) new nodes per append) and never
//! loads the whole tree; verification follows RFC 9162 §2.1.3.2 and §2.1.4.2.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// A complete subtree: `2^level` leaves starting at leaf `index * 2^level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

/// The complete subtrees a tree of `size` leaves ends with: the left siblings that appending
/// the next leaves needs.
pub fn frontier(size: u64) -> Vec<NodeId> {
    (0..64)
        .filter(|level| size & (1 << level) != 0)
        .map(|level| NodeId {
            level,
            index: (size >> level) - 1,
        })
        .collect()
}

/// The hash of the empty tree, SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

pub fn hash_leaf(leaf: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(leaf);
    hasher.finalize().into()
}

pub fn hash_children(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    assert!(n >= 2, "only trees of two or more leaves split");
    1 << (63 - (n - 1).leading_zeros())
}

/// The root of a tree given all its leaf hashes (MTH of RFC 9162 §2.1.1).
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = usize::try_from(split_point(n as u64)).expect("fits in memory");
            hash_children(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// Nodes created by appending `leaves` (their hashes) at positions `first..`: every complete
/// subtree that the new leaves complete. `get` returns earlier complete subtrees (the frontier).
pub fn append_nodes(
    first: u64,
    leaves: &[Hash],
    get: &dyn Fn(NodeId) -> Hash,
) -> Vec<(NodeId, Hash)> {
    let mut created: Vec<(NodeId, Hash)> = Vec::with_capacity(leaves.len() * 2);
    let mut local = std::collections::HashMap::new();
    for (offset, leaf) in leaves.iter().enumerate() {
        let mut id = NodeId {
            level: 0,
            index: first + offset as u64,
        };
        let mut hash = *leaf;
        created.push((id, hash));
        local.insert(id, hash);
        while id.index % 2 == 1 {
            let left_id = NodeId {
                level: id.level,
                index: id.index - 1,
            };
            let left = local.get(&left_id).copied().unwrap_or_else(|| get(left_id));
            hash = hash_children(&left, &hash);
            id = NodeId {
                level: id.level + 1,
                index: id.index / 2,
            };
            created.push((id, hash));
            local.insert(id, hash);
        }
    }
    created
}

/// The hash of leaves `start..start+size` of a tree whose complete subtrees `get` returns, where
/// `start` is a multiple of the largest power of two ≤ size (true of every range RFC 9162 uses).
fn range_hash(start: u64, size: u64, get: &dyn Fn(NodeId) -> Hash) -> Hash {
    if size == 0 {
        return empty_root();
    }
    if size.is_power_of_two() && start.is_multiple_of(size) {
        return get(NodeId {
            level: size.trailing_zeros(),
            index: start / size,
        });
    }
    let k = split_point(size);
    hash_children(
        &range_hash(start, k, get),
        &range_hash(start + k, size - k, get),
    )
}

/// The root of the first `size` leaves.
pub fn root(size: u64, get: &dyn Fn(NodeId) -> Hash) -> Hash {
    range_hash(0, size, get)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (PATH of RFC 9162 §2.1.3.1).
pub fn inclusion_proof(index: u64, size: u64, get: &dyn Fn(NodeId) -> Hash) -> Vec<Hash> {
    assert!(index < size, "callers ask only for leaves inside the tree");
    let mut proof = Vec::new();
    path(index, 0, size, get, &mut proof);
    proof
}

fn path(m: u64, start: u64, n: u64, get: &dyn Fn(NodeId) -> Hash, proof: &mut Vec<Hash>) {
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        path(m, start, k, get, proof);
        proof.push(range_hash(start + k, n - k, get));
    } else {
        path(m - k, start + k, n - k, get, proof);
        proof.push(range_hash(start, k, get));
    }
}

/// The consistency proof between trees of `old_size` and `new_size` leaves (RFC 9162 §2.1.4.1).
pub fn consistency_proof(old_size: u64, new_size: u64, get: &dyn Fn(NodeId) -> Hash) -> Vec<Hash> {
    assert!(
        0 < old_size && old_size <= new_size,
        "callers ask only for 0 < old ≤ new"
    );
    let mut proof = Vec::new();
    if old_size < new_size {
        subproof(old_size, 0, new_size, true, get, &mut proof);
    }
    proof
}

fn subproof(
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    get: &dyn Fn(NodeId) -> Hash,
    proof: &mut Vec<Hash>,
) {
    if m == n {
        if !complete {
            proof.push(range_hash(start, n, get));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(m, start, k, complete, get, proof);
        proof.push(range_hash(start + k, n - k, get));
    } else {
        subproof(m - k, start + k, n - k, false, get, proof);
        proof.push(range_hash(start, k, get));
    }
}

/// Which complete subtrees a computation reads: run it once with this recorder, fetch the nodes,
/// run it again with the real getter (the nodes read never depend on hash values).
pub fn nodes_read(run: impl FnOnce(&dyn Fn(NodeId) -> Hash)) -> Vec<NodeId> {
    let read = std::cell::RefCell::new(Vec::new());
    run(&|id| {
        read.borrow_mut().push(id);
        [0; 32]
    });
    let mut ids = read.into_inner();
    ids.sort();
    ids.dedup();
    ids
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not inside a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    #[error("the older tree ({old}) is larger than the newer ({new})")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error("a consistency proof from the empty tree proves nothing")]
    EmptyOldTree,
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves with `root`.
pub fn verify_inclusion(
    leaf_hash: &[u8],
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &[u8],
) -> Result<(), ProofError> {
    let leaf_hash: &Hash = leaf_hash.try_into().map_err(|_| ProofError::WrongLength)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ % 2 == 1 || fn_ == sn {
            r = hash_children(p, &r);
            while fn_ % 2 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = hash_children(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r.as_slice() == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Verifies that the tree of `new_size` leaves with `new_root` extends the tree of `old_size`
/// leaves with `old_root`.
/// Roots are taken as bytes: two equal sizes need only equal roots, whatever their length.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &[u8],
    new_root: &[u8],
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old_size.is_power_of_two() {
        let old_root: Hash = old_root.try_into().map_err(|_| ProofError::RootMismatch)?;
        path.insert(0, old_root);
    }
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ % 2 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ % 2 == 1 || fn_ == sn {
            fr = hash_children(c, &fr);
            sr = hash_children(c, &sr);
            while fn_ % 2 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = hash_children(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr.as_slice() == old_root && sr.as_slice() == new_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
