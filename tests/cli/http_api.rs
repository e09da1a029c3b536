//! The HTTP API and dashboard of `draft serve` (SPEC §7), in process: each
//! request goes through the real router (tower `oneshot`) to the real service
//! on a real repo. Agents hold a bearer token from ZEN_MCP_TOKENS; alice holds
//! a session and names herself in X-User-Id. Every refusal leaves every ref
//! where it was.

mod dashboard;
mod properties;
mod serve;

use crate::support::{TestRepo, Who};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use zen_draft::http::{AppState, ServeConfig, SessionTicket, router};

/// The address the in-process server believes it is bound to.
const HOST: &str = "127.0.0.1:7878";
/// A token from ZEN_MCP_TOKENS.
const TOKEN: &str = "agent-token-7f3a9c1e5b2d4f60";

/// A repo with a server over it and a session for alice.
struct Server {
    repo: TestRepo,
    state: AppState,
    alice: SessionTicket,
}

/// Who sends a request.
#[derive(Clone, Copy)]
enum As {
    /// `Authorization: Bearer TOKEN`.
    Agent,
    /// alice's session cookie and `X-User-Id: alice`.
    Alice,
    /// Nothing.
    Nobody,
}

/// What came back.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error document's code, after checking the document's shape.
    fn code(&self) -> String {
        let json = self.json();
        let error = &json["error"];
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {json:#}");
        assert!(error["checks"].is_array(), "no checks array: {json:#}");
        error["code"].as_str().unwrap_or_else(|| panic!("no error code: {json:#}")).to_string()
    }
}

impl Server {
    /// A server for alice (signing with her key) that accepts TOKEN from
    /// agents, who act as ops-bot with ops-bot's key.
    fn new() -> Server {
        Server::on(TestRepo::new())
    }

    fn on(repo: TestRepo) -> Server {
        let keys = repo.root.join("keys");
        let mut config = ServeConfig::new(repo.path.clone(), HOST.parse().unwrap());
        config.user = Some("alice".into());
        config.mcp_tokens = vec!["another-token-000000000000".into(), TOKEN.into()];
        config.agent_id = Some("ops-bot".into());
        config.human_signing.insert("ZEN_SIGNING_KEY".into(), keys.join("alice").display().to_string());
        config.agent_signing.insert("ZEN_SIGNING_KEY".into(), keys.join("ops-bot").display().to_string());
        let state = AppState::new(config);
        let alice = state.open_session().expect("a server started by alice has sessions");
        Server { repo, state, alice }
    }

    fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Sends `request` with the Host header of this server unless it has one.
    async fn send(&self, mut request: Request<Body>) -> Reply {
        if !request.headers().contains_key(header::HOST) {
            request.headers_mut().insert(header::HOST, HOST.parse().unwrap());
        }
        let response = self.router().oneshot(request).await.expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("a body").to_bytes().to_vec();
        Reply { status, headers, body }
    }

    /// A request as `who`, with an optional JSON body.
    fn request(&self, who: As, method: &str, uri: &str, body: Option<Value>) -> Request<Body> {
        let mut builder = Request::builder().method(method).uri(uri);
        builder = match who {
            As::Agent => builder.header(header::AUTHORIZATION, format!("Bearer {TOKEN}")),
            As::Alice => builder.header(header::COOKIE, &self.alice.cookie).header("x-user-id", "alice"),
            As::Nobody => builder,
        };
        match body {
            Some(body) => {
                builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
            }
            None => builder.body(Body::empty()).unwrap(),
        }
    }

    async fn call(&self, who: As, method: &str, uri: &str, body: Option<Value>) -> Reply {
        self.send(self.request(who, method, uri, body)).await
    }

    /// Creates the endpoint draft `name` through the CLI as alice.
    fn draft(&self, name: &str) -> String {
        self.repo.create_endpoint(name)
    }

    fn main(&self) -> String {
        self.repo.rev_parse("refs/heads/main")
    }
}

fn proposal(name: &str) -> Value {
    json!({
        "type": "endpoint",
        "proposed_spec": {
            "name": name,
            "provider": "stripe",
            "target_url": format!("https://hooks.example.com/{name}"),
            "secret_ref": format!("vault://kv/webhooks/{name}"),
        },
        "ttl": "2d",
    })
}

#[tokio::test]
async fn an_agent_lists_drafts_with_the_filters_of_draft_list() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let reply = server.call(As::Agent, "GET", "/api/v1/drafts", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let drafts = reply.json()["drafts"].as_array().unwrap().clone();
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0]["id"], id.as_str());
    assert_eq!(drafts[0]["status"], "pending");
    assert_eq!(drafts[0]["change"], "new");
    assert_eq!(drafts[0]["evidence"], "verified");
    assert_eq!(drafts, server.repo.list_json(&[]), "the same document as `draft --json list`");

    let applied = server.call(As::Alice, "GET", "/api/v1/drafts?status=applied&type=endpoint", None).await;
    assert_eq!(applied.status, StatusCode::OK);
    assert_eq!(applied.json()["drafts"], json!([]));
    let all = server.call(As::Agent, "GET", "/api/v1/drafts?all=true", None).await;
    assert_eq!(all.json()["drafts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn showing_a_draft_gives_its_diff_and_spec_digest() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let reply = server.call(As::Agent, "GET", &format!("/api/v1/drafts/{}", &id[..13]), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let shown = reply.json();
    let cli = server.repo.show_json(&id);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["spec_digest"], cli["spec_digest"]);
    assert!(shown["spec_digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(shown["diff"], cli["diff"]);
    assert!(shown["diff"].as_str().unwrap().contains("+name: stripe-payments"), "{shown:#}");
    assert_eq!(shown["resource"], "endpoints/stripe-payments.yaml");
}

#[tokio::test]
async fn an_agent_creates_a_draft_from_a_proposal_body() {
    let server = Server::new();
    let reply = server.call(As::Agent, "POST", "/api/v1/drafts", Some(proposal("github-push"))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_string();
    assert_eq!(reply.headers[header::LOCATION], format!("/api/v1/drafts/{id}").as_str());
    let shown = server.repo.show_json(&id);
    assert_eq!(shown["created_by"], "agent:ops-bot");
    assert_eq!(shown["evidence"], "verified", "signed with the agent's own key");
}

#[tokio::test]
async fn an_agent_discards_a_draft_with_a_reason() {
    let server = Server::new();
    let id = server.repo.create_endpoint_as(Who::Agent, "stripe-payments", &[]);
    let uri = format!("/api/v1/drafts/{id}/discard");
    let reply = server.call(As::Agent, "POST", &uri, Some(json!({"reason": "superseded"}))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["id"], id.as_str());
    let shown = server.repo.show_json(&id);
    assert_eq!((shown["status"].as_str(), shown["discarded_by"].as_str()), (Some("discarded"), Some("agent:ops-bot")));
    assert_eq!(shown["reason"], "superseded");
}

#[tokio::test]
async fn a_person_applies_a_draft_and_main_moves() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let digest = server.repo.show_json(&id)["spec_digest"].as_str().unwrap().to_string();
    let before = server.main();
    let uri = format!("/api/v1/drafts/{id}/apply");
    let reply = server.call(As::Alice, "POST", &uri, Some(json!({ "digest": digest }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let applied = reply.json();
    assert_ne!(server.main(), before);
    assert_eq!(applied["commit"], server.main().as_str());
    assert_eq!(applied["resource"], "endpoints/stripe-payments.yaml");
    assert!(server.repo.file_on("main", "endpoints/stripe-payments.yaml").contains("stripe-payments"));
    assert_eq!(server.repo.show_json(&id)["applied_by"], "user:alice");
}

#[tokio::test]
async fn apply_with_an_mcp_token_is_forbidden_whatever_else_it_carries_and_moves_no_ref() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let refs = server.repo.refs();
    let request = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/drafts/{id}/apply"))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::COOKIE, &server.alice.cookie)
        .header("x-user-id", "alice")
        .body(Body::empty())
        .unwrap();
    let reply = server.send(request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "MCP_CANNOT_APPLY");
    let plain = server.call(As::Agent, "POST", &format!("/api/v1/drafts/{id}/apply"), None).await;
    assert_eq!((plain.status, plain.code()), (StatusCode::FORBIDDEN, "MCP_CANNOT_APPLY".to_string()));
    assert_eq!(server.repo.refs(), refs, "an MCP-authenticated apply moved a ref");
}

#[tokio::test]
async fn requests_without_credentials_or_with_an_unknown_token_are_unauthenticated() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let refs = server.repo.refs();
    for (method, uri) in [("GET", "/api/v1/drafts".to_string()), ("POST", format!("/api/v1/drafts/{id}/apply"))] {
        let reply = server.call(As::Nobody, method, &uri, None).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED".to_string()));
        assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
    }
    for bad in ["Bearer not-a-token", "Bearer ", "Basic YWxpY2U6eA==", &format!("Bearer {TOKEN}x")] {
        let request = Request::builder()
            .uri(format!("/api/v1/drafts/{id}/apply"))
            .method("POST")
            .header(header::AUTHORIZATION, bad)
            .body(Body::empty())
            .unwrap();
        let reply = server.send(request).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED".to_string()), "{bad}");
        assert!(!reply.text().contains(TOKEN), "a refusal echoes a token");
    }
    let forged = Request::builder()
        .uri("/api/v1/drafts")
        .header(header::COOKIE, "zen_session=0123abcd")
        .header("x-user-id", "alice")
        .body(Body::empty())
        .unwrap();
    assert_eq!(server.send(forged).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn a_session_call_must_name_the_sessions_user_in_x_user_id() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let refs = server.repo.refs();
    let apply = |user: Option<&str>| {
        let mut builder = Request::builder()
            .method("POST")
            .uri(format!("/api/v1/drafts/{id}/apply"))
            .header(header::COOKIE, &server.alice.cookie);
        if let Some(user) = user {
            builder = builder.header("x-user-id", user);
        }
        builder.body(Body::empty()).unwrap()
    };
    let mallory = server.send(apply(Some("mallory"))).await;
    assert_eq!((mallory.status, mallory.code()), (StatusCode::FORBIDDEN, "USER_MISMATCH".to_string()));
    let missing = server.send(apply(None)).await;
    assert_eq!((missing.status, missing.code()), (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED".to_string()));
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn a_request_naming_another_host_is_forbidden() {
    let server = Server::new();
    for host in ["evil.example:7878", "127.0.0.1:7879", "localhost"] {
        for uri in ["/api/v1/drafts", "/", "/api/v1/openapi.json"] {
            let mut request = server.request(As::Alice, "GET", uri, None);
            request.headers_mut().insert(header::HOST, host.parse().unwrap());
            let reply = server.send(request).await;
            assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "HOST_NOT_ALLOWED".to_string()), "{host}");
        }
    }
    for host in ["localhost:7878", "[::1]:7878", "127.0.0.1:7878"] {
        let mut request = server.request(As::Agent, "GET", "/api/v1/drafts", None);
        request.headers_mut().insert(header::HOST, host.parse().unwrap());
        assert_eq!(server.send(request).await.status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn a_cors_preflight_gets_no_cors_headers() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    for uri in ["/api/v1/drafts".to_string(), format!("/api/v1/drafts/{id}/apply")] {
        let request = Request::builder()
            .method("OPTIONS")
            .uri(&uri)
            .header(header::ORIGIN, "https://evil.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "x-user-id, content-type")
            .body(Body::empty())
            .unwrap();
        let reply = server.send(request).await;
        assert!(matches!(reply.status.as_u16(), 403 | 405), "{uri}: {}", reply.status);
        assert!(
            !reply.headers.keys().any(|name| name.as_str().starts_with("access-control-")),
            "{uri}: {:?}",
            reply.headers
        );
    }
}

#[tokio::test]
async fn malformed_bodies_and_filters_are_bad_requests() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let refs = server.repo.refs();
    let post = |uri: String, content_type: &str, body: &'static str| {
        Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    for request in [
        post("/api/v1/drafts".into(), "application/json", r#"{"type": "endpoint", "#),
        post("/api/v1/drafts".into(), "application/json", r#"["endpoint"]"#),
        post("/api/v1/drafts".into(), "text/plain", r#"{"type": "endpoint"}"#),
        post("/api/v1/drafts".into(), "application/json", ""),
        post(format!("/api/v1/drafts/{id}/discard"), "application/json", r#"{"reason": 42}"#),
        post(format!("/api/v1/drafts/{id}/discard"), "application/json", r#"{"why": "x"}"#),
    ] {
        let reply = server.send(request).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "BAD_REQUEST".to_string()),
            "{}",
            reply.text()
        );
    }
    for uri in ["/api/v1/drafts?status=lost", "/api/v1/drafts?type=cable", "/api/v1/drafts?all=maybe"] {
        let reply = server.call(As::Agent, "GET", uri, None).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::BAD_REQUEST, "BAD_REQUEST".to_string()), "{uri}");
    }
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn an_unknown_id_is_not_found() {
    let server = Server::new();
    server.draft("stripe-payments");
    let refs = server.repo.refs();
    let unknown = "0193a7c2-0000-7000-8000-000000000000";
    for (who, method, uri) in [
        (As::Agent, "GET", format!("/api/v1/drafts/{unknown}")),
        (As::Agent, "POST", format!("/api/v1/drafts/{unknown}/discard")),
        (As::Alice, "POST", format!("/api/v1/drafts/{unknown}/apply")),
    ] {
        let reply = server.call(who, method, &uri, None).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "NOT_FOUND".to_string()), "{uri}");
    }
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn applying_another_tenants_draft_is_forbidden() {
    let server = Server::new();
    let args = [
        "create",
        "endpoint",
        "--name",
        "globex-hook",
        "--provider",
        "stripe",
        "--target-url",
        "https://hooks.example.com/globex",
        "--secret-ref",
        "vault://kv/globex",
    ];
    let created = server.repo.run(Who::Human, &args).env("ZEN_TENANT", "globex").json();
    let id = created["id"].as_str().unwrap();
    let refs = server.repo.refs();
    let reply = server.call(As::Alice, "POST", &format!("/api/v1/drafts/{id}/apply"), None).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "TENANT_MISMATCH".to_string()),
        "{}",
        reply.text()
    );
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn an_agent_may_not_discard_a_persons_draft() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let refs = server.repo.refs();
    let reply = server.call(As::Agent, "POST", &format!("/api/v1/drafts/{id}/discard"), None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::FORBIDDEN, "NOT_THE_CREATOR".to_string()));
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn acting_on_a_draft_that_is_no_longer_pending_is_a_conflict() {
    let server = Server::new();
    let id = server.repo.create_endpoint_as(Who::Agent, "stripe-payments", &[]);
    let apply = format!("/api/v1/drafts/{id}/apply");
    assert_eq!(server.call(As::Alice, "POST", &apply, None).await.status, StatusCode::OK);
    let refs = server.repo.refs();
    let again = server.call(As::Alice, "POST", &apply, None).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "NOT_PENDING".to_string()));
    let discard = server.call(As::Agent, "POST", &format!("/api/v1/drafts/{id}/discard"), None).await;
    assert_eq!((discard.status, discard.code()), (StatusCode::CONFLICT, "NOT_PENDING".to_string()));
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn a_proposal_with_a_raw_secret_fails_its_checks_and_is_never_written() {
    let server = Server::new();
    let refs = server.repo.refs();
    let core = "4eC39HqLyjWDarjtT1zdp7dc";
    let mut body = proposal("stripe-payments");
    body["proposed_spec"]["secret_ref"] = json!(format!("sk_{}_{core}", "live"));
    let reply = server.call(As::Agent, "POST", "/api/v1/drafts", Some(body)).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "RAW_SECRET".to_string()));
    let checks = reply.json()["error"]["checks"].clone();
    assert!(checks.as_array().unwrap().iter().any(|c| c["code"] == "RAW_SECRET" && c["ok"] == false), "{checks:#}");
    assert!(!reply.text().contains(core), "the refusal echoes the secret");
    assert_eq!(server.repo.refs(), refs);
    server.repo.assert_nowhere_in_repo(core);
}

#[tokio::test]
async fn a_proposal_with_fields_a_proposal_does_not_have_is_refused_like_on_the_command_line() {
    let server = Server::new();
    let mut body = proposal("stripe-payments");
    body["status"] = json!("applied");
    let reply = server.call(As::Agent, "POST", "/api/v1/drafts", Some(body)).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_DRAFT".to_string()));
    let route = json!({"type": "route", "proposed_spec": {}});
    let reply = server.call(As::Agent, "POST", "/api/v1/drafts", Some(route)).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "TYPE_NOT_CREATABLE".to_string()));
}

#[tokio::test]
async fn applying_a_draft_whose_base_changed_fails_its_checks() {
    let server = Server::new();
    let first = server.draft("stripe-payments");
    let second = server.draft("stripe-payments");
    let ok = server.call(As::Alice, "POST", &format!("/api/v1/drafts/{first}/apply"), None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let refs = server.repo.refs();
    let reply = server.call(As::Alice, "POST", &format!("/api/v1/drafts/{second}/apply"), None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "BASE_CHANGED".to_string()));
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn applying_with_a_digest_other_than_the_specs_fails_and_moves_nothing() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let refs = server.repo.refs();
    let wrong = json!({"digest": format!("sha256:{}", "0".repeat(64))});
    let reply = server.call(As::Alice, "POST", &format!("/api/v1/drafts/{id}/apply"), Some(wrong)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert_eq!(server.repo.refs(), refs);

    // A digest cut short is named as such, with no word of tampering.
    let cut = json!({"digest": "sha256:0123456789"});
    let reply = server.call(As::Alice, "POST", &format!("/api/v1/drafts/{id}/apply"), Some(cut)).await;
    let body = reply.json();
    assert_eq!(body["error"]["code"], "EVIDENCE_MISMATCH", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("not a whole spec digest"), "{body}");
    assert!(!body.to_string().contains("0123456789") && !body.to_string().contains("investigate"), "{body}");
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_applies_from_two_tabs_let_exactly_one_win() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let uri = format!("/api/v1/drafts/{id}/apply");
    let (a, b) = tokio::join!(server.call(As::Alice, "POST", &uri, None), server.call(As::Alice, "POST", &uri, None));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{}\n{}", a.text(), b.text());
    let loser = if a.status == StatusCode::OK { b } else { a };
    assert!(["NOT_PENDING", "CONFLICT"].contains(&loser.code().as_str()));
    assert_eq!(server.repo.git(&["rev-list", "--count", "main"]).trim(), "3", "one apply commit on main");
}

/// Every route the tests above exercise, with the method.
const EXERCISED: [(&str, &str); 6] = [
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/drafts"),
    ("post", "/api/v1/drafts"),
    ("get", "/api/v1/drafts/{id}"),
    ("post", "/api/v1/drafts/{id}/discard"),
    ("post", "/api/v1/drafts/{id}/apply"),
];

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_the_server_answers() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let reply = server.call(As::Nobody, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    let mut exercised: Vec<(String, String)> = EXERCISED.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    documented.sort();
    exercised.sort();
    assert_eq!(documented, exercised, "docs/openapi.json and the routes the tests exercise differ");
    for (method, path) in &documented {
        let uri = path.replace("{id}", &id);
        let reply = server.call(As::Agent, &method.to_uppercase(), &uri, None).await;
        assert!(![404, 405].contains(&reply.status.as_u16()), "{method} {uri}: {}", reply.status);
        for response in doc["paths"][path][method]["responses"].as_object().unwrap().keys() {
            assert!(response.parse::<u16>().is_ok(), "{method} {path}: response {response}");
        }
    }
    let undocumented = server.call(As::Agent, "DELETE", &format!("/api/v1/drafts/{id}"), None).await;
    assert_eq!(undocumented.status, StatusCode::METHOD_NOT_ALLOWED);
}
