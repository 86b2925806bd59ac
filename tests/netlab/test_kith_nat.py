#!/usr/bin/env python3
"""kith across NAT routers (issue 11), in network namespaces; the routers answer no UPnP or NAT-PMP.
  - a node behind a NAT learns its public address and NAT type from what two public contacts see
    (endpoint-independent behind a port-preserving router, endpoint-dependent behind a symmetric one);
  - two people each behind their own NAT router, with a public mutual contact: a contact request by
    invite, its acceptance and messages both ways travel through the mutual contact's relay, inside
    their end-to-end TLS: the relay's wire never carries the message text (symmetric NATs);
  - behind port-preserving ("cone") NATs the relayed channel is then replaced by a hole-punched one;
  - `kith send` both ways between a node behind a NAT and a public one (the sender dials too), each
    file scanned and released, and "delivered" at the sender only once it was; and between two people
    behind symmetric NATs, where the data goes through the mutual contact's relay (a data circuit),
    whose wire never shows the files' bytes.
The DHT doorbell's scenarios are in test_kith_doorbell.py.
Needs root; KITH_BIN is set by ctest."""
import hashlib
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

# Captures every frame on one interface of the namespace it runs in, appending the raw bytes to a file,
# until killed (AF_PACKET: needs root, which the lab has).
SNIFFER = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
with open(sys.argv[2], "wb", buffering=0) as out:
    while True:
        out.write(s.recv(65536))
"""


class KithBehindNat(LabTestCase):
    def node(self, lab, host, name):
        return self.start_node(lab, host, name, {"lan.discovery": "false"})

    def befriend(self, asker, answerer, timeout=30):
        """`asker` adds `answerer` from their invite, who accepts; both see the other online. Returns
        the answerer as the asker sees them (their contact: path, address)."""
        asker.run("contacts", "add", answerer.json("id")["invite"])
        procutil.wait_for(lambda: answerer.json("contacts", "requests"), timeout,
                          what="the request at " + answerer.name)
        answerer.run("contacts", "accept", asker.name)
        answerer.wait_online(asker.name, timeout=timeout)
        return asker.wait_online(answerer.name, timeout=timeout)

    def sniff(self, lab, host, capture):
        """Records every frame on `host`'s eth0 into the file `capture` until wire() stops it."""
        sniffer = lab.popen(host, [sys.executable, "-c", SNIFFER, "eth0", capture],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(sniffer.kill)
        return sniffer, capture

    def wire(self, sniff):
        """Stops the sniffer (after its last frames) and returns what it captured."""
        sniffer, capture = sniff
        time.sleep(1)
        sniffer.kill()
        sniffer.wait()
        with open(capture, "rb") as f:
            return f.read()

    def chat_secretly(self, c, d):
        """A message with random text each way between carol and dave, seen at both ends; the texts."""
        secrets = ("carol-to-dave-" + os.urandom(8).hex(), "dave-to-carol-" + os.urandom(8).hex())
        c.run("msg", "dave", secrets[0])
        d.run("msg", "carol", secrets[1])
        procutil.wait_for(lambda: {m["text"] for m in c.inbox("dave")} >= set(secrets), 30,
                          what="both messages at carol")
        procutil.wait_for(lambda: {m["text"] for m in d.inbox("carol")} >= set(secrets), 30,
                          what="both messages at dave")
        return secrets

    def assert_wire_hides(self, wire, secrets):
        """The capture saw carol's and dave's routers' traffic, but never any of the texts."""
        self.assertGreater(len(wire), 2000)
        self.assertIn(bytes([198, 18, 0, 1]), wire)
        self.assertIn(bytes([198, 18, 0, 2]), wire)
        for secret in secrets:
            self.assertNotIn(secret.encode(), wire)

    def nat(self, n):
        return n.json("status")["messaging"]["nat"]

    def learns_its_nat(self, nat, expected_type):
        with Lab(homes=1, nat=nat) as lab:
            a = self.node(lab, "a", "alice")
            b = self.node(lab, "b", "bob")
            c = self.node(lab, "c", "carol")  # 10.77.0.10 behind the router 198.18.0.1
            self.befriend(c, a)
            self.befriend(c, b)
            got = procutil.wait_for(lambda: (lambda n: n if n["type"] != "unknown" else None)(self.nat(c)), 20,
                                    interval=0.5, what="carol's NAT type")
            self.assertEqual(got["type"], expected_type)
            self.assertEqual(got["public_ips"], ["198.18.0.1"])
            self.assertEqual(got["observers"], 2)
            status = c.json("status")["messaging"]
            public = [x for x in status["addresses"] if x.startswith("198.18.0.1:")]
            if expected_type == "endpoint-independent":
                self.assertEqual(got["public_addresses"], ["198.18.0.1:6882"])  # the router kept the port
                self.assertEqual(public, ["198.18.0.1:6882"])  # advertised to contacts, invites, DHT
                self.assertIn("198.18.0.1:6882", c.json("id")["addresses"])
            else:
                self.assertEqual(got["public_addresses"], [])  # a symmetric mapping is useless to others
                self.assertEqual(public, [])
            self.assertEqual(self.nat(a)["type"], "none")  # alice's own address is what carol sees
            self.assertIn("nat", c.run("status").stdout)

    def test_cone_nat_is_endpoint_independent(self):
        self.learns_its_nat("cone", "endpoint-independent")

    def test_symmetric_nat_is_endpoint_dependent(self):
        self.learns_its_nat("symmetric", "endpoint-dependent")

    def test_two_nats_talk_through_a_mutual_contact(self):
        with Lab(homes=2, nat="symmetric") as lab:
            a = self.node(lab, "a", "alice")  # public, a contact of both
            c = self.node(lab, "c", "carol")  # behind router r (198.18.0.1)
            d = self.node(lab, "d", "dave")   # behind router r2 (198.18.0.2)
            self.befriend(c, a)
            self.befriend(d, a)
            sniff = self.sniff(lab, "a", os.path.join(a.home, "relay-wire.bin"))
            # Carol has only dave's invite (private addresses only): no direct path in either direction.
            at_c = self.befriend(c, d, timeout=60)
            self.assertEqual(at_c.get("path"), "relayed", at_c)
            self.assertEqual(d.contact("carol").get("path"), "relayed")
            self.assertIn("online (internet, relayed, ", c.run("contacts", "list").stdout)
            secrets = self.chat_secretly(c, d)
            relay = a.json("status")["messaging"]["relay"]
            self.assertEqual(relay["circuits"], 1)
            self.assertEqual(c.json("status")["messaging"]["relay"]["relayed_channels"], 1)
            self.assert_wire_hides(self.wire(sniff), secrets)

    def meet_through_alice(self, lab, path, timeout):
        """alice (public) is a contact of carol and dave, each behind a NAT; carol adds dave by invite
        and dave accepts. Waits until both see the other online on `path`; returns (a, c, d, dave as
        carol sees him)."""
        a = self.node(lab, "a", "alice")
        c = self.node(lab, "c", "carol")
        d = self.node(lab, "d", "dave")
        self.befriend(c, a)
        self.befriend(d, a)
        c.run("contacts", "add", d.json("id")["invite"])
        procutil.wait_for(lambda: d.json("contacts", "requests"), 60, what="carol's request at dave")
        d.run("contacts", "accept", "carol")

        def on_path(n, who):
            x = n.contact(who)
            return x if x and x["online"] and x.get("path") == path else None
        at_c = procutil.wait_for(lambda: on_path(c, "dave"), timeout, interval=0.5, what=path + " at carol")
        procutil.wait_for(lambda: on_path(d, "carol"), 30, interval=0.5, what=path + " at dave")
        return a, c, d, at_c

    def test_two_cone_nats_punch_a_direct_channel(self):
        with Lab(homes=2, nat="cone") as lab:
            a, c, d, at_c = self.meet_through_alice(lab, "hole-punched", 60)
            self.assertEqual(at_c["address"], "198.18.0.2:6882")  # dave's router, the port it kept
            procutil.wait_for(lambda: a.json("status")["messaging"]["relay"]["circuits"] == 0, 30,
                              what="alice's circuit closed once the direct channel took over")
            c.run("msg", "dave", "direct now")
            d.run("msg", "carol", "direct back")
            procutil.wait_for(lambda: {m["text"] for m in c.inbox("dave")} >= {"direct now", "direct back"}, 30,
                              what="both messages at carol")

    def test_two_nats_that_drop_tcp_syns_punch_a_udp_path(self):
        """Routers that drop every SYN from outside defeat the TCP punch; ICE's UDP punch gets through,
        and the channel then runs over it (TLS over libnice's pseudo-TCP), not through alice."""
        with Lab(homes=2, nat="cone-nosyn") as lab:
            a, c, d, at_c = self.meet_through_alice(lab, "hole-punched-udp", 90)
            self.assertEqual(at_c["address"].split(":")[0], "198.18.0.2")  # dave's router, not alice
            for n in (c, d):
                with open(n.daemon.log_path) as f:
                    log = f.read()
                self.assertIn("failed", log[log.find("trying a hole punch"):])  # TCP was tried first, and failed
            procutil.wait_for(lambda: a.json("status")["messaging"]["relay"]["circuits"] == 0, 30,
                              what="alice's circuit closed once the UDP channel took over")
            self.assertIn("online (internet, hole-punched-udp, ", c.run("contacts", "list").stdout)
            sniff = self.sniff(lab, "a", os.path.join(a.home, "relay-wire.bin"))
            secrets = self.chat_secretly(c, d)
            wire = self.wire(sniff)
            for secret in secrets:  # the messages did not pass alice, in any form
                self.assertNotIn(secret.encode(), wire)
            self.send_and_check(c, d, "udp-carol-to-dave.bin", size=512 * 1024 + 3)
            self.send_and_check(d, c, "udp-dave-to-carol.bin", size=512 * 1024 + 5)

    def send_and_check(self, sender, recipient, name, size=3 * 1024 * 1024 + 17):
        """`kith send` of a random file; waits for "delivered" at the sender and checks the recipient's
        copy, its scan and its state. Returns the file's bytes and the transfer id."""
        path = os.path.join(sender.home, name)
        data = os.urandom(size)
        with open(path, "wb") as f:
            f.write(data)
        tid = sender.json("send", recipient.name, path)["offer"]["transfer_id"]
        offers = lambda: {o["transfer_id"]: o for o in sender.json("files")}
        procutil.wait_for(lambda: offers()[tid]["state"] == "delivered" or None, 180, interval=0.5,
                          what="%s delivered" % name)
        with open(os.path.join(recipient.settings["download.dir"], name), "rb") as f:
            self.assertEqual(hashlib.sha256(data).digest(), hashlib.sha256(f.read()).digest())
        with open(recipient.daemon.log_path) as f:
            self.assertIn("%s: scanned clean" % tid, f.read())
        self.assertIn("delivered", sender.run("files").stdout)
        received = {o["transfer_id"]: o for o in recipient.json("files")}[tid]
        self.assertEqual((received["direction"], received["state"]), ("in", "delivered"))
        return data, tid

    def test_files_both_ways_between_a_nat_and_a_public_node(self):
        with Lab(homes=1, nat="symmetric") as lab:
            a = self.node(lab, "a", "alice")
            c = self.node(lab, "c", "carol")  # alice cannot dial carol, carol can dial alice
            self.befriend(c, a)
            self.send_and_check(c, a, "from-carol.bin")
            self.send_and_check(a, c, "from-alice.bin")

    def test_files_both_ways_between_two_symmetric_nats_go_through_the_relay(self):
        with Lab(homes=2, nat="symmetric") as lab:
            a = self.node(lab, "a", "alice")  # public, a contact of both: the relay
            c = self.node(lab, "c", "carol")
            d = self.node(lab, "d", "dave")
            self.befriend(c, a)
            self.befriend(d, a)
            self.befriend(c, d, timeout=60)
            sniff = self.sniff(lab, "a", os.path.join(a.home, "relay-wire.bin"))
            sent = [self.send_and_check(c, d, "carol-to-dave.bin"), self.send_and_check(d, c, "dave-to-carol.bin")]
            with open(a.daemon.log_path) as f:
                self.assertIn("relaying file data from", f.read())
            for sender, recipient, (_, tid) in ((c, d, sent[0]), (d, c, sent[1])):
                with open(recipient.daemon.log_path) as f:
                    self.assertIn("%s: its data runs through a relay" % tid, f.read())
                with open(sender.daemon.log_path) as f:
                    self.assertIn("through a relay joined to our torrent port", f.read())
            wire = self.wire(sniff)
            self.assertGreater(len(wire), 2 * 3 * 1024 * 1024)  # both files crossed the relay's wire...
            for data, _ in sent:  # ...encrypted: no 64-byte run of either file is on it
                for offset in range(0, len(data) - 64, len(data) // 16):
                    self.assertNotIn(data[offset:offset + 64], wire)


if __name__ == "__main__":
    unittest.main()
