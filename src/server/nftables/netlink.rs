//! Set elements added straight over netlink, in nf_tables batches of our
//! own: a day of tokens is 144 200 elements for 100 doors, which nft
//! parses at 8 µs each (1.2 s of CPU) while the kernel takes 2.5 µs; these
//! are encoded here at a fraction of that. The table itself still goes
//! through nft, which checks its text.
//!
//! No ruleset generation is sent, so a batch is never refused because
//! another committed first (the table's own nft may run beside us).

use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{
    AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType, netlink, recv, send, socket_with,
};

pub(super) const SUBSYS_NFTABLES: u16 = 10;
pub(super) const GETTABLE: u16 = SUBSYS_NFTABLES << 8 | 1;
pub(super) const DELTABLE: u16 = SUBSYS_NFTABLES << 8 | 2;
pub(super) const GETSET: u16 = SUBSYS_NFTABLES << 8 | 10;
const NEWSETELEM: u16 = SUBSYS_NFTABLES << 8 | 12;
const DELSETELEM: u16 = SUBSYS_NFTABLES << 8 | 14;
const BATCH_BEGIN: u16 = 16;
const BATCH_END: u16 = 17;
const ERROR: u16 = 2;
pub(super) const REQUEST: u16 = 1;
pub(super) const ACK: u16 = 4;
const CREATE: u16 = 0x400;
pub(super) const NESTED: u16 = 0x8000;
pub(super) const NFPROTO_INET: u8 = 1;
/// A message's elements sit in one attribute, whose length is 16 bits.
/// Each message goes in a batch of its own, which one send carries (the
/// socket's send buffer holds 212 992 bytes by default), and its refusal,
/// which quotes it whole (44 KB), cannot overrun the receive buffer.
pub const PER_MESSAGE: usize = 1000;

pub(super) fn attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let at = open(buf, kind);
    buf.extend_from_slice(payload);
    close(buf, at);
}

/// Start an attribute (or, with `NESTED`, a nest) whose length `close` sets.
fn open(buf: &mut Vec<u8>, kind: u16) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&kind.to_ne_bytes());
    at
}

fn close(buf: &mut Vec<u8>, at: usize) {
    let len = (buf.len() - at) as u16;
    buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    buf.resize(buf.len().next_multiple_of(4), 0);
}

/// A message header and nfgenmsg; `end` sets its length.
/// (Sequence numbers stay 0: one message is answered at a time.)
pub(super) fn message(buf: &mut Vec<u8>, kind: u16, flags: u16, family: u8) -> usize {
    let at = buf.len();
    let res = if family == 0 { SUBSYS_NFTABLES } else { 0 };
    let [k0, k1] = kind.to_ne_bytes();
    let [f0, f1] = flags.to_ne_bytes();
    let [r0, r1] = res.to_be_bytes();
    buf.extend_from_slice(&[
        0, 0, 0, 0, k0, k1, f0, f1, 0, 0, 0, 0, 0, 0, 0, 0, family, 0, r0, r1,
    ]);
    at
}

pub(super) fn end(buf: &mut [u8], at: usize) {
    let len = (buf.len() - at) as u32;
    buf[at..at + 4].copy_from_slice(&len.to_ne_bytes());
}

/// A netfilter netlink socket, closed on exec.
pub(super) fn socket(flags: SocketFlags) -> Result<OwnedFd, Errno> {
    socket_with(
        AddressFamily::NETLINK,
        SocketType::RAW,
        SocketFlags::CLOEXEC | flags,
        Some(netlink::NETFILTER),
    )
}

/// Add `elems` (key bytes, as the kernel holds them, and a timeout in
/// seconds, none if 0) to `set` of the inet table `table`, 1000 a
/// transaction: on an error, those before it are in. (ENFILE: the set is
/// full.)
pub fn add<const K: usize>(table: &str, set: &str, elems: &[([u8; K], u64)]) -> Result<(), Errno> {
    let mut adder = Adder::new(table)?;
    let mut nests = Vec::with_capacity(PER_MESSAGE * 48);
    for chunk in elems.chunks(PER_MESSAGE) {
        nests.clear();
        for (k, t) in chunk {
            encode(&mut nests, k, &[], *t);
        }
        adder.add(set, &nests, false)?;
    }
    Ok(())
}

/// What went wrong adding to `set`, in words (ENFILE: it is full).
pub fn failed(set: &str, e: Errno) -> String {
    match e {
        Errno::NFILE => format!("set {set} is full"),
        e => format!("set {set}, over netlink: {e}"),
    }
}

/// Append one element to `nests`, as a NEWSETELEM's list holds it: key
/// bytes as the kernel holds them, data (none for a set) and a timeout in
/// seconds (none if 0).
pub fn encode(nests: &mut Vec<u8>, key: &[u8], data: &[u8], timeout: u64) {
    let e = open(nests, 1 | NESTED);
    let k = open(nests, 1 | NESTED);
    attr(nests, 1, key);
    close(nests, k);
    if !data.is_empty() {
        let d = open(nests, 2 | NESTED);
        attr(nests, 1, data);
        close(nests, d);
    }
    if timeout > 0 {
        attr(nests, 4, &(timeout.saturating_mul(1000)).to_be_bytes());
    }
    close(nests, e);
}

/// A socket that adds elements to the sets of one inet table, a
/// transaction at a time.
pub struct Adder {
    fd: OwnedFd,
    table: String,
    buf: Vec<u8>,
}

impl Adder {
    pub fn new(table: &str) -> Result<Self, Errno> {
        Ok(Adder {
            fd: socket(SocketFlags::empty())?,
            table: format!("{table}\0"),
            buf: Vec::with_capacity(PER_MESSAGE * 64 + 512),
        })
    }

    /// Add `nests` (at most PER_MESSAGE elements, `encode`d) to `set` in
    /// one transaction; how many were skipped. With `skip_clash` (a map):
    /// a key the map holds with other data (two 32-bit chain values that
    /// collide, chained.rs; the kernel answers EEXIST, as no batch asks
    /// for exclusive adds) is skipped, and the others go in one by one.
    pub fn add(&mut self, set: &str, nests: &[u8], skip_clash: bool) -> Result<usize, Errno> {
        self.each(set, nests, false, skip_clash.then_some(Errno::EXIST))
    }

    /// Delete the elements `nests` (keys only) from `set` in one
    /// transaction; those it does not hold (ENOENT: a clash skipped them,
    /// or an earlier run deleted them) are skipped, the others deleted one
    /// by one.
    pub fn remove(&mut self, set: &str, nests: &[u8]) -> Result<usize, Errno> {
        self.each(set, nests, true, Some(Errno::NOENT))
    }

    /// One transaction; when the kernel refuses it whole with `skip`, its
    /// elements go again one at a time, and those refused with `skip`
    /// are counted.
    fn each(
        &mut self,
        set: &str,
        nests: &[u8],
        delete: bool,
        skip: Option<Errno>,
    ) -> Result<usize, Errno> {
        let set = format!("{set}\0");
        match self.one(&set, nests, delete) {
            Err(e) if Some(e) == skip => {
                let mut skipped = 0;
                let mut at = 0;
                while at + 4 <= nests.len() {
                    let len = usize::from(u16::from_ne_bytes([nests[at], nests[at + 1]]));
                    let next = (at + len.max(4)).next_multiple_of(4).min(nests.len());
                    match self.one(&set, &nests[at..next], delete) {
                        Err(e) if Some(e) == skip => skipped += 1,
                        r => r?,
                    }
                    at = next;
                }
                Ok(skipped)
            }
            r => r.map(|()| 0),
        }
    }

    fn one(&mut self, set: &str, nests: &[u8], delete: bool) -> Result<(), Errno> {
        self.buf.clear();
        batch(&mut self.buf, &self.table, set, nests, delete);
        // Watch mode's signals interrupt (no SA_RESTART): a send that was
        // interrupted sent nothing, and the answer waits to be read.
        while let Err(e) = send(&self.fd, &self.buf, SendFlags::empty()) {
            if e != Errno::INTR {
                return Err(e);
            }
        }
        wait(&self.fd)
    }
}

/// One batch: begin, a message that adds (or deletes) the elements
/// `nests` to `set` of `table` (both NUL-terminated), end.
fn batch(buf: &mut Vec<u8>, table: &str, set: &str, nests: &[u8], delete: bool) {
    let b = message(buf, BATCH_BEGIN, REQUEST, 0);
    end(buf, b);
    let m = match delete {
        false => message(buf, NEWSETELEM, REQUEST | CREATE | ACK, NFPROTO_INET),
        true => message(buf, DELSETELEM, REQUEST | ACK, NFPROTO_INET),
    };
    attr(buf, 1, table.as_bytes());
    attr(buf, 2, set.as_bytes());
    attr(buf, 3 | NESTED, nests);
    end(buf, m);
    let b = message(buf, BATCH_END, REQUEST, 0);
    end(buf, b);
}

/// Read the kernel's answer to the batch: an acknowledgement, or the
/// refusal of its message or of the batch (then nothing of it is in).
pub(super) fn wait(fd: &OwnedFd) -> Result<(), Errno> {
    answers(fd, &mut |_| {})
}

/// Read the kernel's answers up to its acknowledgement or refusal (an
/// ERROR message), handing each other message's attributes (after its
/// header and nfgenmsg) to `f`.
pub(super) fn answers(fd: &OwnedFd, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
    let mut buf = [0u8; 4096];
    loop {
        // A refusal longer than the buffer is cut; its error comes first.
        let n = match recv(fd.as_fd(), &mut buf[..], RecvFlags::empty()) {
            Err(Errno::INTR) => continue,
            r => r?.0,
        };
        let mut at = 0;
        while at + 20 <= n {
            // At least its header and nfgenmsg, at most what was read.
            let len = (u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or_default()) as usize)
                .clamp(20, n - at);
            if u16::from_ne_bytes([buf[at + 4], buf[at + 5]]) == ERROR {
                return match i32::from_ne_bytes(
                    buf[at + 16..at + 20].try_into().unwrap_or_default(),
                ) {
                    0 => Ok(()),
                    e => Err(Errno::from_raw_os_error(-e)),
                };
            }
            f(&buf[at + 20..at + len]);
            at += len.next_multiple_of(4);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_named_alike() {
        use super::super::layout::{NAME, TABLE};
        assert_eq!(TABLE, format!("inet {NAME}"));
    }

    /// The batch for one token, against the element nft 1.0.6 sends for
    /// `add element inet knock_rotator tok { 0x0102...0f10 . 0xfd001002
    /// timeout 90s }` (`nft --debug=mnl`): the same nests and lengths (nft
    /// puts the timeout first, and adds the set's id).
    #[test]
    fn one_token_as_nft_sends_it() {
        let mut key = [0u8; 20];
        key[..16].copy_from_slice(&core::array::from_fn::<u8, 16, _>(|i| i as u8 + 1));
        key[16..].copy_from_slice(&0xfd00_1002u32.to_ne_bytes());
        let (mut buf, mut nests) = (Vec::new(), Vec::new());
        encode(&mut nests, &key, &[], 90);
        batch(&mut buf, "knock_rotator\0", "tok\0", &nests, false);
        let n16 = |v: u16| v.to_ne_bytes().to_vec();
        let n32 = |v: u32| v.to_ne_bytes().to_vec();
        let header = |len: u32, kind: u16, flags: u16, family: u8, res: u16| {
            [n32(len), n16(kind), n16(flags), n32(0), n32(0)]
                .concat()
                .into_iter()
                .chain([family, 0])
                .chain(res.to_be_bytes())
                .collect::<Vec<u8>>()
        };
        let want = [
            header(20, 16, 1, 0, 10),
            header(20 + 20 + 8 + 48, 0x0a0c, 0x405, 1, 0),
            n16(18),
            n16(1),
            b"knock_rotator\0\0\0".to_vec(),
            n16(8),
            n16(2),
            b"tok\0".to_vec(),
            n16(48),
            n16(0x8003),
            n16(44),
            n16(0x8001),
            n16(28),
            n16(0x8001),
            n16(24),
            n16(1),
            key.to_vec(),
            n16(12),
            n16(4),
            90_000u64.to_be_bytes().to_vec(),
            header(20, 17, 1, 0, 10),
        ]
        .concat();
        assert_eq!(buf, want);
    }
}
