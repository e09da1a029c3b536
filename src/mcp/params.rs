//! Tool arguments as rmcp hands them over, but refused without repeating
//! them: serde's own messages quote the value that did not fit (`invalid
//! type: string "sk_live_…"`) or the unknown key, and a value may be a
//! secret pasted into the wrong argument.
//!
//! Named `Parameters` so that rmcp's `#[tool]` macro takes each tool's input
//! schema from it, as it does from its own wrapper.

use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::schemars::{self, JsonSchema};
use serde::de::DeserializeOwned;

/// A tool's arguments, deserialized as `P`.
pub struct Parameters<P>(pub P);

impl<P: JsonSchema> JsonSchema for Parameters<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        P::json_schema(generator)
    }
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    fn from_context_part(context: &mut ToolCallContext<S>) -> Result<Self, ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        serde_json::from_value(serde_json::Value::Object(arguments)).map(Parameters).map_err(|e| {
            ErrorData::invalid_params(format!("invalid arguments: {}", without_values(&e.to_string())), None)
        })
    }
}

/// serde's message with what the caller sent taken out: the kind of a value
/// that did not fit (never the value), no unknown key's name. What is left
/// (expected types, field names the tool declares, our own messages) is the
/// tool's, not the caller's.
fn without_values(message: &str) -> String {
    // The last ", expected " is serde's own: only the tool's names follow it,
    // whatever the caller's key or value holds.
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let expected = rest.rsplit_once("`, expected ").map_or("", |(_, e)| e);
        return format!("an argument this tool does not take; expected {expected}");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (unexpected, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "another"));
            // `string "…"`, `integer `5``, `floating point `1.5``, `unit value`: the kind, never the value.
            let kind = unexpected.split(['"', '`']).next().unwrap_or("value").trim();
            return format!("{prefix}{kind}, expected {expected}");
        }
    }
    if message.starts_with("missing field `") || !message.contains(['"', '`', '\'']) {
        // A field the tool declares, or one of the tool's own messages.
        return message.to_string();
    }
    "the arguments do not fit the tool's inputSchema".to_string()
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn refusals_keep_the_shape_and_drop_the_value() {
        let secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
        for (message, expected) in [
            (
                format!("invalid type: string \"{secret}\", expected a sequence"),
                "invalid type: string, expected a sequence",
            ),
            (
                format!("invalid value: string \"{secret}\", expected one of `a`"),
                "invalid value: string, expected one of `a`",
            ),
            (
                format!("unknown field `{secret}`, expected one of `id`, `reason`"),
                "an argument this tool does not take; expected one of `id`, `reason`",
            ),
            (
                format!("unknown field ``, {secret}`, expected `id`"),
                "an argument this tool does not take; expected `id`",
            ),
            (
                "invalid type: floating point `1.5`, expected a string".into(),
                "invalid type: floating point, expected a string",
            ),
            (
                format!("invalid type: string \"a, expected x {secret}\", expected a list"),
                "invalid type: string, expected a list",
            ),
            ("missing field `id`".to_string(), "missing field `id`"),
            ("status must be one of pending, expired".to_string(), "status must be one of pending, expired"),
            (format!("something \"{secret}\" odd"), "the arguments do not fit the tool's inputSchema"),
        ] {
            let cleaned = without_values(&message);
            assert_eq!(cleaned, expected);
            assert!(!cleaned.contains(secret));
        }
    }
}
