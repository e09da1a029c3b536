//! Shell integration: completions and man pages generated from the command
//! definitions, `--version` with the commit, `--color` and `-q`.

use crate::support::{TestRepo, Who};

#[test]
fn completions_for_bash_zsh_and_fish_know_every_command() {
    let repo = TestRepo::new();
    for shell in ["bash", "zsh", "fish"] {
        let output = repo.command(Who::Nobody).args(["completions", shell]).output().unwrap();
        assert!(output.status.success());
        let script = String::from_utf8_lossy(&output.stdout);
        for command in ["create", "apply", "sync", "doctor", "hook", "audit", "signers"] {
            assert!(script.contains(command), "{shell} completions lack {command}");
        }
    }
}

#[test]
fn man_pages_are_written_for_draft_and_each_command() {
    let repo = TestRepo::new();
    let dir = repo.root.join("man");
    repo.command(Who::Nobody).args(["man", "--dir", dir.to_str().unwrap()]).assert().success();
    for page in ["draft.1", "draft-sync.1", "draft-apply.1", "draft-hook.1"] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_else(|_| panic!("{page} was written"));
        assert!(text.contains(".TH"), "{page} is a man page");
    }
    let printed = repo.command(Who::Nobody).args(["man"]).output().unwrap();
    assert!(String::from_utf8_lossy(&printed.stdout).contains(".TH draft"));
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let output = TestRepo::new().command(Who::Nobody).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let commit = text.split("(commit ").nth(1).and_then(|t| t.strip_suffix(")\n")).expect(&text);
    assert!(commit == "unknown" || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{text}");
}

#[test]
fn color_always_colours_a_pipe_and_never_does_not_and_quiet_prints_nothing() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("coloured");
    let always = repo.command(Who::Nobody).args(["--color", "always", "show", &id]).output().unwrap();
    assert!(always.stdout.contains(&0x1b), "--color always colours even a pipe");
    let never = repo.command(Who::Nobody).args(["--color", "never", "show", &id]).output().unwrap();
    assert!(!never.stdout.contains(&0x1b));

    let args = [
        "-q",
        "create",
        "endpoint",
        "--name",
        "hushed",
        "--provider",
        "stripe",
        "--target-url",
        "https://hooks.example.com/h",
    ];
    let quiet = repo.command(Who::Agent).args(args).output().unwrap();
    assert!(quiet.status.success());
    assert!(quiet.stdout.is_empty(), "-q prints nothing on success");
    let listed = repo.list_json(&[]);
    assert!(listed.iter().any(|d| d["proposed_spec"]["name"] == "hushed"), "it did create");
    // An error is still reported.
    let failed = repo.command(Who::Nobody).args(["-q", "show", "ffffffff"]).output().unwrap();
    assert!(!failed.status.success());
    assert!(!failed.stderr.is_empty());
}

#[test]
fn every_json_document_carries_its_schema_version() {
    let repo = TestRepo::new();
    let id = repo.create_endpoint("versioned");
    for args in [vec!["list"], vec!["show", id.as_str()], vec!["validate"], vec!["evidence", "verify"], vec!["doctor"]]
    {
        let doc = repo.json(Who::Nobody, &args);
        assert_eq!(doc["schema_version"], 1, "{args:?}: {doc:#}");
    }
    let (_, error) = repo.run(Who::Nobody, &["show", "ffffffff"]).json_with_status();
    assert_eq!(error["schema_version"], 1);
}

#[test]
fn create_endpoint_help_is_the_endpoints_own() {
    let repo = TestRepo::new();
    let output = repo.command(Who::Nobody).args(["create", "endpoint", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for needed in ["Propose a webhook endpoint", "--target-url", "--secret-ref", "--rationale", "--link"] {
        assert!(help.contains(needed), "create endpoint --help lacks {needed}:\n{help}");
    }
    assert!(!help.contains("--file"), "the proposal-file flag belongs to `draft create`:\n{help}");
    let output = repo.command(Who::Nobody).args(["create", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("endpoint") && help.contains("--file"), "{help}");
}

/// A global flag is listed (under its own heading) only on commands it
/// means something to, and refused, by name, on the others.
#[test]
fn global_flags_are_shown_only_where_they_apply_and_refused_elsewhere() {
    let repo = TestRepo::new();
    let help = |args: &[&str]| {
        let output = repo.command(Who::Nobody).args(args).arg("--help").output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let list = help(&["list"]);
    assert!(list.contains("Global options:") && list.contains("--json") && list.contains("--repo"), "{list}");
    for (command, absent, present) in [
        (&["man"][..], &["--json", "--repo", "--color", "--quiet"][..], &[][..]),
        (&["completions"], &["--json", "--repo", "--color", "--quiet"], &[]),
        (&["mcp"], &["--quiet"], &["--repo", "--json"]),
        (&["serve"], &["--quiet"], &["--repo", "--json"]),
        (&["hook", "pre-receive"], &["--json", "--repo", "--color", "--quiet"], &[]),
        (&["hook", "install"], &["--repo"], &["--json"]),
    ] {
        let text = help(command);
        for flag in absent {
            assert!(!text.contains(flag), "`draft {}` lists {flag}:\n{text}", command.join(" "));
        }
        for flag in present {
            assert!(text.contains(flag), "`draft {}` lacks {flag}:\n{text}", command.join(" "));
        }
    }
    for args in [&["--json", "man"][..], &["mcp", "-q"], &["-q", "serve"], &["completions", "bash", "--repo", "."]] {
        let output = repo.command(Who::Nobody).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("does not apply to `draft "), "{args:?}: {stderr}");
    }
}
