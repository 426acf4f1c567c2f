# The aarch64 release executable, under qemu, opens a door on loopback:
# the rotator form and the classic form, through the `knock` name.
source "$LIB"
drop_knock_ports
cp "$A64" "$WORK/knock-rotator-a64"
ln -s knock-rotator-a64 "$WORK/knock"
A="qemu-aarch64-static $WORK/knock-rotator-a64"
seq=$($A generate ssh --format knockd)
[ "$seq" = "$("$KR" generate ssh --format knockd)" ] || fail "aarch64 and x86_64 disagree"
{ echo "[options]"; door ssh_ROTATOR "$seq"; door plain "7000,8000:udp,9000"; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"
$A knock 127.0.0.1 ssh
opened ssh_ROTATOR 127.0.0.1
qemu-aarch64-static "$WORK/knock" -6 ::1 ssh
opened ssh_ROTATOR ::1
qemu-aarch64-static "$WORK/knock" 127.0.0.1 7000 8000:udp 9000
opened plain 127.0.0.1
note ok
