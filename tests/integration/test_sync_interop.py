"""Folder sync between a kith daemon and Debian's Syncthing 1.19 over BEP on loopback, both ways
(docs/sync.md): create, modify one block of a larger file (only that block moves), delete, rename
(no data moves), and EICAR from Syncthing ends in kith's quarantine, not in the folder. Syncthing runs in
a temporary home through its REST API, with discovery, relays, NAT traversal and reporting off."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KithTestCase, eicar_bytes, signature_settings  # noqa: E402
from sync_util import add_device, api_ok, folder, rescan, sync_daemon, wait_content, wait_gone, wait_idle  # noqa: E402
from syncthing import Syncthing  # noqa: E402

def entries(root):
    """Every path under root except the folder marker, relative."""
    out = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            rel = os.path.relpath(os.path.join(d, n), root)
            if rel != ".stfolder":
                out.append(rel)
    return sorted(out)


BLOCK = 128 * 1024  # the block size of files under 250 MiB (Syncthing's rule, which kith follows)


class SyncInteropTest(KithTestCase):

    def syncthing(self, name):
        st = Syncthing(name, root=self.tmpdir("syncthing-"))
        self.addCleanup(st.close)
        self.addCleanup(lambda: self.failed() and print(st.log_tail(80)))
        return st

    def test_kith_and_syncthing_sync_both_ways(self):
        kith = sync_daemon(self, "kith", **signature_settings())
        st = self.syncthing("st")
        kdir, sdir = self.tmpdir("kith-folder-"), self.tmpdir("st-folder-")

        # Each adds the other by device ID; kith offers the folder, Syncthing sees the offer and takes it.
        add_device(self, kith, st.device_id, st.listen_address, "st")
        st.add_device(kith.device_id, [kith.sync_address], name="kith")
        api_ok(self, kith, "POST", "/api/v1/sync/folders",
               {"path": kdir, "id": "docs", "label": "Docs", "devices": [st.device_id]})
        procutil.wait_for(lambda: "docs" in st.pending_folders(), 30, what="Syncthing to see kith's offer")
        st.add_folder("docs", sdir, devices=[kith.device_id], fs_watcher=False)
        st.wait_connected(kith.device_id)

        # kith -> Syncthing: new files, one in a new directory.
        small = b"hello from kith\n"
        big = os.urandom(3 * 1024 * 1024 + 17)
        with open(os.path.join(kdir, "a.txt"), "wb") as f:
            f.write(small)
        os.makedirs(os.path.join(kdir, "sub"))
        with open(os.path.join(kdir, "sub", "big.bin"), "wb") as f:
            f.write(big)
        rescan(self, kith, "docs")
        wait_content(os.path.join(sdir, "a.txt"), small)
        wait_content(os.path.join(sdir, "sub", "big.bin"), big)

        # Syncthing -> kith: a new file.
        theirs = b"hello from syncthing\n"
        with open(os.path.join(sdir, "c.txt"), "wb") as f:
            f.write(theirs)
        st.rescan("docs")
        wait_content(os.path.join(kdir, "c.txt"), theirs)
        before = wait_idle(self, kith, "docs")

        # One block changed inside the large file: only that block is fetched, the rest is reused.
        changed = bytearray(big)
        changed[BLOCK + 10:BLOCK + 20] = b"0123456789"
        with open(os.path.join(sdir, "sub", "big.bin"), "r+b") as f:
            f.seek(BLOCK + 10)
            f.write(b"0123456789")
        st.rescan("docs")
        wait_content(os.path.join(kdir, "sub", "big.bin"), bytes(changed))
        after = wait_idle(self, kith, "docs")
        self.assertEqual(after["bytes_fetched"] - before["bytes_fetched"], BLOCK)

        # A deletion at kith reaches Syncthing.
        os.remove(os.path.join(kdir, "a.txt"))
        rescan(self, kith, "docs")
        wait_gone(os.path.join(sdir, "a.txt"))

        # A rename at Syncthing: the new name appears, the old goes, and no data is fetched for it.
        os.makedirs(os.path.join(sdir, "moved"))
        os.rename(os.path.join(sdir, "c.txt"), os.path.join(sdir, "moved", "c2.txt"))
        st.rescan("docs")
        wait_content(os.path.join(kdir, "moved", "c2.txt"), theirs)
        wait_gone(os.path.join(kdir, "c.txt"))
        renamed = wait_idle(self, kith, "docs")
        self.assertEqual(renamed["bytes_fetched"], after["bytes_fetched"])

        # Syncthing agrees that kith has everything.
        st.wait_synced("docs", kith.device_id, timeout=30)
        self.assertEqual(entries(kdir), entries(sdir))

    def test_eicar_from_syncthing_is_held_in_quarantine(self):
        kith = sync_daemon(self, "kith", **signature_settings())
        st = self.syncthing("st")
        kdir, sdir = self.tmpdir("kith-folder-"), self.tmpdir("st-folder-")
        add_device(self, kith, st.device_id, st.listen_address, "st")
        st.add_device(kith.device_id, [kith.sync_address], name="kith")
        # This time Syncthing offers and kith accepts the offer into a path of its choice.
        st.add_folder("inbox", sdir, devices=[kith.device_id], fs_watcher=False)
        procutil.wait_for(lambda: any(p["id"] == "inbox" for p in
                                      api_ok(self, kith, "GET", "/api/v1/sync/pending")["folders"]),
                          30, what="kith to see Syncthing's offer")
        api_ok(self, kith, "POST", "/api/v1/sync/pending/inbox/accept", {"path": kdir})

        with open(os.path.join(sdir, "clean.txt"), "wb") as f:
            f.write(b"nothing to see\n")
        with open(os.path.join(sdir, "evil.com"), "wb") as f:
            f.write(eicar_bytes())
        st.rescan("inbox")
        wait_content(os.path.join(kdir, "clean.txt"), b"nothing to see\n")

        def held():
            f = folder(self, kith, "inbox")
            return f if any(h["name"] == "evil.com" for h in f["held"]) else None
        view = procutil.wait_for(held, 60, what="evil.com held back")
        self.assertFalse(os.path.exists(os.path.join(kdir, "evil.com")))
        self.assertEqual([n for n in os.listdir(kdir) if n.startswith(".syncthing.")], [])  # no temp left
        item = next(h for h in view["held"] if h["name"] == "evil.com")
        self.assertIn("Eicar", item["reason"])
        q = kith.run_json("quarantine", "list", "--json")
        self.assertTrue(any(i["id"] == item["quarantine_id"] for i in (q if isinstance(q, list) else q.get("items", []))), q)

        # Not fetched again while its version is the same: a rescan and a new round leave one record.
        rescan(self, kith, "inbox")
        wait_idle_held = procutil.wait_for(lambda: folder(self, kith, "inbox")["state"] == "idle", 30, what="idle")
        self.assertTrue(wait_idle_held)
        self.assertEqual(len([h for h in folder(self, kith, "inbox")["held"] if h["name"] == "evil.com"]), 1)
        self.assertFalse(os.path.exists(os.path.join(kdir, "evil.com")))


if __name__ == "__main__":
    unittest.main()
