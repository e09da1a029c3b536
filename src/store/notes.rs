//! Git notes, read and written as trees, the way git lays them out.
//!
//! libgit2 writes every note flat in one tree, so each new note rewrites a
//! tree holding all of them. We write git's two-level fan-out (`ab/cd/ef…`),
//! which `git notes` reads natively and itself uses for large note trees, so
//! adding a note rewrites three trees of at most 256 entries whatever the size
//! of the log; and we read any fan-out depth git itself may have written
//! (zen-draft 0.1 wrote one level, `ab/cdef…`).

use super::Store;
use crate::error::Result;
use git2::{ObjectType, Oid, Tree};

impl Store {
    /// Where we write the note for `object`: two levels of fan-out.
    pub fn note_path(object: Oid) -> String {
        let hex = object.to_string();
        format!("{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..])
    }

    /// The note blob attached to `object`, whatever fan-out holds it.
    pub fn note_for(&self, notes_tree: &Tree<'_>, object: Oid) -> Result<Option<Oid>> {
        let hex = object.to_string();
        let candidates = [Self::note_path(object), format!("{}/{}", &hex[..2], &hex[2..]), hex.clone()];
        for path in candidates {
            if let Some(blob) = self.blob_id_at(notes_tree, &path)? {
                return Ok(Some(blob));
            }
        }
        Ok(None)
    }

    /// Every note in a notes tree, as (annotated object, note blob).
    pub fn all_notes(&self, notes_tree: &Tree<'_>) -> Result<Vec<(Oid, Oid)>> {
        let mut out = Vec::new();
        self.collect_notes(notes_tree, String::new(), &mut out)?;
        Ok(out)
    }

    fn collect_notes(&self, tree: &Tree<'_>, prefix: String, out: &mut Vec<(Oid, Oid)>) -> Result<()> {
        for entry in tree.iter() {
            let Ok(name) = entry.name() else { continue };
            let hex = format!("{prefix}{name}");
            if !hex.chars().all(|c| c.is_ascii_hexdigit()) || hex.len() > 40 {
                continue; // a non-note entry, which git also keeps and ignores
            }
            match entry.kind() {
                Some(ObjectType::Tree) if hex.len() < 40 => {
                    self.collect_notes(&self.repo().find_tree(entry.id())?, hex, out)?;
                }
                Some(ObjectType::Blob) if hex.len() == 40 => {
                    if let Ok(object) = Oid::from_str(&hex) {
                        out.push((object, entry.id()));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}
