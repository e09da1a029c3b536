//! Hostile JSON to the API, as an agent: whatever a request body or an id in
//! the path holds, the server answers with a status of its table (never 500
//! for bad input), echoes no secret it was sent, and moves no ref when it
//! refuses. Bounded by `ZEN_PROPTEST_CASES` (24 by default).

use super::{As, Server};
use axum::http::StatusCode;
use proptest::prelude::*;
use serde_json::{Value, json};

fn cases() -> u32 {
    std::env::var("ZEN_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24)
}

fn hostile_value(secret: String) -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::String(secret.clone())),
        Just(json!([secret.clone()])),
        Just(json!({ "nested": secret.clone() })),
        Just(json!(12345)),
        Just(Value::Null),
        Just(json!(true)),
        "\\PC{0,40}".prop_map(Value::String),
    ]
}

fn request() -> impl Strategy<Value = (Value, String)> {
    "sk_live_[A-Za-z0-9]{24}|ghp_[A-Za-z0-9]{36}|postgres://u:[a-z]{8}@db".prop_flat_map(|secret| {
        let field = prop::sample::select(vec![
            "name",
            "provider",
            "target_url",
            "secret_ref",
            "description",
            "events",
            "ttl",
            "type",
            "x",
        ]);
        (field, hostile_value(secret.clone()), Just(secret)).prop_map(|(field, value, secret)| {
            let mut body = json!({
                "type": "endpoint",
                "proposed_spec": {"name": "billing", "provider": "stripe", "target_url": "https://hooks.example.com/b"}
            });
            match field {
                "type" | "ttl" | "x" => body[field] = value,
                _ => body["proposed_spec"][field] = value,
            }
            (body, secret)
        })
    })
}

#[test]
fn hostile_requests_get_a_status_of_the_table_and_never_an_echo() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = Server::new();
    let config = ProptestConfig { cases: cases(), ..ProptestConfig::default() };
    proptest!(config, |((body, secret) in request(), id in "\\PC{0,12}")| {
        runtime.block_on(async {
            let refs = server.repo.refs();
            let reply = server.call(As::Agent, "POST", "/api/v1/drafts", Some(body.clone())).await;
            let text = reply.text();
            prop_assert!(!text.contains(&secret), "echoed: {}", text);
            prop_assert!(
                [StatusCode::OK, StatusCode::CREATED, StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY]
                    .contains(&reply.status),
                "{} for {}: {}", reply.status, body, text
            );
            if !reply.status.is_success() {
                prop_assert_eq!(server.repo.refs(), refs.clone());
            }
            let path: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
            for uri in [format!("/api/v1/drafts/{path}"), format!("/api/v1/drafts/{path}/discard")] {
                let method = if uri.ends_with("discard") { "POST" } else { "GET" };
                let reply = server.call(As::Agent, method, &uri, None).await;
                prop_assert!(reply.status != StatusCode::INTERNAL_SERVER_ERROR, "{} {}: {}", method, uri, reply.text());
            }
            Ok(())
        })?;
    });
}
