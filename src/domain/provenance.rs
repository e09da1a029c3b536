//! Why a draft exists: the proposer's rationale, links (a ticket, an
//! incident, a run), and for an agent the run that made it. Shown to the
//! reviewer beside the spec, covered by the `draft_created` record like the
//! spec itself, and checked like any other text an agent writes.

use crate::domain::checks::check_text_for_secret;
use crate::domain::digest::value_digest;
use crate::domain::target_url::check_target_url;
use crate::error::{Check, Code};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

/// The most links a draft carries, and the longest texts.
const MAX_LINKS: usize = 10;
const MAX_RATIONALE: usize = 4000;
const MAX_AGENT_FIELD: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentRun>,
}

/// The agent run behind a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRun {
    /// The model that proposed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The agent's session or run id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The agent program or tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
}

impl Provenance {
    pub fn is_empty(&self) -> bool {
        *self == Provenance::default()
    }

    /// `sha256:` over its canonical JSON; `None` when there is none, so
    /// drafts without provenance keep their records as before.
    pub fn digest(&self) -> Option<String> {
        (!self.is_empty()).then(|| value_digest(&serde_json::to_value(self).expect("plain data")))
    }

    /// The checks a proposal's provenance must pass: no secret in any text,
    /// links that are public http(s) URLs, bounded sizes, and `agent` only
    /// from an agent. Only failures are returned.
    pub fn check(&self, by_agent: bool) -> Vec<Check> {
        let mut failed = Vec::new();
        let mut text = |field: &str, value: &str, max: usize| {
            if value.chars().count() > max {
                failed.push(Check::fail(Code::InvalidSpec, format!("{field} is longer than {max} characters")));
            }
            let scanned = check_text_for_secret(field, value);
            if !scanned.ok {
                failed.push(scanned);
            }
        };
        if let Some(rationale) = &self.rationale {
            text("rationale", rationale, MAX_RATIONALE);
        }
        if let Some(agent) = &self.agent {
            for (field, value) in
                [("agent.model", &agent.model), ("agent.session", &agent.session), ("agent.tool", &agent.tool)]
            {
                if let Some(value) = value {
                    text(field, value, MAX_AGENT_FIELD);
                }
            }
        }
        if self.agent.is_some() && !by_agent {
            failed.push(Check::fail(Code::InvalidSpec, "agent describes an agent's run; a person's draft has none"));
        }
        if self.links.len() > MAX_LINKS {
            failed.push(Check::fail(Code::InvalidSpec, format!("links holds more than {MAX_LINKS} URLs")));
        }
        for (i, link) in self.links.iter().enumerate() {
            // Like a target URL, except that plain http is fine for a link.
            let https = link.strip_prefix("http://").map_or_else(|| link.clone(), |rest| format!("https://{rest}"));
            if let Err(problem) = check_target_url(&https, &[]) {
                failed
                    .push(Check::fail(Code::InvalidSpec, format!("links[{i}] is not a public http(s) URL: {problem}")));
            }
            let scanned = check_text_for_secret(&format!("links[{i}]"), link);
            if !scanned.ok {
                failed.push(scanned);
            }
        }
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_provenance_has_no_digest_and_a_full_one_is_checked() {
        assert_eq!(Provenance::default().digest(), None);
        let good = Provenance {
            rationale: Some("INC-42: payments retries".into()),
            links: vec!["https://tickets.example.com/INC-42".into(), "http://runs.example.org/7".into()],
            agent: Some(AgentRun { model: Some("m-1".into()), session: Some("s-9".into()), tool: None }),
        };
        assert!(good.check(true).is_empty(), "{:?}", good.check(true));
        assert!(good.digest().is_some_and(|d| d.starts_with("sha256:")));
        assert!(!good.check(false).is_empty(), "agent is for agents");
        let bad = Provenance {
            rationale: Some("key sk_live_4eC39HqLyjWDarjtT1zdp7dc".into()),
            links: vec!["ftp://x.example.com".into(), "https://10.0.0.1/".into()],
            agent: None,
        };
        assert_eq!(bad.check(true).len(), 3, "{:?}", bad.check(true));
    }
}
