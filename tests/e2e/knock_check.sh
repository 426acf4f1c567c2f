# --check: the door's start_command opens a port with iptables; knock sees
# it open, retries after a failed check, and tells the truth in its status.
source "$LIB"
# The protected service: a listener on 2222, dropped until the door opens.
python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 2222)); s.listen(16); time.sleep(60)' >/dev/null 2>&1 &
iptables -A INPUT -i lo -p tcp --dport 2222 -j DROP
drop_knock_ports
seq=$("$KR" generate ssh --format knockd)
{ echo "[options]"; door ssh_ROTATOR "$seq" "cmd_timeout = 30" \
    "start_command = /usr/sbin/iptables -I INPUT -s %IP% -p tcp --dport 2222 -j ACCEPT" \
    "stop_command = /usr/sbin/iptables -D INPUT -s %IP% -p tcp --dport 2222 -j ACCEPT"; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"

# Before any knock the port is filtered: a wrong secret never opens it,
# and the exit status says so after 1 + retries knocks.
set +e
out=$(KNOCKD_ROTATOR_SECRET="another secret entirely" "$KNOCK" --check 2222 --check-timeout 300 --retries 1 127.0.0.1 ssh 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "wrong secret: exit $rc ($out)"
[[ $out == "knock: '127.0.0.1' port 2222 still closed after 2 knocks" ]] || fail "wrong secret: $out"

# The plain case: one round, the door opens, exit 0.
"$KNOCK" -v --check 2222 127.0.0.1 ssh >"$WORK/out" || fail "check failed: $(cat "$WORK/out")"
grep -qx "127.0.0.1:2222 is open" "$WORK/out" || fail "not open: $(cat "$WORK/out")"
grep -q "knocking again" "$WORK/out" && fail "needless retry: $(cat "$WORK/out")"
python3 -c 'import socket; socket.create_connection(("127.0.0.1", 2222), 1)' || fail "2222 not reachable after the knock"
iptables -D INPUT -s 127.0.0.1 -p tcp --dport 2222 -j ACCEPT

# The last knock of the first round is lost (dropped on the way out, so
# knockd never sees it): knockd keeps an attempt stuck at stage 9, which
# would swallow the retry's first knock. The retry clears it first and the
# door opens after exactly one retry.
read -r -a ports <<<"$("$KR" generate ssh)"
last=${ports[9]%:*}
iptables -I OUTPUT -o lo -p tcp --dport "$last" -m statistic --mode nth --every 2 --packet 0 -j DROP
"$KNOCK" -v --check 2222 --check-timeout 500 --retries 1 127.0.0.1 ssh >"$WORK/out" || fail "lost knock: $(cat "$WORK/out")"
grep -q "still closed; knocking again (2/2)" "$WORK/out" || fail "no retry seen: $(cat "$WORK/out")"
iptables -D OUTPUT -o lo -p tcp --dport "$last" -m statistic --mode nth --every 2 --packet 0 -j DROP
iptables -D INPUT -s 127.0.0.1 -p tcp --dport 2222 -j ACCEPT

# A door slower than the check: the first check gives up, knock knocks
# again and the second check sees it open.
stop_knockd
sed -i 's|start_command = |start_command = /bin/sleep 1; |' "$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"
"$KNOCK" -v --check 2222 --check-timeout 400 --retries 3 127.0.0.1 ssh >"$WORK/out" || fail "slow door: $(cat "$WORK/out")"
grep -q "still closed; knocking again (2/4)" "$WORK/out" || fail "no retry seen: $(cat "$WORK/out")"
grep -qx "127.0.0.1:2222 is open" "$WORK/out" || fail "slow door not open: $(cat "$WORK/out")"
note ok
