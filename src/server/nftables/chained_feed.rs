//! The `ahead` doors' elements derived in a child process while this one
//! sends them. A day of 30 s periods for 100 doors is 2.9 million legacy
//! knocks to derive (0.3-0.4 s) and 865 000 elements for the kernel to
//! add (most of the rest of a second): side by side on two cores rather
//! than one after the other (README, figures). The child starts before
//! the table's nft runs.
//!
//! The child writes frames to a pipe: a header (a set's index in SETS,
//! with DELETE for keys to delete; the length) and one transaction's
//! elements, netlink::encode'd, each door's in `Elems::batches`' order:
//! the periods past first, so that the sets never hold more than their
//! size; at the end, a header of index END whose length is the number of
//! door periods added. A child is one fork of a
//! single-threaded process that leaves with _exit: nothing of ours runs
//! twice (no destructor of a lock, no buffered output).

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;

use rustix::process::{Pid, Signal, WaitOptions, kill_process, waitpid};

use super::chained::Plan;
use super::chained_elems::SETS;
use super::door::Door;
use super::layout::NAME;
use super::netlink::{self, Adder};
use super::nft;
use crate::error::ended;

const END: u32 = u32::MAX;
const DELETE: u32 = 0x100;
/// What a pipe may hold ahead of the reader (the kernel's default limit
/// for an unprivileged one; 64 KiB, a door's elements, otherwise).
const PIPE_SIZE: usize = 1 << 20;

/// The child and the pipe it writes to.
pub struct Feed {
    pid: Option<Pid>,
    pipe: File,
}

/// Start deriving the elements of `plan` in a child.
pub fn start(plan: &Plan, doors: &[Door]) -> Result<Feed, String> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| format!("a pipe for deriving them: {e}"))?;
    // Not having it only slows the child.
    let _ = rustix::pipe::fcntl_setpipe_size(&w, PIPE_SIZE);
    // SAFETY: single-threaded process; the child only derives, writes to
    // the pipe and leaves with _exit.
    match unsafe { libc::fork() } {
        -1 => Err(format!(
            "a process to derive them: {}",
            crate::error::describe_io(&std::io::Error::last_os_error())
        )),
        0 => {
            drop(r);
            let ok = derive(plan, doors, &mut File::from(w)).is_ok();
            // SAFETY: _exit takes no pointers and never returns.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        pid => Ok(Feed {
            pid: Pid::from_raw(pid),
            pipe: File::from(r),
        }),
    }
}

/// Delete and add the plan's elements over netlink as `feed` derives
/// them; the door periods added.
pub fn add(feed: Feed) -> Result<usize, String> {
    let mut adder = Adder::new(NAME).map_err(|e| format!("netlink: {e}"))?;
    feed.send(&mut adder)
}

/// The manifest that says the plan's periods are in.
pub fn manifest(nft: &Path, plan: &Plan, doors: &[Door]) -> Result<(), String> {
    let manifest = plan.manifest(doors, &|t| t.hi);
    nft::run(nft, &["-f", "-"], manifest.as_bytes()).map_err(|e| e.message().to_string())?;
    Ok(())
}

/// In the child: each door's keys to delete, then its elements to add,
/// keys once each, as frames.
fn derive(plan: &Plan, doors: &[Door], out: &mut File) -> std::io::Result<()> {
    let mut frame = Vec::new();
    let mut periods = 0;
    for gone in [true, false] {
        let mut sent = Ok(());
        periods = plan.each(doors, gone, false, &mut |e| {
            sent = e.batches(gone, &mut |set, nests| {
                frame.clear();
                let set = set as u32 | if gone { DELETE } else { 0 };
                frame.extend(set.to_ne_bytes());
                frame.extend((nests.len() as u32).to_ne_bytes());
                frame.extend(nests);
                out.write_all(&frame)
            });
            sent.is_ok()
        });
        sent?;
    }
    out.write_all(&[END.to_ne_bytes(), (periods as u32).to_ne_bytes()].concat())
}

impl Feed {
    /// Add what the child derives, as it comes; the door periods added.
    pub fn send(mut self, adder: &mut Adder) -> Result<usize, String> {
        let mut nests = Vec::new();
        let mut periods = None;
        loop {
            let mut head = [0u8; 8];
            if self.pipe.read_exact(&mut head).is_err() {
                break;
            }
            let [s0, s1, s2, s3, l0, l1, l2, l3] = head;
            let (set, len) = (
                u32::from_ne_bytes([s0, s1, s2, s3]),
                u32::from_ne_bytes([l0, l1, l2, l3]),
            );
            if set == END {
                periods = Some(len as usize);
                break;
            }
            let Some(&(name, map, _)) = SETS.get((set & !DELETE) as usize) else {
                break;
            };
            nests.resize(len as usize, 0);
            if self.pipe.read_exact(&mut nests).is_err() {
                break;
            }
            match set & DELETE {
                0 => adder.add(name, &nests, map),
                _ => adder.remove(name, &nests),
            }
            .map_err(|e| netlink::failed(name, e))?;
        }
        if periods.is_none()
            && let Some(pid) = self.pid
        {
            // It may be stuck writing what we no longer read.
            let _ = kill_process(pid, Signal::KILL);
        }
        let status = self.reap();
        match (periods, status) {
            (Some(n), Some(s)) if s.success() => Ok(n),
            (_, s) => Err(format!(
                "the process deriving them ended early ({})",
                s.map_or("lost".into(), ended)
            )),
        }
    }

    /// Wait for the child to end; how it did (None: not ours to reap).
    fn reap(&mut self) -> Option<ExitStatus> {
        let pid = self.pid.take()?;
        loop {
            match waitpid(Some(pid), WaitOptions::empty()) {
                Err(rustix::io::Errno::INTR) => continue,
                r => {
                    return r
                        .ok()
                        .flatten()
                        .map(|(_, s)| ExitStatus::from_raw(s.as_raw()));
                }
            }
        }
    }
}

impl Drop for Feed {
    /// A feed not sent (the table was refused): its child is not needed.
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = kill_process(pid, Signal::KILL);
            self.reap();
        }
    }
}
