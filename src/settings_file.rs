//! The file format of client profiles and of the server's doors file: named
//! sections of `key = value` lines, as in knockd.conf and fwknoprc.
//!
//! ```text
//! # comment
//! [nas]
//! host = nas.example.org
//! service = ssh
//! secret_file = nas.secret
//! ```
//!
//! A value is the rest of its line, trimmed: there are no inline comments
//! (a secret may hold `#`) and no quoting. A key appears once per section
//! and a section once per file. The file may hold secrets, so it is read as
//! a private file and wiped from memory when dropped.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, quote};
use crate::origin::Origin;
use crate::safe_read;
use crate::secret::{self, Secret};
use crate::settings::{self, Source};

/// Larger than any hand-written file: a mistake (a log, a key store).
const MAX_BYTES: u64 = 1024 * 1024;
/// Unknown keys up to this length are quoted (typos); longer ones are not.
const MAX_SHOWN_KEY: usize = 20;

pub struct Entry {
    pub key: String,
    /// Wiped when dropped: it may be a secret.
    pub value: Secret,
    pub line: usize,
}

impl Entry {
    pub fn text(&self) -> &str {
        // Checked to be UTF-8 when parsed.
        std::str::from_utf8(self.value.expose()).unwrap_or_default()
    }
}

pub struct Section {
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

pub struct SettingsFile {
    pub path: PathBuf,
    pub sections: Vec<Section>,
}

impl SettingsFile {
    /// Read and parse `path`, a private file.
    pub fn read(path: &Path) -> Result<SettingsFile> {
        let shown = path.display().to_string();
        let mut text = Secret::new(Vec::new());
        safe_read::private(path, &shown, MAX_BYTES, text.buffer())?;
        let sections = parse(&shown, text.expose())?;
        Ok(SettingsFile {
            path: path.to_path_buf(),
            sections,
        })
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Where `entry` is, for messages and `config`.
    pub fn origin(&self, entry: &Entry) -> Origin {
        Origin::Line {
            path: self.path.display().to_string(),
            line: entry.line,
        }
    }

    /// "PATH:LINE: message".
    pub fn error(&self, line: usize, msg: &str) -> Error {
        Error::usage(format!("{}:{line}: {msg}", self.path.display()))
    }

    /// Refuse any key of `section` that is neither a setting's, the
    /// secret's, nor in `extra`; `what` says whose keys they are ("a door").
    pub fn check_keys(&self, section: &Section, extra: &[&str], what: &str) -> Result<()> {
        let known: Vec<&str> = settings::KEYS
            .iter()
            .map(|(k, _)| *k)
            .chain(["secret", "secret_file"])
            .chain(extra.iter().copied())
            .collect();
        for e in &section.entries {
            if !known.contains(&e.key.as_str()) {
                // A key longer than any real one may be a pasted secret.
                let key = match e.key.len() {
                    0..=MAX_SHOWN_KEY => quote(&e.key),
                    n => format!("of {n} characters"),
                };
                return Err(self.error(
                    e.line,
                    &format!(
                        "unknown key {key} in [{}]; {what} takes {}",
                        section.name,
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// One section as the source of a door's or profile's settings.
pub struct SectionSource<'a> {
    pub file: &'a SettingsFile,
    pub section: &'a Section,
}

impl SectionSource<'_> {
    /// `secret_file`'s path: `~/` is the home directory, and a relative
    /// path is relative to this file's directory.
    fn secret_path(&self, value: &str) -> PathBuf {
        if let Some(rest) = value.strip_prefix("~/") {
            let home = std::env::var_os("HOME").unwrap_or_default();
            return Path::new(&home).join(rest);
        }
        let dir = self.file.path.parent().unwrap_or(Path::new("."));
        dir.join(value)
    }
}

impl Source for SectionSource<'_> {
    fn get(&self, key: &'static str) -> Result<Option<(String, Origin)>> {
        let entry = self.section.get(key);
        Ok(entry.map(|e| (e.text().to_string(), self.file.origin(e))))
    }

    fn name(&self, key: &'static str) -> String {
        key.to_string()
    }

    fn secret(&self) -> Result<(Secret, Origin)> {
        let (file, section) = (self.file, self.section);
        match (section.get("secret"), section.get("secret_file")) {
            (Some(a), Some(b)) => Err(file.error(
                b.line,
                &format!(
                    "[{}] has both secret (line {}) and secret_file; keep one",
                    section.name, a.line
                ),
            )),
            (Some(e), None) => {
                let origin = file.origin(e);
                let secret = secret::from_value(e.value.expose(), &origin.label("secret"))?;
                Ok((secret, origin))
            }
            (None, Some(e)) => {
                let path = self.secret_path(e.text());
                let shown = quote(path.as_os_str().as_encoded_bytes());
                let at = format!("{}:{}", file.path.display(), e.line);
                let secret = secret::from_file(&path, &format!("{at}: secret_file {shown}"))?;
                Ok((secret, Origin::Other(format!("file {shown} ({at})"))))
            }
            (None, None) => Err(file.error(
                section.line,
                &format!("[{}] has no secret_file (nor secret)", section.name),
            )),
        }
    }
}

/// Parse the text of a settings file; `path` names it in errors.
pub fn parse(path: &str, text: &[u8]) -> Result<Vec<Section>> {
    let at = |line: usize, msg: String| Error::usage(format!("{path}:{line}: {msg}"));
    let mut sections: Vec<Section> = Vec::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|_| at(n, "not valid UTF-8".into()))?
            .trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .map(str::trim)
                .filter(|s| valid_name(s))
                .ok_or_else(|| {
                    at(
                        n,
                        "not a section header: [NAME], NAME without spaces or brackets".into(),
                    )
                })?;
            if let Some(first) = sections.iter().find(|s| s.name == name) {
                return Err(at(
                    n,
                    format!("[{name}] again (first at line {})", first.line),
                ));
            }
            sections.push(Section {
                name: name.to_string(),
                line: n,
                entries: Vec::new(),
            });
            continue;
        }
        let entry = parse_entry(line, n).map_err(|msg| at(n, msg))?;
        let Some(section) = sections.last_mut() else {
            return Err(at(
                n,
                format!("{} comes before any [section]", quote(&entry.key)),
            ));
        };
        if let Some(first) = section.get(&entry.key) {
            return Err(at(
                n,
                format!(
                    "{} again in [{}] (first at line {})",
                    quote(&entry.key),
                    section.name,
                    first.line
                ),
            ));
        }
        section.entries.push(entry);
    }
    Ok(sections)
}

/// `key = value`. An error quotes no part of a malformed line: it may be a
/// secret pasted on a line of its own (`c2VjcmV0=` included).
fn parse_entry(line: &str, n: usize) -> std::result::Result<Entry, String> {
    let Some((key, value)) = line.split_once('=') else {
        return Err("not a 'key = value' line, a [section] or a # comment".into());
    };
    let key = key.trim();
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err("the text before '=' is not a key (lower-case letters and '_')".into());
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{} has no value", quote(key)));
    }
    Ok(Entry {
        key: key.to_string(),
        value: Secret::new(value.as_bytes().to_vec()),
        line: n,
    })
}

/// A section name: a door or profile name, printable, without spaces or
/// brackets.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '[' && c != ']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_entries() {
        let text = b"# c\n\n[nas]\nhost = nas.lan \r\nsecret = a#b = c\n[vps]\n ; x\nlength=12\n";
        let s = parse("f", text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].name.as_str(), s[0].line), ("nas", 3));
        assert_eq!(s[0].get("host").unwrap().text(), "nas.lan");
        assert_eq!(s[0].get("secret").unwrap().text(), "a#b = c");
        assert_eq!(s[1].get("length").unwrap().line, 8);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, want) in [
            (&b"host = x\n"[..], "f:1: 'host' comes before any [section]"),
            (b"[a]\n[a]\n", "f:2: [a] again (first at line 1)"),
            (
                b"[a]\nk = 1\nk = 2\n",
                "f:3: 'k' again in [a] (first at line 2)",
            ),
            (b"[a]\nhost\n", "f:2: not a 'key = value' line"),
            (b"[a]\nhost =\n", "f:2: 'host' has no value"),
            (b"[a b]\n", "f:1: not a section header"),
            (b"[a]\nHost = x\n", "f:2: the text before '=' is not a key"),
            (b"[a]\nk = \xff\n", "f:2: not valid UTF-8"),
        ] {
            let e = parse("f", text).err().unwrap();
            assert!(e.message().starts_with(want), "{e} / {want}");
        }
    }

    #[test]
    fn an_error_never_shows_a_value() {
        for text in [
            &b"[a]\nsecret hunter22hunter22\n"[..],
            b"[a]\nhunter22hunter22\n",
            b"[a]\nhunter22hunter22=\n",
            b"[hunter22 hunter22\n",
        ] {
            let e = parse("f", text).err().unwrap();
            assert!(!e.message().contains("hunter22"), "{e}");
        }
        let f = SettingsFile {
            path: "f".into(),
            sections: parse("f", b"[a]\nhuntertwentytwohunter = x\n").unwrap(),
        };
        let e = f.check_keys(&f.sections[0], &[], "a door").unwrap_err();
        assert!(
            e.message().starts_with("f:2: unknown key of 21 characters"),
            "{e}"
        );
        assert!(!e.message().contains("hunter"), "{e}");
    }
}
