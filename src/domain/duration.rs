//! Draft lifetimes written the way people say them: `90s`, `30m`, `12h`, `7d`, `2w`.

use std::fmt;

/// Longest lifetime a draft may ask for; a proposal nobody reviewed in a year
/// is stale.
const MAX_SECONDS: i64 = 366 * 24 * 3600;

/// What to tell someone whose duration did not parse.
pub const TTL_HINT: &str = "write a lifetime as a number and a unit: 90s, 30m, 12h, 7d or 2w, at most 366d";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl {
    seconds: i64,
}

impl Ttl {
    /// A draft lifetime: 1s to 366d.
    pub fn parse(text: &str) -> Result<Ttl, String> {
        Ttl::parse_up_to(text, MAX_SECONDS, "366d")
    }

    /// A retention period: 1s to ten years.
    pub fn parse_retention(text: &str) -> Result<Ttl, String> {
        Ttl::parse_up_to(text, 10 * 366 * 86_400, "3660d")
    }

    fn parse_up_to(text: &str, max_seconds: i64, max_text: &str) -> Result<Ttl, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        // The text is not echoed: whatever was typed here may be a pasted secret.
        let usage = || "invalid duration: use a number and a unit, like 90s, 30m, 12h, 7d or 2w".to_string();
        let amount: i64 = digits.parse().map_err(|_| usage())?;
        let scale = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => return Err(usage()),
        };
        let seconds = amount.checked_mul(scale).filter(|s| (1..=max_seconds).contains(s));
        match seconds {
            Some(seconds) => Ok(Ttl { seconds }),
            None => Err(format!("invalid duration: it must be between 1s and {max_text}")),
        }
    }

    pub fn as_chrono(self) -> chrono::Duration {
        chrono::Duration::seconds(self.seconds)
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = [(86_400, "d"), (3600, "h"), (60, "m")];
        for (scale, unit) in units {
            if self.seconds % scale == 0 {
                return write!(f, "{}{unit}", self.seconds / scale);
            }
        }
        write!(f, "{}s", self.seconds)
    }
}

/// How far `when` is from `now`, the way people say it: `in 6d`, `3h ago`,
/// `just now`. Shared by the CLI and the dashboard so both say the same.
pub fn relative(when: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (when - now).num_seconds();
    let abs = secs.unsigned_abs();
    let amount = match abs {
        0..60 => format!("{abs}s"),
        60..3600 => format!("{}m", abs / 60),
        3600..86_400 => format!("{}h", abs / 3600),
        _ => format!("{}d", abs / 86_400),
    };
    match secs {
        -4..=4 => "just now".to_string(),
        5.. => format!("in {amount}"),
        _ => format!("{amount} ago"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(Ttl::parse("90s").unwrap().as_chrono().num_seconds(), 90);
        assert_eq!(Ttl::parse("30m").unwrap().as_chrono().num_seconds(), 1800);
        assert_eq!(Ttl::parse("12h").unwrap().as_chrono().num_seconds(), 43_200);
        assert_eq!(Ttl::parse("7d").unwrap().as_chrono().num_seconds(), 604_800);
        assert_eq!(Ttl::parse("2w").unwrap().as_chrono().num_seconds(), 1_209_600);
    }

    #[test]
    fn refuses_nonsense() {
        for bad in ["", "7", "d", "-1d", "0s", "1y", "7 d", "1.5h", "9999999999999999999d", "367d"] {
            assert!(Ttl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_in_the_largest_whole_unit() {
        assert_eq!(Ttl::parse("168h").unwrap().to_string(), "7d");
        assert_eq!(Ttl::parse("90s").unwrap().to_string(), "90s");
        assert_eq!(Ttl::parse("2w").unwrap().to_string(), "14d");
        assert_eq!(Ttl::parse("3d").unwrap().to_string(), "3d");
    }
}
