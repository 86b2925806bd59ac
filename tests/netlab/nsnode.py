"""kith daemons inside lab namespaces, driven by the CLI run in the same namespace (each daemon's API is
on its namespace's own loopback). Shared by the netlab tests."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
import unittest  # noqa: E402

from kithtest import KITH_BIN_REQUIRED, KithNode, KithTestCase, kith_problem  # noqa: E402
from lab import unavailable_reason  # noqa: E402

NS_SETTINGS = {
    # Fixed ports (each namespace has its own): with port 0, libtorrent binds each interface of a
    # wildcard to its own random port, and the one port a node can tell peers is right for one only.
    "bt.listen": "0.0.0.0:6881",
    "bt.ssl_listen": "0.0.0.0:6883",
    "api.listen": "127.0.0.1:0",
    "channel.listen": "[::]:6882",
    "dht.enabled": "false",
    "lsd.enabled": "false",
    "nat.upnp": "false",
    "nat.natpmp": "false",
}


class NsNode(KithNode):
    """A KithNode whose every process runs inside a lab namespace."""

    def __init__(self, lab, host, name, settings):
        s = dict(NS_SETTINGS)
        s.update(settings)
        super().__init__(name, s)
        self.lab, self.host = lab, host
        self.settings["profile.name"] = name
        # Never the default (~/Downloads of whoever runs the tests).
        self.settings.setdefault("download.dir", os.path.join(self.root, "downloads"))
        self.name = name

    def argv(self, *args):
        return self.lab.cmd(self.host, super().argv(*args))

    def json(self, *args):
        return json.loads(self.run(*(list(args) + ["--json"])).stdout)

    def contact(self, who):
        r = self.run("contacts", "show", who, "--json", check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait_online(self, who, timeout=30):
        def online():
            c = self.contact(who)
            return c if c and c["state"] == "accepted" and c["online"] else None
        return procutil.wait_for(online, timeout, interval=0.3, what="%s online at %s" % (who, self.name))

    def inbox(self, with_):
        return self.json("inbox", "--with", with_, "--limit", "1000")["messages"]


def require_lab_and_kith():
    """For setUpClass: skips without root or iproute2; without a working kith binary skips too, except
    under ctest (KITH_BIN_REQUIRED), where a wrong KITH_BIN must fail rather than pass as a skip."""
    reason = unavailable_reason()
    if reason:
        raise unittest.SkipTest(reason)
    problem = kith_problem()
    if problem and KITH_BIN_REQUIRED:
        raise AssertionError(problem)
    if problem:
        raise unittest.SkipTest(problem)


class LabTestCase(KithTestCase):
    """Base of the netlab tests: skips without a lab (setUpClass), and prints each daemon's log tail
    when a test fails, as the loopback tests do (a CI failure in a lab is otherwise blind)."""

    requires_kith = False  # require_lab_and_kith in setUpClass decides
    log_tail_lines = 150  # lab runs are long; what went wrong is rarely in the last lines

    @classmethod
    def setUpClass(cls):
        require_lab_and_kith()

    def start_node(self, lab, host, name, settings):
        n = NsNode(lab, host, name, settings)
        self.addCleanup(self._close_node, n)
        n.start_daemon()
        return n
