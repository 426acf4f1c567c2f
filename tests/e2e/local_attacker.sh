# A hostile local user (uid 65534) on the server, and the files such a user
# or a mistake can put in our way: none of it may stall a rotation, make us
# signal the wrong process, hang us, or hand the sequences to others.
source "$LIB"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
expect_error() { # WHAT PATTERN CMD...: fails (exit 1 or 2) within 10 s, saying PATTERN
    local what=$1 pattern=$2 out rc; shift 2
    set +e; out=$(timeout 10 "$@" 2>&1); rc=$?; set -e
    { [ $rc = 1 ] || [ $rc = 2 ]; } && [[ $out == *$pattern* ]] || fail "$what: exit $rc: $out"
}
# Our own /run (this mount namespace's), so the runtime directory is made
# here and changing its mode touches no other test.
mount -t tmpfs -o mode=755 tmpfs /run
chmod 755 "$WORK"
mkdir -m 755 "$WORK/etc"
conf=$WORK/etc/knockd.conf
{ printf '[options]\n\tLogFile = %s/knockd.log\n' "$WORK"; door ssh_ROTATOR "1:tcp"; } >"$conf"
chmod 600 "$conf"
start_knockd "$conf"
now=$(date +%s)
rotate=(timeout 20 "$KR" rotate --no-boundary-run --config "$conf" --pidfile "$WORK/knockd.pid")

# The old lock (flock on the config's directory) held by another user, on
# the directory and on /etc: the rotation goes on regardless.
# (Background jobs keep no pipe of ours open, or the test waits for them.)
nobody flock -x "$WORK/etc" sleep 60 >/dev/null 2>&1 &
nobody flock -x /etc sleep 60 >/dev/null 2>&1 &
sleep 0.3
"${rotate[@]}" >"$WORK/out" 2>&1 || fail "a rotation waited on another user's lock: $(cat "$WORK/out")"
grep -q "rotated 1 of 1" "$WORK/out" || fail "$(cat "$WORK/out")"
# The lock now: root's, in a directory no one else can enter.
[ "$(stat -c '%U %a' /run/knock-rotator)" = "root 700" ] || fail "runtime dir: $(stat -c '%U %a' /run/knock-rotator)"
lock=$(ls /run/knock-rotator/rotate-*.lock) || fail "no lock file in /run/knock-rotator"
[ "$(stat -c '%U %a' $lock)" = "root 600" ] || fail "lock file: $(stat -c '%U %a' $lock)"
nobody flock -n -x $lock true 2>/dev/null && fail "another user took the rotation lock"
# A runtime directory that another user could write is refused, not used.
chmod 777 /run/knock-rotator
expect_error "loose runtime dir" "writable by no one else" "${rotate[@]}" --at $((now + 21600))
chmod 700 /run/knock-rotator

# Impostors: a process of another user named knockd (a stale pid file), and
# root's process named knockd whose executable is not knockd.
cp "$(command -v sleep)" "$WORK/knockd" && chmod 755 "$WORK/knockd"
(exec setpriv --reuid=65534 --regid=65534 --clear-groups "$WORK/knockd" 60) >/dev/null 2>&1 &
imp=$!
sleep 0.2
echo $imp >"$WORK/stale.pid"
expect_error "impostor of another user" "pid $imp is not knockd (it runs as uid 65534" \
    timeout 20 "$KR" rotate --config "$conf" --pidfile "$WORK/stale.pid" --at $((now + 21600))
python3 -c 'import ctypes, time; ctypes.CDLL(None).prctl(15, b"knockd", 0, 0, 0); time.sleep(60)' >/dev/null 2>&1 &
imp2=$!
sleep 0.3
[ "$(cat /proc/$imp2/comm)" = knockd ] || fail "the python impostor is not named knockd"
echo $imp2 >"$WORK/stale.pid"
expect_error "impostor named knockd" "pid $imp2 is not knockd (its executable is not knockd" \
    timeout 20 "$KR" rotate --config "$conf" --pidfile "$WORK/stale.pid" --at $((now + 43200))
kill -0 $imp && kill -0 $imp2 || fail "an impostor got our SIGHUP"
"${rotate[@]}" >/dev/null || fail "the real knockd could not be reloaded"

# Files that are not what they should be: a FIFO must not hang us, a device
# or a huge file must not exhaust memory, a secret file in a directory that
# another user can write must be refused.
mkfifo -m 600 "$WORK/fifo"
head -c 100000 /dev/zero | tr '\0' x >"$WORK/big" && chmod 600 "$WORK/big"
expect_error "huge secret file" "larger than 65536 bytes" \
    env -u KNOCKD_ROTATOR_SECRET KNOCKD_ROTATOR_SECRET_FILE="$WORK/big" "$KR" generate ssh
for f in "$WORK/fifo" /dev/zero; do
    expect_error "secret file $f" "not a regular file" env -u KNOCKD_ROTATOR_SECRET KNOCKD_ROTATOR_SECRET_FILE="$f" "$KR" generate ssh
    expect_error "config $f" "not a regular file" "$KR" rotate --no-boundary-run --no-reload --config "$f"
    expect_error "doors file $f" "not a regular file" "$KR" rotate --no-boundary-run --no-reload --config "$conf" --doors-file "$f"
    expect_error "profile file $f" "not a regular file" "$KR" generate --config-file "$f" -p x
done
for f in "$WORK/fifo" /dev/zero; do
    { cat "$conf"; printf '[other]\n\tone_time_sequences = %s\n\tstart_command = /bin/true\n' "$f"; } >"$WORK/ots.conf"
    expect_error "one_time_sequences $f" "one_time_sequences '$f': not a regular file" \
        "$KR" rotate --no-boundary-run --no-reload --config "$WORK/ots.conf"
    expect_error "status, one_time_sequences $f" "not a regular file" "$KR" status --config "$WORK/ots.conf"
done
printf 'a strong enough secret for this test\n' >"$WORK/secret.txt"
chmod 600 "$WORK/secret.txt"
secret_in() { # DIR MODE OWNER: a copy of the secret file in DIR made so
    mkdir -p "$1" && chmod "$2" "$1" && chown "$3" "$1" && cp -p "$WORK/secret.txt" "$1/secret"
}
secret_in "$WORK/open" 777 root
expect_error "secret in a 0777 directory" "its directory $WORK/open is writable by others" \
    env -u KNOCKD_ROTATOR_SECRET KNOCKD_ROTATOR_SECRET_FILE="$WORK/open/secret" "$KR" generate ssh
secret_in "$WORK/theirs" 755 65534
expect_error "secret in another user's directory" "its directory $WORK/theirs is not yours or root's" \
    env -u KNOCKD_ROTATOR_SECRET KNOCKD_ROTATOR_SECRET_FILE="$WORK/theirs/secret" "$KR" generate ssh
secret_in "$WORK/sticky" 1777 root
env -u KNOCKD_ROTATOR_SECRET KNOCKD_ROTATOR_SECRET_FILE="$WORK/sticky/secret" "$KR" generate ssh >/dev/null \
    || fail "a secret file in a sticky directory (as /tmp) was refused"
ln -s "$WORK/sticky/secret" "$WORK/etc/link"
env -u KNOCKD_ROTATOR_SECRET KNOCKD_ROTATOR_SECRET_FILE="$WORK/etc/link" "$KR" generate ssh >/dev/null \
    || fail "a symbolic link to a well-placed secret file was refused"

# A config others can read: said at every rotation, mode left alone.
chmod 644 "$conf"
"${rotate[@]}" --at $((now + 21600)) >"$WORK/out" 2>&1 || fail "$(cat "$WORK/out")"
grep -q "warning: $conf: readable by every local user (mode 0644)" "$WORK/out" || fail "no mode warning: $(cat "$WORK/out")"
[ "$(stat -c %a "$conf")" = 644 ] || fail "rotate changed the mode"
chmod 600 "$conf"
"${rotate[@]}" >/dev/null

# Not root, rotating a file whose group the user is not in: refused when the
# mode gives that group access (the new file would give it to theirs).
mkdir -m 755 "$WORK/user" && chown 65534:65534 "$WORK/user"
cp "$conf" "$WORK/user/knockd.conf" && chown 65534:0 "$WORK/user/knockd.conf" && chmod 640 "$WORK/user/knockd.conf"
expect_error "group not kept" "cannot keep its group (gid 0)" \
    "${as_nobody[@]}" env TMPDIR="$WORK/user" "$KR" rotate --no-boundary-run --no-reload --config "$WORK/user/knockd.conf" --at $((now + 43200))
[ "$(stat -c '%u:%g %a' "$WORK/user/knockd.conf")" = "65534:0 640" ] || fail "the file changed"
chmod 600 "$WORK/user/knockd.conf"
nobody env TMPDIR="$WORK/user" "$KR" rotate --no-boundary-run --no-reload --config "$WORK/user/knockd.conf" --at $((now + 43200)) >/dev/null \
    || fail "a non-root owner of a 0600 file could not rotate it"
note ok
