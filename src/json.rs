//! The little JSON that `status --json` writes: strings escaped as RFC 8259
//! asks, so that any path or door name (not always UTF-8) stays valid JSON.

/// `s` as a JSON string, quotes included; bytes that are not UTF-8 become
/// U+FFFD.
pub fn string(s: &[u8]) -> String {
    let text = String::from_utf8_lossy(s);
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An optional string: `null` when absent.
pub fn opt_string(s: Option<&[u8]>) -> String {
    s.map_or_else(|| "null".into(), string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(string(b"plain"), "\"plain\"");
        assert_eq!(
            string(b"a\"b\\c\nd\x01\x7f"),
            "\"a\\\"b\\\\c\\nd\\u0001\\u007f\""
        );
        assert_eq!(string(b"\xff"), "\"\u{fffd}\"");
        assert_eq!(opt_string(None), "null");
    }
}

/// A JSON value as read: what `status` reads from `nft -j`. Numbers are
/// the integers nft prints (a fraction or exponent is cut off).
#[derive(Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(i64),
    Str(String),
    Arr(Vec<Value>),
    Obj(Vec<(String, Value)>),
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Value] {
        match self {
            Value::Arr(a) => a,
            _ => &[],
        }
    }

    pub fn num(&self) -> Option<i64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Parse one JSON document; `None` if it is not one (or nests too deep).
pub fn parse(text: &str) -> Option<Value> {
    let mut p = Reader {
        b: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(v)
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let ok = self.b.get(self.i) == Some(&c);
        self.i += usize::from(ok);
        ok
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > 64 {
            return None;
        }
        self.ws();
        let c = *self.b.get(self.i)?;
        let word = |w: &str, v: Value, p: &mut Self| {
            p.b[p.i..].starts_with(w.as_bytes()).then(|| {
                p.i += w.len();
                v
            })
        };
        match c {
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                if self.eat(b'}') {
                    return Some(Value::Obj(m));
                }
                loop {
                    self.ws();
                    let Value::Str(k) = self.string()? else {
                        return None;
                    };
                    if !self.eat(b':') {
                        return None;
                    }
                    m.push((k, self.value(depth + 1)?));
                    if self.eat(b'}') {
                        return Some(Value::Obj(m));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']') {
                    return Some(Value::Arr(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    if self.eat(b']') {
                        return Some(Value::Arr(a));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'"' => self.string(),
            b't' => word("true", Value::Bool(true), self),
            b'f' => word("false", Value::Bool(false), self),
            b'n' => word("null", Value::Null, self),
            _ => self.number(),
        }
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        let digits = |p: &mut Self| {
            while p
                .b
                .get(p.i)
                .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
            {
                p.i += 1;
            }
        };
        digits(self);
        let text = std::str::from_utf8(&self.b[start..self.i]).ok()?;
        let int = text.split(['.', 'e', 'E']).next()?;
        int.parse().ok().map(Value::Num)
    }

    /// A string at `self.i` (its opening quote).
    fn string(&mut self) -> Option<Value> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok().map(Value::Str),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            char::from_u32(u32::from_str_radix(hex, 16).ok()?).unwrap_or('\u{fffd}')
                        }
                        other => char::from(other),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod reader_tests {
    use super::*;

    #[test]
    fn reads_what_nft_prints() {
        let v = parse(
            r#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"name": "doors",
            "elem": [{"concat": [2405467484, 1803880077, 1796148060]}], "ok": true, "x": null,
            "s": "a\"b\u00e9"}}]}"#,
        )
        .unwrap();
        let set = v.get("nftables").unwrap().items()[1].get("set").unwrap();
        assert_eq!(set.get("name").unwrap().str(), Some("doors"));
        let c = set.get("elem").unwrap().items()[0].get("concat").unwrap();
        assert_eq!(c.items()[2].num(), Some(1_796_148_060));
        assert_eq!(set.get("s").unwrap().str(), Some("a\"bé"));
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "tru",
            "[1] 2",
            &"[".repeat(100),
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
