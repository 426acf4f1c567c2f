#!/usr/bin/env bash
# Makes the OpenWrt package (.ipk, for opkg: OpenWrt 24.10 and older) from a
# release executable, laid out as OpenWrt's ipkg-build does it: a gzipped
# tar of debian-binary, control.tar.gz and data.tar.gz.
#   dist/openwrt/build.sh EXECUTABLE OPENWRT_ARCH VERSION OUTDIR
# The .apk of OpenWrt 25.12 and later, with the same files: build-apk.sh.
# No /usr/bin/knock: third-party knockd packages ship their client there.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: dist/openwrt/build.sh EXECUTABLE OPENWRT_ARCH VERSION OUTDIR" >&2; exit 2; }
exe=$1 arch=$2 version=$3 out=$4
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022
data=$work/data ctrl=$work/control
mkdir -p "$data" "$ctrl"

. "$src/dist/openwrt/files.sh"
stage_files "$exe" "$data"
echo "$CONFFILES" >"$ctrl/conffiles"
cat >"$ctrl/control" <<CONTROL
Package: knock-rotator
Version: $version
Source: knock-rotator
SourceName: knock-rotator
License: MIT
LicenseFiles: LICENSE
Section: net
Architecture: $arch
Installed-Size: $(du -sb "$data" | cut -f1)
Description: Rotating port-knock sequences for knockd: one static executable that
 rewrites the sequences of knockd's [*_ROTATOR] doors every period and
 reloads knockd through procd. Settings in /etc/config/knock-rotator.
CONTROL
# OpenWrt's own maintainer scripts: enable the service on install (it
# starts once a secret is there), disable and stop it on removal.
cat >"$ctrl/postinst" <<'SCRIPT'
#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_postinst $0 $@
SCRIPT
cat >"$ctrl/prerm" <<'SCRIPT'
#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_prerm $0 $@
SCRIPT
chmod 755 "$ctrl/postinst" "$ctrl/prerm"

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)}
tgz() { # tgz OUT DIR: a reproducible tar.gz of DIR's contents
    tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$2" -cf - . | gzip -9n >"$1"
}
tgz "$work/data.tar.gz" "$data"
tgz "$work/control.tar.gz" "$ctrl"
echo 2.0 >"$work/debian-binary"
mkdir -p "$out"
ipk=$out/knock-rotator_${version}_$arch.ipk
tar --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$work" -cf - \
    ./debian-binary ./control.tar.gz ./data.tar.gz | gzip -9n >"$ipk"
echo "$ipk"
