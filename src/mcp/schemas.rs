//! The output schema of each tool: the shape of its structured content, which
//! is the document `draft --json` prints for the same command. Written out
//! here rather than derived, because the documents are the CLI's (and
//! `docs/reference.md` describes them); the tests hold every result the
//! official SDKs receive to these schemas.

use rmcp::model::JsonObject;
use serde_json::{Value, json};
use std::sync::Arc;

fn object(schema: Value) -> Arc<JsonObject> {
    match schema {
        Value::Object(map) => Arc::new(map),
        _ => unreachable!("a schema is an object"),
    }
}

fn nullable_string() -> Value {
    json!({ "type": ["string", "null"] })
}

/// A check in `validate`'s shape.
fn check() -> Value {
    json!({
        "type": "object",
        "required": ["code", "ok", "message"],
        "properties": { "code": { "type": "string" }, "ok": { "type": "boolean" }, "message": { "type": "string" } }
    })
}

/// One entry of a listing: a draft, or a file that cannot be read as one.
fn listed_draft() -> Value {
    json!({
        "type": "object",
        "required": ["status"],
        "properties": {
            "id": { "type": "string" },
            "short_id": { "type": "string" },
            "type": { "type": "string" },
            "status": { "type": "string", "enum": ["pending", "expired", "applied", "discarded", "invalid"] },
            "tenant": { "type": "string" },
            "created_by": { "type": "string" },
            "created_at": { "type": "string" },
            "expires_at": { "type": "string" },
            // What the file holds: a hand-pushed file may hold anything here.
            "proposed_spec": {},
            "base": nullable_string(),
            "rationale": { "type": "string" },
            "links": { "type": "array", "items": { "type": "string" } },
            "path": { "type": "string" },
            "change": { "type": ["string", "null"] },
            "evidence": { "type": "string", "enum": ["verified", "missing", "invalid"] },
            "error": { "type": "object" }
        }
    })
}

pub fn created() -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "required": ["id", "path", "commit", "schema_version"],
        "properties": {
            "id": { "type": "string", "description": "The new draft's id: give it to the person who reviews it" },
            "path": { "type": "string" },
            "commit": { "type": "string" },
            "schema_version": { "type": "integer" }
        }
    }))
}

pub fn discarded() -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "required": ["id", "commit", "schema_version"],
        "properties": {
            "id": { "type": "string" },
            "commit": { "type": "string" },
            "schema_version": { "type": "integer" }
        }
    }))
}

pub fn listing() -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "required": ["drafts", "conflicts", "schema_version"],
        "properties": {
            "drafts": { "type": "array", "items": listed_draft() },
            "conflicts": {
                "type": "array",
                "description": "Pending drafts that propose the same resource: applying one makes the rest BASE_CHANGED",
                "items": {
                    "type": "object",
                    "required": ["resource", "drafts"],
                    "properties": {
                        "resource": { "type": "string" },
                        "drafts": { "type": "array", "items": { "type": "string" } }
                    }
                }
            },
            "schema_version": { "type": "integer" }
        }
    }))
}

pub fn shown() -> Arc<JsonObject> {
    let mut draft = listed_draft();
    let properties = draft["properties"].as_object_mut().expect("an object schema");
    properties.insert("spec_digest".into(), nullable_string());
    properties.insert("resource".into(), nullable_string());
    properties.insert("checks".into(), json!({ "type": "array", "items": check() }));
    properties.insert("conflicts".into(), json!({ "type": "array", "items": { "type": "string" } }));
    properties.insert("diff".into(), nullable_string());
    properties.insert("base_diff".into(), nullable_string());
    properties.insert("schema_version".into(), json!({ "type": "integer" }));
    draft["required"] = json!(["id", "status", "checks", "schema_version"]);
    object(draft)
}
