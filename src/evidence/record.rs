//! Evidence records (SPEC §5) and the note text that carries them.
//!
//! A note is the record as canonical JSON on one line, `\n`, then the armored
//! SSH signature of exactly that line including its `\n`. The Merkle leaf is
//! the canonical JSON without the newline. Must never: accept a record whose
//! line is not in canonical form (two spellings of one record would hash
//! differently), or a field it does not know.

use crate::domain::digest::{Member, canonical_object, sha256_digest};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const EVIDENCE_NAMESPACE: &str = "zen-draft-evidence";
pub const APPLY_NAMESPACE: &str = "zen-draft-apply";
/// Changes to `.zen/` (who may sign, the config) are signed in their own
/// namespace, which only admins' keys are listed for.
pub const ADMIN_NAMESPACE: &str = "zen-draft-admin";

/// One lifecycle event of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    DraftCreated {
        draft_id: String,
        #[serde(rename = "type")]
        draft_type: String,
        created_by: String,
        created_at: String,
        proposed_spec_digest: String,
        merkle_position: u64,
        signer: String,
        /// The digest of the draft's provenance (rationale, links, agent),
        /// when it has any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provenance_digest: Option<String>,
    },
    DraftApplied {
        draft_id: String,
        applied_by: String,
        applied_at: String,
        resource_created: bool,
        merkle_position: u64,
        previous_digest: String,
        signer: String,
        /// Second edition (SPEC §8): the main commit the apply made, the
        /// resource file, the exact blob written there, and the reviewed
        /// spec's digest, so the record binds what it approves. All four
        /// or none (records written before the second edition).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        applied_commit: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource_blob: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proposed_spec_digest: Option<String>,
    },
    DraftDiscarded {
        draft_id: String,
        discarded_by: String,
        discarded_at: String,
        merkle_position: u64,
        previous_digest: String,
        signer: String,
    },
    DraftExpired {
        draft_id: String,
        removed_by: String,
        removed_at: String,
        merkle_position: u64,
        previous_digest: String,
        signer: String,
    },
    /// A change to `.zen/` on main (SPEC §8): the timeline of trust. The
    /// first is the trust root; each later one names the one before it.
    ConfigChanged {
        changed_by: String,
        changed_at: String,
        /// The main commit whose `.zen/` this record installs.
        commit: String,
        signers_blob: String,
        config_blob: String,
        merkle_position: u64,
        /// The digest of the previous `config_changed` record; null for the root.
        previous_digest: Option<String>,
        signer: String,
    },
}

/// What a second-edition `draft_applied` record approves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyBinding<'a> {
    pub applied_commit: &'a str,
    pub resource: &'a str,
    pub resource_blob: &'a str,
    pub proposed_spec_digest: &'a str,
}

/// A `draft_applied` record's binding: whole, absent (first edition), or
/// partial (which no writer makes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding<'a> {
    Whole(ApplyBinding<'a>),
    FirstEdition,
    Partial,
}

impl Record {
    pub fn event(&self) -> &'static str {
        match self {
            Record::DraftCreated { .. } => "draft_created",
            Record::DraftApplied { .. } => "draft_applied",
            Record::DraftDiscarded { .. } => "draft_discarded",
            Record::DraftExpired { .. } => "draft_expired",
            Record::ConfigChanged { .. } => "config_changed",
        }
    }

    pub fn draft_id(&self) -> &str {
        match self {
            Record::DraftCreated { draft_id, .. }
            | Record::DraftApplied { draft_id, .. }
            | Record::DraftDiscarded { draft_id, .. }
            | Record::DraftExpired { draft_id, .. } => draft_id,
            Record::ConfigChanged { .. } => "",
        }
    }

    pub fn position(&self) -> u64 {
        match self {
            Record::DraftCreated { merkle_position, .. }
            | Record::DraftApplied { merkle_position, .. }
            | Record::DraftDiscarded { merkle_position, .. }
            | Record::DraftExpired { merkle_position, .. }
            | Record::ConfigChanged { merkle_position, .. } => *merkle_position,
        }
    }

    /// The principal whose key must have signed this record.
    pub fn signer(&self) -> &str {
        match self {
            Record::DraftCreated { signer, .. }
            | Record::DraftApplied { signer, .. }
            | Record::DraftDiscarded { signer, .. }
            | Record::DraftExpired { signer, .. }
            | Record::ConfigChanged { signer, .. } => signer,
        }
    }

    /// Who the record says acted (`agent:ops-bot`, `user:alice`).
    pub fn actor(&self) -> &str {
        match self {
            Record::DraftCreated { created_by, .. } => created_by,
            Record::DraftApplied { applied_by, .. } => applied_by,
            Record::DraftDiscarded { discarded_by, .. } => discarded_by,
            Record::DraftExpired { removed_by, .. } => removed_by,
            Record::ConfigChanged { changed_by, .. } => changed_by,
        }
    }

    /// When the record says it happened, as written.
    pub fn at(&self) -> &str {
        match self {
            Record::DraftCreated { created_at, .. } => created_at,
            Record::DraftApplied { applied_at, .. } => applied_at,
            Record::DraftDiscarded { discarded_at, .. } => discarded_at,
            Record::DraftExpired { removed_at, .. } => removed_at,
            Record::ConfigChanged { changed_at, .. } => changed_at,
        }
    }

    /// For a draft's later record, the digest of its `draft_created`
    /// record; `None` for a creation and for a `config_changed` record
    /// (whose chain is its own: see [`Record::is_config`]).
    pub fn previous_digest(&self) -> Option<&str> {
        match self {
            Record::DraftCreated { .. } | Record::ConfigChanged { .. } => None,
            Record::DraftApplied { previous_digest, .. }
            | Record::DraftDiscarded { previous_digest, .. }
            | Record::DraftExpired { previous_digest, .. } => Some(previous_digest),
        }
    }

    /// Whether this is a `config_changed` record: about `.zen/`, not a draft.
    pub fn is_config(&self) -> bool {
        matches!(self, Record::ConfigChanged { .. })
    }

    /// What an apply record binds; `None` for other records.
    pub fn binding(&self) -> Option<Binding<'_>> {
        let Record::DraftApplied { applied_commit, resource, resource_blob, proposed_spec_digest, .. } = self else {
            return None;
        };
        Some(match (applied_commit, resource, resource_blob, proposed_spec_digest) {
            (Some(applied_commit), Some(resource), Some(resource_blob), Some(proposed_spec_digest)) => {
                Binding::Whole(ApplyBinding { applied_commit, resource, resource_blob, proposed_spec_digest })
            }
            (None, None, None, None) => Binding::FirstEdition,
            _ => Binding::Partial,
        })
    }

    /// The spec digest a `draft_created` record or a second-edition
    /// `draft_applied` record names.
    pub fn spec_digest(&self) -> Option<&str> {
        match self {
            Record::DraftCreated { proposed_spec_digest, .. } => Some(proposed_spec_digest),
            Record::DraftApplied { proposed_spec_digest, .. } => proposed_spec_digest.as_deref(),
            _ => None,
        }
    }

    /// Apply records are signed in their own namespace, which only people's
    /// keys are listed for.
    pub fn namespace(&self) -> &'static str {
        match self {
            Record::DraftApplied { .. } => APPLY_NAMESPACE,
            Record::ConfigChanged { .. } => ADMIN_NAMESPACE,
            _ => EVIDENCE_NAMESPACE,
        }
    }

    /// The canonical JSON line, without the newline: the Merkle leaf. The
    /// same bytes as the canonical JSON of the record's serde form (a test
    /// holds every kind to that), written member by member.
    pub fn canonical(&self) -> String {
        use Member::{Bool, Null, Str, U64};
        fn text(value: &Option<String>) -> Option<Member<'_>> {
            value.as_deref().map(Member::Str)
        }
        let event = ("event", Str(self.event()));
        let mut members: Vec<(&str, Member<'_>)> = match self {
            Record::DraftCreated {
                draft_id,
                draft_type,
                created_by,
                created_at,
                proposed_spec_digest,
                merkle_position,
                signer,
                provenance_digest,
            } => [
                event,
                ("draft_id", Str(draft_id)),
                ("type", Str(draft_type)),
                ("created_by", Str(created_by)),
                ("created_at", Str(created_at)),
                ("proposed_spec_digest", Str(proposed_spec_digest)),
                ("merkle_position", U64(*merkle_position)),
                ("signer", Str(signer)),
            ]
            .into_iter()
            .chain(text(provenance_digest).map(|m| ("provenance_digest", m)))
            .collect(),
            Record::DraftApplied {
                draft_id,
                applied_by,
                applied_at,
                resource_created,
                merkle_position,
                previous_digest,
                signer,
                applied_commit,
                resource,
                resource_blob,
                proposed_spec_digest,
            } => [
                event,
                ("draft_id", Str(draft_id)),
                ("applied_by", Str(applied_by)),
                ("applied_at", Str(applied_at)),
                ("resource_created", Bool(*resource_created)),
                ("merkle_position", U64(*merkle_position)),
                ("previous_digest", Str(previous_digest)),
                ("signer", Str(signer)),
            ]
            .into_iter()
            .chain(text(applied_commit).map(|m| ("applied_commit", m)))
            .chain(text(resource).map(|m| ("resource", m)))
            .chain(text(resource_blob).map(|m| ("resource_blob", m)))
            .chain(text(proposed_spec_digest).map(|m| ("proposed_spec_digest", m)))
            .collect(),
            Record::DraftDiscarded {
                draft_id,
                discarded_by,
                discarded_at,
                merkle_position,
                previous_digest,
                signer,
            } => {
                vec![
                    event,
                    ("draft_id", Str(draft_id)),
                    ("discarded_by", Str(discarded_by)),
                    ("discarded_at", Str(discarded_at)),
                    ("merkle_position", U64(*merkle_position)),
                    ("previous_digest", Str(previous_digest)),
                    ("signer", Str(signer)),
                ]
            }
            Record::DraftExpired { draft_id, removed_by, removed_at, merkle_position, previous_digest, signer } => {
                vec![
                    event,
                    ("draft_id", Str(draft_id)),
                    ("removed_by", Str(removed_by)),
                    ("removed_at", Str(removed_at)),
                    ("merkle_position", U64(*merkle_position)),
                    ("previous_digest", Str(previous_digest)),
                    ("signer", Str(signer)),
                ]
            }
            Record::ConfigChanged {
                changed_by,
                changed_at,
                commit,
                signers_blob,
                config_blob,
                merkle_position,
                previous_digest,
                signer,
            } => vec![
                event,
                ("changed_by", Str(changed_by)),
                ("changed_at", Str(changed_at)),
                ("commit", Str(commit)),
                ("signers_blob", Str(signers_blob)),
                ("config_blob", Str(config_blob)),
                ("merkle_position", U64(*merkle_position)),
                ("previous_digest", text(previous_digest).unwrap_or(Null)),
                ("signer", Str(signer)),
            ],
        };
        canonical_object(&mut members)
    }

    /// `sha256:` of the canonical line: what `previous_digest` points at.
    pub fn digest(&self) -> String {
        sha256_digest(self.canonical().as_bytes())
    }

    /// The bytes that get signed: the canonical line and its newline.
    pub fn signed_message(&self) -> String {
        format!("{}\n", self.canonical())
    }
}

/// A note as stored: the record's line and its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    pub record: Record,
    pub signature: String,
    /// The record's canonical line (without its newline), made once: the
    /// Merkle leaf, the signed bytes and the digest all come from it.
    line: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteError(pub String);

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SignedRecord {
    pub fn new(record: Record, signature: String) -> SignedRecord {
        let line = record.canonical();
        SignedRecord { record, signature, line }
    }

    /// [`Record::canonical`], without making it again.
    pub fn canonical(&self) -> &str {
        &self.line
    }

    /// [`Record::digest`], without making the line again.
    pub fn digest(&self) -> String {
        sha256_digest(self.line.as_bytes())
    }

    /// [`Record::signed_message`], without making the line again.
    pub fn signed_message(&self) -> String {
        format!("{}\n", self.line)
    }

    pub fn to_note(&self) -> String {
        let mut note = self.signed_message();
        note.push_str(&self.signature);
        if !note.ends_with('\n') {
            note.push('\n');
        }
        note
    }

    pub fn parse_note(text: &str) -> Result<SignedRecord, NoteError> {
        let (line, signature) = text.split_once('\n').ok_or_else(|| NoteError("the note has no signature".into()))?;
        let record: Record =
            serde_json::from_str(line).map_err(|e| NoteError(format!("the record is not a known record: {e}")))?;
        if record.canonical() != line {
            return Err(NoteError("the record is not in canonical JSON form".into()));
        }
        if !signature.trim_start().starts_with("-----BEGIN SSH SIGNATURE-----") {
            return Err(NoteError("the note's second part is not an SSH signature".into()));
        }
        Ok(SignedRecord { record, signature: signature.to_string(), line: line.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created() -> Record {
        Record::DraftCreated {
            draft_id: "0193a7c2-5d1e-7b3a-9c4f-2a6b8e1d0f35".into(),
            draft_type: "endpoint".into(),
            created_by: "agent:ops-bot".into(),
            created_at: "2026-11-23T21:00:00Z".into(),
            proposed_spec_digest: "sha256:00".into(),
            merkle_position: 0,
            signer: "ops-bot".into(),
            provenance_digest: None,
        }
    }

    #[test]
    fn canonical_line_has_sorted_keys_and_the_event() {
        let line = created().canonical();
        assert!(
            line.starts_with(r#"{"created_at":"2026-11-23T21:00:00Z","created_by":"agent:ops-bot","draft_id":"#),
            "{line}"
        );
        assert!(line.contains(r#""event":"draft_created""#) && line.contains(r#""type":"endpoint""#));
    }

    #[test]
    fn notes_round_trip_and_reject_non_canonical_lines() {
        let signed =
            SignedRecord::new(created(), "-----BEGIN SSH SIGNATURE-----\nAA\n-----END SSH SIGNATURE-----\n".into());
        assert_eq!(SignedRecord::parse_note(&signed.to_note()).unwrap(), signed);
        let spaced = signed.to_note().replacen("{\"created_at\"", "{ \"created_at\"", 1);
        assert!(SignedRecord::parse_note(&spaced).is_err());
        let extra = signed.to_note().replacen("{\"created_at\"", "{\"admin\":true,\"created_at\"", 1);
        assert!(SignedRecord::parse_note(&extra).is_err());
    }

    fn any_record() -> impl proptest::strategy::Strategy<Value = Record> {
        use proptest::prelude::*;
        let text = || any::<String>();
        let maybe = || proptest::option::of(any::<String>());
        prop_oneof![
            (text(), text(), text(), text(), text(), any::<u64>(), text(), maybe()).prop_map(
                |(
                    draft_id,
                    draft_type,
                    created_by,
                    created_at,
                    proposed_spec_digest,
                    merkle_position,
                    signer,
                    provenance_digest,
                )| {
                    Record::DraftCreated {
                        draft_id,
                        draft_type,
                        created_by,
                        created_at,
                        proposed_spec_digest,
                        merkle_position,
                        signer,
                        provenance_digest,
                    }
                }
            ),
            (
                (text(), text(), text(), any::<bool>(), any::<u64>(), text(), text()),
                (maybe(), maybe(), maybe(), maybe())
            )
                .prop_map(
                    |(
                        (draft_id, applied_by, applied_at, resource_created, merkle_position, previous_digest, signer),
                        (applied_commit, resource, resource_blob, proposed_spec_digest),
                    )| Record::DraftApplied {
                        draft_id,
                        applied_by,
                        applied_at,
                        resource_created,
                        merkle_position,
                        previous_digest,
                        signer,
                        applied_commit,
                        resource,
                        resource_blob,
                        proposed_spec_digest,
                    }
                ),
            (text(), text(), text(), any::<u64>(), text(), text()).prop_map(
                |(draft_id, discarded_by, discarded_at, merkle_position, previous_digest, signer)| {
                    Record::DraftDiscarded {
                        draft_id,
                        discarded_by,
                        discarded_at,
                        merkle_position,
                        previous_digest,
                        signer,
                    }
                }
            ),
            (text(), text(), text(), any::<u64>(), text(), text()).prop_map(
                |(draft_id, removed_by, removed_at, merkle_position, previous_digest, signer)| {
                    Record::DraftExpired { draft_id, removed_by, removed_at, merkle_position, previous_digest, signer }
                }
            ),
            (text(), text(), text(), text(), text(), any::<u64>(), maybe(), text()).prop_map(
                |(
                    changed_by,
                    changed_at,
                    commit,
                    signers_blob,
                    config_blob,
                    merkle_position,
                    previous_digest,
                    signer,
                )| {
                    Record::ConfigChanged {
                        changed_by,
                        changed_at,
                        commit,
                        signers_blob,
                        config_blob,
                        merkle_position,
                        previous_digest,
                        signer,
                    }
                }
            ),
        ]
    }

    proptest::proptest! {
        /// The line written member by member is the canonical JSON of the
        /// record's serde form, for every kind, with any strings (escapes,
        /// control characters, any Unicode) and any optional members; and it
        /// reads back as the same record.
        #[test]
        fn the_canonical_line_is_the_canonical_json_of_the_serde_form(record in any_record()) {
            let line = record.canonical();
            let value = serde_json::to_value(&record).unwrap();
            proptest::prop_assert_eq!(&line, &crate::domain::digest::canonical_json(&value));
            proptest::prop_assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), record);
        }
    }
}
