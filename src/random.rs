//! Random bytes from the kernel, for DNS ids and raw-knock ports and
//! sequence numbers (unpredictable, not secret).

/// Fill `buf` from getrandom(2); on the off chance it is unavailable (very
/// old kernels), from /dev/urandom.
pub fn fill(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        match rustix::rand::getrandom(&mut *rest, rustix::rand::GetRandomFlags::empty()) {
            Ok(n) if n > 0 => done += n,
            Err(rustix::io::Errno::INTR) => {}
            _ => {
                use std::io::Read;
                if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
                    if f.read_exact(rest).is_ok() {
                        return;
                    }
                }
                // No randomness at all: fall back to the clock, which is only
                // used where unpredictability is a nicety, not a defence.
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                for (i, b) in rest.iter_mut().enumerate() {
                    *b = (t.as_nanos() >> (8 * (i % 16))) as u8;
                }
                return;
            }
        }
    }
}

pub fn u32() -> u32 {
    let mut b = [0u8; 4];
    fill(&mut b);
    u32::from_ne_bytes(b)
}

pub fn u16() -> u16 {
    let mut b = [0u8; 2];
    fill(&mut b);
    u16::from_ne_bytes(b)
}

/// Fill `buf` for a secret: from getrandom(2) or /dev/urandom, and an
/// error rather than anything weaker.
pub fn secret_bytes(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    let mut done = 0;
    while done < buf.len() {
        match rustix::rand::getrandom(&mut buf[done..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) if n > 0 => done += n,
            Err(rustix::io::Errno::INTR) => {}
            _ => return std::fs::File::open("/dev/urandom")?.read_exact(&mut buf[done..]),
        }
    }
    Ok(())
}
