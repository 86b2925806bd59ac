#!/usr/bin/env python3
"""A call under packet loss (issue 12's third target: "audio intact under 5 % packet loss"); not a test,
it prints figures. Two kith nodes on the netlab "Internet" bridge (hosts a and b, no NAT), each side's
kernel dropping LOSS % of its outgoing UDP at random (nftables `numgen random`; this kernel has no
netem), so media loses about that much each way. Each side sends its own tone and records what it
hears (tests/netlab/test_kith_calls.py does the call); printed: packets lost as the receiver's RTCP
says, and how much the other side's tone dominates each recording (intact: > 100x).
Needs root. Usage: python3 bench/call_loss.py [--loss 5] [--calls 3] [--json]"""
import argparse
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netlab"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("KITH_BIN", os.path.join(HERE, "..", "build", "src", "cli", "kith"))
import tones  # noqa: E402
from lab import Lab  # noqa: E402
import test_kith_calls  # noqa: E402


def drop_udp(lab, host, percent):
    """Drops `percent` % of the host's outgoing UDP (media and STUN checks; TCP channels untouched)."""
    rules = ("table inet kithloss {\n chain out {\n  type filter hook output priority 0;\n"
             "  meta l4proto udp numgen random mod 100 < %d drop\n }\n}\n" % percent)
    p = lab.popen(host, ["nft", "-f", "-"], stdin=subprocess.PIPE)
    p.communicate(rules)  # lab.popen opens pipes in text mode
    if p.returncode != 0:
        raise RuntimeError("nft failed on " + host)


class LossRun(test_kith_calls.CallsAcrossNats):
    def runTest(self):
        pass


def one_call(loss):
    run = LossRun()
    run.setUpClass()
    with Lab(homes=0) as lab:
        c = run.node(lab, "a", "carol")
        d = run.node(lab, "b", "dave")
        run.befriend(c, d)
        for host in ("a", "b"):
            drop_udp(lab, host, loss)
        try:
            _, out = run.call_with_tones(c, d)
            intact = True
        except AssertionError as e:  # the tone did not dominate: not intact (the figures say how far)
            out, intact = {}, False
            print("  not intact: %s" % e, file=sys.stderr)
        result = {"intact": intact}
        for n, own, other in ((c, test_kith_calls.CAROL_TONE, test_kith_calls.DAVE_TONE),
                              (d, test_kith_calls.DAVE_TONE, test_kith_calls.CAROL_TONE)):
            _, powers = tones.loudest(os.path.join(n.root, "heard.wav"), [own, other], skip_seconds=0.5, max_seconds=6)
            result[n.name + "_ratio"] = powers[other] / max(powers[own], 1e-30)
            stats = out.get(n.name, {}).get("stats", {})
            result[n.name + "_packets_lost"] = stats.get("packets_lost")
            result[n.name + "_packets_received"] = stats.get("audio_packets_received")
        run.doCleanups()
        return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loss", type=int, default=5)
    ap.add_argument("--calls", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = [one_call(args.loss) for _ in range(args.calls)]
    if args.json:
        print(json.dumps({"loss_percent": args.loss, "calls": results}, indent=1))
        return
    print("a call with %d %% of each side's UDP dropped (netlab, two hosts, no NAT), %d calls" % (args.loss, args.calls))
    for i, r in enumerate(results, 1):
        print("  call %d: intact %-5s  carol hears dave %.1ex own (lost %s of %s)  dave hears carol %.1ex own (lost %s of %s)"
              % (i, r["intact"], r["carol_ratio"], r["carol_packets_lost"], r["carol_packets_received"],
                 r["dave_ratio"], r["dave_packets_lost"], r["dave_packets_received"]))
    print("  target (issue 12): audio intact (the other side's tone > 100x one's own) under 5 % loss")


if __name__ == "__main__":
    main()
