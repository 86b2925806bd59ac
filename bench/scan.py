#!/usr/bin/env python3
"""Scan cost benchmark: what the ClamAV scan adds to a download, against clamscan on the same files
with the same database, in one run. Not a test: it prints figures and ratios (bench/README.md).

Scenarios, each over loopback from a kith seeder daemon to a kith daemon, timed from the
downloader's event stream (transfer.added -> transfer.scanning -> transfer.scanned ->
transfer.completed):
  big     one file of --size-mib (default 1024) random bytes
  small   a folder of --files (default 1000) files of 8 KiB
and clamscan (same database, same limits and options as kith's scanner) on the downloaded data.

The database is the tests' (tests/clamav/make_test_db.sh: 3 signatures). With the official
databases (~8 M signatures) scans are slower for both kith and clamscan; run with
--signatures /var/lib/clamav on a machine that has them to see that.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import kithtest  # noqa: E402
import procutil  # noqa: E402

MiB = 1 << 20


def log(msg):
    sys.stderr.write("[scan-bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class EventClock:
    """Follows a daemon's /api/v1/events and notes when each (event, id) first arrived."""

    def __init__(self, node):
        host, port = node.api_addr.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=3600)
        self.conn.request("GET", "/api/v1/events", headers={"Authorization": "Bearer " + node.token})
        self.resp = self.conn.getresponse()
        self.seen = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        event = None
        for raw in self.resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event:
                data = json.loads(line[6:])
                with self.cond:
                    self.seen.setdefault((event, data.get("id")), (time.monotonic(), data))
                    self.cond.notify_all()

    def wait(self, event, tid, timeout=3600):
        with self.cond:
            ok = self.cond.wait_for(lambda: (event, tid) in self.seen, timeout)
            if not ok:
                raise RuntimeError("no %s for %s" % (event, tid))
            return self.seen[(event, tid)]

    def close(self):
        self.conn.close()


def make_data(root, size_mib, files):
    big = os.path.join(root, "big.bin")
    with open(big, "wb") as f:
        for _ in range(size_mib):
            f.write(os.urandom(MiB))
    small = os.path.join(root, "small")
    os.makedirs(small)
    for i in range(files):
        with open(os.path.join(small, "f%04d.dat" % i), "wb") as f:
            f.write(os.urandom(8192))
    return big, small


def kith_run(link, tid, workdir, label, settings):
    node = kithtest.KithNode("scan-get", settings=settings)
    try:
        node.start_daemon()
        clock = EventClock(node)
        out = os.path.join(workdir, "out-%s-%d" % (label, time.monotonic_ns()))
        t0 = time.monotonic()
        code, body = node.api("POST", "/api/v1/transfers", {"link": link, "to": out}, timeout=60)
        if code != 201:
            raise RuntimeError("add failed: %s %s" % (code, body))
        t_scan, _ = clock.wait("transfer.scanning", tid)
        t_scanned, data = clock.wait("transfer.scanned", tid)
        t_done, _ = clock.wait("transfer.completed", tid)
        clock.close()
        if data["outcome"] != "clean":
            raise RuntimeError("scan outcome %s: %s" % (data["outcome"], data["reason"]))
        return {"download": t_scan - t0, "scan": t_scanned - t_scan, "total": t_done - t0,
                "bytes": data["bytes_scanned"], "out": out, "node": node}
    except Exception:
        node.close()
        raise


def clamscan(db, path, limit_mib):
    argv = ["clamscan", "--no-summary", "--infected", "--database=" + db, "--recursive",
            "--max-filesize=%dM" % limit_mib, "--max-scansize=%dM" % limit_mib, "--disable-cache",
            "--alert-exceeds-max=yes", "--alert-encrypted=yes", "--alert-macros=yes",
            "--heuristic-alerts=yes", "--allmatch=yes", path]
    t0 = time.monotonic()
    cp = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if cp.returncode not in (0, 1):
        raise RuntimeError("clamscan exited %d: %s" % (cp.returncode, cp.stderr[-500:]))
    return wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--signatures", default=None, help="signature folder (default: the tests' database)")
    args = ap.parse_args()
    if kithtest.kith_problem():
        sys.exit(kithtest.kith_problem())
    db = args.signatures or kithtest.signature_db()
    settings = {"safety.signatures": db, "safety.system_signatures": "false"}

    workdir = kithtest.tmpdir("kith-scan-bench-")
    log("making %d MiB + %d small files in %s" % (args.size_mib, args.files, workdir))
    big, small = make_data(workdir, args.size_mib, args.files)
    seeder = kithtest.KithNode("scan-seed", settings=settings)
    results = {}
    try:
        seeder.start_daemon()
        shares = {}
        for label, path in (("big", big), ("small", small)):
            reply = seeder.run_json("share", path, "--format", "v1", "--json", timeout=3600)
            shares[label] = (reply["magnet"], reply["id"])
        for label in ("big", "small"):
            link, tid = shares[label]
            rows = []
            for i in range(args.runs + 1):  # the first run warms the seeder's page cache
                r = kith_run(link, tid, workdir, label, settings)
                try:
                    scanned_path = os.path.join(r["out"], os.path.basename(big if label == "big" else small))
                    r["clamscan"] = clamscan(db, scanned_path, 2047)
                finally:
                    r["node"].close()
                if i > 0:
                    rows.append(r)
                log("%s run %d: download %.2f s, kith scan %.2f s, clamscan %.2f s, total %.2f s" % (
                    label, i, r["download"], r["scan"], r["clamscan"], r["total"]))
            results[label] = {k: statistics.median(r[k] for r in rows)
                              for k in ("download", "scan", "clamscan", "total")}
            results[label]["bytes"] = rows[0]["bytes"]
    finally:
        seeder.close()
        kithtest.rmtree(workdir)

    print("\nScan cost (medians of %d runs; database: %s)\n" % (args.runs, db))
    print("| data | download s | kith scan s | clamscan s | kith/clamscan | scan share of total |")
    print("|---|---|---|---|---|---|")
    for label, name in (("big", "%d MiB file" % args.size_mib), ("small", "%d x 8 KiB files" % args.files)):
        r = results[label]
        print("| %s | %.2f | %.2f | %.2f | %.2f | %.1f%% |" % (
            name, r["download"], r["scan"], r["clamscan"], r["scan"] / r["clamscan"],
            100 * r["scan"] / r["total"]))
    big_r = results["big"]
    print("\nkith scan per GiB: %.2f s; per 1,000 small files: %.2f s" % (
        big_r["scan"] * 1024 / args.size_mib, results["small"]["scan"] * 1000 / args.files))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
