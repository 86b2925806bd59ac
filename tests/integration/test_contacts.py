"""Contacts and messages between real daemons on loopback (issue 3): requests, accept, chat both
ways, receipts, offline delivery across restarts, blocking, groups, search, the chat command."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from contacts_util import (befriend, contact, kith_id, messages, send, wait_messages,  # noqa: E402
                           wait_online)
from kithtest import KithTestCase, free_port  # noqa: E402


class ContactsTest(KithTestCase):

    def daemons(self, *names):
        nodes = []
        for name in names:
            # A fixed channel port, as a real node has (6882): contacts find it again after a restart.
            n = self.node(name, {"profile.name": name, "channel.listen": "127.0.0.1:%d" % free_port()})
            n.start_daemon()
            nodes.append(n)
        return nodes

    def test_request_accept_and_chat_both_ways(self):
        alice, bob = self.daemons("alice", "bob")
        a_id, b_id = kith_id(alice)["id"], kith_id(bob)["id"]
        invite = kith_id(alice)["invite"]
        self.assertTrue(invite.startswith("kith:" + a_id + "?name=alice&addr=127.0.0.1"), invite)

        added = json.loads(bob.run("contacts", "add", invite, "--message", "it's bob", "--json").stdout)
        self.assertEqual(added["state"], "outgoing")
        self.assertEqual(added["name"], "alice")  # from the invite
        # Before alice accepts, bob cannot message her.
        r = bob.run("msg", "alice", "too early", check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("not an accepted contact", r.stderr)

        reqs = procutil.wait_for(lambda: alice.run_json("contacts", "requests", "--json"), 20, what="request")
        self.assertEqual([(q["id"], q["name"], q["note"]) for q in reqs], [(b_id, "bob", "it's bob")])
        alice.run("contacts", "accept", "bob")
        wait_online(bob, a_id)
        c = wait_online(alice, b_id)
        self.assertEqual(c["via"], "lan")  # loopback counts as the LAN

        out = bob.run("msg", "alice", "hello alice").stdout
        self.assertIn("delivered to alice", out)
        send(alice, "bob", "hi bob")
        send(alice, "bob", "how are you?")
        got = wait_messages(bob, 2)
        self.assertEqual([m["text"] for m in got], ["hi bob", "how are you?"])
        self.assertEqual([m["seq"] for m in got], [1, 2])
        self.assertEqual(got[0]["author"], a_id)
        at_alice = messages(alice, "bob")
        self.assertEqual([(m["outgoing"], m["text"]) for m in at_alice],
                         [(False, "hello alice"), (True, "hi bob"), (True, "how are you?")])
        procutil.wait_for(lambda: all(m["status"] == "delivered" for m in messages(alice, "bob") if m["outgoing"]),
                          10, what="delivery receipts")

        # Read receipts: bob reads the conversation, alice sees "read".
        status, body = bob.api("POST", "/api/v1/messages/read", {"with": "alice"})
        self.assertEqual((status, body["read"]), (200, 2))
        procutil.wait_for(lambda: all(m["status"] == "read" for m in messages(alice, "bob") if m["outgoing"]),
                          10, what="read receipts")

        found = json.loads(bob.run("inbox", "--search", "ARE you", "--json").stdout)["messages"]
        self.assertEqual([m["text"] for m in found], ["how are you?"])
        text = bob.run("inbox", "--with", "alice").stdout
        self.assertIn("alice: hi bob", text)

        alice.run("contacts", "rename", "bob", "Robert")
        self.assertEqual(contact(alice, b_id)["name"], "Robert")

    def test_offline_delivery_across_restarts_exactly_once_in_order(self):
        alice, bob = self.daemons("alice", "bob")
        befriend(bob, alice)
        b_id = kith_id(bob)["id"]
        bob.stop()
        for i in range(5):
            m = send(alice, "bob", "queued %d" % i)
            self.assertEqual(m["status"], "queued")
        # Alice's node dies hard with the outbox full; it must come back with it.
        alice.kill9()
        alice.start_daemon()
        bob.start_daemon()
        wait_online(alice, b_id, 30)
        got = wait_messages(bob, 5, "alice")
        self.assertEqual([m["text"] for m in got], ["queued %d" % i for i in range(5)])
        procutil.wait_for(lambda: all(m["status"] == "delivered" for m in messages(alice, "bob")), 10,
                          what="receipts after the restart")
        # Again the other way, bob restarting gracefully in between; then nothing arrives twice.
        alice.stop()
        for i in range(3):
            send(bob, "alice", "back %d" % i)
        bob.stop()
        bob.start_daemon()
        alice.start_daemon()
        got = wait_messages(alice, 3, "bob")
        self.assertEqual([m["text"] for m in got], ["back 0", "back 1", "back 2"])
        time.sleep(2)  # any duplicate would have arrived by now
        all_bob = messages(bob, "alice")
        self.assertEqual(len(all_bob), 8)
        self.assertEqual(len({m["id"] for m in all_bob}), 8)
        self.assertEqual(len(messages(alice, "bob")), 8)

    def test_block_and_decline(self):
        alice, bob, carol = self.daemons("alice", "bob", "carol")
        befriend(bob, alice)
        a_id, b_id = kith_id(alice)["id"], kith_id(bob)["id"]
        alice.run("contacts", "block", "bob")
        procutil.wait_for(lambda: not contact(bob, a_id)["online"], 20, what="bob to see alice offline")
        m = send(bob, "alice", "are you there?")
        time.sleep(3)  # bob keeps redialling; alice refuses every channel
        self.assertEqual(messages(alice, "bob"), [])
        status, body = bob.api("GET", "/api/v1/messages/" + m["id"])
        self.assertEqual(body["status"], "queued")
        refused = alice.api("GET", "/api/v1/status")[1]["messaging"]["refused_channels"]
        self.assertGreater(refused, 0)
        self.assertEqual(contact(alice, b_id)["state"], "blocked")

        # A declined request is forgotten, and carol is never told.
        carol.run("contacts", "add", kith_id(alice)["invite"])
        procutil.wait_for(lambda: alice.run_json("contacts", "requests", "--json"), 20, what="carol's request")
        alice.run("contacts", "decline", "carol")
        self.assertEqual(alice.run_json("contacts", "requests", "--json"), [])
        self.assertEqual(contact(carol, a_id)["state"], "outgoing")

    def test_group_of_three_relayed_by_creator(self):
        alice, bob, carol = self.daemons("alice", "bob", "carol")
        befriend(bob, alice)
        befriend(carol, alice)  # bob and carol do not know each other
        alice.run("group", "create", "band", "bob", "carol")
        alice.run("group", "msg", "band", "rehearsal at 8")
        for n in (bob, carol):
            got = wait_messages(n, 1)
            self.assertEqual(got[0]["text"], "rehearsal at 8")
            self.assertEqual(got[0]["conversation_name"], "group:band")
        # bob writes to the group: alice gets it directly, carol through alice's relay.
        bob.run("group", "msg", "band", "I'll bring the amp")
        got = wait_messages(carol, 2)
        self.assertEqual(got[1]["text"], "I'll bring the amp")
        self.assertEqual(got[1]["author"], kith_id(bob)["id"])
        self.assertEqual([m["text"] for m in wait_messages(alice, 1)], ["I'll bring the amp"])
        groups = carol.run_json("group", "list", "--json")
        self.assertEqual([g["name"] for g in groups], ["band"])
        self.assertEqual(len(groups[0]["members"]), 3)

    def test_chat_command_sends_lines_and_shows_incoming(self):
        alice, bob = self.daemons("alice", "bob")
        befriend(bob, alice)
        proc = procutil.spawn(alice.argv("chat", "bob"), env=alice.env(), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(procutil.terminate, proc, 5)
        proc.stdin.write("first line from alice\n")
        proc.stdin.flush()
        got = wait_messages(bob, 1)
        self.assertEqual(got[0]["text"], "first line from alice")
        send(bob, "alice", "answer from bob")
        deadline = time.monotonic() + 20
        seen = ""
        while "answer from bob" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        self.assertIn("bob: answer from bob", seen)
        proc.stdin.close()  # Ctrl-D ends the chat
        self.assertEqual(proc.wait(timeout=10), 0)

    def test_needs_daemon_and_bad_requests(self):
        alone = self.node("alone")
        r = alone.run("contacts", "list", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("kith daemon", r.stderr)
        self.assertTrue(alone.run_json("id", "--json")["id"])  # `kith id` works without one
        alone.start_daemon()
        for body in ({}, {"invite": "kith:nonsense"}, {"invite": 5}):
            status, _ = alone.api("POST", "/api/v1/contacts", body)
            self.assertEqual(status, 400, body)
        status, body = alone.api("POST", "/api/v1/contacts", {"invite": kith_id(alone)["id"]})
        self.assertEqual(status, 400)
        self.assertIn("own", body["error"]["message"])
        status, _ = alone.api("POST", "/api/v1/messages", {"to": "nobody", "text": "x"})
        self.assertEqual(status, 404)
        status, _ = alone.api("GET", "/api/v1/messages?with=group:none")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
