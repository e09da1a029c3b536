//! Why a draft exists: rationale, links and the agent's run, checked like
//! any agent-written text, covered by the signed creation record, and shown
//! wherever a reviewer looks.

use crate::support::{TestRepo, Who};

const TICKET: &str = "https://tickets.example.com/INC-42";

fn create_with(repo: &TestRepo, who: Who, name: &str, extra: &[&str]) -> crate::support::Refusal {
    let target = format!("https://hooks.example.com/{name}");
    let mut args = vec!["create", "endpoint", "--name", name, "--provider", "stripe", "--target-url", &target];
    args.extend_from_slice(extra);
    repo.run(who, &args).refusal()
}

#[test]
fn rationale_and_links_are_kept_shown_and_signed() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(
        Who::Agent,
        "payments",
        &["--rationale", "Retries for INC-42\nThe old endpoint drops events.", "--link", TICKET],
    );
    let shown = repo.show_json(&id);
    assert_eq!(shown["rationale"], "Retries for INC-42\nThe old endpoint drops events.");
    assert_eq!(shown["links"], serde_json::json!([TICKET]));
    let human = String::from_utf8(repo.draft(&["show", &id]).success().get_output().stdout.clone()).unwrap();
    assert!(human.contains("rationale    Retries for INC-42"), "{human}");
    let listed = String::from_utf8(repo.draft(&["list"]).success().get_output().stdout.clone()).unwrap();
    assert!(listed.contains("WHY") && listed.contains("Retries for INC-42"), "{listed}");
    let created_on = repo.git(&["log", "--format=%H", "-1", "--grep", "Created-By", "drafts"]).trim().to_string();
    let note = repo.git(&["notes", "--ref", "zen-evidence", "show", &created_on]);
    assert!(note.lines().next().unwrap().contains("\"provenance_digest\":\"sha256:"), "{note}");
    repo.json(Who::Nobody, &["evidence", "verify"]);

    // Rewriting the rationale after the fact breaks the draft's evidence.
    let path = repo.files_on("drafts").into_iter().find(|p| p.contains(&id)).unwrap();
    let file = repo.file_on("drafts", &path).replace("Retries for INC-42", "Nothing to see");
    repo.commit_file_on_branch("drafts", &path, file.as_bytes());
    assert_eq!(repo.show_json(&id)["evidence"], "invalid");
    let refusal = repo.run(Who::Nobody, &["evidence", "verify"]).refused("EVIDENCE_INVALID");
    assert!(refusal.output().contains("provenance differs"), "{}", refusal.output());
}

#[test]
fn an_agents_run_comes_from_a_proposal_and_only_from_an_agent() {
    let repo = TestRepo::new();
    let proposal = b"type: endpoint\nproposed_spec:\n  name: traced\n  provider: stripe\n  target_url: https://hooks.example.com/t\nrationale: Traced\nagent:\n  model: m-1\n  session: run-77\n  tool: ops-bot\n";
    let created = repo.run(Who::Agent, &["create", "--file", "-"]).stdin(proposal).json();
    let shown = repo.show_json(created["id"].as_str().unwrap());
    assert_eq!(shown["agent"]["session"], "run-77");
    let refusal = repo.run(Who::Human, &["create", "--file", "-"]).stdin(proposal).refusal();
    assert!(refusal.output().contains("agent describes an agent's run"), "{}", refusal.output());
}

#[test]
fn secrets_and_bad_links_in_the_provenance_are_refused_and_nothing_is_written() {
    let repo = TestRepo::new();
    let refs = repo.refs();
    let refusal = create_with(&repo, Who::Agent, "leaky", &["--rationale", "use sk_live_4eC39HqLyjWDarjtT1zdp7dc"]);
    assert_eq!(refusal.code, "RAW_SECRET", "{}", refusal.output());
    refusal.assert_never_shows("sk_live_4eC39HqLyjWDarjtT1zdp7dc");
    for link in ["ftp://files.example.com/x", "https://10.0.0.7/admin"] {
        let refusal = create_with(&repo, Who::Agent, "linked", &["--link", link]);
        assert_eq!(refusal.code, "INVALID_SPEC", "{link}: {}", refusal.output());
    }
    assert_eq!(repo.refs(), refs);
}
