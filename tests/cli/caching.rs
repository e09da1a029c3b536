//! The cache under `.git/zen-draft/` only speeds up what is shown. A verdict
//! planted there (as anyone who can write `.git/` could) may change what
//! `list` shows, but never what `validate`, `apply` or `evidence verify`
//! decide: they do not read it.

use crate::support::*;

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
