"""Folder sync between kith contacts (docs/sync.md § Contacts): two daemons that are contacts trust each
other's sync device with no `kith sync device add` (each node's Hello on the contact channel tells its
device ID and BEP port); `kith sync add --with CONTACT` offers a folder, the contact accepts it into a
path of their choice and files flow; removing the contact removes its device again."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from contacts_util import befriend, kith_id  # noqa: E402
from kithtest import KithTestCase, signature_settings  # noqa: E402
from sync_util import api_ok, sync_daemon, wait_content  # noqa: E402


def devices(case, node):
    return api_ok(case, node, "GET", "/api/v1/sync/devices")["devices"]


def wait_contact_device(case, node, contact_id, device_id):
    def known():
        found = [d for d in devices(case, node) if d["id"] == device_id]
        return found[0] if found and found[0]["contact"] == contact_id else None
    return procutil.wait_for(known, 30, what="the contact's sync device at %s" % node.home)


class SyncContactsTest(KithTestCase):

    def test_contacts_sync_without_adding_devices(self):
        alice = sync_daemon(self, "alice", **signature_settings())
        bob = sync_daemon(self, "bob", **signature_settings())
        alice_id, bob_id = kith_id(alice)["id"], kith_id(bob)["id"]

        # Not contacts yet: `--with bob` names nobody.
        adir, bdir = self.tmpdir("alice-band-"), self.tmpdir("bob-band-")
        refused = alice.run("sync", "add", adir, "--id", "band", "--with", "bob", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("neither a device ID", refused.stderr)

        befriend(alice, bob)
        d = wait_contact_device(self, alice, bob_id, bob.device_id)
        self.assertEqual(d["name"], "bob")
        wait_contact_device(self, bob, alice_id, alice.device_id)
        procutil.wait_for(lambda: all(x["connected"] for x in devices(self, alice)), 30,
                          what="alice's node connected to bob's sync device")

        with open(os.path.join(adir, "setlist.txt"), "wb") as f:
            f.write(b"1. intro\n2. verse\n")
        alice.run("sync", "add", adir, "--id", "band", "--with", "bob")
        procutil.wait_for(lambda: any(p["id"] == "band" for p in api_ok(self, bob, "GET", "/api/v1/sync/pending")["folders"]),
                          30, what="bob to see alice's offer")
        bob.run("sync", "accept", "band", bdir)
        wait_content(os.path.join(bdir, "setlist.txt"), b"1. intro\n2. verse\n")

        # The device list says whose device it is.
        listed = bob.run("sync", "device", "list").stdout
        self.assertIn(alice_id, listed)

        # Bob removes alice: her device goes, and the folder is no longer shared with it.
        bob.run("contacts", "remove", alice_id)
        procutil.wait_for(lambda: not any(x["id"] == alice.device_id for x in devices(self, bob)), 30,
                          what="alice's device gone at bob")
        band = api_ok(self, bob, "GET", "/api/v1/sync/folders/band")
        self.assertEqual(band["devices"], [])


if __name__ == "__main__":
    unittest.main()
