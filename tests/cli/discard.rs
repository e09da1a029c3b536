//! `draft discard`: pending drafts only; the file stays on the branch, marked
//! with who discarded it, when and why; an identity is required.

use crate::support::{TestRepo, Who};

#[test]
fn discard_marks_the_draft_discarded_and_keeps_its_file() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let path = repo.show_json(&id)["path"].as_str().unwrap().to_string();
    let spec_before = repo.show_json(&id)["proposed_spec"].clone();

    let discarded = repo.json(Who::Human, &["discard", &id, "--reason", "superseded by a newer draft"]);

    assert_eq!(discarded["id"], id.as_str());
    assert_eq!(discarded["commit"], repo.rev_parse("drafts").as_str());
    assert_eq!(repo.files_on("drafts"), std::slice::from_ref(&path), "the file stays, for audit");
    let text = repo.file_on("drafts", &path);
    assert!(text.lines().any(|l| l == "status: discarded"), "{text}");
    let shown = repo.show_json(&id);
    assert_eq!(shown["status"], "discarded");
    assert_eq!(shown["discarded_by"], "user:alice");
    assert_eq!(shown["reason"], "superseded by a newer draft");
    assert!(shown["discarded_at"].is_string());
    assert_eq!(shown["proposed_spec"], spec_before, "the proposal itself is never edited");
}

#[test]
fn discard_is_one_commit_on_the_drafts_branch_and_leaves_main_alone() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let drafts_before = repo.rev_parse("drafts");
    let main_before = repo.rev_parse("main");

    repo.draft(&["discard", &id]).success();

    assert_eq!(repo.rev_parse("drafts^"), drafts_before);
    assert_eq!(repo.rev_parse("main"), main_before);
}

#[test]
fn discard_prints_what_it_did_for_people() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let out = repo.draft(&["discard", &id]).success();

    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.starts_with(&format!("Discarded draft {id}")), "{stdout}");
}

#[test]
fn discard_twice_is_refused_as_not_pending() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    repo.draft(&["discard", &id]).success();
    let file_before = repo.file_on("drafts", repo.show_json(&id)["path"].as_str().unwrap());

    let refusal = repo.run(Who::Human, &["discard", &id, "--reason", "again"]).refused("NOT_PENDING");

    assert_eq!(refusal.failed_checks(), ["NOT_PENDING"]);
    assert_eq!(repo.file_on("drafts", repo.show_json(&id)["path"].as_str().unwrap()), file_before);
}

#[test]
fn discard_without_an_identity_is_refused_with_user_id_required() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    repo.run(Who::Nobody, &["discard", &id]).refused("USER_ID_REQUIRED");

    assert_eq!(repo.show_json(&id)["status"], "pending");
}

#[test]
fn discard_by_an_agent_records_the_agent() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "billing", &[]);

    repo.agent_draft(&["discard", &id]).success();

    assert_eq!(repo.show_json(&id)["discarded_by"], "agent:ops-bot");
}

#[test]
fn discard_accepts_a_unique_prefix() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let short = repo.list_json(&[])[0]["short_id"].as_str().unwrap().to_string();

    repo.draft(&["discard", &short]).success();

    assert_eq!(repo.show_json(&id)["status"], "discarded");
}

#[test]
fn discarded_drafts_leave_the_default_list_but_stay_in_list_all() {
    let repo = TestRepo::new();
    let kept = repo.create_endpoint("billing");
    let gone = repo.create_endpoint("refunds");

    repo.draft(&["discard", &gone]).success();

    let listed: Vec<_> = repo.list_json(&[]).iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed, [kept]);
    assert_eq!(repo.list_json(&["--all"]).len(), 2);
}

#[test]
fn discard_with_a_raw_secret_in_the_reason_is_refused_and_writes_nothing() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let secret = format!("sk_{}_{}", "live", "51HdPq2eZvKYlo2CrTnV8wXy");

    let refusal =
        repo.run(Who::Agent, &["discard", &id, "--reason", &format!("leaked {secret}")]).refused("RAW_SECRET");

    assert!(refusal.output().contains("reason"), "the error names the field:\n{}", refusal.output());
    refusal.assert_never_shows(&secret);
    repo.assert_nowhere_in_repo(&secret);
    assert_eq!(repo.show_json(&id)["status"], "pending");
}

#[test]
fn an_agent_may_discard_only_the_drafts_it_created() {
    let repo = TestRepo::new();
    let persons = repo.create_endpoint("billing");
    let agents = repo.create_endpoint_as(Who::Agent, "alerts", &[]);

    let refusal = repo.run(Who::Agent, &["discard", &persons]).refused("NOT_THE_CREATOR");
    assert!(refusal.stderr.contains("agents_may_discard"), "the hint says how to allow it: {}", refusal.stderr);
    assert_eq!(repo.show_json(&persons)["status"], "pending");

    repo.agent_draft(&["discard", &agents]).success();
    assert_eq!(repo.show_json(&agents)["status"], "discarded");
    let third = repo.create_endpoint_as(Who::Agent, "third", &[]);
    repo.draft(&["discard", &third]).success();
    assert_eq!(repo.show_json(&third)["discarded_by"], "user:alice", "a person may discard an agent's draft");
}

#[test]
fn agents_may_discard_any_lets_an_agent_discard_a_persons_draft() {
    let repo = TestRepo::new();
    let config = repo.file_on("main", ".zen/config.yaml");
    repo.commit_file_on_branch("main", ".zen/config.yaml", format!("{config}agents_may_discard: any\n").as_bytes());
    let persons = repo.create_endpoint("billing");

    repo.agent_draft(&["discard", &persons]).success();

    assert_eq!(repo.show_json(&persons)["discarded_by"], "agent:ops-bot");
}
