# The OpenWrt packages for apk (OpenWrt 25.12 and later) from `just dist`,
# installed, upgraded and removed by the real apk-tools 3 in scratch roots:
# each installs and `apk info` lists it; its executable is of the CPU its
# arch names; the files, modes and links are the .ipk's; OpenWrt's scripts
# run; the init script parses under busybox ash. An upgrade keeps an edited
# UCI config (the package's default set aside as .apk-new, as apk does for
# every file under /etc) and the secret; `apk del` removes our files but
# the edited config and the secret. The same commit gives the same bytes.
# Environment: DIST (target/dist), WORK, APK (apk-tools 3), SRC (the tree).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }
. "$(dirname "$0")/openwrt_arch.sh"

apks=("$DIST"/knock-rotator-*.apk)
[ ${#apks[@]} = 9 ] || fail "expected 9 .apk files in $DIST, found ${#apks[@]}"
# knock-rotator_VERSION-1_ARCH.ipk beside knock-rotator-VERSION-r1_ARCH.apk
# (a version has no '_'; an arch may).
for ipk in "$DIST"/knock-rotator_*.ipk; do
    b=$(basename "$ipk" .ipk); b=${b#knock-rotator_}; a=${b#*_} v=${b%%_*}
    [ -f "$DIST/knock-rotator-${v%-1}-r1_$a.apk" ] || fail "no .apk beside $(basename "$ipk")"
done

# A root as apk finds one on a router, with a busybox for the scripts and
# an /lib/functions.sh that records what OpenWrt's would do.
new_root() {
    local r=$1
    mkdir -p "$r/bin" "$r/lib"
    cp "$(command -v busybox)" "$r/bin/busybox"
    ln -s busybox "$r/bin/sh"
    cat >"$r/lib/functions.sh" <<'EOF'
add_group_and_user() { echo "add_group_and_user $pkgname" >>/calls; }
default_postinst() { echo "default_postinst $pkgname upgrade=${PKG_UPGRADE:-0}" >>/calls; }
default_prerm() { echo "default_prerm $pkgname" >>/calls; }
EOF
}
apk_in() { local r=$1; shift; "$APK" --root "$r" --no-network --allow-untrusted "$@"; }

for pkg in "${apks[@]}"; do
    name=$(basename "$pkg")
    b=${name%.apk}; b=${b#knock-rotator-}; ver=${b%%_*} arch=${b#*_}
    r=$WORK/root-$arch
    new_root "$r"
    # A router of that arch: --initdb records it in /etc/apk/arch.
    apk_in "$r" add --initdb --arch "$arch" "$pkg" >"$WORK/add.log" 2>&1 || fail "$name: apk add: $(cat "$WORK/add.log")"
    apk_in "$r" info -v 2>/dev/null | grep -x "knock-rotator-$ver" >/dev/null || fail "$name: apk info: $(apk_in "$r" info -v)"
    [ "$(cat "$r/etc/apk/arch")" = "$arch" ] || fail "$name: arch $(cat "$r/etc/apk/arch")"
    grep -qx "add_group_and_user knock-rotator" "$r/calls" && grep -qx "default_postinst knock-rotator upgrade=0" "$r/calls" ||
        fail "$name: post-install did not run as OpenWrt's: $(cat "$r/calls" 2>/dev/null)"
    exe=$r/usr/bin/knock-rotator
    check_arch "$name" "$arch" "$exe"
    # The same files as the .ipk for this arch, with the same modes.
    ipk=$DIST/knock-rotator_${ver%-r1}-1_$arch.ipk
    mkdir -p "$WORK/ipk-$arch/outer" "$WORK/ipk-$arch/data"
    tar -xzf "$ipk" -C "$WORK/ipk-$arch/outer"
    tar -xzf "$WORK/ipk-$arch/outer/data.tar.gz" -C "$WORK/ipk-$arch/data"
    (cd "$r" && find ./etc/config ./etc/init.d ./etc/knock-rotator ./usr ./lib/upgrade -printf '%p %M %U\n' | sort) |
        grep -v '^\./etc \|^\./lib ' >"$WORK/apk.files"
    (cd "$WORK/ipk-$arch/data" && find . -mindepth 1 -printf '%p %M %U\n' | sort | grep -v '^\./etc \|^\./lib ') >"$WORK/ipk.files"
    diff "$WORK/ipk.files" "$WORK/apk.files" >&2 || fail "$name: files differ from the .ipk's"
    for f in usr/bin/knock-rotator etc/init.d/knock-rotator; do
        cmp -s "$r/$f" "$WORK/ipk-$arch/data/$f" || fail "$name: /$f differs from the .ipk's"
    done
    [ "$(readlink "$r/usr/bin/knock-rotate")" = knock-rotator ] || fail "$name: knock-rotate link"
    [ "$(cat "$r/lib/upgrade/keep.d/knock-rotator")" = /etc/knock-rotator/ ] || fail "$name: keep.d"
    [ "$(cat "$r/lib/apk/packages/knock-rotator.conffiles")" = /etc/config/knock-rotator ] || fail "$name: conffiles"
    [ "$(cat "$r/lib/apk/packages/knock-rotator.conffiles_static")" = \
      "/etc/config/knock-rotator $(sha256sum "$r/etc/config/knock-rotator" | cut -d' ' -f1)" ] || fail "$name: conffiles_static"
    grep -qx /usr/bin/knock-rotator "$r/lib/apk/packages/knock-rotator.list" || fail "$name: file list"
    busybox sh -n "$r/etc/init.d/knock-rotator" || fail "$name: busybox ash cannot parse the init script"
done
note "${#apks[@]} .apk packages install with apk-tools $("$APK" --version | cut -d' ' -f2 | tr -d ,)"

# Reproducible: the same commit makes the same bytes.
x86=$(ls "$DIST"/knock-rotator-*_x86_64.apk)
version=$(basename "$x86" _x86_64.apk); version=${version#knock-rotator-}
"$SRC/dist/openwrt/build-apk.sh" "$DIST/knock-rotator-x86_64-unknown-linux-musl" x86_64 "$version" "$WORK/again" >/dev/null
cmp "$x86" "$WORK/again/$(basename "$x86")" || fail "the same commit made a different .apk"

# Upgrade to a higher release: the edited config and the secret stay; the
# package's new default is set aside as .apk-new.
r=$WORK/upgrade
new_root "$r"
apk_in "$r" add --initdb "$x86" >/dev/null 2>&1 || fail "install for the upgrade"
echo "	option backend 'nftables'" >>"$r/etc/config/knock-rotator"
cp "$r/etc/config/knock-rotator" "$WORK/edited"
(umask 077; echo "a router's secret, never ours to delete" >"$r/etc/knock-rotator/secret")
next=${version%-r*}-r$(( ${version##*-r} + 1 ))
"$SRC/dist/openwrt/build-apk.sh" "$DIST/knock-rotator-x86_64-unknown-linux-musl" x86_64 "$next" "$WORK/next" >/dev/null
apk_in "$r" add "$WORK/next/knock-rotator-${next}_x86_64.apk" >"$WORK/upgrade.log" 2>&1 || fail "upgrade: $(cat "$WORK/upgrade.log")"
grep -q "Upgrading knock-rotator ($version -> $next)" "$WORK/upgrade.log" || fail "not an upgrade: $(cat "$WORK/upgrade.log")"
apk_in "$r" info -v | grep -x "knock-rotator-$next" >/dev/null || fail "after the upgrade: $(apk_in "$r" info -v)"
cmp -s "$r/etc/config/knock-rotator" "$WORK/edited" || fail "the upgrade lost the edited config"
cmp -s "$r/etc/config/knock-rotator.apk-new" "$SRC/dist/openwrt/knock-rotator.config" || fail "no .apk-new with the new default"
[ "$(stat -c %a "$r/etc/config/knock-rotator.apk-new")" = 600 ] || fail ".apk-new mode"
[ -s "$r/etc/knock-rotator/secret" ] || fail "the upgrade lost the secret"
grep -qx "default_postinst knock-rotator upgrade=1" "$r/calls" || fail "post-upgrade: $(cat "$r/calls")"

# Removal: our files go; the edited config and the secret stay.
apk_in "$r" del knock-rotator >"$WORK/del.log" 2>&1 || fail "apk del: $(cat "$WORK/del.log")"
grep -qx "default_prerm knock-rotator" "$r/calls" || fail "pre-deinstall: $(cat "$r/calls")"
for f in usr/bin/knock-rotator usr/bin/knock-rotate etc/init.d/knock-rotator lib/upgrade/keep.d/knock-rotator \
         usr/share/nftables.d/ruleset-post/knock-rotator.nft lib/apk/packages/knock-rotator.list \
         etc/config/knock-rotator.apk-new; do
    [ ! -e "$r/$f" ] && [ ! -L "$r/$f" ] || fail "apk del left /$f"
done
cmp -s "$r/etc/config/knock-rotator" "$WORK/edited" || fail "apk del removed the edited config"
[ -s "$r/etc/knock-rotator/secret" ] || fail "apk del removed the secret"
[ -z "$(apk_in "$r" info 2>/dev/null)" ] || fail "still installed: $(apk_in "$r" info)"

# An unedited config goes with the package.
r=$WORK/plain
new_root "$r"
apk_in "$r" add --initdb "$x86" >/dev/null 2>&1 && apk_in "$r" del knock-rotator >/dev/null 2>&1 || fail "add and del"
[ ! -e "$r/etc/config/knock-rotator" ] || fail "apk del left the unedited config"
note "upgrade keeps the edited config (new default as .apk-new) and the secret; del removes ours, keeps those"
