//! INVALID_TARGET_URL (SPEC §3): only public https targets. Plain http,
//! userinfo, and hosts that are loopback, private, link-local or cloud
//! metadata, however they are spelled (numeric, octal, hex, short, IPv6,
//! IPv4-mapped), are refused before anything is written.

use crate::support::{TestRepo, Who};

fn create_args(target: &str) -> Vec<&str> {
    vec!["create", "endpoint", "--name", "billing", "--provider", "stripe", "--target-url", target]
}

/// An agent proposes `url`: refused as INVALID_TARGET_URL, the message names
/// the field and does not repeat the URL, and the URL is nowhere in the repo.
fn assert_target_refused(url: &str) {
    let repo = TestRepo::new();

    let refusal = repo.run(Who::Agent, &create_args(url)).refused("INVALID_TARGET_URL");

    let check = refusal.failed_check("INVALID_TARGET_URL");
    assert!(check.contains("target_url"), "the check names the field: {check}");
    refusal.assert_never_shows(url);
    repo.assert_nowhere_in_repo(url);
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}

macro_rules! refused_target_tests {
    ($($test:ident: $url:expr;)*) => {$(
        #[test]
        fn $test() {
            assert_target_refused($url);
        }
    )*};
}

refused_target_tests! {
    create_with_plain_http_target_is_refused: "http://hooks.example.com/stripe";
    create_with_ftp_target_is_refused: "ftp://hooks.example.com/stripe";
    create_with_unparsable_target_is_refused: "https://hooks example com/stripe";
    create_with_userinfo_in_target_is_refused: "https://deploy:hunter2@hooks.example.com/stripe";
    create_with_username_only_userinfo_in_target_is_refused: "https://deploy@hooks.example.com/stripe";

    create_with_loopback_127_0_0_1_target_is_refused: "https://127.0.0.1/stripe";
    create_with_loopback_127_53_target_is_refused: "https://127.0.0.53:8443/stripe";
    create_with_localhost_target_is_refused: "https://localhost/stripe";
    create_with_localhost_with_trailing_dot_target_is_refused: "https://localhost./stripe";
    create_with_subdomain_of_localhost_target_is_refused: "https://api.localhost/stripe";
    create_with_ipv6_loopback_target_is_refused: "https://[::1]/stripe";
    create_with_unspecified_address_target_is_refused: "https://0.0.0.0/stripe";

    create_with_private_10_target_is_refused: "https://10.0.0.5/stripe";
    create_with_private_192_168_target_is_refused: "https://192.168.1.10/stripe";
    create_with_private_172_16_target_is_refused: "https://172.16.0.1/stripe";
    create_with_private_172_31_target_is_refused: "https://172.31.255.254/stripe";
    create_with_ipv6_unique_local_target_is_refused: "https://[fd00::1]/stripe";

    create_with_link_local_169_254_target_is_refused: "https://169.254.10.10/stripe";
    create_with_ipv6_link_local_fe80_target_is_refused: "https://[fe80::1]/stripe";

    create_with_metadata_169_254_169_254_target_is_refused: "https://169.254.169.254/latest/meta-data/";
    create_with_metadata_google_internal_target_is_refused: "https://metadata.google.internal/computeMetadata/v1/";
    create_with_metadata_google_internal_fqdn_target_is_refused: "https://metadata.google.internal./computeMetadata/v1/";
    create_with_metadata_ipv6_target_is_refused: "https://[fd00:ec2::254]/latest/meta-data/";

    create_with_decimal_loopback_https_target_is_refused: "https://2130706433/stripe";
    create_with_decimal_loopback_http_target_is_refused: "http://2130706433/stripe";
    create_with_hex_loopback_target_is_refused: "https://0x7f000001/stripe";
    create_with_octal_loopback_target_is_refused: "https://0177.0.0.1/stripe";
    create_with_short_loopback_127_1_target_is_refused: "https://127.1/stripe";
    create_with_decimal_metadata_target_is_refused: "https://2852039166/latest/meta-data/";
    create_with_ipv4_mapped_ipv6_loopback_target_is_refused: "https://[::ffff:127.0.0.1]/stripe";
    create_with_ipv4_mapped_ipv6_hex_loopback_target_is_refused: "https://[::ffff:7f00:1]/stripe";
    create_with_ipv4_mapped_ipv6_metadata_target_is_refused: "https://[::ffff:169.254.169.254]/latest/meta-data/";
}

#[test]
fn create_accepts_a_public_https_target_with_port_path_and_query() {
    let repo = TestRepo::new();

    repo.run(Who::Agent, &create_args("https://hooks.example.com:8443/in/stripe?source=billing")).assert().success();
    repo.run(Who::Agent, &create_args("https://93.184.216.34/hooks")).assert().success();
    repo.run(Who::Agent, &create_args("https://[2606:2800:220:1:248:1893:25c8:1946]/hooks")).assert().success();

    assert_eq!(repo.list_json(&[]).len(), 3);
}

#[test]
fn create_with_an_empty_target_is_refused_and_writes_nothing() {
    let repo = TestRepo::new();

    let refusal = repo.run(Who::Agent, &create_args("")).refusal();

    let failed = refusal.failed_checks();
    assert!(failed.contains(&"SPEC_MISSING".to_string()) && failed.contains(&"INVALID_TARGET_URL".to_string()));
    assert_eq!(repo.files_on("drafts"), Vec::<String>::new());
}
