# Helpers for the end-to-end scripts. Each script runs as root inside its
# own network and mount namespaces (`unshare --net --mount`, see
# tests/e2e.rs), so its loopback, firewall and /etc/resolv.conf are private.
# Environment: BIN (the knock-rotator binary), WORK (a scratch directory).
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin

fail() {
    echo "FAIL: $*" >&2
    for log in knockd.log watch.log; do
        [ -f "$WORK/$log" ] && { echo "--- $log" >&2; tail -n 30 "$WORK/$log" >&2; }
    done
    exit 1
}
note() { echo "# $*"; }

# The test's own loopback, and links named as a user installs them. A copy,
# not a link into the clone: the tests that drop privileges run it as a user
# who may not traverse the clone's directories (a clone under /root, 0700).
ip link set lo up
mkdir -p "$WORK/bin"
cp "$BIN" "$WORK/bin/knock-rotator"
chmod 755 "$WORK/bin/knock-rotator"
ln -sf knock-rotator "$WORK/bin/knock"
ln -sf knock-rotator "$WORK/bin/knock-rotate"
KR=$WORK/bin/knock-rotator
KNOCK=$WORK/bin/knock
KNOCK_ROTATE=$WORK/bin/knock-rotate

# Files the scripts make are private, as on a well-kept server (rotate warns
# about a knockd.conf that others can read).
umask 077

export KNOCKD_ROTATOR_SECRET=${KNOCKD_ROTATOR_SECRET:-"e2e shared secret, not a real one"}

# Our runtime directory (rotation locks, the nftables table's copy) private
# to this test's mount namespace, for every script: nothing left on the host
# (a lock file per config path, hundreds a day of CI), nothing shared with
# a test running beside it.
mkdir -p /run/knock-rotator && mount -t tmpfs -o mode=0700 tmpfs /run/knock-rotator
# Where rotate keeps the nftables table's copy for the host firewall.
COPY=/run/knock-rotator/knock_rotator.nft

# The nftables tests' common part: the packet client (NC, nft_client.py),
# the secret in e2e.secret, `rotate` of $WORK/doors, and `opens`/`shut` SRC
# PORT WHAT [DST]: SRC can (cannot) connect to PORT of DST (127.0.0.1).
nft_setup() {
    NC=(python3 "$(dirname "$LIB")/nft_client.py")
    printf '%s\n' "$KNOCKD_ROTATOR_SECRET" >"$WORK/e2e.secret"
}
rotate() { "$KR" rotate --backend nftables --doors-file "$WORK/doors" --no-boundary-run -q "$@"; }
opens() { "${NC[@]}" connect "$1" "${4:-127.0.0.1}" "$2" || fail "$3: $1 cannot connect to port $2"; }
shut() { ! "${NC[@]}" connect "$1" "${4:-127.0.0.1}" "$2" || fail "$3: $1 connected to port $2"; }

# Drop every packet to high ports on lo, as a knock-protected host does
# (knockd still sees them: it captures before the firewall).
drop_knock_ports() {
    # Answers to our own connections still get through, as on a real host.
    iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    ip6tables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    iptables -A INPUT -i lo -p tcp --dport 1024:65535 -j DROP
    iptables -A INPUT -i lo -p udp --dport 1024:65535 -j DROP
    ip6tables -A INPUT -i lo -p tcp --dport 1024:65535 -j DROP
    ip6tables -A INPUT -i lo -p udp --dport 1024:65535 -j DROP
}

# start_knockd CONFIG: run knockd on lo in the background, wait until it listens.
start_knockd() {
    : >"$WORK/knockd.log"
    knockd -c "$1" -i lo -p "$WORK/knockd.pid" -g "$WORK/knockd.log" -d
    wait_for "knockd listening" 5 grep -qs "listening on lo" "$WORK/knockd.log"
}

stop_knockd() {
    [ -f "$WORK/knockd.pid" ] && kill "$(cat "$WORK/knockd.pid")" 2>/dev/null || true
}

# wait_for WHAT SECONDS CMD...: poll CMD every 50 ms.
wait_for() {
    local what=$1 secs=$2; shift 2
    local end=$((SECONDS + secs))
    until "$@"; do
        [ $SECONDS -lt $end ] || fail "timed out waiting for $what"
        sleep 0.05
    done
}

# door NAME SEQUENCE [extra lines...]: a door whose start_command records the
# knocking source address in $WORK/opened.NAME.
door() {
    local name=$1 seq=$2; shift 2
    printf '[%s]\n\tsequence = %s\n\tseq_timeout = 10\n\ttcpflags = syn\n\tstart_command = /bin/sh -c "echo %%IP%% >> %s/opened.%s"\n' \
        "$name" "$seq" "$WORK" "$name"
    for l in "$@"; do printf '\t%s\n' "$l"; done
}

# opened NAME ADDR: wait until door NAME opened for ADDR.
opened() {
    wait_for "door $1 to open for $2" 3 grep -qsx "$2" "$WORK/opened.$1"
}

# not_opened NAME: the door stayed shut (give knockd a moment first).
not_opened() {
    sleep 0.5
    [ ! -s "$WORK/opened.$1" ] || fail "door $1 opened: $(cat "$WORK/opened.$1")"
}

# termux_resolver ADDR: no system resolver (empty /etc/resolv.conf and
# /etc/hosts, bind-mounted in this namespace), and Termux's resolv.conf
# under $PREFIX naming ADDR, which is added to lo: the DNS stub's setting.
termux_resolver() {
    : >"$WORK/empty"
    mount --bind "$WORK/empty" /etc/resolv.conf
    mount --bind "$WORK/empty" /etc/hosts
    mkdir -p "$WORK/prefix/etc"
    echo "nameserver $1" >"$WORK/prefix/etc/resolv.conf"
    ip addr add "$1/8" dev lo 2>/dev/null || true
}

# On any exit: stop knockd and every background job (listeners, dnsmasq),
# which would otherwise keep the test's output pipe open.
cleanup() { stop_knockd; local j; for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done; }
trap cleanup EXIT
