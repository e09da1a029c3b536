//! Inclusion proofs as a document someone else can check offline, with
//! nothing but this file and SHA-256.

use super::merkle;
use serde::{Deserialize, Serialize};

/// An RFC 6962 inclusion proof for one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    pub draft_id: String,
    pub event: String,
    /// The commit the record's note is attached to.
    pub object: String,
    /// The record's canonical JSON line (the leaf's data).
    pub record: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// `SHA-256(0x00 || record)`, hex.
    pub leaf_hash: String,
    /// The tree head the proof leads to, hex.
    pub root: String,
    /// Sibling hashes from the leaf up, hex.
    pub proof: Vec<String>,
}

impl InclusionProof {
    /// Recomputes the leaf from the record and checks the path to the root.
    /// With `expected_root`, the root must also be that one (a tree head you
    /// trust, say from `draft evidence verify` run elsewhere).
    pub fn check(&self, expected_root: Option<&str>) -> Result<(), String> {
        let leaf = merkle::leaf_hash(self.record.as_bytes());
        if merkle::to_hex(&leaf) != self.leaf_hash.to_lowercase() {
            return Err("the leaf hash is not SHA-256(0x00 || record)".into());
        }
        let root = merkle::from_hex(&self.root).ok_or("the root is not 64 hex digits")?;
        if let Some(expected) = expected_root
            && merkle::from_hex(expected) != Some(root)
        {
            return Err("the proof leads to a different root than the one you trust".into());
        }
        let path: Option<Vec<merkle::Hash>> = self.proof.iter().map(|h| merkle::from_hex(h)).collect();
        let path = path.ok_or("a proof element is not 64 hex digits")?;
        if merkle::verify_inclusion(&leaf, self.leaf_index, self.tree_size, &path, &root) {
            Ok(())
        } else {
            Err(format!(
                "the record is not at index {} of a {}-record tree with that root",
                self.leaf_index, self.tree_size
            ))
        }
    }
}
