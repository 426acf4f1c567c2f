# A name resolves where the system resolver has no server to ask (Android):
# /etc/resolv.conf and /etc/hosts are empty here, $PREFIX/etc/resolv.conf
# names a real dnsmasq on a loopback address.
source "$LIB"
termux_resolver 127.0.0.53
dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.53 --bind-interfaces \
    --port=53 --pid-file= --user=root --log-queries --log-facility="$WORK/dnsmasq.log" \
    --local=/test/ --host-record=door.test,127.0.0.1,::1 --host-record=v6only.test,::1 &
wait_for dnsmasq 5 grep -qs "started" "$WORK/dnsmasq.log"

drop_knock_ports
{ echo "[options]"; door ssh_ROTATOR "$("$KR" generate ssh --format knockd)"; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"

# Without $PREFIX there is nothing to ask, and the error says where it looked.
set +e
out=$(env -u PREFIX "$KNOCK" door.test ssh 2>&1); rc=$?
set -e
[ $rc = 1 ] && [[ $out == "knock: 'door.test': cannot resolve: no name server in /etc/resolv.conf or /data/data/com.termux/files/usr/etc/resolv.conf" ]] \
    || fail "no servers: $rc $out"

export PREFIX=$WORK/prefix
"$KNOCK" -v door.test ssh >"$WORK/out"
head -n1 "$WORK/out" | grep "127.0.0.1:" >/dev/null || fail "want IPv4 first: $(head -n1 "$WORK/out")"
opened ssh_ROTATOR 127.0.0.1
grep -c "query\[A\] door.test" "$WORK/dnsmasq.log" | grep -x 1 >/dev/null || fail "want one A query per run: $(grep query "$WORK/dnsmasq.log")"

"$KNOCK" -6 door.test ssh
opened ssh_ROTATOR ::1
"$KNOCK" v6only.test ssh
wait_for "a third opening" 3 sh -c "[ \$(grep -c . '$WORK/opened.ssh_ROTATOR') = 3 ]"

set +e
out=$("$KNOCK" nosuch.test ssh 2>&1); rc=$?
set -e
[ $rc = 1 ] && [[ $out == "knock: 'nosuch.test': no such host name" ]] || fail "nxdomain: $rc $out"

# A server that never answers: a timeout, naming the host, within seconds.
echo "nameserver 127.0.0.54" >"$WORK/prefix/etc/resolv.conf"
set +e
start=$SECONDS; out=$("$KNOCK" door.test ssh 2>&1); rc=$?
set -e
[ $rc = 1 ] && [[ $out == "knock: 'door.test': name servers did not answer"* ]] || fail "timeout: $rc $out"
[ $((SECONDS - start)) -le 5 ] || fail "timeout took $((SECONDS - start)) s"
note ok
