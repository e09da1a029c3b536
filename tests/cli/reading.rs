//! Reading everywhere (SPEC §1): list, show and validate read the object
//! database only, so they work in a bare repo and in a CI clone that has only
//! `origin/drafts`, need no identity, and say how to get the drafts branch when
//! there is none.

use crate::support::{TestRepo, Who};

/// list, show and validate all work as nobody and move no ref.
fn assert_reads_work(repo: &TestRepo, id: &str) {
    let refs = repo.refs();
    let drafts = repo.list_json(&[]);
    assert_eq!(drafts.len(), 1, "{drafts:#?}");
    assert_eq!(drafts[0]["id"], id);
    let shown = repo.show_json(id);
    assert_eq!(shown["proposed_spec"]["name"], "billing");
    assert!(shown["diff"].as_str().unwrap().contains("+++ b/endpoints/billing.yaml"));
    let report = repo.json(Who::Nobody, &["validate"]);
    assert_eq!(report["results"][0]["ok"], true, "{report:#}");
    repo.anonymous_draft(&["list"]).success();
    repo.anonymous_draft(&["show", id]).success();
    repo.anonymous_draft(&["validate", id]).success();
    assert_eq!(repo.refs(), refs, "reading moves no ref");
}

#[test]
fn read_commands_work_in_a_bare_repo() {
    let repo = TestRepo::new_bare();
    let id = repo.create_endpoint("billing");

    assert_reads_work(&repo, &id);
}

#[test]
fn read_commands_work_in_a_bare_mirror() {
    let source = TestRepo::new();
    let id = source.create_endpoint("billing");
    let repo = TestRepo::clone_of(&source, &["--mirror"]);

    assert_reads_work(&repo, &id);
}

const NOTES_REFSPEC: &str = "refs/notes/zen-evidence:refs/notes/zen-evidence";

/// A fresh `git clone`: local main, `origin/drafts`, no local drafts branch,
/// and (git never clones notes) no evidence log.
fn ci_clone() -> (TestRepo, TestRepo, String) {
    let source = TestRepo::new();
    let id = source.create_endpoint("billing");
    let repo = TestRepo::clone_of(&source, &[]);
    assert!(!repo.git_succeeds(&["rev-parse", "--verify", "-q", "refs/heads/drafts"]), "no local drafts branch");
    assert!(repo.git_succeeds(&["rev-parse", "--verify", "-q", "refs/remotes/origin/drafts"]));
    (source, repo, id)
}

#[test]
fn list_and_show_work_in_a_fresh_clone_that_has_only_origin_drafts() {
    let (_source, repo, id) = ci_clone();
    let refs = repo.refs();

    let drafts = repo.list_json(&[]);
    let shown = repo.show_json(&id);

    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0]["id"], id.as_str());
    assert_eq!(shown["proposed_spec"]["name"], "billing");
    repo.anonymous_draft(&["list"]).success();
    repo.anonymous_draft(&["show", &id]).success();
    assert_eq!(repo.refs(), refs, "reading creates no branch and moves no ref");
}

#[test]
fn validate_runs_every_draft_check_in_a_fresh_clone_that_has_only_origin_drafts() {
    let (_source, repo, id) = ci_clone();

    let (_, report) = repo.run(Who::Nobody, &["validate"]).json_with_status();

    let result = &report["results"][0];
    assert_eq!(result["id"], id.as_str(), "{report:#}");
    for check in result["checks"].as_array().unwrap() {
        if check["code"] != "EVIDENCE_MISMATCH" {
            assert_eq!(check["ok"], true, "only the evidence, which git does not clone, may be missing: {check}");
        }
    }
}

#[test]
fn read_commands_work_in_a_ci_clone_that_fetched_origin_drafts_and_the_evidence_notes() {
    let (_source, repo, id) = ci_clone();
    repo.git(&["fetch", "-q", "origin", NOTES_REFSPEC]);

    assert_reads_work(&repo, &id);
    assert!(!repo.git_succeeds(&["rev-parse", "--verify", "-q", "refs/heads/drafts"]), "reading creates no branch");
}

#[test]
fn validate_in_a_clone_without_the_evidence_notes_says_how_to_fetch_them() {
    let (_source, repo, _) = ci_clone();

    let (code, report) = repo.run(Who::Nobody, &["validate"]).json_with_status();

    assert_eq!(code, 4, "missing evidence fails closed: {report:#}");
    let check = report["results"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "EVIDENCE_MISMATCH")
        .cloned()
        .expect("an evidence check");
    assert_eq!(check["ok"], false);
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("draft sync --no-push") && message.contains("refs/notes/zen-evidence"),
        "a CI clone has no notes until it fetches them; the failure should say so: {message}"
    );
}

#[test]
fn read_commands_take_the_repo_from_the_repo_flag() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let path = repo.path.to_str().unwrap();

    let out = repo.command(Who::Nobody).current_dir(&repo.root).args(["--repo", path, "--json", "list"]).assert();

    let listed: serde_json::Value = serde_json::from_slice(&out.success().get_output().stdout).unwrap();
    assert_eq!(listed["drafts"][0]["id"], id.as_str());
    repo.command(Who::Nobody).current_dir(&repo.root).args(["show", &id, "--repo", path]).assert().success();
}

fn assert_points_to_fetch_and_init(refusal: &crate::support::Refusal) {
    let said = format!("{}\n{}", refusal.message, refusal.stderr);
    assert!(said.contains("git fetch"), "says how to fetch the branch:\n{said}");
    assert!(said.contains("draft init"), "says how to create it:\n{said}");
}

#[test]
fn read_commands_without_a_drafts_branch_say_how_to_fetch_it_or_run_init() {
    let source = TestRepo::new();
    let id = source.create_endpoint("billing");
    let repo = TestRepo::clone_of(&source, &["--single-branch", "--branch", "main"]);

    for args in [vec!["list"], vec!["show", id.as_str()], vec!["validate"]] {
        let refusal = repo.run(Who::Nobody, &args).refused("NOT_INITIALIZED");
        assert_points_to_fetch_and_init(&refusal);
    }
}

#[test]
fn read_commands_after_the_drafts_branch_was_deleted_say_how_to_get_it_back() {
    let repo = TestRepo::new();
    repo.git(&["branch", "-D", "drafts"]);

    let refusal = repo.run(Who::Nobody, &["list"]).refused("NOT_INITIALIZED");

    assert_points_to_fetch_and_init(&refusal);
}

#[test]
fn read_commands_in_a_repo_never_set_up_say_how_to_fetch_or_init() {
    let repo = TestRepo::with_history();

    for args in [vec!["list"], vec!["show", "0193a7c2"], vec!["validate"]] {
        let refusal = repo.run(Who::Nobody, &args).refused("NOT_INITIALIZED");
        assert_points_to_fetch_and_init(&refusal);
    }
}

#[test]
fn commands_outside_any_repo_are_refused_as_not_a_repo() {
    let place = TestRepo::not_a_repo();

    for args in [vec!["list"], vec!["show", "0193a7c2"], vec!["validate"], vec!["init"]] {
        place.run(Who::Human, &args).refused("NOT_A_REPO");
    }
    place
        .run(
            Who::Human,
            &["create", "endpoint", "--name", "x", "--provider", "stripe", "--target-url", "https://a.example.com/"],
        )
        .refused("NOT_A_REPO");
}

#[test]
fn a_repo_flag_naming_no_repo_is_refused_as_not_a_repo() {
    let repo = TestRepo::new();
    let nowhere = repo.root.join("no-such-dir");

    repo.run(Who::Nobody, &["--repo", nowhere.to_str().unwrap(), "list"]).refused("NOT_A_REPO");
}

/// A listing reads the branches and the log at one moment: a discard landing
/// while it reads (its drafts commit and its record) counts whole or not at
/// all. Before, a listing that had read the drafts branch saw the discard's
/// record but not its file, and showed a pending draft with invalid evidence.
#[test]
fn a_discard_landing_while_list_reads_shows_one_state() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let listed = crate::support::read_while_a_discard_lands(&repo, &["list"], "list:after-drafts", &id);
    let drafts = listed["drafts"].as_array().expect("a drafts array");
    assert_eq!(drafts.len(), 1, "{listed:#}");
    assert_eq!(drafts[0]["status"], "pending", "{listed:#}");
    assert_eq!(drafts[0]["evidence"], "verified", "{listed:#}");
    assert_eq!(repo.list_json(&["--all"])[0]["status"], "discarded");

    // The table people read takes the same path.
    let id = repo.create_endpoint("payments");
    let mut table = repo.std_command(Who::Nobody, crate::support::DRAFT_BIN);
    table.arg("list");
    let output = crate::support::paused(table, "list:after-drafts", || {
        repo.draft(&["discard", &id, "--reason", "superseded"]).success();
    });
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && text.contains("verified") && !text.contains("invalid"), "{text}");
}

/// `draft show` too: the draft, its checks and its evidence are one state.
#[test]
fn a_discard_landing_while_show_reads_shows_one_state() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let shown = crate::support::read_while_a_discard_lands(&repo, &["show", &id], "show:after-drafts", &id);
    assert_eq!(shown["status"], "pending", "{shown:#}");
    assert_eq!(shown["evidence"], "verified", "{shown:#}");
}

/// In a clone with only `origin/drafts`, the first discard makes the local
/// drafts branch. A listing that found no local branch when it pinned the
/// refs keeps reading `origin/drafts` with the notes of that moment, even if
/// the branch appears while it reads. Before, it read the new local branch
/// beside the old notes: the discarded file without its record.
#[test]
fn a_local_branch_made_while_list_reads_does_not_mix_into_it() {
    let (_source, repo, id) = ci_clone();
    repo.git(&["fetch", "-q", "origin", NOTES_REFSPEC]);
    let mut list = repo.std_command(Who::Nobody, crate::support::DRAFT_BIN);
    list.args(["--json", "list", "--all"]);
    let output = crate::support::paused(list, "read:pinned", || {
        repo.draft(&["discard", &id, "--reason", "superseded"]).success();
        assert!(repo.git_succeeds(&["rev-parse", "--verify", "-q", "refs/heads/drafts"]), "the discard made it");
    });
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed["drafts"][0]["status"], "pending", "{listed:#}");
    assert_eq!(listed["drafts"][0]["evidence"], "verified", "{listed:#}");
    assert_eq!(repo.list_json(&["--all"])[0]["status"], "discarded");
}

/// `GET path` on `addr` over plain HTTP/1.1 with `cookie`; the whole reply.
fn http_get(addr: &str, path: &str, cookie: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("the server listens");
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

/// The dashboard's table and the pending count beside it are one moment:
/// a discard landing while the page reads shows in neither or in both.
/// Before, the table and the count were two reads, and the page listed a
/// pending draft beside "0 pending".
#[test]
fn a_dashboard_page_reads_its_table_and_its_pending_count_at_one_moment() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let pause = tempfile::tempdir().unwrap();
    let mut command = repo.std_command(Who::Human, crate::support::DRAFT_BIN);
    command.env("ZEN_TEST_PAUSE", "read:pinned").env("ZEN_TEST_PAUSE_DIR", pause.path());
    let mut served = crate::support::Served::start(command);
    let login = served.wait_for("/login?token=");
    let path = login.trim().split(&served.addr).nth(1).expect("a login URL on the server's address").to_string();
    let signed_in = http_get(&served.addr, &path, None);
    let cookie = signed_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("the login sets a cookie: {signed_in}"))
        .to_string();

    let addr = served.addr.clone();
    let page = std::thread::spawn(move || http_get(&addr, "/", Some(&cookie)));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !pause.path().join("reached").exists() {
        assert!(std::time::Instant::now() < deadline, "the page never read: {}", served.log());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    repo.draft(&["discard", &id, "--reason", "superseded"]).success();
    std::fs::write(pause.path().join("go"), b"").unwrap();
    let html = page.join().unwrap();
    assert!(html.contains(&id[..8]) && html.contains(">1 pending</a>"), "{html}");
}
