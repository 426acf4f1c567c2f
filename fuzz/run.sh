#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, one at a time (two
# cores), from the committed seeds plus a working corpus kept in
# target/fuzz-corpus/. Prints each target's executions; fails on a finding,
# leaving the input in fuzz/artifacts/TARGET/ (make it a seed, fix, rerun).
# `just fuzz [SECONDS]` and tests/run (briefly) call it. Installs
# cargo-fuzz and the pinned nightly (dist/build.sh's) when missing.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
nightly=$(sed -n 's/^NIGHTLY=//p' ../dist/build.sh)
rustup run "$nightly" rustc --version >/dev/null 2>&1 ||
    rustup toolchain install "$nightly" --profile minimal --component rust-src,llvm-tools
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
cargo "+$nightly" fuzz build -O >build.log 2>&1 || { tail -20 build.log >&2; exit 1; }
failed=0
for src in fuzz_targets/*.rs; do
    t=$(basename "$src" .rs)
    mkdir -p "../target/fuzz-corpus/$t"
    log=../target/fuzz-corpus/$t.log
    if cargo "+$nightly" fuzz run -O "$t" "../target/fuzz-corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") executions in ${seconds} s, no finding"
    else
        echo "fuzz $t: FINDING; the input is in fuzz/artifacts/$t/:" >&2
        grep -E "panicked|SUMMARY|ERROR" "$log" | head -5 >&2
        failed=1
    fi
done
exit $failed
