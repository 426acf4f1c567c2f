# rotate against a running knockd: it finds knockd through the PidFile
# option, reloads it with SIGHUP, a door opened before the rotation still
# closes, the old sequence stops working and the new one works.
source "$LIB"
export KNOCKD_ROTATOR_PERIOD_MODULO=3600
drop_knock_ports
conf=$WORK/knockd.conf
{
    printf '# knock-rotator test\n[options]\n\tLogFile = %s/knockd.log\n\tPidFile = %s/knockd.pid\n' "$WORK" "$WORK"
    door ssh_ROTATOR "1:tcp" "cmd_timeout = 3" "stop_command = /bin/sh -c \"echo %IP% >> $WORK/closed\""
    door plain "7000,8000,9000"
} >"$conf"
start_knockd "$conf"
pid=$(cat "$WORK/knockd.pid")
T=$(date +%s)
T=$((T / 3600 * 3600 + 1800))   # mid-period: no boundary window in play

"$KR" rotate --config "$conf" --at $T --no-boundary-run >"$WORK/out" || fail "rotate: $(cat "$WORK/out")"
grep -q "rotated 1 of 1 rotator door .*; knockd reloaded (SIGHUP to pid $pid)" "$WORK/out" || fail "log: $(cat "$WORK/out")"
grep -q "re-reading config file" "$WORK/knockd.log" || fail "knockd did not re-read"
grep -qF "$("$KR" generate ssh --at $T --format knockd)" "$conf" || fail "sequence not written"
grep -q "$("$KR" generate ssh --at $T)" "$WORK/out" && fail "the log shows the sequence"

# Open the door, then rotate while its stop_command is pending.
"$KR" knock 127.0.0.1 ssh --at $T --window 0
opened ssh_ROTATOR 127.0.0.1
"$KNOCK_ROTATE" --config "$conf" --at $((T + 3600)) --no-boundary-run >/dev/null
kill -0 "$pid" || fail "knockd died at the reload"
[ "$(cat "$WORK/knockd.pid")" = "$pid" ] || fail "knockd was restarted, not reloaded"
wait_for "the stop_command after the rotation" 6 grep -qsx 127.0.0.1 "$WORK/closed"

# The old sequence no longer opens the door; the new one does.
rm -f "$WORK/opened.ssh_ROTATOR"
"$KR" knock 127.0.0.1 ssh --at $T --window 0
not_opened ssh_ROTATOR
"$KR" knock 127.0.0.1 ssh --at $((T + 3600)) --window 0
opened ssh_ROTATOR 127.0.0.1

# Nothing to do: no write (same inode, same mtime), no reload.
before=$(stat -c '%i %Y' "$conf"); rereads=$(grep -c "re-reading" "$WORK/knockd.log")
"$KR" rotate --config "$conf" --at $((T + 3600)) --no-boundary-run | grep "nothing to do" >/dev/null || fail "no-op run"
[ "$(stat -c '%i %Y' "$conf")" = "$before" ] || fail "a no-op run rewrote the file"
[ "$(grep -c "re-reading" "$WORK/knockd.log")" = "$rereads" ] || fail "a no-op run reloaded knockd"

# A file knockd would refuse is refused with its line, and left alone.
cp "$conf" "$WORK/good"
sed -i 's/^\tseq_timeout = 10$/\tseq_timeout = 10\n\tbogus = 1/' "$conf"
set +e
out=$("$KR" rotate --config "$conf" --at $((T + 7200)) --no-boundary-run 2>&1); rc=$?
set -e
[ $rc = 2 ] || fail "bad file: exit $rc ($out)"
[[ $out == "knock-rotator: $conf:8: unknown key 'bogus' in door [ssh_ROTATOR] (knockd would refuse this file)" ]] || fail "bad file: $out"
sed -i '/bogus = 1/d' "$conf"
cmp -s "$conf" "$WORK/good" || fail "the refused file was changed"
kill -0 "$pid" || fail "knockd died"

# A stale pid file naming another process: refused, no signal sent.
sleep 60 & other=$!
echo $other >"$WORK/other.pid"
set +e
out=$("$KR" rotate --config "$conf" --at $((T + 7200)) --pidfile "$WORK/other.pid" --no-boundary-run 2>&1); rc=$?
set -e
[ $rc = 1 ] && [[ $out == *"pid $other is not knockd"* ]] || fail "stale pid file: $rc $out"
kill -0 $other || fail "the other process got a signal"

# knockd dies at the reload (here the reload command kills it; SIGKILL, as
# knockd 0.8 blocks SIGTERM after its first SIGHUP): said loudly.
set +e
out=$("$KR" rotate --config "$conf" --at $((T + 10800)) --reload-command "kill -KILL $pid" --pidfile "$WORK/knockd.pid" --no-boundary-run 2>&1); rc=$?
set -e
[ $rc = 1 ] && [[ $out == *"but the reload failed: knockd (pid $pid) exited after the reload"* ]] || fail "dead knockd: $rc $out"
note ok
