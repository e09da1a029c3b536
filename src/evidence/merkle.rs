//! The Merkle tree over the evidence log (RFC 6962 §2.1, verified as in
//! RFC 9162 §2.1.3–2.1.4).
//!
//! Evidence records are the leaves, in `merkle_position` order. This module
//! turns leaf hashes into tree heads, inclusion proofs ("record N is in the
//! log with this root") and consistency proofs ("the log of size M is a prefix
//! of the log of size N"), and checks such proofs. It exists so that
//! `draft evidence verify --root` and `draft evidence prove` give answers any
//! RFC 6962 implementation can check, and so that a log of 100,000+ records is
//! hashed in linear time with logarithmic extra memory.
//!
//! It must never read git, the clock or records' meaning: it sees only bytes
//! and hashes. It must never depart from the RFC byte layouts (`0x00` leaf
//! prefix, `0x01` node prefix, split at the largest power of two below the
//! size), because outside verifiers recompute exactly these. Verifiers must
//! fail closed: any proof that does not match the RFC algorithm step for step
//! is rejected, never "repaired".

use sha2::{Digest, Sha256};

/// A SHA-256 value: a leaf hash, a node hash or a tree head.
pub type Hash = [u8; 32];

/// Leaf hash of RFC 6962 §2.1: `SHA-256(0x00 || data)`. The prefix keeps a
/// leaf from ever being mistaken for an interior node (second preimages).
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new_with_prefix([0x00]).chain_update(data).finalize().into()
}

/// Interior node hash of RFC 6962 §2.1: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let node = Sha256::new_with_prefix([0x01]).chain_update(left);
    node.chain_update(right).finalize().into()
}

/// Tree head of the empty log: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Tree head (MTH of RFC 6962 §2.1) over already-hashed leaves.
///
/// O(n) hashing and O(log n) extra memory: the leaves stream through a
/// [`MerkleLog`] frontier instead of being split recursively.
pub fn root(leaves: &[Hash]) -> Hash {
    leaves.iter().copied().collect::<MerkleLog>().root()
}

/// Audit path `PATH(m, D[n])` of RFC 6962 §2.1.1 for the leaf at `index`, ordered
/// from the leaf's sibling up to the child of the root. `None` when `index` is
/// not a leaf of the tree.
///
/// The siblings cover disjoint ranges of the leaves, so the whole proof costs
/// fewer than `leaves.len()` node hashes.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    // Walk from the root down to the leaf; each step records the subtree on
    // the side the leaf is not in. The RFC lists them leaf-first, hence the
    // reverse at the end.
    let (mut lo, mut hi) = (0, leaves.len());
    let mut path = Vec::new();
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            path.push(root(&leaves[mid..hi]));
            hi = mid;
        } else {
            path.push(root(&leaves[lo..mid]));
            lo = mid;
        }
    }
    path.reverse();
    Some(path)
}

/// Checks an inclusion proof as in RFC 9162 §2.1.3.2: that `leaf` is the leaf
/// hash at `index` in the tree of `size` leaves whose head is `root`.
///
/// The proof's length and the order in which its hashes are combined are
/// fixed by `(index, size)`, so a wrong index, a missing or extra element or
/// any changed bit is rejected. Note that `size` is bound only through `root`:
/// check a proof against a tree head (size and root taken together, as
/// signed), never against a root with a size from elsewhere.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut acc = *leaf;
    for sibling in proof {
        if snode == 0 {
            // More proof than tree: an appended element.
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            acc = node_hash(sibling, &acc);
            // On the right edge of an unbalanced tree the node has no right
            // sibling at these levels; skip them.
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            acc = node_hash(&acc, sibling);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // A short proof leaves levels unclimbed.
    snode == 0 && acc == *root
}

/// Consistency proof `PROOF(m, D[n])` of RFC 6962 §2.1.2 between the first `m`
/// leaves and all of them. `None` when `m == 0` (there is nothing to prove
/// about an empty log) or `m > leaves.len()`. `m == leaves.len()` gives the
/// empty proof.
///
/// Like [`inclusion_proof`], the hashes cover disjoint ranges: fewer than
/// `leaves.len()` node hashes in total.
pub fn consistency_proof(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    if m == 0 || m > leaves.len() {
        return None;
    }
    // SUBPROOF(m, D[lo..hi], complete) unrolled. The recursion emits the
    // innermost part first and then the sibling found on each way down, so
    // the siblings are collected top-down and reversed.
    let (mut lo, mut hi, mut m) = (0, leaves.len(), m);
    // Whether the old tree's head is a subtree the verifier already has
    // (RFC 6962's `b`): true until the path first turns right.
    let mut old_head_known = true;
    let mut siblings = Vec::new();
    while m != hi - lo {
        let k = split(hi - lo);
        if m <= k {
            siblings.push(root(&leaves[lo + k..hi]));
            hi = lo + k;
        } else {
            siblings.push(root(&leaves[lo..lo + k]));
            lo += k;
            m -= k;
            old_head_known = false;
        }
    }
    let mut proof = Vec::with_capacity(siblings.len() + 1);
    if !old_head_known {
        proof.push(root(&leaves[lo..hi]));
    }
    proof.extend(siblings.into_iter().rev());
    Some(proof)
}

/// Checks a consistency proof as in RFC 9162 §2.1.4.2: that the tree of `m`
/// leaves with head `old_root` is a prefix of the tree of `n` leaves with
/// head `new_root`.
///
/// `m == n` holds only with an empty proof and equal roots; `m == 0` is
/// rejected, matching [`consistency_proof`] (an empty log needs no proof:
/// compare its root with [`empty_root`] directly).
pub fn verify_consistency(m: u64, n: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if m == 0 || m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && old_root == new_root;
    }
    let Some((first, rest)) = proof.split_first() else {
        return false;
    };
    // When the old tree is a perfect subtree of the new one, its head is the
    // starting node and the proof omits it (RFC 9162 step 2).
    let (start, path) = if m.is_power_of_two() { (*old_root, proof) } else { (*first, rest) };
    let (mut fnode, mut snode) = (m - 1, n - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut old_acc, mut new_acc) = (start, start);
    for c in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            old_acc = node_hash(c, &old_acc);
            new_acc = node_hash(c, &new_acc);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            // Only the new tree extends to the right.
            new_acc = node_hash(&new_acc, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && old_acc == *old_root && new_acc == *new_root
}

/// Lowercase hex of a hash, the form printed and stored in records.
pub fn to_hex(h: &Hash) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for byte in h {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Parses exactly 64 hex digits (either case) into a hash; anything else,
/// including surrounding whitespace or a `sha256:` prefix, is `None`.
pub fn from_hex(s: &str) -> Option<Hash> {
    let bytes = s.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *byte = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    // `char::from` of a byte is Latin-1, so only ASCII hex digits pass.
    char::from(c).to_digit(16).map(|d| d as u8)
}

/// RFC 6962's `k`: the largest power of two strictly below `n` (`n >= 2`).
/// Every split in the tree is here, so the tree's shape is defined once.
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (n - 1).ilog2()
}

/// An append-only Merkle log kept as its frontier: the heads of the perfect
/// subtrees that make up the tree, largest (leftmost) first, one per set bit
/// of the size.
///
/// Appending costs O(1) amortised hashes and asking for the tree head
/// O(log n), so a writer or a verifier can stream a log of any length without
/// holding its leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleLog {
    size: u64,
    frontier: Vec<Hash>,
}

impl MerkleLog {
    /// The empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one leaf hash (see [`leaf_hash`]) at position `self.len()`.
    pub fn push(&mut self, leaf: Hash) {
        // Like incrementing a binary counter: every trailing one bit of the
        // size is a perfect subtree of the new leaf's size, which merges.
        let merges = self.size.trailing_ones() as usize;
        let keep = self.frontier.len() - merges;
        let merged = self.frontier.drain(keep..).rev().fold(leaf, |right, left| node_hash(&left, &right));
        self.frontier.push(merged);
        self.size += 1;
    }

    /// Number of leaves appended so far.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether no leaf has been appended.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The tree head over all leaves so far (equal to [`root`] over them).
    pub fn root(&self) -> Hash {
        // RFC 6962 splits at the largest power of two, so the tree is the
        // frontier's subtrees joined right to left.
        self.frontier.iter().rev().copied().reduce(|right, left| node_hash(&left, &right)).unwrap_or_else(empty_root)
    }
}

impl Extend<Hash> for MerkleLog {
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaves: I) {
        for leaf in leaves {
            self.push(leaf);
        }
    }
}

impl FromIterator<Hash> for MerkleLog {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut log = Self::new();
        log.extend(leaves);
        log
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::HashMap;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vectors/rfc6962.json");

    /// The vectors file, its leaves hashed, and `heads[s]`, the known tree
    /// head of the first `s` leaves.
    fn vectors() -> (Value, Vec<Hash>, Vec<Hash>) {
        let text = std::fs::read_to_string(VECTORS).expect("known-answer vectors are readable");
        let json: Value = serde_json::from_str(&text).expect("vectors are JSON");
        let leaves = json["leaves_hex"].as_array().unwrap().iter();
        let leaves = leaves.map(|l| leaf_hash(&bytes(l.as_str().unwrap()))).collect();
        let mut heads = vec![hash(&json["empty_tree_root"])];
        heads.extend(hashes(&json["root_of_first_n"]));
        (json, leaves, heads)
    }

    fn bytes(hex: &str) -> Vec<u8> {
        let digits = (0..hex.len()).step_by(2);
        digits.map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    fn hash(v: &Value) -> Hash {
        from_hex(v.as_str().unwrap()).unwrap()
    }

    fn hashes(v: &Value) -> Vec<Hash> {
        v.as_array().unwrap().iter().map(hash).collect()
    }

    fn num(v: &Value) -> u64 {
        v.as_u64().unwrap()
    }

    /// Every single-bit change of `h`.
    fn bit_flips(h: &Hash) -> impl Iterator<Item = Hash> + '_ {
        (0..256).map(move |bit| {
            let mut flipped = *h;
            flipped[bit / 8] ^= 1 << (bit % 8);
            flipped
        })
    }

    /// The proof with one bit flipped anywhere, with any one element
    /// removed, and with an element appended or prepended.
    fn corrupted(proof: &[Hash]) -> Vec<Vec<Hash>> {
        let mut out = Vec::new();
        for (i, element) in proof.iter().enumerate() {
            for flipped in bit_flips(element) {
                out.push(proof.to_vec());
                out.last_mut().unwrap()[i] = flipped;
            }
            out.push(proof.to_vec());
            out.last_mut().unwrap().remove(i);
        }
        for extra in [[0; 32], proof.last().copied().unwrap_or([7; 32])] {
            out.push([proof, &[extra]].concat());
            out.push([&[extra], proof].concat());
        }
        out
    }

    #[test]
    fn heads_of_the_empty_log_and_every_prefix_match_known_answers() {
        let (_, leaves, heads) = vectors();
        let mut log = MerkleLog::new();
        assert_eq!([empty_root(), root(&[]), log.root()], [heads[0]; 3]);
        for (size, leaf) in (1..).zip(&leaves) {
            log.push(*leaf);
            assert_eq!([root(&leaves[..size]), log.root()], [heads[size]; 2]);
            assert_eq!(log.len(), size as u64);
        }
    }

    #[test]
    fn inclusion_vectors_are_reproduced_verified_and_corruptions_rejected() {
        let (json, leaves, heads) = vectors();
        for case in json["inclusion"].as_array().unwrap() {
            let leaf = leaf_hash(&bytes(case["leaf_hex"].as_str().unwrap()));
            let (index, size) = (num(&case["leaf_index"]), num(&case["tree_size"]));
            let (proof, head) = (hashes(&case["proof"]), hash(&case["root"]));
            let name = format!("leaf {index} of {size}");
            let tree = &leaves[..size as usize];
            assert_eq!([tree[index as usize], heads[size as usize]], [leaf, head]);
            let generated = inclusion_proof(tree, index as usize);
            assert_eq!(generated.as_deref(), Some(&proof[..]), "{name}");
            assert!(verify_inclusion(&leaf, index, size, &proof, &head), "{name}");

            // Every (leaf, index, size, proof, root) below must be refused.
            let mut bad = Vec::new();
            for wrong in [index.wrapping_sub(1), index + 1, size] {
                bad.push((leaf, wrong, size, proof.clone(), head));
            }
            // A size means something only with its own head (the two are
            // signed together): a proof for n can have the shape of n±1.
            for wrong in [size - 1, size + 1] {
                let wrong_head = *heads.get(wrong as usize).unwrap_or(&head);
                bad.push((leaf, index, wrong, proof.clone(), wrong_head));
            }
            bad.extend(corrupted(&proof).into_iter().map(|p| (leaf, index, size, p, head)));
            bad.extend(bit_flips(&head).map(|h| (leaf, index, size, proof.clone(), h)));
            bad.extend(bit_flips(&leaf).map(|l| (l, index, size, proof.clone(), head)));
            for (l, i, s, p, h) in bad {
                assert!(!verify_inclusion(&l, i, s, &p, &h), "{name}: {i}/{s} {p:?}");
            }
        }
    }

    #[test]
    fn consistency_vectors_are_reproduced_verified_and_corruptions_rejected() {
        let (json, leaves, heads) = vectors();
        for case in json["consistency"].as_array().unwrap() {
            let (m, n) = (num(&case["size1"]), num(&case["size2"]));
            let proof = hashes(&case["proof"]);
            let (old, new) = (hash(&case["root1"]), hash(&case["root2"]));
            let name = format!("{m} -> {n}");
            assert_eq!([heads[m as usize], heads[n as usize]], [old, new], "{name}");
            let generated = consistency_proof(&leaves[..n as usize], m as usize);
            assert_eq!(generated.as_deref(), Some(&proof[..]), "{name}");
            assert!(verify_consistency(m, n, &old, &new, &proof), "{name}");

            // Every (m, n, old root, new root, proof) below must be refused.
            // Sizes go with their own heads, as for inclusion; a wrong old
            // size is refused with the true heads too.
            let head = |size: u64, fallback| *heads.get(size as usize).unwrap_or(fallback);
            let mut bad = Vec::new();
            for (m2, n2) in [(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1), (n + 1, n)] {
                bad.push((m2, n2, head(m2, &old), head(n2, &new), proof.clone()));
                if n2 == n {
                    bad.push((m2, n2, old, new, proof.clone()));
                }
            }
            bad.extend(corrupted(&proof).into_iter().map(|p| (m, n, old, new, p)));
            bad.extend(bit_flips(&old).map(|o| (m, n, o, new, proof.clone())));
            bad.extend(bit_flips(&new).map(|h| (m, n, old, h, proof.clone())));
            for (m2, n2, o, h, p) in bad {
                assert!(!verify_consistency(m2, n2, &o, &h, &p), "{name}: {m2}->{n2} {p:?}");
            }
        }
    }

    /// RFC 6962 §2.1 transcribed recursively, to hold the streaming code to.
    /// Ranges are `lo..hi` of one leaf list; subtree heads are memoised
    /// because every tree checked is a prefix of that list.
    struct Reference {
        leaves: Vec<Hash>,
        memo: HashMap<(usize, usize), Hash>,
    }

    impl Reference {
        fn k(n: usize) -> usize {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            k
        }

        fn mth(&mut self, lo: usize, hi: usize) -> Hash {
            if let Some(h) = self.memo.get(&(lo, hi)) {
                return *h;
            }
            let h = match hi - lo {
                0 => empty_root(),
                1 => self.leaves[lo],
                n => {
                    let mid = lo + Self::k(n);
                    node_hash(&self.mth(lo, mid), &self.mth(mid, hi))
                }
            };
            self.memo.insert((lo, hi), h);
            h
        }

        /// `PATH(m, D[lo..hi])`.
        fn path(&mut self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
            if hi - lo <= 1 {
                return Vec::new();
            }
            let k = Self::k(hi - lo);
            let (mut path, sibling) = if m < k {
                (self.path(m, lo, lo + k), self.mth(lo + k, hi))
            } else {
                (self.path(m - k, lo + k, hi), self.mth(lo, lo + k))
            };
            path.push(sibling);
            path
        }

        /// `SUBPROOF(m, D[lo..hi], b)`.
        fn subproof(&mut self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Hash> {
            if m == hi - lo {
                return if b { vec![] } else { vec![self.mth(lo, hi)] };
            }
            let k = Self::k(hi - lo);
            let mid = lo + k;
            let (mut proof, sibling) = if m <= k {
                (self.subproof(m, lo, mid, b), self.mth(mid, hi))
            } else {
                (self.subproof(m - k, mid, hi, false), self.mth(lo, mid))
            };
            proof.push(sibling);
            proof
        }
    }

    /// Distinct stand-ins for leaf hashes; any 32 bytes will do.
    fn numbered_leaves(count: u64) -> Vec<Hash> {
        let leaf = |i: u64| [i.to_be_bytes(), [0xa5; 8], [0; 8], [0x5a; 8]].concat();
        (0..count).map(|i| leaf(i).try_into().unwrap()).collect()
    }

    #[test]
    fn every_tree_up_to_70_leaves_matches_the_recursive_definition() {
        const MAX: usize = 70;
        let leaves = numbered_leaves(MAX as u64 + 1);
        let mut r = Reference { leaves: leaves.clone(), memo: HashMap::new() };
        let mut log = MerkleLog::new();
        for n in 1..=MAX {
            let (tree, size, head) = (&leaves[..n], n as u64, r.mth(0, n));
            log.push(leaves[n - 1]);
            assert_eq!((root(tree), log.root()), (head, head), "root of {n}");

            for i in 0..n {
                let proof = inclusion_proof(tree, i).unwrap();
                assert_eq!(proof, r.path(i, 0, n), "path of {i} in {n}");
                let (leaf, index) = (&tree[i], i as u64);
                let accepted = verify_inclusion(leaf, index, size, &proof, &head);
                assert!(accepted, "{i} in {n}");
                for wrong in [index.wrapping_sub(1), index + 1] {
                    let accepted = verify_inclusion(leaf, wrong, size, &proof, &head);
                    assert!(!accepted, "{i} in {n} as {wrong}");
                }
                for wrong in [n - 1, n + 1] {
                    let wrong_head = r.mth(0, wrong);
                    let accepted = verify_inclusion(leaf, index, wrong as u64, &proof, &wrong_head);
                    assert!(!accepted, "{i} in {n} as size {wrong}");
                }
            }
            assert_eq!(inclusion_proof(tree, n), None);

            for m in 1..=n {
                let proof = consistency_proof(tree, m).unwrap();
                assert_eq!(proof, r.subproof(m, 0, n, true), "proof {m} -> {n}");
                let (old, mm) = (r.mth(0, m), m as u64);
                let accepted = verify_consistency(mm, size, &old, &head, &proof);
                assert!(accepted, "{m} -> {n}");
                for (m2, n2) in [(m - 1, n), (m + 1, n), (m, n - 1), (m, n + 1)] {
                    let (old2, new2) = (r.mth(0, m2), r.mth(0, n2));
                    let accepted = verify_consistency(m2 as u64, n2 as u64, &old2, &new2, &proof);
                    assert!(!accepted, "{m} -> {n} as {m2} -> {n2}");
                }
            }
            assert_eq!(consistency_proof(tree, 0), None);
            assert_eq!(consistency_proof(tree, n + 1), None);
        }
    }

    #[test]
    fn a_log_of_100k_leaves_is_appended_and_proved_in_linear_time() {
        const N: u64 = 100_000;
        const M: u64 = 77_777;
        let leaves = numbered_leaves(N);
        let mut log = MerkleLog::new();
        let mut old = empty_root();
        for leaf in &leaves {
            log.push(*leaf);
            if log.len() == M {
                old = log.root();
            }
        }
        let head = log.root();
        let proof = inclusion_proof(&leaves, M as usize).unwrap();
        assert!(verify_inclusion(&leaves[M as usize], M, N, &proof, &head));
        let proof = consistency_proof(&leaves, M as usize).unwrap();
        assert!(verify_consistency(M, N, &old, &head, &proof));
    }

    #[test]
    fn degenerate_sizes_have_no_proofs_but_a_single_leaf_is_its_own_head() {
        let leaf = leaf_hash(b"x");
        assert_eq!(inclusion_proof(&[], 0), None);
        assert_eq!(consistency_proof(&[], 0), None);
        assert!(!verify_inclusion(&leaf, 0, 0, &[], &leaf));
        assert!(!verify_consistency(0, 0, &empty_root(), &empty_root(), &[]));
        assert!(!verify_consistency(0, 1, &empty_root(), &leaf, &[]));
        assert!(verify_consistency(1, 1, &leaf, &leaf, &[]));
        assert!(!verify_consistency(1, 1, &leaf, &leaf, &[leaf]));
        assert!(verify_inclusion(&leaf, 0, 1, &[], &leaf));
        let pair = node_hash(&leaf, &leaf);
        assert!(!verify_inclusion(&leaf, 0, 1, &[leaf], &pair));
        // Domain separation: no leaf passes for the node over two leaves.
        assert_ne!(leaf_hash(&[leaf, leaf].concat()), pair);
    }

    #[test]
    fn hex_round_trips_and_anything_but_64_digits_is_refused() {
        let h = leaf_hash(b"record");
        assert_eq!(from_hex(&to_hex(&h)), Some(h));
        assert_eq!(from_hex(&to_hex(&h).to_uppercase()), Some(h));
        assert_eq!(to_hex(&[0xab; 32]), "ab".repeat(32));
        let good = to_hex(&h);
        let (short, long) = (&good[2..], format!("{good}00"));
        let (spaced, prefixed) = (format!(" {}", &good[1..]), format!("sha256:{good}"));
        let (not_hex, not_ascii) = (format!("{short}zz"), format!("é{}", &good[2..]));
        for bad in ["", short, &long, &spaced, &prefixed, &not_hex, &not_ascii] {
            assert_eq!(from_hex(bad), None, "{bad:?}");
        }
    }
}
