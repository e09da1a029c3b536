//! What every test stands on: hermetic git repos in temp dirs, the real `draft`
//! binary run as a person, an agent or nobody, and the checks a refusal must
//! pass (exit code, `error[CODE]:` and a hint, the `--json` error shape, every
//! ref where it was).
//!
//! Nothing here may depend on the developer's machine: every process starts
//! from an empty environment with its own HOME, no global or system git config,
//! fixed git dates and no colour.

#![allow(dead_code)] // Each test module uses its own share of the helpers.

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use tempfile::TempDir;

/// The binary under test, as Cargo built it for this test run.
pub const DRAFT_BIN: &str = env!("CARGO_BIN_EXE_draft");

/// The tenant every initialised test repo belongs to.
pub const TENANT: &str = "acme";

/// A public https target that passes every check.
pub const GOOD_TARGET: &str = "https://hooks.example.com/stripe";

/// Where a hand-made draft whose file name is this id belongs on the drafts branch.
pub const PLANTED_ID: &str = "0193a7c2-5d20-7b3a-9c4f-2a6b8e1d0f37";
pub const PLANTED_PATH: &str = "drafts/2024/12/08/0193a7c2-5d20-7b3a-9c4f-2a6b8e1d0f37.yaml";

/// `fixtures/drafts/valid/expired-endpoint.yaml` and where it lives.
pub const EXPIRED_ID: &str = "0193a7c2-5d1e-7b3a-9c4f-2a6b8e1d0f35";
pub const EXPIRED_PATH: &str = "drafts/2024/12/08/0193a7c2-5d1e-7b3a-9c4f-2a6b8e1d0f35.yaml";

/// `fixtures/drafts/valid/pending-route.yaml` and where it lives.
pub const ROUTE_ID: &str = "0193a7c2-5d1f-7b3a-9c4f-2a6b8e1d0f36";
pub const ROUTE_PATH: &str = "drafts/2024/12/08/0193a7c2-5d1f-7b3a-9c4f-2a6b8e1d0f36.yaml";

/// Who runs a command: SPEC §2 identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// `ZEN_USER_ID=alice`.
    Human,
    /// `ZEN_MCP_TOKEN=t`, `ZEN_AGENT_ID=ops-bot`.
    Agent,
    /// No identity at all.
    Nobody,
}

/// The exit status SPEC §4 gives each code.
pub fn exit_code_of(code: &str) -> i32 {
    match code {
        "INTERNAL" => 1,
        "MCP_CANNOT_APPLY" | "USER_ID_REQUIRED" | "NOT_AN_APPLIER" | "NOT_THE_CREATOR" | "NOT_AN_ADMIN"
        | "TENANT_MISMATCH" => 3,
        "NOT_PENDING"
        | "EXPIRED"
        | "TYPE_NOT_APPLICABLE"
        | "TYPE_NOT_CREATABLE"
        | "SPEC_MISSING"
        | "INVALID_SPEC"
        | "UNKNOWN_PROVIDER"
        | "INVALID_TARGET_URL"
        | "RAW_SECRET"
        | "EVIDENCE_MISMATCH"
        | "BASE_CHANGED"
        | "INVALID_DRAFT" => 4,
        "NOT_FOUND" | "AMBIGUOUS_ID" => 5,
        "CONFLICT" | "LOCKED" | "DIRTY_WORKTREE" => 6,
        "NOT_A_REPO"
        | "NOT_INITIALIZED"
        | "INVALID_CONFIG"
        | "SIGNING_KEY_MISSING"
        | "EVIDENCE_INVALID"
        | "TRUST_ROOT_MISSING"
        | "TRUST_ROOT_CHANGED"
        | "SHALLOW_CLONE" => 7,
        "REMOTE_FAILED" => 8,
        other => panic!("no exit code known for {other}"),
    }
}

/// A file under `fixtures/`.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

pub fn fixture_bytes(path: &str) -> Vec<u8> {
    std::fs::read(fixture(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// A git repo in its own temp dir, with its own HOME next to it.
pub struct TestRepo {
    _dir: TempDir,
    /// The temp dir: HOME and the repo live under it, and git discovery stops at it.
    pub root: PathBuf,
    /// The work tree, or the repo itself when bare.
    pub path: PathBuf,
    pub bare: bool,
}

impl TestRepo {
    /// A repo whose first commit on main holds a README and a
    /// `.zen/allowed_signers` listing alice's and ops-bot's keys (see
    /// [`TestRepo::set_up_signers`]), then set up with `draft init --tenant acme`
    /// (which keeps that file).
    pub fn new() -> TestRepo {
        let repo = TestRepo::empty();
        repo.write("README.md", b"# infra\n");
        repo.write(".zen/allowed_signers", repo.install_keys().as_bytes());
        repo.git(&["add", "README.md", ".zen/allowed_signers"]);
        repo.git(&["commit", "-q", "-m", "Initial commit"]);
        repo.draft(&["init", "--tenant", TENANT]).success();
        repo
    }

    /// `git init -b main` and nothing else: main is unborn.
    pub fn empty() -> TestRepo {
        let repo = TestRepo::blank("repo", false);
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A repo with one commit (a README) on main, never set up for zen-draft.
    pub fn with_history() -> TestRepo {
        let repo = TestRepo::empty();
        repo.write("README.md", b"# infra\n");
        repo.git(&["add", "README.md"]);
        repo.git(&["commit", "-q", "-m", "Initial commit"]);
        repo
    }

    /// `git init --bare -b main`, never set up.
    pub fn bare_uninitialized() -> TestRepo {
        let repo = TestRepo::blank("repo.git", true);
        repo.git(&["init", "-q", "--bare", "-b", "main"]);
        repo
    }

    /// A bare repo set up like [`TestRepo::new`].
    pub fn new_bare() -> TestRepo {
        let repo = TestRepo::bare_uninitialized();
        repo.draft(&["init", "--tenant", TENANT]).success();
        repo.set_up_signers();
        repo
    }

    /// `git clone <source>` into a new temp dir: what a CI job has (local main,
    /// `origin/*` remote-tracking refs, no local drafts branch).
    pub fn clone_of(source: &TestRepo, extra: &[&str]) -> TestRepo {
        let repo = TestRepo::blank("clone", extra.contains(&"--bare"));
        let mut args = vec!["clone", "-q"];
        args.extend_from_slice(extra);
        let source_path = source.path.to_str().expect("utf-8 temp path");
        let target = repo.path.to_str().expect("utf-8 temp path");
        args.extend_from_slice(&[source_path, target]);
        repo.git_in(&repo.root, &args);
        if source.keys_dir().exists() {
            std::fs::create_dir_all(repo.keys_dir()).expect("keys dir");
            for name in ["alice", "ops-bot"] {
                std::fs::copy(source.keys_dir().join(name), repo.keys_dir().join(name)).expect("copy key");
            }
        }
        repo
    }

    /// A plain directory that is in no git repository.
    pub fn not_a_repo() -> TestRepo {
        TestRepo::blank("plain", false)
    }

    fn blank(name: &str, bare: bool) -> TestRepo {
        let dir = tempfile::Builder::new().prefix("zen-draft-test-").tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("temp dir path");
        let path = root.join(name);
        std::fs::create_dir_all(&path).expect("repo dir");
        std::fs::create_dir_all(root.join("home")).expect("home dir");
        TestRepo { _dir: dir, root, path, bare }
    }

    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// Lists alice's and ops-bot's keys on main in `.zen/allowed_signers`, in
    /// a commit of its own, the way a team would after `draft init`.
    pub fn set_up_signers(&self) {
        let signers = self.install_keys();
        self.commit_file_on_branch("main", ".zen/allowed_signers", signers.as_bytes());
    }

    /// Puts alice's and ops-bot's private keys where [`TestRepo::command`]
    /// finds them, and returns the `allowed_signers` lines for them: alice may
    /// sign evidence and applies; the agent (as ops-bot, or as the default
    /// `mcp-agent`) only evidence.
    pub fn install_keys(&self) -> String {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.keys_dir();
        std::fs::create_dir_all(&dir).expect("keys dir");
        let keys = test_keys();
        for (name, key) in [("alice", &keys[0]), ("ops-bot", &keys[1])] {
            let path = dir.join(name);
            std::fs::write(&path, &key.private).expect("write key");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("key mode");
        }
        format!(
            "alice namespaces=\"zen-draft-evidence,zen-draft-apply\" {}\nops-bot,mcp-agent namespaces=\"zen-draft-evidence\" {}\n",
            keys[0].public, keys[1].public
        )
    }

    // ---- running git ----

    /// A `git` command with the hermetic environment, run in the repo.
    pub fn git_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new("git");
        self.hermetic(&mut cmd);
        for (key, value) in [
            ("GIT_AUTHOR_NAME", "Test Author"),
            ("GIT_AUTHOR_EMAIL", "author@example.com"),
            ("GIT_AUTHOR_DATE", "1700000000 +0000"),
            ("GIT_COMMITTER_NAME", "Test Committer"),
            ("GIT_COMMITTER_EMAIL", "committer@example.com"),
            ("GIT_COMMITTER_DATE", "1700000000 +0000"),
            // No background `git maintenance` after the tests' commits.
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_KEY_0", "maintenance.auto"),
            ("GIT_CONFIG_VALUE_0", "false"),
        ] {
            cmd.env(key, value);
        }
        cmd.current_dir(&self.path);
        cmd
    }

    /// Runs git in the repo; panics unless it succeeds; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.path, args)
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let output = self.git_command().current_dir(dir).args(args).output().expect("git runs");
        assert!(output.status.success(), "git {} failed:\n{}", args.join(" "), String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("git prints utf-8 here")
    }

    /// Runs git with `input` on stdin; panics unless it succeeds; returns stdout.
    pub fn git_with_stdin(&self, args: &[&str], input: &[u8], env: &[(&str, &Path)]) -> Vec<u8> {
        use std::io::Write;
        let mut cmd = self.git_command();
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().expect("git runs");
        let mut stdin = child.stdin.take().expect("piped");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let output = child.wait_with_output().expect("git runs");
        writer.join().expect("writer thread").expect("git reads its stdin");
        assert!(output.status.success(), "git {} failed:\n{}", args.join(" "), String::from_utf8_lossy(&output.stderr));
        output.stdout
    }

    /// Whether git succeeds (for `git cat-file -e` and friends).
    pub fn git_succeeds(&self, args: &[&str]) -> bool {
        self.git_command().args(args).output().expect("git runs").status.success()
    }

    /// Every ref and where it points: a failed command must leave this as it was.
    pub fn refs(&self) -> String {
        self.git(&["for-each-ref", "--format=%(objectname) %(refname)"])
    }

    /// `git status --porcelain`, untracked files included.
    pub fn status(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }

    pub fn rev_parse(&self, what: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", what]).trim().to_string()
    }

    /// The files on a branch, one path a line, sorted.
    pub fn files_on(&self, branch: &str) -> Vec<String> {
        self.git(&["ls-tree", "-r", "--name-only", branch]).lines().map(str::to_string).collect()
    }

    /// The bytes of `path` on `branch`.
    pub fn file_on(&self, branch: &str, path: &str) -> String {
        self.git(&["show", &format!("{branch}:{path}")])
    }

    // ---- the work tree ----

    pub fn write(&self, path: &str, bytes: &[u8]) {
        let full = self.path.join(path);
        std::fs::create_dir_all(full.parent().expect("a file in a folder")).expect("folder");
        std::fs::write(full, bytes).expect("write file");
    }

    pub fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.path.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    // ---- planting hand-made commits ----

    /// Commits `bytes` at `path` on `branch` with git plumbing (a temporary
    /// index), so tests can plant files the tool would never write. If the
    /// branch is checked out, the index and work tree follow the new commit.
    pub fn commit_file_on_branch(&self, branch: &str, path: &str, bytes: &[u8]) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let index = self.root.join(format!("plant-index-{}", NEXT.fetch_add(1, Ordering::SeqCst)));
        let refname = format!("refs/heads/{branch}");
        let parent = self.git_command().args(["rev-parse", "--verify", "-q", &refname]).output().expect("git runs");
        let parent = parent.status.success().then(|| String::from_utf8_lossy(&parent.stdout).trim().to_string());
        let env: [(&str, &Path); 1] = [("GIT_INDEX_FILE", &index)];
        let with_index = |args: &[&str]| {
            let mut cmd = self.git_command();
            cmd.env("GIT_INDEX_FILE", &index).args(args);
            let output = cmd.output().expect("git runs");
            assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        };
        match &parent {
            Some(parent) => with_index(&["read-tree", parent]),
            None => with_index(&["read-tree", "--empty"]),
        };
        let blob = self.git_with_stdin(&["hash-object", "-w", "--stdin"], bytes, &env);
        let blob = String::from_utf8(blob).expect("hex").trim().to_string();
        with_index(&["update-index", "--add", "--cacheinfo", &format!("100644,{blob},{path}")]);
        let tree = with_index(&["write-tree"]);
        let message = format!("Plant {path}");
        let mut args = vec!["commit-tree", tree.as_str(), "-m", message.as_str()];
        if let Some(parent) = &parent {
            args.extend_from_slice(&["-p", parent.as_str()]);
        }
        let commit = self.git(&args).trim().to_string();
        match &parent {
            Some(parent) => self.git(&["update-ref", &refname, &commit, parent]),
            None => self.git(&["update-ref", &refname, &commit, ""]),
        };
        let _ = std::fs::remove_file(&index);
        if !self.bare && self.git(&["symbolic-ref", "-q", "HEAD"]).trim() == refname {
            self.git(&["reset", "-q", "--hard"]);
        }
        commit
    }

    /// Plants a file on the drafts branch.
    pub fn plant_draft_file(&self, path: &str, bytes: &[u8]) -> String {
        self.commit_file_on_branch("drafts", path, bytes)
    }

    // ---- the object database ----

    /// The content of every object in the object database, reachable or not
    /// (loose and packed), concatenated.
    pub fn all_object_contents(&self) -> Vec<u8> {
        let output = self
            .git_command()
            .args(["cat-file", "--batch-all-objects", "--batch", "--unordered"])
            .output()
            .expect("git runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    }

    /// Proves that `value` reached neither the object database (any object,
    /// reachable or not) nor any other file in the repo (refs, logs, index,
    /// work tree).
    pub fn assert_nowhere_in_repo(&self, value: &str) {
        assert!(!value.is_empty());
        assert!(!contains(&self.all_object_contents(), value.as_bytes()), "the value reached the object database");
        let mut stack = vec![self.path.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir") {
                let entry = entry.expect("dir entry");
                let path = entry.path();
                if entry.file_type().expect("file type").is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    assert!(!contains(&bytes, value.as_bytes()), "the value was written to {}", path.display());
                }
            }
        }
    }

    // ---- running draft ----

    /// `program` (the draft binary, or a wrapper such as `script`) with the
    /// hermetic environment and `who`'s identity, run in the repo.
    pub fn std_command(&self, who: Who, program: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        self.hermetic(&mut cmd);
        let key = match who {
            Who::Human => {
                cmd.env("ZEN_USER_ID", "alice");
                Some(self.keys_dir().join("alice"))
            }
            Who::Agent => {
                cmd.env("ZEN_MCP_TOKEN", "t").env("ZEN_AGENT_ID", "ops-bot");
                Some(self.keys_dir().join("ops-bot"))
            }
            Who::Nobody => None,
        };
        if let Some(key) = key.filter(|k| k.exists()) {
            cmd.env("ZEN_SIGNING_KEY", key);
        }
        cmd.current_dir(&self.path);
        cmd
    }

    /// `draft` with the hermetic environment and `who`'s identity, run in the repo.
    pub fn command(&self, who: Who) -> Command {
        let mut cmd = Command::from_std(self.std_command(who, DRAFT_BIN));
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// Runs `draft args` as a person (alice).
    pub fn draft(&self, args: &[&str]) -> Assert {
        self.command(Who::Human).args(args).assert()
    }

    /// Runs `draft args` as an agent (ops-bot, through an MCP token).
    pub fn agent_draft(&self, args: &[&str]) -> Assert {
        self.command(Who::Agent).args(args).assert()
    }

    /// Runs `draft args` with no identity.
    pub fn anonymous_draft(&self, args: &[&str]) -> Assert {
        self.command(Who::Nobody).args(args).assert()
    }

    /// A command to build up: extra environment, stdin, and the refusal checks.
    pub fn run(&self, who: Who, args: &[&str]) -> Invocation<'_> {
        Invocation { repo: self, who, args: args.iter().map(OsString::from).collect(), env: Vec::new(), stdin: None }
    }

    /// `draft --json args` as `who`; must succeed; its JSON document.
    pub fn json(&self, who: Who, args: &[&str]) -> Value {
        self.run(who, args).json()
    }

    /// Creates the endpoint draft `name` as alice; returns its id.
    pub fn create_endpoint(&self, name: &str) -> String {
        self.create_endpoint_as(Who::Human, name, &[])
    }

    /// Creates the endpoint draft `name` as `who`, with extra flags; returns its id.
    pub fn create_endpoint_as(&self, who: Who, name: &str, extra: &[&str]) -> String {
        let target = format!("https://hooks.example.com/{name}");
        let secret_ref = format!("vault://kv/webhooks/{name}");
        let mut args = vec![
            "create",
            "endpoint",
            "--name",
            name,
            "--provider",
            "stripe",
            "--target-url",
            &target,
            "--secret-ref",
            &secret_ref,
        ];
        args.extend_from_slice(extra);
        let created = self.json(who, &args);
        created["id"].as_str().expect("create prints the id").to_string()
    }

    /// `draft --json show <id>`.
    pub fn show_json(&self, id: &str) -> Value {
        self.json(Who::Nobody, &["show", id])
    }

    /// The `drafts` array of `draft --json list args`.
    pub fn list_json(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["list"];
        full.extend_from_slice(args);
        let listed = self.json(Who::Nobody, &full);
        listed["drafts"].as_array().expect("list prints a drafts array").clone()
    }

    fn hermetic(&self, cmd: &mut std::process::Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CEILING_DIRECTORIES", &self.root)
            .env("NO_COLOR", "1");
    }
}

/// An Ed25519 key pair in OpenSSH format.
struct KeyPair {
    private: String,
    /// `ssh-ed25519 AAAA…`, without a comment.
    public: String,
}

/// alice's and ops-bot's keys: made once per test run with `ssh-keygen` (no
/// passphrase) in a temp dir that is removed again, then written into each
/// repo's own temp dir.
fn test_keys() -> &'static [KeyPair; 2] {
    static KEYS: OnceLock<[KeyPair; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let make = |name: &str| {
            let path = dir.path().join(name);
            let output = std::process::Command::new("ssh-keygen")
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", dir.path())
                .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                .arg(&path)
                .output()
                .expect("ssh-keygen (openssh-client) runs");
            assert!(output.status.success(), "ssh-keygen: {}", String::from_utf8_lossy(&output.stderr));
            let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
            KeyPair {
                private: std::fs::read_to_string(&path).expect("private key"),
                public: public.split_whitespace().take(2).collect::<Vec<_>>().join(" "),
            }
        };
        [make("alice"), make("ops-bot")]
    })
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// One `draft` invocation being put together.
pub struct Invocation<'a> {
    repo: &'a TestRepo,
    who: Who,
    args: Vec<OsString>,
    env: Vec<(String, Option<String>)>,
    stdin: Option<Vec<u8>>,
}

impl Invocation<'_> {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), Some(value.to_string())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.env.push((key.to_string(), None));
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    fn build(&self, json: bool) -> Command {
        let mut cmd = self.repo.command(self.who);
        for (key, value) in &self.env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        if json {
            cmd.arg("--json");
        }
        cmd.args(&self.args);
        if let Some(bytes) = &self.stdin {
            cmd.write_stdin(bytes.clone());
        }
        cmd
    }

    pub fn assert(&self) -> Assert {
        self.build(false).assert()
    }

    /// Runs with `--json`; must succeed; the parsed document.
    pub fn json(&self) -> Value {
        let output = self.build(true).assert().success().get_output().clone();
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", String::from_utf8_lossy(&output.stdout)))
    }

    /// Runs with `--json` whatever the outcome: the exit status and the parsed document.
    pub fn json_with_status(&self) -> (i32, Value) {
        let output = self.build(true).output().expect("draft runs");
        let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code().expect("exited"), json)
    }

    /// Runs the command twice, for people and with `--json`, and checks that
    /// both refuse it the way SPEC §4 says: the exit status of `code`,
    /// `error[CODE]: message` then a `hint:` on stderr (nothing on stdout), the
    /// JSON error document on stdout, and every ref exactly where it was.
    pub fn refused(&self, code: &str) -> Refusal {
        let refusal = self.refusal();
        assert_eq!(refusal.code, code, "{}", refusal.output());
        refusal
    }

    /// Like [`Invocation::refused`], for when the test cares about which
    /// checks failed rather than which code came first.
    pub fn refusal(&self) -> Refusal {
        let refs_before = self.repo.refs_if_repo();

        let machine = self.build(true).output().expect("draft runs");
        let json_text = String::from_utf8_lossy(&machine.stdout).into_owned();
        let json: Value = serde_json::from_str(&json_text).unwrap_or_else(|e| {
            panic!(
                "--json error output is not JSON ({e}):\n{json_text}\nstderr:\n{}",
                String::from_utf8_lossy(&machine.stderr)
            )
        });
        let error = &json["error"];
        let code = error["code"].as_str().unwrap_or_else(|| panic!("no error.code: {json:#}")).to_string();
        assert_eq!(machine.status.code(), Some(exit_code_of(&code)), "exit status for {code}: {json:#}");
        let message = error["message"].as_str().unwrap_or_else(|| panic!("no error.message: {json:#}")).to_string();
        assert!(!message.is_empty());
        let checks = error["checks"].as_array().unwrap_or_else(|| panic!("no error.checks array: {json:#}")).clone();
        assert!(machine.stderr.is_empty(), "--json errors go to stdout only");
        assert_eq!(self.repo.refs_if_repo(), refs_before, "a failed command moved a ref");

        let human = self.build(false).output().expect("draft runs");
        let stdout = String::from_utf8_lossy(&human.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&human.stderr).into_owned();
        assert_eq!(human.status.code(), Some(exit_code_of(&code)), "exit status for {code}:\n{stderr}");
        assert!(stdout.is_empty(), "a refusal prints nothing on stdout, got:\n{stdout}");
        let prefix = format!("error[{code}]: ");
        assert!(stderr.starts_with(&prefix), "stderr should start with {prefix:?}:\n{stderr}");
        assert!(stderr.lines().any(|l| l.starts_with("hint: ") && l.len() > 7), "stderr has no hint:\n{stderr}");
        assert_eq!(self.repo.refs_if_repo(), refs_before, "a failed command moved a ref");

        Refusal { code, message, checks, stderr, json_text }
    }
}

impl TestRepo {
    /// `refs()`, or nothing when this is not a repo.
    fn refs_if_repo(&self) -> String {
        let output = self.git_command().args(["for-each-ref", "--format=%(objectname) %(refname)"]).output();
        match output {
            Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).into_owned(),
            _ => String::new(),
        }
    }
}

/// What a refused command printed.
#[derive(Debug)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    pub checks: Vec<Value>,
    /// The human form's stderr: message, checks and hint.
    pub stderr: String,
    /// The `--json` form's stdout.
    pub json_text: String,
}

impl Refusal {
    /// Everything either form printed.
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stderr, self.json_text)
    }

    /// The codes of the checks that failed.
    pub fn failed_checks(&self) -> Vec<String> {
        self.checks.iter().filter(|c| c["ok"] == false).map(|c| c["code"].as_str().unwrap_or("?").to_string()).collect()
    }

    /// The message of the failed check `code`.
    pub fn failed_check(&self, code: &str) -> String {
        self.checks
            .iter()
            .find(|c| c["code"] == code && c["ok"] == false)
            .and_then(|c| c["message"].as_str())
            .unwrap_or_else(|| panic!("no failed {code} check in {:#?}", self.checks))
            .to_string()
    }

    /// The value was not echoed anywhere.
    pub fn assert_never_shows(&self, value: &str) {
        assert!(!self.output().contains(value), "the refusal echoes the value:\n{}", self.output());
    }
}

/// Canonical JSON as SPEC §5 defines it (keys sorted by their bytes, no
/// whitespace), written here independently of the tool's own code.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k.as_str()])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        scalar => scalar.to_string(),
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(bytes);
    format!("sha256:{}", hash.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// The bytes a unified diff adds (its `+` lines, headers left out).
pub fn added_lines(diff: &str) -> String {
    diff.lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")).map(|l| format!("{}\n", &l[1..])).collect()
}

/// Parses an RFC 3339 timestamp into seconds since the epoch.
pub fn epoch_seconds(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}")).timestamp()
}

/// Starts every command at once (each thread waits at one barrier, then
/// spawns its process) and returns their outputs in order.
pub fn race(repo: &TestRepo, commands: Vec<(Who, Vec<String>)>) -> Vec<std::process::Output> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(commands.len()));
    let handles: Vec<_> = commands
        .into_iter()
        .map(|(who, args)| {
            let mut cmd = repo.std_command(who, DRAFT_BIN);
            cmd.args(args);
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                cmd.output().expect("draft runs")
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("thread")).collect()
}

/// Runs `cmd` until it reaches `point` (`<writer>:<point>`, see
/// `crash_point`), runs `meanwhile` there, then lets it finish: the one
/// interleaving of two writers a race only finds by luck, every time.
pub fn paused(mut cmd: std::process::Command, point: &str, meanwhile: impl FnOnce()) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    cmd.env("ZEN_TEST_PAUSE", point)
        .env("ZEN_TEST_PAUSE_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("draft runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !dir.path().join("reached").exists() {
        if child.try_wait().expect("draft runs").is_some() || std::time::Instant::now() > deadline {
            let output = child.wait_with_output().expect("draft runs");
            panic!("draft never reached {point}: {output:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Released even when `meanwhile` panics, so the child never outlives
    // the test waiting on a folder that is gone.
    struct Release<'a>(&'a std::path::Path);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            let _ = std::fs::write(self.0.join("go"), b"");
        }
    }
    let release = Release(dir.path());
    meanwhile();
    drop(release);
    child.wait_with_output().expect("draft runs")
}

/// `args` as nobody, paused at `point` while alice discards `id`; the
/// command's JSON document.
pub fn read_while_a_discard_lands(repo: &TestRepo, args: &[&str], point: &str, id: &str) -> serde_json::Value {
    let mut read = repo.std_command(Who::Nobody, DRAFT_BIN);
    read.arg("--json").args(args);
    let output = paused(read, point, || {
        repo.draft(&["discard", id, "--reason", "superseded"]).success();
    });
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("a JSON document")
}

/// The fixture repo `fixtures/repos/day-folder-layout/`: made by zen-draft
/// 0.1 (commit ccc7a66) on 2026-12-01 with its day-folder layout, as
/// `fixtures/README.md` tells. Its drafts were created at 08:30 UTC that day
/// with a lifetime of one day (`old-short`: 90 seconds).
pub mod day_folder_fixture {
    pub const APPLIED: &str = "01a230ba-760c-72e7-b37d-1aa89c2899fa";
    pub const DISCARDED: &str = "01a230ba-767d-7436-8777-664dc0ca0fdd";
    pub const PENDING: &str = "01a230ba-76ca-7626-b6c5-e69e6d262c43";
    pub const EXPIRED: &str = "01a230ba-7714-7cb8-8613-6cfa05f58a59";
    /// A time at which `PENDING` is still pending and `EXPIRED` has expired.
    pub const CLOCK: &str = "2026-12-01T09:00:00Z";
}

impl TestRepo {
    /// A copy of the day-folder fixture repo (every ref of the bundle, notes
    /// included) with its keys in place of alice's and ops-bot's, checked out
    /// on main.
    pub fn day_folder_layout() -> TestRepo {
        let repo = TestRepo::blank("repo", false);
        repo.git(&["init", "-q", "-b", "main"]);
        let bundle = fixture("repos/day-folder-layout/repo.bundle");
        repo.git(&["fetch", "-q", "--update-head-ok", bundle.to_str().expect("utf-8 path"), "refs/*:refs/*"]);
        repo.git(&["reset", "-q", "--hard", "main"]);
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(repo.keys_dir()).expect("keys dir");
        for name in ["alice", "ops-bot"] {
            let path = repo.keys_dir().join(name);
            std::fs::copy(fixture(&format!("repos/day-folder-layout/{name}")), &path).expect("copy key");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("key mode");
        }
        repo
    }
}

// ---- many clones of one central repository ----

impl TestRepo {
    /// `git clone <url>` into a new temp dir, with the keys of `keys_from`
    /// (the central repo's test keys): a clone of a remote over any transport.
    pub fn clone_url(url: &str, keys_from: &TestRepo) -> TestRepo {
        let repo = TestRepo::blank("clone", false);
        let target = repo.path.to_str().expect("utf-8 temp path").to_string();
        repo.git_in(&repo.root, &["clone", "-q", url, &target]);
        if keys_from.keys_dir().exists() {
            std::fs::create_dir_all(repo.keys_dir()).expect("keys dir");
            for name in ["alice", "ops-bot"] {
                std::fs::copy(keys_from.keys_dir().join(name), repo.keys_dir().join(name)).expect("copy key");
            }
        }
        repo
    }

    /// `git clone ARGS… <target>` into a new temp dir, with the keys of `keys_from`.
    pub fn blank_clone_with(args: &[&str], keys_from: &TestRepo) -> TestRepo {
        let repo = TestRepo::blank("clone", false);
        let target = repo.path.to_str().expect("utf-8 temp path").to_string();
        let mut all = vec!["clone", "-q"];
        all.extend_from_slice(args);
        all.push(&target);
        repo.git_in(&repo.root, &all);
        if keys_from.keys_dir().exists() {
            std::fs::create_dir_all(repo.keys_dir()).expect("keys dir");
            for name in ["alice", "ops-bot"] {
                std::fs::copy(keys_from.keys_dir().join(name), repo.keys_dir().join(name)).expect("copy key");
            }
        }
        repo
    }

    /// Lists alice for `zen-draft-admin` too (by plain git, before any root
    /// exists) and roots the trust timeline with `draft trust init`.
    pub fn root_trust_with_alice_as_admin(&self) {
        let signers = self.file_on("main", ".zen/allowed_signers");
        let with_admin = signers.replacen(
            "alice namespaces=\"zen-draft-evidence,zen-draft-apply\"",
            "alice namespaces=\"zen-draft-evidence,zen-draft-apply,zen-draft-admin\"",
            1,
        );
        assert_ne!(signers, with_admin);
        self.commit_file_on_branch("main", ".zen/allowed_signers", with_admin.as_bytes());
        let root = self.json(Who::Human, &["trust", "init"]);
        assert_eq!(root["root"], true);
    }

    /// The central repo's URL for `git clone` over the file system.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// The records of the log, in position order, as `evidence verify --json` lists them.
    pub fn positions(&self) -> Vec<u64> {
        let tree = self.git(&["ls-tree", "-r", "--name-only", "refs/notes/zen-evidence"]);
        let mut positions: Vec<u64> = tree
            .lines()
            .filter(|p| p.chars().filter(|c| *c != '/').count() == 40 && !p.starts_with("drafts"))
            .map(|p| {
                let note = self.git(&["show", &format!("refs/notes/zen-evidence:{p}")]);
                let record: Value = serde_json::from_str(note.lines().next().expect("a record line")).expect("JSON");
                record["merkle_position"].as_u64().expect("a position")
            })
            .collect();
        positions.sort_unstable();
        positions
    }
}

/// `git daemon` serving a central bare repo on loopback, pushes allowed:
/// a real git server process, for as long as this value lives.
pub struct GitDaemon {
    child: std::process::Child,
    port: u16,
}

impl GitDaemon {
    pub fn serve(central: &TestRepo) -> GitDaemon {
        assert!(central.bare, "git daemon serves the bare central repo");
        for _ in 0..20 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().unwrap().port();
            let mut cmd = central.git_command();
            cmd.args(["daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", "--listen=127.0.0.1"])
                .arg(format!("--port={port}"))
                .arg(format!("--base-path={}", central.root.display()))
                .arg(&central.root)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().expect("git daemon starts (Debian: git-daemon-sysvinit or git's git-daemon)");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return GitDaemon { child, port };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // lost the port to someone else: try another
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("git daemon did not start");
    }

    /// The central repo's URL through the daemon.
    pub fn url(&self) -> String {
        format!("git://127.0.0.1:{}/repo.git", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The codes of the failed checks in a `checks` array (validate's shape).
pub fn failed_codes(checks: &Value) -> Vec<String> {
    checks
        .as_array()
        .expect("a checks array")
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["code"].as_str().expect("a check has a code").to_string())
        .collect()
}

/// `draft serve` as a real process on a free loopback port, stopped when
/// dropped; its stderr is kept, and `start` returns once it says where it
/// listens.
pub struct Served {
    child: std::process::Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Served {
    /// Starts `command` (a `draft` command line without `serve`, with its
    /// environment) as `draft serve --addr 127.0.0.1:0`.
    pub fn start(mut command: std::process::Command) -> Served {
        use std::io::BufRead;
        let mut child = command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("draft serve starts");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let lines = std::io::BufReader::new(child.stderr.take().expect("piped"));
        let log = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let mut served = Served { child, addr: String::new(), stderr };
        let line = served.wait_for("listening on http://");
        served.addr =
            line.split("listening on http://").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().into();
        served
    }

    /// Everything the server wrote on stderr so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The first line of its stderr containing `text`, waiting up to 30 s.
    pub fn wait_for(&mut self, text: &str) -> String {
        for _ in 0..300 {
            if let Some(line) = self.log().lines().find(|l| l.contains(text)) {
                return line.to_string();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("draft serve exited ({status}) before saying {text:?}:\n{}", self.log());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("draft serve did not say {text:?}:\n{}", self.log());
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
