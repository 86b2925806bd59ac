"""Block lists and IP filters (issue 4, safety), with real kith nodes on loopback.

- a block-listed info-hash is refused by `get` and `share` (exit 2, HTTP 403), and allowed again
  once it is taken off the list;
- blocking the hash of a transfer in progress stops and removes it (staged data deleted, a seeder's
  own files kept);
- an IP-filtered peer is never connected, neither dialled nor accepted (the node refuses it: status
  counter), while the same fetch without the filter completes; a reload with a filter that no longer
  covers it lets it in;
- a blocked peer-ID prefix (kith's own, -KI0100-) prevents the transfer.
No assertion is about time: waits are bounded and each "nothing arrived" is paired with proof that
the peer was refused."""
import os
import time
import unittest

from kithtest import KithTestCase, MiB, make_tree
import procutil

KITH_PEER_ID_PREFIX = "-KI0100-"  # libtorrent peer_fingerprint in src/swarm/detail/settings.cpp


class BlocklistTest(KithTestCase):
    def sample(self, spec=None):
        root = os.path.join(self.tmpdir(), "album")
        return make_tree(root, spec or {"a.bin": 2 * MiB, "b/c.txt": 5000})

    def seeder(self, src):
        a = self.node("seeder")
        a.start_daemon()
        shared = a.run_json("share", src, "--json")
        return a, shared, a.run_json("show", shared["id"], "--json")

    def safety_status(self, node):
        status, body = node.api("GET", "/api/v1/status")
        self.assertEqual(status, 200, body)
        return body["blocklist"]

    def wait_refused(self, node, key, what):
        return procutil.wait_for(lambda: self.safety_status(node)[key] > 0 or None, 60, what=what)

    def transfer(self, node, tid):
        status, body = node.api("GET", "/api/v1/transfers/" + tid)
        self.assertEqual(status, 200, body)
        return body

    def assert_nothing_arrives(self, node, tid, seconds=5, peers=True):
        """Bounded check: over a few seconds no payload byte (and, if `peers`, no connected peer:
        not for a node whose dial the other side accepts at TCP level and then closes)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            t = self.transfer(node, tid)
            self.assertEqual(t["downloaded"], 0, t)
            self.assertEqual(t["total_done"], 0, t)
            if peers:
                self.assertEqual(t["peers"], 0, t)
            time.sleep(0.5)

    def test_blocked_hash_is_refused_by_get_and_share(self):
        src = self.sample()
        a, shared, shown = self.seeder(src)
        v1, v2 = shown["info_hashes"]["v1"], shown["info_hashes"]["v2"]

        b = self.node("getter")
        added = b.run_json("block", "add", v1.upper(), "--reason", "test: bad swarm", "--json")
        self.assertEqual(added["value"], v1, "stored lower-case")
        self.assertEqual(added["removed"], [])
        dest = self.tmpdir()
        cp = b.run("get", shared["magnet"], "--to", dest, check=False)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertIn("block list", cp.stderr)
        self.assertIn("test: bad swarm", cp.stderr)
        self.assertEqual(os.listdir(dest), [])

        # Blocking only the v2 hash refuses the hybrid torrent too, here through the daemon's API.
        self.assertEqual(b.run("block", "remove", v1).returncode, 0)
        b.run("block", "add", v2)
        b.start_daemon()
        status, body = b.api("POST", "/api/v1/transfers", {"link": shared["magnet"], "to": dest})
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["code"], "safety.blocked")
        listed = b.run_json("block", "list", "--json")
        self.assertEqual([(e["kind"], e["value"]) for e in listed["entries"]], [("info_hash", v2)])

        # Sharing data whose hash is blocked is refused as well (same data, same hybrid torrent).
        cp = b.run("share", src, check=False)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertIn("block list", cp.stderr)

        # Off the list, the same link downloads.
        status, body = b.api("DELETE", "/api/v1/blocklist/info_hash/" + v2)
        self.assertEqual(status, 200, body)
        status, body = b.api("DELETE", "/api/v1/blocklist/info_hash/" + v2)
        self.assertEqual(status, 404, body)
        b.run("get", shared["magnet"], "--to", dest, timeout=300)
        self.assertTreesEqual(src, os.path.join(dest, "album"))

    def test_blocking_a_transfer_in_progress_removes_it(self):
        src = self.sample({"big.bin": 16 * MiB})
        a, shared, shown = self.seeder(src)
        # A slow download (rate limit applied to loopback too), so that it is still running when blocked.
        b = self.node("getter", {"limits.download": "200000", "limits.lan": "true"})
        b.start_daemon()
        dest = self.tmpdir()
        status, body = b.api("POST", "/api/v1/transfers", {"link": shared["magnet"], "to": dest})
        self.assertEqual(status, 201, body)
        tid = body["id"]
        procutil.wait_for(lambda: self.transfer(b, tid)["downloaded"] > 0 or None, 60, what="first bytes")
        staging = os.path.join(b.home, "staging", tid)
        self.assertTrue(os.path.isdir(staging))

        status, body = b.api("POST", "/api/v1/blocklist",
                             {"kind": "info_hash", "value": tid, "reason": "changed my mind"})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["removed"], [tid])
        self.assertEqual(b.api("GET", "/api/v1/transfers/" + tid)[0], 404)
        self.assertEqual(b.run_json("list", "--json"), [])
        self.assertFalse(os.path.exists(staging), "staged data of a blocked download is deleted")
        self.assertEqual(os.listdir(dest), [], "nothing was released")

        # The seeder blocks its own share: the transfer goes, the user's files stay.
        out = a.run_json("block", "add", tid, "--json")
        self.assertEqual(out["removed"], [tid])
        self.assertEqual(a.run_json("list", "--json"), [])
        self.assertTrue(os.path.isfile(os.path.join(src, "big.bin")))
        status, body = a.api("GET", "/api/v1/status")
        self.assertEqual(body["blocklist"]["blocked_info_hashes"], 1)

    def test_ip_filtered_peer_is_not_connected(self):
        src = self.sample()
        a, shared, shown = self.seeder(src)
        self.assertIn("x.pe=127.0.0.1:%d" % a.bt_port, shared["magnet"])
        lists = self.tmpdir()
        p2p = os.path.join(lists, "level1.p2p")
        with open(p2p, "w") as f:
            f.write("# PeerGuardian text\r\nthis line is broken\r\nLoopback:127.0.0.0-127.0.0.255\r\n")
        dat = os.path.join(lists, "ipfilter.dat")
        with open(dat, "w") as f:
            f.write("// eMule\n010.000.000.000 - 010.255.255.255 , 000 , private\n"
                    "192.168.000.000 - 192.168.255.255 , 200 , allowed\n")

        # A filter the settings name but that cannot be read stops the node (exit 2), fail closed.
        c = self.node("nofile", {"safety.ipfilter": os.path.join(lists, "missing.p2p")})
        cp = c.run("status", check=False)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertIn("missing.p2p", cp.stderr)

        b = self.node("filtered", {"safety.ipfilter": "%s, %s" % (p2p, dat)})
        b.start_daemon()
        listed = b.run_json("block", "list", "--json")
        files = listed["ip_filter"]["files"]
        self.assertEqual([(f["format"], f["ranges"], f["bad_lines"]) for f in files],
                         [("p2p", 1, 1), ("emule_dat", 1, 0)])
        self.assertEqual(files[0]["bad_line_numbers"], [2])
        self.assertEqual(files[1]["allowed"], 1)
        self.assertEqual(self.safety_status(b)["ip_filter_ranges"], 2)

        dest = self.tmpdir()
        status, body = b.api("POST", "/api/v1/transfers",
                             {"link": shared["magnet"], "to": dest, "peers": ["127.0.0.1:%d" % a.bt_port]})
        self.assertEqual(status, 201, body)
        tid = body["id"]
        self.wait_refused(b, "refused_by_ip_filter", "the IP filter refusing the seeder")
        self.assert_nothing_arrives(b, tid)
        self.assertEqual(self.transfer(a, tid)["uploaded"], 0)

        # Control: the same link without the filter completes, so the check above can fail.
        c = self.node("unfiltered")
        out = self.tmpdir()
        c.run("get", shared["magnet"], "--to", out, timeout=300)
        self.assertTreesEqual(src, os.path.join(out, "album"))

        # Reload with a filter that no longer covers loopback; `resume` dials the hinted seeder again.
        with open(p2p, "w") as f:
            f.write("Elsewhere:10.1.0.0-10.1.255.255\n")
        reloaded = b.run_json("block", "reload", "--json")
        self.assertEqual(reloaded["ranges"], 2)
        b.run("resume", tid)
        procutil.wait_for(lambda: self.transfer(b, tid)["state"] == "completed" or None, 120,
                          what="download after the filter was lifted")
        self.assertTreesEqual(src, os.path.join(dest, "album"))

    def test_ip_filter_refuses_incoming_connections(self):
        # The seeder has the filter; the unfiltered getter dials it and is refused on accept.
        src = self.sample()
        lists = self.tmpdir()
        p2p = os.path.join(lists, "loopback.p2p")
        with open(p2p, "w") as f:
            f.write("Loopback:127.0.0.0-127.0.0.255\n")
        a = self.node("filtered-seeder", {"safety.ipfilter": p2p})
        a.start_daemon()
        shared = a.run_json("share", src, "--json")
        b = self.node("getter")
        b.start_daemon()
        status, body = b.api("POST", "/api/v1/transfers", {"link": shared["magnet"], "to": self.tmpdir()})
        self.assertEqual(status, 201, body)
        self.wait_refused(a, "refused_by_ip_filter", "the seeder's IP filter refusing the getter")
        self.assert_nothing_arrives(b, body["id"], peers=False)
        self.assertFalse(self.transfer(b, body["id"])["has_metadata"])
        self.assertEqual(self.transfer(a, shared["id"])["uploaded"], 0)

    def test_blocked_peer_id_prefix_prevents_transfer(self):
        src = self.sample()
        a, shared, shown = self.seeder(src)
        b = self.node("getter")
        b.start_daemon()
        added = b.run_json("block", "add", "--peer-id", KITH_PEER_ID_PREFIX, "--reason", "no kith", "--json")
        self.assertEqual((added["kind"], added["value"]), ("peer_id", KITH_PEER_ID_PREFIX))
        dest = self.tmpdir()
        status, body = b.api("POST", "/api/v1/transfers", {"link": shared["magnet"], "to": dest})
        self.assertEqual(status, 201, body)
        tid = body["id"]
        self.wait_refused(b, "refused_by_peer_id", "the peer-ID block refusing the seeder")
        self.assert_nothing_arrives(b, tid)
        self.assertFalse(self.transfer(b, tid)["has_metadata"])
        self.assertEqual(os.listdir(dest), [])
        with open(b.daemon.log_path) as f:
            self.assertIn("is on the block list", f.read())

        # A peer ID that does not match (another client's prefix) changes nothing for kith peers.
        c = self.node("other-prefix")
        c.run("block", "add", "--peer-id", "-XL0012-")
        out = self.tmpdir()
        c.run("get", shared["magnet"], "--to", out, timeout=300)
        self.assertTreesEqual(src, os.path.join(out, "album"))


if __name__ == "__main__":
    unittest.main()
