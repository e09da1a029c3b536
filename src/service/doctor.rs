//! `draft doctor`: what a clone lacks or owes, each with the command that
//! fixes it. It reads; the only thing it may reach for over the network is
//! the remote's ref list (`git ls-remote`), and only when asked to.

use super::Service;
use super::sync::SharedRefs;
use crate::error::Result;
use crate::evidence::NOTES_REF;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub remote: String,
    /// True when nothing below needs doing.
    pub ok: bool,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// A stable name: `remote`, `notes_refspec`, `unpushed`, `owed`,
    /// `behind`, `stale`, `verified_head`.
    pub check: &'static str,
    pub ok: bool,
    pub message: String,
    /// The command that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    fn ok(check: &'static str, message: impl Into<String>) -> Finding {
        Finding { check, ok: true, message: message.into(), fix: None }
    }

    fn owed(check: &'static str, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { check, ok: false, message: message.into(), fix: Some(fix.into()) }
    }
}

impl Service {
    /// Looks the clone over; with `online`, also asks the remote where its
    /// refs are, to tell whether the remote-tracking refs are stale.
    pub fn doctor(&self, online: bool) -> Result<DoctorReport> {
        let layout = self.layout()?;
        let refs = SharedRefs::of(&layout);
        let remote = self.store.remote_name().to_string();
        let mut findings = Vec::new();

        let configured = self.store.repo().find_remote(&remote).is_ok();
        findings.push(if configured {
            Finding::ok("remote", format!("the remote {remote} is configured"))
        } else {
            Finding::owed(
                "remote",
                format!("there is no remote named {remote}"),
                format!("git remote add {remote} <url of the central repository>  (or git config zen.remote <name>)"),
            )
        });

        let tracking_notes = self.store.tracking_ref(NOTES_REF);
        if configured {
            let fetches_notes = self
                .store
                .repo()
                .config()
                .ok()
                .and_then(|config| {
                    let entries = config.multivar(&format!("remote.{remote}.fetch"), None).ok()?;
                    let mut found = false;
                    entries.for_each(|e| found |= e.value().is_ok_and(|v| v.contains(NOTES_REF))).ok()?;
                    Some(found)
                })
                .unwrap_or(false);
            findings.push(if fetches_notes {
                Finding::ok("notes_refspec", format!("`git fetch {remote}` also fetches the evidence notes"))
            } else {
                Finding::owed(
                    "notes_refspec",
                    format!("`git fetch {remote}` does not fetch the evidence notes (`draft sync` does)"),
                    format!("git config --add remote.{remote}.fetch +{NOTES_REF}:{tracking_notes}"),
                )
            });
        }

        let local_notes = self.store.ref_target(NOTES_REF)?;
        let remote_notes = self.store.ref_target(&tracking_notes)?;
        let unpushed = self.local_operations(local_notes, remote_notes)?;
        findings.push(if unpushed.is_empty() {
            Finding::ok("unpushed", format!("every operation made here is on {remote} (as last fetched)"))
        } else {
            Finding::owed(
                "unpushed",
                format!("{} operations made here are not on {remote} yet", unpushed.len()),
                "draft sync",
            )
        });
        let owed = self.owed_operations()?;
        findings.push(if owed.is_empty() {
            Finding::ok("owed", "no operation waits for another signer")
        } else {
            let mut signers: Vec<&str> = owed.iter().map(|op| op.record().signer()).collect();
            signers.sort_unstable();
            signers.dedup();
            Finding::owed(
                "owed",
                format!(
                    "{} operations signed by other keys wait in this clone for their signers: {}",
                    owed.len(),
                    signers.join(", ")
                ),
                "draft sync, run by each of them with their own signing key",
            )
        });

        let mut behind = Vec::new();
        for r in refs.all() {
            let (Some(theirs), mine) = (self.store.ref_target(&self.store.tracking_ref(r))?, self.store.ref_target(r)?)
            else {
                continue;
            };
            let is_behind = match mine {
                None => true,
                Some(mine) => mine != theirs && self.store.repo().graph_descendant_of(theirs, mine)?,
            };
            if is_behind {
                behind.push(r);
            }
        }
        findings.push(if behind.is_empty() {
            Finding::ok("behind", format!("nothing fetched from {remote} waits to be taken in"))
        } else {
            Finding::owed(
                "behind",
                format!("{} lag behind what was fetched from {remote}", behind.join(", ")),
                "draft sync --no-push",
            )
        });

        if online && configured {
            findings.push(match self.store.remote_tips(&refs.all()) {
                Ok(tips) => {
                    let mut stale = Vec::new();
                    for r in refs.all() {
                        let there = tips.get(r).copied();
                        if there != self.store.ref_target(&self.store.tracking_ref(r))? {
                            stale.push(r);
                        }
                    }
                    if stale.is_empty() {
                        Finding::ok("stale", format!("the remote-tracking refs match {remote}"))
                    } else {
                        Finding::owed(
                            "stale",
                            format!("{remote} has moved since the last fetch: {}", stale.join(", ")),
                            "draft sync",
                        )
                    }
                }
                Err(e) => Finding::owed("stale", e.message, format!("git remote get-url {remote}")),
            });
        }

        if self.store.repo().is_shallow() {
            findings.push(Finding::owed(
                "shallow",
                "this clone is shallow: evidence verify and audit need the branches' history",
                "git fetch --unshallow",
            ));
        }
        findings.push(match self.store.config_string(super::audit::VERIFIED_HEAD_KEY) {
            Some(head) => Finding::ok("verified_head", format!("this clone pins the log head it verified ({head})")),
            None => Finding::owed(
                "verified_head",
                "this clone has not verified the log yet, so nothing pins it against a rewrite",
                "draft sync --no-push && draft evidence verify",
            ),
        });

        let ok = findings.iter().all(|f| f.ok);
        Ok(DoctorReport { remote, ok, findings })
    }
}
