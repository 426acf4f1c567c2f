# README's Debian path for the nftables backend, run for real: Debian booted
# with systemd in a container (systemd-nspawn, private network) with
# nftables.service, an /etc/nftables.conf that includes our table's copy,
# and dist/systemd/knock-rotator-nftables.service. The door must open only
# after a knock; 'systemctl reload nftables' (flush ruleset, then the file)
# and 'systemctl restart nftables' must leave our table there (the include
# loads it in the same transaction; after the stop's flush the watch puts
# it back) and the door working again within seconds; the unit's exposure
# is at most 2.5.
# Environment: STATIC (the executable), UNIT (the service file), ROOT (a
# cached Debian tree, made here when missing), WORK.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
fail() { echo "FAIL: $*" >&2; [ -n "${init:-}" ] && inside 'journalctl --no-pager -n 40 -o cat' >&2; exit 1; }
note() { echo "# $*"; }

source "$(dirname "$0")/debian_root.sh"
debian_root "$ROOT"
rm -rf "$(dirname "$ROOT")"/.#machine."$(basename "$ROOT")"* "$(dirname "$ROOT")"/.#.#machine."$(basename "$ROOT")"*
systemd-nspawn -q -x -D "$ROOT" --private-network --register=no --keep-unit -b \
    --bind-ro="$STATIC:/usr/local/bin/knock-rotator" \
    --bind-ro="$UNIT:/etc/systemd/system/knock-rotator-nftables.service" >"$WORK/console.log" 2>&1 </dev/null &
nspawn=$!
trap 'kill -TERM $nspawn 2>/dev/null; for _ in $(seq 50); do kill -0 $nspawn 2>/dev/null || break; sleep 0.2; done; kill -KILL $nspawn 2>/dev/null || true' EXIT
inside() { nsenter -t "$init" -a -r -w /bin/sh -c "$1"; }
state=
for _ in $(seq 150); do
    init=$(ps --ppid $nspawn -o pid= | tr -d ' ' | head -n1 || true)
    [ -n "$init" ] && state=$(inside 'systemctl is-system-running' 2>/dev/null || true)
    case $state in running | degraded) break ;; esac
    sleep 0.2
done
[ "${state:-}" = running ] || [ "${state:-}" = degraded ] || fail "the container did not boot: $(tail -5 "$WORK/console.log")"

# A service on port 22 (an echo through socket activation: the tree has no
# sshd), and the host firewall as Debian ships it, accepting it, with our
# include at the end (README, step 4).
inside "printf '[Socket]\nListenStream=127.0.0.1:22\nAccept=yes\n[Install]\nWantedBy=sockets.target\n' > /etc/systemd/system/echo.socket
printf '[Service]\nExecStart=/bin/cat\nStandardInput=socket\n' > /etc/systemd/system/echo@.service
cat > /etc/nftables.conf <<'CONF'
#!/usr/sbin/nft -f
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		tcp dport 22 accept
		meta l4proto { tcp, udp } reject
	}
}
include \"/var/run/knock-rotator/*.nft\"
CONF
systemctl daemon-reload && systemctl enable --now echo.socket nftables" >/dev/null 2>&1 || fail "echo.socket and nftables"
connects() { inside "timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/22'" 2>/dev/null; }
connects || fail "port 22 is not open before our table"

# README, steps 2, 3 and 5.
inside "install -d -m 700 /etc/knock-rotator
knock-rotator new-secret /etc/knock-rotator/alice.secret
printf '[ssh_alice]\nsecret_file = alice.secret\nopen = 22/tcp\n' > /etc/knock-rotator/doors
chmod 600 /etc/knock-rotator/doors
systemctl enable --now knock-rotator-nftables" >/dev/null 2>&1 || fail "enable knock-rotator-nftables"
log() { inside 'journalctl --no-pager -u knock-rotator-nftables -o cat'; }
for _ in $(seq 100); do log | grep "installed 1 door" >/dev/null && break; sleep 0.1; done
log | grep "installed 1 door" >/dev/null || fail "no table installed: $(log)"
knock() { inside "KNOCKD_ROTATOR_SECRET_FILE=/etc/knock-rotator/alice.secret knock-rotator knock 127.0.0.1 ssh_alice"; }
! connects || fail "a stranger connects with our table installed"
knock || fail "knock"
connects || fail "the knock did not open the door"
inside 'knock-rotator status --backend nftables' >"$WORK/status" || fail "status: $(cat "$WORK/status")"

# The host firewall's reload and restart: our table is there right after,
# shut to strangers (the flush emptied its sets: a knock again opens it).
for how in reload restart; do
    inside "systemctl $how nftables" || fail "systemctl $how nftables"
    t0=$(date +%s%N)
    for _ in $(seq 50); do inside 'nft list table inet knock_rotator' >/dev/null 2>&1 && break; sleep 0.1; done
    inside 'nft list table inet knock_rotator' >/dev/null 2>&1 || fail "no table after 'systemctl $how nftables'"
    note "after 'systemctl $how nftables' our table was there within $((($(date +%s%N) - t0) / 1000000)) ms"
    ! connects || fail "a stranger connects after 'systemctl $how nftables'"
    knock || fail "knock after $how"
    connects || fail "the door did not open after 'systemctl $how nftables'"
done
log | grep "undone from outside; putting it back" >/dev/null || fail "the watch did not see the restart's flush: $(log)"

score=$(inside "systemd-analyze security knock-rotator-nftables.service --no-pager" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
note "knock-rotator-nftables.service exposure: $score"
[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || fail "exposure ${score:-unknown}, above 2.5"
inside 'systemctl stop knock-rotator-nftables'
log | grep -x "stopping (signal)" >/dev/null || fail "no clean stop: $(log | tail -n4)"
note ok
