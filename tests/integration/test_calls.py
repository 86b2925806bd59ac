"""Calls between real daemons on loopback (issue 12): `kith call` and `kith answer` run the native
media endpoint (GStreamer webrtcbin), the daemons carry the signalling over the contacts' channel.
Each side sends its own tone from a WAV file and records what it hears: each recording must peak at
the other side's tone. Also: decline, busy, an offline contact, hang-up from either side, a
malformed signal from the local endpoint, the history kept across a restart."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
import tones  # noqa: E402
from contacts_util import befriend, kith_id  # noqa: E402
from kithtest import KithTestCase, free_port  # noqa: E402

ALICE_TONE, BOB_TONE = 440, 660
CANDIDATES = [ALICE_TONE, BOB_TONE, 300, 550, 880, 1000]


class CallsTest(KithTestCase):

    def daemons(self, *names):
        nodes = []
        for name in names:
            # calls.ice_networks keeps the media on loopback (the machine's other interfaces are never tried).
            n = self.node(name, {"profile.name": name, "channel.listen": "127.0.0.1:%d" % free_port(),
                                 "calls.ice_networks": "127.0.0.1"})
            n.start_daemon()
            nodes.append(n)
        return nodes

    def calls(self, node):
        return node.run_json("calls", "--json")["calls"]

    def wait_call(self, node, state, direction=None, timeout=20):
        def found():
            for c in self.calls(node):
                if c["state"] == state and (direction is None or c["direction"] == direction):
                    return c
            return None
        return procutil.wait_for(found, timeout, what="a %s call at %s" % (state, node.home))

    def finish(self, proc, timeout=30):
        proc.wait(timeout=timeout)
        lines = []
        while True:
            try:
                line = proc.reader.next_line(0.5)
            except EOFError:  # the process ended and every line was read
                break
            if line is None:
                break
            lines.append(line)
        with open(proc.log_path) as f:
            err = f.read()
        return proc.returncode, [json.loads(line) for line in lines if line.startswith("{")], err

    def quiet(self, freq):
        """Media arguments for a side whose audio does not matter (no sound card here)."""
        return ["--send-audio", self.tone(freq), "--record", os.path.join(self.tmp, "ignored-%d.wav" % freq)]

    def tone(self, freq):
        path = os.path.join(self.tmp, "tone-%d.wav" % freq)
        if not os.path.exists(path):
            tones.write_tone(path, freq, seconds=6)
        return path

    def setUp(self):
        super().setUp()
        self.tmp = self.tmpdir("kith-calls-")

    def test_a_native_call_carries_each_sides_tone_and_either_side_hangs_up(self):
        alice, bob = self.daemons("alice", "bob")
        befriend(alice, bob)
        heard_by_alice = os.path.join(self.tmp, "alice-heard.wav")
        heard_by_bob = os.path.join(self.tmp, "bob-heard.wav")
        caller = alice.spawn("call", "bob", "--send-audio", self.tone(ALICE_TONE), "--record", heard_by_alice,
                             "--json")
        first = json.loads(caller.reader.next_line(20))
        self.assertEqual(first["call"]["state"], "calling")
        ringing = self.wait_call(bob, "ringing", "incoming")
        self.assertEqual(ringing["contact"]["name"], "alice")
        self.assertEqual(ringing["id"], first["call"]["id"])
        callee = bob.spawn("answer", "--send-audio", self.tone(BOB_TONE), "--record", heard_by_bob, "--json")
        self.wait_call(alice, "active")
        self.wait_call(bob, "active")
        time.sleep(3.5)  # tones flow
        bob.run("hangup")
        code_a, lines_a, err_a = self.finish(caller)
        code_b, lines_b, err_b = self.finish(callee)
        self.assertEqual(code_a, 0, err_a)
        self.assertEqual(code_b, 0, err_b)
        self.assertEqual(lines_a[-1]["call"]["end_reason"], "the other side hung up")
        self.assertEqual(lines_b[-1]["call"]["end_reason"], "hung up")
        self.assertGreater(lines_a[-1]["stats"]["audio_packets_received"], 50)
        self.assertIn("AUDIO/OPUS", [c.upper() for c in lines_a[-1]["stats"]["codecs"]])
        got, powers = tones.loudest(heard_by_alice, CANDIDATES)
        self.assertEqual(got, BOB_TONE, powers)
        self.assertGreater(powers[BOB_TONE], 100 * powers[ALICE_TONE], powers)
        got, powers = tones.loudest(heard_by_bob, CANDIDATES)
        self.assertEqual(got, ALICE_TONE, powers)
        # Both ended, and `kith calls` keeps the history.
        for node, direction in ((alice, "outgoing"), (bob, "incoming")):
            c = self.calls(node)[0]
            self.assertEqual((c["state"], c["direction"]), ("ended", direction))
            self.assertGreater(c["connected_ms"], 0)

        # A second call, hung up by the caller this time.
        caller = alice.spawn("call", "bob", "--json", *self.quiet(ALICE_TONE))
        self.wait_call(bob, "ringing", "incoming")
        callee = bob.spawn("answer", "--json", *self.quiet(BOB_TONE))
        self.wait_call(bob, "active")
        alice.run("hangup")
        self.assertEqual(self.finish(caller)[0], 0)
        code_b, lines_b, err_b = self.finish(callee)
        self.assertEqual(code_b, 0, err_b)
        self.assertEqual(lines_b[-1]["call"]["end_reason"], "the other side hung up")

    def test_answer_wait_answers_the_next_call_and_gives_up_without_one(self):
        alice, bob = self.daemons("alice", "bob")
        befriend(alice, bob)
        r = bob.run("answer", "--wait", "1", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no call rang within 1 s", r.stderr)
        callee = bob.spawn("answer", "--wait", "60", "--json", *self.quiet(BOB_TONE))
        caller = alice.spawn("call", "bob", "--json", *self.quiet(ALICE_TONE))
        self.wait_call(alice, "active")
        alice.run("hangup")
        code_a, _, err_a = self.finish(caller)
        code_b, lines_b, err_b = self.finish(callee)
        self.assertEqual((code_a, code_b), (0, 0), err_a + err_b)
        self.assertEqual(lines_b[-1]["call"]["direction"], "incoming")

    def test_decline_busy_and_an_offline_contact(self):
        alice, bob, carol = self.daemons("alice", "bob", "carol")
        befriend(alice, bob)
        befriend(carol, bob)
        # Declined: bob hangs up a ringing call.
        caller = alice.spawn("call", "bob", "--json", *self.quiet(ALICE_TONE))
        self.wait_call(bob, "ringing")
        out = bob.run("hangup").stdout
        self.assertIn("declined", out)
        code, lines, err = self.finish(caller)
        self.assertEqual(code, 1, err)
        self.assertEqual(lines[-1]["call"]["end_reason"], "declined")
        # Busy: bob's phone rings for alice when carol calls.
        caller = alice.spawn("call", "bob", "--json", *self.quiet(ALICE_TONE))
        self.wait_call(bob, "ringing")
        code, lines, err = self.finish(carol.spawn("call", "bob", "--json", *self.quiet(300)))
        self.assertEqual(code, 1, err)
        self.assertEqual(lines[-1]["call"]["end_reason"], "busy: in another call")
        missed = [c for c in self.calls(bob) if c["contact"]["name"] == "carol"]
        self.assertEqual(missed[0]["end_reason"], "missed: you were in another call")
        bob.run("hangup")
        self.finish(caller)
        # We cannot place two calls at once either, and a stranger cannot be called.
        caller = alice.spawn("call", "bob", "--json", *self.quiet(ALICE_TONE))
        self.wait_call(alice, "calling")
        r = alice.run("call", "bob", *self.quiet(550), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("you are in a call with bob", r.stderr)
        alice.run("hangup")
        self.finish(caller)
        r = alice.run("call", "carol", *self.quiet(550), check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("no contact named 'carol'", r.stderr)
        # Offline: refused at once, saying so.
        bob.stop()
        procutil.wait_for(lambda: not alice.api("GET", "/api/v1/contacts/bob")[1]["online"], 20,
                          what="bob offline at alice")
        started = time.monotonic()
        r = alice.run("call", "bob", *self.quiet(550), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not reachable", r.stderr)
        self.assertLess(time.monotonic() - started, 10)  # fails fast, not after a ring timeout
        # bob's history survived his restart (state.sqlite): the missed call from carol, alice's calls.
        bob.start_daemon()
        history = self.calls(bob)
        self.assertTrue(all(c["state"] == "ended" for c in history), history)
        self.assertIn("missed: you were in another call",
                      [c["end_reason"] for c in history if c["contact"]["name"] == "carol"])
        self.assertIn("declined", [c["end_reason"] for c in history if c["contact"]["name"] == "alice"])

    def test_both_calling_each_other_at_once_end_up_in_one_call(self):
        """Glare between two real daemons: both place a call at the same moment (threads, through the
        API); when the INVITEs cross, both nodes keep the call with the smaller id, already answered,
        and the other names it (replaced_by). Tried a few times: on loopback a ring can also arrive
        before the other side placed its call, which is a plain "busy"."""
        import threading
        alice, bob = self.daemons("alice", "bob")
        befriend(alice, bob)
        for attempt in range(12):
            go = threading.Barrier(2)
            placed = {}

            def place(node, who):
                go.wait()
                placed[who] = node.api("POST", "/api/v1/calls", {"contact": who})
            threads = [threading.Thread(target=place, args=(alice, "bob")),
                       threading.Thread(target=place, args=(bob, "alice"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(0.5)
            at_a, at_b = self.calls(alice), self.calls(bob)
            replaced = [c for c in at_a + at_b if c.get("replaced_by")]
            if replaced:
                survivor = replaced[0]["replaced_by"]
                for node in (alice, bob):
                    live = [c for c in self.calls(node) if c["state"] != "ended"]
                    self.assertEqual([(c["id"], c["state"]) for c in live], [(survivor, "connecting")], node.home)
                self.assertEqual(len(replaced), 1, replaced)
                self.assertLess(survivor, replaced[0]["id"])  # the smaller id wins
                alice.api("POST", "/api/v1/calls/%s/hangup" % survivor)
                return
            for node in (alice, bob):  # no glare this time: clear up and try again
                for c in self.calls(node):
                    if c["state"] != "ended":
                        node.api("POST", "/api/v1/calls/%s/hangup" % c["id"])
            procutil.wait_for(lambda: all(c["state"] == "ended" for n in (alice, bob) for c in self.calls(n)), 10,
                              what="both calls ended")
        self.skipTest("the two rings never crossed in 12 tries")

    def test_the_local_endpoints_bad_signals_are_refused_with_a_clear_error(self):
        alice, bob = self.daemons("alice", "bob")
        befriend(alice, bob)
        status, call = alice.api("POST", "/api/v1/calls", {"contact": "bob"})
        self.assertEqual(status, 201, call)
        path = "/api/v1/calls/%s" % call["id"]
        # Before the answer: no signals.
        status, body = alice.api("POST", path + "/signals", {"type": "offer", "sdp": "v=0\r\n"})
        self.assertEqual(status, 409, body)
        self.wait_call(bob, "ringing")
        status, _ = bob.api("POST", path + "/answer")
        self.assertEqual(status, 200)
        self.wait_call(alice, "connecting")  # bob's ACCEPT reached alice's node
        for bad in ({"type": "offer", "sdp": "v=0\r\nm=audio 9 RTP 0\r\n"},
                    {"type": "candidate", "candidate": "candidate:1 1 udp 2 1.2.3.4 99999 typ host"},
                    {"type": "dance"},
                    {"type": "candidate", "candidate": "x", "mline": 99}):
            status, body = alice.api("POST", path + "/signals", bad)
            self.assertEqual(status, 400, (bad, body))
            self.assertIn("message", body["error"])
        self.assertEqual(alice.api("GET", path)[1]["state"], "connecting")  # the call goes on
        status, body = alice.api("GET", "/api/v1/calls/00000000000000000000000000000000")
        self.assertEqual(status, 404, body)
        status, body = alice.api("GET", "/api/v1/calls/config")
        self.assertEqual(body, {"ice_servers": [], "ice_networks": ["127.0.0.1"], "ice_transport_policy": "all"})
        alice.api("POST", path + "/hangup")


if __name__ == "__main__":
    unittest.main()
