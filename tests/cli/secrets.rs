//! RAW_SECRET (SPEC §3 "Checks at creation"): a raw secret in any string
//! field of a proposal is refused; the error names the field and never echoes
//! the value; nothing reaches the object database.
//!
//! The fake secrets are assembled at run time so this file does not itself
//! look like a leaked credential to a scanner.

use crate::support::{TestRepo, Who};

/// A fake credential: the whole value, and the random part that must never
/// show up anywhere, however the value is cut or reformatted.
struct Secret {
    value: String,
    core: String,
}

fn secret(prefix: String, core: &str, suffix: &str) -> Secret {
    Secret { value: format!("{prefix}{core}{suffix}"), core: core.to_string() }
}

fn stripe_live_key() -> Secret {
    secret(format!("sk_{}_", "live"), "4eC39HqLyjWDarjtT1zdp7dc", "")
}

fn stripe_restricted_key() -> Secret {
    secret(format!("rk_{}_", "live"), "51HdPq2eZvKYlo2CrTnV8wXyQm", "")
}

fn stripe_webhook_secret() -> Secret {
    secret(format!("wh{}_", "sec"), "MfKQ9r8GKYqrTwjUPD8ILPZIK2LuHlz3", "")
}

fn github_token() -> Secret {
    secret(format!("gh{}_", "p"), "16C7e42F292c6912E7710c838347Ae178B4a", "")
}

fn github_fine_grained_token() -> Secret {
    secret(
        format!("github_{}_", "pat"),
        "11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ01",
        "",
    )
}

fn aws_access_key() -> Secret {
    secret(format!("AK{}", "IA"), "Q3EGRIT5JZ7XK4LM", "")
}

/// Lowercase letters, digits and dashes only, so it is also a well-formed endpoint name.
fn slack_token() -> Secret {
    secret(format!("xo{}-", "xb"), "263594206564-2024283487680-lrvdvb8zkfhzzxqtyr7cz7t3", "")
}

fn pem_private_key() -> Secret {
    let kind = format!("{} {} KEY", "RSA", "PRIVATE");
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n\
                +qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQz\n\
                uVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP";
    secret(format!("-----BEGIN {kind}-----\n"), body, &format!("\n-----END {kind}-----"))
}

fn jwt() -> Secret {
    secret(
        format!(
            "ey{}.ey{}.",
            "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "JzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
        ),
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "",
    )
}

fn bearer_token() -> Secret {
    secret(format!("{} ", "Bearer"), "mF_9.B5f-4.1JqM7tz0pYgQx2vLkR8wN3sH6dC1aE", "")
}

/// Random-looking and long, matching no vendor's pattern.
fn high_entropy_value() -> Secret {
    secret(String::new(), &format!("{}{}", "q7Zp2Xv9LmK3wR8tY1bN", "6cJ4hD0sF5gA2eU7iO9k"), "")
}

/// Where in the proposal the secret goes.
#[derive(Debug, Clone, Copy)]
enum Field {
    TargetUrlQuery,
    Description,
    Events,
    SecretRef,
    Name,
}

impl Field {
    /// How the field is named in messages.
    fn name(self) -> &'static str {
        match self {
            Field::TargetUrlQuery => "target_url",
            Field::Description => "description",
            Field::Events => "events",
            Field::SecretRef => "secret_ref",
            Field::Name => "name",
        }
    }
}

/// An agent proposes an otherwise good endpoint with `secret` in `field`; the
/// proposal is refused as RAW_SECRET, the message names the field and shows
/// no part of the secret, and no trace of it is left in the repo.
fn assert_refused_as_raw_secret(field: Field, secret: Secret) {
    let repo = TestRepo::new();
    let mut name = "leaky-endpoint".to_string();
    let mut target = "https://hooks.example.com/leaky".to_string();
    let mut secret_ref = "vault://kv/webhooks/leaky".to_string();
    let mut extra: Vec<String> = Vec::new();
    match field {
        Field::TargetUrlQuery => target = format!("https://hooks.example.com/leaky?token={}", secret.value),
        Field::Description => extra.push(format!("--description=Signing key: {}", secret.value)),
        Field::Events => extra.push(format!("--events=payment_intent.succeeded,{}", secret.value)),
        Field::SecretRef => secret_ref = secret.value.clone(),
        Field::Name => name = secret.value.clone(),
    }
    // `--flag=value`, so that values starting with dashes (PEM) stay values.
    let mut args: Vec<String> = vec![
        "create".into(),
        "endpoint".into(),
        format!("--name={name}"),
        "--provider=stripe".into(),
        format!("--target-url={target}"),
        format!("--secret-ref={secret_ref}"),
    ];
    args.extend(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let refusal = repo.run(Who::Agent, &args).refusal();

    let failed = refusal.failed_checks();
    assert!(failed.contains(&"RAW_SECRET".to_string()), "RAW_SECRET should fail: {failed:?}\n{}", refusal.output());
    if failed == ["RAW_SECRET"] {
        assert_eq!(refusal.code, "RAW_SECRET");
    }
    let message = refusal.failed_check("RAW_SECRET");
    assert!(message.contains(field.name()), "the RAW_SECRET message names {}: {message}", field.name());
    assert!(refusal.stderr.contains(field.name()), "{}", refusal.stderr);
    refusal.assert_never_shows(&secret.value);
    refusal.assert_never_shows(&secret.core);
    repo.assert_nowhere_in_repo(&secret.core);
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

macro_rules! raw_secret_tests {
    ($($test:ident: $field:ident, $secret:ident;)*) => {$(
        #[test]
        fn $test() {
            assert_refused_as_raw_secret(Field::$field, $secret());
        }
    )*};
}

raw_secret_tests! {
    create_with_stripe_key_in_target_url_query_writes_no_object: TargetUrlQuery, stripe_live_key;
    create_with_stripe_key_in_description_writes_no_object: Description, stripe_live_key;
    create_with_stripe_key_in_events_writes_no_object: Events, stripe_live_key;
    create_with_stripe_key_as_secret_ref_writes_no_object: SecretRef, stripe_live_key;
    create_with_stripe_key_as_name_writes_no_object: Name, stripe_live_key;

    create_with_stripe_restricted_key_in_description_writes_no_object: Description, stripe_restricted_key;
    create_with_stripe_webhook_secret_in_description_writes_no_object: Description, stripe_webhook_secret;

    create_with_github_token_in_target_url_query_writes_no_object: TargetUrlQuery, github_token;
    create_with_github_token_in_description_writes_no_object: Description, github_token;
    create_with_github_token_in_events_writes_no_object: Events, github_token;
    create_with_github_token_as_secret_ref_writes_no_object: SecretRef, github_token;
    create_with_github_token_as_name_writes_no_object: Name, github_token;

    create_with_github_fine_grained_token_in_description_writes_no_object: Description, github_fine_grained_token;

    create_with_aws_access_key_in_target_url_query_writes_no_object: TargetUrlQuery, aws_access_key;
    create_with_aws_access_key_in_description_writes_no_object: Description, aws_access_key;
    create_with_aws_access_key_in_events_writes_no_object: Events, aws_access_key;
    create_with_aws_access_key_as_secret_ref_writes_no_object: SecretRef, aws_access_key;
    create_with_aws_access_key_as_name_writes_no_object: Name, aws_access_key;

    create_with_slack_token_in_target_url_query_writes_no_object: TargetUrlQuery, slack_token;
    create_with_slack_token_in_description_writes_no_object: Description, slack_token;
    create_with_slack_token_in_events_writes_no_object: Events, slack_token;
    create_with_slack_token_as_secret_ref_writes_no_object: SecretRef, slack_token;
    create_with_slack_token_as_a_well_formed_name_writes_no_object: Name, slack_token;

    create_with_pem_private_key_in_target_url_query_writes_no_object: TargetUrlQuery, pem_private_key;
    create_with_pem_private_key_in_description_writes_no_object: Description, pem_private_key;
    create_with_pem_private_key_in_events_writes_no_object: Events, pem_private_key;
    create_with_pem_private_key_as_secret_ref_writes_no_object: SecretRef, pem_private_key;
    create_with_pem_private_key_as_name_writes_no_object: Name, pem_private_key;

    create_with_jwt_in_target_url_query_writes_no_object: TargetUrlQuery, jwt;
    create_with_jwt_in_description_writes_no_object: Description, jwt;
    create_with_jwt_in_events_writes_no_object: Events, jwt;
    create_with_jwt_as_secret_ref_writes_no_object: SecretRef, jwt;
    create_with_jwt_as_name_writes_no_object: Name, jwt;

    create_with_bearer_token_in_description_writes_no_object: Description, bearer_token;

    create_with_high_entropy_value_in_target_url_query_writes_no_object: TargetUrlQuery, high_entropy_value;
    create_with_high_entropy_value_in_description_writes_no_object: Description, high_entropy_value;
    create_with_high_entropy_value_in_events_writes_no_object: Events, high_entropy_value;
    create_with_high_entropy_value_as_secret_ref_writes_no_object: SecretRef, high_entropy_value;
    create_with_high_entropy_value_as_name_writes_no_object: Name, high_entropy_value;
}

#[test]
fn create_with_a_secret_ref_that_is_not_a_reference_is_refused() {
    let repo = TestRepo::new();

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
                "https://hooks.example.com/billing",
                "--secret-ref",
                "the-signing-secret-is-in-the-wiki",
            ],
        )
        .refused("RAW_SECRET");

    assert!(refusal.failed_check("RAW_SECRET").contains("secret_ref"), "{}", refusal.output());
    refusal.assert_never_shows("the-signing-secret-is-in-the-wiki");
    repo.assert_nowhere_in_repo("the-signing-secret-is-in-the-wiki");
}

#[test]
fn create_accepts_every_kind_of_secret_reference() {
    let repo = TestRepo::new();

    for (i, reference) in [
        "vault://kv/webhooks/billing",
        "aws-sm://prod/webhooks/billing",
        "gcp-sm://projects/acme/secrets/billing",
        "azure-kv://acme-vault/billing",
        "op://infra/billing/signing-secret",
        "env://BILLING_WEBHOOK_SECRET",
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("billing-{i}");
        repo.run(
            Who::Agent,
            &[
                "create",
                "endpoint",
                "--name",
                &name,
                "--provider",
                "stripe",
                "--target-url",
                "https://hooks.example.com/billing",
                "--secret-ref",
                reference,
            ],
        )
        .assert()
        .success();
    }
    assert_eq!(repo.list_json(&[]).len(), 6);
}

#[test]
fn create_from_stdin_with_a_raw_secret_writes_no_object() {
    let repo = TestRepo::new();
    let key = stripe_live_key();
    let proposal = format!(
        "type: endpoint\nproposed_spec:\n  name: billing\n  provider: stripe\n  target_url: https://hooks.example.com/billing\n  description: \"key {}\"\n",
        key.value
    );

    let refusal = repo.run(Who::Agent, &["create", "--file", "-"]).stdin(proposal.as_bytes()).refused("RAW_SECRET");

    assert!(refusal.failed_check("RAW_SECRET").contains("description"));
    refusal.assert_never_shows(&key.core);
    repo.assert_nowhere_in_repo(&key.core);
}

#[test]
fn create_with_a_raw_secret_nested_in_an_unknown_spec_field_never_echoes_it() {
    let repo = TestRepo::new();
    let key = github_token();
    let proposal = format!(
        "type: endpoint\nproposed_spec:\n  name: billing\n  provider: github\n  target_url: https://hooks.example.com/billing\n  headers:\n    authorization: {}\n",
        key.value
    );

    let refusal = repo.run(Who::Agent, &["create", "--file", "-"]).stdin(proposal.as_bytes()).refusal();

    assert!(refusal.failed_checks().contains(&"RAW_SECRET".to_string()), "{}", refusal.output());
    refusal.assert_never_shows(&key.core);
    repo.assert_nowhere_in_repo(&key.core);
}

#[test]
fn a_proposal_whose_unknown_top_level_key_is_a_secret_never_echoes_it() {
    let repo = TestRepo::new();
    let key = stripe_live_key();
    let proposal = format!(
        "type: endpoint\n{}: oops\nproposed_spec:\n  name: billing\n  provider: stripe\n  target_url: https://hooks.example.com/billing\n",
        key.value
    );

    let refusal = repo.run(Who::Agent, &["create", "--file", "-"]).stdin(proposal.as_bytes()).refusal();

    assert_eq!(crate::support::exit_code_of(&refusal.code), 4);
    refusal.assert_never_shows(&key.core);
    repo.assert_nowhere_in_repo(&key.core);
}

#[test]
fn a_proposal_with_a_secret_as_a_duplicated_key_never_echoes_it() {
    let repo = TestRepo::new();
    let key = aws_access_key();
    let proposal = format!(
        "type: endpoint\nproposed_spec:\n  name: billing\n  provider: stripe\n  target_url: https://hooks.example.com/billing\n  {0}: a\n  {0}: b\n",
        key.value
    );

    let refusal = repo.run(Who::Agent, &["create", "--file", "-"]).stdin(proposal.as_bytes()).refusal();

    assert_eq!(crate::support::exit_code_of(&refusal.code), 4);
    refusal.assert_never_shows(&key.core);
    repo.assert_nowhere_in_repo(&key.core);
}
