# Where the secret must never be: our own /proc/PID/environ and cmdline,
# any child's command line or environment (the reload command, and the
# processes dist/keyed-sequence.sh runs), a core file after a crash; and a
# variable given twice is refused rather than half-blanked.
# Environment also: DIST (the dist/ directory).
source "$LIB"
secret='the exposure test secret, 38 characters'
export KNOCKD_ROTATOR_SECRET=$secret
hexsecret=$(printf %s "$secret" | od -An -v -tx1 | tr -d ' \n')
conf=$WORK/knockd.conf
{ printf '[options]\n\tLogFile = %s/knockd.log\n' "$WORK"; door ssh_ROTATOR "1:tcp"; } >"$conf"
chmod 600 "$conf"
start_knockd "$conf"
leaks() { grep -aqF -e "$secret" -e "$hexsecret" "$@"; }

# A rotation, its reload command recording its own environment and command
# line, traced: no execve after our own carries the secret.
reload="cat /proc/\$\$/environ /proc/\$\$/cmdline > $WORK/child.proc; kill -HUP \$(cat $WORK/knockd.pid)"
strace -f -qq -e trace=execve -v -s 65536 -o "$WORK/strace.log" \
    "$KR" rotate --no-boundary-run --config "$conf" --reload-command "$reload" >"$WORK/rotate.log" 2>&1 || fail "$(cat "$WORK/rotate.log")"
grep -aq PATH= "$WORK/child.proc" || fail "the reload command did not record its environment: $(cat "$WORK/rotate.log")"
leaks "$WORK/child.proc" && fail "the reload command's environment or command line holds the secret"
[ "$(grep -c execve "$WORK/strace.log")" -gt 1 ] || fail "strace saw no child: $(cat "$WORK/strace.log")"
tail -n +2 "$WORK/strace.log" | leaks && fail "a child's execve carries the secret: $(tail -n +2 "$WORK/strace.log" | grep -aF "$secret" | head -n1)"

# Watch mode, running: its /proc files hold no secret.
mkdir -m 700 "$WORK/crash"
(cd "$WORK/crash" && ulimit -c unlimited && exec "$KR" rotate --watch --config "$conf" --pidfile "$WORK/knockd.pid") \
    >"$WORK/watch.log" 2>&1 &
pid=$!
wait_for "watch mode to start" 10 grep -q "rotator door" "$WORK/watch.log"
cp /proc/$pid/environ "$WORK/environ" && cp /proc/$pid/cmdline "$WORK/cmdline" || fail "cannot read /proc/$pid"
grep -aq PATH= "$WORK/environ" && grep -aq watch "$WORK/cmdline" || fail "/proc/$pid/environ or cmdline read empty"
leaks "$WORK/environ" "$WORK/cmdline" && fail "our /proc/PID/environ or cmdline holds the secret"

# A crash (SIGABRT, as a panic aborts) leaves no core file, though the
# limit allowed one; a control process in the same place shows the kernel
# would have written one.
kill -ABRT "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "still running after SIGABRT"
sleep 0.3
[ -z "$(ls "$WORK/crash")" ] || fail "a crash left a core file: $(ls -l "$WORK/crash")"
python3 - "$WORK/crash" <<'PY' || fail "control: this kernel writes no core file here, so the check above proves nothing"
import os, resource, signal, subprocess, sys, time
def unlimited(): resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
p = subprocess.Popen(["sleep", "60"], cwd=sys.argv[1], preexec_fn=unlimited)
time.sleep(0.3); os.kill(p.pid, signal.SIGABRT); _, st = os.waitpid(p.pid, 0)
sys.exit(0 if os.WCOREDUMP(st) else 1)
PY
rm -f "$WORK"/crash/core*

# The secret given twice: refused, naming the variable, not the values.
out=$(python3 - "$KR" <<'PY' 2>&1
import ctypes, os, sys
arr = lambda xs: (ctypes.c_char_p * (len(xs) + 1))(*[x.encode() for x in xs], None)
env = ["KNOCKD_ROTATOR_SECRET=first copy of the secret 1", "KNOCKD_ROTATOR_SECRET=second copy of the secret 2"]
pid = os.fork()
if pid == 0:
    ctypes.CDLL(None).execve(sys.argv[1].encode(), arr([sys.argv[1], "generate", "ssh"]), arr(env)); os._exit(99)
_, st = os.waitpid(pid, 0); print("exit", os.waitstatus_to_exitcode(st))
PY
)
[[ $out == *"KNOCKD_ROTATOR_SECRET is set more than once in the environment; set it once"*"exit 2"* ]] || fail "duplicated: $out"
[[ $out == *copy* ]] && fail "the error shows the secret: $out"

# dist/keyed-sequence.sh: neither openssl nor any other child gets the key,
# from the environment or from a file.
printf '%s\n' "$secret" >"$WORK/secret" && chmod 600 "$WORK/secret"
for how in env file; do
    if [ $how = file ]; then set -- env -u KNOCKD_ROTATOR_SECRET KNOCKD_ROTATOR_SECRET_FILE="$WORK/secret"; else set -- env; fi
    "$@" strace -f -qq -e trace=execve -v -s 65536 -o "$WORK/dist.strace" bash "$DIST/keyed-sequence.sh" ssh 1799992800 >"$WORK/dist.out"
    want=$(KNOCKD_ROTATOR_ALGORITHM=hmac-sha256 "$KR" generate ssh --at 1799992800)
    [ "$(cat "$WORK/dist.out")" = "$want" ] || fail "keyed-sequence.sh ($how) disagrees: $(cat "$WORK/dist.out") / $want"
    [ "$(grep -c execve "$WORK/dist.strace")" -gt 5 ] || fail "strace saw no children of the script"
    tail -n +2 "$WORK/dist.strace" | leaks && fail "keyed-sequence.sh ($how) passes the secret to a child: $(tail -n +2 "$WORK/dist.strace" | grep -aF -e "$secret" -e "$hexsecret" | head -n1 | cut -c1-200)"
done
note ok
