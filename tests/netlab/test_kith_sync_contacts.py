#!/usr/bin/env python3
"""Folder sync between kith contacts on a LAN with no address typed anywhere (docs/sync.md § Contacts):
two daemons in their own namespaces on the lab bridge find each other by kith's LAN beacons, become
contacts from a bare kith ID, learn each other's sync device from the contact channel's Hello, and a
folder offered with `kith sync add --with alice` arrives at alice's node — no `kith sync device add`,
no `--addr`. Needs root; KITH_BIN is set by ctest."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
from lab import Lab  # noqa: E402
from nsnode import LabTestCase  # noqa: E402

SYNC = {"lan.discovery": "true", "sync.listen": "0.0.0.0:22000", "sync.rescan_interval_s": "3600"}


class SyncBetweenContactsOnALan(LabTestCase):
    def node(self, lab, host, name):
        return self.start_node(lab, host, name, dict(SYNC))

    def test_contacts_found_by_beacons_sync_a_folder(self):
        with Lab(homes=0) as lab:
            lab.wait_ipv6_ready("a", "b")
            a = self.node(lab, "a", "alice")
            b = self.node(lab, "b", "bob")
            b.run("contacts", "add", a.json("id")["id"], "--name", "alice")
            procutil.wait_for(lambda: a.json("contacts", "requests"), 30, what="the request by multicast")
            a.run("contacts", "accept", "bob")
            self.assertEqual(b.wait_online("alice")["via"], "lan")

            def contact_device(node, who):
                found = [d for d in node.json("sync", "device", "list")["devices"] if d["name"] == who]
                return found[0] if found and found[0]["connected"] else None
            procutil.wait_for(lambda: contact_device(b, "alice"), 60, what="bob's node connected to alice's sync device")
            d = contact_device(a, "bob")
            self.assertTrue(d and d["contact"], d)

            bdir = os.path.join(b.root, "takes")
            os.makedirs(bdir)
            take = os.urandom(3 * 1024 * 1024)
            with open(os.path.join(bdir, "take1.wav"), "wb") as f:
                f.write(take)
            b.run("sync", "add", bdir, "--id", "takes", "--with", "alice")
            procutil.wait_for(lambda: any(p["id"] == "takes" for p in a.json("sync", "pending")["folders"]), 60,
                              what="alice to see bob's offer")
            adir = os.path.join(a.root, "from-bob")
            a.run("sync", "accept", "takes", adir)

            def arrived():
                try:
                    with open(os.path.join(adir, "take1.wav"), "rb") as f:
                        return f.read() == take
                except OSError:
                    return False
            procutil.wait_for(arrived, 120, interval=0.5, what="bob's take at alice's node")


if __name__ == "__main__":
    unittest.main()
