//! `draft create`: from flags, from a proposal file and from stdin; one new
//! file on the drafts branch and nothing else; who created it; what it was
//! proposed against (`base`); how long it lives.

use crate::support::{GOOD_TARGET, TestRepo, Who, epoch_seconds, fixture, fixture_bytes};
use serde_json::json;

fn lifetime_seconds(draft: &serde_json::Value) -> i64 {
    epoch_seconds(draft["expires_at"].as_str().unwrap()) - epoch_seconds(draft["created_at"].as_str().unwrap())
}

#[test]
fn create_endpoint_prints_id_path_and_commit_as_json() {
    let repo = TestRepo::new();
    let drafts_before = repo.rev_parse("drafts");

    let created = repo.json(
        Who::Human,
        &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET],
    );

    let id = created["id"].as_str().expect("id");
    let path = created["path"].as_str().expect("path");
    let commit = created["commit"].as_str().expect("commit");
    assert_eq!(id.len(), 36, "a full UUID: {id}");
    assert!(path.starts_with("drafts/") && path.ends_with(&format!("/{id}.yaml")), "{path}");
    assert_eq!(commit, repo.rev_parse("drafts"), "commit is the new tip of the drafts branch");
    assert_eq!(repo.rev_parse("drafts^"), drafts_before, "one commit on top of the previous tip");
}

#[test]
fn create_endpoint_commits_exactly_one_new_file_in_folders_named_by_its_ids_time_digits() {
    let repo = TestRepo::new();
    let main_before = repo.rev_parse("main");

    let created = repo.json(
        Who::Human,
        &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET],
    );

    let path = created["path"].as_str().unwrap();
    assert_eq!(repo.files_on("drafts"), [path]);
    let id = created["id"].as_str().unwrap();
    let hex = id.replace('-', "");
    let folders = format!("drafts/{}/{}/{}/{}/", &hex[..4], &hex[4..6], &hex[6..8], &hex[8..10]);
    assert_eq!(path, format!("{folders}{id}.yaml"), "the folders are the id's first ten digits");
    assert_eq!(repo.rev_parse("main"), main_before, "create never touches main");
}

#[test]
fn create_endpoint_records_every_flag_in_the_proposed_spec() {
    let repo = TestRepo::new();

    let id = repo.create_endpoint_as(
        Who::Human,
        "billing",
        &["--description", "Billing events", "--events", "payment_intent.succeeded, charge.refunded"],
    );

    let draft = repo.show_json(&id);
    assert_eq!(
        draft["proposed_spec"],
        json!({
            "name": "billing",
            "provider": "stripe",
            "target_url": "https://hooks.example.com/billing",
            "secret_ref": "vault://kv/webhooks/billing",
            "description": "Billing events",
            "events": ["payment_intent.succeeded", "charge.refunded"],
        })
    );
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["id"], id.as_str());
    assert_eq!(draft["type"], "endpoint");
    assert_eq!(draft["status"], "pending");
    assert_eq!(draft["tenant"], "acme");
}

#[test]
fn create_writes_a_draft_file_that_reads_as_the_spec_describes() {
    let repo = TestRepo::new();
    let created = repo.json(
        Who::Agent,
        &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET],
    );

    let text = repo.file_on("drafts", created["path"].as_str().unwrap());

    for line in [
        "version: 1".to_string(),
        format!("id: {}", created["id"].as_str().unwrap()),
        "type: endpoint".into(),
        "status: pending".into(),
        "tenant: acme".into(),
        "created_by: agent:ops-bot".into(),
        "base: null".into(),
        "proposed_spec:".into(),
    ] {
        assert!(text.lines().any(|l| l == line), "the draft file lacks {line:?}:\n{text}");
    }
}

#[test]
fn create_endpoint_prints_the_id_and_how_to_review_it_for_people() {
    let repo = TestRepo::new();

    let out = repo
        .draft(&["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET])
        .success();

    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let id = repo.list_json(&[])[0]["id"].as_str().unwrap().to_string();
    assert!(stdout.contains(&format!("Created draft {id}")), "{stdout}");
    assert!(stdout.contains(&format!("draft show {id}")), "{stdout}");
}

#[test]
fn create_from_a_proposal_file_takes_its_spec_and_ttl() {
    let repo = TestRepo::new();
    let path = fixture("proposals/valid/stripe-payments.yaml");

    let created = repo.json(Who::Agent, &["create", "--file", path.to_str().unwrap()]);

    let draft = repo.show_json(created["id"].as_str().unwrap());
    assert_eq!(
        draft["proposed_spec"],
        json!({
            "name": "stripe-payments",
            "provider": "stripe",
            "target_url": "https://hooks.example.com/stripe/payments",
            "secret_ref": "vault://kv/webhooks/stripe",
            "description": "Stripe payment events for the billing service",
            "events": ["payment_intent.succeeded", "charge.refunded"],
        })
    );
    assert_eq!(lifetime_seconds(&draft), 3 * 86_400, "the proposal's ttl: 3d");
}

#[test]
fn create_from_stdin_reads_the_proposal_from_dash() {
    let repo = TestRepo::new();

    let created = repo
        .run(Who::Agent, &["create", "--file", "-"])
        .stdin(&fixture_bytes("proposals/valid/minimal-github.yaml"))
        .json();

    let draft = repo.show_json(created["id"].as_str().unwrap());
    assert_eq!(
        draft["proposed_spec"],
        json!({"name": "github-ci", "provider": "github", "target_url": "https://ci.example.com/hooks/github"})
    );
    assert_eq!(lifetime_seconds(&draft), 7 * 86_400, "no ttl in the proposal: the repo's default");
}

#[test]
fn create_as_a_human_records_the_user_as_creator() {
    let repo = TestRepo::new();

    let id = repo.create_endpoint_as(Who::Human, "billing", &[]);

    assert_eq!(repo.show_json(&id)["created_by"], "user:alice");
}

#[test]
fn create_with_an_mcp_token_records_the_agent_even_when_a_user_id_is_set() {
    let repo = TestRepo::new();

    let created = repo
        .run(
            Who::Agent,
            &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET],
        )
        .env("ZEN_USER_ID", "alice")
        .json();

    assert_eq!(repo.show_json(created["id"].as_str().unwrap())["created_by"], "agent:ops-bot");
}

#[test]
fn create_with_an_mcp_token_and_no_agent_id_records_the_default_agent() {
    let repo = TestRepo::new();

    let created = repo
        .run(
            Who::Agent,
            &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET],
        )
        .env_remove("ZEN_AGENT_ID")
        .json();

    assert_eq!(repo.show_json(created["id"].as_str().unwrap())["created_by"], "agent:mcp-agent");
}

#[test]
fn create_without_any_identity_is_refused_with_user_id_required() {
    let repo = TestRepo::new();
    let target = "https://hooks.example.com/anonymous-attempt";

    let refusal = repo
        .run(Who::Nobody, &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", target])
        .refused("USER_ID_REQUIRED");

    assert!(refusal.stderr.contains("ZEN_USER_ID"), "the hint says how to identify:\n{}", refusal.stderr);
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
    repo.assert_nowhere_in_repo(target);
}

#[test]
fn create_leaves_the_work_tree_and_index_untouched() {
    let repo = TestRepo::new();
    repo.write("README.md", b"# infra, edited\n");
    repo.write("staged.txt", b"staged\n");
    repo.git(&["add", "staged.txt"]);
    repo.write("untracked.txt", b"untracked\n");
    let status = repo.status();
    let index = repo.git(&["ls-files", "--stage"]);
    let head = repo.git(&["symbolic-ref", "HEAD"]);

    repo.create_endpoint("billing");

    assert_eq!(repo.status(), status);
    assert_eq!(repo.git(&["ls-files", "--stage"]), index);
    assert_eq!(repo.git(&["symbolic-ref", "HEAD"]), head, "drafts is never checked out");
    assert!(!repo.path.join("drafts").exists(), "no draft file appears in the work tree");
    assert_eq!(repo.read("README.md"), b"# infra, edited\n");
}

#[test]
fn create_of_a_new_resource_records_base_null_and_change_new() {
    let repo = TestRepo::new();

    let id = repo.create_endpoint("billing");

    let draft = repo.show_json(&id);
    assert_eq!(draft["base"], serde_json::Value::Null);
    assert_eq!(draft["change"], "new");
}

#[test]
fn create_over_an_existing_resource_records_its_blob_on_main_as_base() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch(
        "main",
        "endpoints/billing.yaml",
        b"name: billing\nprovider: stripe\ntarget_url: https://old.example.com/billing\n",
    );

    let id = repo.create_endpoint("billing");

    let draft = repo.show_json(&id);
    assert_eq!(draft["base"], repo.rev_parse("main:endpoints/billing.yaml").as_str());
    assert_eq!(draft["change"], "modify");
}

#[test]
fn create_with_ttl_sets_expires_at_that_far_after_created_at() {
    let repo = TestRepo::new();

    let id = repo.create_endpoint_as(Who::Human, "billing", &["--ttl", "90m"]);

    assert_eq!(lifetime_seconds(&repo.show_json(&id)), 90 * 60);
}

#[test]
fn create_without_ttl_uses_the_repos_default_of_seven_days() {
    let repo = TestRepo::new();

    let id = repo.create_endpoint("billing");

    assert_eq!(lifetime_seconds(&repo.show_json(&id)), 7 * 86_400);
}

#[test]
fn create_with_a_malformed_ttl_flag_is_refused_with_a_hint() {
    let repo = TestRepo::new();

    let refusal = repo
        .run(
            Who::Human,
            &["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", GOOD_TARGET]
                .into_iter()
                .chain(["--ttl", "forever"])
                .collect::<Vec<_>>(),
        )
        .refusal();

    assert_eq!(refusal.code, "INVALID_SPEC");
    assert!(refusal.message.contains("ttl"), "{}", refusal.message);
}

#[test]
fn create_from_a_proposal_with_a_ttl_over_a_year_is_refused_with_a_hint() {
    let repo = TestRepo::new();
    let proposal = b"type: endpoint\nproposed_spec:\n  name: billing\n  provider: stripe\n  target_url: https://hooks.example.com/billing\nttl: 400d\n";

    let refusal = repo.run(Who::Agent, &["create", "--file", "-"]).stdin(proposal).refusal();

    assert_eq!(refusal.code, "INVALID_SPEC");
    assert!(refusal.message.contains("ttl"), "{}", refusal.message);
}

#[test]
fn create_twice_for_one_name_makes_two_separate_drafts() {
    let repo = TestRepo::new();

    let first = repo.create_endpoint("billing");
    let second = repo.create_endpoint("billing");

    assert_ne!(first, second);
    assert_eq!(repo.list_json(&[]).len(), 2);
}

#[test]
fn create_from_a_missing_proposal_file_is_refused_as_not_found() {
    let repo = TestRepo::new();
    let missing = repo.root.join("no-such-proposal.yaml");

    repo.run(Who::Agent, &["create", "--file", missing.to_str().unwrap()]).refused("NOT_FOUND");
}
