//! `rotate --dry-run`: the lines a rotation would change, as a diff.

use super::rotation::{Loaded, Plan};
use super::syntax::{lines, trimmed};
use crate::clock;

/// A unified-style diff of the lines that would change. Sequences are
/// shown only when asked for (or on a terminal): logs keep none.
pub fn diff(loaded: &Loaded, plan: &Plan, show: bool) -> String {
    let path = loaded.path.display();
    let period = match plan.period_start() {
        Some(start) => format!("period starting {}", clock::utc(start)),
        None => "each door's current period".into(),
    };
    let mut out = format!("--- {path}\n+++ {path} ({period})\n");
    let new_lines: Vec<_> = lines(&plan.new_text).collect();
    let mut any = false;
    let mut door = String::new();
    for ((or, n), (nr, _)) in lines(&loaded.text).zip(&new_lines) {
        let (old, new) = (&loaded.text[or], &plan.new_text[nr.clone()]);
        let t = trimmed(old);
        if t.starts_with(b"[") && t.ends_with(b"]") {
            door = String::from_utf8_lossy(t).into_owned();
        }
        if old == new {
            continue;
        }
        any = true;
        out.push_str(&format!(
            "@@ line {n} {door} @@\n-{}\n+{}\n",
            diff_line(old, show),
            diff_line(new, show)
        ));
    }
    if !any {
        out.push_str("(no change: every rotator door holds the current sequence)\n");
    }
    out
}

/// A changed line for the diff: its value hidden unless `show`.
fn diff_line(l: &[u8], show: bool) -> String {
    let text = String::from_utf8_lossy(l)
        .trim_end_matches('\r')
        .to_string();
    if show {
        return text;
    }
    match text.split_once('=') {
        Some((k, _)) => format!("{k}= (hidden; --show-sequences shows it)"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive;
    use crate::env::Env;
    use crate::server::doors::Doors;
    use crate::server::knockd::conf;
    use crate::server::knockd::rotation::plan;
    use crate::settings::Settings;

    fn loaded(text: &[u8]) -> Loaded {
        let dir = std::env::temp_dir();
        Loaded {
            path: dir.join("knockd.conf"),
            text: text.to_vec(),
            meta: std::fs::metadata(&dir).unwrap(),
            conf: conf::parse(text, &|_| Err("none".into())).unwrap(),
        }
    }

    #[test]
    fn diff_hides_values_unless_asked() {
        let env = Env::from_pairs([("KNOCKD_ROTATOR_SECRET", "diff test secret")]);
        let settings = Settings::load(&env).unwrap();
        let l = loaded(b"[options]\r\n  logfile = /x\r\n[ssh_ROTATOR]\r\n  sequence = 1\r\n");
        let plan = plan(&Doors::uniform(&settings), &l, 1_800_000_000, 0).unwrap();
        let hidden = diff(&l, &plan, false);
        let lines: Vec<&str> = hidden.lines().collect();
        assert!(
            lines[1].ends_with("(period starting 2027-01-15 06:00:00 UTC)"),
            "{hidden}"
        );
        assert_eq!(
            &lines[2..],
            [
                "@@ line 4 [ssh_ROTATOR] @@",
                "-  sequence = (hidden; --show-sequences shows it)",
                "+  sequence = (hidden; --show-sequences shows it)",
            ]
        );
        let shown = diff(&l, &plan, true);
        let want = derive::join(&plan.doors[0].new, ",");
        assert!(
            shown.contains(&format!("\n+  sequence = {want}\n")),
            "{shown}"
        );
        assert!(shown.contains("\n-  sequence = 1\n"), "{shown}");
        let same = loaded(&plan.new_text);
        let none = diff(&same, &plan, true);
        assert!(none.ends_with("(no change: every rotator door holds the current sequence)\n"));
    }
}
