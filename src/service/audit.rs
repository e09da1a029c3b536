//! `draft evidence`: list, verify and prove the evidence log.

use super::Service;
use crate::domain::draft_id::{DraftId, IdPrefix};
use crate::error::{Check, Code, Error, Result};
use crate::evidence::NOTES_REF;
use crate::evidence::merkle::{self, Hash};
use crate::evidence::proof::InclusionProof;
use crate::evidence::verify::LogReport;

/// Where a clone remembers the last tree head it verified (`SIZE:HEX`).
pub const VERIFIED_HEAD_KEY: &str = "zen.verifiedHead";

/// Whether the RFC 6962 consistency proof from the tree head `size:old_root`
/// to the log holds.
fn extends(report: &LogReport, size: u64, old_root: &Hash) -> bool {
    (size == 0 && *old_root == merkle::empty_root())
        || size <= report.size
            && merkle::consistency_proof(&report.leaves, size as usize)
                .is_some_and(|proof| merkle::verify_consistency(size, report.size, old_root, &report.root, &proof))
}

/// `SIZE:HEX`, as `evidence verify` prints a tree head.
pub fn parse_head(text: &str) -> Option<(u64, Hash)> {
    let (size, hex) = text.trim().split_once(':')?;
    Some((size.parse().ok()?, merkle::from_hex(hex)?))
}

/// Where a clone pins the trust root it first verified (`sha256:…`).
pub const TRUST_ROOT_KEY: &str = "zen.trustRoot";

/// A log that verified.
#[derive(Debug, Clone)]
pub struct VerifiedLog {
    pub size: u64,
    pub root: Hash,
    /// The digest of its trust root, if it has one.
    pub trust_root: Option<String>,
}

impl Service {
    /// Loads and checks the whole log; problems are reported, not raised.
    pub fn evidence_log(&self) -> Result<LogReport> {
        self.at_one_moment(|| self.evidence_log_after(0))
    }

    /// Runs `read` on main, the drafts branch and the notes as they stood
    /// at one moment (see [`crate::store::Store::tips_at_one_moment`]): the
    /// log is judged against the branches, and a writer landing meanwhile
    /// must count whole or not at all, never as a draft without its record
    /// or a record without its draft. A gate's or a sync's replay already
    /// reads one state of the refs.
    pub(crate) fn at_one_moment<T>(&self, read: impl FnOnce() -> Result<T>) -> Result<T> {
        if self.store.is_replaying() {
            return read();
        }
        let layout = self.layout()?;
        let remote = self.store.remote_name();
        let mut names = vec![NOTES_REF.to_string()];
        for branch in [&layout.config.main_branch, &layout.config.drafts_branch] {
            names.push(format!("refs/heads/{branch}"));
            names.push(format!("refs/remotes/{remote}/{branch}"));
        }
        // A local branch that does not exist is pinned absent, so its
        // remote-tracking branch (pinned too) stands in for it as always,
        // even if a writer makes the local branch meanwhile.
        let pinned = self.store.tips_at_one_moment(&names)?;
        let (result, _) = self.store.replaying(pinned, || {
            super::crash_point("read", "pinned");
            read()
        });
        result
    }

    fn evidence_log_after(&self, trusted_below: u64) -> Result<LogReport> {
        let layout = self.layout()?;
        let drafts = self.load_all(&layout, self.drafts_tip(&layout)?.commit, super::read::Checking::Skip)?;
        super::crash_point("verify", "after-drafts");
        let report = self.load_evidence(&layout, &drafts, trusted_below);
        super::reaper::discard(drafts);
        report
    }

    /// Checks every record; with `root`, also that the first `size` records
    /// still hash to it (the log was only appended to). With `since` (a tree
    /// head verified before), the RFC 6962 consistency proof from it to the
    /// log now must hold, and then only the signatures of the records after
    /// it are checked: the proof shows the earlier records are exactly the
    /// ones verified then. Every other rule still covers the whole log.
    pub fn evidence_verify(&self, root: Option<(u64, Hash)>, since: Option<(u64, Hash)>) -> Result<VerifiedLog> {
        self.evidence_verify_trusting(root, since, None, false)
    }

    /// [`Service::evidence_verify`], holding the log to a trust root: the
    /// one given, else the one this clone pinned (`zen.trustRoot`), which
    /// the first verify of a log with a root pins. A log whose root differs
    /// is `TRUST_ROOT_CHANGED`; one without a root is `TRUST_ROOT_MISSING`
    /// when `strict`, else verified with `trust_root: None` for the caller
    /// to warn about.
    pub fn evidence_verify_trusting(
        &self,
        root: Option<(u64, Hash)>,
        since: Option<(u64, Hash)>,
        trust_root: Option<&str>,
        strict: bool,
    ) -> Result<VerifiedLog> {
        self.verify_holding(root, since, trust_root, strict, true)
    }

    /// [`Service::evidence_verify_trusting`]; with `pin` false it changes
    /// nothing, not even this clone's pins (`draft audit` is read-only).
    pub(crate) fn verify_holding(
        &self,
        root: Option<(u64, Hash)>,
        since: Option<(u64, Hash)>,
        trust_root: Option<&str>,
        strict: bool,
        pin: bool,
    ) -> Result<VerifiedLog> {
        self.refuse_shallow("evidence verify")?;
        self.at_one_moment(|| {
            let layout = self.layout()?;
            let timeline = self.timeline(&layout)?;
            let found = timeline.root().map(|r| r.digest());
            let pinned = trust_root.map(str::to_string).or_else(|| self.store.config_string(TRUST_ROOT_KEY));
            match (&found, &pinned) {
                (Some(found), Some(pinned)) if found != pinned => {
                    return Err(Error::new(
                        Code::TrustRootChanged,
                        "the log's trust root is not the one this clone holds it to",
                    )
                    .with_hint("if the central repository was re-rooted on purpose, verify it with --trust-root <new digest> after checking with its admins; otherwise do not trust this log"));
                }
                (None, Some(_)) => {
                    return Err(Error::new(
                        Code::TrustRootChanged,
                        "the log has no trust root, but this clone holds it to one",
                    )
                    .with_hint("the log lost its root: do not trust it"));
                }
                (None, None) if strict => {
                    return Err(Error::new(Code::TrustRootMissing, "this log has no trust root (--strict)")
                        .with_hint("an admin runs `draft trust init`"));
                }
                _ => {}
            }
            let mut verified = self.verify_log_now(root, since, pin)?;
            if let Some(found) = &found
                && pin
                && trust_root.is_none()
                && pinned.is_none()
            {
                let _ = self.store.set_config_string(TRUST_ROOT_KEY, found);
            }
            verified.trust_root = found;
            Ok(verified)
        })
    }

    fn verify_log_now(&self, root: Option<(u64, Hash)>, since: Option<(u64, Hash)>, pin: bool) -> Result<VerifiedLog> {
        let report = self.evidence_log_after(since.map_or(0, |(size, _)| size))?;
        let mut problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        if let Some((size, old_root)) = since
            && !extends(&report, size, &old_root)
        {
            problems.push(format!(
                "the log of {} records is not an extension of the {size}-record tree head {}: \
                     records at or before it were changed or removed",
                report.size,
                merkle::to_hex(&old_root)
            ));
        }
        // The head this clone verified last: a log that does not extend it
        // had a record replaced or removed, even if nobody pinned anything.
        let pinned = self.store.config_string(VERIFIED_HEAD_KEY).and_then(|text| parse_head(&text));
        if let Some((size, old_root)) = pinned
            && !extends(&report, size, &old_root)
        {
            problems.push(format!(
                "the log of {} records is not an extension of the {size}-record tree head this clone verified before \
                 ({VERIFIED_HEAD_KEY} {size}:{}): records at or before it were changed or removed",
                report.size,
                merkle::to_hex(&old_root)
            ));
        }
        if let Some((size, expected)) = root {
            if size > report.size {
                problems
                    .push(format!("--root names {size} records but the log has {}: records were removed", report.size));
            } else if merkle::root(&report.leaves[..size as usize]) != expected {
                problems.push(format!(
                    "the first {size} records no longer hash to {}: the log was rewritten",
                    merkle::to_hex(&expected)
                ));
            }
        }
        if problems.is_empty() {
            if pin && pinned.is_none_or(|(size, _)| size <= report.size) {
                let head = format!("{}:{}", report.size, merkle::to_hex(&report.root));
                // A clone whose config cannot be written still verified.
                let _ = self.store.set_config_string(VERIFIED_HEAD_KEY, &head);
            }
            let verified = VerifiedLog { size: report.size, root: report.root, trust_root: None };
            super::reaper::discard(report);
            return Ok(verified);
        }
        let checks = problems.iter().map(|p| Check::fail(Code::EvidenceInvalid, p.clone())).collect();
        Err(Error {
            code: Code::EvidenceInvalid,
            message: format!("the evidence log does not verify: {}", problems[0]),
            hint: Some(
                "do not trust drafts whose evidence fails; see which records are wrong with `draft evidence list`"
                    .into(),
            ),
            checks,
        })
    }

    /// A shallow clone (CI's default fetch depth) lacks the history the
    /// log's records are attached to: say so, rather than report every
    /// record as broken.
    pub(crate) fn refuse_shallow(&self, what: &str) -> Result<()> {
        if !self.store.repo().is_shallow() {
            return Ok(());
        }
        Err(Error::new(Code::ShallowClone, format!("this clone is shallow, and {what} needs the branches' history"))
            .with_hint("git fetch --unshallow (in CI: fetch-depth: 0 on GitHub, GIT_DEPTH: 0 on GitLab)"))
    }

    /// RFC 6962 inclusion proofs for every record of one draft.
    pub fn evidence_prove(&self, id: &str) -> Result<Vec<InclusionProof>> {
        let report = self.evidence_log()?;
        let prefix = IdPrefix::parse(id).map_err(|e| Error::new(Code::NotFound, e))?;
        let mut ids: Vec<&str> = report.records.iter().map(|(_, s)| s.record.draft_id()).collect();
        ids.sort();
        ids.dedup();
        let matching: Vec<&str> =
            ids.into_iter().filter(|i| DraftId::parse(i).is_some_and(|d| prefix.matches(&d))).collect();
        let draft_id = match matching.as_slice() {
            [one] => one.to_string(),
            [] => {
                return Err(Error::new(
                    Code::NotFound,
                    "no evidence records for a draft whose id starts with the given prefix",
                )
                .with_hint("run `draft evidence list` to see the records"));
            }
            many => {
                return Err(Error::new(
                    Code::AmbiguousId,
                    format!("{} drafts' ids start with the given prefix", many.len()),
                )
                .with_hint("type more of the id"));
            }
        };
        Ok(report
            .records
            .iter()
            .enumerate()
            .filter(|(_, (_, signed))| signed.record.draft_id() == draft_id)
            .map(|(index, (object, signed))| {
                let path = merkle::inclusion_proof(&report.leaves, index).expect("index is in range");
                InclusionProof {
                    draft_id: draft_id.clone(),
                    event: signed.record.event().to_string(),
                    object: object.clone(),
                    record: signed.canonical().to_string(),
                    leaf_index: index as u64,
                    tree_size: report.size,
                    leaf_hash: merkle::to_hex(&report.leaves[index]),
                    root: merkle::to_hex(&report.root),
                    proof: path.iter().map(merkle::to_hex).collect(),
                }
            })
            .collect())
    }
}
