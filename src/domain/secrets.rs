//! Recognises raw secrets inside strings, so that none ever reaches git history.
//!
//! Drafts are commits on a branch that people and agents read, and git history
//! is forever: SPEC §3 `RAW_SECRET` refuses a proposal when any string in it
//! looks like a credential, `secret_ref` must be a reference to a secret store,
//! and `redact` keeps parser errors from echoing a value.
//!
//! Detection runs from the most specific rule to the most general: known token
//! formats, then context (`Bearer …`, `Authorization: …`, `password=…`), then a
//! high-entropy rule tuned so that URLs, host names, event names, UUIDs and hex
//! digests pass. Matching is hand-written over bytes; every pattern is ASCII.
//!
//! Must never: return, format or log a matched value (a `SecretKind` names the
//! kind only), or look at anything but the string it is given.

use std::ops::Range;

/// What kind of secret a value looks like. Never carries the value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    StripeKey,
    StripeWebhookSecret,
    GithubToken,
    GitlabToken,
    AwsAccessKey,
    SlackToken,
    /// Slack and Discord webhook URLs carry their credential in the path.
    ChatWebhookUrl,
    TwilioApiKey,
    SendgridKey,
    GoogleApiKey,
    ShopifyToken,
    NpmToken,
    /// OpenAI (`sk-proj-`) and Anthropic (`sk-ant-`) API keys.
    AiApiKey,
    PemPrivateKey,
    Jwt,
    BearerToken,
    AuthorizationHeader,
    /// `password=…`, `token: …`, `"api_key": "…"` with a concrete value.
    CredentialAssignment,
    /// `scheme://user:password@host`.
    UrlCredentials,
    /// 32 or 64 hex digits after a word like `token`, `key` or `hmac`
    /// (Twilio auth tokens, HMAC keys).
    HexSecret,
    HighEntropy,
    /// A bidirectional override or isolate: the text shows other than its
    /// bytes say, and a reviewer must see what the bytes say.
    BidiControl,
}

impl SecretKind {
    pub fn describe(self) -> &'static str {
        match self {
            SecretKind::StripeKey => "a Stripe secret key",
            SecretKind::StripeWebhookSecret => "a Stripe webhook signing secret",
            SecretKind::GithubToken => "a GitHub token",
            SecretKind::GitlabToken => "a GitLab access token",
            SecretKind::AwsAccessKey => "an AWS access key id",
            SecretKind::SlackToken => "a Slack token",
            SecretKind::ChatWebhookUrl => "a Slack or Discord webhook URL (its path is the secret)",
            SecretKind::TwilioApiKey => "a Twilio API key",
            SecretKind::SendgridKey => "a SendGrid API key",
            SecretKind::GoogleApiKey => "a Google API key",
            SecretKind::ShopifyToken => "a Shopify access token",
            SecretKind::NpmToken => "an npm token",
            SecretKind::AiApiKey => "an AI provider API key",
            SecretKind::PemPrivateKey => "a PEM private key",
            SecretKind::Jwt => "a JSON Web Token",
            SecretKind::BearerToken => "a bearer token",
            SecretKind::AuthorizationHeader => "an Authorization header credential",
            SecretKind::CredentialAssignment => "a credential written out (password=…, token: …)",
            SecretKind::UrlCredentials => "a URL with a password in it (scheme://user:password@host)",
            SecretKind::HexSecret => "a hex secret next to a word like token, key or hmac",
            SecretKind::HighEntropy => "a high-entropy credential",
            SecretKind::BidiControl => {
                "a bidirectional control character (text that displays other than its bytes read)"
            }
        }
    }
}

/// Scans one string value; returns the first kind found, anywhere inside the
/// value (a token embedded in a URL, a description, a query string also
/// counts). When several rules match, the most specific one wins.
pub fn find_raw_secret(value: &str) -> Option<SecretKind> {
    if value.chars().any(is_bidi_control) {
        return Some(SecretKind::BidiControl);
    }
    // A zero-width character inside `sk_live_…` hides it from the rules,
    // not from whoever copies it: scan the text as it reads.
    let visible = without_invisible(value);
    let bytes = visible.as_bytes();
    let mut found = Vec::new();
    DETECTORS.iter().find_map(|detect| {
        detect(bytes, &mut found);
        found.first().map(|finding| finding.kind)
    })
}

/// Schemes of the secret stores SPEC §3 accepts in `secret_ref`.
const REFERENCE_SCHEMES: [&str; 6] = ["vault://", "aws-sm://", "gcp-sm://", "azure-kv://", "op://", "env://"];

/// True when `value` is a secret *reference* with one of the schemes vault://
/// aws-sm:// gcp-sm:// azure-kv:// op:// env:// followed by a non-empty path
/// that itself contains no raw secret and no whitespace.
pub fn is_secret_reference(value: &str) -> bool {
    let Some(path) = REFERENCE_SCHEMES.iter().find_map(|scheme| value.strip_prefix(scheme)) else {
        return false;
    };
    // `vault://user:pass@host/…` smuggles a credential in front of the path.
    let first_segment = path.split('/').next().unwrap_or_default();
    path.chars().any(char::is_alphanumeric)
        && !path.chars().any(|c| c.is_whitespace() || c.is_control())
        && !first_segment.contains('@')
        && find_raw_secret(path).is_none()
}

const REDACTED: &str = "[REDACTED]";

/// Replaces every secret-looking token inside a free text (for example a
/// parser error message) with `[REDACTED]`; used so errors never echo a secret.
pub fn redact(text: &str) -> String {
    // Invisible characters could split a secret so no rule sees it, and
    // bidi controls make text read other than it is: neither is shown.
    let visible: String =
        without_invisible(text).chars().map(|c| if is_bidi_control(c) { '\u{fffd}' } else { c }).collect();
    // Cutting one secret out can leave its surroundings looking like another
    // (`token=ab[REDACTED]`), so passes repeat until nothing changes; text
    // that never settles is withheld whole.
    let mut current = redact_once(&visible);
    for _ in 0..4 {
        let next = redact_once(&current);
        if next == current {
            return current;
        }
        current = next;
    }
    REDACTED.to_string()
}

fn redact_once(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    for detect in DETECTORS {
        detect(bytes, &mut found);
    }
    found.sort_by_key(|finding| (finding.span.start, finding.span.end));
    let mut out = String::with_capacity(text.len());
    let mut copied_up_to = 0;
    for Finding { span, .. } in found {
        // A rule that follows a run of any bytes stops after at most
        // `MAX_RUN` of them, which can be inside a multi-byte character:
        // widen the span to whole characters (redacting more is safe).
        let (start, end) = (char_floor(text, span.start), char_ceil(text, span.end));
        if end <= copied_up_to {
            continue;
        }
        if start >= copied_up_to {
            out.push_str(&text[copied_up_to..start]);
            out.push_str(REDACTED);
        }
        copied_up_to = end;
    }
    out.push_str(&text[copied_up_to..]);
    out
}

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069): the "Trojan Source" characters.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no space on screen: zero-width spaces and joiners,
/// the word joiner and invisible operators, the byte order mark, soft
/// hyphens, directional marks, variation selectors and tag characters.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fe00}'..='\u{fe0f}'
        | '\u{e0000}'..='\u{e007f}')
}

fn without_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(is_invisible) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !is_invisible(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The char boundary at or before `at`.
fn char_floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The char boundary at or after `at`.
fn char_ceil(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Where a rule matched, in bytes; a span may end inside a multi-byte
/// character when a rule's run was cut at `MAX_RUN` (see [`redact`]).
struct Finding {
    span: Range<usize>,
    kind: SecretKind,
}

type Detector = fn(&[u8], &mut Vec<Finding>);

/// Most specific first: `find_raw_secret` reports the first rule that matches.
const DETECTORS: [Detector; 10] = [
    find_token_formats,
    find_chat_webhook_urls,
    find_pem_private_keys,
    find_jwts,
    find_authorization_values,
    find_bearer_tokens,
    find_credential_assignments,
    find_url_credentials,
    find_hex_secrets,
    find_high_entropy_tokens,
];

/// Credentials with a published, recognisable prefix.
struct TokenFormat {
    prefixes: &'static [&'static str],
    body: fn(&u8) -> bool,
    min_body: usize,
    /// Set for formats whose prefix alone is too common (`SK` + hex): the
    /// body must then be exactly `min_body` long and end a word.
    exact: bool,
    /// The body lengths the provider issues. A token of that shape is refused
    /// even when its body is one character repeated: a placeholder in the
    /// exact shape of a credential costs the proposer a reference, a real
    /// credential let through costs a leak forever.
    issued: (usize, usize),
    kind: SecretKind,
}

const fn format(
    prefixes: &'static [&'static str],
    body: fn(&u8) -> bool,
    min_body: usize,
    issued: (usize, usize),
    kind: SecretKind,
) -> TokenFormat {
    TokenFormat { prefixes, body, min_body, exact: false, issued, kind }
}

const TOKEN_FORMATS: [TokenFormat; 13] = [
    format(
        &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
        u8::is_ascii_alphanumeric,
        8,
        (24, 247),
        SecretKind::StripeKey,
    ),
    format(&["whsec_"], u8::is_ascii_alphanumeric, 8, (32, 64), SecretKind::StripeWebhookSecret),
    format(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], u8::is_ascii_alphanumeric, 20, (36, 36), SecretKind::GithubToken),
    format(&["github_pat_"], is_word_byte, 20, (70, 100), SecretKind::GithubToken),
    format(&["glpat-"], is_base64url_byte, 20, (20, 20), SecretKind::GitlabToken),
    format(&["AKIA", "ASIA"], is_upper_alnum, 16, (16, 16), SecretKind::AwsAccessKey),
    format(
        &["xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "xapp-"],
        is_slack_byte,
        10,
        (10, 255),
        SecretKind::SlackToken,
    ),
    TokenFormat {
        prefixes: &["SK"],
        body: is_lower_hex,
        min_body: 32,
        exact: true,
        issued: (32, 32),
        kind: SecretKind::TwilioApiKey,
    },
    format(&["SG."], is_sendgrid_byte, 40, (66, 66), SecretKind::SendgridKey),
    format(&["AIza"], is_base64url_byte, 35, (35, 35), SecretKind::GoogleApiKey),
    format(&["shpat_", "shpss_", "shpca_", "shppa_"], u8::is_ascii_hexdigit, 32, (32, 32), SecretKind::ShopifyToken),
    format(&["npm_"], u8::is_ascii_alphanumeric, 36, (36, 36), SecretKind::NpmToken),
    format(&["sk-ant-", "sk-proj-"], is_base64url_byte, 32, (32, 255), SecretKind::AiApiKey),
];

fn find_token_formats(bytes: &[u8], out: &mut Vec<Finding>) {
    for format in &TOKEN_FORMATS {
        for prefix in format.prefixes.iter().map(|p| p.as_bytes()) {
            // A word boundary before the prefix keeps `mask_live_…` from reading as `sk_live_…`.
            for start in occurrences(bytes, prefix, false).filter(|&i| starts_word(bytes, i)) {
                let body = &bytes[start + prefix.len()..];
                let len = run_len(body, 0, format.body);
                let long_enough = if format.exact {
                    len == format.min_body && body.get(len).is_none_or(|b| !b.is_ascii_alphanumeric())
                } else {
                    len >= format.min_body
                };
                // `sk_test_xxxxxxxx` is a placeholder in documentation, not a
                // key; one in the exact shape of an issued key is refused.
                let issued = (format.issued.0..=format.issued.1).contains(&len);
                let placeholder = !issued && body[..len].iter().all(|&b| b == body[0]);
                if long_enough && !placeholder {
                    out.push(Finding { span: start..start + prefix.len() + len, kind: format.kind });
                }
            }
        }
    }
}

/// Webhook URLs whose path is the credential: anyone holding one can post.
const CHAT_WEBHOOK_MARKERS: [&str; 4] = [
    "hooks.slack.com/services/",
    "hooks.slack.com/workflows/",
    "discord.com/api/webhooks/",
    "discordapp.com/api/webhooks/",
];

fn find_chat_webhook_urls(bytes: &[u8], out: &mut Vec<Finding>) {
    for marker in CHAT_WEBHOOK_MARKERS {
        for start in occurrences(bytes, marker.as_bytes(), true) {
            let path_start = start + marker.len();
            if bytes.get(path_start).is_some_and(u8::is_ascii_alphanumeric) {
                let end = path_start + run_len(bytes, path_start, |b| !ends_value(b));
                out.push(Finding { span: start..end, kind: SecretKind::ChatWebhookUrl });
            }
        }
    }
}

/// `-----BEGIN [RSA |EC |OPENSSH |DSA |ENCRYPTED |PGP ]PRIVATE KEY[ BLOCK]-----`;
/// the whole block is redacted, up to its END line or the end of the text.
fn find_pem_private_keys(bytes: &[u8], out: &mut Vec<Finding>) {
    let mut from = 0;
    while let Some(at) = occurrences(&bytes[from..], b"-----BEGIN ", false).next() {
        let start = from + at;
        let label_start = start + "-----BEGIN ".len();
        let label_len = run_len(bytes, label_start, |b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b' ');
        let label = &bytes[label_start..label_start + label_len];
        let closed = bytes[label_start + label_len..].starts_with(b"-----");
        let private = label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK");
        from = label_start;
        if !(closed && private && label_len <= 40) {
            continue;
        }
        let end = occurrences(&bytes[label_start..], b"-----END ", false)
            .next()
            .and_then(|at| {
                let after_end = label_start + at + "-----END ".len();
                occurrences(&bytes[after_end..], b"-----", false).next().map(|close| after_end + close + 5)
            })
            .unwrap_or(bytes.len());
        out.push(Finding { span: start..end, kind: SecretKind::PemPrivateKey });
        // The block's own lines are not searched again, which keeps this linear.
        from = end;
    }
}

/// Three base64url segments whose header is a JSON object (`eyJ` is `{"`).
fn find_jwts(bytes: &[u8], out: &mut Vec<Finding>) {
    for start in occurrences(bytes, b"eyJ", false) {
        if start > 0 && (is_base64url_byte(&bytes[start - 1]) || bytes[start - 1] == b'.') {
            continue;
        }
        let header = run_len(bytes, start, is_base64url_byte);
        let payload_start = start + header + 1;
        if header < 10 || bytes.get(start + header) != Some(&b'.') {
            continue;
        }
        let payload = run_len(bytes, payload_start, is_base64url_byte);
        let signature_start = payload_start + payload + 1;
        if payload < 10 || bytes.get(payload_start + payload) != Some(&b'.') {
            continue;
        }
        let end = signature_start + run_len(bytes, signature_start, is_base64url_byte);
        out.push(Finding { span: start..end, kind: SecretKind::Jwt });
    }
}

/// `Authorization: Basic …`, `authorization=token …`, `"Authorization": "…"`.
fn find_authorization_values(bytes: &[u8], out: &mut Vec<Finding>) {
    for start in occurrences(bytes, b"authorization", true).filter(|&i| starts_word(bytes, i)) {
        let Some(value_start) = after_separator(bytes, start + "authorization".len()) else {
            continue;
        };
        let first = run_len(bytes, value_start, |b| !ends_value(b));
        let first_word = &bytes[value_start..value_start + first];
        let gap = run_len(bytes, value_start + first, |b| *b == b' ' || *b == b'\t');
        let is_scheme = (2..=12).contains(&first) && first_word.iter().all(u8::is_ascii_alphabetic);
        if is_scheme && gap > 0 {
            // After a scheme any concrete value is a credential: `Basic dXNlcjpwYXNz` has no digit.
            let credential_start = value_start + first + gap;
            let credential = b64token_len(bytes, credential_start);
            let value = &bytes[credential_start..credential_start + credential];
            if credential >= 6 && !is_placeholder(value) {
                out.push(Finding {
                    span: credential_start..credential_start + credential,
                    kind: SecretKind::AuthorizationHeader,
                });
            }
        } else if looks_like_credential(first_word) {
            out.push(Finding { span: value_start..value_start + first, kind: SecretKind::AuthorizationHeader });
        }
    }
}

/// `Bearer <token>`, where the token has the shape of a credential rather
/// than an English word ("bearer tokens must be rotated" passes).
fn find_bearer_tokens(bytes: &[u8], out: &mut Vec<Finding>) {
    for start in occurrences(bytes, b"bearer", true).filter(|&i| starts_word(bytes, i)) {
        let after = start + "bearer".len();
        let gap = run_len(bytes, after, |b| *b == b' ' || *b == b'\t');
        let token_start = after + gap;
        let token_len = b64token_len(bytes, token_start);
        let token = &bytes[token_start..token_start + token_len];
        if gap > 0 && looks_like_credential(token) {
            out.push(Finding { span: token_start..token_start + token_len, kind: SecretKind::BearerToken });
        }
    }
}

/// Key names whose value is a credential. A key must start a word, so
/// `client_secret` and `access_token` match through their last part.
const CREDENTIAL_KEYS: [&str; 12] = [
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "secret_key",
    "private_key",
];

fn find_credential_assignments(bytes: &[u8], out: &mut Vec<Finding>) {
    for key in CREDENTIAL_KEYS {
        let mut resume = 0;
        for start in occurrences(bytes, key.as_bytes(), true) {
            if start < resume || (start > 0 && bytes[start - 1].is_ascii_alphanumeric()) {
                continue;
            }
            let key_end = start + key.len();
            let Some(value_start) = after_separator(bytes, key_end) else {
                continue;
            };
            // A reference or a placeholder is known by its first bytes; whatever
            // it holds is scanned where it stands, by every rule.
            let rest = &bytes[value_start..];
            if REFERENCE_SCHEMES.iter().any(|scheme| rest.starts_with(scheme.as_bytes())) || opens_placeholder(rest) {
                continue;
            }
            let separator_is_colon = bytes[key_end..value_start].contains(&b':');
            let len = run_len(bytes, value_start, |b| !ends_value(b) && !matches!(b, b'&' | b',' | b';'));
            let value = &bytes[value_start..value_start + len];
            // `token: required` in prose is not a credential; `token=required` in a query string could be.
            let concrete = if separator_is_colon {
                len >= 8 && !value.iter().all(u8::is_ascii_alphabetic)
            } else {
                len >= 6 && !is_keyword(value)
            };
            if concrete && !is_placeholder(value) {
                out.push(Finding { span: value_start..value_start + len, kind: SecretKind::CredentialAssignment });
                resume = value_start + len;
            }
        }
    }
}

/// `scheme://user:password@host` anywhere (a database URL in a description
/// counts as much as a target URL): the password is the secret.
fn find_url_credentials(bytes: &[u8], out: &mut Vec<Finding>) {
    for scheme_end in occurrences(bytes, b"://", false) {
        let start = scheme_end + 3;
        let authority = run_len(bytes, start, |b| !b.is_ascii_whitespace() && !b"/?#\"'`<>".contains(b));
        let authority = &bytes[start..start + authority];
        let Some(at) = authority.iter().rposition(|&b| b == b'@') else { continue };
        let Some(colon) = authority[..at].iter().position(|&b| b == b':') else { continue };
        let password = &authority[colon + 1..at];
        if !password.is_empty() && !is_placeholder(password) {
            out.push(Finding { span: start + colon + 1..start + at, kind: SecretKind::UrlCredentials });
        }
    }
}

/// Words that, shortly before 32 or 64 hex digits, make them a secret
/// rather than a digest or an id.
const HEX_SECRET_WORDS: [&str; 9] =
    ["token", "secret", "key", "password", "auth", "hmac", "signing", "credential", "sid"];

/// How far before the hex digits such a word may be.
const HEX_SECRET_REACH: usize = 24;

/// 32 or 64 hex digits, a whole word, after a key-like word and not written
/// as a digest (`sha256:…`).
fn find_hex_secrets(bytes: &[u8], out: &mut Vec<Finding>) {
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_hexdigit() || !starts_word(bytes, at) {
            at += 1;
            continue;
        }
        let len = run_len(bytes, at, u8::is_ascii_hexdigit);
        let whole = bytes.get(at + len).is_none_or(|b| !b.is_ascii_alphanumeric());
        let before = &bytes[at.saturating_sub(HEX_SECRET_REACH)..at];
        let digest = before.ends_with(b"sha256:") || before.ends_with(b"sha1:") || before.ends_with(b"sha512:");
        let keyed = HEX_SECRET_WORDS.iter().any(|w| occurrences(before, w.as_bytes(), true).next().is_some());
        if (len == 32 || len == 64) && whole && keyed && !digest && !is_placeholder(&bytes[at..at + len]) {
            out.push(Finding { span: at..at + len, kind: SecretKind::HexSecret });
        }
        at += len.max(1);
    }
}

/// Tokens shorter than this are never judged by entropy.
const MIN_ENTROPY_TOKEN: usize = 24;
/// Characters left after dropping ids and hex; below this there is too
/// little to tell a random string from a name.
const MIN_RANDOM_CHARS: usize = 20;
/// Bits per character that random tokens of 32 characters or more reach;
/// see `entropy_floor` for shorter ones.
const ENTROPY_BITS: f64 = 4.0;

/// Stripe object ids (`evt_…`, `we_…`, `acct_…`) and publishable keys are
/// public identifiers that routinely appear in webhook descriptions.
const PUBLIC_ID_PREFIXES: [&[u8]; 22] = [
    b"acct", b"ba", b"card", b"ch", b"cs", b"cus", b"evt", b"ii", b"in", b"pi", b"pk", b"pm", b"po", b"price", b"prod",
    b"re", b"seti", b"si", b"src", b"sub", b"txn", b"we",
];

/// A maximal run of `[A-Za-z0-9+/=_-]` that looks random, unless it is a
/// host name label.
fn find_high_entropy_tokens(bytes: &[u8], out: &mut Vec<Finding>) {
    let mut start = 0;
    while start < bytes.len() {
        let len = run_len(bytes, start, is_token_byte);
        let token = &bytes[start..start + len];
        if len >= MIN_ENTROPY_TOKEN && !is_host_label(token, &bytes[start + len..]) && looks_random(token) {
            out.push(Finding { span: start..start + len, kind: SecretKind::HighEntropy });
        }
        start += len.max(1);
    }
}

/// Generated host names are ids, not credentials: an AWS Lambda function URL
/// starts with 32 random lower-case characters. A label (after the `//` of a
/// URL) is lower case, digits and '-', and a dot and another label follow it.
fn is_host_label(token: &[u8], after: &[u8]) -> bool {
    let token = &token[token.iter().take_while(|&&b| b == b'/').count()..];
    let label_bytes = token.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    label_bytes
        && token.len() <= 63
        && after.first() == Some(&b'.')
        && after.get(1).is_some_and(u8::is_ascii_alphanumeric)
}

/// Entropy alone flags long paths and camel-case names (English letters
/// carry about 4.1 bits each), so a token must also read as noise: its
/// letters mostly outside word-like segments, or case and digit switches so
/// frequent that even a name made of words does not explain them. Random
/// base62 and base64 of 24+ characters pass about 96% of the time, longer
/// ones over 99%; names built from words do not.
fn looks_random(token: &[u8]) -> bool {
    let pieces = judged_pieces(token);
    let text = pieces.concat();
    let enough = text.len() >= MIN_RANDOM_CHARS
        && text.iter().any(u8::is_ascii_alphabetic)
        && text.iter().any(u8::is_ascii_digit);
    if !enough || shannon_entropy(&text) < entropy_floor(text.len()) {
        return false;
    }
    let words = word_letter_share(&pieces);
    words < 0.6 || (segment_rate(&pieces) >= 0.28 && words < 0.9)
}

/// The pieces between `+/=_-` worth judging: pieces that are all hex (UUID
/// parts, git SHAs, digests: ids, not secrets) and Stripe public ids are
/// dropped, so `order_0193a7c2-5d1e-…` and `evt_1NG8Du2eZvKYlo2CUI6f3Xb0` pass.
fn judged_pieces(token: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut skip_public_id = false;
    let mut rest = token;
    while !rest.is_empty() {
        let end = rest.iter().position(|b| matches!(b, b'+' | b'/' | b'=' | b'_' | b'-')).unwrap_or(rest.len());
        let (piece, separator) = (&rest[..end], rest.get(end).copied());
        rest = &rest[(end + 1).min(rest.len())..];
        if piece.is_empty() {
            continue;
        }
        if skip_public_id {
            skip_public_id = matches!(piece, b"live" | b"test");
        } else if separator == Some(b'_') && PUBLIC_ID_PREFIXES.contains(&piece) {
            skip_public_id = true;
        } else if !piece.iter().all(u8::is_ascii_hexdigit) {
            pieces.push(piece);
        }
    }
    pieces
}

fn shannon_entropy(text: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    text.iter().for_each(|&b| counts[usize::from(b)] += 1);
    let len = text.len() as f64;
    counts.iter().filter(|&&n| n > 0).map(|&n| n as f64 / len).map(|p| -p * p.log2()).sum()
}

/// A string of n characters holds at most log2(n) bits per character, and
/// 24 random base62 characters average only about 4.1, so the floor drops
/// below 4.0 for short tokens.
fn entropy_floor(chars: usize) -> f64 {
    ENTROPY_BITS.min((chars as f64).log2() - 1.0)
}

/// Share of the letters that sit in word-like segments: camel-case words of
/// two or more letters with a vowel in every five and no five consonants in a
/// row. Near 1.0 for `paymentIntentSucceeded`, about 0.4 for random base62.
fn word_letter_share(pieces: &[&[u8]]) -> f64 {
    let (mut letters, mut in_words) = (0, 0);
    for piece in pieces {
        let mut rest = *piece;
        while let Some(start) = rest.iter().position(u8::is_ascii_alphabetic) {
            rest = &rest[start..];
            let len =
                1 + rest.windows(2).take_while(|w| w[1].is_ascii_alphabetic() && !starts_segment(w[0], w[1])).count();
            letters += len;
            if is_word_like(&rest[..len]) {
                in_words += len;
            }
            rest = &rest[len..];
        }
    }
    in_words as f64 / letters.max(1) as f64
}

fn is_word_like(word: &[u8]) -> bool {
    let is_vowel = |b: &u8| matches!(b.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u' | b'y');
    let vowels = word.iter().filter(|b| is_vowel(b)).count();
    let consonant_runs = word.split(is_vowel);
    word.len() >= 2 && vowels * 5 >= word.len() && consonant_runs.map(<[u8]>::len).max().unwrap_or(0) <= 4
}

/// Segments per adjacent pair: about 0.45 in random base62, 0.4 in random
/// base36, under 0.25 in names such as `PaymentIntentSucceeded2024Q1Report`.
fn segment_rate(pieces: &[&[u8]]) -> f64 {
    let pairs: usize = pieces.iter().map(|p| p.len() - 1).sum();
    let starts = pieces.iter().flat_map(|p| p.windows(2)).filter(|w| starts_segment(w[0], w[1])).count();
    starts as f64 / pairs.max(1) as f64
}

/// A change between lower case, upper case and digits starts a segment,
/// except upper case followed by lower case: that is how a word begins.
fn starts_segment(previous: u8, next: u8) -> bool {
    let class = |b: u8| (b.is_ascii_lowercase(), b.is_ascii_uppercase(), b.is_ascii_digit());
    class(previous) != class(next) && !(previous.is_ascii_uppercase() && next.is_ascii_lowercase())
}

/// A value after `Bearer` or `Authorization:` that is a credential rather
/// than a word: a digit among letters, or mixed case in a long run.
fn looks_like_credential(token: &[u8]) -> bool {
    let has = |f: fn(&u8) -> bool| token.iter().any(f);
    let digit_and_letter = token.len() >= 8 && has(u8::is_ascii_digit) && has(u8::is_ascii_alphabetic);
    let mixed_case = token.len() >= 16 && has(u8::is_ascii_lowercase) && has(u8::is_ascii_uppercase);
    (digit_and_letter || mixed_case) && !is_placeholder(token)
}

/// `<token>`, `${TOKEN}`, `%TOKEN%`, `[REDACTED]`, `********`: not a value.
fn is_placeholder(value: &[u8]) -> bool {
    opens_placeholder(value) || value.iter().all(|&b| b == value[0])
}

fn opens_placeholder(value: &[u8]) -> bool {
    matches!(value.first(), None | Some(b'<' | b'$' | b'{' | b'%' | b'[' | b'*' | b'('))
}

fn is_keyword(value: &[u8]) -> bool {
    ["true", "false", "null", "none", "required", "optional"].iter().any(|k| value.eq_ignore_ascii_case(k.as_bytes()))
}

/// After a key: an optional closing quote, then `=` or `:` with optional
/// spaces and an optional opening quote. Returns where the value starts.
fn after_separator(bytes: &[u8], key_end: usize) -> Option<usize> {
    let mut at = key_end;
    let skip = |at: &mut usize, pred: fn(&u8) -> bool| *at += run_len(bytes, *at, pred);
    skip(&mut at, |b| *b == b'"' || *b == b'\'');
    skip(&mut at, |b| *b == b' ' || *b == b'\t');
    if !matches!(bytes.get(at), Some(b'=' | b':')) {
        return None;
    }
    at += 1;
    skip(&mut at, |b| *b == b' ' || *b == b'\t');
    skip(&mut at, |b| *b == b'"' || *b == b'\'');
    Some(at)
}

/// Where a value written in text stops. Only ASCII bytes stop it, so a
/// multi-byte character is never cut in half.
fn ends_value(b: &u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`')
}

fn occurrences<'a>(haystack: &'a [u8], needle: &'a [u8], ignore_case: bool) -> impl Iterator<Item = usize> + 'a {
    haystack.windows(needle.len()).enumerate().filter_map(move |(i, window)| {
        let hit = if ignore_case { window.eq_ignore_ascii_case(needle) } else { window == needle };
        hit.then_some(i)
    })
}

/// Longest run any rule follows from one starting point, so that adversarial
/// input (64 KiB of `github_pat_github_pat_…`) is still scanned in linear time.
const MAX_RUN: usize = 4096;

fn run_len(bytes: &[u8], start: usize, pred: impl Fn(&u8) -> bool) -> usize {
    bytes.get(start..).map_or(0, |rest| rest.iter().take(MAX_RUN).take_while(|b| pred(b)).count())
}

fn starts_word(bytes: &[u8], i: usize) -> bool {
    i == 0 || !bytes[i - 1].is_ascii_alphanumeric()
}

fn is_word_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'_'
}

fn is_base64url_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-'
}

fn is_token_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-')
}

/// Length of an RFC 6750 `b64token` at `start`, without the full stop of a
/// sentence that ends right after it.
fn b64token_len(bytes: &[u8], start: usize) -> usize {
    let len = run_len(bytes, start, |b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(b));
    let token = bytes.get(start..start + len).unwrap_or_default();
    len - token.iter().rev().take_while(|&&b| b == b'.').count()
}

fn is_upper_alnum(b: &u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn is_lower_hex(b: &u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(b)
}

fn is_slack_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'-'
}

fn is_sendgrid_byte(b: &u8) -> bool {
    is_base64url_byte(b) || *b == b'.'
}

#[cfg(test)]
mod tests;
