//! Many clones of one central repository: `draft sync` and `--push`, over
//! `file://` and over a real git server process (`git daemon`) on loopback.
//! The central repository is the sequencer: once pushed, positions are
//! unique and contiguous, whatever the clones did and wherever they stopped.

use crate::support::{DRAFT_BIN, GitDaemon, TestRepo, Who, exit_code_of};
use serde_json::Value;

fn clone(central: &TestRepo) -> TestRepo {
    TestRepo::clone_url(&central.file_url(), central)
}

fn create_args(name: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["create", "endpoint", "--name", name, "--provider", "stripe", "--target-url"]
        .into_iter()
        .map(str::to_string)
        .collect();
    args.push(format!("https://hooks.example.com/{name}"));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn create(repo: &TestRepo, who: Who, name: &str, extra: &[&str]) -> Value {
    let args = create_args(name, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    repo.json(who, &args)
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

/// A fresh clone of `url`, synced read-only, verifies the whole log; its
/// positions are 0..n-1. Returns the drafts it lists.
fn verify_fresh_clone(url: &str, central: &TestRepo) -> Vec<Value> {
    let fresh = TestRepo::clone_url(url, central);
    fresh.json(Who::Nobody, &["sync", "--no-push"]);
    let verified = fresh.json(Who::Nobody, &["evidence", "verify"]);
    assert_eq!(verified["ok"], true, "{verified:#}");
    let size = verified["size"].as_u64().unwrap();
    assert_eq!(fresh.positions(), (0..size).collect::<Vec<_>>());
    fresh.list_json(&["--all"])
}

fn names(drafts: &[Value]) -> Vec<String> {
    let mut names: Vec<String> =
        drafts.iter().map(|d| d["proposed_spec"]["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

fn outcome<'a>(report: &'a Value, event: &str, id: &str) -> &'a Value {
    report["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|o| o["event"] == event && o["draft_id"] == id)
        .unwrap_or_else(|| panic!("no {event} of {id} in {report:#}"))
}

#[test]
fn a_create_pushed_from_one_clone_is_what_a_fresh_clone_verifies() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let created = create(&a, Who::Agent, "one", &["--push"]);
    assert_eq!(created["push"]["remote"], "origin");
    let pushed: Vec<&str> =
        created["push"]["pushed"].as_array().unwrap().iter().map(|p| p["ref"].as_str().unwrap()).collect();
    assert_eq!(pushed, ["refs/heads/drafts", "refs/notes/zen-evidence"]);
    assert_eq!(central.rev_parse("drafts"), a.rev_parse("drafts"));
    assert_eq!(created["commit"].as_str().unwrap(), central.rev_parse("drafts"));
    let drafts = verify_fresh_clone(&central.file_url(), &central);
    assert_eq!(names(&drafts), ["one"]);
}

#[test]
fn without_push_nothing_touches_the_network() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    a.git(&["remote", "set-url", "origin", "file:///nonexistent/nowhere.git"]);
    create(&a, Who::Agent, "offline", &[]);
    a.draft(&["list"]).success();
}

#[test]
fn two_clones_that_each_created_offline_land_both_renumbered() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let b = clone(&central);
    let one = id_of(&create(&a, Who::Agent, "one", &[]));
    let two = id_of(&create(&b, Who::Agent, "two", &[]));
    // Both took position 0 locally.
    a.json(Who::Agent, &["sync"]);
    let report = b.json(Who::Agent, &["sync"]);
    assert_eq!(outcome(&report, "draft_created", &two)["outcome"], "replayed");
    let drafts = verify_fresh_clone(&central.file_url(), &central);
    assert_eq!(names(&drafts), ["one", "two"]);
    // The replayed create kept its id, and took the time it entered the log.
    let shown = b.show_json(&two);
    assert_eq!(shown["id"], two.as_str());
    a.json(Who::Agent, &["sync"]);
    assert_eq!(a.show_json(&one)["evidence"], "verified");
    assert_eq!(a.show_json(&two)["evidence"], "verified");
}

#[test]
fn a_second_sync_with_nothing_new_moves_nothing() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    create(&a, Who::Agent, "one", &["--push"]);
    let first = a.json(Who::Agent, &["sync"]);
    let refs = a.refs();
    let central_refs = central.refs();
    let second = a.json(Who::Agent, &["sync"]);
    assert_eq!(second["pushed"], serde_json::json!([]));
    assert_eq!(second["updated"], serde_json::json!([]));
    assert_eq!(second["operations"], serde_json::json!([]));
    assert_eq!(a.refs(), refs);
    assert_eq!(central.refs(), central_refs);
    let _ = first;
}

fn spawn_creates(clone: &TestRepo, prefix: &str, count: usize) -> std::thread::JoinHandle<Vec<std::process::Output>> {
    let commands: Vec<std::process::Command> = (0..count)
        .map(|i| {
            let mut cmd = clone.std_command(Who::Agent, DRAFT_BIN);
            cmd.arg("--json").args(create_args(&format!("{prefix}-{i:02}"), &["--push"]));
            cmd
        })
        .collect();
    std::thread::spawn(move || commands.into_iter().map(|mut cmd| cmd.output().expect("draft runs")).collect())
}

fn four_clones_push_25_creates_each_at_once(url: &str, central: &TestRepo) {
    let clones: Vec<TestRepo> = (0..4).map(|_| TestRepo::clone_url(url, central)).collect();
    let workers: Vec<_> = clones.iter().enumerate().map(|(i, c)| spawn_creates(c, &format!("c{i}"), 25)).collect();
    for worker in workers {
        for output in worker.join().expect("worker") {
            assert!(
                output.status.success(),
                "create --push failed:\n{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
            assert!(!report["push"]["pushed"].as_array().unwrap().is_empty(), "{report:#}");
        }
    }
    let drafts = verify_fresh_clone(url, central);
    assert_eq!(drafts.len(), 100);
    assert_eq!(central.positions(), (0..100).collect::<Vec<_>>());
}

#[test]
fn four_clones_pushing_25_creates_each_at_once_over_file_urls_get_positions_0_to_99() {
    let central = TestRepo::new_bare();
    four_clones_push_25_creates_each_at_once(&central.file_url(), &central);
}

#[test]
fn four_clones_pushing_25_creates_each_at_once_through_git_daemon_get_positions_0_to_99() {
    let central = TestRepo::new_bare();
    let daemon = GitDaemon::serve(&central);
    four_clones_push_25_creates_each_at_once(&daemon.url(), &central);
}

#[test]
fn offline_work_lands_in_one_sync_and_an_apply_whose_base_changed_is_dropped() {
    let central = TestRepo::new_bare();
    let daemon = GitDaemon::serve(&central);
    let a = TestRepo::clone_url(&daemon.url(), &central);
    let b = TestRepo::clone_url(&daemon.url(), &central);
    let stale = id_of(&create(&a, Who::Agent, "shared", &["--push"]));
    let to_discard = id_of(&create(&a, Who::Agent, "unwanted", &["--push"]));
    b.json(Who::Human, &["sync"]);
    let rival = id_of(&create(&b, Who::Agent, "shared", &["--push"]));

    // Offline in a: two creates, a discard and an apply.
    let new_one = id_of(&create(&a, Who::Agent, "fresh-1", &[]));
    let new_two = id_of(&create(&a, Who::Human, "fresh-2", &[]));
    a.json(Who::Human, &["discard", &to_discard]);
    a.json(Who::Human, &["apply", &stale]);
    let stale_main_commit = a.rev_parse("main");

    // Meanwhile b applies the rival for the same resource, and creates more.
    b.json(Who::Human, &["apply", &rival, "--push"]);
    create(&b, Who::Agent, "other", &["--push"]);

    let report = a.json(Who::Human, &["sync"]);
    let dropped = outcome(&report, "draft_applied", &stale);
    assert_eq!(dropped["outcome"], "dropped", "{report:#}");
    assert_eq!(dropped["code"], "BASE_CHANGED");
    // Signed by the agent's key, so alice cannot re-sign them.
    assert_eq!(outcome(&report, "draft_created", &new_one)["outcome"], "unpushed");
    assert_eq!(outcome(&report, "draft_created", &new_two)["outcome"], "replayed");
    assert_eq!(outcome(&report, "draft_discarded", &to_discard)["outcome"], "replayed");
    // The agent's sync pushes the rest.
    let report = a.json(Who::Agent, &["sync"]);
    assert_eq!(outcome(&report, "draft_created", &new_one)["outcome"], "replayed", "{report:#}");

    assert!(!central.git_succeeds(&["merge-base", "--is-ancestor", &stale_main_commit, "main"]));
    let drafts = verify_fresh_clone(&daemon.url(), &central);
    let state = |id: &str| drafts.iter().find(|d| d["id"] == id).map(|d| d["status"].clone()).unwrap();
    assert_eq!(state(&stale), "pending");
    assert_eq!(state(&rival), "applied");
    assert_eq!(state(&to_discard), "discarded");
    assert_eq!(state(&new_one), "pending");
    assert_eq!(state(&new_two), "pending");
    assert_eq!(names(&drafts), ["fresh-1", "fresh-2", "other", "shared", "shared", "unwanted"]);
    // a's own refs now match the central repo's.
    for branch in ["main", "drafts", "refs/notes/zen-evidence"] {
        assert_eq!(a.rev_parse(branch), central.rev_parse(branch), "{branch}");
    }
    assert_eq!(a.status(), "", "the work tree followed main");
}

#[test]
fn apply_and_discard_of_one_draft_from_two_clones_exactly_one_wins_every_time() {
    let central = TestRepo::new_bare();
    let daemon = GitDaemon::serve(&central);
    let a = TestRepo::clone_url(&daemon.url(), &central);
    let b = TestRepo::clone_url(&daemon.url(), &central);
    for round in 0..20 {
        let id = id_of(&create(&a, Who::Agent, &format!("race-{round}"), &["--push"]));
        b.json(Who::Human, &["sync", "--no-push"]);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let mut apply = a.std_command(Who::Human, DRAFT_BIN);
        apply.args(["--json", "apply", &id, "--push"]);
        let mut discard = b.std_command(Who::Human, DRAFT_BIN);
        discard.args(["--json", "discard", &id, "--push"]);
        let handles: Vec<_> = [apply, discard]
            .into_iter()
            .map(|mut cmd| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    cmd.output().expect("draft runs")
                })
            })
            .collect();
        let outputs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won: Vec<bool> = outputs.iter().map(|o| o.status.success()).collect();
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "round {round}: {outputs:?}");
        let loser = outputs.iter().find(|o| !o.status.success()).unwrap();
        let refusal: Value = serde_json::from_slice(&loser.stdout).expect("JSON error");
        let code = refusal["error"]["code"].as_str().unwrap();
        assert_eq!(loser.status.code(), Some(exit_code_of(code)));
        assert!(["NOT_PENDING", "BASE_CHANGED"].contains(&code), "round {round}: {refusal:#}");
        let fresh = TestRepo::clone_url(&daemon.url(), &central);
        fresh.json(Who::Nobody, &["sync", "--no-push"]);
        let status = fresh.show_json(&id)["status"].as_str().unwrap().to_string();
        let expected = if won[0] { "applied" } else { "discarded" };
        assert_eq!(status, expected, "round {round}");
        a.json(Who::Human, &["sync"]);
        b.json(Who::Human, &["sync"]);
    }
    verify_fresh_clone(&daemon.url(), &central);
}
