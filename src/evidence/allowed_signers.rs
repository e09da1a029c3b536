//! Who may sign evidence: a parser and matcher for git/OpenSSH
//! `allowed_signers` files (`man ssh-keygen`, section ALLOWED SIGNERS).
//!
//! It exists so that `draft evidence verify` answers exactly the question
//! `ssh-keygen -Y verify -f .zen/allowed_signers -I <principal> -n <ns>`
//! answers, without shelling out: the evidence log is only worth something if
//! anyone can re-check it with stock OpenSSH. So the rules here follow
//! OpenSSH's (`sshsig.c`, `match.c`), and wherever we cannot be sure to agree
//! we refuse rather than allow.
//!
//! It must never allow what `ssh-keygen` would deny. Concretely:
//! - a line we do not fully understand (unknown option, bad timestamp, quote
//!   escapes, certificate key) fails the whole file with its line number,
//!   instead of being skipped silently as `ssh-keygen` does;
//! - `cert-authority` lines are parsed but never match: we do not verify
//!   certificates, and a CA key must not pass for a plain signing key;
//! - timestamps without `Z` are "local time" to `ssh-keygen`, i.e. depend on
//!   the verifier's time zone. We do not read the time zone (verification must
//!   not depend on the machine), so such a bound is taken at the most
//!   restrictive instant any time zone could give it (UTC-12 … UTC+14).
//!   Write `Z` timestamps for exact bounds.
//!
//! Nothing here touches the file system or the clock: callers pass the text
//! and the instant to judge.

use ssh_key::{Algorithm, PublicKey};

/// The namespaces only people sign in.
pub const PERSON_NAMESPACES: [&str; 3] = ["zen-draft-apply", "zen-draft-review", "zen-draft-admin"];

/// A parse error; `line` is 1-based, as an editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allowed_signers line {line}: {reason}")]
pub struct AllowedSignersError {
    pub line: usize,
    pub reason: String,
}

/// The parsed contents of an `allowed_signers` file.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    /// Comma-separated OpenSSH pattern-list of principals.
    principals: String,
    /// Pattern-list of namespaces; `None` means every namespace.
    namespaces: Option<String>,
    /// Unix seconds; already widened to the most restrictive reading.
    valid_after: Option<i64>,
    valid_before: Option<i64>,
    cert_authority: bool,
    key: PublicKey,
}

impl AllowedSigners {
    /// Parses the whole file; the first bad line fails it (fail closed).
    pub fn parse(text: &str) -> Result<Self, AllowedSignersError> {
        let mut entries = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim_start_matches([' ', '\t']).trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = parse_entry(line).map_err(|reason| AllowedSignersError { line: index + 1, reason })?;
            entries.push(entry);
        }
        Ok(Self { entries })
    }

    /// Is `key` allowed to sign for `principal` in `namespace` at unix time `at`?
    pub fn allows(&self, principal: &str, namespace: &str, key: &PublicKey, at: i64) -> bool {
        self.entries.iter().any(|entry| {
            !entry.cert_authority
                && entry.key.key_data() == key.key_data()
                && pattern_list_matches(principal, &entry.principals)
                && entry.namespaces.as_deref().is_none_or(|list| pattern_list_matches(namespace, list))
                && entry.valid_after.is_none_or(|after| at >= after)
                && entry.valid_before.is_none_or(|before| at <= before)
        })
    }

    /// Whether `principal` is a person: listed for a namespace only people
    /// sign in (`zen-draft-apply`, `zen-draft-review`, `zen-draft-admin`).
    /// Who is a person is a fact of this file, never of the environment a
    /// command ran in.
    pub fn is_person(&self, principal: &str) -> bool {
        self.entries.iter().any(|entry| {
            !entry.cert_authority
                && pattern_list_matches(principal, &entry.principals)
                && PERSON_NAMESPACES
                    .iter()
                    .any(|ns| entry.namespaces.as_deref().is_none_or(|list| pattern_list_matches(ns, list)))
        })
    }

    /// Principals for which this key is listed (any namespace) — for error
    /// messages. Patterns are returned as written; negations are left out.
    pub fn principals_for(&self, key: &PublicKey) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let listed =
            self.entries.iter().filter(|entry| !entry.cert_authority && entry.key.key_data() == key.key_data());
        for entry in listed {
            for principal in entry.principals.split(',') {
                if !principal.is_empty() && !principal.starts_with('!') && !found.iter().any(|p| p == principal) {
                    found.push(principal.to_owned());
                }
            }
        }
        found
    }
}

/// `principals [options] keytype base64 [comment]`, already trimmed.
fn parse_entry(line: &str) -> Result<Entry, String> {
    let (principals, rest) = principals_field(line)?;
    let rest = rest.trim_start_matches([' ', '\t']);
    if rest.is_empty() {
        return Err("missing public key".to_owned());
    }
    let first = first_field(rest)?;
    let (options, key_text) = if is_key_type(first) {
        (Options::default(), rest)
    } else {
        let after = rest[first.len()..].trim_start_matches([' ', '\t']);
        (parse_options(first)?, after)
    };
    if key_text.is_empty() {
        return Err("missing public key".to_owned());
    }
    let key_type = key_text.split([' ', '\t']).next().unwrap_or_default();
    if key_type.ends_with("-cert-v01@openssh.com") {
        return Err("certificate keys are not supported; list the plain public key".to_owned());
    }
    let key = PublicKey::from_openssh(key_text).map_err(|e| format!("invalid public key of type `{key_type}`: {e}"))?;
    Ok(Entry {
        principals,
        namespaces: options.namespaces,
        valid_after: options.valid_after,
        valid_before: options.valid_before,
        cert_authority: options.cert_authority,
        key,
    })
}

/// The principals field: one whitespace-free word, or a double-quoted string
/// (OpenSSH's `strdelimw` accepts both).
fn principals_field(line: &str) -> Result<(String, &str), String> {
    if let Some(quoted) = line.strip_prefix('"') {
        let end = quoted.find('"').ok_or("unterminated quote in principals")?;
        let rest = &quoted[end + 1..];
        if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            return Err("principals: text directly after closing quote".to_owned());
        }
        return Ok((quoted[..end].to_owned(), rest));
    }
    let end = line.find([' ', '\t']).unwrap_or(line.len());
    Ok((line[..end].to_owned(), &line[end..]))
}

/// The next field, where whitespace inside double quotes does not end it.
fn first_field(text: &str) -> Result<&str, String> {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            // OpenSSH un-escapes `\"`; rather than risk reading it differently, refuse.
            '\\' if quoted => {
                return Err("backslash escapes in options are not supported".to_owned());
            }
            ' ' | '\t' if !quoted => return Ok(&text[..i]),
            _ => {}
        }
    }
    if quoted {
        return Err("unterminated quote in options".to_owned());
    }
    Ok(text)
}

/// A key type never contains `=`, `"` or `,`, and an option is never a key
/// type, so this tells the optional options field from the key.
fn is_key_type(field: &str) -> bool {
    !field.contains(['=', '"', ','])
        && !field.eq_ignore_ascii_case("cert-authority")
        && (Algorithm::new(field).is_ok() || field.ends_with("-cert-v01@openssh.com"))
}

#[derive(Default)]
struct Options {
    cert_authority: bool,
    namespaces: Option<String>,
    valid_after: Option<i64>,
    valid_before: Option<i64>,
}

/// Comma-separated options; keywords are case-insensitive and valued options
/// must be double-quoted, as in `sshsig.c`.
fn parse_options(field: &str) -> Result<Options, String> {
    let mut options = Options::default();
    let mut rest = field;
    loop {
        let name_end = rest.find(['=', ',']).unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        if name == "cert-authority" && !rest.starts_with('=') {
            options.cert_authority = true;
        } else {
            let slot_taken = match name.as_str() {
                "namespaces" => {
                    let value = take_quoted(&name, &mut rest)?;
                    options.namespaces.replace(value.to_owned()).is_some()
                }
                "valid-after" | "valid-before" => {
                    let value = take_quoted(&name, &mut rest)?;
                    let (bound, slot) = if name == "valid-after" {
                        (TimeBound::After, &mut options.valid_after)
                    } else {
                        (TimeBound::Before, &mut options.valid_before)
                    };
                    let time = parse_time(value, bound).ok_or_else(|| format!("invalid {name} time `{value}`"))?;
                    slot.replace(time).is_some()
                }
                _ => return Err(format!("unknown option or key type `{name}`")),
            };
            if slot_taken {
                return Err(format!("option `{name}` given more than once"));
            }
        }
        match rest.strip_prefix(',') {
            None if rest.is_empty() => return Ok(options),
            None => return Err(format!("unexpected `{rest}` in options")),
            Some("") => return Err("options end with a comma".to_owned()),
            Some(next) => rest = next,
        }
    }
}

/// Consumes `="value"` from the start of `rest` and returns the value.
fn take_quoted<'a>(name: &str, rest: &mut &'a str) -> Result<&'a str, String> {
    let inner = rest.strip_prefix("=\"").ok_or_else(|| format!("option `{name}` needs a double-quoted value"))?;
    let end = inner.find('"').ok_or_else(|| format!("option `{name}`: unterminated quote"))?;
    *rest = &inner[end + 1..];
    Ok(&inner[..end])
}

#[derive(Clone, Copy)]
enum TimeBound {
    After,
    Before,
}

/// `YYYYMMDD[Z]` or `YYYYMMDDHHMM[SS][Z]` to unix seconds. Without `Z` the
/// local-time reading is unknowable here, so take the instant that allows
/// least: local offsets run from UTC-12 to UTC+14.
fn parse_time(text: &str, bound: TimeBound) -> Option<i64> {
    let (digits, utc) = match text.strip_suffix(['Z', 'z']) {
        Some(digits) => (digits, true),
        None => (text, false),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (field(0..4)?, field(4..6)?, field(6..8)?);
    let hour = field(8..10).unwrap_or(0);
    let minute = field(10..12).unwrap_or(0);
    let second = field(12..14).unwrap_or(0);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let naive = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(match (utc, bound) {
        (true, _) => naive,
        (false, TimeBound::After) => naive + 12 * 3600,
        (false, TimeBound::Before) => naive - 14 * 3600,
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// OpenSSH `match_pattern_list`: any positive pattern matches and no `!`
/// pattern does. Case-sensitive, as `ssh-keygen` matches principals.
fn pattern_list_matches(subject: &str, list: &str) -> bool {
    let mut positive = false;
    for pattern in list.split(',') {
        match pattern.strip_prefix('!') {
            Some(negated) if glob_matches(subject.as_bytes(), negated.as_bytes()) => return false,
            Some(_) => {}
            None => positive |= glob_matches(subject.as_bytes(), pattern.as_bytes()),
        }
    }
    positive
}

/// `*` matches any run of bytes, `?` exactly one; everything else is literal.
fn glob_matches(subject: &[u8], pattern: &[u8]) -> bool {
    let (mut s, mut p) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, subject index).
    let mut star: Option<(usize, usize)> = None;
    while s < subject.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, s));
                p += 1;
            }
            Some(&c) if c == b'?' || c == subject[s] => {
                p += 1;
                s += 1;
            }
            _ => match star {
                Some((after_star, matched)) => {
                    p = after_star;
                    s = matched + 1;
                    star = Some((after_star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixed test keys (public halves only; no private key is involved).
    const ALICE_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICpLyniRRcB3f6Z7sHa9JWAF5Vo6LptN8JyJvqtGgm+Y";
    const BOB_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";
    const NOW: i64 = 1_795_000_000; // 2026-11-18

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).unwrap()
    }

    fn parse(text: &str) -> AllowedSigners {
        AllowedSigners::parse(text).unwrap()
    }

    fn parse_err(text: &str) -> AllowedSignersError {
        AllowedSigners::parse(text).unwrap_err()
    }

    #[test]
    fn comments_blank_lines_and_key_comments_are_ignored() {
        let signers =
            parse(&format!("# team keys\n\n   \n  # indented comment\nalice {ALICE_KEY} alice@laptop with spaces\r\n"));
        assert!(signers.allows("alice", "zen-draft-evidence", &key(ALICE_KEY), NOW));
        assert!(!signers.allows("alice", "zen-draft-evidence", &key(BOB_KEY), NOW));
    }

    #[test]
    fn keys_compare_by_key_data_not_comment() {
        let signers = parse(&format!("alice {ALICE_KEY} one-comment"));
        let with_other_comment = key(&format!("{ALICE_KEY} another-comment"));
        assert!(signers.allows("alice", "ns", &with_other_comment, NOW));
    }

    #[test]
    fn quoted_namespaces_with_commas_limit_the_key() {
        let signers = parse(&format!(
            "alice namespaces=\"zen-draft-evidence,zen-draft-apply\" {ALICE_KEY}\n\
             ops-bot NAMESPACES=\"zen-draft-evidence\" {BOB_KEY}\n"
        ));
        assert!(signers.allows("alice", "zen-draft-apply", &key(ALICE_KEY), NOW));
        assert!(signers.allows("alice", "zen-draft-evidence", &key(ALICE_KEY), NOW));
        assert!(signers.allows("ops-bot", "zen-draft-evidence", &key(BOB_KEY), NOW));
        assert!(!signers.allows("ops-bot", "zen-draft-apply", &key(BOB_KEY), NOW));
        assert!(!signers.allows("alice", "git", &key(ALICE_KEY), NOW));
    }

    #[test]
    fn namespace_patterns_and_negation() {
        let signers = parse(&format!("alice namespaces=\"zen-*,!zen-draft-apply\" {ALICE_KEY}"));
        assert!(signers.allows("alice", "zen-draft-evidence", &key(ALICE_KEY), NOW));
        assert!(!signers.allows("alice", "zen-draft-apply", &key(ALICE_KEY), NOW));
    }

    #[test]
    fn wildcard_principals() {
        let signers = parse(&format!("*@example.com,ops-?,\"unused\" {ALICE_KEY}"));
        let alice = key(ALICE_KEY);
        assert!(signers.allows("alice@example.com", "ns", &alice, NOW));
        assert!(signers.allows("ops-1", "ns", &alice, NOW));
        assert!(!signers.allows("ops-12", "ns", &alice, NOW));
        assert!(!signers.allows("alice@example.org", "ns", &alice, NOW));
        assert!(!signers.allows("ALICE@EXAMPLE.COM", "ns", &alice, NOW));
    }

    #[test]
    fn negated_principal_wins_over_a_positive_match() {
        let signers = parse(&format!("a*,!alice {ALICE_KEY}"));
        assert!(signers.allows("anna", "ns", &key(ALICE_KEY), NOW));
        assert!(!signers.allows("alice", "ns", &key(ALICE_KEY), NOW));
    }

    #[test]
    fn quoted_principals_may_contain_spaces() {
        let signers = parse(&format!("\"alice smith\" {ALICE_KEY}"));
        assert!(signers.allows("alice smith", "ns", &key(ALICE_KEY), NOW));
    }

    #[test]
    fn validity_window_bounds_are_inclusive_and_utc_with_z() {
        // 2026-01-01T00:00:00Z = 1767225600
        let signers = parse(&format!("alice valid-after=\"20260101Z\",valid-before=\"202601011200Z\" {ALICE_KEY}"));
        let alice = key(ALICE_KEY);
        assert!(!signers.allows("alice", "ns", &alice, 1_767_225_599));
        assert!(signers.allows("alice", "ns", &alice, 1_767_225_600));
        assert!(signers.allows("alice", "ns", &alice, 1_767_225_600 + 12 * 3600));
        assert!(!signers.allows("alice", "ns", &alice, 1_767_225_600 + 12 * 3600 + 1));
    }

    #[test]
    fn local_time_bounds_are_read_at_their_most_restrictive() {
        let signers = parse(&format!("alice valid-before=\"20260101000000\" {ALICE_KEY}"));
        let alice = key(ALICE_KEY);
        assert!(signers.allows("alice", "ns", &alice, 1_767_225_600 - 14 * 3600));
        assert!(!signers.allows("alice", "ns", &alice, 1_767_225_600 - 14 * 3600 + 1));
        let signers = parse(&format!("alice valid-after=\"20260101\" {ALICE_KEY}"));
        assert!(!signers.allows("alice", "ns", &alice, 1_767_225_600));
        assert!(signers.allows("alice", "ns", &alice, 1_767_225_600 + 12 * 3600));
    }

    #[test]
    fn cert_authority_lines_never_match_a_plain_key() {
        let signers = parse(&format!("*  cert-authority {ALICE_KEY}"));
        assert!(!signers.allows("alice", "ns", &key(ALICE_KEY), NOW));
        assert!(signers.principals_for(&key(ALICE_KEY)).is_empty());
    }

    #[test]
    fn principals_for_lists_every_listing_of_a_key() {
        let signers =
            parse(&format!("alice,!mallory {ALICE_KEY}\nbob {BOB_KEY}\nadmins,alice namespaces=\"x\" {ALICE_KEY}\n"));
        assert_eq!(signers.principals_for(&key(ALICE_KEY)), ["alice", "admins"]);
        assert_eq!(signers.principals_for(&key(BOB_KEY)), ["bob"]);
    }

    #[test]
    fn malformed_lines_are_reported_with_their_line_number() {
        let cases = [
            (format!("# c\n\nalice {ALICE_KEY}\nbob\n"), 4, "missing public key"),
            ("alice ssh-ed25519 AAAAnotbase64!\n".to_owned(), 1, "invalid public key"),
            (format!("alice\tfoo {ALICE_KEY}"), 1, "unknown option"),
            (format!("alice namespaces=ns {ALICE_KEY}"), 1, "double-quoted"),
            (format!("alice namespaces=\"a {ALICE_KEY}"), 1, "unterminated quote"),
            (format!("alice namespaces=\"a\", {ALICE_KEY}"), 1, "end with a comma"),
            (format!("x {BOB_KEY}\nalice namespaces=\"a\",namespaces=\"b\" {ALICE_KEY}"), 2, "more than once"),
            (format!("alice valid-after=\"20261301\" {ALICE_KEY}"), 1, "invalid valid-after"),
            (format!("alice valid-before=\"20260230Z\" {ALICE_KEY}"), 1, "invalid valid-before"),
            (format!("alice valid-before=\"2026010112\" {ALICE_KEY}"), 1, "invalid valid-before"),
            (format!("alice namespaces=\"a\\\"b\" {ALICE_KEY}"), 1, "backslash"),
            ("alice ssh-ed25519-cert-v01@openssh.com AAAA".to_owned(), 1, "certificate"),
        ];
        for (text, line, reason) in cases {
            let err = parse_err(&text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.reason.contains(reason), "{text:?}: {err}");
            assert!(err.to_string().starts_with(&format!("allowed_signers line {line}: ")));
        }
    }

    #[test]
    fn glob_follows_openssh_semantics() {
        assert!(glob_matches(b"", b""));
        assert!(glob_matches(b"", b"*"));
        assert!(!glob_matches(b"", b"?"));
        assert!(glob_matches(b"abcabc", b"*abc"));
        assert!(glob_matches(b"a-b-c", b"a*c"));
        assert!(!glob_matches(b"a-b-cd", b"a*c"));
        assert!(glob_matches(b"zen-draft-apply", b"zen-*-apply"));
        assert!(pattern_list_matches("", "a,,b"));
        assert!(!pattern_list_matches("a", "!a,*"));
    }

    #[test]
    fn civil_dates_convert_like_timegm() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(parse_time("20260101Z", TimeBound::After), Some(1_767_225_600));
        assert_eq!(parse_time("20240229235959Z", TimeBound::After), Some(1_709_251_199));
        assert_eq!(parse_time("20230229Z", TimeBound::After), None);
    }
}
