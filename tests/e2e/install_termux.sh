# README's Termux path, as a new user follows it: copy the static
# executable into $PREFIX/bin, --install the links, import the profile the
# server printed, then the first knock by name and the widget's one tap, with /etc/resolv.conf and /etc/hosts empty (as a
# static executable finds them on Android) and $PREFIX/etc/resolv.conf
# naming a real dnsmasq.
source "$LIB"
unset KNOCKD_ROTATOR_SECRET
export HOME=$WORK/home PREFIX=$WORK/termux/usr
mkdir -p "$HOME" "$PREFIX/bin" "$PREFIX/etc"
ln -s /bin/sh "$PREFIX/bin/sh"   # Termux's own sh, which shortcuts name
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
# What the server printed ("From the server to one tap on the phone").
mkdir -p "$WORK/server"
knock-rotator new-secret "$WORK/server/phone.secret" >/dev/null
printf '[ssh]\nsecret_file = phone.secret\nalgorithm = hmac-sha256\n' >"$WORK/server/doors"
knock-rotator profile ssh --host myserver.example --name myserver --with-secret \
    --doors-file "$WORK/server/doors" >"$WORK/pasted"
knock-rotator import --shortcut knock <"$WORK/pasted" >"$WORK/import.out" || fail "import: $(cat "$WORK/import.out")"
[ "$(stat -c %a ~/.shortcuts)" = 700 ] && [ "$(stat -c %a ~/.shortcuts/myserver)" = 700 ] || fail "shortcut modes"
head -n1 ~/.shortcuts/myserver | grep -x "#!$PREFIX/bin/sh" >/dev/null || fail "shebang: $(head -n1 ~/.shortcuts/myserver)"
# A shortcut that exists already: refused before anything is written.
: >~/.shortcuts/other
if knock-rotator import --name other --shortcut ssh <"$WORK/pasted" 2>"$WORK/err"; then fail "import over a shortcut"; fi
grep -q "shortcuts/other: already exists; --replace to overwrite it" "$WORK/err" || fail "shortcut refusal: $(cat "$WORK/err")"
! grep -q '^\[other\]' ~/.config/knock-rotator/config && [ ! -e ~/.config/knock-rotator/other.secret ] ||
    fail "a refused import wrote something"
knock-rotator fingerprint -p myserver | grep '^fingerprint [0-9a-f]\{4\}-' >/dev/null || fail "fingerprint"
export KNOCKD_ROTATOR_SECRET_FILE=$WORK/server/phone.secret KNOCKD_ROTATOR_ALGORITHM=hmac-sha256

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

unset KNOCKD_ROTATOR_SECRET_FILE KNOCKD_ROTATOR_ALGORITHM
knock -v --check 2222 myserver >"$WORK/out" || fail "first knock: $(cat "$WORK/out")"
grep -qx "127.0.0.1:2222 is open" "$WORK/out" || fail "not open: $(cat "$WORK/out")"
grep -q "query\[A\] myserver.example" "$WORK/dnsmasq.log" || fail "the name was not asked of dnsmasq"
# The widget's tap: the shortcut, with nothing but what Termux:Widget gives.
iptables -D INPUT -s 127.0.0.1 -p tcp --dport 2222 -j ACCEPT
env -i "HOME=$HOME" "PREFIX=$PREFIX" ~/.shortcuts/myserver >"$WORK/tap" 2>&1 || fail "the shortcut: $(cat "$WORK/tap")"
wait_for "the tap to open 2222" 3 iptables -C INPUT -s 127.0.0.1 -p tcp --dport 2222 -j ACCEPT
note ok
