//! Reading a blob whole without asking its size first.
//!
//! libgit2 tells a packed object's size and type only by walking its whole
//! delta chain (`git_odb_read_header`), and then walks the chain again to
//! read it. Notes are deltified against each other 15 to 50 deep, so that
//! first walk was a sixth of a cold listing. Instead, a read is tried whole
//! first, with libgit2's fresh allocations on this thread capped: an object
//! over the cap (a hostile one: a small delta that expands to gigabytes) is
//! refused at its first oversized allocation, never loaded, and the read is
//! then made the careful way, size first, exactly as before.
//!
//! The cap is libgit2's own limit for caching a delta base (1 MiB, pack.h's
//! `GIT_PACK_CACHE_SIZE_LIMIT`) plus the byte it adds to every object. A
//! refusal makes libgit2 take its out-of-memory paths, and some of those
//! leak or pin what they hold unless it sits in that cache: copying a cached
//! base (pack.c, which returns without dropping its reference) needs at most
//! that much, and every object allocated under the cap fits the cache, so
//! when the next delta of its chain is refused the cache owns it (unless
//! another thread cached the same base that very moment: libgit2 then leaks
//! its own copy, at most the cap, as on any real out-of-memory). Growing an
//! existing allocation is never refused, and a buffer started by `realloc`
//! (libgit2's hash maps and strings start so) only past 64 MiB: the failure
//! paths of hash-map growth are not all checked, and only a loose object's
//! compressed file comes whole through such a buffer.
//!
//! An object in git's old "packlike" loose format (which git has not written
//! since 2006, and which only a hand in `.git/objects` can put there) is
//! inflated to the end of its zlib stream whatever size it declares, by the
//! careful way as much as the quick one.
//!
//! Must never: make a read return anything but what the careful way returns
//! (any failure of the quick read, refused or not, is made again that way),
//! or cap an allocation outside such a read or on another thread.

use git2::{Odb, OdbObject, Oid};
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};

/// The largest allocation libgit2 may make during a quick read.
const CAP: usize = (1 << 20) + 1;

/// The largest buffer libgit2 may start with `realloc` during a quick read.
const BUFFER_CAP: usize = 64 << 20;

thread_local! {
    /// Whether this thread is in a quick read.
    static CAPPED: Cell<bool> = const { Cell::new(false) };
    /// Whether an allocation was refused since the read began.
    static REFUSED: Cell<bool> = const { Cell::new(false) };
}

/// `odb.read(id)` with libgit2's fresh allocations on this thread capped:
/// the object, or `None` when the read failed in any way or was refused
/// something (the object, or one of its delta bases, is over the cap), so
/// the caller must ask the size first and read again.
pub(super) fn read<'o>(odb: &'o Odb<'_>, id: Oid) -> Option<OdbObject<'o>> {
    /// Ends the quick read however the read ends.
    struct Capped;
    impl Drop for Capped {
        fn drop(&mut self) {
            CAPPED.set(false);
        }
    }
    REFUSED.set(false);
    let capped = Capped;
    CAPPED.set(true);
    let read = odb.read(id);
    drop(capped);
    if REFUSED.replace(false) { None } else { read.ok() }
}

/// libgit2's allocator: the standard one (`malloc`, `realloc`, `free`, so
/// memory it allocated before this was installed is freed the same way),
/// refusing during a quick read what is over the caps.
pub(super) fn install_allocator() {
    #[repr(C)]
    struct GitAllocator {
        gmalloc: unsafe extern "C" fn(usize, *const c_char, c_int) -> *mut c_void,
        grealloc: unsafe extern "C" fn(*mut c_void, usize, *const c_char, c_int) -> *mut c_void,
        gfree: unsafe extern "C" fn(*mut c_void),
    }
    let allocator = GitAllocator { gmalloc, grealloc, gfree };
    // SAFETY: libgit2 copies the struct, whose layout is `git_allocator`'s
    // (sys/alloc.h). Another thread may be allocating through libgit2 while
    // the three pointers are copied; any mix of these functions and the
    // standard ones is sound, all being malloc's.
    unsafe {
        libgit2_sys::git_libgit2_opts(libgit2_sys::GIT_OPT_SET_ALLOCATOR as c_int, &allocator as *const GitAllocator);
    }
}

unsafe extern "C" fn gmalloc(len: usize, _file: *const c_char, _line: c_int) -> *mut c_void {
    if refused(len, CAP) {
        return std::ptr::null_mut();
    }
    // SAFETY: what libgit2's standard allocator calls.
    unsafe { libc::malloc(len) }
}

unsafe extern "C" fn grealloc(ptr: *mut c_void, len: usize, _file: *const c_char, _line: c_int) -> *mut c_void {
    if ptr.is_null() && refused(len, BUFFER_CAP) {
        return std::ptr::null_mut();
    }
    // SAFETY: `ptr` is null or came from this allocator or the standard one,
    // both malloc's.
    unsafe { libc::realloc(ptr, len) }
}

unsafe extern "C" fn gfree(ptr: *mut c_void) {
    // SAFETY: as above.
    unsafe { libc::free(ptr) }
}

/// Whether an allocation of `len` bytes is refused (and remembered as
/// refused): only over `cap`, during a quick read. Nothing is refused while
/// the thread is being torn down and its flags may be gone.
fn refused(len: usize, cap: usize) -> bool {
    let over = len > cap && CAPPED.try_with(Cell::get).unwrap_or(false);
    if over {
        let _ = REFUSED.try_with(|refused| refused.set(true));
    }
    over
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BlobRead, Store};
    use std::path::Path;

    fn git(dir: &Path, args: &[&str]) {
        let status = std::process::Command::new("git").arg("-C").arg(dir).args(args).status().unwrap();
        assert!(status.success(), "git {args:?}");
    }

    /// A repository holding `blobs` (each reachable from a commit), packed
    /// with deltas by git itself when `packed`.
    fn store_with(blobs: &[&[u8]], packed: bool) -> (tempfile::TempDir, Store, Vec<Oid>) {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let ids: Vec<Oid> = blobs.iter().map(|bytes| repo.blob(bytes).unwrap()).collect();
        let mut tree = repo.treebuilder(None).unwrap();
        for (n, id) in ids.iter().enumerate() {
            tree.insert(format!("{n}"), *id, 0o100644).unwrap();
        }
        let tree = repo.find_tree(tree.write().unwrap()).unwrap();
        let who = git2::Signature::now("t", "t@example.com").unwrap();
        repo.commit(Some("HEAD"), &who, &who, "blobs", &tree, &[]).unwrap();
        if packed {
            git(dir.path(), &["repack", "-a", "-d", "-f", "-q"]);
        }
        let store = Store::open(Some(dir.path())).unwrap();
        (dir, store, ids)
    }

    fn bytes(read: BlobRead) -> Vec<u8> {
        match read {
            BlobRead::Bytes(bytes) => bytes,
            BlobRead::TooLarge(size) => panic!("{size} bytes: too large"),
        }
    }

    /// A loose blob over the cap is refused before it is loaded, then read
    /// the careful way; the cap ends with the read.
    #[test]
    fn a_loose_blob_over_the_cap_is_refused_then_read_the_careful_way() {
        let big = vec![b'x'; 4 << 20];
        let (_dir, store, ids) = store_with(&[b"small", &big], false);
        let odb = store.repo.odb().unwrap();
        assert_eq!(read(&odb, ids[0]).unwrap().data(), b"small");
        assert!(read(&odb, ids[1]).is_none(), "4 MiB under a 1 MiB cap");
        assert!(!CAPPED.with(Cell::get), "the cap ends with the read");
        assert_eq!(odb.read(ids[1]).unwrap().data().len(), big.len());
        assert!(matches!(store.read_blob(ids[1], 16 * 1024).unwrap(), BlobRead::TooLarge(n) if n == big.len()));
        assert_eq!(bytes(store.read_blob(ids[1], usize::MAX).unwrap()), big);
        assert_eq!(bytes(store.read_blob(ids[0], 5).unwrap()), b"small", "exactly at the limit");
        assert!(matches!(store.read_blob(ids[0], 4).unwrap(), BlobRead::TooLarge(5)));
    }

    /// In a pack, with deltas: a blob that expands to 8 MiB from a delta of a
    /// few bytes is refused and reported too large, never loaded; small
    /// deltified blobs read whole; and nothing libgit2 keeps is left broken
    /// by the refusals (every blob reads the same again and again).
    #[test]
    fn packed_deltas_over_the_cap_are_refused_and_small_ones_read_whole() {
        let mut bomb = vec![0u8; 8 << 20];
        let base = bomb.clone();
        bomb[4 << 20] = 1;
        let notes: Vec<Vec<u8>> =
            (0..40).map(|n| format!("{{\"record\":{n}}}\n{}\n", "signature line\n".repeat(40)).into_bytes()).collect();
        let mut blobs: Vec<&[u8]> = vec![&base, &bomb];
        blobs.extend(notes.iter().map(Vec::as_slice));
        let (dir, store, ids) = store_with(&blobs, true);
        let deltified = |id: &Oid| {
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(["cat-file", "--batch-check=%(deltabase)"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(format!("{id}\n").as_bytes())?;
                    child.wait_with_output()
                })
                .unwrap();
            !String::from_utf8_lossy(&out.stdout).trim().chars().all(|c| c == '0')
        };
        assert!(ids[..2].iter().any(deltified), "one of the 8 MiB blobs is a delta of the other");
        assert!(ids[2..].iter().filter(|id| deltified(id)).count() > 30, "the small blobs are deltas");
        let odb = store.repo.odb().unwrap();
        for _ in 0..3 {
            for (id, blob) in ids[..2].iter().zip([&base, &bomb]) {
                assert!(read(&odb, *id).is_none());
                assert!(matches!(store.read_blob(*id, 16 * 1024).unwrap(), BlobRead::TooLarge(n) if n == blob.len()));
            }
            for (id, note) in ids[2..].iter().zip(&notes) {
                assert_eq!(read(&odb, *id).unwrap().data(), note.as_slice());
                assert_eq!(&bytes(store.read_blob(*id, 16 * 1024).unwrap()), note);
            }
        }
        assert_eq!(bytes(store.read_blob(ids[1], usize::MAX).unwrap()), bomb);
    }

    /// What is no blob, or not there, fails as it did when the size was
    /// asked first.
    #[test]
    fn a_tree_or_a_missing_object_fails_as_before() {
        let (_dir, store, _) = store_with(&[b"x"], false);
        let tree = store.repo.head().unwrap().peel_to_tree().unwrap().id();
        let failed = |id| store.read_blob(id, 1024).err().expect("an error").message;
        assert!(failed(tree).contains("is not a blob"));
        let missing = Oid::from_str("1234567890123456789012345678901234567890").unwrap();
        let before = store.repo.odb().unwrap().read_header(missing).unwrap_err().message().to_string();
        assert!(failed(missing).contains(&before), "{} against {before}", failed(missing));
    }

    /// The cap is the reading thread's only: another thread reading a large
    /// blob meanwhile is refused nothing.
    #[test]
    fn the_cap_is_only_the_reading_threads() {
        struct Capped;
        impl Drop for Capped {
            fn drop(&mut self) {
                CAPPED.set(false);
            }
        }
        let big = vec![b'y'; 4 << 20];
        let (dir, _store, ids) = store_with(&[&big], false);
        let _capped = Capped;
        CAPPED.set(true);
        let other = std::thread::spawn(move || {
            let repo = git2::Repository::open(dir.path()).unwrap();
            repo.odb().unwrap().read(ids[0]).map(|o| o.data().len()).ok()
        });
        assert_eq!(other.join().unwrap(), Some(4 << 20));
    }

    /// During a quick read: an allocation over 1 MiB is refused, a buffer
    /// started by `realloc` only over 64 MiB, growing one never; outside a
    /// quick read nothing is.
    #[test]
    fn the_allocator_refuses_only_fresh_allocations_over_the_caps_during_a_quick_read() {
        let mb = 1 << 20;
        // SAFETY: each pointer is freed once, by the allocator that made it.
        unsafe {
            let allow = |p: *mut c_void| {
                assert!(!p.is_null());
                gfree(p);
            };
            allow(gmalloc(2 * mb, std::ptr::null(), 0));
            CAPPED.set(true);
            assert!(gmalloc(2 * mb, std::ptr::null(), 0).is_null());
            allow(gmalloc(mb + 1, std::ptr::null(), 0));
            allow(grealloc(std::ptr::null_mut(), 2 * mb, std::ptr::null(), 0));
            assert!(grealloc(std::ptr::null_mut(), 65 * mb, std::ptr::null(), 0).is_null());
            let small = gmalloc(16, std::ptr::null(), 0);
            allow(grealloc(small, 100 * mb, std::ptr::null(), 0));
            CAPPED.set(false);
            assert!(REFUSED.replace(false), "the refusals were remembered");
        }
    }
}
