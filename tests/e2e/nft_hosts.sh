# The nftables backend beside a host firewall, in this test's namespaces:
# OpenWrt's fw4 (a ruleset fw4 renders, with a wan rule accepting the
# protected port and the package's ruleset-post include), its reload and a
# firewall restart; watch mode putting the table back after a flush of the
# ruleset and after a deletion by hand; Debian's /etc/nftables.conf (flush
# ruleset, the host's table, our include) on reload and restart. Clients
# knock from a namespace of their own, over a veth named as fw4's wan.
# Environment: FW4 (tests/fw4), SRC (the repository).
source "$LIB"
NC=(python3 "$(dirname "$LIB")/nft_client.py")
printf '%s\n' "$KNOCKD_ROTATOR_SECRET" >"$WORK/e2e.secret"
printf '[ssh]\nsecret_file = e2e.secret\nopen = 22/tcp\nopen_for = 600\n' >"$WORK/doors"
rotate() { "$KR" rotate --backend nftables --doors-file "$WORK/doors" --no-boundary-run -q "$@"; }
status() { "$KR" status --backend nftables --doors-file "$WORK/doors"; }

# The client's namespace, on fw4's wan device.
ip netns add kr-client
trap 'ip netns del kr-client 2>/dev/null; cleanup' EXIT
ip link add pppoe-wan type veth peer name kr-peer
ip link set kr-peer netns kr-client
ip addr add 192.0.2.1/24 dev pppoe-wan && ip addr add 2001:db8::1/64 dev pppoe-wan nodad
ip link set pppoe-wan up
in_client() { ip netns exec kr-client "$@"; }
in_client ip link set lo up
in_client ip addr add 192.0.2.2/24 dev kr-peer && in_client ip addr add 192.0.2.3/24 dev kr-peer
in_client ip addr add 2001:db8::2/64 dev kr-peer nodad && in_client ip link set kr-peer up
"${NC[@]}" serve --any 22/tcp >"$WORK/serve.log" 2>&1 &
wait_for "the echo server" 5 grep -qs serving "$WORK/serve.log"
opens() { in_client "${NC[@]}" connect "$1" "$2" 22 || fail "$3: $1 cannot connect"; }
shut() { ! in_client "${NC[@]}" connect "$1" "$2" 22 || fail "$3: $1 connected"; }
client_knock() { in_client "${NC[@]}" knock "$1" "$2" "$("$KR" generate ssh)"; }

# fw4's default ruleset as fw4 renders it, without what needs kernel
# modules a host may lack (flow offload, conntrack helpers), with an
# Allow-SSH wan rule and our package's ruleset-post include, as fw4 renders
# an include of /usr/share/nftables.d/ruleset-post/.
awk '/^\tflowtable ft \{/ { skip = 1 } skip && /^\t\}/ { skip = 0; next } skip { next }
     /^\tct helper / { helper = 1 } helper && /^\t\}/ { helper = 0; next } helper { next }
     /flow offload|ct helper set/ { next } { print }
     /^\tchain input_wan \{/ { print "\t\ttcp dport 22 counter accept comment \"!fw4: Allow-SSH\"" }' \
    "$FW4/01_ruleset.nft" >"$WORK/fw4.nft"
printf 'include "%s"\n' "$SRC/dist/openwrt/knock-rotator.nft" >>"$WORK/fw4.nft"
fw4_start() { nft -f "$WORK/fw4.nft" || fail "fw4's ruleset did not load"; }

fw4_start
# Without our table, fw4's wan rule lets anyone in.
opens 192.0.2.2 192.0.2.1 "fw4 alone"
rotate || fail "rotate"
shut 192.0.2.2 192.0.2.1 "fw4 with our table, before a knock"
in_client "$KR" knock 192.0.2.1 ssh || fail "knock over fw4's wan"
opens 192.0.2.2 192.0.2.1 "after our knock, through fw4"
status >"$WORK/status" || fail "status: $(cat "$WORK/status")"
! grep -q warning "$WORK/status" || fail "status warns though fw4 accepts 22: $(cat "$WORK/status")"

# fw4 reload: the whole ruleset again, ours included in the same
# transaction; the knocked source keeps its window, a stranger is refused.
fw4_start
opens 192.0.2.2 192.0.2.1 "after fw4 reload, the knocked source"
shut 192.0.2.3 192.0.2.1 "after fw4 reload, a stranger"
# A firewall restart: fw4 flush deletes every table, start renders again.
nft flush ruleset && fw4_start
nft list table inet knock_rotator >/dev/null || fail "our table is not back after a firewall restart"
shut 192.0.2.3 192.0.2.1 "after a firewall restart, a stranger"
client_knock 192.0.2.3 192.0.2.1
opens 192.0.2.3 192.0.2.1 "after a firewall restart, a new knock"
# IPv6 through fw4.
shut 2001:db8::2 2001:db8::1 "IPv6 before a knock"
in_client "$KR" knock 2001:db8::1 ssh || fail "knock over IPv6"
opens 2001:db8::2 2001:db8::1 "IPv6 after a knock"

# Watch mode: a flush of the whole ruleset (a firewall stop), a deletion
# by hand, and one at the end of another's big transaction while watch is
# stopped, so that the 20000 element events before it overrun watch's ear
# (which then looks whether the table is there); the table is back within
# seconds each time.
python3 -c 'print("table inet other {\n\tset s { type ipv4_addr; }\n}")
print("add element inet other s {", ", ".join("10.%d.%d.1" % (i // 256, i % 256) for i in range(20000)), "}")
print("delete table inet knock_rotator")' >"$WORK/big.nft"
"$KR" rotate --backend nftables --doors-file "$WORK/doors" --watch >"$WORK/watch.log" 2>&1 &
watch=$!
wait_for "watch's first rotation" 5 grep -qs "installed 1 door" "$WORK/watch.log"
back() { nft list table inet knock_rotator >/dev/null 2>&1; }
undone() { grep -c "undone from outside; putting it back" "$WORK/watch.log" || true; }
n=0
for how in "flush ruleset" "delete table inet knock_rotator" "-f $WORK/big.nft"; do
    sleep 0.5
    t0=$(date +%s%N)
    case $how in -f*) kill -STOP $watch ;; esac
    # (Word-split on purpose: nft takes its words as one command.)
    # shellcheck disable=SC2086
    nft $how
    kill -CONT $watch
    n=$((n + 1))
    # Watch says it saw the table go (it may be back before we could look).
    wait_for "watch to see '$how'" 3 test "$(undone)" -ge $n
    wait_for "the table back after $how" 3 back
    note "after '$how', the table was back within $((($(date +%s%N) - t0) / 1000000)) ms"
done
shut 192.0.2.3 192.0.2.1 "a stranger after the table came back"
kill $watch && wait $watch 2>/dev/null || true

# Debian: /etc/nftables.conf flushes the ruleset, loads the host's table and
# includes our copy: 'systemctl reload nftables' (nft -f of it) and restart
# (flush, then nft -f) leave no moment without our table.
cat >"$WORK/nftables.conf" <<EOF
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 22 accept
	}
}
include "/var/run/knock-rotator/*.nft"
EOF
for how in reload restart; do
    [ $how = restart ] && nft flush ruleset
    nft -f "$WORK/nftables.conf" || fail "nftables.conf ($how)"
    nft list table inet knock_rotator >/dev/null || fail "no table right after nftables $how"
    shut 192.0.2.3 192.0.2.1 "a stranger right after nftables $how"
done
client_knock 192.0.2.3 192.0.2.1
opens 192.0.2.3 192.0.2.1 "a knock beside Debian's nftables.conf"
# A host firewall that would drop the port anyway is told.
nft 'delete rule inet filter input handle '"$(nft -a list chain inet filter input | sed -n 's/.*tcp dport 22 accept # handle \([0-9]*\)/\1/p')"
status >"$WORK/status" 2>&1 || true
grep -q "warning: table inet filter drops input by default, and none of its rules accepts tcp port 22" "$WORK/status" ||
    fail "status did not warn: $(cat "$WORK/status")"
note "fw4 reload and restart, a flush and a deletion under watch, Debian's nftables.conf: the doors stayed"
