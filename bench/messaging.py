#!/usr/bin/env python3
"""Messaging benchmark (issue 3): not a test, it prints figures.

  latency      one message at a time from A to B on loopback: POST at A -> message.received on B's
               event stream (same host clock); p50 / p99 over --messages
  throughput   --burst messages posted at A as fast as the API takes them, until B has them all
  lan-online   two daemons in network namespaces on one bridge (tests/netlab), contacts already;
               both restart on new channel ports (their stored addresses go stale), and the time from
               B's start to A online at B is measured: only LAN beacons can tell B where A is now
  dht-online   the same through DHT presence records only: a private DHT of --dht-nodes kith daemons
               on 127.0.0.1 (LAN discovery off)

Reference points (issue 3): Tox takes about 9 s from start to a friend being online on loopback; a
private BEP 44 put/get round trip ~5 ms (bench/dht.py measures ours). Targets: contact online within
2 s on a LAN, message p99 under 20 ms on loopback.

Network: loopback, and namespaces the lab creates (lan-online; needs root, skipped otherwise).
Usage: python3 bench/messaging.py [--messages 200] [--burst 1000] [--dht-nodes 20] [--skip-dht]
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netlab"))
import kithtest  # noqa: E402
import procutil  # noqa: E402
from contacts_util import befriend, kith_id, wait_online  # noqa: E402


def log(msg):
    sys.stderr.write("[messaging-bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100.0 * (len(v) - 1))))]


class Arrivals:
    """Follows B's event stream; notes when each message text was received."""

    def __init__(self, node):
        host, port = node.api_addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=600)
        self.conn.request("GET", "/api/v1/events", headers={"Authorization": "Bearer " + node.token})
        self.resp = self.conn.getresponse()
        self.seen = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event = None
        for raw in self.resp:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "message.received":
                t = time.perf_counter()
                with self.cond:
                    self.seen[json.loads(line[6:])["text"]] = t
                    self.cond.notify_all()

    def wait(self, text, timeout=30):
        with self.cond:
            self.cond.wait_for(lambda: text in self.seen, timeout)
            return self.seen.get(text)

    def wait_count(self, prefix, n, timeout=300):
        with self.cond:
            self.cond.wait_for(lambda: sum(1 for k in self.seen if k.startswith(prefix)) >= n, timeout)
            return max(t for k, t in self.seen.items() if k.startswith(prefix))


def poster(node):
    host, port = node.api_addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def post(to, text):
        conn.request("POST", "/api/v1/messages", body=json.dumps({"to": to, "text": text}),
                     headers={"Authorization": "Bearer " + node.token, "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 201, r.status
    return post


def loopback(args):
    a = kithtest.KithNode("bench-a", {"profile.name": "alice"})
    b = kithtest.KithNode("bench-b", {"profile.name": "bob"})
    try:
        a.start_daemon()
        b.start_daemon()
        befriend(b, a)
        arrivals = Arrivals(b)
        post = poster(a)
        for i in range(20):  # warm-up
            post("bob", "w%d" % i)
            arrivals.wait("w%d" % i)
        lat = []
        for i in range(args.messages):
            text = "l%d" % i
            t0 = time.perf_counter()
            post("bob", text)
            t1 = arrivals.wait(text)
            lat.append((t1 - t0) * 1000)
        t0 = time.perf_counter()
        for i in range(args.burst):
            post("bob", "b%d" % i)
        t_end = arrivals.wait_count("b", args.burst)
        rate = args.burst / (t_end - t0)
        print("latency (POST at A -> received at B), %d messages: p50 %.2f ms, p99 %.2f ms, max %.2f ms"
              % (len(lat), pct(lat, 50), pct(lat, 99), max(lat)))
        print("throughput: %d messages in %.2f s = %.0f messages/s (one API client posting in sequence)"
              % (args.burst, t_end - t0, rate))
    finally:
        a.close()
        b.close()


def time_online(start, node, who, timeout=120):
    t0 = time.perf_counter()
    start()
    procutil.wait_for(lambda: (lambda c: c and c["online"])(node.contact(who)), timeout, interval=0.02,
                      what="%s online" % who)
    return time.perf_counter() - t0


def lan_online(args):
    from lab import Lab, unavailable_reason
    from test_kith_contacts import NsNode
    reason = unavailable_reason()
    if reason:
        print("lan-online: skipped (%s)" % reason)
        return
    times = []
    with Lab(homes=0) as lab:
        lab.wait_ipv6_ready("a", "b")
        a = NsNode(lab, "a", "alice", {"lan.discovery": "true"})
        b = NsNode(lab, "b", "bob", {"lan.discovery": "true"})
        a.name, b.name = "alice", "bob"
        try:
            a.start_daemon()
            b.start_daemon()
            b.run("contacts", "add", a.json("id")["invite"])
            procutil.wait_for(lambda: a.json("contacts", "requests"), 30, what="request")
            a.run("contacts", "accept", "bob")
            b.wait_online("alice")
            for run in range(args.runs):
                for n, port in ((a, 7000 + run), (b, 7100 + run)):
                    n.stop()
                    n.settings["channel.listen"] = "[::]:%d" % port  # stored hints go stale
                a.start_daemon()
                times.append(time_online(b.start_daemon, b, "alice"))
        finally:
            a.close()
            b.close()
    print("contact online on a LAN by multicast (B's start -> A online at B, incl. daemon start), %d runs: "
          "median %.2f s, max %.2f s" % (len(times), statistics.median(times), max(times)))


def dht_online(args):
    ports = [kithtest.free_port() for _ in range(args.dht_nodes)]
    nodes = []
    try:
        for i, port in enumerate(ports):
            others = ",".join("127.0.0.1:%d" % p for p in ports if p != port)
            n = kithtest.KithNode("dht%d" % i, {
                "profile.name": "n%d" % i, "bt.listen": "127.0.0.1:%d" % port, "dht.enabled": "true",
                "dht.private_network": "true", "dht.bootstrap": others,
                "channel.listen": "127.0.0.1:%d" % kithtest.free_port()})
            n.start_daemon()
            nodes.append(n)
        a, b = nodes[0], nodes[1]
        befriend(b, a)
        a_id = kith_id(a)["id"]
        log("DHT of %d kith daemons up; waiting for it to form" % len(nodes))
        time.sleep(20)
        times = []
        for run in range(args.runs):
            for n in (a, b):
                n.stop()
                n.settings["channel.listen"] = "127.0.0.1:%d" % kithtest.free_port()
            a.start_daemon()
            procutil.wait_for(lambda: a.api("GET", "/api/v1/status")[1]["rendezvous"]["puts_ok"] > 0, 120,
                              interval=0.2, what="A's record stored")
            t0 = time.perf_counter()
            b.start_daemon()
            wait_online(b, a_id, 300)
            times.append(time.perf_counter() - t0)
    finally:
        for n in nodes:
            n.close()
    print("contact online through a private DHT of %d kith nodes (B's start -> A online, A's record "
          "already stored), %d runs: median %.2f s, max %.2f s"
          % (args.dht_nodes, len(times), statistics.median(times), max(times)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=200)
    p.add_argument("--burst", type=int, default=1000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dht-nodes", type=int, default=20)
    p.add_argument("--skip-dht", action="store_true")
    p.add_argument("--skip-lan", action="store_true")
    args = p.parse_args()
    if kithtest.kith_problem():
        sys.exit(kithtest.kith_problem())
    loopback(args)
    if not args.skip_lan:
        lan_online(args)
    if not args.skip_dht:
        dht_online(args)


if __name__ == "__main__":
    main()
