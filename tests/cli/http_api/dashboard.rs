//! The review dashboard: server-rendered pages for the person who started
//! `draft serve`, signed in through the one-time login URL. Forms carry the
//! session's CSRF token; their outcome is shown on the page they lead to.

use super::{As, Reply, Server};
use crate::support::{EXPIRED_ID, EXPIRED_PATH, fixture_bytes};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

/// A page as alice's browser asks for it: the session cookie, no X-User-Id.
fn page(server: &Server, uri: &str) -> Request<Body> {
    Request::builder().uri(uri).header(header::COOKIE, &server.alice.cookie).body(Body::empty()).unwrap()
}

/// A form post from alice's browser.
fn form(server: &Server, uri: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::COOKIE, &server.alice.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.join("&")))
        .unwrap()
}

/// Follows a 303 from a form post and returns the page it leads to.
async fn follow(server: &Server, reply: Reply) -> Reply {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let location = reply.headers[header::LOCATION].to_str().unwrap().to_string();
    server.send(page(server, &location)).await
}

#[tokio::test]
async fn the_login_url_works_once_and_sets_a_strict_http_only_session_cookie() {
    let server = Server::new();
    let token = server.state.issue_login_token().expect("alice started the server");
    let login = |token: &str| Request::builder().uri(format!("/login?token={token}")).body(Body::empty()).unwrap();
    let reply = server.send(login(&token)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/");
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    for attribute in ["zen_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_string();
    let home = Request::builder().uri("/").header(header::COOKIE, &session).body(Body::empty()).unwrap();
    let home = server.send(home).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("signed in as <strong>alice</strong>"));

    let again = server.send(login(&token)).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "the login URL worked twice");
    assert!(!again.headers.contains_key(header::SET_COOKIE));
    assert_eq!(server.send(login("guess")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_without_a_session_ask_to_sign_in_and_offer_no_buttons() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    for uri in ["/".to_string(), format!("/drafts/{id}")] {
        let reply = server.send(Request::builder().uri(&uri).body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(reply.text().contains("login URL"), "{uri}");
        assert!(!reply.text().contains("stripe-payments") && !reply.text().contains("<button class=\"apply\""));
    }
    let bearer = Request::builder()
        .uri("/")
        .header(header::AUTHORIZATION, format!("Bearer {}", super::TOKEN))
        .body(Body::empty())
        .unwrap();
    assert_eq!(server.send(bearer).await.status, StatusCode::UNAUTHORIZED, "the dashboard is for people");
}

#[tokio::test]
async fn the_drafts_table_has_a_pending_badge_filters_and_marks_expired_drafts() {
    let server = Server::new();
    server.draft("stripe-payments");
    server.draft("github-push");
    server.repo.plant_draft_file(EXPIRED_PATH, &fixture_bytes("drafts/valid/expired-endpoint.yaml"));
    let reply = server.send(page(&server, "/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let html = reply.text();
    assert!(html.contains(">2 pending</a>"), "{html}");
    for cell in ["stripe-payments", "github-push", "old-hook", "agent:ops-bot", "user:alice", "verified", "new"] {
        assert!(html.contains(cell), "{cell} missing");
    }
    assert!(html.contains(r#"<tr class="expired">"#) && html.contains("expired "), "expired drafts are marked");
    assert!(html.contains(&format!(r#"href="/drafts/{EXPIRED_ID}""#)));
    for filter in ["/?status=pending", "/?status=expired", "/?status=applied", "/?all=true", r#"name="type""#] {
        assert!(html.contains(filter), "{filter} missing");
    }

    let expired_only = server.send(page(&server, "/?status=expired")).await.text();
    assert!(expired_only.contains("old-hook") && !expired_only.contains("stripe-payments"));
    let routes = server.send(page(&server, "/?type=route")).await.text();
    assert!(routes.contains("No drafts to show"), "the empty state");
}

#[tokio::test]
async fn an_empty_repo_shows_the_empty_state() {
    let server = Server::new();
    let html = server.send(page(&server, "/")).await.text();
    assert!(html.contains("No drafts to show"));
    assert!(html.contains(">0 pending</a>"));
}

#[tokio::test]
async fn the_review_page_shows_spec_coloured_diff_digest_and_the_forms() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let digest = server.repo.show_json(&id)["spec_digest"].as_str().unwrap().to_string();
    let reply = server.send(page(&server, &format!("/drafts/{id}"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    let html = reply.text();
    assert!(html.contains(&digest));
    assert!(html.contains(r#"<span class="add">+name: stripe-payments</span>"#), "{html}");
    assert!(html.contains("target_url: https://hooks.example.com/stripe-payments"));
    assert!(html.contains(&format!(r#"action="/drafts/{id}/apply""#)));
    assert!(html.contains(&format!(r#"name="digest" value="{digest}""#)), "Apply posts the digest shown");
    assert!(html.contains(&format!(r#"name="csrf" value="{}""#, server.alice.csrf)));
    assert!(html.contains(&format!(r#"action="/drafts/{id}/discard""#)));
    for header in ["content-security-policy", "x-frame-options", "x-content-type-options"] {
        assert!(reply.headers.contains_key(header), "{header}");
    }
}

#[tokio::test]
async fn an_expired_draft_is_marked_and_offers_discard_but_not_apply() {
    let server = Server::new();
    server.repo.plant_draft_file(EXPIRED_PATH, &fixture_bytes("drafts/valid/expired-endpoint.yaml"));
    let html = server.send(page(&server, &format!("/drafts/{EXPIRED_ID}"))).await.text();
    assert!(html.contains(r#"<div class="banner">Expired"#), "{html}");
    assert!(!html.contains("/apply\""));
    assert!(html.contains("/discard\""));
}

#[tokio::test]
async fn the_apply_button_applies_the_reviewed_draft_and_the_page_says_so() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let digest = server.repo.show_json(&id)["spec_digest"].as_str().unwrap().to_string();
    let before = server.main();
    let fields = [("csrf", server.alice.csrf.as_str()), ("digest", digest.as_str())];
    let reply = server.send(form(&server, &format!("/drafts/{id}/apply"), &fields)).await;
    let html = follow(&server, reply).await.text();
    assert!(html.contains(&format!("Applied draft {id} to endpoints/stripe-payments.yaml")), "{html}");
    assert!(html.contains(r#"<span class="status applied">applied</span>"#));
    assert_ne!(server.main(), before, "main moved");
    assert!(server.repo.file_on("main", "endpoints/stripe-payments.yaml").contains("stripe-payments"));
    assert!(!server.send(page(&server, &format!("/drafts/{id}"))).await.text().contains("Applied draft"), "shown once");
}

#[tokio::test]
async fn a_refused_apply_is_shown_on_the_review_page() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let refs = server.repo.refs();
    let wrong = format!("sha256:{}", "0".repeat(64));
    let fields = [("csrf", server.alice.csrf.as_str()), ("digest", wrong.as_str())];
    let reply = server.send(form(&server, &format!("/drafts/{id}/apply"), &fields)).await;
    let html = follow(&server, reply).await.text();
    assert!(html.contains(r#"<div class="flash bad" role="alert">"#), "{html}");
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn a_form_post_without_the_sessions_csrf_token_is_forbidden_and_moves_nothing() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let digest = server.repo.show_json(&id)["spec_digest"].as_str().unwrap().to_string();
    let refs = server.repo.refs();
    for fields in [vec![("csrf", "0".repeat(64)), ("digest", digest.clone())], vec![("digest", digest.clone())]] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for action in ["apply", "discard"] {
            let reply = server.send(form(&server, &format!("/drafts/{id}/{action}"), &fields)).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{action}");
            assert!(reply.text().contains("CSRF_FAILED"));
        }
    }
    assert_eq!(server.repo.refs(), refs);
}

#[tokio::test]
async fn the_discard_button_discards_with_the_reason_given() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let fields = [("csrf", server.alice.csrf.as_str()), ("reason", "wrong target")];
    let reply = server.send(form(&server, &format!("/drafts/{id}/discard"), &fields)).await;
    let html = follow(&server, reply).await.text();
    assert!(html.contains(&format!("Discarded draft {id}.")), "{html}");
    let shown = server.repo.show_json(&id);
    assert_eq!((shown["status"].as_str(), shown["reason"].as_str()), (Some("discarded"), Some("wrong target")));
    assert_eq!(shown["discarded_by"], "user:alice");
}

#[tokio::test]
async fn values_from_drafts_are_escaped_on_pages() {
    let server = Server::new();
    let mut body = super::proposal("escaped");
    body["proposed_spec"]["description"] = json!("<script>alert(1)</script>");
    let created = server.call(As::Agent, "POST", "/api/v1/drafts", Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    let html = server.send(page(&server, &format!("/drafts/{id}"))).await.text();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let server = Server::new();
    let reply = server.send(form(&server, "/logout", &[("csrf", server.alice.csrf.as_str())])).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(server.send(page(&server, "/")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_form_post_carrying_an_agents_token_with_a_persons_session_is_an_agents_and_applies_nothing() {
    let server = Server::new();
    let id = server.draft("stripe-payments");
    let digest = server.repo.show_json(&id)["spec_digest"].as_str().unwrap().to_string();
    let refs = server.repo.refs();
    let fields = [("csrf", server.alice.csrf.as_str()), ("digest", digest.as_str())];
    let mut request = form(&server, &format!("/drafts/{id}/apply"), &fields);
    request.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {}", super::TOKEN).parse().unwrap());
    let html = follow(&server, server.send(request).await).await.text();
    assert!(html.contains("MCP_CANNOT_APPLY"), "{html}");
    assert_eq!(server.repo.refs(), refs, "nothing moved");
    assert_eq!(server.repo.show_json(&id)["status"], "pending");

    // The review page offers such a request no buttons either.
    let mut request = page(&server, &format!("/drafts/{id}"));
    request.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {}", super::TOKEN).parse().unwrap());
    let html = server.send(request).await.text();
    assert!(!html.contains(r#"class="apply""#) && !html.contains(r#"class="discard""#), "{html}");
    let html = server.send(page(&server, &format!("/drafts/{id}"))).await.text();
    assert!(html.contains(r#"class="apply""#), "the person's own request still gets the buttons");
}

#[tokio::test]
async fn a_failing_check_is_shown_above_the_diff_and_turns_apply_off_with_the_reason() {
    let server = Server::new();
    let stale = server.draft("github-ci");
    let other = server.draft("github-ci");
    server.repo.draft(&["apply", &other]).success();
    let html = server.send(page(&server, &format!("/drafts/{stale}"))).await.text();
    let checks = html.find(r#"<h2 id="checks">"#).expect("the checks are on the page");
    let diff = html.find("Diff against main").expect("the diff is on the page");
    assert!(checks < diff, "the checks come before the diff");
    assert!(html.contains("BASE_CHANGED"), "{html}");
    assert!(html.contains(r#"disabled title="BASE_CHANGED"#), "Apply is off with the reason:\n{html}");
    assert!(!html.contains(r#"<button class="apply" type="submit">"#), "no live Apply button");
    assert!(html.contains("What changed on main under this draft"), "the base diff is shown");

    let good = server.draft("stripe-payments");
    let html = server.send(page(&server, &format!("/drafts/{good}"))).await.text();
    assert!(html.contains("Checks: all pass"), "{html}");
    assert!(html.contains(r#"<button class="apply" type="submit">Apply</button>"#));
}

#[tokio::test]
async fn the_review_page_shows_why_the_draft_exists_without_linking_it() {
    let server = Server::new();
    let id = server.repo.create_endpoint_as(
        crate::support::Who::Agent,
        "reasoned",
        &["--rationale", "INC-42 <b>drops</b> events", "--link", "https://tickets.example.com/INC-42"],
    );
    let html = server.send(page(&server, &format!("/drafts/{id}"))).await.text();
    assert!(html.contains("INC-42 &lt;b&gt;drops&lt;/b&gt; events"), "escaped rationale:\n{html}");
    assert!(html.contains("<code>https://tickets.example.com/INC-42</code>"), "{html}");
    assert!(!html.contains(r#"href="https://tickets.example.com"#), "a proposer's link is shown, never linked");
}

#[tokio::test]
async fn rival_drafts_are_marked_in_the_table_and_on_the_review_page_and_the_apply_names_them() {
    let server = Server::new();
    let first = server.draft("github-ci");
    let second = server.draft("github-ci");
    let alone = server.draft("stripe-payments");

    let table = server.send(page(&server, "/")).await.text();
    assert_eq!(table.matches(r#"<span class="status conflict""#).count(), 2, "both rivals, not the third:\n{table}");
    let html = server.send(page(&server, &format!("/drafts/{first}"))).await.text();
    assert!(html.contains(r#"<p class="conflict" id="conflicts">"#), "{html}");
    assert!(html.contains(&format!(r#"<a class="mono" href="/drafts/{second}">{second}</a>"#)), "{html}");
    let html = server.send(page(&server, &format!("/drafts/{alone}"))).await.text();
    assert!(!html.contains(r#"id="conflicts""#), "no conflict for a draft alone on its resource");

    let digest = server.repo.show_json(&first)["spec_digest"].as_str().unwrap().to_string();
    let fields = [("csrf", server.alice.csrf.as_str()), ("digest", digest.as_str())];
    let reply = server.send(form(&server, &format!("/drafts/{first}/apply"), &fields)).await;
    let html = follow(&server, reply).await.text();
    assert!(
        html.contains(&format!("1 other pending draft for endpoints/github-ci.yaml now is BASE_CHANGED: {second}")),
        "{html}"
    );
}
