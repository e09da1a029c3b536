//! Decides whether a webhook target URL is one the platform may deliver to.
//!
//! A draft's `target_url` is where events are POSTed once a human applies it,
//! so it must not point back into the platform's own network: loopback,
//! private ranges, link-local and cloud metadata endpoints (SSRF). This is
//! SPEC §3 `INVALID_TARGET_URL`.
//!
//! The parser is stricter than the WHATWG URL standard that HTTP clients
//! follow, so that whatever it accepts a client reads the same way: anything
//! ambiguous (a backslash, userinfo, a percent-encoded host, whitespace) is
//! refused. Numeric hosts are decoded the WHATWG way (`0x7f.1` is 127.0.0.1,
//! `2130706433` too) before the range checks, and IPv6 addresses that embed an
//! IPv4 one are judged by the IPv4 address.
//!
//! Must never: resolve a name or touch the network (the check is syntactic,
//! so delivery must still re-check the addresses a name resolves to), or put
//! anything after the host into a message: paths and queries may hold secrets.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlProblem {
    Empty,
    /// Why, naming at most the scheme or the host, never the input.
    Unparsable(String),
    NotHttps,
    HttpNotAllowed {
        host: String,
    },
    UserInfo,
    /// `host` is the canonical spelling (`127.0.0.1` for `0x7f.1`); `why` is
    /// one of the category constants below.
    ForbiddenHost {
        host: String,
        why: &'static str,
    },
    NonAsciiHost,
    /// Whitespace, a control or invisible character, or a backslash.
    ForbiddenCharacter {
        what: &'static str,
    },
    MissingHost,
    InvalidPort,
}

pub const LOOPBACK: &str = "loopback";
pub const PRIVATE: &str = "private";
pub const LINK_LOCAL: &str = "link-local";
pub const METADATA: &str = "metadata";
pub const UNSPECIFIED: &str = "unspecified";
pub const MULTICAST: &str = "multicast";
pub const BROADCAST: &str = "broadcast";
pub const RESERVED: &str = "reserved";
pub const DOCUMENTATION: &str = "documentation";
/// Names that only resolve inside a network: `*.internal`, single labels.
pub const INTERNAL: &str = "internal";

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CONFIG: &str = "allow_http_hosts in .zen/config.yaml";
        match self {
            UrlProblem::Empty => f.write_str("the URL is empty: give the https:// address webhooks are delivered to"),
            UrlProblem::Unparsable(why) => write!(f, "the URL cannot be parsed: {why}"),
            UrlProblem::NotHttps => {
                write!(f, "the URL must start with https:// (plain http:// is allowed only for hosts in {CONFIG})")
            }
            UrlProblem::HttpNotAllowed { host } => {
                write!(f, "plain http:// is not allowed for {host}: use https://, or list the host in {CONFIG}")
            }
            UrlProblem::UserInfo => f.write_str(
                "the URL carries a user name or password before '@': remove it and keep credentials in secret_ref",
            ),
            UrlProblem::ForbiddenHost { host, why } => write!(
                f,
                "the host {host} is {}, which webhooks must never be sent to (SSRF): use a public host",
                describe_category(why)
            ),
            UrlProblem::NonAsciiHost => {
                f.write_str("the host has non-ASCII characters: write it in punycode (xn--...)")
            }
            UrlProblem::ForbiddenCharacter { what } => {
                write!(f, "the URL contains {what}: remove it, or percent-encode it in the path (%20 for a space)")
            }
            UrlProblem::MissingHost => f.write_str("the URL has no host: write it as https://host/path"),
            UrlProblem::InvalidPort => f.write_str("the port must be a number from 1 to 65535"),
        }
    }
}

fn describe_category(why: &str) -> &'static str {
    match why {
        LOOPBACK => "a loopback address",
        PRIVATE => "a private-network address",
        LINK_LOCAL => "a link-local address",
        METADATA => "a cloud metadata endpoint",
        UNSPECIFIED => "an unspecified address",
        MULTICAST => "a multicast address",
        BROADCAST => "the broadcast address",
        DOCUMENTATION => "an address reserved for documentation",
        INTERNAL => "a name that only resolves inside a private network",
        _ => "a reserved address",
    }
}

/// Longer URLs are refused rather than parsed: no webhook needs one.
const MAX_URL_BYTES: usize = 2048;

/// Checks a webhook target URL. `http_allowed_hosts`: hosts (lowercase, exact
/// match) for which plain http is allowed by config; everything else must be
/// https. A forbidden host stays forbidden even when listed there.
pub fn check_target_url(url: &str, http_allowed_hosts: &[String]) -> Result<(), UrlProblem> {
    if url.trim().is_empty() {
        return Err(UrlProblem::Empty);
    }
    if url.len() > MAX_URL_BYTES {
        return Err(unparsable(&format!("it is longer than {MAX_URL_BYTES} bytes")));
    }
    reject_forbidden_characters(url)?;
    let (scheme, rest) = split_scheme(url)?;
    let plain_http = match scheme.as_str() {
        "https" => false,
        "http" => true,
        _ => return Err(UrlProblem::NotHttps),
    };
    // WHATWG would also take `https:host` and `https:///host`; we do not.
    let rest = rest.strip_prefix("//").ok_or_else(|| unparsable("write it as https://host/path"))?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    // A percent-encoded '@' becomes userinfo for parsers that decode first.
    if authority.contains('@') || authority.to_ascii_lowercase().contains("%40") {
        return Err(UrlProblem::UserInfo);
    }
    let (host_text, port) = split_port(authority)?;
    let host = parse_host(host_text)?;
    if let Some(port) = port {
        check_port(port)?;
    }
    if let Some(why) = host.forbidden_category() {
        return Err(UrlProblem::ForbiddenHost { host: host.to_string(), why });
    }
    if plain_http && !http_allowed_hosts.iter().any(|allowed| host.is_spelled(allowed)) {
        return Err(UrlProblem::HttpNotAllowed { host: host.to_string() });
    }
    Ok(())
}

fn unparsable(why: &str) -> UrlProblem {
    UrlProblem::Unparsable(why.to_string())
}

fn reject_forbidden_characters(url: &str) -> Result<(), UrlProblem> {
    for c in url.chars() {
        let what = if c.is_whitespace() {
            "whitespace"
        } else if c.is_control() {
            "a control character"
        } else if c == '\\' {
            "a backslash (browsers read it as '/')"
        } else if is_invisible(c) {
            "an invisible formatting character"
        } else {
            continue;
        };
        return Err(UrlProblem::ForbiddenCharacter { what });
    }
    Ok(())
}

/// Zero-width and bidirectional controls hide what a reviewer reads.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Returns the scheme in lower case and what follows its ':'.
fn split_scheme(url: &str) -> Result<(String, &str), UrlProblem> {
    let no_scheme = || unparsable("it has no scheme: write it as https://host/path");
    let (scheme, rest) = url.split_once(':').ok_or_else(no_scheme)?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !valid {
        return Err(no_scheme());
    }
    Ok((scheme.to_ascii_lowercase(), rest))
}

/// Splits `host[:port]` or `[v6][:port]`.
fn split_port(authority: &str) -> Result<(&str, Option<&str>), UrlProblem> {
    if authority.starts_with('[') {
        let close = authority.find(']').ok_or_else(|| unparsable("the IPv6 address has no closing ']'"))?;
        let (host, after) = authority.split_at(close + 1);
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(unparsable("only a :port may follow the IPv6 address")),
            },
        };
    }
    if authority.contains('[') || authority.contains(']') {
        return Err(unparsable("brackets are only for IPv6 addresses, around the whole host"));
    }
    match authority.split_once(':') {
        Some((_, port)) if port.contains(':') => {
            Err(unparsable("an IPv6 address must be written in brackets: https://[2001:db8::1]/"))
        }
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((authority, None)),
    }
}

fn check_port(port: &str) -> Result<(), UrlProblem> {
    let number = (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())).then(|| port.parse::<u32>().ok());
    match number.flatten() {
        Some(1..=65535) => Ok(()),
        _ => Err(UrlProblem::InvalidPort),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// Lower case, without the trailing dot of a fully qualified name.
    Domain(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(name) => f.write_str(name),
            Host::V4(address) => write!(f, "{address}"),
            Host::V6(address) => write!(f, "[{address}]"),
        }
    }
}

impl Host {
    fn forbidden_category(&self) -> Option<&'static str> {
        match self {
            Host::Domain(name) => name_category(name),
            Host::V4(address) => ipv4_category(*address),
            Host::V6(address) => ipv6_category(*address),
        }
    }

    /// Whether a host from the config names this host; IP addresses compare
    /// as addresses, so `[2001:db8::1]` and `2001:DB8:0::1` are the same.
    fn is_spelled(&self, configured: &str) -> bool {
        let configured = configured.trim();
        let bracketed;
        let configured = if configured.contains(':') && !configured.starts_with('[') {
            bracketed = format!("[{configured}]");
            &bracketed
        } else {
            configured
        };
        parse_host(configured).is_ok_and(|host| host == *self)
    }
}

fn parse_host(text: &str) -> Result<Host, UrlProblem> {
    if text.is_empty() {
        return Err(UrlProblem::MissingHost);
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        if inner.contains('%') {
            return Err(unparsable("IPv6 zone identifiers (%25...) are not allowed"));
        }
        if !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(unparsable("an IPv6 address has only hex digits, ':' and '.'"));
        }
        return parse_ipv6(inner).map(Host::V6).ok_or_else(|| unparsable("the IPv6 address is not valid"));
    }
    if !text.is_ascii() {
        return Err(UrlProblem::NonAsciiHost);
    }
    if text.contains('%') {
        return Err(unparsable("the host is percent-encoded: write it plainly"));
    }
    if !text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err(unparsable("the host may contain only letters, digits, '-', '_' and '.'"));
    }
    let lower = text.to_ascii_lowercase();
    // One trailing dot is the DNS root: `localhost.` is `localhost`.
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    if name.is_empty() {
        return Err(UrlProblem::MissingHost);
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.iter().any(|label| label.is_empty()) {
        return Err(unparsable("the host has an empty label (a leading dot or two dots in a row)"));
    }
    if labels.last().is_some_and(|last| ends_in_number(last)) {
        return parse_ipv4(&labels)
            .map(Host::V4)
            .ok_or_else(|| unparsable("the host looks like an IPv4 address but is not a valid one"));
    }
    if name.len() > 253 || labels.iter().any(|label| label.len() > 63) {
        return Err(unparsable("the host name is longer than DNS allows"));
    }
    if labels.iter().any(|label| label.starts_with('-') || label.ends_with('-')) {
        return Err(unparsable("a host label cannot start or end with '-'"));
    }
    Ok(Host::Domain(name.to_string()))
}

/// WHATWG "ends in a number": such a host is an IPv4 address or invalid,
/// never a domain name.
fn ends_in_number(last_label: &str) -> bool {
    last_label.bytes().all(|b| b.is_ascii_digit()) || ipv4_number(last_label).is_some()
}

/// WHATWG IPv4 number: `0x` hex, leading-zero octal, or decimal. Saturates,
/// since anything past 2^32 fails the range checks anyway.
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = match part.strip_prefix("0x") {
        Some(hex) => (hex, 16),
        None if part.len() > 1 && part.starts_with('0') => (&part[1..], 8),
        None => (part, 10),
    };
    digits.chars().try_fold(0u64, |value, c| {
        let digit = c.to_digit(radix)?;
        Some(value.saturating_mul(u64::from(radix)).saturating_add(u64::from(digit)))
    })
}

/// WHATWG IPv4 parser: one to four parts; every part but the last is a byte,
/// the last fills the remaining bytes (`127.1` is 127.0.0.1).
fn parse_ipv4(labels: &[&str]) -> Option<Ipv4Addr> {
    if labels.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = labels.iter().map(|label| ipv4_number(label)).collect::<Option<_>>()?;
    let (&last, leading) = numbers.split_last()?;
    if leading.iter().any(|&n| n > 255) || last >= 1u64 << (8 * (5 - numbers.len())) {
        return None;
    }
    let address = leading.iter().enumerate().fold(last, |acc, (i, &n)| acc + (n << (8 * (3 - i))));
    u32::try_from(address).ok().map(Ipv4Addr::from)
}

/// WHATWG IPv6 parser: up to eight hex pieces, one `::`, an optional dotted
/// IPv4 tail whose parts are decimal without leading zeros.
fn parse_ipv6(input: &str) -> Option<Ipv6Addr> {
    let bytes = input.as_bytes();
    let mut pieces = [0u16; 8];
    let mut index = 0;
    let mut compress = None;
    let mut at = 0;
    if bytes.first() == Some(&b':') {
        if bytes.get(1) != Some(&b':') {
            return None;
        }
        at = 2;
        index = 1;
        compress = Some(1);
    }
    while at < bytes.len() {
        if index == 8 {
            return None;
        }
        if bytes[at] == b':' {
            if compress.is_some() {
                return None;
            }
            at += 1;
            index += 1;
            compress = Some(index);
            continue;
        }
        let hex_len = bytes[at..].iter().take(4).take_while(|b| b.is_ascii_hexdigit()).count();
        let value = u16::from_str_radix(&input[at..at + hex_len], 16).unwrap_or(0);
        match bytes.get(at + hex_len) {
            Some(b'.') => {
                if hex_len == 0 || index > 6 {
                    return None;
                }
                let v4 = parse_dotted_ipv4(&input[at..])?.octets();
                pieces[index] = u16::from_be_bytes([v4[0], v4[1]]);
                pieces[index + 1] = u16::from_be_bytes([v4[2], v4[3]]);
                index += 2;
                break;
            }
            Some(b':') if at + hex_len + 1 == bytes.len() => return None,
            Some(b':') => at += hex_len + 1,
            Some(_) => return None,
            None => at += hex_len,
        }
        if hex_len == 0 {
            return None;
        }
        pieces[index] = value;
        index += 1;
    }
    match compress {
        Some(start) => {
            let moved = index - start;
            pieces.copy_within(start..index, 8 - moved);
            pieces[start..8 - moved].fill(0);
        }
        None if index != 8 => return None,
        None => {}
    }
    Some(Ipv6Addr::from(pieces))
}

/// Exactly four decimal parts of 0-255, no leading zeros.
fn parse_dotted_ipv4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        let decimal = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !decimal || (part.len() > 1 && part.starts_with('0')) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

fn name_category(name: &str) -> Option<&'static str> {
    let under = |zone: &str| name == zone || name.strip_suffix(zone).is_some_and(|rest| rest.ends_with('.'));
    if under("localhost") || matches!(name, "localhost.localdomain" | "ip6-localhost" | "ip6-loopback") {
        Some(LOOPBACK)
    } else if matches!(
        name,
        "metadata" | "metadata.google.internal" | "metadata.goog" | "instance-data" | "instance-data.ec2.internal"
    ) {
        Some(METADATA)
    } else if !name.contains('.')
        || ["internal", "local", "localdomain", "home.arpa", "lan", "home", "corp", "intranet"].into_iter().any(under)
    {
        // A single label resolves through the resolver's search domains, inside.
        Some(INTERNAL)
    } else {
        None
    }
}

fn ipv4_category(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    let category = match (a, b, c) {
        // AWS, GCP and Azure share 169.254.169.254; ECS task metadata; Alibaba Cloud.
        _ if matches!(address.octets(), [169, 254, 169, 254] | [169, 254, 170, 2] | [100, 100, 100, 200]) => METADATA,
        (0, _, _) => UNSPECIFIED,
        (127, _, _) => LOOPBACK,
        (10, _, _) | (192, 168, _) => PRIVATE,
        (172, 16..=31, _) | (100, 64..=127, _) => PRIVATE,
        (169, 254, _) => LINK_LOCAL,
        (224..=239, _, _) => MULTICAST,
        (255, 255, 255) if address == Ipv4Addr::BROADCAST => BROADCAST,
        (240..=255, _, _) | (192, 0, 0) | (198, 18..=19, _) => RESERVED,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => DOCUMENTATION,
        _ => return None,
    };
    Some(category)
}

fn ipv6_category(address: Ipv6Addr) -> Option<&'static str> {
    let s = address.segments();
    if address.is_unspecified() {
        return Some(UNSPECIFIED);
    }
    if address.is_loopback() {
        return Some(LOOPBACK);
    }
    if let Some(v4) = embedded_ipv4(&s) {
        return ipv4_category(v4);
    }
    let category = match s[0] {
        _ if s == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254] => METADATA,
        0xfc00..=0xfdff | 0xfec0..=0xfeff => PRIVATE,
        0xfe80..=0xfebf => LINK_LOCAL,
        0xff00..=0xffff => MULTICAST,
        0x2001 if s[1] == 0xdb8 => DOCUMENTATION,
        0x3fff if s[1] < 0x1000 => DOCUMENTATION,
        // 2001::/23 holds protocol assignments, Teredo among them.
        0x2001 if s[1] < 0x200 => RESERVED,
        // Only 2000::/3 is global unicast.
        0x2000..=0x3fff => return None,
        _ => RESERVED,
    };
    Some(category)
}

/// The IPv4 address inside IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`) addresses.
fn embedded_ipv4(s: &[u16; 8]) -> Option<Ipv4Addr> {
    let from = |high: u16, low: u16| Some(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)));
    match s {
        [0, 0, 0, 0, 0, 0xffff, high, low]
        | [0, 0, 0, 0, 0, 0, high, low]
        | [0, 0, 0, 0, 0xffff, 0, high, low]
        | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => from(*high, *low),
        [0x2002, high, low, ..] => from(*high, *low),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
