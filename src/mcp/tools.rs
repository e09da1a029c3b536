//! The four MCP tools (SPEC §6): their input and output schemas, the
//! descriptions an LLM reads to decide what to call, and the one service call
//! each makes. They are listed by name, in the same order every time.
//!
//! Arguments are handed to the service as they came: the spec fields are
//! forwarded as JSON, so every check (missing fields, shapes, providers, target
//! URLs, raw secrets) is the service's, reported as a tool error. There is no
//! apply tool, and no argument names a branch, a ref or a path.

use super::DraftServer;
use super::params::Parameters;
use super::results::Done;
use super::schemas;
use crate::domain::draft::DraftType;
use crate::service::{CreateRequest, ListFilter};
use rmcp::model::CallToolResult;
use rmcp::schemars::{self, JsonSchema};
use rmcp::{tool, tool_router};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The tools that write, left out of a server that cannot sign as the agent.
pub const WRITING_TOOLS: [&str; 2] = ["create_endpoint_draft", "discard_draft"];

const CREATE: &str = "Propose a webhook endpoint as a draft. A draft is a reviewable proposal stored on the \
repo's drafts branch and signed as you; it changes nothing in production. A person reads it (its checks, its diff \
against main and your rationale) and then applies it or discards it: you cannot apply drafts, and no tool here can. \
Proposing an endpoint whose name \
already exists proposes a change to it. Never put a secret value (API key, signing secret, token, password) in any \
field: store it in a secret manager and pass a reference in secret_ref (vault://..., aws-sm://..., gcp-sm://..., \
azure-kv://..., op://... or env://...). Fill rationale: say why the change is needed and what you checked, so the reviewer can decide; add links to the ticket or incident and agent (model, session, tool). \
Returns {id, path, commit} and a link to the draft://drafts/{id} resource; give the id to the person who will \
review it. \
A refused proposal is a tool error starting with its code (SPEC_MISSING, INVALID_SPEC, UNKNOWN_PROVIDER, \
INVALID_TARGET_URL, RAW_SECRET, ...), the failed checks and a hint: nothing was written; fix what it names and call \
again.";

const LIST: &str = "List drafts, to see what already awaits a person's review before you propose something (do not \
propose a pending draft twice). Read-only. Without arguments: pending, expired and unreadable (invalid) drafts; with \
status, only those; with all, applied and discarded ones too; with type, only drafts of that type. Each draft has its \
id and short_id, \
status, created_by, created_at, expires_at, proposed_spec, change (new, modify or none: what applying it would do to \
main) and evidence (verified, missing or invalid). Returns {drafts: [...]}.";

const SHOW: &str = "Show one draft as the person reviewing it sees it: every field, the digest of its proposed \
spec, its evidence state, the checks applying it would run now, other pending drafts for the same resource \
(conflicts), and the unified diff of endpoints/<name>.yaml on main against what applying it would write. Read-only. \
Use it to check a draft you proposed before telling the person it is ready for review.";

const DISCARD: &str = "Withdraw a pending (or expired) draft, for example one you replaced with a corrected \
proposal. The draft is marked discarded and kept for audit; this cannot be undone, and only pending or expired drafts \
can be discarded (anything else is refused with NOT_PENDING). The optional reason is recorded in the draft; never \
put a secret in it. Returns {id, commit}.";

/// The endpoint a draft proposes, and how long the draft stays open.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointDraft {
    /// Endpoint name: lowercase letters, digits and '-', at most 63 characters; becomes endpoints/<name>.yaml.
    #[schemars(with = "String")]
    name: Option<Value>,
    /// Webhook provider, one the repo allows: stripe, github, gitlab, shopify, slack, twilio, sendgrid, ...
    #[schemars(with = "String")]
    provider: Option<Value>,
    /// Where events are delivered: a public https:// URL, with no credentials and no private address.
    #[schemars(with = "String")]
    target_url: Option<Value>,
    /// Reference to the signing secret, never the secret: vault://, aws-sm://, gcp-sm://, azure-kv://, op://, env://
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    secret_ref: Option<Value>,
    /// What the endpoint is for, for the human reviewer (at most 1000 characters, no secrets).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    description: Option<Value>,
    /// Event names to subscribe, as the provider spells them (e.g. payment_intent.succeeded, push).
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    events: Option<Value>,
    /// How long the draft stays open for review, like 12h, 7d or 2w (default: the repo's ttl).
    #[serde(default)]
    ttl: Option<String>,
    /// Why you propose this change, for the person who reviews it: the problem, what you checked, the risk. Please always fill it (at most 4000 characters, no secrets).
    #[serde(default)]
    rationale: Option<String>,
    /// Links behind the change: the ticket, incident or run (http(s) URLs, at most 10).
    #[serde(default)]
    links: Vec<String>,
    /// The run that made this proposal: your model, session and tool, so the reviewer can trace it.
    #[serde(default)]
    agent: Option<crate::domain::provenance::AgentRun>,
}

impl CreateEndpointDraft {
    /// The service's request: the given spec fields, in the CLI's order.
    fn into_request(self) -> CreateRequest {
        let fields = [
            ("name", self.name),
            ("provider", self.provider),
            ("target_url", self.target_url),
            ("secret_ref", self.secret_ref),
            ("description", self.description),
            ("events", self.events),
        ];
        let spec: Map<String, Value> =
            fields.into_iter().filter_map(|(key, value)| Some((key.to_string(), value?))).collect();
        let mut request = CreateRequest::endpoint(Value::Object(spec), self.ttl);
        request.provenance =
            crate::domain::provenance::Provenance { rationale: self.rationale, links: self.links, agent: self.agent };
        request
    }
}

/// Which drafts to list: the filters of `draft list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDrafts {
    /// Only drafts with this status. Without it: pending, expired and invalid drafts.
    #[serde(default)]
    status: Option<StatusFilter>,
    /// Only drafts of this type (endpoint, route, policy, target or source).
    #[serde(default, rename = "type")]
    draft_type: Option<TypeFilter>,
    /// Every draft, applied and discarded ones included.
    #[serde(default)]
    all: bool,
}

/// A draft type as `draft list --type` takes it.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(try_from = "String")]
#[schemars(inline, with = "TypeName")]
pub struct TypeFilter(DraftType);

/// The schema of [`TypeFilter`]: the names of the draft types.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum TypeName {
    Endpoint,
    Route,
    Policy,
    Target,
    Source,
}

/// Parsed by hand, so a refused value is never repeated in the error.
impl TryFrom<String> for TypeFilter {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        DraftType::parse(&text).map(TypeFilter).ok_or("type must be one of endpoint, route, policy, target, source")
    }
}

/// A draft's status as `draft list --status` takes it.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase", try_from = "String")]
#[schemars(inline)]
pub enum StatusFilter {
    Pending,
    Expired,
    Applied,
    Discarded,
    Invalid,
}

/// Parsing by hand, so that a refused value is never repeated in the error
/// (serde's own message quotes it).
impl TryFrom<String> for StatusFilter {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        [
            StatusFilter::Pending,
            StatusFilter::Expired,
            StatusFilter::Applied,
            StatusFilter::Discarded,
            StatusFilter::Invalid,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or("status must be one of pending, expired, applied, discarded, invalid")
    }
}

impl StatusFilter {
    fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Pending => "pending",
            StatusFilter::Expired => "expired",
            StatusFilter::Applied => "applied",
            StatusFilter::Discarded => "discarded",
            StatusFilter::Invalid => "invalid",
        }
    }
}

/// One draft.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowDraft {
    /// The draft's id, or any unique prefix of it (list_drafts prints short_id).
    id: String,
}

/// The draft to withdraw, and why.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscardDraft {
    /// The draft's id, or any unique prefix of it.
    id: String,
    /// Why it is withdrawn; recorded in the draft for reviewers. Never a secret.
    #[serde(default)]
    reason: Option<String>,
}

#[tool_router(vis = "pub(super)")]
impl DraftServer {
    #[tool(
        name = "create_endpoint_draft",
        title = "Propose an endpoint",
        description = CREATE,
        output_schema = schemas::created(),
        annotations(
            title = "Propose an endpoint",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn create_endpoint_draft(&self, Parameters(args): Parameters<CreateEndpointDraft>) -> CallToolResult {
        let request = args.into_request();
        self.call("create_endpoint_draft", move |service| {
            let created = service.create(&request)?;
            let id = created.id.clone();
            Ok(Done::about(plain(created), &id))
        })
        .await
    }

    #[tool(
        name = "list_drafts",
        title = "List drafts",
        description = LIST,
        output_schema = schemas::listing(),
        annotations(
            title = "List drafts",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_drafts(&self, Parameters(args): Parameters<ListDrafts>) -> CallToolResult {
        let filter = ListFilter {
            status: args.status.map(|s| s.as_str().to_string()),
            draft_type: args.draft_type.map(|t| t.0),
            all: args.all,
        };
        self.call("list_drafts", move |service| Ok(Done::plain(service.list(&filter)?.to_json()))).await
    }

    #[tool(
        name = "show_draft",
        title = "Show a draft",
        description = SHOW,
        output_schema = schemas::shown(),
        annotations(
            title = "Show a draft",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn show_draft(&self, Parameters(args): Parameters<ShowDraft>) -> CallToolResult {
        self.call("show_draft", move |service| {
            let shown = service.show(&args.id)?;
            let id = shown.view.id.to_string();
            Ok(Done::about(shown.to_json(true), &id))
        })
        .await
    }

    #[tool(
        name = "discard_draft",
        title = "Withdraw a draft",
        description = DISCARD,
        output_schema = schemas::discarded(),
        annotations(
            title = "Withdraw a draft",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn discard_draft(&self, Parameters(args): Parameters<DiscardDraft>) -> CallToolResult {
        self.call("discard_draft", move |service| {
            let discarded = service.discard(&args.id, args.reason.as_deref())?;
            let id = discarded.id.clone();
            Ok(Done::about(plain(discarded), &id))
        })
        .await
    }
}

/// A service report as JSON, exactly as `--json` prints it.
fn plain(report: impl serde::Serialize) -> Value {
    serde_json::to_value(report).expect("a report is plain data")
}
