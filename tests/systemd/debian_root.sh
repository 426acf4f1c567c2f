# Sourced: debian_root ROOT makes a Debian bookworm tree for containers at
# ROOT once (debootstrap from the mirror this machine's apt uses) and keeps
# it; the systemd and package tests share it, so a lock guards its making.
debian_root() {
    local root=$1 mirror
    mkdir -p "$(dirname "$root")"
    exec 9>"$root.lock"
    flock 9
    # The suffix names the package list: a new list makes a new tree.
    if [ ! -f "$root/.complete-3" ]; then
        mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
            grep -E '^(URIs:|deb )' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ' || true)
        [ -n "$mirror" ] || { echo "FAIL: no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
        rm -rf "$root"
        debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,knockd,iptables,nftables,procps,man-db \
            bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -5 "$root.log" >&2; echo "FAIL: debootstrap" >&2; exit 1; }
        touch "$root/.complete-3"
    fi
    flock -u 9
    exec 9>&-
}
