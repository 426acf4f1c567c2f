# A soak under load: watch mode rotates 100 rotator doors every 5 seconds
# for SOAK_SECONDS (default 180), reloading a real knockd each time, while
# a client knocks on them in turn. No rotation may fail or be missed, every
# knock made away from a boundary must open its door, and the watch
# process's memory and open files must not grow (read from /proc).
# Not knocked: a door whose sequence begins, in that period, with the same
# knock as a door before it in the file. knockd 0.8 starts attempts for
# both, and when it drops the first (invalid) one it empties its whole
# attempt list (`if (lp == attempts) attempts = NULL`), losing the other:
# a knockd bug that no sequence choice of ours can avoid. With 100 doors
# it hits a door in about one period in thirteen; with a few, almost never.
# Not knocked either: a period before knockd has finished re-reading. It
# re-reads in its SIGHUP handler, and until it has compiled the new capture
# filter the kernel hands it only the old sequences' ports. That compile
# grows with the square of the doors (1 ms for 1 door, 70 ms for 30, about
# 0.8 s for 100 on an idle 2-core machine), so under load a knock 1 s after
# the boundary could be lost to knockd, not to us.
# Environment: STATIC (the release executable, used for both sides).
source "$LIB"
secs=${SOAK_SECONDS:-180}
export KNOCKD_ROTATOR_PERIOD_MODULO=5
K=$STATIC
conf=$WORK/knockd.conf
{
    printf '[options]\n\tLogFile = %s/knockd.log\n' "$WORK"
    for i in $(seq -w 1 100); do door "d${i}_ROTATOR" "1:tcp"; done
} >"$conf"
drop_knock_ports
start_knockd "$conf"
"$K" rotate --watch --config "$conf" --pidfile "$WORK/knockd.pid" >"$WORK/watch.log" 2>&1 &
watch=$!
wait_for "the first rotation" 5 grep -q "rotated 100 of 100" "$WORK/watch.log"
# The first rotation comes at any moment, not at a boundary, and a knock
# made while knockd re-reads is lost (knockd's reload): start knocking in
# the next period, whose rotation comes at its boundary, which the loop
# below keeps away from.
wait_for "knockd's first re-read" 5 grep -q "re-reading config file" "$WORK/knockd.log"
sleep $((5 - $(date +%s) % 5))

sample() { # RSS in KiB and open files of the watch process
    echo "$(awk '/^VmRSS:/ { print $2 }' /proc/$watch/status) $(ls /proc/$watch/fd | wc -l)"
}
# shadowed PERIOD_START: the doors whose first knock an earlier door shares.
shadowed() {
    local d first seen=" " out=" "
    for d in $(seq -w 1 100); do
        first=$("$K" generate "d$d" --at "$1" | cut -d' ' -f1)
        case $seen in *" $first "*) out+="d$d " ;; esac
        seen+="$first "
    done
    echo "$out"
}
# ready START: knockd has re-read for the period from START (the watch
# logged that rotation, and knockd as many re-reads as there were
# rotations) and is back to waiting for packets: it compiles its filter
# without blocking, so until then it is running or runnable, never sleeping.
kpid=$(cat "$WORK/knockd.pid")
ready() {
    grep -q "for the period starting $(date -u -d "@$1" '+%F %T') UTC" "$WORK/watch.log" &&
        [ "$(grep -c "re-reading config file" "$WORK/knockd.log")" -ge \
            "$(grep -c "rotated 100 of 100" "$WORK/watch.log")" ] &&
        [ "$(awk '{ print $3 }' "/proc/$kpid/stat")" = S ]
}
lag=0
samples=()
knocks=0
skipped=0
period=-1
end=$((SECONDS + secs))
next_sample=$SECONDS
i=0
while [ $SECONDS -lt $end ]; do
    if [ $SECONDS -ge $next_sample ]; then
        samples+=("$(sample)")
        next_sample=$((SECONDS + 10))
    fi
    now=$(date +%s)
    if [ $((now / 5)) != "$period" ]; then
        period=$((now / 5))
        wait_for "knockd to re-read for the period at $now" 4 ready $((now / 5 * 5))
        ms=$(( $(date +%s%3N) % 5000 ))
        [ $ms -lt 4000 ] && [ $ms -gt $lag ] && lag=$ms
        skip=$(shadowed "$now")
        continue
    fi
    # Away from a boundary: 1 to 3.5 s into a 5 s period.
    ms=$(( $(date +%s%3N) % 5000 ))
    if [ $ms -lt 1000 ] || [ $ms -gt 3500 ]; then sleep 0.1; continue; fi
    i=$((i % 100 + 1))
    case $skip in *" d$(printf %03d $i) "*) skipped=$((skipped + 1)); continue ;; esac
    "$K" knock 127.0.0.1 "d$(printf %03d $i)" || fail "knock $i failed"
    echo "d$(printf %03d $i)_ROTATOR $ms" >>"$WORK/knocks"
    knocks=$((knocks + 1))
done
samples+=("$(sample)")
# knockd runs each door's command in the background: let the last finish.
opened=0
for _ in $(seq 50); do
    now=$(cat "$WORK"/opened.* 2>/dev/null | wc -l)
    [ "$now" = "$opened" ] && [ "$now" -ge "$knocks" ] && break
    opened=$now
    sleep 0.2
done
sesame=$(grep -c "OPEN SESAME" "$WORK/knockd.log")
rotations=$(grep -c "rotated 100 of 100" "$WORK/watch.log")
kill "$watch"
note "$secs s: $rotations rotations of 100 doors, $knocks knocks, $opened openings ($sesame OPEN SESAME in knockd's log); $skipped knocks skipped on doors knockd 0.8 cannot open that period"
note "knockd ready again at most $lag ms after a boundary (its re-read of 100 doors)"
note "watch process (RSS KiB, open files) every 10 s: $(printf '%s; ' "${samples[@]}")"
! grep -q "error" "$WORK/watch.log" || fail "a rotation failed: $(grep error "$WORK/watch.log" | head -3)"
[ "$rotations" -ge $((secs / 5 - 1)) ] || fail "only $rotations rotations in $secs s"
[ "$knocks" -ge $((secs * 2)) ] || fail "only $knocks knocks in $secs s"
if [ "$opened" != "$knocks" ]; then
    for d in $(cut -d' ' -f1 "$WORK/knocks" | sort -u); do
        k=$(grep -c "^$d " "$WORK/knocks"); o=$(grep -c . "$WORK/opened.$d" 2>/dev/null || true)
        [ "$k" = "$o" ] || echo "$d: $k knocks (ms into the period: $(grep "^$d " "$WORK/knocks" | cut -d' ' -f2 | tr '\n' ' ')), $o openings" >&2
    done
    keep=${SOAK_KEEP:-/tmp/knock-rotator-soak-failure}
    rm -rf "$keep" && mkdir -p "$keep" && cp "$WORK/knockd.log" "$WORK/knocks" "$WORK/watch.log" "$conf" "$keep/"
    fail "$knocks knocks opened $opened doors (logs kept in $keep)"
fi
first=${samples[1]:-${samples[0]}} last=${samples[-1]}
[ "${first#* }" = "${last#* }" ] || fail "open files went from ${first#* } to ${last#* }"
[ $(( ${last% *} - ${first% *} )) -le 64 ] || fail "memory grew from ${first% *} KiB to ${last% *} KiB"
note ok
