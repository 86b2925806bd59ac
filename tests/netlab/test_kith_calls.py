#!/usr/bin/env python3
"""Calls across NAT routers (issue 12), in network namespaces. alice is public (host a) and a contact
of carol and dave, each behind a NAT router of their own; carol and dave are contacts (their channel
runs through alice's relay, or a hole-punched path). Carol calls dave with `kith call`, dave answers
with `kith answer`, each sending a tone from a WAV and recording what they hear:
  - behind two cone NATs, with `calls.stun` = alice's node (every kith node answers STUN on its channel
    port's UDP number): both offer server-reflexive candidates, and the media runs through the NATs'
    mappings (the host candidates are private addresses no one else can reach);
  - behind two symmetric NATs, with `calls.turn` = coturn (Debian) on host a and `calls.relay_only`:
    both offer only relayed candidates and the media runs through the TURN server.
Each side's recording must peak at the other side's tone.
Needs root; KITH_BIN is set by ctest."""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
import tones  # noqa: E402
from lab import Lab  # noqa: E402
from kithtest import KithTestCase  # noqa: E402
from nsnode import LabTestCase  # noqa: E402

import test_kith_nat  # noqa: E402  (its helpers; a module import, so unittest does not run its tests here)
from test_kith_turn import TURN_IP as ALICE_IP, TURN_PASSWORD, TURN_PORT, TURN_USER, start_turnserver  # noqa: E402
CAROL_TONE, DAVE_TONE = 440, 660


class CallsAcrossNats(LabTestCase):
    def node(self, lab, host, name, settings=None):
        s = {"lan.discovery": "false"}
        s.update(settings or {})
        return self.start_node(lab, host, name, s)

    befriend = test_kith_nat.KithBehindNat.befriend

    def logs_on_failure(self, *nodes):
        def dump():
            if KithTestCase.failed(self):
                for n in nodes:
                    for path in [n.daemon.log_path] + [p.log_path for p in n._procs if p is not n.daemon]:
                        if os.path.exists(path):
                            with open(path) as f:
                                lines = [l for l in f if "libtorrent: " not in l]
                            sys.stderr.write("--- %s %s\n%s" % (n.name, path, "".join(lines[-40:])))
        self.addCleanup(dump)

    def carol_and_dave(self, lab, settings):
        """alice (public) befriends carol and dave (behind their NATs, with `settings`), who befriend each
        other (their channel through alice's relay, or punched)."""
        a = self.node(lab, "a", "alice")
        c = self.node(lab, "c", "carol", settings)
        d = self.node(lab, "d", "dave", settings)
        self.logs_on_failure(a, c, d)
        self.befriend(c, a)
        self.befriend(d, a)
        self.befriend(c, d, timeout=90)
        return c, d

    def calls(self, n):
        return n.json("calls")["calls"]

    def wait_state(self, n, state, timeout=60):
        return procutil.wait_for(lambda: next((c for c in self.calls(n) if c["state"] == state), None),
                                 timeout, interval=0.3, what="a %s call at %s" % (state, n.name))

    def call_with_tones(self, c, d):
        """carol calls dave; both send a tone and record; returns the candidates dave's node passed to
        his endpoint (carol's), and each side's final JSON line."""
        files = {}
        for n, freq in ((c, CAROL_TONE), (d, DAVE_TONE)):
            files[n.name] = (os.path.join(n.root, "tone.wav"), os.path.join(n.root, "heard.wav"))
            tones.write_tone(files[n.name][0], freq, seconds=12)
        caller = c.spawn("call", "dave", "--send-audio", files["carol"][0], "--record", files["carol"][1], "--json")
        ringing = self.wait_state(d, "ringing")
        callee = d.spawn("answer", "--send-audio", files["dave"][0], "--record", files["dave"][1], "--json")
        self.wait_state(c, "active", timeout=60)
        self.wait_state(d, "active", timeout=30)
        # What carol's endpoint offered, as dave's node passed it on (read before the hang-up clears it).
        cands = [s["candidate"] for s in self.signals(d, ringing["id"]) if s["type"] == "candidate"]
        time.sleep(4)  # tones flow
        c.run("hangup")
        out = {}
        for n, p in (("carol", caller), ("dave", callee)):
            p.wait(timeout=30)
            lines = []
            while True:
                try:
                    line = p.reader.next_line(0.5)
                except EOFError:
                    break
                if line is None:
                    break
                lines.append(line)
            self.assertEqual(p.returncode, 0, "%s's call process" % n)
            out[n] = json.loads(lines[-1])
        got, powers = tones.loudest(files["carol"][1], [CAROL_TONE, DAVE_TONE, 550, 880])
        self.assertEqual(got, DAVE_TONE, ("carol hears", powers))
        got, powers = tones.loudest(files["dave"][1], [CAROL_TONE, DAVE_TONE, 550, 880])
        self.assertEqual(got, CAROL_TONE, ("dave hears", powers))
        return cands, out

    def signals(self, n, call_id):
        """The contact's signals of a call at node `n` (the CLI has no command for them: the API, asked
        from inside the node's namespace)."""
        r = n.lab.run(n.host, ["python3", "-c", API_GET, n.api_addr, n.token, "/api/v1/calls/%s/signals" % call_id])
        return json.loads(r.stdout)["signals"]

    def test_a_call_between_two_cone_nats_runs_on_server_reflexive_candidates(self):
        with Lab(homes=2, nat="cone") as lab:
            c, d = self.carol_and_dave(lab, {"calls.stun": "%s:6882" % ALICE_IP})
            cands, out = self.call_with_tones(c, d)
            srflx = [x for x in cands if " typ srflx " in x]
            self.assertTrue(srflx, cands)
            self.assertTrue(all(" 198.18.0.1 " in x for x in srflx), srflx)  # carol's router's address
            self.assertGreater(out["carol"]["stats"]["audio_packets_received"], 100)

    def test_a_call_between_two_symmetric_nats_runs_through_coturn(self):
        if not shutil.which("turnserver"):
            raise AssertionError("coturn's turnserver is missing: run scripts/install-deps.sh")
        with Lab(homes=2, nat="symmetric") as lab:
            tmp = tempfile.mkdtemp(prefix="kith-turn-")
            self.addCleanup(shutil.rmtree, tmp, True)
            self.addCleanup(start_turnserver(lab, tmp, udp=True).kill)
            # "Always relay" (calls.relay_only): each side offers its relayed candidate only. With every
            # candidate offered, libnice 0.1.21 (webrtcbin's agent) behind two symmetric NATs fails the
            # checks before the relayed pairs succeed (docs/protocol/calls.md § NAT).
            turn = {"calls.turn": "%s:%s@%s:%d" % (TURN_USER, TURN_PASSWORD, ALICE_IP, TURN_PORT),
                    "calls.relay_only": "true"}
            c, d = self.carol_and_dave(lab, turn)
            cands, out = self.call_with_tones(c, d)
            relay = [x for x in cands if " typ relay " in x]
            self.assertTrue(relay, cands)
            self.assertEqual(relay, cands)  # carol's addresses never reached dave
            self.assertTrue(all((" %s " % ALICE_IP) in x for x in relay), relay)
            self.assertGreater(out["dave"]["stats"]["audio_packets_received"], 100)


# GET on a daemon's API from inside its namespace: python3 -c API_GET ADDR TOKEN PATH.
API_GET = r"""
import sys, urllib.request
req = urllib.request.Request("http://" + sys.argv[1] + sys.argv[3], headers={"Authorization": "Bearer " + sys.argv[2]})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print(opener.open(req, timeout=10).read().decode())
"""

if __name__ == "__main__":
    unittest.main()
