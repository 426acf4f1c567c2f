#!/usr/bin/env python3
"""Reference implementation of the keyed derivation (KNOCKD_ROTATOR_ALGORITHM=
hmac-sha256), written from the specification in README.md with the Python
standard library only. Reads JSON lines like tests/vectors/keyed.jsonl on
stdin and prints the sequence for each, one per line."""
import hashlib, hmac, json, struct, sys

DOMAIN = b"knock-rotator hmac-sha256 v1"

def lp(x):
    return struct.pack(">I", len(x)) + x

def port_list(spec):
    if spec is None:
        return list(range(2000, 65536))
    ports = set()
    for item in spec.split(","):
        a, _, b = item.strip().partition("-")
        ports.update(range(int(a), int(b or a) + 1))
    return sorted(ports)

def sequence(env, now, service, offset):
    secret = env["KNOCKD_ROTATOR_SECRET"].encode()
    length = int(env.get("KNOCKD_ROTATOR_LENGTH", "10"))
    period = int(env.get("KNOCKD_ROTATOR_PERIOD_MODULO", "21600"))
    modulo = int(env.get("KNOCKD_ROTATOR_PROTO_MODULO", "0"))
    ports = port_list(env.get("KNOCKD_ROTATOR_PORTS"))
    start = (now // period + offset) * period
    name = service.encode()
    if not name.endswith(b"_ROTATOR"):
        name += b"_ROTATOR"
    m = lp(DOMAIN) + struct.pack(">Q", start) + lp(name)
    n = len(ports)
    limit = 2**32 - (2**32 % n)
    chosen, j = [], 0
    while len(chosen) < length:
        block = hmac.new(secret, m + struct.pack(">I", j), hashlib.sha256).digest()
        for (r,) in struct.iter_unpack(">I", block):
            if r < limit and ports[r % n] not in chosen and len(chosen) < length:
                chosen.append(ports[r % n])
        j += 1
    proto = lambda p: "tcp" if modulo == 0 or p % modulo == 0 else "udp"
    return " ".join(f"{p}:{proto(p)}" for p in chosen)

for line in sys.stdin:
    v = json.loads(line)
    print(sequence(v["env"], v["now"], v["service"], v["offset"]))
