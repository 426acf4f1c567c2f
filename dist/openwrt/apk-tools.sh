#!/usr/bin/env bash
# Prints the path of an apk-tools 3 'apk' that can make packages: $APK if
# set, else an 'apk' 3.x on PATH, else one built once from the vendored
# source (vendor/apk-tools-3.0.6.tar.gz, checked against its sum) into
# target/apk-tools/. Building needs meson, ninja, pkg-config and the
# OpenSSL and zlib headers (Debian: meson ninja-build pkg-config libssl-dev
# zlib1g-dev; installed here when missing, as root with apt-get).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
version=3.0.6
sum=8a1b1abd48ee2610a4d229c111757aebeda8f8c8f76d5f49fb8162ec5c19b5a6
die() { echo "dist/openwrt/apk-tools.sh: $*" >&2; exit 1; }

is_v3() { "$1" --version 2>/dev/null | grep '^apk-tools 3\.' >/dev/null; }
if [ -n "${APK:-}" ]; then
    is_v3 "$APK" || die "APK=$APK is not apk-tools 3"
    echo "$APK"; exit 0
fi
if command -v apk >/dev/null && is_v3 apk; then command -v apk; exit 0; fi

out=$src/target/apk-tools/$version
if [ -x "$out/build/src/apk" ] && is_v3 "$out/build/src/apk"; then echo "$out/build/src/apk"; exit 0; fi
deps="meson ninja-build pkg-config libssl-dev zlib1g-dev"
have() { command -v meson && command -v ninja && command -v pkg-config && [ -e /usr/include/openssl/ssl.h ] && [ -e /usr/include/zlib.h ]; } >/dev/null
if ! have && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "dist/openwrt/apk-tools.sh: installing $deps" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $deps >/dev/null
fi
have || die "building apk-tools needs $deps (Debian's names); install them"
tarball=$src/vendor/apk-tools-$version.tar.gz
echo "$sum  $tarball" | sha256sum -c --quiet - >&2 || die "$tarball does not match its sum"
rm -rf "$out" && mkdir -p "$out"
tar -xzf "$tarball" -C "$out" --strip-components=1
# No help texts, documentation, Lua or Python: only the tool.
(cd "$out" && meson setup build -Dlua=disabled -Ddocs=disabled -Dpython=disabled -Dtests=disabled \
    && ninja -C build) >"$out/build.log" 2>&1 || die "building apk-tools failed; see $out/build.log"
is_v3 "$out/build/src/apk" || die "the built apk does not run; see $out/build.log"
echo "$out/build/src/apk"
