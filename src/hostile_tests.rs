//! Property tests over everything an attacker can hand zen-draft: drafts,
//! proposals, URLs, allowed_signers files, evidence notes, and the scanner's
//! view of credentials dressed up to slip past it. Each property is checked
//! on `ZEN_PROPTEST_CASES` generated cases (256 by default, to fit the CI
//! budget; set it higher for a longer local run).
//!
//! What must hold: nothing panics, nothing echoes a generated secret, and the
//! scanner refuses every credential of a known shape however it is wrapped.

use crate::domain::checks::check_endpoint_spec;
use crate::domain::config::Config;
use crate::domain::draft::Draft;
use crate::domain::duration::Ttl;
use crate::domain::secrets::{find_raw_secret, redact};
use crate::domain::target_url::check_target_url;
use crate::evidence::allowed_signers::AllowedSigners;
use crate::evidence::record::SignedRecord;
use crate::service::CreateRequest;
use proptest::prelude::*;
use serde_json::json;

fn cases() -> u32 {
    std::env::var("ZEN_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
}

/// Bytes chosen to break parsers: indicators, quotes, controls, multi-byte
/// and invisible characters, and the pieces of URLs and tokens.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "Z",
        "0",
        " ",
        "\n",
        "\t",
        ":",
        "#",
        "-",
        "\"",
        "'",
        "\\",
        "{",
        "}",
        "[",
        "]",
        "&",
        "*",
        "!",
        "|",
        ">",
        "%",
        "@",
        "/",
        "?",
        "=",
        "é",
        "€",
        "𝄞",
        "\u{200b}",
        "\u{202e}",
        "\u{feff}",
        "\0",
        "https://",
        "://",
        "[::1]",
        "127.0.0.1",
        "sk_live_",
        "ghp_",
        "password=",
        "Bearer ",
        "-----BEGIN ",
        "%00",
        "..",
        "~",
    ]);
    prop_oneof![
        proptest::collection::vec(pieces, 0..40).prop_map(|p| p.concat()),
        proptest::collection::vec(any::<char>(), 0..200).prop_map(|c| c.into_iter().collect()),
        (proptest::collection::vec(any::<char>(), 1..4), 1000usize..6000).prop_map(|(c, n)| c
            .into_iter()
            .cycle()
            .take(n)
            .collect()),
    ]
}

/// A credential of a known provider's shape, with a random body.
fn credential() -> impl Strategy<Value = String> {
    let alnum = "[A-Za-z0-9]";
    prop_oneof![
        proptest::string::string_regex(&format!("sk_live_{alnum}{{24,40}}")).unwrap(),
        proptest::string::string_regex(&format!("rk_live_{alnum}{{24,40}}")).unwrap(),
        proptest::string::string_regex(&format!("whsec_{alnum}{{32}}")).unwrap(),
        proptest::string::string_regex(&format!("ghp_{alnum}{{36}}")).unwrap(),
        proptest::string::string_regex("AKIA[A-Z0-9]{16}").unwrap(),
        proptest::string::string_regex("xoxb-[0-9]{11}-[0-9]{12}-[A-Za-z0-9]{24}").unwrap(),
        proptest::string::string_regex(&format!("npm_{alnum}{{36}}")).unwrap(),
        proptest::string::string_regex("glpat-[A-Za-z0-9_-]{20}").unwrap(),
    ]
}

/// A credential dressed up: the case of its random part changed where its
/// format allows, invisible characters inside, wrapped in a URL, a query
/// string or prose, or all of these.
fn disguised() -> impl Strategy<Value = (String, String)> {
    (
        credential(),
        proptest::collection::vec((any::<prop::sample::Index>(), 0usize..5), 0..4),
        0usize..5,
        proptest::collection::vec(any::<bool>(), 64),
    )
        .prop_map(|(secret, hides, wrap, flips)| {
            // Mixed-case bodies (Stripe, GitHub, npm, GitLab) take any case
            // after their prefix; the others keep theirs.
            let mixed = ["sk_live_", "rk_live_", "whsec_", "ghp_", "npm_", "glpat-"];
            let secret = match mixed.iter().find(|p| secret.starts_with(**p)) {
                Some(prefix) => {
                    let body: String = secret[prefix.len()..]
                        .chars()
                        .zip(flips.iter().cycle())
                        .map(|(c, flip)| if *flip { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                        .collect();
                    format!("{prefix}{body}")
                }
                None => secret,
            };
            let mut chars: Vec<char> = secret.chars().collect();
            for (at, which) in hides {
                let i = at.index(chars.len() + 1).min(chars.len());
                chars.insert(i, ['\u{200b}', '\u{200c}', '\u{2060}', '\u{feff}', '\u{00ad}'][which]);
            }
            let hidden: String = chars.into_iter().collect();
            let shown = match wrap {
                0 => hidden.clone(),
                1 => format!("https://hooks.example.com/in?key={hidden}&x=1"),
                2 => format!("Rotated the old one ({hidden}) yesterday."),
                3 => format!("https://ci.example.com/{hidden}/run"),
                _ => format!("\"{hidden}\""),
            };
            (secret, shown)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_scanner_refuses_every_known_credential_however_it_is_dressed((secret, shown) in disguised()) {
        prop_assert!(find_raw_secret(&shown).is_some(), "missed {:?}", shown);
        prop_assert!(!redact(&shown).contains(&secret), "redact left it in");
    }

    #[test]
    fn nothing_an_attacker_writes_panics_a_reader(text in hostile_text()) {
        let _ = find_raw_secret(&text);
        let _ = redact(&text);
        let _ = check_target_url(&text, &[]);
        let _ = AllowedSigners::parse(&text);
        let _ = SignedRecord::parse_note(&text);
        let _ = crate::yaml::parse::<Draft>(text.as_bytes());
        let _ = CreateRequest::from_proposal(text.as_bytes());
        let _ = crate::domain::draft_id::IdPrefix::parse(&text);
        let _ = Ttl::parse(&text);
    }

    #[test]
    fn a_refused_spec_never_echoes_a_secret_in_any_field(
        (secret, _) in disguised(),
        field in prop::sample::select(vec!["name", "provider", "target_url", "secret_ref", "description", "extra"]),
    ) {
        let mut spec = json!({"name": "billing", "provider": "stripe", "target_url": "https://hooks.example.com/b"});
        spec[field] = json!(secret);
        let config = Config::new("acme", "main", Ttl::parse("7d").unwrap());
        let report = check_endpoint_spec(Some(&spec), &config);
        prop_assert!(report.checks.iter().any(|c| !c.ok), "a secret in {} passed", field);
        for check in &report.checks {
            prop_assert!(!check.message.contains(&secret), "{} echoed in {:?}", field, check.code);
        }
    }

    #[test]
    fn a_parse_error_never_quotes_the_value_it_could_not_read(
        (secret, _) in disguised(),
        at in prop::sample::select(vec!["type", "status", "tenant", "created_at", "version"]),
    ) {
        let text = format!("version: 1\nid: x\n{at}: [{secret}]\n");
        if let Err(error) = crate::yaml::parse::<Draft>(text.as_bytes()) {
            prop_assert!(!error.to_string().contains(&secret), "{}", error);
        }
    }
}
