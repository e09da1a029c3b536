//! After writing, zen-draft starts git's own upkeep (`git maintenance run
//! --auto`) in the background, as `git commit` does, so loose objects do not
//! pile up in a repo only zen-draft writes; `zen.autoMaintenance false`
//! turns it off.

use crate::support::*;
use std::time::{Duration, Instant};

/// Enough loose objects that git's estimate (it counts `objects/17/`) passes
/// a low `gc.auto` whatever their ids.
fn pile_up_loose_objects(repo: &TestRepo) {
    let dir = repo.root.join("loose");
    std::fs::create_dir_all(&dir).unwrap();
    let mut paths = String::new();
    for i in 0..4000 {
        let path = dir.join(format!("{i}"));
        std::fs::write(&path, format!("loose object {i}\n")).unwrap();
        paths.push_str(&format!("{}\n", path.display()));
    }
    repo.git_with_stdin(&["hash-object", "-w", "--stdin-paths"], paths.as_bytes(), &[]);
    repo.git(&["config", "gc.auto", "100"]);
}

fn packs(repo: &TestRepo) -> usize {
    let dir = repo.path.join(".git/objects/pack");
    std::fs::read_dir(dir)
        .map_or(0, |d| d.filter(|e| e.as_ref().unwrap().path().extension() == Some("pack".as_ref())).count())
}

#[test]
fn a_write_starts_gits_upkeep_which_packs_the_repository() {
    let repo = TestRepo::new();
    pile_up_loose_objects(&repo);
    assert_eq!(packs(&repo), 0);

    repo.create_endpoint_as(Who::Agent, "billing", &[]);

    let deadline = Instant::now() + Duration::from_secs(60);
    while packs(&repo) == 0 {
        assert!(Instant::now() < deadline, "no pack appeared: git maintenance did not run");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Nothing was lost to the repack.
    repo.json(Who::Nobody, &["evidence", "verify"]);
}

#[test]
fn upkeep_can_be_turned_off() {
    let repo = TestRepo::new();
    pile_up_loose_objects(&repo);
    repo.git(&["config", "zen.autoMaintenance", "false"]);

    repo.create_endpoint_as(Who::Agent, "billing", &[]);

    // A negative can only be watched for a while: upkeep that ran would have
    // packed within this time in the test above.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(packs(&repo), 0);
}
