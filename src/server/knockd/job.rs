//! One rotation of one knockd.conf, as `rotate`, `--watch` and the boundary
//! run each do it: lock, read, check, write if anything changes, reload.

use std::path::PathBuf;
use std::time::Duration;

use super::reload::{self, Choice};
use super::rotation;
use crate::clock;
use crate::error::{Error, Result};
use crate::server::atomic_file;
use crate::server::backend::{Backend, Rotated, settled};
use crate::server::doors::DoorsFile;
use crate::server::lock::RotationLock;
use crate::settings::Settings;

/// How long a rotation waits for another one to finish.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// What to rotate, and how to make knockd re-read it.
pub struct Job {
    pub config: PathBuf,
    /// `--pidfile`, if given.
    pub pidfile: Option<PathBuf>,
    pub reload: Choice,
    /// Per-door settings; read at every rotation.
    pub doors: DoorsFile,
}

impl Backend for Job {
    fn once(&self, env: &Result<Settings>, at: Option<u64>) -> Result<Rotated> {
        Job::once(self, env, at)
    }

    fn target(&self) -> String {
        self.config.display().to_string()
    }
}

impl Job {
    /// Rotate every door for its period holding `at`, or the clock's when
    /// `None`; `env` is the environment's settings, for doors the doors file
    /// does not list.
    ///
    /// The clock is read under the lock, so that no rotation writes the
    /// period of a read made before another rotation's write; and read again
    /// after writing, so that a step of the clock while this one worked is
    /// followed before the lock is let go.
    pub fn once(&self, env: &Result<Settings>, at: Option<u64>) -> Result<Rotated> {
        let config = &self.config;
        let real = std::fs::canonicalize(config).map_err(|e| Error::io(config.display(), e))?;
        let _lock = RotationLock::acquire(&real, LOCK_TIMEOUT)?;
        atomic_file::remove_stale_temps(&real);
        settled(at, |now| self.rotate_locked(env, now))
    }

    /// One pass of [`Job::once`], the lock held, for the periods holding `now`.
    fn rotate_locked(&self, env: &Result<Settings>, now: u64) -> Result<Rotated> {
        let config = &self.config;
        let loaded = rotation::load(config)?;
        let doors = self.doors.load(env)?;
        let plan = rotation::plan(&doors, &loaded, now, 0)?;
        let period = match plan.period_start() {
            Some(start) => format!("the period starting {}", clock::utc(start)),
            None => "each door's current period".into(),
        };
        let names: Vec<&[u8]> = plan.doors.iter().map(|d| &d.name[..]).collect();
        let mut warnings = doors.unmatched(&names);
        warnings.extend(readable_by_others(config, &loaded.meta));
        let done = |line: Option<String>| Rotated {
            lines: line.into_iter().collect(),
            refused: plan.refusal(),
            periods: plan.periods(),
            warnings: warnings.clone(),
            at: now,
        };
        let n = plan.doors.len();
        if plan.new_text == loaded.text && plan.refusal().is_some() {
            return Ok(done(None));
        }
        if plan.new_text == loaded.text {
            let state = if n == 1 {
                format!("the rotator door already holds the sequence for {period}")
            } else {
                format!("all {n} rotator doors already hold the sequences for {period}")
            };
            return Ok(done(Some(format!(
                "{}: {state}; nothing to do",
                config.display()
            ))));
        }
        atomic_file::replace(&loaded.path, &plan.new_text, &loaded.meta)?;
        let what = format!(
            "{}: rotated {} of {n} rotator door{} for {period}",
            config.display(),
            plan.changed(),
            if n == 1 { "" } else { "s" }
        );
        let Some(target) = reload::target(&self.reload, self.pidfile.as_deref(), &loaded) else {
            return Ok(done(Some(format!("{what}; not reloaded (--no-reload)"))));
        };
        match reload::reload(&target) {
            Ok(reloaded) => Ok(done(Some(format!("{what}; {}", reloaded.0)))),
            Err(e) => Err(Error::failure(format!(
                "{what}, but the reload failed: {e}"
            ))),
        }
    }
}

/// knockd.conf holds the current sequences: a mode that lets other users
/// read it gives them every door. Said, never changed behind the user's back.
fn readable_by_others(config: &std::path::Path, meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o7777;
    let who = match (mode & 0o040 != 0, mode & 0o004 != 0) {
        (false, false) => return None,
        (true, false) => "its group",
        (_, true) => "every local user",
    };
    Some(format!(
        "{}: readable by {who} (mode {mode:04o}), who can read the current sequences and \
         knock; run chmod 600 on it (knockd runs as root)",
        config.display()
    ))
}
