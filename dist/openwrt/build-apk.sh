#!/usr/bin/env bash
# Makes the OpenWrt package for apk (OpenWrt 25.12 and later) from a release
# executable, with the files of the .ipk, as OpenWrt's own build does it
# (include/package-pack.mk): the file list and conffiles (with their sums)
# under /lib/apk/packages/, and OpenWrt's post-install, post-upgrade and
# pre-deinstall scripts, made by apk-tools 3's 'apk mkpkg'.
#   dist/openwrt/build-apk.sh EXECUTABLE OPENWRT_ARCH VERSION OUTDIR
# VERSION is apk's X.Y.Z-rN. The same commit gives the same bytes: every
# time in it is SOURCE_DATE_EPOCH (the commit's time), every owner root.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: dist/openwrt/build-apk.sh EXECUTABLE OPENWRT_ARCH VERSION OUTDIR" >&2; exit 2; }
exe=$1 arch=$2 version=$3 out=$4
case $version in *-r[0-9]*) ;; *) echo "build-apk.sh: VERSION $version is not X.Y.Z-rN" >&2; exit 2 ;; esac
src=$(cd "$(dirname "$0")/../.." && pwd)
apk=$("$src/dist/openwrt/apk-tools.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022
files=$work/files scripts=$work/scripts
mkdir -p "$scripts"
. "$src/dist/openwrt/files.sh"
stage_files "$exe" "$files"

# What OpenWrt's apk packages record for their own tools (sysupgrade, the
# package-manager wrappers): every file, and the conffiles with their sums.
meta=$files/lib/apk/packages
mkdir -p "$meta"
(cd "$files" && find . -type f,l -printf "/%P\n" | LC_ALL=C sort) >"$work/list"
mv "$work/list" "$meta/knock-rotator.list"
echo "$CONFFILES" >"$meta/knock-rotator.conffiles"
for f in $CONFFILES; do
    echo "$f $(sha256sum "$files$f" | cut -d' ' -f1)"
done >"$meta/knock-rotator.conffiles_static"

# OpenWrt's scripts: enable the service on install (it starts once a secret
# is there), disable and stop it before removal; nothing in a build root.
cat >"$scripts/post-install" <<'SCRIPT'
#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
export root="${IPKG_INSTROOT}"
export pkgname="knock-rotator"
add_group_and_user
default_postinst
SCRIPT
{ echo "#!/bin/sh"; echo "export PKG_UPGRADE=1"; sed '/^\s*#!/d' "$scripts/post-install"; } >"$scripts/post-upgrade"
cat >"$scripts/pre-deinstall" <<'SCRIPT'
#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
export root="${IPKG_INSTROOT}"
export pkgname="knock-rotator"
default_prerm
SCRIPT

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)}
find "$files" "$scripts" -exec touch -h -d "@$epoch" {} +
mkdir -p "$out"
pkg=$(cd "$out" && pwd)/knock-rotator-${version}_$arch.apk
rm -f "$pkg"
mkpkg=("$apk" mkpkg
    --info "name:knock-rotator" --info "version:$version"
    --info "description:Rotating port-knock sequences: one static executable that knocks, and rotates the sequences of knockd doors or of its own nftables table"
    --info "arch:$arch" --info "license:MIT" --info "origin:knock-rotator"
    --script "post-install:$scripts/post-install" --script "post-upgrade:$scripts/post-upgrade"
    --script "pre-deinstall:$scripts/pre-deinstall"
    --files "$files" --output "$pkg")
if [ "$(id -u)" = 0 ]; then
    chown -R 0:0 "$files"
    SOURCE_DATE_EPOCH=$epoch "${mkpkg[@]}"
elif command -v fakeroot >/dev/null; then
    SOURCE_DATE_EPOCH=$epoch fakeroot -- sh -c 'chown -R 0:0 "$0" && exec "$@"' "$files" "${mkpkg[@]}"
else
    echo "build-apk.sh: run as root or install fakeroot: the package's files must belong to root" >&2; exit 1
fi
echo "$pkg"
