#!/usr/bin/env python3
"""Folder sync across a real network stack, each node in its own namespace on the lab bridge:
  - two kith daemons that added each other's device ID with no address find each other by Syncthing's
    local discovery (UDP broadcast, ff12::8384 multicast) and sync a file;
  - kith and Debian's Syncthing 1.19 find each other the same way and sync;
  - a 20 MiB file and a few small ones sync intact while the bridge drops 10 % of IPv4 packets.
Every daemon's API is on its namespace's own loopback (Syncthing's REST too, reached by running the
request inside the namespace). Needs root; KITH_BIN is set by ctest."""
import json
import os
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import procutil  # noqa: E402
from kithtest import sha256_tree, write_sample_file  # noqa: E402
from lab import Lab  # noqa: E402
from nsnode import LabTestCase  # noqa: E402

import syncthing  # noqa: E402

BEP_PORT = 22000  # each namespace has its own ports: Syncthing's defaults
A_IP, B_IP = "198.18.0.11", "198.18.0.12"
LOSS_RULES = ("table bridge chaos {\n  chain lossy {\n    type filter hook forward priority 0; policy accept;\n"
              "    ether type ip numgen random mod 1000 < 100 drop\n  }\n}\n")

# Runs one REST request inside a namespace: Syncthing's GUI listens on that namespace's loopback.
REST_IN_NS = r"""
import json, sys, urllib.error, urllib.request
r = json.load(sys.stdin)
req = urllib.request.Request(r["url"], data=r["data"].encode() if r["data"] is not None else None,
                             headers=r["headers"], method=r["method"])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(req, timeout=r["timeout"]) as resp:
        out = {"status": resp.status, "ctype": resp.headers.get("Content-Type") or "",
               "body": resp.read().decode("utf-8", "replace")}
except urllib.error.HTTPError as e:
    out = {"status": e.code, "ctype": "", "body": e.read().decode("utf-8", "replace")}
except OSError as e:
    out = {"status": 0, "ctype": "", "body": str(e)}
print(json.dumps(out))
"""


class NsSyncthing(syncthing.Syncthing):
    """Syncthing 1.19 in a lab namespace: BEP on tcp://0.0.0.0:22000 there, local discovery on,
    REST on the namespace's 127.0.0.1."""

    def __init__(self, lab, host, name):
        self.lab, self.host = lab, host
        super().__init__(name, local_discovery=True, options={"announceLANAddresses": "true"}, start=False)
        self.gui_port, self.bep_port = 8384, BEP_PORT
        self._configure(True, self._options)

    @property
    def listener(self):
        return "tcp://0.0.0.0:%d" % self.bep_port

    def _configure(self, local_discovery, extra):
        super()._configure(local_discovery, extra)
        path = os.path.join(self.home, "config.xml")
        tree = ET.parse(path)
        opts = tree.getroot().find("options")
        for el in opts.findall("listenAddress"):
            el.text = self.listener
        tree.write(path)

    def _start_once(self, timeout):
        log = open(self.log_path, "ab")
        self.proc = procutil.spawn(
            self.lab.cmd(self.host, [syncthing.BINARY, "serve", "--home=" + self.home, "--no-browser",
                                     "--no-restart", "--logflags=%d" % syncthing.LOG_FLAGS, "--logfile=-"]),
            env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()

        def up():
            if self.proc.poll() is not None:
                raise syncthing.SyncthingError("syncthing exited during start-up\n" + self.log_tail())
            try:
                st = self.get("/rest/system/status", timeout=5)
            except (OSError, syncthing.SyncthingError):
                return None
            return st if (st.get("connectionServiceStatus") or {}).get(self.listener) else None
        procutil.wait_for(up, timeout, interval=0.3, what="syncthing REST API in the namespace")

    def request(self, method, path, body=None, params=None, timeout=30):
        url = self.api + path
        if params:
            url += "?" + syncthing.urllib.parse.urlencode(params, doseq=True)
        headers = {"X-API-Key": self.api_key}
        if body is not None:
            headers["Content-Type"] = "application/json"
        r = {"url": url, "method": method, "headers": headers, "timeout": timeout,
             "data": json.dumps(body) if body is not None else None}
        cp = subprocess.run(self.lab.cmd(self.host, [sys.executable, "-c", REST_IN_NS]), input=json.dumps(r),
                            capture_output=True, text=True, timeout=timeout + 10, check=True)
        out = json.loads(cp.stdout)
        if out["status"] == 0:
            raise OSError(out["body"])
        if out["status"] >= 400:
            raise syncthing.SyncthingError("%s %s -> HTTP %d: %s" % (method, path, out["status"], out["body"]))
        if not out["body"]:
            return None
        return json.loads(out["body"]) if "json" in out["ctype"] else out["body"]


class KithSyncOnTheLan(LabTestCase):
    def node(self, lab, host, name, **settings):
        s = {"sync.listen": "0.0.0.0:%d" % BEP_PORT, "sync.rescan_interval_s": "3600",
             "lan.discovery": "false", "sync.local_discovery": "true"}
        s.update({k.replace("__", "."): v for k, v in settings.items()})
        n = self.start_node(lab, host, name, s)
        n.device_id = n.json("sync", "device", "list")["device_id"]
        return n

    def device(self, node, device_id):
        return next((d for d in node.json("sync", "device", "list")["devices"] if d["id"] == device_id), None)

    def wait_connected(self, node, device_id, timeout=90):
        return procutil.wait_for(lambda: (lambda d: d if d and d["connected"] else None)(self.device(node, device_id)),
                                 timeout, interval=0.5, what="%s connected to %s" % (node.name, device_id[:7]))

    def wait_tree(self, path, expected, timeout):
        def same():
            try:
                got = sha256_tree(path)
            except OSError:
                return None
            return {k: v for k, v in got.items() if k in expected} == expected or None
        return procutil.wait_for(same, timeout, interval=1, what="the files at %s" % path)

    @staticmethod
    def hosts(discovered):
        """"tcp://198.18.0.11:22000" or "tcp://[fe80::1%eth0]:22000" -> the IP alone."""
        return {x.split("//", 1)[1].rsplit(":", 1)[0].strip("[]").split("%")[0] for x in discovered}

    def test_two_kith_nodes_find_each_other_with_no_address(self):
        with Lab(homes=0) as lab:
            lab.wait_ipv6_ready("a", "b")
            a = self.node(lab, "a", "alice")
            b = self.node(lab, "b", "bob")
            a.run("sync", "device", "add", b.device_id, "--name", "bob")  # no --addr anywhere
            b.run("sync", "device", "add", a.device_id, "--name", "alice")
            src, dst = os.path.join(a.root, "share"), os.path.join(b.root, "share")
            os.makedirs(src)
            with open(os.path.join(src, "hello.txt"), "wb") as f:
                f.write(b"found by local discovery\n")
            expected = sha256_tree(src)
            a.run("sync", "add", src, "--id", "lan-folder", "--with", b.device_id)
            b.run("sync", "add", dst, "--id", "lan-folder", "--with", a.device_id)
            seen = self.wait_connected(b, a.device_id)
            self.wait_tree(dst, expected, 120)
            self.assertEqual(seen["addresses"], [])
            hosts = self.hosts(seen["discovered"])
            self.assertTrue(hosts and hosts <= {A_IP, lab.link_local("a")}, seen["discovered"])
            self.assertIn("(discovered)", b.run("sync", "device", "list").stdout)

    def test_kith_and_syncthing_find_each_other(self):
        with Lab(homes=0) as lab:
            lab.wait_ipv6_ready("a", "b")
            a = self.node(lab, "a", "alice")
            st = NsSyncthing(lab, "b", "st")
            self.addCleanup(st.close)
            st.start(timeout=60)
            a.run("sync", "device", "add", st.device_id, "--name", "st")
            st.add_device(a.device_id, name="alice")  # "dynamic": local discovery only
            src, dst = os.path.join(st.root, "share"), os.path.join(a.root, "share")
            os.makedirs(src)
            with open(os.path.join(src, "from-syncthing.txt"), "wb") as f:
                f.write(b"syncthing found kith on the LAN\n")
            st.add_folder("st-lan", src, devices=[a.device_id])
            a.run("sync", "add", dst, "--id", "st-lan", "--with", st.device_id)
            try:
                seen = self.wait_connected(a, st.device_id, timeout=120)
            except TimeoutError:
                print("syncthing's log:\n" + st.log_tail(80), file=sys.stderr)
                raise
            self.assertIn("syncthing", seen["client"])
            self.wait_tree(dst, {"from-syncthing.txt": sha256_tree(src)["from-syncthing.txt"]}, 120)
            hosts = self.hosts(seen["discovered"])
            self.assertTrue(hosts and hosts <= {B_IP, lab.link_local("b")}, seen["discovered"])

    def test_twenty_mib_with_ten_percent_loss(self):
        with Lab(homes=0) as lab:
            # Static addresses and no discovery: this test is about the transfer, over IPv4 (where the
            # loss is), not about finding each other.
            a = self.node(lab, "a", "alice", sync__local_discovery="false")
            b = self.node(lab, "b", "bob", sync__local_discovery="false")
            subprocess.run(lab.cmd("sw", ["nft", "-f", "-"]), input=LOSS_RULES, text=True, check=True)
            src, dst = os.path.join(a.root, "share"), os.path.join(b.root, "share")
            os.makedirs(os.path.join(src, "docs"))
            write_sample_file(os.path.join(src, "big.bin"), 20 * 1024 * 1024, seed=7)
            for i in range(4):
                with open(os.path.join(src, "docs", "note%d.txt" % i), "wb") as f:
                    f.write(os.urandom(1000 + 300 * i))
            expected = sha256_tree(src)
            a.run("sync", "device", "add", b.device_id, "--addr", "%s:%d" % (B_IP, BEP_PORT), "--name", "bob")
            b.run("sync", "device", "add", a.device_id, "--addr", "%s:%d" % (A_IP, BEP_PORT), "--name", "alice")
            a.run("sync", "add", src, "--id", "lossy", "--with", b.device_id)
            b.run("sync", "add", dst, "--id", "lossy", "--with", a.device_id)
            self.wait_tree(dst, expected, 600)
            dropped = lab.run("sw", ["nft", "list", "table", "bridge", "chaos"]).stdout
            self.assertIn("numgen random", dropped)  # the loss was in place the whole time
            self.assertEqual(self.device(b, a.device_id)["discovered"], [])


if __name__ == "__main__":
    unittest.main()
