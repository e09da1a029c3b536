//! Who is calling: MCP bearer tokens for agents, and browser sessions for the
//! one person who started `draft serve` (SPEC §7).
//!
//! - A bearer token from `ZEN_MCP_TOKENS` makes the request an agent's,
//!   whatever else it carries (a cookie, `X-User-Id`): the service then
//!   refuses apply with `MCP_CANNOT_APPLY`.
//! - A person gets a session by opening the one-time login URL; the cookie is
//!   HttpOnly and SameSite=Strict. JSON calls add `X-User-Id` naming the
//!   session's user, which no cross-site page can send without a preflight
//!   that this server never grants; HTML forms carry the session's CSRF token.
//!
//! Must never: compare a secret with `==` (timing), keep a session token in
//! the clear where a lookup's timing could reveal it, or let a login URL work
//! twice.

use super::refusal::Refusal;
use super::{AppState, Caller};
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use ssh_key::rand_core::{OsRng, RngCore};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "zen_session";

/// The header that names the session's user on JSON calls.
pub(crate) const USER_HEADER: &str = "x-user-id";

/// How long a session lasts; then the person restarts `draft serve` for a new
/// login URL.
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// A session, as a client holds it: the cookie to send and the CSRF token its
/// forms carry.
#[derive(Debug, Clone)]
pub struct SessionTicket {
    /// The `Cookie` header value: `zen_session=<token>`.
    pub cookie: String,
    /// The `Set-Cookie` header value the login answers with.
    pub set_cookie: String,
    pub csrf: String,
    pub user: String,
}

/// What a page shows once after a form post: the outcome, then gone.
#[derive(Debug, Clone)]
pub(crate) enum Flash {
    Done(String),
    Refused(Refusal),
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub user: String,
    pub csrf: String,
    pub flash: Option<Flash>,
    started: Instant,
}

/// The login token and the live sessions, keyed by the SHA-256 of their
/// cookie value.
#[derive(Default)]
pub(crate) struct Sessions {
    login: Option<String>,
    live: HashMap<[u8; 32], Session>,
}

impl Sessions {
    /// A fresh one-time login token; an earlier unused one stops working.
    pub fn issue_login(&mut self) -> String {
        let token = random_token();
        self.login = Some(token.clone());
        token
    }

    /// Spends the login token: true once for the right token, then never again.
    pub fn redeem_login(&mut self, offered: &str) -> bool {
        let ok = self.login.as_deref().is_some_and(|token| same_secret(token.as_bytes(), offered.as_bytes()));
        if ok {
            self.login = None;
        }
        ok
    }

    pub fn start(&mut self, user: String) -> SessionTicket {
        let token = random_token();
        let csrf = random_token();
        self.live.retain(|_, s| s.started.elapsed() < SESSION_LIFETIME);
        self.live.insert(
            key(&token),
            Session { user: user.clone(), csrf: csrf.clone(), flash: None, started: Instant::now() },
        );
        SessionTicket {
            cookie: format!("{SESSION_COOKIE}={token}"),
            set_cookie: format!(
                "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                SESSION_LIFETIME.as_secs()
            ),
            csrf,
            user,
        }
    }

    /// The live session this cookie value opens.
    pub fn get(&mut self, token: &str) -> Option<&mut Session> {
        let key = key(token);
        if self.live.get(&key).is_some_and(|s| s.started.elapsed() >= SESSION_LIFETIME) {
            self.live.remove(&key);
        }
        self.live.get_mut(&key)
    }

    pub fn end(&mut self, token: &str) {
        self.live.remove(&key(token));
    }
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// 32 random bytes from the OS, hex-encoded.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that depends only on their lengths.
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// The session cookie's value, from any `Cookie` header.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

/// Whether a request carries any MCP credential (an `Authorization`
/// header, valid or not). Such a request is an agent's on every route, so a
/// person's session riding along never lends it a person's rights.
pub(crate) fn carries_mcp_credential(headers: &HeaderMap) -> bool {
    headers.contains_key(axum::http::header::AUTHORIZATION)
}

/// Who a JSON API request is: an agent with a valid bearer token, or the
/// session's person naming themselves in `X-User-Id`.
pub(crate) fn api_caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Refusal> {
    if carries_mcp_credential(headers) {
        let authorization = &headers[axum::http::header::AUTHORIZATION];
        let offered = authorization
            .to_str()
            .ok()
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let known =
            |offered: &str| state.config().mcp_tokens.iter().any(|t| same_secret(t.as_bytes(), offered.as_bytes()));
        return match offered {
            Some(offered) if !offered.is_empty() && known(offered) => Ok(Caller::Agent),
            _ => Err(Refusal::unauthenticated("the bearer token is not one this server accepts")),
        };
    }
    let Some(token) = session_cookie(headers) else {
        return Err(Refusal::unauthenticated("no credentials: send a bearer token or a session cookie"));
    };
    let Some(user) = state.sessions().get(&token).map(|s| s.user.clone()) else {
        return Err(Refusal::unauthenticated("the session cookie is not valid (expired, or the server restarted)"));
    };
    let claimed = headers.get(USER_HEADER).map(|v| v.to_str().unwrap_or("").trim().to_string());
    match claimed {
        None => Err(Refusal::unauthenticated("JSON calls with a session cookie must send X-User-Id")),
        Some(claimed) if claimed == user => Ok(Caller::Human(user)),
        Some(_) => Err(Refusal::forbidden(
            "USER_MISMATCH",
            "X-User-Id does not name the user this session belongs to",
            "send X-User-Id with the id of the person who opened the login URL",
        )),
    }
}

/// The session a page request carries, if any: its cookie value and a copy.
pub(crate) fn page_session(state: &AppState, headers: &HeaderMap) -> Option<(String, Session)> {
    let token = session_cookie(headers)?;
    let session = state.sessions().get(&token)?.clone();
    Some((token, session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_when_equal() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
        assert!(same_secret(b"", b""));
    }

    #[test]
    fn a_login_token_works_once() {
        let mut sessions = Sessions::default();
        let token = sessions.issue_login();
        assert!(!sessions.redeem_login("wrong"));
        assert!(sessions.redeem_login(&token));
        assert!(!sessions.redeem_login(&token));
    }

    #[test]
    fn tokens_are_32_random_bytes_in_hex() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=1; zen_session=xyz; b=2".parse().unwrap());
        assert_eq!(session_cookie(&headers).as_deref(), Some("xyz"));
    }

    #[test]
    fn a_session_is_found_by_its_cookie_and_ends() {
        let mut sessions = Sessions::default();
        let ticket = sessions.start("alice".into());
        let token = ticket.cookie.strip_prefix("zen_session=").unwrap().to_string();
        assert_eq!(sessions.get(&token).unwrap().user, "alice");
        assert!(ticket.set_cookie.contains("HttpOnly") && ticket.set_cookie.contains("SameSite=Strict"));
        sessions.end(&token);
        assert!(sessions.get(&token).is_none());
    }
}
