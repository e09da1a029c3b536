//! The endpoint spec an agent proposes, and the resource file apply writes from it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const BUILTIN_PROVIDERS: [&str; 9] =
    ["stripe", "github", "gitlab", "shopify", "slack", "twilio", "sendgrid", "pagerduty", "generic"];

pub const RESOURCE_DIR: &str = "endpoints";

/// The fields of an endpoint, in the order they are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    pub name: String,
    pub provider: String,
    pub target_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
}

impl EndpointSpec {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("an endpoint spec is plain data")
    }

    /// Where apply writes this endpoint on main.
    pub fn resource_path(&self) -> String {
        resource_path(&self.name)
    }

    /// Exactly the bytes apply writes to `endpoints/<name>.yaml`.
    pub fn render_resource(&self) -> String {
        crate::yaml::render(self)
    }
}

pub fn resource_path(name: &str) -> String {
    format!("{RESOURCE_DIR}/{name}.yaml")
}

/// `^[a-z0-9][a-z0-9-]{0,62}$`: one lowercase path segment, so a name can
/// neither leave `endpoints/` nor differ from another only by case.
pub fn name_is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Event names as providers spell them: `payment_intent.succeeded`, `push`, `issues:opened`.
pub fn event_is_valid(event: &str) -> bool {
    !event.is_empty() && event.len() <= 128 && event.chars().all(|c| c.is_ascii_alphanumeric() || "._:*/-".contains(c))
}

pub const MAX_DESCRIPTION: usize = 1000;
pub const MAX_EVENTS: usize = 100;
