//! The drafts as MCP resources: `draft://drafts` (what awaits review) and
//! the template `draft://drafts/{id}` (one draft: its file as on the drafts
//! branch, its checks, its diff against main and its signed records).
//!
//! A resource is read as the tools read: through the service, as the agent,
//! with nothing the URI carries beyond a draft id prefix.

use crate::domain::draft_id::IdPrefix;
use crate::error::Result;
use crate::service::{ListFilter, Service};
use rmcp::ErrorData;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::json;

const LIST_URI: &str = "draft://drafts";
const DRAFT_PREFIX: &str = "draft://drafts/";
const JSON: &str = "application/json";

/// What a URI names.
pub enum Target {
    Pending,
    Draft(String),
}

pub fn listed() -> Vec<Resource> {
    vec![
        Resource::new(LIST_URI, "drafts")
            .with_title("Drafts awaiting review")
            .with_description(
                "The pending and expired drafts (and files on the drafts branch that cannot be read), as list_drafts returns them.",
            )
            .with_mime_type(JSON),
    ]
}

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("draft://drafts/{id}", "draft")
            .with_title("One draft")
            .with_description(
                "A draft by id (or any unique prefix): its file as on the drafts branch, the checks apply would run now, \
                 the diff against main, other pending drafts for the same resource, and its signed evidence records.",
            )
            .with_mime_type(JSON),
    ]
}

/// The link a tool result carries to one draft.
pub fn draft_link(id: &str) -> Resource {
    Resource::new(format!("{DRAFT_PREFIX}{id}"), format!("draft {id}"))
        .with_title("The draft: file, checks, diff and evidence")
        .with_mime_type(JSON)
}

/// The resource a URI names, if it names one: a draft id must be a valid prefix.
pub fn parse(uri: &str) -> Option<Target> {
    if uri == LIST_URI {
        return Some(Target::Pending);
    }
    let id = uri.strip_prefix(DRAFT_PREFIX)?;
    IdPrefix::parse(id).ok()?;
    Some(Target::Draft(id.to_string()))
}

/// An unknown URI, answered without repeating it.
pub fn unknown() -> ErrorData {
    ErrorData::resource_not_found(
        "no such resource: the resources are draft://drafts and draft://drafts/{id}",
        Some(json!({ "code": "NOT_FOUND" })),
    )
}

pub fn read(service: &Service, target: &Target) -> Result<ReadResourceResult> {
    let (uri, document) = match target {
        Target::Pending => (LIST_URI.to_string(), service.list(&ListFilter::default())?.to_json()),
        Target::Draft(id) => {
            // One lookup: the file and records are those of the draft shown.
            let shown = service.show(id)?;
            let file = service.draft_file(&shown.view)?;
            let records = service.draft_records(&shown.view)?;
            (format!("{DRAFT_PREFIX}{id}"), json!({ "draft": shown.to_json(true), "file": file, "records": records }))
        }
    };
    let mut document = document;
    document["schema_version"] = crate::cli::output::SCHEMA_VERSION.into();
    let text = serde_json::to_string_pretty(&document).expect("plain data");
    Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri).with_mime_type(JSON)]))
}
