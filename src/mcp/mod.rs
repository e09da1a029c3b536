//! The MCP server adapter (SPEC §6): how agents reach zen-draft, over stdio
//! (`draft mcp`) and over Streamable HTTP (`/mcp` on `draft serve`).
//!
//! It is the scoped writer. Whatever the process environment says, every call
//! acts as the agent `ZEN_AGENT_ID` (an MCP caller is an agent, SPEC §2), signs
//! its evidence with the agent's key, and can only create, read and discard
//! drafts through the service layer. The protocol itself (negotiating the
//! current revision or an older one, `server/discover`, sessions for older
//! clients, Host and Origin checks on HTTP) is rmcp's.
//!
//! It must never: offer an apply tool or anything else that reaches main;
//! re-implement a check the service makes; write anything to stdout but the
//! protocol (diagnostics go to stderr); or put a value it was given into a
//! log line or an error of its own (a value may be a secret).

mod params;
mod prompts;
mod resources;
mod results;
mod schemas;
mod tools;

use crate::domain::identity::IdentityEnv;
use crate::error::{Error, Result};
use crate::service::{CallerEnv, Service};
use results::{refusal, success};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool_handler};
use std::path::PathBuf;
use std::sync::Arc;

/// What an MCP client is told about this server: what it is for, what the
/// agent can and cannot do.
const INSTRUCTIONS: &str = "zen-draft puts a person between you and production infrastructure. \
You propose changes as drafts: a draft is a reviewable proposal on the repo's drafts branch, signed as you, \
that changes nothing in production. A person reads it (its checks, its diff against main, your rationale) \
and applies it or discards it; you cannot apply drafts, and no tool here can. \
To propose: look at what already waits (list_drafts, or the draft://drafts resource) so you do not \
duplicate a pending draft, call create_endpoint_draft with a rationale that says why and what you checked, \
read the result back (show_draft, or draft://drafts/{id}) and give the draft's id to the person who reviews it. \
Never put a secret value in any argument: reference secrets where they are stored \
(vault://, aws-sm://, gcp-sm://, azure-kv://, op://, env://). A refused call is a tool error starting with \
its error code, the failed checks and a hint that names the argument to fix; fix it and call again. \
The propose_change prompt walks through all of this.";

/// The MCP server: one repo, one agent identity, the draft tools, the
/// drafts as resources and one prompt.
#[derive(Clone)]
pub struct DraftServer {
    shared: Arc<Shared>,
    tool_router: ToolRouter<DraftServer>,
}

/// What every call needs to open the service as the agent.
struct Shared {
    repo: Option<PathBuf>,
    env: CallerEnv,
    /// Why this server cannot write, found when it started (say, the agent's
    /// key is not listed); `None` when create and discard are offered.
    read_only: Option<String>,
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
    /// directory) acting with `env`, which should come from [`agent_env`];
    /// with `read_only`, the reason it offers no tool that writes.
    pub fn new(repo: Option<PathBuf>, env: CallerEnv, read_only: Option<String>) -> DraftServer {
        let mut tool_router = DraftServer::tool_router();
        if read_only.is_some() {
            for name in tools::WRITING_TOOLS {
                tool_router.remove_route(name);
            }
        }
        DraftServer { shared: Arc::new(Shared { repo, env, read_only }), tool_router }
    }

    /// Opens the service on a blocking thread (git and signing block) and
    /// runs `work` there. `None` when the worker stopped on a bug: never the
    /// join error's text, as a panic's message can quote a value.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Service) -> Result<T> + Send + 'static,
    ) -> Option<Result<T>> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || work(&Service::open(shared.repo.as_deref(), shared.env.clone())?))
            .await
            .ok()
    }

    /// Runs one service call on a blocking thread (git and signing block),
    /// and turns its outcome into a tool result. `tool` names the call in the
    /// stderr log; no argument is ever logged.
    async fn call(
        &self,
        tool: &'static str,
        work: impl FnOnce(&Service) -> Result<results::Done> + Send + 'static,
    ) -> CallToolResult {
        let outcome = self
            .blocking(work)
            .await
            .unwrap_or_else(|| Err(Error::internal(format!("the {tool} call stopped on a bug"))));
        match outcome {
            Ok(done) => {
                log(format_args!("{tool}: ok"));
                success(done)
            }
            Err(error) => {
                log(format_args!("{tool}: refused {}", error.code));
                refusal(&error)
            }
        }
    }

    /// Runs a read for a resource or a prompt on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Service) -> Result<T> + Send + 'static,
    ) -> std::result::Result<T, ErrorData> {
        self.blocking(work)
            .await
            .ok_or_else(|| ErrorData::internal_error("a read did not finish", None))?
            .map_err(|error| results::protocol_error(&error))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DraftServer {
    fn get_info(&self) -> ServerConfig {
        let instructions = match &self.shared.read_only {
            None => INSTRUCTIONS.to_string(),
            // The reason itself (key paths, fingerprints) stays in the server's log.
            Some(_) => format!(
                "{INSTRUCTIONS} This server is read-only: it cannot sign as you, so create_endpoint_draft and \
                 discard_draft are not offered; the person who runs it can see why in its log and fix it."
            ),
        };
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().enable_prompts().build())
            .with_server_info(
                Implementation::new("zen-draft", env!("CARGO_PKG_VERSION"))
                    .with_title("zen-draft: propose infrastructure changes for a person to review"),
            )
            .with_instructions(instructions)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::listed()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(resources::templates()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.clone();
        let target = resources::parse(&uri).ok_or_else(resources::unknown)?;
        let result = self.read(move |service| resources::read(service, &target)).await?;
        Ok(ReadResourceResponse::Complete(result))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(prompts::listed()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<GetPromptResponse, ErrorData> {
        Ok(GetPromptResponse::Complete(prompts::get(&request)?))
    }
}

/// Whether the agent `env` can sign in `repo` now; why not, when it cannot.
/// A repo that cannot be opened at all is an error for the caller.
pub fn write_readiness(repo: Option<&std::path::Path>, env: &CallerEnv) -> Result<Option<Error>> {
    let service = Service::open(repo, env.clone())?;
    Ok(service.ready_to_sign().err())
}

/// The one line that says why a server is read-only.
pub(crate) fn read_only_reason(why: &Error) -> String {
    format!("it cannot sign as the agent: {}: {}", why.code, why.message)
}

/// Serves MCP on stdin/stdout until the client closes the connection.
///
/// The agent's identity, the repo and the agent's key are checked before
/// anything is served, so a misconfigured server fails at start with the
/// usual error and exit code, not at the first create. With `read_only`, a
/// key that cannot sign only withholds the tools that write.
pub fn serve_stdio(repo: Option<PathBuf>, read_only: bool) -> Result<()> {
    let env = agent_env(CallerEnv::from_process());
    let actor = env.identity.require_actor()?;
    let unready = write_readiness(repo.as_deref(), &env)?;
    let read_only = match unready {
        None if read_only => Some("started with --read-only".to_string()),
        None => None,
        Some(why) if read_only => Some(read_only_reason(&why)),
        Some(why) => {
            return Err(why.with_hint(
                "list the agent's public key for zen-draft-evidence (`draft signers add`), set ZEN_SIGNING_KEY to its private key, or start with --read-only to serve reads only",
            ));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the async runtime: {e}")))?;
    match &read_only {
        None => log(format_args!("serving MCP on stdio as {actor}")),
        Some(why) => log(format_args!("serving MCP on stdio as {actor}, read-only: {why}")),
    }
    runtime.block_on(async {
        let running = DraftServer::new(repo, env, read_only)
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
