#!/usr/bin/env python3
"""Reference implementation of the single-packet knock's token, written from
the specification in README.md ("The token") with the Python standard
library only. Reads JSON lines like tests/vectors/token.jsonl on stdin and
prints the token (hex) for each, one per line."""
import hashlib, hmac, json, struct, sys

DOMAIN = b"knock-rotator token v1"

def lp(x):
    return struct.pack(">I", len(x)) + x

def token(env, now, service, offset):
    secret = env["KNOCKD_ROTATOR_SECRET"].encode()
    period = int(env.get("KNOCKD_ROTATOR_PERIOD_MODULO", "21600"))
    start = (now // period + offset) * period
    name = service.encode()
    if not name.endswith(b"_ROTATOR"):
        name += b"_ROTATOR"
    m = lp(DOMAIN) + struct.pack(">Q", start) + lp(name)
    return hmac.new(secret, m, hashlib.sha256).digest()[:16].hex()

for line in sys.stdin:
    v = json.loads(line)
    print(token(v["env"], v["now"], v["service"], v["offset"]))
