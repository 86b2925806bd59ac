"""A hostile BEP device against a real kith daemon's folder sync (docs/sync.md, docs/protocol/bep.md),
played by bep_peer.py (Python, written from the protocol, not from kith's codec).

- A device that was added and shares a folder sends an index full of traps: names that climb out of
  the folder ("../x", "/x", "a/../../x"), Syncthing's own ".stfolder/x", blocks that do not add up to
  the size, a negative size, a directory "d" and a symlink "d2" -> /tmp, then (once d2 is a symlink
  here) a file "d2/inside" below it. It answers kith's Request for a good file first with bytes that
  do not match the block's SHA-256, then correctly. Nothing may be written outside the folder or
  through the symlink, the bad entries are refused in the log by name, the bad block is not written,
  the good file arrives, kith never announces a refused name back, kith answers the device's own
  out-of-folder Requests with errors, and the daemon keeps serving its API.
- A symlink and a file below it in the same index, 300 times over: the file must neither be written
  through the symlink (outside the folder) nor turn the symlink into a directory. kith fails this
  today (a race between the two pulls, see the test), so it is marked as an expected failure.
- Malformed frames, each on a fresh connection after a proper Hello: a header length over the limit,
  a 2 GB body length, a ClusterConfig that does not parse, an Index for a folder not shared with the
  device (and one for a folder that does not exist), an LZ4 body announcing a huge length, an unknown
  compression, and a bad Hello magic. kith closes each connection within seconds and stays up: the API
  answers and a well-behaved connection afterwards (LZ4-compressed messages) still syncs a file.
- A device that was never added is refused right after TLS, and the log names its device ID.
"""
import hashlib
import os
import secrets
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bep_peer as bep  # noqa: E402
import procutil  # noqa: E402
from kithtest import KithTestCase, signature_settings  # noqa: E402
from sync_util import api_ok, folder, rescan, sync_daemon  # noqa: E402

FOLDER = "shared"
LABEL = "a folder label long and repetitive enough that kith compresses its ClusterConfig " * 3


def names_in(root):
    """Every path under root (relative, with '/'), symlinks not followed."""
    out = set()
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/"))
    return out


class HostileSyncPeerTest(KithTestCase):
    log_tail_lines = 120

    def victim(self, *extra_folders):
        """A daemon with the hostile identity added (no address: kith never dials it) and folder
        FOLDER shared with it; returns (node, identity, folder root, folder parent)."""
        node = sync_daemon(self, "victim", **signature_settings())
        me = bep.Identity()
        api_ok(self, node, "POST", "/api/v1/sync/devices", {"id": me.device_id, "name": "mallory"})
        parent = self.tmpdir("kith-hostile-parent-")
        root = os.path.join(parent, "shared")
        os.mkdir(root)
        api_ok(self, node, "POST", "/api/v1/sync/folders", {"path": root, "id": FOLDER, "label": LABEL,
                                                         "devices": [me.device_id]})
        for fid in extra_folders:  # not shared with the hostile device
            api_ok(self, node, "POST", "/api/v1/sync/folders", {"path": self.tmpdir("kith-other-"), "id": fid})
        procutil.wait_for(lambda: os.path.isdir(os.path.join(root, ".stfolder")), 20, what="the folder marker")
        return node, me, root, parent

    def connect(self, node, me):
        p = bep.BepPeer(node.sync_address, me)
        self.addCleanup(p.close)
        return p

    def cluster_config(self, node, me, index_id):
        return bep.cluster_config([bep.folder(FOLDER, [
            bep.device(me.id_bytes, "mallory", index_id=index_id),
            bep.device(bep.id_bytes_of(node.device_id), index_id=0)])])

    def log(self, node):
        return node.tail(n=500)

    def assert_alive(self, node):
        self.assertIsNone(node.daemon.poll(), "the daemon exited")
        self.assertEqual(folder(self, node, FOLDER)["id"], FOLDER)

    # ------------------------------------------------------------------------------------------------

    def test_hostile_index_and_bad_blocks(self):
        node, me, root, parent = self.victim()
        token = secrets.token_hex(6)
        escape, absolute, up = "escape-%s.txt" % token, "abs-%s.txt" % token, "up-%s.txt" % token
        inside, internal = "inside-%s.txt" % token, "x-%s" % token
        good = b"ok from a hostile peer " + token.encode() + b"\n"
        payload = b"this must never land outside the folder " + token.encode() + b"\n"
        content = {"ok.txt": good, "../" + escape: payload, "/" + absolute: payload,
                   "a/../../" + up: payload, ".stfolder/" + internal: payload, "d2/" + inside: payload}
        v = [(me.short_id, 1)]

        served = {"ok.txt": 0}

        def on_request(req):
            data = content.get(req["name"])
            if data is None or req["offset"] != 0 or req["size"] != len(data):
                return b"", bep.NO_SUCH_FILE
            if req["name"] == "ok.txt":
                served["ok.txt"] += 1
                if served["ok.txt"] == 1:  # first answer: same length, wrong bytes
                    return bytes(b ^ 0x20 for b in data), bep.NO_ERROR
            return data, bep.NO_ERROR

        p = self.connect(node, me)
        p.on_request = on_request
        theirs = p.handshake()
        self.assertEqual([(f["id"], f["label"]) for f in theirs], [(FOLDER, LABEL)])
        self.assertEqual(p.lz4_messages, 1)  # the ClusterConfig: bep_peer's LZ4 reader works on kith's output
        self.assertEqual([d["id"] for d in theirs[0]["devices"]], [bep.id_bytes_of(node.device_id), me.id_bytes])
        self.assertEqual(p.remote_hello["client_name"], "kith")
        p.send_message(bep.CLUSTER_CONFIG, self.cluster_config(node, me, index_id=0x1234567890ABCDEF))
        seq = iter(range(1, 100))
        files = [bep.data_file(name, data, v, next(seq)) for name, data in content.items()
                 if name not in ("ok.txt", "d2/" + inside)]
        files += [bep.data_file("ok.txt", good, v, next(seq)),
                  bep.file_info("d", type=bep.DIRECTORY, permissions=0o755, version=v, sequence=next(seq)),
                  bep.file_info("d2", type=bep.SYMLINK, symlink_target=b"/tmp", version=v, sequence=next(seq))]
        p.send_message(bep.INDEX, bep.index(FOLDER, files))
        # The file below d2 comes once d2 is a symlink here: in the same message it races with the
        # symlink (see test_a_symlink_and_a_file_below_it_in_one_round). kith names at most five refused
        # entries of one message in its log, so the size lies come in this second message too.
        p.wait(lambda: os.path.islink(os.path.join(root, "d2")), 20, what="d2, a symlink")
        bad_sum = bep.file_info("bad-sum.txt", size=1000, block_size=bep.BLOCK_SIZE, version=v, sequence=next(seq),
                                blocks=[bep.block(0, 500, hashlib.sha256(b"x").digest())])
        negative = bep.file_info("neg.txt", size=-1, block_size=bep.BLOCK_SIZE, version=v, sequence=next(seq),
                                 blocks=[bep.block(0, 1, hashlib.sha256(b"x").digest())])
        below = bep.data_file("d2/" + inside, payload, v, next(seq))
        p.send_message(bep.INDEX_UPDATE, bep.index(FOLDER, [bad_sum, negative, below]))

        # The first answer for ok.txt fails its hash check: refused, never in the folder.
        p.wait(lambda: "ok.txt: a block failed its SHA-256 check" in self.log(node), 20,
               what="kith to refuse the bad block")
        for name in os.listdir(root):
            if name == "ok.txt" or name.endswith("ok.txt.tmp"):
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotEqual(f.read(), bytes(b ^ 0x20 for b in good), name)
        # Then the right bytes arrive (a rescan asks for a new round in case none is under way).
        rescan(self, node, FOLDER)

        def arrived():
            try:
                with open(os.path.join(root, "ok.txt"), "rb") as f:
                    return f.read() == good
            except OSError:
                return False
        p.wait(arrived, 30, what="ok.txt with the right content")
        self.assertGreaterEqual(served["ok.txt"], 2)

        # Every bad entry is refused, by name.
        for name, why in (("../" + escape, "is not acceptable"), ("/" + absolute, "it is absolute"),
                          ("a/../../" + up, "is not acceptable"), (".stfolder/" + internal, "Syncthing's own"),
                          ("bad-sum.txt", "blocks do not add up to the size"), ("neg.txt", "negative size")):
            p.wait(lambda: any("refused" in line and '"%s"' % name in line and why in line
                               for line in self.log(node).splitlines()), 10,
                   what="a refused line for %s" % name)
        # The file below the symlink is not written through it.
        p.wait(lambda: os.path.join(root, "d2") + " is not a directory (a symlink or a file): not writing through it"
               in self.log(node), 20, what="kith to refuse writing through d2")
        # kith announces what it took, and nothing it refused.
        p.wait(lambda: any(f["name"] == "ok.txt" for _, fs in p.indexes for f in fs), 20,
               what="kith to announce ok.txt")
        announced = {f["name"] for folder_id, fs in p.indexes for f in fs}
        self.assertLessEqual(announced, {"ok.txt", "d", "d2"})

        # The device's own Requests for what is outside the folder, or not in kith's index, get errors.
        hostile_requests = ["../" + os.path.basename(parent), "/etc/passwd", "../../../../etc/passwd",
                            ".stfolder", "d2/" + inside, "d2", "missing.txt"]
        for i, name in enumerate(hostile_requests, start=1000):
            p.send_message(bep.REQUEST, bep.request(i, FOLDER, name, 0, 10))
        p.send_message(bep.REQUEST, bep.request(2000, FOLDER, "ok.txt", len(good) - 1, 10))  # past the end
        p.send_message(bep.REQUEST, bep.request(2001, "not-a-folder", "ok.txt", 0, len(good)))
        p.send_message(bep.REQUEST, bep.request(2002, FOLDER, "ok.txt", 0, len(good), hashlib.sha256(good).digest()))
        expected = set(range(1000, 1000 + len(hostile_requests))) | {2000, 2001, 2002}
        p.wait(lambda: {r["id"] for r in p.responses} >= expected, 10, what="answers to the device's requests")
        answers = {r["id"]: r for r in p.responses}
        for i, name in enumerate(hostile_requests, start=1000):
            self.assertNotEqual(answers[i]["code"], bep.NO_ERROR, name)
            self.assertEqual(answers[i]["data"], b"", name)
        self.assertNotEqual(answers[2000]["code"], bep.NO_ERROR)
        self.assertNotEqual(answers[2001]["code"], bep.NO_ERROR)
        self.assertEqual((answers[2002]["code"], answers[2002]["data"]), (bep.NO_ERROR, good))

        # Nothing outside the folder: its parent, the file system root, /tmp (d2's target).
        self.assertEqual(sorted(os.listdir(parent)), ["shared"])
        for d in ("/", "/tmp", parent):
            leftovers = [n for n in os.listdir(d) if token in n]
            self.assertEqual(leftovers, [], "written in %s" % d)
        # Inside: only ok.txt, d, and d2 as a symlink at most (its target unchanged).
        d2 = os.path.join(root, "d2")
        self.assertEqual(names_in(root) - {".stfolder"}, {"ok.txt", "d"} | ({"d2"} if os.path.lexists(d2) else set()))
        if os.path.lexists(d2):
            self.assertTrue(os.path.islink(d2))
            self.assertEqual(os.readlink(d2), "/tmp")
        self.assertTrue(os.path.isdir(os.path.join(root, "d")) and not os.path.islink(os.path.join(root, "d")))
        self.assertFalse(any(token in n for n in names_in(root)))
        self.assertEqual(os.listdir(os.path.join(root, ".stfolder")), [])

        self.assertFalse(p.closed, "kith closed a connection whose bad entries it only had to refuse")
        self.assert_alive(node)

    # ------------------------------------------------------------------------------------------------

    # Fails today: kith pulls a symlink and a file below it in the same round, on two worker threads.
    # When the file's job runs first, its parent is made a directory (the symlink then fails and the file
    # lands in that directory); when the symlink replaces that still-empty directory between the file's
    # parent check and its open, the file's temporary is created through the symlink, OUTSIDE the folder
    # (sync/file_ops.cpp prepare_temp: parent_dir() checks by path, then ::open(path) follows the link).
    def test_a_symlink_and_a_file_below_it_in_one_round(self):
        node, me, root, _parent = self.victim()
        target = self.tmpdir("kith-hostile-target-")  # where every symlink points: must stay empty
        pairs = 300
        seen = {"requested": [], "outside": [], "made_dir": []}

        def on_request(req):
            top = req["name"].split("/")[0]
            seen["requested"].append(req["name"])
            if os.listdir(target):
                seen["outside"].append((req["name"], os.listdir(target)))
            if os.path.isdir(os.path.join(root, top)) and not os.path.islink(os.path.join(root, top)):
                seen["made_dir"].append(top)
            return b"through %s\n" % top.encode(), bep.NO_ERROR

        p = self.connect(node, me)
        p.on_request = on_request
        p.handshake()
        p.send_message(bep.CLUSTER_CONFIG, self.cluster_config(node, me, index_id=42))
        v, files = [(me.short_id, 1)], []
        for k in range(pairs):
            link = "s%03d" % k
            files.append(bep.file_info(link, type=bep.SYMLINK, symlink_target=target.encode(), version=v,
                                       sequence=2 * k + 1))
            # Distinct contents: no block can be copied from a local file, each one is requested.
            files.append(bep.data_file(link + "/f.txt", b"through %s\n" % link.encode(), v, 2 * k + 2))
        p.send_message(bep.INDEX, bep.index(FOLDER, files), compression=bep.LZ4)
        links = ["s%03d" % k for k in range(pairs)]
        p.wait(lambda: all(os.path.lexists(os.path.join(root, n)) for n in links), 60, what="every sNNN")
        p.wait(lambda: folder(self, node, FOLDER)["state"] == "idle", 60, what="the folder idle")

        made_dirs = [n for n in links if not os.path.islink(os.path.join(root, n))]
        self.assertEqual((seen["outside"][:5], len(seen["outside"])), ([], 0),
                         "temporary files created through a symlink, outside the folder")
        self.assertEqual(made_dirs[:5], [], "%d of %d symlinks were made directories, their file inside" % (
            len(made_dirs), pairs))
        self.assertEqual(seen["requested"][:5], [], "blocks requested for files below a symlink")
        self.assertEqual(os.listdir(target), [])
        self.assert_alive(node)

    # ------------------------------------------------------------------------------------------------

    def test_malformed_frames_close_the_connection(self):
        node, me, root, _parent = self.victim("other")
        lz4_huge = struct.pack(">I", 0xFFFFFFF0) + bep.lz4_literal_block(b"x" * 40)
        cases = [
            ("a header length over the limit", struct.pack(">H", 0x8000) + b"\x00" * 16,
             "exceeds the 32767-byte limit"),
            ("a 2 GB body", struct.pack(">H", 2) + b"\x08\x01" + struct.pack(">I", 0x80000000),
             "2147483648 bytes exceeds"),
            ("a ClusterConfig that does not parse", bep.frame(bep.CLUSTER_CONFIG, b"\x0a\x50garbage\xff\xff"),
             "malformed ClusterConfig"),
            ("an Index for a folder not shared with it",
             bep.frame(bep.INDEX, bep.index("other", [bep.data_file("x.txt", b"x", [(me.short_id, 1)], 1)])),
             'an index for folder "other", which it does not share with us'),
            ("an Index for a folder that does not exist",
             bep.frame(bep.INDEX, bep.index("nope", [bep.data_file("x.txt", b"x", [(me.short_id, 1)], 1)])),
             'an index for folder "nope"'),
            ("an LZ4 body announcing a huge length",
             struct.pack(">H", 4) + b"\x08\x01\x10\x01" + struct.pack(">I", len(lz4_huge)) + lz4_huge,
             "sent a malformed message"),
            ("an unknown compression", struct.pack(">H", 4) + b"\x08\x01\x10\x07" + struct.pack(">I", 0),
             "unknown compression 7"),
        ]
        for what, data, logged in cases:
            with self.subTest(what):
                p = self.connect(node, me)
                p.send_hello()
                p.read_hello()
                p.send(data)
                self.assertTrue(p.closed_within(5), "kith kept the connection open after " + what)
                procutil.wait_for(lambda: logged in self.log(node), 5, what="a log line for " + what)
                self.assert_alive(node)
        # Not a Hello at all.
        p = self.connect(node, me)
        p.send(struct.pack(">IH", 0x12345678, 0) + b"\x00" * 16)
        self.assertTrue(p.closed_within(5), "kith kept a connection without a Hello")
        procutil.wait_for(lambda: "not a BEP Hello: magic 0x12345678" in self.log(node), 5, what="the bad magic logged")

        # A well-behaved connection still works: LZ4-compressed ClusterConfig and Index, one file pulled.
        data = b"well-behaved at last\n" * 20
        p = self.connect(node, me)
        p.on_request = lambda r: (data, bep.NO_ERROR) if r["name"] == "fine.txt" else (b"", bep.NO_SUCH_FILE)
        p.handshake()
        p.send_message(bep.CLUSTER_CONFIG, self.cluster_config(node, me, index_id=77), compression=bep.LZ4)
        p.send_message(bep.INDEX, bep.index(FOLDER, [bep.data_file("fine.txt", data, [(me.short_id, 1)], 1)]),
                       compression=bep.LZ4)

        def arrived():
            try:
                with open(os.path.join(root, "fine.txt"), "rb") as f:
                    return f.read() == data
            except OSError:
                return False
        p.wait(arrived, 30, what="fine.txt from the well-behaved connection")
        self.assertFalse(p.closed)
        self.assert_alive(node)

    # ------------------------------------------------------------------------------------------------

    def test_unknown_device_is_refused_after_tls(self):
        node, _me, root, _parent = self.victim()
        stranger = bep.Identity()
        p = self.connect(node, stranger)
        try:
            p.send_hello("stranger")
            p.send_message(bep.CLUSTER_CONFIG,
                           bep.cluster_config([bep.folder(FOLDER, [bep.device(stranger.id_bytes)])]))
        except OSError:
            pass  # closed already
        self.assertTrue(p.closed_within(5), "kith kept a connection from a device never added")
        self.assertEqual(p.buffer, b"", "kith sent something (a Hello?) to a device it refuses")
        procutil.wait_for(lambda: "refused unknown device " + stranger.device_id in self.log(node), 5,
                          what="the refusal naming the device ID")
        self.assertEqual(api_ok(self, node, "GET", "/api/v1/sync/pending")["folders"], [])
        self.assertEqual(sorted(os.listdir(root)), [".stfolder"])
        self.assert_alive(node)


if __name__ == "__main__":
    unittest.main()
