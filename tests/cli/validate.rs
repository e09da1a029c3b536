//! `draft validate`: the draft checks apply runs, for CI. Exit 0 when every
//! draft passes, 4 when any fails; specific ids; `--all`.

use crate::support::{PLANTED_PATH, TestRepo, Who, failed_codes, fixture_bytes};
use serde_json::Value;
use std::time::Duration;

/// `draft --json validate args`: exit status and the parsed report.
fn validate(repo: &TestRepo, args: &[&str]) -> (i32, Value) {
    validate_with(repo, args, &[])
}

fn validate_with(repo: &TestRepo, args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut full = vec!["validate"];
    full.extend_from_slice(args);
    let mut invocation = repo.run(Who::Nobody, &full);
    for (key, value) in env {
        invocation = invocation.env(key, value);
    }
    let refs = repo.refs();
    let (code, report) = invocation.json_with_status();
    assert_eq!(invocation.assert().get_output().status.code(), Some(code), "people get the same exit status");
    assert_eq!(repo.refs(), refs, "validate moves no ref");
    (code, report)
}

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().expect("a results array")
}

/// The check `code` of the only result.
fn check<'a>(report: &'a Value, code: &str) -> &'a Value {
    let results = results(report);
    assert_eq!(results.len(), 1, "{report:#}");
    results[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("no {code} check: {report:#}"))
}

#[test]
fn validate_exits_zero_when_every_draft_passes() {
    let repo = TestRepo::new();
    repo.create_endpoint("billing");
    repo.create_endpoint("refunds");

    let (code, report) = validate(&repo, &[]);

    assert_eq!(code, 0, "{report:#}");
    assert_eq!(results(&report).len(), 2);
    assert!(results(&report).iter().all(|r| r["ok"] == true));
    let text = repo.anonymous_draft(&["validate"]).success();
    let stdout = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
    assert!(stdout.contains("2 of 2 drafts passed"), "{stdout}");
}

#[test]
fn validate_json_lists_each_draft_with_its_checks() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let (_, report) = validate(&repo, &[&id]);

    let result = &results(&report)[0];
    assert_eq!(result["id"], id.as_str());
    assert_eq!(result["ok"], true);
    let checks = result["checks"].as_array().unwrap();
    for check in checks {
        assert!(check["code"].is_string() && check["ok"].is_boolean() && check["message"].is_string(), "{check}");
    }
    let codes: Vec<&str> = checks.iter().map(|c| c["code"].as_str().unwrap()).collect();
    for code in [
        "NOT_PENDING",
        "EXPIRED",
        "TENANT_MISMATCH",
        "TYPE_NOT_APPLICABLE",
        "SPEC_MISSING",
        "UNKNOWN_PROVIDER",
        "INVALID_TARGET_URL",
        "RAW_SECRET",
        "EVIDENCE_MISMATCH",
        "BASE_CHANGED",
    ] {
        assert!(codes.contains(&code), "validate runs {code}: {codes:?}");
    }
    for code in ["MCP_CANNOT_APPLY", "USER_ID_REQUIRED", "NOT_AN_APPLIER"] {
        assert!(!codes.contains(&code), "validate runs no identity check: {codes:?}");
    }
}

#[test]
fn validate_with_no_drafts_passes() {
    let repo = TestRepo::new();

    let (code, report) = validate(&repo, &[]);

    assert_eq!(code, 0);
    assert_eq!(results(&report).len(), 0);
}

#[test]
fn validate_fails_with_base_changed_when_main_gains_the_resource_after_the_draft() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    repo.commit_file_on_branch("main", "endpoints/billing.yaml", b"name: billing\nprovider: github\n");

    let (code, report) = validate(&repo, &[&id]);

    assert_eq!(code, 4);
    assert_eq!(results(&report)[0]["ok"], false);
    assert_eq!(check(&report, "BASE_CHANGED")["ok"], false);
    assert_eq!(check(&report, "NOT_PENDING")["ok"], true, "only what changed fails");
}

#[test]
fn validate_fails_with_base_changed_when_main_edits_the_resource_under_the_draft() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch("main", "endpoints/billing.yaml", b"name: billing\nprovider: stripe\n");
    let id = repo.create_endpoint("billing");
    repo.commit_file_on_branch("main", "endpoints/billing.yaml", b"name: billing\nprovider: github\n");

    let (code, report) = validate(&repo, &[]);

    assert_eq!(code, 4);
    assert_eq!(results(&report)[0]["id"], id.as_str());
    let base = check(&report, "BASE_CHANGED");
    assert_eq!(base["ok"], false);
    assert!(base["message"].as_str().unwrap().contains("endpoints/billing.yaml"), "{base}");
}

#[test]
fn validate_fails_a_draft_whose_ttl_has_run_out() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "billing", &["--ttl", "1s"]);
    std::thread::sleep(Duration::from_secs(2));

    let (code, report) = validate(&repo, &[&id]);

    assert_eq!(code, 4);
    assert_eq!(check(&report, "EXPIRED")["ok"], false);
    assert_eq!(repo.list_json(&[])[0]["status"], "expired");
    let (code, _) = validate(&repo, &["--all"]);
    assert_eq!(code, 4);
}

#[test]
fn validate_fails_with_tenant_mismatch_for_another_tenant() {
    let repo = TestRepo::new();
    repo.create_endpoint("billing");

    let (code, report) = validate_with(&repo, &[], &[("ZEN_TENANT", "other")]);

    assert_eq!(code, 4);
    assert_eq!(check(&report, "TENANT_MISMATCH")["ok"], false);
    let (code, _) = validate_with(&repo, &[], &[("ZEN_TENANT", "acme")]);
    assert_eq!(code, 0, "the repo's own tenant passes");
}

#[test]
fn validate_with_ids_checks_only_those_drafts() {
    let repo = TestRepo::new();
    let good = repo.create_endpoint("billing");
    let stale = repo.create_endpoint("refunds");
    repo.commit_file_on_branch("main", "endpoints/refunds.yaml", b"name: refunds\n");

    let (code, report) = validate(&repo, &[&good]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(results(&report).len(), 1);

    let (code, report) = validate(&repo, &[&stale]);
    assert_eq!(code, 4);
    assert_eq!(results(&report)[0]["id"], stale.as_str());

    let (code, report) = validate(&repo, &[&good, &stale]);
    assert_eq!(code, 4);
    let ok: Vec<(String, bool)> =
        results(&report).iter().map(|r| (r["id"].as_str().unwrap().to_string(), r["ok"] == true)).collect();
    assert_eq!(ok, [(good, true), (stale, false)]);
}

#[test]
fn validate_all_includes_drafts_that_are_no_longer_pending() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    repo.draft(&["discard", &id]).success();

    let (code, report) = validate(&repo, &[]);
    assert_eq!(code, 0, "a discarded draft is not open: {report:#}");
    assert_eq!(results(&report).len(), 0);

    let (code, report) = validate(&repo, &["--all"]);
    assert_eq!(code, 4);
    assert_eq!(check(&report, "NOT_PENDING")["ok"], false);
}

#[test]
fn validate_fails_when_a_file_on_the_branch_cannot_be_read() {
    let repo = TestRepo::new();
    repo.create_endpoint("billing");
    repo.plant_draft_file(PLANTED_PATH, &fixture_bytes("drafts/invalid/bad-yaml.yaml"));

    let (code, report) = validate(&repo, &[]);

    assert_eq!(code, 4);
    let bad = results(&report).iter().find(|r| r["id"] == PLANTED_PATH).expect("the unreadable file is reported");
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["checks"][0]["code"], "INVALID_DRAFT");
    assert_eq!(results(&report).iter().filter(|r| r["ok"] == true).count(), 1, "the good draft still passes");
}

#[test]
fn validate_prints_each_failed_check_for_people() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let out = repo.run(Who::Nobody, &["validate", &id]).env("ZEN_TENANT", "other").assert().code(4);

    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains(&format!("{id} FAILED")), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("FAIL") && l.contains("TENANT_MISMATCH")), "{stdout}");
    assert!(stdout.contains("0 of 1 drafts passed"), "{stdout}");
}

#[test]
fn pending_drafts_for_the_same_resource_are_flagged_and_applying_one_makes_the_other_stale() {
    let repo = TestRepo::new();
    let first = repo.create_endpoint("shared");
    let second = repo.create_endpoint_as(Who::Agent, "shared", &["--description", "another take"]);
    repo.create_endpoint("alone");

    let listed = String::from_utf8(repo.draft(&["list"]).success().get_output().stdout.clone()).unwrap();
    assert!(listed.contains("conflict: 2 pending drafts propose endpoints/shared.yaml"), "{listed}");
    let json = repo.json(Who::Nobody, &["list"]);
    let conflicts = json["conflicts"].as_array().expect("a conflicts array");
    assert_eq!(conflicts.len(), 1, "{json:#}");
    assert_eq!(conflicts[0]["resource"], "endpoints/shared.yaml");
    let mut ids: Vec<&str> = conflicts[0]["drafts"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut expected = [first.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);

    let validated = repo.json(Who::Nobody, &["validate"]);
    let of = |id: &str| validated["results"].as_array().unwrap().iter().find(|r| r["id"] == id).cloned().unwrap();
    assert_eq!(of(&first)["conflicts"], serde_json::json!([second.clone()]));
    assert_eq!(repo.json(Who::Nobody, &["show", &first])["conflicts"], serde_json::json!([second.clone()]));
    let shown = String::from_utf8(repo.draft(&["show", &first]).success().get_output().stdout.clone()).unwrap();
    assert!(
        shown.contains(&format!("conflict: 1 other pending draft also proposes endpoints/shared.yaml: {second}")),
        "{shown}"
    );

    // A draft proposed after the last lookup is found too.
    let third = repo.create_endpoint_as(Who::Agent, "shared", &["--description", "a third take"]);
    let mut rivals = vec![second.clone(), third.clone()];
    rivals.sort();
    assert_eq!(repo.json(Who::Nobody, &["show", &first])["conflicts"], serde_json::json!(rivals));
    repo.draft(&["discard", &third, "--reason", "superseded"]).success();

    let applied = repo.json(Who::Human, &["apply", &first, "--yes"]);
    assert_eq!(applied["now_base_changed"], serde_json::json!([second.clone()]), "{applied:#}");
    assert_eq!(repo.json(Who::Nobody, &["show", &second])["conflicts"], serde_json::json!([]));
    let (code, after) = repo.run(Who::Nobody, &["validate", &second]).json_with_status();
    assert_eq!(code, 4);
    assert_eq!(failed_codes(&after["results"][0]["checks"]), ["BASE_CHANGED"]);
}

#[test]
fn applying_one_of_two_rivals_says_so_in_its_report() {
    let repo = TestRepo::new();
    let first = repo.create_endpoint("shared");
    let second = repo.create_endpoint_as(Who::Agent, "shared", &["--description", "another take"]);

    let out = repo.draft(&["apply", &first, "--yes"]).success();

    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout
            .contains(&format!("note: 1 other pending draft for endpoints/shared.yaml now is BASE_CHANGED: {second}")),
        "{stdout}"
    );
}

/// The index of rivals under `.git/zen-draft/` only names candidates: a
/// planted one cannot make a draft that proposes something else, or one no
/// longer pending, a conflict.
#[test]
fn a_planted_rivals_index_cannot_invent_a_conflict() {
    let repo = TestRepo::new();
    let first = repo.create_endpoint("shared");
    let other = repo.create_endpoint("elsewhere");
    let gone = repo.create_endpoint("shared");
    repo.draft(&["discard", &gone, "--reason", "no"]).success();
    let path_of = |id: &str| repo.json(Who::Nobody, &["show", id])["path"].as_str().unwrap().to_string();
    let tip = repo.git(&["rev-parse", "drafts"]);
    let index = format!(
        "zen-draft rivals 1 {}\nendpoints/shared.yaml\t{}\nendpoints/shared.yaml\t{}\nendpoints/shared.yaml\tdrafts/nope.yaml\n",
        tip.trim(),
        path_of(&other),
        path_of(&gone),
    );
    // In every shard, so whichever holds the resource is planted.
    let shards = repo.path.join(".git/zen-draft/rivals-v1");
    let plant = |bytes: &[u8]| {
        for byte in 0..=255u8 {
            std::fs::write(shards.join(format!("{byte:02x}")), bytes).unwrap();
        }
    };
    plant(index.as_bytes());

    assert_eq!(repo.json(Who::Nobody, &["show", &first])["conflicts"], serde_json::json!([]));
    let untouched = (0..=255u8).all(|b| std::fs::read_to_string(shards.join(format!("{b:02x}"))).unwrap() == index);
    assert!(untouched, "the planted index was the one read");

    // A torn or foreign file is no index at all: rebuilt from the branch.
    plant(b"\xff\x00garbage");
    let rival = repo.create_endpoint("shared");
    assert_eq!(repo.json(Who::Nobody, &["show", &first])["conflicts"], serde_json::json!([rival]));
}

/// What decides reads the refs at one moment too: a discard landing while
/// validate reads is judged whole or not at all. Before, validate had read
/// the drafts branch before the discard and its log after, and failed the
/// pending draft for a record of a discard its file did not show.
#[test]
fn a_discard_landing_while_validate_reads_is_no_failure() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let report = crate::support::read_while_a_discard_lands(&repo, &["validate"], "validate:after-drafts", &id);
    assert_eq!(results(&report).len(), 1, "{report:#}");
    assert_eq!(results(&report)[0]["ok"], true, "{report:#}");
}
