# No knock straddles a rotation: with `knock-rotate --watch` and a real
# knockd (whose re-read drops every attempt in progress), knocks started
# every 10 ms from 300 ms before a boundary to 300 ms after it all open the
# door. One knock per boundary, at 2 s periods: knockd also drops every
# source's attempt in progress when the oldest one ends (its attempt-list
# bug, see README), so knocks that overlap cost each other whatever the
# timing; each also comes from its own 127.0.1.N.
source "$LIB"
export KNOCKD_ROTATOR_PERIOD_MODULO=2
drop_knock_ports
for i in $(seq 1 61); do ip addr add "127.0.1.$i/32" dev lo; done
conf=$WORK/knockd.conf
{ echo "[options]"; door ssh_ROTATOR "1:tcp"; } >"$conf"
start_knockd "$conf"
"$KNOCK_ROTATE" --watch --config "$conf" --pidfile "$WORK/knockd.pid" >"$WORK/watch.log" 2>&1 &
wait_for "the first rotation" 5 grep -q "rotated 1 of 1" "$WORK/watch.log"

# Knock N starts at its own boundary plus its offset.
python3 - "$KNOCK" "$WORK/starts" <<'EOF'
import subprocess, sys, time
knock, log = sys.argv[1], sys.argv[2]
first = (int(time.time()) // 2 + 2) * 2
bad = []
with open(log, "w") as out:
    for n, ms in enumerate(range(-300, 301, 10), start=1):
        at = first + 2 * n + ms / 1000
        time.sleep(max(0, at - time.time()))
        late = (time.time() - at) * 1000
        with open(f"{log}.{n}", "w") as notes:
            p = subprocess.Popen([knock, "-v", f"127.0.1.{n}", "ssh"], stdout=notes)
        out.write(f"127.0.1.{n} {ms} {late:.1f}\n")
        if p.wait() != 0:
            bad.append(n)
sys.exit(f"knocks failed: {bad}" if bad else 0)
EOF

# Every one opened, each for its own source.
for i in $(seq 1 61); do
    wait_for "the door to open for 127.0.1.$i ($(grep "^127.0.1.$i " "$WORK/starts"); $(head -n1 "$WORK/starts.$i"))" 3 \
        grep -qsx "127.0.1.$i" "$WORK/opened.ssh_ROTATOR"
done
late=$(awk '$3 > 20 { n++ } END { print n + 0 }' "$WORK/starts")
waits=$(cat "$WORK"/starts.* | awk '/^waited/ { if ($2 > max) max = $2 } END { print max + 0 }')
lags=$(grep -o "([0-9]* ms after the boundary)" "$WORK/watch.log" | tr -dc '0-9\n' | sort -n | tail -n1)
note "61 knocks from 300 ms before to 300 ms after a boundary: all opened ($late started over 20 ms late; longest wait $waits ms; slowest rotation $lags ms)"
