#!/usr/bin/env python3
"""kith daemons across a real network stack (issue 3): each in its own network namespace.
  - two nodes on one bridge find each other by LAN multicast beacons only (no address anywhere);
  - a node behind a NAT router asks a public node, is accepted, and both talk;
  - with 10% packet loss on the bridge, 100 messages arrive in order, each exactly once.
Every daemon's API is on its namespace's own loopback, so everything is driven by the CLI run inside
the namespace. Needs root; KITH_BIN is set by ctest."""
import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
from lab import Lab  # noqa: E402
from nsnode import LabTestCase  # noqa: E402


class KithAcrossNamespaces(LabTestCase):
    def node(self, lab, host, name, **settings):
        return self.start_node(lab, host, name, {k.replace("_", "."): v for k, v in settings.items()})

    def befriend_by_invite(self, asker, answerer):
        asker.run("contacts", "add", answerer.json("id")["invite"])
        procutil.wait_for(lambda: answerer.json("contacts", "requests"), 30, what="the request")
        answerer.run("contacts", "accept", asker.name)
        answerer.wait_online(asker.name)
        asker.wait_online(answerer.name)

    def test_lan_multicast_only(self):
        with Lab(homes=0) as lab:
            lab.wait_ipv6_ready("a", "b")
            a = self.node(lab, "a", "alice", lan_discovery="true")
            b = self.node(lab, "b", "bob", lan_discovery="true")
            # Only the bare kith ID: no address. Bob finds alice by her beacons.
            b.run("contacts", "add", a.json("id")["id"], "--name", "alice")
            procutil.wait_for(lambda: a.json("contacts", "requests"), 30, what="the request by multicast")
            a.run("contacts", "accept", "bob")
            c = b.wait_online("alice")
            self.assertEqual(c["via"], "lan")
            self.assertIn("lan", [d["source"] for d in c["discovered"]])
            # "198.18.0.11:PORT" or "[fe80::...%IFACE]:PORT", whichever beacon won
            host = c["address"].rsplit(":", 1)[0].strip("[]").split("%")[0]
            self.assertIn(host, ["198.18.0.11", lab.link_local("a")])
            self.assertIn("delivered", b.run("msg", "alice", "found you by multicast").stdout)
            self.assertEqual(a.inbox("bob")[0]["text"], "found you by multicast")

    def test_node_behind_nat_reaches_public_node(self):
        with Lab(homes=1) as lab:
            a = self.node(lab, "a", "alice", lan_discovery="false")
            c = self.node(lab, "c", "carol", lan_discovery="false")  # 10.77.0.10 behind the router
            self.befriend_by_invite(c, a)
            at_a = a.contact("carol")
            self.assertEqual(at_a["address"].split(":")[0], "198.18.0.1")  # the router's public side
            c.run("msg", "alice", "hello from behind the NAT")
            a.run("msg", "carol", "hello back through it")
            procutil.wait_for(lambda: len(c.inbox("alice")) == 2, 20, what="both messages at carol")
            self.assertEqual([m["text"] for m in a.inbox("carol")],
                             ["hello from behind the NAT", "hello back through it"])

    def test_ordered_exactly_once_with_ten_percent_loss(self):
        with Lab(homes=0) as lab:
            a = self.node(lab, "a", "alice", lan_discovery="false")
            b = self.node(lab, "b", "bob", lan_discovery="false")
            self.befriend_by_invite(b, a)
            rules = ("table bridge chaos {\n  chain lossy {\n    type filter hook forward priority 0; policy accept;\n"
                     "    ether type ip numgen random mod 1000 < 100 drop\n  }\n}\n")
            subprocess.run(lab.cmd("sw", ["nft", "-f", "-"]), input=rules, text=True, check=True)
            n = 100
            for i in range(n):
                a.run("msg", "bob", "m%03d" % i, timeout=60)
            got = procutil.wait_for(lambda: (lambda l: l if len(l) >= n else None)(
                [m for m in b.inbox("alice") if not m["outgoing"]]), 120, interval=1, what="100 messages")
            time.sleep(2)  # anything doubled would be here by now
            got = [m for m in b.inbox("alice") if not m["outgoing"]]
            self.assertEqual([m["text"] for m in got], ["m%03d" % i for i in range(n)])
            self.assertEqual(len({m["id"] for m in got}), n)


if __name__ == "__main__":
    unittest.main()
