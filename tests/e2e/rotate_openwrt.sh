# The OpenWrt package's init script, run as procd would run it (procd itself
# cannot be had here): busybox ash sources it with stand-ins for procd_*
# that record what it asks procd to do, and for config_load/config_get
# reading the package's UCI file. Then what it asked for (command and
# environment) runs against a real knockd; `ubus` is a stand-in that checks
# it is asked to signal procd's knockd instance with SIGHUP, and does so.
# Environment: IPK (the x86_64 .ipk; its executable is the one run).
source "$LIB"
unset KNOCKD_ROTATOR_SECRET
mkdir -p "$WORK/outer" "$WORK/root"
tar -xzf "$IPK" -C "$WORK/outer"
tar -xzf "$WORK/outer/data.tar.gz" -C "$WORK/root"
init=$WORK/root/etc/init.d/knock-rotator
uci=$WORK/root/etc/config/knock-rotator

# The admin's settings, as 'uci set' would write them.
mkdir -p "$WORK/etc/knock-rotator" && chmod 700 "$WORK/etc/knock-rotator"
sed -i -e "s|option config '/etc/knockd.conf'|option config '$WORK/knockd.conf'|" \
    -e "s|option secret_file '/etc/knock-rotator/secret'|option secret_file '$WORK/etc/knock-rotator/secret'|" \
    -e "s|# option period '21600'|option period '3600'|" "$uci"

cat >"$WORK/procd-stubs.sh" <<'STUBS'
rec() { printf '%s\n' "$*" >>"$REC"; }
procd_open_instance() { rec open_instance; }
procd_close_instance() { rec close_instance; }
procd_set_param() { t=$1; shift; rec "set $t $*"; : >"$REC.$t"; for a in "$@"; do printf '%s\n' "$a" >>"$REC.$t"; done; }
procd_append_param() { t=$1; shift; rec "append $t $*"; for a in "$@"; do printf '%s\n' "$a" >>"$REC.$t"; done; }
procd_add_reload_trigger() { rec "reload_trigger $*"; }
logger() { rec "logger $*"; }
config_load() { UCI_FILE=$UCI; }
config_get() {
    _v=$(awk -v s="$2" -v o="$3" '
        $1 == "config" { sec = $3; gsub(/\047/, "", sec) }
        $1 == "option" && sec == s && $2 == o { v = $0; sub(/^[ \t]*option[ \t]+[^ \t]+[ \t]+/, "", v); gsub(/^\047|\047$/, "", v); print v }' "$UCI_FILE")
    eval "$1=\${_v:-\$4}"
}
config_get_bool() { config_get "$@"; eval "case \$$1 in 1|on|true|yes|enabled) $1=1 ;; *) $1=0 ;; esac"; }
STUBS
# run_init: start_service and service_triggers, as procd calls them.
run_init() {
    rm -f "$WORK/rec"*
    REC=$WORK/rec UCI=$uci busybox sh -c '. "$1"; . "$2"; PROG=$3; start_service; rc=$?; service_triggers; exit $rc' \
        sh "$WORK/procd-stubs.sh" "$init" "$WORK/root/usr/bin/knock-rotator"
}

# No secret yet: it says so and asks procd for nothing.
run_init && fail "started without a secret"
grep -q "^logger .*no secret in $WORK/etc/knock-rotator/secret" "$WORK/rec" || fail "no log line: $(cat "$WORK/rec")"
grep -q open_instance "$WORK/rec" && fail "an instance without a secret"

(umask 077; echo 'the secret of the openwrt test' >"$WORK/etc/knock-rotator/secret")
run_init || fail "start_service failed: $(cat "$WORK/rec")"
note "asked of procd: $(tr '\n' ';' <"$WORK/rec")"
for want in open_instance close_instance "set respawn 3600 10 0" "set stdout 1" "set stderr 1" \
    "set file /etc/config/knock-rotator $WORK/etc/knock-rotator/secret" "reload_trigger knock-rotator"; do
    grep -qxF "$want" "$WORK/rec" || fail "the script did not ask for '$want': $(cat "$WORK/rec")"
done
[ "$(cat "$WORK/rec.env")" = "KNOCKD_ROTATOR_SECRET_FILE=$WORK/etc/knock-rotator/secret
KNOCKD_ROTATOR_PERIOD_MODULO=3600" ] || fail "environment: $(cat "$WORK/rec.env")"
! grep -qF 'the secret of the openwrt test' "$WORK"/rec* || fail "the secret itself reached procd"
! grep -q '^KNOCKD_ROTATOR_SECRET=' "$WORK/rec.env" || fail "the secret's variable reached procd"

# Disabled in UCI: nothing asked.
sed -i "s/option enabled '1'/option enabled '0'/" "$uci"
cp "$WORK/rec.command" "$WORK/command" && cp "$WORK/rec.env" "$WORK/env"
run_init || fail "disabled: start_service failed"
grep -q open_instance "$WORK/rec" && fail "an instance while disabled"

# What procd would run, against a real knockd.
conf=$WORK/knockd.conf
{ printf '[options]\n\tLogFile = %s/knockd.log\n' "$WORK"; door ssh_ROTATOR "1:tcp"; } >"$conf"
start_knockd "$conf"
pid=$(cat "$WORK/knockd.pid")
mkdir -p "$WORK/bb"
cat >"$WORK/bb/ubus" <<STUB
#!/bin/sh
[ "\$*" = 'call service signal {"name":"knockd","signal":1}' ] || { echo "ubus: unexpected: \$*" >&2; exit 1; }
exec kill -HUP \$(cat "$WORK/knockd.pid")
STUB
chmod 755 "$WORK/bb/ubus"
mapfile -t cmd <"$WORK/command"
mapfile -t envs <"$WORK/env"
env -i PATH="$WORK/bb:$PATH" "${envs[@]}" "${cmd[@]}" >"$WORK/watch.log" 2>&1 &
wait_for "a rotation" 5 grep -q "rotated 1 of 1" "$WORK/watch.log"
grep -q "knockd reloaded ('ubus call service signal" "$WORK/watch.log" || fail "$(cat "$WORK/watch.log")"
grep -q "re-reading config file" "$WORK/knockd.log" || fail "knockd did not re-read"
kill -0 "$pid" || fail "knockd died"
drop_knock_ports
KNOCKD_ROTATOR_SECRET_FILE=$WORK/etc/knock-rotator/secret KNOCKD_ROTATOR_PERIOD_MODULO=3600 "$KNOCK" 127.0.0.1 ssh
opened ssh_ROTATOR 127.0.0.1
kill %1 2>/dev/null || true
stop_knockd

# backend 'nftables': no knockd, no shared secret; the doors file.
doors=$WORK/etc/knock-rotator/doors
sed -i -e "s/option enabled '0'/option enabled '1'/" -e "s|# option backend 'nftables'|option backend 'nftables'|" \
    -e "s|# option doors_file '/etc/knock-rotator/doors'|option doors_file '$doors'|" "$uci"
run_init && fail "nftables: started without a doors file"
grep -q "^logger .*backend nftables takes its doors from $doors, and there is none" "$WORK/rec" ||
    fail "nftables: no log line: $(cat "$WORK/rec")"
printf '[ssh]\nsecret_file = secret\nopen = 22/tcp\n' >"$doors" && chmod 600 "$doors"
run_init || fail "nftables: start_service failed: $(cat "$WORK/rec")"
[ "$(tr '\n' ' ' <"$WORK/rec.command")" = "$WORK/root/usr/bin/knock-rotator rotate --watch --backend nftables --doors-file $doors " ] ||
    fail "nftables: command: $(cat "$WORK/rec.command")"
grep -qxF "set file /etc/config/knock-rotator $doors" "$WORK/rec" || fail "nftables: the doors file is not watched"
[ ! -s "$WORK/rec.env" ] || fail "nftables: environment: $(cat "$WORK/rec.env")"
mapfile -t cmd <"$WORK/rec.command"
env -i PATH="$PATH" "${cmd[@]}" >"$WORK/nft-watch.log" 2>&1 &
wait_for "the nftables table" 5 grep -q "installed 1 door" "$WORK/nft-watch.log"
# fw4 includes the package's ruleset-post file: it brings our table back.
nft flush ruleset
kill %2 2>/dev/null; wait 2>/dev/null || true
printf 'include "%s"\n' "$WORK/root/usr/share/nftables.d/ruleset-post/knock-rotator.nft" >"$WORK/fw4-post.nft"
nft -f "$WORK/fw4-post.nft" || fail "fw4's include of the package's file"
nft list table inet knock_rotator >/dev/null || fail "the package's include did not bring the table back"
"$WORK/root/usr/bin/knock-rotator" status --backend nftables --doors-file "$doors" >/dev/null || fail "status"
note ok
