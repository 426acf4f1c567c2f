# Sourced by openwrt.sh and openwrt_apk.sh: check_arch NAME ARCH EXE fails
# unless EXE is of the CPU and byte order that OpenWrt's ARCH name means.
check_arch() {
    local name=$1 arch=$2 exe=$3 want got
    case $arch in
        x86_64) want="X86-64 little" ;;
        aarch64_*) want="AArch64 little" ;;
        arm_*) want="ARM little" ;;
        mipsel_*) want="MIPS little" ;;
        mips_*) want="MIPS big" ;;
        *) fail "$name: unknown architecture $arch" ;;
    esac
    got=$(readelf -h "$exe" | awk -F: '/Machine/ { m = $2 } /Data/ { d = $2 } END { print m "|" d }')
    case $got in *"${want% *}"*"${want#* } endian"*) ;; *) fail "$name: executable is $got, not $want" ;; esac
}
