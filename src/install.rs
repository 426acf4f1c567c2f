//! `knock-rotator --install [DIR]`: the busybox-style links (`knock`,
//! `knock-rotate`) next to the executable or in DIR. Anything already there
//! that is not our link is left alone and reported.

use std::path::{Path, PathBuf};

use crate::applet::APPLETS;
use crate::error::{Error, Result};

pub fn install(dir: Option<PathBuf>) -> Result<String> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| Error::io("cannot find this executable", e))?;
    let home = exe.parent().unwrap_or(Path::new("/")).to_path_buf();
    let dir = match dir {
        Some(d) => std::fs::canonicalize(&d).map_err(|e| Error::io(d.display(), e))?,
        None => home.clone(),
    };
    // Beside the executable, a relative link survives moving both.
    let target = if dir == home {
        PathBuf::from(exe.file_name().unwrap_or_default())
    } else {
        exe.clone()
    };
    let links: Vec<&str> = APPLETS.iter().filter_map(|a| a.link).collect();
    // Check every link before creating any, so a refusal changes nothing.
    let mut todo = Vec::new();
    for name in &links {
        let path = dir.join(name);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => todo.push(path),
            Err(e) => return Err(Error::io(path.display(), e)),
            Ok(m)
                if m.file_type().is_symlink()
                    && std::fs::canonicalize(&path).is_ok_and(|p| p == exe) => {}
            Ok(_) => {
                return Err(Error::failure(format!(
                    "{} exists and is not a link to {}; nothing installed (remove it, or give another DIR)",
                    path.display(),
                    exe.display()
                )));
            }
        }
    }
    let mut out = String::new();
    for path in links.iter().map(|n| dir.join(n)) {
        if todo.contains(&path) {
            std::os::unix::fs::symlink(&target, &path).map_err(|e| Error::io(path.display(), e))?;
            out.push_str(&format!("{} -> {}\n", path.display(), target.display()));
        } else {
            out.push_str(&format!(
                "{} -> {} (already there)\n",
                path.display(),
                target.display()
            ));
        }
    }
    Ok(out)
}
