# A day of sequences ahead (a door's `ahead = yes`, nftables backend): a
# 60 s door installed as if 200 periods ago, the timer dead since, opens
# now to our knock (IPv4 and IPv6, and one that starts just before a
# boundary): the kernel's hash chains of the knocks match what rotate
# computed. The periods before and after the current one open, two away do
# not; a wrong order, a missing or a repeated knock opens nothing, and
# the right sequence sent at once after one of those opens.
# One use holds: a replay from another source opens nothing, and still
# nothing after a re-apply and after the host firewall's flush and
# restore from our copy. Later rotations add only the new periods and
# delete the periods past (the sets, of a fixed size, hold a day); a new
# secret empties the sets (the old sequences die at once); a door
# installed more than a day ago fails closed. A table of the version
# before (sets with timeouts) and a door more (a larger size) make the
# sets again, in the table's transaction. One source knocking a
# 32-knock door three times at once opens each time.
source "$LIB"
nft_setup
export KNOCKD_ROTATOR_PERIOD_MODULO=60
{
    printf '[once]\nsecret_file = e2e.secret\nperiod = 60\nopen = 40/tcp\nopen_for = 60\none_use = yes\nahead = yes\n\n'
    printf '[many]\nsecret_file = e2e.secret\nperiod = 60\nopen = 41/tcp\nopen_for = 60\nahead = yes\n'
} >"$WORK/doors"
for i in $(seq 1 20); do ip addr add "127.0.3.$i/32" dev lo; done
"${NC[@]}" serve 40/tcp 41/tcp >"$WORK/serve.log" 2>&1 &
wait_for "the echo servers" 5 grep -qs serving "$WORK/serve.log"
r() { "$KR" rotate --backend nftables --doors-file "$WORK/doors" --no-boundary-run "$@"; }
now=$(date +%s)
r --at $((now - 200 * 60)) >"$WORK/r.out" || fail "rotate 200 periods ago: $(cat "$WORK/r.out")"
grep -q "2884 new door periods ahead" "$WORK/r.out" || fail "not a day of sequences: $(cat "$WORK/r.out")"
gen() { "$KR" generate "$@"; }
# The chains' final values of a door period, from the Python reference:
# "A B" for window key 0xfc000000 + period number (both doors are in class
# 0) and the door's sequence of that period; nft prints them MAJOR:MINOR.
finals() { python3 "$(dirname "$LIB")/chain_reference.py" $((0xfc000000 | ($2 & 0xfff))) "$(gen "$1" --at $(($2 * 60)))"; }
prio() { printf '%x:%x' $((0x$1 >> 16)) $((0x$1 & 0xffff)); }
# Whether cfa maps chain a $1 to $2 (MAJOR:MINOR).
mapped() { local out; out=$(nft get element inet knock_rotator cfa "{ 0x$1 }") && [[ $out == *": $2 "* || $out == *": $2" ]]; }
j=$((now / 60))
read -r a b < <(finals once $j)
mapped "$a" "$(prio "$b")" || fail "the kernel's cfa does not map the reference's chain a $a to b $b"

# Our knock started half a second before a boundary opens first time.
while [ $(( $(date +%s%N) / 100000000 % 600 )) -ne 594 ]; do sleep 0.05; done
"$KNOCK" 127.0.0.1 many || fail "knock at a boundary"
opens 127.0.0.1 41 "our knock across a boundary"
# Well inside a period: the checks below take a few seconds.
while [ $(( $(date +%s) % 60 )) -gt 40 ]; do sleep 1; done

# Our knock, 200 periods after the rotation: the door opens.
shut 127.0.0.1 40 "before the knock"
"$KNOCK" -d 0 127.0.0.1 once || fail "knock once"
opens 127.0.0.1 40 "our knock, 200 periods after the last rotation"
# One use: the same knocks from another source open nothing; the first
# source keeps its window. Without one_use, the replay opens.
"${NC[@]}" knock 127.0.3.1 127.0.0.1 "$(gen once)"
shut 127.0.3.1 40 "a replayed knock"
opens 127.0.0.1 40 "the first source after the replay"
"${NC[@]}" knock 127.0.3.1 127.0.0.1 "$(gen many)"
"${NC[@]}" knock 127.0.3.2 127.0.0.1 "$(gen many)"
opens 127.0.3.1 41 "many, first"
opens 127.0.3.2 41 "many, replayed"

# Over IPv6, our knock.
shut ::1 41 "IPv6 before its knock" ::1
"$KNOCK" -d 0 ::1 many || fail "knock ::1 many"
opens ::1 41 "our knock over IPv6" ::1

# The periods around this one: the previous and the next open, two away
# do not (each from a source of its own: a wrong knock spoils an attempt
# until seq_timeout).
"${NC[@]}" knock 127.0.3.3 127.0.0.1 "$(gen many --offset -1)"
opens 127.0.3.3 41 "the previous period's sequence"
"${NC[@]}" knock 127.0.3.4 127.0.0.1 "$(gen many --offset 1)"
opens 127.0.3.4 41 "the next period's sequence"
"${NC[@]}" knock 127.0.3.5 127.0.0.1 "$(gen many --offset 2)"
shut 127.0.3.5 41 "a sequence two periods ahead"
"${NC[@]}" knock 127.0.3.6 127.0.0.1 "$(gen many --offset -2)"
shut 127.0.3.6 41 "a sequence two periods old"
seq=$(gen many)
k1=$(echo "$seq" | cut -d' ' -f1)
k2=$(echo "$seq" | cut -d' ' -f2)
"${NC[@]}" knock 127.0.3.7 127.0.0.1 "$(echo "$seq" | tr ' ' '\n' | tac | tr '\n' ' ')"
shut 127.0.3.7 41 "the sequence backwards"
"${NC[@]}" knock 127.0.3.8 127.0.0.1 "${seq% *}"
shut 127.0.3.8 41 "the sequence without its last knock"
"${NC[@]}" knock 127.0.3.9 127.0.0.1 "$k1 $k2 ${seq#* }"
shut 127.0.3.9 41 "the sequence with its second knock twice"
# A spoiled attempt does not spoil the next knock: its first knock starts
# a chain of its own (so a first knock sent twice opens too).
"${NC[@]}" knock 127.0.3.7 127.0.0.1 "$seq"
opens 127.0.3.7 41 "the sequence at once after it was sent backwards"
"${NC[@]}" knock 127.0.3.8 127.0.0.1 "$seq"
opens 127.0.3.8 41 "the sequence at once after one without its last knock"
"${NC[@]}" knock 127.0.3.11 127.0.0.1 "$k1 $seq"
opens 127.0.3.11 41 "the sequence after its first knock alone"
# A completed attempt ends: the same source knocks again and opens.
"${NC[@]}" knock 127.0.3.10 127.0.0.1 "$seq"
opens 127.0.3.10 41 "many, from .10"
"${NC[@]}" knock 127.0.3.10 127.0.0.1 "$seq"
opens 127.0.3.10 41 "many, from .10 again"

# Later rotations add only the periods not installed, and delete the
# first ones (the period before the day's); a re-apply neither. A chain
# value that collides with one in the map (made here: the next period's
# chain a of many, taken with other data) is skipped, and the rest goes in.
held() { nft list map inet knock_rotator cfa | grep -v typeof | grep -o ' : ' | wc -l; }
[ "$(held)" -eq 2884 ] || fail "cfa holds $(held) elements, not a day of 2 doors (2884)"
jn=$(((now - 199 * 60) / 60 + 1440))
jp=$(((now - 200 * 60) / 60 - 1))
read -r a b < <(finals many $jn)
read -r pa pb < <(finals once $jp)
mapped "$pa" "$(prio "$pb")" || fail "the first period of the day is not in"
nft add element inet knock_rotator cfa "{ 0x$a : 0x12345678 }"
r --at $((now - 199 * 60)) >"$WORK/r.out" || fail "the next rotation, with a collision: $(cat "$WORK/r.out")"
grep -q ", 2 new door periods ahead" "$WORK/r.out" || fail "not one period per door: $(cat "$WORK/r.out")"
mapped "$a" 1234:5678 || fail "the colliding element was replaced"
read -r a b < <(finals once $jn)
mapped "$a" "$(prio "$b")" || fail "once's new period is not in"
! mapped "$pa" "$(prio "$pb")" || fail "the period past was not deleted"
[ "$(held)" -eq 2884 ] || fail "cfa holds $(held) elements after a rotation, not 2884"
r --at $((now - 199 * 60)) >"$WORK/r.out" || fail "a re-apply"
! grep -q "new door period" "$WORK/r.out" || fail "a re-apply added periods: $(cat "$WORK/r.out")"
"${NC[@]}" knock 127.0.3.11 127.0.0.1 "$(gen once)"
shut 127.0.3.11 40 "a replay after a re-apply"

# The host firewall's restart: every table flushed, ours put back from
# the copy (the next hour's periods, and the used marks).
r >"$WORK/r.out" || fail "rotate now: $(cat "$WORK/r.out")"
grep -q "^add element inet knock_rotator cfa " "$COPY" || fail "the copy holds no ahead periods"
nft flush ruleset
nft -f "$COPY" || fail "the copy does not load"
"${NC[@]}" knock 127.0.3.12 127.0.0.1 "$(gen once)"
shut 127.0.3.12 40 "a replay after a flush and a restore"
"${NC[@]}" knock 127.0.3.12 127.0.0.1 "$(gen once --offset 1)"
opens 127.0.3.12 40 "the next period's knock after a restore"
r >"$WORK/r.out" || fail "rotate after the restore: $(cat "$WORK/r.out")"
grep -q "new door periods ahead" "$WORK/r.out" || fail "the rest of the day not added after the restore: $(cat "$WORK/r.out")"

# A new secret: the sets are emptied, the old sequences open nothing.
old=$(gen many --offset 1)
printf '%s\n' "another secret for the ahead doors" >"$WORK/new.secret"
sed -i 's/^secret_file = e2e.secret$/secret_file = new.secret/' "$WORK/doors"
r >"$WORK/r.out" || fail "rotate with a new secret: $(cat "$WORK/r.out")"
grep -q "2884 new door periods ahead" "$WORK/r.out" || fail "a new secret did not renew every period: $(cat "$WORK/r.out")"
"${NC[@]}" knock 127.0.3.13 127.0.0.1 "$old"
shut 127.0.3.13 41 "the old secret's sequence"
newgen() { KNOCKD_ROTATOR_SECRET="another secret for the ahead doors" gen "$@"; }
"${NC[@]}" knock 127.0.3.14 127.0.0.1 "$(newgen many)"
opens 127.0.3.14 41 "the new secret's sequence"

# The version before: the chained sets with timeouts, its manifest of three
# fields, rules that read them. The rotation deletes and declares them
# again in its transaction, and the door opens; one door more, and they
# are made again, larger.
nft flush ruleset
nft -f - <<'EOF' || fail "an old table"
table inet knock_rotator {
	set cfirst { typeof meta priority . meta l4proto . th dport; flags timeout; }
	map cfa { typeof meta priority : meta priority; flags timeout; }
	map cfb { typeof meta priority : meta priority; flags timeout; }
	set cman { typeof meta mark . meta mark . meta mark; }
	chain c { meta priority set meta priority map @cfa meta priority . meta l4proto . th dport @cfirst meta priority set meta priority map @cfb counter; }
}
add element inet knock_rotator cman { 0x1 . 0x2 . 3 }
add element inet knock_rotator cfa { 0x1 timeout 1h : 0x2 }
EOF
r >"$WORK/r.out" || fail "rotate over the version before: $(cat "$WORK/r.out")"
grep -q "2884 new door periods ahead" "$WORK/r.out" || fail "not a day over the version before: $(cat "$WORK/r.out")"
# (awk reads all: nft killed by a closed pipe would fail the pipe.)
size() { nft list map inet knock_rotator cfa | awk '$1 == "size" { print $2 }'; }
[ "$(size)" = 3244 ] || fail "cfa not made again: size $(size)"
old_chain=$(nft list chain inet knock_rotator c) || fail "the old chain is gone: flush table keeps chains"
[ "$(grep -c counter <<<"$old_chain")" = 0 ] || fail "the old rule stayed"
"${NC[@]}" knock 127.0.3.16 127.0.0.1 "$(newgen many)"
opens 127.0.3.16 41 "a door over the version before"
printf '\n[third]\nsecret_file = new.secret\nperiod = 60\nopen = 41/tcp\nahead = yes\n' >>"$WORK/doors"
r >"$WORK/r.out" || fail "rotate with a third door: $(cat "$WORK/r.out")"
grep -q "4326 new door periods ahead" "$WORK/r.out" || fail "not a day of three doors: $(cat "$WORK/r.out")"
[ "$(size)" = 4866 ] || fail "cfa not made larger: size $(size)"
"${NC[@]}" knock 127.0.3.17 127.0.0.1 "$(newgen third)"
opens 127.0.3.17 41 "the third door"

# Installed more than a day ago: nothing opens (the doors fail closed).
nft flush ruleset
r --at $((now - 1450 * 60)) >"$WORK/r.out" || fail "rotate a day ago: $(cat "$WORK/r.out")"
"${NC[@]}" knock 127.0.3.15 127.0.0.1 "$(newgen many)"
shut 127.0.3.15 41 "a door installed more than a day ago"

# One source knocking at once, again and again: each knock packet moves its
# chains on to the next of their maps (chained_rules.rs, INDICES), so the
# kernel's deleted elements never pile up under one key in one map; and the
# rate limit's burst follows the longest door. Three knocks of a 32-knock
# door at once from one source each open (96 knock packets, within the
# burst of 128: early in a period, where our knock sends one sequence).
nft flush ruleset
while [ $(( $(date +%s) % 60 )) -gt 30 ]; do sleep 1; done
printf '[long]\nsecret_file = e2e.secret\nperiod = 60\nlength = 32\nopen = 41/tcp\nopen_for = 60\nahead = yes\n' >"$WORK/long.doors"
"$KR" rotate --backend nftables --doors-file "$WORK/long.doors" --no-boundary-run -q || fail "rotate the 32-knock door"
grant=$(nft list table inet knock_rotator | awk '/set a4_/{print $2}')
# Other sources mid-attempt in every chain map, as under a flood: the
# kernel then takes long enough to rehash a map that a second add of one
# key during it is lost every time, which a single map did to these knocks.
others=$(for i in $(seq 1 2000); do printf '10.9.%d.%d timeout 120s : 0, ' $((i / 250)) $((i % 250 + 1)); done)
for m in $(nft list table inet knock_rotator | awk '/map c[xy][ab][0-9]+_4_0/{print $2}'); do
    printf 'add element inet knock_rotator %s { %s}\n' "$m" "$others"
done >"$WORK/fill.nft"
nft -f "$WORK/fill.nft" || fail "other sources into the chain maps"
for i in 1 2 3; do
    nft flush set inet knock_rotator "$grant"
    shut 127.0.0.1 41 "before knock $i of the 32-knock door"
    KNOCKD_ROTATOR_LENGTH=32 "$KNOCK" -d 0 127.0.0.1 long || fail "knock $i of the 32-knock door"
    opens 127.0.0.1 41 "knock $i of the 32-knock door, right after the one before"
done
