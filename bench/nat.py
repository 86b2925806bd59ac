#!/usr/bin/env python3
"""Reach across NATs (issue 11): not a test, it prints figures.

In tests/netlab namespaces (needs root): a public kith node (alice) is a contact of two people, each
behind their own NAT router without UPnP. For each try, carol adds dave from his invite (no address
either can dial), dave accepts as soon as the request shows, and the bench records:

  online    seconds from carol's `contacts add` to dave online at carol (through alice's relay)
  direct    seconds from the add to a hole-punched channel (cone NATs; never on symmetric ones)
  path      the channel's path when the try ends: hole-punched or relayed

Scenario `doorbell`: cone NATs and no mutual contact: alice is only the private DHT's bootstrap node;
carol reaches dave through his DHT doorbell (docs/protocol/channel.md § Doorbell), polled every
--bell-poll seconds (the default setting is 60).

Scenario `cone-nosyn`: cone NATs whose routers drop every TCP SYN from outside, so the TCP punch fails
and the UDP punch (ICE, docs/protocol/channel.md § UDP hole punching) is what can replace the relayed
channel: `direct` is then the time to a `hole-punched-udp` channel.

Scenario `turn`: symmetric NATs and no mutual contact; coturn runs on alice's host and carol and dave
have it as `rendezvous.turn` (docs/protocol/channel.md § TURN): the channel's path is `turn`.

Each try runs in a lab of its own (fresh routers, fresh nodes): a NAT's state from an earlier try
(conntrack entries, TIME_WAIT on the same ports) would otherwise change the outcome. Targets (issue 11): cone/cone hole-punched in >= 19 of 20 tries within 5 s; symmetric relayed within
10 s. Throughput of a `kith send` over a relay: bench/relay.py.

Usage: sudo python3 bench/nat.py [--tries 20] [--scenarios cone,symmetric,cone-nosyn,doorbell,turn] [--bell-poll 60] [--json]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "netlab"))
import procutil  # noqa: E402
from lab import Lab, unavailable_reason  # noqa: E402
from nsnode import NsNode  # noqa: E402
from test_kith_turn import TURN_SETTING, start_turnserver  # noqa: E402


def log(msg):
    sys.stderr.write("[nat-bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def tail(node, n=15):
    with open(node.daemon.log_path) as f:
        return "".join([line for line in f if "libtorrent" not in line][-n:])


def befriend(asker, answerer):
    asker.run("contacts", "add", answerer.json("id")["invite"])
    try:
        procutil.wait_for(lambda: answerer.json("contacts", "requests"), 30, what="request")
    except TimeoutError:
        log("%s's request never reached %s\n--- %s\n%s--- %s\n%s" % (asker.name, answerer.name, asker.name,
                                                                      tail(asker), answerer.name, tail(answerer)))
        raise
    answerer.run("contacts", "accept", asker.name)
    answerer.wait_online(asker.name)
    asker.wait_online(answerer.name)


def one_try(scenario, timeout, bell_poll):
    """A lab with alice (public), carol and dave (each behind a NAT); returns the try's figures.
    (The channel's throughput is not timed: every `kith msg` is a process, which would be measured.)"""
    doorbell, turn = scenario == "doorbell", scenario == "turn"
    with Lab(homes=2, nat="cone" if doorbell else "symmetric" if turn else scenario) as lab, \
            tempfile.TemporaryDirectory(prefix="kith-turn-") as tmp:
        settings = {"lan.discovery": "false"}
        turnserver = start_turnserver(lab, tmp) if turn else None
        if doorbell:
            settings.update({"dht.enabled": "true", "dht.private_network": "true",
                             "rendezvous.bell_poll_s": str(bell_poll), "dht.bootstrap": "198.18.0.11:6881"})
        nodes = []
        for host, name in (("a", "alice"), ("c", "carol"), ("d", "dave")):
            own = dict(settings)
            if doorbell and host == "a":
                own["dht.bootstrap"] = ""  # alice is the bootstrap node
            if turn and host != "a":
                own["rendezvous.turn"] = TURN_SETTING
            nodes.append(NsNode(lab, host, name, own))
        try:
            for n in nodes:
                n.start_daemon()
            # A UDP punch starts 5 s after the relayed channel and may take gathering + 20 s of checks.
            patience = 40 if scenario == "cone-nosyn" else 8
            return measure(*nodes, timeout, mutual=not doorbell and not turn, patience=patience)
        finally:
            for n in nodes:
                n.close()
            if turnserver:
                turnserver.kill()


def measure(a, c, d, timeout, mutual=True, patience=8):
    if mutual:
        befriend(c, a)
        befriend(d, a)
    invite = d.json("id")["invite"]
    start = time.monotonic()
    c.run("contacts", "add", invite)
    online = direct = None
    accepted = False
    while time.monotonic() - start < timeout:
        if not accepted and d.json("contacts", "requests"):
            d.run("contacts", "accept", c.name)
            accepted = True
        seen = c.contact(d.name)
        if seen and seen.get("online"):
            online = online or time.monotonic() - start
            if seen.get("path") in ("direct", "hole-punched", "hole-punched-udp"):
                direct = time.monotonic() - start
                break
            if online and time.monotonic() - start > online + patience:
                break  # no punch within `patience` of the relayed channel: it stays relayed
        time.sleep(0.1)
    seen = c.contact(d.name) or {}
    path = seen.get("path") if seen.get("online") else None
    return {"online": online, "direct": direct, "path": path}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tries", type=int, default=20)
    ap.add_argument("--scenarios", default="cone,symmetric")
    ap.add_argument("--timeout", type=float, default=60.0, help="per try, at most (doorbell: at least 3 polls)")
    ap.add_argument("--bell-poll", type=int, default=60, help="rendezvous.bell_poll_s in the doorbell scenario")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    reason = unavailable_reason()
    if reason:
        sys.exit("nat bench: " + reason)
    report = {}
    for nat in args.scenarios.split(","):
        tries = []
        for n in range(args.tries):
            try:
                timeout = max(args.timeout, 3 * args.bell_poll + 30) if nat == "doorbell" else args.timeout
                r = one_try(nat, timeout, args.bell_poll)
            except Exception as e:  # counted, not fatal: the figures say how many tries failed
                log("%s try %d failed: %s" % (nat, n + 1, e))
                r = {"online": None, "direct": None, "path": None}
            log("%s try %d: %s" % (nat, n + 1, r))
            tries.append(r)
        online = [t["online"] for t in tries if t["online"] is not None]
        direct = [t["direct"] for t in tries if t["direct"] is not None]
        report[nat] = {
            "tries": len(tries),
            "online": len(online),
            "online_p50_s": statistics.median(online) if online else None,
            "online_max_s": max(online) if online else None,
            "hole_punched": sum(1 for t in tries if t["path"] == "hole-punched"),
            "hole_punched_within_5s": sum(1 for d in direct if d <= 5),
            "hole_punched_udp": sum(1 for t in tries if t["path"] == "hole-punched-udp"),
            "direct_p50_s": statistics.median(direct) if direct else None,
            "relayed": sum(1 for t in tries if t["path"] == "relayed"),
            "turn": sum(1 for t in tries if t["path"] == "turn"),
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for nat, r in report.items():
        name = {"doorbell": "cone/cone, doorbell", "turn": "symmetric, TURN"}.get(nat, nat + "/" + nat)
        print("%-20s online %d/%d (p50 %.2f s, max %.2f s); hole-punched %d (%d within 5 s, p50 %s); UDP-punched %d;"
              " relayed %d; turn %d" % (name, r["online"], r["tries"], r["online_p50_s"] or 0, r["online_max_s"] or 0,
                                        r["hole_punched"], r["hole_punched_within_5s"],
                                        "%.2f s" % r["direct_p50_s"] if r["direct_p50_s"] else "-",
                                        r["hole_punched_udp"], r["relayed"], r["turn"]))


if __name__ == "__main__":
    main()
