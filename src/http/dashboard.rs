//! The review dashboard's routes: sign in with the one-time login URL, the
//! drafts table, a review page per draft, and the Apply and Discard forms.
//!
//! Every page needs the session of the person who started `draft serve`;
//! every form post needs that session's CSRF token. A form's outcome is kept
//! in the session and shown once on the page it redirects to, so reloading
//! never posts twice.
//!
//! Must never: act on a form post whose CSRF token does not match, or apply
//! a digest other than the one the form carried.

use super::api::ListQuery;
use super::auth::{self, Flash, Session};
use super::pages::{self, Actions, Frame};
use super::refusal::Refusal;
use super::{AppState, Caller};
use crate::service::ListFilter;
use axum::Form;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/logout", post(logout))
        .route("/drafts/{id}", get(review))
        .route("/drafts/{id}/apply", post(apply))
        .route("/drafts/{id}/discard", post(discard))
}

/// A signed-in page request: the session's cookie value and a copy of it,
/// with its one-time message taken out.
struct Visitor {
    token: String,
    session: Session,
    flash: Option<Flash>,
    /// The request also carries an MCP credential: then it is an agent's,
    /// whatever session and CSRF token come with it.
    agent: bool,
}

impl Visitor {
    fn find(state: &AppState, headers: &HeaderMap) -> Option<Visitor> {
        let (token, session) = auth::page_session(state, headers)?;
        let flash = state.sessions().get(&token).and_then(|s| s.flash.take());
        let agent = auth::carries_mcp_credential(headers);
        Some(Visitor { token, session, flash, agent })
    }

    fn caller(&self) -> Caller {
        if self.agent { Caller::Agent } else { Caller::Human(self.session.user.clone()) }
    }

    fn frame(&self, pending: Option<usize>) -> Frame<'_> {
        Frame { user: Some(&self.session.user), csrf: Some(&self.session.csrf), pending, flash: self.flash.as_ref() }
    }

    /// Whether a form carried this session's CSRF token.
    fn vouches_for(&self, csrf: &str) -> bool {
        auth::same_secret(self.session.csrf.as_bytes(), csrf.as_bytes())
    }

    /// Keeps an outcome to show on the next page.
    fn remember(&self, state: &AppState, flash: Flash) {
        if let Some(session) = state.sessions().get(&self.token) {
            session.flash = Some(flash);
        }
    }
}

/// The page for a request without a valid session (401).
fn sign_in(state: &AppState, message: &str) -> Response {
    let message = if state.config().user.is_some() {
        message
    } else {
        "This server was started without ZEN_USER_ID, so nobody can sign in; it serves the token-authenticated API only."
    };
    let frame = Frame { user: None, csrf: None, pending: None, flash: None };
    let html = pages::page("Sign in", &frame, &pages::sign_in_body(message));
    (StatusCode::UNAUTHORIZED, Html(html)).into_response()
}

/// A refusal as a page of its own, with the refusal's status.
fn refusal_page(visitor: Option<&Visitor>, refusal: Refusal) -> Response {
    let frame = match visitor {
        Some(v) => v.frame(None),
        None => Frame { user: None, csrf: None, pending: None, flash: None },
    };
    let body = format!(
        r#"<h1>Refused</h1><div class="flash bad" role="alert">{}</div><p><a href="/">&larr; all drafts</a></p>"#,
        pages::refusal_html(&refusal)
    );
    (refusal.status, Html(pages::page("Refused", &frame, &body))).into_response()
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let Some(visitor) = Visitor::find(&state, &headers) else {
        return sign_in(&state, "You are not signed in.");
    };
    let query = match query {
        Ok(Query(query)) => query,
        Err(_) => return refusal_page(Some(&visitor), Refusal::bad_request("unknown filter", "use the filter links")),
    };
    let filter = match query.filter() {
        Ok(filter) => filter,
        Err(refusal) => return refusal_page(Some(&visitor), refusal),
    };
    let listed = state
        .run(&visitor.caller(), move |service| {
            // The table and the pending count in the frame, of one moment.
            service.at_one_moment(|| {
                let listing = service.list(&filter)?;
                let pending = ListFilter { status: Some("pending".into()), ..ListFilter::default() };
                Ok((listing, service.list(&pending)?.entries.len()))
            })
        })
        .await;
    match listed {
        Ok((listing, pending)) => {
            let body = pages::drafts_body(&listing.entries, &listing.short_len, &query, Utc::now());
            Html(pages::page("Drafts", &visitor.frame(Some(pending)), &body)).into_response()
        }
        Err(error) => refusal_page(Some(&visitor), error.into()),
    }
}

async fn review(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(visitor) = Visitor::find(&state, &headers) else {
        return sign_in(&state, "You are not signed in.");
    };
    let shown = state
        .run(&visitor.caller(), move |service| {
            service.at_one_moment(|| {
                let shown = service.show(&id)?;
                let pending = ListFilter { status: Some("pending".into()), ..ListFilter::default() };
                Ok((shown, service.list(&pending)?.entries.len()))
            })
        })
        .await;
    match shown {
        Ok((shown, pending)) => {
            let actions = Actions { user: &visitor.session.user, csrf: &visitor.session.csrf };
            let body = pages::review_body(&shown, (!visitor.agent).then_some(actions), Utc::now());
            let title = format!("Draft {}", shown.view.id.short(8));
            Html(pages::page(&title, &visitor.frame(Some(pending)), &body)).into_response()
        }
        Err(error) => refusal_page(Some(&visitor), error.into()),
    }
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    token: String,
}

/// Spends the one-time login token for a session cookie, then goes to `/`.
async fn login(State(state): State<AppState>, query: Result<Query<LoginQuery>, QueryRejection>) -> Response {
    let token = query.map(|Query(q)| q.token).unwrap_or_default();
    match state.redeem_login(&token) {
        Some(ticket) => {
            let mut response = see_other("/");
            if let Ok(cookie) = HeaderValue::from_str(&ticket.set_cookie) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        None => sign_in(&state, "This login link was already used or is not valid."),
    }
}

/// Every dashboard form: the CSRF token, and what the action takes.
#[derive(Debug, Default, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// Apply: the spec digest the page showed.
    #[serde(default)]
    digest: String,
    /// Discard: why.
    #[serde(default)]
    reason: String,
}

/// The checks every form post passes: a session, a readable form, its CSRF token.
fn checked_form(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<(Visitor, ActionForm), Box<Response>> {
    let Some(visitor) = Visitor::find(state, headers) else {
        return Err(Box::new(sign_in(state, "You are not signed in, so nothing was done.")));
    };
    let Ok(Form(form)) = form else {
        let refusal = Refusal::bad_request("the form could not be read", "use the buttons on the review page");
        return Err(Box::new(refusal_page(Some(&visitor), refusal)));
    };
    if !visitor.vouches_for(&form.csrf) {
        let refusal = Refusal::forbidden(
            "CSRF_FAILED",
            "the form's CSRF token does not belong to this session, so nothing was done",
            "reload the page and use its buttons",
        );
        return Err(Box::new(refusal_page(Some(&visitor), refusal)));
    }
    Ok((visitor, form))
}

async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (visitor, form) = match checked_form(&state, &headers, form) {
        Ok(checked) => checked,
        Err(response) => return *response,
    };
    let target = id.clone();
    let digest = Some(form.digest).filter(|d| !d.trim().is_empty());
    let applied = state.run(&visitor.caller(), move |service| service.apply(&target, digest.as_deref())).await;
    let flash = match applied {
        Ok(applied) => {
            let stale = applied.stale_note().map(|note| format!(" {note}.")).unwrap_or_default();
            Flash::Done(format!(
                "Applied draft {} to {} on main (commit {}).{stale}",
                applied.id,
                applied.resource,
                &applied.commit[..12.min(applied.commit.len())]
            ))
        }
        Err(error) => Flash::Refused(error.into()),
    };
    visitor.remember(&state, flash);
    see_other(&format!("/drafts/{}", pages::url_part(&id)))
}

async fn discard(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (visitor, form) = match checked_form(&state, &headers, form) {
        Ok(checked) => checked,
        Err(response) => return *response,
    };
    let target = id.clone();
    let reason = Some(form.reason).filter(|r| !r.trim().is_empty());
    let discarded = state.run(&visitor.caller(), move |service| service.discard(&target, reason.as_deref())).await;
    let flash = match discarded {
        Ok(discarded) => Flash::Done(format!("Discarded draft {}.", discarded.id)),
        Err(error) => Flash::Refused(error.into()),
    };
    visitor.remember(&state, flash);
    see_other(&format!("/drafts/{}", pages::url_part(&id)))
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (visitor, _) = match checked_form(&state, &headers, form) {
        Ok(checked) => checked,
        Err(response) => return *response,
    };
    state.sessions().end(&visitor.token);
    let mut response = see_other("/");
    if let Ok(cookie) = HeaderValue::from_str(&auth::cleared_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}
