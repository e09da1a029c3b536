//! The JSON API under `/api/v1` (SPEC §7): list, show, create, discard and
//! apply, each one call into the service as the request's caller, with the
//! same JSON shapes as `draft --json` (SPEC §3). The routes are described by
//! `docs/openapi.json`, served at `/api/v1/openapi.json` and held to the router
//! by the API tests.
//!
//! Must never: check a draft rule itself (the service refuses, and its code
//! and checks reach the client unchanged), or accept a request whose body it
//! could not read as if it were empty.

use super::refusal::Refusal;
use super::{AppState, auth};
use crate::domain::draft::DraftType;
use crate::service::{CreateRequest, ListFilter};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The OpenAPI 3 document, embedded in the binary.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// The list statuses `draft list --status` takes.
pub const STATUSES: [&str; 5] = ["pending", "expired", "applied", "discarded", "invalid"];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/drafts", get(list).post(create))
        .route("/api/v1/drafts/{id}", get(show))
        .route("/api/v1/drafts/{id}/discard", post(discard))
        .route("/api/v1/drafts/{id}/apply", post(apply))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], OPENAPI).into_response()
}

/// `GET /api/v1/drafts` query: the filters of `draft list`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub draft_type: Option<String>,
    #[serde(default)]
    pub all: bool,
}

impl ListQuery {
    /// The service's filter; an unknown status or type is a bad request, as
    /// clap makes it one on the command line.
    pub(crate) fn filter(&self) -> Result<ListFilter, Refusal> {
        let status = self.status.as_deref().filter(|s| !s.is_empty());
        if let Some(status) = status
            && !STATUSES.contains(&status)
        {
            return Err(Refusal::bad_request(
                "unknown status filter",
                format!("status is one of {}", STATUSES.join(", ")),
            ));
        }
        let draft_type = match self.draft_type.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => Some(DraftType::parse(text).ok_or_else(|| {
                Refusal::bad_request("unknown type filter", "type is one of endpoint, route, policy, target, source")
            })?),
        };
        Ok(ListFilter { status: status.map(str::to_string), draft_type, all: self.all })
    }
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, Refusal> {
    let caller = auth::api_caller(&state, &headers)?;
    let Query(query) = query.map_err(|_| {
        Refusal::bad_request("the query string is not one this call takes", "use status=, type= and all=true")
    })?;
    let filter = query.filter()?;
    let listing = state.run(&caller, move |service| service.list(&filter)).await?;
    Ok(Json(versioned(listing.to_json())))
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let caller = auth::api_caller(&state, &headers)?;
    let shown = state.run(&caller, move |service| service.show(&id)).await?;
    Ok(Json(versioned(shown.to_json(true))))
}

async fn create(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    let caller = auth::api_caller(&state, &headers)?;
    let proposal: Option<Value> = json_body(&headers, &body)?;
    let Some(proposal @ Value::Object(_)) = proposal else {
        return Err(Refusal::bad_request(
            "the body must be a proposal object",
            r#"send {"type": "endpoint", "proposed_spec": {...}, "ttl": "7d"}"#,
        ));
    };
    // Through the proposal reader `draft create --file` uses, so both accept
    // exactly the same proposals and refuse the rest with the same codes.
    let bytes = serde_json::to_vec(&proposal).expect("a JSON value serializes");
    let created = state.run(&caller, move |service| service.create(&CreateRequest::from_proposal(&bytes)?)).await?;
    let location = format!("/api/v1/drafts/{}", created.id);
    let mut response = (StatusCode::CREATED, Json(versioned(json!(created)))).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiscardBody {
    reason: Option<String>,
}

async fn discard(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Refusal> {
    let caller = auth::api_caller(&state, &headers)?;
    let DiscardBody { reason } = json_body::<DiscardBody>(&headers, &body)?.unwrap_or_default();
    let discarded = state.run(&caller, move |service| service.discard(&id, reason.as_deref())).await?;
    Ok(Json(versioned(json!(discarded))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyBody {
    /// The spec digest the reviewer saw; apply refuses a spec that differs.
    digest: Option<String>,
}

async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Refusal> {
    let caller = auth::api_caller(&state, &headers)?;
    let ApplyBody { digest } = json_body::<ApplyBody>(&headers, &body)?.unwrap_or_default();
    let applied = state.run(&caller, move |service| service.apply(&id, digest.as_deref())).await?;
    Ok(Json(versioned(json!(applied))))
}

/// Reads a JSON body: `None` when there is none, 400 when it is not JSON or
/// not the shape this call takes. Messages name where, never what.
fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<Option<T>, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(Refusal::bad_request("the body is not JSON", "send Content-Type: application/json"));
    }
    serde_json::from_slice(body).map(Some).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "is JSON, but not the shape this call takes",
            _ => "is not valid JSON",
        };
        Refusal::bad_request(
            format!("the body {what} (line {}, column {})", e.line(), e.column()),
            "see /api/v1/openapi.json for the request bodies",
        )
    })
}

/// A response document with the JSON shapes' version, as the CLI prints it.
pub(crate) fn versioned(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(object) = value.as_object_mut() {
        object.insert("schema_version".into(), crate::cli::output::SCHEMA_VERSION.into());
    }
    value
}
