//! Repository upkeep after zen-draft writes, the way git porcelain does it.
//!
//! libgit2 writes every object loose and never runs `git gc --auto`, so a
//! repository written only by zen-draft would keep every object loose for
//! ever (hundreds of thousands of files after a burst of drafts). After each
//! write we start `git maintenance run --auto`, exactly what `git commit` and
//! `git fetch` start: it packs once git's own thresholds (`gc.auto`,
//! `gc.autoPackLimit`) are passed and returns at once otherwise.
//!
//! Must never: block the command, fail it, or print anything. It is off when
//! `zen.autoMaintenance` or git's `maintenance.auto` is false.

use super::Store;
use std::process::{Command, Stdio};

impl Store {
    /// Starts `git maintenance run --auto` for this repository in the
    /// background, unless configured off.
    pub fn start_upkeep(&self) {
        let config = self.repo().config().ok();
        let enabled = |key: &str| config.as_ref().and_then(|c| c.get_bool(key).ok()).unwrap_or(true);
        if !enabled("zen.autoMaintenance") || !enabled("maintenance.auto") {
            return;
        }
        let mut command = Command::new("git");
        command
            .arg("--git-dir")
            .arg(self.git_dir())
            .args(["maintenance", "run", "--auto", "--quiet"])
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        if let Ok(mut child) = command.spawn() {
            // Reaped here in a long-running server; a command that exits
            // first leaves it to finish on its own.
            std::thread::spawn(move || child.wait());
        }
    }
}
