"""Group calls' signalling between real daemons on loopback (docs/protocol/calls.md § Group calls),
through the API alone (no media: the endpoints are tested in test_calls.py, tests/ui): a group call
started with two contacts becomes a mesh once both answer, a fourth person joins late through one
participant and is linked to everyone, leaving ends only the leaver's calls, and malformed requests
are refused."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from contacts_util import befriend, kith_id  # noqa: E402
from kithtest import KithTestCase, free_port  # noqa: E402


class CallRoomsTest(KithTestCase):

    def daemons(self, *names):
        nodes = {}
        for name in names:
            n = self.node(name, {"profile.name": name, "channel.listen": "127.0.0.1:%d" % free_port(),
                                 "calls.ice_networks": "127.0.0.1"})
            n.start_daemon()
            n.kith_id = kith_id(n)["id"]
            nodes[name] = n
        return nodes

    def room_calls(self, node, room):
        status, body = node.api("GET", "/api/v1/calls")
        self.assertEqual(status, 200, body)
        return {c["contact"]["name"]: c for c in body["calls"] if c["room"] == room and c["state"] != "ended"}

    def wait_mesh(self, node, room, names, what):
        """Waits until `node` has a connecting or active call in `room` with exactly `names`."""
        def meshed():
            calls = self.room_calls(node, room)
            if sorted(calls) == sorted(names) and all(c["state"] in ("connecting", "active") for c in calls.values()):
                return calls
            return None
        return procutil.wait_for(meshed, 20, what=what)

    def test_a_group_call_becomes_a_mesh_one_joins_late_and_one_leaves(self):
        n = self.daemons("alice", "bob", "carol", "dave")
        for a, b in (("alice", "bob"), ("alice", "carol"), ("bob", "carol"),
                     ("dave", "carol"), ("dave", "alice"), ("dave", "bob")):
            befriend(n[a], n[b])
        alice, bob, carol, dave = n["alice"], n["bob"], n["carol"], n["dave"]
        status, group = alice.api("POST", "/api/v1/calls", {"contacts": ["bob", "carol"]})
        self.assertEqual(status, 201, group)
        room = group["room"]
        self.assertEqual(len(room), 32)
        self.assertEqual(sorted(c["contact"]["name"] for c in group["calls"]), ["bob", "carol"])
        self.assertEqual(group["unreachable"], [])
        for who in (bob, carol):
            ringing = procutil.wait_for(lambda: self.room_calls(who, room).get("alice"), 20, what="the ring")
            self.assertEqual(ringing["state"], "ringing")
            self.assertFalse(ringing["link"])
            status, body = who.api("POST", "/api/v1/calls/%s/answer" % ringing["id"])
            self.assertEqual(status, 200, body)
        # bob and carol were linked by the node whose kith ID is the smaller, without a ring.
        at_bob = self.wait_mesh(bob, room, ["alice", "carol"], "bob's mesh")
        at_carol = self.wait_mesh(carol, room, ["alice", "bob"], "carol's mesh")
        self.wait_mesh(alice, room, ["bob", "carol"], "alice's mesh")
        self.assertTrue(at_bob["carol"]["link"])
        self.assertEqual(at_bob["carol"]["id"], at_carol["bob"]["id"])
        placer = "bob" if bob.kith_id < carol.kith_id else "carol"
        self.assertEqual((at_bob if placer == "bob" else at_carol)[
            "carol" if placer == "bob" else "bob"]["direction"], "outgoing")
        self.assertEqual(procutil.wait_for(
            lambda: self.room_calls(bob, room)["alice"]["roster"] or None, 20, what="alice's roster at bob"),
            [carol.kith_id])

        # dave joins late through carol: carol's node answers at once, the rosters link him to the others.
        # (The room as typed in upper case is the same room.)
        status, call = dave.api("POST", "/api/v1/calls", {"contact": "carol", "room": room.upper()})
        self.assertEqual(status, 201, call)
        self.assertEqual(call["room"], room)
        self.wait_mesh(dave, room, ["alice", "bob", "carol"], "dave's mesh")
        for who, others in ((alice, ["bob", "carol", "dave"]), (bob, ["alice", "carol", "dave"]),
                            (carol, ["alice", "bob", "dave"])):
            self.wait_mesh(who, room, others, "the mesh with dave at " + who.home)

        # carol leaves: her calls end, the others' go on.
        status, body = carol.api("POST", "/api/v1/calls/rooms/%s/hangup" % room.upper())
        self.assertEqual((status, body.get("ended")), (200, 3), body)
        self.assertEqual(self.room_calls(carol, room), {})
        for who, others in ((alice, ["bob", "dave"]), (bob, ["alice", "dave"]), (dave, ["alice", "bob"])):
            self.wait_mesh(who, room, others, "the mesh without carol at " + who.home)
        # A 1:1 call from inside the room is refused: you are in a (group) call.
        status, body = alice.api("POST", "/api/v1/calls", {"contact": "carol"})
        self.assertEqual(status, 409, body)

    def test_malformed_group_call_requests_are_refused(self):
        n = self.daemons("alice", "bob")
        befriend(n["alice"], n["bob"])
        alice = n["alice"]
        for body in ({"contacts": ["bob"]}, {"contacts": ["a", "b", "c", "d", "e", "f"]},
                     {"contacts": ["bob", "carol"], "contact": "bob"}, {"contacts": "bob"},
                     {"contact": "bob", "room": "nothex"}, {"contact": "bob", "room": "ab" * 15}, {"room": "ab" * 16}):
            status, answer = alice.api("POST", "/api/v1/calls", body)
            self.assertEqual(status, 400, (body, answer))
        # Nobody reachable: 503, and no call is left behind.
        status, answer = alice.api("POST", "/api/v1/calls", {"contacts": ["nobody", "nemo"]})
        self.assertIn(status, (404, 503), answer)
        status, body = alice.api("GET", "/api/v1/calls")
        self.assertEqual(body["calls"], [])
        # Leaving a room you are not in ends nothing.
        status, body = alice.api("POST", "/api/v1/calls/rooms/%s/hangup" % ("cd" * 16))
        self.assertEqual((status, body.get("ended")), (200, 0), body)


if __name__ == "__main__":
    unittest.main()
