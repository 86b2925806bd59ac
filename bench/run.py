#!/usr/bin/env python3
"""Loopback transfer benchmark: kith against aria2c and qBittorrent, same data, same run.

Not a test: nothing here asserts a number. It prints a table and the ratios kith/anchor,
because absolute numbers depend on the machine and only ratios measured in one run mean
anything. See bench/README.md.

Scenarios (each from a warmed-up kith seeder daemon: file in page cache, one unmeasured
download first):
  kith-v1 / kith-v2 / kith-hybrid   transient `kith get FILE.torrent --peer SEEDER` per run
                                    (--kith-source magnet: an x.pe magnet instead)
  aria2c-v1                         aria2c on the v1 .torrent (peer via loopback tracker)
  qbittorrent-v1                    fresh qbittorrent-nox per run: add .torrent, addPeers
"""
import argparse
import functools
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import interop  # noqa: E402
import kithtest  # noqa: E402
import measure  # noqa: E402
import procutil  # noqa: E402

GiB = 1 << 30


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def files_under(path):
    """Every file under `path` (or `path` itself), in a fixed order."""
    if os.path.isfile(path):
        return [path]
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs)


def warm_page_cache(path):
    for name in files_under(path):
        with open(name, "rb") as f:
            while f.read(8 << 20):
                pass


def tree_sha(path):
    """sha256 of a file, or of a folder's relative names and contents."""
    if os.path.isfile(path):
        return kithtest.sha256_file(path)
    h = hashlib.sha256()
    for name in files_under(path):
        h.update(os.path.relpath(name, path).encode() + b"\0" + kithtest.sha256_file(name).encode())
    return h.hexdigest()


class Seeder:
    """A kith daemon seeding the bench file in one format."""

    def __init__(self, data_file, fmt, workdir):
        self.node = kithtest.KithNode("bench-seed-" + fmt)
        self.node.start_daemon()
        self.torrent = os.path.join(workdir, "bench-%s.torrent" % fmt)
        reply = self.node.run_json("share", data_file, "--format", fmt, "--torrent",
                                   self.torrent, "--json", timeout=3600)
        self.facts = interop.TorrentFacts.load(self.torrent)
        self.magnet = self.facts.magnet(peers=["127.0.0.1:%d" % self.node.bt_port])
        self.id = reply.get("id")
        # Measure from a seeder that is really seeding (share may return while it checks).
        procutil.wait_for(lambda: self.node.run_json("show", self.id, "--json").get("state")
                          == "seeding", 600, interval=0.5, what="kith seeder state seeding")

    def close(self):
        self.node.close()


def run_kith(seeder, out, timeout, source="torrent"):
    # "torrent": the .torrent plus --peer, like the anchors get it. "magnet": x.pe magnet,
    # adding the metadata exchange (and, for hybrid, libtorrent 2.0.8's flaky v2 hash
    # requests: see README).
    if source == "magnet":
        link = [seeder.magnet]
    else:
        link = [seeder.torrent, "--peer", "127.0.0.1:%d" % seeder.node.bt_port]
    node = kithtest.KithNode("bench-get")
    try:
        with open(os.path.join(node.logs, "get.stdout"), "w") as sink:
            proc = procutil.spawn(node.argv("get", *link, "--to", out, "--json"),
                                  env=node.env(), stdout=sink, stderr=subprocess.STDOUT)
            proc.started_at = time.monotonic()
            sampler = measure.TreeSampler(proc.pid)
            rc, cpu, rss, wall = measure.wait_child(proc, timeout)
            anon = sampler.stop()[2]
        procutil.terminate(proc, grace=0)
        if rc != 0:
            raise RuntimeError("kith get exited %d:\n%s" % (rc, node.tail(sink.name)))
        return wall, cpu, rss, anon
    finally:
        node.close()


def run_aria2(seeder, out, timeout):
    with interop.Aria2(peers=[seeder.node.bt_port]) as a:
        proc = a.start_download(seeder.torrent, out)
        proc.started_at = time.monotonic()
        sampler = measure.TreeSampler(proc.pid)
        rc, cpu, rss, wall = measure.wait_child(proc, timeout)
        anon = sampler.stop()[2]
        procutil.terminate(proc, grace=0)
        if rc != 0:
            raise RuntimeError("aria2c exited %d:\n%s" % (rc, a.tail()))
        return wall, cpu, rss, anon


def run_qbittorrent(seeder, out, timeout, protocol="TCP"):
    # TCP by default: kith dials with TCP only (outgoing uTP off), and libtorrent's uTP
    # over loopback is ~4x slower, which would flatter kith.
    with interop.QBittorrent(protocol=protocol) as q:
        sampler = measure.TreeSampler(q.proc.pid)
        t0 = time.monotonic()
        q.add(torrent_file=seeder.torrent, save_path=out)
        q.add_peers(seeder.facts.v1_hash, seeder.node.bt_port)
        q.wait_complete(seeder.facts.v1_hash, timeout=timeout)
        wall = time.monotonic() - t0
        cpu, rss, anon = sampler.stop()
        return wall, cpu, rss, anon


def scenario(name, runner, seeder, args, size, results):
    """Warm-up plus measured runs of one downloader. A failed run is logged and counted,
    not fatal: one flaky scenario must not throw away the others' numbers."""
    samples, failures = [], []
    for i in range(args.warmup + args.runs):
        measured = i >= args.warmup
        out = kithtest.tmpdir("bench-out-")
        try:
            wall, cpu, rss, anon = runner(seeder, out, args.timeout)
            got = os.path.join(out, seeder.facts.name)
            if args.verify and tree_sha(got) != args.expected_sha:
                raise RuntimeError("downloaded bytes differ")
        except (RuntimeError, TimeoutError, OSError) as e:
            first = (str(e).strip().splitlines() or ["?"])
            why = next((l for l in first if l.startswith("kith:")), first[0])
            log("%s run %d%s FAILED: %s" % (name, i + 1, "" if measured else " (warm-up)", why))
            failures.append(why)
            continue
        finally:
            kithtest.rmtree(out)
        log("%s run %d%s: %.2fs, %.1f MB/s, cpu %.2fs, rss %.0f MiB, anon %.0f MiB" % (
            name, i + 1, "" if measured else " (warm-up)", wall, size / wall / 1e6, cpu,
            rss / 2**20, anon / 2**20))
        if measured:
            samples.append({"wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": rss,
                            "peak_anon_bytes": anon})
    if not samples:
        results[name] = {"error": failures[-1] if failures else "no runs", "failures": failures}
        return
    results[name] = {
        "runs": samples,
        "failures": failures,
        "throughput_mb_s": statistics.median(size / s["wall_s"] / 1e6 for s in samples),
        "cpu_s_per_gib": statistics.median(s["cpu_s"] / (size / GiB) for s in samples),
        "peak_rss_mib": max(s["peak_rss_bytes"] for s in samples) / 2**20,
        "peak_anon_mib": max(s["peak_anon_bytes"] for s in samples) / 2**20,
    }


def versions():
    """Versions of everything measured, so a report says what it compared."""
    out = {}
    for name, argv in (("kith", [kithtest.KITH_BIN, "--version"]), ("aria2c", ["aria2c", "--version"]),
                       ("qbittorrent-nox", ["qbittorrent-nox", "--version"])):
        try:
            cp = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            out[name] = (cp.stdout or cp.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            out[name] = None
    return out


def ratios(results):
    out = {}
    for kith_name in ("kith-v1", "kith-v2", "kith-hybrid"):
        for anchor in ("aria2c-v1", "qbittorrent-v1"):
            k, a = results.get(kith_name, {}), results.get(anchor, {})
            if "throughput_mb_s" in k and "throughput_mb_s" in a:
                out["%s/%s" % (kith_name, anchor)] = {
                    key: (k[key] / a[key] if a[key] else None)
                    for key in ("throughput_mb_s", "cpu_s_per_gib", "peak_rss_mib",
                                "peak_anon_mib")}
    return out


def print_table(report):
    rows = report["results"]
    print("size %.0f MiB%s, %d runs (median throughput and CPU, max RSS), %d CPUs" % (
        report["size_bytes"] / 2**20, " in %d files" % report["files"] if report["files"] > 1 else "",
        report["runs"], os.cpu_count()))
    print("versions: %s; qBittorrent protocol %s; kith gets from %s" % (
        ", ".join("%s=%s" % kv for kv in report["versions"].items()), report["qbt_protocol"],
        report["kith_source"]))
    print("%-16s %10s %11s %14s %15s" % ("downloader", "MB/s", "CPU s/GiB", "peak RSS MiB",
                                        "peak anon MiB"))
    for name, r in rows.items():
        if "error" in r:
            print("%-16s FAILED every run: %s" % (name, r["error"]))
            continue
        print("%-16s %10.1f %11.2f %14.1f %15.1f%s" % (
            name, r["throughput_mb_s"], r["cpu_s_per_gib"], r["peak_rss_mib"],
            r["peak_anon_mib"], "   (%d failed runs)" % len(r["failures"]) if r["failures"] else ""))
    if report["ratios"]:
        print("\nratios (kith / anchor): throughput higher is better; CPU and RSS lower is better")
        for name, r in report["ratios"].items():
            print("%-30s throughput %.2f  cpu %.2f  rss %.2f  anon %.2f" % (
                name, r["throughput_mb_s"] or 0, r["cpu_s_per_gib"] or 0,
                r["peak_rss_mib"] or 0, r["peak_anon_mib"] or 0))
    for name, why in report["skipped"].items():
        print("skipped %s: %s" % (name, why))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024, help="bench file size (default 1024)")
    ap.add_argument("--runs", type=int, default=3, help="measured runs per scenario (default 3)")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured runs first (default 1)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per download")
    ap.add_argument("--only", default="", help="comma list of scenarios to run "
                    "(kith-v1,kith-v2,kith-hybrid,aria2c-v1,qbittorrent-v1)")
    ap.add_argument("--no-verify", dest="verify", action="store_false",
                    help="skip the sha256 check of each download")
    ap.add_argument("--qbt-protocol", default="TCP", choices=("TCP", "UTP", "Both"),
                    help="qBittorrent peer protocol (default TCP, like kith's outgoing)")
    ap.add_argument("--kith-source", default="torrent", choices=("torrent", "magnet"),
                    help="kith get from the .torrent + --peer (default, as the anchors) "
                    "or from an x.pe magnet")
    ap.add_argument("--files", type=int, default=1,
                    help="1: one file of --size-mib (default); N: a folder of N files sharing it")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args()
    if kithtest.kith_problem():
        sys.exit(kithtest.kith_problem())
    only = set(filter(None, args.only.split(",")))
    wanted = lambda n: not only or n in only  # noqa: E731

    size = args.size_mib * 2**20
    work = kithtest.tmpdir("kith-bench-")
    if args.files > 1:
        data = os.path.join(work, "bench-%dMiB-%dfiles" % (args.size_mib, args.files))
        log("writing a folder of %d files, %d MiB in all" % (args.files, args.size_mib))
        for i in range(args.files):
            part = size // args.files + (1 if i < size % args.files else 0)
            kithtest.write_sample_file(os.path.join(data, "f%04d.bin" % i), part, seed=i + 1)
    else:
        data = os.path.join(work, "bench-%dMiB.bin" % args.size_mib)
        log("writing %d MiB sample file" % args.size_mib)
        kithtest.write_sample_file(data, size, seed=1)
    args.expected_sha = tree_sha(data) if args.verify else None
    warm_page_cache(data)

    results, skipped = {}, {}
    try:
        for fmt in ("v1", "v2", "hybrid"):
            names = ["kith-" + fmt] + (["aria2c-v1", "qbittorrent-v1"] if fmt == "v1" else [])
            if not any(wanted(n) for n in names):
                continue
            log("seeding %s" % fmt)
            seeder = Seeder(data, fmt, work)
            try:
                if wanted("kith-" + fmt):
                    scenario("kith-" + fmt, functools.partial(run_kith, source=args.kith_source),
                             seeder, args, size, results)
                if fmt != "v1":
                    continue
                for name, binary, runner in (("aria2c-v1", interop.ARIA2, run_aria2),
                                             ("qbittorrent-v1", interop.QBITTORRENT,
                                              functools.partial(run_qbittorrent,
                                                                protocol=args.qbt_protocol))):
                    if not wanted(name):
                        continue
                    if not interop.have(binary):
                        skipped[name] = "%s not installed" % binary
                        continue
                    scenario(name, runner, seeder, args, size, results)
            finally:
                seeder.close()
    finally:
        kithtest.rmtree(work)

    report = {"size_bytes": size, "files": args.files, "runs": args.runs, "warmup": args.warmup,
              "qbt_protocol": args.qbt_protocol, "kith_source": args.kith_source,
              "versions": versions(),
              "cpus": os.cpu_count(), "results": results, "ratios": ratios(results),
              "skipped": skipped}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
