#!/usr/bin/python3
"""BEP 44 mutable item round trips on a private Mainline DHT of libtorrent nodes on 127.0.0.1.

Not a test: it asserts nothing and prints figures. It is what kith's presence records ride on
(src/rendezvous, SessionHost::dht_put_mutable/dht_get_mutable): the same libtorrent 2.0.8, the
same settings for a one-host DHT (SessionOptions::dht_private). See bench/README.md.

Network: every node listens on 127.0.0.1 only and knows only the other nodes; no public bootstrap
node, no UPnP, NAT-PMP or LSD. Nothing leaves loopback.

Run with Debian's Python (python3-libtorrent): /usr/bin/python3 bench/dht.py [--nodes 20] [--ops 50]
"""
import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time

try:
    import libtorrent as lt
except ImportError:
    sys.exit("needs python3-libtorrent (Debian); run with /usr/bin/python3")

# --- Ed25519 public key from libtorrent's 64-byte secret key (the bindings sign but cannot make keys).
# libtorrent's ed25519 (orlp) secret key = SHA-512(seed), clamped; public key = scalar * B (RFC 8032).
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _base():
    y = 4 * pow(5, P - 2, P) % P
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if x & 1:
        x = P - x
    return (x, y, 1, x * y % P)


BASE = _base()


def keypair():
    h = bytearray(hashlib.sha512(os.urandom(32)).digest())
    h[0] &= 248
    h[31] &= 63
    h[31] |= 64
    x, y, z, _ = _mul(int.from_bytes(h[:32], "little"), BASE)
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little"), bytes(h)


# --- the private DHT
def make_session():
    return lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
        "alert_mask": lt.alert_category.dht | lt.alert_category.error,
        # as SessionOptions::dht_private: one IP for every node
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_enforce_node_id": False,
        "dht_prefer_verified_node_ids": False,
        "dht_ignore_dark_internet": False,
        "dht_block_ratelimit": 100000,
        "dht_upload_rate_limit": 1000000,  # the default 8000 B/s drops answers when one host is the DHT
    })


def routing_sizes(sessions):
    for s in sessions:
        s.post_dht_stats()
    sizes = []
    for s in sessions:
        n = None
        deadline = time.monotonic() + 2
        while n is None and time.monotonic() < deadline:
            s.wait_for_alert(100)
            for a in s.pop_alerts():
                if isinstance(a, lt.dht_stats_alert):
                    n = sum(b["num_nodes"] for b in a.routing_table)
        sizes.append(n or 0)
    return sizes


def drain(sessions):
    for s in sessions:
        s.pop_alerts()


def wait_alert(session, match, timeout, t0=None):
    """Pops alerts of `session` until match(alert) returns a value; returns (value, seconds since t0)."""
    t0 = time.monotonic() if t0 is None else t0
    while time.monotonic() - t0 < timeout:
        session.wait_for_alert(50)
        for a in session.pop_alerts():
            v = match(a)
            if v is not None:
                return v, time.monotonic() - t0
    return None, timeout


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def summary(values):
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p90_ms": round(pct(values, 90) * 1000, 2),
        "p99_ms": round(pct(values, 99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--ops", type=int, default=50)
    ap.add_argument("--min-table", type=int, default=8, help="routing table size every node must reach first")
    ap.add_argument("--form-timeout", type=float, default=180)
    ap.add_argument("--value-bytes", type=int, default=200, help="a presence record with 2-3 addresses is ~100-150")
    ap.add_argument("--op-timeout", type=float, default=10, help="seconds before a put or get counts as failed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    random.seed(args.seed)
    log = lambda *a: print(*a, file=sys.stderr, flush=True)

    sessions = [make_session() for _ in range(args.nodes)]
    ports = [s.listen_port() for s in sessions]
    t_start = time.monotonic()
    for i, s in enumerate(sessions):
        # Node 0 is everybody's bootstrap router; each node also knows the one before it as an
        # ordinary node (libtorrent keeps routers out of routing tables).
        s.apply_settings({"dht_bootstrap_nodes": f"127.0.0.1:{ports[0]}" if i else "", "enable_dht": True})
    time.sleep(0.2)
    for i, s in enumerate(sessions[1:], start=1):
        s.add_dht_node(("127.0.0.1", ports[0]))
        s.add_dht_node(("127.0.0.1", ports[i - 1]))
    want = min(args.min_table, args.nodes - 1)
    sizes = []
    while time.monotonic() - t_start < args.form_timeout:
        sizes = routing_sizes(sessions)
        if min(sizes) >= want:
            break
        log(f"forming: routing table sizes min {min(sizes)} median {statistics.median(sizes)} (want {want})")
        time.sleep(1)
    formed_s = time.monotonic() - t_start
    log(f"formed in {formed_s:.1f} s: routing table sizes {sizes}")
    if min(sizes) < want:
        log("warning: the DHT did not reach the wanted table size; measuring anyway")

    puts, gets_first, gets_auth, updates, stored, failures, stalled = [], [], [], [], [], 0, 0
    for op in range(args.ops):
        writer, reader = random.sample(range(args.nodes), 2)
        pk, sk = keypair()
        salt = os.urandom(16)
        value = os.urandom(args.value_bytes // 2).hex().encode()[: args.value_bytes]
        drain(sessions)

        def put_done(a):
            if isinstance(a, lt.dht_put_alert) and a.public_key == pk:
                return a.num_success
            return None

        # the clock starts before the call: the bindings' call returns only after libtorrent's network
        # thread took it, and on loopback the put may be nearly done by then
        t0 = time.monotonic()
        sessions[writer].dht_put_mutable_item(sk, pk, value, salt)
        n, dt = wait_alert(sessions[writer], put_done, args.op_timeout, t0)
        if not n:
            failures += 1
            log(f"op {op}: put {'stored on no node' if n == 0 else 'timed out'} after {dt:.1f} s")
            continue
        puts.append(dt)
        stored.append(n)

        first = None
        t0 = time.monotonic()
        sessions[reader].dht_get_mutable_item(pk, salt)
        while True:
            # the bindings give the alert's fields as one dict: key, value, seq, salt, authoritative
            item, _ = wait_alert(sessions[reader], lambda a: a.item if isinstance(a, lt.dht_mutable_item_alert)
                                 and a.item["key"] == pk else None, args.op_timeout)
            if item is None:
                break
            if first is None and item["value"]:
                first = time.monotonic() - t0
            if item["authoritative"]:
                break
        if item is None and first is not None:
            # libtorrent answered early but never ended the lookup (SessionHost then returns the best
            # value seen dht_grace_ms after the first): counted apart, not as a failure
            stalled += 1
            gets_first.append(first)
            log(f"op {op}: get: a value after {first * 1000:.2f} ms, the authoritative answer never came")
        elif item is None or item["value"] != value:
            failures += 1
            log(f"op {op}: get {'timed out' if item is None else 'returned another value'}")
            continue
        else:
            gets_first.append(first)
            gets_auth.append(time.monotonic() - t0)

        # an update of the same item (seq 2) by the writer
        value2 = value[::-1]
        t0 = time.monotonic()
        sessions[writer].dht_put_mutable_item(sk, pk, value2, salt)
        n2, dt2 = wait_alert(sessions[writer], put_done, args.op_timeout, t0)
        if n2:
            updates.append(dt2)
        else:
            failures += 1
            log(f"op {op}: update put {'stored on no node' if n2 == 0 else 'timed out'}")

    report = {
        "nodes": args.nodes,
        "ops": args.ops,
        "failures": failures,
        "gets_never_authoritative": stalled,
        "formation_s": round(formed_s, 1),
        "routing_table_min": min(sizes),
        "stored_on_nodes_median": statistics.median(stored) if stored else 0,
        "put": summary(puts) if puts else None,
        "update_put": summary(updates) if updates else None,
        "get_first_value": summary(gets_first) if gets_first else None,
        "get_authoritative": summary(gets_auth) if gets_auth else None,
        "libtorrent": lt.__version__,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"private DHT: {args.nodes} libtorrent {lt.__version__} nodes on 127.0.0.1, formed in "
              f"{report['formation_s']} s (every routing table >= {report['routing_table_min']} nodes)")
        print(f"{args.ops} ops, {failures} failed, {stalled} gets never authoritative (within {args.op_timeout:g} s); "
              f"each put stored on {report['stored_on_nodes_median']} nodes (median)")
        print(f"{'operation':<28}{'n':>4}{'median ms':>11}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        for name, key in (("put (new item)", "put"), ("put (update, seq+1)", "update_put"),
                          ("get: first value", "get_first_value"), ("get: authoritative", "get_authoritative")):
            s = report[key]
            if s:
                print(f"{name:<28}{s['n']:>4}{s['median_ms']:>11}{s['p90_ms']:>9}{s['p99_ms']:>9}{s['max_ms']:>9}")
    for s in sessions:
        s.pause()
    del sessions


if __name__ == "__main__":
    main()
