//! Every writer killed at every step (`ZEN_TEST_CRASH=<writer>:<point>`
//! aborts the process there, as `kill -9` would leave it): afterwards any
//! command runs, `git fsck` is clean, the evidence log verifies, the work
//! tree is clean, and the operation either happened whole or not at all, so
//! running it again succeeds or says it already happened.

use crate::support::*;

/// Runs `args` as `who` and makes it die at `point` of `writer`.
fn crash(repo: &TestRepo, who: Who, writer: &str, point: &str, args: &[&str], clock: Option<&str>) {
    let mut command = repo.command(who);
    command.env("ZEN_TEST_CRASH", format!("{writer}:{point}")).args(args);
    if let Some(clock) = clock {
        command.env("ZEN_TEST_CLOCK", clock);
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), None, "{writer}:{point} did not die there: {output:?}");
}

/// What must hold after any crash.
fn assert_recovered(repo: &TestRepo, what: &str) {
    repo.anonymous_draft(&["list", "--all"]).success();
    assert!(repo.git_succeeds(&["fsck", "--no-dangling", "--no-progress"]), "{what}: git fsck");
    repo.json(Who::Nobody, &["evidence", "verify"]);
    if !repo.bare {
        assert_eq!(repo.status(), "", "{what}: the work tree is clean");
    }
}

#[test]
fn create_killed_at_any_step_leaves_nothing_half_done() {
    for point in ["after-objects", "after-refs"] {
        let repo = TestRepo::new();
        let args = ["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET];
        crash(&repo, Who::Agent, "create", point, &args, None);
        assert_recovered(&repo, point);
        let drafts = repo.list_json(&["--all"]);
        assert_eq!(drafts.len(), usize::from(point == "after-refs"), "{point}: the draft landed whole or not at all");
        repo.agent_draft(&args).success();
        assert_recovered(&repo, point);
    }
}

#[test]
fn discard_killed_at_any_step_leaves_nothing_half_done() {
    for point in ["after-objects", "after-refs"] {
        let repo = TestRepo::new();
        let id = repo.create_endpoint_as(Who::Agent, "billing", &[]);
        crash(&repo, Who::Agent, "discard", point, &["discard", &id], None);
        assert_recovered(&repo, point);
        let status = repo.show_json(&id)["status"].as_str().unwrap().to_string();
        assert_eq!(status == "discarded", point == "after-refs", "{point}");
        let again = repo.command(Who::Agent).args(["discard", &id]).output().unwrap();
        assert_eq!(again.status.code(), Some(if point == "after-refs" { 4 } else { 0 }), "{point}");
        assert_recovered(&repo, point);
    }
}

#[test]
fn apply_killed_at_any_step_leaves_nothing_half_done() {
    for point in ["after-checks", "after-objects", "after-refs"] {
        let repo = TestRepo::new();
        let id = repo.create_endpoint("stripe-payments");
        crash(&repo, Who::Human, "apply", point, &["apply", &id], None);
        assert_recovered(&repo, point);
        let applied = repo.show_json(&id)["status"] == "applied";
        assert_eq!(applied, point == "after-refs", "{point}");
        assert_eq!(repo.files_on("main").contains(&"endpoints/stripe-payments.yaml".to_string()), applied);
        if applied {
            assert!(repo.read("endpoints/stripe-payments.yaml").starts_with(b"name: stripe-payments"));
        }
        let again = repo.command(Who::Human).args(["apply", &id]).output().unwrap();
        assert_eq!(again.status.code(), Some(if applied { 4 } else { 0 }), "{point}");
        assert_recovered(&repo, point);
    }
}

#[test]
fn gc_killed_at_any_step_leaves_nothing_half_done() {
    for point in ["after-objects", "after-refs"] {
        let repo = TestRepo::new();
        let id = repo.create_endpoint_as(Who::Agent, "billing", &["--ttl", "90s"]);
        let later = "2099-01-01T00:00:00Z";
        crash(&repo, Who::Agent, "gc", point, &["gc"], Some(later));
        assert_recovered(&repo, point);
        let gone = !repo.files_on("drafts").iter().any(|p| p.contains(&id));
        assert_eq!(gone, point == "after-refs", "{point}");
        let report = repo.run(Who::Agent, &["gc"]).env("ZEN_TEST_CLOCK", later).json();
        assert_eq!(report["removed"].as_array().unwrap().len(), usize::from(!gone), "{point}");
        assert_recovered(&repo, point);
    }
}

#[test]
fn init_killed_at_any_step_leaves_nothing_half_done() {
    for point in ["after-objects", "after-refs"] {
        let repo = TestRepo::with_history();
        crash(&repo, Who::Human, "init", point, &["init", "--tenant", TENANT], None);
        repo.draft(&["list"]).code(if point == "after-refs" { 0 } else { 7 });
        assert!(repo.git_succeeds(&["fsck", "--no-dangling", "--no-progress"]), "{point}: git fsck");
        assert_eq!(repo.status(), "", "{point}: the work tree is clean");
        repo.draft(&["init", "--tenant", TENANT]).success();
        assert_eq!(repo.status(), "");
        repo.json(Who::Nobody, &["evidence", "verify"]);
    }
}
