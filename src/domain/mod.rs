//! The pure domain: drafts, endpoint specs, identities and the checks that
//! guard them.
//!
//! Must never: touch git, the filesystem, the environment or the clock. Callers
//! pass `now` and every input in, so each rule can be tested on its own.

pub mod checks;
pub mod config;
pub mod digest;
pub mod draft;
pub mod draft_id;
pub mod duration;
pub mod identity;
pub mod provenance;
pub mod secrets;
pub mod spec;
pub mod target_url;
