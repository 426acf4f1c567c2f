# --raw / --tcpflags: hand-built segments for doors that want flags no
# connect() sends; without CAP_NET_RAW a clear refusal.
source "$LIB"
drop_knock_ports
seq=$("$KR" generate ssh --format knockd)
{ echo "[options]"; door ssh_ROTATOR "$seq" | sed 's/tcpflags = syn/tcpflags = fin,!syn/'; \
  door synack_ROTATOR "$("$KR" generate synack --format knockd)" | sed 's/tcpflags = syn/tcpflags = syn,ack/'; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"

# A plain (SYN) knock does not open a FIN door.
"$KNOCK" 127.0.0.1 ssh
not_opened ssh_ROTATOR
"$KNOCK" --tcpflags fin 127.0.0.1 ssh
opened ssh_ROTATOR 127.0.0.1
"$KNOCK" --tcpflags fin -6 ::1 ssh
opened ssh_ROTATOR ::1
"$KNOCK" --tcpflags syn,ack 127.0.0.1 synack
opened synack_ROTATOR 127.0.0.1

chmod 755 "$WORK" "$WORK/bin"
set +e
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$KNOCK" --raw 127.0.0.1 ssh 2>&1); rc=$?
set -e
[ $rc = 1 ] && [[ $out == "knock: --raw needs CAP_NET_RAW"* ]] || fail "unprivileged raw: $rc $out"
note ok
