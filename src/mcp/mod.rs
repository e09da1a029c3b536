//! The MCP server adapter (`draft mcp`, SPEC §6): how agents reach zen-draft.
//!
//! It is the scoped writer. Whatever the process environment says, every call
//! acts as the agent `ZEN_AGENT_ID` (an MCP caller is an agent, SPEC §2), signs
//! its evidence with `ZEN_SIGNING_KEY` as the CLI would, and can only create,
//! read and discard drafts through the service layer.
//!
//! It must never: offer an apply tool or anything else that reaches main;
//! re-implement a check the service makes; write anything to stdout but the
//! protocol (diagnostics go to stderr); or put a value it was given into a
//! log line or an error of its own (a value may be a secret).

mod results;
mod tools;

use crate::domain::identity::IdentityEnv;
use crate::error::{Error, Result};
use crate::service::{CallerEnv, Service};
use results::{refusal, success};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool_handler};
use std::path::PathBuf;
use std::sync::Arc;

/// What an MCP client is told about this server when it connects.
const INSTRUCTIONS: &str = "zen-draft is a human gate between agents and production infrastructure. \
You propose changes as drafts: a draft is a reviewable proposal on the repo's drafts branch, signed as you, \
that changes nothing in production. A human reviews it and applies it; you cannot apply drafts and no tool \
here can. Never put a secret value in any argument: reference secrets where they are stored \
(vault://, aws-sm://, gcp-sm://, azure-kv://, op://, env://). A refused call is a tool error starting with \
its error code and a hint; fix what it names and call again.";

/// The MCP server: one repo, one agent identity, the four draft tools.
#[derive(Clone)]
pub struct DraftServer {
    shared: Arc<Shared>,
    tool_router: ToolRouter<DraftServer>,
}

/// What every call needs to open the service as the agent.
struct Shared {
    repo: Option<PathBuf>,
    env: CallerEnv,
}

/// The caller's environment with the identity forced to the agent: an MCP
/// token is present whatever the process had, so `ZEN_USER_ID` is ignored and
/// `ZEN_AGENT_ID` (default `mcp-agent`) acts. Tenant and signing key are kept.
pub fn agent_env(process: CallerEnv) -> CallerEnv {
    let identity = IdentityEnv {
        mcp_token: Some(process.identity.mcp_token.unwrap_or_default()),
        agent_id: process.identity.agent_id,
        user_id: None,
    };
    CallerEnv { identity, ..process }
}

impl DraftServer {
    /// A server for `repo` (default: the repo containing the current
    /// directory) acting with `env`, which should come from [`agent_env`].
    pub fn new(repo: Option<PathBuf>, env: CallerEnv) -> DraftServer {
        DraftServer { shared: Arc::new(Shared { repo, env }), tool_router: DraftServer::tool_router() }
    }

    /// Runs one service call on a blocking thread (git and signing block),
    /// and turns its outcome into a tool result. `tool` names the call in the
    /// stderr log; no argument is ever logged.
    async fn call(
        &self,
        tool: &'static str,
        work: impl FnOnce(&Service) -> Result<serde_json::Value> + Send + 'static,
    ) -> CallToolResult {
        let shared = Arc::clone(&self.shared);
        let joined = tokio::task::spawn_blocking(move || {
            let service = Service::open(shared.repo.as_deref(), shared.env.clone())?;
            work(&service)
        })
        .await;
        let outcome = joined.unwrap_or_else(|e| Err(Error::internal(format!("the {tool} call did not finish: {e}"))));
        match outcome {
            Ok(value) => {
                log(format_args!("{tool}: ok"));
                success(value)
            }
            Err(error) => {
                log(format_args!("{tool}: refused {}", error.code));
                refusal(&error)
            }
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DraftServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("zen-draft", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// Serves MCP on stdin/stdout until the client closes the connection.
///
/// The agent's identity and the repo are checked before anything is served, so
/// a misconfigured server fails at start with the usual error and exit code.
pub fn serve_stdio(repo: Option<PathBuf>) -> Result<()> {
    let env = agent_env(CallerEnv::from_process());
    let actor = env.identity.require_actor()?;
    Service::open(repo.as_deref(), env.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the async runtime: {e}")))?;
    log(format_args!("serving MCP on stdio as {actor}"));
    runtime.block_on(async {
        let running = DraftServer::new(repo, env)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::internal(format!("MCP session did not start: {e}")))?;
        running.waiting().await.map_err(|e| Error::internal(format!("MCP session failed: {e}")))?;
        Ok::<(), Error>(())
    })?;
    log(format_args!("client closed the session"));
    Ok(())
}

/// One diagnostic line on stderr; stdout belongs to the protocol.
fn log(line: std::fmt::Arguments<'_>) {
    eprintln!("draft mcp: {line}");
}
