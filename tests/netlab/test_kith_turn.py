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
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
from lab import Lab  # noqa: E402
from kithtest import KithTestCase  # noqa: E402
from nsnode import NsNode, require_lab_and_kith  # noqa: E402
import test_kith_nat  # noqa: E402  (its helpers; a module import, so unittest does not run its tests here)

TURN_IP, TURN_PORT = "198.18.0.11", 3478
TURN_USER, TURN_PASSWORD = "kith", "lab-secret"


class ThroughTurn(unittest.TestCase):
    befriend = test_kith_nat.KithBehindNat.befriend
    send_and_check = test_kith_nat.KithBehindNat.send_and_check

    @classmethod
    def setUpClass(cls):
        require_lab_and_kith()
        if not shutil.which("turnserver"):
            raise AssertionError("coturn's turnserver is missing: run scripts/install-deps.sh")

    def turnserver(self, lab):
        """coturn on host a: TCP only, long-term credentials, no CLI, relay ports on a's own address."""
        tmp = tempfile.mkdtemp(prefix="kith-turn-")
        self.addCleanup(shutil.rmtree, tmp, True)
        log = os.path.join(tmp, "turnserver.log")
        p = lab.popen("a", ["turnserver", "-n", "--listening-ip=" + TURN_IP, "--relay-ip=" + TURN_IP,
                            "--listening-port=%d" % TURN_PORT, "--min-port=49152", "--max-port=49300",
                            "--lt-cred-mech", "--realm=kith.lab", "--user=%s:%s" % (TURN_USER, TURN_PASSWORD),
                            "--no-udp", "--no-dtls", "--no-tls", "--no-cli", "--no-stun-backward-compatibility",
                            "--log-file=" + log, "--simple-log", "--pidfile=" + log + ".pid",
                            "--db=" + os.path.join(tmp, "turndb")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(p.kill)

        def listening():
            r = lab.run("a", ["ss", "-Hltn", "sport = :%d" % TURN_PORT], check=False)
            return TURN_IP in r.stdout
        procutil.wait_for(listening, 20, interval=0.2, what="turnserver listening")
        return log

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
        n = NsNode(lab, host, name, {"lan.discovery": "false",
                                     "rendezvous.turn": "%s:%s@%s:%d" % (TURN_USER, TURN_PASSWORD, TURN_IP,
                                                                         TURN_PORT)})
        self.addCleanup(n.close)
        n.start_daemon()
        return n

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
            capture = os.path.join(c.home, "turn-wire.bin")
            sniffer = lab.popen("a", [sys.executable, "-c", test_kith_nat.SNIFFER, "eth0", capture],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.addCleanup(sniffer.kill)
            at_d = self.befriend(d, c, timeout=90)
            self.assertEqual(at_d.get("path"), "turn", at_d)
            self.assertEqual(c.contact("dave").get("path"), "turn")
            self.assertGreaterEqual(c.json("status")["messaging"]["turn"]["channels"], 1)
            secret_c = "carol-to-dave-" + os.urandom(8).hex()
            secret_d = "dave-to-carol-" + os.urandom(8).hex()
            c.run("msg", "dave", secret_c)
            d.run("msg", "carol", secret_d)
            procutil.wait_for(lambda: {m["text"] for m in c.inbox("dave")} >= {secret_c, secret_d}, 30,
                              what="both messages at carol")
            procutil.wait_for(lambda: {m["text"] for m in d.inbox("carol")} >= {secret_c, secret_d}, 30,
                              what="both messages at dave")
            time.sleep(1)  # the sniffer's last frames
            sniffer.kill()
            sniffer.wait()
            with open(capture, "rb") as f:
                wire = f.read()
            self.assertGreater(len(wire), 2000)
            self.assertIn(bytes([198, 18, 0, 1]), wire)
            self.assertIn(bytes([198, 18, 0, 2]), wire)
            for secret in (secret_c, secret_d):
                self.assertNotIn(secret.encode(), wire)
            # Files both ways: the data through the TURN server as well (a DataCircuit token).
            self.send_and_check(c, d, "carol-to-dave.bin")
            self.send_and_check(d, c, "dave-to-carol.bin")
            for n in (c, d):
                with open(n.daemon.log_path) as f:
                    self.assertIn("through the TURN server", f.read())


if __name__ == "__main__":
    unittest.main()
