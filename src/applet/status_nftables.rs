//! `status --backend nftables`: the live table's view of every door of the
//! doors file, as text or `--json` (schema 1 with "backend":"nftables", in
//! knock-rotate(8)). No sequence or secret is printed.

use super::Ctx;
use super::fingerprint::fingerprint;
use crate::cli;
use crate::clock;
use crate::error::{Error, Result};
use crate::json;
use crate::server::doors::DoorsFile;
use crate::server::nftables::door::{self, Door};
use crate::server::nftables::layout::TABLE;
use crate::server::nftables::nft;
use crate::server::nftables::status::{Holds, Report, report};
use crate::settings::Settings;

pub fn run(ctx: &Ctx, doors_file: &DoorsFile, now: u64, as_json: bool) -> Result<()> {
    let env = Settings::load(&ctx.env);
    let loaded = doors_file.load(&env)?;
    let doors = door::doors(&loaded)?;
    let nft = nft::find(&ctx.env)?;
    let r = report(&nft, &doors, now)?;
    let bad = r.rows.iter().filter(|r| r.holds != Holds::Current).count();
    cli::out(&if as_json {
        to_json(&doors, &r, now, bad == 0 && r.installed)
    } else {
        to_text(&doors, &r, now)
    })?;
    if !r.installed {
        return Err(Error::failure(format!(
            "table {TABLE} is not installed; run 'knock-rotator rotate --backend nftables'"
        )));
    }
    match bad {
        0 => Ok(()),
        n => Err(Error::failure(format!(
            "{n} door{} not current in table {TABLE}; run 'knock-rotator rotate --backend nftables'",
            if n == 1 { " is" } else { "s are" }
        ))),
    }
}

fn state(holds: Holds) -> &'static str {
    match holds {
        Holds::Current => "current",
        Holds::Previous => {
            "stale: holds the periods of one period ago (is the timer or watch running?)"
        }
        Holds::Other => "stale: holds other periods or settings than these",
        Holds::Missing => "not in the table",
    }
}

fn to_text(doors: &[Door], r: &Report, now: u64) -> String {
    let mut out = format!(
        "table {TABLE}: {}\n",
        if r.installed {
            "installed"
        } else {
            "not installed"
        }
    );
    for (d, row) in doors.iter().zip(&r.rows) {
        let name = String::from_utf8_lossy(&d.name);
        let open: Vec<String> = d
            .open
            .iter()
            .map(|k| format!("{}/{}", k.port, k.proto.as_str()))
            .collect();
        out.push_str(&format!(
            "  [{name}] (line {}): {}; opens {}\n",
            d.line,
            state(row.holds),
            open.join(", ")
        ));
        let start = now / d.settings.period * d.settings.period;
        let end = start + d.settings.period;
        out.push_str(&format!(
            "    period {} s, next boundary {} (in {}), fingerprint {}\n",
            d.settings.period,
            clock::utc(end),
            clock::span(end - now),
            fingerprint(d.settings)
        ));
        if let Some(until) = row.until.filter(|_| row.holds != Holds::Missing) {
            let left = if until > now {
                format!("in {}", clock::span(until - now))
            } else {
                "past".into()
            };
            out.push_str(&format!(
                "    opens without another rotation until {} ({left}); {} source{} allowed now\n",
                clock::utc(until),
                row.allowed,
                if row.allowed == 1 { "" } else { "s" }
            ));
        }
    }
    for w in &r.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

fn to_json(doors: &[Door], r: &Report, now: u64, ok: bool) -> String {
    let rows: Vec<String> = doors
        .iter()
        .zip(&r.rows)
        .map(|(d, row)| {
            let start = now / d.settings.period * d.settings.period;
            let open: Vec<String> = d
                .open
                .iter()
                .map(|k| json::string(format!("{}/{}", k.port, k.proto.as_str()).as_bytes()))
                .collect();
            format!(
                "{{\"name\":{},\"line\":{},\"holds\":\"{}\",\"period\":{},\"period_start\":{start},\
                 \"next_boundary\":{},\"until\":{},\"allowed_sources\":{},\"open\":[{}],\
                 \"fingerprint\":\"{}\"}}",
                json::string(&d.name),
                d.line,
                row.holds.key(),
                d.settings.period,
                start + d.settings.period,
                row.until.map_or("null".into(), |u| u.to_string()),
                row.allowed,
                open.join(","),
                fingerprint(d.settings)
            )
        })
        .collect();
    let warnings: Vec<String> = r
        .warnings
        .iter()
        .map(|w| json::string(w.as_bytes()))
        .collect();
    format!(
        "{{\"schema\":1,\"backend\":\"nftables\",\"now\":{now},\"table\":\"{TABLE}\",\
         \"installed\":{},\"ok\":{ok},\"doors\":[{}],\"warnings\":[{}]}}\n",
        r.installed,
        rows.join(","),
        warnings.join(",")
    )
}
