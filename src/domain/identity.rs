//! Who is acting: an agent or a human (SPEC §2).
//!
//! The rule that decides it lives here and nowhere else: any MCP token makes the
//! caller an agent, whatever user id it also claims.

use crate::error::{Code, Error, Result};
use std::fmt;

pub const DEFAULT_AGENT_ID: &str = "mcp-agent";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Agent(String),
    User(String),
}

/// The identity-bearing environment, read once at the edge.
#[derive(Debug, Clone, Default)]
pub struct IdentityEnv {
    pub mcp_token: Option<String>,
    pub agent_id: Option<String>,
    pub user_id: Option<String>,
}

impl IdentityEnv {
    pub fn from_process() -> Self {
        IdentityEnv {
            mcp_token: std::env::var("ZEN_MCP_TOKEN").ok(),
            agent_id: std::env::var("ZEN_AGENT_ID").ok(),
            user_id: std::env::var("ZEN_USER_ID").ok(),
        }
    }

    /// The acting identity, if any: an agent when an MCP token is present (any
    /// value, even empty), else a human when a user id is set.
    pub fn actor(&self) -> Result<Option<Actor>> {
        if self.mcp_token.is_some() {
            let id = self.agent_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let id = id.unwrap_or(DEFAULT_AGENT_ID);
            return Ok(Some(Actor::Agent(valid_principal(id, "ZEN_AGENT_ID")?)));
        }
        match self.user_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => Ok(Some(Actor::User(valid_principal(id, "ZEN_USER_ID")?))),
            None => Ok(None),
        }
    }

    /// Like [`IdentityEnv::actor`], but an identity is required (create, discard).
    pub fn require_actor(&self) -> Result<Actor> {
        self.actor()?.ok_or_else(|| {
            Error::new(Code::UserIdRequired, "this command needs an identity, and none is set")
                .with_hint("set ZEN_USER_ID to your user id (people), or run through the MCP server (agents)")
        })
    }
}

/// Principals end up in `allowed_signers` lines and commit trailers, so they
/// must be one plain token.
fn valid_principal(id: &str, var: &str) -> Result<String> {
    let ok = id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "._@+-".contains(c))
        && !id.starts_with(['-', '.']);
    if ok {
        Ok(id.to_string())
    } else {
        Err(Error::new(Code::UserIdRequired, format!("{var} is not a valid id"))
            .with_hint("ids are up to 64 letters, digits and . _ @ + - (the principal in .zen/allowed_signers)"))
    }
}

impl Actor {
    /// Reads an actor as records and draft files write it (`agent:ops-bot`,
    /// `user:alice`); `None` unless it is one, with a valid principal.
    pub fn parse(text: &str) -> Option<Actor> {
        if let Some(id) = text.strip_prefix("agent:") {
            return valid_principal(id, "agent").ok().map(Actor::Agent);
        }
        let id = text.strip_prefix("user:")?;
        valid_principal(id, "user").ok().map(Actor::User)
    }

    /// The bare id: the principal in `allowed_signers`.
    pub fn id(&self) -> &str {
        match self {
            Actor::Agent(id) | Actor::User(id) => id,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Agent(id) => write!(f, "agent:{id}"),
            Actor::User(id) => write!(f, "user:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(token: Option<&str>, agent: Option<&str>, user: Option<&str>) -> IdentityEnv {
        IdentityEnv {
            mcp_token: token.map(String::from),
            agent_id: agent.map(String::from),
            user_id: user.map(String::from),
        }
    }

    #[test]
    fn an_mcp_token_makes_an_agent_even_with_a_user_id() {
        let actor = env(Some("t"), Some("ops-bot"), Some("alice")).actor().unwrap();
        assert_eq!(actor, Some(Actor::Agent("ops-bot".into())));
        let actor = env(Some(""), None, Some("alice")).actor().unwrap();
        assert_eq!(actor.unwrap().to_string(), "agent:mcp-agent");
    }

    #[test]
    fn actors_read_back_as_written() {
        for actor in [Actor::Agent("ops-bot".into()), Actor::User("alice@example".into())] {
            assert_eq!(Actor::parse(&actor.to_string()), Some(actor));
        }
        assert_eq!(Actor::parse("alice"), None);
        assert_eq!(Actor::parse("user:a b"), None);
        assert_eq!(Actor::parse("robot:x"), None);
    }

    #[test]
    fn a_user_id_makes_a_human() {
        assert_eq!(env(None, None, Some("alice")).actor().unwrap().unwrap().to_string(), "user:alice");
    }

    #[test]
    fn blank_user_id_is_no_identity() {
        assert_eq!(env(None, None, Some("  ")).actor().unwrap(), None);
        assert_eq!(env(None, None, None).require_actor().unwrap_err().code, Code::UserIdRequired);
    }

    #[test]
    fn ids_with_spaces_or_quotes_are_refused() {
        for bad in ["a b", "a\"b", "a,b", "-x", "a\nb"] {
            assert!(env(None, None, Some(bad)).actor().is_err(), "{bad:?}");
        }
    }
}
