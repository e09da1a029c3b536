//! Work over every draft on every core, with results handed on in order.
//!
//! A listing or a verification reads and checks each draft independently, so
//! it splits the drafts into chunks that worker threads take in turn; each
//! worker opens its own repository handle once (libgit2 handles must not be
//! shared between threads). Results come back to the calling thread in the
//! original order, and workers never run more than a few chunks ahead of
//! what was handed on, so memory stays bounded for a branch of any size.
//!
//! Must never: reorder results, drop one, or go on after a failure.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

/// Items per chunk: big enough to amortise a batch of signatures, small
/// enough to spread over the workers.
pub(crate) const CHUNK: usize = 256;

/// What a worker does with one chunk, given its state.
pub(crate) type ChunkWork<'a, S, I, R> = dyn Fn(&S, &[I]) -> Result<Vec<R>> + Sync + 'a;

/// Below this many items the work runs on the calling thread.
const SEQUENTIAL_BELOW: usize = 2 * CHUNK;

/// Maps chunks of `items` through `work` and hands each chunk's results to
/// `each`, in order. `open` makes one worker's state (its repository handle);
/// with few items, or one core, everything runs on the calling thread with
/// `local`.
pub(crate) fn ordered_chunks<I, S, R>(
    items: &[I],
    local: &S,
    open: &(dyn Fn() -> Result<S> + Sync),
    work: &ChunkWork<'_, S, I, R>,
    each: &mut dyn FnMut(R) -> Result<()>,
) -> Result<()>
where
    I: Sync,
    R: Send,
{
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if workers < 2 || items.len() < SEQUENTIAL_BELOW {
        for chunk in items.chunks(CHUNK) {
            for result in work(local, chunk)? {
                each(result)?;
            }
        }
        return Ok(());
    }
    let chunks: Vec<&[I]> = items.chunks(CHUNK).collect();
    let window = 2 * workers;
    // The next chunk to take and the next to hand on; workers wait while
    // they are `window` chunks ahead.
    let progress = Mutex::new((0usize, 0usize));
    let moved = Condvar::new();
    let stop = AtomicBool::new(false);
    let (send, receive) = mpsc::channel::<(usize, Result<Vec<R>>)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let send = send.clone();
            let (chunks, progress, moved, stop) = (&chunks, &progress, &moved, &stop);
            scope.spawn(move || {
                let state = match open() {
                    Ok(state) => state,
                    Err(e) => {
                        stop.store(true, Ordering::SeqCst);
                        let _ = send.send((usize::MAX, Err(e)));
                        return;
                    }
                };
                loop {
                    let index = {
                        let mut at = progress.lock().expect("no worker panics holding it");
                        while at.0 >= at.1 + window && !stop.load(Ordering::SeqCst) {
                            at = moved.wait(at).expect("no worker panics holding it");
                        }
                        if at.0 >= chunks.len() || stop.load(Ordering::SeqCst) {
                            return;
                        }
                        at.0 += 1;
                        at.0 - 1
                    };
                    let result = work(&state, chunks[index]);
                    let failed = result.is_err();
                    if send.send((index, result)).is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(send);
        let mut waiting: BTreeMap<usize, Vec<R>> = BTreeMap::new();
        let mut next = 0;
        let mut outcome = Ok(());
        for (index, result) in receive.iter() {
            match result {
                Ok(results) => {
                    waiting.insert(index, results);
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
            while let Some(results) = waiting.remove(&next) {
                for result in results {
                    if let Err(e) = each(result) {
                        outcome = Err(e);
                        break;
                    }
                }
                if outcome.is_err() {
                    break;
                }
                next += 1;
                progress.lock().expect("no worker panics holding it").1 = next;
                moved.notify_all();
            }
            if outcome.is_err() {
                break;
            }
        }
        if outcome.is_err() {
            stop.store(true, Ordering::SeqCst);
            moved.notify_all();
        } else if next < chunks.len() {
            outcome = Err(Error::internal("a worker stopped before finishing its drafts"));
        }
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_and_complete() {
        let items: Vec<usize> = (0..10_000).collect();
        let mut seen = Vec::new();
        ordered_chunks(&items, &(), &|| Ok(()), &|_, chunk| Ok(chunk.iter().map(|i| i * 2).collect()), &mut |r| {
            seen.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_failure_stops_the_work_and_is_returned() {
        let items: Vec<usize> = (0..10_000).collect();
        let result = ordered_chunks(
            &items,
            &(),
            &|| Ok(()),
            &|_, chunk| if chunk[0] == 5 * CHUNK { Err(Error::internal("boom")) } else { Ok(chunk.to_vec()) },
            &mut |_| Ok(()),
        );
        assert_eq!(result.unwrap_err().message, "boom");
    }
}
