//! `draft list`: a table for people, JSON for CI, the status and type filters,
//! short ids that are unique, and malformed files listed as `invalid` without
//! failing the listing.

use crate::support::{EXPIRED_PATH, PLANTED_PATH, ROUTE_PATH, TestRepo, Who, fixture_bytes};
use serde_json::Value;

fn ids(drafts: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = drafts.iter().filter_map(|d| d["id"].as_str().map(str::to_string)).collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn stdout_of(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.success().get_output().stdout.clone()).expect("utf-8")
}

#[test]
fn list_prints_a_table_with_id_type_status_creator_created_expires_name_and_change() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let stdout = stdout_of(repo.anonymous_draft(&["list"]));

    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().expect("a header").split_whitespace().collect();
    assert_eq!(header[..8], ["ID", "TYPE", "STATUS", "CREATOR", "CREATED", "EXPIRES", "NAME", "CHANGE"]);
    let row = lines.next().expect("one row");
    let short = row.split_whitespace().next().unwrap();
    assert!(id.starts_with(short) && short.len() < id.len(), "{short} is a short form of {id}");
    for cell in ["endpoint", "pending", "user:alice", "billing", "new"] {
        assert!(row.split_whitespace().any(|c| c == cell), "row lacks {cell:?}: {row}");
    }
    assert_eq!(lines.next(), None);
}

#[test]
fn list_json_gives_every_field_of_the_draft_file_plus_change_and_evidence() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let drafts = repo.list_json(&[]);

    assert_eq!(drafts.len(), 1);
    let draft = &drafts[0];
    for field in [
        "version",
        "id",
        "type",
        "status",
        "tenant",
        "created_by",
        "created_at",
        "expires_at",
        "proposed_spec",
        "base",
        "change",
        "evidence",
    ] {
        assert!(draft.get(field).is_some(), "no {field} in {draft:#}");
    }
    assert_eq!(draft["id"], id.as_str());
    assert_eq!(draft["status"], "pending");
    assert_eq!(draft["change"], "new");
    assert_eq!(draft["evidence"], "verified", "create signed a draft_created record: {draft:#}");
    assert_eq!(draft["proposed_spec"]["name"], "billing");
}

#[test]
fn list_json_says_evidence_is_missing_for_a_draft_planted_without_a_record() {
    let repo = TestRepo::new();
    repo.plant_draft_file(EXPIRED_PATH, &fixture_bytes("drafts/valid/expired-endpoint.yaml"));

    let drafts = repo.list_json(&[]);

    assert_eq!(drafts[0]["evidence"], "missing", "{:#}", drafts[0]);
}

#[test]
fn list_with_no_drafts_says_so() {
    let repo = TestRepo::new();

    let stdout = stdout_of(repo.anonymous_draft(&["list"]));

    assert!(stdout.starts_with("No drafts to show."), "{stdout}");
    assert_eq!(repo.list_json(&[]), Vec::<Value>::new());
}

/// One pending, one expired (planted), one discarded draft.
fn repo_with_every_status() -> (TestRepo, String, String) {
    let repo = TestRepo::new();
    repo.plant_draft_file(EXPIRED_PATH, &fixture_bytes("drafts/valid/expired-endpoint.yaml"));
    let pending = repo.create_endpoint("billing");
    let discarded = repo.create_endpoint("refunds");
    repo.draft(&["discard", &discarded]).success();
    (repo, pending, discarded)
}

#[test]
fn list_shows_pending_and_expired_drafts_but_not_discarded_ones_by_default() {
    let (repo, pending, _) = repo_with_every_status();

    let drafts = repo.list_json(&[]);

    assert_eq!(ids(&drafts), sorted(vec![pending.clone(), crate::support::EXPIRED_ID.to_string()]));
    let status_of = |id: &str| drafts.iter().find(|d| d["id"] == id).unwrap()["status"].clone();
    assert_eq!(status_of(&pending), "pending");
    assert_eq!(status_of(crate::support::EXPIRED_ID), "expired", "expired is derived from expires_at");
}

#[test]
fn list_all_includes_discarded_drafts() {
    let (repo, pending, discarded) = repo_with_every_status();

    let drafts = repo.list_json(&["--all"]);

    assert_eq!(ids(&drafts), sorted(vec![pending, discarded.clone(), crate::support::EXPIRED_ID.to_string()]));
    assert_eq!(drafts.iter().find(|d| d["id"] == discarded.as_str()).unwrap()["status"], "discarded");
}

#[test]
fn list_status_filter_keeps_only_that_status() {
    let (repo, pending, discarded) = repo_with_every_status();

    assert_eq!(ids(&repo.list_json(&["--status", "pending"])), [pending]);
    assert_eq!(ids(&repo.list_json(&["--status", "expired"])), [crate::support::EXPIRED_ID]);
    assert_eq!(ids(&repo.list_json(&["--status", "discarded"])), [discarded]);
    assert_eq!(repo.list_json(&["--status", "applied"]), Vec::<Value>::new());
}

#[test]
fn list_type_filter_keeps_only_that_type() {
    let repo = TestRepo::new();
    repo.plant_draft_file(ROUTE_PATH, &fixture_bytes("drafts/valid/pending-route.yaml"));
    let endpoint = repo.create_endpoint("billing");

    assert_eq!(ids(&repo.list_json(&["--type", "route"])), [crate::support::ROUTE_ID]);
    assert_eq!(ids(&repo.list_json(&["--type", "endpoint"])), [endpoint]);
    assert_eq!(repo.list_json(&["--type", "policy"]), Vec::<Value>::new());
}

#[test]
fn list_short_ids_are_unique_and_work_as_prefixes_everywhere() {
    let repo = TestRepo::new();
    let created: Vec<String> = ["alpha", "beta", "gamma"].into_iter().map(|n| repo.create_endpoint(n)).collect();

    let drafts = repo.list_json(&[]);

    let shorts: Vec<String> = drafts.iter().map(|d| d["short_id"].as_str().unwrap().to_string()).collect();
    let mut unique = shorts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "short ids are unique: {shorts:?}");
    for (draft, short) in drafts.iter().zip(&shorts) {
        let id = draft["id"].as_str().unwrap();
        assert!(id.starts_with(short.as_str()), "{short} is a prefix of {id}");
        assert!(short.replace('-', "").len() >= 8, "{short} is long enough to read as an id");
        assert_eq!(repo.show_json(short)["id"], id, "show accepts the short id {short}");
        repo.json(Who::Nobody, &["validate", short]);
    }
    let table = stdout_of(repo.anonymous_draft(&["list"]));
    let column: Vec<&str> = table.lines().skip(1).map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(sorted(column.iter().map(|s| s.to_string()).collect()), sorted(shorts));
    assert_eq!(ids(&drafts), sorted(created));
}

#[test]
fn any_unique_prefix_is_accepted_with_or_without_dashes_and_in_capitals() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let hex = id.replace('-', "");

    for prefix in [id[..13].to_string(), hex[..10].to_string(), id[..18].to_uppercase(), id.clone()] {
        assert_eq!(repo.show_json(&prefix)["id"], id.as_str(), "prefix {prefix}");
    }
}

/// A malformed file on the drafts branch is listed as invalid with its error;
/// the good draft next to it still lists and the command succeeds.
fn assert_listed_as_invalid(bad: &[u8], error_mentions: &str) {
    let repo = TestRepo::new();
    let good = repo.create_endpoint("billing");
    repo.plant_draft_file(PLANTED_PATH, bad);

    let drafts = repo.list_json(&[]);

    assert_eq!(drafts.len(), 2, "{drafts:#?}");
    let good_entry = drafts.iter().find(|d| d["id"] == good.as_str()).expect("the good draft still lists");
    assert_eq!(good_entry["status"], "pending");
    let bad_entry = drafts.iter().find(|d| d["status"] == "invalid").expect("the bad file is listed");
    assert_eq!(bad_entry["path"], PLANTED_PATH);
    assert_eq!(bad_entry["error"]["code"], "INVALID_DRAFT");
    let message = bad_entry["error"]["message"].as_str().unwrap();
    assert!(message.contains(error_mentions), "{message:?} should mention {error_mentions:?}");

    let table = stdout_of(repo.anonymous_draft(&["list"]));
    assert!(table.lines().any(|l| l.split_whitespace().nth(2) == Some("invalid")), "{table}");
    assert!(table.lines().any(|l| l.contains("billing") && l.contains("pending")), "{table}");
    let only_invalid = repo.list_json(&["--status", "invalid"]);
    assert_eq!(only_invalid.len(), 1, "{only_invalid:#?}");
    assert_eq!(only_invalid[0]["path"], PLANTED_PATH);
}

#[test]
fn list_shows_a_file_with_bad_yaml_as_invalid() {
    assert_listed_as_invalid(&fixture_bytes("drafts/invalid/bad-yaml.yaml"), PLANTED_PATH);
}

#[test]
fn list_shows_a_file_with_an_unknown_field_as_invalid_naming_the_field() {
    assert_listed_as_invalid(&fixture_bytes("drafts/invalid/unknown-field.yaml"), "approved_by");
}

#[test]
fn list_shows_a_file_with_duplicate_keys_as_invalid() {
    assert_listed_as_invalid(&fixture_bytes("drafts/invalid/duplicate-keys.yaml"), "duplicate");
}

#[test]
fn list_shows_a_file_over_64_kib_as_invalid() {
    let mut huge = fixture_bytes("drafts/invalid/unknown-field.yaml");
    huge.extend(format!("# {}\n", "x".repeat(70 * 1024)).into_bytes());
    assert_listed_as_invalid(&huge, "limit");
}

#[test]
fn list_shows_a_file_that_is_not_utf8_as_invalid() {
    assert_listed_as_invalid(&fixture_bytes("drafts/invalid/non-utf8.yaml"), "UTF-8");
}

#[test]
fn list_shows_a_file_at_a_path_that_does_not_match_its_id_as_invalid() {
    assert_listed_as_invalid(&fixture_bytes("drafts/invalid/id-does-not-match-path.yaml"), EXPIRED_PATH);
}

#[test]
fn list_filters_leave_invalid_files_out_when_a_type_is_asked_for() {
    let repo = TestRepo::new();
    let good = repo.create_endpoint("billing");
    repo.plant_draft_file(PLANTED_PATH, &fixture_bytes("drafts/invalid/bad-yaml.yaml"));

    assert_eq!(ids(&repo.list_json(&["--type", "endpoint"])), [good]);
    assert_eq!(repo.list_json(&["--type", "endpoint"]).len(), 1);
}
