"""Driver for Transmission 3.00 (transmission-daemon), talked to over its JSON RPC.

Offline-safe: settings.json is written before start with DHT, LPD, PEX and port
forwarding off, peers and RPC bound to loopback, no blocklist. We never call the RPC
methods that reach the Internet (port-test, blocklist-update).

Quirk: Transmission 3.00 treats 127.0.0.0/8 as a "martian" address and never dials it, nor
takes it from a tracker. It does accept incoming connections from loopback, so on this
machine Transmission is only ever dialled: the other client gets `peer_port`.
"""
import base64
import json
import os
import subprocess
import urllib.error
import urllib.request

import procutil
from bencode import loopback_only_torrent
from interop_common import ClientBase
from kithtest import free_port

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Torrent status codes from the RPC spec.
STOPPED, CHECK_WAIT, CHECKING, DOWNLOAD_WAIT, DOWNLOADING, SEED_WAIT, SEEDING = range(7)


def create_torrent(path, out_file, piece_kib=None):
    """transmission-create a v1 torrent without trackers (nothing to announce to)."""
    argv = ["transmission-create", "-o", out_file]
    if piece_kib:
        argv += ["-s", str(piece_kib)]
    cp = procutil.run(argv + [path], timeout=600)
    if cp.returncode != 0 or not os.path.exists(out_file):
        raise RuntimeError("transmission-create failed: %s" % cp.stderr.decode(errors="replace"))
    return out_file


class Transmission(ClientBase):
    binary = "transmission-daemon"

    def __init__(self, utp=True, extra_settings=None):
        super().__init__("transmission")
        self.config_dir = os.path.join(self.root, "config")
        self.download_dir = os.path.join(self.root, "downloads")
        os.makedirs(self.config_dir)
        os.makedirs(self.download_dir)
        self.rpc_port = free_port()
        self.peer_port = free_port()
        settings = {
            "dht-enabled": False,
            "lpd-enabled": False,
            "pex-enabled": False,
            "port-forwarding-enabled": False,
            "blocklist-enabled": False,
            "utp-enabled": utp,
            "bind-address-ipv4": "127.0.0.1",
            "bind-address-ipv6": "::1",
            "peer-port": self.peer_port,
            "peer-port-random-on-start": False,
            "rpc-enabled": True,
            "rpc-bind-address": "127.0.0.1",
            "rpc-port": self.rpc_port,
            "rpc-whitelist": "127.0.0.1",
            "rpc-whitelist-enabled": True,
            "rpc-authentication-required": False,
            "download-dir": self.download_dir,
            "incomplete-dir-enabled": False,
            "rename-partial-files": False,  # final names while downloading, like the others
            "start-added-torrents": True,
            "download-queue-enabled": False,
            "seed-queue-enabled": False,
            "queue-stalled-enabled": False,
            "ratio-limit-enabled": False,
            "idle-seeding-limit-enabled": False,
            "scrape-paused-torrents-enabled": False,
            "message-level": 2,
        }
        settings.update(extra_settings or {})
        with open(os.path.join(self.config_dir, "settings.json"), "w") as f:
            json.dump(settings, f, indent=1)
        log = open(self.log_path, "w")
        # -f: stay in the foreground so we own the process; flags repeat the safety settings.
        self.proc = procutil.spawn(
            ["transmission-daemon", "-f", "-g", self.config_dir, "--no-dht", "--no-lpd",
             "--no-portmap", "--log-info"], env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._session_id = ""
        try:
            procutil.wait_for(self._rpc_up, 20, what="transmission RPC")
        except Exception:
            self.close()
            raise

    def _rpc_up(self):
        if self.proc.poll() is not None:
            raise RuntimeError("transmission-daemon exited %s\n%s" % (self.proc.returncode,
                                                                    self.tail()))
        try:
            self.rpc("session-get", {"fields": ["version"]})
            return True
        except OSError:
            return False

    def rpc(self, method, arguments=None):
        """One RPC call; handles the 409 X-Transmission-Session-Id handshake."""
        body = json.dumps({"method": method, "arguments": arguments or {}}).encode()
        for _ in range(3):
            req = urllib.request.Request(
                "http://127.0.0.1:%d/transmission/rpc" % self.rpc_port, data=body,
                headers={"X-Transmission-Session-Id": self._session_id,
                         "Content-Type": "application/json"})
            try:
                with _OPENER.open(req, timeout=30) as resp:
                    out = json.loads(resp.read())
            except urllib.error.HTTPError as e:
                if e.code == 409:
                    self._session_id = e.headers.get("X-Transmission-Session-Id", "")
                    continue
                raise
            if out.get("result") != "success":
                raise RuntimeError("transmission %s: %s" % (method, out.get("result")))
            return out.get("arguments", {})
        raise RuntimeError("transmission RPC session-id handshake failed")

    def add_torrent(self, torrent_file, download_dir=None, paused=False):
        """Add a .torrent; returns its hashString. With data already in download_dir,
        Transmission verifies it and then seeds."""
        with open(torrent_file, "rb") as f:  # trackers that are not loopback are dropped
            meta = base64.b64encode(loopback_only_torrent(f.read())).decode()
        args = {"metainfo": meta, "paused": paused,
                "download-dir": os.path.abspath(download_dir or self.download_dir)}
        out = self.rpc("torrent-add", args)
        t = out.get("torrent-added") or out.get("torrent-duplicate")
        return t["hashString"]

    def seed(self, torrent_file, data_parent, timeout=300):
        """Add a torrent whose data sits in data_parent and wait until it seeds."""
        h = self.add_torrent(torrent_file, data_parent)
        self.rpc("torrent-verify", {"ids": [h]})
        self.wait_status(h, lambda t: t["status"] == SEEDING and t["percentDone"] == 1.0,
                         timeout, "seeding")
        return h

    def torrent(self, h, fields=("hashString", "status", "percentDone", "leftUntilDone",
                                 "peersConnected", "error", "errorString", "rateDownload",
                                 "rateUpload", "name", "downloadDir")):
        ts = self.rpc("torrent-get", {"ids": [h], "fields": list(fields)})["torrents"]
        if not ts:
            raise KeyError("no torrent %s in transmission" % h)
        return ts[0]

    def wait_status(self, h, pred, timeout, what="status"):
        def check():
            t = self.torrent(h)
            if t["error"]:
                raise RuntimeError("transmission torrent error: %s" % t["errorString"])
            return t if pred(t) else None
        return procutil.wait_for(check, timeout, interval=0.25, what="transmission %s" % what)

    def wait_complete(self, h, timeout=300):
        return self.wait_status(h, lambda t: t["leftUntilDone"] == 0 and t["percentDone"] == 1.0,
                                timeout, "download complete")
