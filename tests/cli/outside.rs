//! `docs/verify.py`: the verifier outside the tool (stdlib Python, git and
//! `ssh-keygen`), run on the same histories as `draft audit`, must reach
//! the same verdict and the same Merkle root.

use crate::forgeries::{backdate_a_create, forge_agent_as_person};
use crate::support::{TestRepo, Who};

fn verify_py(repo: &TestRepo) -> (bool, String) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/verify.py");
    let output = repo.git_command().arg("--version").output().unwrap();
    assert!(output.status.success());
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(&script).arg(&repo.path);
    for (key, value) in [("HOME", repo.home()), ("GIT_CONFIG_GLOBAL", "/dev/null".into())] {
        cmd.env(key, value);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1");
    let output = cmd.output().expect("python3 runs");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Both verifiers agree on `repo`: `ok`, and on the root when the log holds.
pub(crate) fn agree(repo: &TestRepo, ok: bool) {
    let (py_ok, said) = verify_py(repo);
    assert_eq!(py_ok, ok, "docs/verify.py:\n{said}");
    let audit = repo.command(Who::Nobody).args(["--json", "audit"]).output().unwrap();
    assert_eq!(audit.status.success(), ok, "draft audit: {}", String::from_utf8_lossy(&audit.stdout));
    if ok {
        let verified = repo.json(Who::Nobody, &["evidence", "verify"]);
        assert!(said.contains(&format!("root {}", verified["root"].as_str().unwrap())), "{said}");
    }
}

fn honest() -> TestRepo {
    let repo = TestRepo::new();
    let one = repo.create_endpoint_as(Who::Agent, "one", &[]);
    let two = repo.create_endpoint_as(Who::Agent, "two", &[]);
    repo.draft(&["apply", &one]).success();
    repo.draft(&["discard", &two]).success();
    repo
}

#[test]
fn an_honest_history_passes_both_with_the_same_root() {
    agree(&honest(), true);
}

/// Main is found as the tool finds it (`zen.mainBranch`, set by `init` for a
/// main called otherwise).
#[test]
fn a_main_called_otherwise_is_found_by_both() {
    let repo = TestRepo::empty();
    repo.git(&["symbolic-ref", "HEAD", "refs/heads/trunk"]);
    repo.write("README.md", b"# infra\n");
    repo.write(".zen/allowed_signers", repo.install_keys().as_bytes());
    repo.git(&["add", "README.md", ".zen/allowed_signers"]);
    repo.git(&["commit", "-q", "-m", "Initial commit"]);
    repo.draft(&["init", "--tenant", crate::support::TENANT]).success();
    let one = repo.create_endpoint_as(Who::Agent, "one", &[]);
    repo.draft(&["apply", &one]).success();
    agree(&repo, true);
    // A fresh clone has no zen.mainBranch: both find trunk as origin's default branch.
    let clone = TestRepo::blank_clone_with(&[repo.path.to_str().unwrap()], &repo);
    clone.draft(&["sync", "--no-push"]).success();
    agree(&clone, true);
    repo.commit_file_on_branch("trunk", "endpoints/sneaky.yaml", b"name: sneaky\n");
    agree(&repo, false);
}

#[test]
fn an_endpoint_on_main_without_an_apply_fails_both() {
    let repo = honest();
    repo.commit_file_on_branch("main", "endpoints/sneaky.yaml", b"name: sneaky\n");
    agree(&repo, false);
}

#[test]
fn an_apply_record_moved_onto_a_look_alike_commit_fails_both() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("real");
    repo.draft(&["apply", &id]).success();
    let applied = repo.rev_parse("main");
    repo.write("endpoints/real.yaml", b"name: real\nprovider: stripe\ntarget_url: https://evil.example.com/x\n");
    repo.git(&["add", "endpoints/real.yaml"]);
    repo.git(&["commit", "-q", "--amend", "--no-edit"]);
    let forged = repo.rev_parse("main");
    repo.git(&["notes", "--ref", "zen-evidence", "copy", &applied, &forged]);
    repo.git(&["notes", "--ref", "zen-evidence", "remove", &applied]);
    agree(&repo, false);
}

#[test]
fn an_agent_acting_as_a_person_fails_both() {
    let repo = TestRepo::new();
    forge_agent_as_person(&repo);
    agree(&repo, false);
}

#[test]
fn a_backdated_record_fails_both() {
    let repo = TestRepo::new();
    repo.create_endpoint("first");
    backdate_a_create(&repo, "late");
    agree(&repo, false);
}

#[test]
fn a_merge_that_rolls_main_back_fails_both() {
    let repo = TestRepo::new();
    let older = repo.rev_parse("main");
    let id = repo.create_endpoint("applied");
    repo.draft(&["apply", &id]).success();
    let applied = repo.rev_parse("main");
    let tree = repo.rev_parse(&format!("{older}^{{tree}}"));
    let merge = repo.git(&["commit-tree", &tree, "-p", &older, "-p", &applied, "-m", "Merge"]).trim().to_string();
    repo.git(&["update-ref", "refs/heads/main", &merge]);
    repo.git(&["reset", "-q", "--hard"]);
    agree(&repo, false);
}
