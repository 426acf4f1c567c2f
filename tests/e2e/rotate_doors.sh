# Several people on one server: a door per person in knockd.conf, each with
# its own secret (and alice with her own algorithm and a 4 s period) from
# the doors file, a shared door from the environment. rotate --watch keeps
# each door at its own period; each person's phone, set up with the
# profile the server prints, opens only its own door, whatever secret the
# phone's environment holds; revoking bob is deleting his door.
source "$LIB"
drop_knock_ports
etc=$WORK/etc; phone=$WORK/phone
mkdir -p "$etc" "$phone"
"$KR" new-secret "$etc/alice.secret" >/dev/null
"$KR" new-secret "$etc/bob.secret" >/dev/null
printf '[ssh_alice]\nsecret_file = alice.secret\nalgorithm = hmac-sha256\nperiod = 4\n\n[ssh_bob_ROTATOR]\nsecret_file = bob.secret\n' >"$etc/doors"
chmod 600 "$etc/doors"
conf=$etc/knockd.conf
{ printf '[options]\n\tLogFile = %s/knockd.log\n' "$WORK"
  door ssh_alice_ROTATOR "1:tcp"; door ssh_bob_ROTATOR "2:tcp"; door web_ROTATOR "3:tcp"; } >"$conf"
start_knockd "$conf"
export KNOCKD_ROTATOR_DOORS=$etc/doors
"$KNOCK_ROTATE" --watch --config "$conf" --pidfile "$WORK/knockd.pid" >"$WORK/watch.log" 2>&1 &
watcher=$!
wait_for "the first rotation" 5 grep -q "rotated 3 of 3 rotator doors for each door's current period" "$WORK/watch.log"

# The server prints each phone's profile; the secret travels apart.
"$KR" profile ssh_alice --host 127.0.0.1 --name home >"$phone/config"
"$KR" profile ssh_bob --host 127.0.0.1 --with-secret >"$WORK/bob.config"
grep -q "^secret_file = home.secret$" "$phone/config" || fail "alice's profile: $(cat "$phone/config")"
grep -q "^secret" "$WORK/bob.config" || fail "bob's profile has no secret"
grep -qF "$(cat "$etc/alice.secret")" "$phone/config" && fail "a profile holds the secret unasked"
cp "$etc/alice.secret" "$phone/home.secret"
chmod 600 "$phone/config" "$WORK/bob.config"

# Knocks go right after a rotation: knockd forgets attempts in progress
# when it reloads, every 4 s here.
after_rotation() {
    local n; n=$(grep -c "rotated" "$WORK/watch.log")
    wait_for "a rotation" 6 sh -c "[ \$(grep -c rotated '$WORK/watch.log') -gt $n ]"
    sleep 0.2
}

# Alice's phone: a stray secret for another server is in its environment.
alice() { KNOCKD_ROTATOR_SECRET="another server's secret" KNOCKD_ROTATOR_CONFIG=$phone/config "$@"; }
fp_phone=$(alice "$KR" fingerprint -p home | sed -n 's/^fingerprint //p')
"$KR" status --config "$conf" >"$WORK/status" || fail "status: $(cat "$WORK/status")"
grep -q "fingerprint $fp_phone, settings from $etc/doors:1" "$WORK/status" \
    || fail "alice's fingerprint $fp_phone is not her door's: $(cat "$WORK/status")"
grep -q "period 4 s" "$WORK/status" || fail "status: $(cat "$WORK/status")"
grep -q "settings from the environment" "$WORK/status" || fail "status: $(cat "$WORK/status")"

# Across several of alice's boundaries, her knock opens her door only.
for i in 1 2 3; do
    after_rotation
    rm -f "$WORK"/opened.*
    alice "$KNOCK" home
    opened ssh_alice_ROTATOR 127.0.0.1
    not_opened ssh_bob_ROTATOR
done
# Only alice's door changed at her boundaries; bob's and the shared door
# (6 h periods) were rotated once, at the start.
[ "$(grep -c "rotated 1 of 3" "$WORK/watch.log")" -ge 3 ] \
    || fail "alice's door alone did not rotate every 4 s: $(cat "$WORK/watch.log")"
[ "$(grep -c "rotated 3 of 3" "$WORK/watch.log")" = 1 ] \
    || fail "the 6 h doors rotated again: $(cat "$WORK/watch.log")"

# Bob's phone (the profile with its secret) opens bob's door.
after_rotation
rm -f "$WORK"/opened.*
KNOCKD_ROTATOR_CONFIG=$WORK/bob.config "$KNOCK" ssh_bob
opened ssh_bob_ROTATOR 127.0.0.1
not_opened ssh_alice_ROTATOR
# The shared door, from the environment, as before.
after_rotation
"$KNOCK" 127.0.0.1 web
opened web_ROTATOR 127.0.0.1

# Bob loses his phone: his door goes; the next rotation (alice's next
# boundary) reloads knockd without it, and his knock opens nothing.
python3 - "$conf" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(re.sub(r"\[ssh_bob_ROTATOR\][^\[]*", "", s))
PY
wait_for "the rotation after bob's revocation" 6 grep -q "rotated 1 of 2 rotator doors" "$WORK/watch.log"
grep -q "warning: $etc/doors:6: \[ssh_bob_ROTATOR\] matches no rotator door" "$WORK/watch.log" \
    || fail "no warning for bob's section: $(cat "$WORK/watch.log")"
after_rotation
rm -f "$WORK"/opened.*
KNOCKD_ROTATOR_CONFIG=$WORK/bob.config "$KNOCK" ssh_bob
not_opened ssh_bob_ROTATOR
not_opened ssh_alice_ROTATOR
not_opened web_ROTATOR
if grep -q "error" "$WORK/watch.log"; then fail "errors: $(cat "$WORK/watch.log")"; fi
kill -TERM $watcher
wait $watcher || fail "watch exited with $? on SIGTERM"
note ok
