//! Proposal files written by agents are hostile input: `draft create --file`
//! refuses YAML bombs, deep nesting, duplicate keys, unknown fields, files over
//! the 64 KiB limit and non-UTF-8, quickly, without echoing values and without
//! writing anything. Fixtures: `fixtures/proposals/{valid,invalid}/`.

use crate::support::{TestRepo, Who, fixture, fixture_bytes};
use std::time::{Duration, Instant};

/// Creates from `fixtures/proposals/<name>`, by path and through stdin.
fn create_from_fixture(repo: &TestRepo, name: &str) -> serde_json::Value {
    let path = fixture(&format!("proposals/{name}"));
    repo.json(Who::Agent, &["create", "--file", path.to_str().unwrap()])
}

#[test]
fn every_valid_proposal_fixture_creates_a_draft() {
    let repo = TestRepo::new();

    for name in ["valid/stripe-payments.yaml", "valid/minimal-github.yaml"] {
        let created = create_from_fixture(&repo, name);
        assert!(created["id"].is_string(), "{name}: {created}");
    }

    assert_eq!(repo.list_json(&[]).len(), 2);
}

/// Refuses `bytes` as a proposal, by path and on stdin, with `code`, within a
/// few seconds; `field` is named; `value` is neither echoed nor stored.
fn assert_proposal_refused(bytes: &[u8], code: &str, field: Option<&str>, value: &str) {
    let repo = TestRepo::new();
    let path = repo.root.join("proposal.yaml");
    std::fs::write(&path, bytes).unwrap();

    let started = Instant::now();
    let from_file = repo.run(Who::Agent, &["create", "--file", path.to_str().unwrap()]).refused(code);
    let from_stdin = repo.run(Who::Agent, &["create", "--file", "-"]).stdin(bytes).refused(code);
    assert!(started.elapsed() < Duration::from_secs(20), "hostile input is refused quickly");

    for refusal in [&from_file, &from_stdin] {
        if let Some(field) = field {
            assert!(refusal.message.contains(field), "the message names {field}: {}", refusal.message);
        }
        refusal.assert_never_shows(value);
    }
    repo.assert_nowhere_in_repo(value);
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

#[test]
fn create_from_a_yaml_bomb_of_nested_aliases_is_refused() {
    assert_proposal_refused(
        &fixture_bytes("proposals/invalid/yaml-bomb-nested-aliases.yaml"),
        "INVALID_DRAFT",
        None,
        "hooks.example.com/laughs",
    );
}

#[test]
fn create_from_a_proposal_nested_200_deep_is_refused() {
    assert_proposal_refused(
        &fixture_bytes("proposals/invalid/nesting-200-deep.yaml"),
        "INVALID_DRAFT",
        None,
        "hooks.example.com/deep",
    );
}

#[test]
fn create_from_a_proposal_with_duplicate_keys_is_refused() {
    assert_proposal_refused(
        &fixture_bytes("proposals/invalid/duplicate-keys.yaml"),
        "INVALID_DRAFT",
        Some("target_url"),
        "hooks.example.com/applied",
    );
}

#[test]
fn create_from_a_proposal_that_sets_fields_only_the_tool_may_set_is_refused() {
    assert_proposal_refused(
        &fixture_bytes("proposals/invalid/unknown-top-level-field.yaml"),
        "INVALID_DRAFT",
        Some("status"),
        "hooks.example.com/self-approved",
    );
}

#[test]
fn create_from_a_proposal_over_64_kib_is_refused() {
    let mut bytes = fixture_bytes("proposals/valid/minimal-github.yaml");
    bytes.extend(format!("# {}\n", "padding ".repeat(8 * 1024)).into_bytes());
    assert!(bytes.len() > 64 * 1024);

    assert_proposal_refused(&bytes, "INVALID_DRAFT", None, "ci.example.com/hooks/github");
}

#[test]
fn create_from_a_proposal_far_over_the_limit_on_stdin_is_refused_without_reading_it_all() {
    let repo = TestRepo::new();
    let mut bytes = b"type: endpoint\nproposed_spec:\n  description: ".to_vec();
    bytes.extend(std::iter::repeat_n(b'a', 16 * 1024 * 1024));

    repo.run(Who::Agent, &["create", "--file", "-"]).stdin(&bytes).refused("INVALID_DRAFT");
}

#[test]
fn create_from_a_proposal_that_is_not_utf8_is_refused() {
    assert_proposal_refused(
        &fixture_bytes("proposals/invalid/non-utf8.yaml"),
        "INVALID_DRAFT",
        Some("UTF-8"),
        "hooks.example.com/latin1",
    );
}

#[test]
fn create_from_an_empty_proposal_is_refused() {
    assert_proposal_refused(b"", "INVALID_DRAFT", None, "no-such-value");
}

#[test]
fn create_from_a_proposal_that_is_not_a_mapping_is_refused() {
    assert_proposal_refused(b"- type: endpoint\n", "INVALID_DRAFT", None, "no-such-value");
}
