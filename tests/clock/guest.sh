#!/bin/sh
# Runs as init (pid 1) of a user-mode Linux guest that tests/clock/uml.sh
# starts: the only place where setting the real-time clock is allowed.
# Watch mode with a one-hour period; the clock jumps forward over several
# boundaries and back over one; after each jump the file must hold the
# clock's period within a second, and no rotation may be for any period
# but the clock's. Results go to /result (the host reads them).
refuse() { echo "guest.sh: not the clock-test guest; refusing to set any clock" >&2; exit 1; }
[ $$ = 1 ] || refuse
mount -t proc proc /proc
grep -q knock_rotator_clock_test /proc/cmdline || refuse
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
result=/result
: >$result
say() { echo "$*" >>$result; }
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
kill $watch
wait $watch
say "log:"
cat /tmp/watch.log >>$result
say "end"
poweroff -f
