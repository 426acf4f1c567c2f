# What the OpenWrt packages install, the .ipk (build.sh) and the .apk
# (build-apk.sh) alike. Sourced; needs $src (the source tree).

# The files a user edits, kept across upgrades.
CONFFILES=/etc/config/knock-rotator

# stage_files EXECUTABLE DIR: the package's files under DIR.
stage_files() {
    local exe=$1 data=$2
    install -D -m 755 "$exe" "$data/usr/bin/knock-rotator"
    ln -s knock-rotator "$data/usr/bin/knock-rotate"
    install -D -m 755 "$src/dist/openwrt/knock-rotator.init" "$data/etc/init.d/knock-rotator"
    install -D -m 600 "$src/dist/openwrt/knock-rotator.config" "$data/etc/config/knock-rotator"
    install -D -m 644 "$src/dist/openwrt/knock-rotator.keep" "$data/lib/upgrade/keep.d/knock-rotator"
    # The nftables backend's table, included by fw4 at every start and reload.
    install -D -m 644 "$src/dist/openwrt/knock-rotator.nft" "$data/usr/share/nftables.d/ruleset-post/knock-rotator.nft"
    install -d -m 700 "$data/etc/knock-rotator"
}
