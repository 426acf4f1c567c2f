# What the OpenWrt init script relies on, with busybox as OpenWrt has it
# (procd itself cannot be had here): the script parses under busybox ash,
# and watch mode reloads knockd with 'killall -HUP knockd' from busybox,
# reading the secret from a file as the script sets it up.
source "$LIB"
busybox sh -n "$DIST/openwrt/knock-rotator.init" || fail "busybox ash cannot parse the init script"
unset KNOCKD_ROTATOR_SECRET
mkdir -p "$WORK/etc/knock-rotator" && chmod 700 "$WORK/etc/knock-rotator"
(umask 077; echo 'the secret of the openwrt test' >"$WORK/etc/knock-rotator/secret")
export KNOCKD_ROTATOR_SECRET_FILE=$WORK/etc/knock-rotator/secret KNOCKD_ROTATOR_PERIOD_MODULO=3600
conf=$WORK/knockd.conf
{ printf '[options]\n\tLogFile = %s/knockd.log\n' "$WORK"; door ssh_ROTATOR "1:tcp"; } >"$conf"
start_knockd "$conf"
pid=$(cat "$WORK/knockd.pid")
mkdir -p "$WORK/bb" && ln -s "$(command -v busybox)" "$WORK/bb/killall"
PATH=$WORK/bb:$PATH "$KR" rotate --watch --config "$conf" --reload-command "killall -HUP knockd" >"$WORK/watch.log" 2>&1 &
wait_for "a rotation" 5 grep -q "rotated 1 of 1" "$WORK/watch.log"
grep -q "knockd reloaded ('killall -HUP knockd')" "$WORK/watch.log" || fail "$(cat "$WORK/watch.log")"
grep -q "re-reading config file" "$WORK/knockd.log" || fail "knockd did not re-read"
kill -0 "$pid" || fail "knockd died"
drop_knock_ports
"$KNOCK" 127.0.0.1 ssh
opened ssh_ROTATOR 127.0.0.1
note ok
