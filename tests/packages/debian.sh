# The Debian packages from `just dist`: lintian finds nothing (overrides are
# justified in dist/debian/lintian-overrides), and in a real Debian tree with
# Debian's knockd installed, the amd64 package installs beside it without
# taking /usr/bin/knock, its units verify and stay disabled, an upgrade keeps
# an edited conffile, remove keeps the settings, purge removes them and
# leaves the admin's secret. The tree is an overlay on the cached Debian
# root, thrown away at the end.
# Environment: DIST (target/dist), ROOT (cached Debian tree), WORK, SRC.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }
source "$SRC/tests/systemd/debian_root.sh"
debian_root "$ROOT"

debs=("$DIST"/knock-rotator_*.deb)
[ ${#debs[@]} -ge 3 ] || fail "expected amd64, arm64 and armhf packages in $DIST, found: ${debs[*]}"
for deb in "${debs[@]}"; do
    tags=$(lintian --pedantic --info --fail-on error,warning,info,pedantic "$deb" 2>&1 |
        grep -v '^running with root privileges' || true)
    [ -z "$tags" ] || fail "lintian $(basename "$deb"): $tags"
    note "lintian clean: $(basename "$deb")"
done

v1=$(dpkg-deb -f "$DIST"/knock-rotator_*_amd64.deb Version)
v2=${v1%-*}-$(( ${v1##*-} + 1 ))
mkdir -p "$WORK/pkg"
cp "$DIST"/knock-rotator_*_amd64.deb "$WORK/pkg/v1.deb"
"$SRC/dist/debian/build.sh" "$DIST/knock-rotator-x86_64-unknown-linux-musl" amd64 "$v2" "$WORK/pkg" >/dev/null
mv "$WORK/pkg/knock-rotator_${v2}_amd64.deb" "$WORK/pkg/v2.deb"

cat >"$WORK/pkg/inside.sh" <<INSIDE
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "FAIL: \$*" >&2; exit 1; }
owner() { dpkg-query -S "\$1" 2>/dev/null | cut -d: -f1; }
[ "\$(owner /usr/bin/knock)" = knockd ] || fail "knockd's knock is not there to begin with"

dpkg -i /pkg/v1.deb >/dev/null
knock-rotator --version | grep x86_64-unknown-linux-musl >/dev/null || fail "knock-rotator --version"
knock-rotate --version >/dev/null || fail "knock-rotate --version"
[ "\$(owner /usr/bin/knock)" = knockd ] || fail "/usr/bin/knock changed hands"
[ "\$(readlink /usr/bin/knock-rotate)" = knock-rotator ] || fail "knock-rotate link"
for page in "1 knock-rotator" "8 knock-rotate" "1 knock-rotator-knock"; do
    man -w \$page >/dev/null 2>&1 || fail "no man page \$page"
done
[ "\$(owner "\$(man -w 1 knock)")" = knockd ] || fail "knock(1) is not knockd's any more"
for f in /usr/share/bash-completion/completions/knock-rotator /usr/share/bash-completion/completions/knock-rotate \
         /usr/share/zsh/vendor-completions/_knock-rotator /usr/share/fish/vendor_completions.d/knock-rotator.fish \
         /usr/share/fish/vendor_completions.d/knock-rotate.fish; do
    [ -r "\$f" ] || fail "no completion \$f"
done
! grep -rq '^complete -F _knock_rotator .* knock ' /usr/share/bash-completion/completions/knock-rotator || fail "bash completes knockd's knock"
! ls /etc/systemd/system/*.wants/knock-rotator* >/dev/null 2>&1 || fail "a unit was enabled on install"
out=\$(cd /lib/systemd/system && systemd-analyze verify knock-rotator.service knock-rotator-nftables.service knock-rotator-oneshot.service knock-rotator.timer 2>&1) ||
    fail "systemd-analyze verify: \$out"
[ -z "\$out" ] || fail "systemd-analyze verify says: \$out"
[ "\$(stat -c %a /etc/knock-rotator)" = 700 ] || fail "/etc/knock-rotator is not 0700"
KNOCKD_ROTATOR_SECRET='a long shared secret, the same on every device' knock-rotator generate ssh --at 1800000000 >/dev/null ||
    fail "the installed executable does not generate"

echo 'KNOCKD_ROTATOR_LENGTH=12' >>/etc/knock-rotator/settings
(umask 077; echo 'a long shared secret, the same on every device' >/etc/knock-rotator/secret)
dpkg -i /pkg/v2.deb >/dev/null
[ "\$(dpkg-query -W -f '\${Version}' knock-rotator)" = "$v2" ] || fail "not upgraded to $v2"
grep -qx 'KNOCKD_ROTATOR_LENGTH=12' /etc/knock-rotator/settings || fail "the upgrade lost the edited conffile"

dpkg -r knock-rotator >/dev/null
[ ! -e /usr/bin/knock-rotator ] && [ ! -e /usr/bin/knock-rotate ] || fail "remove left the executable"
grep -qx 'KNOCKD_ROTATOR_LENGTH=12' /etc/knock-rotator/settings || fail "remove took the settings"
[ "\$(owner /usr/bin/knock)" = knockd ] && [ -x /usr/bin/knock ] || fail "remove took knockd's knock"
dpkg -P knock-rotator >/dev/null 2>&1
[ ! -e /etc/knock-rotator/settings ] || fail "purge left the settings"
[ -f /etc/knock-rotator/secret ] || fail "purge removed the admin's secret"
[ -z "\$(dpkg-query -W -f '\${Status}' knock-rotator 2>/dev/null | grep -v not-installed)" ] || fail "still known to dpkg"
echo "# installed, verified, upgraded ($v1 -> $v2), removed and purged beside knockd"
INSIDE

mkdir -p "$WORK/upper" "$WORK/work" "$WORK/merged"
unshare --mount --fork bash -c '
    set -e
    mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/merged"
    mount -t proc proc "$2/merged/proc"
    mkdir -p "$2/merged/pkg"
    mount --bind "$2/pkg" "$2/merged/pkg"
    chroot "$2/merged" /bin/bash /pkg/inside.sh' _ "$ROOT" "$WORK"
