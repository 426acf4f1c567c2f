# What the OpenWrt init script relies on, with busybox as OpenWrt has it
# (procd itself cannot be had here): the script parses under busybox ash,
# and watch mode runs the script's own reload command, reading the secret
# from a file as the script sets it up. `ubus` is a stand-in that checks it
# is asked to signal procd's knockd instance with SIGHUP, and does so.
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
reload=$(sed -n 's/.*--reload-command "\(.*\)"$/\1/p' "$DIST/openwrt/knock-rotator.init" | sed 's/\\"/"/g')
[ "$reload" = "ubus call service signal '{\"name\":\"knockd\",\"signal\":1}'" ] || fail "reload command: $reload"
mkdir -p "$WORK/bb"
cat >"$WORK/bb/ubus" <<STUB
#!/bin/sh
[ "\$*" = 'call service signal {"name":"knockd","signal":1}' ] || { echo "ubus: unexpected: \$*" >&2; exit 1; }
exec kill -HUP \$(cat "$WORK/knockd.pid")
STUB
chmod 755 "$WORK/bb/ubus"
PATH=$WORK/bb:$PATH busybox sh -c "\"$KR\" rotate --watch --config \"$conf\" --reload-command \"\$1\"" sh "$reload" >"$WORK/watch.log" 2>&1 &
wait_for "a rotation" 5 grep -q "rotated 1 of 1" "$WORK/watch.log"
grep -q "knockd reloaded ('ubus call service signal" "$WORK/watch.log" || fail "$(cat "$WORK/watch.log")"
grep -q "re-reading config file" "$WORK/knockd.log" || fail "knockd did not re-read"
kill -0 "$pid" || fail "knockd died"
drop_knock_ports
"$KNOCK" 127.0.0.1 ssh
opened ssh_ROTATOR 127.0.0.1
note ok
