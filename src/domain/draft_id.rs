//! Draft ids and where their files live.
//!
//! Ids are UUIDv7: their first 48 bits (12 hex digits) are the creation time
//! in milliseconds. A draft's file lives in folders named by those digits,
//! `drafts/<4>/<2>/<2>/<2>/<id>.yaml` (`drafts/01a2/30/b4/8d/01a230b4-8ddb-….yaml`),
//! so the path follows from the id alone and:
//! - no folder ever holds more than 256 entries but the last, which holds the
//!   drafts of one 256 ms window: a create rewrites a handful of small trees
//!   however many drafts arrived that day or that minute;
//! - the folders *are* the id's leading digits, so a lookup by any prefix
//!   walks straight down to the folders that can hold it, and everything it
//!   reads below them matches the prefix.
//!
//! zen-draft 0.1 wrote `drafts/YYYY/MM/DD/<id>.yaml` (the day-folder layout),
//! where a burst of drafts piles into one folder that every create rewrites.
//! Those files are read where they are and never moved (moving them would
//! rewrite nothing in history, but it would touch other drafts' files, and a
//! lifecycle step touches only its own); new drafts use the new layout.

use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;
use uuid::Uuid;

pub const DRAFTS_DIR: &str = "drafts";

/// Shortest prefix `list` prints; long enough to read as an id.
pub const MIN_SHORT_ID: usize = 8;

/// Shortest prefix a user may type.
pub const MIN_PREFIX: usize = 4;

/// A prefix spanning more days than this is looked up by walking every day.
const MAX_PREFIX_DAYS: i64 = 62;

/// How many of the id's time digits name each folder level below `drafts/`.
pub const FOLDER_DIGITS: [usize; 4] = [4, 2, 2, 2];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DraftId(Uuid);

impl DraftId {
    /// A new id for a draft created at `now`.
    pub fn generate(now: DateTime<Utc>) -> DraftId {
        let ts =
            uuid::Timestamp::from_unix(uuid::NoContext, now.timestamp().max(0) as u64, now.timestamp_subsec_nanos());
        DraftId(Uuid::new_v7(ts))
    }

    /// Parses a full id as written in a draft file: a lowercase, hyphenated UUIDv7.
    pub fn parse(text: &str) -> Option<DraftId> {
        let uuid = Uuid::try_parse(text).ok()?;
        let canonical = uuid.hyphenated().to_string() == text;
        (canonical && uuid.get_version_num() == 7).then_some(DraftId(uuid))
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        let ms = self.0.as_bytes()[..6].iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
        DateTime::from_timestamp_millis(ms as i64).unwrap_or_default()
    }

    /// Where a new draft's file goes on the drafts branch:
    /// `drafts/<4>/<2>/<2>/<2>/<id>.yaml`, folders named by the id's time digits.
    pub fn path(&self) -> String {
        let hex = self.hex();
        let mut path = String::from(DRAFTS_DIR);
        let mut at = 0;
        for width in FOLDER_DIGITS {
            path.push('/');
            path.push_str(&hex[at..at + width]);
            at += width;
        }
        format!("{path}/{self}.yaml")
    }

    /// Where zen-draft 0.1 put the file: `drafts/YYYY/MM/DD/<id>.yaml`, the
    /// UTC day of the id. Read, never written.
    pub fn day_folder_path(&self) -> String {
        format!("{DRAFTS_DIR}/{}/{self}.yaml", day_dir(self.created_at().date_naive()))
    }

    /// Whether `path` is where this draft's file may live, in either layout.
    pub fn is_at(&self, path: &str) -> bool {
        path == self.path() || path == self.day_folder_path()
    }

    /// The id as 32 lowercase hex digits, without dashes.
    pub fn hex(&self) -> String {
        self.0.simple().to_string()
    }

    /// The id shortened to `len` hex digits, written with its dashes.
    pub fn short(&self, len: usize) -> String {
        let full = self.to_string();
        let mut hex_seen = 0;
        let mut end = full.len();
        for (i, c) in full.char_indices() {
            if hex_seen == len {
                end = i;
                break;
            }
            if c != '-' {
                hex_seen += 1;
            }
        }
        full[..end].to_string()
    }
}

impl fmt::Display for DraftId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

pub fn day_dir(date: NaiveDate) -> String {
    date.format("%Y/%m/%d").to_string()
}

/// What a user typed to name a draft: any unique prefix of its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPrefix {
    hex: String,
}

impl IdPrefix {
    pub fn parse(text: &str) -> Result<IdPrefix, String> {
        let hex: String = text.trim().chars().filter(|&c| c != '-').collect::<String>().to_ascii_lowercase();
        if hex.len() < MIN_PREFIX || hex.len() > 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "the id given is not a draft id: give at least {MIN_PREFIX} hex digits of one (see `draft list`)"
            ));
        }
        Ok(IdPrefix { hex })
    }

    pub fn matches(&self, id: &DraftId) -> bool {
        id.hex().starts_with(&self.hex)
    }

    /// The prefix's hex digits, without dashes.
    pub fn digits(&self) -> &str {
        &self.hex
    }

    /// The UTC days on which a draft with this prefix could have been created,
    /// or `None` when the prefix is too short to narrow the search usefully.
    pub fn days(&self) -> Option<Vec<NaiveDate>> {
        let known = self.hex.len().min(12);
        let value = u64::from_str_radix(&self.hex[..known], 16).ok()?;
        let free_bits = 4 * (12 - known) as u32;
        let first_ms = value << free_bits;
        let last_ms = first_ms + ((1u64 << free_bits) - 1);
        let first = DateTime::from_timestamp_millis(first_ms as i64)?.date_naive();
        let last = DateTime::from_timestamp_millis(last_ms as i64)?.date_naive();
        if (last - first).num_days() > MAX_PREFIX_DAYS {
            return None;
        }
        Some(first.iter_days().take_while(|d| *d <= last).collect())
    }
}

/// The shortest prefix length (at least [`MIN_SHORT_ID`]) that tells each id apart from
/// the others; `ids` must be sorted.
pub fn unique_prefix_lengths(sorted: &[DraftId]) -> Vec<usize> {
    let hexes: Vec<String> = sorted.iter().map(DraftId::hex).collect();
    let common = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    (0..hexes.len())
        .map(|i| {
            let before = if i > 0 { common(&hexes[i - 1], &hexes[i]) } else { 0 };
            let after = hexes.get(i + 1).map_or(0, |next| common(&hexes[i], next));
            (before.max(after) + 1).clamp(MIN_SHORT_ID, 32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn path_follows_from_the_id() {
        let id = DraftId::generate(at("2026-11-23T21:00:00Z"));
        let hex = id.hex();
        let folders = format!("drafts/{}/{}/{}/{}/", &hex[..4], &hex[4..6], &hex[6..8], &hex[8..10]);
        assert!(id.path().starts_with(&folders), "{}", id.path());
        assert!(id.path().ends_with(&format!("/{id}.yaml")));
        assert!(id.day_folder_path().starts_with("drafts/2026/11/23/"), "{}", id.day_folder_path());
        assert!(id.is_at(&id.path()) && id.is_at(&id.day_folder_path()));
        assert!(!id.is_at(&format!("drafts/{id}.yaml")));
        assert_eq!(id.created_at(), at("2026-11-23T21:00:00Z"));
        assert_eq!(DraftId::parse(&id.to_string()), Some(id));
    }

    #[test]
    fn only_canonical_v7_ids_parse() {
        assert!(DraftId::parse("0193a7c2-5d1e-7b3a-9c4f-2a6b8e1d0f35").is_some());
        assert!(DraftId::parse("0193A7C2-5D1E-7B3A-9C4F-2A6B8E1D0F35").is_none());
        assert!(DraftId::parse("0193a7c25d1e7b3a9c4f2a6b8e1d0f35").is_none());
        assert!(DraftId::parse("0193a7c2-5d1e-4b3a-9c4f-2a6b8e1d0f35").is_none());
        assert!(DraftId::parse("../../etc/passwd").is_none());
    }

    #[test]
    fn a_prefix_narrows_to_the_days_it_can_be() {
        let id = DraftId::generate(at("2026-11-23T21:00:00Z"));
        let prefix = IdPrefix::parse(&id.short(8)).unwrap();
        assert!(prefix.matches(&id));
        let days = prefix.days().unwrap();
        assert!(days.contains(&id.created_at().date_naive()) && days.len() <= 2, "{days:?}");
        // Even the shortest prefix a user may type spans about fifty days, not all history.
        let days = IdPrefix::parse(&id.short(MIN_PREFIX)).unwrap().days().unwrap();
        assert!(days.len() <= 51 && days.contains(&id.created_at().date_naive()), "{}", days.len());
    }

    #[test]
    fn prefixes_are_hex_with_optional_dashes() {
        assert!(
            IdPrefix::parse("0193a7c2-5d")
                .unwrap()
                .matches(&DraftId::parse("0193a7c2-5d1e-7b3a-9c4f-2a6b8e1d0f35").unwrap())
        );
        assert!(IdPrefix::parse("019").is_err());
        assert!(IdPrefix::parse("zzzzzzzz").is_err());
    }

    #[test]
    fn short_ids_tell_neighbours_apart() {
        let a = DraftId::parse("0193a7c2-5d1e-7b3a-9c4f-2a6b8e1d0f35").unwrap();
        let b = DraftId::parse("0193a7c2-5d1f-7b3a-9c4f-2a6b8e1d0f35").unwrap();
        let c = DraftId::parse("0194a7c2-5d1f-7b3a-9c4f-2a6b8e1d0f35").unwrap();
        assert_eq!(unique_prefix_lengths(&[a, b, c]), vec![12, 12, 8]);
        assert_eq!(a.short(12), "0193a7c2-5d1e");
    }
}
