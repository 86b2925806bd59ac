"""Bad input gets one clear line on stderr, exit code 2 (1 for runtime failures), and leaves
nothing behind in the download folder."""
import os
import unittest

from kithtest import KithTestCase, free_port

HASH = "0123456789abcdef0123456789abcdef01234567"


class BadInputTest(KithTestCase):
    def assert_fails(self, node, args, code, needle=None):
        cp = node.run(*args, check=False, timeout=120)
        self.assertEqual(cp.returncode, code, "kith %s\nstdout: %s\nstderr: %s" % (args, cp.stdout, cp.stderr))
        lines = [line for line in cp.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, "expected one line on stderr, got:\n" + cp.stderr)
        self.assertTrue(lines[0].startswith("kith: "), lines[0])
        if needle:
            self.assertIn(needle, lines[0])
        return cp

    def assert_empty(self, path):
        self.assertTrue(not os.path.exists(path) or os.listdir(path) == [], path)

    def test_malformed_links_and_torrents(self):
        n = self.node()
        dest = os.path.join(self.tmpdir(), "dest")
        self.assert_fails(n, ["get", "magnet:?xt=urn:btih:nothex", "--to", dest], 2, "magnet")
        self.assert_fails(n, ["get", "magnet:?dn=only-a-name", "--to", dest], 2)
        self.assert_fails(n, ["get", "/no/such/file.torrent", "--to", dest], 2, "neither a magnet")
        garbage = os.path.join(self.tmpdir(), "garbage.torrent")
        with open(garbage, "wb") as f:
            f.write(b"d8:announce3:abc4:infoi5ee" + os.urandom(100))
        self.assert_fails(n, ["get", garbage, "--to", dest], 2, "garbage.torrent")
        self.assert_empty(dest)

    def test_unknown_hash_and_unreachable_seed(self):
        n = self.node()
        dest = os.path.join(self.tmpdir(), "dest")
        # Nobody has this hash (no DHT, no tracker): gives up after --timeout, exit 1.
        self.assert_fails(n, ["get", "magnet:?xt=urn:btih:" + HASH, "--to", dest, "--timeout", "3"], 1, "no peer")
        # A seed hint pointing at a closed port.
        link = "magnet:?xt=urn:btih:%s&x.pe=127.0.0.1:%d" % (HASH, free_port())
        self.assert_fails(n, ["get", link, "--to", dest, "--timeout", "3"], 1)
        self.assert_empty(dest)
        self.assert_empty(os.path.join(n.home, "staging"))
        self.assertEqual(n.run_json("list", "--json"), [], "a failed transient get leaves no transfer")

    def test_bad_paths_ids_settings(self):
        n = self.node()
        self.assert_fails(n, ["share", "/no/such/folder"], 2, "does not exist")
        self.assert_fails(n, ["show", "abcdef"], 2, "no transfer")
        self.assert_fails(n, ["--set", "no.such=1", "list"], 2, "unknown setting")
        self.assert_fails(n, ["--set", "limits.download=fast", "list"], 2)
        # Checked with the parser the node uses: not saved, not silently listening nowhere.
        self.assert_fails(n, ["--set", "bt.listen=garbage", "list"], 2, "bt.listen")
        self.assert_fails(n, ["--set", "api.listen=localhost:7737", "daemon"], 2, "api.listen")
        self.assert_fails(n, ["--set", "dht.bootstrap=nohost", "list"], 2, "dht.bootstrap")
        with open(os.path.join(n.home, "config.toml"), "w") as f:
            f.write('[bt]\nlisten = "garbage"\n')
        self.assert_fails(n, ["settings"], 2, "bt.listen")
        with open(os.path.join(n.home, "config.toml"), "w") as f:
            f.write("[bt\nlisten = 1\n")
        self.assert_fails(n, ["list"], 2, "config.toml")

    def test_json_errors(self):
        n = self.node()
        cp = n.run("get", "magnet:?xt=urn:btih:zz", "--json", check=False)
        self.assertEqual(cp.returncode, 2)
        import json
        err = json.loads(cp.stdout)["error"]
        self.assertEqual(err["code"], "swarm.bad_link")
        self.assertTrue(err["message"])


if __name__ == "__main__":
    unittest.main()
