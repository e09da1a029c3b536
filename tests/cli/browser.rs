//! A person applies a draft in a real browser: the real `draft serve` binary
//! on a free loopback port, Debian's headless Chromium driven by Playwright
//! (`tests/browser/apply.mjs`), and main checked afterwards. Screenshots land
//! in `target/screenshots/`.
//!
//! Never skipped: without `/usr/bin/chromium` or `tests/browser/node_modules`
//! the test fails and says how to install them (`.ci/run` does both).

use crate::support::{DRAFT_BIN, EXPIRED_PATH, Served, TestRepo, Who, failed_codes, fixture_bytes};
use std::path::{Path, PathBuf};
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("browser")
}

/// `target/screenshots/`.
fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp is in target").join("screenshots")
}

#[test]
fn a_person_signs_in_and_applies_a_draft_by_clicking_apply_in_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; .ci/run does)"
    );
    assert!(
        browser_dir().join("node_modules").join("playwright-core").exists(),
        "tests/browser/node_modules is missing: run `npm ci --prefix tests/browser` (.ci/run does)"
    );
    let repo = TestRepo::new();
    let id =
        repo.create_endpoint_as(Who::Agent, "stripe-payments", &["--rationale", "Rotate the signing secret (INC-12)"]);
    let rival = repo.create_endpoint_as(Who::Agent, "stripe-payments", &["--description", "Another take"]);
    repo.create_endpoint_as(Who::Agent, "github-push", &[]);
    // A stale draft, with its rationale: another change to its file was
    // applied after it was proposed.
    let stale = repo.create_endpoint_as(
        Who::Agent,
        "github-ci",
        &["--rationale", "Add release events for INC-7", "--link", "https://tickets.example.com/INC-7"],
    );
    let moved = repo.create_endpoint_as(Who::Agent, "github-ci", &["--description", "New CI host"]);
    repo.draft(&["apply", &moved]).success();
    repo.plant_draft_file(EXPIRED_PATH, &fixture_bytes("drafts/valid/expired-endpoint.yaml"));
    let before = repo.rev_parse("refs/heads/main");
    let mut served = Served::start(repo.std_command(Who::Human, DRAFT_BIN));
    let login = served.wait_for("/login?token=");
    let login_url = login.trim().to_string();
    assert!(login_url.starts_with("http://127.0.0.1:"), "{login_url}");

    let output = Command::new("node")
        .arg(browser_dir().join("apply.mjs"))
        .arg(&login_url)
        .arg(&id)
        .arg(screenshot_dir())
        .arg(&stale)
        .arg(&rival)
        .env("HOME", repo.home())
        .current_dir(browser_dir())
        .output()
        .expect("node runs (Debian: apt-get install nodejs npm)");
    assert!(
        output.status.success(),
        "the browser run failed:\n{}\n{}\ndraft serve:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        served.log()
    );

    let after = repo.rev_parse("refs/heads/main");
    assert_ne!(after, before, "main did not move");
    assert!(repo.file_on("main", "endpoints/stripe-payments.yaml").contains("name: stripe-payments"));
    let shown = repo.show_json(&id);
    assert_eq!((shown["status"].as_str(), shown["applied_by"].as_str()), (Some("applied"), Some("user:alice")));
    assert_eq!(shown["applied_commit"], after.as_str());
    for name in ["dashboard.png", "review.png", "blocked.png", "applied.png"] {
        assert!(screenshot_dir().join(name).exists(), "{name} was not saved");
    }
    let rival = repo.show_json(&rival);
    assert_eq!(failed_codes(&rival["checks"]), ["BASE_CHANGED"], "the rival is stale after the apply");
}
