//! How the HTTP adapter says no: `{"error": {"code", "message", "hint", "checks"}}`.
//!
//! A service error keeps its SPEC §4 code and gets its status from the one
//! table in `crate::error` ([`Code::http_status`]). The few refusals that
//! belong to the transport alone, and so have no exit code, are made here:
//! `UNAUTHENTICATED` (401), `USER_MISMATCH`, `HOST_NOT_ALLOWED`,
//! `CSRF_FAILED` (403) and `BAD_REQUEST` (400).
//!
//! Must never: echo a credential or a request body value in a message.
//!
//! [`Code::http_status`]: crate::error::Code::http_status

use crate::error::{Check, Error};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
    pub checks: Vec<Check>,
}

impl Refusal {
    fn transport(status: StatusCode, code: &str, message: impl Into<String>, hint: impl Into<String>) -> Refusal {
        Refusal { status, code: code.to_string(), message: message.into(), hint: Some(hint.into()), checks: Vec::new() }
    }

    /// 401: no credentials, or credentials that are not valid.
    pub fn unauthenticated(message: impl Into<String>) -> Refusal {
        Refusal::transport(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            message,
            "agents send `Authorization: Bearer <token>` with a token from ZEN_MCP_TOKENS; people open the \
             one-time login URL `draft serve` printed and send `X-User-Id: <their id>` with the session cookie",
        )
    }

    /// 403 for a transport check that failed.
    pub fn forbidden(code: &str, message: impl Into<String>, hint: impl Into<String>) -> Refusal {
        Refusal::transport(StatusCode::FORBIDDEN, code, message, hint)
    }

    /// 400: the request cannot be understood.
    pub fn bad_request(message: impl Into<String>, hint: impl Into<String>) -> Refusal {
        Refusal::transport(StatusCode::BAD_REQUEST, "BAD_REQUEST", message, hint)
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Refusal {
        Refusal {
            status: StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: error.code.as_str().to_string(),
            message: error.message,
            hint: error.hint,
            checks: error.checks,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = json!({ "error": {
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
            "checks": self.checks,
        }});
        let mut response = (self.status, Json(super::api::versioned(body))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"zen-draft\""));
        }
        response
    }
}
