//! Work over every draft on every core, with results handed on in order.
//!
//! The calling thread reads (git objects, through libgit2) and worker threads
//! compute (parse, check signatures, serialize): libgit2 serialises object
//! reads behind one process-wide lock, so reading from several threads only
//! makes them wait on each other. The reader hands chunks to the workers
//! through a bounded queue (and computes a chunk itself when the queue is
//! full, so no core idles), and hands their results on in the original
//! order, so memory stays bounded for a branch of any size.
//!
//! Must never: reorder results, drop one, or go on after a failure.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

/// Items per chunk: big enough to amortise a batch of signatures, small
/// enough to spread over the workers.
pub(crate) const CHUNK: usize = 256;

/// What a worker does with one chunk the reader prepared.
pub(crate) type ChunkWork<'a, P, R> = dyn Fn(P) -> Result<Vec<R>> + Sync + 'a;

/// Prepares each chunk on the calling thread (`prepare` is given the chunk's
/// items), computes it on the workers with `work`, and hands each result to
/// `each` in order. With one core, or one chunk, everything runs here.
pub(crate) fn pipeline<I, P, R>(
    items: &[I],
    prepare: &mut dyn FnMut(&[I]) -> Result<P>,
    work: &ChunkWork<'_, P, R>,
    each: &mut dyn FnMut(R) -> Result<()>,
) -> Result<()>
where
    P: Send,
    R: Send,
{
    // The reading thread is the one that cannot be shared out, so it keeps
    // a core to itself: one worker fewer than there are cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let workers = cores - 1;
    if workers == 0 || items.len() <= CHUNK {
        for chunk in items.chunks(CHUNK) {
            for result in work(prepare(chunk)?)? {
                each(result)?;
            }
        }
        return Ok(());
    }
    let (to_workers, queue) = mpsc::sync_channel::<(usize, P)>(workers);
    let queue = Mutex::new(queue);
    let (to_reader, results) = mpsc::channel::<(usize, Result<Vec<R>>)>();
    // After a failure the workers only drain the queue, so the reader never
    // waits on a full queue nobody empties.
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (queue, to_reader, stop) = (&queue, to_reader.clone(), &stop);
            scope.spawn(move || {
                loop {
                    let next = queue.lock().expect("no worker panics holding it").recv();
                    let Ok((index, prepared)) = next else { return };
                    if stop.load(Ordering::SeqCst) {
                        continue;
                    }
                    let result = guarded(work, prepared);
                    if result.is_err() {
                        stop.store(true, Ordering::SeqCst);
                    }
                    if to_reader.send((index, result)).is_err() {
                        stop.store(true, Ordering::SeqCst);
                    }
                }
            });
        }
        drop(to_reader);
        let mut emitter = Emitter { waiting: BTreeMap::new(), next: 0 };
        let outcome = (|| -> Result<()> {
            for (index, chunk) in items.chunks(CHUNK).enumerate() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                // Never more than a few chunks ahead of what was handed on:
                // results wait in memory until their turn.
                while index >= emitter.next + 4 * workers {
                    let Ok(done) = results.recv() else { break };
                    emitter.take(done, each)?;
                }
                let prepared = prepare(chunk)?;
                // With every worker busy, this thread computes the chunk
                // itself rather than wait for one to be free.
                match to_workers.try_send((index, prepared)) {
                    Ok(()) => {}
                    Err(mpsc::TrySendError::Full((index, prepared))) => {
                        emitter.take((index, guarded(work, prepared)), each)?
                    }
                    Err(mpsc::TrySendError::Disconnected(_)) => break,
                }
                while let Ok(done) = results.try_recv() {
                    emitter.take(done, each)?;
                }
            }
            Ok(())
        })();
        // Closing the queue lets the workers finish; on a failure they stop
        // at their next chunk.
        drop(to_workers);
        if outcome.is_err() {
            stop.store(true, Ordering::SeqCst);
        }
        outcome?;
        for done in results.iter() {
            if let Err(e) = emitter.take(done, each) {
                stop.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        if emitter.next == items.len().div_ceil(CHUNK) {
            Ok(())
        } else {
            Err(Error::internal("a worker stopped before finishing its drafts"))
        }
    })
}

/// One chunk's work, a panic in it becoming the chunk's error: a worker
/// that panicked must not leave the reader waiting on a queue nobody empties.
fn guarded<P, R>(work: &ChunkWork<'_, P, R>, prepared: P) -> Result<Vec<R>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(prepared)))
        .unwrap_or_else(|_| Err(Error::internal("a worker stopped on a bug while reading drafts")))
}

/// Hands results on in chunk order, keeping early ones until their turn.
struct Emitter<R> {
    waiting: BTreeMap<usize, Vec<R>>,
    next: usize,
}

impl<R> Emitter<R> {
    fn take(&mut self, (index, result): (usize, Result<Vec<R>>), each: &mut dyn FnMut(R) -> Result<()>) -> Result<()> {
        self.waiting.insert(index, result?);
        while let Some(results) = self.waiting.remove(&self.next) {
            for result in results {
                each(result)?;
            }
            self.next += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_and_complete() {
        let items: Vec<usize> = (0..10_000).collect();
        let mut seen = Vec::new();
        pipeline(
            &items,
            &mut |chunk| Ok(chunk.to_vec()),
            &|chunk| Ok(chunk.iter().map(|i| i * 2).collect()),
            &mut |r| {
                seen.push(r);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

    /// With the worker busy, the reading thread computes chunks itself, and
    /// the results still come back in order.
    #[test]
    fn the_reader_computes_when_the_workers_are_busy() {
        let items: Vec<usize> = (0..40 * CHUNK).collect();
        let caller = std::thread::current().id();
        let by_caller = std::sync::atomic::AtomicUsize::new(0);
        let mut seen = Vec::new();
        pipeline(
            &items,
            &mut |chunk| Ok(chunk.to_vec()),
            &|chunk: Vec<usize>| {
                if std::thread::current().id() == caller {
                    by_caller.fetch_add(1, Ordering::SeqCst);
                }
                // Work that takes far longer than preparing the chunk.
                let until = std::time::Instant::now() + std::time::Duration::from_millis(2);
                while std::time::Instant::now() < until {
                    std::hint::spin_loop();
                }
                Ok(chunk)
            },
            &mut |r| {
                seen.push(r);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, items);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let computed_here = by_caller.load(Ordering::SeqCst);
        if cores > 1 {
            assert!(computed_here > 0 && computed_here < 40, "{computed_here} of 40 chunks on the reading thread");
        } else {
            assert_eq!(computed_here, 40);
        }
    }

    #[test]
    fn a_panicking_worker_is_an_error_not_a_hang() {
        let items: Vec<usize> = (0..10_000).collect();
        let result = pipeline(
            &items,
            &mut |chunk| Ok(chunk.to_vec()),
            &|chunk: Vec<usize>| -> Result<Vec<usize>> {
                if chunk[0] >= 3 * CHUNK { panic!("bug") } else { Ok(chunk) }
            },
            &mut |_| Ok(()),
        );
        assert_eq!(result.unwrap_err().code, crate::error::Code::Internal);
    }

    #[test]
    fn a_failure_stops_the_work_and_is_returned() {
        let items: Vec<usize> = (0..10_000).collect();
        let result = pipeline(
            &items,
            &mut |chunk| Ok(chunk.to_vec()),
            &|chunk| if chunk[0] == 5 * CHUNK { Err(Error::internal("boom")) } else { Ok(chunk) },
            &mut |_| Ok(()),
        );
        assert_eq!(result.unwrap_err().message, "boom");
        let result = pipeline(
            &items,
            &mut |chunk| if chunk[0] == 7 * CHUNK { Err(Error::internal("unreadable")) } else { Ok(chunk.to_vec()) },
            &|chunk| Ok(chunk),
            &mut |_| Ok(()),
        );
        assert_eq!(result.unwrap_err().message, "unreadable");
    }
}
