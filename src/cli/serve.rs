//! `draft serve`: the HTTP API and review dashboard (SPEC §7), started by a
//! person. It checks the set-up, binds (loopback unless told otherwise),
//! prints where it listens and a one-time login URL on stderr, and hands
//! every request to `crate::http`.
//!
//! Must never: run with an agent's identity (`ZEN_MCP_TOKEN`), listen beyond
//! loopback without `--allow-remote`, or print a login URL for anyone but
//! `ZEN_USER_ID`.

use super::Context;
use crate::domain::identity::IdentityEnv;
use crate::error::{Code, Error, Result};
use crate::http::{AppState, ServeConfig};
use std::net::SocketAddr;

/// Serve the HTTP API, MCP at /mcp and the review dashboard (people start it; agents use the API and /mcp with a token).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen; port 0 picks a free port (the address is printed on stderr).
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:7878")]
    addr: SocketAddr,
    /// Allow an address other than loopback (put TLS in front: cookies and tokens travel in clear).
    #[arg(long)]
    allow_remote: bool,
    /// Also accept this Host header (`name:port`), for a server reached under a name of its own.
    #[arg(long, value_name = "HOST:PORT")]
    allow_host: Vec<String>,
}

pub fn run(ctx: &Context, args: &Args) -> Result<u8> {
    let identity = IdentityEnv::from_process();
    if identity.mcp_token.is_some() {
        return Err(Error::new(
            Code::McpCannotApply,
            "draft serve runs the review dashboard for a person, and ZEN_MCP_TOKEN is set",
        )
        .with_hint(
            "start it as yourself without ZEN_MCP_TOKEN; agents reach its API with a token from ZEN_MCP_TOKENS",
        ));
    }
    identity.actor()?; // a malformed ZEN_USER_ID is refused here, not at the first request
    if !args.addr.ip().is_loopback() && !args.allow_remote {
        super::command()
            .error(
                clap::error::ErrorKind::InvalidValue,
                format!("--addr {} is not a loopback address; pass --allow-remote to serve other machines", args.addr),
            )
            .exit();
    }
    let service = ctx.service()?;
    service.layout()?;
    let store = service.store();
    let repo = store.repo().workdir().map_or_else(|| store.git_dir(), |dir| dir.to_path_buf());
    let mut config = ServeConfig::from_process(repo, args.addr, args.allow_host.clone());
    drop(service);
    if !config.mcp_tokens.is_empty() {
        // The agents' id is checked now, not at their first request.
        IdentityEnv { mcp_token: Some(String::new()), agent_id: config.agent_id.clone(), user_id: None }.actor()?;
    }
    if config.user.is_none() && config.mcp_tokens.is_empty() {
        return Err(Error::new(
            Code::UserIdRequired,
            "nobody could use this server: neither ZEN_USER_ID nor ZEN_MCP_TOKENS is set",
        )
        .with_hint("set ZEN_USER_ID to your user id to review in a browser, and/or ZEN_MCP_TOKENS for agents"));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr).await.map_err(|e| {
            Error::new(Code::Internal, format!("cannot listen on {}: {e}", args.addr))
                .with_hint("pick another --addr; port 0 takes any free one")
        })?;
        config.addr = listener.local_addr()?;
        announce(&config);
        let state = AppState::new(config);
        if let Some(token) = state.issue_login_token() {
            let host = reachable(state.config().addr);
            eprintln!(
                "draft serve: open this one-time login URL to sign in as {}:",
                state.config().user.as_deref().unwrap_or("?")
            );
            eprintln!("  http://{host}/login?token={token}");
        }
        crate::http::serve(listener, state).await.map_err(|e| Error::internal(format!("the server stopped: {e}")))
    })?;
    eprintln!("draft serve: stopped");
    Ok(0)
}

/// The address to give people and agents: an unspecified one (0.0.0.0) is
/// reached, and its Host accepted, as 127.0.0.1.
fn reachable(addr: std::net::SocketAddr) -> String {
    if addr.ip().is_unspecified() { format!("127.0.0.1:{}", addr.port()) } else { addr.to_string() }
}

/// Where the server listens and who may use it, on stderr.
fn announce(config: &ServeConfig) {
    if !config.addr.ip().is_loopback() {
        eprintln!(
            "warning: listening on {}, reachable from other machines; session cookies and tokens travel in clear \
             unless TLS is in front",
            config.addr
        );
    }
    eprintln!("draft serve: listening on http://{} for {}", config.addr, config.repo.display());
    match config.mcp_tokens.len() {
        0 => eprintln!("draft serve: no ZEN_MCP_TOKENS, so the API takes browser sessions only"),
        n => {
            let agent = config.agent_id.as_deref().unwrap_or(crate::domain::identity::DEFAULT_AGENT_ID);
            eprintln!("draft serve: {n} MCP token(s) accepted; token holders act as agent:{agent} and cannot apply");
            eprintln!("draft serve: MCP over Streamable HTTP at http://{}/mcp (bearer token)", reachable(config.addr));
            if !config.agent_signing.contains_key("ZEN_SIGNING_KEY") {
                eprintln!(
                    "warning: ZEN_AGENT_SIGNING_KEY is not set, so agents' creates and discards need git's \
                     user.signingkey to be listed for {agent} in .zen/allowed_signers"
                );
            }
            if config.mcp_tokens.iter().any(|t| t.len() < 16) {
                eprintln!("warning: an MCP token is shorter than 16 characters; use long random tokens");
            }
        }
    }
    if config.user.is_none() {
        eprintln!("draft serve: no ZEN_USER_ID, so nobody can sign in to the dashboard");
    }
}
