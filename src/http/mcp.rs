//! MCP over Streamable HTTP at `/mcp`: the same server as `draft mcp`, for
//! agents that cannot spawn a process (hosted agents, sandboxes).
//!
//! The protocol (the current revision, stateless, and sessions for clients
//! of an older one) is rmcp's; this layer owns who may use it. Only a bearer
//! token from `ZEN_MCP_TOKENS` gets in, as the agent `ZEN_AGENT_ID` signing
//! with `ZEN_AGENT_SIGNING_KEY`: no token, a wrong one or one revoked (gone
//! from `ZEN_MCP_TOKENS` since) is 401 with `WWW-Authenticate`. A session
//! cookie is no credential here. The Host must name this server (the
//! server-wide check) and a browser's `Origin` must be this server's own
//! (403 otherwise), so a page elsewhere cannot reach a loopback server
//! through DNS rebinding.
//!
//! Must never: accept a person's session, log or echo a token, or offer a
//! tool the stdio server does not (there is no apply tool on either).

use super::auth::same_secret;
use super::refusal::Refusal;
use super::{AppState, Caller};
use crate::mcp::{DraftServer, read_only_reason, write_readiness};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;

/// The service mounted at `/mcp`. Whether the agent's key can sign is
/// checked once, here, when the server starts: a server whose agent cannot
/// sign offers only the tools that read, and says why on stderr.
pub(crate) fn service(state: &AppState) -> StreamableHttpService<DraftServer, LocalSessionManager> {
    let repo = state.config().repo.clone();
    let env = state.caller_env(&Caller::Agent);
    let read_only = match write_readiness(Some(&repo), &env) {
        Ok(None) => None,
        Ok(Some(why)) => Some(read_only_reason(&why)),
        Err(why) => Some(format!("the repository cannot be read: {}: {}", why.code, why.message)),
    };
    if let Some(why) = &read_only {
        eprintln!("draft serve: /mcp is read-only: {why}");
    }
    let hosts = state.allowed_hosts().to_vec();
    // Its own pages, and the same names behind a TLS proxy.
    let origins: Vec<String> =
        hosts.iter().flat_map(|host| [format!("http://{host}"), format!("https://{host}")]).collect();
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_json_response(true)
        .with_cancellation_token(state.shutdown().child_token());
    // Built once: rmcp asks the factory for a server on every request.
    let server = DraftServer::new(Some(repo), env, read_only);
    StreamableHttpService::new(move || Ok(server.clone()), Arc::new(LocalSessionManager::default()), config)
}

/// Lets through only requests with a bearer token this server accepts.
pub(crate) async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let offered = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let known = |offered: &str| {
        !offered.is_empty() && state.config().mcp_tokens.iter().any(|t| same_secret(t.as_bytes(), offered.as_bytes()))
    };
    match offered {
        Some(token) if known(&token) => next.run(request).await,
        Some(_) => challenge("the bearer token is not one this server accepts", true),
        None => challenge("no credentials: /mcp needs `Authorization: Bearer <token>`", false),
    }
}

/// 401 with the challenge a client needs to know what to send.
fn challenge(message: &str, invalid: bool) -> Response {
    let mut response = Refusal::unauthenticated(message).into_response();
    let value = if invalid {
        "Bearer realm=\"zen-draft\", error=\"invalid_token\", error_description=\"the token is not accepted\""
    } else {
        "Bearer realm=\"zen-draft\""
    };
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
    response
}
