//! The operations a clone owes its remote, read from its own history.
//!
//! Every writer lands one notes commit per run, and each record in it names
//! the commit it describes. So the notes commits reachable from the local
//! notes ref but not from the remote's are exactly the operations not yet
//! on the remote, in the order they were made, with nothing kept beside git
//! that could disagree with it.

use super::super::Service;
use crate::error::{Error, Result};
use crate::evidence::record::{Record, SignedRecord};
use git2::{Oid, Sort};
use ssh_key::public::KeyData;
use std::collections::HashMap;

/// One local operation: a record and the commit it describes.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub signed: SignedRecord,
    /// The commit the record is attached to (on the drafts branch, or on
    /// main for an apply).
    pub object: Oid,
    /// Where the draft's file is.
    pub draft_path: String,
}

impl Operation {
    /// The key that signed the record, if its signature can be read.
    pub fn signing_key(&self) -> Option<KeyData> {
        let signature = ssh_key::SshSig::from_pem(self.signed.signature.trim()).ok()?;
        Some(signature.public_key().clone())
    }

    pub fn record(&self) -> &Record {
        &self.signed.record
    }

    /// Whether `other` is the same operation: the same event of the same
    /// draft (a draft is created once and closed once), or for a change to
    /// `.zen/`, the same signed record.
    pub fn same_as(&self, other: &Operation) -> bool {
        if self.record().is_config() || other.record().is_config() {
            return self.signed.signature == other.signed.signature;
        }
        (self.record().event(), self.record().draft_id()) == (other.record().event(), other.record().draft_id())
    }
}

impl Service {
    /// The operations in the local log that the log at `remote_notes` lacks,
    /// oldest first.
    pub(crate) fn local_operations(
        &self,
        local_notes: Option<Oid>,
        remote_notes: Option<Oid>,
    ) -> Result<Vec<Operation>> {
        let Some(local_notes) = local_notes else { return Ok(Vec::new()) };
        if Some(local_notes) == remote_notes {
            return Ok(Vec::new());
        }
        let repo = self.store.repo();
        let mut walk = repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
        walk.push(local_notes)?;
        if let Some(remote) = remote_notes {
            walk.hide(remote)?;
        }
        let mut operations = Vec::new();
        for commit in walk {
            let commit = repo.find_commit(commit?)?;
            if commit.parent_count() > 1 {
                return Err(Error::new(
                    crate::error::Code::Conflict,
                    "the local evidence notes have a merge commit, which zen-draft never writes",
                )
                .with_hint("the notes were merged by hand (git notes merge); reset refs/notes/zen-evidence to the remote's and make the operations again"));
            }
            let parent_tree = commit.parents().next().map(|p| p.tree()).transpose()?;
            let tree = commit.tree()?;
            let mut notes: Vec<(Oid, Oid)> = Vec::new();
            let mut indexed: HashMap<Oid, (String, String)> = HashMap::new();
            for (path, blob) in self.store.new_blobs(parent_tree.as_ref(), &tree)? {
                let hex: String = path.chars().filter(|c| *c != '/').collect();
                if hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    if let Ok(object) = Oid::from_str(&hex) {
                        notes.push((object, blob));
                    }
                } else if let Some((folder, event)) = path.rsplit_once('/') {
                    indexed.insert(blob, (format!("{folder}.yaml"), event.to_string()));
                }
            }
            let mut found: Vec<Operation> = Vec::with_capacity(notes.len());
            for (object, blob) in notes {
                let Some(signed) = super::super::read::read_record(&self.store, blob)? else {
                    continue; // not a record: nothing to replay (verify reports it)
                };
                // Where the draft is: its record's index entry beside it.
                let Some((draft_path, _)) = indexed.get(&blob).filter(|(_, event)| event == signed.record.event())
                else {
                    continue;
                };
                let draft_path = draft_path.clone();
                found.push(Operation { signed, object, draft_path });
            }
            found.sort_by_key(|op| op.record().position());
            operations.extend(found);
        }
        Ok(operations)
    }
}

/// Where a clone keeps the operations it owes its remote but cannot push
/// itself (signed by another key): never pushed, moved only with the local
/// refs, in the same transaction.
pub(crate) const OWED_REF: &str = "refs/zen-draft/owed";

impl Service {
    /// The operations kept in [`OWED_REF`], in order.
    pub(crate) fn owed_operations(&self) -> Result<Vec<Operation>> {
        self.owed_operations_at(self.store.ref_target(OWED_REF)?)
    }

    /// The operations owed as of `OWED_REF` at commit `tip`.
    pub(crate) fn owed_operations_at(&self, tip: Option<Oid>) -> Result<Vec<Operation>> {
        let Some(commit) = tip else { return Ok(Vec::new()) };
        let tree = self.store.commit_tree(commit)?;
        let mut operations = Vec::new();
        let mut folders: Vec<(String, Oid)> =
            tree.iter().filter_map(|e| Some((e.name().ok()?.to_string(), e.id()))).collect();
        folders.sort();
        for (_, folder) in folders {
            let folder = self.store.repo().find_tree(folder)?;
            let text = |name: &str| -> Option<String> {
                let blob = folder.get_name(name)?.id();
                match self.store.read_blob(blob, crate::yaml::MAX_DOCUMENT_BYTES).ok()? {
                    crate::store::BlobRead::Bytes(bytes) => String::from_utf8(bytes).ok(),
                    crate::store::BlobRead::TooLarge(_) => None,
                }
            };
            let (Some(note), Some(path), Some(object)) = (text("note"), text("path"), text("object")) else { continue };
            let (Ok(signed), Ok(object)) = (SignedRecord::parse_note(&note), Oid::from_str(object.trim())) else {
                continue;
            };
            operations.push(Operation { signed, object, draft_path: path });
        }
        Ok(operations)
    }

    /// The commit that keeps `operations` (and, as its parents, the commits
    /// they describe) for [`OWED_REF`].
    pub(crate) fn owed_commit(&self, operations: &[&Operation]) -> Result<Oid> {
        let mut edits = Vec::with_capacity(operations.len() * 3);
        for (n, op) in operations.iter().enumerate() {
            let folder = format!("{n:06}");
            edits.push((format!("{folder}/note"), Some(self.store.write_blob(op.signed.to_note().as_bytes())?)));
            edits.push((format!("{folder}/path"), Some(self.store.write_blob(op.draft_path.as_bytes())?)));
            edits.push((format!("{folder}/object"), Some(self.store.write_blob(op.object.to_string().as_bytes())?)));
        }
        let tree = match self.store.edit_tree_many(None, &edits)? {
            Some(tree) => tree,
            None => self.store.empty_tree()?,
        };
        let mut parents: Vec<Oid> = Vec::new();
        for op in operations {
            if !parents.contains(&op.object) {
                parents.push(op.object);
            }
        }
        let message = format!(
            "{} operations owed to the remote\n\nzen-draft keeps them for their signers' `draft sync`; never pushed.\n",
            operations.len()
        );
        self.store.write_commit(tree, &parents, &message, "zen-draft", self.now())
    }
}
