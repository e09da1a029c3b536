//! Freeing large results off the thread that answers.
//!
//! `evidence verify` at 10,000 records ends holding every draft and every
//! record it read: tens of thousands of small allocations, whose freeing took
//! a tenth of the command on one core while the other sat idle. [`discard`]
//! hands such a value to a thread that only frees. The command answers
//! meanwhile; a process that exits first leaves the rest to the operating
//! system, and a long-running server frees everything a moment later.
//!
//! Must never: be given a value whose drop does more than free memory (removes
//! a file, releases a lock, flushes output), since it may never run.

use std::sync::OnceLock;
use std::sync::mpsc::{self, Sender};

type Garbage = Box<dyn Send>;

/// Drops `value` on the freeing thread, or here if that thread cannot be had.
pub(crate) fn discard<T: Send + 'static>(value: T) {
    static REAPER: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    let reaper = REAPER.get_or_init(|| {
        let (sender, garbage) = mpsc::channel::<Garbage>();
        std::thread::Builder::new()
            .name("zen-draft-free".into())
            .spawn(move || garbage.into_iter().for_each(drop))
            .ok()?;
        Some(sender)
    });
    if let Some(sender) = reaper {
        // A send that fails hands the value back inside its error, which drops it here.
        let _ = sender.send(Box::new(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Sender;
    use std::time::Duration;

    /// Says on which thread it was dropped.
    struct Tattler(Sender<std::thread::ThreadId>);

    impl Drop for Tattler {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().id());
        }
    }

    #[test]
    fn a_discarded_value_is_dropped_on_another_thread() {
        let (told, dropped) = mpsc::channel();
        for _ in 0..3 {
            discard(Tattler(told.clone()));
            let on = dropped.recv_timeout(Duration::from_secs(10)).expect("the value is dropped");
            assert_ne!(on, std::thread::current().id());
        }
    }
}
