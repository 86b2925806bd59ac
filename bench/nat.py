#!/usr/bin/env python3
"""Reach across NATs (issue 11): not a test, it prints figures.

In tests/netlab namespaces (needs root): a public kith node (alice) is a contact of two people, each
behind their own NAT router without UPnP. For each try, carol adds dave from his invite (no address
either can dial), dave accepts as soon as the request shows, and the bench records:

  online    seconds from carol's `contacts add` to dave online at carol (through alice's relay)
  direct    seconds from the add to a hole-punched channel (cone NATs; never on symmetric ones)
  path      the channel's path when the try ends: hole-punched or relayed

and, once per scenario, the throughput of 64 messages of 8 KiB over the channel it ended with.
Targets (issue 11): cone/cone hole-punched in >= 19 of 20 tries within 5 s; symmetric relayed within
10 s. Throughput of a 256 MiB `kith send` over a relay is not measured: file data does not go through
relays yet (docs/architecture.md § Not yet).

Usage: sudo python3 bench/nat.py [--tries 20] [--scenarios cone,symmetric] [--json]
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netlab"))
import procutil  # noqa: E402
from lab import Lab, unavailable_reason  # noqa: E402
from nsnode import NsNode  # noqa: E402


def log(msg):
    sys.stderr.write("[nat-bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def befriend(asker, answerer):
    asker.run("contacts", "add", answerer.json("id")["invite"])
    procutil.wait_for(lambda: answerer.json("contacts", "requests"), 30, what="request")
    answerer.run("contacts", "accept", asker.name)
    answerer.wait_online(asker.name)
    asker.wait_online(answerer.name)


def one_try(lab, a, n, timeout):
    """Fresh carol and dave (new keys), both contacts of alice; returns the try's figures."""
    c = NsNode(lab, "c", "carol%d" % n, {"lan.discovery": "false"})
    d = NsNode(lab, "d", "dave%d" % n, {"lan.discovery": "false"})
    try:
        c.start_daemon()
        d.start_daemon()
        befriend(c, a)
        befriend(d, a)
        invite = d.json("id")["invite"]
        start = time.monotonic()
        c.run("contacts", "add", invite)
        online = direct = None
        accepted = False
        while time.monotonic() - start < timeout:
            if not accepted and d.json("contacts", "requests"):
                d.run("contacts", "accept", c.name)
                accepted = True
            seen = c.contact(d.name)
            if seen and seen.get("online"):
                online = online or time.monotonic() - start
                if seen.get("path") in ("direct", "hole-punched"):
                    direct = time.monotonic() - start
                    break
                if online and time.monotonic() - start > online + 8:
                    break  # no punch within 8 s of the relayed channel: it stays relayed
            time.sleep(0.1)
        seen = c.contact(d.name) or {}
        path = seen.get("path") if seen.get("online") else None
        rate = None
        if path:
            text = "x" * 8000
            t0 = time.monotonic()
            for i in range(64):
                c.run("msg", d.name, "%03d %s" % (i, text))
            procutil.wait_for(lambda: len([m for m in d.inbox(c.name) if not m["outgoing"]]) >= 64, 60,
                              what="64 messages")
            rate = 64 * 8000 / (time.monotonic() - t0)
        return {"online": online, "direct": direct, "path": path, "msg_bytes_per_s": rate}
    finally:
        c.close()
        d.close()


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tries", type=int, default=20)
    ap.add_argument("--scenarios", default="cone,symmetric")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    reason = unavailable_reason()
    if reason:
        sys.exit("nat bench: " + reason)
    report = {}
    for nat in args.scenarios.split(","):
        tries = []
        with Lab(homes=2, nat=nat) as lab:
            a = NsNode(lab, "a", "alice", {"lan.discovery": "false"})
            a.start_daemon()
            try:
                for n in range(args.tries):
                    r = one_try(lab, a, n, args.timeout)
                    log("%s try %d: %s" % (nat, n + 1, r))
                    tries.append(r)
            finally:
                a.close()
        online = [t["online"] for t in tries if t["online"] is not None]
        direct = [t["direct"] for t in tries if t["direct"] is not None]
        report[nat] = {
            "tries": len(tries),
            "online": len(online),
            "online_p50_s": statistics.median(online) if online else None,
            "online_max_s": max(online) if online else None,
            "hole_punched": sum(1 for t in tries if t["path"] == "hole-punched"),
            "hole_punched_within_5s": sum(1 for d in direct if d <= 5),
            "direct_p50_s": statistics.median(direct) if direct else None,
            "relayed": sum(1 for t in tries if t["path"] == "relayed"),
            "messages_bytes_per_s_p50": statistics.median([t["msg_bytes_per_s"] for t in tries
                                                           if t["msg_bytes_per_s"]] or [0]),
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for nat, r in report.items():
        print("%-10s online %d/%d (p50 %.2f s, max %.2f s); hole-punched %d (%d within 5 s, p50 %s); "
              "relayed %d; 8 KiB messages %.0f KB/s"
              % (nat + "/" + nat, r["online"], r["tries"], r["online_p50_s"] or 0, r["online_max_s"] or 0,
                 r["hole_punched"], r["hole_punched_within_5s"],
                 "%.2f s" % r["direct_p50_s"] if r["direct_p50_s"] else "-", r["relayed"],
                 r["messages_bytes_per_s_p50"] / 1000))


if __name__ == "__main__":
    main()
