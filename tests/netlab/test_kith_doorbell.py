#!/usr/bin/env python3
"""The DHT doorbell (issue 11, docs/protocol/channel.md § Doorbell), in network namespaces on a private
DHT inside the lab; the routers answer no UPnP or NAT-PMP:
  - a public node adds a person behind a NAT by invite alone (no mutual contact, no address that
    works): it rings their bell, they dial back, the request arrives, and messages flow both ways;
  - two people behind two cone NATs with no mutual contact connect the same way, the owner's dial back
    and the ringer's dial at its answer crossing (a hole-punched channel).
Needs root; KITH_BIN is set by ctest."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
from lab import Lab  # noqa: E402
from nsnode import LabTestCase  # noqa: E402


class Doorbell(LabTestCase):
    def dht_node(self, lab, host, name, bootstrap_host):
        """A node on a private DHT in the lab (bootstrap_host None: it is the bootstrap)."""
        s = {"lan.discovery": "false", "dht.enabled": "true", "dht.private_network": "true",
             "rendezvous.bell_poll_s": "5", "dht.bootstrap": ""}
        if bootstrap_host:
            s["dht.bootstrap"] = next(a for f, a, _ in lab.addresses(bootstrap_host) if f == "inet") + ":6881"
        return self.start_node(lab, host, name, s)

    def test_a_public_node_adds_a_natted_person_by_ringing_their_doorbell(self):
        with Lab(homes=1, nat="symmetric") as lab:
            self.dht_node(lab, "b", "bootstrap", None)
            a = self.dht_node(lab, "a", "alice", "b")
            c = self.dht_node(lab, "c", "carol", "b")
            invite = c.json("id")["invite"]
            self.assertIn("bell=", invite)
            self.assertNotIn("198.18.", invite)  # carol knows no public address of hers: only 10.77.0.10
            a.run("contacts", "add", invite, "--message", "alice rings")
            req = procutil.wait_for(lambda: c.json("contacts", "requests"), 120, interval=1,
                                    what="alice's request at carol, through the doorbell")
            self.assertEqual(req[0]["name"], "alice")
            c.run("contacts", "accept", "alice")
            a.wait_online("carol", timeout=60)
            c.wait_online("alice", timeout=60)
            c.run("msg", "alice", "dialled back")
            a.run("msg", "carol", "thanks for ringing back")
            procutil.wait_for(lambda: {m["text"] for m in a.inbox("carol")} >= {"dialled back",
                                                                                 "thanks for ringing back"},
                              30, what="both messages at alice")
            self.assertGreaterEqual(a.json("status")["rendezvous"]["rings"], 1)
            self.assertGreaterEqual(c.json("status")["rendezvous"]["bell_heard"], 1)
            with open(c.daemon.log_path) as f:
                self.assertIn("rang; dialling back", f.read())

    def test_two_cone_nats_without_a_mutual_contact_meet_through_the_doorbell(self):
        with Lab(homes=2, nat="cone") as lab:
            self.dht_node(lab, "a", "bootstrap", None)  # public, a DHT node only: nobody's contact
            c = self.dht_node(lab, "c", "carol", "a")  # behind router r (198.18.0.1)
            d = self.dht_node(lab, "d", "dave", "a")   # behind router r2 (198.18.0.2)
            invite = d.json("id")["invite"]
            self.assertNotIn("198.18.", invite)  # dave knows no public address of his
            c.run("contacts", "add", invite)
            procutil.wait_for(lambda: d.json("contacts", "requests"), 150, interval=1,
                              what="carol's request at dave, through the doorbell")
            d.run("contacts", "accept", "carol")
            at_c = c.wait_online("dave", timeout=60)
            d.wait_online("carol", timeout=60)
            self.assertEqual(at_c.get("path"), "hole-punched", at_c)
            self.assertEqual(at_c["address"], "198.18.0.2:6882")  # dave's router, the port it kept
            c.run("msg", "dave", "punched through the doorbell")
            d.run("msg", "carol", "and back")
            procutil.wait_for(lambda: {m["text"] for m in c.inbox("dave")} >= {"punched through the doorbell",
                                                                                "and back"},
                              30, what="both messages at carol")
            self.assertGreaterEqual(c.json("status")["rendezvous"]["bell_answers"], 1)


if __name__ == "__main__":
    unittest.main()
