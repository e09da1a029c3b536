//! Checking the evidence log as a whole: positions, signatures, links between
//! records, and agreement with the drafts and commits they describe.
//!
//! Pure: the caller loads notes, commits and drafts and passes in how to check
//! a signature, so every rule here can be tested without git or keys. Every
//! problem is reported with the position (or commit) where it was found.

use super::merkle::{self, Hash, MerkleLog};
use super::record::{Binding, Record, SignedRecord};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One note found under the notes ref.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The object the note is attached to.
    pub object: String,
    /// The note, or why it cannot be read.
    pub note: Result<SignedRecord, String>,
    /// The note's signature checked for its signer and namespace against the
    /// allowed signers, or why it fails; `Ok` for a record the caller
    /// vouches for another way (see `--since`).
    pub signature: Result<(), String>,
    /// What the annotated commit says about itself.
    pub commit: CommitFacts,
    /// For a second-edition `draft_applied` record: the blob the annotated
    /// commit holds at the record's `resource` path, if any.
    pub resource_blob: Option<String>,
    /// For a `config_changed` record: the blobs the annotated commit holds
    /// at `.zen/allowed_signers` and `.zen/config.yaml`, and whether that
    /// commit is on main.
    pub zen: Option<ZenFacts>,
}

#[derive(Debug, Clone, Default)]
pub struct ZenFacts {
    pub signers_blob: Option<String>,
    pub config_blob: Option<String>,
    pub on_main: bool,
}

/// Facts about an annotated commit, from its message and position in history.
#[derive(Debug, Clone, Default)]
pub struct CommitFacts {
    /// The `Draft-Id:` trailer.
    pub draft_id: Option<String>,
    /// The event its trailers describe: `Created-By:` means `draft_created`,
    /// `Discarded-By:` `draft_discarded`, `Applied-By:` `draft_applied`,
    /// `Removed-By:` `draft_expired`.
    pub event: Option<&'static str>,
    /// Whether it is in the history of the branch its event belongs on.
    pub reachable: bool,
}

/// A draft as it stands on the drafts branch.
#[derive(Debug, Clone)]
pub struct DraftFacts {
    pub id: String,
    pub draft_type: String,
    pub created_by: String,
    pub spec_digest: Option<String>,
    /// `pending`, `applied` or `discarded`, as written in the file.
    pub status: String,
    /// The main commit an applied draft names.
    pub applied_commit: Option<String>,
    /// The digest of the file's provenance (rationale, links, agent), if any.
    pub provenance_digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub position: Option<u64>,
    pub object: Option<String>,
    pub draft_id: Option<String>,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.position, &self.object) {
            (Some(p), _) => write!(f, "position {p}: {}", self.reason),
            (None, Some(o)) => write!(f, "note on {}: {}", &o[..o.len().min(12)], self.reason),
            (None, None) => write!(f, "{}", self.reason),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DraftEvidence {
    Verified,
    Missing,
    Invalid,
}

#[derive(Debug, Clone)]
pub struct LogReport {
    pub size: u64,
    pub root: Hash,
    /// Leaf hashes in position order (for proofs), when positions are sound.
    pub leaves: Vec<Hash>,
    /// Records in position order.
    pub records: Vec<(String, SignedRecord)>,
    pub problems: Vec<Problem>,
    pub drafts: HashMap<String, DraftEvidence>,
}

impl LogReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a whole log, each entry's signature already checked.
pub fn verify_log(entries: Vec<Entry>, drafts: &[DraftFacts]) -> LogReport {
    let mut problems = Vec::new();
    let mut by_position: BTreeMap<u64, (Entry, SignedRecord)> = BTreeMap::new();
    let problem = |position: Option<u64>, entry: &Entry, draft_id: Option<&str>, reason: String| Problem {
        position,
        object: Some(entry.object.clone()),
        draft_id: draft_id.map(str::to_string),
        reason,
    };

    for mut entry in entries {
        // The record moves out of its entry, which keeps what it is attached to.
        let signed = match std::mem::replace(&mut entry.note, Err(String::new())) {
            Ok(signed) => signed,
            Err(why) => {
                problems.push(problem(None, &entry, entry.commit.draft_id.as_deref(), why));
                continue;
            }
        };
        let record = &signed.record;
        let position = record.position();
        let id = Some(record.draft_id());
        if let Err(why) = &entry.signature {
            problems.push(problem(Some(position), &entry, id, format!("{} signature: {why}", record.event())));
        }
        if principal_of(record.actor()) != Some(record.signer()) {
            problems.push(problem(
                Some(position),
                &entry,
                id,
                format!("signed by {} but records {} as the actor", record.signer(), record.actor()),
            ));
        }
        if let Record::ConfigChanged { commit, signers_blob, config_blob, .. } = record {
            let zen = entry.zen.clone().unwrap_or_default();
            let reason = if *commit != entry.object {
                Some("the config_changed record is attached to a commit other than the one it names".to_string())
            } else if !zen.on_main {
                Some("the config_changed record's commit is not on main".to_string())
            } else if zen.signers_blob.as_deref() != Some(signers_blob)
                || zen.config_blob.as_deref() != Some(config_blob)
            {
                Some("the config_changed record's blobs are not what its commit holds in .zen/".to_string())
            } else {
                None
            };
            if let Some(reason) = reason {
                problems.push(problem(Some(position), &entry, None, reason));
            }
        } else if entry.commit.draft_id.as_deref() != Some(record.draft_id())
            || entry.commit.event != Some(record.event())
        {
            problems.push(problem(
                Some(position),
                &entry,
                id,
                format!(
                    "the {} record for draft {} is attached to a commit that is not that event",
                    record.event(),
                    record.draft_id()
                ),
            ));
        } else if !entry.commit.reachable {
            problems.push(problem(Some(position), &entry, id, "the annotated commit is not on its branch".into()));
        }
        if let Some((other, _)) = by_position.get(&position) {
            let reason = format!("position {position} is used twice (also by the note on {})", other.object);
            problems.push(problem(Some(position), &entry, id, reason));
            continue;
        }
        by_position.insert(position, (entry, signed));
    }

    // Positions 0..n-1, no gap.
    let size = by_position.len() as u64;
    for (expected, position) in by_position.keys().enumerate() {
        if *position != expected as u64 {
            problems.push(Problem {
                position: Some(expected as u64),
                object: None,
                draft_id: None,
                reason: format!("position {expected} is missing: the next record is at {position}"),
            });
            break;
        }
    }

    // Links: each draft is created once, and later events point at that record.
    let mut created: HashMap<String, (u64, String)> = HashMap::new();
    let mut last_config: Option<String> = None;
    for (position, (entry, signed)) in &by_position {
        let record = &signed.record;
        if let Record::ConfigChanged { previous_digest, .. } = record {
            if *previous_digest != last_config {
                let reason = match previous_digest {
                    None => "a config_changed record names no previous one, but it is not the first".to_string(),
                    Some(_) => "the config_changed record's previous_digest is not the config_changed record before it"
                        .to_string(),
                };
                problems.push(problem(Some(*position), entry, None, reason));
            }
            last_config = Some(signed.digest());
            continue;
        }
        let id = record.draft_id().to_string();
        match record.previous_digest() {
            None => {
                if let std::collections::hash_map::Entry::Vacant(slot) = created.entry(id.clone()) {
                    slot.insert((*position, signed.digest()));
                } else {
                    problems.push(problem(Some(*position), entry, Some(&id), format!("draft {id} is created twice")));
                }
            }
            Some(previous) => match created.get(&id) {
                Some((_, digest)) if digest == previous => {}
                Some(_) => problems.push(problem(
                    Some(*position),
                    entry,
                    Some(&id),
                    format!("previous_digest does not match draft {id}'s draft_created record"),
                )),
                None => problems.push(problem(
                    Some(*position),
                    entry,
                    Some(&id),
                    format!("no earlier draft_created record for draft {id}"),
                )),
            },
        }
    }

    // Time only moves forward along the log: no record is older than one
    // before it. A record's time is its signer's claim; what makes it hold
    // is its place in the log (the gate stamps each record within its skew
    // of when it arrives), so backdating a record past its key's validity,
    // or an apply before its draft's creation, breaks the order.
    let mut latest: Option<(u64, chrono::DateTime<chrono::FixedOffset>)> = None;
    for (position, (entry, signed)) in &by_position {
        let record = &signed.record;
        let Ok(at) = chrono::DateTime::parse_from_rfc3339(record.at()) else {
            let reason = format!("the {} record's time is not an RFC 3339 time", record.event());
            problems.push(problem(Some(*position), entry, Some(record.draft_id()), reason));
            continue;
        };
        match latest {
            Some((before, then)) if at < then => {
                let reason = format!(
                    "the {} record says {} but the record at position {before} is later ({}): a record cannot be older than the log before it",
                    record.event(),
                    record.at(),
                    then.to_rfc3339()
                );
                problems.push(problem(Some(*position), entry, Some(record.draft_id()), reason));
            }
            _ => latest = Some((*position, at)),
        }
    }

    // A draft is closed once (applied or discarded), removed by gc at most
    // once, and nothing follows its removal.
    let mut closed: HashMap<&str, (u64, &'static str)> = HashMap::new();
    let mut removed: HashMap<&str, u64> = HashMap::new();
    for (position, (entry, signed)) in &by_position {
        let record = &signed.record;
        let id = record.draft_id();
        if let Some(at) = removed.get(id) {
            let reason = format!("draft {id} was removed by gc at position {at}; nothing may follow");
            problems.push(problem(Some(*position), entry, Some(id), reason));
        }
        match record {
            Record::ConfigChanged { .. } => {}
            Record::DraftApplied { .. } | Record::DraftDiscarded { .. } => {
                if let Some((at, event)) = closed.get(id) {
                    let reason = format!("draft {id} was already closed by {event} at position {at}");
                    problems.push(problem(Some(*position), entry, Some(id), reason));
                } else {
                    closed.insert(id, (*position, record.event()));
                }
            }
            Record::DraftExpired { .. } => {
                removed.insert(id, *position);
            }
            Record::DraftCreated { .. } => {}
        }
    }
    // A draft whose file left the branch was removed by gc, with its record.
    let present: std::collections::HashSet<&str> = drafts.iter().map(|d| d.id.as_str()).collect();
    for (position, (entry, signed)) in &by_position {
        let id = signed.record.draft_id();
        if matches!(signed.record, Record::DraftCreated { .. }) && !present.contains(id) && !removed.contains_key(id) {
            let reason = format!("draft {id}'s file is gone from the drafts branch without a draft_expired record");
            problems.push(problem(Some(*position), entry, Some(id), reason));
        }
    }

    // Second-edition apply records bind the commit, file and blob they
    // approve, and the spec the draft was created with.
    let created_specs: HashMap<&str, &str> = by_position
        .values()
        .filter_map(|(_, signed)| match &signed.record {
            Record::DraftCreated { draft_id, proposed_spec_digest, .. } => {
                Some((draft_id.as_str(), proposed_spec_digest.as_str()))
            }
            _ => None,
        })
        .collect();
    for (position, (entry, signed)) in &by_position {
        let id = signed.record.draft_id();
        let mut flag = |reason: String| problems.push(problem(Some(*position), entry, Some(id), reason));
        match signed.record.binding() {
            None | Some(Binding::FirstEdition) => {}
            Some(Binding::Partial) => {
                flag("the draft_applied record names only some of applied_commit, resource, resource_blob and proposed_spec_digest".into());
            }
            Some(Binding::Whole(binding)) => {
                if binding.applied_commit != entry.object {
                    flag("the draft_applied record is attached to a commit other than its applied_commit".into());
                }
                if entry.resource_blob.as_deref() != Some(binding.resource_blob) {
                    flag(format!(
                        "the applied commit's {} is not the blob the draft_applied record approves",
                        binding.resource
                    ));
                }
                if created_specs.get(id).is_some_and(|digest| *digest != binding.proposed_spec_digest) {
                    flag(format!(
                        "the draft_applied record approves a spec other than the one draft {id} was created with"
                    ));
                }
            }
        }
    }

    // The drafts on the branch agree with their records.
    let mut by_draft: HashMap<&str, Vec<&SignedRecord>> = HashMap::new();
    for (_, signed) in by_position.values().filter(|(_, s)| !s.record.is_config()) {
        by_draft.entry(signed.record.draft_id()).or_default().push(signed);
    }
    // Each id's first file, as a search from the front would find it.
    let mut draft_by_id: HashMap<&str, &DraftFacts> = HashMap::with_capacity(drafts.len());
    for draft in drafts {
        draft_by_id.entry(draft.id.as_str()).or_insert(draft);
    }
    for (position, (entry, signed)) in &by_position {
        if signed.record.event() != "draft_applied" {
            continue;
        }
        let named = draft_by_id.get(signed.record.draft_id()).and_then(|d| d.applied_commit.as_deref());
        if named.is_some_and(|commit| commit != entry.object) {
            let reason = format!(
                "draft {}'s applied_commit is not the commit its draft_applied record is on",
                signed.record.draft_id()
            );
            problems.push(problem(Some(*position), entry, Some(signed.record.draft_id()), reason));
        }
    }
    for draft in drafts {
        let records = by_draft.get(draft.id.as_str()).map(Vec::as_slice).unwrap_or_default();
        for reason in draft_problems(draft, records, &|_| Ok(())) {
            problems.push(Problem { position: None, object: None, draft_id: Some(draft.id.clone()), reason });
        }
    }

    let mut log = MerkleLog::new();
    let mut leaves = Vec::with_capacity(by_position.len());
    let mut records = Vec::with_capacity(by_position.len());
    for (entry, signed) in by_position.into_values() {
        let leaf = merkle::leaf_hash(signed.canonical().as_bytes());
        log.push(leaf);
        leaves.push(leaf);
        records.push((entry.object, signed));
    }

    let troubled: std::collections::HashSet<&str> = problems.iter().filter_map(|p| p.draft_id.as_deref()).collect();
    let mut states: HashMap<String, DraftEvidence> = HashMap::with_capacity(drafts.len());
    for draft in drafts {
        let state = if !created.contains_key(&draft.id) {
            DraftEvidence::Missing
        } else if troubled.contains(draft.id.as_str()) {
            DraftEvidence::Invalid
        } else {
            DraftEvidence::Verified
        };
        states.insert(draft.id.clone(), state);
    }
    LogReport { size, root: log.root(), leaves, records, problems, drafts: states }
}

/// `agent:ops-bot` → `ops-bot`.
pub fn principal_of(actor: &str) -> Option<&str> {
    actor.strip_prefix("agent:").or_else(|| actor.strip_prefix("user:"))
}

/// Whether one draft's records back it: a signed `draft_created` record that
/// matches the file, later records linked to it, and a record for the status
/// the file claims. Returns what is wrong, empty when nothing is.
pub fn draft_problems(
    draft: &DraftFacts,
    records: &[&SignedRecord],
    check_signature: &dyn Fn(&SignedRecord) -> Result<(), String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let id = &draft.id;
    let created: Vec<&&SignedRecord> = records.iter().filter(|r| r.record.previous_digest().is_none()).collect();
    let [created] = created.as_slice() else {
        return vec![format!("draft {id} has {} draft_created records, not one", created.len())];
    };
    let Record::DraftCreated { draft_type, created_by, proposed_spec_digest, provenance_digest, .. } = &created.record
    else {
        unreachable!("only draft_created records have no previous_digest")
    };
    for (what, ok) in [
        ("proposed_spec", draft.spec_digest.as_deref() == Some(proposed_spec_digest.as_str())),
        ("type", *draft_type == draft.draft_type),
        ("created_by", *created_by == draft.created_by),
        ("provenance", *provenance_digest == draft.provenance_digest),
    ] {
        if !ok {
            problems.push(format!("draft {id}'s {what} differs from its signed draft_created record"));
        }
    }
    let created_digest = created.digest();
    for signed in records {
        let record = &signed.record;
        if let Err(why) = check_signature(signed) {
            problems.push(format!("{} signature: {why}", record.event()));
        }
        if principal_of(record.actor()) != Some(record.signer()) {
            problems.push(format!(
                "{} is signed by {} but records {} as the actor",
                record.event(),
                record.signer(),
                record.actor()
            ));
        }
        if record.previous_digest().is_some_and(|p| p != created_digest) {
            problems
                .push(format!("{}'s previous_digest does not match draft {id}'s draft_created record", record.event()));
        }
    }
    // The file's state is the one the log gives it.
    let closing: Vec<&str> = records
        .iter()
        .filter(|r| matches!(r.record, Record::DraftApplied { .. } | Record::DraftDiscarded { .. }))
        .map(|r| r.record.event())
        .collect();
    if closing.len() > 1 {
        problems.push(format!("draft {id} is closed more than once ({})", closing.join(", ")));
    }
    let state_of = |event: &str| match event {
        "draft_applied" => "applied",
        _ => "discarded",
    };
    if let Some(event) = closing.first()
        && draft.status != state_of(event)
    {
        problems.push(format!("draft {id} is {} in its file, but the log has its {event} record", draft.status));
    }
    if records.iter().any(|r| matches!(r.record, Record::DraftExpired { .. })) {
        problems.push(format!("draft {id}'s file is on the branch after its draft_expired record"));
    }
    let needed = match draft.status.as_str() {
        "applied" => Some("draft_applied"),
        "discarded" => Some("draft_discarded"),
        _ => None,
    };
    if let Some(needed) = needed.filter(|n| !records.iter().any(|r| r.record.event() == *n)) {
        problems.push(format!("draft {id} is {} but the log has no {needed} record", draft.status));
    }
    problems
}
