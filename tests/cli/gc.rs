//! `draft gc` (SPEC §1, §3): expired drafts leave the branch a bounded number
//! at a time, oldest first, in new commits only, and the evidence log keeps
//! a signed `draft_expired` record for each, surviving `git gc --prune=now`.

use crate::support::{DRAFT_BIN, TestRepo, Who};
use serde_json::Value;
use std::sync::{Arc, Barrier};

/// Creates `names` with a one-second lifetime and waits until they expire.
fn expired_drafts(repo: &TestRepo, names: &[&str], extra_env: &[(&str, &str)]) -> Vec<String> {
    let ids = names
        .iter()
        .map(|name| {
            let url = format!("https://hooks.example.com/{name}");
            let args =
                ["create", "endpoint", "--name", name, "--provider", "github", "--target-url", &url, "--ttl", "1s"];
            let mut run = repo.run(Who::Agent, &args);
            for (key, value) in extra_env {
                run = run.env(key, value);
            }
            run.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    ids
}

fn gc(repo: &TestRepo, args: &[&str]) -> Value {
    let mut all = vec!["gc"];
    all.extend_from_slice(args);
    repo.json(Who::Human, &all)
}

fn removed_ids(report: &Value) -> Vec<String> {
    report["removed"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

fn expired_records(repo: &TestRepo) -> Vec<Value> {
    repo.json(Who::Nobody, &["evidence", "list"])["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["event"] == "draft_expired")
        .cloned()
        .collect()
}

#[test]
fn gc_removes_at_most_max_oldest_first_then_the_rest() {
    let repo = TestRepo::new();
    let ids = expired_drafts(&repo, &["a", "b", "c", "d", "e"], &[]);
    let first = gc(&repo, &["--max", "2"]);
    assert_eq!(removed_ids(&first), ids[..2], "the two oldest first");
    assert_eq!(first["remaining"], 3);
    let second = gc(&repo, &[]);
    assert_eq!(removed_ids(&second), ids[2..]);
    assert_eq!(second["remaining"], 0);
    assert!(repo.list_json(&["--all"]).is_empty());
    assert_eq!(expired_records(&repo).len(), 5, "one draft_expired record per removed draft");
    repo.draft(&["evidence", "verify"]).success();
}

#[test]
fn the_config_bounds_a_run_when_no_max_is_given() {
    let repo = TestRepo::new();
    let config = repo.file_on("main", ".zen/config.yaml").replace("gc_max_per_run: 100", "gc_max_per_run: 1");
    repo.commit_file_on_branch("main", ".zen/config.yaml", config.as_bytes());
    expired_drafts(&repo, &["a", "b"], &[]);
    assert_eq!(removed_ids(&gc(&repo, &[])).len(), 1);
}

#[test]
fn gc_only_touches_the_given_tenant() {
    let repo = TestRepo::new();
    let globex = expired_drafts(&repo, &["g1", "g2"], &[("ZEN_TENANT", "globex")]);
    let acme = expired_drafts(&repo, &["a1"], &[]);
    let report = gc(&repo, &["--tenant", "globex"]);
    assert_eq!(removed_ids(&report), globex);
    let left: Vec<String> = repo.list_json(&["--all"]).iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(left, acme);
}

#[test]
fn a_dry_run_moves_nothing() {
    let repo = TestRepo::new();
    let ids = expired_drafts(&repo, &["a", "b"], &[]);
    let refs = repo.refs();
    let report = repo.json(Who::Nobody, &["gc", "--dry-run"]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(removed_ids(&report), ids);
    assert_eq!(repo.refs(), refs);
}

#[test]
fn pending_applied_and_discarded_drafts_are_kept() {
    let repo = TestRepo::new();
    let pending = repo.create_endpoint("pending-one");
    let applied = repo.create_endpoint("applied-one");
    repo.draft(&["apply", &applied]).success();
    let discarded = repo.create_endpoint("discarded-one");
    repo.draft(&["discard", &discarded]).success();
    expired_drafts(&repo, &["old"], &[]);
    let report = gc(&repo, &[]);
    assert_eq!(removed_ids(&report).len(), 1);
    let mut left: Vec<String> =
        repo.list_json(&["--all"]).iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    left.sort();
    let mut kept = vec![pending, applied, discarded];
    kept.sort();
    assert_eq!(left, kept);
}

#[test]
fn gc_is_new_commits_never_a_rewrite_and_evidence_survives_git_gc_prune() {
    let repo = TestRepo::new();
    let ids = expired_drafts(&repo, &["a", "b"], &[]);
    let before = repo.rev_parse("drafts");
    gc(&repo, &[]);
    let after = repo.rev_parse("drafts");
    assert!(repo.git_succeeds(&["merge-base", "--is-ancestor", &before, &after]), "drafts only grew");
    assert_eq!(repo.git(&["rev-list", "--count", &format!("{before}..{after}")]).trim(), "2", "one commit per draft");
    repo.git(&["gc", "-q", "--prune=now"]);
    repo.draft(&["evidence", "verify"]).success();
    let records = expired_records(&repo);
    let mut recorded: Vec<String> = records.iter().map(|r| r["draft_id"].as_str().unwrap().to_string()).collect();
    recorded.sort();
    let mut ids = ids;
    ids.sort();
    assert_eq!(recorded, ids);
    assert!(records.iter().all(|r| r["removed_by"] == "user:alice"));
}

#[test]
fn gc_needs_an_identity_and_a_key_to_write() {
    let repo = TestRepo::new();
    expired_drafts(&repo, &["a"], &[]);
    repo.run(Who::Nobody, &["gc"]).refused("USER_ID_REQUIRED");
    repo.run(Who::Human, &["gc"]).env_remove("ZEN_SIGNING_KEY").refused("SIGNING_KEY_MISSING");
}

#[test]
fn gc_racing_several_creators_loses_no_new_draft() {
    let repo = TestRepo::new();
    expired_drafts(&repo, &["old-1", "old-2", "old-3"], &[]);
    let barrier = Arc::new(Barrier::new(5));
    let mut handles = Vec::new();
    for i in 0..4 {
        let mut cmd = repo.std_command(Who::Agent, DRAFT_BIN);
        let name = format!("new-{i}");
        let url = format!("https://hooks.example.com/{name}");
        cmd.args(["create", "endpoint", "--name", &name, "--provider", "github", "--target-url", &url]);
        let barrier = barrier.clone();
        handles.push(std::thread::spawn(move || {
            barrier.wait();
            cmd.output().unwrap()
        }));
    }
    let mut gc_cmd = repo.std_command(Who::Human, DRAFT_BIN);
    gc_cmd.args(["gc"]);
    let gc_barrier = barrier.clone();
    handles.push(std::thread::spawn(move || {
        gc_barrier.wait();
        gc_cmd.output().unwrap()
    }));
    for handle in handles {
        let output = handle.join().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let mut names: Vec<String> =
        repo.list_json(&["--all"]).iter().map(|d| d["proposed_spec"]["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    assert_eq!(names, ["new-0", "new-1", "new-2", "new-3"]);
    repo.draft(&["evidence", "verify"]).success();
}

#[test]
fn retain_closed_lets_gc_remove_applied_and_discarded_drafts_closed_long_enough() {
    let repo = TestRepo::new();
    let applied = repo.create_endpoint("applied-one");
    repo.draft(&["apply", &applied]).success();
    let discarded = repo.create_endpoint("discarded-one");
    repo.draft(&["discard", &discarded]).success();
    let pending = repo.create_endpoint("pending-one");
    // Without retain_closed, closed drafts are kept forever.
    assert!(removed_ids(&gc(&repo, &[])).is_empty());

    let config = repo.file_on("main", ".zen/config.yaml");
    repo.commit_file_on_branch("main", ".zen/config.yaml", format!("{config}retain_closed: 1s\n").as_bytes());
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let report = gc(&repo, &[]);
    let mut removed = removed_ids(&report);
    removed.sort();
    let mut closed = vec![applied, discarded];
    closed.sort();
    assert_eq!(removed, closed);
    let left: Vec<String> = repo.list_json(&["--all"]).iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(left, [pending]);
    assert_eq!(expired_records(&repo).len(), 2);
    repo.draft(&["evidence", "verify"]).success();
}

/// A discard landing after gc found a draft expired, before gc moved the
/// branch: gc commits onto the tip it judged at, so it loses, rereads, and
/// leaves the now discarded draft alone. Before, gc removed it from the
/// newer tip with a `draft_expired` record beside the `draft_discarded` one.
#[test]
fn a_discard_landing_while_gc_decides_keeps_its_draft() {
    let repo = TestRepo::new();
    let later = "2099-01-01T00:00:00Z";
    let id = repo.create_endpoint_as(Who::Agent, "billing", &["--ttl", "90s"]);
    let mut gc = repo.std_command(Who::Agent, DRAFT_BIN);
    gc.args(["--json", "gc"]).env("ZEN_TEST_CLOCK", later);
    let output = crate::support::paused(gc, "gc:after-checks", || {
        repo.run(Who::Agent, &["discard", &id]).env("ZEN_TEST_CLOCK", later).assert().success();
    });
    assert!(output.status.success(), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(removed_ids(&report), Vec::<String>::new(), "{report}");
    assert_eq!(repo.show_json(&id)["status"], "discarded");
    assert!(expired_records(&repo).is_empty());
    repo.draft(&["evidence", "verify"]).success();
}
