//! Where drafts live: folders named by the id's time digits, and the
//! day-folder layout of zen-draft 0.1, which keeps working unchanged. A repo
//! made by 0.1 lists, shows, applies, discards, cleans up and verifies; new
//! drafts land beside the old ones in the new layout; a lookup by any prefix
//! finds exactly what a scan of every id would.

use crate::support::day_folder_fixture::{APPLIED, CLOCK, DISCARDED, EXPIRED, PENDING};
use crate::support::*;

fn at_clock(repo: &TestRepo, who: Who, args: &[&str]) -> serde_json::Value {
    repo.run(who, args).env("ZEN_TEST_CLOCK", CLOCK).json()
}

#[test]
fn a_repo_made_by_zen_draft_0_1_lists_shows_and_verifies_as_it_did() {
    let repo = TestRepo::day_folder_layout();
    let listed = at_clock(&repo, Who::Nobody, &["list", "--all"]);
    let drafts = listed["drafts"].as_array().unwrap();
    let state = |id: &str| {
        let d = drafts.iter().find(|d| d["id"] == id).unwrap_or_else(|| panic!("{id} is listed: {drafts:#?}"));
        assert!(d["path"].as_str().unwrap().starts_with("drafts/2026/12/01/"), "{d:#?}");
        assert_eq!(d["evidence"], "verified", "{d:#?}");
        d["status"].as_str().unwrap().to_string()
    };
    assert_eq!(state(APPLIED), "applied");
    assert_eq!(state(DISCARDED), "discarded");
    assert_eq!(state(PENDING), "pending");
    assert_eq!(state(EXPIRED), "expired");

    let shown = repo.run(Who::Nobody, &["show", &PENDING[..13]]).env("ZEN_TEST_CLOCK", CLOCK).json();
    assert_eq!(shown["id"], PENDING);
    assert_eq!(shown["evidence"], "verified");
    let verified = repo.json(Who::Nobody, &["evidence", "verify"]);
    assert_eq!(verified["size"], 6);
    let validated = at_clock(&repo, Who::Nobody, &["validate", PENDING]);
    assert_eq!(validated["results"][0]["ok"], true, "{validated:#}");
}

#[test]
fn a_day_folder_draft_is_applied_in_place_with_its_records_beside_it() {
    let repo = TestRepo::day_folder_layout();
    let old_path = format!("drafts/2026/12/01/{PENDING}.yaml");

    let applied = at_clock(&repo, Who::Human, &["apply", PENDING]);

    assert_eq!(applied["resource"], "endpoints/old-pending.yaml");
    assert_eq!(repo.file_on("drafts", &old_path).lines().find(|l| l.starts_with("status:")), Some("status: applied"));
    let index = repo.git(&["ls-tree", "-r", "--name-only", "refs/notes/zen-evidence"]);
    assert!(index.contains(&format!("drafts/2026/12/01/{PENDING}/draft_applied")), "{index}");
    repo.json(Who::Nobody, &["evidence", "verify"]);
    assert_eq!(repo.status(), "", "the work tree followed main");
}

#[test]
fn a_day_folder_draft_is_discarded_in_place() {
    let repo = TestRepo::day_folder_layout();
    let old_path = format!("drafts/2026/12/01/{PENDING}.yaml");

    at_clock(&repo, Who::Agent, &["discard", &PENDING[..14], "--reason", "superseded"]);

    assert!(repo.file_on("drafts", &old_path).contains("status: discarded"));
    assert!(!repo.files_on("drafts").iter().any(|p| p.ends_with(&format!("{PENDING}.yaml")) && *p != old_path));
    repo.json(Who::Nobody, &["evidence", "verify"]);
}

#[test]
fn gc_removes_an_expired_day_folder_draft_and_the_log_still_verifies() {
    let repo = TestRepo::day_folder_layout();

    let report = at_clock(&repo, Who::Agent, &["gc"]);

    assert_eq!(report["removed"].as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(report["removed"][0]["id"], EXPIRED);
    assert!(!repo.files_on("drafts").iter().any(|p| p.contains(EXPIRED)));
    repo.json(Who::Nobody, &["evidence", "verify"]);
}

#[test]
fn new_drafts_land_in_the_new_layout_beside_the_old_and_everything_verifies() {
    let repo = TestRepo::day_folder_layout();
    let created = at_clock(
        &repo,
        Who::Agent,
        &["create", "endpoint", "--name", "new-one", "--provider", "stripe", "--target-url", GOOD_TARGET],
    );
    let id = created["id"].as_str().unwrap();
    let hex = id.replace('-', "");
    assert_eq!(
        created["path"],
        format!("drafts/{}/{}/{}/{}/{id}.yaml", &hex[..4], &hex[4..6], &hex[6..8], &hex[8..10])
    );
    let index = repo.git(&["ls-tree", "-r", "--name-only", "refs/notes/zen-evidence"]);
    let beside = format!("{}/draft_created", created["path"].as_str().unwrap().trim_end_matches(".yaml"));
    assert!(index.lines().any(|l| l == beside), "the record is indexed beside the file:\n{index}");

    let listed = at_clock(&repo, Who::Nobody, &["list", "--all"]);
    let drafts = listed["drafts"].as_array().unwrap();
    assert_eq!(drafts.len(), 5);
    assert!(drafts.iter().all(|d| d["evidence"] == "verified"), "{drafts:#?}");
    at_clock(&repo, Who::Human, &["apply", id]);
    at_clock(&repo, Who::Human, &["apply", PENDING]);
    let verified = repo.json(Who::Nobody, &["evidence", "verify"]);
    assert_eq!(verified["size"], 9);
}

/// Every prefix length, in both layouts: a lookup finds the draft when the
/// prefix is unique, says `AMBIGUOUS_ID` when another id shares it, and
/// never finds another draft or nothing.
#[test]
fn a_lookup_by_any_prefix_length_answers_what_a_scan_of_every_id_would() {
    let repo = TestRepo::day_folder_layout();
    let mut ids: Vec<String> = [APPLIED, DISCARDED, PENDING, EXPIRED].map(str::to_string).to_vec();
    for name in ["n-one", "n-two", "n-three"] {
        ids.push(repo.create_endpoint_as(Who::Agent, name, &[]));
    }
    let new_id = ids[4].clone();
    for target in [PENDING.to_string(), new_id] {
        let hex = target.replace('-', "");
        for len in 4..=32 {
            let prefix = &hex[..len];
            let sharing = ids.iter().filter(|id| id.replace('-', "").starts_with(prefix)).count();
            let (status, shown) = repo.run(Who::Nobody, &["show", prefix]).json_with_status();
            if sharing == 1 {
                assert_eq!((status, shown["id"].as_str()), (0, Some(target.as_str())), "prefix {prefix}");
            } else {
                assert_eq!(shown["error"]["code"], "AMBIGUOUS_ID", "prefix {prefix}: {shown:#}");
            }
        }
        let (status, shown) = repo.run(Who::Nobody, &["show", &target]).json_with_status();
        assert_eq!((status, shown["id"].as_str()), (0, Some(target.as_str())), "the full id with dashes");
    }
}
