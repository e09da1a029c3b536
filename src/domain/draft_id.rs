//! Draft ids and where their files live.
//!
//! Ids are UUIDv7: their first 48 bits are the creation time in milliseconds.
//! A draft's file lives at `drafts/YYYY/MM/DD/<id>.yaml`, the UTC day of its
//! id, so the path follows from the id alone and even a short prefix narrows a
//! lookup to a few day folders: no command walks every draft to find one, and
//! a create rewrites only one day's folder, not a tree of the whole history.

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

    /// The day folder under `drafts/`: `YYYY/MM/DD`.
    pub fn day_dir(&self) -> String {
        day_dir(self.created_at().date_naive())
    }

    /// The file's path in the drafts branch.
    pub fn path(&self) -> String {
        format!("{DRAFTS_DIR}/{}/{self}.yaml", self.day_dir())
    }

    fn hex(&self) -> String {
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
                "{text:?} is not a draft id: give at least {MIN_PREFIX} hex digits of one (see `draft list`)"
            ));
        }
        Ok(IdPrefix { hex })
    }

    pub fn matches(&self, id: &DraftId) -> bool {
        id.hex().starts_with(&self.hex)
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
        assert!(id.path().starts_with("drafts/2026/11/23/"), "{}", id.path());
        assert!(id.path().ends_with(&format!("{id}.yaml")));
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
