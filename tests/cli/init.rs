//! `draft init`: `.zen/` on main, the drafts branch and the notes ref; the
//! work tree follows; a second run changes nothing; local edits are never
//! overwritten.

use crate::support::{TENANT, TestRepo, Who};

const ZEN_FILES: [&str; 2] = [".zen/allowed_signers", ".zen/config.yaml"];

fn ref_names(repo: &TestRepo) -> Vec<String> {
    repo.refs().lines().filter_map(|l| l.split_once(' ')).map(|(_, name)| name.to_string()).collect()
}

fn assert_set_up(repo: &TestRepo) {
    assert_eq!(ref_names(repo), ["refs/heads/drafts", "refs/heads/main", "refs/notes/zen-evidence"]);
    let config = repo.file_on("main", ".zen/config.yaml");
    for line in [format!("tenant: {TENANT}"), "main_branch: main".into(), "drafts_branch: drafts".into()] {
        assert!(config.lines().any(|l| l == line), "config lacks {line:?}:\n{config}");
    }
    assert_eq!(repo.file_on("main", ".zen/allowed_signers"), "");
    assert!(repo.files_on("drafts").iter().all(|f| f.starts_with("drafts/")), "the drafts branch starts empty");
}

#[test]
fn init_in_a_fresh_repo_commits_zen_files_on_main_and_creates_the_drafts_branch() {
    let repo = TestRepo::empty();

    let out = repo.draft(&["init", "--tenant", TENANT]).success();

    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("Set up zen-draft for tenant acme"), "{stdout}");
    assert_set_up(&repo);
    assert_eq!(repo.files_on("main"), ZEN_FILES);
    assert!(repo.file_on("main", ".zen/config.yaml").lines().any(|l| l == "ttl: 7d"), "the default ttl is 7d");
}

#[test]
fn init_in_a_fresh_repo_leaves_the_work_tree_and_index_clean_with_the_files_checked_out() {
    let repo = TestRepo::empty();

    repo.draft(&["init", "--tenant", TENANT]).success();

    assert_eq!(repo.status(), "", "git status is clean after init");
    for path in ZEN_FILES {
        assert_eq!(repo.read(path), repo.file_on("main", path).as_bytes(), "{path} in the work tree is main's");
    }
}

#[test]
fn init_in_a_repo_with_history_adds_one_commit_on_top_of_main() {
    let repo = TestRepo::with_history();
    let before = repo.rev_parse("main");

    repo.draft(&["init", "--tenant", TENANT]).success();

    assert_eq!(repo.rev_parse("main^"), before, "init commits on top of main, it does not rewrite it");
    assert_set_up(&repo);
    assert_eq!(repo.files_on("main"), [".zen/allowed_signers", ".zen/config.yaml", "README.md"]);
}

#[test]
fn init_in_a_repo_with_history_brings_the_work_tree_and_index_along() {
    let repo = TestRepo::with_history();

    repo.draft(&["init", "--tenant", TENANT]).success();

    assert_eq!(repo.status(), "", "git status is clean after init");
    assert_eq!(repo.rev_parse("HEAD"), repo.rev_parse("main"));
    for path in ZEN_FILES {
        assert_eq!(repo.read(path), repo.file_on("main", path).as_bytes(), "{path} in the work tree is main's");
    }
    assert_eq!(repo.read("README.md"), b"# infra\n");
}

#[test]
fn init_keeps_unrelated_local_changes_exactly_as_they_were() {
    let repo = TestRepo::with_history();
    repo.write("README.md", b"# infra, edited locally\n");
    repo.write("notes.txt", b"scratch\n");
    let before = repo.status();

    repo.draft(&["init", "--tenant", TENANT]).success();

    assert_eq!(repo.status(), before);
    assert_eq!(repo.read("README.md"), b"# infra, edited locally\n");
    assert_eq!(repo.read("notes.txt"), b"scratch\n");
}

#[test]
fn init_in_a_bare_repo_creates_main_and_the_drafts_branch() {
    let repo = TestRepo::bare_uninitialized();

    repo.draft(&["init", "--tenant", TENANT]).success();

    assert_set_up(&repo);
    assert_eq!(repo.files_on("main"), ZEN_FILES);
}

#[test]
fn init_in_a_bare_clone_with_history_commits_on_top_of_main() {
    let source = TestRepo::with_history();
    let repo = TestRepo::clone_of(&source, &["--bare"]);
    let before = repo.rev_parse("main");

    repo.draft(&["init", "--tenant", TENANT]).success();

    assert_eq!(repo.rev_parse("main^"), before);
    assert_set_up(&repo);
}

#[test]
fn init_twice_says_already_set_up_and_moves_no_ref() {
    let repo = TestRepo::new();
    let refs = repo.refs();
    let status = repo.status();

    let out = repo.draft(&["init", "--tenant", TENANT]).success();

    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("Already set up"), "{stdout}");
    assert_eq!(repo.refs(), refs);
    assert_eq!(repo.status(), status);
    let report = repo.json(Who::Human, &["init"]);
    assert_eq!(report["status"], "already_set_up");
    assert_eq!(report["tenant"], TENANT);
    assert_eq!(repo.refs(), refs);
}

#[test]
fn init_with_ttl_sets_the_default_lifetime_of_new_drafts() {
    let repo = TestRepo::with_history();

    repo.draft(&["init", "--tenant", TENANT, "--ttl", "12h"]).success();
    repo.set_up_signers();
    let id = repo.create_endpoint("billing");

    assert!(repo.file_on("main", ".zen/config.yaml").lines().any(|l| l == "ttl: 12h"));
    let draft = repo.show_json(&id);
    let lifetime = crate::support::epoch_seconds(draft["expires_at"].as_str().unwrap())
        - crate::support::epoch_seconds(draft["created_at"].as_str().unwrap());
    assert_eq!(lifetime, 12 * 3600);
}

#[test]
fn init_without_tenant_flag_takes_zen_tenant() {
    let repo = TestRepo::with_history();

    repo.run(Who::Human, &["init"]).env("ZEN_TENANT", "globex").assert().success();

    assert!(repo.file_on("main", ".zen/config.yaml").lines().any(|l| l == "tenant: globex"));
}

#[test]
fn init_in_a_clone_that_has_only_origin_drafts_continues_that_history() {
    let source = TestRepo::new();
    source.create_endpoint("billing");
    let repo = TestRepo::clone_of(&source, &[]);
    assert!(!repo.git_succeeds(&["rev-parse", "--verify", "-q", "refs/heads/drafts"]));

    repo.draft(&["init"]).success();

    assert_eq!(repo.rev_parse("refs/heads/drafts"), repo.rev_parse("refs/remotes/origin/drafts"));
    assert_eq!(repo.rev_parse("main"), source.rev_parse("main"), "main is not touched");
}

#[test]
fn init_refuses_when_config_yaml_is_an_untracked_local_file() {
    let repo = TestRepo::with_history();
    repo.write(".zen/config.yaml", b"tenant: mine\n");
    let status = repo.status();

    let refusal = repo.run(Who::Human, &["init", "--tenant", TENANT]).refused("DIRTY_WORKTREE");

    assert!(refusal.message.contains(".zen/config.yaml"), "{}", refusal.message);
    assert_eq!(repo.read(".zen/config.yaml"), b"tenant: mine\n", "the user's file is kept");
    assert_eq!(repo.status(), status);
    assert!(!repo.git_succeeds(&["rev-parse", "--verify", "-q", "refs/heads/drafts"]));
}

#[test]
fn init_refuses_when_config_yaml_is_staged_but_not_committed() {
    let repo = TestRepo::with_history();
    repo.write(".zen/config.yaml", b"tenant: staged\n");
    repo.git(&["add", ".zen/config.yaml"]);
    let status = repo.status();

    repo.run(Who::Human, &["init", "--tenant", TENANT]).refused("DIRTY_WORKTREE");

    assert_eq!(repo.read(".zen/config.yaml"), b"tenant: staged\n");
    assert_eq!(repo.status(), status, "the index is untouched");
}

#[test]
fn init_refuses_when_a_zen_file_on_main_has_an_uncommitted_edit() {
    let repo = TestRepo::with_history();
    repo.commit_file_on_branch("main", ".zen/allowed_signers", b"");
    let edit = b"alice namespaces=\"zen-draft-apply\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n";
    repo.write(".zen/allowed_signers", edit);
    let status = repo.status();

    repo.run(Who::Human, &["init", "--tenant", TENANT]).refused("DIRTY_WORKTREE");

    assert_eq!(repo.read(".zen/allowed_signers"), edit, "the user's edit is kept");
    assert_eq!(repo.status(), status);
}
