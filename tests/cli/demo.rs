//! `draft demo`: one command builds the example repo from `drafts.example/`
//! and walks a newcomer through list, show, validate, a refused agent apply, a
//! person's apply and the evidence of all of it.

use crate::support::{DRAFT_BIN, TestRepo};
use serde_json::Value;
use std::process::{Command, Output};

fn demo(dir: &std::path::Path, home: &std::path::Path, json: bool) -> Output {
    let mut cmd = Command::new(DRAFT_BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1");
    if json {
        cmd.arg("--json");
    }
    cmd.arg("demo").arg(dir).output().expect("draft runs")
}

fn draft_in(dir: &std::path::Path, home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(DRAFT_BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .arg("--repo")
        .arg(dir)
        .args(args)
        .output()
        .expect("draft runs")
}

#[test]
fn the_demo_tours_list_show_validate_a_refused_and_a_real_apply_and_verifies_the_evidence() {
    let scratch = TestRepo::not_a_repo();
    let dir = scratch.root.join("demo");
    let output = demo(&dir, &scratch.home(), false);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for step in ["$ draft list", "$ draft show", "$ draft validate --all", "$ draft evidence verify", "Next, try:"] {
        assert!(stdout.contains(step), "the tour shows {step:?}:\n{stdout}");
    }
    assert!(stdout.contains("BASE_CHANGED") && stdout.contains("EXPIRED"), "validate fails the two bad drafts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error[MCP_CANNOT_APPLY]"), "the agent's apply is refused with its code:\n{stderr}");
    assert!(stdout.contains("Applied draft"), "the person's apply succeeds");
    assert!(stdout.contains("Verified 6 records"), "four creates and two applies, all verified:\n{stdout}");

    // The repo it leaves behind is real and consistent.
    let listed = draft_in(&dir, &scratch.home(), &["--json", "list", "--all"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let mut states: Vec<&str> =
        listed["drafts"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    states.sort();
    assert_eq!(states, ["applied", "applied", "expired", "pending"]);
    assert!(listed["drafts"].as_array().unwrap().iter().all(|d| d["evidence"] == "verified"));
    assert!(draft_in(&dir, &scratch.home(), &["evidence", "verify"]).status.success());
    assert!(dir.join("endpoints/stripe-payments.yaml").exists(), "the applied endpoint is in the work tree");
}

#[test]
fn the_demo_refuses_a_directory_that_is_not_empty() {
    let scratch = TestRepo::not_a_repo();
    std::fs::write(scratch.path.join("keep.txt"), "mine").unwrap();
    let output = demo(&scratch.path, &scratch.home(), false);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not empty"));
    assert_eq!(std::fs::read_to_string(scratch.path.join("keep.txt")).unwrap(), "mine");
}

#[test]
fn the_demo_reports_its_drafts_as_json() {
    let scratch = TestRepo::not_a_repo();
    let dir = scratch.root.join("demo");
    let output = demo(&dir, &scratch.home(), true);
    assert!(output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["dir", "good", "base_changed", "expired"] {
        assert!(report[key].is_string(), "{report}");
    }
}
