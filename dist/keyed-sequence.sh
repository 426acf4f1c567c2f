#!/usr/bin/env bash
# The keyed derivation (KNOCKD_ROTATOR_ALGORITHM=hmac-sha256) with openssl and
# bash alone, for the default port list 2000-65535: a check that the
# specification in README.md is enough to implement it.
#   KNOCKD_ROTATOR_SECRET=... bash keyed-sequence.sh SERVICE PERIOD_START [LENGTH] [PROTO_MODULO]
set -euo pipefail
service=$1 start=$2 length=${3:-10} modulo=${4:-0}
[[ $service == *_ROTATOR ]] || service+=_ROTATOR
hex() { od -An -v -tx1 | tr -d ' \n'; }
tag="knock-rotator hmac-sha256 v1"
key=$(printf %s "$KNOCKD_ROTATOR_SECRET" | hex)
m=$(printf %08x ${#tag})$(printf %s "$tag" | hex)$(printf %016x "$start")
m+=$(printf %08x "$(printf %s "$service" | wc -c)")$(printf %s "$service" | hex)
n=63536 limit=$(( 4294967296 - 4294967296 % 63536 ))
out=() seen=" " j=0
while [ ${#out[@]} -lt "$length" ]; do
    block=$(printf '%s%08x' "$m" $j | sed 's/../\\x&/g' | xargs -0 printf '%b' |
        openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -r | cut -c1-64)
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
