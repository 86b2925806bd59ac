#!/usr/bin/env python3
"""File data through a relay (issue 11): not a test, it prints figures.

In tests/netlab namespaces (needs root): alice (public) is a contact of carol and dave, each behind
their own symmetric NAT router, so a `kith send` between them can only go through alice's relay (a
data circuit, docs/protocol/channel.md § Relays). Alice's link is limited with tbf (egress of her one
interface, which every relayed byte leaves by once). The bench sends one file carol -> dave and
records:

  total     seconds from `kith send` to "delivered" at carol (hashing, the 20 s without a peer before
            a relay is tried, the transfer, the scan, the release)
  rate      the transfer's own rate: bytes between 10 % and 90 % of the file over the time between
  ratio     rate / the relay link's rate (issue 11's target: >= 0.8)

Usage: sudo python3 bench/relay.py [--mib 256] [--rate-mbit 200] [--json]
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netlab"))
from lab import Lab, unavailable_reason  # noqa: E402
from nat import befriend  # noqa: E402  (bench/nat.py, beside this file)
from nsnode import NsNode  # noqa: E402


def run(mib, rate_mbit):
    with Lab(homes=2, nat="symmetric") as lab:
        # burst: at least rate/HZ; a generous one keeps tbf from starving TCP at high rates.
        lab.run("a", ["tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "%dmbit" % rate_mbit,
                      "burst", "256kb", "latency", "50ms"])
        nodes = [NsNode(lab, host, name, {"lan.discovery": "false"})
                 for host, name in (("a", "alice"), ("c", "carol"), ("d", "dave"))]
        try:
            for n in nodes:
                n.start_daemon()
            a, c, d = nodes
            befriend(c, a)
            befriend(d, a)
            befriend(c, d)
            path = os.path.join(c.home, "big.bin")
            with open(path, "wb") as f:
                for _ in range(mib):
                    f.write(os.urandom(1 << 20))
            size = mib << 20
            start = time.monotonic()
            tid = c.json("send", "dave", path)["offer"]["transfer_id"]
            marks = {}
            delivered = None
            while time.monotonic() - start < 1800:
                offer = {o["transfer_id"]: o for o in c.json("files")}[tid]
                done = offer.get("done") or 0
                now = time.monotonic()
                for frac in (0.1, 0.9):
                    if frac not in marks and done >= frac * size:
                        marks[frac] = (now, done)
                if offer["state"] == "delivered":
                    delivered = now - start
                    break
                time.sleep(0.5)
            rate = None
            if 0.1 in marks and 0.9 in marks and marks[0.9][0] > marks[0.1][0]:
                rate = (marks[0.9][1] - marks[0.1][1]) * 8 / (marks[0.9][0] - marks[0.1][0]) / 1e6
            relayed = a.json("status")["messaging"]["relay"]["bytes"]
            return {"mib": mib, "link_mbit": rate_mbit, "total_s": delivered, "rate_mbit": rate,
                    "ratio": rate / rate_mbit if rate else None, "relay_bytes": relayed}
        finally:
            for n in nodes:
                n.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--rate-mbit", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    reason = unavailable_reason()
    if reason:
        sys.exit("relay bench: " + reason)
    r = run(args.mib, args.rate_mbit)
    if args.json:
        print(json.dumps(r, indent=2))
        return
    print("%d MiB carol -> dave through alice's relay (link %d Mbit/s): delivered in %s; transfer %s Mbit/s "
          "(%s of the link)" % (r["mib"], r["link_mbit"], "%.1f s" % r["total_s"] if r["total_s"] else "never",
                                "%.1f" % r["rate_mbit"] if r["rate_mbit"] else "-",
                                "%.0f %%" % (100 * r["ratio"]) if r["ratio"] else "-"))


if __name__ == "__main__":
    main()
