//! The evidence log: signed records of every draft's lifecycle, kept as git
//! notes and ordered as an RFC 6962 Merkle tree (SPEC §5).
//!
//! It knows records, signatures and Merkle trees; git access goes through the
//! store. Must never: write a record that is not signed, or report a log as
//! verified without checking every signature against `.zen/allowed_signers`.

pub mod allowed_signers;
pub mod armor;
pub mod batch;
pub mod ed25519;
pub mod merkle;
pub mod proof;
pub mod record;
pub mod signing;
pub mod verify;

/// Where the evidence notes live.
pub const NOTES_REF: &str = "refs/notes/zen-evidence";

/// Besides the notes git reads, the notes tree keeps an index git ignores
/// (non-note entries are preserved by `git notes`): each record's note blob
/// again at the draft file's path without `.yaml`, then `/<event>`
/// (`drafts/01a2/30/b4/8d/<id>/draft_created`), so one draft's records are
/// found without reading the whole log, in folders as small as the drafts'
/// own. A draft in the day-folder layout keeps its records beside its path
/// there. Nothing trusts the index: every record found through it is verified
/// like any other.
pub fn index_folder(draft_path: &str) -> &str {
    draft_path.strip_suffix(".yaml").unwrap_or(draft_path)
}

/// Where one record of the draft at `draft_path` is indexed.
pub fn index_path(draft_path: &str, event: &str) -> String {
    format!("{}/{event}", index_folder(draft_path))
}
