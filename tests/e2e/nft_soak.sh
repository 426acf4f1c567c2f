# The nftables backend under load: watch mode rotates 100 doors, each with
# its own secret, every 5 seconds for SOAK_SECONDS (default 180), while a
# client knocks on them in turn, each knock from its own source, across
# boundaries too (no skips: the kernel keeps every attempt through a
# rotation, and the previous sequence opens for a second after the
# boundary). Every knock must open its door; the watch process's memory and
# open files must not grow; each rotation's transaction time is reported.
# Environment: STATIC (the release executable).
source "$LIB"
secs=${SOAK_SECONDS:-180}
K=$STATIC
NC=(python3 "$(dirname "$LIB")/nft_client.py")
mkdir -p "$WORK/s"
for i in $(seq -w 1 100); do
    printf 'the soak secret of door %s, not a real one\n' "$i" >"$WORK/s/d$i.secret"
    printf '[d%s]\nsecret_file = s/d%s.secret\nperiod = 5\nopen = 22/tcp\nopen_for = 2\n\n' "$i" "$i"
done >"$WORK/doors"
"${NC[@]}" serve 22/tcp >"$WORK/serve.log" 2>&1 &
wait_for "the echo server" 5 grep -qs serving "$WORK/serve.log"
"$K" rotate --watch --backend nftables --doors-file "$WORK/doors" >"$WORK/watch.log" 2>&1 &
watch=$!
wait_for "the first rotation" 5 grep -q "installed 100 doors" "$WORK/watch.log"
"${NC[@]}" soak "$K" "$WORK/s" "$secs" "$watch" "$WORK/result" || fail "the soak driver failed"
kill "$watch"
read -r knocks failed <"$WORK/result"
samples=$(sed -n 2p "$WORK/result")
rotations=$(grep -c "installed 100 doors" "$WORK/watch.log")
times=$(sed -n 's/.*applied in \([0-9]*\) ms.*/\1/p' "$WORK/watch.log" | sort -n)
n=$(echo "$times" | wc -l)
note "$secs s: $rotations rotations of 100 doors (nft transaction: min $(echo "$times" | head -1) ms, median $(echo "$times" | sed -n "$(((n + 1) / 2))p") ms, max $(echo "$times" | tail -1) ms), $knocks knocks, $failed did not open"
note "watch process (RSS KiB/open files) every 10 s: $samples"
! grep -q "error" "$WORK/watch.log" || fail "a rotation failed: $(grep error "$WORK/watch.log" | head -3)"
[ "$rotations" -ge $((secs / 5 - 1)) ] || fail "only $rotations rotations in $secs s"
[ "$knocks" -ge $((secs * 3)) ] || fail "only $knocks knocks in $secs s"
[ "$failed" = 0 ] || fail "$failed of $knocks knocks did not open: $(tail -n +3 "$WORK/result" | tr '\n' ';')"
read -ra s <<<"$samples"
first=${s[1]:-${s[0]}} last=${s[-1]}
[ "${first#*/}" = "${last#*/}" ] || fail "open files went from ${first#*/} to ${last#*/}"
[ $(( ${last%/*} - ${first%/*} )) -le 64 ] || fail "memory grew from ${first%/*} KiB to ${last%/*} KiB"
note ok
