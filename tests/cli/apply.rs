//! `draft apply` (SPEC §3 "Apply"): human only, every check fail-closed and
//! reported, and never half done: main, the drafts branch and the evidence
//! note move together or not at all.

use crate::support::{DRAFT_BIN, PLANTED_ID, PLANTED_PATH, TestRepo, Who, added_lines, paused, race};
use serde_json::Value;

fn key(repo: &TestRepo, name: &str) -> String {
    repo.root.join("keys").join(name).to_str().unwrap().to_string()
}

/// A draft file planted by hand at `PLANTED_PATH`: no evidence, any spec.
fn plant(repo: &TestRepo, draft_type: &str, spec: &str) {
    let yaml = format!(
        "version: 1\nid: {PLANTED_ID}\ntype: {draft_type}\nstatus: pending\ntenant: acme\ncreated_by: agent:ops-bot\n\
         created_at: \"2024-12-08T00:00:00Z\"\nexpires_at: \"2099-01-01T00:00:00Z\"\n{spec}base: null\n"
    );
    repo.plant_draft_file(PLANTED_PATH, yaml.as_bytes());
}

fn failed(repo: &TestRepo, id: &str) -> Vec<String> {
    repo.run(Who::Human, &["apply", id]).refusal().failed_checks()
}

fn notes_with(repo: &TestRepo, event: &str) -> usize {
    repo.git(&["notes", "--ref=zen-evidence", "list"])
        .lines()
        .filter(|line| {
            let object = line.split_whitespace().nth(1).unwrap();
            repo.git(&["notes", "--ref=zen-evidence", "show", object]).contains(&format!("\"event\":\"{event}\""))
        })
        .count()
}

fn assert_consistent(repo: &TestRepo) {
    repo.draft(&["evidence", "verify"]).success();
    let fsck = repo.git_command().args(["fsck", "--strict", "--no-progress"]).output().unwrap();
    assert!(fsck.status.success(), "{}", String::from_utf8_lossy(&fsck.stderr));
}

// ---- identity first ----

#[test]
fn apply_with_an_mcp_token_is_refused_even_with_a_user_id_and_moves_no_ref() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.run(Who::Human, &["apply", &id]).env("ZEN_MCP_TOKEN", "t").refused("MCP_CANNOT_APPLY");
    repo.run(Who::Agent, &["apply", &id]).env("ZEN_USER_ID", "alice").refused("MCP_CANNOT_APPLY");
}

#[test]
fn apply_without_a_user_id_is_refused() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.run(Who::Nobody, &["apply", &id]).refused("USER_ID_REQUIRED");
    repo.run(Who::Human, &["apply", &id]).env("ZEN_USER_ID", "  ").refused("USER_ID_REQUIRED");
}

#[test]
fn an_agent_that_drops_its_token_and_claims_a_user_id_is_not_an_applier() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let agent_key = key(&repo, "ops-bot");
    // Claiming its own id: its key is listed, but not for zen-draft-apply.
    repo.run(Who::Human, &["apply", &id])
        .env("ZEN_USER_ID", "ops-bot")
        .env("ZEN_SIGNING_KEY", &agent_key)
        .refused("NOT_AN_APPLIER");
    // Claiming alice's id with its own key: the key is not alice's.
    repo.run(Who::Human, &["apply", &id]).env("ZEN_SIGNING_KEY", &agent_key).refused("NOT_AN_APPLIER");
}

#[test]
fn identity_is_checked_before_any_draft_is_read() {
    let repo = TestRepo::new();
    // No such draft: the identity refusal still comes first.
    repo.run(Who::Agent, &["apply", "ffffffff"]).refused("MCP_CANNOT_APPLY");
    repo.run(Who::Nobody, &["apply", "ffffffff"]).refused("USER_ID_REQUIRED");
}

// ---- the draft checks ----

#[test]
fn applying_twice_is_not_pending() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.draft(&["apply", &id]).success();
    assert!(failed(&repo, &id).contains(&"NOT_PENDING".to_string()));
}

#[test]
fn a_discarded_draft_is_not_pending() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.draft(&["discard", &id]).success();
    assert_eq!(repo.run(Who::Human, &["apply", &id]).refused("NOT_PENDING").failed_checks(), ["NOT_PENDING"]);
}

#[test]
fn an_expired_draft_is_refused() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "stripe-payments", &["--ttl", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(repo.run(Who::Human, &["apply", &id]).refused("EXPIRED").failed_checks(), ["EXPIRED"]);
}

#[test]
fn another_tenants_draft_is_refused_with_exit_3() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let refusal = repo.run(Who::Human, &["apply", &id]).env("ZEN_TENANT", "globex").refused("TENANT_MISMATCH");
    assert_eq!(refusal.failed_checks(), ["TENANT_MISMATCH"]);
}

#[test]
fn a_route_draft_is_not_applicable() {
    let repo = TestRepo::new();
    plant(&repo, "route", "proposed_spec:\n  name: r\n");
    assert!(failed(&repo, PLANTED_ID).contains(&"TYPE_NOT_APPLICABLE".to_string()));
}

#[test]
fn a_draft_without_a_spec_is_refused_and_nothing_unevaluated_passes() {
    let repo = TestRepo::new();
    plant(&repo, "endpoint", "");
    let checks = failed(&repo, PLANTED_ID);
    for code in ["SPEC_MISSING", "UNKNOWN_PROVIDER", "INVALID_TARGET_URL", "EVIDENCE_MISMATCH", "BASE_CHANGED"] {
        assert!(checks.contains(&code.to_string()), "{code} should fail closed: {checks:?}");
    }
}

#[test]
fn hand_planted_bad_specs_are_refused_by_their_checks() {
    let repo = TestRepo::new();
    let secret = format!("ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8");
    plant(
        &repo,
        "endpoint",
        &format!(
            "proposed_spec:\n  name: x\n  provider: myspace\n  target_url: http://169.254.169.254/latest\n  description: {secret}\n"
        ),
    );
    let refusal = repo.run(Who::Human, &["apply", PLANTED_ID]).refusal();
    for code in ["UNKNOWN_PROVIDER", "INVALID_TARGET_URL", "RAW_SECRET", "EVIDENCE_MISMATCH"] {
        assert!(refusal.failed_checks().contains(&code.to_string()), "{code}: {:?}", refusal.failed_checks());
    }
    refusal.assert_never_shows(&secret);
}

#[test]
fn a_provider_the_config_no_longer_allows_is_refused() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let config = repo.file_on("main", ".zen/config.yaml");
    repo.commit_file_on_branch("main", ".zen/config.yaml", format!("{config}providers: [github]\n").as_bytes());
    assert_eq!(failed(&repo, &id), ["UNKNOWN_PROVIDER"]);
}

#[test]
fn a_spec_edited_on_the_branch_is_an_evidence_mismatch() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let path = repo.show_json(&id)["path"].as_str().unwrap().to_string();
    let edited = repo.file_on("drafts", &path).replace("hooks.example.com", "evil.example.net");
    repo.commit_file_on_branch("drafts", &path, edited.as_bytes());
    assert_eq!(failed(&repo, &id), ["EVIDENCE_MISMATCH"]);
}

#[test]
fn digest_binds_the_apply_to_what_was_reviewed() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let wrong = format!("sha256:{}", "0".repeat(64));
    let refusal = repo.run(Who::Human, &["apply", &id, "--digest", &wrong]).refused("EVIDENCE_MISMATCH");
    assert_eq!(refusal.failed_checks(), ["EVIDENCE_MISMATCH"]);
    let digest = repo.show_json(&id)["spec_digest"].as_str().unwrap().to_string();

    // Cut short, it is a slip at the keyboard, not tampering: a usage error
    // that says what is expected and does not repeat what was typed.
    let refs = repo.refs();
    let cut = &digest[..20];
    let out = repo.run(Who::Human, &["apply", &id, "--digest", cut]).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("--digest") && stderr.contains("64 hex digits"), "{stderr}");
    assert!(!stderr.contains(cut) && !stderr.contains("tamper") && !stderr.contains("investigate"), "{stderr}");
    assert_eq!(repo.refs(), refs);

    repo.draft(&["apply", &id, "--digest", &digest]).success();
}

#[test]
fn a_resource_changed_on_main_since_the_proposal_is_base_changed() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.commit_file_on_branch("main", "endpoints/stripe-payments.yaml", b"name: stripe-payments\n");
    assert_eq!(repo.run(Who::Human, &["apply", &id]).refused("BASE_CHANGED").failed_checks(), ["BASE_CHANGED"]);
}

#[test]
fn every_failing_check_is_reported_and_the_exit_is_the_smallest() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.commit_file_on_branch("main", "endpoints/stripe-payments.yaml", b"name: x\n");
    let refusal = repo.run(Who::Human, &["apply", &id]).env("ZEN_TENANT", "globex").refused("TENANT_MISMATCH");
    assert_eq!(refusal.failed_checks(), ["TENANT_MISMATCH", "BASE_CHANGED"]);
    assert_eq!(refusal.checks.len(), 11, "every check is reported: {:#?}", refusal.checks);
}

// ---- the merge ----

#[test]
fn apply_writes_one_commit_on_main_marks_the_draft_and_signs_the_record() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "stripe-payments", &[]);
    let shown = repo.show_json(&id);
    let main_before = repo.rev_parse("main");

    let applied = repo.json(Who::Human, &["apply", &id]);
    assert_eq!(applied["id"], id.as_str());
    assert_eq!(applied["resource"], "endpoints/stripe-payments.yaml");
    let commit = applied["commit"].as_str().unwrap();
    assert_eq!(repo.rev_parse("main"), commit);
    assert_eq!(repo.rev_parse(&format!("{commit}^")), main_before, "exactly one commit on main");

    let message = repo.git(&["log", "-1", "--format=%B", commit]);
    assert!(message.starts_with(&format!("Apply draft {id}: endpoint stripe-payments")), "{message}");
    assert!(message.contains(&format!("Draft-Id: {id}")) && message.contains("Applied-By: user:alice"), "{message}");
    let written = repo.file_on("main", "endpoints/stripe-payments.yaml");
    assert_eq!(written, added_lines(shown["diff"].as_str().unwrap()), "apply writes exactly what show diffed");

    let after = repo.show_json(&id);
    assert_eq!(after["status"], "applied");
    assert_eq!(after["applied_by"], "user:alice");
    assert_eq!(after["applied_commit"], commit);
    assert_eq!(after["resource_created"], true);
    assert_eq!(after["evidence"], "verified");
    assert_eq!(after["change"], "none");

    assert_eq!(repo.status(), "", "the work tree and index follow main");
    assert_eq!(std::fs::read_to_string(repo.path.join("endpoints/stripe-payments.yaml")).unwrap(), written);
    assert_consistent(&repo);
}

#[test]
fn ssh_keygen_accepts_the_applied_note_as_signed_by_the_applier() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let commit = repo.json(Who::Human, &["apply", &id])["commit"].as_str().unwrap().to_string();
    let note = repo.git(&["notes", "--ref=zen-evidence", "show", &commit]);
    let (line, signature) = note.split_once('\n').unwrap();
    let record: Value = serde_json::from_str(line).unwrap();
    assert_eq!(record["event"], "draft_applied");
    assert_eq!(record["signer"], "alice");
    let dir = &repo.root;
    std::fs::write(dir.join("signers"), repo.file_on("main", ".zen/allowed_signers")).unwrap();
    std::fs::write(dir.join("record"), format!("{line}\n")).unwrap();
    std::fs::write(dir.join("record.sig"), signature).unwrap();
    let verify = |namespace: &str| {
        std::process::Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f", "signers", "-I", "alice", "-n", namespace, "-s", "record.sig"])
            .current_dir(dir)
            .stdin(std::fs::File::open(dir.join("record")).unwrap())
            .output()
            .unwrap()
    };
    assert!(verify("zen-draft-apply").status.success());
    assert!(!verify("zen-draft-evidence").status.success(), "apply records use their own namespace");
}

#[test]
fn a_modify_records_that_the_resource_was_not_created() {
    let repo = TestRepo::new();
    let first = repo.create_endpoint("github-ci");
    repo.draft(&["apply", &first]).success();
    let id = repo.create_endpoint("github-ci");
    repo.draft(&["apply", &id]).success();
    assert_eq!(repo.show_json(&id)["resource_created"], false);
    assert_consistent(&repo);
}

#[test]
fn apply_works_in_a_bare_repo() {
    let repo = TestRepo::new_bare();
    let id = repo.create_endpoint("stripe-payments");
    repo.draft(&["apply", &id]).success();
    assert!(repo.file_on("main", "endpoints/stripe-payments.yaml").contains("stripe-payments"));
    assert_consistent(&repo);
}

#[test]
fn local_changes_to_the_target_file_refuse_before_anything_moves_and_are_kept() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch("main", "endpoints/stripe-payments.yaml", b"name: stripe-payments\n");
    let id = repo.create_endpoint("stripe-payments");
    repo.write("endpoints/stripe-payments.yaml", b"name: my local edit\n");
    repo.run(Who::Human, &["apply", &id]).refused("DIRTY_WORKTREE");
    assert_eq!(repo.read("endpoints/stripe-payments.yaml"), b"name: my local edit\n");
}

#[test]
fn other_local_changes_survive_an_apply() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.write("README.md", b"# infra, edited\n");
    repo.draft(&["apply", &id]).success();
    assert_eq!(repo.read("README.md"), b"# infra, edited\n");
    assert_eq!(repo.status().trim(), "M README.md");
}

// ---- races ----

#[test]
fn apply_and_discard_of_one_draft_started_together_never_both_win() {
    let repo = TestRepo::new();
    for round in 0..6 {
        // The agent's own draft: an agent may discard only the drafts it created.
        let id = repo.create_endpoint_as(Who::Agent, &format!("race-{round}"), &[]);
        let outputs = race(
            &repo,
            vec![
                (Who::Human, vec!["apply".into(), id.clone()]),
                (Who::Agent, vec!["discard".into(), id.clone(), "--reason".into(), "race".into()]),
            ],
        );
        let wins: Vec<bool> = outputs.iter().map(|o| o.status.success()).collect();
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "round {round}: {outputs:#?}");
        for output in outputs.iter().filter(|o| !o.status.success()) {
            let code = output.status.code();
            assert!(code == Some(4) || code == Some(6), "the loser gets NOT_PENDING or CONFLICT: {output:?}");
        }
        let status = repo.show_json(&id)["status"].as_str().unwrap().to_string();
        let on_main = repo.git_succeeds(&["cat-file", "-e", &format!("main:endpoints/race-{round}.yaml")]);
        assert_eq!(status == "applied", wins[0], "round {round}");
        assert_eq!(on_main, wins[0], "main agrees with the status, round {round}");
    }
    assert_eq!(notes_with(&repo, "draft_applied") + notes_with(&repo, "draft_discarded"), 6);
    assert_consistent(&repo);
}

/// What the race above finds by luck: each writer lands its rival between
/// reading the draft and moving the branch. The drafts commit goes onto the
/// tip the draft was judged at, so the later writer loses, rereads, and is
/// refused; before, an apply paused here marked applied (and merged) the
/// draft the discard had just closed.
#[test]
fn a_rival_landing_between_a_writers_checks_and_its_commit_wins_and_the_writer_is_refused() {
    let repo = TestRepo::new();
    let discard = |id: &str| {
        let mut cmd = repo.std_command(Who::Agent, DRAFT_BIN);
        cmd.args(["--json", "discard", id, "--reason", "race"]);
        cmd
    };
    let apply = |id: &str| {
        let mut cmd = repo.std_command(Who::Human, DRAFT_BIN);
        cmd.args(["--json", "apply", id]);
        cmd
    };
    let refused = |output: &std::process::Output| -> String {
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        json["error"]["code"].as_str().unwrap_or("none").to_string()
    };

    let id = repo.create_endpoint_as(Who::Agent, "discarded-first", &[]);
    let late = paused(apply(&id), "apply:after-checks", || {
        assert!(discard(&id).output().unwrap().status.success());
    });
    assert_eq!(refused(&late), "NOT_PENDING", "{late:?}");
    assert_eq!(repo.show_json(&id)["status"], "discarded");
    assert!(!repo.git_succeeds(&["cat-file", "-e", "main:endpoints/discarded-first.yaml"]));

    let id = repo.create_endpoint_as(Who::Agent, "applied-first", &[]);
    let late = paused(discard(&id), "discard:after-checks", || {
        assert!(apply(&id).output().unwrap().status.success());
    });
    assert_eq!(refused(&late), "NOT_PENDING", "{late:?}");
    assert_eq!(repo.show_json(&id)["status"], "applied");
    assert!(repo.git_succeeds(&["cat-file", "-e", "main:endpoints/applied-first.yaml"]));

    assert_eq!((notes_with(&repo, "draft_applied"), notes_with(&repo, "draft_discarded")), (1, 1));
    assert_consistent(&repo);
}

#[test]
fn two_appliers_of_one_draft_one_wins() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    let apply = || (Who::Human, vec!["apply".to_string(), id.clone()]);
    let outputs = race(&repo, vec![apply(), apply(), apply()]);
    assert_eq!(outputs.iter().filter(|o| o.status.success()).count(), 1, "{outputs:#?}");
    for output in outputs.iter().filter(|o| !o.status.success()) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("NOT_PENDING") || stderr.contains("CONFLICT"), "{stderr}");
    }
    assert_eq!(notes_with(&repo, "draft_applied"), 1);
    assert_consistent(&repo);
}

// ---- never half done ----

#[test]
fn apply_stopped_before_the_refs_move_leaves_nothing_behind_and_can_run_again() {
    for point in ["after-checks", "after-objects"] {
        let repo = TestRepo::new();
        let id = repo.create_endpoint("stripe-payments");
        let refs = repo.refs();
        let output = repo.command(Who::Human).env("ZEN_TEST_STOP_APPLY", point).args(["apply", &id]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{point}");
        assert_eq!(repo.refs(), refs, "{point}: no ref moved");
        assert_eq!(repo.show_json(&id)["status"], "pending");
        assert_consistent(&repo);
        repo.draft(&["apply", &id]).success();
        assert_eq!(notes_with(&repo, "draft_applied"), 1, "{point}: no duplicate record");
        assert_consistent(&repo);
    }
}

#[test]
fn apply_stopped_after_the_refs_move_is_complete_and_verifying() {
    let repo = TestRepo::new_bare();
    let id = repo.create_endpoint("stripe-payments");
    let output =
        repo.command(Who::Human).env("ZEN_TEST_STOP_APPLY", "after-refs").args(["apply", &id]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let shown = repo.show_json(&id);
    assert_eq!(shown["status"], "applied");
    assert_eq!(repo.rev_parse("main"), shown["applied_commit"].as_str().unwrap());
    assert_eq!(notes_with(&repo, "draft_applied"), 1);
    assert_consistent(&repo);
    repo.run(Who::Human, &["apply", &id]).refusal();
    assert_eq!(notes_with(&repo, "draft_applied"), 1, "no duplicate record");
}

#[test]
fn validate_reports_exactly_the_checks_apply_runs() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("stripe-payments");
    repo.commit_file_on_branch("main", "endpoints/stripe-payments.yaml", b"name: x\n");
    let validated = repo.run(Who::Nobody, &["validate", &id]).json_with_status().1;
    let codes: Vec<&str> =
        validated["results"][0]["checks"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    let refusal = repo.run(Who::Human, &["apply", &id]).refusal();
    let apply_codes: Vec<&str> = refusal.checks.iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, apply_codes);
}

/// `draft apply <id>` on a pseudo-terminal (util-linux `script`), answering `answer`.
fn apply_on_a_terminal(repo: &TestRepo, id: &str, answer: &str) -> String {
    use std::io::Write;
    let line = format!("'{}' apply '{id}'", crate::support::DRAFT_BIN);
    let mut cmd = repo.std_command(Who::Human, "script");
    cmd.args(["-qec", &line, "/dev/null"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    // Give the prompt time to appear before answering, as a person would.
    std::thread::sleep(std::time::Duration::from_millis(700));
    stdin.write_all(answer.as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn on_a_terminal_apply_shows_the_diff_and_the_checks_and_asks_first() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("asked");
    let main = repo.rev_parse("main");
    let declined = apply_on_a_terminal(&repo, &id, "no\n");
    assert!(declined.contains("diff against main"), "{declined}");
    assert!(declined.contains("checks (apply runs these): all pass"), "{declined}");
    assert!(declined.contains("Type yes to apply"), "{declined}");
    assert!(declined.contains("Nothing was applied."), "{declined}");
    assert_eq!(repo.rev_parse("main"), main, "a declined apply moves nothing");

    let accepted = apply_on_a_terminal(&repo, &id, "yes\n");
    assert!(accepted.contains("Applied draft"), "{accepted}");
    assert_ne!(repo.rev_parse("main"), main);
}

/// A draft's lifetime is judged at the time the apply's record will bear.
/// When the log's last record is a little ahead of this clone's clock
/// (another clone's clock), the apply takes that record's time, so a draft
/// that has expired by then is refused rather than recorded as applied after
/// it expired; one still alive by then is applied at that time.
#[test]
fn apply_judges_the_lifetime_at_the_time_its_record_bears() {
    let repo = TestRepo::new();
    // Whole seconds, as records are written.
    let start = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0);
    let at = |seconds: i64| (start + chrono::Duration::seconds(seconds)).to_rfc3339();
    let create = |name: &str, ttl: &str, clock: &str| {
        let url = format!("https://hooks.example.com/{name}");
        let args = ["create", "endpoint", "--name", name, "--provider", "stripe", "--target-url", &url, "--ttl", ttl];
        repo.run(Who::Agent, &args).env("ZEN_TEST_CLOCK", clock).json()["id"].as_str().unwrap().to_string()
    };
    let short = create("short", "60s", &at(0));
    let long = create("long", "120s", &at(0));
    create("ahead", "1d", &at(70));

    // validate judges it at this clone's clock, and passes it.
    let (code, _) = repo.run(Who::Nobody, &["validate", &short]).env("ZEN_TEST_CLOCK", &at(30)).json_with_status();
    assert_eq!(code, 0);
    let refusal = repo.run(Who::Human, &["apply", &short]).env("ZEN_TEST_CLOCK", &at(30)).refused("EXPIRED");
    assert!(refusal.message.contains("expired"), "{}", refusal.message);
    repo.run(Who::Human, &["apply", &long]).env("ZEN_TEST_CLOCK", &at(30)).json();
    let applied = repo.show_json(&long);
    let applied_at = chrono::DateTime::parse_from_rfc3339(applied["applied_at"].as_str().unwrap()).unwrap();
    assert_eq!(applied_at, start + chrono::Duration::seconds(70), "the time of the record it follows: {applied:#}");
    repo.draft(&["evidence", "verify"]).success();
}
