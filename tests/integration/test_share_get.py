"""Two real kith nodes on loopback: one shares, the other fetches by link; bytes must match.

Covers the daemon and the transient (no daemon) paths on each side, the three torrent formats,
.torrent files, selective download and the release from staging into the destination."""
import json
import os
import unittest

from kithtest import KithTestCase, MiB, make_tree

# The reference folder: 3 files, one of at least 64 MiB.
TREE = {"big.bin": 64 * MiB, "docs/notes.txt": 20000, "docs/cover.jpg": 300 * 1024}


class ShareGetTest(KithTestCase):
    def sample(self, spec=TREE):
        root = os.path.join(self.tmpdir(), "album")
        return make_tree(root, spec)

    def assert_staging_empty(self, node):
        staging = os.path.join(node.home, "staging")
        leftovers = [os.path.join(d, f) for d, _, fs in os.walk(staging) for f in fs]
        self.assertEqual(leftovers, [], "files left in staging after release")

    def test_daemon_share_transient_get(self):
        src = self.sample()
        a = self.node("seeder")
        a.start_daemon()
        shared = a.run_json("share", src, "--json")
        self.assertFalse(shared["transient"])
        self.assertIn("x.pe=127.0.0.1:%d" % a.bt_port, shared["magnet"])
        self.assertIn("urn:btih:", shared["magnet"])
        self.assertIn("urn:btmh:", shared["magnet"], "hybrid by default: the link carries the v2 hash")

        b = self.node("leecher")
        dest = self.tmpdir()
        cp = b.run("get", shared["magnet"], "--to", dest, "--json", timeout=300)
        events = [json.loads(line) for line in cp.stdout.splitlines() if line.startswith("{")]
        done = [e for e in events if e.get("event") == "done"]
        self.assertEqual(len(done), 1, cp.stdout[-2000:])
        self.assertEqual(done[0]["path"], os.path.join(dest, "album"))
        self.assertTrue(any(e.get("event") == "progress" for e in events))
        self.assertTreesEqual(src, os.path.join(dest, "album"))
        self.assert_staging_empty(b)

        # The seeder sees its share; the leecher remembers the finished download.
        listed = a.run_json("list", "--json")
        self.assertEqual([t["id"] for t in listed], [shared["id"]])
        self.assertEqual(listed[0]["kind"], "share")
        mine = b.run_json("list", "--json")
        self.assertEqual(mine[0]["state"], "completed")
        self.assertTrue(mine[0]["released"])

    def test_transient_share_daemon_get_each_format(self):
        for fmt in ("v1", "v2", "hybrid"):
            with self.subTest(format=fmt):
                src = self.sample({"a.bin": 3 * MiB, "b/c.txt": 5000, "d.dat": 100000})
                a = self.node("seed-" + fmt)
                seeder = a.spawn("share", src, "--format", fmt, "--json")
                shared = seeder.reader.next_json(60)
                self.assertTrue(shared["transient"])
                if fmt == "v1":
                    self.assertNotIn("urn:btmh:", shared["magnet"])
                if fmt == "v2":
                    self.assertNotIn("urn:btih:", shared["magnet"])

                b = self.node("get-" + fmt)
                b.start_daemon()
                dest = self.tmpdir()
                # With a daemon running, the CLI hands the job to it and follows its progress.
                b.run("get", shared["magnet"], "--to", dest, timeout=300)
                self.assertTreesEqual(src, os.path.join(dest, "album"))
                self.assert_staging_empty(b)
                show = b.run_json("show", shared["id"][:8], "--json")
                self.assertEqual(show["id"], shared["id"])
                self.assertEqual(len(show["files"]), 3)
                self.assertEqual(show["state"], "completed")

    def test_torrent_file_and_only_glob(self):
        src = self.sample({"one.txt": 40000, "two.bin": 2 * MiB, "sub/three.txt": 70000})
        a = self.node("seeder")
        a.start_daemon()
        torrent = os.path.join(self.tmpdir(), "album.torrent")
        shared = a.run_json("share", src, "--format", "v1", "--torrent", torrent, "--json")
        self.assertTrue(os.path.getsize(torrent) > 0)

        b = self.node("leecher")
        dest = self.tmpdir()
        b.run("get", shared["magnet"], "--to", dest, "--only", "*.txt", timeout=300)
        got = sorted(os.path.relpath(os.path.join(d, f), dest)
                     for d, _, fs in os.walk(dest) for f in fs if not f.startswith("."))
        self.assertEqual(got, ["album/one.txt", "album/sub/three.txt"])
        with open(os.path.join(src, "one.txt"), "rb") as f1, \
                open(os.path.join(dest, "album", "one.txt"), "rb") as f2:
            self.assertEqual(f1.read(), f2.read())

        # A .torrent file carries no peer hints: --peer names the seeder (no DHT in tests).
        c = self.node("torrent-user")
        c.start_daemon()
        dest2 = self.tmpdir()
        c.run("get", torrent, "--to", dest2, "--peer", "127.0.0.1:%d" % a.bt_port, timeout=300)
        self.assertTreesEqual(src, os.path.join(dest2, "album"))

    def test_pause_resume_remove(self):
        src = self.sample({"x.bin": 2 * MiB})
        a = self.node("seeder")
        a.start_daemon()
        shared = a.run_json("share", src, "--json")
        short = shared["id"][:10]
        a.run("pause", short)
        self.assertEqual(a.run_json("show", short, "--json")["state"], "paused")
        a.run("resume", short)
        self.assertNotEqual(a.run_json("show", short, "--json")["state"], "paused")
        a.run("remove", short)
        self.assertEqual(a.run_json("list", "--json"), [])
        self.assertTrue(os.path.exists(os.path.join(src, "x.bin")), "remove without --delete-data keeps data")


if __name__ == "__main__":
    unittest.main()
