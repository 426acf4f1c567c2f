//! One rotation with the nftables backend: the doors file's doors, each
//! with its previous, current and next periods' sequences, rendered as the
//! whole table and applied in one `nft -f` transaction (nft and the kernel check all of it before any of it takes effect);
//! then the same text, which nft has just accepted, is kept where the host
//! firewall includes it when it reloads (fw4's include, or Debian's
//! /etc/nftables.conf), so that a reload brings the doors back with it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::apply::{self, Beside};
use super::chained;
use super::chained_sets::{self, Chained};
use super::door::{self, Door};
use super::layout::{self, NAME, TABLE};
use super::monitor::Monitor;
use super::netlink_ask;
use super::nft;
use super::ruleset::{self, Ruleset};
use super::tokens::{self, Span, Split};
use super::used;
use crate::clock;
use crate::error::{Error, Result};
use crate::server::atomic_file;
use crate::server::backend::{Backend, Changes, Rotated, settled};
use crate::server::doors::DoorsFile;
use crate::server::lock::{RotationLock, runtime_dir};
use crate::settings::Settings;

const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// The lock of the table (one per table, as one per knockd.conf).
const LOCK_KEY: &str = "nftables:inet knock_rotator";

/// Where the last applied table is kept for the host firewall to include:
/// `include "/var/run/knock-rotator/*.nft"` (a glob, so that a missing
/// file never breaks the host's ruleset).
pub fn include_path() -> PathBuf {
    runtime_dir().join("knock_rotator.nft")
}

pub struct Job {
    pub doors: DoorsFile,
    pub nft: PathBuf,
    pub include: PathBuf,
}

impl Backend for Job {
    fn once(&self, env: &Result<Settings>, at: Option<u64>) -> Result<Rotated> {
        let _lock = RotationLock::acquire(Path::new(LOCK_KEY), LOCK_TIMEOUT)?;
        settled(at, |now| self.install(env, now))
    }

    fn target(&self) -> String {
        format!("table {TABLE}")
    }

    fn changes(&self) -> Option<Box<dyn Changes>> {
        Monitor::start().map(|m| Box::new(m) as Box<dyn Changes>)
    }
}

impl Job {
    fn install(&self, env: &Result<Settings>, now: u64) -> Result<Rotated> {
        let doors = self.doors.load(env)?;
        let list = door::doors(&doors)?;
        let (rs, refused) = build(&list, now, true);
        let (split, mut copy_adds, mut plan, remake) = self.extras(&list, &rs.layout, now)?;
        let marks = self.marks(&list)?;
        let applied = format!("{remake}{}{}{marks}", rs.text, split.main);
        let t = Instant::now();
        // One batch: nft checks the whole text, and the kernel commits it
        // all or nothing; a failure leaves the previous table as it was.
        // (A separate `nft -c` sends the same batch and aborts it: twice
        // the time for no more safety.) A day of tokens may follow in
        // batches of its own (apply.rs).
        // The copy's `ahead` sequences (the next hour's) are derived while
        // the first nft runs, out of the way of the sets' elements (25 ms
        // for a day of 30 s periods for 100 doors).
        let mut copied = !rs.layout.chained;
        let applied = apply::apply(&self.nft, &applied, &split, &mut |at| {
            if let (Some(c), Beside::Table) = (plan.as_mut(), at) {
                c.beside();
            }
            if !copied {
                copy_adds.push_str(&chained::copy(&list, &rs.layout, now));
                copied = true;
            }
        });
        if let (Err(_), Some(c)) = (&applied, &plan) {
            c.refused(&self.nft);
        }
        let mut rest = applied?;
        let mut chained_count = 0;
        if let (Some(c), None) = (plan, &rest) {
            match c.finish(&self.nft, &list) {
                Ok(n) => chained_count = n,
                Err(e) => {
                    rest = Some(Error::failure(format!(
                        "the table is installed, but not all of the day's sequences of ahead \
                         doors ({e}); the next rotation adds them"
                    )));
                }
            }
        }
        let ms = t.elapsed().as_millis();
        let copy = format!("{}{copy_adds}{marks}", rs.text);
        atomic_file::write_private(&self.include, copy.as_bytes()).map_err(|e| {
            Error::failure(format!(
                "the table is installed, but the copy for the host firewall's include is not: {e}"
            ))
        })?;
        if let Some(e) = rest {
            return Err(e);
        }
        Ok(Rotated {
            lines: vec![format!(
                "table {TABLE}: installed {} for {} and the periods around it \
                 ({} elements{}, applied in {ms} ms)",
                count(list.len(), "door", "doors"),
                period_text(&list, now),
                rs.elements,
                [
                    (split.count, "new token", "new tokens"),
                    (
                        chained_count,
                        "new door period ahead",
                        "new door periods ahead"
                    ),
                ]
                .iter()
                .filter(|t| t.0 > 0)
                .map(|t| format!(", {}", count(t.0, t.1, t.2)))
                .collect::<String>()
            )],
            refused,
            periods: periods(&list),
            warnings: Vec::new(),
            at: now,
        })
    }

    /// What goes beside the table: the tokens and the `ahead` doors'
    /// periods that the live table lacks, and the copy's; and what goes
    /// before it (chained sets to make again).
    fn extras(
        &self,
        list: &[Door],
        l: &layout::Layout,
        now: u64,
    ) -> Result<(Split, String, Option<Chained>, String)> {
        // The tokens: those the live table lacks are applied; the copy for
        // the host firewall holds the next hour's (tokens.rs). The one-use
        // marks go into both.
        let (mut split, mut copy_adds) = (Split::default(), String::new());
        if l.tokens {
            let live = nft::triples(&nft::set(&self.nft, "tman")?);
            split = tokens::split(list, l, now, &live);
            tokens::adds(list, l, now, Span::Copy, &mut copy_adds);
        }
        // The `ahead` doors' periods that the live table lacks (chained.rs),
        // over netlink, derived meanwhile by a child (chained_feed.rs); the
        // copy holds the next hour's (`install`).
        let (mut plan, mut remake) = (None, String::new());
        if l.chained {
            (plan, remake) = chained_sets::prepare(&self.nft, list, l, now, &mut split)?;
        }
        Ok((split, copy_adds, plan, remake))
    }

    /// The one-use marks of the live table, to keep in the new one and
    /// in the copy.
    fn marks(&self, list: &[Door]) -> Result<String> {
        let mut marks = String::new();
        for (set, wanted) in [
            ("used", list.iter().any(|d| d.one_use)),
            ("tused", list.iter().any(|d| d.token_port.is_some())),
        ] {
            let used = if wanted {
                used::used(&self.nft, set)?
            } else {
                Vec::new()
            };
            if !used.is_empty() {
                marks.push_str(&format!(
                    "add element {TABLE} {set} {{ {} }}\n",
                    used.join(", ")
                ));
            }
        }
        Ok(marks)
    }

    /// Delete our table and its include copy; the host firewall's own
    /// tables are not touched.
    pub fn remove(&self) -> Result<String> {
        let _lock = RotationLock::acquire(Path::new(LOCK_KEY), LOCK_TIMEOUT)?;
        // Asked over netlink: `nft list tables` reads every set's elements
        // first (1.7 s with a day of tokens for 100 doors).
        let gone = !netlink_ask::exists(NAME).map_err(|e| {
            Error::failure(format!(
                "table {TABLE}: cannot ask the kernel whether it is installed: {e}"
            ))
        })?;
        if !gone {
            nft::run(
                &self.nft,
                &["-f", "-"],
                format!("delete table {TABLE}\n").as_bytes(),
            )?;
        }
        match std::fs::remove_file(&self.include) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(self.include.display(), e)),
        }
        Ok(if gone {
            format!("table {TABLE}: not installed; nothing to remove")
        } else {
            format!("table {TABLE}: removed; the host firewall is as it was")
        })
    }
}

/// "1 door", "2 doors".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The distinct period lengths of the doors.
pub fn periods(doors: &[Door]) -> Vec<u64> {
    let mut p: Vec<u64> = doors.iter().map(|d| d.settings.period).collect();
    p.sort_unstable();
    p.dedup();
    p
}

fn period_text(doors: &[Door], now: u64) -> String {
    match periods(doors)[..] {
        [p] => format!("the period starting {}", clock::utc(now / p * p)),
        _ => "each door's current period".into(),
    }
}

/// Every door's slots for the periods around `now`, and the table. A
/// period whose sequence cannot be had (v3's port 65536) is left out; for
/// the current one, the run must fail (as knockd's rotation does).
pub fn build(doors: &[Door], now: u64, show: bool) -> (Ruleset, Option<Error>) {
    let (slots, refused) = layout::slots(doors, now);
    let refusal = refused.first().map(|first| {
        Error::failure(match refused.len() {
            1 => first.clone(),
            n => format!("{first} (and {} more doors this period)", n - 1),
        })
    });
    (ruleset::render(doors, &slots, now, show), refusal)
}

/// A dry run's text: the table, and the tokens and the `ahead` doors'
/// sequences (or their number).
pub fn display(doors: &[Door], now: u64, show: bool) -> (Ruleset, Option<Error>) {
    let (mut rs, refused) = build(doors, now, show);
    if rs.layout.chained {
        let plan = chained::plan(doors, &rs.layout, now, None);
        if show {
            plan.text(doors, Some(&mut rs.text));
            rs.text.push_str(&plan.manifest(doors, &|t| t.hi));
        } else {
            let (periods, n) = plan.text(doors, None);
            rs.text.push_str(&format!(
                "# ahead doors: {periods} door periods, {n} elements (--show-sequences shows them)\n"
            ));
        }
    }
    if rs.layout.tokens {
        let mut adds = String::new();
        let n = tokens::adds(doors, &rs.layout, now, Span::Day, &mut adds);
        if show {
            rs.text.push_str(&adds);
        } else {
            rs.text.push_str(&format!(
                "# tokens: {n} elements (--show-sequences shows them)\n"
            ));
        }
    }
    (rs, refused)
}
