# A foreign release executable ($EXE), under qemu-user ($QEMU), opens a door
# on loopback: the rotator form and the classic form, through the `knock` name.
source "$LIB"
drop_knock_ports
cp "$EXE" "$WORK/knock-rotator-foreign"
ln -s knock-rotator-foreign "$WORK/knock"
A="$QEMU $WORK/knock-rotator-foreign"
seq=$($A generate ssh --format knockd)
[ "$seq" = "$("$KR" generate ssh --format knockd)" ] || fail "$EXE and the host build disagree"
{ echo "[options]"; door ssh_ROTATOR "$seq"; door plain "7000,8000:udp,9000"; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"
$A knock 127.0.0.1 ssh
opened ssh_ROTATOR 127.0.0.1
$QEMU "$WORK/knock" -6 ::1 ssh
opened ssh_ROTATOR ::1
$QEMU "$WORK/knock" 127.0.0.1 7000 8000:udp 9000
opened plain 127.0.0.1
note "ok: $(basename "$EXE")"
