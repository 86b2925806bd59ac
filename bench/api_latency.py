#!/usr/bin/env python3
"""How long the daemon's API takes to answer while it hashes a large share (issue 10: the API used to
freeze for the whole hashing). Starts a daemon on a fresh home (loopback only, the integration tests'
safe settings), shares a file of --size-mib random bytes through POST /api/v1/shares, and times
GET /api/v1/transfers and GET /api/v1/status back to back until hashing ends. Prints the answer
times (median, p99, max) and how long hashing took. Asserts nothing: a figure, not a test.

    python3 bench/api_latency.py --size-mib 2048
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from kithtest import KithNode, MiB  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=2048)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    node = KithNode("api-latency")
    try:
        path = os.path.join(node.root, "big.bin")
        with open(path, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(MiB))
        node.start_daemon()
        for _ in range(20):  # warm-up: connections, caches
            node.api("GET", "/api/v1/transfers")
        started = time.monotonic()
        st, job = node.api("POST", "/api/v1/shares", {"path": path})
        share_answer = time.monotonic() - started
        if st != 202:
            raise SystemExit("POST /api/v1/shares answered %s: %r" % (st, job))
        times = []
        while True:
            for route in ("/api/v1/transfers", "/api/v1/status"):
                t0 = time.monotonic()
                st, _ = node.api("GET", route)
                times.append(time.monotonic() - t0)
            st, t = node.api("GET", "/api/v1/transfers/" + job["id"])
            if st != 200 or t.get("state") != "hashing":
                break
        hashing = time.monotonic() - started
        ms = [x * 1000 for x in times]
        report = {"size_mib": args.size_mib, "hashing_s": round(hashing, 2),
                  "share_answer_ms": round(share_answer * 1000, 1), "requests": len(ms),
                  "median_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1),
                  "max_ms": round(max(ms), 1)}
        if args.json:
            print(json.dumps(report))
        else:
            print("hashing %d MiB took %.1f s; POST /shares answered in %.1f ms" %
                  (args.size_mib, hashing, share_answer * 1000))
            print("%d API requests meanwhile: median %.1f ms, p99 %.1f ms, max %.1f ms" %
                  (len(ms), report["median_ms"], report["p99_ms"], report["max_ms"]))
    finally:
        node.close()


if __name__ == "__main__":
    main()
