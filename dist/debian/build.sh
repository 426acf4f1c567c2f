#!/usr/bin/env bash
# Makes the Debian package from a release executable:
#   dist/debian/build.sh EXECUTABLE DEB_ARCH VERSION OUTDIR
# A small dpkg-deb recipe, not cargo-deb: the executable is already built
# (by dist/build.sh, with zig and a pinned nightly), which cargo-deb would
# build again, and what goes where is clearer in twenty lines of shell.
#
# No /usr/bin/knock: Debian's knockd package ships its own client there (and
# knock.1). Ours is `knock-rotator knock`, its page knock-rotator-knock(1);
# `knock-rotator --install ~/.local/bin` gives a user a `knock` link.
# The units are installed, not enabled: the admin opts in.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: dist/debian/build.sh EXECUTABLE DEB_ARCH VERSION OUTDIR" >&2; exit 2; }
exe=$1 arch=$2 version=$3 out=$4
src=$(cd "$(dirname "$0")/../.." && pwd)
tree=$(mktemp -d)
chmod 755 "$tree"
trap 'rm -rf "$tree"' EXIT
umask 022

put() { # put MODE SOURCE DEST: a file, parents made
    install -D -m "$1" "$2" "$tree/$3"
}
manpage() { # manpage SOURCE DEST: compressed as Debian wants, reproducibly
    mkdir -p "$(dirname "$tree/$2")"
    gzip -9n <"$1" >"$tree/$2"
}

put 755 "$exe" usr/bin/knock-rotator
ln -s knock-rotator "$tree/usr/bin/knock-rotate"

manpage "$src/man/knock-rotator.1" usr/share/man/man1/knock-rotator.1.gz
manpage "$src/man/knock-rotate.8" usr/share/man/man8/knock-rotate.8.gz
sed 's/^\.TH KNOCK 1/.TH KNOCK-ROTATOR-KNOCK 1/' "$src/man/knock.1" >"$tree/knock.1"
manpage "$tree/knock.1" usr/share/man/man1/knock-rotator-knock.1.gz
rm "$tree/knock.1"

# Completions for our two names only: `knock` is knockd's here.
mkdir -p "$tree/usr/share/bash-completion/completions" "$tree/usr/share/zsh/vendor-completions" \
    "$tree/usr/share/fish/vendor_completions.d"
sed 's/^complete -F _knock_rotator knock-rotator knock knock-rotate$/complete -F _knock_rotator knock-rotator knock-rotate/' \
    "$src/dist/completions/knock-rotator.bash" >"$tree/usr/share/bash-completion/completions/knock-rotator"
ln -s knock-rotator "$tree/usr/share/bash-completion/completions/knock-rotate"
sed 's/^#compdef knock-rotator knock knock-rotate$/#compdef knock-rotator knock-rotate/' \
    "$src/dist/completions/_knock-rotator" >"$tree/usr/share/zsh/vendor-completions/_knock-rotator"
grep -v '^__knock_rotator_options knock true knock$' "$src/dist/completions/knock-rotator.fish" \
    >"$tree/usr/share/fish/vendor_completions.d/knock-rotator.fish"
ln -s knock-rotator.fish "$tree/usr/share/fish/vendor_completions.d/knock-rotate.fish"

for unit in knock-rotator.service knock-rotator-nftables.service knock-rotator-oneshot.service knock-rotator.timer; do
    mkdir -p "$tree/lib/systemd/system"
    sed 's|/usr/local/bin/knock-rotator|/usr/bin/knock-rotator|' "$src/dist/systemd/$unit" \
        >"$tree/lib/systemd/system/$unit"
done

# The settings every device shares, all commented: installing changes nothing.
mkdir -p "$tree/etc/knock-rotator"
chmod 700 "$tree/etc/knock-rotator"
sed 's/^KNOCKD_ROTATOR_/#KNOCKD_ROTATOR_/' "$src/dist/settings.example" >"$tree/etc/knock-rotator/settings"

doc=usr/share/doc/knock-rotator
put 644 "$src/dist/knockd.conf.example" $doc/examples/knockd.conf.example
put 644 "$src/dist/keyed-sequence.sh" $doc/examples/keyed-sequence.sh
gzip -9n <"$src/README.md" >"$tree/$doc/README.md.gz"
cat >"$tree/$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: knock-rotator

Files: *
Copyright: 2026 the knock-rotator developers
License: MIT
$(sed -e 's/^$/./' -e 's/^/ /' "$src/LICENSE" | tail -n +3)
EOF
# Dates from the commit: the same commit gives the same package.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)}
date=$(date -R -u -d "@$epoch")
printf '%s\n' "knock-rotator ($version) unstable; urgency=medium" "" \
    "  * Release $version, from the static release executable." "" \
    " -- knock-rotator developers <knock-rotator@packages.invalid>  $date" |
    gzip -9n >"$tree/$doc/changelog.Debian.gz"

put 644 "$src/dist/debian/lintian-overrides" usr/share/lintian/overrides/knock-rotator

mkdir -p "$tree/DEBIAN"
echo /etc/knock-rotator/settings >"$tree/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    put 755 "$src/dist/debian/$script" "DEBIAN/$script"
done
size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
cat >"$tree/DEBIAN/control" <<EOF
Package: knock-rotator
Version: $version
Architecture: $arch
Maintainer: knock-rotator developers <knock-rotator@packages.invalid>
Installed-Size: $size
Section: net
Priority: optional
Recommends: knockd
Description: rotating port-knock sequences for knockd
 A knock sequence that never changes can be replayed by anyone who once saw
 it. knock-rotator derives a fresh sequence every period from the period's
 start, the service name and a shared secret, so every phone and server
 computes the same sequence with no communication.
 .
 One static executable: 'knock-rotator generate' prints the sequence,
 'knock-rotator knock' sends it, and 'knock-rotate' rewrites the sequences
 of knockd's [*_ROTATOR] doors and makes knockd reload. The systemd units
 are installed but not enabled.
EOF
mkdir -p "$out"
deb=$out/knock-rotator_${version}_$arch.deb
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$tree" "$deb" >/dev/null
echo "$deb"
