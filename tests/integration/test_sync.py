"""Folder sync between two kith daemons over BEP on loopback (docs/sync.md): an offered folder
accepted into a path of the receiver's choice, changes both ways (create, modify, delete, rename), a
conflict edited on both sides while apart keeps both versions, a receive-only folder keeps its local
change, and a device that was not added is refused."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KithTestCase, signature_settings  # noqa: E402
from sync_util import add_device, api_ok, folder, rescan, sync_daemon, wait_content, wait_gone, wait_idle, sync_pair  # noqa: E402


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


class SyncTest(KithTestCase):

    def pair(self, folder_type="sendreceive"):
        """Two daemons that know each other; alice offers folder "team", bob accepts it."""
        alice, bob, adir, bdir = sync_pair(self, **signature_settings())
        if folder_type != "sendreceive":
            api_ok(self, bob, "DELETE", "/api/v1/sync/folders/team")
            api_ok(self, bob, "POST", "/api/v1/sync/folders",
                   {"path": bdir, "id": "team", "type": folder_type, "devices": [alice.device_id]})
        return alice, bob, adir, bdir

    def test_changes_flow_both_ways(self):
        alice, bob, adir, bdir = self.pair()
        write(os.path.join(adir, "notes.txt"), b"first draft\n")
        write(os.path.join(adir, "audio", "take1.wav"), os.urandom(700 * 1024))
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "notes.txt"), b"first draft\n")
        with open(os.path.join(adir, "audio", "take1.wav"), "rb") as f:
            take1 = f.read()
        wait_content(os.path.join(bdir, "audio", "take1.wav"), take1)

        # Bob edits and adds; alice gets both.
        write(os.path.join(bdir, "notes.txt"), b"second draft, by bob\n")
        write(os.path.join(bdir, "audio", "take2.wav"), b"RIFF....WAVE")
        rescan(self, bob, "team")
        wait_content(os.path.join(adir, "notes.txt"), b"second draft, by bob\n")
        wait_content(os.path.join(adir, "audio", "take2.wav"), b"RIFF....WAVE")

        # A rename moves no data; a deletion propagates.
        before = wait_idle(self, bob, "team")
        os.rename(os.path.join(adir, "audio", "take1.wav"), os.path.join(adir, "take1-final.wav"))
        os.remove(os.path.join(adir, "audio", "take2.wav"))
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "take1-final.wav"), take1)
        wait_gone(os.path.join(bdir, "audio", "take1.wav"))
        wait_gone(os.path.join(bdir, "audio", "take2.wav"))
        after = wait_idle(self, bob, "team")
        self.assertEqual(after["bytes_fetched"], before["bytes_fetched"])
        self.assertGreaterEqual(after["bytes_reused"] - before["bytes_reused"], len(take1))

        # A case-only rename is a rename like any other here (case-sensitive file systems; see
        # docs/sync.md § Not yet for case-insensitive ones): the new name appears, the old one goes,
        # and no data moves.
        before = wait_idle(self, alice, "team")
        os.rename(os.path.join(bdir, "take1-final.wav"), os.path.join(bdir, "Take1-Final.wav"))
        rescan(self, bob, "team")
        wait_content(os.path.join(adir, "Take1-Final.wav"), take1)
        wait_gone(os.path.join(adir, "take1-final.wav"))
        after = wait_idle(self, alice, "team")
        self.assertEqual(after["bytes_fetched"], before["bytes_fetched"])

        # Both sides see each other connected and in sync.
        a = wait_idle(self, alice, "team")
        self.assertEqual([d["connected"] for d in a["devices"]], [True])
        procutil.wait_for(lambda: folder(self, alice, "team")["devices"][0]["completion"] == 100, 30,
                          what="alice to see bob complete")

    def test_a_change_is_seen_without_a_rescan(self):
        # The folders' periodic rescans are an hour apart here: only the inotify watcher can see these.
        alice, bob, adir, bdir = self.pair()
        wait_idle(self, alice, "team")
        write(os.path.join(adir, "new", "idea.txt"), b"written, not announced\n")
        wait_content(os.path.join(bdir, "new", "idea.txt"), b"written, not announced\n", timeout=20)
        os.remove(os.path.join(bdir, "new", "idea.txt"))
        wait_gone(os.path.join(adir, "new", "idea.txt"), timeout=20)

    def test_a_conflict_keeps_both_versions(self):
        alice, bob, adir, bdir = self.pair()
        write(os.path.join(adir, "song.txt"), b"verse one\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "song.txt"), b"verse one\n")
        wait_idle(self, bob, "team")

        # Apart: bob's daemon stops, both edit, bob's edit is the later one.
        bob.stop()
        write(os.path.join(adir, "song.txt"), b"verse one, alice's way\n")
        rescan(self, alice, "team")
        time.sleep(1.1)
        write(os.path.join(bdir, "song.txt"), b"verse one, bob's way\n")
        bob.start_daemon()
        rescan(self, bob, "team")

        # The newer edit (bob's) wins everywhere; alice's is kept beside it as a conflict copy.
        def settled(root):
            names = os.listdir(root)
            conflicts = [n for n in names if n.startswith("song.sync-conflict-") and n.endswith(".txt")]
            return conflicts if conflicts else None
        for root in (adir, bdir):
            wait_content(os.path.join(root, "song.txt"), b"verse one, bob's way\n")
            conflicts = procutil.wait_for(lambda: settled(root), 60, what="a conflict copy in %s" % root)
            with open(os.path.join(root, conflicts[0]), "rb") as f:
                self.assertEqual(f.read(), b"verse one, alice's way\n")
        # `kith sync conflicts` lists the copy beside its original once a scan has seen it.
        rescan(self, alice, "team")
        listed = procutil.wait_for(
            lambda: alice.run_json("sync", "conflicts", "team", "--json")["folders"][0]["conflicts"], 30,
            what="the conflict copy listed")
        self.assertEqual([c["original"] for c in listed], ["song.txt"])
        self.assertTrue(listed[0]["name"].startswith("song.sync-conflict-"))
        self.assertIn("song.txt", alice.run("sync", "conflicts").stdout)

    def test_killed_mid_sync_it_resumes_after_a_restart(self):
        alice, bob, adir, bdir = self.pair()
        big = os.urandom(160 * 1024 * 1024)
        write(os.path.join(adir, "mix.wav"), big)
        rescan(self, alice, "team")

        def fetching():
            f = folder(self, bob, "team")
            return f["bytes_fetched"] if f["bytes_fetched"] >= 16 * 1024 * 1024 else None
        fetched_before = procutil.wait_for(fetching, 60, interval=0.02, what="bob to fetch 16 MiB")
        bob.kill9()
        self.assertFalse(os.path.exists(os.path.join(bdir, "mix.wav")) and
                         os.path.getsize(os.path.join(bdir, "mix.wav")) != len(big),
                         "a partial file took the place of the finished one")
        bob.start_daemon()
        wait_content(os.path.join(bdir, "mix.wav"), big, timeout=120)
        after = wait_idle(self, bob, "team")
        self.assertEqual([n for n in os.listdir(bdir) if n.startswith(".syncthing.")], [])
        # The blocks verified and written before the kill were kept in the temporary file, not fetched
        # again (the counters start at 0 with the new process).
        self.assertLessEqual(after["bytes_fetched"], len(big) - fetched_before)

    def test_a_receive_only_folder_keeps_its_local_change(self):
        alice, bob, adir, bdir = self.pair("receiveonly")
        write(os.path.join(adir, "score.txt"), b"from alice\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "score.txt"), b"from alice\n")
        # Bob changes his copy: it stays his, and alice never gets it.
        write(os.path.join(bdir, "score.txt"), b"bob's local change\n")
        rescan(self, bob, "team")
        write(os.path.join(adir, "other.txt"), b"more from alice\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "other.txt"), b"more from alice\n")
        wait_idle(self, bob, "team")
        with open(os.path.join(bdir, "score.txt"), "rb") as f:
            self.assertEqual(f.read(), b"bob's local change\n")
        with open(os.path.join(adir, "score.txt"), "rb") as f:
            self.assertEqual(f.read(), b"from alice\n")

    def test_a_device_not_added_is_refused(self):
        alice = sync_daemon(self, "alice")
        carol = sync_daemon(self, "carol")
        adir = self.tmpdir("alice-team-")
        add_device(self, carol, alice.device_id, alice.sync_address, "alice")
        api_ok(self, carol, "POST", "/api/v1/sync/folders", {"path": self.tmpdir("carol-"), "id": "x",
                                                             "devices": [alice.device_id]})
        api_ok(self, alice, "POST", "/api/v1/sync/folders", {"path": adir, "id": "team"})
        procutil.wait_for(lambda: "refused unknown device " + carol.device_id in alice.tail(n=400), 30,
                          what="alice to refuse carol")
        devices = api_ok(self, carol, "GET", "/api/v1/sync/devices")["devices"]
        self.assertFalse(devices[0]["connected"])
        self.assertEqual(api_ok(self, alice, "GET", "/api/v1/sync/pending")["folders"], [])


if __name__ == "__main__":
    unittest.main()
