"""File versioning (docs/sync.md § Versioning): a file a pull replaces or deletes is kept in the
folder's .stversions, as Syncthing 1.19 keeps it. kith<->kith: an overwrite on alice leaves bob's old
copy in .stversions and `kith sync restore` brings it back, which then syncs to alice; a deletion on
alice leaves bob's copy in the trash can. kith receiving from Debian's Syncthing with trash-can
versioning keeps the file Syncthing replaced. Loopback only; Syncthing's discovery and relays are off."""
import glob
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KithTestCase, signature_settings  # noqa: E402
from sync_util import add_device, api_ok, folder, rescan, sync_daemon, wait_content, wait_gone, wait_idle, sync_pair  # noqa: E402
from syncthing import Syncthing  # noqa: E402

TAG = "[0-9]" * 8 + "-" + "[0-9]" * 6  # YYYYMMDD-HHMMSS


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def wait_glob(pattern, timeout=60):
    return procutil.wait_for(lambda: glob.glob(pattern), timeout, interval=0.05, what=pattern)


class SyncVersionsTest(KithTestCase):

    def pair(self):
        """Two daemons that know each other; alice offers folder "team", bob accepts it."""
        return sync_pair(self, **signature_settings())

    def test_overwrite_is_kept_and_restored(self):
        alice, bob, adir, bdir = self.pair()
        # Bob keeps simple versions, set through the CLI; the folder's view says so.
        changed = bob.run_json("sync", "versioning", "team", "simple", "--keep", "3", "--json")
        self.assertEqual(changed["versioning"], {"type": "simple", "params": {"keep": 3, "cleanout_days": 0}})
        self.assertEqual(folder(self, bob, "team")["versioning"]["type"], "simple")

        write(os.path.join(adir, "docs", "notes.txt"), b"first draft\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "docs", "notes.txt"), b"first draft\n")
        wait_idle(self, bob, "team")

        write(os.path.join(adir, "docs", "notes.txt"), b"second draft, longer\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "docs", "notes.txt"), b"second draft, longer\n")
        kept = wait_glob(os.path.join(bdir, ".stversions", "docs", "notes~%s.txt" % TAG))
        self.assertEqual(len(kept), 1)
        self.assertEqual(read(kept[0]), b"first draft\n")
        self.assertFalse(os.path.exists(os.path.join(adir, ".stversions")))  # alice keeps nothing

        listed = bob.run_json("sync", "versions", "team", "docs/notes.txt", "--json")["versions"]
        self.assertEqual([(v["name"], v["size"]) for v in listed], [("docs/notes.txt", len(b"first draft\n"))])
        self.assertEqual(kept[0].endswith("~%s.txt" % listed[0]["version"]), True)

        # A bad name is refused before anything is touched.
        status, answer = bob.api("POST", "/api/v1/sync/folders/team/restore", {"path": "../escape"})
        self.assertEqual(status, 400, answer)

        restored = bob.run_json("sync", "restore", "team", "docs/notes.txt", "--json")
        self.assertEqual(restored["restored"]["version"], listed[0]["version"])
        self.assertEqual(read(os.path.join(bdir, "docs", "notes.txt")), b"first draft\n")
        # The file it replaced is kept in turn.
        kept = glob.glob(os.path.join(bdir, ".stversions", "docs", "notes~%s.txt" % TAG))
        self.assertEqual([read(k) for k in kept], [b"second draft, longer\n"])
        # The restored file is bob's newest change: it syncs to alice.
        wait_content(os.path.join(adir, "docs", "notes.txt"), b"first draft\n")

    def test_deletion_is_kept_in_the_trash_can(self):
        alice, bob, adir, bdir = self.pair()
        view = api_ok(self, bob, "PUT", "/api/v1/sync/folders/team/versioning",
                      {"type": "trashcan", "params": {"cleanout_days": 30}})
        self.assertEqual(view["versioning"], {"type": "trashcan", "params": {"cleanout_days": 30}})
        status, answer = bob.api("PUT", "/api/v1/sync/folders/team/versioning", {"type": "trashcan", "params": {"keep": 3}})
        self.assertEqual(status, 400, answer)  # keep is simple's

        write(os.path.join(adir, "sub", "old.txt"), b"to be deleted\n")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "sub", "old.txt"), b"to be deleted\n")
        wait_idle(self, bob, "team")

        os.remove(os.path.join(adir, "sub", "old.txt"))
        rescan(self, alice, "team")
        wait_gone(os.path.join(bdir, "sub", "old.txt"))
        # The trash can keeps the plain name.
        wait_content(os.path.join(bdir, ".stversions", "sub", "old.txt"), b"to be deleted\n")
        listed = api_ok(self, bob, "GET", "/api/v1/sync/folders/team/versions?path=sub/old.txt")["versions"]
        self.assertEqual([v["path"] for v in listed], ["sub/old.txt"])
        # .stversions is never offered: alice's folder stays without it.
        rescan(self, bob, "team")
        wait_idle(self, bob, "team")
        self.assertFalse(os.path.exists(os.path.join(adir, ".stversions")))

    def test_kith_keeps_what_syncthing_replaced(self):
        kith = sync_daemon(self, "kith", **signature_settings())
        st = Syncthing("st", root=self.tmpdir("syncthing-"))
        self.addCleanup(st.close)
        self.addCleanup(lambda: self.failed() and print(st.log_tail(80)))
        kdir, sdir = self.tmpdir("kith-folder-"), self.tmpdir("st-folder-")
        add_device(self, kith, st.device_id, st.listen_address, "st")
        st.add_device(kith.device_id, [kith.sync_address], name="kith")
        st.add_folder("inbox", sdir, devices=[kith.device_id], fs_watcher=False)
        procutil.wait_for(lambda: any(p["id"] == "inbox" for p in
                                      api_ok(self, kith, "GET", "/api/v1/sync/pending")["folders"]),
                          30, what="kith to see Syncthing's offer")
        api_ok(self, kith, "POST", "/api/v1/sync/pending/inbox/accept", {"path": kdir})
        kith.run("sync", "versioning", "inbox", "trashcan")

        write(os.path.join(sdir, "report.txt"), b"monday's numbers\n")
        st.rescan("inbox")
        wait_content(os.path.join(kdir, "report.txt"), b"monday's numbers\n")
        wait_idle(self, kith, "inbox")

        write(os.path.join(sdir, "report.txt"), b"tuesday's numbers, revised\n")
        st.rescan("inbox")
        wait_content(os.path.join(kdir, "report.txt"), b"tuesday's numbers, revised\n")
        self.assertEqual(read(os.path.join(kdir, ".stversions", "report.txt")), b"monday's numbers\n")
        st.wait_synced("inbox", kith.device_id, timeout=30)


if __name__ == "__main__":
    unittest.main()
