//! What we ship beside the binary: man pages lint clean, the systemd units
//! verify, the OpenWrt script parses, and the example knockd.conf rotates.

mod common;

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> Command {
    common::require(name);
    Command::new(name)
}

#[test]
fn man_pages_lint_clean() {
    let pages: Vec<_> = std::fs::read_dir(root().join("man"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!pages.is_empty());
    for page in pages {
        let out = tool("mandoc")
            .args(["-T", "lint", "-W", "warning"])
            .arg(&page)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && said.trim().is_empty(),
            "{}: {said}",
            page.display()
        );
    }
}

#[test]
fn systemd_units_verify() {
    let work = common::TempDir::new("units");
    let bin = common::bin();
    for unit in [
        "knock-rotator.service",
        "knock-rotator-nftables.service",
        "knock-rotator-oneshot.service",
        "knock-rotator.timer",
    ] {
        let text = std::fs::read_to_string(root().join("dist/systemd").join(unit)).unwrap();
        assert!(
            !text.lines().any(|l| l.starts_with("Environment=")),
            "{unit}: Environment= would expose settings"
        );
        // Verify against the binary we built, where the unit expects /usr/local/bin.
        let text = text.replace("/usr/local/bin/knock-rotator", bin.to_str().unwrap());
        std::fs::write(work.path().join(unit), text).unwrap();
    }
    for unit in [
        "knock-rotator.service",
        "knock-rotator-nftables.service",
        "knock-rotator-oneshot.service",
        "knock-rotator.timer",
    ] {
        let out = tool("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(work.path().join(unit))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        // knockd.service is not installed here; anything else is a finding.
        let findings: Vec<_> = said
            .lines()
            .filter(|l| !l.contains("knockd.service"))
            .collect();
        assert!(
            out.status.success() && findings.is_empty(),
            "{unit}: {said}"
        );
    }
}

#[test]
fn openwrt_script_parses() {
    common::succeed(
        tool("sh")
            .arg("-n")
            .arg(root().join("dist/openwrt/knock-rotator.init")),
        "sh -n knock-rotator.init",
    );
}

#[test]
fn example_config_rotates() {
    let work = common::TempDir::new("example");
    let conf = work.path().join("knockd.conf");
    std::fs::copy(root().join("dist/knockd.conf.example"), &conf).unwrap();
    let r = common::run(
        common::cmd(&[("KNOCKD_ROTATOR_SECRET", common::SECRET)])
            .args(["rotate", "--no-reload", "--no-boundary-run", "--config"])
            .arg(&conf),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("rotated 1 of 1 rotator door"),
        "{}",
        r.stdout
    );
}

/// bash completes applets, options and option values; the zsh and fish
/// files parse.
#[test]
fn shell_completions() {
    let bash = root().join("dist/completions/knock-rotator.bash");
    let complete = |words: &str| {
        let script = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _knock_rotator; echo \"${{COMPREPLY[*]}}\"",
            bash.display()
        );
        common::succeed(tool("bash").args(["-c", &script]), "bash completion")
            .trim()
            .to_string()
    };
    assert_eq!(complete("knock-rotator ge"), "generate");
    assert_eq!(
        complete("knock-rotator generate ssh --format ''"),
        "plain knockd token"
    );
    assert!(complete("knock-rotator rotate --dr").contains("--dry-run"));
    assert!(complete("knock-rotate --wa").contains("--watch"));
    assert!(complete("knock --che").contains("--check"));
    assert!(complete("knock-rotator knock --ra").contains("--raw"));
    common::succeed(
        tool("zsh")
            .arg("-n")
            .arg(root().join("dist/completions/_knock-rotator")),
        "zsh -n _knock-rotator",
    );
    common::succeed(
        tool("fish")
            .arg("--no-execute")
            .arg(root().join("dist/completions/knock-rotator.fish")),
        "fish --no-execute knock-rotator.fish",
    );
}

/// The applets, and the man page that documents each.
const APPLET_PAGES: [(&str, &str); 8] = [
    ("generate", "knock-rotator.1"),
    ("knock", "knock.1"),
    ("rotate", "knock-rotate.8"),
    ("status", "knock-rotate.8"),
    ("fingerprint", "knock-rotator.1"),
    ("config", "knock-rotator.1"),
    ("new-secret", "knock-rotator.1"),
    ("profile", "knock-rotate.8"),
];

/// The options an applet's `--help` lists (`-d, --delay MS  ...` gives
/// `-d` and `--delay`).
fn usage_options(applet: &str) -> Vec<String> {
    let r = common::run(common::cmd::<&str, &str>(&[]).args([applet, "--help"]));
    assert_eq!(r.code, 0, "{applet} --help: {}", r.stderr);
    let section = r.stdout.split("\nOptions:\n").nth(1).unwrap_or_default();
    let mut opts = Vec::new();
    for line in section.lines().take_while(|l| !l.trim().is_empty()) {
        let line = line.trim_start();
        if !line.starts_with('-') {
            continue; // a description's second line
        }
        let spec = line.split("  ").next().unwrap();
        for item in spec.split(", ") {
            opts.push(item.split(' ').next().unwrap().to_string());
        }
    }
    assert!(opts.contains(&"--help".to_string()), "{applet}: {opts:?}");
    opts
}

/// Whether `opt` stands in `text` as a whole word (not as the start of a
/// longer option: `--check` in `--check-timeout` does not count).
fn mentions(text: &str, opt: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-';
    text.match_indices(opt).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(word)
            && !text[i + opt.len()..].chars().next().is_some_and(word)
    })
}

/// Every option of every applet's usage text is in its man page and is
/// offered by the bash, zsh and fish completions, through each name.
#[test]
fn options_are_documented_and_completed() {
    let dir = root().join("dist/completions");
    let bash = |words: &str| {
        let script = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _knock_rotator; echo \"${{COMPREPLY[*]}}\"",
            dir.join("knock-rotator.bash").display()
        );
        common::succeed(tool("bash").args(["-c", &script]), "bash completion")
    };
    let fish = |line: &str| {
        let script = format!(
            "source {}; complete -C'{line}'",
            dir.join("knock-rotator.fish").display()
        );
        let out = common::succeed(tool("fish").args(["-c", &script]), "fish completion");
        out.lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let zsh = std::fs::read_to_string(dir.join("_knock-rotator")).unwrap();
    let mut missing = Vec::new();
    for (applet, page) in APPLET_PAGES {
        let man = std::fs::read_to_string(root().join("man").join(page))
            .unwrap()
            .replace("\\-", "-");
        let zsh_list = zsh
            .split(&format!("local -a {}_opts=(", applet.replace('-', "_")))
            .nth(1)
            .and_then(|rest| rest.split("\nlocal ").next())
            .unwrap_or_default()
            .replace("$common", "{-h,--help} {-V,--version}")
            .replace("$profile_common", "{-p,--profile} --config-file");
        let mut offered = vec![
            ("bash", bash(&format!("knock-rotator {applet} -"))),
            ("fish", fish(&format!("knock-rotator {applet} -"))),
            ("zsh", zsh_list),
        ];
        let link = match applet {
            "knock" => Some("knock"),
            "rotate" => Some("knock-rotate"),
            _ => None,
        };
        if let Some(link) = link {
            offered.push(("bash (link)", bash(&format!("{link} -"))));
            offered.push(("fish (link)", fish(&format!("{link} -"))));
        }
        for opt in usage_options(applet) {
            if !mentions(&man, &opt) {
                missing.push(format!("{applet} {opt}: not in man/{page}"));
            }
            for (what, list) in &offered {
                if !mentions(list, &opt) {
                    missing.push(format!("{applet} {opt}: not offered by {what}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Cargo.toml says MIT: the LICENSE file says so too, and the package
/// metadata a registry or a packager reads is there.
#[test]
fn license_and_package_metadata() {
    let license = std::fs::read_to_string(root().join("LICENSE")).unwrap();
    assert!(license.starts_with("MIT License"), "{license}");
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for key in [
        "license = \"MIT\"",
        "readme = \"README.md\"",
        "keywords = [",
        "categories = [",
        "description = ",
    ] {
        assert!(manifest.contains(key), "Cargo.toml lacks {key}");
    }
}

/// An option that takes a word from a list completes that list, not file
/// names: `generate --format` in bash and fish (zsh: its spec lists them).
#[test]
fn format_completes_its_values_not_files() {
    let dir = root().join("dist/completions");
    // A directory with files, so that file completion would show itself.
    let work = common::TempDir::new("complete");
    std::fs::write(work.path().join("plainfile"), "").unwrap();
    let script = format!(
        "cd {}; source {}; COMP_WORDS=(knock-rotator generate --format ''); COMP_CWORD=3; _knock_rotator; echo \"${{COMPREPLY[*]}}\"",
        work.path().display(),
        dir.join("knock-rotator.bash").display()
    );
    let bash = common::succeed(tool("bash").args(["-c", &script]), "bash completion");
    assert_eq!(bash.trim(), "plain knockd token");
    let script = format!(
        "cd {}; source {}; complete -C'knock-rotator generate --format '",
        work.path().display(),
        dir.join("knock-rotator.fish").display()
    );
    let fish = common::succeed(tool("fish").args(["-c", &script]), "fish completion");
    let words: Vec<&str> = fish
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(words, ["knockd", "plain", "token"], "{fish}");
    let zsh = std::fs::read_to_string(dir.join("_knock-rotator")).unwrap();
    assert!(zsh.contains("'--format[output form]:format:(plain knockd token)'"));
}
