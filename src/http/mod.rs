//! `draft serve`: the HTTP API for services and agents, and the review
//! dashboard for people (SPEC §7). An adapter over the service layer, like the
//! CLI and the MCP server: each request opens a [`Service`] with the caller's
//! identity and calls it off the async runtime; every rule about drafts lives
//! in the service, never here.
//!
//! What this layer does own is the transport: who a request is (an MCP bearer
//! token makes an agent, a session cookie makes the person who started the
//! server), that a browser cannot be tricked into acting (Host check against
//! DNS rebinding, SameSite=Strict cookie, `X-User-Id` on JSON calls, CSRF
//! tokens on forms, no CORS), and how results look (JSON or HTML).
//!
//! Must never: decide whether a draft may be created, discarded or applied
//! (the service decides), let an MCP token act as a person, answer a CORS
//! preflight, or put a secret (token, cookie, key) in a response or a log line.

pub mod api;
mod auth;
mod dashboard;
mod mcp;
mod pages;
mod refusal;

pub use auth::SessionTicket;

use crate::domain::identity::IdentityEnv;
use crate::error::{Error, Result};
use crate::service::{CallerEnv, Service};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use refusal::Refusal;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Everything the server needs to know, read once when it starts.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The infrastructure repo (its git dir or work tree).
    pub repo: PathBuf,
    /// The address the server is bound to; the Host header must name it.
    pub addr: SocketAddr,
    /// `ZEN_USER_ID` of the person who started the server: the one user a
    /// browser session can be. Without it there are no sessions, only the
    /// token-authenticated API.
    pub user: Option<String>,
    /// `ZEN_MCP_TOKENS`: bearer tokens that authenticate agents.
    pub mcp_tokens: Vec<String>,
    /// `ZEN_AGENT_ID`: who token-authenticated requests act as (default `mcp-agent`).
    pub agent_id: Option<String>,
    /// The signing variables for the person (`ZEN_SIGNING_KEY`, …).
    pub human_signing: HashMap<String, String>,
    /// The signing variables for agents, from `ZEN_AGENT_SIGNING_KEY`: an
    /// agent never signs with the person's key.
    pub agent_signing: HashMap<String, String>,
    /// `ZEN_TENANT`, for everyone the server acts for.
    pub tenant: Option<String>,
    /// More Host header values to accept (`--allow-host`), for a server
    /// reached under a name of its own.
    pub extra_hosts: Vec<String>,
}

impl ServeConfig {
    /// A server for `repo` bound to `addr`, with nobody yet who may use it.
    pub fn new(repo: PathBuf, addr: SocketAddr) -> ServeConfig {
        ServeConfig {
            repo,
            addr,
            user: None,
            mcp_tokens: Vec::new(),
            agent_id: None,
            human_signing: HashMap::new(),
            agent_signing: HashMap::new(),
            tenant: None,
            extra_hosts: Vec::new(),
        }
    }

    /// Reads the server's environment: the person's identity and key, the
    /// agents' tokens, id and key.
    pub fn from_process(repo: PathBuf, addr: SocketAddr, extra_hosts: Vec<String>) -> ServeConfig {
        let env = CallerEnv::from_process();
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut agent_signing = HashMap::new();
        if let Some(key) = var("ZEN_AGENT_SIGNING_KEY") {
            agent_signing.insert("ZEN_SIGNING_KEY".to_string(), key);
        }
        if let Some(passphrase) = var("ZEN_AGENT_SIGNING_KEY_PASSPHRASE") {
            agent_signing.insert("ZEN_SIGNING_KEY_PASSPHRASE".to_string(), passphrase);
        }
        if let Some(home) = var("HOME") {
            agent_signing.insert("HOME".to_string(), home);
        }
        ServeConfig {
            repo,
            addr,
            user: env.identity.user_id.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
            mcp_tokens: var("ZEN_MCP_TOKENS").map(|t| parse_tokens(&t)).unwrap_or_default(),
            agent_id: var("ZEN_AGENT_ID"),
            human_signing: env.signing,
            agent_signing,
            tenant: env.tenant,
            extra_hosts,
        }
    }
}

/// `ZEN_MCP_TOKENS`: comma-separated, blanks ignored.
pub fn parse_tokens(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// Who a request acts as, once its credentials were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// Authenticated with an MCP bearer token.
    Agent,
    /// Authenticated with a session of the person who started the server.
    Human(String),
}

/// The server's shared state: configuration and the sessions.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: ServeConfig,
    hosts: Vec<String>,
    sessions: Mutex<auth::Sessions>,
    /// Cancelled when the server shuts down, so `/mcp` streams end with it.
    shutdown: tokio_util::sync::CancellationToken,
}

impl AppState {
    pub fn new(config: ServeConfig) -> AppState {
        let hosts = allowed_hosts(config.addr, &config.extra_hosts);
        let inner = Inner {
            config,
            hosts,
            sessions: Mutex::new(auth::Sessions::default()),
            shutdown: tokio_util::sync::CancellationToken::new(),
        };
        AppState { inner: Arc::new(inner) }
    }

    pub fn config(&self) -> &ServeConfig {
        &self.inner.config
    }

    /// The Host header values this server answers to.
    pub fn allowed_hosts(&self) -> &[String] {
        &self.inner.hosts
    }

    /// Cancelled when the server stops.
    pub(crate) fn shutdown(&self) -> &tokio_util::sync::CancellationToken {
        &self.inner.shutdown
    }

    /// A new one-time login token, replacing any earlier one; `None` when no
    /// person started the server.
    pub fn issue_login_token(&self) -> Option<String> {
        self.config().user.as_ref()?;
        Some(self.sessions().issue_login())
    }

    /// What opening the login URL does, without the URL: a session for the
    /// person who started the server. `None` when there is none.
    pub fn open_session(&self) -> Option<SessionTicket> {
        let user = self.config().user.clone()?;
        Some(self.sessions().start(user))
    }

    /// Spends the one-time login token: a session the first time, then never.
    pub(crate) fn redeem_login(&self, token: &str) -> Option<SessionTicket> {
        let user = self.config().user.clone()?;
        let mut sessions = self.sessions();
        if sessions.redeem_login(token) { Some(sessions.start(user)) } else { None }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, auth::Sessions> {
        // A panic while holding the lock cannot leave the map half-written in
        // a way that matters more than refusing every later request would.
        self.inner.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The environment the service sees for this caller.
    pub(crate) fn caller_env(&self, caller: &Caller) -> CallerEnv {
        let config = self.config();
        match caller {
            Caller::Agent => CallerEnv {
                identity: IdentityEnv {
                    mcp_token: Some("http-bearer".to_string()),
                    agent_id: config.agent_id.clone(),
                    user_id: None,
                },
                tenant: config.tenant.clone(),
                signing: config.agent_signing.clone(),
            },
            Caller::Human(user) => CallerEnv {
                identity: IdentityEnv { mcp_token: None, agent_id: None, user_id: Some(user.clone()) },
                tenant: config.tenant.clone(),
                signing: config.human_signing.clone(),
            },
        }
    }

    /// Opens the service as `caller` and runs `work` on a blocking thread:
    /// git work must never stall the async runtime.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        caller: &Caller,
        work: impl FnOnce(&Service) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let repo = self.config().repo.clone();
        let env = self.caller_env(caller);
        tokio::task::spawn_blocking(move || work(&Service::open(Some(&repo), env)?))
            .await
            // Never the join error's text: a panic's message can quote a value.
            .map_err(|_| Error::internal("a request's worker stopped on a bug"))?
    }
}

/// The whole server: API, dashboard, and the checks every request passes.
pub fn router(state: AppState) -> Router {
    // route_layer: the token check guards /mcp only, not the fallback every
    // other unknown path reaches (a 404, not a 401).
    let mcp = Router::new()
        .route_service("/mcp", mcp::service(&state))
        .route_layer(middleware::from_fn_with_state(state.clone(), mcp::require_token));
    Router::new()
        .merge(api::routes())
        .merge(dashboard::routes())
        .merge(mcp)
        .layer(middleware::from_fn_with_state(state.clone(), check_host))
        .layer(middleware::from_fn(protective_headers))
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, finishing the requests under way.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let stop = state.shutdown().clone();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            stop.cancel();
        })
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The Host header must name this server: a page on another site whose DNS
/// name was rebound to 127.0.0.1 sends its own name, and is refused.
async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if state.allowed_hosts().iter().any(|h| h.eq_ignore_ascii_case(host.trim())) => {
            next.run(request).await
        }
        _ => Refusal::forbidden(
            "HOST_NOT_ALLOWED",
            "the Host header does not name this server",
            format!("open the dashboard as http://{}/", state.allowed_hosts().first().map_or("", |h| h.as_str())),
        )
        .into_response(),
    }
}

/// Headers on every response: nothing is cached, framed, sniffed or loaded
/// from elsewhere, and no referrer leaves the site.
async fn protective_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The names a browser may use for `addr`: the address itself, and for
/// loopback the usual loopback spellings; port 80 may be left out.
fn allowed_hosts(addr: SocketAddr, extra: &[String]) -> Vec<String> {
    let port = addr.port();
    let mut names = vec![match addr {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    }];
    if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        names.extend(["127.0.0.1", "localhost", "[::1]"].map(str::to_string));
    }
    let mut hosts: Vec<String> = Vec::new();
    for name in names {
        if !hosts.contains(&format!("{name}:{port}")) {
            hosts.push(format!("{name}:{port}"));
            if port == 80 {
                hosts.push(name);
            }
        }
    }
    hosts.retain(|h| !h.starts_with("0.0.0.0") && !h.starts_with("[::]"));
    hosts.extend(extra.iter().cloned());
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_servers_answer_to_loopback_names_only() {
        let hosts = allowed_hosts("127.0.0.1:7878".parse().unwrap(), &[]);
        assert_eq!(hosts, ["127.0.0.1:7878", "localhost:7878", "[::1]:7878"]);
    }

    #[test]
    fn port_80_may_be_left_out() {
        let hosts = allowed_hosts("127.0.0.1:80".parse().unwrap(), &[]);
        assert!(hosts.contains(&"localhost".to_string()) && hosts.contains(&"localhost:80".to_string()));
    }

    #[test]
    fn a_remote_address_answers_to_itself_and_the_names_given() {
        let hosts = allowed_hosts("192.0.2.7:7878".parse().unwrap(), &["review.example.com:7878".to_string()]);
        assert_eq!(hosts, ["192.0.2.7:7878", "review.example.com:7878"]);
        let any = allowed_hosts("0.0.0.0:7878".parse().unwrap(), &[]);
        assert_eq!(any, ["127.0.0.1:7878", "localhost:7878", "[::1]:7878"]);
    }

    #[test]
    fn tokens_are_comma_separated_and_blanks_ignored() {
        assert_eq!(parse_tokens(" a , ,b,"), ["a", "b"]);
    }
}
