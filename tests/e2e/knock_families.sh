# A rotator door with a mixed TCP/UDP sequence opens over IPv4 and IPv6,
# through a firewall that drops every knock, in well under a second.
source "$LIB"
export KNOCKD_ROTATOR_PROTO_MODULO=2 KNOCKD_ROTATOR_LENGTH=12
seq=$("$KR" generate web --format knockd)
case $seq in *udp*) ;; *) fail "want a mixed sequence, got $seq" ;; esac
case $seq in *tcp*) ;; *) fail "want a mixed sequence, got $seq" ;; esac
drop_knock_ports
{ echo "[options]"; door web_ROTATOR "$seq"; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"

start=$(date +%s%N)
"$KR" knock 127.0.0.1 web
ms=$(( ($(date +%s%N) - start) / 1000000 ))
opened web_ROTATOR 127.0.0.1
note "IPv4 knock took $ms ms"
[ "$ms" -lt 1000 ] || fail "12 knocks against a dropping host took $ms ms"

"$KNOCK" -6 ::1 web_ROTATOR
opened web_ROTATOR ::1

# -4 with a v6 literal is a usage error naming HOST.
if out=$("$KNOCK" -4 ::1 web 2>&1); then fail "-4 ::1 accepted"; fi
[[ $out == *"HOST '::1' is not an address of the family -4 asks for"* ]] || fail "bad message: $out"

# No route: a clear error and exit 1, nothing sent (this namespace has only lo).
set +e; out=$("$KNOCK" 192.0.2.1 web 2>&1); rc=$?; set -e
[ $rc = 1 ] || fail "unreachable: exit $rc ($out)"
[[ $out == "knock: '192.0.2.1' (192.0.2.1): Network is unreachable" ]] || fail "unreachable: $out"
note ok
