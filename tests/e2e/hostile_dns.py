"""A hostile DNS server for the tests: on ADDRESS:53 (UDP and TCP), it
answers each name by its first label, in a way a stub resolver must not
believe:
  good    127.0.0.1, correctly         cname   an alias, then its address
  other   an answer for evil.test       owner   the address owned by evil.test
  short   a 2-byte datagram, 3 bytes    wrongid a reply with another id
  loop    a name that points at itself  huge    3 KB in one datagram, no TC
  big     truncated (TC) over UDP; over TCP 100 addresses (1.6 KB), correctly
  bigclose  TC over UDP; over TCP, the connection closed without an answer
  bigslow   TC over UDP; over TCP, accepted and never answered
  bigother  TC over UDP; over TCP, an answer for evil.test
Usage: hostile_dns.py ADDRESS LOGFILE
"""
import socket
import struct
import sys
import threading
import time

A, AAAA, CNAME = 1, 28, 5


def encode(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


def rr(owner, rtype, data):
    return owner + struct.pack(">HHIH", rtype, 1, 60, len(data)) + data


def reply(q, tcp=False):
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
    if kind == "huge":
        return [head(200) + question + rr(b"\xc0\x0c", A, addr) * 200]
    if kind.startswith("big") and not tcp:
        return [qid + b"\x83\x80" + struct.pack(">HHHH", 1, 0, 0, 0) + question]
    if kind == "big":
        return [head(100) + question + rr(b"\xc0\x0c", A, addr) * 100]
    if kind == "bigclose":
        return []
    if kind == "bigslow":
        time.sleep(30)
        return []
    if kind == "bigother":
        return [head(1) + encode("evil.test") + q[end : end + 4] + rr(b"\xc0\x0c", A, addr)]
    return [head(0)[:3] + b"\x83" + head(0)[4:] + question]  # NXDOMAIN


def serve_tcp(conn, log):
    with conn:
        n = struct.unpack(">H", conn.recv(2, socket.MSG_WAITALL))[0]
        q = conn.recv(n, socket.MSG_WAITALL)
        for r in reply(q, tcp=True):
            conn.sendall(struct.pack(">H", len(r)) + r)
        log.write("tcp query %r\n" % q[12:])


def tcp(log):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((sys.argv[1], 53))
    t.listen(16)
    while True:
        conn, _ = t.accept()
        threading.Thread(target=serve_tcp, args=(conn, log), daemon=True).start()


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 53))
    log = open(sys.argv[2], "a", buffering=1)
    threading.Thread(target=tcp, args=(log,), daemon=True).start()
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
