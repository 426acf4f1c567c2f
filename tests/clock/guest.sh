#!/bin/sh
# Runs as init (pid 1) of the qemu guest that tests/clock/qemu.sh boots: the
# only place where setting the real-time clock is allowed.
# 1. Watch mode with a one-hour period; the clock jumps forward over several
#    boundaries and back over one; after each jump the file must hold the
#    clock's period within a second, and no rotation may be for any period
#    but the clock's.
# 2. The race (/stepper): the clock steps back at delays from 0 to several
#    milliseconds after a forward step's rotation, many times over.
# Results are printed on the console between two marker lines.
refuse() { echo "guest.sh: not the clock-test guest; refusing to set any clock" >&2; exit 1; }
[ $$ = 1 ] || refuse
mount -t proc proc /proc
grep -q knock_rotator_clock_test /proc/cmdline || refuse
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
result=/tmp/result
: >$result
say() { echo "$*" >>$result; echo "guest: $*"; }
export KNOCKD_ROTATOR_SECRET='the clock test secret, not a real one' KNOCKD_ROTATOR_PERIOD_MODULO=3600
KR=/knock-rotator
B=1800003600                      # a boundary of the one-hour period
printf '[options]\n\tUseSyslog\n[ssh_ROTATOR]\n\tsequence = 1,2,3\n\tcommand = true\n' >/tmp/knockd.conf
chmod 600 /tmp/knockd.conf

held() { sed -n 's/^[[:space:]]*sequence = //p' /tmp/knockd.conf; }
# expect LABEL: within 1.2 s the file holds the sequence of the clock's period.
expect() {
    want=$($KR generate ssh --format knockd --at "$(date +%s)")
    i=0
    while [ "$(held)" != "$want" ]; do
        i=$((i + 1))
        [ $i -gt 12 ] && { say "FAIL $1: holds $(held), not the period of $(date -u)"; return; }
        sleep 0.1
    done
    say "ok $1: the clock's period within $((i * 100)) ms"
}

date -u -s @$((B - 3)) >/dev/null
$KR rotate --watch --no-reload --config /tmp/knockd.conf >/tmp/watch.log 2>&1 &
watch=$!
expect "start"
sleep 3.5
expect "boundary crossed by time"
date -u -s @$((B + 5 * 3600 + 30)) >/dev/null
expect "jump forward over five boundaries"
date -u -s @$((B + 600)) >/dev/null
expect "jump back over four boundaries"
date -u -s @$((B + 5 * 3600 + 40)) >/dev/null
expect "jump forward again"
sleep 1.5
say "log:"
cat /tmp/watch.log >>$result
say "end of log"

# The race, on the same watch process: S_NOW is the period of R, S_BACK the
# one before it, S_FORWARD five hours on.
R=$((B + 10 * 3600))
F=$((R + 5 * 3600 + 30))
s_now=$($KR generate ssh --format knockd --at $R)
s_back=$($KR generate ssh --format knockd --at $((R - 1)))
s_forward=$($KR generate ssh --format knockd --at $F)
/stepper /tmp/knockd.conf "${RACE_TRIES:-120}" $R $F "$s_now" "$s_forward" "$s_back" \
    0 100 250 500 1000 2000 4000 8000 >>$result 2>&1 || say "FAIL race: the stepper failed"
kill $watch
wait $watch
say "end"
echo "=== guest result"
cat $result
echo "=== guest end"
poweroff -f
