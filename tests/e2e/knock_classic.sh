# The `knock` link stands in for knockd's own client: HOST PORT[:PROTO]...
source "$LIB"
drop_knock_ports
{ echo "[options]"; door plain "7000,8000:udp,9000"; door udp_only "7100:udp,7200:udp,7300:udp"; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"

"$KNOCK" -v 127.0.0.1 7000 8000:udp 9000:TCP >"$WORK/out"
opened plain 127.0.0.1
grep -qx "hitting udp 127.0.0.1:8000" "$WORK/out" || fail "verbose output: $(cat "$WORK/out")"
[ "$(wc -l <"$WORK/out")" = 3 ] || fail "verbose output: $(cat "$WORK/out")"

"$KNOCK" -u -d 5 127.0.0.1 7100 7200 7300
opened udp_only 127.0.0.1

# The classic form through the main name works as well.
"$KR" knock -6 ::1 7000 8000:udp 9000
opened plain ::1

# Mixed or bad arguments are refused with the argument named.
set +e
out=$("$KNOCK" 127.0.0.1 7000 ssh 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == "knock: 'ssh' is not a PORT[:tcp|:udp] from 1 to 65535" ]] || fail "mixed: $rc $out"
out=$("$KNOCK" 127.0.0.1 7000:icmp 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == "knock: '7000:icmp' is not a PORT"* ]] || fail "7000:icmp: $rc $out"
out=$("$KNOCK" 127.0.0.1 ssh web 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == "knock: unexpected argument 'web': give one SERVICE, or only ports" ]] || fail "two services: $rc $out"
out=$("$KNOCK" 127.0.0.1 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"no profile '127.0.0.1'"*"else give HOST and SERVICE (or PORTs)"* ]] || fail "no port: $rc $out"
out=$("$KNOCK" --offset 1 127.0.0.1 7000 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == *"--offset needs a SERVICE"* ]] || fail "offset: $rc $out"
out=$("$KNOCK" -d x 127.0.0.1 7000 2>&1); rc=$?
[ $rc = 2 ] && [[ $out == "knock: --delay: 'x' is not a whole number from 0 to 60000" ]] || fail "delay: $rc $out"
set -e
note ok
