"""Hostile peers against a real daemon's channel port (issue 3, "Bad input and attacks"): a client
written in Python from the protocol document lies about keys, talks before being accepted, tampers,
replays and sends oversized frames. Each is refused and the node keeps serving its contacts."""
import base64
import os
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from contacts_util import befriend, kith_id, messages, send, wait_messages  # noqa: E402
from hostile_peer import (CONTACT_RESPONSE, RECEIPT, Person, closed_by_peer, contact_request, hello,  # noqa: E402
                          read_frames)
from kithtest import KithTestCase, free_port  # noqa: E402


class ChannelAttacksTest(KithTestCase):

    def setUp(self):
        super().setUp()
        self.alice = self.node("alice", {"profile.name": "alice", "channel.listen": "127.0.0.1:%d" % free_port()})
        self.alice.start_daemon()
        me = kith_id(self.alice)
        self.address = [a for a in me["addresses"] if a.startswith("127.0.0.1:")][0]
        self.alice_key = base64.b32decode(me["id"].upper() + "=" * (-len(me["id"]) % 8))[:32]

    def refused(self):
        return self.alice.api("GET", "/api/v1/status")[1]["messaging"]["refused_channels"]

    def test_stranger_that_talks_before_being_accepted_is_closed(self):
        mallory = Person()
        s = mallory.connect(self.address)
        s.sendall(hello("mallory") + mallory.signed_message(mallory.message_body(self.alice_key, "buy now", 1)))
        self.assertTrue(closed_by_peer(s))
        self.assertEqual(messages(self.alice), [])
        self.assertEqual(self.alice.run_json("contacts", "requests", "--json"), [])
        self.assertGreaterEqual(self.refused(), 1)

    def test_forged_or_missing_device_certificates_are_refused(self):
        bob = Person()
        impostor = Person(user=None)
        # Claims bob's user key, but bob never signed this device key.
        forged = bob.user_pk + impostor.device_pk + impostor.user.sign(b"kith-device-v1\n" + bob.user_pk + impostor.device_pk)
        before = self.refused()
        for ext in (forged, b"not a certificate", bob.device_cert):  # bob's real cert on another TLS key
            try:
                s = impostor.connect(self.address, extension=ext)
                s.sendall(contact_request("bob", "it's really me"))
                self.assertTrue(closed_by_peer(s))
            except (ssl.SSLError, ConnectionError):
                pass
        # Without ALPN kith/1 the handshake itself fails.
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            s = bob.connect(self.address, alpn=("h2",))
            s.sendall(b"x")
            s.recv(1)
        procutil.wait_for(lambda: self.refused() >= before + 4, 10, what="four refusals")
        self.assertEqual(self.alice.run_json("contacts", "requests", "--json"), [])

    def test_contact_tampering_replaying_and_flooding(self):
        zed = Person()
        # The request's channel stays open while it waits; accepting answers on it (a requester
        # behind a NAT could not be dialled back).
        s = zed.connect(self.address)
        s.sendall(contact_request("zed", "from python") + hello("zed"))
        reqs = procutil.wait_for(lambda: self.alice.run_json("contacts", "requests", "--json"), 10, what="request")
        self.assertEqual([(r["id"], r["name"], r["note"]) for r in reqs], [(zed.id, "zed", "from python")])
        self.alice.run("contacts", "accept", "zed")
        answer = read_frames(s, timeout=2)
        self.assertTrue(answer and answer[0][2] == (CONTACT_RESPONSE << 3 | 2), answer)
        good = zed.signed_message(zed.message_body(self.alice_key, "genuine", 1, msg_id=b"g" * 16))
        tampered = bytearray(zed.signed_message(zed.message_body(self.alice_key, "tampered!", 2)))
        tampered[-70] ^= 1  # a byte of the body: the signature no longer matches
        forged = zed.signed_message(zed.message_body(self.alice_key, "signed by another key", 3),
                                    signer=Person().user)
        s.sendall(bytes(tampered) + forged + good + good)  # and the good one replayed
        frames = read_frames(s, timeout=3)
        receipts = [f for f in frames if f[2] == (RECEIPT << 3 | 2)]
        self.assertEqual(len(receipts), 2)  # the duplicate is acknowledged again, not stored again
        got = messages(self.alice, "zed")
        self.assertEqual([m["text"] for m in got], ["genuine"])
        status = self.alice.api("GET", "/api/v1/status")[1]["messaging"]
        self.assertEqual(status["rejected_messages"], 2)

        # An oversized frame ends the channel...
        s.sendall(b"\x00\x10\x00\x00" + b"x" * 1000)
        self.assertTrue(closed_by_peer(s))
        # ...and a flood of connections and requests does not stop the node serving its contacts.
        bob = self.node("bob", {"profile.name": "bob", "channel.listen": "127.0.0.1:%d" % free_port()})
        bob.start_daemon()
        befriend(bob, self.alice)
        socks = []
        for i in range(40):
            try:
                p = Person()
                c = p.connect(self.address)
                c.sendall(contact_request("spam%d" % i, "x"))
                socks.append(c)
            except (ssl.SSLError, OSError):
                pass
        send(bob, "alice", "still there?")
        self.assertEqual(wait_messages(self.alice, 1, "bob")[0]["text"], "still there?")
        requests = self.alice.run_json("contacts", "requests", "--json")
        self.assertLessEqual(len(requests), 20)  # at most 20 new requests a minute are kept
        for c in socks:
            c.close()


if __name__ == "__main__":
    unittest.main()
