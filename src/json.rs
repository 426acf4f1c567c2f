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
