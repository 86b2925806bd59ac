"""DownloadProgress (docs/sync.md § Download progress, docs/protocol/bep.md): a BEP device played by
bep_peer.py shares a folder with a kith daemon and announces a file of 24 blocks, then answers kith's
Requests for it in steps, holding the rest back.

- While kith pulls it, kith sends the device DownloadProgress (every `sync.progress_interval_s`, 1 s
  here): APPEND updates naming the file, with the version being pulled, the block size and the indexes
  of blocks now in its temporary file, each index once (only what is new since the last message), then
  a FORGET when the file is in place. A file of 10 blocks or fewer is never announced (Syncthing's
  tempIndexMinBlocks).
- A Request with from_temporary for a block kith has written is answered from the temporary file
  (the right bytes); one for a block not written yet, or with the wrong hash, gets an error code.
- DownloadProgress the device sends is checked: a folder not shared, bad names, too many updates are
  ignored with a log line, and the connection and the daemon carry on.
"""
import hashlib
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bep_peer as bep  # noqa: E402
import procutil  # noqa: E402
from kithtest import KithTestCase, signature_settings  # noqa: E402
from sync_util import api_ok, folder, sync_daemon  # noqa: E402

FOLDER = "shared"
BS = bep.BLOCK_SIZE
BLOCKS = 24


class DownloadProgressTest(KithTestCase):
    log_tail_lines = 120

    def setUp(self):
        super().setUp()
        settings = dict(signature_settings())
        settings["sync.progress_interval_s"] = "1"
        self.node = sync_daemon(self, "puller", **settings)
        self.me = bep.Identity()
        api_ok(self, self.node, "POST", "/api/v1/sync/devices", {"id": self.me.device_id, "name": "peer"})
        self.root = self.tmpdir("kith-dp-")
        api_ok(self, self.node, "POST", "/api/v1/sync/folders", {"path": self.root, "id": FOLDER,
                                                              "devices": [self.me.device_id]})
        procutil.wait_for(lambda: os.path.isdir(os.path.join(self.root, ".stfolder")), 20,
                          what="the folder marker")
        self.peer = bep.BepPeer(self.node.sync_address, self.me)
        self.addCleanup(self.peer.close)
        self.peer.handshake()
        self.peer.send_message(bep.CLUSTER_CONFIG, bep.cluster_config([bep.folder(FOLDER, [
            bep.device(self.me.id_bytes, "peer", index_id=0x1122334455667788),
            bep.device(bep.id_bytes_of(self.node.device_id), index_id=0)])]))

    def updates_for(self, name):
        return [u for folder_id, us in self.peer.progress if folder_id == FOLDER for u in us if u["name"] == name]

    def appended(self, name):
        return [i for u in self.updates_for(name) if u["type"] == bep.APPEND for i in u["block_indexes"]]

    def test_progress_sent_and_temporary_blocks_served(self):
        p, me = self.peer, self.me
        big = os.urandom(BLOCKS * BS)
        small = os.urandom(3 * BS)  # 3 blocks: not announced
        version = [(me.short_id, 7)]
        released = set(range(6))
        pending = []

        def on_request(req):
            if req["name"] == "small.bin":
                return small[req["offset"]:req["offset"] + req["size"]], bep.NO_ERROR
            if req["name"] != "big.bin":
                return b"", bep.NO_SUCH_FILE
            if req["offset"] // BS in released:
                return big[req["offset"]:req["offset"] + req["size"]], bep.NO_ERROR
            pending.append(req)
            return None  # held back for now

        def release(indexes):
            released.update(indexes)
            for req in [r for r in pending if r["offset"] // BS in released]:
                pending.remove(req)
                p.send_message(bep.RESPONSE, bep.response(req["id"], big[req["offset"]:req["offset"] + req["size"]]))

        p.on_request = on_request
        p.send_message(bep.INDEX, bep.index(FOLDER, [bep.data_file("big.bin", big, version, 1),
                                                     bep.data_file("small.bin", small, version, 2)]))

        # Blocks 0-5 arrive: kith tells the device it has them, once each.
        p.wait(lambda: sorted(self.appended("big.bin")) == list(range(6)), 30,
               what="APPEND updates for blocks 0-5 of big.bin")
        first = self.updates_for("big.bin")
        for u in first:
            self.assertEqual((u["type"], u["version"], u["block_size"]), (bep.APPEND, version, BS), u)
        # Then 6-11: only the new indexes are sent.
        release(range(6, 12))
        p.wait(lambda: sorted(self.appended("big.bin")) == list(range(12)), 30,
               what="APPEND updates for blocks 6-11 of big.bin")
        later = self.updates_for("big.bin")[len(first):]
        self.assertTrue(later)
        self.assertEqual(sorted(i for u in later for i in u["block_indexes"]), list(range(6, 12)))
        for u in later:
            self.assertEqual((u["type"], u["version"], u["block_size"]), (bep.APPEND, version, BS), u)

        # Requests from its temporary file: a block written, one not written, a wrong hash.
        b3 = big[3 * BS:4 * BS]
        p.send_message(bep.REQUEST, bep.request(5001, FOLDER, "big.bin", 3 * BS, BS, hashlib.sha256(b3).digest(),
                                                from_temporary=True))
        p.send_message(bep.REQUEST, bep.request(5002, FOLDER, "big.bin", 20 * BS, BS,
                                                hashlib.sha256(big[20 * BS:21 * BS]).digest(), from_temporary=True))
        p.send_message(bep.REQUEST, bep.request(5003, FOLDER, "big.bin", 3 * BS, BS, hashlib.sha256(b"x").digest(),
                                                from_temporary=True))
        p.send_message(bep.REQUEST, bep.request(5004, FOLDER, "big.bin", 3 * BS, BS, hashlib.sha256(b3).digest()))
        p.send_message(bep.REQUEST, bep.request(5005, FOLDER, "../big.bin", 3 * BS, BS, hashlib.sha256(b3).digest(),
                                                from_temporary=True))
        p.wait(lambda: {r["id"] for r in p.responses} >= {5001, 5002, 5003, 5004, 5005}, 10,
               what="answers to the requests")
        answers = {r["id"]: r for r in p.responses}
        self.assertEqual((answers[5001]["code"], answers[5001]["data"]), (bep.NO_ERROR, b3))
        for i in (5002, 5003, 5004, 5005):
            self.assertNotEqual(answers[i]["code"], bep.NO_ERROR, i)
            self.assertEqual(answers[i]["data"], b"", i)
        self.assertEqual(answers[5002]["code"], bep.NO_SUCH_FILE)  # not in the temporary file yet

        # The rest: the file is put in place, and the device is told to forget it.
        release(range(BLOCKS))
        p.wait(lambda: any(u["type"] == bep.FORGET for u in self.updates_for("big.bin")), 60,
               what="a FORGET update for big.bin")
        with open(os.path.join(self.root, "big.bin"), "rb") as f:
            self.assertEqual(f.read(), big)
        updates = self.updates_for("big.bin")
        forget = next(i for i, u in enumerate(updates) if u["type"] == bep.FORGET)
        self.assertEqual(updates[forget]["version"], version)
        appended = self.appended("big.bin")
        self.assertEqual(len(appended), len(set(appended)), "an index was announced twice")
        self.assertLessEqual(set(appended), set(range(BLOCKS)))
        p.wait(lambda: folder(self, self.node, FOLDER)["state"] == "idle", 30, what="the folder idle")
        p.service(1.5)  # one more interval: nothing more about big.bin
        self.assertEqual(len(self.updates_for("big.bin")), forget + 1)
        self.assertEqual(self.updates_for("small.bin"), [])
        with open(os.path.join(self.root, "small.bin"), "rb") as f:
            self.assertEqual(f.read(), small)

    def test_progress_received_is_checked(self):
        p, me = self.peer, self.me
        v = [(me.short_id, 3)]
        good = bep.progress_update(bep.APPEND, "file.bin", v, [0, 1, 2], BS)
        p.send_message(bep.DOWNLOAD_PROGRESS, bep.download_progress(FOLDER, [good]))
        p.send_message(bep.DOWNLOAD_PROGRESS, bep.download_progress("not-shared", [good]))
        bad = [bep.progress_update(bep.APPEND, "../escape", v, [0], BS),
               bep.progress_update(bep.APPEND, "/abs", v, [0], BS),
               bep.progress_update(bep.APPEND, "neg.bin", v, [-1], BS),
               bep.progress_update(bep.APPEND, "size.bin", v, [0], 1000),
               bep.progress_update(7, "type.bin", v, [0], BS)]
        p.send_message(bep.DOWNLOAD_PROGRESS, bep.download_progress(FOLDER, bad))
        many = [bep.progress_update(bep.APPEND, "f%d" % i, v, [i], BS) for i in range(20000)]
        p.send_message(bep.DOWNLOAD_PROGRESS, bep.download_progress(FOLDER, many))
        p.send_message(bep.DOWNLOAD_PROGRESS, b"\xff\xff\xff")  # not protobuf
        p.send_message(bep.DOWNLOAD_PROGRESS,
                       bep.download_progress(FOLDER, [bep.progress_update(bep.FORGET, "file.bin", v)]))
        log = lambda: self.node.tail(n=300)  # noqa: E731
        p.wait(lambda: "not shared with it" in log() and "refused" in log() and "too many updates" in log(),
               20, what="kith to log the DownloadProgress it ignored")
        self.assertIn("../escape", log())
        # Still connected and serving: a file the device announces now arrives.
        data = os.urandom(1000)
        p.on_request = lambda req: (data[req["offset"]:req["offset"] + req["size"]], bep.NO_ERROR)
        p.send_message(bep.INDEX, bep.index(FOLDER, [bep.data_file("after.bin", data, v, 1)]))

        def arrived():
            try:
                with open(os.path.join(self.root, "after.bin"), "rb") as f:
                    return f.read() == data
            except OSError:
                return False
        p.wait(arrived, 30, what="after.bin")
        self.assertFalse(p.closed)
        self.assertIsNone(self.node.daemon.poll())


if __name__ == "__main__":
    unittest.main()
