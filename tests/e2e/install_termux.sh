# README's Termux path, as a new user follows it: copy the static
# executable into $PREFIX/bin, --install the links, a secret file, then the
# first knock by name, with /etc/resolv.conf and /etc/hosts empty (as a
# static executable finds them on Android) and $PREFIX/etc/resolv.conf
# naming a real dnsmasq.
source "$LIB"
unset KNOCKD_ROTATOR_SECRET
export HOME=$WORK/home PREFIX=$WORK/termux/usr
mkdir -p "$HOME" "$PREFIX/bin" "$PREFIX/etc"
: >"$WORK/empty"
mount --bind "$WORK/empty" /etc/resolv.conf
mount --bind "$WORK/empty" /etc/hosts
ip addr add 127.0.0.53/8 dev lo 2>/dev/null || true
dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.53 --bind-interfaces \
    --port=53 --pid-file= --user=root --log-queries --log-facility="$WORK/dnsmasq.log" --local=/example/ \
    --host-record=myserver.example,127.0.0.1 &
wait_for dnsmasq 5 grep -qs "started" "$WORK/dnsmasq.log"
echo "nameserver 127.0.0.53" >"$PREFIX/etc/resolv.conf"

# The steps of README.md, "Android (Termux)".
cp "$STATIC" "$PREFIX/bin/knock-rotator"
chmod 755 "$PREFIX/bin/knock-rotator"
export PATH=$PREFIX/bin:$PATH
knock-rotator --install >"$WORK/install.out"
[ "$(readlink "$PREFIX/bin/knock")" = knock-rotator ] || fail "no knock link: $(cat "$WORK/install.out")"
[ "$(readlink "$PREFIX/bin/knock-rotate")" = knock-rotator ] || fail "no knock-rotate link"
mkdir -p ~/.config/knock-rotator
(umask 077; printf '%s\n' 'the shared secret of this test' > ~/.config/knock-rotator/secret)
export KNOCKD_ROTATOR_SECRET_FILE=~/.config/knock-rotator/secret
knock-rotator fingerprint | grep -q '^fingerprint [0-9a-f]\{4\}-' || fail "fingerprint"

# The server side of the test: a door for ssh that opens port 2222.
python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 2222)); s.listen(16); time.sleep(60)' >/dev/null 2>&1 &
iptables -A INPUT -i lo -p tcp --dport 2222 -j DROP
drop_knock_ports
{ echo "[options]"; door ssh_ROTATOR "$(knock-rotator generate ssh --format knockd)" \
    "start_command = /usr/sbin/iptables -I INPUT -s %IP% -p tcp --dport 2222 -j ACCEPT"; } >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"

knock -v --check 2222 myserver.example ssh >"$WORK/out" || fail "first knock: $(cat "$WORK/out")"
grep -qx "127.0.0.1:2222 is open" "$WORK/out" || fail "not open: $(cat "$WORK/out")"
grep -q "query\[A\] myserver.example" "$WORK/dnsmasq.log" || fail "the name was not asked of dnsmasq"
note ok
