//! The one door to YAML: its limits, and the fast reader held to the full parser.
use super::*;
use std::collections::BTreeMap;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Small {
    name: String,
    #[serde(default)]
    tags: Vec<String>,
}

#[test]
fn duplicate_keys_are_refused() {
    let err = parse::<Small>(b"name: a\nname: b\n").unwrap_err();
    assert!(err.message.to_lowercase().contains("duplicate"), "{err}");
}

#[test]
fn unknown_fields_are_refused_by_name() {
    let err = parse::<Small>(b"name: a\ncolour: red\n").unwrap_err();
    assert!(err.message.contains("colour"), "{err}");
}

#[test]
fn alias_bombs_are_refused() {
    let mut doc = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for i in 0..9 {
        let prev = if i == 0 { "a".to_string() } else { format!("l{}", i - 1) };
        doc.push_str(&format!(
            "l{i}: &l{i} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    assert!(parse::<BTreeMap<String, serde_json::Value>>(doc.as_bytes()).is_err());
}

#[test]
fn deep_nesting_is_refused() {
    let doc = format!("v: {}{}\n", "[".repeat(200), "]".repeat(200));
    assert!(parse::<BTreeMap<String, serde_json::Value>>(doc.as_bytes()).is_err());
}

#[test]
fn huge_and_non_utf8_input_is_refused() {
    let big = format!("name: {}\n", "a".repeat(MAX_DOCUMENT_BYTES));
    assert!(parse::<Small>(big.as_bytes()).unwrap_err().message.contains("limit"));
    assert!(parse::<Small>(b"name: \xff\xfe\n").unwrap_err().message.contains("UTF-8"));
}

#[test]
fn type_errors_do_not_echo_values() {
    let err = parse::<Small>(b"name: [\"sk_live_abcdefghijklmnop1234\"]\n").unwrap_err();
    assert!(!err.message.contains("sk_live"), "{err}");
    let err = parse::<Small>(b"name: a\ntags: \"hunter2-value\"\n").unwrap_err();
    assert!(!err.message.contains("hunter2"), "{err}");
}

// ---- the fast reader against the full parser ----

use crate::domain::draft::Draft;
use proptest::prelude::*;
use serde_json::Value;

/// Characters chosen to trip a YAML reader: indicators, quotes, spaces,
/// comment marks, digits, non-ASCII.
const TRICKY: &[char] = &[
    'a', 'Z', 'y', 'n', 'e', '0', '1', '7', ' ', ':', '#', '-', '.', '/', '@', '+', '=', '_', '"', '\'', '\\', '{',
    '}', '[', ']', ',', '&', '*', '!', '|', '>', '%', '`', '?', '~', '\t', 'é', '\u{200b}',
];

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(proptest::sample::select(TRICKY), 0..12).prop_map(|c| c.into_iter().collect()),
        proptest::sample::select(vec![
            "yes",
            "No",
            "ON",
            "null",
            "Null",
            "~",
            "true",
            "False",
            "1e5",
            "0x1F",
            "0o17",
            "007",
            ".inf",
            "-.5",
            "NaN",
            "inf",
            "12:30",
            "2026-11-23",
            "a: b",
            "a #b",
            "- x",
            "x:",
            "https://h.example.com/a:b",
            "vault://kv/x",
            "agent:ops-bot",
            "payment_intent.succeeded",
            "Stripe payment events",
        ])
        .prop_map(str::to_string),
        "[a-z][a-z0-9._/:@+=-]{0,20}",
        "[0-9a-f][0-9a-fe:.+-]{0,40}",
        "0[bBxXoO][0-9a-f]{1,12}",
    ]
}

fn spec() -> impl Strategy<Value = Value> {
    (
        tricky_string(),
        tricky_string(),
        tricky_string(),
        proptest::option::of(tricky_string()),
        proptest::option::of(proptest::collection::vec(tricky_string(), 0..4)),
    )
        .prop_map(|(name, provider, url, description, events)| {
            let mut spec = serde_json::json!({"name": name, "provider": provider, "target_url": url});
            if let Some(description) = description {
                spec["description"] = description.into();
            }
            if let Some(events) = events {
                spec["events"] = events.into();
            }
            spec
        })
}

fn draft() -> impl Strategy<Value = Draft> {
    (
        (tricky_string(), tricky_string(), tricky_string()),
        spec(),
        proptest::option::of(tricky_string()),
        0i64..4_000_000_000,
        any::<bool>(),
    )
        .prop_map(|((tenant, creator, base), spec, reason, at, discarded)| {
            let at = chrono::DateTime::from_timestamp(at, 0).expect("in range");
            let mut text = format!(
                "version: 1\nid: 01a230b4-8ddb-7911-8a5a-967fd7d7c629\ntype: endpoint\nstatus: pending\ntenant: t\n\
                 created_by: c\ncreated_at: \"{}\"\nexpires_at: \"{}\"\nbase: null\n",
                at.to_rfc3339(),
                (at + chrono::Duration::days(1)).to_rfc3339()
            );
            if discarded {
                text = text.replace("pending", "discarded");
            }
            let mut draft: Draft = parse_fully(&text).expect("the skeleton parses");
            draft.tenant = tenant;
            draft.created_by = creator;
            draft.proposed_spec = Some(spec);
            draft.base = Some(base);
            if discarded {
                draft.discarded_by = Some("user:alice".into());
                draft.discarded_at = Some(at);
                draft.reason = reason;
            }
            draft
        })
}

/// The fast reader's answer, when it gives one, is the full parser's.
fn agrees(text: &str) -> Result<(), TestCaseError> {
    if let Some(fast) = plain::read(text) {
        let full: Result<Value, _> = parse_fully(text);
        prop_assert_eq!(Ok(fast), full, "{:?}", text);
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("ZEN_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_rendered_draft_reads_back_the_same_through_either_reader(draft in draft()) {
        let text = render(&draft);
        agrees(&text)?;
        let fast: Result<Draft, _> = parse(text.as_bytes());
        let full: Result<Draft, _> = parse_fully(&text);
        prop_assert_eq!(fast, full);
    }

    #[test]
    fn a_mutated_draft_is_read_by_the_fast_reader_only_as_the_full_parser_reads_it(
        draft in draft(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), proptest::sample::select(TRICKY), 0u8..4), 1..4),
    ) {
        let mut text: Vec<char> = render(&draft).chars().collect();
        for (at, c, how) in edits {
            let i = at.index(text.len() + 1).min(text.len());
            match how {
                0 => text.insert(i, c),
                1 if i < text.len() => { text.remove(i); }
                2 => text.insert(i, '\n'),
                _ => text.insert(i, ' '),
            }
        }
        let text: String = text.into_iter().collect();
        agrees(&text)?;
        let fast: Result<Draft, _> = parse(text.as_bytes());
        let full: Result<Draft, _> = parse_fully(&text);
        prop_assert_eq!(fast, full);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() * 4, ..ProptestConfig::default() })]

    /// Raw scalars, unquoted and quoted, in every position of the subset:
    /// the fast reader's classification of each is the full parser's.
    #[test]
    fn every_scalar_the_fast_reader_accepts_means_what_the_full_parser_says(
        values in proptest::collection::vec(tricky_string(), 1..5),
        quote in proptest::collection::vec(any::<bool>(), 5),
    ) {
        let scalar = |i: usize| if quote[i] { format!("\"{}\"", values[i % values.len()]) } else { values[i % values.len()].clone() };
        let text = format!(
            "a: {}\nb:\n  c: {}\n  d:\n  - {}\n  - {}\ne: {}\n",
            scalar(0), scalar(1), scalar(2), scalar(3), scalar(4)
        );
        agrees(&text)?;
    }
}

#[test]
fn the_drafts_we_write_take_the_fast_path() {
    let text = "version: 1\nid: 01a230b4-8ddb-7911-8a5a-967fd7d7c629\ntype: endpoint\nstatus: pending\ntenant: acme\n\
        created_by: agent:ops-bot\ncreated_at: \"2026-12-01T08:24:28Z\"\nexpires_at: \"2026-12-08T08:24:28Z\"\n\
        proposed_spec:\n  name: stripe-payments\n  provider: stripe\n  target_url: https://hooks.example.com/stripe\n  \
        secret_ref: vault://kv/webhooks/stripe\n  description: Stripe payment events\n  events:\n  - \
        payment_intent.succeeded\nbase: null\n";
    let draft: Draft = parse_fully(text).expect("a draft");
    assert_eq!(render(&draft), text, "the renderer's layout changed; the fast reader follows it");
    assert!(plain::read(text).is_some());
}

#[test]
fn errors_never_quote_a_value_only_plain_field_names() {
    // An unknown variant is a value; serde quotes it in backticks.
    let value = format!("password={}", "é€".repeat(1200));
    let text = format!("version: 1\nid: x\ntype: {value}\n");
    let err = parse::<Draft>(text.as_bytes()).unwrap_err();
    assert!(!err.message.contains('é') && !err.message.contains("password"), "{}", err.message);
    assert!(err.message.contains("unknown variant"), "{}", err.message);
    let err =
        parse::<Small>(b"name: a\nhunter2-is-my-password-and-it-is-long-enough-to-be-a-secret-maybe: x\n").unwrap_err();
    assert!(!err.message.contains("hunter2"), "{}", err.message);
    let err = parse::<Small>(b"name: a\ncolour: red\n").unwrap_err();
    assert!(err.message.contains("`colour`"), "{}", err.message);
}
