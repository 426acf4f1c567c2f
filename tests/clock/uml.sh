# Watch mode under clock jumps, in a user-mode Linux kernel whose clock is
# the test's to set (never this machine's): builds a root of static busybox,
# the static executable (STATIC) and tests/clock/guest.sh, boots it, and
# checks what the guest wrote. Environment: STATIC, WORK.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
root=$WORK/root
mkdir -p "$root/bin" "$root/proc" "$root/tmp" "$root/dev" "$root/run" "$root/var"
ln -sfn ../run "$root/var/run"
cp /bin/busybox "$root/bin/busybox"
for a in sh mount date sleep sed grep cat kill poweroff; do ln -sf busybox "$root/bin/$a"; done
cp "$STATIC" "$root/knock-rotator"
cp "$(dirname "$0")/guest.sh" "$root/guest.sh"
chmod 755 "$root/guest.sh" "$root/knock-rotator"
! readelf -l "$root/bin/busybox" | grep -q INTERP || fail "busybox is not static: install busybox-static"
timeout 120 linux.uml mem=256M root=/dev/root rootfstype=hostfs rootflags="$root" rw init=/guest.sh \
    quiet con0=null,fd:1 con=null ssl=null knock_rotator_clock_test PATH=/bin </dev/null >"$WORK/console.log" 2>&1 ||
    true
[ -s "$root/result" ] || fail "the guest left no result: $(tail -20 "$WORK/console.log")"
cat "$root/result"
grep -q '^end$' "$root/result" || fail "the guest did not finish"
! grep -q '^FAIL' "$root/result" || fail "$(grep '^FAIL' "$root/result")"
[ "$(grep -c '^ok ' "$root/result")" = 5 ] || fail "not every step ran"
# Every rotation, in order, was for the clock's period: start, the
# boundary, forward, back, forward again; no other (no stale timer's).
periods=$(sed -n 's/.*for the period starting \(.* UTC\).*/\1/p' "$root/result" | tr '\n' '|')
want="2027-01-15 08:00:00 UTC|2027-01-15 09:00:00 UTC|2027-01-15 14:00:00 UTC|2027-01-15 09:00:00 UTC|2027-01-15 14:00:00 UTC|"
[ "$periods" = "$want" ] || fail "rotations were for: $periods (want $want)"
echo "# watch mode followed every clock jump within a second"
