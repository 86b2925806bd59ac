"""The safety check on real nodes: every download is scanned with ClamAV (a test database built by
tests/clamav/make_test_db.sh) before release; anything infected, not fully scanned or unscannable
goes to HOME/quarantine instead, and never into the destination. Also: release/delete from
quarantine, reports, files that can run code, and a scan that never finished."""
import ctypes
import json
import os
import sqlite3
import struct
import subprocess
import threading
import unittest

from kithtest import KithTestCase, eicar_bytes, make_tree, procutil

IN_CREATE = 0x100
IN_MOVED_TO = 0x80
IN_CLOSE_WRITE = 0x8


class DirWatch:
    """Records every name created or moved into a folder (Linux inotify), so a test can prove a file
    never appeared there, not even for a moment."""

    def __init__(self, path):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if self.libc.inotify_add_watch(self.fd, path.encode(), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch")
        self.names = []

    def poll(self):
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.names
            i = 0
            while i < len(buf):
                _wd, _mask, _cookie, length = struct.unpack_from("iIII", buf, i)
                name = buf[i + 16:i + 16 + length].rstrip(b"\0").decode()
                self.names.append(name)
                i += 16 + length

    def close(self):
        os.close(self.fd)


class SafetyTest(KithTestCase):
    def seeder(self):
        a = self.node("seeder")
        a.start_daemon()
        return a

    def share(self, node, path):
        return node.run_json("share", path, "--json")

    def wait_state(self, node, tid, states, timeout=120):
        def done():
            t = node.run_json("show", tid, "--json")
            return t if t["state"] in states else None
        return procutil.wait_for(done, timeout, what="transfer %s in %s" % (tid[:8], states))

    def write(self, path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_eicar_is_quarantined_and_never_reaches_the_destination(self):
        a = self.seeder()
        src = os.path.join(self.tmpdir(), "pack")
        self.write(os.path.join(src, "readme.txt"), b"hello\n")
        self.write(os.path.join(src, "tools", "eicar.com"), eicar_bytes())
        shared = self.share(a, src)

        b = self.node("leecher")
        b.start_daemon()
        dest = self.tmpdir()
        watch = DirWatch(dest)
        self.addCleanup(watch.close)
        cp = b.run("get", shared["magnet"], "--to", dest, "--json", check=False, timeout=180)
        self.assertEqual(cp.returncode, 3, cp.stderr)
        self.assertIn("quarantined", cp.stderr)
        events = [json.loads(l) for l in cp.stdout.splitlines() if l.startswith("{")]
        q_events = [e for e in events if e.get("event") == "quarantined"]
        self.assertEqual(len(q_events), 1, cp.stdout[-2000:])
        self.assertEqual(q_events[0]["outcome"], "infected")
        self.assertTrue(q_events[0]["signature"].startswith("Kith.Test.Eicar"), q_events[0])

        self.assertEqual(os.listdir(dest), [])
        self.assertEqual(watch.poll(), [], "something appeared in the destination")
        items = b.run_json("quarantine", "list", "--json")
        self.assertEqual([q["id"] for q in items], [shared["id"]])
        item = b.run_json("quarantine", "show", shared["id"][:8], "--json")
        self.assertEqual(item["state"], "held")
        self.assertIn("tools/eicar.com", item["reason"])
        held_in = os.path.join(b.home, "quarantine", shared["id"], "pack", "tools", "eicar.com")
        procutil.wait_for(lambda: os.path.exists(held_in), 30, what="data in HOME/quarantine")
        self.assertEqual(item["peers"][0]["endpoint"], "127.0.0.1:%d" % a.bt_port)
        t = b.run_json("show", shared["id"], "--json")
        self.assertEqual(t["state"], "quarantined")
        self.assertEqual(t["upload_rate"], 0)
        status = b.run_json("status", "--json")
        self.assertEqual(status["quarantined"], 1)
        # Resuming it would seed what was held back: refused.
        cp = b.run("resume", shared["id"][:8], check=False)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertIn("quarantine release", cp.stderr)
        self.assertEqual(status["safety"]["scanner"], "ready")
        # The API says the same.
        code, body = b.api("GET", "/api/v1/quarantine")
        self.assertEqual(code, 200)
        self.assertEqual(body[0]["outcome"], "infected")

        # A report for the administrator: hashes, signature, peers, link.
        rep = b.run_json("report", shared["id"][:8], "--reason", "EICAR in a public pack", "--json")
        self.assertTrue(rep["path"].startswith(os.path.join(b.home, "reports")))
        with open(rep["path"]) as f:
            on_disk = json.load(f)
        self.assertEqual(on_disk["outcome"], "infected")
        self.assertEqual(on_disk["reason"], "EICAR in a public pack")
        self.assertEqual(on_disk["link"], shared["magnet"])
        files = {f["path"]: f["sha256"] for f in on_disk["files"]}
        self.assertEqual(files["pack/tools/eicar.com"],
                         "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")
        self.assertEqual(len(b.run_json("reports", "--json")), 1)

        # Deleting takes the data and the transfer; the record stays as history.
        b.run("quarantine", "delete", shared["id"][:8])
        self.assertEqual(b.run_json("quarantine", "list", "--json"), [])
        history = b.run_json("quarantine", "list", "--all", "--json")
        self.assertEqual(history[0]["state"], "deleted")
        self.assertFalse(os.path.exists(os.path.join(b.home, "quarantine", shared["id"])))
        self.assertEqual(b.run_json("list", "--json"), [])
        self.assertEqual(watch.poll(), [])

    def test_encrypted_zip_stays_quarantined_until_released(self):
        a = self.seeder()
        work = self.tmpdir()
        self.write(os.path.join(work, "secret.txt"), b"nothing to see\n" * 100)
        src = os.path.join(self.tmpdir(), "locked.zip")
        subprocess.run(["zip", "-q", "-j", "-P", "password", src, os.path.join(work, "secret.txt")], check=True)
        shared = self.share(a, src)

        b = self.node("leecher")  # transient: no daemon
        dest = self.tmpdir()
        cp = b.run("get", shared["magnet"], "--to", dest, check=False, timeout=180)
        self.assertEqual(cp.returncode, 3, cp.stderr)
        self.assertIn("not fully scanned", cp.stderr)
        self.assertIn("Encrypted", cp.stderr)
        self.assertEqual(os.listdir(dest), [])
        item = b.run_json("quarantine", "show", shared["id"], "--json")
        self.assertEqual(item["outcome"], "incomplete")

        # The user's explicit decision releases it, byte for byte.
        b.run("quarantine", "release", shared["id"][:8])
        with open(os.path.join(dest, "locked.zip"), "rb") as f, open(src, "rb") as g:
            self.assertEqual(f.read(), g.read())
        self.assertEqual(b.run_json("quarantine", "list", "--json"), [])
        self.assertEqual(b.run_json("quarantine", "list", "--all", "--json")[0]["state"], "released")
        t = b.run_json("list", "--json")[0]
        self.assertTrue(t["released"])

    def test_clean_files_are_released_and_runnable_ones_flagged(self):
        a = self.seeder()
        src = os.path.join(self.tmpdir(), "kit")
        make_tree(src, {"data.bin": 300000})
        self.write(os.path.join(src, "install.sh"), b"#!/bin/sh\necho installing\n")
        shared = self.share(a, src)

        b = self.node("leecher")
        dest = self.tmpdir()
        cp = b.run("get", shared["magnet"], "--to", dest, timeout=180)
        self.assertIn("can run code", cp.stderr)
        self.assertTreesEqual(src, os.path.join(dest, "kit"))
        t = b.run_json("show", shared["id"], "--json")
        self.assertEqual(t["state"], "completed")
        self.assertEqual(t["runnable"], ["kit/install.sh"])

        # With safety.hold_runnable, the same clean download is held instead.
        c = self.node("careful", settings={"safety.hold_runnable": "true"})
        dest2 = self.tmpdir()
        cp = c.run("get", shared["magnet"], "--to", dest2, check=False, timeout=180)
        self.assertEqual(cp.returncode, 3, cp.stderr)
        self.assertEqual(os.listdir(dest2), [])
        self.assertEqual(c.run_json("quarantine", "list", "--json")[0]["outcome"], "held_runnable")

    def test_without_signatures_everything_is_held(self):
        a = self.seeder()
        src = os.path.join(self.tmpdir(), "plain.txt")
        self.write(src, b"just text\n")
        shared = self.share(a, src)
        b = self.node("nodb", settings={"safety.signatures": ""})
        status = b.run_json("status", "--json")
        self.assertEqual(status["safety"]["scanner"], "unavailable")
        self.assertIn("no ClamAV signature database", status["safety"]["reason"])
        dest = self.tmpdir()
        cp = b.run("get", shared["magnet"], "--to", dest, check=False, timeout=180)
        self.assertEqual(cp.returncode, 3, cp.stderr)
        self.assertEqual(os.listdir(dest), [])
        self.assertEqual(b.run_json("quarantine", "list", "--json")[0]["outcome"], "no_database")

    def test_scan_that_never_finished_quarantines(self):
        a = self.seeder()
        src = os.path.join(self.tmpdir(), "plain.txt")
        self.write(src, b"clean, but its scan was cut short\n")
        shared = self.share(a, src)
        b = self.node("crashed")
        b.run("status")  # creates the home and its database
        # What a node killed (or a scanner crashed) in the middle of a scan leaves behind.
        with sqlite3.connect(os.path.join(b.home, "state.sqlite")) as db:
            db.execute("INSERT INTO kv (key, value) VALUES (?, ?)", ("scanning:" + shared["id"], b"1"))
        dest = self.tmpdir()
        cp = b.run("get", shared["magnet"], "--to", dest, check=False, timeout=180)
        self.assertEqual(cp.returncode, 3, cp.stderr)
        self.assertIn("scan never finished", cp.stderr)
        self.assertEqual(os.listdir(dest), [])

    def test_publisher_signatures(self):
        a = self.seeder()
        src = os.path.join(self.tmpdir(), "signed.txt")
        self.write(src, b"from a known publisher\n")
        me = a.run_json("status", "--json")["user_id"]
        self.assertEqual(len(me), 55)
        shared = a.run_json("share", src, "--sign", "--json")
        self.assertIn("x.kith.pk=" + me, shared["magnet"])
        self.assertTrue(shared["publisher"]["you"])

        b = self.node("getter")
        dest = self.tmpdir()
        cp = b.run("get", shared["magnet"], "--to", dest, timeout=180)
        self.assertIn("signed by unknown key " + me, cp.stderr)
        t = b.run_json("show", shared["id"], "--json")
        self.assertEqual(t["publisher"], {"signed": True, "id": me, "you": False})
        self.assertIn("x.kith.sig=", t["magnet"], "a signed link is handed on signed")

        # One hex digit changed in the signature: refused before anything is fetched.
        sig_at = shared["magnet"].index("x.kith.sig=") + len("x.kith.sig=")
        digit = shared["magnet"][sig_at]
        tampered = shared["magnet"][:sig_at] + ("1" if digit != "1" else "2") + shared["magnet"][sig_at + 1:]
        c = self.node("wary", settings={"safety.require_signed": "true"})
        cp = c.run("get", tampered, "--to", self.tmpdir(), check=False, timeout=60)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertIn("does not match its content", cp.stderr)
        # require_signed refuses an unsigned link, accepts the signed one.
        plain = self.write(os.path.join(self.tmpdir(), "plain.txt"), b"anyone's\n")
        unsigned = a.run_json("share", plain, "--json")
        cp = c.run("get", unsigned["magnet"], "--to", self.tmpdir(), check=False, timeout=60)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertIn("require_signed", cp.stderr)
        c.run("get", shared["magnet"], "--to", self.tmpdir(), timeout=180)
        self.assertEqual(c.run_json("list", "--json")[0]["state"], "completed")


if __name__ == "__main__":
    unittest.main()
