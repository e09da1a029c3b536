//! The gate on the central repository: a bare repo with `draft hook install`,
//! clones pushing with plain `git push` and with `--push`, over `file://`
//! and through `git daemon`. Every bad push is refused with the central
//! refs unchanged and a message naming the rule; the honest paths land.

use crate::forgeries::{commit_on_ref, draft_path, key, resign_in_place, write_blob};
use crate::support::{GitDaemon, TestRepo, Who};
use std::process::Output;

/// How the clones of a test reach the central repository.
#[derive(Clone, Copy)]
enum Transport {
    File,
    Daemon,
}

thread_local! {
    static TRANSPORT: std::cell::Cell<Transport> = const { std::cell::Cell::new(Transport::File) };
}

/// Runs a test with its clones pushing over `transport`.
fn with(transport: Transport, test: fn()) {
    TRANSPORT.with(|t| t.set(transport));
    test();
}

/// The central repo, and the git daemon serving it when the test runs over one.
struct Central {
    daemon: Option<GitDaemon>,
    repo: TestRepo,
}

impl std::ops::Deref for Central {
    type Target = TestRepo;
    fn deref(&self) -> &TestRepo {
        &self.repo
    }
}

impl Central {
    fn url(&self) -> String {
        match &self.daemon {
            Some(daemon) => daemon.url(),
            None => self.repo.file_url(),
        }
    }
}

/// A bare central repo whose trust root makes alice the admin, with the
/// gate installed, served over the test's transport.
fn gated() -> Central {
    let central = gated_repo();
    let daemon = match TRANSPORT.with(|t| t.get()) {
        Transport::File => None,
        Transport::Daemon => Some(GitDaemon::serve(&central)),
    };
    Central { daemon, repo: central }
}

fn gated_repo() -> TestRepo {
    let central = TestRepo::new_bare();
    central.root_trust_with_alice_as_admin();
    let installed = central.json(Who::Nobody, &["hook", "install", central.path.to_str().unwrap()]);
    assert_eq!(installed["already"], false);
    central
}

fn clone(central: &Central) -> TestRepo {
    let clone = TestRepo::clone_url(&central.url(), central);
    clone.json(Who::Agent, &["sync", "--no-push"]);
    clone
}

fn create_args(name: &str) -> Vec<String> {
    ["create", "endpoint", "--name", name, "--provider", "stripe", "--target-url"]
        .into_iter()
        .map(str::to_string)
        .chain([format!("https://hooks.example.com/{name}")])
        .collect()
}

fn create(repo: &TestRepo, who: Who, name: &str, extra: &[&str]) -> String {
    let mut args = create_args(name);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    repo.json(who, &args)["id"].as_str().unwrap().to_string()
}

/// `git push origin <specs>` from `clone`: it must be refused, the
/// central repo's refs unchanged, and git's output must name `code`.
fn refused(central: &TestRepo, clone: &TestRepo, specs: &[&str], code: &str) -> String {
    let before = central.refs();
    let output: Output = clone.git_command().args(["push", "origin"]).args(specs).output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "the push landed:\n{said}");
    assert_eq!(central.refs(), before, "a refused push moved a central ref");
    assert!(said.contains(code), "expected {code} in:\n{said}");
    assert!(said.contains("remote: zen-draft: hint: "), "every refusal has a hint:\n{said}");
    // `draft audit` gives the gate's verdict on the same history (the
    // clone's refs hold it), except for what only arrival can tell: time.
    if code != "GATE_CLOCK_SKEW" {
        clone.run(Who::Nobody, &["audit"]).refused("EVIDENCE_INVALID");
    }
    said
}

const ALL: [&str; 3] = ["main", "drafts", "refs/notes/zen-evidence"];

#[test]
fn install_refuses_a_log_without_a_trust_root_and_says_when_it_is_installed() {
    let central = TestRepo::new_bare();
    central.run(Who::Nobody, &["hook", "install", central.path.to_str().unwrap()]).refused("TRUST_ROOT_MISSING");
    let central = gated();
    let again = central.json(Who::Nobody, &["hook", "install", central.path.to_str().unwrap()]);
    assert_eq!(again["already"], true);
    for key in ["receive.denyNonFastForwards", "receive.denyDeletes", "receive.fsckObjects"] {
        assert_eq!(central.git(&["config", key]).trim(), "true");
    }
}

fn the_honest_paths_land_with_push() {
    let central = gated();
    let agent = clone(&central);
    let person = clone(&central);
    // A draft that expires in two seconds; gc removes it below, run at a
    // clock ten seconds on.
    create(&agent, Who::Agent, "short-lived", &["--ttl", "2s", "--push"]);
    let good = create(&agent, Who::Agent, "good", &["--push"]);
    let unwanted = create(&agent, Who::Agent, "unwanted", &["--push"]);
    agent.json(Who::Agent, &["discard", &unwanted, "--push"]);
    person.json(Who::Human, &["sync"]);
    person.json(Who::Human, &["apply", &good, "--push"]);
    // An admin's signers change.
    let public = central.root.join("helper.pub");
    let output =
        std::process::Command::new("ssh-keygen").arg("-y").arg("-f").arg(key(&central, "ops-bot")).output().unwrap();
    std::fs::write(&public, &output.stdout).unwrap();
    person.json(Who::Human, &["signers", "add", "helper", public.to_str().unwrap(), "--push"]);
    let later = (chrono::Utc::now() + chrono::Duration::seconds(10)).to_rfc3339();
    let gc = agent.run(Who::Agent, &["gc", "--push"]).env("ZEN_TEST_CLOCK", &later).json();
    assert_eq!(gc["removed"].as_array().unwrap().len(), 1, "{gc:#}");
    // A README edit on main.
    person.json(Who::Human, &["sync"]);
    person.write("README.md", b"# infra, documented\n");
    person.git(&["add", "README.md"]);
    person.git(&["commit", "-q", "-m", "Document"]);
    person.git(&["push", "-q", "origin", "main"]);

    let fresh = clone(&central);
    fresh.json(Who::Nobody, &["evidence", "verify"]);
    let audited = fresh.json(Who::Nobody, &["audit"]);
    assert_eq!(audited["ok"], true, "{audited:#}");
    // The verifier outside the tool agrees, through the trust timeline.
    crate::outside::agree(&fresh, true);
}

fn an_agent_pushing_an_endpoint_onto_main_is_refused() {
    let central = gated();
    let agent = clone(&central);
    agent.write("endpoints/sneaky.yaml", b"name: sneaky\nprovider: stripe\n");
    agent.git(&["add", "endpoints/sneaky.yaml"]);
    agent.git(&["commit", "-q", "-m", "Quietly"]);
    refused(&central, &agent, &["main"], "GATE_MAIN_NOT_APPLIED");
}

fn an_agent_listing_its_key_for_applies_and_applying_is_refused() {
    let central = gated();
    let agent = clone(&central);
    let id = create(&agent, Who::Agent, "mine", &["--push"]);
    // Its key, listed by plain git as a person who may apply, then a real
    // apply signed with it in the apply namespace.
    let signers = agent.file_on("main", ".zen/allowed_signers");
    let line = signers.lines().find(|l| l.starts_with("ops-bot")).unwrap();
    let key_part = line.split_once("ssh-ed25519").map(|(_, k)| format!("ssh-ed25519{k}")).unwrap();
    agent.write(
        ".zen/allowed_signers",
        format!("{signers}ops-bot namespaces=\"zen-draft-apply\" {key_part}\n").as_bytes(),
    );
    agent.git(&["commit", "-q", "-am", "Trust me"]);
    refused(&central, &agent, &["main"], "GATE_CONFIG_NOT_SIGNED");
    // The tool will not sign it (the log's own signers judge the record)...
    agent
        .run(Who::Human, &["apply", &id])
        .env("ZEN_USER_ID", "ops-bot")
        .env("ZEN_SIGNING_KEY", key(&agent, "ops-bot").to_str().unwrap())
        .refused("NOT_AN_APPLIER");
    // ...so the agent forges one: a person's apply, its record re-signed in
    // the apply namespace with the agent's key.
    agent.json(Who::Human, &["apply", &id]);
    let applied = agent.rev_parse("main");
    resign_in_place(&agent, &applied, "ops-bot", |record| {
        record["applied_by"] = "user:ops-bot".into();
        record["signer"] = "ops-bot".into();
    });
    let said = refused(&central, &agent, &ALL, "GATE_CONFIG_NOT_SIGNED");
    assert!(said.contains(IN_FORCE), "the apply record is not the timeline's:\n{said}");
}

fn a_persons_apply_record_moved_onto_another_commit_is_refused() {
    let central = gated();
    let person = clone(&central);
    let id = create(&person, Who::Agent, "real", &["--push"]);
    person.json(Who::Human, &["apply", &id]);
    let applied = person.rev_parse("main");
    person.write("endpoints/real.yaml", b"name: real\nprovider: stripe\ntarget_url: https://evil.example.com/x\n");
    person.git(&["add", "endpoints/real.yaml"]);
    person.git(&["commit", "-q", "--amend", "--no-edit"]);
    let forged = person.rev_parse("main");
    person.git(&["notes", "--ref", "zen-evidence", "copy", &applied, &forged]);
    person.git(&["notes", "--ref", "zen-evidence", "remove", &applied]);
    refused(&central, &person, &ALL, "GATE_");
}

fn a_draft_file_committed_with_plain_git_or_edited_in_place_is_refused() {
    let central = gated();
    let agent = clone(&central);
    let id = create(&agent, Who::Agent, "edited", &["--push"]);
    let path = draft_path(&agent, &id);
    let file = agent.file_on("drafts", &path).replace("https://hooks.example.com/edited", "https://evil.example.com/x");
    let blob = write_blob(&agent, file.as_bytes());
    commit_on_ref(&agent, "refs/heads/drafts", &[(&path, Some(&blob))], "Tweak after review");
    refused(&central, &agent, &["drafts"], "GATE_NOT_A_LIFECYCLE_STEP");
    agent.git(&["update-ref", "refs/heads/drafts", "refs/remotes/origin/drafts"]);

    let planted = file.replace(&id, "01a23170-0000-7000-8000-000000000001");
    commit_on_ref(
        &agent,
        "refs/heads/drafts",
        &[(
            "drafts/01a2/31/70/00/01a23170-0000-7000-8000-000000000001.yaml",
            Some(&write_blob(&agent, planted.as_bytes())),
        )],
        "Plant",
    );
    refused(&central, &agent, &["drafts"], "GATE_");
}

fn bad_objects_on_the_drafts_branch_are_refused() {
    let central = gated();
    let agent = clone(&central);
    let start = agent.rev_parse("drafts");
    let big = write_blob(&agent, &vec![b'a'; 70 * 1024]);
    let small = write_blob(&agent, b"x\n");
    for (path, blob) in [("README.md", small.as_str()), ("drafts/big.yaml", big.as_str())] {
        commit_on_ref(&agent, "refs/heads/drafts", &[(path, Some(blob))], "Bad object");
        refused(&central, &agent, &["drafts"], "GATE_BAD_OBJECT");
        agent.git(&["update-ref", "refs/heads/drafts", &start]);
    }
    // A symlink.
    let index = agent.root.join("symlink-index");
    let with_index = |args: &[&str]| {
        let out = agent.git_command().env("GIT_INDEX_FILE", &index).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    with_index(&["read-tree", &start]);
    with_index(&["update-index", "--add", "--cacheinfo", &format!("120000,{small},drafts/link.yaml")]);
    let tree = with_index(&["write-tree"]);
    let commit = agent.git(&["commit-tree", &tree, "-p", &start, "-m", "A link"]).trim().to_string();
    agent.git(&["update-ref", "refs/heads/drafts", &commit]);
    refused(&central, &agent, &["drafts"], "GATE_BAD_OBJECT");
}

fn records_out_of_place_or_backdated_are_refused() {
    let central = gated();
    let agent = clone(&central);
    // Backdated past the skew: made an hour ago, pushed with plain git.
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let args = create_args("stale-clock");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    agent.run(Who::Agent, &args).env("ZEN_TEST_CLOCK", &an_hour_ago).assert().success();
    refused(&central, &agent, &ALL, "GATE_CLOCK_SKEW");
    // `draft sync` re-stamps it, and the gate takes it.
    agent.json(Who::Agent, &["sync"]);

    // A position that skips one.
    create(&agent, Who::Agent, "skipper", &[]);
    let created_on = agent.git(&["log", "--format=%H", "-1", "--grep", "Created-By", "drafts"]).trim().to_string();
    resign_in_place(&agent, &created_on, "ops-bot", |record| {
        let position = record["merkle_position"].as_u64().unwrap();
        record["merkle_position"] = (position + 1).into();
    });
    refused(&central, &agent, &ALL, "GATE_RECORD_INVALID");
}

fn force_pushes_and_deletes_of_the_guarded_refs_are_refused() {
    let central = gated();
    let agent = clone(&central);
    let start = agent.rev_parse("drafts");
    create(&agent, Who::Agent, "one", &["--push"]);
    for spec in [
        format!("+{start}:refs/heads/drafts"),
        ":refs/heads/drafts".into(),
        ":refs/heads/main".into(),
        ":refs/notes/zen-evidence".into(),
    ] {
        let before = central.refs();
        let output = agent.git_command().args(["push", "origin", &spec]).output().unwrap();
        assert!(!output.status.success(), "{spec} landed");
        assert_eq!(central.refs(), before);
    }
}

fn a_push_whose_objects_fail_fsck_is_refused() {
    let central = gated();
    let agent = clone(&central);
    let tree = agent.rev_parse("drafts^{tree}");
    let parent = agent.rev_parse("drafts");
    let bad = format!(
        "tree {tree}\nparent {parent}\nauthor nobody <> not-a-date\ncommitter nobody <> not-a-date\n\nbroken\n"
    );
    let commit =
        agent.git_with_stdin(&["hash-object", "-t", "commit", "--literally", "-w", "--stdin"], bad.as_bytes(), &[]);
    let commit = String::from_utf8(commit).unwrap().trim().to_string();
    let before = central.refs();
    let output = agent.git_command().args(["push", "origin", &format!("{commit}:refs/heads/drafts")]).output().unwrap();
    assert!(!output.status.success());
    assert_eq!(central.refs(), before);
}

fn with_main_other_deny_a_readme_edit_is_refused() {
    let central = gated();
    let person = clone(&central);
    person.json(Who::Human, &["config", "set", "gate", "{main_other: deny}", "--push"]);
    person.write("README.md", b"# changed\n");
    person.git(&["add", "README.md"]);
    person.git(&["commit", "-q", "-m", "Docs"]);
    refused(&central, &person, &["main"], "GATE_MAIN_NOT_APPLIED");
}

/// Over `file://` the pusher's environment reaches the hook, which stands in
/// for a server that names the pusher (gitolite sets `GL_USER`); through
/// `git daemon` nobody is named, and nothing is narrowed.
#[test]
fn scopes_narrow_what_each_pusher_the_server_names_may_move() {
    let central = gated();
    let person = clone(&central);
    person.json(
        Who::Human,
        &["config", "set", "gate", "{scopes: {ops-bot: [drafts, notes], alice: [main, drafts, notes]}}", "--push"],
    );
    let agent = clone(&central);
    let mut args = create_args("scoped");
    args.push("--push".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let created = agent.run(Who::Agent, &args).env("GL_USER", "ops-bot").json();
    let id = created["id"].as_str().unwrap().to_string();
    // The agent's credential cannot move main, even with a person's apply.
    person.json(Who::Human, &["sync"]);
    person.json(Who::Human, &["apply", &id]);
    let before = central.refs();
    let output = person
        .git_command()
        .env("GL_USER", "ops-bot")
        .args(["push", "origin", "main", "drafts", "refs/notes/zen-evidence"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("GATE_SCOPE"));
    assert_eq!(central.refs(), before);
    // Nor can a pusher the scopes do not name.
    let output = person.git_command().env("GL_USER", "mallory").args(["push", "origin", "drafts"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("GATE_SCOPE"));
    person
        .git_command()
        .env("GL_USER", "alice")
        .args(["push", "-q", "origin", "main", "drafts", "refs/notes/zen-evidence"])
        .status()
        .unwrap();
    assert!(central.file_on("main", "endpoints/scoped.yaml").contains("scoped"));
}

fn a_signers_change_signed_by_someone_who_is_no_admin_is_refused() {
    let central = gated();
    let agent = clone(&central);
    // The agent lists itself as a person and an admin by plain git, then
    // signs a signers change with its own key.
    let signers = agent.file_on("main", ".zen/allowed_signers");
    let line = signers.lines().find(|l| l.starts_with("ops-bot")).unwrap();
    let key_part = line.split_once("ssh-ed25519").map(|(_, k)| format!("ssh-ed25519{k}")).unwrap();
    agent.write(
        ".zen/allowed_signers",
        format!("{signers}ops-bot namespaces=\"zen-draft-admin\" {key_part}\n").as_bytes(),
    );
    agent.git(&["commit", "-q", "-am", "Promote myself"]);
    let public = agent.root.join("ops-bot.pub");
    std::fs::write(&public, format!("{key_part}\n")).unwrap();
    agent
        .run(Who::Human, &["signers", "add", "helper", public.to_str().unwrap()])
        .env("ZEN_USER_ID", "ops-bot")
        .env("ZEN_SIGNING_KEY", key(&agent, "ops-bot").to_str().unwrap())
        .refused("NOT_AN_ADMIN");
    // The tool will not sign it, so the agent forges the record: an admin's
    // change, re-signed with its own key.
    agent.json(Who::Human, &["signers", "add", "helper", public.to_str().unwrap()]);
    let changed = agent.rev_parse("main");
    resign_in_place(&agent, &changed, "ops-bot", |record| {
        record["changed_by"] = "user:ops-bot".into();
        record["signer"] = "ops-bot".into();
    });
    let said = refused(&central, &agent, &ALL, "GATE_CONFIG_NOT_SIGNED");
    assert!(said.contains(IN_FORCE), "the change is not signed by an admin of its era:\n{said}");
}

/// The gate's word for a record its position's signers do not allow.
const IN_FORCE: &str = "only keys listed in .zen/allowed_signers at that position sign records";

fn an_applied_draft_edited_in_place_or_a_submodule_on_drafts_is_refused() {
    let central = gated();
    let person = clone(&central);
    let id = create(&person, Who::Agent, "done", &["--push"]);
    person.json(Who::Human, &["apply", &id, "--push"]);
    let path = draft_path(&person, &id);
    let file = person.file_on("drafts", &path).replace("status: applied", "status: pending");
    commit_on_ref(&person, "refs/heads/drafts", &[(&path, Some(&write_blob(&person, file.as_bytes())))], "Reopen");
    refused(&central, &person, &["drafts"], "GATE_NOT_A_LIFECYCLE_STEP");
    person.git(&["update-ref", "refs/heads/drafts", "refs/remotes/origin/drafts"]);

    let start = person.rev_parse("drafts");
    let index = person.root.join("submodule-index");
    let with_index = |args: &[&str]| {
        let out = person.git_command().env("GIT_INDEX_FILE", &index).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    with_index(&["read-tree", &start]);
    with_index(&["update-index", "--add", "--cacheinfo", &format!("160000,{start},drafts/vendored")]);
    let tree = with_index(&["write-tree"]);
    let commit = person.git(&["commit-tree", &tree, "-p", &start, "-m", "A submodule"]).trim().to_string();
    person.git(&["update-ref", "refs/heads/drafts", &commit]);
    refused(&central, &person, &["drafts"], "GATE_BAD_OBJECT");
}

/// Every pushing case runs twice: clones reaching the central repo over
/// `file://`, and through `git daemon` on loopback.
macro_rules! over_both_transports {
    ($($name:ident),* $(,)?) => {
        mod over_file_urls {
            $( #[test] fn $name() { super::with(super::Transport::File, super::$name) } )*
        }
        mod through_git_daemon {
            $( #[test] fn $name() { super::with(super::Transport::Daemon, super::$name) } )*
        }
    };
}

over_both_transports!(
    the_honest_paths_land_with_push,
    an_agent_pushing_an_endpoint_onto_main_is_refused,
    an_agent_listing_its_key_for_applies_and_applying_is_refused,
    a_persons_apply_record_moved_onto_another_commit_is_refused,
    a_draft_file_committed_with_plain_git_or_edited_in_place_is_refused,
    bad_objects_on_the_drafts_branch_are_refused,
    records_out_of_place_or_backdated_are_refused,
    force_pushes_and_deletes_of_the_guarded_refs_are_refused,
    a_push_whose_objects_fail_fsck_is_refused,
    with_main_other_deny_a_readme_edit_is_refused,
    a_signers_change_signed_by_someone_who_is_no_admin_is_refused,
    an_applied_draft_edited_in_place_or_a_submodule_on_drafts_is_refused,
    a_merge_that_rolls_main_back_is_refused,
    junk_in_the_notes_tree_and_a_lying_notes_commit_are_refused,
    a_record_dated_ahead_of_its_arrival_is_refused
);

fn a_merge_that_rolls_main_back_is_refused() {
    let central = gated();
    let person = clone(&central);
    let older = person.rev_parse("main");
    let id = create(&person, Who::Agent, "applied", &["--push"]);
    person.json(Who::Human, &["apply", &id, "--push"]);
    let applied = person.rev_parse("main");
    // First parent: the older main; second: main now. The tree is the older one.
    let tree = person.rev_parse(&format!("{older}^{{tree}}"));
    let merge = person.git(&["commit-tree", &tree, "-p", &older, "-p", &applied, "-m", "Merge"]).trim().to_string();
    person.git(&["update-ref", "refs/heads/main", &merge]);
    person.git(&["reset", "-q", "--hard"]);
    refused(&central, &person, &["main"], "GATE_MAIN_NOT_APPLIED");
}

fn junk_in_the_notes_tree_and_a_lying_notes_commit_are_refused() {
    let central = gated();
    let agent = clone(&central);
    let start = agent.rev_parse("refs/notes/zen-evidence");
    let junk = write_blob(&agent, b"not a record\n");
    commit_on_ref(
        &agent,
        "refs/notes/zen-evidence",
        &[("config/000000000099/config_changed", Some(&junk))],
        "Junk\n\nEvidence-Size: 2\n",
    );
    refused(&central, &agent, &["refs/notes/zen-evidence"], "GATE_RECORD_INVALID");
    agent.git(&["update-ref", "refs/notes/zen-evidence", &start]);
    let tree = agent.rev_parse("refs/notes/zen-evidence^{tree}");
    let lie =
        agent.git(&["commit-tree", &tree, "-p", &start, "-m", "Nothing\n\nEvidence-Size: 999\n"]).trim().to_string();
    agent.git(&["update-ref", "refs/notes/zen-evidence", &lie]);
    let before = central.refs();
    let output = agent.git_command().args(["push", "origin", "refs/notes/zen-evidence"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("GATE_RECORD_INVALID"));
    assert_eq!(central.refs(), before);
}

fn a_record_dated_ahead_of_its_arrival_is_refused() {
    let central = gated();
    let agent = clone(&central);
    let ahead = (chrono::Utc::now() + chrono::Duration::minutes(9)).to_rfc3339();
    let args = create_args("from-the-future");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    agent.run(Who::Agent, &args).env("ZEN_TEST_CLOCK", &ahead).assert().success();
    let before = central.refs();
    let output = agent.git_command().args(["push", "origin", "drafts", "refs/notes/zen-evidence"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("GATE_CLOCK_SKEW"));
    assert_eq!(central.refs(), before);
}
