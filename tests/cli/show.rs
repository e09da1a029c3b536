//! `draft show`: metadata, the proposed spec, its digest, and the diff of the
//! resource on main against exactly what apply would write; colour only on a
//! terminal and never with NO_COLOR.

use crate::support::{DRAFT_BIN, TestRepo, Who, added_lines, canonical_json, sha256_digest};
use serde_json::{Value, json};

fn stdout_of(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.success().get_output().stdout.clone()).expect("utf-8")
}

#[test]
fn show_prints_the_metadata_spec_digest_and_diff_for_people() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let digest = repo.show_json(&id)["spec_digest"].as_str().unwrap().to_string();

    let stdout = stdout_of(repo.anonymous_draft(&["show", &id]));

    for expected in [
        format!("draft {id}"),
        "type         endpoint".into(),
        "status       pending".into(),
        "tenant       acme".into(),
        "created by   user:alice".into(),
        "change       new endpoints/billing.yaml".into(),
        format!("spec digest  {digest}"),
        "proposed spec:".into(),
        "  target_url: https://hooks.example.com/billing".into(),
        "--- /dev/null".into(),
        "+++ b/endpoints/billing.yaml".into(),
    ] {
        assert!(stdout.contains(&expected), "show lacks {expected:?}:\n{stdout}");
    }
}

#[test]
fn show_json_gives_the_draft_fields_spec_digest_diff_and_evidence() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let shown = repo.show_json(&id);

    for field in ["id", "type", "status", "tenant", "created_by", "created_at", "expires_at", "proposed_spec", "base"] {
        assert!(shown.get(field).is_some(), "no {field}: {shown:#}");
    }
    assert!(shown["spec_digest"].is_string());
    assert!(shown["diff"].is_string());
    assert!(["verified", "missing", "invalid"].contains(&shown["evidence"].as_str().unwrap()));
}

#[test]
fn show_spec_digest_is_sha256_of_the_canonical_json_of_the_proposed_spec() {
    let repo = TestRepo::new();
    let description = "Payments \"live\" \u{2014} café";
    let created = repo.json(
        Who::Agent,
        &[
            "create",
            "endpoint",
            "--target-url",
            "https://hooks.example.com/billing",
            "--name",
            "billing",
            "--events",
            "charge.refunded,payment_intent.succeeded",
            "--provider",
            "stripe",
            "--description",
            description,
        ],
    );
    // Written out by hand, keys in no particular order: canonical JSON sorts them.
    let spec = json!({
        "target_url": "https://hooks.example.com/billing",
        "provider": "stripe",
        "name": "billing",
        "events": ["charge.refunded", "payment_intent.succeeded"],
        "description": description,
    });
    let canonical = canonical_json(&spec);
    assert!(canonical.starts_with(r#"{"description":"Payments \"live\" — café","events":["#), "{canonical}");

    let shown = repo.show_json(created["id"].as_str().unwrap());

    assert_eq!(shown["spec_digest"], sha256_digest(canonical.as_bytes()).as_str());
}

#[test]
fn show_diff_of_a_new_resource_is_against_dev_null() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let shown = repo.show_json(&id);

    assert_eq!(shown["change"], "new");
    assert_eq!(shown["resource"], "endpoints/billing.yaml");
    let diff = shown["diff"].as_str().unwrap();
    assert!(diff.starts_with("--- /dev/null\n+++ b/endpoints/billing.yaml\n@@ -0,0 +1,"), "{diff}");
    assert_eq!(
        added_lines(diff),
        "name: billing\nprovider: stripe\ntarget_url: https://hooks.example.com/billing\nsecret_ref: vault://kv/webhooks/billing\n"
    );
}

#[test]
fn show_diff_of_an_existing_resource_is_a_modify_against_mains_file() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch(
        "main",
        "endpoints/billing.yaml",
        b"name: billing\nprovider: stripe\ntarget_url: https://old.example.com/billing\nsecret_ref: vault://kv/webhooks/billing\n",
    );
    let id = repo.create_endpoint("billing");

    let shown = repo.show_json(&id);

    assert_eq!(shown["change"], "modify");
    let diff = shown["diff"].as_str().unwrap();
    assert!(diff.starts_with("--- a/endpoints/billing.yaml\n+++ b/endpoints/billing.yaml\n"), "{diff}");
    assert!(diff.lines().any(|l| l == "-target_url: https://old.example.com/billing"), "{diff}");
    assert!(diff.lines().any(|l| l == "+target_url: https://hooks.example.com/billing"), "{diff}");
    assert!(diff.lines().any(|l| l == " name: billing"), "unchanged lines are context: {diff}");
}

#[test]
fn show_reports_no_change_when_main_already_has_exactly_the_bytes_apply_would_write() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let would_write = added_lines(repo.show_json(&id)["diff"].as_str().unwrap());
    repo.commit_file_on_branch("main", "endpoints/billing.yaml", would_write.as_bytes());

    let shown = repo.show_json(&id);
    let text = stdout_of(repo.anonymous_draft(&["show", &id]));

    assert_eq!(shown["change"], "none");
    assert_eq!(shown["diff"], "");
    assert!(text.contains("no change"), "{text}");
    assert_eq!(repo.list_json(&[])[0]["change"], "none");
    let again = repo.create_endpoint("billing");
    let second = repo.show_json(&again);
    assert_eq!(second["change"], "none");
    assert_eq!(second["base"], repo.rev_parse("main:endpoints/billing.yaml").as_str());
}

#[test]
fn show_no_diff_leaves_the_diff_out() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let shown = repo.json(Who::Nobody, &["show", &id, "--no-diff"]);
    let text = stdout_of(repo.anonymous_draft(&["show", "--no-diff", &id]));

    assert!(shown.get("diff").is_none(), "{shown:#}");
    assert!(shown["spec_digest"].is_string());
    assert!(!text.lines().any(|l| l.starts_with("---") || l.starts_with("+++") || l.starts_with("@@")), "{text}");
    assert!(text.contains("proposed spec:"), "{text}");
}

#[test]
fn output_has_no_colour_when_stdout_is_not_a_terminal_even_without_no_color() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    for args in [vec!["show", id.as_str()], vec!["list"], vec!["validate"]] {
        let out = repo.run(Who::Nobody, &args).env_remove("NO_COLOR").assert().success();
        let stdout = &out.get_output().stdout;
        assert!(!stdout.contains(&0x1b), "ANSI escape in `draft {}`", args.join(" "));
    }
    let out = repo.run(Who::Nobody, &["show", "ffffffff"]).env_remove("NO_COLOR").assert().code(5);
    assert!(!out.get_output().stderr.contains(&0x1b), "ANSI escape in an error");
}

/// Runs `draft args` on a pseudo-terminal (util-linux `script`) and returns what it printed.
fn on_a_terminal(repo: &TestRepo, args: &[&str], no_color: bool) -> String {
    let line = std::iter::once(DRAFT_BIN).chain(args.iter().copied()).map(|a| format!("'{a}'")).collect::<Vec<_>>();
    let mut cmd = repo.std_command(Who::Nobody, "script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"]);
    if !no_color {
        cmd.env_remove("NO_COLOR");
    }
    let output = cmd.output().expect("script (util-linux) runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn show_is_coloured_on_a_terminal_but_never_with_no_color() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");

    let coloured = on_a_terminal(&repo, &["show", &id], false);
    let plain = on_a_terminal(&repo, &["show", &id], true);

    assert!(coloured.contains("\x1b["), "a terminal gets colour:\n{coloured}");
    assert!(plain.contains("+++ b/endpoints/billing.yaml"), "{plain}");
    assert!(!plain.contains('\x1b'), "NO_COLOR turns colour off even on a terminal:\n{plain:?}");
}

#[test]
fn list_is_never_coloured_with_no_color_on_a_terminal() {
    let repo = TestRepo::new();
    repo.create_endpoint("billing");

    let plain = on_a_terminal(&repo, &["list"], true);

    assert!(plain.contains("billing"), "{plain}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

#[test]
fn show_of_a_draft_with_an_unreadable_file_is_refused_as_invalid_draft() {
    let repo = TestRepo::new();
    repo.plant_draft_file(crate::support::PLANTED_PATH, &crate::support::fixture_bytes("drafts/invalid/bad-yaml.yaml"));

    let refusal = repo.run(Who::Nobody, &["show", crate::support::PLANTED_ID]).refused("INVALID_DRAFT");

    assert!(refusal.message.contains(crate::support::PLANTED_PATH), "{}", refusal.message);
}

#[test]
fn show_json_of_a_discarded_draft_carries_who_discarded_it() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "billing", &[]);
    repo.agent_draft(&["discard", &id, "--reason", "duplicate"]).success();

    let shown: Value = repo.show_json(&id);

    assert_eq!(shown["status"], "discarded");
    assert_eq!(shown["discarded_by"], "agent:ops-bot");
    assert_eq!(shown["reason"], "duplicate");
}

#[test]
fn show_runs_the_checks_apply_would_run_and_shows_what_changed_under_a_stale_draft() {
    let repo = TestRepo::new();
    let stale = repo.create_endpoint_as(Who::Human, "github-ci", &["--description", "An older idea"]);
    let other = repo.create_endpoint("github-ci");
    repo.draft(&["apply", &other]).success();

    let shown = repo.show_json(&stale);
    let checks = shown["checks"].as_array().expect("a checks array, as validate gives");
    let failed: Vec<&str> = checks.iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(failed, ["BASE_CHANGED"]);
    let base_diff = shown["base_diff"].as_str().expect("the diff from the base to main now");
    assert!(base_diff.contains("+name: github-ci"), "{base_diff}");

    let human = repo.draft(&["show", &stale]).success().get_output().stdout.clone();
    let human = String::from_utf8(human).unwrap();
    let checks_at = human.find("checks (apply runs these): 1 fail").expect(&human);
    let diff_at = human.find("diff against main").expect(&human);
    assert!(checks_at < diff_at, "checks above the diff:\n{human}");
    assert!(human.contains("what changed on main under this draft"), "{human}");

    let fresh = repo.create_endpoint("stripe-payments");
    let shown = repo.show_json(&fresh);
    assert!(shown["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true));
    assert_eq!(shown["base_diff"], serde_json::Value::Null);
}
