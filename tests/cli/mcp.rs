//! `draft mcp` (SPEC §6): the real binary as an MCP server on stdio, spoken to
//! by rmcp's client the way an agent's host would (initialize, tools/list,
//! tools/call). The server acts as the agent ops-bot, signs with ops-bot's
//! key, has exactly four tools and no way to apply, and reports refusals as
//! tool errors carrying the SPEC error code.

use crate::support::{DRAFT_BIN, GOOD_TARGET, TestRepo};
use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ServiceError, ServiceExt};
use serde_json::{Map, Value, json};
use std::process::Stdio;
use tokio::io::AsyncReadExt;
use tokio::task::JoinHandle;

/// One `draft mcp` process and the client connected to it.
struct Session {
    client: RunningService<RoleClient, ()>,
    stderr: JoinHandle<String>,
}

impl Session {
    /// Starts `draft --repo <repo> mcp` as ops-bot with ops-bot's key, in the
    /// hermetic environment, plus `extra` variables; initializes the session.
    async fn start(repo: &TestRepo, extra: &[(&str, &str)]) -> Session {
        let mut command = tokio::process::Command::new(DRAFT_BIN);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", repo.home())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CEILING_DIRECTORIES", &repo.root)
            .env("NO_COLOR", "1")
            .env("ZEN_AGENT_ID", "ops-bot")
            .env("ZEN_SIGNING_KEY", repo.root.join("keys").join("ops-bot"))
            .envs(extra.iter().copied())
            .arg("--repo")
            .arg(&repo.path)
            .arg("mcp")
            .current_dir(&repo.root);
        let (transport, stderr) =
            TokioChildProcess::builder(command).stderr(Stdio::piped()).spawn().expect("draft mcp starts");
        let mut stderr = stderr.expect("stderr is piped");
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let client = ().serve(transport).await.expect("the MCP session initializes");
        Session { client, stderr }
    }

    async fn tools(&self) -> Vec<Tool> {
        self.client.list_all_tools().await.expect("tools/list answers")
    }

    /// Calls `tool` with `arguments`: the tool result, or the protocol error.
    async fn try_call(&self, tool: &str, arguments: Value) -> Result<CallToolResult, ServiceError> {
        let arguments: Map<String, Value> = match arguments {
            Value::Object(map) => map,
            other => panic!("tool arguments are an object, not {other}"),
        };
        self.client.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments)).await
    }

    /// Calls `tool`; it must succeed; the JSON document it returned.
    async fn call(&self, tool: &str, arguments: Value) -> Value {
        let result = self.try_call(tool, arguments).await.unwrap_or_else(|e| panic!("{tool} failed: {e}"));
        assert_ne!(result.is_error, Some(true), "{tool} was refused: {}", text_of(&result));
        let document: Value = serde_json::from_str(&text_of(&result)).expect("the text is the --json document");
        assert_eq!(result.structured_content.as_ref(), Some(&document), "structured content is the same document");
        document
    }

    /// Calls `tool`; it must be refused as a tool error; the error's text.
    async fn refused(&self, tool: &str, arguments: Value) -> String {
        let result = self.try_call(tool, arguments).await.unwrap_or_else(|e| panic!("{tool}: protocol error {e}"));
        assert_eq!(result.is_error, Some(true), "{tool} should be refused: {}", text_of(&result));
        text_of(&result)
    }

    /// Ends the session; the server exits when its stdin closes. Its stderr.
    async fn finish(self) -> String {
        self.client.cancel().await.expect("the session closes");
        self.stderr.await.expect("stderr is read")
    }
}

/// All text content of a tool result.
fn text_of(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>().join("\n")
}

fn endpoint(name: &str) -> Value {
    json!({
        "name": name,
        "provider": "stripe",
        "target_url": GOOD_TARGET,
        "secret_ref": format!("vault://kv/webhooks/{name}"),
        "description": "Stripe payment events",
        "events": ["payment_intent.succeeded"],
    })
}

/// The draft `id` as `draft --json list --all` shows it.
fn listed(repo: &TestRepo, id: &str) -> Value {
    let drafts = repo.list_json(&["--all"]);
    drafts.into_iter().find(|d| d["id"] == id).unwrap_or_else(|| panic!("draft {id} is not listed"))
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_list_is_exactly_the_four_draft_tools_with_their_annotations() {
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[]).await;
    let tools = session.tools().await;
    let names: Vec<&str> = tools.iter().map(|t| &*t.name).collect();
    assert_eq!(names, ["create_endpoint_draft", "discard_draft", "list_drafts", "show_draft"], "a stable order");
    assert_eq!(session.tools().await.iter().map(|t| t.name.to_string()).collect::<Vec<_>>(), names, "every time");

    let tool = |name: &str| tools.iter().find(|t| t.name == name).expect("listed");
    let hints = |name: &str| {
        let a = tool(name).annotations.clone().unwrap_or_else(|| panic!("{name} has annotations"));
        (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)
    };
    assert_eq!(hints("create_endpoint_draft"), (Some(false), Some(false), Some(false), Some(false)));
    assert_eq!(hints("list_drafts"), (Some(true), Some(false), Some(true), Some(false)));
    assert_eq!(hints("show_draft"), (Some(true), Some(false), Some(true), Some(false)));
    assert_eq!(hints("discard_draft"), (Some(false), Some(true), Some(true), Some(false)));
    for tool in &tools {
        assert!(tool.title.as_deref().is_some_and(|t| !t.is_empty()), "{} has a title", tool.name);
        let schema = tool.output_schema.as_ref().unwrap_or_else(|| panic!("{} has an output schema", tool.name));
        assert_eq!(schema["type"], "object", "{}", tool.name);
        assert!(schema["required"].as_array().unwrap().contains(&json!("schema_version")), "{}", tool.name);
        let description = tool.description.as_deref().unwrap_or_default();
        assert!(
            !description.contains("`draft ") && !description.contains("--"),
            "{} speaks CLI: {description}",
            tool.name
        );
    }
    let create = tool("create_endpoint_draft");
    let description = create.description.as_deref().unwrap_or_default();
    for needed in ["draft", "person", "apply", "vault://", "secret_ref", "Fill rationale"] {
        assert!(description.contains(needed), "the create description mentions {needed}: {description}");
    }
    let properties = create.input_schema["properties"].as_object().expect("an object schema");
    let mut fields: Vec<&str> = properties.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["agent", "description", "events", "links", "name", "provider", "rationale", "secret_ref", "target_url", "ttl"]
    );
    assert_eq!(create.input_schema["required"], json!(["name", "provider", "target_url"]));
    for (name, required) in [("show_draft", json!(["id"])), ("discard_draft", json!(["id"]))] {
        assert_eq!(tool(name).input_schema["required"], required, "{name}");
    }
    let list = &tool("list_drafts").input_schema["properties"];
    assert!(list["status"].is_object() && list["type"].is_object() && list["all"].is_object(), "{list}");
    session.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_through_mcp_is_listed_as_the_agent_with_verified_evidence() {
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[]).await;
    let created = session.call("create_endpoint_draft", endpoint("stripe-prod")).await;
    let id = created["id"].as_str().expect("create returns the id").to_string();
    assert!(created["path"].as_str().is_some_and(|p| p.ends_with(&format!("{id}.yaml"))), "{created}");
    assert!(created["commit"].is_string(), "{created}");
    let stderr = session.finish().await;

    let draft = listed(&repo, &id);
    assert_eq!(draft["created_by"], "agent:ops-bot");
    assert_eq!(draft["evidence"], "verified");
    assert_eq!(draft["status"], "pending");
    assert_eq!(draft["proposed_spec"], endpoint("stripe-prod"));
    assert!(stderr.contains("create_endpoint_draft: ok"), "the server logs its calls on stderr:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_id_in_the_environment_does_not_make_the_server_a_human() {
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[("ZEN_USER_ID", "alice")]).await;
    let created = session.call("create_endpoint_draft", endpoint("stripe-prod")).await;
    session.finish().await;
    let draft = listed(&repo, created["id"].as_str().expect("id"));
    assert_eq!(draft["created_by"], "agent:ops-bot");
    assert_eq!(draft["evidence"], "verified");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_raw_secret_is_refused_as_a_tool_error_and_nothing_is_written() {
    let repo = TestRepo::new();
    let secret = format!("sk_{}_{}", "live", "4eC39HqLyjWDarjtT1zdp7dc");
    let refs_before = repo.refs();
    let session = Session::start(&repo, &[]).await;
    let mut proposal = endpoint("stripe-prod");
    proposal["secret_ref"] = json!(secret);
    let text = session.refused("create_endpoint_draft", proposal).await;
    let stderr = session.finish().await;

    assert!(text.starts_with("RAW_SECRET: "), "the error starts with its code:\n{text}");
    assert!(text.contains("secret_ref"), "the error names the field:\n{text}");
    assert!(text.lines().any(|l| l.starts_with("hint: ") && l.len() > 7), "the error has a hint:\n{text}");
    assert!(!text.contains(&secret), "the error echoes the secret:\n{text}");
    assert!(!stderr.contains(&secret), "the server logged the secret:\n{stderr}");
    assert_eq!(repo.refs(), refs_before, "a refused create moved a ref");
    repo.assert_nowhere_in_repo(&secret);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proposal_missing_fields_is_refused_by_the_service_with_its_checks() {
    let repo = TestRepo::new();
    let refs_before = repo.refs();
    let session = Session::start(&repo, &[]).await;
    let text = session.refused("create_endpoint_draft", json!({ "provider": "stripe" })).await;
    assert!(text.starts_with("SPEC_MISSING: "), "{text}");
    assert!(text.contains("name") && text.contains("target_url"), "the missing fields are named:\n{text}");
    assert!(text.contains("failed checks:"), "{text}");

    let text = session.refused("create_endpoint_draft", json!({ "name": "x", "provider": 7, "target_url": "" })).await;
    assert!(text.lines().any(|l| l.trim_start().starts_with("INVALID_SPEC")), "a wrong type is the service's:\n{text}");
    session.finish().await;
    assert_eq!(repo.refs(), refs_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn show_list_and_discard_work_through_mcp() {
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[]).await;
    let id = session.call("create_endpoint_draft", endpoint("stripe-prod")).await["id"].as_str().unwrap().to_string();

    let listing = session.call("list_drafts", json!({})).await;
    let drafts = listing["drafts"].as_array().expect("a drafts array");
    assert_eq!(drafts.len(), 1, "{listing}");
    assert_eq!(drafts[0]["id"], id.as_str());
    let short_id = drafts[0]["short_id"].as_str().expect("a short id").to_string();

    let shown = session.call("show_draft", json!({ "id": short_id })).await;
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["created_by"], "agent:ops-bot");
    assert_eq!(shown["resource"], "endpoints/stripe-prod.yaml");
    assert!(shown["diff"].as_str().is_some_and(|d| d.contains("+name: stripe-prod")), "{shown}");
    assert_eq!(shown, repo.show_json(&id), "show_draft returns what `draft --json show` prints");

    let discarded = session.call("discard_draft", json!({ "id": id, "reason": "superseded" })).await;
    assert_eq!(discarded["id"], id.as_str());
    let text = session.refused("discard_draft", json!({ "id": id })).await;
    assert!(text.starts_with("NOT_PENDING: "), "{text}");
    assert!(session.call("list_drafts", json!({})).await["drafts"].as_array().unwrap().is_empty());
    let gone = session.call("list_drafts", json!({ "status": "discarded" })).await;
    assert_eq!(gone["drafts"][0]["id"], id.as_str());
    session.finish().await;

    let draft = listed(&repo, &id);
    assert_eq!(draft["status"], "discarded");
    assert_eq!(draft["discarded_by"], "agent:ops-bot");
    assert_eq!(draft["reason"], "superseded");
    assert_eq!(draft["evidence"], "verified");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_attempt_fails_and_the_draft_stays_pending() {
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[]).await;
    let id = session.call("create_endpoint_draft", endpoint("stripe-prod")).await["id"].as_str().unwrap().to_string();
    let main_before = repo.rev_parse("main");
    let refs_before = repo.refs();
    for tool in ["apply_draft", "apply"] {
        let outcome = session.try_call(tool, json!({ "id": id })).await;
        assert!(
            outcome.as_ref().is_err() || outcome.as_ref().is_ok_and(|r| r.is_error == Some(true)),
            "calling {tool} must fail: {outcome:?}"
        );
    }
    session.finish().await;
    assert_eq!(listed(&repo, &id)["status"], "pending");
    assert_eq!(repo.rev_parse("main"), main_before);
    assert_eq!(repo.refs(), refs_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn main_never_moves_through_a_whole_session() {
    let repo = TestRepo::new();
    let main_before = repo.rev_parse("main");
    let files_before = repo.files_on("main");
    let session = Session::start(&repo, &[]).await;
    let first =
        session.call("create_endpoint_draft", endpoint("stripe-prod")).await["id"].as_str().unwrap().to_string();
    let second = session.call("create_endpoint_draft", endpoint("github-ci")).await;
    session.call("list_drafts", json!({ "status": "pending" })).await;
    session.call("show_draft", json!({ "id": first })).await;
    session.call("discard_draft", json!({ "id": first })).await;
    let _ = session.try_call("apply_draft", json!({ "id": second["id"] })).await;
    session
        .refused(
            "create_endpoint_draft",
            json!({ "name": "x", "provider": "stripe", "target_url": "http://10.0.0.1/" }),
        )
        .await;
    session.finish().await;
    assert_eq!(repo.rev_parse("main"), main_before, "an MCP session moved main");
    assert_eq!(repo.files_on("main"), files_before);
}

#[test]
fn the_server_will_not_start_outside_a_repo() {
    let plain = TestRepo::not_a_repo();
    let output = std::process::Command::new(DRAFT_BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", plain.home())
        .env("GIT_CEILING_DIRECTORIES", &plain.root)
        .arg("mcp")
        .current_dir(&plain.path)
        .stdin(Stdio::null())
        .output()
        .expect("draft runs");
    assert_eq!(output.status.code(), Some(7));
    assert!(output.stdout.is_empty(), "stdout belongs to the protocol");
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error[NOT_A_REPO]: "));
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_name_the_argument_and_never_repeat_its_value() {
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[]).await;
    let value = format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc");
    let outcome = session.try_call("list_drafts", json!({ "status": value })).await;
    let text = match &outcome {
        Ok(result) => text_of(result),
        Err(error) => error.to_string(),
    };
    assert!(outcome.is_err() || outcome.as_ref().is_ok_and(|r| r.is_error == Some(true)), "{text}");
    assert!(text.contains("status"), "names the argument: {text}");
    assert!(!text.contains(&value), "{text}");
    let missing = session.refused("show_draft", json!({ "id": format!("01a2{value}") })).await;
    assert!(missing.starts_with("NOT_FOUND"), "{missing}");
    assert!(!missing.contains(&value), "{missing}");
    session.finish().await;
}

/// Hostile arguments to every tool in one session (a fixed list of shapes,
/// each with a freshly generated secret): the server answers each call, with
/// a result or a protocol error, echoes no secret, writes nothing on a
/// refusal, and keeps serving.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_tool_arguments_are_answered_without_echo_or_effect() {
    use proptest::strategy::{Strategy, ValueTree};
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[]).await;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let secrets = "sk_live_[A-Za-z0-9]{24}|ghp_[A-Za-z0-9]{36}|postgres://u:[a-z]{8}@db|\\PC{1,30}";
    for round in 0..42 {
        let secret = secrets.new_tree(&mut runner).unwrap().current();
        let shapes = [
            ("create_endpoint_draft", json!({"name": secret, "provider": "stripe", "target_url": GOOD_TARGET})),
            ("create_endpoint_draft", json!({"name": "x", "provider": secret, "target_url": GOOD_TARGET})),
            ("create_endpoint_draft", json!({"name": "x", "provider": "stripe", "target_url": secret})),
            (
                "create_endpoint_draft",
                json!({"name": "x", "provider": "stripe", "target_url": GOOD_TARGET, "events": [secret]}),
            ),
            (
                "create_endpoint_draft",
                json!({"name": "x", "provider": "stripe", "target_url": GOOD_TARGET, "ttl": secret}),
            ),
            (
                "create_endpoint_draft",
                json!({"name": [secret], "provider": {"a": 1}, "target_url": 7, "extra": secret}),
            ),
            ("list_drafts", json!({"status": secret})),
            ("show_draft", json!({"id": secret})),
            ("discard_draft", json!({"id": secret, "reason": secret})),
            // Values of the wrong type, and unknown keys: serde would quote them.
            (
                "create_endpoint_draft",
                json!({"name": "x", "provider": "stripe", "target_url": GOOD_TARGET, "links": secret}),
            ),
            (
                "create_endpoint_draft",
                json!({"name": "x", "provider": "stripe", "target_url": GOOD_TARGET, "rationale": [secret]}),
            ),
            (
                "create_endpoint_draft",
                json!({"name": "x", "provider": "stripe", "target_url": GOOD_TARGET, "agent": secret}),
            ),
            ("list_drafts", json!({"all": secret, "type": secret})),
            ("list_drafts", json!({ secret.clone(): true })),
        ];
        let (tool, arguments) = &shapes[round % shapes.len()];
        let refs = repo.refs();
        let outcome = session.try_call(tool, arguments.clone()).await;
        let (text, refused) = match &outcome {
            Ok(result) => (text_of(result), result.is_error == Some(true)),
            Err(error) => (error.to_string(), true),
        };
        assert!(!text.contains(&secret) || secret.len() < 4, "{tool} echoed {secret:?}: {text}");
        if refused {
            assert_eq!(repo.refs(), refs, "{tool}: a refused call moved a ref");
        }
    }
    // Still serving.
    session.call("list_drafts", json!({})).await;
    session.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mcp_create_carries_the_rationale_links_and_the_agents_run() {
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[]).await;
    let mut args = endpoint("traced");
    args["rationale"] = json!("INC-42: payments drop events");
    args["links"] = json!(["https://tickets.example.com/INC-42"]);
    args["agent"] = json!({"model": "m-1", "session": "run-9", "tool": "planner"});
    let created = session.call("create_endpoint_draft", args).await;
    session.finish().await;
    let draft = listed(&repo, created["id"].as_str().expect("id"));
    assert_eq!(draft["rationale"], "INC-42: payments drop events");
    assert_eq!(draft["agent"]["session"], "run-9");
    assert_eq!(draft["evidence"], "verified");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_drafts_names_rival_drafts_so_an_agent_does_not_propose_twice() {
    let repo = TestRepo::new();
    let session = Session::start(&repo, &[]).await;
    let first =
        session.call("create_endpoint_draft", endpoint("stripe-prod")).await["id"].as_str().unwrap().to_string();
    let second =
        session.call("create_endpoint_draft", endpoint("stripe-prod")).await["id"].as_str().unwrap().to_string();
    session.call("create_endpoint_draft", endpoint("alone")).await;

    let listing = session.call("list_drafts", json!({})).await;
    let mut rivals = vec![first.clone(), second.clone()];
    rivals.sort();
    let conflicts = listing["conflicts"].as_array().expect("a conflicts array");
    assert_eq!(conflicts.len(), 1, "{listing}");
    assert_eq!(conflicts[0]["resource"], "endpoints/stripe-prod.yaml");
    let mut listed: Vec<String> = serde_json::from_value(conflicts[0]["drafts"].clone()).unwrap();
    listed.sort();
    assert_eq!(listed, rivals);
    assert_eq!(session.call("show_draft", json!({"id": first})).await["conflicts"], json!([second]));
    session.finish().await;
}
