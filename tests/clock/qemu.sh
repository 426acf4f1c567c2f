# Watch mode under clock steps, in a qemu guest (TCG: no KVM, no CPU
# feature of the host needed) whose clock is the test's to set, never this
# machine's. Boots Debian's own kernel with an initramfs of static busybox,
# the static executable (STATIC), the race driver (tests/clock/stepper.rs)
# and tests/clock/guest.sh as /init, and checks what the guest printed.
# Environment: STATIC, WORK, KERNEL_CACHE (a directory kept between runs);
# RACE_TRIES (default 120).
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
for t in qemu-system-x86_64 cpio busybox readelf rustc apt-get dpkg-deb gzip; do
    command -v "$t" >/dev/null || fail "$t is missing: tests/run installs it"
done

# Debian's kernel, taken from its package without installing it (the host's
# /boot is not ours). Once per cache; a lock guards its making.
kernel=$KERNEL_CACHE/vmlinuz
mkdir -p "$KERNEL_CACHE"
exec 9>"$KERNEL_CACHE.lock"
flock 9
if [ ! -s "$kernel" ]; then
    pkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1; }
    name=$(pkg)
    [ -n "$name" ] || { apt-get update -qq; name=$(pkg); }
    [ -n "$name" ] || fail "apt knows no linux-image-amd64 to take the guest's kernel from"
    rm -rf "$KERNEL_CACHE/deb" && mkdir -p "$KERNEL_CACHE/deb"
    (cd "$KERNEL_CACHE/deb" && apt-get download -qq "$name") || fail "apt-get download $name"
    dpkg-deb -x "$KERNEL_CACHE"/deb/*.deb "$KERNEL_CACHE/deb/x"
    cp "$KERNEL_CACHE"/deb/x/boot/vmlinuz-* "$kernel.new" && mv "$kernel.new" "$kernel"
    echo "$name" >"$KERNEL_CACHE/name"
    rm -rf "$KERNEL_CACHE/deb"
fi
flock -u 9
exec 9>&-

# The race driver: static, std only, so one rustc call (the musl target
# that tests/run adds) makes it.
rustc --edition 2024 -O --target x86_64-unknown-linux-musl -C target-feature=+crt-static \
    -o "$WORK/stepper" "$here/stepper.rs" 2>"$WORK/rustc.log" || { cat "$WORK/rustc.log" >&2; fail "building the stepper"; }
! readelf -l "$WORK/stepper" | grep INTERP >/dev/null || fail "the stepper is not static"

root=$WORK/root
mkdir -p "$root/bin" "$root/proc" "$root/tmp" "$root/dev" "$root/run" "$root/var"
ln -sfn ../run "$root/var/run"
cp "$(command -v busybox)" "$root/bin/busybox"
! readelf -l "$root/bin/busybox" | grep INTERP >/dev/null || fail "busybox is not static: install busybox-static"
for a in sh mount date sleep sed grep cat kill poweroff; do ln -sf busybox "$root/bin/$a"; done
cp "$STATIC" "$root/knock-rotator"
cp "$WORK/stepper" "$root/stepper"
mknod -m 600 "$root/dev/console" c 5 1
cp "$here/guest.sh" "$root/init"
chmod 755 "$root/init" "$root/knock-rotator" "$root/stepper"
(cd "$root" && find . | sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$WORK/initrd.gz"

# -no-reboot: the guest's poweroff, or a panic (panic=-1), ends qemu.
timeout 300 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot -nic none -monitor none \
    -kernel "$kernel" -initrd "$WORK/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 rdinit=/init knock_rotator_clock_test PATH=/bin RACE_TRIES=${RACE_TRIES:-120}" \
    </dev/null 2>&1 | tr -d '\r' >"$WORK/console.log" || true
sed -n '/^=== guest result$/,/^=== guest end$/p' "$WORK/console.log" | sed '1d;$d' >"$WORK/result"
[ -s "$WORK/result" ] || fail "the guest printed no result: $(tail -20 "$WORK/console.log")"
cat "$WORK/result"
grep -q '^end$' "$WORK/result" || fail "the guest did not finish"
! grep -q '^FAIL' "$WORK/result" || fail "$(grep '^FAIL' "$WORK/result")"
[ "$(grep -c '^ok ' "$WORK/result")" = 6 ] || fail "not every step ran"
# Every rotation before the race, in order, was for the clock's period:
# start, the boundary, forward, back, forward again; no other (no stale
# timer's).
periods=$(sed -n '/^log:$/,/^end of log$/s/.*for the period starting \(.* UTC\).*/\1/p' "$WORK/result" | tr '\n' '|')
want="2027-01-15 08:00:00 UTC|2027-01-15 09:00:00 UTC|2027-01-15 14:00:00 UTC|2027-01-15 09:00:00 UTC|2027-01-15 14:00:00 UTC|"
[ "$periods" = "$want" ] || fail "rotations were for: $periods (want $want)"
echo "# watch mode followed every clock step within a second (guest kernel: $(cat "$KERNEL_CACHE/name"))"
