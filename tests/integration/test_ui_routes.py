"""The API routes the web UI added: per-file selection (kept across a restart), peers of a
transfer, editable settings (validated, written to config.toml, live or at restart), the magnet
link's QR code, and `kith ui`'s login link. Two real daemons on loopback."""
import os
import unittest
import urllib.error
import urllib.request

from kithtest import KithTestCase, MiB, make_tree, procutil


class UiRoutesTest(KithTestCase):
    def test_file_selection_persists_and_only_wanted_files_download(self):
        src = make_tree(os.path.join(self.tmpdir(), "album"),
                        {"big.bin": 4 * MiB, "small.txt": 30000, "other/c.bin": 1 * MiB})
        a = self.node("seeder")
        a.start_daemon()
        shared = a.api_share({"path": src, "format": "v1"})
        # A paused share refuses peers, so nothing downloads before the selection is made.
        self.assertEqual(a.api("POST", "/api/v1/transfers/%s/pause" % shared["id"])[0], 200)

        dest = self.tmpdir()
        b = self.node("leecher", {"download.dir": dest})
        b.start_daemon()
        st, got = b.api("POST", "/api/v1/transfers",
                        {"torrent": shared["torrent"], "peers": ["127.0.0.1:%d" % a.bt_port]})
        self.assertEqual(st, 201, got)
        files = {f["path"]: f for f in got["files"]}
        small = files["album/small.txt"]["index"]
        st, body = b.api("PUT", "/api/v1/transfers/%s/files" % got["id"], {"wanted": [small]})
        self.assertEqual(st, 200, body)
        st, body = b.api("PUT", "/api/v1/transfers/%s/files" % got["id"], {"wanted": [999]})
        self.assertEqual(st, 400, body)
        self.assertEqual(b.api("PUT", "/api/v1/transfers/%s/files" % got["id"], {"wanted": "x"})[0], 400)

        # Restart: the selection comes back from state.sqlite.
        self.assertEqual(b.stop(), 0)
        b.start_daemon()
        st, shown = b.api("GET", "/api/v1/transfers/" + got["id"])
        self.assertEqual(st, 200, shown)
        wanted = sorted(f["path"] for f in shown["files"] if f["wanted"])
        self.assertEqual(wanted, ["album/small.txt"])
        # The size of the chosen file (libtorrent itself would count the whole pieces it touches).
        self.assertEqual(shown["total_wanted"], 30000)

        self.assertEqual(a.api("POST", "/api/v1/transfers/%s/resume" % shared["id"])[0], 200)
        # B dials A again on its own (the .torrent's peer was given at add time).
        b.api("POST", "/api/v1/transfers/%s/resume" % got["id"])

        def released():
            st, t = b.api("GET", "/api/v1/transfers/" + got["id"])
            return t if t.get("state") == "completed" else None
        procutil.wait_for(released, 180, what="the selected file released")
        self.assertTrue(os.path.isfile(os.path.join(dest, "album", "small.txt")))
        self.assertFalse(os.path.exists(os.path.join(dest, "album", "big.bin")))
        self.assertFalse(os.path.exists(os.path.join(dest, "album", "other", "c.bin")))


    def test_peers_of_a_running_transfer(self):
        # A's upload is limited (loopback included), so the transfer is still running when looked at.
        a = self.node("seeder", {"limits.upload": "100000", "limits.lan": "true"})
        a.start_daemon()
        src = make_tree(os.path.join(self.tmpdir(), "slow"), {"s.bin": 8 * MiB})
        shared = a.api_share({"path": src})
        b = self.node("leecher", {"download.dir": self.tmpdir()})
        b.start_daemon()
        st, got = b.api("POST", "/api/v1/transfers", {"link": shared["magnet"]})
        self.assertEqual(st, 201, got)

        def a_in_b():
            st, peers = b.api("GET", "/api/v1/transfers/%s/peers" % got["id"])
            self.assertEqual(st, 200, peers)
            # seed turns true once A's bitfield is understood (after the metadata for a magnet).
            return [p for p in peers if p["endpoint"] == "127.0.0.1:%d" % a.bt_port and p["seed"]]
        seen = procutil.wait_for(a_in_b, 60, what="A as a seed in B's peer list")
        self.assertFalse(seen[0]["incoming"])  # B dialled A's x.pe hint

        def b_in_a():
            st, peers = a.api("GET", "/api/v1/transfers/%s/peers" % shared["id"])
            return [p for p in peers if not p["seed"] and p["incoming"]]
        procutil.wait_for(b_in_a, 60, what="B in A's peer list")
        self.assertEqual(b.api("GET", "/api/v1/transfers/ffff/peers")[0], 404)

    def test_adding_a_transfer_again_says_it_exists(self):
        n = self.node("again")
        n.start_daemon()
        link = "magnet:?xt=urn:btih:" + "ab" * 20 + "&dn=again"
        st, first = n.api("POST", "/api/v1/transfers", {"link": link})
        self.assertEqual((st, first["existing"]), (201, False), first)
        st, second = n.api("POST", "/api/v1/transfers", {"link": link})
        self.assertEqual((st, second["existing"]), (200, True), second)
        self.assertEqual(second["id"], first["id"])
        self.assertEqual(len(n.api("GET", "/api/v1/transfers")[1]), 1)

    def test_loose_files_uploaded_together_are_shared_under_a_name(self):
        n = self.node("uploads")
        n.start_daemon()

        def put(upload, rel, data):
            req = urllib.request.Request(
                "http://%s/api/v1/uploads/%s/files?path=%s" % (n.api_addr, upload, rel), data=data,
                method="PUT", headers={"Authorization": "Bearer " + n.token})
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=30) as r:
                return r.status

        shares = {}
        for name in ("Holiday pictures", None):
            st, up = n.api("POST", "/api/v1/uploads")
            self.assertEqual(st, 201, up)
            for rel in ("b.jpg", "a.jpg", "c.txt"):
                self.assertEqual(put(up["id"], rel, rel.encode() * 1000), 201)
            if name:  # a bad name moves nothing and shares nothing
                st, body = n.api("POST", "/api/v1/uploads/%s/share" % up["id"], {"name": "../x"})
                self.assertEqual((st, body["error"]["code"]), (400, "base.bad_input"), body)
            st, job = n.api("POST", "/api/v1/uploads/%s/share" % up["id"], {"name": name} if name else None)
            self.assertEqual(st, 202, job)
            shared = n.follow_job(job)
            shares[name] = shared
            self.assertEqual(sorted(os.path.basename(f["path"]) for f in shared["files"]),
                             ["a.jpg", "b.jpg", "c.txt"])
        self.assertEqual(shares["Holiday pictures"]["name"], "Holiday pictures")
        self.assertIn("dn=Holiday%20pictures", shares["Holiday pictures"]["magnet"])
        self.assertEqual(shares[None]["name"], "a and 2 more")

    def test_settings_are_validated_saved_and_applied(self):
        n = self.node("settings")
        n.start_daemon()
        st, body = n.api("PUT", "/api/v1/settings/no.such", {"value": 1})
        self.assertEqual((st, body["error"]["code"]), (400, "app.bad_setting"))
        st, body = n.api("PUT", "/api/v1/settings/limits.download", {"value": "fast"})
        self.assertEqual(st, 400, body)
        st, body = n.api("PUT", "/api/v1/settings/disk.io", {"value": "floppy"})
        self.assertEqual(st, 400, body)
        self.assertEqual(n.api("PUT", "/api/v1/settings/limits.download", {"wrong": 1})[0], 400)
        # A value the node could not use is refused with the setting's name, and not saved.
        for name, value in (("bt.listen", "garbage"), ("channel.listen", "[::]"), ("lan.port", 0),
                            ("dht.bootstrap", "a b:1"), ("safety.ipfilter", "/no/such/file.p2p")):
            st, body = n.api("PUT", "/api/v1/settings/" + name, {"value": value})
            self.assertEqual((st, body["error"]["code"]), (400, "app.bad_setting"), (name, body))
            self.assertIn(name, body["error"]["message"])
        self.assertFalse(os.path.exists(os.path.join(n.home, "config.toml")), "nothing was saved")

        st, body = n.api("PUT", "/api/v1/settings/limits.download", {"value": 250000})
        self.assertEqual(st, 200, body)
        self.assertEqual(body, {"name": "limits.download", "value": 250000, "applied": "live"})
        self.assertEqual(n.api("GET", "/api/v1/status")[1]["limits"]["download"], 250000)

        st, body = n.api("PUT", "/api/v1/settings/dht.bootstrap", {"value": ""})
        self.assertEqual(body["applied"], "restart")
        settings = {s["name"]: s for s in n.api("GET", "/api/v1/settings")[1]}
        self.assertEqual(settings["dht.bootstrap"]["pending"], "")
        self.assertNotEqual(settings["dht.bootstrap"]["value"], "")  # still the running value
        self.assertEqual(settings["limits.download"]["value"], 250000)

        with open(os.path.join(n.home, "config.toml")) as f:
            config = f.read()
        self.assertIn("download = 250000", config)
        self.assertRegex(config, r"bootstrap = (''|\"\")")
        # This run's --set overrides (the test-safe settings) must not become permanent.
        self.assertNotIn("listen", config)
        self.assertNotIn("dht.enabled", config)

        # After a restart the saved values are the node's own.
        self.assertEqual(n.stop(), 0)
        n.start_daemon()
        settings = {s["name"]: s for s in n.api("GET", "/api/v1/settings")[1]}
        self.assertEqual(settings["limits.download"]["value"], 250000)
        self.assertEqual(settings["dht.bootstrap"]["value"], "")
        self.assertNotIn("pending", settings["dht.bootstrap"])

    def test_qr_code_and_ui_login_link(self):
        n = self.node("qr")
        n.start_daemon()
        src = make_tree(os.path.join(self.tmpdir(), "one"), {"f.bin": 50000})
        shared = n.api_share({"path": src})
        st, svg = n.api("GET", "/api/v1/transfers/%s/qr.svg" % shared["id"])
        self.assertEqual(st, 200)
        self.assertTrue(svg.startswith("<svg"), svg[:100])
        self.assertIn("<path", svg)
        self.assertEqual(n.api("GET", "/api/v1/transfers/ffff/qr.svg")[0], 404)

        out = n.run_json("ui", "--json")
        self.assertRegex(out["url"], r"^http://%s/ui/login\?token=[0-9a-f]{64}$" % n.api_addr.replace(".", r"\."))
        self.assertFalse(out["opened"])
        # Opening it: 303 to /ui/ with a cookie, once.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
        try:
            opener.open(out["url"], timeout=30)
            self.fail("expected a 303")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 303)
            self.assertEqual(e.headers["Location"], "/ui/")
            self.assertIn("HttpOnly", e.headers["Set-Cookie"])
        with self.assertRaises(urllib.error.HTTPError) as again:
            opener.open(out["url"], timeout=30)
        self.assertEqual(again.exception.code, 403)

    def test_ui_without_daemon_says_so(self):
        n = self.node("nodaemon")
        cp = n.run("ui", check=False)
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertIn("kith daemon", cp.stderr)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    unittest.main()
