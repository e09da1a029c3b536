//! The evidence log: signed records of every draft's lifecycle, kept as git
//! notes and ordered as an RFC 6962 Merkle tree (SPEC §5).
//!
//! It knows records, signatures and Merkle trees; git access goes through the
//! store. Must never: write a record that is not signed, or report a log as
//! verified without checking every signature against `.zen/allowed_signers`.

pub mod allowed_signers;
pub mod merkle;
pub mod proof;
pub mod record;
pub mod signing;
pub mod verify;

/// Where the evidence notes live.
pub const NOTES_REF: &str = "refs/notes/zen-evidence";

/// Besides the notes git reads, the notes tree keeps an index git ignores
/// (non-note entries are preserved by `git notes`): each record's note blob
/// again at `drafts/YYYY/MM/DD/<id>/<event>`, so one draft's records are found
/// without reading the whole log. Nothing trusts the index: every record found
/// through it is verified like any other.
pub fn index_path(draft_id: &crate::domain::draft_id::DraftId, event: &str) -> String {
    format!("{}/{}/{draft_id}/{event}", crate::domain::draft_id::DRAFTS_DIR, draft_id.day_dir())
}
