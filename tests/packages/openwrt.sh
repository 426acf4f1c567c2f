# The OpenWrt packages from `just dist`, checked as opkg unpacks them (no
# opkg or OpenWrt system can be had here): a gzipped tar of debian-binary,
# control.tar.gz and data.tar.gz; control fields opkg reads, with an
# Architecture whose executable is of that CPU; the files, modes and links;
# the UCI config a conffile; the secret's directory kept across sysupgrade;
# the init script parsing under busybox ash; no /usr/bin/knock.
# Environment: DIST (target/dist), WORK.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }
. "$(dirname "$0")/openwrt_arch.sh"

ipks=("$DIST"/knock-rotator_*.ipk)
[ ${#ipks[@]} = 9 ] || fail "expected 9 .ipk files in $DIST, found ${#ipks[@]}"
for ipk in "${ipks[@]}"; do
    name=$(basename "$ipk")
    d=$WORK/${name%.ipk}
    mkdir -p "$d/outer" "$d/control" "$d/data"
    [ "$(tar -tzf "$ipk" | tr '\n' ' ')" = "./debian-binary ./control.tar.gz ./data.tar.gz " ] ||
        fail "$name: members $(tar -tzf "$ipk" | tr '\n' ' ')"
    tar -xzf "$ipk" -C "$d/outer"
    [ "$(cat "$d/outer/debian-binary")" = 2.0 ] || fail "$name: debian-binary"
    tar -xzf "$d/outer/control.tar.gz" -C "$d/control"
    tar -xzf "$d/outer/data.tar.gz" -C "$d/data"
    field() { sed -n "s/^$1: //p" "$d/control/control"; }
    [ "$(field Package)" = knock-rotator ] || fail "$name: Package"
    arch=$(field Architecture)
    [ "$name" = "knock-rotator_$(field Version)_$arch.ipk" ] || fail "$name: name, Version and Architecture disagree"
    [ "$(field Installed-Size)" -gt 100000 ] || fail "$name: Installed-Size"
    [ "$(cat "$d/control/conffiles")" = /etc/config/knock-rotator ] || fail "$name: conffiles"
    for s in postinst prerm; do
        [ -x "$d/control/$s" ] && grep -q "default_$s" "$d/control/$s" || fail "$name: $s"
    done
    exe=$d/data/usr/bin/knock-rotator
    check_arch "$name" "$arch" "$exe"
    [ "$(stat -c %a "$exe")" = 755 ] || fail "$name: executable mode"
    [ "$(readlink "$d/data/usr/bin/knock-rotate")" = knock-rotator ] || fail "$name: knock-rotate link"
    [ ! -e "$d/data/usr/bin/knock" ] && [ ! -L "$d/data/usr/bin/knock" ] || fail "$name: ships /usr/bin/knock"
    [ "$(stat -c %a "$d/data/etc/init.d/knock-rotator")" = 755 ] || fail "$name: init script mode"
    busybox sh -n "$d/data/etc/init.d/knock-rotator" || fail "$name: busybox ash cannot parse the init script"
    grep -q "^config knock-rotator 'main'" "$d/data/etc/config/knock-rotator" || fail "$name: UCI config"
    [ "$(stat -c %a "$d/data/etc/knock-rotator")" = 700 ] || fail "$name: /etc/knock-rotator mode"
    [ "$(cat "$d/data/lib/upgrade/keep.d/knock-rotator")" = /etc/knock-rotator/ ] || fail "$name: keep.d"
    inc=$d/data/usr/share/nftables.d/ruleset-post/knock-rotator.nft
    [ "$(stat -c %a "$inc")" = 644 ] || fail "$name: fw4 include mode"
    grep -qx 'include "/var/run/knock-rotator/\*.nft"' "$inc" || fail "$name: fw4 include: $(cat "$inc")"
    [ -z "$(find "$d/data" ! -user 0)" ] || fail "$name: files not owned by root"
done
note "${#ipks[@]} .ipk packages laid out as opkg expects"
