# One use per period (a door's `one_use = yes`, nftables backend): a
# period's sequence opens for the first source that completes it; the same
# knocks replayed from another source open nothing, while the first
# source's window stays; a door without it opens for both. A used slot
# stays used after a rotation, a re-apply, and the whole ruleset flushed
# and put back from our copy, as a host firewall's restart does.
source "$LIB"
nft_setup
{
    printf '[once]\nsecret_file = e2e.secret\nopen = 30/tcp\nopen_for = 60\none_use = yes\n\n'
    printf '[many]\nsecret_file = e2e.secret\nopen = 31/tcp\nopen_for = 60\n'
} >"$WORK/doors"
for i in 1 2 3 4 5 6; do ip addr add "127.0.3.$i/32" dev lo; done
"${NC[@]}" serve 30/tcp 31/tcp >"$WORK/serve.log" 2>&1 &
wait_for "the echo servers" 5 grep -qs serving "$WORK/serve.log"
rotate 2>"$WORK/rotate.err" || fail "rotate: $(cat "$WORK/rotate.err")"
once=$("$KR" generate once)
many=$("$KR" generate many)
# Too close to a boundary, the test would cross into the next period.
[ $(( $(date +%s) % 21600 )) -lt 21500 ] || sleep 100

# The first source opens; the replay from a second one does not.
"${NC[@]}" knock 127.0.3.1 127.0.0.1 "$once"
opens 127.0.3.1 30 "first use"
"${NC[@]}" knock 127.0.3.2 127.0.0.1 "$once"
shut 127.0.3.2 30 "a replay from another source"
opens 127.0.3.1 30 "the first source after the replay"
# The same knocks on a door without one_use open for both.
"${NC[@]}" knock 127.0.3.1 127.0.0.1 "$many"
"${NC[@]}" knock 127.0.3.2 127.0.0.1 "$many"
opens 127.0.3.1 31 "many, first"
opens 127.0.3.2 31 "many, replayed"

# A rotation (a re-apply of the same periods) keeps the slot used.
rotate || fail "re-apply"
"${NC[@]}" knock 127.0.3.3 127.0.0.1 "$once"
shut 127.0.3.3 30 "a replay after a re-apply"
# So does the host firewall's restart: every table flushed, ours put back
# from the copy the last rotation kept.
grep -q "^add element inet knock_rotator used " "$COPY" || fail "the copy does not hold the used slot"
nft flush ruleset
nft -f "$COPY" || fail "the copy does not load"
"${NC[@]}" knock 127.0.3.4 127.0.0.1 "$once"
shut 127.0.3.4 30 "a replay after a flush and a restore"
# And a rotation after that.
rotate || fail "rotate after the restore"
"${NC[@]}" knock 127.0.3.5 127.0.0.1 "$once"
shut 127.0.3.5 30 "a replay after the restore and a rotation"
# Without one_use, the same replay opens again (the check can fail).
sed -i 's/^one_use = yes$/one_use = no/' "$WORK/doors"
rotate || fail "rotate without one_use"
"${NC[@]}" knock 127.0.3.6 127.0.0.1 "$once"
opens 127.0.3.6 30 "a replay with one_use off"
note "one use: the first source opens, replays from 4 others (after a re-apply, a flush and restore, a rotation) do not"
