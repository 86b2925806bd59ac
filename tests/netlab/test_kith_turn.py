#!/usr/bin/env python3
"""kith through an organisation's TURN server (issue 11): coturn (Debian) on the public host a, carol
and dave each behind a symmetric NAT (no hole punch works), no mutual contact to relay for them, no
DHT. Both have `rendezvous.turn` set; each gets a relayed TCP address on the server (RFC 6062) and
advertises it. Dave adds carol by her invite: his direct dial to her relayed address is turned away
(the server admits only peers carol permitted, and she does not know dave yet), his dial through his
own allocation (TURN Connect) arrives from the server's relay address, which carol permits. Asserted:
the request arrives, both see the other online on path "turn", messages both ways, `kith send` both
ways (the data through the TURN server too: a DataCircuit token, a second allocation's Connect), and
the server's wire never shows the message text.
Needs root; KITH_BIN is set by ctest."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
from lab import Lab  # noqa: E402
from kithtest import KithTestCase  # noqa: E402
from nsnode import LabTestCase, require_lab_and_kith  # noqa: E402
import test_kith_nat  # noqa: E402  (its helpers; a module import, so unittest does not run its tests here)

TURN_IP, TURN_PORT = "198.18.0.11", 3478
TURN_USER, TURN_PASSWORD = "kith", "lab-secret"
TURN_SETTING = "%s:%s@%s:%d" % (TURN_USER, TURN_PASSWORD, TURN_IP, TURN_PORT)


def start_turnserver(lab, tmp, udp=False):
    """coturn on host a (also bench/nat.py's and test_kith_calls.py's): TCP only (channels; RFC 6062),
    or with `udp` UDP only (call media); long-term credentials, no CLI, relay ports on a's own address,
    its log and database in `tmp`. Returns the process once it listens."""
    log = os.path.join(tmp, "turnserver.log")
    p = lab.popen("a", ["turnserver", "-n", "--listening-ip=" + TURN_IP, "--relay-ip=" + TURN_IP,
                        "--listening-port=%d" % TURN_PORT, "--min-port=49152", "--max-port=49300",
                        "--lt-cred-mech", "--realm=kith.lab", "--user=%s:%s" % (TURN_USER, TURN_PASSWORD),
                        "--no-tcp" if udp else "--no-udp", "--no-dtls", "--no-tls", "--no-cli", "--log-file=" + log,
                        "--simple-log", "--pidfile=" + log + ".pid", "--db=" + os.path.join(tmp, "turndb")],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listening():
        r = lab.run("a", ["ss", "-Hlun" if udp else "-Hltn", "sport = :%d" % TURN_PORT], check=False)
        return TURN_IP in r.stdout
    procutil.wait_for(listening, 20, interval=0.2, what="turnserver listening")
    return p


class ThroughTurn(LabTestCase):
    befriend = test_kith_nat.KithBehindNat.befriend
    send_and_check = test_kith_nat.KithBehindNat.send_and_check
    sniff = test_kith_nat.KithBehindNat.sniff
    wire = test_kith_nat.KithBehindNat.wire
    chat_secretly = test_kith_nat.KithBehindNat.chat_secretly
    assert_wire_hides = test_kith_nat.KithBehindNat.assert_wire_hides

    @classmethod
    def setUpClass(cls):
        require_lab_and_kith()
        if not shutil.which("turnserver"):
            raise AssertionError("coturn's turnserver is missing: run scripts/install-deps.sh")

    def turnserver(self, lab):
        tmp = tempfile.mkdtemp(prefix="kith-turn-")
        self.addCleanup(shutil.rmtree, tmp, True)
        self.addCleanup(start_turnserver(lab, tmp).kill)

    def logs_on_failure(self, *nodes):
        """Prints the daemons' own log lines (not libtorrent's) if the test fails: the only clue."""
        def dump():
            if KithTestCase.failed(self):
                for n in nodes:
                    if n.daemon is not None and os.path.exists(n.daemon.log_path):
                        with open(n.daemon.log_path) as f:
                            lines = [l for l in f if "libtorrent: " not in l]
                        sys.stderr.write("--- %s\n%s" % (n.name, "".join(lines[-60:])))
        self.addCleanup(dump)

    def node(self, lab, host, name):
        return self.start_node(lab, host, name, {"lan.discovery": "false", "rendezvous.turn": TURN_SETTING})

    def allocated(self, n):
        def turn():
            t = n.json("status")["messaging"]["turn"]
            return t if t["state"] == "allocated" else None
        t = procutil.wait_for(turn, 30, interval=0.3, what="a TURN allocation at " + n.name)
        self.assertTrue(t["address"].startswith(TURN_IP + ":"), t)
        self.assertIn(t["address"], n.json("status")["messaging"]["addresses"])
        return t

    def test_two_symmetric_nats_reach_each_other_through_turn(self):
        with Lab(homes=2, nat="symmetric") as lab:
            self.turnserver(lab)
            c = self.node(lab, "c", "carol")  # behind router r (198.18.0.1)
            d = self.node(lab, "d", "dave")   # behind router r2 (198.18.0.2)
            self.logs_on_failure(c, d)
            self.allocated(c)
            self.allocated(d)
            self.assertIn("turn         %s:%d: allocated" % (TURN_IP, TURN_PORT), c.run("status").stdout)
            sniff = self.sniff(lab, "a", os.path.join(c.home, "turn-wire.bin"))
            at_d = self.befriend(d, c, timeout=90)
            self.assertEqual(at_d.get("path"), "turn", at_d)
            self.assertEqual(c.contact("dave").get("path"), "turn")
            self.assertGreaterEqual(c.json("status")["messaging"]["turn"]["channels"], 1)
            self.assert_wire_hides(self.wire(sniff), self.chat_secretly(c, d))
            # Files both ways: the data through the TURN server as well (a DataCircuit token).
            self.send_and_check(c, d, "carol-to-dave.bin")
            self.send_and_check(d, c, "dave-to-carol.bin")
            for n in (c, d):
                with open(n.daemon.log_path) as f:
                    self.assertIn("through the TURN server", f.read())


if __name__ == "__main__":
    unittest.main()
