# The nftables backend against the real kernel, in this test's network
# namespace: doors from a doors file, knocked by our knock, by knockd's
# classic knock and by raw packets from their own sources (nft_client.py),
# over IPv4 and IPv6, TCP and UDP. Each door's period is picked so that now
# sits where its check needs it (within a grace window, past one, just
# before a boundary), so no test waits long for a real boundary.
source "$LIB"
NC=(python3 "$(dirname "$LIB")/nft_client.py")
now=$(date +%s)
printf '%s\n' "$KNOCKD_ROTATOR_SECRET" >"$WORK/e2e.secret"

# Periods that put now where each check needs it: with a period P above
# now/2, now is exactly now - P seconds into its period (a valid setting;
# the kernel's clock is 64-bit nanoseconds).
p_grace=$((now - 3))                    # grace 60: the previous sequence still opens
p_nograce=$((now - 40))                 # grace 5: it no longer does
p_edge=$(((now + 6) / 2))               # the next boundary, 2 * p_edge, 6-7 s away
edge_at=$((2 * p_edge))

door() { printf '[%s]\nsecret_file = e2e.secret\nopen = %s\n' "$1" "$2"; shift 2; printf '%s\n' "$@"; echo; }
{
    door ssh 22/tcp "proto_modulo = 2" "open_for = 3"
    door classic 28/tcp
    door dns 853/udp "ports = 40000-40007" "allow_weak = 1"
    door slow 23/tcp "seq_timeout = 2"
    door grace 24/tcp "period = $p_grace" "grace = 60"
    door nograce 25/tcp "period = $p_nograce" "grace = 5"
    door edge 26/tcp "period = $p_edge"
    door sweep 27/tcp
    door refuse 29/tcp "policy = reject"
} >"$WORK/doors"
# The same settings for generate, through the environment: seq_of DOOR
# [generate's options].
seq_of() {
    local name=$1 vars=()
    shift
    case $name in
        ssh) vars=(KNOCKD_ROTATOR_PROTO_MODULO=2) ;;
        dns) vars=(KNOCKD_ROTATOR_PORTS=40000-40007 KNOCKD_ROTATOR_ALLOW_WEAK=1) ;;
        grace) vars=(KNOCKD_ROTATOR_PERIOD_MODULO=$p_grace) ;;
        nograce) vars=(KNOCKD_ROTATOR_PERIOD_MODULO=$p_nograce) ;;
        edge) vars=(KNOCKD_ROTATOR_PERIOD_MODULO=$p_edge) ;;
    esac
    env "${vars[@]}" "$KR" generate "$name" "$@"
}
rotate() { "$KR" rotate --backend nftables --doors-file "$WORK/doors" --no-boundary-run -q "$@"; }
opens() { "${NC[@]}" connect "$1" "$2" "$3" || fail "$4: $1 cannot connect to port $3"; }
shut() { ! "${NC[@]}" connect "$1" "$2" "$3" || fail "$4: $1 connected to port $3"; }

"${NC[@]}" serve 22/tcp 23/tcp 24/tcp 25/tcp 26/tcp 27/tcp 28/tcp 29/tcp 853/udp >"$WORK/serve.log" 2>&1 &
wait_for "the echo servers" 5 grep -qs serving "$WORK/serve.log"
rotate 2>"$WORK/rotate.err" || fail "rotate: $(cat "$WORK/rotate.err")"
nft list table inet knock_rotator >/dev/null || fail "no table"

# Knocks started every 10 ms from 300 ms before a boundary to 300 ms after
# it, each from its own source: every one opens, the straddling ones too.
"${NC[@]}" storm 127.0.0.1 26 "$(seq_of edge --at $((edge_at - 1)))" "$(seq_of edge --at $edge_at)" \
    "$edge_at" -300 300 10 0.02 || fail "a knock across the boundary did not open"
note "boundary: $("${NC[@]}" storm 2>/dev/null || true)every knock across it opened"

# Nothing is open before a knock; our knock opens over IPv4, then IPv6 (a
# family of its own).
shut 127.0.0.1 127.0.0.1 22 "before any knock"
KNOCKD_ROTATOR_PROTO_MODULO=2 "$KNOCK" 127.0.0.1 ssh || fail "knock 127.0.0.1 ssh"
opens 127.0.0.1 127.0.0.1 22 "our knock, IPv4"
seq=$(seq_of ssh)
echo "$seq" | grep udp >/dev/null && echo "$seq" | grep tcp >/dev/null || fail "the ssh door should mix TCP and UDP: $seq"
shut ::1 ::1 22 "IPv6 before its own knock"
KNOCKD_ROTATOR_PROTO_MODULO=2 "$KNOCK" ::1 ssh || fail "knock ::1 ssh"
opens ::1 ::1 22 "our knock, IPv6"

# knockd's classic client, fed the ports from generate.
shut 127.0.0.2 127.0.0.1 28 "classic, before"
# shellcheck disable=SC2046
knock 127.0.0.1 $(seq_of classic) || fail "classic knock"
opens 127.0.0.1 127.0.0.1 28 "knockd's knock client"

# Raw knocks, each from its own source.
seq=$(seq_of ssh)
read -ra k <<<"$seq"
"${NC[@]}" knock 127.0.0.3 127.0.0.1 "${k[*]:0:5} ${k[2]} ${k[*]:5}"
shut 127.0.0.3 127.0.0.1 22 "a wrong knock in the middle resets"
"${NC[@]}" knock 127.0.0.4 127.0.0.1 "$seq" --twice
opens 127.0.0.4 127.0.0.1 22 "each knock sent twice"
last=${k[9]}
case $last in *:tcp) flip=${last%:tcp}:udp ;; *) flip=${last%:udp}:tcp ;; esac
"${NC[@]}" knock 127.0.0.7 127.0.0.1 "${k[*]:0:9} $flip"
shut 127.0.0.7 127.0.0.1 22 "the right port with the wrong protocol"
slow=$(seq_of slow)
"${NC[@]}" knock 127.0.0.5 127.0.0.1 "$slow" --gap 0.3
shut 127.0.0.5 127.0.0.1 23 "too slow for seq_timeout"
"${NC[@]}" knock 127.0.0.6 127.0.0.1 "$slow"
opens 127.0.0.6 127.0.0.1 23 "in time"

# A sequence that repeats a port (8 ports, 10 knocks), opening a UDP port.
dns=$(seq_of dns)
[ "$(tr ' ' '\n' <<<"$dns" | sort | uniq -d | wc -l)" -gt 0 ] || fail "the dns door should repeat a port: $dns"
! "${NC[@]}" udp 127.0.0.8 127.0.0.1 853 || fail "853/udp answered before a knock"
"${NC[@]}" knock 127.0.0.8 127.0.0.1 "$dns"
"${NC[@]}" udp 127.0.0.8 127.0.0.1 853 || fail "a repeated port's sequence did not open 853/udp"

# Ordered sweeps of every knock port of a door (its three periods), five
# rounds: its sequence is not monotone, so they open nothing.
cur=$(seq_of sweep)
[ "$(tr ' ' '\n' <<<"$cur" | sort -t: -n -k1,1 | tr '\n' ' ' | sed 's/ $//')" != "$cur" ] || fail "monotone: $cur"
sweep=$({ seq_of sweep --offset -1; seq_of sweep; seq_of sweep --offset 1; } | tr ' ' '\n' | sort -u -t: -n -k1,1 | tr '\n' ' ')
for _ in 1 2 3 4 5; do "${NC[@]}" knock 127.0.0.10 127.0.0.1 "$sweep" --gap 0; done
shut 127.0.0.10 127.0.0.1 27 "ordered sweeps"

# The previous period's sequence within its grace window, and after it.
"${NC[@]}" knock 127.0.0.12 127.0.0.1 "$(seq_of grace --offset -1)"
opens 127.0.0.12 127.0.0.1 24 "the previous period's sequence within grace"
"${NC[@]}" knock 127.0.0.13 127.0.0.1 "$(seq_of nograce --offset -1)"
shut 127.0.0.13 127.0.0.1 25 "the previous period's sequence after grace"
"${NC[@]}" knock 127.0.0.14 127.0.0.1 "$(seq_of nograce)"
opens 127.0.0.14 127.0.0.1 25 "nograce's current sequence"

# An established connection survives rotations (other periods, then back)
# and the end of open_for (3 s); a new one after it is refused.
mkfifo "$WORK/hold"
"${NC[@]}" knock 127.0.0.11 127.0.0.1 "$seq"
"${NC[@]}" hold 127.0.0.11 127.0.0.1 22 "$WORK/hold" >"$WORK/hold.log" 2>&1 &
wait_for "the held connection" 3 grep -qs connected "$WORK/hold.log"
rotate --at $((now + 6 * 21600)) && rotate || fail "rotate again"
sleep 3.5
echo ping >"$WORK/hold"
wait_for "the held connection's echo" 3 grep -qs 'alive' "$WORK/hold.log"
echo quit >"$WORK/hold"
shut 127.0.0.11 127.0.0.1 22 "a new connection after open_for"

# The knock ports themselves get no verdict from us: with no host firewall
# here, a SYN to one is answered by the kernel (refused), not dropped.
p=${k[0]%%:*}
if [[ ${k[0]} == *tcp ]]; then
    python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1)
try: s.connect(('127.0.0.1', $p)); sys.exit(1)
except ConnectionRefusedError: pass" || fail "a knock port was not left to the host"
fi
# policy = reject: a stranger's connection is refused at once (a reset),
# not left to time out; a knock still opens it.
python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.20', 0)); s.settimeout(2)
try: s.connect(('127.0.0.1', 29)); sys.exit('connected')
except ConnectionRefusedError: pass
except OSError as e: sys.exit(f'not refused: {e}')" || fail "policy = reject"
"${NC[@]}" knock 127.0.0.20 127.0.0.1 "$(seq_of refuse)"
opens 127.0.0.20 127.0.0.1 29 "a knock on a reject door"

# A dry run prints the table without its sequences unless asked.
"$KR" rotate --backend nftables --doors-file "$WORK/doors" --dry-run >"$WORK/dry" || fail "dry run"
grep -q '^table inet knock_rotator {' "$WORK/dry" || fail "dry run: no table"
port=${k[3]%%:*}
! grep -qw "$port" "$WORK/dry" || fail "the dry run shows a knock port"
"$KR" rotate --backend nftables --doors-file "$WORK/doors" --dry-run --show-sequences | grep -w "$port" >/dev/null ||
    fail "--show-sequences does not show the knock ports"
# status --json: every door current, until when, how many sources.
"$KR" status --backend nftables --doors-file "$WORK/doors" --json >"$WORK/status.json" || fail "status --json"
python3 - "$WORK/status.json" <<'EOF' || fail "status --json: $(cat "$WORK/status.json")"
import json, sys, time
s = json.load(open(sys.argv[1]))
assert s["schema"] == 1 and s["backend"] == "nftables" and s["installed"] and s["ok"], s
assert len(s["doors"]) == 9 and all(d["holds"] == "current" for d in s["doors"]), s
c = next(d for d in s["doors"] if d["name"] == "classic_ROTATOR")
assert c["open"] == ["28/tcp"] and c["until"] > time.time() and c["allowed_sources"] == 1, c
EOF

# The same doors file gives a phone its profile.
"$KR" profile --doors-file "$WORK/doors" ssh --host 127.0.0.1 | grep -x 'service = ssh' >/dev/null || fail "profile of an nftables door"
# --remove deletes our table and its copy for the host firewall, and
# nothing of the host's; a second one finds nothing to do; a user who may
# not ask the kernel is told so.
nft add table inet host_fw
nft add chain inet host_fw input '{ type filter hook input priority 0; policy accept; }'
[ -s "$COPY" ] || fail "no copy for the host firewall before --remove"
"$KR" rotate --backend nftables --doors-file "$WORK/doors" --remove >"$WORK/removed" || fail "--remove"
grep -x 'table inet knock_rotator: removed; the host firewall is as it was' "$WORK/removed" >/dev/null ||
    fail "--remove said: $(cat "$WORK/removed")"
! nft list table inet knock_rotator >/dev/null 2>&1 || fail "--remove left our table"
nft list chain inet host_fw input >/dev/null || fail "--remove took the host's table"
[ ! -e "$COPY" ] || fail "--remove left the copy for the host firewall"
"$KR" rotate --backend nftables --doors-file "$WORK/doors" --remove >"$WORK/removed" || fail "a second --remove"
grep -x 'table inet knock_rotator: not installed; nothing to remove' "$WORK/removed" >/dev/null ||
    fail "a second --remove said: $(cat "$WORK/removed")"
if out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$KR" rotate --backend nftables \
    --doors-file "$WORK/doors" --remove 2>&1); then
    fail "--remove as uid 65534 succeeded"
fi
[ "$out" = "knock-rotator: table inet knock_rotator: cannot ask the kernel whether it is installed: Operation not permitted (os error 1)" ] ||
    fail "--remove as uid 65534 said: $out"

note "nftables doors: IPv4, IPv6, classic knock, resets, repeats, protocol, timeout, sweeps, grace, established, --remove"
