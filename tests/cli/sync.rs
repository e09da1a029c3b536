//! Many clones of one central repository: `draft sync` and `--push`, over
//! `file://` and over a real git server process (`git daemon`) on loopback.
//! The central repository is the sequencer: once pushed, positions are
//! unique and contiguous, whatever the clones did and wherever they stopped.

use crate::support::{DRAFT_BIN, GitDaemon, TestRepo, Who, exit_code_of};
use serde_json::Value;

fn clone(central: &TestRepo) -> TestRepo {
    TestRepo::clone_url(&central.file_url(), central)
}

/// What `draft sync` fetches, fetched by plain git: the remote-tracking
/// refs are then where a sync's own fetch would put them.
fn fetch_like_sync(repo: &TestRepo) {
    repo.git(&["fetch", "-q", "origin", "+refs/notes/zen-evidence:refs/notes/remotes/origin/zen-evidence"]);
    repo.git(&["fetch", "-q", "origin"]);
}

fn create_args(name: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["create", "endpoint", "--name", name, "--provider", "stripe", "--target-url"]
        .into_iter()
        .map(str::to_string)
        .collect();
    args.push(format!("https://hooks.example.com/{name}"));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn create(repo: &TestRepo, who: Who, name: &str, extra: &[&str]) -> Value {
    let args = create_args(name, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    repo.json(who, &args)
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

/// A fresh clone of `url`, synced read-only, verifies the whole log; its
/// positions are 0..n-1. Returns the drafts it lists.
fn verify_fresh_clone(url: &str, central: &TestRepo) -> Vec<Value> {
    let fresh = TestRepo::clone_url(url, central);
    fresh.json(Who::Nobody, &["sync", "--no-push"]);
    let verified = fresh.json(Who::Nobody, &["evidence", "verify"]);
    assert_eq!(verified["ok"], true, "{verified:#}");
    let size = verified["size"].as_u64().unwrap();
    assert_eq!(fresh.positions(), (0..size).collect::<Vec<_>>());
    fresh.list_json(&["--all"])
}

fn names(drafts: &[Value]) -> Vec<String> {
    let mut names: Vec<String> =
        drafts.iter().map(|d| d["proposed_spec"]["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

fn outcome<'a>(report: &'a Value, event: &str, id: &str) -> &'a Value {
    report["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|o| o["event"] == event && o["draft_id"] == id)
        .unwrap_or_else(|| panic!("no {event} of {id} in {report:#}"))
}

#[test]
fn a_create_pushed_from_one_clone_is_what_a_fresh_clone_verifies() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let created = create(&a, Who::Agent, "one", &["--push"]);
    assert_eq!(created["push"]["remote"], "origin");
    let pushed: Vec<&str> =
        created["push"]["pushed"].as_array().unwrap().iter().map(|p| p["ref"].as_str().unwrap()).collect();
    assert_eq!(pushed, ["refs/heads/drafts", "refs/notes/zen-evidence"]);
    assert_eq!(central.rev_parse("drafts"), a.rev_parse("drafts"));
    assert_eq!(created["commit"].as_str().unwrap(), central.rev_parse("drafts"));
    let drafts = verify_fresh_clone(&central.file_url(), &central);
    assert_eq!(names(&drafts), ["one"]);
}

#[test]
fn without_push_nothing_touches_the_network() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    a.git(&["remote", "set-url", "origin", "file:///nonexistent/nowhere.git"]);
    create(&a, Who::Agent, "offline", &[]);
    a.draft(&["list"]).success();
}

#[test]
fn two_clones_that_each_created_offline_land_both_renumbered() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let b = clone(&central);
    let one = id_of(&create(&a, Who::Agent, "one", &[]));
    let two = id_of(&create(&b, Who::Agent, "two", &[]));
    // Both took position 0 locally.
    a.json(Who::Agent, &["sync"]);
    let report = b.json(Who::Agent, &["sync"]);
    assert_eq!(outcome(&report, "draft_created", &two)["outcome"], "replayed");
    let drafts = verify_fresh_clone(&central.file_url(), &central);
    assert_eq!(names(&drafts), ["one", "two"]);
    // The replayed create kept its id, and took the time it entered the log.
    let shown = b.show_json(&two);
    assert_eq!(shown["id"], two.as_str());
    a.json(Who::Agent, &["sync"]);
    assert_eq!(a.show_json(&one)["evidence"], "verified");
    assert_eq!(a.show_json(&two)["evidence"], "verified");
}

#[test]
fn a_second_sync_with_nothing_new_moves_nothing() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    create(&a, Who::Agent, "one", &["--push"]);
    let first = a.json(Who::Agent, &["sync"]);
    let refs = a.refs();
    let central_refs = central.refs();
    let second = a.json(Who::Agent, &["sync"]);
    assert_eq!(second["pushed"], serde_json::json!([]));
    assert_eq!(second["updated"], serde_json::json!([]));
    assert_eq!(second["operations"], serde_json::json!([]));
    assert_eq!(a.refs(), refs);
    assert_eq!(central.refs(), central_refs);
    let _ = first;
}

fn spawn_creates(clone: &TestRepo, prefix: &str, count: usize) -> std::thread::JoinHandle<Vec<std::process::Output>> {
    let commands: Vec<std::process::Command> = (0..count)
        .map(|i| {
            let mut cmd = clone.std_command(Who::Agent, DRAFT_BIN);
            cmd.arg("--json").args(create_args(&format!("{prefix}-{i:02}"), &["--push"]));
            cmd
        })
        .collect();
    std::thread::spawn(move || commands.into_iter().map(|mut cmd| cmd.output().expect("draft runs")).collect())
}

fn four_clones_push_25_creates_each_at_once(url: &str, central: &TestRepo) {
    let clones: Vec<TestRepo> = (0..4).map(|_| TestRepo::clone_url(url, central)).collect();
    let workers: Vec<_> = clones.iter().enumerate().map(|(i, c)| spawn_creates(c, &format!("c{i}"), 25)).collect();
    for worker in workers {
        for output in worker.join().expect("worker") {
            assert!(
                output.status.success(),
                "create --push failed:\n{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
            assert!(!report["push"]["pushed"].as_array().unwrap().is_empty(), "{report:#}");
        }
    }
    let drafts = verify_fresh_clone(url, central);
    assert_eq!(drafts.len(), 100);
    assert_eq!(central.positions(), (0..100).collect::<Vec<_>>());
}

#[test]
fn four_clones_pushing_25_creates_each_at_once_over_file_urls_get_positions_0_to_99() {
    let central = TestRepo::new_bare();
    four_clones_push_25_creates_each_at_once(&central.file_url(), &central);
}

#[test]
fn four_clones_pushing_25_creates_each_at_once_through_git_daemon_get_positions_0_to_99() {
    let central = TestRepo::new_bare();
    let daemon = GitDaemon::serve(&central);
    four_clones_push_25_creates_each_at_once(&daemon.url(), &central);
}

#[test]
fn offline_work_lands_in_one_sync_and_an_apply_whose_base_changed_is_dropped() {
    let central = TestRepo::new_bare();
    let daemon = GitDaemon::serve(&central);
    let a = TestRepo::clone_url(&daemon.url(), &central);
    let b = TestRepo::clone_url(&daemon.url(), &central);
    let stale = id_of(&create(&a, Who::Agent, "shared", &["--push"]));
    let to_discard = id_of(&create(&a, Who::Agent, "unwanted", &["--push"]));
    b.json(Who::Human, &["sync"]);
    let rival = id_of(&create(&b, Who::Agent, "shared", &["--push"]));

    // Offline in a: two creates, a discard and an apply.
    let new_one = id_of(&create(&a, Who::Agent, "fresh-1", &[]));
    let new_two = id_of(&create(&a, Who::Human, "fresh-2", &[]));
    a.json(Who::Human, &["discard", &to_discard]);
    a.json(Who::Human, &["apply", &stale]);
    let stale_main_commit = a.rev_parse("main");

    // Meanwhile b applies the rival for the same resource, and creates more.
    b.json(Who::Human, &["apply", &rival, "--push"]);
    create(&b, Who::Agent, "other", &["--push"]);

    let report = a.json(Who::Human, &["sync"]);
    let dropped = outcome(&report, "draft_applied", &stale);
    assert_eq!(dropped["outcome"], "dropped", "{report:#}");
    assert_eq!(dropped["code"], "BASE_CHANGED");
    // Signed by the agent's key, so alice cannot re-sign them.
    assert_eq!(outcome(&report, "draft_created", &new_one)["outcome"], "unpushed");
    assert_eq!(outcome(&report, "draft_created", &new_two)["outcome"], "replayed");
    assert_eq!(outcome(&report, "draft_discarded", &to_discard)["outcome"], "replayed");
    // The agent's sync pushes the rest.
    let report = a.json(Who::Agent, &["sync"]);
    assert_eq!(outcome(&report, "draft_created", &new_one)["outcome"], "replayed", "{report:#}");

    assert!(!central.git_succeeds(&["merge-base", "--is-ancestor", &stale_main_commit, "main"]));
    let drafts = verify_fresh_clone(&daemon.url(), &central);
    let state = |id: &str| drafts.iter().find(|d| d["id"] == id).map(|d| d["status"].clone()).unwrap();
    assert_eq!(state(&stale), "pending");
    assert_eq!(state(&rival), "applied");
    assert_eq!(state(&to_discard), "discarded");
    assert_eq!(state(&new_one), "pending");
    assert_eq!(state(&new_two), "pending");
    assert_eq!(names(&drafts), ["fresh-1", "fresh-2", "other", "shared", "shared", "unwanted"]);
    // a's own refs now match the central repo's.
    for branch in ["main", "drafts", "refs/notes/zen-evidence"] {
        assert_eq!(a.rev_parse(branch), central.rev_parse(branch), "{branch}");
    }
    assert_eq!(a.status(), "", "the work tree followed main");
}

#[test]
fn apply_and_discard_of_one_draft_from_two_clones_exactly_one_wins_every_time() {
    let central = TestRepo::new_bare();
    let daemon = GitDaemon::serve(&central);
    let a = TestRepo::clone_url(&daemon.url(), &central);
    let b = TestRepo::clone_url(&daemon.url(), &central);
    for round in 0..20 {
        let id = id_of(&create(&a, Who::Agent, &format!("race-{round}"), &["--push"]));
        b.json(Who::Human, &["sync", "--no-push"]);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let mut apply = a.std_command(Who::Human, DRAFT_BIN);
        apply.args(["--json", "apply", &id, "--push"]);
        let mut discard = b.std_command(Who::Human, DRAFT_BIN);
        discard.args(["--json", "discard", &id, "--push"]);
        let handles: Vec<_> = [apply, discard]
            .into_iter()
            .map(|mut cmd| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    cmd.output().expect("draft runs")
                })
            })
            .collect();
        let outputs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won: Vec<bool> = outputs.iter().map(|o| o.status.success()).collect();
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "round {round}: {outputs:?}");
        let loser = outputs.iter().find(|o| !o.status.success()).unwrap();
        let refusal: Value = serde_json::from_slice(&loser.stdout).expect("JSON error");
        let code = refusal["error"]["code"].as_str().unwrap();
        assert_eq!(loser.status.code(), Some(exit_code_of(code)));
        assert!(["NOT_PENDING", "BASE_CHANGED"].contains(&code), "round {round}: {refusal:#}");
        let fresh = TestRepo::clone_url(&daemon.url(), &central);
        fresh.json(Who::Nobody, &["sync", "--no-push"]);
        let status = fresh.show_json(&id)["status"].as_str().unwrap().to_string();
        let expected = if won[0] { "applied" } else { "discarded" };
        assert_eq!(status, expected, "round {round}");
        a.json(Who::Human, &["sync"]);
        b.json(Who::Human, &["sync"]);
    }
    verify_fresh_clone(&daemon.url(), &central);
}

// ---- a crash at any step ----

/// The central repo holds each draft once, at contiguous positions, and a
/// fresh clone verifies it.
fn assert_sound(central: &TestRepo, url: &str) -> Vec<Value> {
    let drafts = verify_fresh_clone(url, central);
    let mut ids: Vec<&str> = drafts.iter().map(|d| d["id"].as_str().unwrap()).collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "a draft is on the central repo twice");
    let mut names = names(&drafts);
    names.dedup();
    assert_eq!(names.len(), count, "one create landed twice");
    drafts
}

#[test]
fn a_push_that_stops_before_or_after_the_push_is_completed_by_the_next_sync_once() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let b = clone(&central);
    for (n, point) in ["create:after-refs", "sync:before-push", "sync:after-push"].into_iter().enumerate() {
        create(&b, Who::Agent, &format!("rival-{n}"), &["--push"]);
        let args = create_args(&format!("stopped-{n}"), &["--push"]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let crashed = a.run(Who::Agent, &args).env("ZEN_TEST_CRASH", point).assert();
        assert!(!crashed.get_output().status.success(), "{point}: the process should have died");
        a.json(Who::Agent, &["sync"]);
        let again = a.json(Who::Agent, &["sync"]);
        assert_eq!(again["pushed"], serde_json::json!([]), "{point}: a second sync pushes nothing: {again:#}");
    }
    let drafts = assert_sound(&central, &central.file_url());
    assert_eq!(drafts.len(), 6);
}

#[test]
fn a_sync_that_dies_in_the_middle_of_its_replay_moved_no_ref_and_the_next_one_lands_it() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let b = clone(&central);
    a.json(Who::Agent, &["sync", "--no-push"]);
    create(&a, Who::Agent, "first", &[]);
    create(&a, Who::Agent, "second", &[]);
    create(&b, Who::Agent, "theirs", &["--push"]);
    fetch_like_sync(&a);
    let refs = a.refs();
    // The second create's replay dies after writing its objects.
    let crashed = a.run(Who::Agent, &["sync"]).env("ZEN_TEST_CRASH", "create:after-refs").assert();
    assert!(!crashed.get_output().status.success());
    assert_eq!(a.refs(), refs, "a replay moves no ref until it is whole");
    a.json(Who::Agent, &["sync"]);
    assert_eq!(names(&assert_sound(&central, &central.file_url())), ["first", "second", "theirs"]);
}

#[test]
fn pushes_killed_at_random_moments_leave_nothing_that_the_next_sync_cannot_finish() {
    use std::os::unix::process::CommandExt;
    let central = TestRepo::new_bare();
    let daemon = GitDaemon::serve(&central);
    let a = TestRepo::clone_url(&daemon.url(), &central);
    let b = TestRepo::clone_url(&daemon.url(), &central);
    for (n, delay_ms) in [5u64, 20, 40, 60, 90, 130, 180, 250].into_iter().enumerate() {
        create(&b, Who::Agent, &format!("rival-{n}"), &["--push"]);
        let mut cmd = a.std_command(Who::Agent, DRAFT_BIN);
        cmd.arg("--json").args(create_args(&format!("killed-{n}"), &["--push"]));
        cmd.process_group(0).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        let child = cmd.spawn().expect("draft runs");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        // kill -9 of the whole process group: draft and the git it runs.
        let _ = std::process::Command::new("kill").args(["-9", "--", &format!("-{}", child.id())]).status();
        let mut child = child;
        let _ = child.wait();
        sync_after_a_kill(&a);
    }
    let drafts = assert_sound(&central, &daemon.url());
    assert!(drafts.len() >= 8, "every rival landed");
}

/// `draft sync` after a process was killed: it completes, or, when the
/// killed process died holding a branch's ref lock, reports it (`LOCKED`,
/// naming the file); removed as the hint says, the next sync completes.
fn sync_after_a_kill(repo: &TestRepo) {
    let (code, report) = repo.run(Who::Agent, &["sync"]).json_with_status();
    if code == 0 {
        return;
    }
    assert_eq!(report["error"]["code"], "LOCKED", "{report:#}");
    // A kill in the middle of a transaction can leave several: all named.
    let message = report["error"]["message"].as_str().unwrap();
    let locks = message.split(" is locked").next().unwrap().split(" are locked").next().unwrap();
    for lock in locks.split(", ") {
        assert!(lock.ends_with(".lock"), "{message}");
        std::fs::remove_file(lock).expect("the lock the message names");
    }
    repo.json(Who::Agent, &["sync"]);
}

// ---- a remote that cannot be used ----

#[test]
fn an_unreachable_remote_is_reported_in_gits_words_and_local_work_waits_for_the_next_sync() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    a.json(Who::Agent, &["sync", "--no-push"]);
    let offline = id_of(&create(&a, Who::Agent, "offline", &[]));
    a.git(&["remote", "set-url", "origin", "git://127.0.0.1:9/nowhere.git"]);
    let refusal = a.run(Who::Agent, &["sync"]).refused("REMOTE_FAILED");
    assert!(refusal.message.contains("origin"), "{}", refusal.output());
    assert!(refusal.message.to_lowercase().contains("unable to connect"), "git's own words: {}", refusal.output());
    let args = create_args("pushed", &["--push"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    a.run(Who::Agent, &args).refused("REMOTE_FAILED");
    // Back online, the offline create lands.
    a.git(&["remote", "set-url", "origin", &central.file_url()]);
    let report = a.json(Who::Agent, &["sync"]);
    assert_eq!(outcome(&report, "draft_created", &offline)["outcome"], "kept");
    assert_eq!(names(&assert_sound(&central, &central.file_url())), ["offline"]);
}

/// An HTTP server on loopback that refuses every credential.
fn refusing_server() -> (u16, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    let mut buffer = [0u8; 4096];
                    let _ = stream.read(&mut buffer);
                    let _ = stream.write_all(
                        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"infra\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    });
    (port, handle)
}

#[test]
fn a_refused_credential_is_reported_without_the_credential() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    a.json(Who::Agent, &["sync", "--no-push"]);
    let (port, _server) = refusing_server();
    a.git(&["remote", "set-url", "origin", &format!("http://deploy:s3cr3t-pass@127.0.0.1:{port}/repo.git")]);
    let refusal = a.run(Who::Agent, &["sync"]).env("GIT_TERMINAL_PROMPT", "0").refused("REMOTE_FAILED");
    assert!(refusal.output().contains("Authentication failed"), "{}", refusal.output());
    refusal.assert_never_shows("s3cr3t-pass");
}

#[test]
fn a_remote_without_the_drafts_branch_or_the_notes_is_named_with_gits_message() {
    let source = TestRepo::new();
    let central = TestRepo::bare_uninitialized();
    source.git(&["push", "-q", &central.path.display().to_string(), "main"]);
    let a = TestRepo::clone_url(&central.file_url(), &source);
    a.git(&["fetch", "-q", "origin"]);
    let refusal = a.run(Who::Agent, &["sync"]).refused("NOT_INITIALIZED");
    assert!(refusal.message.contains("refs/heads/drafts"), "{}", refusal.output());
    assert!(refusal.message.contains("couldn't find remote ref"), "git's own words: {}", refusal.output());
    // The clone where `draft init` ran can set the remote up.
    source.git(&["remote", "add", "origin", &central.file_url()]);
    let report = source.json(Who::Agent, &["sync"]);
    let pushed: Vec<&str> = report["pushed"].as_array().unwrap().iter().map(|p| p["ref"].as_str().unwrap()).collect();
    assert_eq!(pushed, ["refs/heads/drafts", "refs/notes/zen-evidence"]);
    a.json(Who::Agent, &["sync"]);
}

#[test]
fn a_remote_that_is_not_an_infrastructure_repo_is_refused() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    a.json(Who::Agent, &["sync", "--no-push"]);
    let stranger = TestRepo::with_history();
    let unrelated = TestRepo::bare_uninitialized();
    stranger.git(&["push", "-q", &unrelated.path.display().to_string(), "main"]);
    a.git(&["remote", "set-url", "origin", &unrelated.file_url()]);
    a.git(&["fetch", "-q", "origin", "+refs/heads/main:refs/remotes/origin/main"]);
    let refusal = a.run(Who::Agent, &["sync"]).refused("NOT_INITIALIZED");
    assert!(refusal.message.contains("not set up for zen-draft"), "{}", refusal.output());
}

// ---- the work tree, and commits that are not ours ----

#[test]
fn a_checked_out_main_follows_a_synced_main_unless_local_edits_are_in_the_way() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let b = clone(&central);
    let one = id_of(&create(&b, Who::Agent, "one", &["--push"]));
    b.json(Who::Human, &["apply", &one, "--push"]);
    let report = a.json(Who::Agent, &["sync"]);
    assert_eq!(report["work_tree"], "followed");
    assert!(a.path.join("endpoints/one.yaml").exists());
    assert_eq!(a.status(), "");

    let two = id_of(&create(&b, Who::Agent, "two", &["--push"]));
    b.json(Who::Human, &["apply", &two, "--push"]);
    a.write("endpoints/two.yaml", b"my own edit\n");
    fetch_like_sync(&a);
    let main_before = a.rev_parse("main");
    a.run(Who::Agent, &["sync"]).refused("DIRTY_WORKTREE");
    assert_eq!(a.rev_parse("main"), main_before);
    assert_eq!(a.read("endpoints/two.yaml"), b"my own edit\n");
    std::fs::remove_file(a.path.join("endpoints/two.yaml")).unwrap();
    a.json(Who::Agent, &["sync"]);
    assert_eq!(a.rev_parse("main"), central.rev_parse("main"));
}

#[test]
fn a_hand_made_commit_on_main_is_never_rewritten_by_a_replay() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let b = clone(&central);
    a.json(Who::Agent, &["sync", "--no-push"]);
    a.write("README.md", b"# edited by hand\n");
    a.git(&["add", "README.md"]);
    a.git(&["commit", "-q", "-m", "A hand edit"]);
    let one = id_of(&create(&b, Who::Agent, "one", &["--push"]));
    b.json(Who::Human, &["apply", &one, "--push"]);
    create(&a, Who::Agent, "mine", &[]);
    fetch_like_sync(&a);
    let refusal = a.run(Who::Agent, &["sync"]).refused("CONFLICT");
    assert!(refusal.message.contains("refs/heads/main"), "{}", refusal.output());
}

// ---- reading in a plain clone ----

#[test]
fn read_commands_in_a_plain_clone_say_once_how_to_get_the_evidence() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let id = id_of(&create(&a, Who::Agent, "one", &["--push"]));
    let ci = clone(&central);
    for args in [vec!["list"], vec!["show", id.as_str()], vec!["validate", id.as_str()], vec!["--json", "list"]] {
        let output = ci.command(Who::Nobody).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.matches("draft sync --no-push").count(), 1, "{args:?}: {stderr}");
    }
    ci.json(Who::Nobody, &["sync", "--no-push"]);
    let output = ci.command(Who::Nobody).args(["list"]).output().unwrap();
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(ci.show_json(&id)["evidence"], "verified");
    ci.draft(&["validate", &id]).success();
}

// ---- doctor ----

#[test]
fn doctor_names_what_a_clone_owes_with_the_command_that_fixes_it() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    a.json(Who::Agent, &["sync", "--no-push"]);
    create(&a, Who::Agent, "unpushed", &[]);
    create(&clone(&central), Who::Agent, "theirs", &["--push"]);
    let report = a.json(Who::Nobody, &["doctor", "--online"]);
    let finding =
        |check: &str| report["findings"].as_array().unwrap().iter().find(|f| f["check"] == check).cloned().unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(finding("unpushed")["ok"], false);
    assert_eq!(finding("unpushed")["fix"], "draft sync");
    assert_eq!(finding("notes_refspec")["ok"], false);
    assert_eq!(finding("stale")["ok"], false);
    assert_eq!(finding("verified_head")["ok"], false);

    a.json(Who::Agent, &["sync"]);
    let fix = finding("notes_refspec")["fix"].as_str().unwrap().to_string();
    let words: Vec<&str> = fix.split_whitespace().collect();
    assert_eq!(words[0], "git");
    a.git(&words[1..]);
    a.json(Who::Nobody, &["evidence", "verify"]);
    let report = a.json(Who::Nobody, &["doctor", "--online"]);
    assert_eq!(report["ok"], true, "{report:#}");
}

#[test]
fn on_a_terminal_gits_progress_is_shown_and_off_one_it_is_not() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    let args = create_args("progress", &["--push"]);
    let line = std::iter::once(DRAFT_BIN.to_string()).chain(args).map(|a| format!("'{a}'")).collect::<Vec<_>>();
    let mut cmd = a.std_command(Who::Agent, "script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"]);
    let output = cmd.output().expect("script (util-linux) runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(terminal.contains("Writing objects"), "git's push progress on the terminal:\n{terminal}");

    let args = create_args("quiet", &["--push"]);
    let output = a.command(Who::Agent).args(&args).output().unwrap();
    assert!(output.status.success());
    assert!(output.stderr.is_empty(), "no progress off a terminal: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_shallow_clone_is_named_where_history_is_needed() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    create(&a, Who::Agent, "one", &["--push"]);
    let shallow = TestRepo::blank_clone_with(&["--depth", "1", &central.file_url()], &central);
    shallow.json(Who::Nobody, &["sync", "--no-push"]);
    for command in [&["evidence", "verify"][..], &["audit"][..]] {
        let refusal = shallow.run(Who::Nobody, command).refused("SHALLOW_CLONE");
        assert!(refusal.output().contains("git fetch --unshallow"), "{}", refusal.output());
    }
    let doctor = shallow.json(Who::Nobody, &["doctor"]);
    assert!(doctor["findings"].as_array().unwrap().iter().any(|f| f["check"] == "shallow"), "{doctor:#}");
    shallow.git(&["fetch", "-q", "--unshallow", "origin"]);
    shallow.json(Who::Nobody, &["evidence", "verify"]);
}

#[test]
fn a_fetch_killed_while_it_held_a_tracking_refs_lock_does_not_stop_the_next_sync() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    a.json(Who::Agent, &["sync", "--no-push"]);
    create(&clone(&central), Who::Agent, "theirs", &["--push"]);
    // What a fetch killed with -9 in the middle of its ref update leaves.
    let lock = a.path.join(".git/refs/notes/remotes/origin/zen-evidence.lock");
    std::fs::write(&lock, "0000000000000000000000000000000000000000\n").unwrap();
    let report = a.json(Who::Agent, &["sync"]);
    assert!(report["updated"].as_array().unwrap().iter().any(|r| r == "refs/notes/zen-evidence"), "{report:#}");
    assert!(!lock.exists());
}

#[test]
fn a_branch_lock_left_by_a_dead_writer_is_reported_with_its_file_and_never_removed() {
    let central = TestRepo::new_bare();
    let a = clone(&central);
    a.json(Who::Agent, &["sync", "--no-push"]);
    create(&a, Who::Agent, "mine", &[]);
    create(&clone(&central), Who::Agent, "theirs", &["--push"]);
    let lock = a.path.join(".git/refs/heads/drafts.lock");
    std::fs::write(&lock, "0000000000000000000000000000000000000000\n").unwrap();
    fetch_like_sync(&a);
    let refusal = a.run(Who::Agent, &["sync"]).refused("LOCKED");
    assert!(refusal.message.contains("drafts.lock"), "{}", refusal.output());
    assert!(lock.exists(), "a branch's lock is never removed");
    std::fs::remove_file(&lock).unwrap();
    a.json(Who::Agent, &["sync"]);
    assert_eq!(names(&verify_fresh_clone(&central.file_url(), &central)), ["mine", "theirs"]);
}
