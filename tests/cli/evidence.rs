//! The signed evidence log (SPEC §5): every record verifies with plain
//! `ssh-keygen`, tampering of any kind is caught and located, concurrent
//! writers keep positions contiguous, and proofs check offline.

use crate::support::{DRAFT_BIN, TestRepo, Who};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every note under refs/notes/zen-evidence, as (annotated commit, note text).
fn notes(repo: &TestRepo) -> Vec<(String, String)> {
    repo.git(&["notes", "--ref=zen-evidence", "list"])
        .lines()
        .map(|line| {
            let object = line.split_whitespace().nth(1).expect("note list line").to_string();
            let text = repo.git(&["notes", "--ref=zen-evidence", "show", &object]);
            (object, text)
        })
        .collect()
}

fn record_of(note: &str) -> Value {
    serde_json::from_str(note.lines().next().expect("a record line")).expect("the record is JSON")
}

/// The note on `object` replaced by `text`, the way someone with push rights could.
fn replace_note(repo: &TestRepo, object: &str, text: &str) {
    let file = repo.root.join("note.txt");
    std::fs::write(&file, text).expect("write note");
    repo.git(&["notes", "--ref=zen-evidence", "add", "-f", "-F", file.to_str().unwrap(), object]);
}

fn key(repo: &TestRepo, name: &str) -> PathBuf {
    repo.root.join("keys").join(name)
}

fn ssh_keygen(args: &[&str], input: Option<&Path>) -> std::process::Output {
    let mut cmd = Command::new("ssh-keygen");
    cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).args(args);
    if let Some(input) = input {
        cmd.stdin(std::fs::File::open(input).expect("input file"));
    }
    cmd.output().expect("ssh-keygen runs")
}

/// A repo with a draft by the agent, one by alice, and the agent's discarded by alice.
fn repo_with_history() -> (TestRepo, Vec<String>) {
    let repo = TestRepo::new();
    let agents = repo.create_endpoint_as(Who::Agent, "stripe-payments", &[]);
    let alices = repo.create_endpoint("github-ci");
    repo.draft(&["discard", &agents, "--reason", "superseded"]).success();
    (repo, vec![agents, alices])
}

fn verify_problem(repo: &TestRepo) -> String {
    let refusal = repo.run(Who::Nobody, &["evidence", "verify"]).refused("EVIDENCE_INVALID");
    refusal.message
}

#[test]
fn every_record_verifies_with_plain_ssh_keygen() {
    let (repo, _) = repo_with_history();
    let signers = repo.root.join("allowed_signers");
    std::fs::write(&signers, repo.file_on("main", ".zen/allowed_signers")).unwrap();
    let notes = notes(&repo);
    assert_eq!(notes.len(), 3, "create, create, discard");
    for (object, note) in notes {
        let (line, signature) = note.split_once('\n').expect("record line, then signature");
        let record = record_of(&note);
        let record_file = repo.root.join(format!("{object}.record"));
        let sig_file = repo.root.join(format!("{object}.sig"));
        std::fs::write(&record_file, format!("{line}\n")).unwrap();
        std::fs::write(&sig_file, signature).unwrap();
        let signer = record["signer"].as_str().unwrap();
        let output = ssh_keygen(
            &[
                "-Y",
                "verify",
                "-f",
                signers.to_str().unwrap(),
                "-I",
                signer,
                "-n",
                "zen-draft-evidence",
                "-s",
                sig_file.to_str().unwrap(),
            ],
            Some(&record_file),
        );
        assert!(
            output.status.success(),
            "ssh-keygen rejects the {} note on {object}: {}",
            record["event"],
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn records_carry_the_fields_of_spec_section_5() {
    let (repo, ids) = repo_with_history();
    let records: Vec<Value> = notes(&repo).iter().map(|(_, note)| record_of(note)).collect();
    let created = records.iter().find(|r| r["event"] == "draft_created" && r["draft_id"] == ids[0].as_str()).unwrap();
    for field in ["draft_id", "type", "created_by", "created_at", "proposed_spec_digest", "merkle_position", "signer"] {
        assert!(!created[field].is_null(), "draft_created lacks {field}: {created}");
    }
    assert_eq!(created["created_by"], "agent:ops-bot");
    assert_eq!(created["signer"], "ops-bot");
    let spec = &repo.show_json(&ids[0])["proposed_spec"];
    let digest = crate::support::sha256_digest(crate::support::canonical_json(spec).as_bytes());
    assert_eq!(created["proposed_spec_digest"], digest.as_str());

    let discarded = records.iter().find(|r| r["event"] == "draft_discarded").unwrap();
    let created_line = crate::support::canonical_json(created);
    assert_eq!(discarded["previous_digest"], crate::support::sha256_digest(created_line.as_bytes()).as_str());
    assert_eq!(discarded["discarded_by"], "user:alice");
    assert_eq!(discarded["signer"], "alice");
}

#[test]
fn verify_passes_and_prints_size_and_root() {
    let (repo, _) = repo_with_history();
    let verified = repo.json(Who::Nobody, &["evidence", "verify"]);
    assert_eq!(verified["size"], 3);
    let root = verified["root"].as_str().unwrap();
    assert_eq!(root.len(), 64);
    let human = repo.draft(&["evidence", "verify"]).success().get_output().stdout.clone();
    assert!(String::from_utf8_lossy(&human).contains(root));

    // The Merkle root is RFC 6962 over the canonical lines in position order.
    let mut records: Vec<Value> = notes(&repo).iter().map(|(_, n)| record_of(n)).collect();
    records.sort_by_key(|r| r["merkle_position"].as_u64());
    let leaves: Vec<[u8; 32]> = records
        .iter()
        .map(|r| zen_draft::evidence::merkle::leaf_hash(crate::support::canonical_json(r).as_bytes()))
        .collect();
    assert_eq!(zen_draft::evidence::merkle::to_hex(&zen_draft::evidence::merkle::root(&leaves)), root);
}

#[test]
fn verify_with_an_earlier_root_passes_after_appends_and_fails_for_a_rewritten_log() {
    let (repo, _) = repo_with_history();
    let before = repo.json(Who::Nobody, &["evidence", "verify"]);
    let pinned = format!("{}:{}", before["size"], before["root"].as_str().unwrap());
    repo.create_endpoint("later-one");
    repo.draft(&["evidence", "verify", "--root", &pinned]).success();

    let wrong = format!("{}:{}", before["size"], "00".repeat(32));
    let message = repo.run(Who::Nobody, &["evidence", "verify", "--root", &wrong]).refused("EVIDENCE_INVALID").message;
    assert!(message.contains("rewritten"), "{message}");
}

#[test]
fn an_edited_record_fails_verify_at_its_position() {
    let (repo, _) = repo_with_history();
    let (object, note) = notes(&repo)
        .into_iter()
        .find(|(_, n)| record_of(n)["event"] == "draft_created" && record_of(n)["signer"] == "ops-bot")
        .unwrap();
    let position = record_of(&note)["merkle_position"].as_u64().unwrap();
    let forged =
        note.replacen("agent:ops-bot", "user:alice", 1).replacen("\"signer\":\"ops-bot\"", "\"signer\":\"alice\"", 1);
    assert_ne!(forged, note, "the test edits something");
    replace_note(&repo, &object, &forged);
    let message = verify_problem(&repo);
    assert!(message.contains(&format!("position {position}")), "{message}");
}

#[test]
fn swapped_notes_fail_verify() {
    let (repo, _) = repo_with_history();
    let notes = notes(&repo);
    let created: Vec<&(String, String)> =
        notes.iter().filter(|(_, n)| record_of(n)["event"] == "draft_created").collect();
    let (a, b) = (created[0], created[1]);
    replace_note(&repo, &a.0, &b.1);
    replace_note(&repo, &b.0, &a.1);
    let message = verify_problem(&repo);
    assert!(message.contains("position"), "{message}");
}

#[test]
fn a_deleted_note_fails_verify() {
    let (repo, _) = repo_with_history();
    let (object, _) = notes(&repo).into_iter().find(|(_, n)| record_of(n)["merkle_position"] == 0).unwrap();
    repo.git(&["notes", "--ref=zen-evidence", "remove", &object]);
    let message = verify_problem(&repo);
    assert!(message.contains("position 0"), "{message}");
}

#[test]
fn a_record_re_signed_with_a_key_not_allowed_for_its_principal_fails_verify() {
    let (repo, _) = repo_with_history();
    let (object, note) = notes(&repo).into_iter().find(|(_, n)| record_of(n)["signer"] == "ops-bot").unwrap();
    let mallory = repo.root.join("mallory");
    let made = ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-C", "mallory", "-f", mallory.to_str().unwrap()], None);
    assert!(made.status.success());
    let line = format!("{}\n", note.lines().next().unwrap());
    let record_file = repo.root.join("record");
    std::fs::write(&record_file, &line).unwrap();
    let signed = ssh_keygen(
        &[
            "-Y",
            "sign",
            "-q",
            "-f",
            mallory.to_str().unwrap(),
            "-n",
            "zen-draft-evidence",
            record_file.to_str().unwrap(),
        ],
        None,
    );
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let signature = std::fs::read_to_string(repo.root.join("record.sig")).unwrap();
    replace_note(&repo, &object, &format!("{line}{signature}"));
    let message = verify_problem(&repo);
    assert!(message.contains("signature"), "{message}");
    assert!(message.contains(&format!("position {}", record_of(&note)["merkle_position"])), "{message}");
}

#[test]
fn a_draft_spec_edited_by_hand_fails_verify_and_shows_invalid_evidence() {
    let (repo, ids) = repo_with_history();
    let shown = repo.show_json(&ids[1]);
    assert_eq!(shown["evidence"], "verified");
    let path = shown["path"].as_str().unwrap().to_string();
    let edited = repo
        .file_on("drafts", &path)
        .replace("https://hooks.example.com/github-ci", "https://attacker.example.net/github-ci");
    repo.commit_file_on_branch("drafts", &path, edited.as_bytes());
    let message = verify_problem(&repo);
    assert!(message.contains(&ids[1]) && message.contains("proposed_spec"), "{message}");
    assert_eq!(repo.show_json(&ids[1])["evidence"], "invalid");
}

#[test]
fn list_and_show_report_verified_evidence_for_created_drafts() {
    let (repo, ids) = repo_with_history();
    for draft in repo.list_json(&["--all"]) {
        assert_eq!(draft["evidence"], "verified", "{draft}");
    }
    assert_eq!(repo.show_json(&ids[0])["evidence"], "verified");
}

#[test]
fn create_without_a_signing_key_writes_nothing() {
    let repo = TestRepo::new();
    let args = ["create", "endpoint", "--name", "x", "--provider", "stripe", "--target-url", "https://x.example.com/h"];
    repo.run(Who::Human, &args).env_remove("ZEN_SIGNING_KEY").refused("SIGNING_KEY_MISSING");
}

#[test]
fn create_with_a_key_not_listed_for_the_actor_is_refused_up_front() {
    let repo = TestRepo::new();
    let args = ["create", "endpoint", "--name", "x", "--provider", "stripe", "--target-url", "https://x.example.com/h"];
    // alice's key, but the agent ops-bot claims it.
    let alice = key(&repo, "alice");
    let refusal =
        repo.run(Who::Agent, &args).env("ZEN_SIGNING_KEY", alice.to_str().unwrap()).refused("SIGNING_KEY_MISSING");
    assert!(refusal.message.contains("not listed for ops-bot"), "{}", refusal.message);
}

#[test]
fn six_processes_creating_at_once_get_contiguous_positions_and_a_verifying_log() {
    let repo = TestRepo::new();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let mut cmd = repo.std_command(if i % 2 == 0 { Who::Agent } else { Who::Human }, DRAFT_BIN);
            let name = format!("racer-{i}");
            let url = format!("https://hooks.example.com/{name}");
            cmd.args(["create", "endpoint", "--name", &name, "--provider", "github", "--target-url", &url]);
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                cmd.output().expect("draft runs")
            })
        })
        .collect();
    for handle in handles {
        let output = handle.join().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let mut positions: Vec<u64> =
        notes(&repo).iter().map(|(_, n)| record_of(n)["merkle_position"].as_u64().unwrap()).collect();
    positions.sort();
    assert_eq!(positions, (0..6).collect::<Vec<u64>>());
    assert_eq!(repo.json(Who::Nobody, &["evidence", "verify"])["size"], 6);
}

#[test]
fn proofs_check_offline_and_a_tampered_proof_does_not() {
    let (repo, ids) = repo_with_history();
    let proofs = repo.json(Who::Nobody, &["evidence", "prove", &ids[0]]);
    let list = proofs["proofs"].as_array().unwrap();
    assert_eq!(list.len(), 2, "created and discarded");
    let file = repo.root.join("proof.json");
    std::fs::write(&file, proofs.to_string()).unwrap();
    let head = repo.json(Who::Nobody, &["evidence", "verify"]);
    let root = head["root"].as_str().unwrap().to_string();
    // Offline: no repository at all.
    let check_with = |root: &str| {
        let mut check = Command::new(DRAFT_BIN);
        check.env_clear().current_dir(&repo.root).args([
            "evidence",
            "check-proof",
            file.to_str().unwrap(),
            "--root",
            root,
        ]);
        check.output().unwrap().status.code()
    };
    assert_eq!(check_with(&root), Some(0));
    // Also as `evidence verify` prints the head: SIZE:HEX, the size bound too.
    assert_eq!(check_with(&format!("{}:{root}", head["size"])), Some(0));
    assert_eq!(check_with(&format!("{}:{root}", head["size"].as_u64().unwrap() + 1)), Some(7), "another size");

    let mut tampered = proofs.clone();
    let first = tampered["proofs"][0]["proof"][0].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if first.starts_with('0') { "1" } else { "0" }, &first[1..]);
    tampered["proofs"][0]["proof"][0] = Value::String(flipped);
    std::fs::write(&file, tampered.to_string()).unwrap();
    let mut check = Command::new(DRAFT_BIN);
    check.env_clear().current_dir(&repo.root).args(["evidence", "check-proof", file.to_str().unwrap()]);
    let output = check.output().unwrap();
    assert_eq!(output.status.code(), Some(7), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn git_reads_the_notes_we_write() {
    let (repo, ids) = repo_with_history();
    let created = repo.show_json(&ids[1]);
    let commit = repo.git(&["log", "--format=%H", "-1", "--grep", &format!("Create draft {}", ids[1]), "drafts"]);
    let note = repo.git(&["log", "-1", "--notes=zen-evidence", "--format=%N", commit.trim()]);
    assert!(note.contains(created["id"].as_str().unwrap()), "{note}");
}

#[test]
fn verify_since_an_earlier_tree_head_proves_the_log_extends_it() {
    let repo = TestRepo::new();
    repo.create_endpoint("one");
    repo.create_endpoint("two");
    let fork_drafts = repo.rev_parse("drafts");
    let fork_notes = repo.rev_parse("refs/notes/zen-evidence");
    repo.create_endpoint("three");
    let head = repo.json(Who::Nobody, &["evidence", "verify"]);
    let pinned = format!("{}:{}", head["size"], head["root"].as_str().unwrap());
    repo.create_endpoint("four");
    repo.create_endpoint("five");

    let since = repo.json(Who::Nobody, &["evidence", "verify", "--since", &pinned]);
    assert_eq!(since, repo.json(Who::Nobody, &["evidence", "verify"]), "the same answer as a full verify");
    assert_eq!(since["size"], 5);
    repo.json(
        Who::Nobody,
        &["evidence", "verify", "--since", "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    );

    // Rewrite history from position 2 on: a log that verifies on its own,
    // but is not the one whose head was pinned.
    repo.git(&["update-ref", "refs/heads/drafts", &fork_drafts]);
    repo.git(&["update-ref", "refs/notes/zen-evidence", &fork_notes]);
    for name in ["other-three", "other-four", "other-five"] {
        repo.create_endpoint(name);
    }
    // This clone remembers the head it verified last, and catches the rewrite
    // without being told.
    let pinned_here = repo.run(Who::Nobody, &["evidence", "verify"]).refused("EVIDENCE_INVALID").message;
    assert!(pinned_here.contains("zen.verifiedHead"), "{pinned_here}");
    repo.git(&["config", "--unset", "zen.verifiedHead"]);
    repo.json(Who::Nobody, &["evidence", "verify"]);
    repo.git(&["config", "--unset", "zen.verifiedHead"]);
    let message =
        repo.run(Who::Nobody, &["evidence", "verify", "--since", &pinned]).refused("EVIDENCE_INVALID").message;
    assert!(message.contains("not an extension"), "{message}");
    let beyond = format!("9:{}", head["root"].as_str().unwrap());
    repo.run(Who::Nobody, &["evidence", "verify", "--since", &beyond]).refused("EVIDENCE_INVALID");
}

#[test]
fn an_apply_record_binds_the_commit_file_and_blob_it_approves() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("bound");
    let reviewed = repo.show_json(&id)["spec_digest"].as_str().unwrap().to_string();
    repo.json(Who::Human, &["apply", &id, "--digest", &reviewed]);
    let applied = repo.rev_parse("main");
    let note = repo.git(&["notes", "--ref", "zen-evidence", "show", &applied]);
    let record: serde_json::Value = serde_json::from_str(note.lines().next().unwrap()).unwrap();
    assert_eq!(record["applied_commit"], applied.as_str());
    assert_eq!(record["resource"], "endpoints/bound.yaml");
    assert_eq!(record["resource_blob"], repo.rev_parse(&format!("{applied}:endpoints/bound.yaml")).as_str());
    assert_eq!(record["proposed_spec_digest"], reviewed.as_str());
    repo.json(Who::Nobody, &["evidence", "verify"]);

    // The same message on a commit with other content, the note moved onto
    // it: every trailer agrees, but the signed binding does not.
    repo.write("endpoints/bound.yaml", b"name: bound\nprovider: stripe\ntarget_url: https://evil.example.com/x\n");
    repo.git(&["add", "endpoints/bound.yaml"]);
    let tree = repo.git(&["write-tree"]).trim().to_string();
    let message = repo.git(&["log", "-1", "--format=%B", &applied]);
    let parent = repo.rev_parse(&format!("{applied}^"));
    let forged = repo.git(&["commit-tree", &tree, "-p", &parent, "-m", message.trim()]).trim().to_string();
    repo.git(&["update-ref", "refs/heads/main", &forged, &applied]);
    repo.git(&["reset", "-q", "--hard"]);
    repo.git(&["notes", "--ref", "zen-evidence", "copy", &applied, &forged]);
    repo.git(&["notes", "--ref", "zen-evidence", "remove", &applied]);

    let refusal = repo.run(Who::Nobody, &["evidence", "verify"]).refused("EVIDENCE_INVALID");
    let problems = refusal.output();
    assert!(problems.contains("attached to a commit other than its applied_commit"), "{problems}");
    assert!(problems.contains("is not the blob the draft_applied record approves"), "{problems}");
}

/// A create landing while verify reads (after the drafts, before the
/// notes) is not a problem with the log: verify judges one consistent
/// state of the refs, the one before the create or the one after.
#[test]
fn a_create_landing_while_verify_reads_is_no_problem() {
    let repo = TestRepo::new();
    repo.create_endpoint("first");
    let mut verify = repo.std_command(Who::Nobody, crate::support::DRAFT_BIN);
    verify.args(["--json", "evidence", "verify"]);
    let output = crate::support::paused(verify, "verify:after-drafts", || {
        repo.create_endpoint("second");
    });
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    repo.draft(&["evidence", "verify"]).success();
}

/// Two injected clocks: now, and 30 s later.
fn clocks_30_s_apart() -> (String, String) {
    let early = chrono::Utc::now();
    (early.to_rfc3339(), (early + chrono::Duration::seconds(30)).to_rfc3339())
}

/// The agent's `draft create` of endpoint `name`, on the injected `clock`.
fn create_at(repo: &TestRepo, name: &str, clock: &str) -> Command {
    let url = format!("https://hooks.example.com/{name}");
    let mut cmd = repo.std_command(Who::Agent, DRAFT_BIN);
    cmd.args(["create", "endpoint", "--name", name, "--provider", "stripe", "--target-url", &url]);
    cmd.env("ZEN_TEST_CLOCK", clock);
    cmd
}

/// A writer whose clock is behind the log's last record (another clone's
/// clock a moment ahead, or a second rolling over while it lost a race)
/// takes that record's time: time never runs backwards along the log.
/// Before, a create or apply that lost its race to a later-stamped create
/// left a log that failed verify ("a record cannot be older than the log
/// before it"), one CI run in a few dozen.
#[test]
fn a_writer_behind_the_logs_last_record_takes_its_time() {
    let repo = TestRepo::new();
    let (early, later) = clocks_30_s_apart();
    let create = |name: &str, clock: &str| create_at(&repo, name, clock);
    let output = crate::support::paused(create("behind", &early), "create:after-checks", || {
        assert!(create("ahead", &later).output().unwrap().status.success());
    });
    assert!(output.status.success(), "{output:?}");
    repo.draft(&["evidence", "verify"]).success();

    let id = repo.create_endpoint("applied");
    let mut apply = repo.std_command(Who::Human, DRAFT_BIN);
    apply.args(["apply", &id]).env("ZEN_TEST_CLOCK", &early);
    let output = crate::support::paused(apply, "apply:after-checks", || {
        assert!(create("ahead-again", &later).output().unwrap().status.success());
    });
    assert!(output.status.success(), "{output:?}");
    repo.draft(&["evidence", "verify"]).success();
    let times: Vec<String> = repo.json(Who::Nobody, &["evidence", "list"])["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let (_, at) = r.as_object().unwrap().iter().find(|(k, _)| k.ends_with("_at")).expect("a time");
            at.as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(times.len(), 5);
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

/// The log's last record is found behind a notes commit that added none
/// (one made with plain git): a writer behind it still takes its time.
#[test]
fn the_last_record_is_found_behind_a_notes_commit_that_adds_none() {
    let repo = TestRepo::new();
    let (early, later) = clocks_30_s_apart();
    let create = |name: &str, clock: &str| assert!(create_at(&repo, name, clock).output().unwrap().status.success());
    create("ahead", &later);
    let tip = repo.rev_parse("refs/notes/zen-evidence");
    let message = repo.git(&["log", "-1", "--format=%B", &tip]);
    let empty = repo.git(&["commit-tree", &format!("{tip}^{{tree}}"), "-p", &tip, "-m", &message]).trim().to_string();
    repo.git(&["update-ref", "refs/notes/zen-evidence", &empty, &tip]);
    create("behind", &early);
    repo.draft(&["evidence", "verify"]).success();
}
