"""Blocks pulled from other devices' temporary files (docs/sync.md § Download progress): a device that
says by DownloadProgress that its temporary file holds blocks of exactly the version being pulled is
asked for them with from_temporary, beside the devices that have the whole file.

- Three kith nodes: alice has big.bin; bob and carol both want it. Each of bob and carol holds part of
  it in a temporary file left by an earlier try (bob blocks 0-39, carol 40-47 of 48), and alice is
  stopped (SIGSTOP) with carol's connection to her cut, so carol's only way to the rest is bob's
  temporary file. Carol completes the file from it while alice is still stopped; bob completes once
  alice goes on.
- A device played by bep_peer.py announces a temporary file and answers its first Request with the
  wrong bytes and the others with NO_SUCH_FILE: kith takes those blocks from the device that has the
  whole file, and asks the failing one nothing more (never more than the 16 requests a file has in
  flight at once).
"""
import os
import signal
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bep_peer as bep  # noqa: E402
import procutil  # noqa: E402
from kithtest import KithTestCase, signature_settings  # noqa: E402
from sync_util import add_device, api_ok, folder, rescan, sync_daemon, wait_content  # noqa: E402

FOLDER = "team"
BS = bep.BLOCK_SIZE


class Proxy:
    """A loopback TCP relay to `target` ("host:port") whose connections the test can cut at once."""

    def __init__(self, target):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.sockets = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                down, _ = self.listener.accept()
                up = socket.create_connection(self.target, timeout=10)
                up.settimeout(None)
            except OSError:
                return
            with self.lock:
                self.sockets += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        """Stops listening and cuts every connection relayed (both ends see it closed)."""
        with self.lock:
            sockets = [self.listener] + self.sockets
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def write_temp(path, data, indexes, size):
    """A temporary file as an interrupted pull leaves it: blocks `indexes` of `data` in place."""
    with open(path, "wb") as f:
        f.truncate(size)
        for i in indexes:
            f.seek(i * BS)
            f.write(data[i * BS:(i + 1) * BS])


class ThreeNodesTest(KithTestCase):
    log_tail_lines = 150

    def test_carol_completes_from_bobs_temporary_file(self):
        settings = dict(signature_settings())
        settings["sync.progress_interval_s"] = "1"
        alice = sync_daemon(self, "alice", **settings)
        bob = sync_daemon(self, "bob", **settings)
        carol = sync_daemon(self, "carol", **settings)
        # Carol reaches alice only through a relay the test cuts; alice never dials carol.
        relay = Proxy(alice.sync_address)
        self.addCleanup(relay.close)
        add_device(self, alice, bob.device_id, bob.sync_address, "bob")
        api_ok(self, alice, "POST", "/api/v1/sync/devices", {"id": carol.device_id, "name": "carol"})
        add_device(self, bob, alice.device_id, alice.sync_address, "alice")
        add_device(self, bob, carol.device_id, carol.sync_address, "carol")
        add_device(self, carol, alice.device_id, relay.address, "alice")
        add_device(self, carol, bob.device_id, bob.sync_address, "bob")

        blocks = 48
        big = os.urandom(blocks * BS)
        adir, bdir, cdir = self.tmpdir("alice-"), self.tmpdir("bob-"), self.tmpdir("carol-")
        with open(os.path.join(adir, "big.bin"), "wb") as f:
            f.write(big)
        # Bob and carol leave big.bin alone until their temporary files are in place.
        for d in (bdir, cdir):
            with open(os.path.join(d, ".stignore"), "w") as f:
                f.write("big.bin\n")
        for node, path, devices in ((alice, adir, [bob, carol]), (bob, bdir, [alice, carol]),
                                    (carol, cdir, [alice, bob])):
            api_ok(self, node, "POST", "/api/v1/sync/folders",
                   {"path": path, "id": FOLDER, "devices": [d.device_id for d in devices]})

        def knows_big_and_peers(node, peers):
            f = folder(self, node, FOLDER)
            connected = {d["device"] for d in f["devices"] if d["connected"]}
            return f["global_bytes"] == len(big) and connected >= {p.device_id for p in peers}
        procutil.wait_for(lambda: knows_big_and_peers(bob, [alice, carol]), 60,
                          what="bob to have alice's index and both connections")
        procutil.wait_for(lambda: knows_big_and_peers(carol, [alice, bob]), 60,
                          what="carol to have alice's index and both connections")

        # What earlier, interrupted pulls left: bob has blocks 0-39, carol 40-47.
        write_temp(os.path.join(bdir, ".syncthing.big.bin.tmp"), big, range(40), 40 * BS)
        write_temp(os.path.join(cdir, ".syncthing.big.bin.tmp"), big, range(40, blocks), len(big))

        # Alice answers nothing more (bob's connection to her stays up), and carol loses her.
        self.addCleanup(os.kill, alice.daemon.pid, signal.SIGCONT)
        os.kill(alice.daemon.pid, signal.SIGSTOP)
        relay.close()
        procutil.wait_for(lambda: not any(d["connected"] for d in folder(self, carol, FOLDER)["devices"]
                                          if d["device"] == alice.device_id), 30,
                          what="carol to see alice gone")

        for node, d in ((bob, bdir), (carol, cdir)):
            os.remove(os.path.join(d, ".stignore"))
            rescan(self, node, FOLDER)

        # Bob pulls: blocks 0-39 are in his temporary file, 40-47 asked of alice (no answer). He tells
        # carol; carol has nobody with the whole file, so she takes 0-39 from bob's temporary file.
        wait_content(os.path.join(cdir, "big.bin"), big, timeout=90)
        self.assertIsNone(alice.daemon.poll())
        self.assertFalse(os.path.exists(os.path.join(bdir, "big.bin")))  # bob still waits for alice
        log = carol.tail(n=400)
        self.assertIn("big.bin: 40 of its 40 missing block(s) came from other devices' temporary files", log)

        # Alice goes on: bob gets 40-47 and completes too.
        os.kill(alice.daemon.pid, signal.SIGCONT)
        wait_content(os.path.join(bdir, "big.bin"), big, timeout=90)


class FailingTemporaryFileTest(KithTestCase):
    log_tail_lines = 150

    def test_a_failing_temporary_file_is_asked_no_more(self):
        node = sync_daemon(self, "puller", **dict(signature_settings()))
        full, temp = bep.Identity(), bep.Identity()
        for me, name in ((full, "full"), (temp, "temp")):
            api_ok(self, node, "POST", "/api/v1/sync/devices", {"id": me.device_id, "name": name})
        root = self.tmpdir("kith-ts-")
        api_ok(self, node, "POST", "/api/v1/sync/folders",
               {"path": root, "id": FOLDER, "devices": [full.device_id, temp.device_id]})
        procutil.wait_for(lambda: os.path.isdir(os.path.join(root, ".stfolder")), 20, what="the folder marker")

        peers = {}
        for me, index_id in ((full, 0x1111), (temp, 0x2222)):
            p = bep.BepPeer(node.sync_address, me)
            self.addCleanup(p.close)
            p.handshake()
            p.send_message(bep.CLUSTER_CONFIG, bep.cluster_config([bep.folder(FOLDER, [
                bep.device(me.id_bytes, index_id=index_id), bep.device(bep.id_bytes_of(node.device_id))])]))
            peers[me.device_id] = p
        pf, pt = peers[full.device_id], peers[temp.device_id]

        blocks = 64
        big = os.urandom(blocks * BS)
        version = [(full.short_id, 5)]
        pf.on_request = lambda req: (big[req["offset"]:req["offset"] + req["size"]], bep.NO_ERROR)

        def lie(req):
            # The first answer has the wrong bytes, the rest say the temporary file is gone.
            if len(pt.requests) == 1:
                return os.urandom(req["size"]), bep.NO_ERROR
            return b"", bep.NO_SUCH_FILE
        pt.on_request = lie

        # The temporary holder tells of every block of that version; a Request answered after it shows
        # kith has read it.
        pt.send_message(bep.DOWNLOAD_PROGRESS, bep.download_progress(FOLDER, [
            bep.progress_update(bep.APPEND, "big.bin", version, range(blocks), BS)]))
        pt.send_message(bep.REQUEST, bep.request(77, FOLDER, "nothing.bin", 0, BS))
        pt.wait(lambda: any(r["id"] == 77 for r in pt.responses), 20, what="an answer from kith")

        pf.send_message(bep.INDEX, bep.index(FOLDER, [bep.data_file("big.bin", big, version, 1)]))

        def arrived():
            pt.service(0.01)
            try:
                with open(os.path.join(root, "big.bin"), "rb") as f:
                    return f.read() == big
            except OSError:
                return False
        pf.wait(arrived, 90, what="big.bin in place")

        self.assertTrue(pt.requests, "the temporary holder was never asked")
        self.assertTrue(all(r["from_temporary"] for r in pt.requests), pt.requests)
        self.assertTrue(all(not r["from_temporary"] for r in pf.requests))
        # Once its first answer failed, no more: at most what was in flight then.
        self.assertLessEqual(len(pt.requests), 16)
        # Every block it failed was asked of the full holder.
        self.assertLessEqual({r["offset"] for r in pt.requests}, {r["offset"] for r in pf.requests})
        self.assertIn("asking elsewhere", node.tail(n=300))


if __name__ == "__main__":
    unittest.main()
