use super::*;

// Fake secrets are generated or concatenated at run time, so this file
// never looks like a leaked credential to a scanner.
fn random(alphabet: &[u8], len: usize, seed: u64) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        alphabet[(state >> 33) as usize % alphabet.len()] as char
    };
    (0..len).map(|_| next()).collect()
}
const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
fn base62(len: usize, seed: u64) -> String {
    random(BASE62, len, seed)
}
fn hex(len: usize, seed: u64) -> String {
    random(b"0123456789abcdef", len, seed)
}
fn jwt() -> String {
    let header = ["eyJ", "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"].concat();
    let payload = ["eyJ", "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"].concat();
    format!("{header}.{payload}.{}", random(BASE64URL, 43, 7))
}
fn pem(label: &str) -> String {
    format!("-----BEGIN {label}-----\nMIIEow{}\n-----END {label}-----", random(BASE64, 64, 8))
}

fn known_secrets() -> Vec<(String, SecretKind)> {
    use SecretKind::*;
    vec![
        (["sk", "_live_", &base62(24, 1)].concat(), StripeKey),
        (["rk", "_live_", &base62(24, 2)].concat(), StripeKey),
        (["sk", "_test_", &base62(24, 3)].concat(), StripeKey),
        (["rk", "_test_", &base62(10, 4)].concat(), StripeKey),
        (["wh", "sec_", &base62(32, 5)].concat(), StripeWebhookSecret),
        (["gh", "p_", &base62(36, 6)].concat(), GithubToken),
        (["gh", "s_", &base62(36, 7)].concat(), GithubToken),
        (["github", "_pat_", "11ABCDEFG0", "_", &base62(59, 8)].concat(), GithubToken),
        (["gl", "pat-", &base62(20, 9)].concat(), GitlabToken),
        (["AK", "IA", "IOSFODNN7EXAMPLE"].concat(), AwsAccessKey),
        (["AS", "IA", &random(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 10)].concat(), AwsAccessKey),
        (["xo", "xb-", "1234567890-1234567890123-", &base62(24, 11)].concat(), SlackToken),
        (["https://hooks.slack", ".com/services/T0AB12CD3/B0AB12CD4/", &base62(24, 12)].concat(), ChatWebhookUrl),
        (["https://discord", ".com/api/webhooks/123456789012/", &base62(68, 13)].concat(), ChatWebhookUrl),
        (["S", "K", &hex(32, 14)].concat(), TwilioApiKey),
        (["S", "G.", &random(BASE64URL, 22, 15), ".", &random(BASE64URL, 43, 16)].concat(), SendgridKey),
        (["AI", "za", &random(BASE64URL, 35, 17)].concat(), GoogleApiKey),
        (["shp", "at_", &hex(32, 18)].concat(), ShopifyToken),
        (["np", "m_", &base62(36, 19)].concat(), NpmToken),
        (["sk", "-ant-api03-", &random(BASE64URL, 93, 20)].concat(), AiApiKey),
        (pem("RSA PRIVATE KEY"), PemPrivateKey),
        (jwt(), Jwt),
        (["Authorization: Basic ", "dXNlcjpwYXNzd29yZA=="].concat(), AuthorizationHeader),
        (["Bearer ", &base62(32, 21)].concat(), BearerToken),
        (["pass", "word=", "hunter2hunter2"].concat(), CredentialAssignment),
        (base62(32, 22), HighEntropy),
    ]
}

#[test]
fn finds_every_known_format_and_names_its_kind() {
    for (value, kind) in known_secrets() {
        assert_eq!(find_raw_secret(&value), Some(kind), "{kind:?}");
        assert!(!kind.describe().is_empty());
    }
}

#[test]
fn finds_secrets_inside_urls_query_strings_and_prose() {
    let github = ["gh", "p_", &base62(36, 30)].concat();
    let stripe = ["sk", "_live_", &base62(24, 31)].concat();
    let cases = [
        format!("https://x.example.com/hook?token={github}"),
        format!("https://x.example.com/hook?a=1&key={stripe}&b=2"),
        format!("https://x.example.com/hooks/{github}/events"),
        format!("Use {stripe}, it is the prod key."),
        format!("(\"{stripe}\")"),
        format!("https://hooks.example.com/in/{}", base62(32, 32)),
        format!("https://hooks.example.com/x?sig={}=", random(BASE64, 43, 33)),
        format!("token: {}", base62(20, 34)),
        format!("{{\"api_key\": \"{}\"}}", base62(16, 35)),
        format!("client_secret={}", hex(32, 36)),
        format!("curl -H 'Authorization: token {}'", base62(12, 37)),
        format!("header Authorization={}", base62(24, 38)),
        format!("Authorization: Bearer {}", jwt()),
        format!("aws_secret_access_key = {}", random(BASE64, 40, 39)),
        format!("note: {}", pem("PRIVATE KEY").replace('\n', " ")),
    ];
    for value in cases {
        assert!(find_raw_secret(&value).is_some(), "{value}");
    }
}

#[test]
fn finds_pem_private_keys_of_every_type_but_not_public_material() {
    for label in ["RSA ", "EC ", "OPENSSH ", "DSA ", "ENCRYPTED ", "", "PGP "] {
        let block = if label == "PGP " { " BLOCK" } else { "" };
        let header = format!("-----BEGIN {label}PRIVATE KEY{block}-----");
        assert_eq!(find_raw_secret(&header), Some(SecretKind::PemPrivateKey), "{label}");
    }
    for header in ["-----BEGIN PUBLIC KEY-----", "-----BEGIN CERTIFICATE-----", "BEGIN PRIVATE KEY"] {
        assert_eq!(find_raw_secret(header), None, "{header}");
    }
}

#[test]
fn catches_random_tokens_of_every_common_alphabet() {
    for (alphabet, len, min_share) in [(BASE62, 24, 90), (BASE62, 40, 97), (BASE64, 40, 97), (BASE64URL, 64, 99)] {
        let caught = (0..200).filter(|&seed| find_raw_secret(&random(alphabet, len, seed)).is_some()).count();
        assert!(caught * 100 >= min_share * 200, "{len}: {caught}/200");
    }
}

#[test]
fn ordinary_webhook_spec_values_pass() {
    let values = [
        "https://hooks.example.com/stripe/payments-v2",
        "https://api.example.com/api/v2/tenants/acme-corp/endpoints/stripe-payments-v2/deliveries",
        "https://hooks.example.com/github/acme-org/infrastructure-live-2024/pull-request-events",
        "https://shop.example.com/?utm_source=newsletter2024&utm_medium=email&utm_campaign=spring-sale-2024-q2",
        "https://login.microsoftonline.com/0193a7c2-5d1e-7b3a-9c4f-2a6b8e1d0f35/oauth2/v2.0/token",
        "hooks.example.com",
        "vault://kv/webhooks/stripe",
        "env://STRIPE_WEBHOOK_SECRET_PROD_2024",
        "stripe-payments",
        "stripe-payments-production-eu-west-1-primary",
        "payment_intent.succeeded",
        "customer.subscription.updated",
        "checkout.session.async_payment_succeeded",
        "customer_subscription_trial_will_end_notification_v3",
        "Forwards Stripe payment events to the billing service; retries for 3 days with backoff.",
        "PaymentIntentSucceeded2024Q1Report and MyCompanyWebhookReceiver2ForStripe3DSecure",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 or ECDHE-RSA-AES128-GCM-SHA256",
        "arn:aws:iam::123456789012:role/WebhookRelayRole2",
        "s3://acme-logs-2024/webhooks/stripe/AWSLogs/123456789012/",
        "projects/my-project-123456/topics/stripe-events-v2",
        "k8s-1-29-amd64-ubuntu-22-04-v20240115",
        "application/vnd.github.v3+json",
        "2026-11-23T21:00:00Z",
        "ops-team+stripe@example.com",
    ];
    for value in values {
        assert_eq!(find_raw_secret(value), None, "{value}");
    }
}

#[test]
fn ids_digests_and_public_stripe_ids_are_not_secrets() {
    let values = [
        "0193a7c2-5d1e-7b3a-9c4f-2a6b8e1d0f35".to_string(),
        format!("order_{}-5d1e-7b3a-9c4f-{}", hex(8, 40), hex(12, 41)),
        format!("commit {}", hex(40, 42)),
        format!("commit {}", hex(40, 43).to_uppercase()),
        format!("sha256:{}", hex(64, 44)),
        format!("ghcr.io/acme/relay:v1.2.3@sha256:{}", hex(64, 45)),
        format!("https://events.pagerduty.com/integration/{}/enqueue", hex(32, 46)),
        format!("Stripe endpoint we_{} forwards evt_{}", base62(24, 47), base62(24, 48)),
        format!("publishable key pk_live_{}", base62(99, 49)),
        format!("https://{}.lambda-url.us-east-1.on.aws/", random(b"abcdefghijklmnopqrstuvwxyz0123456789", 32, 53)),
    ];
    for value in values {
        assert_eq!(find_raw_secret(&value), None, "{value}");
    }
}

#[test]
fn prose_about_secrets_and_placeholders_pass() {
    let values = [
        "Bearer tokens are rotated every 90 days by the platform team.",
        "The Authorization header is added by the relay, see runbook RB-2024-17.",
        "Authorization: Bearer <token>",
        "Authorization: Bearer ${TOKEN}",
        "Set password=${DB_PASSWORD} in the environment.",
        "token: required",
        "Secret: stored in vault://kv/webhooks/stripe",
        "api_key=<your-key>",
        "password=********",
        "sk_test_xxxxxxxxxxxxxxxx",
        "mask_live_dataset1 and task_live_benchmarks2",
        "tokens_per_minute=100000",
        "the secret_name=stripe-webhook",
    ];
    for value in values {
        assert_eq!(find_raw_secret(value), None, "{value}");
    }
}

#[test]
fn a_prefix_must_start_a_word_and_exact_formats_must_end_one() {
    let body = base62(24, 50);
    assert_eq!(find_raw_secret(&format!("xsk_live_{body}")), find_raw_secret(&format!("x{body}")));
    assert_eq!(find_raw_secret(&["S", "K", &hex(33, 51)].concat()), None);
    assert_eq!(find_raw_secret(&["x", "S", "K", &hex(32, 52)].concat()), None);
    assert!(find_raw_secret(&format!("key=sk_live_{body}")).is_some());
}

#[test]
fn repetitive_input_is_scanned_without_blowing_up() {
    // Each of these once made a rule rescan the rest of the text from every match.
    for unit in ["password=vault://", "password=${", "github_pat_", "authorization=", "-----BEGIN PRIVATE KEY-----"] {
        let text = unit.repeat(4096 / unit.len());
        assert!(find_raw_secret(&text).is_some() || !redact(&text).is_empty());
        assert!(!is_secret_reference(&text));
    }
}

#[test]
fn accepts_references_to_every_secret_store() {
    for value in [
        "vault://kv/webhooks/stripe",
        "aws-sm://prod/stripe/webhook#signing_secret",
        "gcp-sm://projects/acme/secrets/stripe-webhook/versions/3",
        "azure-kv://acme-vault/stripe-webhook",
        "op://Infra/Stripe-Webhook/credential",
        "env://STRIPE_WEBHOOK_SECRET",
    ] {
        assert!(is_secret_reference(value), "{value}");
        assert_eq!(find_raw_secret(value), None, "{value}");
    }
}

#[test]
fn refuses_anything_that_is_not_a_clean_reference() {
    let raw = ["wh", "sec_", &base62(32, 60)].concat();
    for value in [
        String::new(),
        raw.clone(),
        format!("vault://kv/{raw}"),
        format!("env://{}", base62(40, 61)),
        "vault://".into(),
        "vault:///".into(),
        "vault:// kv/x".into(),
        "vault://kv/x\n".into(),
        "op://Private/Stripe Webhook/credential".into(),
        "VAULT://kv/x".into(),
        "vault:kv/x".into(),
        "https://vault.example.com/v1/kv/stripe".into(),
        "vault://admin:hunter2@vault.example.com/kv".into(),
        "file:///etc/secrets/stripe".into(),
    ] {
        assert!(!is_secret_reference(&value), "{value:?}");
    }
}

#[test]
fn redact_replaces_only_the_secret() {
    let stripe = ["sk", "_live_", &base62(24, 70)].concat();
    let message = format!("invalid type: string {stripe}, expected a map at line 3");
    assert_eq!(redact(&message), "invalid type: string [REDACTED], expected a map at line 3");
    assert_eq!(redact("password=hunter2hunter2&x=1"), "password=[REDACTED]&x=1");
    assert_eq!(redact("Authorization: Basic dXNlcjpwYXNzd29yZA=="), "Authorization: Basic [REDACTED]");
    assert_eq!(redact(&format!("a {} b", pem("EC PRIVATE KEY"))), "a [REDACTED] b");
    assert_eq!(redact(&format!("Authorization: Bearer {}.", jwt())), "Authorization: Bearer [REDACTED].");
    assert_eq!(redact(&format!("café {stripe} naïve")), "café [REDACTED] naïve");
    let plain = "unknown field `target`, expected one of `name`, `provider`";
    assert_eq!(redact(plain), plain);
}

#[test]
fn redacted_text_holds_no_secret() {
    for (value, kind) in known_secrets() {
        let text = format!("before {value} after");
        let redacted = redact(&text);
        assert_eq!(find_raw_secret(&redacted), None, "{kind:?}: {redacted}");
        assert!(redacted.starts_with("before ") && redacted.ends_with(" after"), "{kind:?}: {redacted}");
    }
    // The first pass cuts out the webhook URL; what is left then reads as a credential.
    let nested = ["Authorization=tokentokenhooks.slack", ".com/services/T0AB/B0AB/xyz"].concat();
    assert_eq!(find_raw_secret(&redact(&nested)), None);
}

#[test]
fn redacting_text_whose_runs_are_cut_inside_a_character_does_not_panic() {
    // A value-following rule stops after 4096 bytes; with multi-byte
    // characters that is inside one. Every rule that follows "any byte".
    for prefix in ["https://hooks.slack.com/services/", "password=", "Authorization: Basic "] {
        for shift in 0..4 {
            let text = format!("{prefix}{}{}", "a".repeat(shift), "é€𝄞".repeat(2000));
            let redacted = redact(&text);
            assert!(redacted.is_char_boundary(redacted.len()));
            if prefix == "password=" {
                assert!(redacted.starts_with("password=[REDACTED]"), "the value is withheld whole");
            }
        }
    }
}

#[test]
fn credentials_inside_urls_are_refused_anywhere() {
    for value in [
        "postgres://app:hunter2hunter2@db.internal:5432/payments",
        "Mirror of https://deploy:s3cr3tPa55@git.example.com/infra.git",
        "amqp://guest:guest@rabbit",
    ] {
        assert_eq!(find_raw_secret(value), Some(SecretKind::UrlCredentials), "{value}");
    }
    for value in ["https://user@example.com/x", "https://example.com/a:b@c", "postgres://app:${DB_PASSWORD}@db/x"] {
        assert_ne!(find_raw_secret(value), Some(SecretKind::UrlCredentials), "{value}");
    }
}

#[test]
fn invisible_characters_inside_a_token_do_not_hide_it() {
    let stripe = format!("sk_live_{}", base62(24, 70));
    let github = format!("ghp_{}", base62(36, 71));
    let slack = format!("xoxb-{}-{}", hex(12, 72), base62(24, 73));
    for token in [&stripe, &github, &slack] {
        for invisible in ['\u{200b}', '\u{2060}', '\u{feff}', '\u{00ad}', '\u{200d}'] {
            let (head, tail) = token.split_at(5);
            let hidden = format!("see {head}{invisible}{tail} here");
            assert!(find_raw_secret(&hidden).is_some(), "{invisible:?} in {head}…");
        }
    }
}

#[test]
fn hex_secrets_next_to_a_key_word_are_refused_but_digests_and_ids_pass() {
    assert_eq!(find_raw_secret(&format!("Twilio auth token {}", hex(32, 80))), Some(SecretKind::HexSecret));
    assert_eq!(find_raw_secret(&format!("hmac key: {}", hex(64, 81))), Some(SecretKind::HexSecret));
    assert!(find_raw_secret(&format!("signing_secret={}", hex(64, 82))).is_some());
    for value in [
        format!("spec digest sha256:{}", hex(64, 83)),
        format!("applied in commit {}", hex(40, 84)),
        format!("the key's digest is sha256:{}", hex(64, 85)),
        hex(32, 86),
    ] {
        assert_eq!(find_raw_secret(&value), None, "{value}");
    }
}

#[test]
fn a_token_in_a_providers_exact_shape_is_refused_whatever_its_entropy() {
    for value in
        [format!("ghp_{}", "a".repeat(36)), format!("AKIA{}", "A".repeat(16)), format!("npm_{}", "x".repeat(36))]
    {
        assert!(find_raw_secret(&value).is_some(), "{value}");
    }
    // A placeholder that is not in an issued shape is prose, as before.
    assert_eq!(find_raw_secret("sk_test_xxxxxxxxxxxxxxxx"), None);
}

#[test]
fn bidi_controls_are_refused_in_any_string() {
    for c in ['\u{202e}', '\u{202a}', '\u{2066}', '\u{2069}'] {
        assert_eq!(find_raw_secret(&format!("payments{c}stnemyap")), Some(SecretKind::BidiControl), "{c:?}");
    }
    assert_eq!(redact("a\u{202e}b"), "a\u{fffd}b");
}
