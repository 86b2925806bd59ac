#!/usr/bin/env python3
"""Folder sync over BEP on loopback: not a test, it prints figures. See bench/README.md § Sync.

A pair of endpoints (sender, receiver) shares one folder; per run the bench changes the sender's copy
on disk and times how long until the receiver's copy has the change, and the CPU both spent on it.

Scenarios (each run on a fresh folder, empty at the receiver unless said):
  big      one new 1 GiB file of random bytes (--size-mib)
  many     10,000 new files of 4 KiB in 100 directories (--files, --file-kib)
  change   one 1 GiB file already synced (not timed); 4 KiB overwritten in place at 512 MiB + 100 KiB,
           (the middle MiB of a smaller --size-mib), i.e. inside one block whatever the block size
           (Syncthing: 1 MiB blocks at 1 GiB)

Modes (how the sender learns of the change):
  rescan   the sender's watcher is off; the bench asks for a rescan (REST /rest/db/scan for
           Syncthing) right after writing: transfer speed apart from the watcher's delay
  watcher  the sender's filesystem watcher at its defaults (Syncthing: fsWatcherDelayS 10, so the
           scan starts 5-15 s after the last write) and nothing else

Figures per run:
  time     seconds from the end of the write (file closed) to the receiver's copy matching: the
           right size and sampled contents (4 KiB at 16 offsets of a big file; the whole of each
           small file; the changed 4 KiB), seen through inotify on the receiver's folder. The full
           sha256 of every file is compared with the sender's afterwards (not timed): a mismatch
           fails the run.
  rx CPU   receiver user+system CPU seconds (/proc/PID/stat, all its processes) from just before the
           write to the receiver's folder being idle again after the data arrived.
  tx CPU   the same for the sender, to the same moment.
  scan     rescan mode: seconds from the end of the write until the rescan request returned
           (Syncthing 1.19 answers it when the scan is done: hashing, not transfer).

Endpoints: a pair is (sender class, receiver class) from ENDPOINTS; each class implements Endpoint
below. Only Syncthing is implemented; kith (and kith<->Syncthing) plug in as further classes.

Usage: python3 bench/sync.py [--runs 2] [--only big,many,change] [--modes rescan,watcher]
                             [--pairs syncthing-syncthing] [--size-mib 1024] [--data-dir DIR] [--json]
"""
import argparse
import ctypes
import json
import os
import random
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import kithtest  # noqa: E402
import procutil  # noqa: E402
import syncthing  # noqa: E402

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
CHANGE_LEN = 4 * KiB


def change_offset(size):
    """Where `change` writes: 100 KiB into the MiB in the middle (512 MiB + 100 KiB for 1 GiB), so
    the 4 KiB lie inside one block for any block size from 128 KiB to 16 MiB."""
    return (size // 2) // MiB * MiB + 100 * KiB
SAMPLES = 16  # 4 KiB samples checked in a big file before calling it arrived


def log(msg):
    sys.stderr.write("[sync-bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# -- endpoints ---------------------------------------------------------------------------------------

class Endpoint:
    """What the bench needs from one side of a pair. Every endpoint speaks BEP, so peers are named
    by BEP device ID and reached at a TCP address on 127.0.0.1. Implementations must keep all
    traffic on loopback and must not be told more than this interface says (no tuning per run).

      Endpoint(name, workdir)        start it; its state lives under workdir (deleted by the bench)
      .kind                          short name used in pair names ("syncthing", later "kith")
      .device_id                     its BEP device ID ("XXXXXXX-XXXXXXX-...")
      .address                       its BEP listener, "127.0.0.1:PORT"
      add_peer(device_id, address, name)   know a remote device and dial it at that address
      wait_connected(device_id, timeout)   wait until a BEP connection with that peer is up
      add_folder(folder_id, path, watcher) a folder at path (created if missing), shared with no one
                                     yet; watcher=True: notice changes by itself, at its defaults;
                                     False: only by trigger_rescan (and its periodic rescan, if
                                     any, no sooner than an hour)
      share(folder_id, device_id)    share the folder with a peer
      trigger_rescan(folder_id)      look at the folder on disk now (may block until the scan is
                                     done; the bench calls it in a thread)
      wait_idle(folder_id, timeout)  wait until the folder has nothing to scan or pull
      remove_folder(folder_id)       forget the folder (its files stay on disk)
      cpu_seconds() -> float         user+system CPU of all its processes so far
      check()                        raise if it is no longer running (with its log's end)
      log_tail(n) -> str             the end of its log, for failures
      close()                        stop it
    """

    kind = None

    def __init__(self, name, workdir):
        raise NotImplementedError

    device_id = address = None

    def add_peer(self, device_id, address, name):
        raise NotImplementedError

    def wait_connected(self, device_id, timeout):
        raise NotImplementedError

    def add_folder(self, folder_id, path, watcher):
        raise NotImplementedError

    def share(self, folder_id, device_id):
        raise NotImplementedError

    def trigger_rescan(self, folder_id):
        raise NotImplementedError

    def wait_idle(self, folder_id, timeout):
        raise NotImplementedError

    def remove_folder(self, folder_id):
        raise NotImplementedError

    def cpu_seconds(self):
        raise NotImplementedError

    def check(self):
        pass

    def log_tail(self, n=40):
        return ""

    def close(self):
        pass


class SyncthingEndpoint(Endpoint):
    """Debian's Syncthing 1.19 through tests/integration/syncthing.py, folder settings at Syncthing's
    defaults (rescanIntervalS 3600, fsWatcherDelayS 10, order random, ...) except the watcher
    switch."""

    kind = "syncthing"

    def __init__(self, name, workdir):
        self.st = syncthing.Syncthing(name, root=os.path.join(workdir, name))
        self.device_id = self.st.device_id
        self.address = self.st.listen_address

    def add_peer(self, device_id, address, name):
        self.st.add_device(device_id, [address], name=name)

    def wait_connected(self, device_id, timeout):
        self.st.wait_connected(device_id, timeout)

    def add_folder(self, folder_id, path, watcher):
        self.st.add_folder(folder_id, path, fs_watcher=watcher)

    def share(self, folder_id, device_id):
        self.st.share_folder(folder_id, device_id)

    def trigger_rescan(self, folder_id):
        self.st.rescan(folder_id)

    def wait_idle(self, folder_id, timeout):
        self.st.wait_idle(folder_id, timeout)

    def remove_folder(self, folder_id):
        self.st.request("DELETE", "/rest/config/folders/%s" % folder_id)

    def cpu_seconds(self):
        return self.st.cpu_seconds()

    def check(self):
        self.st._alive()

    def log_tail(self, n=40):
        return self.st.log_tail(n)

    def close(self):
        self.st.close()

    @staticmethod
    def version():
        cp = procutil.run([syncthing.BINARY, "--version"], timeout=30)
        return cp.stdout.decode().split("(")[0].strip()


class KithEndpoint(Endpoint):
    """A kith daemon (KITH_BIN, else build/src/cli/kith) in a home under workdir, driven through its API
    (docs/api.md § Folder sync), everything on loopback (kithtest.SAFE_SETTINGS). It scans what
    arrives (ClamAV with the tests' small signature database, as the tests run it): that is part of
    every figure. watcher=False turns the inotify watcher off (sync.watch)."""

    kind = "kith"

    def __init__(self, name, workdir):
        os.environ.setdefault("KITH_BIN", os.path.join(os.path.join(HERE, ".."), "build", "src", "cli", "kith"))
        self.node = kithtest.KithNode(name, dict(kithtest.signature_settings(), **{
            "sync.listen": "127.0.0.1:%d" % kithtest.free_port(), "sync.rescan_interval_s": "3600",
            "profile.name": name}))
        self._watch = None
        self._name = name
        self._workdir = workdir
        self._start()

    def _start(self, watch=True):
        if watch is not self._watch:
            if self._watch is not None:
                self.node.stop()
            self.node.settings["sync.watch"] = "true" if watch else "false"
            self.node.start_daemon()
            self._watch = watch
        status, body = self.node.api("GET", "/api/v1/id")
        if status != 200:
            raise RuntimeError("kith /api/v1/id: %s %s" % (status, body))
        self.device_id = body["device_id"]
        self.address = "127.0.0.1:%d" % body["sync_port"]

    def _api(self, method, path, body=None):
        status, answer = self.node.api(method, path, body, timeout=600)
        if status not in (200, 201):
            raise RuntimeError("kith %s %s: %s %s" % (method, path, status, answer))
        return answer

    def add_peer(self, device_id, address, name):
        self._api("POST", "/api/v1/sync/devices", {"id": device_id, "addresses": [address], "name": name})

    def wait_connected(self, device_id, timeout):
        def up():
            devices = self._api("GET", "/api/v1/sync/devices")["devices"]
            return any(d["id"] == device_id and d["connected"] for d in devices)
        procutil.wait_for(up, timeout, what="kith connected to %s" % device_id[:7])

    def add_folder(self, folder_id, path, watcher):
        if watcher is not self._watch:
            self._start(watcher)  # a restart: the setting applies at start
        os.makedirs(path, exist_ok=True)
        self._api("POST", "/api/v1/sync/folders", {"path": os.path.abspath(path), "id": folder_id})

    def share(self, folder_id, device_id):
        self._api("POST", "/api/v1/sync/folders/%s/devices" % folder_id, {"device": device_id})

    def trigger_rescan(self, folder_id):
        self._api("POST", "/api/v1/sync/folders/%s/rescan" % folder_id)

    def wait_idle(self, folder_id, timeout):
        def idle():
            f = self._api("GET", "/api/v1/sync/folders/%s" % folder_id)
            return f["state"] == "idle" and f["need_files"] == 0
        procutil.wait_for(idle, timeout, what="kith folder %s idle" % folder_id)

    def remove_folder(self, folder_id):
        self._api("DELETE", "/api/v1/sync/folders/%s" % folder_id)

    def cpu_seconds(self):
        pid = self.node.daemon.pid
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check(self):
        if self.node.daemon is None or self.node.daemon.poll() is not None:
            raise RuntimeError("kith daemon exited:\n" + self.node.tail(n=20))

    def log_tail(self, n=40):
        return self.node.tail(n=n)

    def close(self):
        self.node.close()

    @staticmethod
    def version():
        cp = procutil.run([os.environ.get("KITH_BIN", os.path.join(os.path.join(HERE, ".."), "build", "src", "cli", "kith")),
                           "--version"], timeout=30)
        return "kith " + cp.stdout.decode().strip()


ENDPOINTS = {"syncthing": SyncthingEndpoint, "kith": KithEndpoint}
PAIRS = {  # sender kind, receiver kind
    "syncthing-syncthing": ("syncthing", "syncthing"),
    "kith-kith": ("kith", "kith"),
    "kith-syncthing": ("kith", "syncthing"),
    "syncthing-kith": ("syncthing", "kith"),
}


# -- watching the receiver's disk ---------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
IN_ATTRIB, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x4, 0x8, 0x80, 0x100
IN_Q_OVERFLOW, IN_ISDIR = 0x4000, 0x40000000
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")


class TreeWatch:
    """inotify on a folder tree (directories created later included): which relative paths were
    written, moved into place or had their times set. changes() returns None after a queue
    overflow (then everything must be looked at)."""

    MASK = IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE

    def __init__(self, root):
        self.root = root
        self.fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.dirs = {}  # watch descriptor -> relative dir ("" for root)
        self._watch("")

    def _watch(self, rel):
        """Watch rel and every directory under it; returns the files already in them."""
        found = []
        path = os.path.join(self.root, rel)
        wd = _libc.inotify_add_watch(self.fd, path.encode(), self.MASK)
        if wd < 0:
            return found  # gone again
        self.dirs[wd] = rel
        try:
            entries = list(os.scandir(path))
        except OSError:
            return found
        for e in entries:
            sub = os.path.join(rel, e.name) if rel else e.name
            if e.is_dir(follow_symlinks=False):
                found += self._watch(sub)
            else:
                found.append(sub)
        return found

    def changes(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return set()
        out = set()
        while True:
            try:
                buf = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return out
            pos = 0
            while pos < len(buf):
                wd, mask, _cookie, length = _EVENT.unpack_from(buf, pos)
                name = buf[pos + 16:pos + 16 + length].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                pos += 16 + length
                if mask & IN_Q_OVERFLOW:
                    return None
                parent = self.dirs.get(wd)
                if parent is None or not name:
                    continue
                rel = os.path.join(parent, name) if parent else name
                if mask & IN_ISDIR:
                    if mask & (IN_CREATE | IN_MOVED_TO):
                        out.update(self._watch(rel))
                else:
                    out.add(rel)

    def close(self):
        os.close(self.fd)


class Expect:
    """What a file must look like to count as arrived: its size and some (offset, bytes) samples."""

    def __init__(self, size, samples):
        self.size = size
        self.samples = samples

    def met(self, path):
        try:
            with open(path, "rb") as f:
                if os.fstat(f.fileno()).st_size != self.size:
                    return False
                return all(os.pread(f.fileno(), len(b), off) == b for off, b in self.samples)
        except OSError:
            return False


def big_samples(path, size):
    """SAMPLES 4 KiB pieces of the sender's file, spread over it (first and last included)."""
    offs = sorted({min(size - 4 * KiB, (size - 4 * KiB) * i // (SAMPLES - 1)) for i in range(SAMPLES)})
    with open(path, "rb") as f:
        return [(o, os.pread(f.fileno(), 4 * KiB, o)) for o in offs]


def present(root, pending):
    """The pending relative paths that exist under root, one os.scandir() per directory."""
    by_dir = {}
    for rel in pending:
        by_dir.setdefault(os.path.dirname(rel), []).append(rel)
    found = set()
    for d, rels in by_dir.items():
        try:
            names = {e.name for e in os.scandir(os.path.join(root, d))}
        except OSError:
            continue
        found.update(rel for rel in rels if os.path.basename(rel) in names)
    return found


def wait_arrived(watch, root, expected, timeout, alive):
    """Block until every relative path in `expected` meets its Expect under root. Returns the
    time.monotonic() at which the last one did. Besides inotify, every pending file is looked at
    every 2 s (a safety net: one directory listing per directory with pending files, then a look at
    the files that are there; opening each of 10,000 missing names every 2 s cost the bench more CPU
    than some receivers)."""
    pending = set(expected)
    deadline = time.monotonic() + timeout
    last_full = time.monotonic()
    while True:
        changed = watch.changes(0.25)
        now = time.monotonic()
        if changed is None or now - last_full > 2.0:
            candidates, last_full = present(root, pending), now
        else:
            candidates = changed & pending
        for rel in candidates:
            if expected[rel].met(os.path.join(root, rel)):
                pending.discard(rel)
        if not pending:
            return time.monotonic()
        if now > deadline:
            raise TimeoutError("%d of %d files not at the receiver after %ds (e.g. %s)" % (
                len(pending), len(expected), timeout, sorted(pending)[:3]))
        alive()


# -- data ---------------------------------------------------------------------------------------------------

def write_random(path, size, chunk=8 * MiB):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n


def many_names(count):
    per_dir = 100
    return ["d%03d/f%05d.bin" % (i // per_dir, i) for i in range(count)]


def same_content(a, b):
    return kithtest.sha256_file(a) == kithtest.sha256_file(b)


# -- one run ------------------------------------------------------------------------------------------------

class Pair:
    """A sender and a receiver that know each other."""

    def __init__(self, name, workdir):
        self.name = name
        tx_kind, rx_kind = PAIRS[name]
        self.tx = ENDPOINTS[tx_kind]("%s-tx" % tx_kind, workdir)
        try:
            self.rx = ENDPOINTS[rx_kind]("%s-rx" % rx_kind, workdir)
        except Exception:
            self.tx.close()
            raise
        self.tx.add_peer(self.rx.device_id, self.rx.address, "receiver")
        self.rx.add_peer(self.tx.device_id, self.tx.address, "sender")
        self.tx.wait_connected(self.rx.device_id, 60)
        self.rx.wait_connected(self.tx.device_id, 60)

    def close(self):
        for e in (self.rx, self.tx):
            try:
                e.close()
            except Exception as ex:  # keep closing the other
                log("closing %s: %s" % (e.kind, ex))


def run_once(pair, scenario, mode, args, workdir, seq):
    folder_id = "bench-%s-%s-%d" % (scenario, mode, seq)
    src = os.path.join(workdir, "data", folder_id, "tx")
    dst = os.path.join(workdir, "data", folder_id, "rx")
    watcher = mode == "watcher"
    tx, rx = pair.tx, pair.rx
    size = args.size_mib * MiB
    timeout = args.timeout

    def alive():
        tx.check()
        rx.check()

    tx.add_folder(folder_id, src, watcher)
    rx.add_folder(folder_id, dst, watcher)
    tx.share(folder_id, rx.device_id)
    rx.share(folder_id, tx.device_id)
    tx.wait_idle(folder_id, 60)
    rx.wait_idle(folder_id, 60)
    time.sleep(1.0)  # the folder's ClusterConfig exchange

    if scenario == "change":  # not timed: get the 1 GiB file to the receiver first
        write_random(os.path.join(src, "big.bin"), size)
        if not watcher:
            tx.trigger_rescan(folder_id)
        watch = TreeWatch(dst)
        try:
            wait_arrived(watch, dst, {"big.bin": Expect(size, big_samples(os.path.join(src, "big.bin"), size))},
                         timeout, alive)
        finally:
            watch.close()
        tx.wait_idle(folder_id, timeout)
        rx.wait_idle(folder_id, timeout)
        # With watchers on, the receiver's watcher saw its own writes and may still scan them:
        # let that happen before the measured change (--settle), so the change meets a quiet pair.
        time.sleep(args.settle if watcher else 1.0)
        tx.wait_idle(folder_id, timeout)
        rx.wait_idle(folder_id, timeout)

    os.sync()  # earlier runs' dirty pages are written back now, not during this one
    watch = TreeWatch(dst)
    scan_done = [None]
    scan_error = []
    try:
        cpu_tx0, cpu_rx0 = tx.cpu_seconds(), rx.cpu_seconds()
        t_write = time.monotonic()
        if scenario == "big":
            write_random(os.path.join(src, "big.bin"), size)
        elif scenario == "many":
            payload = {}
            rnd = random.Random(seq)
            for name in many_names(args.files):
                data = rnd.randbytes(args.file_kib * KiB)
                path = os.path.join(src, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
                payload[name] = data
        else:
            new = os.urandom(CHANGE_LEN)
            fd = os.open(os.path.join(src, "big.bin"), os.O_WRONLY)
            try:
                os.pwrite(fd, new, change_offset(size))
            finally:
                os.close(fd)
        if watcher:
            t0 = time.monotonic()  # the watcher's delay runs from the last write
            write_seconds = t0 - t_write
            if args.flush:
                os.sync()  # inside that delay
        else:
            write_seconds = time.monotonic() - t_write
            if args.flush:
                os.sync()  # the bench's own writeback does not compete with the transfer
            t0 = time.monotonic()

        if not watcher:
            def rescan():
                try:
                    tx.trigger_rescan(folder_id)
                    scan_done[0] = time.monotonic()
                except Exception as e:  # reported after the wait
                    scan_error.append(e)
            threading.Thread(target=rescan, daemon=True).start()

        if scenario == "big":
            expected = {"big.bin": Expect(size, big_samples(os.path.join(src, "big.bin"), size))}
        elif scenario == "many":
            expected = {name: Expect(len(data), [(0, data)]) for name, data in payload.items()}
        else:
            expected = {"big.bin": Expect(size, [(change_offset(size), new)])}
        t_done = wait_arrived(watch, dst, expected, timeout, alive)
        elapsed = t_done - t0
        rx.wait_idle(folder_id, timeout)
        cpu_rx = rx.cpu_seconds() - cpu_rx0
        cpu_tx = tx.cpu_seconds() - cpu_tx0
    finally:
        watch.close()
    if scan_error:
        raise scan_error[0]
    if scenario != "many":  # small files were compared whole already
        if not same_content(os.path.join(src, "big.bin"), os.path.join(dst, "big.bin")):
            raise AssertionError("receiver's big.bin differs from the sender's (sha256)")
    result = {"seconds": elapsed, "rx_cpu": cpu_rx, "tx_cpu": cpu_tx, "write_seconds": write_seconds,
              "scan_seconds": None if scan_done[0] is None else scan_done[0] - t0}
    tx.remove_folder(folder_id)
    rx.remove_folder(folder_id)
    shutil.rmtree(os.path.join(workdir, "data", folder_id), ignore_errors=True)
    return result


# -- report -------------------------------------------------------------------------------------------------

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_runs(values, spec="%.2f"):
    return ", ".join(spec % v for v in values)


def describe(scenario, args):
    if scenario == "big":
        return "1 file, %d MiB" % args.size_mib
    if scenario == "many":
        return "%d files x %d KiB" % (args.files, args.file_kib)
    return "4 KiB changed in %d MiB" % args.size_mib


def print_report(report, args):
    print("sync bench: %d runs each (medians; every run listed), %d CPUs, %s" % (
        args.runs, os.cpu_count(), "; ".join(report["versions"])))
    print("load average (1, 5, 15 min) at start %s, at end %s" % (
        " ".join("%.2f" % x for x in report["loadavg_start"]), " ".join("%.2f" % x for x in report["loadavg_end"])))
    print("time: end of the write -> receiver's copy matches; CPU: user+system s from before the "
          "write to the receiver idle again")
    hdr = "%-20s %-26s %-8s %9s %13s %8s %8s %7s  %s" % (
        "pair", "scenario", "mode", "time s", "rate", "rx CPU", "tx CPU", "scan s", "runs (s)")
    print(hdr)
    for r in report["results"]:
        if not r["runs"]:
            print("%-20s %-26s %-8s FAILED: %s" % (r["pair"], describe(r["scenario"], args), r["mode"],
                                                   "; ".join(r["errors"])[:200]))
            continue
        t = med([x["seconds"] for x in r["runs"]])
        if r["scenario"] == "big":
            rate = "%.1f MB/s" % (r["bytes"] / 1e6 / t)
        elif r["scenario"] == "many":
            rate = "%.0f files/s" % (args.files / t)
        else:
            rate = "-"
        scan = med([x["scan_seconds"] for x in r["runs"]])
        print("%-20s %-26s %-8s %9.2f %13s %8.2f %8.2f %7s  %s%s" % (
            r["pair"], describe(r["scenario"], args), r["mode"], t,
            rate, med([x["rx_cpu"] for x in r["runs"]]),
            med([x["tx_cpu"] for x in r["runs"]]), "%.2f" % scan if scan is not None else "-",
            fmt_runs([x["seconds"] for x in r["runs"]]),
            "  (%d failed)" % len(r["errors"]) if r["errors"] else ""))
    anchor = report["pairs"][0]
    others = [p for p in report["pairs"][1:]]
    if others:
        print("\nratios (pair / %s): time and CPU, lower is better" % anchor)
        base = {(r["scenario"], r["mode"]): r for r in report["results"] if r["pair"] == anchor and r["runs"]}
        for r in report["results"]:
            b = base.get((r["scenario"], r["mode"]))
            if r["pair"] == anchor or not b or not r["runs"]:
                continue
            print("%-20s %-26s %-8s time %.2f  rx CPU %.2f" % (
                r["pair"], describe(r["scenario"], args), r["mode"],
                med([x["seconds"] for x in r["runs"]]) / med([x["seconds"] for x in b["runs"]]),
                med([x["rx_cpu"] for x in r["runs"]]) / max(1e-9, med([x["rx_cpu"] for x in b["runs"]]))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=2, help="measured runs per scenario and mode (default 2)")
    ap.add_argument("--only", default="big,many,change", help="scenarios (default big,many,change)")
    ap.add_argument("--modes", default="rescan,watcher", help="modes (default rescan,watcher)")
    ap.add_argument("--pairs", default=",".join(PAIRS), help="pairs, the first is the anchor of the "
                    "ratios (default %s)" % ",".join(PAIRS))
    ap.add_argument("--size-mib", type=int, default=1024, help="big file size (default 1024)")
    ap.add_argument("--files", type=int, default=10000, help="files in `many` (default 10000)")
    ap.add_argument("--file-kib", type=int, default=4, help="size of each of them (default 4)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per run (default 900)")
    ap.add_argument("--data-dir", default=tempfile.gettempdir(),
                    help="where the temp dir for data and homes goes (default %s)" % tempfile.gettempdir())
    ap.add_argument("--settle", type=float, default=16.0,
                    help="change, watcher mode: seconds between the setup's sync and the measured change "
                    "(default 16: 1.5 x Syncthing's watcher delay + 1)")
    ap.add_argument("--no-flush", dest="flush", action="store_false",
                    help="do not os.sync() the sender's new data (see bench/README.md § Sync)")
    ap.add_argument("--fresh-fs", type=int, metavar="GIB", default=0,
                    help="put the data on a new ext4 file system of GIB GiB (default options: journal on), "
                    "loop-mounted from an image under --data-dir; needs root. Without it, a file system that "
                    "has just deleted many files (a previous run) can make creating files cost more than "
                    "syncing them: see bench/README.md § Sync")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (endpoint homes and logs)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args()
    scenarios = [s for s in args.only.split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    pairs = [p for p in args.pairs.split(",") if p]
    for s in scenarios:
        if s not in ("big", "many", "change"):
            ap.error("unknown scenario %r" % s)
    for m in modes:
        if m not in ("rescan", "watcher"):
            ap.error("unknown mode %r" % m)
    for p in pairs:
        if p not in PAIRS:
            ap.error("unknown pair %r (known: %s)" % (p, ", ".join(PAIRS)))

    fresh = None
    if args.fresh_fs:
        fresh = FreshFs(args.data_dir, args.fresh_fs)
        args.data_dir = fresh.mountpoint
    try:
        run_all(args, pairs, scenarios, modes)
    finally:
        if fresh:
            fresh.close()


class FreshFs:
    """A new ext4 file system in an image file under `parent`, loop-mounted (mkfs.ext4's defaults)."""

    def __init__(self, parent, gib):
        if os.geteuid() != 0:
            sys.exit("--fresh-fs needs root (mount)")
        self.dir = tempfile.mkdtemp(prefix="kith-sync-bench-fs-", dir=parent)
        self.image = os.path.join(self.dir, "fs.img")
        self.mountpoint = os.path.join(self.dir, "mnt")
        os.makedirs(self.mountpoint)
        with open(self.image, "wb") as f:
            f.truncate(gib * GiB)
        subprocess.run(["mkfs.ext4", "-q", "-F", self.image], check=True)
        subprocess.run(["mount", "-o", "loop", self.image, self.mountpoint], check=True)
        log("data on a new ext4 file system of %d GiB (%s)" % (gib, self.image))

    def close(self):
        subprocess.run(["umount", self.mountpoint], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_all(args, pairs, scenarios, modes):
    # Two copies of the largest data set at a time (sender, receiver), the receiver's temp file
    # while it rebuilds a changed file, and the endpoints' databases.
    need = 3 * args.size_mib * MiB + 1 * GiB
    free = shutil.disk_usage(args.data_dir).free
    if free < need:
        sys.exit("need %.1f GiB free under %s, have %.1f GiB: use --data-dir" % (need / GiB, args.data_dir,
                                                                                free / GiB))
    workdir = tempfile.mkdtemp(prefix="kith-sync-bench-", dir=args.data_dir)
    if not args.keep:
        procutil.register_tmp(workdir)
    report = {"flush": args.flush, "loadavg_start": os.getloadavg(), "pairs": pairs, "scenarios": scenarios, "modes": modes, "runs": args.runs,
              "size_mib": args.size_mib, "files": args.files, "file_kib": args.file_kib,
              "cpus": os.cpu_count(), "versions": [], "results": []}
    if "syncthing" in {k for p in pairs for k in PAIRS[p]}:
        report["versions"].append(SyncthingEndpoint.version())
    if "kith" in {k for p in pairs for k in PAIRS[p]}:
        report["versions"].append(KithEndpoint.version())
    log("data under %s (%.0f GiB free)" % (workdir, free / GiB))
    seq = 0
    try:
        for pair_name in pairs:
            pair = Pair(pair_name, workdir)
            try:
                for mode in modes:
                    for scenario in scenarios:
                        entry = {"pair": pair_name, "scenario": scenario, "mode": mode, "runs": [],
                                 "errors": [], "bytes": args.size_mib * MiB if scenario != "many"
                                 else args.files * args.file_kib * KiB}
                        for i in range(args.runs):
                            seq += 1
                            log("%s %s %s run %d/%d" % (pair_name, scenario, mode, i + 1, args.runs))
                            try:
                                r = run_once(pair, scenario, mode, args, workdir, seq)
                            except Exception as e:
                                log("FAILED: %s: %s" % (type(e).__name__, e))
                                log("receiver log:\n" + pair.rx.log_tail(15))
                                entry["errors"].append("%s: %s" % (type(e).__name__, str(e).splitlines()[0]))
                                continue
                            log("  %.2f s, rx CPU %.2f s, tx CPU %.2f s, write took %.2f s%s" % (
                                r["seconds"], r["rx_cpu"], r["tx_cpu"], r["write_seconds"],
                                "" if r["scan_seconds"] is None else ", scan returned at %.2f s" % r["scan_seconds"]))
                            entry["runs"].append(r)
                        report["results"].append(entry)
            finally:
                pair.close()
    finally:
        if args.keep:
            log("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        procutil.unregister_tmp(workdir)
    report["loadavg_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, args)


if __name__ == "__main__":
    main()
