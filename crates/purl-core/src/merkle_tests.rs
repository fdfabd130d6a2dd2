use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::Value;

use super::*;

/// The public test vectors in `shared/` beside the checkout (or in any folder above it).
fn vectors() -> PathBuf {
    let start = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .map(|folder| folder.join("shared/vectors/rfc6962"))
        .find(|candidate| candidate.join("trees.json").is_file())
        .unwrap_or_else(|| panic!("the RFC 6962 vectors are expected in shared/vectors/rfc6962 beside the checkout (searched above {})", start.display()))
}

fn b64(value: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().unwrap_or(""))
        .unwrap()
}

fn hash(value: &Value) -> Option<Hash> {
    b64(value).try_into().ok()
}

/// A probe's number: JSON numbers beyond i64 still count; negative ones cannot be sizes.
fn number(value: &Value) -> Option<u64> {
    value.as_u64()
}

fn proof(value: &Value) -> Option<Vec<Hash>> {
    value
        .as_array()
        .map_or(Some(Vec::new()), |hashes| hashes.iter().map(hash).collect())
}

fn json_files(folder: &str) -> Vec<(PathBuf, Value)> {
    let mut files = Vec::new();
    let mut stack = vec![vectors().join(folder)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                files.push((path, value));
            }
        }
    }
    files
}

/// A whole tree in memory, as a store would keep it: every complete subtree.
fn tree(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
    let mut nodes = HashMap::new();
    for (index, leaf) in leaves.iter().enumerate() {
        let created = append_nodes(index as u64, std::slice::from_ref(leaf), &|id| nodes[&id]);
        nodes.extend(created);
    }
    nodes
}

#[test]
fn roots_of_the_reference_trees_match_for_every_size() {
    let trees: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("trees.json")).unwrap())
            .unwrap();
    let inputs: Vec<Vec<u8>> = trees["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
        .collect();
    let leaves: Vec<Hash> = inputs.iter().map(|leaf| hash_leaf(leaf)).collect();
    for (leaf, expected) in leaves
        .iter()
        .zip(trees["leaf_hashes_hex"].as_array().unwrap())
    {
        assert_eq!(hex::encode(leaf), expected.as_str().unwrap());
    }
    let nodes = tree(&leaves);
    for (size, expected) in trees["root_hashes_hex_by_tree_size"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(
            hex::encode(root_of(&leaves[..size])),
            expected.as_str().unwrap(),
            "size {size}"
        );
        assert_eq!(
            hex::encode(root(size as u64, &|id| nodes[&id])),
            expected.as_str().unwrap(),
            "size {size} from stored nodes"
        );
    }
}

#[test]
fn every_inclusion_probe_is_accepted_or_rejected_as_the_reference_says() {
    let files = json_files("inclusion");
    assert!(files.len() > 20, "the inclusion probes are there");
    for (path, probe) in files {
        let accepted = match (
            number(&probe["leafIdx"]),
            number(&probe["treeSize"]),
            proof(&probe["proof"]),
        ) {
            (Some(index), Some(size), Some(proof)) => verify_inclusion(
                &b64(&probe["leafHash"]),
                index,
                size,
                &proof,
                &b64(&probe["root"]),
            )
            .is_ok(),
            _ => false,
        };
        assert_eq!(
            accepted,
            !probe["wantErr"].as_bool().unwrap(),
            "{}: {}",
            path.display(),
            probe["desc"]
        );
    }
}

#[test]
fn every_consistency_probe_is_accepted_or_rejected_as_the_reference_says() {
    let files = json_files("consistency");
    assert!(files.len() > 20, "the consistency probes are there");
    for (path, probe) in files {
        let accepted = match (
            number(&probe["size1"]),
            number(&probe["size2"]),
            proof(&probe["proof"]),
        ) {
            (Some(size1), Some(size2), Some(proof)) => verify_consistency(
                size1,
                size2,
                &b64(&probe["root1"]),
                &b64(&probe["root2"]),
                &proof,
            )
            .is_ok(),
            _ => false,
        };
        assert_eq!(
            accepted,
            !probe["wantErr"].as_bool().unwrap(),
            "{}: {}",
            path.display(),
            probe["desc"]
        );
    }
}

fn leaves(count: u64) -> Vec<Hash> {
    (0..count).map(|n| hash_leaf(&n.to_be_bytes())).collect()
}

/// The left/right steps RFC 9162 verification takes from node `fn_` of a tree whose last node is
/// `sn`: two inputs with the same steps accept the same proof for the same root, so a changed size
/// is caught only through the signed (size, root) pair of a checkpoint.
fn steps(mut fn_: u64, mut sn: u64, mut taken: Vec<bool>) -> Vec<bool> {
    while sn > 0 {
        let left = fn_ % 2 == 1 || fn_ == sn;
        taken.push(left);
        if left {
            while fn_.is_multiple_of(2) && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    taken
}

/// The steps of inclusion verification; `None` for an index outside the tree.
fn inclusion_shape(index: u64, size: u64) -> Option<Vec<bool>> {
    (index < size).then(|| steps(index, size - 1, Vec::new()))
}

/// The steps of consistency verification between two sizes (whether the old size is a power of two
/// decides whether its root leads the path).
fn consistency_shape(old: u64, new: u64) -> Option<Vec<bool>> {
    if old == 0 || old > new {
        return None;
    }
    if old == new {
        return Some(Vec::new());
    }
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ % 2 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    Some(steps(fn_, sn, vec![old.is_power_of_two()]))
}

fn flip_bit(hash: &Hash, bit: usize) -> Hash {
    let mut changed = *hash;
    changed[bit / 8 % 32] ^= 1 << (bit % 8);
    changed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inclusion_proofs_verify_and_any_flipped_bit_fails(size in 1u64..3000, pick in any::<u64>(), bit in 0usize..256) {
        let leaves = leaves(size);
        let nodes = tree(&leaves);
        let get = |id: NodeId| nodes[&id];
        let root = root(size, &get);
        prop_assert_eq!(root, root_of(&leaves));
        let index = pick % size;
        let proof = inclusion_proof(index, size, &get);
        prop_assert!(verify_inclusion(&leaves[index as usize], index, size, &proof, &root).is_ok());
        prop_assert!(verify_inclusion(&flip_bit(&leaves[index as usize], bit), index, size, &proof, &root).is_err());
        prop_assert!(verify_inclusion(&leaves[index as usize], index, size, &proof, &flip_bit(&root, bit)).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let which = bit % bad.len();
            bad[which] = flip_bit(&bad[which], bit);
            prop_assert!(verify_inclusion(&leaves[index as usize], index, size, &bad, &root).is_err());
        }
        let flipped_size = size ^ (1 << (bit % 12));
        let accepted = verify_inclusion(&leaves[index as usize], index, flipped_size, &proof, &root).is_ok();
        prop_assert_eq!(accepted, inclusion_shape(index, flipped_size) == inclusion_shape(index, size));
        let flipped_index = index ^ (1 << (bit % 12));
        let accepted = verify_inclusion(&leaves[index as usize], flipped_index, size, &proof, &root).is_ok();
        prop_assert!(!accepted || flipped_index == index);
    }

    #[test]
    fn consistency_proofs_verify_and_any_flipped_bit_fails(a in 1u64..3000, b in 1u64..3000, bit in 0usize..256) {
        let (old, new) = (a.min(b), a.max(b));
        let leaves = leaves(new);
        let nodes = tree(&leaves);
        let get = |id: NodeId| nodes[&id];
        let (old_root, new_root) = (root(old, &get), root(new, &get));
        let proof = consistency_proof(old, new, &get);
        prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof).is_ok());
        prop_assert!(verify_consistency(old, new, &flip_bit(&old_root, bit), &new_root, &proof).is_err());
        prop_assert!(verify_consistency(old, new, &old_root, &flip_bit(&new_root, bit), &proof).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let which = bit % bad.len();
            bad[which] = flip_bit(&bad[which], bit);
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &bad).is_err());
        }
        let flipped_new = new ^ (1 << (bit % 12));
        let accepted = verify_consistency(old, flipped_new, &old_root, &new_root, &proof).is_ok();
        prop_assert_eq!(accepted, flipped_new >= old && consistency_shape(old, flipped_new) == consistency_shape(old, new));
        let flipped_old = old ^ (1 << (bit % 12));
        let accepted = verify_consistency(flipped_old, new, &old_root, &new_root, &proof).is_ok();
        prop_assert_eq!(accepted, flipped_old > 0 && flipped_old <= new && consistency_shape(flipped_old, new) == consistency_shape(old, new) && old.is_power_of_two() == flipped_old.is_power_of_two());
    }
}

#[test]
fn proofs_read_only_a_logarithmic_number_of_stored_nodes() {
    let size = 1_000_003;
    let read = nodes_read(|get| {
        inclusion_proof(123_456, size, get);
    });
    assert!(read.len() <= 2 * 21, "{} nodes read", read.len());
    let read = nodes_read(|get| {
        consistency_proof(777_777, size, get);
    });
    assert!(read.len() <= 3 * 21, "{} nodes read", read.len());
}
