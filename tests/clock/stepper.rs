//! The clock test's race driver, run inside the qemu guest only (it refuses
//! anywhere else): steps the real-time clock forward, waits for watch mode's
//! rotation to land (inotify on the config's directory), waits DELAY
//! microseconds more, steps the clock back to just before a boundary, and
//! checks that the file holds the clock's period within a second and that
//! the boundary that follows is rotated within a second of it. Built by
//! tests/clock/qemu.sh with one `rustc` call: std and musl's C functions
//! only, no crates.
//!
//! stepper CONFIG TRIES BOUNDARY FORWARD S_NOW S_FORWARD S_BACK DELAY_US...
//! S_NOW is the sequence of BOUNDARY's period, S_FORWARD that of FORWARD's,
//! S_BACK that of the period before BOUNDARY; every try starts and ends in
//! BOUNDARY's period.

use std::ffi::CString;
use std::time::{Duration, Instant};

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

unsafe extern "C" {
    fn clock_settime(clock: i32, ts: *const Timespec) -> i32;
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    fn inotify_init1(flags: i32) -> i32;
    fn inotify_add_watch(fd: i32, path: *const i8, mask: u32) -> i32;
    fn poll(fds: *mut PollFd, n: u64, timeout_ms: i32) -> i32;
    fn read(fd: i32, buf: *mut u8, n: usize) -> isize;
    fn getppid() -> i32;
}

const CLOCK_REALTIME: i32 = 0;
const IN_MOVED_TO: u32 = 0x80;
const IN_CLOSE_WRITE: u32 = 0x8;
const IN_NONBLOCK: i32 = 0o4000;
const POLLIN: i16 = 1;
const MARKER: &str = "knock_rotator_clock_test";

fn die(msg: &str) -> ! {
    println!("FAIL race: {msg}");
    std::process::exit(1)
}

/// Only in the clock test's guest: its kernel command line carries the
/// marker, and its init (pid 1, tests/clock/guest.sh) started us.
fn refuse_unless_guest() {
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    // SAFETY: no arguments.
    if !cmdline.split_whitespace().any(|w| w == MARKER) || unsafe { getppid() } != 1 {
        eprintln!("stepper: not the clock-test guest; refusing to set any clock");
        std::process::exit(2);
    }
}

fn set_clock_ns(ns: i128) {
    let ts = Timespec {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_nsec: (ns % 1_000_000_000) as i64,
    };
    // SAFETY: a valid timespec.
    if unsafe { clock_settime(CLOCK_REALTIME, &ts) } != 0 {
        die(&format!(
            "clock_settime: {}",
            std::io::Error::last_os_error()
        ));
    }
}

fn clock_ns() -> i128 {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer.
    unsafe { clock_gettime(CLOCK_REALTIME, &mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

/// The value of the door's `sequence = ` line, as the file holds it now.
fn held(config: &str) -> String {
    std::fs::read_to_string(config)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.trim().strip_prefix("sequence = ").map(str::to_owned))
        .unwrap_or_default()
}

struct Watcher {
    fd: i32,
    config: String,
}

impl Watcher {
    fn new(config: &str) -> Watcher {
        let dir = std::path::Path::new(config).parent().unwrap();
        let dir = CString::new(dir.to_str().unwrap()).unwrap();
        // SAFETY: plain syscalls with a valid C string.
        let fd = unsafe { inotify_init1(IN_NONBLOCK) };
        if fd < 0
            || unsafe { inotify_add_watch(fd, dir.as_ptr(), IN_MOVED_TO | IN_CLOSE_WRITE) } < 0
        {
            die(&format!("inotify: {}", std::io::Error::last_os_error()));
        }
        Watcher {
            fd,
            config: config.to_owned(),
        }
    }

    /// Wait until the file holds `want`, at most until `deadline`; the
    /// instant it was seen.
    fn wait_for(&self, want: &str, deadline: Instant) -> Option<Instant> {
        loop {
            let mut buf = [0u8; 4096];
            // Drain what came, then look at the file (a rename is whole).
            // SAFETY: a valid buffer.
            while unsafe { read(self.fd, buf.as_mut_ptr(), buf.len()) } > 0 {}
            if held(&self.config) == want {
                return Some(Instant::now());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let mut p = PollFd {
                fd: self.fd,
                events: POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { poll(&mut p, 1, left.as_millis().clamp(1, 1000) as i32) };
        }
    }
}

fn main() {
    refuse_unless_guest();
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 8 {
        die("usage: stepper CONFIG TRIES BOUNDARY FORWARD S_NOW S_FORWARD S_BACK DELAY_US...");
    }
    let num = |s: &str| {
        s.parse::<i128>()
            .unwrap_or_else(|_| die(&format!("not a number: {s}")))
    };
    let (config, tries, boundary, forward) = (&a[0], num(&a[1]), num(&a[2]), num(&a[3]));
    let (s_now, s_forward, s_back) = (&a[4], &a[5], &a[6]);
    let delays: Vec<i128> = a[7..].iter().map(|d| num(d)).collect();
    let w = Watcher::new(config);
    let second = Duration::from_secs(1);
    // Back to 0.8 s before the boundary: the period before it, and the
    // boundary itself comes soon after, on its own.
    let back_ns = boundary * 1_000_000_000 - 800_000_000;
    set_clock_ns(boundary * 1_000_000_000 + 100_000_000);
    if w.wait_for(s_now, Instant::now() + 2 * second).is_none() {
        die("the start of the boundary's period was not rotated");
    }
    let (mut worst_back, mut worst_lag) = (Duration::ZERO, 0i128);
    for i in 0..tries {
        let delay = delays[(i as usize) % delays.len()];
        set_clock_ns(forward * 1_000_000_000);
        let Some(seen) = w.wait_for(s_forward, Instant::now() + 2 * second) else {
            die(&format!(
                "try {i}: the forward step was not rotated within 2 s"
            ));
        };
        while seen.elapsed() < Duration::from_micros(delay as u64) {}
        set_clock_ns(back_ns);
        let stepped = Instant::now();
        let Some(back) = w.wait_for(s_back, stepped + second) else {
            die(&format!(
                "try {i}, {delay} us after the forward rotation: the step back was not \
                 followed within 1 s (the file holds {})",
                if held(config) == *s_forward {
                    "the forward period"
                } else {
                    "another sequence"
                }
            ));
        };
        worst_back = worst_back.max(back - stepped);
        let Some(_) = w.wait_for(s_now, stepped + 2 * second) else {
            die(&format!(
                "try {i}: the boundary after the step back was not rotated within 1 s"
            ));
        };
        let lag = clock_ns() - boundary * 1_000_000_000;
        if !(0..1_000_000_000).contains(&lag) {
            die(&format!(
                "try {i}: the boundary was rotated {} ms from it",
                lag / 1_000_000
            ));
        }
        worst_lag = worst_lag.max(lag);
    }
    let list: Vec<String> = delays.iter().map(|d| d.to_string()).collect();
    println!(
        "ok race: {tries} tries, stepping back {} us after each forward rotation; the step back \
         followed within {} ms, the next boundary within {} ms",
        list.join("/"),
        worst_back.as_millis(),
        worst_lag / 1_000_000
    );
}
