#!/usr/bin/env bash
# The keyed derivation (KNOCKD_ROTATOR_ALGORITHM=hmac-sha256) in bash with a
# SHA-256 tool (sha256sum, else openssl), for the default port list
# 2000-65535: a check that the specification in README.md is enough to
# implement it.
#   KNOCKD_ROTATOR_SECRET_FILE=PATH bash keyed-sequence.sh SERVICE PERIOD_START [LENGTH] [PROTO_MODULO]
# (or KNOCKD_ROTATOR_SECRET=...). The secret never reaches a command line or
# a child's environment: HMAC is computed here from plain SHA-256, with the
# key's bytes passed through pipes from bash builtins only.
set -euo pipefail
service=$1 start=$2 length=${3:-10} modulo=${4:-0}
[[ $service == *_ROTATOR ]] || service+=_ROTATOR
if [ -n "${KNOCKD_ROTATOR_SECRET_FILE:-}" ]; then
    secret=$(<"$KNOCKD_ROTATOR_SECRET_FILE")
else
    secret=${KNOCKD_ROTATOR_SECRET:-}
fi
unset KNOCKD_ROTATOR_SECRET
[ -n "$secret" ] || { echo "keyed-sequence.sh: set KNOCKD_ROTATOR_SECRET_FILE or KNOCKD_ROTATOR_SECRET" >&2; exit 2; }
hex() { od -An -v -tx1 | tr -d ' \n'; }
# Hex to bytes with builtins only (printf is bash's own; no exec, no argv).
bytes() { local e= i; for ((i = 0; i < ${#1}; i += 2)); do e+="\\x${1:i:2}"; done; printf '%b' "$e"; }
sha256() { if command -v sha256sum >/dev/null; then sha256sum; else openssl dgst -sha256 -r; fi | cut -c1-64; }
key=$(printf %s "$secret" | hex)
unset secret
((${#key} <= 128)) || key=$(bytes "$key" | sha256)
while ((${#key} < 128)); do key+=00; done
ipad= opad=
for ((i = 0; i < 128; i += 2)); do
    printf -v x %02x $((16#${key:i:2} ^ 0x36)); ipad+=$x
    printf -v x %02x $((16#${key:i:2} ^ 0x5c)); opad+=$x
done
unset key
hmac() { local inner; inner=$({ bytes "$ipad"; bytes "$1"; } | sha256); { bytes "$opad"; bytes "$inner"; } | sha256; }
tag="knock-rotator hmac-sha256 v1"
m=$(printf %08x ${#tag})$(printf %s "$tag" | hex)$(printf %016x "$start")
m+=$(printf %08x "$(printf %s "$service" | wc -c)")$(printf %s "$service" | hex)
n=63536 limit=$((4294967296 - 4294967296 % 63536))
out=() seen=" " j=0
while [ ${#out[@]} -lt "$length" ]; do
    block=$(hmac "$(printf '%s%08x' "$m" $j)")
    for ((i = 0; i < 64 && ${#out[@]} < length; i += 8)); do
        r=$((16#${block:i:8}))
        ((r < limit)) || continue
        p=$((2000 + r % n))
        [[ $seen == *" $p "* ]] && continue
        seen+="$p "
        if ((modulo == 0 || p % modulo == 0)); then out+=("$p:tcp"); else out+=("$p:udp"); fi
    done
    j=$((j + 1))
done
echo "${out[*]}"
