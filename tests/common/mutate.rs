//! Random but reproducible mutations of knockd.conf files, for the editor's
//! property tests and the knockd agreement test.

/// A small xorshift generator: the same seed gives the same cases.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Lines worth inserting: valid, awkward and invalid ones alike.
const POOL: &[&[u8]] = &[
    b"sequence = 1:tcp",
    b"Sequence=7:udp",
    b"SEQUENCE\t=\t8",
    b"  sequence = 1,2,3  ",
    b"sequence =",
    b"sequence = 70000",
    b"sequence = 1:icmp",
    b"sequence = 0x10,abc",
    b"# comment",
    b"# caf\xe9 (Latin-1)",
    b"",
    b"   ",
    b"[new_ROTATOR]",
    b"[ spaced_ROTATOR]",
    b"[plain]",
    b"[options]",
    b"[Options]",
    b"[]",
    b"[unclosed",
    b"tcpflags = syn,ack",
    b"tcpflags = syn, ack",
    b"TCPFLAGS = FIN,!ack",
    b"bogus = 1",
    b"r\xe9sum\xe9 = 1",
    b"UseSyslog",
    b"usesyslog = yes",
    b"seq_timeout = 5",
    b"timeout=9",
    b"cmd_timeout = 3",
    b"logfile = /dev/null",
    b"interface = lo",
    b"start_command = echo %IP%",
    b"command_6 = true",
    b"stop_command_6 = true",
    b"one_time_sequences = /nonexistent/file",
    b"target = 127.0.0.1",
    b"target = host.invalid",
    b"no equals sign here",
];

/// One to three random edits of `text`.
pub fn mutate(text: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(|l| l.to_vec()).collect();
    let final_newline = text.ends_with(b"\n");
    if final_newline {
        lines.pop();
    }
    let mut final_newline = final_newline;
    for _ in 0..1 + rng.below(3) {
        let n = lines.len();
        match rng.below(8) {
            0 | 1 => {
                let mut l = POOL[rng.below(POOL.len())].to_vec();
                if rng.below(3) == 0 {
                    l.insert(0, b'\t');
                }
                lines.insert(rng.below(n + 1), l);
            }
            2 if n > 0 => {
                lines.remove(rng.below(n));
            }
            3 if n > 0 => {
                let i = rng.below(n);
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            4 if n > 0 => {
                let l = &mut lines[rng.below(n)];
                if l.ends_with(b"\r") {
                    l.pop();
                } else {
                    l.push(b'\r');
                }
            }
            5 if n > 0 => {
                let l = &mut lines[rng.below(n)];
                let upper = rng.below(2) == 0;
                for b in l.iter_mut().take_while(|b| **b != b'=') {
                    *b = if upper {
                        b.to_ascii_uppercase()
                    } else {
                        b.to_ascii_lowercase()
                    };
                }
            }
            6 if n > 1 => {
                let (a, b) = (rng.below(n), rng.below(n));
                lines.swap(a, b);
            }
            _ => final_newline = !final_newline,
        }
    }
    let mut out = lines.join(&b'\n');
    if final_newline {
        out.push(b'\n');
    }
    out
}
