#!/usr/bin/env python3
"""LAN discovery across a real network stack: lan_probe (src/lan/lan_probe.cpp, a Discovery with a
fresh key that prints sightings as JSON lines) in two namespaces on one bridge. Each must see the
other's device key at the right IPv4 and IPv6 (link-local) address; nothing crosses a NAT router.

The probes run with a 60 s interval, so a sighting within their few seconds of life can only come
from the start burst or from an answer to a newcomer: this checks fast discovery without timing.
Needs root; LAN_PROBE is set by ctest (tests/netlab/CMakeLists.txt).
"""
import json
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, unavailable_reason  # noqa: E402

PROBE = os.environ.get("LAN_PROBE", "")


def sightings(output):
    """(started line, [sighting dicts], stats dict) from a probe's stdout."""
    lines = [json.loads(l) for l in output.splitlines() if l.startswith("{")]
    started = next(l for l in lines if l["event"] == "started")
    stats = next((l for l in lines if l["event"] == "stats"), {})
    return started, [l for l in lines if l["event"] == "sighting"], stats


class LanDiscovery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = unavailable_reason()
        if reason:
            raise unittest.SkipTest(reason)
        if not PROBE or not os.access(PROBE, os.X_OK):
            raise unittest.SkipTest("LAN_PROBE does not name the lan_probe binary (run through ctest)")

    def probe(self, lab, host, port, seconds):
        return lab.popen(host, [PROBE, "--seconds", str(seconds), "--channel-port", str(port),
                                "--interval", "60000"])

    def finish(self, p):
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        return sightings(out) + (err,)

    def expect_sees(self, who, seen, other_started, addresses):
        mine = [s for s in seen if s["device"] == other_started["device"]]
        got = {s["address"] for s in mine}
        self.assertTrue(all(s["user"] == other_started["user"] for s in mine), mine)
        for a in addresses:
            self.assertIn(a, got, "%s did not see %s; sightings: %s" % (who, a, seen))
        self.assertTrue(all(s["interface"] == "eth0" for s in seen), seen)

    def test_two_hosts_find_each_other_v4_and_v6(self):
        # Peer C behind the NAT router (another segment) needs nftables for the router.
        with_c = shutil.which("nft") is not None
        if not with_c:
            print("nft missing: not checking that multicast stays off the NAT'd segment", file=sys.stderr)
        with Lab(homes=1 if with_c else 0) as lab:
            hosts = ["a", "b"] + (["c"] if with_c else [])
            lab.wait_ipv6_ready(*hosts)
            probes = [self.probe(lab, h, 4001 + i, 3) for i, h in enumerate(hosts)]
            results = [self.finish(p) for p in probes]
            (sa, seen_a, stats_a, err_a), (sb, seen_b, stats_b, err_b) = results[:2]
            ll_a, ll_b = lab.link_local("a"), lab.link_local("b")
            print("a:", stats_a, "\nb:", stats_b, file=sys.stderr)
            self.expect_sees("a", seen_a, sb, ["198.18.0.12:4002", "[%s%%eth0]:4002" % ll_b])
            self.expect_sees("b", seen_b, sa, ["198.18.0.11:4001", "[%s%%eth0]:4001" % ll_a])
            self.assertEqual(stats_a["send_errors"], 0, err_a)
            self.assertEqual(stats_b["send_errors"], 0, err_b)
            self.assertEqual(stats_a["rejected_bad"] + stats_b["rejected_bad"], 0)
            # No one else on this segment, and multicast does not cross the router.
            self.assertEqual({s["device"] for s in seen_a}, {sb["device"]})
            self.assertEqual({s["device"] for s in seen_b}, {sa["device"]})
            if with_c:
                self.assertEqual(results[2][1], [])

    def test_late_starter_is_answered(self):
        # a's start burst is over (0, 0.3, 1 s) before b starts, and a's next periodic beacon is 60 s
        # away: b can only learn about a because a answers b's first beacon.
        with Lab(homes=0) as lab:
            lab.wait_ipv6_ready("a", "b")
            pa = self.probe(lab, "a", 4001, 5)
            time.sleep(2)
            pb = self.probe(lab, "b", 4002, 2)
            (sa, seen_a, _, _) = self.finish(pa)
            (sb, seen_b, _, _) = self.finish(pb)
            ll_a = lab.link_local("a")
            self.expect_sees("a", seen_a, sb, ["198.18.0.12:4002"])
            self.expect_sees("b", seen_b, sa, ["198.18.0.11:4001", "[%s%%eth0]:4001" % ll_a])

    def test_flood_from_another_address_is_dropped(self):
        # b's namespace gets a second address, 198.18.0.13, which floods the group with beacon-sized
        # junk. a must drop it (per-source bucket, then bad signatures) and still find b's probe,
        # which sends from 198.18.0.12.
        flood = (
            "import os, socket, time\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.bind(('198.18.0.13', 0))\n"
            "s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('198.18.0.13'))\n"
            "s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)\n"
            "s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)\n"
            "for i in range(3000):\n"
            "    s.sendto(b'KITHLAN1' + os.urandom(202), ('239.255.70.77', 29170))\n"
            "    if i % 100 == 99: time.sleep(0.05)\n")
        with Lab(homes=0) as lab:
            lab.run("b", ["ip", "addr", "add", "198.18.0.13/24", "dev", "eth0"])
            lab.wait_ipv6_ready("a", "b")
            pa = self.probe(lab, "a", 4001, 4)
            time.sleep(0.2)
            flooder = lab.popen("b", [sys.executable, "-c", flood])
            pb = self.probe(lab, "b", 4002, 3)
            (sa, seen_a, stats_a, err_a) = self.finish(pa)
            (sb, _, _, _) = self.finish(pb)
            flooder.communicate(timeout=30)
            self.assertEqual(flooder.returncode, 0)
            print("a:", stats_a, file=sys.stderr)
            self.expect_sees("a", seen_a, sb, ["198.18.0.12:4002", "[%s%%eth0]:4002" % lab.link_local("b")])
            self.assertGreater(stats_a["dropped_rate"], 2000)
            self.assertGreater(stats_a["rejected_bad"], 0)
            self.assertLess(stats_a["rejected_bad"], 100)  # the burst of 20, then 4 per second
            # Drops are logged, but at most once per 10 s: not once per datagram.
            self.assertLessEqual(len([l for l in err_a.splitlines() if "LAN discovery" in l]), 2, err_a)


if __name__ == "__main__":
    unittest.main()
