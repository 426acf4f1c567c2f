#!/usr/bin/env python3
"""Reference for the hash chains of `ahead` doors, written from the
kernel's jhash() (include/linux/jhash.h, Bob Jenkins' lookup3) and nft's
jhash expression, with the Python standard library only (an independent
check of src/server/nftables/chain_hash.rs).

    chain_reference.py WINDOW_KEY 'PORT:PROTO PORT:PROTO ...'

prints the final values of chains a and b, in hex (as nft prints a meta
priority: MAJOR:MINOR), on this machine's byte order."""
import struct, sys

M = 0xFFFFFFFF
SEED_A, SEED_B = 0x6B726361, 0x6B726362


def rol(x, k):
    return ((x << k) | (x >> (32 - k))) & M


def jhash(data, initval):
    n = len(data)
    a = b = c = (0xDEADBEEF + n + initval) & M
    if n == 0:
        return c
    k = data + bytes(12 - n)
    a = (a + int.from_bytes(k[0:4], "little")) & M
    b = (b + int.from_bytes(k[4:8], "little")) & M
    c = (c + int.from_bytes(k[8:12], "little")) & M
    c ^= b; c = (c - rol(b, 14)) & M
    a ^= c; a = (a - rol(c, 11)) & M
    b ^= a; b = (b - rol(a, 25)) & M
    c ^= b; c = (c - rol(b, 16)) & M
    a ^= c; a = (a - rol(c, 4)) & M
    b ^= a; b = (b - rol(a, 14)) & M
    c ^= b; c = (c - rol(b, 24)) & M
    return c


def step(state, proto, port, seed):
    # Registers of 4 bytes: the state in host order, the protocol number,
    # the port in network order; then nft's reciprocal scale by 2^32 - 1.
    order = "<I" if sys.byteorder == "little" else ">I"
    d = struct.pack(order, state) + bytes([proto, 0, 0, 0]) + struct.pack(">H", port) + b"\0\0"
    return (jhash(d, seed) * M) >> 32


wk = int(sys.argv[1], 0)
knocks = [(int(p), 6 if t == "tcp" else 17) for p, t in (k.split(":") for k in sys.argv[2].split())]
port, proto = knocks[0]
b = step(wk, proto, port, SEED_B)
a = step(b, proto, port, SEED_A)
for port, proto in knocks[1:]:
    b = step(b, proto, port, SEED_B)
    a = step(a, proto, port, SEED_A)
print(f"{a:08x} {b:08x}")
