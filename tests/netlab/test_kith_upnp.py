"""A home router that answers UPnP and NAT-PMP: Debian's miniupnpd in the router's namespace (issue 11).

carol, behind it, lets her node map its ports (`nat.upnp`, `nat.natpmp` on: libtorrent asks the only
router there is, the lab's, on its LAN side). She has one contact already, bob (public), whose Hello
tells her the address the world sees her at; her invite carries it with her channel port. alice, on
the "Internet", adds carol from that invite and dials it: the router's forward lets her in (without
it, the router's filter drops an unsolicited SYN, see test_kith_nat.py): a direct channel, incoming at
carol, no relay, no doorbell, no punch. Then messages and `kith send` both ways.

Why bob: libtorrent 2.0 counts the external IP a router reports as a vote of that listen socket and
posts no alert for it, so kith learns its public IP from peers (observed addresses), not from the
router; a node with no contact yet does not know it (noted in docs/protocol/channel.md § Addresses).

miniupnpd refuses a WAN address in a reserved range (the lab's 198.18.0.0/15) unless STUN says the
router is reachable there: it asks alice's node, whose channel port answers STUN (net::StunResponder),
so the router is told the truth about the lab, as a real one would be by a public STUN server.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
from lab import Lab  # noqa: E402
from nsnode import LabTestCase, require_lab_and_kith  # noqa: E402
import test_kith_nat  # noqa: E402  (its helpers; importing the class itself would run its tests here)

MINIUPNPD = "/usr/sbin/miniupnpd"


def read(path):
    with open(path) as f:
        return f.read()


CONF = """ext_ifname=wan0
listening_ip=lan0
http_port=5000
enable_upnp=yes
enable_natpmp=yes
ext_perform_stun=yes
ext_stun_host=198.18.0.11
ext_stun_port=6882
secure_mode=yes
system_uptime=yes
allow 1024-65535 10.77.0.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
"""


class KithBehindUpnpRouter(LabTestCase):
    @classmethod
    def setUpClass(cls):
        require_lab_and_kith()
        if not os.access(MINIUPNPD, os.X_OK):
            why = "needs miniupnpd (Debian: miniupnpd-nftables; scripts/install-deps.sh)"
            if os.environ.get("KITH_BIN_REQUIRED"):  # under ctest a missing install step must fail
                raise AssertionError(why)
            raise unittest.SkipTest(why)

    def node(self, lab, host, name, settings=None):
        return self.start_node(lab, host, name, dict({"lan.discovery": "false"}, **(settings or {})))

    def start_miniupnpd(self, lab, home):
        conf = os.path.join(home, "miniupnpd.conf")
        with open(conf, "w") as f:
            f.write(CONF)
        log = open(os.path.join(home, "miniupnpd.log"), "w")
        self.addCleanup(log.close)
        p = lab.popen("r", [MINIUPNPD, "-d", "-f", conf], stdout=log, stderr=log)
        procutil.wait_for(lambda: "Port forwarding is now enabled" in read(log.name) or p.poll() is not None,
                          30, what="miniupnpd's STUN check")
        self.assertIsNone(p.poll(), "miniupnpd exited:\n" + read(log.name)[-2000:])
        return log.name

    def test_a_public_node_reaches_carol_through_her_routers_forward(self):
        with Lab(homes=1, nat="cone", upnp=True) as lab:
            a = self.node(lab, "a", "alice")
            router_log = self.start_miniupnpd(lab, a.home)
            b = self.node(lab, "b", "bob")
            c = self.node(lab, "c", "carol", {"nat.upnp": "true", "nat.natpmp": "true"})
            procutil.wait_for(lambda: "successfully mapped port" in read(c.daemon.log_path), 60,
                              interval=0.5, what="carol's ports mapped by the router")
            test_kith_nat.KithBehindNat.befriend(self, c, b)
            procutil.wait_for(lambda: "198.18.0.1:6882" in c.json("id")["addresses"], 60, interval=0.5,
                              what="carol advertising her public address with her channel port")
            at_a = test_kith_nat.KithBehindNat.befriend(self, a, c)  # alice adds carol from her invite
            self.assertEqual(at_a["path"], "direct", at_a)
            self.assertEqual(at_a["address"], "198.18.0.1:6882")  # the router's forward
            self.assertTrue(c.contact("alice")["incoming"])  # alice dialled in
            self.assertIn("6882", read(router_log))  # a forward miniupnpd set up for carol's channel port
            a.run("msg", "carol", "through the forward")
            c.run("msg", "alice", "and back")
            procutil.wait_for(lambda: {m["text"] for m in a.inbox("carol")} >= {"through the forward", "and back"},
                              30, what="both messages at alice")
            test_kith_nat.KithBehindNat.send_and_check(self, a, c, "to-carol.bin", size=1024 * 1024 + 7)
            test_kith_nat.KithBehindNat.send_and_check(self, c, a, "from-carol.bin", size=1024 * 1024 + 9)

if __name__ == "__main__":
    unittest.main()
