"""Files folder sync held back by the safety check, released or deleted by the user (docs/sync.md
§ Pulling, "Held back"): `kith quarantine release` puts the held version into the folder as a pull
would (and it stays there after a restart, not fetched again); a release once a newer version is the
folder's is refused, saying what to do, and the newer version arrives as usual; `kith quarantine
delete` removes the held copy and the folder still does not fetch that version."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KithTestCase, eicar_bytes, signature_settings  # noqa: E402
from sync_util import folder, rescan, sync_pair, wait_content, wait_idle  # noqa: E402


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


class SyncQuarantineTest(KithTestCase):

    def hold(self, alice, bob, adir, bdir, name="tools/evil.com", data=None):
        """Alice's folder gets an EICAR file; bob holds it back. Returns bob's held item."""
        write(os.path.join(adir, name), data or eicar_bytes())
        rescan(self, alice, "team")

        def held():
            f = folder(self, bob, "team")
            return next((h for h in f["held"] if h["name"] == name), None)
        item = procutil.wait_for(held, 60, what=name + " held back")
        self.assertFalse(os.path.exists(os.path.join(bdir, name)))
        return item

    def quarantine(self, node, qid):
        return node.run_json("quarantine", "show", qid, "--json")

    def restart(self, node):
        """Stops and starts the daemon, then waits until it is connected to the other one again."""
        node.stop()
        node.start_daemon()
        procutil.wait_for(lambda: all(d["connected"] for d in folder(self, node, "team")["devices"]), 30,
                          what="connected again")

    def held_names(self, node):
        status = node.run_json("sync", "status", "team", "--json")
        return [h["name"] for h in status["held"]]

    def test_release_places_the_held_version(self):
        alice, bob, adir, bdir = sync_pair(self, **signature_settings())
        item = self.hold(alice, bob, adir, bdir)
        qid = item["quarantine_id"]
        self.assertTrue(qid.startswith("sync-"), item)
        self.assertEqual(self.quarantine(bob, qid)["state"], "held")

        out = bob.run_json("quarantine", "release", qid, "--json")
        self.assertEqual(out, {"id": qid, "action": "release", "ok": True})
        target = os.path.join(bdir, "tools", "evil.com")
        wait_content(target, eicar_bytes(), timeout=5)  # placed before the command answered
        with open(os.path.join(adir, "tools", "evil.com"), "rb") as f:
            self.assertEqual(f.read(), eicar_bytes())
        q = self.quarantine(bob, qid)
        self.assertEqual(q["state"], "released")
        self.assertGreater(q["resolved_at"], 0)
        self.assertEqual(self.held_names(bob), [])
        self.assertFalse(os.path.exists(os.path.join(bob.home, "quarantine", qid)))
        self.assertEqual([n for n in os.listdir(os.path.join(bdir, "tools")) if n.startswith(".syncthing.")], [])
        # As a pull records it: a recent change "updated", and bob's index has alice's version.
        changes = bob.run_json("sync", "changes", "team", "--json")["folders"][0]["changes"]
        self.assertEqual((changes[0]["name"], changes[0]["action"]), ("tools/evil.com", "updated"), changes)
        view = wait_idle(self, bob, "team")
        self.assertEqual(view["need_files"], 0)
        # A second release is refused: the item is not held any more.
        cp = bob.run("quarantine", "release", qid, check=False)
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("no longer held", cp.stderr)

        # After a restart it stays in place, is not held again and not fetched again.
        fetched = view["bytes_fetched"]
        st_before = os.stat(target)
        self.restart(bob)
        rescan(self, bob, "team")
        view = wait_idle(self, bob, "team")
        self.assertEqual(view["held"], [])
        self.assertEqual(view["bytes_fetched"], 0)  # counted since this start: nothing pulled
        self.assertLessEqual(fetched, len(eicar_bytes()) * 2)
        st_after = os.stat(target)
        self.assertEqual((st_before.st_ino, st_before.st_mtime_ns), (st_after.st_ino, st_after.st_mtime_ns))
        with open(target, "rb") as f:
            self.assertEqual(f.read(), eicar_bytes())
        self.assertEqual([q["id"] for q in bob.run_json("quarantine", "list", "--json")], [])

    def test_release_after_a_newer_version_is_refused(self):
        alice, bob, adir, bdir = sync_pair(self, **signature_settings())
        item = self.hold(alice, bob, adir, bdir, name="run.com")
        qid = item["quarantine_id"]
        # Alice replaces the file: the newer version is clean and arrives as usual.
        write(os.path.join(adir, "run.com"), b"harmless now\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "run.com"), b"harmless now\n")
        wait_idle(self, bob, "team")

        cp = bob.run("quarantine", "release", qid, "--json", check=False)
        self.assertNotEqual(cp.returncode, 0, cp.stdout)
        err = json.loads(cp.stdout)["error"]
        self.assertIn("newer version", err["message"])
        self.assertIn("kith quarantine delete " + qid, err["message"])
        status, body = bob.api("POST", "/api/v1/quarantine/%s/release" % qid)
        self.assertEqual(status, 409, body)
        self.assertEqual(body["error"]["code"], "sync.not_releasable", body)
        # Nothing placed: the newer version stays; the held copy is still there to delete.
        with open(os.path.join(bdir, "run.com"), "rb") as f:
            self.assertEqual(f.read(), b"harmless now\n")
        self.assertEqual(self.quarantine(bob, qid)["state"], "held")
        self.assertEqual(self.held_names(bob), ["run.com"])

        bob.run_json("quarantine", "delete", qid, "--json")
        self.assertEqual(self.quarantine(bob, qid)["state"], "deleted")
        self.assertNotIn("location", self.quarantine(bob, qid))
        self.assertEqual(self.held_names(bob), [])
        with open(os.path.join(bdir, "run.com"), "rb") as f:
            self.assertEqual(f.read(), b"harmless now\n")

    def test_delete_removes_the_copy_and_keeps_the_version_out(self):
        alice, bob, adir, bdir = sync_pair(self, **signature_settings())
        item = self.hold(alice, bob, adir, bdir)
        qid = item["quarantine_id"]
        qdir = os.path.join(bob.home, "quarantine", qid)
        self.assertTrue(os.path.isdir(qdir))
        self.assertEqual(os.path.realpath(self.quarantine(bob, qid)["location"]), os.path.realpath(qdir))

        out = bob.run_json("quarantine", "delete", qid, "--json")
        self.assertEqual(out, {"id": qid, "action": "delete", "ok": True})
        procutil.wait_for(lambda: not os.path.exists(qdir), 10, what="the held copy removed")
        self.assertEqual(self.quarantine(bob, qid)["state"], "deleted")
        self.assertEqual(self.held_names(bob), [])
        cp = bob.run("quarantine", "release", qid, check=False)
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("no longer held", cp.stderr)

        # The user said no to that version: not fetched again, also after a restart.
        self.restart(bob)
        rescan(self, alice, "team")
        rescan(self, bob, "team")
        # Idle with alice's index planned (the file counts in the global state), nothing pulled.
        view = procutil.wait_for(lambda: (lambda f: f if f["state"] == "idle" and f["global_files"] >= 1 else None)(
            folder(self, bob, "team")), 30, what="idle with alice's index")
        self.assertEqual(view["held"], [])
        self.assertEqual(view["bytes_fetched"], 0)
        self.assertFalse(os.path.exists(os.path.join(bdir, "tools", "evil.com")))
        self.assertEqual([q["id"] for q in bob.run_json("quarantine", "list", "--json")], [])
        self.assertFalse(os.path.exists(os.path.join(bob.home, "quarantine")) and
                         [d for d in os.listdir(os.path.join(bob.home, "quarantine")) if d.startswith("sync-")])


if __name__ == "__main__":
    unittest.main()
