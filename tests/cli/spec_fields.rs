//! The other creation checks on the spec's fields: names that could escape
//! `endpoints/` or collide by case, unknown providers, missing fields, and
//! draft types that cannot be created in V1.

use crate::support::{TestRepo, Who, fixture};

fn create_named(name: &str) -> Vec<String> {
    let name = format!("--name={name}");
    ["create", "endpoint", &name, "--provider", "stripe", "--target-url", "https://hooks.example.com/x"]
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// `name` is refused as INVALID_SPEC naming the field, never echoed, never stored.
fn assert_name_refused(name: &str) {
    let repo = TestRepo::new();
    let args = create_named(name);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let refusal = repo.run(Who::Agent, &args).refused("INVALID_SPEC");

    assert!(refusal.failed_check("INVALID_SPEC").contains("name"), "{}", refusal.output());
    refusal.assert_never_shows(name);
    repo.assert_nowhere_in_repo(name);
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

#[test]
fn create_with_name_climbing_out_of_endpoints_is_refused() {
    assert_name_refused("../etc");
}

#[test]
fn create_with_name_containing_a_slash_is_refused() {
    assert_name_refused("billing/payments");
}

#[test]
fn create_with_name_a_slash_b_is_refused() {
    assert_name_refused("a/b");
}

#[test]
fn create_with_uppercase_name_is_refused() {
    assert_name_refused("Stripe");
}

#[test]
fn create_with_hidden_file_name_is_refused() {
    assert_name_refused(".hidden");
}

#[test]
fn create_with_name_starting_with_a_dash_is_refused() {
    assert_name_refused("-billing");
}

#[test]
fn create_with_name_longer_than_63_characters_is_refused() {
    assert_name_refused(&"b".repeat(64));
}

#[test]
fn create_with_name_containing_backslashes_is_refused() {
    assert_name_refused("billing\\..\\..\\config");
}

#[test]
fn create_with_name_differing_only_in_case_from_a_file_on_main_is_refused() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch("main", "endpoints/Billing.yaml", b"name: Billing\nprovider: stripe\n");
    let args = create_named("billing");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let refusal = repo.run(Who::Agent, &args).refused("INVALID_SPEC");

    assert!(refusal.output().contains("case"), "the message says why: {}", refusal.output());
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

#[test]
fn create_with_name_of_a_file_on_main_in_the_same_case_is_a_modify_not_a_collision() {
    let repo = TestRepo::new();
    repo.commit_file_on_branch("main", "endpoints/billing.yaml", b"name: billing\nprovider: stripe\n");

    let id = repo.create_endpoint("billing");

    assert_eq!(repo.show_json(&id)["change"], "modify");
}

#[test]
fn create_with_an_unknown_provider_is_refused_naming_the_field() {
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
                "myspace",
                "--target-url",
                "https://hooks.example.com/x",
            ],
        )
        .refused("UNKNOWN_PROVIDER");

    assert!(refusal.message.contains("provider"), "{}", refusal.message);
    assert!(refusal.stderr.contains("hint: "), "{}", refusal.stderr);
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

#[test]
fn create_with_a_secret_looking_provider_never_echoes_it() {
    let repo = TestRepo::new();
    let provider = format!("sk_{}_{}", "live", "Zx81mQp3LrT6vW0yNb5cKd2f");

    let refusal = repo
        .run(
            Who::Agent,
            &[
                "create",
                "endpoint",
                "--name",
                "billing",
                "--provider",
                &provider,
                "--target-url",
                "https://hooks.example.com/x",
            ],
        )
        .refusal();

    assert!(refusal.failed_checks().contains(&"UNKNOWN_PROVIDER".to_string()));
    refusal.assert_never_shows(&provider);
    repo.assert_nowhere_in_repo(&provider);
}

#[test]
fn create_with_a_builtin_provider_the_repo_does_not_allow_is_refused() {
    let repo = TestRepo::new();
    let config = repo.file_on("main", ".zen/config.yaml");
    repo.commit_file_on_branch("main", ".zen/config.yaml", format!("{config}providers: [stripe]\n").as_bytes());

    repo.run(
        Who::Agent,
        &["create", "endpoint", "--name", "ci", "--provider", "github", "--target-url", "https://hooks.example.com/x"],
    )
    .refused("UNKNOWN_PROVIDER");
    repo.create_endpoint("billing");
}

#[test]
fn create_route_from_flags_is_refused_as_not_creatable() {
    let repo = TestRepo::new();

    let refusal = repo
        .run(
            Who::Agent,
            &[
                "create",
                "route",
                "--name",
                "checkout",
                "--provider",
                "stripe",
                "--target-url",
                "https://hooks.example.com/x",
            ],
        )
        .refused("TYPE_NOT_CREATABLE");

    assert!(refusal.output().contains("V1.1"), "{}", refusal.output());
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

#[test]
fn create_of_every_other_recognised_type_is_refused_as_not_creatable() {
    let repo = TestRepo::new();

    for draft_type in ["policy", "target", "source", "widget"] {
        repo.run(
            Who::Agent,
            &[
                "create",
                draft_type,
                "--name",
                "x",
                "--provider",
                "stripe",
                "--target-url",
                "https://hooks.example.com/x",
            ],
        )
        .refused("TYPE_NOT_CREATABLE");
    }
}

#[test]
fn create_from_a_file_with_type_route_is_refused_as_not_creatable() {
    let repo = TestRepo::new();
    let path = fixture("proposals/invalid/type-route.yaml");

    repo.run(Who::Agent, &["create", "--file", path.to_str().unwrap()]).refused("TYPE_NOT_CREATABLE");

    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

#[test]
fn create_without_a_target_url_is_refused_as_spec_missing() {
    let repo = TestRepo::new();
    let path = fixture("proposals/invalid/missing-target-url.yaml");

    let refusal = repo.run(Who::Agent, &["create", "--file", path.to_str().unwrap()]).refused("SPEC_MISSING");

    assert!(refusal.failed_check("SPEC_MISSING").contains("target_url"));
}

#[test]
fn create_with_an_unknown_field_in_the_spec_is_refused_naming_it() {
    let repo = TestRepo::new();
    let path = fixture("proposals/invalid/unknown-spec-field.yaml");

    let refusal = repo.run(Who::Agent, &["create", "--file", path.to_str().unwrap()]).refused("INVALID_SPEC");

    assert!(refusal.failed_check("INVALID_SPEC").contains("retries"));
    repo.assert_nowhere_in_repo("with-retries");
}
