//! The evidence log through the store: signing and landing records with the
//! commits they describe, and loading the log to verify it.

use super::{Layout, Listed, Service};
use crate::domain::config::ALLOWED_SIGNERS_PATH;
use crate::domain::draft_id::DraftId;
use crate::domain::identity::Actor;
use crate::error::{Code, Error, Result};
use crate::evidence::allowed_signers::AllowedSigners;
use crate::evidence::record::Record;
use crate::evidence::record::SignedRecord;
use crate::evidence::signing::{self, Signer};
use crate::evidence::verify::{CommitFacts, DraftFacts, Entry, LogReport, verify_log};
use crate::evidence::verify::{DraftEvidence, draft_problems};
use crate::evidence::{NOTES_REF, index_path};
use crate::store::cache::KeyCache;
use crate::store::{BlobRead, RefUpdate};
use chrono::{DateTime, Utc};
use git2::Oid;
use sha2::Digest;
use std::collections::{HashMap, HashSet};

const SIZE_TRAILER: &str = "Evidence-Size: ";

/// Largest note we read; a record and its signature are under 2 KiB.
const MAX_NOTE_BYTES: usize = 16 * 1024;

impl Service {
    /// `.zen/allowed_signers` as it is on main now.
    pub(crate) fn allowed_signers(&self, layout: &Layout) -> Result<AllowedSigners> {
        let tree = self.store.commit_tree(layout.main.commit)?;
        let Some(blob) = self.store.blob_id_at(&tree, ALLOWED_SIGNERS_PATH)? else {
            return Ok(AllowedSigners::default());
        };
        let invalid = |why: String| {
            Error::new(Code::InvalidConfig, format!("{ALLOWED_SIGNERS_PATH} on main: {why}"))
                .with_hint("fix the file on main; it uses git's allowed_signers format")
        };
        let bytes = match self.store.read_blob(blob, 1024 * 1024)? {
            BlobRead::Bytes(bytes) => bytes,
            BlobRead::TooLarge(size) => return Err(invalid(format!("{size} bytes is too large"))),
        };
        let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8".into()))?;
        AllowedSigners::parse(&text).map_err(|e| invalid(e.to_string()))
    }

    /// The caller's signing key, refused up front with `refusal` unless
    /// `.zen/allowed_signers` lists it for `actor` in `namespace`: a record
    /// nobody could verify is never written.
    pub(crate) fn signer_for(
        &self,
        layout: &Layout,
        actor: &Actor,
        namespace: &str,
        refusal: Code,
    ) -> Result<Box<dyn Signer>> {
        let git_key = self.store.repo().config().ok().and_then(|c| c.get_string("user.signingkey").ok());
        let signer = signing::signer_from(&|name| self.env.signing.get(name).cloned(), git_key.as_deref()).map_err(|e| {
            Error::new(Code::SigningKeyMissing, format!("no usable signing key: {e}")).with_hint(
                "set ZEN_SIGNING_KEY to an OpenSSH private key (ssh-keygen -t ed25519), or git's user.signingkey; nothing was written",
            )
        })?;
        let allowed = self.allowed_signers(layout)?;
        let key = signer.public_key();
        if !allowed.allows(actor.id(), namespace, key, self.now().timestamp()) {
            let fingerprint = key.fingerprint(ssh_key::HashAlg::Sha256);
            let listed = allowed.principals_for(key);
            let also =
                if listed.is_empty() { String::new() } else { format!(" (it is listed for {})", listed.join(", ")) };
            return Err(Error::new(
                refusal,
                format!("the signing key {fingerprint} is not listed for {} with namespace {namespace} in {ALLOWED_SIGNERS_PATH}{also}", actor.id()),
            )
            .with_hint(format!(
                "add `{} namespaces=\"{namespace}\" <your public key>` to {ALLOWED_SIGNERS_PATH} on main (reviewed like any change); nothing was written",
                actor.id()
            )));
        }
        Ok(signer)
    }

    /// The number of records in the log at `notes_tip`, from the size the
    /// last writer recorded in its commit (counting only when a foreign
    /// writer left none).
    pub(crate) fn log_size(&self, notes_tip: Option<Oid>) -> Result<u64> {
        let Some(tip) = notes_tip else { return Ok(0) };
        let commit = self.store.repo().find_commit(tip)?;
        let message = commit.message().unwrap_or_default();
        if let Some(size) = message.lines().find_map(|l| l.strip_prefix(SIZE_TRAILER)?.trim().parse().ok()) {
            return Ok(size);
        }
        Ok(self.store.all_notes(&commit.tree()?)?.len() as u64)
    }

    /// Writes the notes commit that attaches each record to its object, and
    /// indexes each under its draft.
    pub(crate) fn write_notes(
        &self,
        notes_tip: Option<Oid>,
        notes: &[(Oid, SignedRecord)],
        now: DateTime<Utc>,
    ) -> Result<Oid> {
        let mut edits = Vec::with_capacity(notes.len() * 2);
        for (object, signed) in notes {
            let blob = self.store.write_blob(signed.to_note().as_bytes())?;
            let record = &signed.record;
            let id = DraftId::parse(record.draft_id())
                .ok_or_else(|| Error::internal("a record for a malformed draft id"))?;
            edits.push((crate::store::Store::note_path(*object), Some(blob)));
            edits.push((index_path(&id, record.event()), Some(blob)));
        }
        let base = notes_tip.map(|c| self.store.commit_tree(c)).transpose()?;
        let tree = self.store.edit_tree_many(base.as_ref(), &edits)?.expect("the tree holds the new notes");
        let (first, last) = match (notes.first(), notes.last()) {
            (Some(first), Some(last)) => (&first.1.record, &last.1.record),
            _ => return Err(Error::internal("no notes to write")),
        };
        let subject = if notes.len() == 1 {
            format!("{} {} at position {}", first.event(), first.draft_id(), first.position())
        } else {
            format!("{} records at positions {}..={}", notes.len(), first.position(), last.position())
        };
        let message = format!("{subject}\n\n{SIZE_TRAILER}{}\n", last.position() + 1);
        let parents: Vec<Oid> = notes_tip.into_iter().collect();
        self.store.write_commit(tree, &parents, &message, "zen-draft", now)
    }

    /// The ref update that lands `signed` on `object` at the log's next position.
    pub(crate) fn note_update(
        &self,
        object: Oid,
        make: &dyn Fn(u64) -> Result<SignedRecord>,
        now: DateTime<Utc>,
    ) -> Result<RefUpdate> {
        let notes_tip = self.store.ref_target(NOTES_REF)?;
        let position = self.log_size(notes_tip)?;
        let signed = make(position)?;
        let new = self.write_notes(notes_tip, &[(object, signed)], now)?;
        Ok(RefUpdate { refname: NOTES_REF.to_string(), old: notes_tip, new })
    }

    /// Loads every note and checks the whole log against the drafts branch.
    pub(crate) fn load_evidence(&self, layout: &Layout, drafts: &[Listed]) -> Result<LogReport> {
        let allowed = self.allowed_signers(layout)?;
        let drafts_history = match self.store.branch_tip(&layout.config.drafts_branch)? {
            Some(tip) => self.history(tip.commit)?,
            None => HashSet::new(),
        };
        let main_history = self.history(layout.main.commit)?;
        let mut entries = Vec::new();
        if let Some(tip) = self.store.ref_target(NOTES_REF)? {
            let tree = self.store.commit_tree(tip)?;
            for (object, blob) in self.store.all_notes(&tree)? {
                let note = match self.store.read_blob(blob, MAX_NOTE_BYTES)? {
                    BlobRead::Bytes(bytes) => String::from_utf8(bytes)
                        .map_err(|_| "the note is not UTF-8".to_string())
                        .and_then(|text| SignedRecord::parse_note(&text).map_err(|e| e.0)),
                    BlobRead::TooLarge(size) => Err(format!("the note is {size} bytes, too large to be a record")),
                };
                let commit = self.commit_facts(object, &drafts_history, &main_history);
                entries.push(Entry { object: object.to_string(), note, commit });
            }
        }
        let facts: Vec<DraftFacts> = drafts
            .iter()
            .filter_map(|entry| match entry {
                Listed::Draft(view) => Some(draft_facts(view)),
                Listed::Invalid { .. } => None,
            })
            .collect();
        // Signatures dominate the cost and are independent: check them on every
        // core first, then let the log's rules look the verdicts up.
        let now = self.now().timestamp();
        let signed: Vec<&SignedRecord> = entries.iter().filter_map(|e| e.note.as_ref().ok()).collect();
        let verdicts = verify_signatures(&signed, &allowed, now);
        let check = |signed: &SignedRecord| match verdicts.get(&signed.signature) {
            Some(verdict) => verdict.clone(),
            None => check_signature(signed, &allowed, now),
        };
        Ok(verify_log(entries, &facts, &check))
    }

    /// What reading drafts' evidence needs, loaded once per command.
    /// `cached` lets it remember verified signatures under `.git/` (for
    /// `list`, which shows states; never for a command that decides).
    pub(crate) fn evidence_reader(&self, layout: &Layout, cached: bool) -> Result<EvidenceReader<'_>> {
        let notes_tree = match self.store.ref_target(NOTES_REF)? {
            Some(tip) => Some(self.store.commit_tree(tip)?),
            None => None,
        };
        let main_tree = self.store.commit_tree(layout.main.commit)?;
        let signers_blob = self.store.blob_id_at(&main_tree, ALLOWED_SIGNERS_PATH)?;
        Ok(EvidenceReader {
            service: self,
            notes_tree,
            allowed: self.allowed_signers(layout)?,
            signers_blob: signers_blob.unwrap_or(Oid::ZERO_SHA1),
            cache: cached.then(|| KeyCache::load(&self.store, SIGNATURE_CACHE)),
            now: self.now().timestamp(),
            day: std::cell::RefCell::new(None),
        })
    }

    /// A draft's `draft_created` record, for the `previous_digest` of a later one.
    pub(crate) fn created_record(&self, layout: &Layout, id: &DraftId) -> Result<Record> {
        let found = self
            .evidence_reader(layout, false)?
            .records(id)?
            .into_iter()
            .filter_map(|r| r.ok().map(|(_, signed)| signed))
            .find(|s| matches!(s.record, Record::DraftCreated { .. }) && s.record.draft_id() == id.to_string());
        found.map(|s| s.record).ok_or_else(|| {
            Error::new(Code::EvidenceMismatch, format!("draft {id} has no draft_created record in the evidence log"))
                .with_hint("a draft without signed creation evidence cannot move on; run `draft evidence verify`")
        })
    }

    /// Every commit reachable from `tip`.
    fn history(&self, tip: Oid) -> Result<HashSet<Oid>> {
        let mut walk = self.store.repo().revwalk()?;
        walk.push(tip)?;
        Ok(walk.collect::<Result<HashSet<Oid>, git2::Error>>()?)
    }

    fn commit_facts(&self, object: Oid, drafts: &HashSet<Oid>, main: &HashSet<Oid>) -> CommitFacts {
        let Ok(commit) = self.store.repo().find_commit(object) else { return CommitFacts::default() };
        let message = commit.message().unwrap_or_default();
        let trailer = |key: &str| message.lines().rev().find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()));
        let event = [
            ("Created-By:", "draft_created"),
            ("Discarded-By:", "draft_discarded"),
            ("Applied-By:", "draft_applied"),
            ("Removed-By:", "draft_expired"),
        ]
        .into_iter()
        .find(|(key, _)| trailer(key).is_some())
        .map(|(_, event)| event);
        let reachable = match event {
            Some("draft_applied") => main.contains(&object),
            Some(_) => drafts.contains(&object),
            None => false,
        };
        CommitFacts { draft_id: trailer("Draft-Id:"), event, reachable }
    }
}

fn draft_facts(view: &super::DraftView) -> DraftFacts {
    DraftFacts {
        id: view.id.to_string(),
        draft_type: view.draft.draft_type.to_string(),
        created_by: view.draft.created_by.clone(),
        spec_digest: view.draft.proposed_spec.as_ref().map(crate::domain::digest::value_digest),
        status: match view.draft.status {
            crate::domain::draft::Status::Pending => "pending",
            crate::domain::draft::Status::Applied => "applied",
            crate::domain::draft::Status::Discarded => "discarded",
        }
        .to_string(),
        applied_commit: view.draft.applied_commit.clone(),
    }
}

/// Verifies a record's signature for its signer and namespace, against the
/// allowed signers as of the time the record says it was made.
fn check_signature(signed: &SignedRecord, allowed: &AllowedSigners, now: i64) -> Result<(), String> {
    let record = &signed.record;
    let at = DateTime::parse_from_rfc3339(record.at()).map_or(now, |t| t.timestamp());
    signing::verify(
        &signed.signature,
        record.namespace(),
        record.signed_message().as_bytes(),
        record.signer(),
        allowed,
        at,
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

const SIGNATURE_CACHE: &str = "verified-signatures-v1";

/// Reads drafts' records through the notes index and judges them.
pub(crate) struct EvidenceReader<'s> {
    service: &'s Service,
    notes_tree: Option<git2::Tree<'s>>,
    allowed: AllowedSigners,
    signers_blob: Oid,
    cache: Option<KeyCache>,
    now: i64,
    /// The index's day folder last looked in.
    day: std::cell::RefCell<Option<(String, Option<git2::Tree<'s>>)>>,
}

impl EvidenceReader<'_> {
    /// One draft's records as (note blob, record), found through the index.
    pub(crate) fn records(&self, id: &DraftId) -> Result<Vec<Result<(Oid, SignedRecord), String>>> {
        let store = &self.service.store;
        let Some(folder) = self.draft_folder(id)? else { return Ok(Vec::new()) };
        let mut records = Vec::new();
        for entry in folder.iter() {
            let note = match store.read_blob(entry.id(), MAX_NOTE_BYTES)? {
                BlobRead::Bytes(bytes) => String::from_utf8(bytes)
                    .map_err(|_| "the note is not UTF-8".to_string())
                    .and_then(|text| SignedRecord::parse_note(&text).map_err(|e| e.0)),
                BlobRead::TooLarge(size) => Err(format!("the note is {size} bytes")),
            };
            records.push(note.map(|signed| (entry.id(), signed)));
        }
        Ok(records)
    }

    /// The index folder of one draft's records.
    fn draft_folder(&self, id: &DraftId) -> Result<Option<git2::Tree<'_>>> {
        match self.draft_folder_id(id)? {
            Some(folder) => Ok(Some(self.service.store.repo().find_tree(folder)?)),
            None => Ok(None),
        }
    }

    /// The id of that folder, read from its day folder, which is kept between
    /// calls: a listing walks drafts day by day. The id names exactly the
    /// set of the draft's records.
    fn draft_folder_id(&self, id: &DraftId) -> Result<Option<Oid>> {
        let Some(tree) = &self.notes_tree else { return Ok(None) };
        let store = &self.service.store;
        let day_path = index_path(id, "");
        let day_path = day_path.trim_end_matches('/').rsplit_once('/').map_or("", |(day, _)| day);
        let mut day = self.day.borrow_mut();
        if day.as_ref().is_none_or(|(path, _)| path != day_path) {
            *day = Some((day_path.to_string(), store.subtree(tree, day_path)?));
        }
        let Some((_, Some(day_tree))) = day.as_ref() else { return Ok(None) };
        match day_tree.get_name(&id.to_string()) {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => Ok(Some(entry.id())),
            _ => Ok(None),
        }
    }

    /// Whether a draft's records back it: verified, missing or invalid. With
    /// a cache, a verdict of verified is remembered for exactly this draft
    /// file, this set of records (the index folder's tree id) and this
    /// allowed_signers file.
    pub(crate) fn draft_evidence(&mut self, view: &super::DraftView) -> Result<DraftEvidence> {
        let verdict_key = match &self.cache {
            Some(_) => {
                let folder = self.draft_folder_id(&view.id)?.unwrap_or(Oid::ZERO_SHA1);
                let key = cache_key(b"zen-draft evidence verdict v2", &[view.blob, folder, self.signers_blob]);
                if self.cache.as_ref().is_some_and(|c| c.contains(&key)) {
                    return Ok(DraftEvidence::Verified);
                }
                Some(key)
            }
            None => None,
        };
        let verdict = self.judge(view)?;
        if let (DraftEvidence::Verified, Some(key), Some(cache)) = (verdict, verdict_key, &mut self.cache) {
            cache.insert(key);
        }
        Ok(verdict)
    }

    fn judge(&mut self, view: &super::DraftView) -> Result<DraftEvidence> {
        let records = self.records(&view.id)?;
        if records.is_empty() {
            return Ok(DraftEvidence::Missing);
        }
        let Ok(records) = records.into_iter().collect::<Result<Vec<_>, _>>() else { return Ok(DraftEvidence::Invalid) };
        let facts = draft_facts(view);
        if records.iter().any(|(_, r)| r.record.draft_id() != facts.id) {
            return Ok(DraftEvidence::Invalid);
        }
        if !records.iter().any(|(_, r)| matches!(r.record, Record::DraftCreated { .. })) {
            return Ok(DraftEvidence::Missing);
        }
        // Signatures first (each remembered when a cache is in use), then the
        // rules, with signatures already settled.
        for (blob, signed) in &records {
            if self.check_signature(*blob, signed).is_err() {
                return Ok(DraftEvidence::Invalid);
            }
        }
        let refs: Vec<&SignedRecord> = records.iter().map(|(_, r)| r).collect();
        Ok(if draft_problems(&facts, &refs, &|_| Ok(())).is_empty() {
            DraftEvidence::Verified
        } else {
            DraftEvidence::Invalid
        })
    }

    fn check_signature(&mut self, blob: Oid, signed: &SignedRecord) -> Result<(), String> {
        let key = self.cache.as_ref().map(|_| cache_key(b"zen-draft signature verdict v1", &[blob, self.signers_blob]));
        if let (Some(cache), Some(key)) = (&self.cache, &key)
            && cache.contains(key)
        {
            return Ok(());
        }
        check_signature(signed, &self.allowed, self.now)?;
        if let (Some(cache), Some(key)) = (&mut self.cache, key) {
            cache.insert(key);
        }
        Ok(())
    }
}

impl Drop for EvidenceReader<'_> {
    fn drop(&mut self) {
        if let Some(cache) = &mut self.cache {
            cache.save();
        }
    }
}

/// A cache key: SHA-256 over a purpose tag and object ids, cut to 20 bytes.
fn cache_key(purpose: &[u8], objects: &[Oid]) -> [u8; 20] {
    let mut hasher = sha2::Sha256::new();
    hasher.update(purpose);
    for object in objects {
        hasher.update(object.as_bytes());
    }
    let digest = hasher.finalize();
    let mut key = [0u8; 20];
    key.copy_from_slice(&digest[..20]);
    key
}

/// Checks many signatures across the machine's cores; verdicts by signature
/// text (a note's signature is unique to its record).
fn verify_signatures(
    signed: &[&SignedRecord],
    allowed: &AllowedSigners,
    now: i64,
) -> HashMap<String, Result<(), String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = signed.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = signed
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|s| (s.signature.clone(), check_signature(s, allowed, now))).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("signature checks do not panic")).collect()
    })
}
