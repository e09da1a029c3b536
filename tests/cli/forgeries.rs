//! Histories forged with plain git (and `ssh-keygen` for signatures) that
//! passed `evidence verify` before it judged history by the log itself:
//! each must now be refused, locally, without a gate.

use crate::support::{TestRepo, Who, canonical_json, sha256_digest};
use serde_json::Value;
use std::path::Path;

pub(crate) fn key(repo: &TestRepo, name: &str) -> std::path::PathBuf {
    repo.root.join("keys").join(name)
}

/// `evidence verify` and `draft audit` refuse, and what they say names `expected`.
fn verify_refuses(repo: &TestRepo, expected: &str) {
    for command in [&["evidence", "verify"][..], &["audit"][..]] {
        let refusal = repo.run(Who::Nobody, command).refused("EVIDENCE_INVALID");
        assert!(refusal.output().contains(expected), "{command:?}: expected {expected:?} in:\n{}", refusal.output());
    }
}

/// Commits `path` = `blob` (or its removal) onto `refname` with git's
/// plumbing, as anyone with push access could.
pub(crate) fn commit_on_ref(repo: &TestRepo, refname: &str, edits: &[(&str, Option<&str>)], message: &str) -> String {
    let index = repo.root.join("forge-index");
    let _ = std::fs::remove_file(&index);
    let with_index = |args: &[&str]| {
        let output = repo.git_command().env("GIT_INDEX_FILE", &index).args(args).output().unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    let parent = repo.rev_parse(refname);
    with_index(&["read-tree", &parent]);
    for (path, blob) in edits {
        match blob {
            Some(blob) => with_index(&["update-index", "--add", "--cacheinfo", &format!("100644,{blob},{path}")]),
            None => with_index(&["update-index", "--force-remove", path]),
        };
    }
    let tree = with_index(&["write-tree"]);
    let commit = repo.git(&["commit-tree", &tree, "-p", &parent, "-m", message]).trim().to_string();
    repo.git(&["update-ref", refname, &commit, &parent]);
    let _ = std::fs::remove_file(&index);
    if repo.git(&["symbolic-ref", "-q", "HEAD"]).trim() == refname {
        repo.git(&["reset", "-q", "--hard"]);
    }
    commit
}

pub(crate) fn write_blob(repo: &TestRepo, bytes: &[u8]) -> String {
    let blob = repo.git_with_stdin(&["hash-object", "-w", "--stdin"], bytes, &[]);
    String::from_utf8(blob).unwrap().trim().to_string()
}

/// Signs `line` (a record's canonical JSON) with `key` in `namespace`, as
/// `ssh-keygen -Y sign` does, and returns the note text.
pub(crate) fn signed_note(repo: &TestRepo, line: &str, key: &Path, namespace: &str) -> String {
    let file = repo.root.join("forged-record");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let output = std::process::Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
        .arg(key)
        .arg(&file)
        .env("HOME", repo.home())
        .output()
        .expect("ssh-keygen runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let signature = std::fs::read_to_string(file.with_extension("sig")).unwrap();
    let _ = std::fs::remove_file(file.with_extension("sig"));
    format!("{line}\n{signature}")
}

/// The note on `object` and where in the notes tree it and its index entry are.
fn note_paths(repo: &TestRepo, object: &str, event: &str) -> (String, Option<String>) {
    let tree = repo.git(&["ls-tree", "-r", "--name-only", "refs/notes/zen-evidence"]);
    let note = tree.lines().find(|p| p.replace('/', "") == object).expect("the note").to_string();
    let blob = repo.rev_parse(&format!("refs/notes/zen-evidence:{note}"));
    let index = tree
        .lines()
        .find(|p| p.ends_with(&format!("/{event}")) && repo.rev_parse(&format!("refs/notes/zen-evidence:{p}")) == blob)
        .map(str::to_string);
    (note, index)
}

/// The record on `object`, as JSON.
pub(crate) fn record_on(repo: &TestRepo, object: &str) -> Value {
    let note = repo.git(&["notes", "--ref", "zen-evidence", "show", object]);
    serde_json::from_str(note.lines().next().unwrap()).unwrap()
}

/// Replaces the record on `object` in place (same position), re-signed by
/// `signer`'s key, its index entry updated to match.
pub(crate) fn resign_in_place(repo: &TestRepo, object: &str, signer: &str, mutate: impl FnOnce(&mut Value)) {
    let mut record = record_on(repo, object);
    let event = record["event"].as_str().unwrap().to_string();
    mutate(&mut record);
    let namespace = match event.as_str() {
        "draft_applied" => "zen-draft-apply",
        "config_changed" => "zen-draft-admin",
        _ => "zen-draft-evidence",
    };
    let note = signed_note(repo, &canonical_json(&record), &key(repo, signer), namespace);
    let blob = write_blob(repo, note.as_bytes());
    let (note_path, index_path) = note_paths(repo, object, &event);
    let mut edits = vec![(note_path.as_str(), Some(blob.as_str()))];
    if let Some(index) = &index_path {
        edits.push((index.as_str(), Some(blob.as_str())));
    }
    commit_on_ref(repo, "refs/notes/zen-evidence", &edits, "Rewrite a record\n\nEvidence-Size: 0\n");
}

/// An agent's create rewritten as a person's (`user:ops-bot`): the file
/// edited by plain git and the record re-signed in place with the agent's key.
pub(crate) fn forge_agent_as_person(repo: &TestRepo) {
    let id = repo.create_endpoint_as(Who::Agent, "disguised", &[]);
    let path = draft_path(repo, &id);
    let file = repo.file_on("drafts", &path).replace("created_by: agent:ops-bot", "created_by: user:ops-bot");
    let blob = write_blob(repo, file.as_bytes());
    commit_on_ref(repo, "refs/heads/drafts", &[(&path, Some(&blob))], "Who, me?");
    let created_on = repo.git(&["log", "--format=%H", "-1", "--grep", "Created-By", "drafts"]).trim().to_string();
    resign_in_place(repo, &created_on, "ops-bot", |record| record["created_by"] = "user:ops-bot".into());
}

/// A create by the agent dated 2020, after a create made now.
pub(crate) fn backdate_a_create(repo: &TestRepo, name: &str) {
    let target = format!("https://hooks.example.com/{name}");
    repo.run(Who::Agent, &["create", "endpoint", "--name", name, "--provider", "stripe", "--target-url", &target])
        .env("ZEN_TEST_CLOCK", "2020-01-01T00:00:00Z")
        .assert()
        .success();
}

pub(crate) fn draft_path(repo: &TestRepo, id: &str) -> String {
    repo.files_on("drafts").into_iter().find(|p| p.contains(id)).expect("the draft's file")
}

#[test]
fn a_record_backdated_before_the_one_before_it_is_refused() {
    let repo = TestRepo::new();
    repo.create_endpoint("first");
    // A second create dated 2020: its key may well have been valid then,
    // but its place in the log says it came later.
    backdate_a_create(&repo, "backdated");
    verify_refuses(&repo, "cannot be older than the log before it");
}

#[test]
fn an_apply_dated_before_its_draft_was_created_is_refused() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("early");
    repo.run(Who::Human, &["apply", &id]).env("ZEN_TEST_CLOCK", "2020-01-01T00:00:00Z").assert().success();
    verify_refuses(&repo, "cannot be older than the log before it");
}

#[test]
fn a_discarded_draft_brought_back_to_pending_by_a_plain_commit_is_refused_and_cannot_be_applied() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("revived");
    let path = draft_path(&repo, &id);
    let pending = repo.rev_parse(&format!("drafts:{path}"));
    repo.draft(&["discard", &id]).success();
    commit_on_ref(&repo, "refs/heads/drafts", &[(&path, Some(&pending))], "Bring it back");
    verify_refuses(&repo, "but the log has its draft_discarded record");
    let refusal = repo.run(Who::Human, &["apply", &id]).refusal();
    assert!(refusal.failed_checks().contains(&"EVIDENCE_MISMATCH".to_string()), "{}", refusal.output());
}

#[test]
fn an_endpoint_committed_on_main_by_no_apply_is_refused() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch("main", "endpoints/sneaky.yaml", b"name: sneaky\nprovider: stripe\n");
    verify_refuses(&repo, "without a draft_applied record");
}

#[test]
fn a_checked_out_branch_that_names_itself_main_is_not_the_judge() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("target");
    let agent_key = key(&repo, "ops-bot");
    let public = std::fs::read_to_string(agent_key.with_extension("pub")).ok();
    // The agent's branch: its own config names it main, its signers make
    // the agent a person who may apply.
    repo.git(&["checkout", "-q", "-b", "evil"]);
    let config = repo.file_on("main", ".zen/config.yaml").replace("main_branch: main", "main_branch: evil");
    repo.write(".zen/config.yaml", config.as_bytes());
    let signers = repo.file_on("main", ".zen/allowed_signers");
    let agent_line = signers.lines().find(|l| l.starts_with("ops-bot")).unwrap().to_string();
    let key_part = agent_line.split_once("ssh-ed25519").map(|(_, k)| format!("ssh-ed25519{k}")).unwrap();
    repo.write(
        ".zen/allowed_signers",
        format!("{signers}ops-bot namespaces=\"zen-draft-evidence,zen-draft-apply\" {key_part}\n").as_bytes(),
    );
    repo.git(&["commit", "-q", "-am", "My own rules"]);
    let _ = public;
    repo.run(Who::Human, &["apply", &id])
        .env("ZEN_USER_ID", "ops-bot")
        .env("ZEN_SIGNING_KEY", agent_key.to_str().unwrap())
        .refused("NOT_AN_APPLIER");
}

#[test]
fn an_agent_rewriting_its_reviewed_draft_and_its_record_in_place_is_caught_by_the_pinned_head() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "reviewed", &[]);
    repo.json(Who::Nobody, &["evidence", "verify"]);
    // After review: a new target in the file, and the draft_created record
    // re-signed in place to match, at the same position.
    let path = draft_path(&repo, &id);
    let file =
        repo.file_on("drafts", &path).replace("https://hooks.example.com/reviewed", "https://evil.example.com/x");
    let blob = write_blob(&repo, file.as_bytes());
    let commit = commit_on_ref(&repo, "refs/heads/drafts", &[(&path, Some(&blob))], "Tweak");
    let created_on = repo.git(&["log", "--format=%H", "-1", "--grep", "Created-By", "drafts"]).trim().to_string();
    let mut spec: Value = repo.show_json(&id)["proposed_spec"].clone();
    spec["target_url"] = "https://evil.example.com/x".into();
    let digest = sha256_digest(canonical_json(&spec).as_bytes());
    resign_in_place(&repo, &created_on, "ops-bot", |record| record["proposed_spec_digest"] = digest.into());
    let _ = commit;
    verify_refuses(&repo, "zen.verifiedHead");
}

#[test]
fn a_notes_index_that_disagrees_with_the_notes_is_refused() {
    let repo = TestRepo::new();
    let one = repo.create_endpoint("one");
    let two = repo.create_endpoint("two");
    let tree = repo.git(&["ls-tree", "-r", "--name-only", "refs/notes/zen-evidence"]);
    let index_of =
        |id: &str| tree.lines().find(|p| p.contains(id) && p.ends_with("/draft_created")).unwrap().to_string();
    let two_blob = repo.rev_parse(&format!("refs/notes/zen-evidence:{}", index_of(&two)));
    commit_on_ref(&repo, "refs/notes/zen-evidence", &[(&index_of(&one), Some(&two_blob))], "Mix up the index");
    verify_refuses(&repo, "is not that draft's draft_created record");
}

#[test]
fn a_notes_commit_that_lies_about_the_log_size_is_refused_by_the_next_writer() {
    let repo = TestRepo::new();
    repo.create_endpoint("one");
    repo.create_endpoint("two");
    repo.create_endpoint("three");
    let tip = repo.rev_parse("refs/notes/zen-evidence");
    let tree = repo.rev_parse("refs/notes/zen-evidence^{tree}");
    let lie =
        repo.git(&["commit-tree", &tree, "-p", &tip, "-m", "Nothing to see\n\nEvidence-Size: 1\n"]).trim().to_string();
    repo.git(&["update-ref", "refs/notes/zen-evidence", &lie, &tip]);
    let args =
        ["create", "endpoint", "--name", "four", "--provider", "stripe", "--target-url", "https://hooks.example.com/4"];
    let refusal = repo.run(Who::Agent, &args).refused("EVIDENCE_INVALID");
    assert!(refusal.message.contains("says it holds 1 records"), "{}", refusal.output());
}

#[test]
fn a_pending_drafts_file_deleted_without_a_gc_record_is_refused() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("vanishing");
    let path = draft_path(&repo, &id);
    commit_on_ref(&repo, "refs/heads/drafts", &[(&path, None)], "Quietly drop it");
    verify_refuses(&repo, "without a draft_expired record");
}

#[test]
fn an_agent_without_its_token_cannot_act_as_a_person() {
    let repo = TestRepo::new();
    let agent_key = key(&repo, "ops-bot");
    let args = [
        "create",
        "endpoint",
        "--name",
        "disguised",
        "--provider",
        "stripe",
        "--target-url",
        "https://hooks.example.com/d",
    ];
    let refusal = repo
        .run(Who::Nobody, &args)
        .env("ZEN_USER_ID", "ops-bot")
        .env("ZEN_SIGNING_KEY", agent_key.to_str().unwrap())
        .refused("USER_ID_REQUIRED");
    assert!(refusal.message.contains("not a person"), "{}", refusal.output());

    // The same forged with the agent's own key: a record as user:ops-bot.
    forge_agent_as_person(&repo);
    verify_refuses(&repo, "acts as a person");
}

/// A note padded to megabytes (a few KiB in the object store) is no record:
/// the listing shows the draft's evidence invalid, and verify names its size.
#[test]
fn a_note_padded_to_megabytes_is_too_large_to_be_a_record() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "bloated", &[]);
    let created_on = repo.git(&["log", "--format=%H", "-1", "--grep", "Created-By", "drafts"]).trim().to_string();
    let (note_path, index_path) = note_paths(&repo, &created_on, "draft_created");
    let mut note = repo.git(&["notes", "--ref", "zen-evidence", "show", &created_on]).into_bytes();
    note.resize(8 << 20, b'\n');
    let blob = write_blob(&repo, &note);
    let mut edits = vec![(note_path.as_str(), Some(blob.as_str()))];
    if let Some(index) = &index_path {
        edits.push((index.as_str(), Some(blob.as_str())));
    }
    commit_on_ref(&repo, "refs/notes/zen-evidence", &edits, "Pad a record\n\nEvidence-Size: 0\n");
    let listed = repo.list_json(&[]);
    let row = listed.iter().find(|d| d["id"] == id.as_str()).expect("the draft is listed");
    assert_eq!(row["evidence"], "invalid", "{row}");
    verify_refuses(&repo, &format!("the note is {} bytes, too large to be a record", 8 << 20));
}

/// A record changed in place keeps its old signature, and the genuine note
/// is attached again to an object that sorts after it: each record's
/// signature is judged on its own record, so the changed one fails however
/// the notes are ordered (a verdict once looked up by the signature's text
/// took the genuine copy's).
#[test]
fn a_changed_record_keeping_its_signature_fails_beside_a_genuine_copy() {
    let repo = TestRepo::new();
    repo.create_endpoint("first");
    repo.create_endpoint("second");
    let created_on = repo.git(&["log", "--format=%H", "-1", "--grep", "Created-By", "drafts"]).trim().to_string();
    let genuine = repo.git(&["notes", "--ref", "zen-evidence", "show", &created_on]);
    let (line, signature) = genuine.split_once('\n').unwrap();
    let mut record: Value = serde_json::from_str(line).unwrap();
    record["created_at"] = "2099-01-01T00:00:00Z".into();
    let changed = format!("{}\n{signature}", canonical_json(&record));
    // The genuine copy goes on the last object id there is, after the
    // changed record in the notes tree's order, so it is read second.
    let later = "f".repeat(40);
    let (note_path, index_path) = note_paths(&repo, &created_on, "draft_created");
    let changed_blob = write_blob(&repo, changed.as_bytes());
    let genuine_blob = write_blob(&repo, genuine.as_bytes());
    let copy_path = format!("{}/{}/{}", &later[..2], &later[2..4], &later[4..]);
    let mut edits =
        vec![(note_path.as_str(), Some(changed_blob.as_str())), (copy_path.as_str(), Some(genuine_blob.as_str()))];
    if let Some(index) = &index_path {
        edits.push((index.as_str(), Some(changed_blob.as_str())));
    }
    commit_on_ref(
        &repo,
        "refs/notes/zen-evidence",
        &edits,
        "Change a record, keep its signature\n\nEvidence-Size: 0\n",
    );
    verify_refuses(&repo, "draft_created signature");
}
