//! Adding a profile to the client config (`import`): at the end, or in
//! place of the profile of the same name, leaving every other byte as it was.

use std::path::Path;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::settings_file::parse as parse_text;

/// The config with `profile` added at its end, or in place of the profile
/// of the same name (with the comments just above it) when replacing.
pub fn merge(config: &Path, profile: &[u8], name: &str, replace: bool) -> Result<Secret> {
    let mut old = Secret::new(Vec::new());
    if std::fs::symlink_metadata(config).is_ok() {
        let shown = config.display().to_string();
        crate::safe_read::private(config, &shown, 1024 * 1024, old.buffer())?;
    }
    let shown = config.display().to_string();
    let sections = parse_text(&shown, old.expose())?;
    let lines: Vec<&[u8]> = old.expose().split(|&b| b == b'\n').collect();
    let mut out = Secret::new(Vec::with_capacity(old.expose().len() + profile.len() + 2));
    let (mut before, mut after) = (lines.len(), lines.len());
    if let Some(i) = sections.iter().position(|s| s.name == name) {
        if !replace {
            return Err(Error::usage(format!(
                "{shown}:{}: a profile [{name}] exists already; --replace to replace it",
                sections[i].line
            )));
        }
        before = comments_above(&lines, sections[i].line - 1);
        after = sections
            .get(i + 1)
            .map_or(lines.len(), |s| comments_above(&lines, s.line - 1));
    }
    let buf = out.buffer();
    for line in &lines[..before] {
        buf.extend_from_slice(line);
        buf.push(b'\n');
    }
    // The old text's last line had no newline of its own.
    if (before == lines.len() && buf.ends_with(b"\n\n")) || buf == b"\n" {
        buf.pop();
    }
    buf.extend_from_slice(profile);
    for (i, line) in lines.iter().enumerate().skip(after) {
        buf.extend_from_slice(line);
        if i + 1 < lines.len() {
            buf.push(b'\n');
        }
    }
    Ok(out)
}

/// The first of the comment lines just above line `i` (0-based).
fn comments_above(lines: &[&[u8]], mut i: usize) -> usize {
    while i > 0 && lines[i - 1].trim_ascii_start().starts_with(b"#") {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(old: &str, profile: &str, replace: bool) -> Result<String> {
        let dir = std::env::temp_dir().join(format!("kr-merge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("config-{}", old.len()));
        std::fs::write(&path, old).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let out = merge(&path, profile.as_bytes(), "x", replace);
        std::fs::remove_file(&path).unwrap();
        out.map(|s| String::from_utf8(s.expose().to_vec()).unwrap())
    }

    #[test]
    fn appends_and_replaces_keeping_the_rest() {
        let p = "# new\n[x]\nhost = h\n";
        assert_eq!(merged("", p, false).unwrap(), p);
        assert_eq!(
            merged("[a]\nk = v\n", p, false).unwrap(),
            format!("[a]\nk = v\n{p}")
        );
        assert_eq!(
            merged("[a]\nk = v", p, false).unwrap(),
            format!("[a]\nk = v\n{p}")
        );
        assert_eq!(merged("[a]\n\n", p, false).unwrap(), format!("[a]\n\n{p}"));
        let old = "# a\n[a]\nk = v\n# old x\n[x]\nhost = old\n\n# b\n[b]\nk = w\n";
        assert!(
            merged(old, p, false)
                .unwrap_err()
                .message()
                .contains(":5: a profile [x] exists")
        );
        assert_eq!(
            merged(old, p, true).unwrap(),
            "# a\n[a]\nk = v\n# new\n[x]\nhost = h\n# b\n[b]\nk = w\n"
        );
        assert_eq!(merged("[x]\nhost = old\n", p, true).unwrap(), p);
    }
}
