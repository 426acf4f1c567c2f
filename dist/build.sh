#!/usr/bin/env bash
# Builds the release executables: dist/build.sh TARGET... leaves each in
# target/TARGET/dist/knock-rotator, static, stripped and at most 512 KiB.
# `just dist` calls it for every target and adds SHA256SUMS.
#
# How, and why (sizes on x86_64 / mipsel, measured 2026-11-24):
# - a pinned nightly builds std itself (-Z build-std): no prebuilt std exists
#   here for the 32-bit targets, none at all for mips, and our own build of
#   std with opt-level "z" is smaller (stable opt 3: 844 KB / none);
# - panic=immediate-abort: panics print nothing and the process dies on a trap
#   instruction (SIGILL, or SIGTRAP on mips); it drops the panic and
#   formatting machinery: 748 KB -> 460 KB on x86_64;
# - force-unwind-tables=no: nothing unwinds or prints a backtrace any more
#   (34 KB on mips);
# - relocation-model=static: no PIE. PIC code on mips costs 70 KB, and zig
#   links the other targets non-PIE anyway;
# - std's optimize_for_size feature: smaller algorithms in std itself (its
#   sorts above all); 546 KB -> 508 KB on mips once the nftables backend
#   came (2026-12-01), and rotate of 1000 nftables doors stays fast;
# - sha2's compact software backend (cfg sha2_backend_soft="compact"): its
#   rounds are not unrolled; 10 KB less on mips (527 -> 517 KB with the
#   nftables backend's status, 2026-12-01); a derivation hashes a few
#   blocks, so generate's time does not change measurably;
# - fmt-debug=none and location-detail=none: `{:?}` prints nothing (only
#   tests use it) and panics carry no file and line (they print nothing
#   anyway); 1.2 KB on mips, which the netlink path for tokens needed
#   (2026-12-02);
# - zig (PyPI ziglang, through cargo-zigbuild) links against its own musl for
#   every target; llvm-objcopy then drops mips' .pdr (84 KB of procedure
#   descriptors that nothing at run time reads).
# Installs what is missing: the pinned nightly with rust-src and llvm-tools,
# and pinned ziglang and cargo-zigbuild from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

NIGHTLY=nightly-2026-05-19
ZIGLANG=0.17.1
ZIGBUILD=0.24.0
MAX=$((512 * 1024))

die() { printf 'dist/build.sh: %s\n' "$*" >&2; exit 1; }
[ $# -gt 0 ] || die "usage: dist/build.sh TARGET..."

if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 ||
   ! [ -d "$(rustup run "$NIGHTLY" rustc --print sysroot)/lib/rustlib/src/rust/library" ] ||
   ! [ -x "$(rustup run "$NIGHTLY" rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-objcopy" ]; then
    echo "dist/build.sh: installing $NIGHTLY with rust-src and llvm-tools" >&2
    rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src,llvm-tools
fi
pip_install() {
    pip install -q "$@" 2>/dev/null || pip install -q --break-system-packages "$@"
}
if [ "$(python3 -m ziglang version 2>/dev/null)" != "$ZIGLANG" ] ||
   [ "$(cargo-zigbuild --version 2>/dev/null)" != "cargo-zigbuild $ZIGBUILD" ]; then
    echo "dist/build.sh: installing ziglang $ZIGLANG and cargo-zigbuild $ZIGBUILD (PyPI)" >&2
    pip_install "ziglang==$ZIGLANG" "cargo-zigbuild==$ZIGBUILD"
fi

sysroot=$(rustup run "$NIGHTLY" rustc --print sysroot)
objcopy=$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-objcopy
target_args=()
for t in "$@"; do
    target_args+=(--target "$t")
    # rustc names the prebuilt std's directory to the linker even with
    # build-std; an empty one keeps zig from warning that it is missing.
    mkdir -p "$sysroot/lib/rustlib/$t/lib"
done

# RUSTFLAGS reach only the targets' crates, not build.rs (built for the host).
RUSTFLAGS="-C link-self-contained=no -C relocation-model=static -C force-unwind-tables=no -Z unstable-options -C panic=immediate-abort -Z fmt-debug=none -Z location-detail=none --cfg sha2_backend_soft=\"compact\"" \
    cargo "+$NIGHTLY" zigbuild --locked --profile dist "${target_args[@]}" \
    -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size

for t in "$@"; do
    exe=target/$t/dist/knock-rotator
    "$objcopy" --remove-section=.pdr "$exe"
    size=$(stat -c %s "$exe")
    [ "$size" -le "$MAX" ] || die "$exe: $size bytes, over 512 KiB"
    printf '%s\t%d bytes\n' "$exe" "$size"
done
