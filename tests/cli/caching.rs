//! The cache under `.git/zen-draft/` only speeds up what is shown. A verdict
//! planted there (as anyone who can write `.git/` could) may change what
//! `list` shows, but never what `validate`, `apply` or `evidence verify`
//! decide: they do not read it.

use crate::support::*;
use serde_json::Value;

/// The cache key `list` uses for "this draft's evidence verified": SHA-256
/// over a purpose tag, the draft blob, its records' index folder and the
/// allowed_signers blob, cut to 20 bytes (written here independently).
fn verdict_key(repo: &TestRepo, draft_path: &str) -> Vec<u8> {
    use sha2::Digest;
    let oid = |rev: &str| {
        let hex = repo.rev_parse(rev);
        (0..40).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect::<Vec<u8>>()
    };
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"zen-draft evidence verdict v2");
    hasher.update(oid(&format!("drafts:{draft_path}")));
    hasher.update(oid(&format!("refs/notes/zen-evidence:{}", draft_path.trim_end_matches(".yaml"))));
    hasher.update(oid("main:.zen/allowed_signers"));
    hasher.finalize()[..20].to_vec()
}

#[test]
fn a_forged_verdict_in_the_cache_decides_nothing() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "billing", &[]);
    let path = repo.show_json(&id)["path"].as_str().unwrap().to_string();
    // The agent rewrites its draft after review: the spec no longer matches
    // the signed record.
    let edited = repo.file_on("drafts", &path).replace("https://hooks.example.com/billing", GOOD_TARGET);
    repo.plant_draft_file(&path, edited.as_bytes());
    assert_eq!(repo.list_json(&[])[0]["evidence"], "invalid");

    let cache = repo.path.join(".git/zen-draft/verified-signatures-v1");
    let mut planted = std::fs::read(&cache).unwrap_or_default();
    planted.extend(verdict_key(&repo, &path));
    std::fs::write(&cache, planted).unwrap();
    assert_eq!(repo.list_json(&[])[0]["evidence"], "verified", "the forged verdict is read by list, which only shows");

    for args in [vec!["validate"], vec!["validate", id.as_str()], vec!["validate", "--all"]] {
        let (status, report) = repo.run(Who::Nobody, &args).json_with_status();
        assert_eq!(status, 4, "{args:?}: {report:#}");
        assert_eq!(failed_codes(&report["results"][0]["checks"]), ["EVIDENCE_MISMATCH"], "{args:?}");
    }
    repo.run(Who::Human, &["apply", &id]).refused("EVIDENCE_MISMATCH");
    repo.run(Who::Nobody, &["evidence", "verify"]).refused("EVIDENCE_INVALID");
}

/// A signature cache cut in the middle of a key is started again: every
/// key after the cut would be read askew.
#[test]
fn a_cut_signature_cache_is_started_again() {
    let repo = TestRepo::new();
    repo.create_endpoint("billing");
    let first = listing(&repo, &[]);
    let cache = repo.path.join(".git/zen-draft/verified-signatures-v1");
    let mut torn = std::fs::read(&cache).unwrap();
    assert_eq!(torn.len() % 20, 0);
    torn.extend_from_slice(&[7; 7]);
    std::fs::write(&cache, &torn).unwrap();
    assert_eq!(listing(&repo, &[]), first);
    let after = std::fs::read(&cache).unwrap();
    assert!(after.len().is_multiple_of(20) && !after.is_empty(), "{} bytes", after.len());
}

#[test]
fn deleting_the_cache_changes_no_answer() {
    let repo = TestRepo::new();
    for name in ["a", "b", "c"] {
        repo.create_endpoint_as(Who::Agent, name, &[]);
    }
    let warm = repo.list_json(&["--all"]);
    std::fs::remove_dir_all(repo.path.join(".git/zen-draft")).unwrap();
    assert_eq!(repo.list_json(&["--all"]), warm);
    assert_eq!(repo.list_json(&["--all"]), warm, "and the refilled cache gives the same answer");
}

/// What `draft --json list` writes, byte for byte.
fn listing(repo: &TestRepo, args: &[&str]) -> Vec<u8> {
    let mut full = vec!["--json", "list"];
    full.extend_from_slice(args);
    repo.draft(&full).success().get_output().stdout.clone()
}

/// A branch with every kind of entry a listing writes: pending drafts (two
/// rivals for one resource, one that would change main, one that would not),
/// an applied and a discarded one, a draft planted without records in the
/// 0.1 day-folder layout (and expired), and a file that is no draft.
fn repo_with_every_entry() -> TestRepo {
    let repo = TestRepo::new();
    let applied = repo.create_endpoint("billing");
    repo.draft(&["apply", &applied]).success();
    repo.create_endpoint("billing");
    repo.create_endpoint_as(Who::Agent, "refunds", &["--rationale", "retry \"storms\" \u{2014} see\nthe runbook"]);
    repo.create_endpoint_as(Who::Agent, "refunds", &[]);
    let discarded = repo.create_endpoint("payouts");
    repo.draft(&["discard", &discarded]).success();
    repo.plant_draft_file(EXPIRED_PATH, &fixture_bytes("drafts/valid/expired-endpoint.yaml"));
    repo.plant_draft_file("drafts/2026/01/01/not-a-draft.yaml", b"version: [1\n");
    repo
}

/// The rows a listing remembers stand in for the files it read: a second
/// listing writes exactly what the first did, for every filter, and so does
/// one after the rows are lost, cut short, or left by another build.
#[test]
fn a_remembered_listing_is_the_listing_read_from_git() {
    let repo = repo_with_every_entry();
    let rows = repo.path.join(".git/zen-draft/rows-v1");
    let filters: [&[&str]; 4] = [&[], &["--all"], &["--status", "applied"], &["--type", "endpoint", "--all"]];
    let cold: Vec<Vec<u8>> = filters.iter().map(|args| listing(&repo, args)).collect();
    let all: Value = serde_json::from_slice(&cold[1]).unwrap();
    let statuses: Vec<&str> = all["drafts"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    for status in ["pending", "applied", "discarded", "expired", "invalid"] {
        assert!(statuses.contains(&status), "no {status} entry in {all:#}");
    }
    assert_eq!(all["conflicts"].as_array().unwrap().len(), 1, "{all:#}");
    assert!(std::fs::metadata(&rows).unwrap().len() > 0, "the first listing remembered rows");

    let again = || filters.iter().map(|args| listing(&repo, args)).collect::<Vec<_>>();
    assert_eq!(again(), cold, "remembered");
    for (name, what) in [("rows-v1", "rows"), ("folders-v1", "folders")] {
        let file = repo.path.join(".git/zen-draft").join(name);
        let full = std::fs::read(&file).unwrap();
        std::fs::write(&file, &full[..full.len() * 2 / 3]).unwrap();
        assert_eq!(again(), cold, "{name} cut short");
        // Started again, not appended to askew: each record once.
        assert_eq!(std::fs::read(&file).unwrap().len(), full.len(), "{name} after a cut");
        let mut garbage = full.clone();
        for byte in garbage.iter_mut().skip(200).step_by(7) {
            *byte ^= 0x5a;
        }
        std::fs::write(&file, &garbage).unwrap();
        assert_eq!(again(), cold, "{name} garbled");
        let line = format!("zen-draft listing {what} v1, zen-draft 0.0.0\n");
        let mut foreign = line.as_bytes().to_vec();
        foreign.extend_from_slice(&full[full.iter().position(|&b| b == b'\n').unwrap() + 1..]);
        std::fs::write(&file, &foreign).unwrap();
        assert_eq!(again(), cold, "{name} from another build");
        assert!(!std::fs::read(&file).unwrap().starts_with(line.as_bytes()), "{name} started again");
        std::fs::remove_file(&file).unwrap();
        assert_eq!(again(), cold, "{name} lost");
    }
}

/// A second listing does not read what it remembers: with a draft's blob
/// and the folder holding it gone from the object database, it still lists
/// the draft as before; only a listing without the folders (which reads the
/// trees again) and the rows (which reads the file) finds them missing.
#[test]
fn a_remembered_row_stands_in_for_its_file() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("billing");
    let path = repo.show_json(&id)["path"].as_str().unwrap().to_string();
    let first = listing(&repo, &[]);
    let folder = path.rsplit_once('/').unwrap().0;
    let remove = |rev: &str| {
        let oid = repo.rev_parse(rev);
        std::fs::remove_file(repo.path.join(format!(".git/objects/{}/{}", &oid[..2], &oid[2..]))).unwrap();
    };
    remove(&format!("drafts:{path}"));
    remove(&format!("drafts:{folder}"));
    assert_eq!(listing(&repo, &[]), first);
    std::fs::remove_file(repo.path.join(".git/zen-draft/rows-v1")).unwrap();
    assert_eq!(repo.list_json(&[])[0]["status"], "invalid", "the folder remembered, the file read");
    std::fs::remove_file(repo.path.join(".git/zen-draft/folders-v1")).unwrap();
    repo.draft(&["--json", "list"]).failure();
}

/// What a row derives from main is derived again: a draft listed while its
/// resource was new is `none` once a rival's apply wrote the same spec, and a later
/// listing from the rows writes what one from the files does.
#[test]
fn a_remembered_row_follows_main() {
    let repo = TestRepo::new();
    let first = repo.create_endpoint("billing");
    repo.create_endpoint_as(Who::Agent, "billing", &["--rationale", "the same spec, proposed again"]);
    repo.create_endpoint("refunds");
    let before: Value = serde_json::from_slice(&listing(&repo, &[])).unwrap();
    assert!(before["drafts"].as_array().unwrap().iter().all(|d| d["change"] == "new"), "{before:#}");
    repo.draft(&["apply", &first]).success();
    let after = listing(&repo, &[]);
    let parsed: Value = serde_json::from_slice(&after).unwrap();
    let changes: Vec<&str> =
        parsed["drafts"].as_array().unwrap().iter().map(|d| d["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["none", "new"], "{parsed:#}");
    assert_eq!(listing(&repo, &[]), after, "remembered again");
    std::fs::remove_dir_all(repo.path.join(".git/zen-draft")).unwrap();
    assert_eq!(listing(&repo, &[]), after, "read from git");
}

/// A row is a function of the draft file alone: a draft rewritten on the
/// branch, or whose records changed, is read again, not shown as remembered.
#[test]
fn a_remembered_row_never_outlives_its_file_or_its_evidence() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint_as(Who::Agent, "billing", &[]);
    let path = repo.show_json(&id)["path"].as_str().unwrap().to_string();
    assert_eq!(repo.list_json(&[])[0]["evidence"], "verified");
    assert_eq!(repo.list_json(&[])[0]["evidence"], "verified", "remembered");

    let edited = repo.file_on("drafts", &path).replace("https://hooks.example.com/billing", GOOD_TARGET);
    repo.plant_draft_file(&path, edited.as_bytes());
    let listed = repo.list_json(&[]);
    assert_eq!(listed[0]["proposed_spec"]["target_url"], GOOD_TARGET, "the file as it is now");
    assert_eq!(listed[0]["evidence"], "invalid");

    repo.git(&["update-ref", "-d", "refs/notes/zen-evidence"]);
    assert_eq!(repo.list_json(&[])[0]["evidence"], "missing", "no records: nothing backs it");
}

/// The rows file stays about the size of the branch it lists, however often
/// its files were rewritten: rows no listing uses any more are dropped.
#[test]
fn remembered_rows_do_not_pile_up() {
    let repo = TestRepo::new();
    let rows = repo.path.join(".git/zen-draft/rows-v1");
    repo.create_endpoint("billing");
    let fixture = String::from_utf8(fixture_bytes("drafts/valid/expired-endpoint.yaml")).unwrap();
    let mut largest = 0;
    // Each round rewrites one draft file (a new blob, so a new row) and lists.
    for round in 0..100 {
        let text = fixture.replace("version: 1\n", &format!("version: 1\nrationale: round {round:03}\n"));
        assert_ne!(text, fixture);
        repo.plant_draft_file(EXPIRED_PATH, text.as_bytes());
        let listed: Value = serde_json::from_slice(&listing(&repo, &[])).unwrap();
        assert_eq!(listed["drafts"][1]["rationale"], format!("round {round:03}"), "{listed:#}");
        largest = largest.max(std::fs::metadata(&rows).unwrap().len());
    }
    let file = std::fs::read(&rows).unwrap();
    let header = file.iter().position(|&b| b == b'\n').unwrap() as u64 + 1;
    let per_row = (file.len() as u64 - header) / 2;
    // Two rows in use; a rewrite once the file holds more than twice that and 64.
    assert!(largest < header + per_row * (2 * 2 + 64 + 2), "{largest} bytes at most, {per_row} a row");
}
