# The nftables backend's bad input and faults, against the real kernel in
# this test's namespace: each a clear one-line error naming its cause, a
# non-zero exit, nothing half-applied, the host's own table untouched.
source "$LIB"
NC=(python3 "$(dirname "$LIB")/nft_client.py")
printf '%s\n' "$KNOCKD_ROTATOR_SECRET" >"$WORK/e2e.secret"
good='[ssh]
secret_file = e2e.secret
open = 22/tcp'
printf '%s\n' "$good" >"$WORK/doors"
rotate() { "$KR" rotate --backend nftables --doors-file "$WORK/doors" --no-boundary-run -q "$@"; }
# A host firewall of its own, which nothing of ours may touch.
nft -f - <<'EOF'
table inet host {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter accept
	}
}
EOF
host() { nft list table inet host | sed 's/counter packets [0-9]* bytes [0-9]*/counter/'; }
host_before=$(host)
rotate || fail "the first rotation"
table() { nft list table inet knock_rotator 2>&1 | grep -v 'expires'; }
before=$(table)
secret_free() { ! grep -qF "$KNOCKD_ROTATOR_SECRET" "$1" && ! grep -qE '[0-9]{4,5}:(tcp|udp)' "$1"; }

# refused WHAT NEEDLE CMD...: exit non-zero, one line on stderr holding
# NEEDLE, no sequence or secret in it, our table and the host's as before.
refused() {
    local what=$1 needle=$2 rc=0
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ $rc -ne 0 ] || fail "$what: exit 0"
    [ "$(wc -l <"$WORK/err")" = 1 ] || fail "$what: not one line: $(cat "$WORK/err")"
    grep -qF -- "$needle" "$WORK/err" || fail "$what: '$needle' not in: $(cat "$WORK/err")"
    secret_free "$WORK/err" || fail "$what: a sequence or the secret in: $(cat "$WORK/err")"
    ! grep -q panicked "$WORK/err" || fail "$what: panic"
    [ "$(table)" = "$before" ] || fail "$what: our table changed"
    [ "$(host)" = "$host_before" ] || fail "$what: the host's table changed"
}

# A doors file with errors: file, line and key named.
nbad=0
bad() {
    nbad=$((nbad + 1))
    local needle=$1
    shift
    { printf '[ssh]\nsecret_file = e2e.secret\n'; printf '%s\n' "$@"; } >"$WORK/doors"
    refused "doors file: $*" "$needle" rotate
}
bad "doors:3: [ssh] open: '22/sctp' is not PORT/tcp or PORT/udp" "open = 22/sctp"
bad "doors:1: [ssh] has no open" "open_for = 30"
bad "[ssh] open_for:" "open = 22/tcp" "open_for = 0"
bad "[ssh] seq_timeout:" "open = 22/tcp" "seq_timeout = soon"
bad "[ssh] grace:" "open = 22/tcp" "grace = 6000"
bad "[ssh] policy: 'maybe' is neither drop nor reject" "open = 22/tcp" "policy = maybe"
bad "doors:4: [ssh] one_use: 'once' is neither yes nor no" "open = 22/tcp" "one_use = once"
bad "[ssh] open: 8080/tcp is one of the ports this door's knocks are drawn from" "open = 8080/tcp"
bad "doors:4: [ssh] knock: 'maybe' is not sequence, token or both" "open = 22/tcp" "knock = maybe"
bad "doors:4: [ssh] knock: a token needs token_port" "open = 22/tcp" "knock = token"
bad "doors:5: [ssh] token_port:" "open = 22/tcp" "knock = both" "token_port = 0"
bad "doors:4: [ssh] token_port: 22/udp is a port this door opens" "open = 22/udp" "token_port = 22"
bad "doors:6: [ssh] token_port: 3001 is one of the UDP ports this door's knocks are drawn from" \
    "open = 22/tcp" "ports = 3000-9000" "proto_modulo = 2" "token_port = 3001"
bad "open the same port with different policies" "open = 22/tcp" "[web]" "secret_file = e2e.secret" \
    "open = 22/tcp" "policy = reject"
bad "doors:4: [ssh] ahead: 'tomorrow' is neither yes nor no" "open = 22/tcp" "ahead = tomorrow"
bad "doors:5: [ssh] seq_timeout: with ahead = yes, it can be at most the period" \
    "open = 22/tcp" "period = 20" "seq_timeout = 30" "ahead = yes"
bad "doors:6: [ssh] ahead: a token door's tokens are installed a day ahead already" \
    "open = 22/tcp" "knock = token" "token_port = 4444" "ahead = yes"
bad "unknown key 'opne'" "opne = 22/tcp"
# More token doors than a window key tells apart: the first one too many.
for i in $(seq 0 4096); do
    printf '[t%d]\nsecret_file = e2e.secret\nopen = 22/tcp\nknock = token\ntoken_port = 4444\n' "$i"
done >"$WORK/doors"
refused "4097 token doors" "doors:20481: more than 4096 doors with tokens; at most 4096 can have them" rotate
printf '%s\n' "$good" >"$WORK/doors"
refused "no doors file" "/nonexistent/doors: No such file or directory" \
    env -u KNOCKD_ROTATOR_DOORS "$KR" rotate --backend nftables --no-boundary-run --doors-file /nonexistent/doors
refused "knockd's option" "--pidfile is for the knockd backend" rotate --pidfile /run/knockd.pid
refused "a bad backend" "--backend: 'nft' is neither knockd nor nftables" \
    "$KR" rotate --backend nft --doors-file "$WORK/doors"
refused "a bad KNOCKD_ROTATOR_BACKEND" "KNOCKD_ROTATOR_BACKEND: 'ipfw' is neither knockd nor nftables" \
    env KNOCKD_ROTATOR_BACKEND=ipfw "$KR" rotate --doors-file "$WORK/doors" --no-boundary-run

# No nft where we look.
refused "a missing nft" "KNOCKD_ROTATOR_NFT: no nft at /nonexistent/nft" \
    env KNOCKD_ROTATOR_NFT=/nonexistent/nft "$KR" rotate --backend nftables --doors-file "$WORK/doors" --no-boundary-run
refused "a relative nft" "KNOCKD_ROTATOR_NFT: 'nft' is not an absolute path" \
    env KNOCKD_ROTATOR_NFT=nft "$KR" rotate --backend nftables --doors-file "$WORK/doors" --no-boundary-run

# nft refuses the transaction: an object of ours that someone re-made with
# another type. Nothing of the transaction takes effect.
nft delete table inet knock_rotator
nft add table inet knock_rotator
nft add set inet knock_rotator prot '{ type ipv4_addr; }'
before=$(table)
refused "nft refusing the transaction" "nft refused it" rotate
# The same with an ahead door: its sets, missing, go in first, alone, and
# are filled while nft applies the table; refused, they go again (and the
# table, when they made it).
printf '%s\nahead = yes\n' "$good" >"$WORK/ahead.doors"
refused "nft refusing the transaction, ahead doors" "nft refused it" \
    "$KR" rotate --backend nftables --doors-file "$WORK/ahead.doors" --no-boundary-run -q
# No table before: an nft that refuses the table's text (its chains) and
# runs the rest.
nft delete table inet knock_rotator
before=$(table || true)
cat >"$WORK/nft" <<EOF
#!/bin/sh
[ "\$*" = "-f -" ] || exec $(command -v nft) "\$@"
cat >"$WORK/nft.in"
! grep -q "chain input" "$WORK/nft.in" || { echo "Error: refused by the test" >&2; exit 1; }
exec $(command -v nft) -f "$WORK/nft.in"
EOF
chmod 755 "$WORK/nft"
refused "nft refusing the transaction, no table before" "nft refused it" env KNOCKD_ROTATOR_NFT="$WORK/nft" \
    "$KR" rotate --backend nftables --doors-file "$WORK/ahead.doors" --no-boundary-run -q
rotate || fail "rotate after the refusal"
before=$(table)

# A table deleted by hand, with no watch running: status says so, and the
# next rotation puts it back.
nft delete table inet knock_rotator
"$KR" status --backend nftables --doors-file "$WORK/doors" >"$WORK/status" 2>"$WORK/err" && fail "status: exit 0 with no table"
grep -q "table inet knock_rotator is not installed" "$WORK/err" || fail "status: $(cat "$WORK/err")"
rotate || fail "rotate after the deletion"
"$KR" status --backend nftables --doors-file "$WORK/doors" >/dev/null || fail "status after rotate"

# A full allow set: new sources cannot be let in (the knock fails closed),
# status says which set is full, the sources in it keep their way in.
set=$(nft list table inet knock_rotator | grep -o 'set a4_[0-9a-f]*' | head -1 | cut -d' ' -f2)
python3 - "$set" >"$WORK/fill.nft" <<'EOF'
import sys
addrs = [f"198.18.{i >> 8}.{i & 255}" for i in range(65535)]
print(f"add element inet knock_rotator {sys.argv[1]} {{ " + ", ".join(a + " timeout 1h" for a in addrs) + " }")
EOF
nft -f "$WORK/fill.nft" || fail "filling the allow set"
"${NC[@]}" knock 127.0.0.5 127.0.0.1 "$("$KR" generate ssh)"
python3 - <<'EOF' || fail "a new source got in through a full allow set"
import socket, sys
s = socket.socket(); s.bind(("127.0.0.5", 0)); s.settimeout(0.5)
try:
    s.connect(("127.0.0.1", 22))
except ConnectionRefusedError:
    sys.exit(1)  # past our gate: the host's port answered
except OSError:
    pass  # dropped by our gate
EOF
"$KR" status --backend nftables --doors-file "$WORK/doors" >"$WORK/status" 2>&1 || true
grep -q "set $set is full (65535 sources allowed)" "$WORK/status" || fail "status on a full set: $(cat "$WORK/status")"
[ "$(host)" = "$host_before" ] || fail "the host's table changed"
note "nftables faults: $nbad bad doors files refused, a missing nft, a refused transaction, a deleted table, a full set"
