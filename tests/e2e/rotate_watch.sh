# rotate --watch with a 10 s period: knockd always holds the current
# sequence, so a knock at any moment opens the door, across several
# boundaries; the log has one line per rotation and no sequence; SIGTERM
# stops it cleanly.
source "$LIB"
export KNOCKD_ROTATOR_PERIOD_MODULO=10
drop_knock_ports
conf=$WORK/knockd.conf
{ printf '[options]\n\tLogFile = %s/knockd.log\n' "$WORK"; door ssh_ROTATOR "1:tcp"; } >"$conf"
start_knockd "$conf"
"$KNOCK_ROTATE" --watch --config "$conf" --pidfile "$WORK/knockd.pid" >"$WORK/watch.log" 2>&1 &
watcher=$!
wait_for "the first rotation" 5 grep -q "rotated 1 of 1" "$WORK/watch.log"

# Knock every 2.3 s for about 25 s: each attempt must open the door.
attempts=0
end=$((SECONDS + 25))
while [ $SECONDS -lt $end ]; do
    rm -f "$WORK/opened.ssh_ROTATOR"
    at=$(date +%s.%N)
    "$KNOCK" 127.0.0.1 ssh
    wait_for "attempt $attempts (knocked at $at) to open the door" 3 grep -qsx 127.0.0.1 "$WORK/opened.ssh_ROTATOR"
    attempts=$((attempts + 1))
    sleep 2.3
done
rotations=$(grep -c "rotated 1 of 1" "$WORK/watch.log")
note "$attempts knocks, all opened; $rotations rotations"
[ "$rotations" -ge 3 ] || fail "want 3 rotations or more: $(cat "$WORK/watch.log")"
[ "$attempts" -ge 8 ] || fail "only $attempts attempts"
# Each boundary's rotation (reload included) came within a second of it.
grep -o "([0-9]* ms after the boundary)" "$WORK/watch.log" | tr -dc '0-9\n' >"$WORK/lags"
[ "$(wc -l <"$WORK/lags")" -ge 2 ] || fail "no boundary lags logged: $(cat "$WORK/watch.log")"
while read -r lag; do [ "$lag" -lt 1000 ] || fail "a rotation came $lag ms after its boundary"; done <"$WORK/lags"
note "lags after boundaries (ms): $(tr '\n' ' ' <"$WORK/lags")"
if grep -q "error" "$WORK/watch.log"; then fail "errors: $(cat "$WORK/watch.log")"; fi
seq=$("$KR" generate ssh)
grep -qF "${seq%% *}" "$WORK/watch.log" && fail "the log shows a sequence"

kill -TERM $watcher
wait $watcher || fail "watch exited with $? on SIGTERM"
tail -n1 "$WORK/watch.log" | grep "stopping (signal)" >/dev/null || fail "no clean stop: $(tail -n2 "$WORK/watch.log")"
note ok
