"""Contacts find each other through DHT presence records (BEP 44) on a private DHT of kith daemons on
loopback: after both restart on new channel ports, their stored address hints are stale, and only the
sealed records tell them where the other is now."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from contacts_util import befriend, contact, kith_id, send, wait_messages, wait_online  # noqa: E402
from kithtest import KithTestCase, free_port  # noqa: E402

NODES = 6


class RendezvousTest(KithTestCase):

    def test_contacts_found_by_dht_presence_only(self):
        ports = [free_port() for _ in range(NODES)]
        nodes = []
        for i, port in enumerate(ports):
            others = ",".join("127.0.0.1:%d" % p for p in ports if p != port)
            n = self.node("dht%d" % i, {
                "profile.name": "n%d" % i, "bt.listen": "127.0.0.1:%d" % port, "dht.enabled": "true",
                "dht.private_network": "true", "dht.bootstrap": others,
                "channel.listen": "127.0.0.1:%d" % free_port()})
            n.start_daemon()
            nodes.append(n)
        alice, bob = nodes[0], nodes[1]
        befriend(bob, alice)
        b_id = kith_id(bob)["id"]

        def published(node):
            return node.api("GET", "/api/v1/status")[1]["rendezvous"]["puts_ok"] > 0
        for n in (alice, bob):
            n.stop()
            n.settings["channel.listen"] = "127.0.0.1:%d" % free_port()  # the old hints go stale
        alice.start_daemon()
        procutil.wait_for(lambda: published(alice), 90, interval=1, what="alice's presence record stored")
        bob.start_daemon()
        c = wait_online(bob, kith_id(alice)["id"], 150)
        self.assertIn("dht", [d["source"] for d in c.get("discovered", [])], c)
        self.assertEqual(c["address"].split(":")[0], "127.0.0.1")
        send(bob, "n0", "found you through the DHT")
        self.assertEqual(wait_messages(alice, 1, "n1")[0]["text"], "found you through the DHT")
        self.assertTrue(contact(alice, b_id)["online"])
        # Strangers in the same DHT (the other daemons) know alice's ID but have no record for it.
        for n in nodes[2:]:
            st = n.api("GET", "/api/v1/status")[1]["rendezvous"]
            self.assertEqual(st["found"], 0)


if __name__ == "__main__":
    unittest.main()
