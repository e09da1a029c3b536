//! Input an attacker controls must never crash a command or print a value.

use crate::support::*;

#[test]
fn a_planted_file_whose_error_is_kilobytes_of_multibyte_text_lists_as_invalid() {
    let repo = TestRepo::new();
    let good = repo.create_endpoint("billing");
    // A type the parser's error quotes: a credential assignment followed by
    // 6 KiB of multi-byte characters.
    let value = "é€".repeat(1200);
    repo.plant_draft_file(PLANTED_PATH, format!("version: 1\nid: x\ntype: password={value}\n").as_bytes());

    for args in [vec!["list"], vec!["list", "--all"]] {
        let output = repo.command(Who::Nobody).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("invalid") && text.contains("billing"), "{text}");
        assert!(!text.contains(&value[..60]), "the value is never printed");
    }
    let drafts = repo.list_json(&[]);
    assert_eq!(drafts.len(), 2);
    assert!(drafts.iter().any(|d| d["id"] == good.as_str()));
    let invalid = drafts.iter().find(|d| d["status"] == "invalid").unwrap();
    assert!(!invalid.to_string().contains(&value[..60]));

    let (status, report) = repo.run(Who::Nobody, &["validate"]).json_with_status();
    assert_eq!(status, 4, "{report:#}");
    assert!(!report.to_string().contains(&value[..60]));
}

#[test]
fn a_panic_is_reported_as_internal_with_where_it_happened_and_never_what_it_said() {
    let repo = TestRepo::new();
    let secret = format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc");
    let output = repo.command(Who::Nobody).env("ZEN_TEST_PANIC", &secret).arg("list").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error[INTERNAL]: "), "{stderr}");
    assert!(stderr.contains("src/cli/mod.rs:"), "says where: {stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
    assert!(!stderr.contains(&secret) && !String::from_utf8_lossy(&output.stdout).contains(&secret));

    let (status, json) = repo.run(Who::Nobody, &["list"]).env("ZEN_TEST_PANIC", &secret).json_with_status();
    assert_eq!((status, json["error"]["code"].as_str()), (1, Some("INTERNAL")));
    assert!(!json.to_string().contains(&secret));
}

#[test]
fn an_id_or_flag_value_is_never_repeated_in_an_error() {
    let repo = TestRepo::new();
    repo.create_endpoint("billing");
    let secret = format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bD1fH3jL5");
    for args in [vec!["show", secret.as_str()], vec!["discard", secret.as_str()], vec!["show", "01a2ffffffff"]] {
        let refusal = repo.run(Who::Human, &args).refusal();
        assert!(["NOT_FOUND", "AMBIGUOUS_ID"].contains(&refusal.code.as_str()), "{}", refusal.output());
        refusal.assert_never_shows(&secret);
        refusal.assert_never_shows("01a2ffffffff");
    }
    for args in [
        vec!["list", "--status", secret.as_str()],
        vec!["list", "--type", secret.as_str()],
        vec!["evidence", "verify", "--root", secret.as_str()],
        vec!["evidence", "verify", "--since", secret.as_str()],
    ] {
        let output = repo.command(Who::Nobody).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(args[args.len() - 2]), "names the flag: {stderr}");
        assert!(!stderr.contains(&secret), "{stderr}");
    }
}

#[test]
fn secrets_the_scanner_used_to_miss_are_refused_and_never_written() {
    let repo = TestRepo::new();
    let password = format!("{}{}", "Tr0ub4dor", "3-horse");
    let zero_width_token = format!("sk_li\u{200b}ve_{}", "4eC39HqLyjWDarjtT1zdp7dc");
    for description in [
        format!("replicates to postgres://app:{password}@db.internal/payments"),
        format!("the old key was {zero_width_token}"),
        format!("auth token {}", "5f4dcc3b5aa765d61d8327deb882cf99"),
        format!("ghp_{}", "a".repeat(36)),
        "payments \u{202e}lanretni\u{202c} hooks".to_string(),
    ] {
        let refusal = repo
            .run(
                Who::Agent,
                &[
                    "create",
                    "endpoint",
                    "--name",
                    "billing",
                    "--provider",
                    "stripe",
                    "--target-url",
                    GOOD_TARGET,
                    "--description",
                    &description,
                ],
            )
            .refused("RAW_SECRET");
        assert!(refusal.failed_check("RAW_SECRET").contains("proposed_spec.description"), "{}", refusal.output());
        refusal.assert_never_shows(&description);
    }
    repo.assert_nowhere_in_repo(&password);
    repo.assert_nowhere_in_repo("5f4dcc3b5aa765d61d8327deb882cf99");
}
