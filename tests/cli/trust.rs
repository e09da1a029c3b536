//! The timeline of trust: `.zen/` changes only through admin-signed
//! `config_changed` records, every record is judged by the signers in force
//! at its position, and each clone pins the log's trust root.

use crate::forgeries;
use crate::support::{DRAFT_BIN, TestRepo, Who, canonical_json, exit_code_of, paused};
use serde_json::Value;

fn key(repo: &TestRepo, name: &str) -> std::path::PathBuf {
    repo.root.join("keys").join(name)
}

/// A repo whose trust root makes alice the admin (`trust init`, after
/// alice was listed for zen-draft-admin before the root existed).
fn rooted() -> TestRepo {
    let repo = TestRepo::new();
    repo.root_trust_with_alice_as_admin();
    repo
}

fn public_key(repo: &TestRepo, name: &str) -> std::path::PathBuf {
    let public = repo.root.join(format!("{name}.pub"));
    let output = std::process::Command::new("ssh-keygen").arg("-y").arg("-f").arg(key(repo, name)).output().unwrap();
    assert!(output.status.success());
    std::fs::write(&public, &output.stdout).unwrap();
    public
}

#[test]
fn init_with_an_admin_roots_the_timeline_and_verify_pins_it() {
    let repo = TestRepo::empty();
    repo.write("README.md", b"# infra\n");
    repo.git(&["add", "README.md"]);
    repo.git(&["commit", "-q", "-m", "Initial commit"]);
    // The admin's key is alice's test key.
    let alice = TestRepo::new();
    std::fs::create_dir_all(repo.root.join("keys")).unwrap();
    std::fs::copy(key(&alice, "alice"), key(&repo, "alice")).unwrap();
    let init = repo.json(Who::Human, &["init", "--tenant", "acme", "--admin", "alice"]);
    let digest = init["trust_root"]["digest"].as_str().unwrap().to_string();
    assert!(repo.file_on("main", ".zen/allowed_signers").contains("alice namespaces=\"zen-draft-admin\""));

    let verified = repo.json(Who::Nobody, &["evidence", "verify"]);
    assert_eq!(verified["trust_root"], digest.as_str());
    assert_eq!(repo.git(&["config", "zen.trustRoot"]).trim(), digest);
    // Held to another root, the log is refused.
    let other = format!("sha256:{}", "0".repeat(64));
    repo.run(Who::Nobody, &["evidence", "verify", "--trust-root", &other]).refused("TRUST_ROOT_CHANGED");
    repo.git(&["config", "zen.trustRoot", &other]);
    repo.run(Who::Nobody, &["evidence", "verify"]).refused("TRUST_ROOT_CHANGED");
}

#[test]
fn a_log_without_a_root_verifies_with_a_warning_and_fails_when_strict() {
    let repo = TestRepo::new();
    repo.create_endpoint("one");
    let output = repo.command(Who::Nobody).args(["evidence", "verify"]).output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("TRUST_ROOT_MISSING"));
    repo.run(Who::Nobody, &["evidence", "verify", "--strict"]).refused("TRUST_ROOT_MISSING");
}

#[test]
fn admins_change_the_signers_with_a_record_and_nobody_else_can() {
    let repo = rooted();
    let bot = public_key(&repo, "ops-bot");
    let bot = bot.to_str().unwrap();
    // An agent, or a person who is no admin, cannot.
    repo.run(Who::Agent, &["signers", "add", "helper", bot]).refused("NOT_AN_ADMIN");
    repo.run(Who::Human, &["signers", "add", "helper", bot])
        .env("ZEN_USER_ID", "ops-bot")
        .env("ZEN_SIGNING_KEY", key(&repo, "ops-bot").to_str().unwrap())
        .refused("NOT_AN_ADMIN");
    let added = repo.json(Who::Human, &["signers", "add", "helper", bot]);
    assert_eq!(added["root"], false);
    assert!(repo.file_on("main", ".zen/allowed_signers").contains("helper namespaces=\"zen-draft-evidence\""));
    repo.json(Who::Human, &["config", "set", "ttl", "3d"]);
    assert!(repo.file_on("main", ".zen/config.yaml").contains("ttl: 3d"));
    repo.json(Who::Nobody, &["evidence", "verify"]);
}

#[test]
fn a_signers_change_made_with_plain_git_is_refused() {
    let repo = rooted();
    let signers = repo.file_on("main", ".zen/allowed_signers");
    let bot_line = signers.lines().find(|l| l.starts_with("ops-bot")).unwrap();
    let key_part = bot_line.split_once("ssh-ed25519").map(|(_, k)| format!("ssh-ed25519{k}")).unwrap();
    // The agent lists its own key for applies, as any principal.
    let forged = format!("{signers}ops-bot namespaces=\"zen-draft-apply\" {key_part}\n");
    repo.commit_file_on_branch("main", ".zen/allowed_signers", forged.as_bytes());
    let refusal = repo.run(Who::Nobody, &["evidence", "verify"]).refused("EVIDENCE_INVALID");
    assert!(refusal.output().contains("changes .zen/ without a config_changed record"), "{}", refusal.output());
}

#[test]
fn a_key_removed_at_one_position_signs_nothing_after_it() {
    let repo = rooted();
    let before = repo.create_endpoint_as(Who::Agent, "before", &[]);
    repo.json(Who::Human, &["signers", "remove", "ops-bot"]);
    repo.run(
        Who::Agent,
        &[
            "create",
            "endpoint",
            "--name",
            "after",
            "--provider",
            "stripe",
            "--target-url",
            "https://hooks.example.com/after",
        ],
    )
    .refused("SIGNING_KEY_MISSING");
    // Put the key back with plain git: the writer still judges the record
    // by the timeline, which says no, and writes nothing.
    let signers = repo.file_on("main", ".zen/allowed_signers");
    let original = repo.file_on("main~1", ".zen/allowed_signers");
    repo.commit_file_on_branch("main", ".zen/allowed_signers", original.as_bytes());
    let after =
        ["create", "endpoint", "--name", "after", "--provider", "stripe", "--target-url", "https://x.example.com/"];
    repo.run(Who::Agent, &after).refused("SIGNING_KEY_MISSING");
    repo.commit_file_on_branch("main", ".zen/allowed_signers", signers.as_bytes());
    // So sign one with plain ssh-keygen, at the log's next position, as an
    // agent that kept its key could: the timeline says no.
    let created_on = repo.git(&["log", "--format=%H", "-1", "--grep", "Created-By", "drafts"]).trim().to_string();
    let mut record = forgeries::record_on(&repo, &created_on);
    let size = repo.git(&["notes", "--ref=zen-evidence", "list"]).lines().count();
    record["merkle_position"] = size.into();
    record["proposed_spec_digest"] = format!("sha256:{}", "0".repeat(64)).into();
    let note = forgeries::signed_note(&repo, &canonical_json(&record), &key(&repo, "ops-bot"), "zen-draft-evidence");
    let blob = forgeries::write_blob(&repo, note.as_bytes());
    let object = repo.git(&["commit-tree", "main^{tree}", "-m", "forged"]).trim().to_string();
    let path = format!("{}/{}/{}", &object[..2], &object[2..4], &object[4..]);
    let message = format!("Forged\n\nEvidence-Size: {}\n", size + 1);
    forgeries::commit_on_ref(&repo, "refs/notes/zen-evidence", &[(&path, Some(&blob))], &message);
    let refusal = repo.run(Who::Nobody, &["evidence", "verify"]).refused("EVIDENCE_INVALID");
    let output = refusal.output();
    assert!(output.contains("draft_created signature"), "{output}");
    // The draft made before the removal is still there, still pending.
    let shown: Value = repo.show_json(&before);
    assert_eq!(shown["status"], "pending");
}

/// What a removed key signed before its removal stays in a log that
/// verifies, but people no longer act on it: its pending drafts show
/// invalid evidence, judged by the signers main holds now, and cannot be
/// applied.
#[test]
fn a_removed_keys_pending_drafts_cannot_be_applied_though_the_log_still_verifies() {
    let repo = rooted();
    let id = repo.create_endpoint_as(Who::Agent, "orphan", &[]);
    repo.json(Who::Human, &["signers", "remove", "ops-bot"]);
    repo.json(Who::Nobody, &["evidence", "verify"]);
    assert_eq!(repo.show_json(&id)["evidence"], "invalid");
    repo.run(Who::Human, &["apply", &id]).refused("EVIDENCE_MISMATCH");
}

/// The same removal landing while a command signed with that key is under
/// way, after it checked the key and before it wrote its record: the record
/// would sit after the removal, so it is refused and nothing is written.
/// Before, the create landed and the log failed verify from then on.
#[test]
fn a_key_removed_while_a_command_it_signs_is_under_way_signs_nothing() {
    let repo = rooted();
    let url = "https://hooks.example.com/late";
    let mut create = repo.std_command(Who::Agent, DRAFT_BIN);
    create.args(["--json", "create", "endpoint", "--name", "late", "--provider", "stripe", "--target-url", url]);
    let late = paused(create, "create:after-checks", || {
        repo.json(Who::Human, &["signers", "remove", "ops-bot"]);
    });
    let refusal: Value = serde_json::from_slice(&late.stdout).unwrap();
    assert_eq!(refusal["error"]["code"], "SIGNING_KEY_MISSING", "{refusal}");
    assert_eq!(late.status.code(), Some(exit_code_of("SIGNING_KEY_MISSING")));
    assert!(repo.list_json(&["--all"]).is_empty());
    repo.json(Who::Nobody, &["evidence", "verify"]);

    // A person's apply that loses its race to the removal of their key,
    // rereads main and tries again, is judged by the new signers too.
    let repo = rooted();
    let pending = repo.create_endpoint_as(Who::Agent, "pending", &[]);
    let mut apply = repo.std_command(Who::Human, DRAFT_BIN);
    apply.args(["--json", "apply", &pending]);
    let main_before = repo.git(&["rev-parse", "main"]);
    let late = paused(apply, "apply:after-checks", || {
        repo.json(Who::Human, &["signers", "remove", "alice"]);
    });
    let refusal: Value = serde_json::from_slice(&late.stdout).unwrap();
    assert_eq!(refusal["error"]["code"], "NOT_AN_APPLIER", "{refusal}");
    assert_eq!(repo.git(&["rev-parse", "main~1"]), main_before, "main holds the removal only");
    assert_eq!(repo.show_json(&pending)["status"], "pending");
    repo.json(Who::Nobody, &["evidence", "verify"]);
}

#[test]
fn an_admins_change_made_offline_is_replayed_by_sync_while_main_stands_still() {
    let central = TestRepo::new_bare();
    central.root_trust_with_alice_as_admin();
    let person = TestRepo::clone_url(&central.file_url(), &central);
    person.json(Who::Human, &["sync", "--no-push"]);
    let agent = TestRepo::clone_url(&central.file_url(), &central);
    agent.json(Who::Agent, &["sync", "--no-push"]);

    person.json(Who::Human, &["config", "set", "ttl", "3d"]);
    agent.create_endpoint_as(Who::Agent, "meanwhile", &["--push"]);
    let report = person.json(Who::Human, &["sync"]);
    let replayed = report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["event"] == "config_changed" && o["outcome"] == "replayed");
    assert!(replayed, "{report:#}");
    assert!(central.file_on("main", ".zen/config.yaml").contains("ttl: 3d"));
    let fresh = TestRepo::clone_url(&central.file_url(), &central);
    fresh.json(Who::Nobody, &["sync", "--no-push"]);
    fresh.json(Who::Nobody, &["evidence", "verify"]);
}
