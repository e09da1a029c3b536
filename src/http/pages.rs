//! The dashboard's HTML: the drafts table, the review page and the small
//! pages around them, rendered on the server from `templates/` (embedded in
//! the binary). No JavaScript: links and plain forms do everything.
//!
//! Must never: put a value from a draft or a request into a page unescaped,
//! or show Apply or Discard to anyone but a signed-in person.

use super::api::{ListQuery, STATUSES};
use super::auth::Flash;
use super::refusal::Refusal;
use crate::domain::draft::State;
use crate::domain::draft_id::DraftId;
use crate::domain::duration::relative;
use crate::service::{DraftView, Listed, Shown};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt::Write;

const LAYOUT: &str = include_str!("templates/layout.html");
const STYLE: &str = include_str!("templates/style.css");

/// What every page shows around its body.
pub(crate) struct Frame<'a> {
    /// The signed-in person, if any.
    pub user: Option<&'a str>,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: Option<&'a str>,
    /// How many drafts are pending, for the badge.
    pub pending: Option<usize>,
    pub flash: Option<&'a Flash>,
}

/// A whole page: the layout around `body`.
pub(crate) fn page(title: &str, frame: &Frame<'_>, body: &str) -> String {
    let badge = match frame.pending {
        Some(n) => format!(
            r#"<a class="count{}" href="/?status=pending" title="drafts waiting for review">{n} pending</a>"#,
            if n == 0 { " zero" } else { "" }
        ),
        None => String::new(),
    };
    let who = match (frame.user, frame.csrf) {
        (Some(user), Some(csrf)) => format!(
            r#"<span>signed in as <strong>{}</strong></span><form method="post" action="/logout"><input type="hidden" name="csrf" value="{}"><button type="submit">Sign out</button></form>"#,
            esc(user),
            esc(csrf)
        ),
        _ => r#"<span class="muted">not signed in</span>"#.to_string(),
    };
    let flash = frame.flash.map(flash_html).unwrap_or_default();
    fill(
        LAYOUT,
        &[
            ("title", &esc(title)),
            ("style", STYLE),
            ("badge", &badge),
            ("who", &who),
            ("flash", &flash),
            ("body", body),
        ],
    )
}

/// Replaces each `{{name}}` in one pass, so inserted text is never scanned again.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| Some((end, values.iter().find(|(k, _)| *k == &after[..end])?))) {
            Some((end, (_, value))) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// HTML-escapes text for element content and quoted attributes.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes one URL path segment or query value.
pub(crate) fn url_part(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn flash_html(flash: &Flash) -> String {
    match flash {
        Flash::Done(text) => format!(r#"<div class="flash ok" role="status">{}</div>"#, esc(text)),
        Flash::Refused(refusal) => format!(r#"<div class="flash bad" role="alert">{}</div>"#, refusal_html(refusal)),
    }
}

/// A refusal as people read it: code and message, the failed checks, the hint.
pub(crate) fn refusal_html(refusal: &Refusal) -> String {
    let mut html = format!("<strong>{}</strong>: {}", esc(&refusal.code), esc(&refusal.message));
    let failed: Vec<_> = refusal.checks.iter().filter(|c| !c.ok).collect();
    if !failed.is_empty() {
        html.push_str("<ul>");
        for check in failed {
            let _ = write!(html, "<li><code>{}</code> {}</li>", esc(check.code.as_str()), esc(&check.message));
        }
        html.push_str("</ul>");
    }
    if let Some(hint) = &refusal.hint {
        let _ = write!(html, r#"<div class="muted">hint: {}</div>"#, esc(hint));
    }
    html
}

/// The page for a request without a session.
pub(crate) fn sign_in_body(message: &str) -> String {
    format!(
        r#"<div class="signin"><h1>Sign in to review drafts</h1><p>{}</p><p class="muted">The person who started <code>draft serve</code> (with <code>ZEN_USER_ID</code> set) signs in by opening the one-time login URL it printed on its standard error. Restart it for a new URL.</p></div>"#,
        esc(message)
    )
}

/// The drafts table with its filters, or the empty state.
pub(crate) fn drafts_body(
    entries: &[Listed],
    short_len: &HashMap<DraftId, usize>,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> String {
    let mut html = String::from("<h1>Drafts</h1>");
    html.push_str(&filters(query));
    if entries.is_empty() {
        html.push_str(
            r#"<div class="empty"><strong>No drafts to show</strong>Nothing matches this filter. Agents propose drafts with <code>draft create</code>, the MCP server or <code>POST /api/v1/drafts</code>; <a href="/?all=true">all drafts</a> includes applied and discarded ones.</div>"#,
        );
        return html;
    }
    html.push_str(
        "<table><thead><tr><th>ID</th><th>Status</th><th>Type</th><th>Name</th><th>Creator</th>\
         <th>Expires</th><th>Change</th><th>Evidence</th></tr></thead><tbody>",
    );
    let mut proposing: HashMap<String, usize> = HashMap::new();
    for resource in entries.iter().filter_map(Listed::pending_resource) {
        *proposing.entry(resource).or_default() += 1;
    }
    for entry in entries {
        match entry {
            Listed::Draft(view) => {
                let short = view.id.short(short_len.get(&view.id).copied().unwrap_or(36));
                let rivals = entry.pending_resource().and_then(|r| proposing.get(&r)).map_or(0, |n| n - 1);
                row(&mut html, view, &short, rivals, now);
            }
            Listed::Invalid { path, error } => {
                let _ = write!(
                    html,
                    r#"<tr><td class="mono">{}</td><td><span class="status invalid">invalid</span></td><td colspan="6"><code>{}</code> {}</td></tr>"#,
                    esc(path.rsplit('/').next().unwrap_or(path.as_str())),
                    esc(error.code.as_str()),
                    esc(&error.message)
                );
            }
        }
    }
    html.push_str("</tbody></table>");
    html
}

/// One draft's row; `rivals` other pending drafts shown propose its resource.
fn row(html: &mut String, view: &DraftView, short: &str, rivals: usize, now: DateTime<Utc>) {
    let d = &view.draft;
    let expired = view.state == State::Expired;
    let conflict = match rivals {
        0 => String::new(),
        n => format!(
            r#" <span class="status conflict" title="{n} other pending draft{} for this resource">conflict</span>"#,
            if n == 1 { "" } else { "s" }
        ),
    };
    let _ = write!(
        html,
        r#"<tr class="{}"><td class="mono"><a href="/drafts/{}">{}</a></td><td>{}</td><td>{}</td><td>{}{conflict}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
        view.state,
        url_part(&view.id.to_string()),
        esc(short),
        status_badge(view.state),
        esc(d.draft_type.as_str()),
        esc(d.spec_name().unwrap_or("-")),
        esc(&d.created_by),
        expiry(d.expires_at, now, expired),
        view.change.map_or("-", |c| c.as_str()),
        evidence(view),
    );
}

fn filters(query: &ListQuery) -> String {
    let current = query.status.as_deref().filter(|s| !s.is_empty());
    let draft_type = query.draft_type.as_deref().filter(|t| !t.is_empty());
    let type_param = draft_type.map(|t| format!("&type={}", url_part(t))).unwrap_or_default();
    let mut tabs = vec![("open", "/?".to_string(), current.is_none() && !query.all)];
    for status in STATUSES {
        tabs.push((status, format!("/?status={status}"), current == Some(status)));
    }
    tabs.push(("all", "/?all=true".to_string(), current.is_none() && query.all));
    let mut html = String::from(r#"<div class="filters"><nav class="tabs" aria-label="status">"#);
    for (label, href, on) in tabs {
        let _ = write!(
            html,
            r#"<a href="{}{}"{}>{label}</a>"#,
            href,
            esc(&type_param),
            if on { r#" class="on""# } else { "" }
        );
    }
    html.push_str(r#"</nav><form method="get" action="/">"#);
    if let Some(status) = current {
        let _ = write!(html, r#"<input type="hidden" name="status" value="{}">"#, esc(status));
    }
    if query.all {
        html.push_str(r#"<input type="hidden" name="all" value="true">"#);
    }
    html.push_str(r#"<label>type <select name="type"><option value="">any</option>"#);
    for t in ["endpoint", "route", "policy", "target", "source"] {
        let selected = if draft_type == Some(t) { " selected" } else { "" };
        let _ = write!(html, r#"<option value="{t}"{selected}>{t}</option>"#);
    }
    html.push_str(r#"</select></label><button type="submit">Filter</button></form></div>"#);
    html
}

fn status_badge(state: State) -> String {
    format!(r#"<span class="status {state}">{state}</span>"#)
}

fn evidence(view: &DraftView) -> String {
    let state = format!("{:?}", view.evidence).to_lowercase();
    format!(r#"<span class="evidence {state}">{state}</span>"#)
}

fn expiry(at: DateTime<Utc>, now: DateTime<Utc>, expired: bool) -> String {
    let title = at.format("%Y-%m-%d %H:%M UTC");
    if expired {
        format!(r#"<span class="late" title="{title}">expired {}</span>"#, relative(at, now))
    } else {
        format!(r#"<span title="{title}">{}</span>"#, relative(at, now))
    }
}

/// What the review page offers a signed-in person.
pub(crate) struct Actions<'a> {
    pub user: &'a str,
    pub csrf: &'a str,
}

/// One draft, everything a reviewer needs: metadata, spec, digest, the
/// coloured diff, and Apply and Discard for a person.
pub(crate) fn review_body(shown: &Shown, actions: Option<Actions<'_>>, now: DateTime<Utc>) -> String {
    let view = &shown.view;
    let d = &view.draft;
    let id = view.id.to_string();
    let mut html = String::from(r#"<p><a href="/">&larr; all drafts</a></p>"#);
    let _ = write!(
        html,
        r#"<h1>{} <span class="mono">{}</span> {}</h1>"#,
        esc(d.draft_type.as_str()),
        esc(d.spec_name().unwrap_or("(no name)")),
        status_badge(view.state)
    );
    if view.state == State::Expired {
        let _ = write!(
            html,
            r#"<div class="banner">Expired {} ({}): it can no longer be applied. Ask the proposer for a new draft, or discard it.</div>"#,
            relative(d.expires_at, now),
            d.expires_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    html.push_str(r#"<dl class="meta">"#);
    let mut field = |name: &str, value: String| {
        let _ = write!(html, "<dt>{name}</dt><dd>{value}</dd>");
    };
    field("id", format!(r#"<span class="mono">{}</span>"#, esc(&id)));
    field("status", status_badge(view.state));
    field("tenant", esc(&d.tenant));
    field("created by", esc(&d.created_by));
    field("created at", format!("{} ({})", d.created_at.format("%Y-%m-%d %H:%M UTC"), relative(d.created_at, now)));
    field("expires", expiry(d.expires_at, now, view.state == State::Expired));
    if let Some(by) = &d.applied_by {
        let at = d.applied_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default();
        field("applied by", format!("{} at {at}", esc(by)));
        field(
            "applied in",
            format!(r#"<span class="mono">{}</span>"#, esc(d.applied_commit.as_deref().unwrap_or("?"))),
        );
    }
    if let Some(by) = &d.discarded_by {
        let at = d.discarded_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default();
        field("discarded by", format!("{} at {at}", esc(by)));
        if let Some(reason) = &d.reason {
            field("reason", esc(reason));
        }
    }
    let change = match (view.change, &shown.resource) {
        (Some(change), Some(resource)) => format!("{} <code>{}</code>", change.as_str(), esc(resource)),
        (Some(change), None) => change.as_str().to_string(),
        _ => "-".to_string(),
    };
    field("change", change);
    field("evidence", evidence(view));
    if let Some(rationale) = &d.rationale {
        field("rationale", format!(r#"<span class="rationale">{}</span>"#, esc(rationale).replace('\n', "<br>")));
    }
    if !d.links.is_empty() {
        // Shown, never linked: the proposer chose them.
        let links: Vec<String> = d.links.iter().map(|l| format!("<code>{}</code>", esc(l))).collect();
        field("links", links.join("<br>"));
    }
    if let Some(agent) = &d.agent {
        let parts: Vec<String> = [("model", &agent.model), ("session", &agent.session), ("tool", &agent.tool)]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} <code>{}</code>", esc(v))))
            .collect();
        field("agent run", parts.join(", "));
    }
    field(
        "spec digest",
        format!(r#"<span class="mono" id="digest">{}</span>"#, esc(shown.spec_digest.as_deref().unwrap_or("-"))),
    );
    html.push_str("</dl>");
    if !shown.checks.is_empty() {
        let failed: Vec<&crate::error::Check> = shown.checks.iter().filter(|c| !c.ok).collect();
        let title = if failed.is_empty() {
            "Checks: all pass".to_string()
        } else {
            format!("Checks: {} fail, so apply would refuse", failed.len())
        };
        let _ = write!(html, r#"<h2 id="checks">{}</h2><ul class="checks">"#, esc(&title));
        for check in &shown.checks {
            let (class, mark) = if check.ok { ("ok", "ok") } else { ("fail", "FAIL") };
            let _ = write!(
                html,
                r#"<li class="{class}"><strong>{mark}</strong> <code>{}</code> {}</li>"#,
                esc(check.code.as_str()),
                esc(&check.message)
            );
        }
        html.push_str("</ul>");
    }
    if !shown.conflicts.is_empty() {
        let links: Vec<String> = shown
            .conflicts
            .iter()
            .map(|id| format!(r#"<a class="mono" href="/drafts/{}">{}</a>"#, url_part(id), esc(id)))
            .collect();
        let _ = write!(
            html,
            r#"<p class="conflict" id="conflicts"><strong>Conflict:</strong> {} other pending draft{} also {} <code>{}</code>: {}. Applying any one makes the others <code>BASE_CHANGED</code>.</p>"#,
            shown.conflicts.len(),
            if shown.conflicts.len() == 1 { "" } else { "s" },
            if shown.conflicts.len() == 1 { "proposes" } else { "propose" },
            esc(shown.resource.as_deref().unwrap_or("the same resource")),
            links.join(", ")
        );
    }
    if let Some(base_diff) = &shown.base_diff {
        html.push_str("<h2>What changed on main under this draft since it was proposed</h2>");
        html.push_str(&diff_html(base_diff));
    }
    if let Some(actions) = actions {
        html.push_str(&action_forms(shown, &actions));
    }
    html.push_str("<h2>Proposed spec</h2>");
    let spec = d.proposed_spec.as_ref().map_or_else(|| "(none)".to_string(), crate::yaml::render);
    let _ = write!(html, "<pre>{}</pre>", esc(&spec));
    html.push_str("<h2>Diff against main (what apply would write)</h2>");
    match &shown.diff {
        Some(diff) if diff.is_empty() => {
            html.push_str(r#"<p class="muted">No change: main already has exactly this file.</p>"#)
        }
        Some(diff) => html.push_str(&diff_html(diff)),
        None => html.push_str(r#"<p class="muted">No diff: the proposed spec is not a valid endpoint.</p>"#),
    }
    html
}

/// Apply (for a pending draft, posting the digest shown) and Discard.
fn action_forms(shown: &Shown, actions: &Actions<'_>) -> String {
    let view = &shown.view;
    if !matches!(view.state, State::Pending | State::Expired) {
        return String::new();
    }
    let base = format!("/drafts/{}", url_part(&view.id.to_string()));
    let csrf = esc(actions.csrf);
    let mut html = String::from(r#"<div class="actions">"#);
    let failed: Vec<&crate::error::Check> = shown.checks.iter().filter(|c| !c.ok).collect();
    if view.state == State::Pending && !failed.is_empty() {
        let reasons: Vec<String> = failed.iter().map(|c| format!("{}: {}", c.code.as_str(), c.message)).collect();
        let _ = write!(
            html,
            r#"<form><p class="blocked">Apply is off: {}.</p><button class="apply" type="button" disabled title="{}">Apply</button></form>"#,
            esc(&reasons.join("; ")),
            esc(&reasons.join("; "))
        );
    } else if view.state == State::Pending {
        let resource = shown.resource.as_deref().unwrap_or("the resource");
        let _ = write!(
            html,
            r#"<form method="post" action="{base}/apply"><p>Apply writes <code>{}</code> on main as <strong>{}</strong>, signed with your key, if every check still passes and the spec still has the digest shown above.</p><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="digest" value="{}"><button class="apply" type="submit">Apply</button></form>"#,
            esc(resource),
            esc(actions.user),
            esc(shown.spec_digest.as_deref().unwrap_or(""))
        );
    }
    let _ = write!(
        html,
        r#"<form method="post" action="{base}/discard"><p>Discard keeps the draft for audit and marks it discarded.</p><input type="hidden" name="csrf" value="{csrf}"><label>reason <input type="text" name="reason" maxlength="500" placeholder="optional"></label> <button class="discard" type="submit">Discard</button></form>"#
    );
    html.push_str("</div>");
    html
}

/// A unified diff with each line in a span coloured by its kind.
fn diff_html(diff: &str) -> String {
    let mut html = String::from(r#"<pre class="diff">"#);
    for line in diff.lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            "file"
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else if line.starts_with("@@") {
            "hunk"
        } else {
            "ctx"
        };
        let _ = write!(html, r#"<span class="{class}">{}</span>"#, esc(line));
    }
    html.push_str("</pre>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(esc(r#"<script>"a"&'b'"#), "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;");
    }

    #[test]
    fn templates_are_filled_once() {
        assert_eq!(fill("<{{a}}|{{b}}|{{c}}>", &[("a", "{{b}}"), ("b", "x")]), "<{{b}}|x|{{c}}>");
    }

    #[test]
    fn diff_lines_get_their_colour() {
        let html = diff_html("--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+new\n-old\n same\n");
        for class in ["file", "hunk", "add", "del", "ctx"] {
            assert!(html.contains(&format!(r#"class="{class}""#)), "{class}: {html}");
        }
    }

    #[test]
    fn url_parts_are_percent_encoded() {
        assert_eq!(url_part("0193a7c2-5d1e"), "0193a7c2-5d1e");
        assert_eq!(url_part("a/b c"), "a%2Fb%20c");
    }
}
