#!/usr/bin/env python3
"""Packets for tests/e2e/nft_*.sh, from any source address on lo, so that
each simulated client is its own source (the kernel tracks knocks per
source). Only to addresses of the test's own namespaces: loopback (127/8,
::1), or the documentation ranges 192.0.2.0/24 and 2001:db8::/32 that
nft_hosts.sh puts on a veth pair between two namespaces it made.

  serve [--any] PORT...      echo servers: TCP on 127.0.0.1 and ::1 (with
                             --any, on every address) for each PORT/tcp,
                             UDP for each PORT/udp
  knock SRC DST SEQ [--twice] [--gap S]
                             SEQ is 'port:proto port:proto ...'
  connect SRC DST PORT       exit 0 if a TCP connection is accepted
  udp SRC DST PORT           exit 0 if a datagram is echoed
  hold SRC DST PORT FIFO     connect, then echo a line each time FIFO gets one
  storm DST PORT SEQ_A SEQ_B BOUNDARY FROM_MS TO_MS STEP_MS GAP
                             one client per start time from FROM_MS to TO_MS
                             around BOUNDARY (UNIX s), each from its own
                             127.0.1.N, sending SEQ_A if it starts before the
                             boundary, else SEQ_B; then each must connect
  token SRC DST PORT HEX      one UDP datagram whose payload is HEX's bytes
  flood DST PORT FIRST COUNT [KEEP]
                             one UDP datagram to PORT from each of COUNT
                             spoofed sources from 127.FIRST.0.0 up (raw
                             socket, IPv4 over lo), again and again until
                             killed, each pass after one from each of
                             KEEP (comma-separated sources that stay
                             known); prints the first pass's time
  burst SRC DST PORT COUNT [SEQ [FROM]]
                             COUNT datagrams of one byte from SRC, at once,
                             then at once the knocks of SEQ (from FROM, or
                             SRC)
  soak KR DIR SECONDS WATCH_PID OUT
                             for SECONDS, knock the doors d001..d100 in turn
                             (DIR/dNNN.secret, a 5 s period) with
                             `KR generate`, each from its own 127.0.2.N,
                             boundaries included, and check that the knock
                             opened port 22 for that source; sample the
                             watch process's RSS and open files; a summary
                             line in OUT
"""
import ipaddress
import socket
import struct
import sys
import threading
import time


def family(addr):
    ip = ipaddress.ip_address(addr)
    ours = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "2001:db8::/32")]
    assert ip.is_loopback or any(ip in n for n in ours), f"{addr} is not a test address"
    return socket.AF_INET6 if ip.version == 6 else socket.AF_INET


def send(src, dst, port, proto):
    if proto == "udp":
        s = socket.socket(family(dst), socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.sendto(b"knock", (dst, port))
        s.close()
        return
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    s.bind((src, 0))
    s.setblocking(False)
    try:
        s.connect((dst, port))
    except (BlockingIOError, OSError):
        pass
    # Leave the SYN on its way; never wait on a filtered port.
    time.sleep(0.002)
    s.close()


def token(src, dst, port, payload):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.sendto(bytes.fromhex(payload), (dst, port))
    s.close()


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def flood(dst, port, first, count, keep=None):
    """Many sources, one datagram each per pass: IPv4 headers built by
    hand, since the sources are not addresses of lo (only 127/8 and lo are
    used)."""
    family(dst)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    d = socket.inet_aton(dst)

    def packet(src, n):
        assert ipaddress.ip_address(src).is_loopback
        udp_header = struct.pack("!HHHH", 40000, port, 8 + 1, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 9, n & 0xFFFF, 0, 64, 17, 0, src, d)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        return ip + udp_header + b"x"

    packets = [packet(bytes([127, first + (n >> 16), (n >> 8) & 0xFF, n & 0xFF]), n)
               for n in range(count)]
    passes = 0
    while True:
        started = time.time()
        for k in keep.split(",") if keep else []:
            s.sendto(packet(socket.inet_aton(k), 0), (dst, 0))
        for p in packets:
            s.sendto(p, (dst, 0))
        passes += 1
        if passes == 1:
            print(f"{count} sources in {time.time() - started:.2f} s", flush=True)


def knock(src, dst, seq, twice=False, gap=0.01):
    for item in seq.split():
        port, proto = item.split(":")
        for _ in range(2 if twice else 1):
            send(src, dst, int(port), proto)
        time.sleep(gap)


def connect(src, dst, port, timeout=0.4):
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    try:
        s.connect((dst, port))
        s.sendall(b"ping\n")
        return s.recv(16) == b"ping\n"
    except OSError:
        return False
    finally:
        s.close()


def udp(src, dst, port, timeout=0.4):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    try:
        s.sendto(b"ping", (dst, port))
        return s.recvfrom(16)[0] == b"ping"
    except OSError:
        return False
    finally:
        s.close()


def serve(ports, any_address=False):
    def tcp(fam, addr, port):
        srv = socket.socket(fam, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        srv.bind((addr, port))
        srv.listen(128)
        while True:
            c, _ = srv.accept()
            threading.Thread(target=echo, args=(c,), daemon=True).start()

    def echo(c):
        try:
            while True:
                data = c.recv(4096)
                if not data:
                    break
                c.sendall(data)
        except OSError:
            pass
        c.close()

    def udp_echo(fam, addr, port):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((addr, port))
        while True:
            data, peer = s.recvfrom(4096)
            s.sendto(data, peer)

    addrs = (("0.0.0.0", "::") if any_address else ("127.0.0.1", "::1"))
    for p in ports:
        port, proto = p.split("/")
        for fam, addr in ((socket.AF_INET, addrs[0]), (socket.AF_INET6, addrs[1])):
            target = tcp if proto == "tcp" else udp_echo
            threading.Thread(target=target, args=(fam, addr, int(port)), daemon=True).start()
    print("serving", flush=True)
    while True:
        time.sleep(3600)


def hold(src, dst, port, fifo):
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(2)
    s.connect((dst, port))
    print("connected", flush=True)
    while True:
        with open(fifo) as f:
            for line in f:
                if line.strip() == "quit":
                    return
                s.sendall(b"echo\n")
                ok = s.recv(16) == b"echo\n"
                print("alive" if ok else "dead", flush=True)


def storm(dst, port, seq_a, seq_b, boundary, frm, to, step, gap):
    starts = [boundary + ms / 1000 for ms in range(frm, to + 1, step)]
    threads, sources = [], []
    for i, at in enumerate(starts):
        src = f"127.0.1.{i + 1}"
        sources.append((src, at))
        while time.time() < at:
            time.sleep(min(0.001, max(0, at - time.time())))
        seq = seq_a if at < boundary else seq_b
        t = threading.Thread(target=knock, args=(src, dst, seq, False, gap))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    time.sleep(0.1)
    bad = [f"{src} (started {1000 * (at - boundary):+.0f} ms)" for src, at in sources
           if not connect(src, dst, port)]
    print(f"{len(sources)} knocks started every {step} ms from {frm} to {to} ms around the "
          f"boundary; {len(sources) - len(bad)} opened")
    if bad:
        print("not opened: " + ", ".join(bad))
        sys.exit(1)


def proc_sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    import os
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def soak(kr, dirname, seconds, watch_pid, out):
    import os
    import subprocess
    end = time.time() + seconds
    knocks, failed, samples, next_sample, i = 0, [], [], 0, 0
    while time.time() < end:
        if time.time() >= next_sample:
            samples.append(proc_sample(watch_pid))
            next_sample = time.time() + 10
        door = f"d{i % 100 + 1:03d}"
        src = f"127.0.2.{i % 250 + 1}"
        i += 1
        env = dict(os.environ, KNOCKD_ROTATOR_SECRET_FILE=f"{dirname}/{door}.secret",
                   KNOCKD_ROTATOR_PERIOD_MODULO="5")
        env.pop("KNOCKD_ROTATOR_SECRET", None)
        started = time.time()
        seq = subprocess.run([kr, "generate", door], env=env, capture_output=True, text=True,
                             check=True).stdout.strip()
        knock(src, "127.0.0.1", seq, False, 0.005)
        ok = connect(src, "127.0.0.1", 22, timeout=0.3)
        knocks += 1
        if not ok:
            failed.append(f"{door} from {src} at {started % 5:.3f} s into its period")
    samples.append(proc_sample(watch_pid))
    with open(out, "w") as f:
        f.write(f"{knocks} {len(failed)}\n")
        f.write(" ".join(f"{r}/{n}" for r, n in samples) + "\n")
        for line in failed[:20]:
            f.write(line + "\n")


def main(a):
    cmd = a[0]
    if cmd == "serve":
        serve([p for p in a[1:] if p != "--any"], "--any" in a)
    elif cmd == "knock":
        gap = float(a[a.index("--gap") + 1]) if "--gap" in a else 0.01
        knock(a[1], a[2], a[3], "--twice" in a, gap)
    elif cmd == "connect":
        sys.exit(0 if connect(a[1], a[2], int(a[3])) else 1)
    elif cmd == "udp":
        sys.exit(0 if udp(a[1], a[2], int(a[3])) else 1)
    elif cmd == "token":
        token(a[1], a[2], int(a[3]), a[4])
    elif cmd == "burst":
        for _ in range(int(a[4])):
            token(a[1], a[2], int(a[3]), "00")
        if len(a) > 5:
            knock(a[6] if len(a) > 6 else a[1], a[2], a[5])
    elif cmd == "flood":
        flood(a[1], int(a[2]), int(a[3]), int(a[4]), a[5] if len(a) > 5 else None)
    elif cmd == "hold":
        hold(a[1], a[2], int(a[3]), a[4])
    elif cmd == "storm":
        storm(a[1], int(a[2]), a[3], a[4], float(a[5]), int(a[6]), int(a[7]), int(a[8]),
              float(a[9]))
    elif cmd == "soak":
        soak(a[1], a[2], float(a[3]), int(a[4]), a[5])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv[1:])
