//! Concurrent writers: several `draft` processes started at the same instant
//! against one repo. Compare-and-swap on the drafts ref with a bounded retry
//! means no draft is lost, exactly one of two racing discards wins, and the
//! repo stays sound (`git fsck --strict`).

use crate::support::{TestRepo, Who, race};

fn create_args(name: &str) -> Vec<String> {
    ["create", "endpoint", "--name", name, "--provider", "stripe", "--target-url"]
        .into_iter()
        .map(str::to_string)
        .chain([format!("https://hooks.example.com/{name}")])
        .collect()
}

fn assert_fsck_clean(repo: &TestRepo) {
    let output = repo.git_command().args(["fsck", "--strict", "--no-progress"]).output().expect("git runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "git fsck --strict failed:\n{stderr}");
    for word in ["error", "warning", "missing", "broken", "bad"] {
        assert!(!stderr.contains(word), "git fsck reports {word}:\n{stderr}");
    }
}

fn names(drafts: &[serde_json::Value]) -> Vec<String> {
    let mut names: Vec<String> =
        drafts.iter().map(|d| d["proposed_spec"]["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

#[test]
fn eight_processes_creating_at_once_all_land_and_none_is_lost() {
    let repo = TestRepo::new();
    let start = repo.rev_parse("drafts");
    let racers: Vec<String> = (0..8).map(|i| format!("racer-{i}")).collect();

    let outputs = race(&repo, racers.iter().map(|n| (Who::Agent, create_args(n))).collect());

    for (name, output) in racers.iter().zip(&outputs) {
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(names(&repo.list_json(&[])), racers);
    assert_eq!(repo.files_on("drafts").len(), 8);
    let history = repo.git(&["rev-list", "--first-parent", &format!("{start}..drafts")]);
    assert_eq!(history.lines().count(), 8, "one commit per draft, in one line of history");
    assert_fsck_clean(&repo);
}

#[test]
fn four_creators_and_two_discarders_at_once_lose_nothing_and_discard_once() {
    let repo = TestRepo::new();
    let victim = repo.create_endpoint_as(Who::Agent, "victim", &[]);
    let creators: Vec<String> = (0..4).map(|i| format!("racer-{i}")).collect();
    let mut commands: Vec<(Who, Vec<String>)> = creators.iter().map(|n| (Who::Agent, create_args(n))).collect();
    commands.push((Who::Human, vec!["discard".into(), victim.clone(), "--reason".into(), "first".into()]));
    commands.push((Who::Agent, vec!["discard".into(), victim.clone(), "--reason".into(), "second".into()]));

    let outputs = race(&repo, commands);

    for (name, output) in creators.iter().zip(&outputs[..4]) {
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let discards = &outputs[4..];
    let won: Vec<bool> = discards.iter().map(|o| o.status.success()).collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "exactly one discard wins: {discards:#?}");
    let loser = discards.iter().find(|o| !o.status.success()).unwrap();
    assert_eq!(loser.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&loser.stderr).starts_with("error[NOT_PENDING]"), "{loser:?}");

    let all = repo.list_json(&["--all"]);
    let mut expected = creators.clone();
    expected.push("victim".into());
    expected.sort();
    assert_eq!(names(&all), expected);
    let shown = repo.show_json(&victim);
    assert_eq!(shown["status"], "discarded");
    let (by, reason) = if won[0] { ("user:alice", "first") } else { ("agent:ops-bot", "second") };
    assert_eq!(shown["discarded_by"], by);
    assert_eq!(shown["reason"], reason);
    assert_fsck_clean(&repo);
}

#[test]
fn a_stale_ref_lock_is_reported_at_once_with_its_path_and_the_fix() {
    let repo = TestRepo::new();
    let lock = repo.path.join(".git/refs/heads/drafts.lock");
    std::fs::write(&lock, b"").unwrap();
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
    std::fs::File::options().write(true).open(&lock).unwrap().set_modified(long_ago).unwrap();

    let started = std::time::Instant::now();
    let args = create_args("billing");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let refusal = repo.run(Who::Agent, &args).refused("LOCKED");

    assert!(started.elapsed() < std::time::Duration::from_secs(10), "no 31 s of retries first");
    assert!(refusal.message.contains("refs/heads/drafts.lock"), "{}", refusal.message);
    assert!(refusal.stderr.contains("remove"), "{}", refusal.stderr);
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

#[test]
fn a_lock_held_by_a_live_writer_is_waited_for() {
    let repo = TestRepo::new();
    let lock = repo.path.join(".git/refs/heads/drafts.lock");
    std::fs::write(&lock, b"").unwrap();
    let releaser = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            std::fs::remove_file(lock).unwrap();
        })
    };
    let output = repo.command(Who::Agent).args(create_args("billing")).output().unwrap();
    releaser.join().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(repo.files_on("drafts").len(), 1);
}
