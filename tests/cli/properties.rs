//! Hostile proposals through the real binary: whatever a proposal file holds,
//! no secret in it ever reaches the repository or the output. A refusal moves
//! no ref and writes no object; an acceptance (the secret was only in a YAML
//! comment, which no draft keeps) stores no trace of it. Bounded by
//! `ZEN_PROPTEST_CASES` (32 by default; each case runs the binary once).

use crate::support::*;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("ZEN_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(32)
}

fn objects(repo: &TestRepo) -> String {
    repo.git(&["count-objects", "-v"])
        .lines()
        .filter(|l| l.starts_with("count:") || l.starts_with("in-pack:"))
        .collect()
}

fn proposal() -> impl Strategy<Value = (String, String)> {
    let secret = prop_oneof![
        "sk_live_[A-Za-z0-9]{24}",
        "ghp_[A-Za-z0-9]{36}",
        "AKIA[A-Z0-9]{16}",
        "postgres://app:[a-z]{6}[0-9]{4}@db/x",
    ];
    let field = prop::sample::select(vec!["name", "provider", "target_url", "secret_ref", "description", "events"]);
    let noise =
        prop::sample::select(vec!["", "\u{200b}", " ", "\t", "é", "'", "\"", ": ", "# ", "- ", "{", "[", "&a "]);
    (secret, field, noise, any::<bool>()).prop_map(|(secret, field, noise, quoted)| {
        let value = if quoted { format!("\"{noise}{secret}\"") } else { format!("{noise}{secret}") };
        let mut spec = vec![
            ("name", "billing".to_string()),
            ("provider", "stripe".to_string()),
            ("target_url", GOOD_TARGET.to_string()),
        ];
        spec.retain(|(k, _)| *k != field);
        let mut text = String::from("type: endpoint\nproposed_spec:\n");
        for (k, v) in spec {
            text.push_str(&format!("  {k}: {v}\n"));
        }
        if field == "events" {
            text.push_str(&format!("  events: [{value}]\n"));
        } else {
            text.push_str(&format!("  {field}: {value}\n"));
        }
        (text, secret)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn a_secret_in_a_proposal_never_reaches_the_repository_or_the_output((text, secret) in proposal()) {
        let repo = TestRepo::new();
        let refs = repo.refs();
        let before = objects(&repo);
        let output = repo
            .command(Who::Agent)
            .args(["--json", "create", "--file", "-"])
            .write_stdin(text.clone())
            .output()
            .unwrap();
        let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        prop_assert!(!printed.contains(&secret), "the secret was printed:\n{}", printed);
        if output.status.success() {
            repo.assert_nowhere_in_repo(&secret);
        } else {
            prop_assert!(matches!(output.status.code(), Some(4)), "{}", printed);
            prop_assert_eq!(repo.refs(), refs);
            prop_assert_eq!(objects(&repo), before, "a refused proposal wrote an object");
        }
    }
}
