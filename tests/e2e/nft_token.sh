# The single-packet knock (a door's `knock = token`, nftables backend):
# `knock --token` sends the period's 128-bit token in one datagram and the
# door opens; the kernel takes the previous, current and next periods'
# tokens, each once. A replay from another source, a wrong, short, future
# or expired token opens nothing; a used token stays used after a
# re-apply and after the whole ruleset is flushed and put back from our
# copy. `knock = both` takes the sequence too; `token` alone does not.
source "$LIB"
nft_setup
{
    printf '[tok]\nsecret_file = e2e.secret\nopen = 30/tcp\nknock = token\ntoken_port = 4444\n\n'
    printf '[mix]\nsecret_file = e2e.secret\nopen = 31/tcp\nknock = both\ntoken_port = 4445\n\n'
    printf '[retry]\nsecret_file = e2e.secret\nopen = 34/tcp\nknock = token\ntoken_port = 4447\n'
} >"$WORK/doors"
token() { "$KR" generate tok --format token "$@"; }
for i in $(seq 1 20); do ip addr add "127.0.3.$i/32" dev lo; done
"${NC[@]}" serve 30/tcp 31/tcp 34/tcp >"$WORK/serve.log" 2>&1 &
wait_for "the echo servers" 5 grep -qs serving "$WORK/serve.log"
rotate 2>"$WORK/rotate.err" || fail "rotate: $(cat "$WORK/rotate.err")"
# Too close to a boundary, the test would cross into the next period.
[ $(( $(date +%s) % 21600 )) -lt 21500 ] || sleep 100
[ "$(token | tr -d '\n' | wc -c)" = 32 ] || fail "generate --format token: $(token)"

# Our knock, from 127.0.0.1: one datagram, and the door opens.
shut 127.0.0.1 30 "before the token"
"$KNOCK" -v --token 4444 127.0.0.1 tok >"$WORK/knock.out" || fail "knock --token: $(cat "$WORK/knock.out")"
[ "$(cat "$WORK/knock.out")" = "sending the token to udp 127.0.0.1:4444" ] || fail "knock -v: $(cat "$WORK/knock.out")"
opens 127.0.0.1 30 "our knock's token"
# The same token replayed from another source: nothing; the first source
# keeps its window.
"${NC[@]}" token 127.0.3.1 127.0.0.1 4444 "$(token)"
shut 127.0.3.1 30 "a replayed token"
opens 127.0.0.1 30 "the first source after the replay"

# Wrong, short, two periods ahead, two periods old: nothing.
"${NC[@]}" token 127.0.3.2 127.0.0.1 4444 00112233445566778899aabbccddeeff
shut 127.0.3.2 30 "a wrong token"
"${NC[@]}" token 127.0.3.2 127.0.0.1 4444 "$(token --offset 1 | cut -c1-30)"
shut 127.0.3.2 30 "15 bytes of a good token"
"${NC[@]}" token 127.0.3.2 127.0.0.1 4444 "$(token --offset 2)"
shut 127.0.3.2 30 "a token two periods ahead"
"${NC[@]}" token 127.0.3.2 127.0.0.1 4444 "$(token --offset -2)"
shut 127.0.3.2 30 "a token two periods old"
# Another door's token opens nothing at this door's port; at its own
# port, its own door only.
mix1=$("$KR" generate mix --format token --offset 1)
"${NC[@]}" token 127.0.3.2 127.0.0.1 4444 "$mix1"
shut 127.0.3.2 30 "mix's token at tok's port"
shut 127.0.3.2 31 "mix's token at tok's port, for mix"
"${NC[@]}" token 127.0.3.2 127.0.0.1 4445 "$mix1"
opens 127.0.3.2 31 "mix's token at its own port"
shut 127.0.3.2 30 "mix's token, for tok"

# The previous and the next periods' tokens open, each once.
"${NC[@]}" token 127.0.3.3 127.0.0.1 4444 "$(token --offset -1)"
opens 127.0.3.3 30 "the previous period's token"
"${NC[@]}" token 127.0.3.4 127.0.0.1 4444 "$(token --offset 1)"
opens 127.0.3.4 30 "the next period's token"
"${NC[@]}" token 127.0.3.5 127.0.0.1 4444 "$(token --offset 1)"
shut 127.0.3.5 30 "the next period's token, again"

# A token-only door ignores its sequence; `both` takes either.
"${NC[@]}" knock 127.0.3.6 127.0.0.1 "$("$KR" generate tok)"
shut 127.0.3.6 30 "tok's sequence (knock = token)"
"${NC[@]}" knock 127.0.3.7 127.0.0.1 "$("$KR" generate mix)"
opens 127.0.3.7 31 "mix's sequence (knock = both)"
"$KNOCK" --token 4445 127.0.0.1 mix --at $(( $(date +%s) - 21600 )) || fail "knock --token --at"
opens 127.0.0.1 31 "mix's previous token, by knock --at"
"$KNOCK" --token 4445 ::1 mix || fail "knock --token over IPv6"
"${NC[@]}" connect ::1 ::1 31 || fail "a token over IPv6 did not open mix for ::1"
# Someone raced our token: knock --check's retry sends the next period's.
"${NC[@]}" token 127.0.3.13 127.0.0.1 4447 "$("$KR" generate retry --format token)"
opens 127.0.3.13 34 "the racer"
"$KNOCK" -v --token 4447 127.0.0.1 retry --check 34 --check-timeout 500 >"$WORK/retry.out" ||
    fail "knock --check after a raced token: $(cat "$WORK/retry.out")"
grep -q "still closed; knocking again (2/3)" "$WORK/retry.out" || fail "no retry: $(cat "$WORK/retry.out")"
[ "$(grep -c "sending the token" "$WORK/retry.out")" = 2 ] || fail "not two tokens: $(cat "$WORK/retry.out")"

# Re-applied, and flushed and put back from the copy: still used.
rotate || fail "re-apply"
"${NC[@]}" token 127.0.3.8 127.0.0.1 4444 "$(token)"
shut 127.0.3.8 30 "a replay after a re-apply"
grep -q "^add element inet knock_rotator tused " "$COPY" || fail "the copy does not hold the used tokens"
nft flush ruleset
nft -f "$COPY" || fail "the copy does not load"
for offset in 0 -1 1; do
    "${NC[@]}" token 127.0.3.9 127.0.0.1 4444 "$(token --offset $offset)"
    shut 127.0.3.9 30 "the used token of offset $offset after a flush and a restore"
done
rotate || fail "rotate after the restore"
"${NC[@]}" token 127.0.3.10 127.0.0.1 4444 "$(token)"
shut 127.0.3.10 30 "a replay after the restore and a rotation"

# A day ahead: a 60 s token door installed as if 200 periods ago (the
# timer dead since) still opens now; one installed as if more than a day
# ago does not (the doors fail closed). Later rotations add only the new
# periods; a new secret empties the map, so the old tokens die at once.
printf '%s\n' "another secret for the short door" >"$WORK/short.secret"
printf '[short]\nsecret_file = e2e.secret\nperiod = 60\nopen = 33/tcp\nknock = token\ntoken_port = 4446\n' >"$WORK/doors3"
"${NC[@]}" serve 33/tcp >>"$WORK/serve.log" 2>&1 &
r3() { "$KR" rotate --backend nftables --doors-file "$WORK/doors3" --no-boundary-run "$@"; }
now=$(date +%s)
nft flush ruleset
r3 --at $((now - 200 * 60)) >"$WORK/r3.out" || fail "rotate a day ahead: $(cat "$WORK/r3.out")"
grep -q "1442 new tokens" "$WORK/r3.out" || fail "not a day of tokens: $(cat "$WORK/r3.out")"
short() { KNOCKD_ROTATOR_PERIOD_MODULO=60 "$KR" generate short --format token "$@"; }
KNOCKD_ROTATOR_PERIOD_MODULO=60 "$KNOCK" --token 4446 127.0.0.1 short || fail "knock short"
opens 127.0.0.1 33 "a 60 s door installed 200 periods ago"
r3 --at $((now - 199 * 60)) >"$WORK/r3.out" || fail "the next rotation"
grep -q "1 new token," "$WORK/r3.out" || fail "the next rotation did not add one period: $(cat "$WORK/r3.out")"
r3 --at $((now - 199 * 60)) >"$WORK/r3.out" || fail "a re-apply"
! grep -q "new token" "$WORK/r3.out" || fail "a re-apply added tokens: $(cat "$WORK/r3.out")"
sed -i 's/^secret_file = e2e.secret$/secret_file = short.secret/' "$WORK/doors3"
r3 --at $((now - 199 * 60)) >"$WORK/r3.out" || fail "rotate with a new secret"
grep -q "1442 new tokens" "$WORK/r3.out" || fail "a new secret did not renew every token: $(cat "$WORK/r3.out")"
"${NC[@]}" token 127.0.3.11 127.0.0.1 4446 "$(short --offset 1)"
shut 127.0.3.11 33 "the old secret's token after the secret changed"
"${NC[@]}" token 127.0.3.11 127.0.0.1 4446 "$(KNOCKD_ROTATOR_SECRET="another secret for the short door" short --offset 1)"
opens 127.0.3.11 33 "the new secret's token"
nft flush ruleset
sed -i 's/^secret_file = short.secret$/secret_file = e2e.secret/' "$WORK/doors3"
r3 --at $((now - 1445 * 60)) >"$WORK/r3.out" || fail "rotate more than a day ago"
"${NC[@]}" token 127.0.3.12 127.0.0.1 4446 "$(short)"
shut 127.0.3.12 33 "a token past the day installed"

# The host firewall's copy holds the next hour's tokens: a table put back
# from it opens for the hour after the rotation that wrote it, and the
# next rotation adds the rest of the day.
now=$(date +%s)
restore() { # rotate as if $1 minutes ago, flush, and load the copy
    nft flush ruleset
    r3 --at $((now - $1 * 60)) >"$WORK/r3.out" || fail "rotate $1 minutes ago: $(cat "$WORK/r3.out")"
    nft flush ruleset
    nft -f "$COPY" || fail "the copy of $1 minutes ago does not load"
}
restore 70
"${NC[@]}" token 127.0.3.15 127.0.0.1 4446 "$(short)"
shut 127.0.3.15 33 "a token past the copy's hour after a restore"
r3 --at "$now" >"$WORK/r3.out" || fail "rotate after the restore"
"${NC[@]}" token 127.0.3.16 127.0.0.1 4446 "$(short)"
opens 127.0.3.16 33 "a token the rotation after the restore added"
restore 30
"${NC[@]}" token 127.0.3.14 127.0.0.1 4446 "$(short)"
opens 127.0.3.14 33 "a token of the copy's hour after a restore"
# status says until when the installed tokens open: the copy's hour, then
# (after the rotation) a day; token j opens up to the end of period j+1.
ends() {
    "$KR" status --backend nftables --doors-file "$WORK/doors3" --at "$now" --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["doors"][0]["until"])'
}
[ "$(ends)" = $(((now / 60 - 30 + 60 + 2) * 60)) ] || fail "status after a restore: until $(ends)"
r3 --at "$now" >"$WORK/r3.out" || fail "rotate after the restore"
grep -q "1410 new tokens" "$WORK/r3.out" || fail "not the rest of the day after the restore: $(cat "$WORK/r3.out")"
[ "$(ends)" = $(((now / 60 + 1440 + 2) * 60)) ] || fail "status after a day's rotation: until $(ends)"

# Seven doors' day (10094 tokens, over tokens::SPLIT_MIN): the table goes
# in with the first hour's tokens and the rest of the day over netlink,
# while nft parses the table; the manifest says the day once all are in.
# When the kernel refuses the rest, rotate says so, the hour opens, the
# manifest says the hour, and the next rotation adds the rest.
{
    cat "$WORK/doors3"
    for i in 1 2 3 4 5 6; do
        printf '\n[many%s]\nsecret_file = e2e.secret\nperiod = 60\nopen = 33/tcp\nknock = token\ntoken_port = 4446\n' "$i"
    done
} >"$WORK/doors4"
r4() { "$KR" rotate --backend nftables --doors-file "$WORK/doors4" --no-boundary-run "$@"; }
held() { nft -j list set inet knock_rotator tok | python3 -c 'import json, sys
print(sum(len(o["set"].get("elem", [])) for o in json.load(sys.stdin)["nftables"] if "set" in o))'; }
ends4() {
    "$KR" status --backend nftables --doors-file "$WORK/doors4" --at "$now" --json |
        python3 -c 'import json, sys; print(sorted({d["until"] for d in json.load(sys.stdin)["doors"]}))'
}
nft flush ruleset
r4 --at $((now - 200 * 60)) >"$WORK/r4.out" || fail "rotate seven doors: $(cat "$WORK/r4.out")"
grep -q "10094 new tokens" "$WORK/r4.out" || fail "not seven doors' day: $(cat "$WORK/r4.out")"
[ "$(held)" = 10094 ] || fail "seven doors' day holds $(held) tokens"
"${NC[@]}" token 127.0.3.17 127.0.0.1 4446 "$(short)"
opens 127.0.3.17 33 "a token 200 periods into seven doors' day"
[ "$(ends4)" = "[$(((now / 60 - 200 + 1440 + 2) * 60))]" ] || fail "status of seven doors' day: until $(ends4)"
# The kernel refuses the rest: an nft that declares the token set with
# room for 462 tokens, the hour's 434 and not a batch (1000) more. nft
# runs with an empty environment: the real one's path is written in.
cat >"$WORK/nft-small-set" <<SH
#!/bin/sh
sed 's/\\(set tok { [^}]*flags timeout;\\) }/\\1 size 462; }/' | exec $(command -v nft) "\$@"
SH
chmod 755 "$WORK/nft-small-set"
nft flush ruleset
KNOCKD_ROTATOR_NFT="$WORK/nft-small-set" r4 --at "$now" >"$WORK/r4.out" 2>&1 &&
    fail "rotate succeeded when the rest of the day was refused"
[[ $(nft list set inet knock_rotator tok) == *"size 462"* ]] || fail "the token set is not the test's small one"
grep -q "the table is installed with the next hour's tokens, but not the rest of the day's (set tok is full); the next rotation adds them" "$WORK/r4.out" ||
    fail "rotate's message when the rest of the day is refused: $(cat "$WORK/r4.out")"
[ "$(held)" = $((7 * 62)) ] || fail "the hour's tokens: $(held)"
"${NC[@]}" token 127.0.3.18 127.0.0.1 4446 "$(short)"
opens 127.0.3.18 33 "a token of the hour when the rest was refused"
[ "$(ends4)" = "[$(((now / 60 + 60 + 2) * 60))]" ] || fail "status when the rest was refused: until $(ends4)"
# The small set stays (a set's size is the kernel's to keep or change);
# the host firewall's flush and restore of the copy, which a table with
# the hour's tokens is, leaves a table with the usual set.
nft flush ruleset
nft -f "$COPY" || fail "restore the copy"
[ "$(held)" = $((7 * 62)) ] || fail "the hour's tokens after the restore: $(held)"
r4 --at "$now" >"$WORK/r4.out" || fail "rotate after the rest was refused: $(cat "$WORK/r4.out")"
grep -q "9660 new tokens" "$WORK/r4.out" || fail "not the rest of the day: $(cat "$WORK/r4.out")"
[ "$(held)" = 10094 ] || fail "after the rest was added: $(held) tokens"
[ "$(ends4)" = "[$(((now / 60 + 1440 + 2) * 60))]" ] || fail "status after the rest was added: until $(ends4)"

# The phone's side: the door's profile names the token port, and a knock
# with that profile alone opens.
"$KR" profile --doors-file "$WORK/doors" tok --host 127.0.0.1 --with-secret >"$WORK/profile" ||
    fail "profile: $(cat "$WORK/profile")"
grep -qx 'token_port = 4444' "$WORK/profile" || fail "the profile has no token_port: $(cat "$WORK/profile")"
printf '[mix]\nsecret_file = e2e.secret\nopen = 31/tcp\nknock = sequence\ntoken_port = 4445\n' >"$WORK/doors2"
"$KR" profile --doors-file "$WORK/doors2" mix --host 127.0.0.1 >"$WORK/profile2"
! grep -q token_port "$WORK/profile2" || fail "knock = sequence, yet the profile names a token port"
nft flush ruleset
rotate || fail "rotate after the flush"
env -i PATH="$PATH" "$KNOCK" --config-file "$WORK/profile" -p tok --check 30 --check-timeout 500 --retries 0 ||
    fail "knock -p with the door's profile did not open it"
note "token: our knock opens; replay, wrong, short, future, expired and reused tokens do not (also after a re-apply, a flush and restore)"
