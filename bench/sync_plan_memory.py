#!/usr/bin/env python3
"""Peak memory of a kith receiver told of many large files: not a test, it prints figures. See
bench/README.md § Pull planning memory.

A BEP device played by tests/integration/bep_peer.py announces --files files of --size-gib GiB each,
cut in --block-kib blocks (128 KiB: Syncthing's smallest, so 160,000 blocks and about 7.5 MiB of
block list per 20 GiB file), one file per Index/IndexUpdate message, to a kith daemon whose folder
is shared with it. The device never has the data: it answers every Request with NO_SUCH_FILE.

  --type sendonly     the receiver only plans (a send-only folder needs nothing): what a planning
                      round costs, alone
  --type sendreceive  (default) it also starts pulling, 8 files at a time, each failing when it
                      creates its temporary file (a directory is in the way: as good as a full disk,
                      and no time spent on data)

Figures: the daemon's VmHWM (peak resident set, /proc/PID/status) once it is up and idle, and again
after the last file was announced and planned (the folder's global_files reaches --files and stays
there while it is idle); the difference is what the announced index cost at its worst. Also how long
from the first Index sent to that point.

Usage: python3 bench/sync_plan_memory.py [--files 40] [--size-gib 20] [--block-kib 128]
                                         [--type sendreceive|sendonly] [--kith BIN] [--json]
"""
import argparse
import hashlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

FOLDER = "big"


def log(msg):
    sys.stderr.write("[sync-plan-memory %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--size-gib", type=float, default=20)
    ap.add_argument("--block-kib", type=int, default=128)
    ap.add_argument("--type", choices=("sendreceive", "sendonly"), default="sendreceive")
    ap.add_argument("--kith", help="the kith binary (default: KITH_BIN or build/src/cli/kith)")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.kith:
        os.environ["KITH_BIN"] = os.path.abspath(args.kith)

    import bep_peer as bep  # noqa: E402 (after KITH_BIN is set)
    import kithtest  # noqa: E402
    import procutil  # noqa: E402

    block_size = args.block_kib << 10
    size = int(args.size_gib * (1 << 30)) // block_size * block_size
    nblocks = size // block_size
    # One digest for every block (of no data anyone has), only the offsets differ: the block list is
    # encoded once and shared by every FileInfo (fields may come in any order: blocks are field 16).
    digest = hashlib.sha256(b"no such data").digest()
    log("encoding %d blocks a file" % nblocks)
    blocks = b"".join(bep.f_bytes(16, bep.block(i * block_size, block_size, digest)) for i in range(nblocks))

    node = kithtest.KithNode("receiver", {"profile.name": "receiver",
                                          "sync.listen": "127.0.0.1:%d" % kithtest.free_port(),
                                          "sync.rescan_interval_s": "3600", "sync.local_discovery": "false"})
    root = kithtest.tmpdir("kith-plan-memory-")
    peer = None
    try:
        node.start_daemon()
        status, me_info = node.api("GET", "/api/v1/id")
        assert status == 200, me_info
        pid = node.daemon.pid
        me = bep.Identity()
        status, body = node.api("POST", "/api/v1/sync/devices", {"id": me.device_id, "name": "announcer"})
        assert status in (200, 201), body
        status, body = node.api("POST", "/api/v1/sync/folders", {"path": root, "id": FOLDER, "type": args.type,
                                                                 "devices": [me.device_id]})
        assert status in (200, 201), body

        def folder():
            status, body = node.api("GET", "/api/v1/sync/folders/" + FOLDER)
            assert status == 200, body
            return body

        procutil.wait_for(lambda: folder()["state"] == "idle", 60, what="the folder's first scan")
        names = ["file%03d.bin" % i for i in range(args.files)]
        for name in names:  # where each pull's temporary file would go (sync/names.hpp temp_name)
            os.mkdir(os.path.join(root, ".syncthing.%s.tmp" % name))
        time.sleep(1)
        before_kib = status_kib(pid, "VmHWM")
        rss_before_kib = status_kib(pid, "VmRSS")
        log("receiver up: VmHWM %.1f MiB, VmRSS %.1f MiB" % (before_kib / 1024, rss_before_kib / 1024))

        peer = bep.BepPeer("127.0.0.1:%d" % me_info["sync_port"], me)
        refused = {"requests": 0}

        def on_request(req):
            refused["requests"] += 1
            return b"", bep.NO_SUCH_FILE

        peer.on_request = on_request
        peer.handshake("announcer")
        peer.send_message(bep.CLUSTER_CONFIG, bep.cluster_config([bep.folder(FOLDER, [
            bep.device(me.id_bytes, "announcer", index_id=0x5EED, max_sequence=args.files),
            bep.device(bep.id_bytes_of(me_info["device_id"]),
                       index_id=0)])]))
        start = time.monotonic()
        for i in range(args.files):
            info = bep.file_info(names[i], size=size, version=[(me.short_id, 1)], sequence=i + 1,
                                 block_size=block_size) + blocks
            peer.send_message(bep.INDEX if i == 0 else bep.INDEX_UPDATE, bep.index(FOLDER, [info]))
            peer.service(0)
        log("announced %d files of %.1f GiB (%.1f MiB of index each)" %
            (args.files, size / (1 << 30), len(blocks) / (1 << 20)))

        def planned():
            f = folder()
            return f["global_files"] == args.files and f["state"] == "idle"

        peer.wait(planned, args.timeout, what="every file to be planned")
        took = time.monotonic() - start
        time.sleep(2)  # a round that was still finishing
        peer.service(0)
        after_kib = status_kib(pid, "VmHWM")
        rss_after_kib = status_kib(pid, "VmRSS")
        out = {"kith": kithtest.KITH_BIN, "type": args.type, "files": args.files, "size_gib": size / (1 << 30),
               "blocks_per_file": nblocks, "vmhwm_before_mib": round(before_kib / 1024, 1),
               "vmhwm_after_mib": round(after_kib / 1024, 1),
               "vmhwm_growth_mib": round((after_kib - before_kib) / 1024, 1),
               "vmrss_after_mib": round(rss_after_kib / 1024, 1), "seconds": round(took, 1),
               "requests_refused": refused["requests"]}
        if args.json:
            print(json.dumps(out))
        else:
            print("%(type)s, %(files)d x %(size_gib).1f GiB (%(blocks_per_file)d blocks each): VmHWM "
                  "%(vmhwm_before_mib).1f -> %(vmhwm_after_mib).1f MiB (+%(vmhwm_growth_mib).1f), VmRSS after "
                  "%(vmrss_after_mib).1f MiB, %(seconds).1f s, %(requests_refused)d requests refused" % out)
    finally:
        if peer:
            peer.close()
        node.close()
        kithtest.rmtree(root)


if __name__ == "__main__":
    main()
