"""kith against independent BitTorrent clients, over loopback only.

  (a) kith daemon shares a folder as v1 (--torrent FILE); aria2c downloads it by the .torrent
  (b) Transmission seeds; `kith get` (transient, no daemon) fetches a magnet with x.pe
  (c) qBittorrent downloads a kith hybrid share (magnet + addPeers kith's bt_port), and a
      kith v2 share (.torrent); kith (daemon running) gets from a qBittorrent seed via x.pe
Every check is byte-for-byte. A test skips only when its client binary is missing (or kith
itself is not built). test_interop_clients.py validates the same drivers without kith.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402
import kithtest  # noqa: E402
from kithtest import MiB  # noqa: E402

# Several pieces, a file that ends mid-piece, a nested dir and tiny files.
SPEC = {"big.bin": 6 * MiB + 4321, "docs/readme.txt": 2000, "docs/deep/tiny": 7,
        "mid.bin": 300 * 1024}
TIMEOUT = 300  # Transmission and aria2 unchoke new peers only every ~10 s


def peer(port):
    return "127.0.0.1:%d" % port


class KithInterop(kithtest.KithTestCase):

    def sample(self, name="share"):
        """(parent dir, folder path) of a fresh sample folder."""
        parent = self.tmpdir("kith-src-")
        folder = os.path.join(parent, name)
        kithtest.make_tree(folder, SPEC)
        return parent, folder

    def share(self, node, folder, fmt):
        """`kith share --json` into a running daemon; returns (reply, TorrentFacts)."""
        torrent = os.path.join(self.tmpdir("kith-torrent-"), "share.torrent")
        reply = node.run_json("share", folder, "--format", fmt, "--torrent", torrent, "--json")
        for key in ("id", "magnet", "name"):
            self.assertIn(key, reply, "share --json reply lacks %r: %r" % (key, reply))
        self.assertTrue(reply["magnet"].startswith("magnet:?"), reply["magnet"])
        facts = interop.TorrentFacts.load(torrent)
        self.assertEqual(fmt, facts.format, "kith wrote a %s torrent for --format %s" % (
            facts.format, fmt))
        if facts.v1_hash:
            self.assertIn(facts.v1_hash, reply["magnet"].lower())
        return reply, torrent, facts

    def kith_get(self, node, link, out):
        """`kith get LINK --to out --json`; returns the parsed JSON lines, the last being
        the done event."""
        link = interop.loopback_only_magnet(link)
        cp = node.run("get", link, "--to", out, "--json", timeout=TIMEOUT)
        events = []
        for line in cp.stdout.splitlines():
            line = line.strip()
            if line:
                events.append(json.loads(line))  # --json promises JSON lines only
        self.assertTrue(events, "kith get --json printed nothing")
        done = events[-1]
        self.assertEqual("done", done.get("event"), "last event: %r" % done)
        self.assertTrue(os.path.exists(done["path"]), "done path missing: %r" % done)
        return events

    # (a) ---------------------------------------------------------------------------

    def test_aria2_downloads_kith_v1_share(self):
        interop.require(self, interop.ARIA2)
        node = self.node("seeder")
        node.start_daemon()
        _parent, folder = self.sample()
        _reply, torrent, facts = self.share(node, folder, "v1")
        aria = self.client(interop.Aria2)
        aria.tracker.add_peer(node.bt_port)  # aria2 finds peers only through a tracker
        out = self.tmpdir("aria2-out-")
        aria.download(torrent, out, timeout=TIMEOUT)
        self.assertTreesEqual(folder, os.path.join(out, facts.name))

    # (b) ---------------------------------------------------------------------------

    def test_kith_gets_from_transmission_seed(self):
        interop.require(self, interop.TRANSMISSION, "transmission-create")
        parent, folder = self.sample()
        torrent = interop.create_torrent(folder, os.path.join(self.tmpdir(), "t.torrent"))
        facts = interop.TorrentFacts.load(torrent)
        tr = self.client(interop.Transmission)
        tr.seed(torrent, parent)
        # Transmission never dials 127.x, so kith must dial it: x.pe carries the address.
        magnet = facts.magnet(peers=[peer(tr.peer_port)])
        node = self.node("getter")  # no daemon: transient mode
        out = self.tmpdir("kith-out-")
        self.kith_get(node, magnet, out)
        self.assertTreesEqual(folder, os.path.join(out, facts.name))

    # (c) ---------------------------------------------------------------------------

    def test_qbittorrent_downloads_kith_hybrid_share(self):
        interop.require(self, interop.QBITTORRENT)
        node = self.node("seeder")
        node.start_daemon()
        _parent, folder = self.sample()
        reply, _torrent, facts = self.share(node, folder, "hybrid")
        # By magnet on purpose: that is the path where libtorrent 2.0.8 (qBittorrent's and
        # kith's) intermittently fails hybrids with "v1 and v2 hashes do not describe the
        # same data" (seen at 1 GiB, not yet at this size). See README.md.
        q = self.client(interop.QBittorrent)
        out = self.tmpdir("qbt-out-")
        q.add(magnet=reply["magnet"], save_path=out)
        q.add_peers(facts.v1_hash, node.bt_port)
        q.wait_complete(facts.v1_hash, timeout=TIMEOUT)
        self.assertTreesEqual(folder, os.path.join(out, facts.name))

    def test_qbittorrent_downloads_kith_v2_share(self):
        interop.require(self, interop.QBITTORRENT)
        node = self.node("seeder")
        node.start_daemon()
        _parent, folder = self.sample()
        _reply, torrent, facts = self.share(node, folder, "v2")
        q = self.client(interop.QBittorrent)
        out = self.tmpdir("qbt-out-")
        q.add(torrent_file=torrent, save_path=out)
        q.add_peers(facts.v2_hash, node.bt_port)
        q.wait_complete(facts.v2_hash, timeout=TIMEOUT)
        self.assertTreesEqual(folder, os.path.join(out, facts.name))

    def test_kith_daemon_gets_from_qbittorrent_seed(self):
        interop.require(self, interop.QBITTORRENT, "transmission-create")
        parent, folder = self.sample()
        torrent = interop.create_torrent(folder, os.path.join(self.tmpdir(), "q.torrent"))
        facts = interop.TorrentFacts.load(torrent)
        q = self.client(interop.QBittorrent)
        q.seed(torrent, parent, facts.v1_hash)
        node = self.node("getter")
        node.start_daemon()  # this time `get` hands the job to the daemon
        out = self.tmpdir("kith-out-")
        self.kith_get(node, facts.magnet(peers=[peer(q.peer_port)]), out)
        self.assertTreesEqual(folder, os.path.join(out, facts.name))


if __name__ == "__main__":
    unittest.main()
