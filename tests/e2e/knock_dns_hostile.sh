# The DNS stub against a hostile server (tests/e2e/hostile_dns.py): an
# answer for another name, an address owned by another name, a reply too
# short for a header (the old crash), a wrong id and a compression loop are
# each refused with a one-line error naming the host, within the documented
# time; a good answer and a good alias still work. An answer truncated
# over UDP (TC) is asked again over TCP: a good one opens the door, and a
# closed, silent or wrong TCP answer is refused the same way; 3 KB in one
# datagram without TC is a malformed answer.
source "$LIB"
termux_resolver 127.0.0.53
export PREFIX=$WORK/prefix
python3 "$(dirname "$LIB")/hostile_dns.py" 127.0.0.53 "$WORK/dns.log" >/dev/null 2>&1 &
wait_for "the hostile server" 5 grep -qs started "$WORK/dns.log"

drop_knock_ports
{ echo "[options]"; door ssh_ROTATOR "$("$KR" generate ssh --format knockd)"; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"
"$KNOCK" -4 good.test ssh >/dev/null || fail "a good answer was refused"
opened ssh_ROTATOR 127.0.0.1
"$KNOCK" -4 cname.test ssh >/dev/null || fail "a good alias was refused"
wait_for "a second opening" 3 sh -c "[ \$(grep -c . '$WORK/opened.ssh_ROTATOR') = 2 ]"
"$KNOCK" -4 big.test ssh >/dev/null || fail "a truncated answer was not asked again over TCP"
wait_for "an opening through TCP" 3 sh -c "[ \$(grep -c . '$WORK/opened.ssh_ROTATOR') = 3 ]"
grep -q "^tcp query .*big" "$WORK/dns.log" || fail "no TCP query: $(cat "$WORK/dns.log")"

refused() { # NAME EXPECTED-ERROR: one line, exit 1, no panic, in time
    local out rc start=$SECONDS
    set +e; out=$(timeout 20 "$KNOCK" -4 "$1" ssh 2>&1); rc=$?; set -e
    [ $rc = 1 ] && [ "$out" = "$2" ] || fail "$1: exit $rc: $out (want: $2)"
    [ $((SECONDS - start)) -le 8 ] || fail "$1 took $((SECONDS - start)) s"
}
timedout="name servers did not answer (127.0.0.53:53: timed out; it sent only"
refused other.test "knock: 'other.test': $timedout an answer to another question (name, type or class))"
refused owner.test "knock: 'owner.test': the name has no address"
refused short.test "knock: 'short.test': $timedout an answer shorter than a DNS header)"
refused wrongid.test "knock: 'wrongid.test': $timedout an answer to another query (wrong id))"
refused loop.test "knock: 'loop.test': $timedout a malformed answer)"
refused nosuch.test "knock: 'nosuch.test': no such host name"
refused huge.test "knock: 'huge.test': $timedout a malformed answer)"
tcp="name servers did not answer (127.0.0.53:53: truncated over UDP, and"
refused bigclose.test "knock: 'bigclose.test': $tcp the TCP connection closed before an answer)"
refused bigslow.test "knock: 'bigslow.test': $tcp timed out over TCP)"
refused bigother.test "knock: 'bigother.test': $tcp over TCP it sent an answer to another question (name, type or class))"
sleep 0.5
[ "$(grep -c . "$WORK/opened.ssh_ROTATOR")" = 3 ] || fail "a refused answer opened the door: $(cat "$WORK/opened.ssh_ROTATOR")"
note ok
