//! Errors (SPEC §4): stable codes and exit statuses, `error[CODE]:` with a
//! hint for people, one JSON document with `--json`, and no ref moved by a
//! failed command. `Invocation::refused` checks all of that for each case.

use crate::support::{GOOD_TARGET, TestRepo, Who};

/// Two drafts created back to back: their ids share the leading timestamp digits.
fn two_drafts() -> (TestRepo, String, String) {
    let repo = TestRepo::new();
    let first = repo.create_endpoint("billing");
    let second = repo.create_endpoint("refunds");
    assert_eq!(first[..4], second[..4], "ids made a moment apart share their first 4 hex digits");
    (repo, first, second)
}

#[test]
fn show_of_an_unknown_id_is_not_found() {
    let (repo, _, _) = two_drafts();

    let refusal = repo.run(Who::Nobody, &["show", "ffffffff"]).refused("NOT_FOUND");

    assert!(refusal.message.contains("given prefix"), "{}", refusal.message);
    refusal.assert_never_shows("ffffffff");
    assert!(refusal.checks.is_empty());
}

#[test]
fn discard_of_an_unknown_id_is_not_found() {
    let (repo, _, _) = two_drafts();

    repo.run(Who::Human, &["discard", "ffffffff-ffff"]).refused("NOT_FOUND");
}

#[test]
fn validate_of_an_unknown_id_is_not_found() {
    let (repo, first, _) = two_drafts();

    repo.run(Who::Nobody, &["validate", &first, "ffffffff"]).refused("NOT_FOUND");
}

#[test]
fn an_id_that_is_not_hex_or_too_short_is_not_found() {
    let repo = TestRepo::new();
    repo.create_endpoint("billing");

    for bad in ["01", "not-an-id", "../../etc/passwd"] {
        repo.run(Who::Nobody, &["show", bad]).refused("NOT_FOUND");
    }
}

#[test]
fn a_prefix_shared_by_two_drafts_is_ambiguous_for_show() {
    let (repo, first, second) = two_drafts();

    let refusal = repo.run(Who::Nobody, &["show", &first[..4]]).refused("AMBIGUOUS_ID");

    assert!(refusal.message.contains(&first) && refusal.message.contains(&second), "{}", refusal.message);
}

#[test]
fn a_prefix_shared_by_two_drafts_is_ambiguous_for_discard_and_discards_neither() {
    let (repo, first, second) = two_drafts();

    repo.run(Who::Human, &["discard", &first[..4]]).refused("AMBIGUOUS_ID");

    assert_eq!(repo.show_json(&first)["status"], "pending");
    assert_eq!(repo.show_json(&second)["status"], "pending");
}

#[test]
fn a_prefix_shared_by_two_drafts_is_ambiguous_for_validate() {
    let (repo, first, _) = two_drafts();

    repo.run(Who::Nobody, &["validate", &first[..4]]).refused("AMBIGUOUS_ID");
}

#[test]
fn a_refused_create_reports_every_creation_check_in_json() {
    let repo = TestRepo::new();

    let refusal = repo
        .run(
            Who::Agent,
            &[
                "create",
                "endpoint",
                "--name",
                "billing",
                "--provider",
                "myspace",
                "--target-url",
                "http://hooks.example.com/x",
            ],
        )
        .refusal();

    let codes: Vec<&str> = refusal.checks.iter().map(|c| c["code"].as_str().unwrap()).collect();
    for code in ["SPEC_MISSING", "UNKNOWN_PROVIDER", "INVALID_TARGET_URL", "RAW_SECRET"] {
        assert!(codes.contains(&code), "every check is reported: {codes:?}");
    }
    for check in &refusal.checks {
        assert!(check["ok"].is_boolean() && check["message"].is_string(), "{check}");
    }
    let failed = refusal.failed_checks();
    assert!(failed.contains(&"UNKNOWN_PROVIDER".to_string()) && failed.contains(&"INVALID_TARGET_URL".to_string()));
    assert!(failed.contains(&refusal.code), "the code is one of the failed checks");
    assert!(refusal.stderr.contains("UNKNOWN_PROVIDER") && refusal.stderr.contains("INVALID_TARGET_URL"));
}

#[test]
fn a_refused_create_in_a_repo_never_set_up_is_not_initialized() {
    let repo = TestRepo::with_history();

    repo.run(
        Who::Human,
        &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET],
    )
    .refused("NOT_INITIALIZED");
}

#[test]
fn an_identity_that_is_not_a_plain_id_is_refused() {
    let repo = TestRepo::new();

    repo.run(
        Who::Nobody,
        &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET],
    )
    .env("ZEN_USER_ID", "alice smith\nCreated-By: user:root")
    .refused("USER_ID_REQUIRED");
}

#[test]
fn usage_errors_exit_2_and_move_no_ref() {
    let repo = TestRepo::new();
    let refs = repo.refs();

    repo.draft(&["create", "endpoint", "--name"]).code(2);
    repo.draft(&["list", "--status", "sideways"]).code(2);
    repo.draft(&["frobnicate"]).code(2);

    assert_eq!(repo.refs(), refs);
}
