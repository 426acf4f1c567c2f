# A v3 deployment (KNOCKD_ROTATOR_PORTS=2000-65536, its default written
# out) against a real knockd: a rotated door opens for knock; in a period
# whose sequence draws port 65536, generate, knock, rotate and status each
# refuse that door with one line, the door keeps its old sequence (knockd
# would exit on a 65536 in its file), another door still rotates, and
# knockd stays alive.
source "$LIB"
export KNOCKD_ROTATOR_SECRET="correct horse battery staple" KNOCKD_ROTATOR_PERIOD_MODULO=3600 \
    KNOCKD_ROTATOR_LENGTH=10 KNOCKD_ROTATOR_PROTO_MODULO=0 KNOCKD_ROTATOR_PORTS=2000-65536
BAD=1775027678           # v3-default.jsonl: v3 fails here (ssh draws 65536)
GOOD=$((BAD - 3600))     # the period before
drop_knock_ports
conf=$WORK/knockd.conf
{
    printf '[options]\n\tLogFile = %s/knockd.log\n\tPidFile = %s/knockd.pid\n' "$WORK" "$WORK"
    door ssh_ROTATOR "1:tcp"
    door web_ROTATOR "2:tcp"
} >"$conf"
start_knockd "$conf"
pid=$(cat "$WORK/knockd.pid")

# The v3 list's sequence, rotated in, opens the door.
"$KR" rotate --config "$conf" --at $GOOD --no-boundary-run >"$WORK/out" || fail "rotate: $(cat "$WORK/out")"
grep -q "rotated 2 of 2 rotator doors" "$WORK/out" || fail "log: $(cat "$WORK/out")"
"$KR" knock 127.0.0.1 ssh --at $GOOD --window 0
opened ssh_ROTATOR 127.0.0.1

# refused RC NEEDLE CMD...: exit RC, nothing on stdout, one line on stderr
# naming port 65536 and the fix.
refused() {
    local rc=$1; shift
    set +e; "$@" >"$WORK/stdout" 2>"$WORK/stderr"; local got=$?; set -e
    [ "$got" = "$rc" ] || fail "$*: exit $got, want $rc: $(cat "$WORK/stderr")"
    [ "$(wc -l <"$WORK/stderr")" = 1 ] || fail "$*: stderr is not one line: $(cat "$WORK/stderr")"
    grep -q "draws port 65536" "$WORK/stderr" || fail "$*: $(cat "$WORK/stderr")"
    grep -q "KNOCKD_ROTATOR_PORTS=2000-65535" "$WORK/stderr" || fail "$*: no fix: $(cat "$WORK/stderr")"
}
refused 1 "$KR" generate ssh --at $BAD
[ ! -s "$WORK/stdout" ] || fail "generate printed: $(cat "$WORK/stdout")"
refused 1 "$KR" knock 127.0.0.1 ssh --at $BAD --window 0
[ ! -s "$WORK/stdout" ] || fail "knock printed: $(cat "$WORK/stdout")"

# rotate: ssh keeps its sequence, web rotates, knockd re-reads and lives.
ssh_line=$(grep -A1 '^\[ssh_ROTATOR\]' "$conf" | tail -1)
rereads=$(grep -c "re-reading" "$WORK/knockd.log")
refused 1 "$KR" rotate --config "$conf" --at $BAD --no-boundary-run
grep -q "rotated 1 of 2 rotator doors" "$WORK/stdout" || fail "rotate: $(cat "$WORK/stdout")"
[ "$(grep -A1 '^\[ssh_ROTATOR\]' "$conf" | tail -1)" = "$ssh_line" ] || fail "the refused door changed"
grep -q 65536 "$conf" && fail "65536 written to knockd.conf"
grep -qF "$("$KR" generate web --at $BAD --format knockd)" "$conf" || fail "web not rotated"
wait_for "knockd to re-read" 3 test "$(grep -c "re-reading" "$WORK/knockd.log")" -gt "$rereads"
sleep 0.3
kill -0 "$pid" || fail "knockd died"
rm -f "$WORK/opened.web_ROTATOR"
"$KR" knock 127.0.0.1 web --at $BAD --window 0
opened web_ROTATOR 127.0.0.1

# status names the refused door apart from stale ones.
set +e; "$KR" status --config "$conf" --at $BAD >"$WORK/status" 2>&1; rc=$?; set -e
[ $rc = 1 ] || fail "status exit $rc"
grep -q "\[ssh_ROTATOR\] (line 4): refused: this period's sequence draws port 65536" "$WORK/status" \
    || fail "status: $(cat "$WORK/status")"
grep -q "\[web_ROTATOR\] (line 9): current" "$WORK/status" || fail "status: $(cat "$WORK/status")"

# A file whose only rotator door is refused is left untouched.
one=$WORK/one.conf
door ssh_ROTATOR "1:tcp" >"$one"
before=$(stat -c '%i %Y' "$one"); sum=$(sha256sum <"$one")
refused 1 "$KR" rotate --config "$one" --at $BAD --no-reload --no-boundary-run
[ ! -s "$WORK/stdout" ] || fail "rotate printed: $(cat "$WORK/stdout")"
[ "$(stat -c '%i %Y' "$one")" = "$before" ] && [ "$(sha256sum <"$one")" = "$sum" ] || fail "the file changed"
note "v3 list: door opened, period drawing 65536 refused, knockd alive"
