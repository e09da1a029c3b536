//! Apply and the checked-out work tree: what would stop main's files from
//! following is refused before any ref moves, a follow that was cut short is
//! finished by the next command, and nothing is written through a symlink.

use crate::support::*;

#[test]
fn a_locked_index_is_refused_before_anything_moves() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let lock = repo.path.join(".git/index.lock");
    std::fs::write(&lock, b"").unwrap();

    let refusal = repo.run(Who::Human, &["apply", &id]).refused("LOCKED");
    assert!(refusal.message.contains("index.lock"), "{}", refusal.message);

    std::fs::remove_file(&lock).unwrap();
    repo.draft(&["apply", &id]).success();
    assert_eq!(repo.status(), "", "the work tree followed: {}", repo.status());
}

#[test]
fn an_untracked_symlink_where_the_resource_folder_goes_is_refused_and_nothing_is_written_through_it() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let elsewhere = repo.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, repo.path.join("endpoints")).unwrap();

    let refusal = repo.run(Who::Human, &["apply", &id]).refused("DIRTY_WORKTREE");
    assert!(refusal.message.contains("endpoints"), "{}", refusal.message);
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing was written outside the repository");
    assert_eq!(repo.show_json(&id)["status"], "pending");
}

#[test]
fn an_apply_stopped_after_its_refs_moved_leaves_no_staged_deletion_once_any_command_runs() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let output =
        repo.command(Who::Human).env("ZEN_TEST_STOP_APPLY", "after-refs").args(["apply", &id]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_ne!(repo.status(), "", "the follow was cut short: git sees the new file as deleted");

    repo.anonymous_draft(&["list"]).success();

    assert_eq!(repo.status(), "", "the next command finished the follow");
    assert!(repo.read("endpoints/stripe-payments.yaml").starts_with(b"name: stripe-payments"));
    // An unrelated commit afterwards keeps the endpoint on main.
    repo.write("README.md", b"# infra, edited\n");
    repo.git(&["commit", "-q", "-am", "Edit the README"]);
    assert!(repo.files_on("main").contains(&"endpoints/stripe-payments.yaml".to_string()));
}

#[test]
fn finishing_a_follow_never_overwrites_a_change_made_since() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.command(Who::Human).env("ZEN_TEST_STOP_APPLY", "after-refs").args(["apply", &id]).output().unwrap();
    // The person writes the file themselves before any draft command runs.
    repo.write("endpoints/stripe-payments.yaml", b"name: my own edit\n");

    repo.anonymous_draft(&["list"]).success();

    assert_eq!(repo.read("endpoints/stripe-payments.yaml"), b"name: my own edit\n");
}

#[test]
fn an_interrupted_apply_that_changes_an_existing_endpoint_is_finished_too() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch("main", "endpoints/stripe-payments.yaml", b"name: stripe-payments\nprovider: stripe\n");
    let id = repo.create_endpoint("stripe-payments");
    repo.command(Who::Human).env("ZEN_TEST_CRASH", "apply:after-refs").args(["apply", &id]).output().unwrap();
    assert_ne!(repo.status(), "", "the old file is still in the index and the work tree");

    repo.anonymous_draft(&["list"]).success();

    assert_eq!(repo.status(), "", "no staged revert of the apply is left");
    assert_eq!(
        String::from_utf8(repo.read("endpoints/stripe-payments.yaml")).unwrap(),
        repo.file_on("main", "endpoints/stripe-payments.yaml")
    );
}

#[test]
fn a_file_the_person_deleted_after_an_interrupted_apply_stays_deleted() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch("main", "endpoints/stripe-payments.yaml", b"name: stripe-payments\nprovider: stripe\n");
    let id = repo.create_endpoint("stripe-payments");
    repo.command(Who::Human).env("ZEN_TEST_CRASH", "apply:after-refs").args(["apply", &id]).output().unwrap();
    std::fs::remove_file(repo.path.join("endpoints/stripe-payments.yaml")).unwrap();

    repo.anonymous_draft(&["list"]).success();

    assert!(!repo.path.join("endpoints/stripe-payments.yaml").exists(), "the person's deletion is theirs");
}
