"""A hostile DNS server for the tests: on ADDRESS:53 (UDP), it answers each
name by its first label, in a way a stub resolver must not believe:
  good    127.0.0.1, correctly         cname   an alias, then its address
  other   an answer for evil.test       owner   the address owned by evil.test
  short   a 2-byte datagram, 3 bytes    wrongid a reply with another id
  loop    a name that points at itself  big     a truncated, oversized reply
Usage: hostile_dns.py ADDRESS LOGFILE
"""
import socket
import struct
import sys

A, AAAA, CNAME = 1, 28, 5


def encode(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


def rr(owner, rtype, data):
    return owner + struct.pack(">HHIH", rtype, 1, 60, len(data)) + data


def reply(q):
    qid, end = q[:2], 12
    labels = []
    while q[end]:
        labels.append(q[end + 1 : end + 1 + q[end]].decode())
        end += 1 + q[end]
    end += 1
    qtype = struct.unpack(">H", q[end : end + 2])[0]
    question = q[12 : end + 4]
    kind = labels[0]
    head = lambda an, qid=qid: qid + b"\x81\x80" + struct.pack(">HHHH", 1, an, 0, 0)
    addr = bytes([127, 0, 0, 1])
    if qtype != A:
        return [head(0) + question]
    if kind == "good":
        return [head(1) + question + rr(b"\xc0\x0c", A, addr)]
    if kind == "cname":
        alias = encode("good.test")
        return [head(2) + question + rr(b"\xc0\x0c", CNAME, alias) + rr(alias, A, addr)]
    if kind == "other":
        return [head(1) + encode("evil.test") + q[end : end + 4] + rr(b"\xc0\x0c", A, addr)]
    if kind == "owner":
        return [head(1) + question + rr(encode("evil.test"), A, addr)]
    if kind == "short":
        return [qid, qid + b"\x81"]
    if kind == "wrongid":
        other = struct.pack(">H", (struct.unpack(">H", qid)[0] + 1) % 65536)
        return [head(1, other) + question + rr(b"\xc0\x0c", A, addr)]
    if kind == "loop":
        at = 12 + len(question)
        return [head(1) + question + rr(struct.pack(">H", 0xC000 | at), A, addr)]
    if kind == "big":
        return [head(200) + question + rr(b"\xc0\x0c", A, addr) * 200]
    return [head(0)[:3] + b"\x83" + head(0)[4:] + question]  # NXDOMAIN


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 53))
    log = open(sys.argv[2], "a", buffering=1)
    log.write("started\n")
    while True:
        q, peer = s.recvfrom(1500)
        try:
            for r in reply(q):
                s.sendto(r, peer)
            log.write("query %r\n" % q[12:])
        except Exception as e:  # a malformed query: ignore it
            log.write("error %s\n" % e)


main()
