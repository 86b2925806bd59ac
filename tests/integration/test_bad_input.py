"""Bad input gets one clear line on stderr, exit code 2 (1 for runtime failures), and leaves
nothing behind in the download folder.

Also the hostile inputs of issue 10: links and torrents built to stall the daemon, drive the
terminal, select nothing, or fail only once added."""
import base64
import hashlib
import json
import os
import unittest
import urllib.parse

import bencode
from kithtest import KithTestCase, free_port, make_tree

HASH = "0123456789abcdef0123456789abcdef01234567"
MAX_TRACKERS = 200  # swarm/limits.hpp
MAX_TORRENT_BYTES = 32 << 20

# A name that recolours the terminal, sets its title, clears it, rings the bell, forges a kith line,
# and reverses what follows (U+202E), with a C1 CSI (U+009B) for good measure.
EVIL_NAME = ("evil\x1b[31mred\x1b]0;owned\x07\x1b[2J\x07\nkith: forged line"
             "\u202egpj.exe\u009b31m")


def v1_torrent(files, name="bad", info_extra=None, extra=None):
    """A v1 .torrent (16 KiB pieces) of `files` [(path, bytes)], with extra info/top-level keys."""
    piece = 16384
    data = b"".join(d for _, d in files)
    pieces = b"".join(hashlib.sha1(data[i:i + piece]).digest() for i in range(0, len(data), piece))
    info = {"name": name, "piece length": piece, "pieces": pieces,
            "files": [{"length": len(d), "path": p.split("/")} for p, d in files]}
    info.update(info_extra or {})
    meta = {"info": info}
    meta.update(extra or {})
    return bencode.encode(meta)


def control_bytes(text):
    """Control characters other than the newlines that end lines, and the escapes they make."""
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f
            or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]


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


    def assert_nothing_left(self, node, dest):
        self.assert_empty(dest)
        self.assert_empty(os.path.join(node.home, "staging"))

    def write_file(self, name, data):
        path = os.path.join(self.tmpdir(), name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_ten_thousand_trackers_are_capped(self):
        # libtorrent 2.0.8 adds trackers in time quadratic in their number: uncapped, this one link
        # stalled the daemon for 15-20 s. Every tracker is a closed loopback port.
        n = self.node()
        n.start_daemon()
        trackers = ["http://127.0.0.1:1/announce/%d" % i for i in range(10000)]
        link = bencode.make_magnet(HASH, name="many", trackers=trackers + trackers[:50])
        st, body = n.api("POST", "/api/v1/transfers", {"link": link, "to": self.tmpdir()}, timeout=120)
        self.assertEqual(st, 201, body)
        shown = n.run_json("show", HASH, "--json")
        kept = [urllib.parse.unquote(p[3:]) for p in shown["magnet"].split("&") if p.startswith("tr=")]
        self.assertLessEqual(len(kept), MAX_TRACKERS)
        self.assertEqual(len(kept), len(set(kept)), "duplicates are dropped")
        self.assertIn(trackers[0], kept, "the first trackers of the link are the ones kept")
        # ... and the daemon still answers.
        self.assertTrue(n.run_json("status", "--json")["daemon"])
        self.assertIn("dropped", n.tail(n=200), "the drop is logged")

    def test_terminal_injection_in_names(self):
        n = self.node()
        n.start_daemon()
        link = bencode.make_magnet(HASH, name=EVIL_NAME)
        # Nobody has it: `get` gives up after 2 s and the daemon keeps it.
        cp = n.run("get", link, "--to", self.tmpdir(), "--timeout", "2", check=False)
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertEqual(control_bytes(cp.stderr), [], repr(cp.stderr))
        for args in (["list"], ["show", HASH[:8]]):
            out = n.run(*args).stdout
            self.assertEqual(control_bytes(out), [], "%s printed control characters: %r" % (args, out))
            self.assertFalse(any(line.startswith("kith:") for line in out.splitlines()),
                             "%s printed a forged line: %r" % (args, out))
            self.assertIn("\\x1b[31m", out, "the escape is shown, not obeyed")
            self.assertIn("\\nkith: forged line", out)
            self.assertIn("\\u202e", out)
        # JSON output is exact: its encoder escapes control characters itself.
        self.assertEqual(n.run_json("show", HASH, "--json")["name"], EVIL_NAME)
        self.assertEqual(n.run_json("list", "--json")[0]["name"], EVIL_NAME)

    def test_only_glob_matching_nothing_in_a_torrent(self):
        torrent = self.write_file("t.torrent", v1_torrent([("a.txt", b"a" * 1000), ("b/c.bin", b"c" * 40000)]))
        # Transient: refused before any node starts.
        n = self.node()
        dest = os.path.join(self.tmpdir(), "dest")
        self.assert_fails(n, ["get", torrent, "--only", "nomatch*", "--to", dest], 2,
                          "--only 'nomatch*' matched none of the 2 files")
        self.assert_nothing_left(n, dest)
        # Through the daemon's API: 400, and no transfer, record or staging folder.
        n.start_daemon()
        with open(torrent, "rb") as f:
            body = {"torrent": base64.b64encode(f.read()).decode(), "only": "nomatch*", "to": dest}
        st, answer = n.api("POST", "/api/v1/transfers", body)
        self.assertEqual(st, 400, answer)
        self.assertEqual(answer["error"]["code"], "swarm.nothing_selected")
        self.assertEqual(n.run_json("list", "--json"), [])
        self.assert_nothing_left(n, dest)

    def test_magnet_selection_matching_nothing(self):
        seeder = self.node("seeder")
        seeder.start_daemon()
        src = make_tree(os.path.join(self.tmpdir(), "album"), {"a.txt": 1000, "b.bin": 50000, "c/d.txt": 3000})
        magnet = seeder.run_json("share", src, "--json")["magnet"]
        # Transient: the file list arrives with the metadata, then `get` fails with exit 2 and
        # removes what it added.
        n = self.node("getter")
        dest = os.path.join(self.tmpdir(), "dest")
        cp = self.assert_fails(n, ["get", magnet, "--only", "nomatch*", "--to", dest], 2,
                               "--only 'nomatch*' matched none of the 3 files")
        self.assertEqual(cp.stdout, "", "no folder is printed")
        self.assert_nothing_left(n, dest)
        self.assertEqual(n.run_json("list", "--json"), [])
        # A link whose so= names no file, through a daemon: exit 2 too; the daemon keeps the transfer
        # in error with its code.
        n.start_daemon()
        cp = self.assert_fails(n, ["get", magnet + "&so=9", "--to", dest], 2, "so=")
        self.assertEqual(cp.stdout, "")
        listed = n.run_json("list", "--json")
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["state"], "error")
        self.assertEqual(listed[0]["error_code"], "swarm.nothing_selected")
        self.assert_empty(dest)
        cp = n.run("get", magnet + "&so=9", "--to", dest, "--json", check=False)
        self.assertEqual(cp.returncode, 2)
        self.assertEqual(json.loads(cp.stdout.splitlines()[-1])["error"]["code"], "swarm.nothing_selected")

    def test_invalid_v2_piece_layers(self):
        maker = self.node("maker")
        maker.start_daemon()
        src = make_tree(os.path.join(self.tmpdir(), "data"), {"big.bin": 200000})
        good = os.path.join(self.tmpdir(), "good.torrent")
        maker.run("share", src, "--format", "v2", "--torrent", good)
        facts = bencode.TorrentFacts.load(good)
        start, end = bencode._info_span(facts.raw)
        meta = dict(facts.meta)
        meta[b"info"] = bencode.Raw(facts.raw[start:end])
        # Same size (libtorrent checks that), one hash byte changed: the layer no longer hashes to the
        # file's root.
        meta[b"piece layers"] = {root: bytes([layer[0] ^ 1]) + layer[1:]
                                 for root, layer in facts.meta[b"piece layers"].items()}
        bad = self.write_file("bad-layers.torrent", bencode.encode(meta))
        n = self.node("getter")
        dest = os.path.join(self.tmpdir(), "dest")
        self.assert_fails(n, ["get", bad, "--to", dest], 2, "piece layer")
        self.assert_nothing_left(n, dest)
        n.start_daemon()
        with open(bad, "rb") as f:
            st, answer = n.api("POST", "/api/v1/transfers", {"torrent": base64.b64encode(f.read()).decode(),
                                                              "to": dest})
        self.assertEqual(st, 400, answer)
        self.assertEqual(answer["error"]["code"], "swarm.bad_torrent")
        self.assertEqual(n.run_json("list", "--json"), [])
        self.assert_nothing_left(n, dest)

    def test_garbage_ssl_cert(self):
        bad = self.write_file("ssl.torrent", v1_torrent(
            [("x.bin", b"x" * 5000)], info_extra={"ssl-cert": "-----BEGIN CERTIFICATE-----\ngarbage\n"
                                                              "-----END CERTIFICATE-----\n"}))
        n = self.node()
        dest = os.path.join(self.tmpdir(), "dest")
        self.assert_fails(n, ["get", bad, "--to", dest], 2, "ssl-cert")
        self.assert_nothing_left(n, dest)
        n.start_daemon()
        with open(bad, "rb") as f:
            st, answer = n.api("POST", "/api/v1/transfers", {"torrent": base64.b64encode(f.read()).decode(),
                                                              "to": dest})
        self.assertEqual(st, 400, answer)
        self.assertEqual(answer["error"]["code"], "swarm.bad_torrent")
        self.assertEqual(n.run_json("list", "--json"), [])
        self.assert_nothing_left(n, dest)

    def test_one_size_limit_for_cli_and_api(self):
        # A valid torrent, made large by a key outside its info dict: the API used to add it.
        big = self.write_file("big.torrent", v1_torrent([("x.bin", b"x" * 5000)],
                                                        extra={"x-padding": b"p" * (MAX_TORRENT_BYTES + (1 << 20))}))
        n = self.node()
        cp = self.assert_fails(n, ["get", big], 2, "too large")
        cli_message = cp.stderr.strip()
        n.start_daemon()
        with open(big, "rb") as f:
            st, answer = n.api("POST", "/api/v1/transfers", {"torrent": base64.b64encode(f.read()).decode()},
                               timeout=120)
        self.assertEqual(st, 400, answer)
        self.assertEqual(answer["error"]["code"], "swarm.bad_torrent")
        self.assertTrue(cli_message.endswith(answer["error"]["message"]),
                        "one message for both: %r vs %r" % (cli_message, answer["error"]["message"]))
        self.assertEqual(n.run_json("list", "--json"), [])


if __name__ == "__main__":
    unittest.main()
