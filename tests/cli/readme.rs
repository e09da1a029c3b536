//! Every example command in the README runs, as written and in the README's
//! order, on the repository the README sets up: each ```sh block is run by
//! bash in a sandbox (its own HOME with an empty `~/.ssh`, its own git
//! config, this build's `draft` first on PATH), carrying the working folder
//! and exported variables from block to block.
//!
//! Markers in an HTML comment on the line before a block:
//! `readme-test: skip: WHY` (not run; the reason is required), `readme-test:
//! file NAME` (a non-shell block written to NAME in the working folder) and
//! `readme-test: fresh (…)` (a new sandbox from this block on: another
//! machine, keeping `~/.ssh`).
//!
//! The README's placeholders stand for what only a run knows, and are the
//! only text replaced: `01a20a70` and `01a20a7c` (the ids of the first and
//! second draft created on this machine), `sha256:cb5ca017…` (the first
//! one's spec digest), `12:9f86d0…` and `9f86d0…` (the log's size and root
//! now), and `/srv/` (a folder of the sandbox, as no test may write `/srv`).

use crate::support::DRAFT_BIN;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug)]
enum Marker {
    Skip,
    File(String),
    Fresh,
}

#[derive(Debug)]
struct Block {
    lang: String,
    text: String,
    /// The README line the block starts on, for failure messages.
    line: usize,
    marker: Option<Marker>,
}

fn blocks(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(lang) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let marker = (0..i).rev().map(|j| lines[j].trim()).find(|l| !l.is_empty()).and_then(|previous| {
            let spec = previous.strip_prefix("<!-- readme-test: ")?.strip_suffix(" -->")?;
            Some(if let Some(why) = spec.strip_prefix("skip: ") {
                assert!(!why.trim().is_empty(), "a skipped block says why (README line {i})");
                Marker::Skip
            } else if let Some(name) = spec.strip_prefix("file ") {
                Marker::File(name.to_string())
            } else if spec.starts_with("fresh") {
                Marker::Fresh
            } else {
                panic!("README line {i}: unknown readme-test marker {spec:?}")
            })
        });
        let end = (i + 1..lines.len()).find(|&j| lines[j].starts_with("```")).expect("every block is closed");
        blocks.push(Block { lang: lang.to_string(), text: lines[i + 1..end].join("\n") + "\n", line: i + 1, marker });
        i = end + 1;
    }
    blocks
}

/// One machine: a home, and the state bash leaves between blocks.
struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
    cwd: PathBuf,
    /// `export -p` after the last block.
    exports: String,
}

impl Sandbox {
    fn new(keys_from: Option<&Sandbox>) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::create_dir_all(root.join("srv")).unwrap();
        if let Some(other) = keys_from {
            for entry in std::fs::read_dir(other.home.join(".ssh")).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), home.join(".ssh").join(entry.file_name())).unwrap();
            }
        }
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Alice\n\temail = alice@example.com\n[init]\n\tdefaultBranch = main\n[maintenance]\n\tauto = false\n",
        )
        .unwrap();
        Sandbox { cwd: home.clone(), _dir: dir, root, home, exports: String::new() }
    }

    fn command(&self, program: &str) -> Command {
        let bin_dir = Path::new(DRAFT_BIN).parent().unwrap();
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", path)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CEILING_DIRECTORIES", &self.root)
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C")
            .current_dir(&self.cwd);
        cmd
    }

    /// Runs one block in bash, failing on the first command that fails, and
    /// keeps where it left off.
    fn run(&mut self, script: &str, line: usize) -> String {
        let state = self.root.join("state");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(state.join("exports"), &self.exports).unwrap();
        let wrapped = format!(
            "set -e -o pipefail\nsource {exports}\n{script}\npwd > {cwd}\nexport -p > {exports}\n",
            exports = state.join("exports").display(),
            cwd = state.join("cwd").display(),
        );
        let output = self.command("bash").arg("-c").arg(&wrapped).output().unwrap();
        let (stdout, stderr) =
            (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr));
        assert!(
            output.status.success(),
            "the README block at line {line} failed ({}):\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            output.status
        );
        self.cwd = PathBuf::from(std::fs::read_to_string(state.join("cwd")).unwrap().trim());
        self.exports = std::fs::read_to_string(state.join("exports")).unwrap();
        stdout
    }

    /// `draft --json ARGS` in the working folder, when it is a repository.
    fn draft_json(&self, args: &[&str]) -> Option<Value> {
        let output = self.command(DRAFT_BIN).arg("--json").args(args).output().ok()?;
        serde_json::from_slice(&output.stdout).ok().filter(|v: &Value| v.get("error").is_none())
    }

    /// The README's placeholders, bound to this machine's values now.
    fn substitute(&self, text: &str) -> String {
        let mut text = text.replace("/srv/", &format!("{}/", self.root.join("srv").display()));
        if let Some(listed) = self.draft_json(&["list", "--all"]) {
            let mut ids: Vec<String> = listed["drafts"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|d| d["id"].as_str().map(String::from))
                .collect();
            ids.sort(); // UUIDv7: creation order
            for (placeholder, id) in ["01a20a70", "01a20a7c"].into_iter().zip(&ids) {
                text = text.replace(placeholder, id);
            }
            if let Some(first) = ids.first()
                && let Some(shown) = self.draft_json(&["show", first])
            {
                text = text.replace("sha256:cb5ca017…", shown["spec_digest"].as_str().unwrap_or_default());
            }
        }
        if text.contains("9f86d0…")
            && let Some(log) = self.draft_json(&["evidence", "verify"])
        {
            let root = log["root"].as_str().unwrap().to_string();
            text = text.replace("12:9f86d0…", &format!("{}:{root}", log["size"])).replace("9f86d0…", &root);
        }
        text
    }
}

#[test]
fn every_example_in_the_readme_runs_as_written_in_order() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut machines = vec![Sandbox::new(None)];
    let mut ran = 0;
    for block in blocks(&readme) {
        let sandbox = machines.last_mut().unwrap();
        match (&block.marker, block.lang.as_str()) {
            (Some(Marker::Skip), _) => continue,
            (Some(Marker::File(name)), _) => {
                std::fs::write(sandbox.cwd.join(name), &block.text).unwrap();
                continue;
            }
            (Some(Marker::Fresh), lang) => {
                assert_eq!(lang, "sh", "README line {}: a fresh machine starts with commands", block.line);
                let fresh = Sandbox::new(Some(sandbox));
                machines.push(fresh);
            }
            (None, "sh") => {}
            // Configuration, output and file formats: shown, not run.
            (None, _) => continue,
        }
        let sandbox = machines.last_mut().unwrap();
        let script = sandbox.substitute(&block.text);
        let commands = script.lines().map(|l| l.split(" #").next().unwrap_or_default()).filter(|l| !l.starts_with('#'));
        // `set -e` does not stop at a failure left of `&&` or `||`: one command a line.
        assert!(
            !commands.clone().any(|l| l.contains("&&") || l.contains("||")),
            "README line {}: one command a line, so each failure stops the run:\n{script}",
            block.line
        );
        assert!(
            !commands.clone().any(|l| l.contains('…')),
            "README line {}: a placeholder no run can fill:\n{script}",
            block.line
        );
        sandbox.run(&script, block.line);
        ran += 1;
    }
    assert!(ran >= 15, "only {ran} README blocks ran");

    // What the examples did, checked from outside: the first machine applied
    // the first draft, and the last one's person applied the agent's draft
    // through the central repository, which holds it.
    let first = &machines[0];
    let on_main = first.command("git").args(["show", "main:endpoints/stripe-payments.yaml"]).output().unwrap();
    assert!(on_main.status.success(), "the quick start's apply reached main");
    let last = machines.last().unwrap();
    let central = last.root.join("srv/git/infra.git");
    let on_central = last
        .command("git")
        .args(["--git-dir", central.to_str().unwrap(), "show", "main:endpoints/stripe-prod.yaml"])
        .output()
        .unwrap();
    assert!(on_central.status.success(), "the agent's draft, applied by a person, is on the central main");
}

/// The markers are read as documented: a skip needs its reason.
#[test]
fn readme_blocks_are_found_with_their_markers() {
    let text = "intro\n\n<!-- readme-test: skip: needs a server -->\n```sh\ncurl x\n```\n\n```sh\ndraft list\n```\n";
    let found = blocks(text);
    assert_eq!(found.len(), 2);
    assert!(matches!(found[0].marker, Some(Marker::Skip)));
    assert!(found[1].marker.is_none());
    assert_eq!(found[1].text, "draft list\n");
}
