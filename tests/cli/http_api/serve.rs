//! `draft serve` itself: who may start it and where it may listen. It checks
//! all of this before binding, so a refused start never serves a request.

use crate::support::{TestRepo, Who};

#[test]
fn serve_refuses_a_non_loopback_address_without_allow_remote() {
    let repo = TestRepo::new();
    let assert = repo.draft(&["serve", "--addr", "0.0.0.0:0"]).code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("--allow-remote"), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
}

#[test]
fn serve_refuses_to_run_as_an_agent() {
    let repo = TestRepo::new();
    repo.run(Who::Agent, &["serve", "--addr", "127.0.0.1:0"]).env("ZEN_USER_ID", "alice").refused("MCP_CANNOT_APPLY");
}

#[test]
fn serve_refuses_when_nobody_could_use_it() {
    let repo = TestRepo::new();
    repo.run(Who::Nobody, &["serve", "--addr", "127.0.0.1:0"]).refused("USER_ID_REQUIRED");
}

#[test]
fn serve_refuses_a_repo_that_is_not_set_up() {
    let repo = TestRepo::with_history();
    repo.run(Who::Human, &["serve", "--addr", "127.0.0.1:0"]).refused("NOT_INITIALIZED");
}
