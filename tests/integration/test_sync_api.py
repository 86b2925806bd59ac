"""Folder sync's API and CLI against real daemons (docs/api.md § Folder sync, docs/cli.md § Folder sync):
folders added, listed, paused, rescanned and removed; devices added, shared with and removed; the 400s
for malformed bodies, the 404s and the 409; the node's device ID in `kith id`, stable across a restart;
the CLI's text and --json forms; what a node without a daemon says; and one folder offered by one
daemon and accepted by another."""
import http.client
import json
import os
import re
import shutil
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KithNode, KithTestCase, make_tree, sha256_tree  # noqa: E402

FOLDERS = "/api/v1/sync/folders"
DEVICES = "/api/v1/sync/devices"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

_SYNC_SETTINGS = []


def sync_settings():
    """Settings that keep folder sync's listener on loopback, on a free port, found in the node's own
    settings registry (`kith settings --json`) so that this file does not depend on their exact names:
    sync.listen* -> 127.0.0.1:0, sync.port -> 0."""
    if not _SYNC_SETTINGS:
        probe = KithNode("sync-settings")
        try:
            names = {s["name"]: s for s in probe.run_json("settings", "--json")}
        finally:
            probe.close()
        # Not a test's node (no _close_node): its sanitizer reports are looked at here.
        reports = probe.sanitizer_reports()
        if reports:
            raise AssertionError("sanitizer reports from the settings probe (kept in %s): %s" % (
                probe.sanitizer_dir, ", ".join(reports)))
        if probe.sanitizer_dir:
            shutil.rmtree(probe.sanitizer_dir, ignore_errors=True)
        out = {}
        for name, s in names.items():
            if name.startswith("sync.listen") and s["type"] == "string":
                out[name] = "127.0.0.1:0"
            elif name == "sync.port":
                out[name] = "0"
        _SYNC_SETTINGS.append(out)
    return dict(_SYNC_SETTINGS[0])


def digits(device_id):
    """A device ID's 56 digits (Syncthing writes them in 8 groups of 7, with dashes)."""
    return device_id.replace("-", "").replace(" ", "").upper()


def same_device(a, b):
    return digits(a) == digits(b)


class SyncApiTest(KithTestCase):

    def daemon(self, name="alice"):
        settings = {"profile.name": name}
        settings.update(sync_settings())
        n = self.node(name, settings)
        n.start_daemon()
        return n

    def api_ok(self, node, method, path, body=None, status=200):
        st, answer = node.api(method, path, body)
        self.assertEqual(st, status, (method, path, body, answer))
        return answer

    def assert_error(self, node, method, path, body, status, code=None):
        st, answer = node.api(method, path, body)
        self.assertEqual(st, status, (method, path, body, answer))
        self.assertIsInstance(answer, dict, answer)
        self.assertTrue(answer["error"]["message"], answer)
        if code:
            self.assertEqual(answer["error"]["code"], code, (method, path, body, answer))
        return answer["error"]

    def device_id(self, node):
        return node.run_json("id", "--json")["device_id"]

    # -- the node's own device ID ----------------------------------------------------------------

    def test_device_id_in_kith_id_is_stable_across_a_restart(self):
        n = self.daemon()
        ident = n.run_json("id", "--json")
        device = ident["device_id"]
        self.assertEqual(len(digits(device)), 56, device)
        self.assertTrue(all(c in ALPHABET for c in digits(device)), device)
        # Syncthing's canonical text: 8 groups of 7, or the 56 digits alone.
        self.assertTrue(re.fullmatch(r"([A-Z2-7]{7}-){7}[A-Z2-7]{7}|[A-Z2-7]{56}", device), device)
        self.assertIsInstance(ident["sync_port"], int)
        self.assertGreater(ident["sync_port"], 0)
        text = n.run("id").stdout
        self.assertIn("device ID: " + device, text)
        status, devices = n.api("GET", DEVICES)
        self.assertEqual(status, 200, devices)
        self.assertEqual(devices["device_id"], device)

        n.stop()
        n.start_daemon()
        self.assertEqual(self.device_id(n), device)

    def test_without_a_daemon_sync_says_it_runs_in_the_daemon(self):
        n = self.node("transient", sync_settings())
        ident = n.run_json("id", "--json")
        self.assertNotIn("device_id", ident)
        self.assertNotIn("sync_port", ident)
        self.assertNotIn("device ID", n.run("id").stdout)
        for args in (("sync", "list"), ("sync", "status"), ("sync", "device", "list"), ("sync", "pending")):
            cp = n.run(*args, check=False)
            self.assertEqual(cp.returncode, 1, (args, cp.stdout, cp.stderr))
            self.assertIn("daemon", cp.stderr)
            self.assertTrue(cp.stderr.startswith("kith: "), cp.stderr)
            self.assertEqual(cp.stderr.count("\n"), 1, cp.stderr)
        cp = n.run("sync", "list", "--json", check=False)
        self.assertEqual(cp.returncode, 1)
        self.assertIn("error", json.loads(cp.stdout))

    # -- folders and devices through the API -----------------------------------------------------

    def test_folders_and_devices_through_the_api(self):
        n = self.daemon()
        other = self.daemon("bob")
        bob = self.device_id(other)
        root = self.tmpdir()
        photos = make_tree(os.path.join(root, "photos"), {"a.jpg": 1000, "sub/b.jpg": 2000})

        folder = self.api_ok(n, "POST", FOLDERS, {"path": photos, "id": "photos-1", "label": "Photos"}, 201)
        self.assertEqual(folder["id"], "photos-1")
        self.assertEqual(folder["label"], "Photos")
        self.assertEqual(folder["path"], photos)
        self.assertEqual(folder["type"], "sendreceive")
        self.assertFalse(folder["paused"])
        self.assertEqual(folder["devices"], [])
        self.assertEqual(folder["held"], [])
        for key in ("state", "error", "local_files", "local_bytes", "global_files", "global_bytes", "need_files",
                    "need_bytes", "sequence", "last_scan"):
            self.assertIn(key, folder)

        # The scan finds the two files.
        def scanned():
            f = self.api_ok(n, "GET", FOLDERS + "/photos-1")
            return f if f["local_files"] == 2 and f["state"] == "idle" else None
        try:
            f = procutil.wait_for(scanned, 30, what="the first scan")
        except TimeoutError:
            print(self.api_ok(n, "GET", FOLDERS + "/photos-1"))
            raise
        self.assertEqual(f["local_bytes"], 3000)
        self.assertGreater(f["last_scan"], 0)
        listed = self.api_ok(n, "GET", FOLDERS)["folders"]
        self.assertEqual([x["id"] for x in listed], ["photos-1"])

        # The same id, or the same path, again: 409.
        self.assert_error(n, "POST", FOLDERS, {"path": os.path.join(root, "other"), "id": "photos-1"}, 409,
                          "sync.folder_exists")
        self.assert_error(n, "POST", FOLDERS, {"path": photos}, 409, "sync.folder_exists")
        # No id: a random one; a type other than the default is kept.
        music = os.path.join(root, "music")
        os.makedirs(music)
        second = self.api_ok(n, "POST", FOLDERS, {"path": music, "type": "receiveonly"}, 201)
        self.assertTrue(second["id"])
        self.assertEqual(second["type"], "receiveonly")

        # Pause, resume, rescan.
        self.assertEqual(self.api_ok(n, "POST", FOLDERS + "/photos-1/pause"), {"ok": True})
        paused = self.api_ok(n, "GET", FOLDERS + "/photos-1")
        self.assertTrue(paused["paused"])
        self.assertEqual(paused["state"], "paused")
        self.assertEqual(self.api_ok(n, "POST", FOLDERS + "/photos-1/resume"), {"ok": True})
        self.assertFalse(self.api_ok(n, "GET", FOLDERS + "/photos-1")["paused"])
        make_tree(photos, {"c.jpg": 500})
        self.assertEqual(self.api_ok(n, "POST", FOLDERS + "/photos-1/rescan"), {"ok": True})
        procutil.wait_for(lambda: self.api_ok(n, "GET", FOLDERS + "/photos-1")["local_files"] == 3, 30,
                          what="the rescan to find c.jpg")

        # Devices: sharing with one not added is 404; added, shared, unshared, removed.
        self.assert_error(n, "POST", FOLDERS + "/photos-1/devices", {"device": bob}, 404, "sync.unknown_device")
        device = self.api_ok(n, "POST", DEVICES, {"id": bob, "name": "bob", "addresses": ["127.0.0.1:9"]}, 201)
        self.assertTrue(same_device(device["id"], bob), device)
        self.assertEqual(device["name"], "bob")
        self.assertEqual(device["addresses"], ["127.0.0.1:9"])
        self.assertEqual(device["folders"], [])
        for key in ("connected", "address", "client"):
            self.assertIn(key, device)
        self.assertEqual(self.api_ok(n, "POST", FOLDERS + "/photos-1/devices", {"device": bob}), {"ok": True})
        shared = self.api_ok(n, "GET", FOLDERS + "/photos-1")["devices"]
        self.assertEqual(len(shared), 1, shared)
        self.assertTrue(same_device(shared[0]["device"], bob))
        self.assertEqual(shared[0]["name"], "bob")
        for key in ("connected", "completion", "need_files", "need_bytes"):
            self.assertIn(key, shared[0])
        devices = self.api_ok(n, "GET", DEVICES)
        self.assertEqual(len(devices["devices"]), 1)
        self.assertEqual(devices["devices"][0]["folders"], ["photos-1"])
        self.assertFalse(same_device(devices["device_id"], bob))
        self.assertEqual(self.api_ok(n, "DELETE", FOLDERS + "/photos-1/devices/" + bob), {"ok": True})
        self.assertEqual(self.api_ok(n, "GET", FOLDERS + "/photos-1")["devices"], [])
        # Shared at creation.
        os.makedirs(os.path.join(root, "docs"))
        third = self.api_ok(n, "POST", FOLDERS, {"path": os.path.join(root, "docs"), "devices": [bob]}, 201)
        self.assertTrue(same_device(third["devices"][0]["device"], bob), third)
        self.assertEqual(self.api_ok(n, "DELETE", DEVICES + "/" + bob), {"ok": True})
        self.assertEqual(self.api_ok(n, "GET", DEVICES)["devices"], [])
        self.assert_error(n, "DELETE", DEVICES + "/" + bob, None, 404, "sync.unknown_device")
        self.assert_error(n, "DELETE", FOLDERS + "/photos-1/devices/" + bob, None, 404)

        # Removing a folder keeps its files.
        self.assertEqual(self.api_ok(n, "DELETE", FOLDERS + "/photos-1"), {"ok": True})
        self.assertEqual(sorted(sha256_tree(photos)), ["a.jpg", "c.jpg", "sub/b.jpg"])
        self.assertNotIn("photos-1", [x["id"] for x in self.api_ok(n, "GET", FOLDERS)["folders"]])

        # Unknown folders: 404 everywhere.
        for method, path, body in (("GET", FOLDERS + "/photos-1", None), ("DELETE", FOLDERS + "/photos-1", None),
                                   ("POST", FOLDERS + "/nope/pause", None), ("POST", FOLDERS + "/nope/resume", None),
                                   ("POST", FOLDERS + "/nope/rescan", None),
                                   ("POST", FOLDERS + "/nope/devices", {"device": bob})):
            self.assert_error(n, method, path, body, 404,
                              None if path.endswith("/devices") else "sync.unknown_folder")
        # Nothing offered: an empty list, and accepting is 404.
        self.assertEqual(self.api_ok(n, "GET", "/api/v1/sync/pending"), {"folders": []})
        self.assert_error(n, "POST", "/api/v1/sync/pending/nope/accept", {"path": os.path.join(root, "x")}, 404,
                          "sync.not_offered")

    def test_malformed_requests_are_400(self):
        n = self.daemon()
        bob = self.device_id(n)  # well-formed; the node's own
        root = self.tmpdir()
        path = os.path.join(root, "f")
        bad_folders = [
            {}, {"path": ""}, {"path": 5}, {"path": None}, {"path": "relative/dir"},
            {"path": path, "type": "mirror"}, {"path": path, "type": 1},
            {"path": path, "label": "x" * 257}, {"path": path, "label": "a\x1b[2Jb"},
            {"path": "/" + "a" * 4096},
            {"path": path, "id": "a/b"}, {"path": path, "id": "has space"}, {"path": path, "id": "i" * 65},
            {"path": path, "id": ".."},
            {"path": path, "devices": ["not-a-device"]}, {"path": path, "devices": bob},
            {"path": path, "devices": [bob] * 33}, {"path": path, "devices": [1]},
            {"path": path, "lable": "typo"},
        ]
        for body in bad_folders:
            err = self.assert_error(n, "POST", FOLDERS, body, 400)
            self.assertEqual(err["code"], "base.bad_input", (body, err))
        self.assertIn("'path' is required", self.assert_error(n, "POST", FOLDERS, {}, 400)["message"])
        self.assertIn("sendreceive", self.assert_error(n, "POST", FOLDERS, {"path": path, "type": "x"}, 400)["message"])
        self.assertIn("256", self.assert_error(n, "POST", FOLDERS, {"path": path, "label": "x" * 300}, 400)["message"])
        # Not JSON, not an object.
        for raw in (b"", b"{", b"[]", b'"path"'):
            st, answer = self.raw_post(n, FOLDERS, raw)
            self.assertEqual(st, 400, (raw, answer))
        # Nothing was made by any of them.
        self.assertEqual(self.api_ok(n, "GET", FOLDERS), {"folders": []})
        self.assertFalse(os.path.exists(path))

        bad_devices = [
            {}, {"id": "nope"}, {"id": bob[:-3]}, {"id": bob, "addresses": ["no-port"]},
            {"id": bob, "addresses": ["udp://127.0.0.1:22000"]}, {"id": bob, "addresses": "127.0.0.1:22000"},
            {"id": bob, "addresses": ["127.0.0.1:%d" % (22000 + i) for i in range(17)]},
            {"id": bob, "name": "n" * 257}, {"id": bob, "name": 3}, {"id": bob, "folders": []},
        ]
        for body in bad_devices:
            self.assert_error(n, "POST", DEVICES, body, 400, "base.bad_input")
        self.assertEqual(self.api_ok(n, "GET", DEVICES)["devices"], [])

        self.api_ok(n, "POST", FOLDERS, {"path": path, "id": "f"}, 201)
        for body in ({}, {"device": "bad"}, {"device": 7}, {"device": bob, "more": 1}):
            self.assert_error(n, "POST", FOLDERS + "/f/devices", body, 400, "base.bad_input")
        for body in ({}, {"path": "relative"}, {"path": 1}):
            self.assert_error(n, "POST", "/api/v1/sync/pending/f/accept", body, 400, "base.bad_input")
        self.assert_error(n, "DELETE", DEVICES + "/not-a-device", None, 400, "base.bad_input")
        self.assert_error(n, "DELETE", FOLDERS + "/f/devices/not-a-device", None, 400, "base.bad_input")
        self.assert_error(n, "GET", FOLDERS + "/bad%20id", None, 400, "base.bad_input")

    def raw_post(self, node, path, data):
        host, port = node.api_addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request("POST", path, body=data, headers={"Authorization": "Bearer " + node.token,
                                                           "Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read() or b"null")
        finally:
            conn.close()

    # -- the CLI ---------------------------------------------------------------------------------

    def test_cli_text_and_json(self):
        n = self.daemon()
        other = self.daemon("bob")
        bob = self.device_id(other)
        root = self.tmpdir()
        make_tree(os.path.join(root, "photos"), {"a.jpg": 4096})

        # PATH is made absolute and normal before it reaches the daemon.
        folder = n.run_json("sync", "add", os.path.join(root, "x", "..", "photos") + "/", "--id", "photos",
                            "--label", "Photos", "--json")
        self.assertEqual(folder["path"], os.path.join(root, "photos"))
        self.assertEqual(folder["id"], "photos")
        os.makedirs(os.path.join(root, "music"))
        cp = n.run("sync", "add", os.path.join(root, "music"), "--id", "music", "--type", "sendonly")
        self.assertIn("music", cp.stdout)
        self.assertIn("kith sync share music", cp.stdout)

        listed = n.run_json("sync", "list", "--json")
        self.assertEqual(sorted(f["id"] for f in listed["folders"]), ["music", "photos"])
        text = n.run("sync", "list").stdout
        self.assertIn("photos", text)
        self.assertIn(os.path.join(root, "music"), text)
        self.assertEqual(sorted(f["id"] for f in n.run_json("sync", "status", "--json")["folders"]),
                         ["music", "photos"])
        self.assertEqual(n.run_json("sync", "status", "photos", "--json")["id"], "photos")
        # FOLDER may be the label or the path too.
        self.assertEqual(n.run_json("sync", "status", "Photos", "--json")["id"], "photos")
        self.assertEqual(n.run_json("sync", "status", os.path.join(root, "photos"), "--json")["id"], "photos")
        procutil.wait_for(lambda: n.run_json("sync", "status", "photos", "--json")["local_files"] == 1, 30,
                          what="the scan")
        status = n.run("sync", "status", "photos").stdout
        for word in ("Photos (photos)", "state", "local", "1 file, 4.0 KiB", "global", "kith sync share photos"):
            self.assertIn(word, status)
        everything = n.run("sync", "status").stdout
        self.assertIn("Photos (photos)", everything)
        self.assertIn("music", everything)

        # Devices, by ID and then by name.
        device = n.run_json("sync", "device", "add", bob, "--name", "bob", "--addr", "127.0.0.1:9", "--json")
        self.assertTrue(same_device(device["id"], bob))
        devices = n.run_json("sync", "device", "list", "--json")
        self.assertEqual(devices["device_id"], self.device_id(n))
        self.assertEqual(len(devices["devices"]), 1)
        text = n.run("sync", "device", "list").stdout
        self.assertIn("this device: " + self.device_id(n), text)
        self.assertIn("bob", text)
        self.assertIn("not connected", text)
        self.assertEqual(n.run_json("sync", "share", "photos", "bob", "--json"), {"ok": True})
        self.assertIn("bob", n.run("sync", "status", "photos").stdout)
        self.assertEqual(n.run_json("sync", "unshare", "photos", bob, "--json"), {"ok": True})
        self.assertIn("shared Photos (photos) with " + bob, n.run("sync", "share", "photos", bob).stdout)

        self.assertEqual(n.run_json("sync", "pause", "photos", "--json"), {"ok": True})
        self.assertIn("kith sync resume photos", n.run("sync", "status", "photos").stdout)
        self.assertIn("resumed", n.run("sync", "resume", "Photos").stdout)
        self.assertEqual(n.run_json("sync", "rescan", "photos", "--json"), {"ok": True})
        self.assertEqual(n.run_json("sync", "pending", "--json"), {"folders": []})
        self.assertIn("no folders offered", n.run("sync", "pending").stdout)
        self.assertIn("its files stay in " + os.path.join(root, "photos"), n.run("sync", "remove", "photos").stdout)
        self.assertTrue(os.path.exists(os.path.join(root, "photos", "a.jpg")))
        self.assertIn("removed device", n.run("sync", "device", "remove", "bob").stdout)
        self.assertEqual(n.run_json("sync", "device", "list", "--json")["devices"], [])

        # Errors: one line on stderr, exit 2, and with --json the error object.
        for args in (("sync", "status", "nope"), ("sync", "pause", "nope"), ("sync", "add", root + "/m2", "--type", "x"),
                     ("sync", "add", os.path.join(root, "music")), ("sync", "device", "add", "not-a-device"),
                     ("sync", "device", "remove", bob), ("sync", "accept", "nope", root + "/n")):
            cp = n.run(*args, check=False)
            self.assertEqual(cp.returncode, 2, (args, cp.stdout, cp.stderr))
            self.assertTrue(cp.stderr.startswith("kith: "), cp.stderr)
            self.assertEqual(cp.stderr.count("\n"), 1, cp.stderr)
            cp = n.run(*args, "--json", check=False)
            self.assertEqual(cp.returncode, 2)
            self.assertTrue(json.loads(cp.stdout)["error"]["message"])

    # -- events ----------------------------------------------------------------------------------

    def test_event_stream_carries_folder_changes(self):
        n = self.daemon()
        host, port = n.api_addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", "/api/v1/events", headers={"Authorization": "Bearer " + n.token})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        seen = []

        def read():
            event = None
            for raw in resp:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    seen.append((event, json.loads(line[6:])))
                    if event == "sync.folder" and seen[-1][1]["folder"]["local_files"] == 1:
                        return
        t = threading.Thread(target=read, daemon=True)
        t.start()
        path = make_tree(os.path.join(self.tmpdir(), "evt"), {"one.txt": 10})
        self.api_ok(n, "POST", FOLDERS, {"path": path, "id": "evt"}, 201)
        t.join(30)
        conn.close()
        folders = [d["folder"] for e, d in seen if e == "sync.folder"]
        self.assertTrue(folders, seen)
        self.assertTrue(all(f["id"] == "evt" for f in folders), folders)
        self.assertEqual(folders[-1]["local_files"], 1, folders)

    # -- two daemons: an offer, accepted ---------------------------------------------------------

    def test_a_folder_offered_by_one_daemon_is_accepted_by_the_other(self):
        alice, bob = self.daemon("alice"), self.daemon("bob")
        a_id, b_id = alice.run_json("id", "--json"), bob.run_json("id", "--json")
        self.api_ok(alice, "POST", DEVICES, {"id": b_id["device_id"], "name": "bob",
                                            "addresses": ["127.0.0.1:%d" % b_id["sync_port"]]}, 201)
        self.api_ok(bob, "POST", DEVICES, {"id": a_id["device_id"], "name": "alice",
                                          "addresses": ["127.0.0.1:%d" % a_id["sync_port"]]}, 201)
        src = make_tree(os.path.join(self.tmpdir(), "shared"), {"a.txt": 1000, "dir/b.bin": 70000})
        self.api_ok(alice, "POST", FOLDERS, {"path": src, "id": "team-1", "label": "Team",
                                             "devices": [b_id["device_id"]]}, 201)

        def offered():
            folders = self.api_ok(bob, "GET", "/api/v1/sync/pending")["folders"]
            return folders[0] if folders else None
        offer = procutil.wait_for(offered, 60, what="alice's offer at bob")
        self.assertEqual(offer["id"], "team-1")
        self.assertEqual(offer["label"], "Team")
        self.assertTrue(same_device(offer["device"], a_id["device_id"]))
        self.assertEqual(offer["device_name"], "alice")
        self.assertIn("kith sync accept team-1 PATH", bob.run("sync", "pending").stdout)

        dest = os.path.join(self.tmpdir(), "team")
        cp = bob.run("sync", "accept", "team-1", dest)
        self.assertIn("syncing folder Team (team-1) into " + dest, cp.stdout)
        procutil.wait_for(lambda: sha256_tree(dest).keys() >= {"a.txt", "dir/b.bin"}, 60, what="the files at bob")
        self.assertEqual({k: v for k, v in sha256_tree(dest).items() if not k.startswith(".st")},
                         sha256_tree(src))
        self.assertEqual(self.api_ok(bob, "GET", "/api/v1/sync/pending"), {"folders": []})
        at_bob = self.api_ok(bob, "GET", FOLDERS + "/team-1")
        self.assertTrue(same_device(at_bob["devices"][0]["device"], a_id["device_id"]))
        procutil.wait_for(lambda: self.api_ok(alice, "GET", DEVICES)["devices"][0]["connected"], 30,
                          what="bob connected at alice")

        # Recent changes (docs/sync.md § Recent changes): bob lists what it pulled as alice's changes,
        # alice what her scan found as her own.
        def changes(node):
            answer = node.run_json("sync", "changes", "team-1", "--json")
            self.assertEqual([f["id"] for f in answer["folders"]], ["team-1"])
            return answer["folders"][0]["changes"]
        at_bob = {c["name"]: c for c in reversed(changes(bob))}  # the newest per name
        for name in ("a.txt", "dir/b.bin"):
            self.assertEqual(at_bob[name]["action"], "updated", at_bob)
            self.assertEqual(at_bob[name]["type"], "file", at_bob)
            self.assertTrue(same_device(at_bob[name]["device"], a_id["device_id"]), at_bob[name])
            self.assertEqual(at_bob[name]["device_name"], "alice")
        self.assertEqual(at_bob["dir"]["type"], "directory")
        self.assertEqual(self.api_ok(bob, "GET", FOLDERS + "/team-1/changes")["changes"], changes(bob))
        at_alice = {c["name"]: c for c in changes(alice)}
        self.assertTrue(same_device(at_alice["a.txt"]["device"], a_id["device_id"]), at_alice)
        text = bob.run("sync", "changes").stdout
        self.assertRegex(text, r"updated\s+file\s+a\.txt  by alice \(")
        self.assertIn("by this device", alice.run("sync", "changes", "Team").stdout)

        # A name with control characters (from a peer) prints escaped, not as terminal commands.
        with open(os.path.join(src, "evil\x1b[2J.txt"), "w") as f:
            f.write("x")
        self.api_ok(alice, "POST", FOLDERS + "/team-1/rescan")
        procutil.wait_for(lambda: any(c["name"] == "evil\x1b[2J.txt" for c in changes(bob)), 60,
                          what="the escaped name in bob's recent changes")
        text = bob.run("sync", "changes", "team-1").stdout
        self.assertNotIn("\x1b", text)
        self.assertIn("evil", text)

        # A file that can run code arrives clean but flagged, as downloads flag them (docs/safety.md).
        with open(os.path.join(src, "run.sh"), "w") as f:
            f.write("#!/bin/sh\necho hello\n")
        self.api_ok(alice, "POST", FOLDERS + "/team-1/rescan")
        arrived = procutil.wait_for(lambda: next((c for c in changes(bob) if c["name"] == "run.sh"), None), 60,
                                    what="run.sh in bob's recent changes")
        self.assertEqual(arrived["action"], "updated")
        self.assertNotEqual(arrived["runnable"], "", arrived)
        self.assertIn("can run code: " + arrived["runnable"], bob.run("sync", "changes", "team-1").stdout)
        self.assertEqual(at_bob["a.txt"]["runnable"], "")  # a data file is not

        os.remove(os.path.join(src, "a.txt"))
        self.api_ok(alice, "POST", FOLDERS + "/team-1/rescan")
        newest = procutil.wait_for(lambda: next((c for c in changes(bob) if c["name"] == "a.txt"
                                                 and c["action"] == "deleted"), None), 60,
                                   what="the deletion in bob's recent changes")
        self.assertTrue(same_device(newest["device"], a_id["device_id"]), newest)
        self.assertEqual(changes(bob)[0]["name"], "a.txt")  # newest first
        self.assertFalse(os.path.exists(os.path.join(dest, "a.txt")))
        self.assertEqual(changes(alice)[0]["action"], "deleted")
        self.assert_error(bob, "GET", FOLDERS + "/nope/changes", None, 404)


if __name__ == "__main__":
    unittest.main()
