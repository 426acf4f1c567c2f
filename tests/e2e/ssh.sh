# ssh NAME knocks first: real OpenSSH (sshd and ssh, scp, sftp) behind a
# firewall that drops the ssh port until knockd's door opens it, through
# `knock NAME --proxy %p` as ProxyCommand. The phone's side is set up the
# way the README says: `profile` on the server, `import` on the device, and
# ssh runs with no environment but HOME (as Termux widgets and ssh's
# `$SHELL -c` have it).
source "$LIB"
mkdir -p /run/sshd && mount -t tmpfs -o mode=0755 tmpfs /run/sshd
ip -6 addr add ::1/128 dev lo 2>/dev/null || true

# The server: sshd on 2222 (IPv4 and IPv6), with its own keys and log.
ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id"
cp "$WORK/id.pub" "$WORK/authorized_keys"
cat >"$WORK/sshd_config" <<EOF
Port 2222
ListenAddress 127.0.0.1
ListenAddress ::1
HostKey $WORK/host_key
AuthorizedKeysFile $WORK/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PidFile $WORK/sshd.pid
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
/usr/sbin/sshd -f "$WORK/sshd_config" -E "$WORK/sshd.log"
wait_for "sshd" 5 grep -qs "Server listening on ::1 port 2222" "$WORK/sshd.log"

# The firewall: established traffic passes, the door's chain accepts the
# sources knockd let in, everything else to high ports (2222 included) drops.
for t in iptables ip6tables; do
    $t -N DOOR
    $t -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    $t -A INPUT -j DOOR
    $t -A INPUT -i lo -p tcp --dport 1024:65535 -j DROP
    $t -A INPUT -i lo -p udp --dport 1024:65535 -j DROP
done
cat >"$WORK/open.sh" <<EOF
#!/bin/sh
case "\$1" in *:*) t=ip6tables ;; *) t=iptables ;; esac
\$t -A DOOR -s "\$1" -p tcp --dport 2222 -j ACCEPT
echo "\$1" >>"$WORK/opened.ssh_ROTATOR"
EOF
chmod 755 "$WORK/open.sh"
close_door() { iptables -F DOOR; ip6tables -F DOOR; : >"$WORK/opened.ssh_ROTATOR"; }

# The server's side: a secret, a door in the doors file, knockd's config.
mkdir -p "$WORK/etc"
"$KR" new-secret "$WORK/etc/ssh.secret" >/dev/null
printf '[ssh_ROTATOR]\nsecret_file = %s/etc/ssh.secret\n' "$WORK" >"$WORK/etc/doors"
unset KNOCKD_ROTATOR_SECRET
seq=$(KNOCKD_ROTATOR_SECRET_FILE=$WORK/etc/ssh.secret "$KR" generate ssh --format knockd)
printf '[options]\n[ssh_ROTATOR]\n\tsequence = %s\n\tseq_timeout = 10\n\ttcpflags = syn\n\tstart_command = %s/open.sh %%IP%%\n' \
    "$seq" "$WORK" >"$WORK/knockd.conf"
start_knockd "$WORK/knockd.conf"
# A name with both families, in this namespace's own /etc/hosts.
printf '127.0.0.1 dual.test\n::1 dual.test\n' >"$WORK/hosts"
mount --bind "$WORK/hosts" /etc/hosts

# The phone's side, in one step: the server prints the profile, the device
# takes it in. Its files are owner-only, and a second import is refused.
export HOME=$WORK/home
mkdir -p "$HOME"
"$KR" profile ssh --host dual.test --with-secret --name door --doors-file "$WORK/etc/doors" >"$WORK/profile.txt"
( umask 022; "$KR" import "$WORK/profile.txt" >"$WORK/import.out" ) || fail "import: $(cat "$WORK/import.out")"
conf=$HOME/.config/knock-rotator
for f in "$conf" "$conf/config" "$conf/door.secret"; do
    [ "$(stat -c %a "$f")" = 600 ] || [ "$(stat -c %a "$f")" = 700 ] || fail "$f is mode $(stat -c %a "$f")"
done
grep -q "secret =" "$conf/config" && fail "the secret stayed in the config"
cmp -s <(tr -d '\n' <"$conf/door.secret") <(tr -d '\n' <"$WORK/etc/ssh.secret") || fail "the secret file differs"
set +e
out=$("$KR" import <"$WORK/profile.txt" 2>&1); rc=$?
set -e
[ $rc = 2 ] && [[ $out == *"a profile [door] exists already; --replace to replace it" ]] || fail "second import: $rc $out"
"$KR" import --replace <"$WORK/profile.txt" >/dev/null || fail "import --replace"
[ "$(grep -c '^\[door\]' "$conf/config")" = 1 ] || fail "replace left two profiles: $(cat "$conf/config")"

# ssh runs with nothing but HOME and PATH: the profile is all it has.
cat >"$WORK/ssh_config" <<EOF
Host door door6 door-hp door-fd
    HostName dual.test
    Port 2222
    User root
    IdentityFile $WORK/id
    IdentitiesOnly yes
    UserKnownHostsFile $WORK/known_hosts
    StrictHostKeyChecking accept-new
    BatchMode yes
    ConnectTimeout 5
Host door
    ProxyCommand $KNOCK door --proxy %p
Host door6
    ProxyCommand $KNOCK -6 door --proxy %p
Host door-hp
    ProxyCommand $KNOCK %h ssh --proxy %p
Host door-fd
    ProxyCommand $KNOCK door --proxy %p --fdpass
    ProxyUseFdpass yes
Host plain
    HostName 127.0.0.1
    Port 2222
    User root
    IdentityFile $WORK/id
    BatchMode yes
    UserKnownHostsFile $WORK/known_hosts
    StrictHostKeyChecking accept-new
    ConnectTimeout 2
EOF
SSH=(env -i "HOME=$HOME" PATH=/usr/bin:/bin ssh -F "$WORK/ssh_config")
connections() { grep -c "Connection from" "$WORK/sshd.log" || true; }
knocks_seen() { grep -c "Stage 1" "$WORK/knockd.log" || true; }
no_relay_left() {
    # (-[-]: the pattern must not match this shell's own command line.)
    wait_for "the relay to exit" 3 sh -c '! pgrep -f -- "-[-]proxy" >/dev/null'
}

# Without the recipe the port stays shut.
if "${SSH[@]}" plain true 2>"$WORK/err"; then fail "ssh got in without a knock"; fi
close_door

# With it: one knock, one connection, to the family that was knocked.
c0=$(connections)
"${SSH[@]}" door 'echo in' >"$WORK/out" 2>"$WORK/err" || fail "ssh door: $(cat "$WORK/err")"
[ "$(cat "$WORK/out")" = in ] || fail "ssh door printed: $(cat "$WORK/out")"
[ "$(($(connections) - c0))" = 1 ] || fail "want one sshd connection: $(tail -n 5 "$WORK/sshd.log")"
tail -n 20 "$WORK/sshd.log" | grep "Connection from 127.0.0.1 port" >/dev/null || fail "not over IPv4: $(tail -n 5 "$WORK/sshd.log")"
grep -qx 127.0.0.1 "$WORK/opened.ssh_ROTATOR" || fail "the door did not open for 127.0.0.1"
no_relay_left
close_door
"${SSH[@]}" door6 true 2>"$WORK/err" || fail "ssh door6: $(cat "$WORK/err")"
tail -n 20 "$WORK/sshd.log" | grep "Connection from ::1 port" >/dev/null || fail "not over IPv6: $(tail -n 5 "$WORK/sshd.log")"
grep -qx ::1 "$WORK/opened.ssh_ROTATOR" || fail "the door did not open for ::1"
grep -qx 127.0.0.1 "$WORK/opened.ssh_ROTATOR" && fail "IPv4 was knocked for an IPv6 connection"
close_door
# The other form, knock %h SERVICE, takes its secret from the environment.
env -i "HOME=$HOME" PATH=/usr/bin:/bin "KNOCKD_ROTATOR_SECRET_FILE=$conf/door.secret" \
    ssh -F "$WORK/ssh_config" door-hp true 2>"$WORK/err" || fail "ssh door-hp (knock %h SERVICE): $(cat "$WORK/err")"
close_door
"${SSH[@]}" door-fd true 2>"$WORK/err" || fail "ssh door-fd (ProxyUseFdpass): $(cat "$WORK/err")"
no_relay_left

# scp and sftp of 8 MB, byte for byte.
head -c 8M /dev/urandom >"$WORK/big"
env -i "HOME=$HOME" PATH=/usr/bin:/bin scp -q -F "$WORK/ssh_config" "$WORK/big" "door:$WORK/big.scp" \
    || fail "scp failed"
cmp "$WORK/big" "$WORK/big.scp" || fail "scp changed the file"
printf 'get %s %s\n' "$WORK/big" "$WORK/big.sftp" >"$WORK/batch"
env -i "HOME=$HOME" PATH=/usr/bin:/bin sftp -q -F "$WORK/ssh_config" -b "$WORK/batch" door >/dev/null \
    || fail "sftp failed"
cmp "$WORK/big" "$WORK/big.sftp" || fail "sftp changed the file"
no_relay_left

# The Termux:Widget tap: `import --shortcut ssh` writes ~/.shortcuts/door,
# which runs `ssh door` with ssh's own ~/.ssh/config and nothing but HOME
# and PATH; it knocks and logs in. (ssh takes ~ from the password file:
# this namespace's copy gives root the test's HOME.)
sed "s|^root:\([^:]*:[^:]*:[^:]*:[^:]*\):[^:]*:|root:\1:$HOME:|" /etc/passwd >"$WORK/passwd"
mount --bind "$WORK/passwd" /etc/passwd
mkdir -p -m 700 "$HOME/.ssh"
install -m 600 "$WORK/ssh_config" "$HOME/.ssh/config"
"$KR" import --replace --shortcut ssh <"$WORK/profile.txt" >/dev/null || fail "import --shortcut ssh"
close_door
c0=$(connections)
set +e
env -i "HOME=$HOME" PATH=/usr/bin:/bin "$HOME/.shortcuts/door" </dev/null >"$WORK/tap" 2>&1; rc=$?
set -e
[ $rc = 0 ] || fail "the ssh shortcut: exit $rc: $(cat "$WORK/tap"); $(tail -n 8 "$WORK/sshd.log")"
[ "$(($(connections) - c0))" = 1 ] || fail "the ssh shortcut made no sshd connection: $(tail -n 5 "$WORK/sshd.log")"
grep -qx 127.0.0.1 "$WORK/opened.ssh_ROTATOR" || fail "the ssh shortcut did not knock"
no_relay_left
umount /etc/passwd

# ssh -G and a session over a ControlMaster send no knock.
k0=$(knocks_seen)
"${SSH[@]}" -G door >/dev/null
sleep 0.3
[ "$(knocks_seen)" = "$k0" ] || fail "ssh -G knocked"
close_door
CM=(-o ControlMaster=auto -o "ControlPath=$WORK/cm" -o ControlPersist=60)
"${SSH[@]}" "${CM[@]}" door true 2>"$WORK/err" || fail "ssh master: $(cat "$WORK/err")"
k0=$(knocks_seen); c0=$(connections)
"${SSH[@]}" "${CM[@]}" door 'echo again' >"$WORK/out" 2>"$WORK/err" || fail "ssh over the master: $(cat "$WORK/err")"
[ "$(cat "$WORK/out")" = again ] || fail "over the master: $(cat "$WORK/out")"
sleep 0.3
[ "$(knocks_seen)" = "$k0" ] || fail "a session over the ControlMaster knocked"
[ "$(connections)" = "$c0" ] || fail "a session over the ControlMaster connected"
"${SSH[@]}" "${CM[@]}" -O exit door 2>/dev/null || fail "ssh -O exit"
no_relay_left

# -v goes to stderr: stdout is the server's bytes only (its banner first).
close_door
"$KNOCK" -v door --proxy 2222 </dev/null >"$WORK/stream" 2>"$WORK/notes" || true
head -c 8 "$WORK/stream" | grep -x "SSH-2.0-" >/dev/null || fail "the stream starts with: $(head -c 60 "$WORK/stream" | od -c | head -3)"
grep -q "hitting tcp" "$WORK/notes" || fail "no verbose notes on stderr: $(cat "$WORK/notes")"
grep -q "is open" "$WORK/notes" || fail "no 'is open' on stderr"

# A door that never opens (the wrong secret): ssh fails within its
# ConnectTimeout, and knock's one line says why. knock stops when ssh has
# gone, also where ssh's SIGHUP to it is ignored (as under nohup).
close_door
echo "not the door's secret at all, no" >"$conf/door.secret"
start=$SECONDS
if "${SSH[@]}" -o ConnectTimeout=4 door true 2>"$WORK/err"; then fail "ssh got in with a wrong secret"; fi
[ $((SECONDS - start)) -le 6 ] || fail "ssh took $((SECONDS - start)) s to fail"
grep -q "Connection timed out during banner exchange\|still closed" "$WORK/err" || fail "ssh said: $(cat "$WORK/err")"
no_relay_left
if (trap '' HUP && exec "${SSH[@]}" -o ConnectTimeout=2 door true) 2>"$WORK/err"; then fail "ssh got in with a wrong secret"; fi
no_relay_left
grep -q "knock: ssh went away before 'dual.test' port 2222 opened" "$WORK/err" || fail "knock said, after ssh had gone: $(cat "$WORK/err")"
set +e
out=$(env -i "HOME=$HOME" "$KNOCK" door --proxy 2222 --check-timeout 300 --retries 1 </dev/null 2>&1); rc=$?
set -e
[ $rc = 1 ] && [ "$out" = "knock: 'dual.test' port 2222 still closed after 2 knocks" ] || fail "closed door: $rc $out"
note ok
