#!/usr/bin/env python3
"""kith behind a double NAT (issue 11): carol's home router sits behind a carrier-grade NAT (netlab
CGN=1: 10.77.0.10 -> 100.64.0.2 -> 198.18.0.3), routers without UPnP or NAT-PMP.
  - public nodes and carol: the request by invite both ways (alice reaches carol through carol's
    doorbell on a private DHT in the lab; carol asks bob, dialling out), messages both ways, `kith
    send` both ways, each file scanned and released;
  - carol and dave (behind an ordinary NAT) with a public mutual contact: request by invite, messages
    and `kith send` both ways, over whatever path exists: hole-punched through cone NATs, relayed
    (files too) through symmetric ones.
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
import test_kith_nat  # noqa: E402  (its helpers; a module import, so unittest does not run its tests here)


class DoubleNat(LabTestCase):
    befriend = test_kith_nat.KithBehindNat.befriend
    send_and_check = test_kith_nat.KithBehindNat.send_and_check

    def node(self, lab, host, name, dht_bootstrap=None):
        s = {"lan.discovery": "false"}
        if dht_bootstrap is not None:
            s.update({"dht.enabled": "true", "dht.private_network": "true", "rendezvous.bell_poll_s": "5",
                      "dht.bootstrap": dht_bootstrap})
        return self.start_node(lab, host, name, s)

    def talk(self, x, y):
        x.run("msg", y.name, "from %s" % x.name)
        y.run("msg", x.name, "from %s" % y.name)
        want = {"from %s" % x.name, "from %s" % y.name}
        procutil.wait_for(lambda: {m["text"] for m in x.inbox(y.name)} >= want, 30, what="both messages")
        procutil.wait_for(lambda: {m["text"] for m in y.inbox(x.name)} >= want, 30, what="both messages")

    def test_a_public_node_and_a_double_natted_one(self):
        with Lab(homes=1, nat="cone", cgn=True) as lab:
            b = self.node(lab, "b", "bob", "")  # public; the DHT's bootstrap node
            a = self.node(lab, "a", "alice", "198.18.0.12:6881")
            c = self.node(lab, "c", "carol", "198.18.0.12:6881")
            # Alice asks with carol's invite (private addresses only): through carol's doorbell.
            a.run("contacts", "add", c.json("id")["invite"])
            procutil.wait_for(lambda: c.json("contacts", "requests"), 120, interval=1, what="alice's request at carol")
            c.run("contacts", "accept", "alice")
            c.wait_online("alice", timeout=60)
            a.wait_online("carol", timeout=60)
            self.assertEqual(a.contact("carol")["address"].split(":")[0], "198.18.0.3")  # the carrier's NAT
            self.talk(a, c)
            self.send_and_check(c, a, "from-carol.bin")
            self.send_and_check(a, c, "from-alice.bin")
            # The other way round: carol asks with bob's invite (carol dials out), bob accepts.
            self.befriend(c, b)
            self.talk(c, b)

    def double_nat_and_nat(self, nat, paths):
        with Lab(homes=2, nat=nat, cgn=True) as lab:
            a = self.node(lab, "a", "alice")
            c = self.node(lab, "c", "carol")  # behind r behind cg
            d = self.node(lab, "d", "dave")   # behind r2
            self.befriend(c, a)
            self.befriend(d, a)
            at_c = self.befriend(c, d, timeout=60)
            self.assertIn(at_c.get("path"), paths, at_c)
            self.talk(c, d)
            self.send_and_check(c, d, "carol-to-dave.bin")
            self.send_and_check(d, c, "dave-to-carol.bin")

    def test_double_cone_nat_and_a_cone_nat_with_a_mutual_contact(self):
        self.double_nat_and_nat("cone", ("hole-punched", "relayed"))  # punched in every run so far

    def test_double_symmetric_nat_and_a_symmetric_nat_with_a_mutual_contact(self):
        self.double_nat_and_nat("symmetric", ("relayed",))  # files through the relay too


if __name__ == "__main__":
    unittest.main()
