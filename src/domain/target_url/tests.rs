use super::*;

fn check(url: &str) -> Result<(), UrlProblem> {
    check_target_url(url, &[])
}

fn forbidden(url: &str) -> (String, &'static str) {
    match check(url) {
        Err(UrlProblem::ForbiddenHost { host, why }) => (host, why),
        other => panic!("{url}: expected a forbidden host, got {other:?}"),
    }
}

fn assert_forbidden(why: &str, urls: &[&str]) {
    for url in urls {
        assert_eq!(forbidden(url).1, why, "{url}");
    }
}

fn assert_unparsable(urls: &[&str]) {
    for url in urls {
        assert!(matches!(check(url), Err(UrlProblem::Unparsable(_))), "{url}: {:?}", check(url));
    }
}

#[test]
fn accepts_public_https_urls() {
    for url in [
        "https://hooks.example.com/stripe",
        "https://93.184.216.34/x",
        "https://[2606:2800:220:1:248:1893:25c8:1946]:8443/x",
        "HTTPS://Hooks.Example.COM/Stripe?x=1#frag",
        "https://hooks.example.com./x",
        "https://hooks.example.com:443",
        "https://hooks.example.com:00443/x",
        "https://xn--bcher-kva.example/x",
        "https://hooks.example.com/café?to=a@b.example",
        "https://hooks.example.com/@team#@elsewhere.example",
        "https://0x5db8d822/x",
        "https://[::ffff:93.184.216.34]/x",
        "https://[64:ff9b::5db8:d822]/x",
        "https://[2002:5db8:d822::1]/x",
        "https://172.32.0.1/",
        "https://100.128.0.1/",
        "https://11.0.0.1/",
        "https://hooks_v2.example.com/",
    ] {
        assert_eq!(check(url), Ok(()), "{url}");
    }
}

#[test]
fn plain_http_only_for_configured_hosts_and_never_for_forbidden_ones() {
    let allowed = ["internal-allowed.example".to_string(), "93.184.216.34".into(), "2606:2800::1".into()];
    for url in
        ["http://internal-allowed.example", "http://Internal-Allowed.Example./hook", "http://93.184.216.34:8080/"]
    {
        assert_eq!(check_target_url(url, &allowed), Ok(()), "{url}");
    }
    assert_eq!(check_target_url("http://[2606:2800:0::1]/", &allowed), Ok(()));
    let refused = check_target_url("http://other.example/x", &allowed);
    assert_eq!(refused, Err(UrlProblem::HttpNotAllowed { host: "other.example".into() }));
    assert!(matches!(check("http://internal-allowed.example"), Err(UrlProblem::HttpNotAllowed { .. })));
    let trusting = ["localhost".to_string(), "127.0.0.1".into(), "metadata.google.internal".into()];
    for url in ["http://localhost/", "http://127.0.0.1/", "http://metadata.google.internal/"] {
        assert!(matches!(check_target_url(url, &trusting), Err(UrlProblem::ForbiddenHost { .. })), "{url}");
    }
}

#[test]
fn refuses_other_schemes_and_missing_slashes() {
    for url in ["ftp://hooks.example.com/", "ws://hooks.example.com/", "javascript:alert(1)", "file:///etc/passwd"] {
        assert_eq!(check(url), Err(UrlProblem::NotHttps), "{url}");
    }
    assert_unparsable(&[
        "hooks.example.com/stripe",
        "//hooks.example.com/x",
        "https:hooks.example.com",
        "1https://x.example",
    ]);
    assert_eq!(check("https:///hooks.example.com"), Err(UrlProblem::MissingHost));
    assert_eq!(check("https://"), Err(UrlProblem::MissingHost));
    assert_eq!(check("https://:443/"), Err(UrlProblem::MissingHost));
    assert_eq!(check(""), Err(UrlProblem::Empty));
    assert_eq!(check("   "), Err(UrlProblem::Empty));
}

#[test]
fn refuses_whitespace_control_backslash_and_invisible_characters() {
    for url in [
        " https://hooks.example.com/",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\n",
        "https://hooks.example.com\\@127.0.0.1/",
        "https://hooks.example.com\\x",
        "https://hooks.exa\tmple.com/",
        "https://hooks.example.com/\u{0}",
        "https://hooks.example.com/\u{7f}",
        "https://hooks.exa\u{200b}mple.com/",
        "https://hooks.example.com/\u{202e}moc",
        "https://hooks.example.com/\u{a0}",
    ] {
        assert!(matches!(check(url), Err(UrlProblem::ForbiddenCharacter { .. })), "{url:?}");
    }
}

#[test]
fn refuses_userinfo_even_when_encoded() {
    for url in [
        "https://user:pass@hooks.example.com/",
        "https://user@hooks.example.com/",
        "https://@hooks.example.com/",
        "https://hooks.example.com@127.0.0.1/",
        "https://hooks.example.com%40evil.example/",
        "https://hooks.example.com%40127.0.0.1/",
        "https://hooks.example.com:443@evil.example/",
    ] {
        assert_eq!(check(url), Err(UrlProblem::UserInfo), "{url}");
    }
}

#[test]
fn refuses_loopback_in_every_spelling() {
    for url in [
        "https://127.0.0.1/",
        "https://127.1/",
        "https://127.0.1/",
        "https://2130706433/",
        "https://0x7f.1/",
        "https://0X7F.0.0.1/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://0177.1/",
        "https://127.000.000.001/",
        "https://127.0.0.1./",
        "https://127.255.255.254:8443/",
        "https://0x7f.0x0.0x0.0x1/",
    ] {
        let (host, why) = forbidden(url);
        assert!(host.starts_with("127.") && why == LOOPBACK, "{url}: {host} {why}");
    }
    assert_eq!(forbidden("https://0x7f.1/"), ("127.0.0.1".to_string(), LOOPBACK));
    assert_eq!(forbidden("https://2130706433/"), ("127.0.0.1".to_string(), LOOPBACK));
    assert_forbidden(
        LOOPBACK,
        &[
            "https://localhost/",
            "https://LOCALHOST./",
            "https://localhost:8080/x",
            "https://api.localhost/",
            "https://localhost.localdomain/",
            "https://[::1]/",
            "https://[0:0:0:0:0:0:0:1]:443/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://[::ffff:0:127.0.0.1]/",
            "https://[64:ff9b::127.0.0.1]/",
            "https://[2002:7f00:1::]/",
        ],
    );
}

#[test]
fn refuses_private_and_shared_ranges() {
    assert_forbidden(
        PRIVATE,
        &[
            "https://10.0.0.1/",
            "https://10.255.255.255/",
            "https://0xa.1/",
            "https://167772161/",
            "https://012.0.0.1/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://192.168.257/",
            "https://100.64.0.1/",
            "https://100.127.255.254/",
            "https://[fc00::1]/",
            "https://[fd12:3456:789a::1]/",
            "https://[fec0::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:c0a8:101]/",
            "https://[2002:c0a8:101::1]/",
            "https://[64:ff9b::10.1.2.3]/",
        ],
    );
}

#[test]
fn refuses_link_local_and_cloud_metadata() {
    assert_forbidden(LINK_LOCAL, &["https://169.254.1.1/", "https://[fe80::1]/", "https://[febf::1]/"]);
    assert_forbidden(
        METADATA,
        &[
            "https://169.254.169.254/latest/meta-data/",
            "https://0xa9fea9fe/",
            "https://2852039166/",
            "https://0251.0376.0251.0376/",
            "https://169.254.43518/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[fd00:ec2::254]/",
            "https://169.254.170.2/v2/credentials",
            "https://100.100.100.200/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://METADATA.GOOGLE.INTERNAL./",
            "https://metadata/",
        ],
    );
}

#[test]
fn refuses_unspecified_multicast_broadcast_reserved_and_documentation() {
    assert_forbidden(
        UNSPECIFIED,
        &["https://0.0.0.0/", "https://0/", "https://0x0/", "https://0.1.2.3/", "https://[::]/"],
    );
    assert_forbidden(MULTICAST, &["https://224.0.0.1/", "https://239.255.255.250/", "https://[ff02::1]/"]);
    assert_forbidden(BROADCAST, &["https://255.255.255.255/", "https://4294967295/"]);
    assert_forbidden(
        RESERVED,
        &["https://240.0.0.1/", "https://192.0.0.8/", "https://198.18.0.1/", "https://[2001::1]/", "https://[100::1]/"],
    );
    assert_forbidden(RESERVED, &["https://[64:ff9b:1::1]/", "https://[1::1]/"]);
    assert_forbidden(
        DOCUMENTATION,
        &["https://192.0.2.1/", "https://198.51.100.7/", "https://203.0.113.9/", "https://[2001:db8::1]/"],
    );
}

#[test]
fn refuses_names_that_only_resolve_inside_a_network() {
    assert_forbidden(
        INTERNAL,
        &["https://jenkins/hook", "https://db.internal/", "https://printer.local/", "https://router.home.arpa/"],
    );
}

#[test]
fn numeric_hosts_that_are_not_valid_ipv4_are_unparsable() {
    assert_unparsable(&[
        "https://256.0.0.1/",
        "https://1.2.3.256/",
        "https://1.2.65536/",
        "https://4294967296/",
        "https://1.2.3.4.5/",
        "https://08.0.0.1/",
        "https://0x100.0.0.1/",
        "https://0x7g.1/",
        "https://example.123/",
        "https://hooks.example.0x10/",
        "https://99999999999999999999999/",
    ]);
}

#[test]
fn refuses_malformed_hosts() {
    assert_unparsable(&[
        "https://1..2/",
        "https://.example.com/",
        "https://hooks..example.com/",
        "https://-hooks.example.com/",
        "https://hooks-.example.com/",
        "https://hooks.example.com../",
        "https://%6c%6f%63%61%6c%68%6f%73%74/",
        "https://hooks!.example.com/",
        "https://hooks.example.com]/",
    ]);
    let long_label = format!("https://{}.example.com/", "a".repeat(64));
    let long_url = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_BYTES));
    assert_unparsable(&[&long_label, &long_url]);
    assert_eq!(check("https://bücher.example/"), Err(UrlProblem::NonAsciiHost));
    assert_eq!(check("https://１２７.０.０.１/"), Err(UrlProblem::NonAsciiHost));
}

#[test]
fn refuses_malformed_ipv6_and_zone_ids() {
    assert_unparsable(&[
        "https://[::1/",
        "https://::1/",
        "https://[::1]x/",
        "https://[]/",
        "https://[1:2:3:4:5:6:7:8:9]/",
        "https://[1::2::3]/",
        "https://[12345::]/",
        "https://[:1]/",
        "https://[1:]/",
        "https://[g::1]/",
        "https://[::1%25eth0]/",
        "https://[fe80::1%eth0]/",
        "https://[::ffff:1.2.3]/",
        "https://[::ffff:1.2.3.4.5]/",
        "https://[::ffff:01.2.3.4]/",
        "https://[::ffff:256.2.3.4]/",
        "https://[1:2:3:4:5:6:7:1.2.3.4]/",
        "https://[::ffff:0x7f.1]/",
        "https://[::é]/",
    ]);
}

#[test]
fn ports_must_be_between_1_and_65535() {
    for port in ["0", "65536", "-1", "abc", "", "+443", "1000000"] {
        let url = format!("https://hooks.example.com:{port}/x");
        assert_eq!(check(&url), Err(UrlProblem::InvalidPort), "{url}");
    }
    assert_eq!(check("https://[2001:4860::8888]:0/"), Err(UrlProblem::InvalidPort));
    assert_eq!(check("https://hooks.example.com:65535/"), Ok(()));
}

#[test]
fn ipv6_parser_agrees_with_std_on_standard_spellings() {
    for text in [
        "::",
        "::1",
        "1::",
        "1::2",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6::8",
        "fe80::1:2",
        "2001:DB8::a",
        "0:0:0:0:0:0:0:0",
        "::ffff:1.2.3.4",
        "64:ff9b::1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "::1.2.3.4",
        ":::",
        "1:::2",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "12345::",
        "::1.2.3",
        "1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::ffff:1.2.3.04",
    ] {
        assert_eq!(parse_ipv6(text), text.parse::<Ipv6Addr>().ok(), "{text}");
    }
}

#[test]
fn messages_name_the_host_but_never_the_path() {
    let problem = check("https://0x7f.1/hooks?token=abc123").unwrap_err();
    let message = problem.to_string();
    assert!(message.contains("127.0.0.1") && message.contains("loopback"), "{message}");
    assert!(!message.contains("token") && !message.contains("/hooks"), "{message}");
    let unparsable = check("https://1.2.3.4.5/secret-path").unwrap_err().to_string();
    assert!(!unparsable.contains("secret") && !unparsable.contains("1.2.3.4.5"), "{unparsable}");
    for problem in [
        UrlProblem::Empty,
        UrlProblem::NotHttps,
        UrlProblem::UserInfo,
        UrlProblem::NonAsciiHost,
        UrlProblem::MissingHost,
        UrlProblem::InvalidPort,
        UrlProblem::HttpNotAllowed { host: "h.example".into() },
        UrlProblem::ForbiddenCharacter { what: "whitespace" },
    ] {
        assert!(problem.to_string().len() > 20, "{problem:?}");
    }
}
