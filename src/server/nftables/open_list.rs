//! A door's `open`: what a knock opens, as PORT/PROTO items.

use crate::derive::{Knock, Proto};
use crate::error::quote;

/// `22/tcp, 51820/udp`.
pub fn parse_open(text: &str) -> std::result::Result<Vec<Knock>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim) {
        let parsed = item.split_once('/').and_then(|(port, proto)| {
            let port = port.parse::<u16>().ok().filter(|p| *p > 0)?;
            let proto = match proto {
                "tcp" => Proto::Tcp,
                "udp" => Proto::Udp,
                _ => return None,
            };
            Some(Knock { port, proto })
        });
        match parsed {
            // Sorted and without repeats (the group's name hashes it); a
            // few items, so by hand.
            Some(k) if !out.contains(&k) => {
                let key = |k: &Knock| (k.proto as u8, k.port);
                let at = out
                    .iter()
                    .position(|o| key(o) > key(&k))
                    .unwrap_or(out.len());
                out.insert(at, k);
            }
            Some(_) => {}
            None => return Err(format!("{} is not PORT/tcp or PORT/udp", quote(item))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_lists() {
        let k = |port, proto| Knock { port, proto };
        assert_eq!(
            parse_open("22/tcp, 51820/udp,22/tcp").unwrap(),
            [k(22, Proto::Tcp), k(51820, Proto::Udp)]
        );
        for bad in [
            "",
            "22",
            "22/sctp",
            "0/tcp",
            "65536/tcp",
            "x/tcp",
            "22/tcp,",
        ] {
            assert!(parse_open(bad).is_err(), "{bad}");
        }
    }
}
