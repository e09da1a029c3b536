//! Reading a blob whole without asking its size first.
//!
//! libgit2 tells a packed object's size and type only by walking its whole
//! delta chain (`git_odb_read_header`), and then walks the chain again to
//! read it. Notes are deltified against each other 15 to 50 deep, so that
//! first walk was a third of what a cold listing spent reading. Instead, a
//! read is tried whole first, with every allocation libgit2 makes on this
//! thread meanwhile capped well above what the caller accepts: a hostile
//! object (a small delta that expands to gigabytes) is refused at its first
//! oversized allocation, never loaded, and only then is its size asked.
//!
//! Must never: change what a read returns (a refused read is made again the
//! careful way, header first), or cap an allocation outside such a read or
//! on another thread.

use git2::{Odb, OdbObject, Oid};
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};

thread_local! {
    /// The largest allocation libgit2 may make on this thread now.
    static CAP: Cell<usize> = const { Cell::new(usize::MAX) };
    /// Whether an allocation was refused since the read began.
    static REFUSED: Cell<bool> = const { Cell::new(false) };
}

/// How much larger than the caller's limit one allocation may be: a delta's
/// base may be larger than the object (git deltifies against bases up to 32
/// times the size), and a read past the cap is only made again the slow way.
const HEADROOM: usize = 32;

/// `odb.read(id)` with libgit2's allocations on this thread capped for
/// objects up to `limit` bytes: `None` when one was refused (the object, or
/// one of its delta bases, is larger than the cap), so the caller must ask
/// the size before reading.
pub(super) fn read<'o>(odb: &'o Odb<'_>, id: Oid, limit: usize) -> Option<Result<OdbObject<'o>, git2::Error>> {
    let cap = limit.saturating_mul(HEADROOM).max(1 << 20);
    let before = CAP.replace(cap);
    REFUSED.set(false);
    let read = odb.read(id);
    CAP.set(before);
    if REFUSED.replace(false) { None } else { Some(read) }
}

/// libgit2's allocator: the standard one (`malloc`, `realloc`, `free`, so
/// memory it allocated before this was installed is freed the same way),
/// refusing what is over this thread's cap.
pub(super) fn install_allocator() {
    #[repr(C)]
    struct GitAllocator {
        gmalloc: unsafe extern "C" fn(usize, *const c_char, c_int) -> *mut c_void,
        grealloc: unsafe extern "C" fn(*mut c_void, usize, *const c_char, c_int) -> *mut c_void,
        gfree: unsafe extern "C" fn(*mut c_void),
    }
    unsafe extern "C" fn gmalloc(len: usize, _file: *const c_char, _line: c_int) -> *mut c_void {
        if refused(len) {
            return std::ptr::null_mut();
        }
        // SAFETY: what libgit2's standard allocator calls.
        unsafe { libc::malloc(len) }
    }
    unsafe extern "C" fn grealloc(ptr: *mut c_void, len: usize, _file: *const c_char, _line: c_int) -> *mut c_void {
        if refused(len) {
            // `ptr` stays valid, as after any failed realloc.
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from this allocator or the standard one, both malloc's.
        unsafe { libc::realloc(ptr, len) }
    }
    unsafe extern "C" fn gfree(ptr: *mut c_void) {
        // SAFETY: as above.
        unsafe { libc::free(ptr) }
    }
    let allocator = GitAllocator { gmalloc, grealloc, gfree };
    // SAFETY: libgit2 copies the struct, whose layout is `git_allocator`'s
    // (sys/alloc.h). Called once, before any repository is opened; and any
    // mix of its functions and the standard ones is sound, all being malloc's.
    unsafe {
        libgit2_sys::git_libgit2_opts(libgit2_sys::GIT_OPT_SET_ALLOCATOR as c_int, &allocator as *const GitAllocator);
    }
}

/// Whether an allocation of `len` bytes is over this thread's cap (and so
/// refused, and remembered as refused). Never during thread teardown.
fn refused(len: usize) -> bool {
    let over = CAP.try_with(|cap| len > cap.get()).unwrap_or(false);
    if over {
        let _ = REFUSED.try_with(|refused| refused.set(true));
    }
    over
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BlobRead, Store};

    fn store_with(blobs: &[&[u8]]) -> (tempfile::TempDir, Store, Vec<Oid>) {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        let store = Store::open(Some(dir.path())).unwrap();
        let ids = blobs.iter().map(|bytes| store.write_blob(bytes).unwrap()).collect();
        (dir, store, ids)
    }

    /// A blob far over the cap is refused before it is loaded, and only
    /// then read the careful way; the cap ends with the read.
    #[test]
    fn a_blob_over_the_cap_is_refused_and_then_read_the_careful_way() {
        let big = vec![b'x'; 4 << 20];
        let (_dir, store, ids) = store_with(&[b"small", &big]);
        let odb = store.repo.odb().unwrap();
        assert_eq!(read(&odb, ids[0], 16 * 1024).unwrap().unwrap().data(), b"small");
        assert!(read(&odb, ids[1], 16 * 1024).is_none(), "4 MiB under a 1 MiB cap");
        assert!(matches!(store.read_blob(ids[1], 16 * 1024).unwrap(), BlobRead::TooLarge(n) if n == big.len()));
        // Nothing stays capped: the same blob is read whole when it may be.
        assert_eq!(read(&odb, ids[1], big.len()).unwrap().unwrap().data().len(), big.len());
        assert!(matches!(store.read_blob(ids[1], usize::MAX).unwrap(), BlobRead::Bytes(b) if b == big));
    }

    /// The cap is this thread's only: another thread reading a large blob
    /// meanwhile is not refused.
    #[test]
    fn the_cap_is_only_the_reading_threads() {
        let big = vec![b'y'; 4 << 20];
        let (dir, _store, ids) = store_with(&[&big]);
        CAP.set(1024);
        let other = std::thread::spawn(move || {
            let store = Store::open(Some(dir.path())).unwrap();
            matches!(store.read_blob(ids[0], usize::MAX).unwrap(), BlobRead::Bytes(b) if b.len() == 4 << 20)
        });
        let read_elsewhere = other.join().unwrap();
        CAP.set(usize::MAX);
        assert!(read_elsewhere);
    }
}
