//! Refs as a replay sees them.
//!
//! `draft sync` replays local operations on the remote's tips by running the
//! ordinary writers (create, discard, apply, gc) with every rule they check,
//! but without moving a real ref: while an overlay is active, the refs it
//! names read as the replay left them, and a compare-and-swap update of them
//! moves only the overlay. The real refs move once, in one transaction, when
//! the whole replay is done, so a sync that stops midway leaves every ref as
//! it was.

use super::{RefUpdate, Store, UpdateError};
use crate::error::Error;
use git2::Oid;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Overlay {
    refs: Mutex<Option<HashMap<String, Option<Oid>>>>,
}

impl Overlay {
    /// Where `refname` points in the replay, when the overlay names it
    /// (`Some(None)`: it does not exist there).
    pub(super) fn get(&self, refname: &str) -> Option<Option<Oid>> {
        self.refs.lock().ok()?.as_ref()?.get(refname).copied()
    }

    pub(super) fn is_active(&self) -> bool {
        self.refs.lock().is_ok_and(|refs| refs.is_some())
    }

    /// Applies `updates` to the overlay if it names every ref they touch and
    /// each still points where the update expects. `None` when the overlay
    /// is not active.
    pub(super) fn update(&self, updates: &[RefUpdate]) -> Option<Result<(), UpdateError>> {
        let mut guard = self.refs.lock().ok()?;
        let refs = guard.as_mut()?;
        for update in updates {
            match refs.get(&update.refname) {
                None => {
                    return Some(Err(UpdateError::Failed(Error::internal(format!(
                        "a replay tried to move {}, which it does not track",
                        update.refname
                    )))));
                }
                Some(current) if *current != update.old => return Some(Err(UpdateError::Moved)),
                Some(_) => {}
            }
        }
        for update in updates {
            refs.insert(update.refname.clone(), Some(update.new));
        }
        Some(Ok(()))
    }
}

impl Store {
    /// Runs `replay` with `refs` standing in for the real refs they name,
    /// and returns what it produced with where those refs ended up. No real
    /// ref moves.
    pub fn replaying<T>(
        &self,
        refs: HashMap<String, Option<Oid>>,
        replay: impl FnOnce() -> T,
    ) -> (T, HashMap<String, Option<Oid>>) {
        *self.overlay.refs.lock().unwrap_or_else(|e| e.into_inner()) = Some(refs);
        let result = replay();
        let refs = self.overlay.refs.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
        (result, refs)
    }

    /// Whether writes go to a replay's overlay rather than to the refs.
    pub fn is_replaying(&self) -> bool {
        self.overlay.is_active()
    }
}
