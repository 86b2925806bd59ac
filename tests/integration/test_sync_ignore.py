"""Ignore patterns (.stignore, docs/sync.md § Ignore patterns) between two kith daemons and between kith
and Debian's Syncthing 1.19, over BEP on loopback: a file ignored by the sender is not sent, a name
ignored by the receiver is not pulled, editing .stignore un-ignores a file which then syncs, a (?d)
file goes with its deleted directory while any other ignored file keeps it, and a .stignore that cannot
be parsed stops the folder with the reason instead of ignoring nothing."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KithTestCase, signature_settings  # noqa: E402
from sync_util import add_device, api_ok, folder, rescan, sync_daemon, wait_content, wait_gone, wait_idle, sync_pair  # noqa: E402
from syncthing import Syncthing  # noqa: E402


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def set_ignores(root, text):
    # Written beside and renamed, as an editor saves: the watcher sees one change.
    tmp = os.path.join(root, ".stignore.new")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(root, ".stignore"))


class SyncIgnoreTest(KithTestCase):

    def pair(self):
        return sync_pair(self, **signature_settings())

    def test_ignored_names_are_neither_sent_nor_pulled_until_unignored(self):
        alice, bob, adir, bdir = self.pair()
        set_ignores(adir, "// build output\n*.log\n")
        set_ignores(bdir, "secret*\n")
        write(os.path.join(adir, "a.txt"), b"a\n")
        write(os.path.join(adir, "debug.log"), b"noise\n")
        write(os.path.join(adir, "secret.txt"), b"for alice only, says bob\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "a.txt"), b"a\n")
        wait_idle(self, bob, "team")  # needs nothing: secret.txt is ignored there, debug.log never offered
        rescan(self, bob, "team")
        wait_idle(self, bob, "team")
        self.assertFalse(os.path.exists(os.path.join(bdir, "debug.log")))
        self.assertFalse(os.path.exists(os.path.join(bdir, "secret.txt")))

        shown = bob.run_json("sync", "ignores", "team", "--json")
        self.assertEqual(shown["lines"], ["secret*"])
        self.assertIn("**/secret*", shown["patterns"])
        self.assertEqual(shown["error"], "")
        text = bob.run("sync", "ignores", "team").stdout
        self.assertIn("secret*", text)

        # Un-ignored on either side: the file syncs (the watcher sees .stignore change; no rescan call).
        set_ignores(bdir, "// nothing ignored now\n")
        wait_content(os.path.join(bdir, "secret.txt"), b"for alice only, says bob\n")
        set_ignores(adir, "")
        wait_content(os.path.join(bdir, "debug.log"), b"noise\n")

    def test_a_deleted_directory_takes_deletable_ignored_files_and_keeps_others(self):
        alice, bob, adir, bdir = self.pair()
        set_ignores(bdir, "(?d).DS_Store\nkeep.me\n")
        write(os.path.join(adir, "d", "x.txt"), b"x\n")
        write(os.path.join(adir, "e", "y.txt"), b"y\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "d", "x.txt"), b"x\n")
        wait_content(os.path.join(bdir, "e", "y.txt"), b"y\n")
        write(os.path.join(bdir, "d", ".DS_Store"), b"finder\n")
        write(os.path.join(bdir, "e", "keep.me"), b"mine\n")
        rescan(self, bob, "team")
        wait_idle(self, bob, "team")

        for name in ("d/x.txt", "e/y.txt"):
            os.remove(os.path.join(adir, name))
        os.rmdir(os.path.join(adir, "d"))
        os.rmdir(os.path.join(adir, "e"))
        rescan(self, alice, "team")
        wait_gone(os.path.join(bdir, "d"))
        wait_gone(os.path.join(bdir, "e", "y.txt"))
        self.assertTrue(os.path.exists(os.path.join(bdir, "e", "keep.me")))

    def test_a_bad_stignore_stops_the_folder_with_the_reason(self):
        alice, bob, adir, bdir = self.pair()
        set_ignores(bdir, "ok\nfoo[\n")
        rescan(self, bob, "team")
        view = procutil.wait_for(lambda: (lambda f: f if f["state"] == "error" else None)(folder(self, bob, "team")),
                                 30, what="bob's folder in error")
        self.assertIn(".stignore line 2", view["error"])
        self.assertIn("not closed", view["error"])
        status = bob.run("sync", "status", "team").stdout
        self.assertIn(".stignore line 2", status)
        self.assertIn("not closed", bob.run_json("sync", "ignores", "team", "--json")["error"])

        # Nothing is pulled meanwhile (never "ignore nothing"): alice's new file waits.
        write(os.path.join(adir, "new.txt"), b"new\n")
        rescan(self, alice, "team")
        wait_idle(self, alice, "team")
        rescan(self, bob, "team")
        procutil.wait_for(lambda: folder(self, bob, "team")["state"] == "error", 30, what="still in error")
        self.assertFalse(os.path.exists(os.path.join(bdir, "new.txt")))

        set_ignores(bdir, "ok\nfoo\\[\n")  # fixed: the watcher picks it up
        wait_content(os.path.join(bdir, "new.txt"), b"new\n")
        self.assertEqual(wait_idle(self, bob, "team")["error"], "")


class SyncIgnoreInteropTest(KithTestCase):

    def test_ignores_with_syncthing_both_ways(self):
        kith = sync_daemon(self, "kith", **signature_settings())
        st = Syncthing("st", root=self.tmpdir("syncthing-"))
        self.addCleanup(st.close)
        self.addCleanup(lambda: self.failed() and print(st.log_tail(80)))
        kdir, sdir = self.tmpdir("kith-folder-"), self.tmpdir("st-folder-")
        add_device(self, kith, st.device_id, st.listen_address, "st")
        st.add_device(kith.device_id, [kith.sync_address], name="kith")
        api_ok(self, kith, "POST", "/api/v1/sync/folders", {"path": kdir, "id": "docs", "devices": [st.device_id]})
        procutil.wait_for(lambda: "docs" in st.pending_folders(), 30, what="Syncthing to see kith's offer")
        st.add_folder("docs", sdir, devices=[kith.device_id], fs_watcher=False)
        st.wait_connected(kith.device_id)

        # kith -> Syncthing: what kith ignores is not sent; a file ignored after it was synced stays
        # at Syncthing (announced invalid, not deleted).
        set_ignores(kdir, "*.bak\n")
        write(os.path.join(kdir, "notes.txt"), b"notes\n")
        write(os.path.join(kdir, "notes.bak"), b"backup\n")
        write(os.path.join(kdir, "draft.txt"), b"draft\n")
        rescan(self, kith, "docs")
        wait_content(os.path.join(sdir, "draft.txt"), b"draft\n")
        wait_content(os.path.join(sdir, "notes.txt"), b"notes\n")
        set_ignores(kdir, "*.bak\n/draft.txt\n")
        rescan(self, kith, "docs")
        wait_idle(self, kith, "docs")
        st.rescan("docs")
        st.wait_idle("docs")
        self.assertFalse(os.path.exists(os.path.join(sdir, "notes.bak")))
        self.assertTrue(os.path.exists(os.path.join(sdir, "draft.txt")))

        # Syncthing -> kith: what kith ignores is not pulled, until the pattern goes.
        set_ignores(kdir, "*.bak\n/draft.txt\n/private\n")
        rescan(self, kith, "docs")
        wait_idle(self, kith, "docs")
        write(os.path.join(sdir, "private", "diary.txt"), b"dear diary\n")
        write(os.path.join(sdir, "public.txt"), b"hello\n")
        st.rescan("docs")
        wait_content(os.path.join(kdir, "public.txt"), b"hello\n")
        wait_idle(self, kith, "docs")
        self.assertFalse(os.path.exists(os.path.join(kdir, "private")))
        set_ignores(kdir, "*.bak\n/draft.txt\n")
        wait_content(os.path.join(kdir, "private", "diary.txt"), b"dear diary\n")

        # Syncthing's own ignores (set through its REST API): kith's file is not taken there.
        st.post("/rest/db/ignores", {"ignore": ["(?i)*.TMP"]}, params={"folder": "docs"})
        write(os.path.join(kdir, "scratch.tmp"), b"scratch\n")
        write(os.path.join(kdir, "final.txt"), b"final\n")
        rescan(self, kith, "docs")
        wait_content(os.path.join(sdir, "final.txt"), b"final\n")
        st.wait_idle("docs")
        self.assertFalse(os.path.exists(os.path.join(sdir, "scratch.tmp")))


if __name__ == "__main__":
    unittest.main()
