# Near a period boundary, knock also sends the neighbouring period's
# sequence, so a server a little behind or ahead still opens.
source "$LIB"
export KNOCKD_ROTATOR_PERIOD_MODULO=600
drop_knock_ports
b=1800000000   # a boundary (a multiple of 600)
prev=$("$KR" generate ssh --format knockd --at $((b - 1)))
next=$("$KR" generate ssh --format knockd --at $b)
{ echo "[options]"; door behind "$prev"; door ahead "$next"; } | sed 's/^\[behind\]/[behind]/' >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"

# 30 s after the boundary, with the window off: only the new sequence goes
# out, and the server still holding the old one stays shut.
"$KR" knock 127.0.0.1 ssh --at $((b + 30)) --window 0
not_opened behind
# With the default window (120 s, capped at 150 = period/4): it opens.
"$KR" knock 127.0.0.1 ssh --at $((b + 30))
opened behind 127.0.0.1
# 20 s before the boundary, a server that already rotated opens too.
"$KR" knock -v 127.0.0.1 ssh --at $((b - 20)) >"$WORK/out"
opened ahead 127.0.0.1
[ "$(wc -l <"$WORK/out")" = 20 ] || fail "want 2 sequences: $(cat "$WORK/out")"
# Mid-period: one sequence only.
"$KR" knock -v 127.0.0.1 ssh --at $((b + 300)) >"$WORK/out"
[ "$(wc -l <"$WORK/out")" = 10 ] || fail "mid-period: $(wc -l <"$WORK/out") knocks"
# The window shrinks to a quarter period: with 40 s periods, 15 s after a
# boundary is outside it (10 s).
KNOCKD_ROTATOR_PERIOD_MODULO=40 "$KR" knock -v 127.0.0.1 ssh --at $((b + 15)) >"$WORK/out"
[ "$(wc -l <"$WORK/out")" = 10 ] || fail "short period: $(wc -l <"$WORK/out") knocks"
KNOCKD_ROTATOR_PERIOD_MODULO=40 "$KR" knock -v 127.0.0.1 ssh --at $((b + 9)) >"$WORK/out"
[ "$(wc -l <"$WORK/out")" = 20 ] || fail "short period in window: $(wc -l <"$WORK/out") knocks"
note ok
