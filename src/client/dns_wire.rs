//! DNS messages: a query for one name and type, and the checks an answer
//! must pass before any address in it is believed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const TYPE_A: u16 = 1;
pub const TYPE_AAAA: u16 = 28;
/// Why an answer is refused when its bytes do not parse.
const MALFORMED: &str = "a malformed answer";
const TYPE_CNAME: u16 = 5;
const CLASS_IN: u16 = 1;

/// What one server said about one question.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Addrs(Vec<IpAddr>),
    /// The name does not exist (NXDOMAIN); asking others will not help.
    NoSuchName,
    /// SERVFAIL, REFUSED and the like: ask the next server.
    Failed(u8),
    /// The TC bit: the answer did not fit in a datagram; ask over TCP.
    Truncated,
}

/// Encode a query for `name` (ASCII host name) with recursion desired.
pub fn build_query(id: u16, name: &str, qtype: u16) -> std::result::Result<Vec<u8>, String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return Err("is not a valid host name".into());
    }
    let mut q = Vec::with_capacity(18 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; 1 question
    for label in name.split('.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("is not a valid host name (letters, digits, '-' and '.' only)".into());
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(q)
}

/// Decode a response to query `id` for `name`/`qtype`. `Err(why)` when it
/// is not an answer to that question (wrong id, another name or type,
/// malformed), so the caller keeps waiting and, if nothing better comes,
/// says why. Addresses count only when their owner is the name asked, or
/// a name it is an alias (CNAME) of, as every stub checks.
pub fn parse_response(
    buf: &[u8],
    id: u16,
    name: &str,
    qtype: u16,
) -> std::result::Result<Answer, &'static str> {
    let u16_at = |i: usize| {
        buf.get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(MALFORMED)
    };
    if buf.len() < 12 {
        return Err("an answer shorter than a DNS header");
    }
    if u16_at(0)? != id || buf[2] & 0x80 == 0 {
        return Err("an answer to another query (wrong id)");
    }
    let rcode = buf[3] & 0x0f;
    let (qd, an) = (u16_at(4)?, u16_at(6)?);
    if qd != 1 {
        return Err("an answer without our question");
    }
    let (qname, mut i) = read_name(buf, 12).ok_or(MALFORMED)?;
    let asked = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if qname != asked.as_bytes() || u16_at(i)? != qtype || u16_at(i + 2)? != CLASS_IN {
        return Err("an answer to another question (name, type or class)");
    }
    i += 4;
    if buf[2] & 0x02 != 0 {
        return Ok(Answer::Truncated);
    }
    match rcode {
        0 => {}
        3 => return Ok(Answer::NoSuchName),
        r => return Ok(Answer::Failed(r)),
    }
    let mut records = Vec::new();
    for _ in 0..an {
        let (owner, at) = read_name(buf, i).ok_or(MALFORMED)?;
        let (t, class, len) = (u16_at(at)?, u16_at(at + 2)?, usize::from(u16_at(at + 8)?));
        let start = at + 10;
        buf.get(start..start + len).ok_or(MALFORMED)?;
        records.push((owner, t, class, start, len));
        i = start + len;
    }
    addresses(buf, qname, qtype, &records).map(Answer::Addrs)
}

/// One answer record: owner name, type, class, and where its data is.
type Record = (Vec<u8>, u16, u16, usize, usize);

/// The addresses of type `qtype` among `records` whose owner is `qname`
/// or one of its aliases.
fn addresses(
    buf: &[u8],
    qname: Vec<u8>,
    qtype: u16,
    records: &[Record],
) -> std::result::Result<Vec<IpAddr>, &'static str> {
    // The name asked and its aliases, followed from it (never more than a
    // few: a loop of CNAMEs must end).
    let mut names = vec![qname];
    for _ in 0..8 {
        let last = names.last().expect("not empty");
        let next = records.iter().find_map(|(owner, t, class, start, _)| {
            (owner == last && *t == TYPE_CNAME && *class == CLASS_IN)
                .then(|| read_name(buf, *start).map(|(n, _)| n))
                .flatten()
        });
        match next {
            Some(n) if !names.contains(&n) => names.push(n),
            _ => break,
        }
    }
    let mut addrs = Vec::new();
    for (owner, t, class, start, len) in records {
        if *class != CLASS_IN || *t != qtype || !names.contains(owner) {
            continue;
        }
        let data = &buf[*start..*start + *len];
        match (*t, data.len()) {
            (TYPE_A, 4) => addrs.push(IpAddr::V4(Ipv4Addr::new(
                data[0], data[1], data[2], data[3],
            ))),
            (TYPE_AAAA, 16) => {
                let b: [u8; 16] = data.try_into().map_err(|_| MALFORMED)?;
                addrs.push(IpAddr::V6(Ipv6Addr::from(b)));
            }
            _ => return Err(MALFORMED),
        }
    }
    Ok(addrs)
}

/// The (possibly compressed) name at `i`, lower-cased, labels joined by
/// dots, and the index after it. Pointers may only go backwards, so a
/// pointer loop ends; a name longer than DNS allows is refused.
fn read_name(buf: &[u8], mut i: usize) -> Option<(Vec<u8>, usize)> {
    let mut name = Vec::new();
    let mut after = None;
    loop {
        let len = *buf.get(i)?;
        match len {
            0 => return Some((name, after.unwrap_or(i + 1))),
            l if l & 0xc0 == 0xc0 => {
                let target = usize::from(u16::from_be_bytes([l & 0x3f, *buf.get(i + 1)?]));
                if target >= i {
                    return None;
                }
                after.get_or_insert(i + 2);
                i = target;
            }
            l if l & 0xc0 == 0 => {
                let label = buf.get(i + 1..i + 1 + usize::from(l))?;
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend(label.iter().map(u8::to_ascii_lowercase));
                if name.len() > 253 {
                    return None;
                }
                i += 1 + usize::from(l);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding() {
        let q = build_query(0x1234, "a.example.", TYPE_AAAA).unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x01a\x07example\x00\x00\x1c\x00\x01");
        for bad in ["", "a..b", "bad host", "ünï.example", &"x".repeat(64)] {
            assert!(build_query(1, bad, TYPE_A).is_err(), "{bad}");
        }
    }

    #[test]
    fn response_decoding() {
        // Answer with a CNAME then an A record, names compressed.
        let mut r = build_query(7, "www.example", TYPE_A).unwrap();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 2;
        r.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 16]);
        r.extend_from_slice(&[0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]);
        let parse = |r: &[u8], id, name, qt| parse_response(r, id, name, qt).ok();
        assert_eq!(
            parse(&r, 7, "WWW.example.", TYPE_A),
            Some(Answer::Addrs(vec![IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))]))
        );
        assert_eq!(parse(&r, 8, "www.example", TYPE_A), None, "wrong id");
        assert_eq!(parse(&r, 7, "www.example", TYPE_AAAA), None, "wrong type");
        assert_eq!(parse(&r, 7, "mail.example", TYPE_A), None, "wrong name");
        // The crash of old: a datagram of 2 or 3 bytes with our id.
        assert_eq!(parse(&[0, 7], 7, "www.example", TYPE_A), None);
        assert_eq!(parse(&[0, 7, 0x81], 7, "www.example", TYPE_A), None);
        // Every prefix of a good answer: never a panic, never an address.
        for n in 0..r.len() {
            assert!(
                !matches!(parse(&r[..n], 7, "www.example", TYPE_A), Some(Answer::Addrs(a)) if !a.is_empty())
            );
        }
        r[3] = 0x83;
        assert_eq!(
            parse(&r, 7, "www.example", TYPE_A),
            Some(Answer::NoSuchName)
        );
    }

    #[test]
    fn addresses_of_other_names_are_ignored() {
        let mut r = build_query(9, "www.example", TYPE_A).unwrap();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 2;
        // An A record for evil.example, then one for www.example itself.
        r.extend_from_slice(b"\x04evil\x07example\x00");
        r.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 6, 6, 6, 6]);
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        assert_eq!(
            parse_response(&r, 9, "www.example", TYPE_A),
            Ok(Answer::Addrs(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]))
        );
        // A pointer to itself (a loop) is malformed, not a hang.
        let mut looped = build_query(9, "www.example", TYPE_A).unwrap();
        looped[2] = 0x81;
        looped[7] = 1;
        let at = looped.len() as u8;
        looped.extend_from_slice(&[0xc0, at, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
        assert!(parse_response(&looped, 9, "www.example", TYPE_A).is_err());
    }

    #[test]
    fn truncation_is_seen_only_for_our_question() {
        let mut r = build_query(5, "www.example", TYPE_A).unwrap();
        r[2] = 0x83; // QR, TC, RD
        r[3] = 0x80;
        assert_eq!(
            parse_response(&r, 5, "www.example", TYPE_A),
            Ok(Answer::Truncated)
        );
        assert!(parse_response(&r, 5, "other.example", TYPE_A).is_err());
        assert!(parse_response(&r, 6, "www.example", TYPE_A).is_err());
    }
}
