//! One draft as it lies in the repository: its file as on the drafts
//! branch, and its signed records as its notes index holds them. What an MCP
//! resource shows next to the draft as `show` reads it.
//!
//! Must never: judge anything. These are the raw materials; `show` and
//! `evidence verify` say whether they hold.

use super::DraftReader;
use crate::error::Result;
use crate::evidence::NOTES_REF;
use crate::evidence::record::SignedRecord;
use crate::service::{DraftView, Service};
use crate::store::BlobRead;

impl Service {
    /// The file of the draft `view` (as `show` found it) as it is on the
    /// drafts branch.
    pub fn draft_file(&self, view: &DraftView) -> Result<String> {
        Ok(match self.store.read_blob(view.blob, crate::yaml::MAX_DOCUMENT_BYTES)? {
            BlobRead::Bytes(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            BlobRead::TooLarge(_) => String::new(),
        })
    }

    /// The signed records of the draft `view`, as its notes index holds
    /// them: each record as its canonical JSON, its signature and its digest.
    /// Unreadable notes are left out (`evidence` says so).
    pub fn draft_records(&self, view: &DraftView) -> Result<Vec<serde_json::Value>> {
        let reader = DraftReader::new(&self.store, self.store.ref_target(NOTES_REF)?)?;
        let mut records: Vec<SignedRecord> =
            reader.records(&view.path)?.into_iter().filter_map(|r| r.ok()).map(|(_, s)| s).collect();
        records.sort_by_key(|s| s.record.position());
        Ok(records
            .iter()
            .map(|signed| {
                serde_json::json!({
                    "record": serde_json::from_str::<serde_json::Value>(signed.canonical()).unwrap_or_default(),
                    "signature": signed.signature,
                    "digest": signed.digest(),
                })
            })
            .collect())
    }
}
