# Per-source limits on knock attempts (nftables backend): each source (an
# IPv4 address, an IPv6 /64) may send 64 knock packets at once, then 16 a
# second; the excess is ignored. A flood of spoofed sources fills the rate
# set (65 535 per family): then new sources are ignored (it fails closed),
# sources already in it keep working, and 10 s after the flood everyone
# gets in again.
source "$LIB"
nft_setup
{
    printf '[ssh]\nsecret_file = e2e.secret\nopen = 30/tcp\nknock = both\ntoken_port = 4444\n\n'
    printf '[web]\nsecret_file = e2e.secret\nopen = 31/tcp\n'
} >"$WORK/doors"
rate4() { nft -j list set inet knock_rotator rate4 | python3 -c 'import json,sys; print(len(next(o["set"] for o in json.load(sys.stdin)["nftables"] if "set" in o).get("elem", [])))'; }
for i in 1 2 3 4; do ip addr add "127.0.5.$i/32" dev lo; done
for a in 2001:db8::1 2001:db8::2 2001:db8:0:1::1; do ip addr add "$a/128" dev lo nodad; done
"${NC[@]}" serve 30/tcp 31/tcp >"$WORK/serve.log" 2>&1 &
wait_for "the echo servers" 5 grep -qs serving "$WORK/serve.log"
rotate 2>"$WORK/rotate.err" || fail "rotate: $(cat "$WORK/rotate.err")"
# The flood's sources are conntrack entries too; the kernel must hold them
# (a full conntrack table would drop packets before our rules see them).
max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
[ "$max" -ge 140000 ] || fail "nf_conntrack_max is $max; this test's 65 535 sources need 140000 (sysctl net.netfilter.nf_conntrack_max=262144)"
[ $(( $(date +%s) % 21600 )) -lt 21500 ] || sleep 100
ssh=$("$KR" generate ssh)
web=$("$KR" generate web)

# One source's burst: past 64 packets its knocks are ignored, so the
# right sequence sent right after opens nothing; 4 s later it does.
"${NC[@]}" burst 127.0.5.3 127.0.0.1 4444 100 "$web"
shut 127.0.5.3 31 "a knock right after a burst of 100"
sleep 4.5
"${NC[@]}" knock 127.0.5.3 127.0.0.1 "$web"
opens 127.0.5.3 31 "the same source 4.5 s later"
# IPv6 sources are limited per /64.
"${NC[@]}" burst 2001:db8::1 ::1 4444 100 "$web" 2001:db8::2
shut 2001:db8::2 31 "a knock from the same /64 as a burst" ::1
"${NC[@]}" knock 2001:db8:0:1::1 ::1 "$web"
opens 2001:db8:0:1::1 31 "a knock from another /64" ::1

# A known source knocks before the flood; the flood fills the set.
"${NC[@]}" knock 127.0.5.1 127.0.0.1 "$ssh"
opens 127.0.5.1 30 "before the flood"
# The flood goes on while we look (its sources are forgotten 10 s after
# their last packet); 127.0.5.1 keeps knocking through it. So does
# 127.0.5.3, known from its burst: were it forgotten while the set is
# full, its place would be free for whichever source knocks next, the
# flood's or the new one's.
"${NC[@]}" flood 127.0.0.1 4444 8 65535 127.0.5.1,127.0.5.3 >"$WORK/flood.out" &
flood=$!
n=0
for _ in $(seq 30); do n=$(rate4); [ "$n" = 65535 ] && break; sleep 0.5; done
[ "$n" = 65535 ] || fail "the rate set holds $n sources in the flood, not its 65535"
"$KR" status --backend nftables --doors-file "$WORK/doors" >"$WORK/status" 2>&1 || true
grep -q "set rate4 is full (65535 sources knocking" "$WORK/status" || fail "status: $(cat "$WORK/status")"
# Full: a new source's knocks are ignored (fail closed); the known one's
# still count.
"${NC[@]}" knock 127.0.5.2 127.0.0.1 "$web"
shut 127.0.5.2 31 "a new source while the set is full"
"${NC[@]}" knock 127.0.5.1 127.0.0.1 "$web"
opens 127.0.5.1 31 "a known source while the set is full"
# 10 s after the flood, the spoofed sources are forgotten.
kill $flood
wait $flood 2>/dev/null || true
sleep 11
"${NC[@]}" knock 127.0.5.2 127.0.0.1 "$web"
opens 127.0.5.2 31 "the new source 11 s after the flood"
"$KNOCK" --token 4444 127.0.0.1 ssh || fail "knock --token"
opens 127.0.0.1 30 "a token after the flood"
note "rate limits: a burst of 100 ignored then forgiven in 4.5 s, per /64 for IPv6; $(cat "$WORK/flood.out") filled the set and kept it full: new sources shut out, a known one kept, all back 11 s after it"
