# README's server path, run for real: a Debian system booted with systemd
# in a container (systemd-nspawn, private network), knockd from Debian, our
# static executable and dist/systemd/knock-rotator.service installed as the
# README says. Watch mode must rotate at start and at boundaries, reload
# knockd through 'systemctl reload' (same main pid), keep knocks working,
# keep the secret out of the unit's environment, and stop on 'systemctl stop'.
# Then the one-shot unit, under the same sandbox, rotates and reloads too,
# and both units' `systemd-analyze security` exposure is at most 2.5.
# Environment: STATIC (the executable), UNIT (the service file), ONESHOT
# (the one-shot service file), ROOT (a cached Debian tree, made here when
# missing), WORK.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
fail() { echo "FAIL: $*" >&2; [ -n "${init:-}" ] && inside 'journalctl --no-pager -n 40 -o cat' >&2; exit 1; }
note() { echo "# $*"; }

source "$(dirname "$0")/debian_root.sh"
debian_root "$ROOT"

# Copies left by an earlier run that was killed (-x copies the tree).
rm -rf "$(dirname "$ROOT")"/.#machine."$(basename "$ROOT")"* "$(dirname "$ROOT")"/.#.#machine."$(basename "$ROOT")"*
systemd-nspawn -q -x -D "$ROOT" --private-network --register=no --keep-unit -b \
    --bind-ro="$STATIC:/usr/local/bin/knock-rotator" \
    --bind-ro="$UNIT:/etc/systemd/system/knock-rotator.service" \
    --bind-ro="$ONESHOT:/etc/systemd/system/knock-rotator-oneshot.service" >"$WORK/console.log" 2>&1 </dev/null &
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
note "booted: $(inside 'systemctl --version | head -n1')"

# knockd, as Debian ships it, on the container's loopback.
inside "cat > /etc/knockd.conf" <<'CONF'
[options]
	LogFile = /var/log/knockd.log
[ssh_ROTATOR]
	sequence      = 1:tcp
	seq_timeout   = 10
	tcpflags      = syn
	start_command = /bin/sh -c 'echo %IP% >> /run/opened'
CONF
inside "printf 'START_KNOCKD=1\nKNOCKD_OPTS=\"-i lo\"\n' > /etc/default/knockd && systemctl enable --now knockd" >/dev/null 2>&1
inside 'systemctl is-active knockd' >/dev/null || fail "knockd did not start"
knockd_pid=$(inside 'systemctl show -p MainPID --value knockd')

# README, "Running it on a server" (the executable and unit are bound in).
inside "install -d -m 700 /etc/knock-rotator
(umask 077; printf '%s\n' 'the shared secret of the server test' > /etc/knock-rotator/secret)
printf 'KNOCKD_ROTATOR_PERIOD_MODULO=10\n' > /etc/knock-rotator/settings
systemctl daemon-reload && systemctl enable --now knock-rotator" >/dev/null 2>&1 || fail "enable knock-rotator"

log() { inside 'journalctl --no-pager -u knock-rotator -o cat'; }
for _ in $(seq 100); do log | grep "rotated 1 of 1" >/dev/null && break; sleep 0.1; done
log | grep "rotated 1 of 1 rotator door .*; knockd reloaded (systemctl reload knockd)" >/dev/null || fail "no rotation at start: $(log)"
# Across two boundaries (10 s periods).
for _ in $(seq 250); do [ "$(log | grep -c 'after the boundary')" -ge 2 ] && break; sleep 0.1; done
[ "$(log | grep -c 'after the boundary')" -ge 2 ] || fail "no rotations at boundaries: $(log)"
note "$(log | grep 'after the boundary' | tail -n1 | sed 's/.*(\(.* ms after the boundary\))/\1/')"
[ "$(inside 'systemctl show -p MainPID --value knockd')" = "$knockd_pid" ] || fail "knockd was restarted"
inside 'grep -c "re-reading config file" /var/log/knockd.log' | grep -v '^0$' >/dev/null || fail "knockd never re-read"

# A knock from a client with the same settings opens the door.
env="KNOCKD_ROTATOR_SECRET_FILE=/etc/knock-rotator/secret KNOCKD_ROTATOR_PERIOD_MODULO=10"
inside "iptables -A INPUT -i lo -p tcp --dport 1024:65535 -j DROP && $env knock-rotator knock 127.0.0.1 ssh"
for _ in $(seq 30); do inside 'grep -qsx 127.0.0.1 /run/opened' && break; sleep 0.1; done
inside 'grep -qsx 127.0.0.1 /run/opened' || fail "the knock did not open the door"
inside "$env knock-rotator status" >"$WORK/status" || inside "sleep 1; $env knock-rotator status" >"$WORK/status" \
    || fail "status: $(cat "$WORK/status")"

# The secret is nowhere in what systemd or /proc show of the service.
pid=$(inside 'systemctl show -p MainPID --value knock-rotator')
inside "systemctl show knock-rotator; cat /proc/$pid/environ /proc/$pid/cmdline" | grep 'the shared secret of' >/dev/null \
    && fail "the secret shows in the unit or its process"

inside 'systemctl stop knock-rotator'
inside 'systemctl is-active knock-rotator' >/dev/null && fail "still active after stop"
log | grep -x "stopping (signal)" >/dev/null || fail "no clean stop: $(log | tail -n4)"

# The one-shot unit, same sandbox: a stale sequence is rotated, knockd
# reloaded through systemd, the lock taken in its runtime directory.
inside "sed -i 's/^\(\s*sequence\s*=\).*/\1 1:tcp,2:tcp,3:tcp,4:tcp,5:tcp/' /etc/knockd.conf"
rereads=$(inside 'grep -c "re-reading config file" /var/log/knockd.log')
inside 'systemctl start knock-rotator-oneshot' || fail "the one-shot unit failed: $(inside 'journalctl --no-pager -u knock-rotator-oneshot -o cat')"
olog() { inside 'journalctl --no-pager -u knock-rotator-oneshot -o cat'; }
olog | grep "rotated 1 of 1 rotator door .*; knockd reloaded (systemctl reload knockd)" >/dev/null || fail "one-shot: $(olog)"
[ "$(inside 'grep -c "re-reading config file" /var/log/knockd.log')" -gt "$rereads" ] || fail "knockd did not re-read after the one-shot run"
inside 'grep -q "1:tcp,2:tcp" /etc/knockd.conf' && fail "the one-shot run left the stale sequence"
[ "$(inside 'stat -c "%U %a" /run/knock-rotator')" = "root 700" ] || fail "runtime directory: $(inside 'stat -c "%U %a" /run/knock-rotator')"
[ "$(inside 'systemctl show -p MainPID --value knockd')" = "$knockd_pid" ] || fail "knockd was restarted"

# Exposure, as systemd rates it: at most 2.5 for both.
for u in knock-rotator knock-rotator-oneshot; do
    score=$(inside "systemd-analyze security $u.service --no-pager" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    note "$u.service exposure: $score"
    [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || fail "$u.service exposure ${score:-unknown}, above 2.5"
done
note ok
