"""Driver for qBittorrent-nox 4.5 (libtorrent 2.0), talked to over its WebAPI v2.

qBittorrent.conf is written before the first start, because DHT, LSD, UPnP and the GeoIP
database download would otherwise begin before any API call could turn them off. The WebUI
listens on 127.0.0.1 with authentication bypassed for localhost (LocalHostAuth=false).

qBittorrent (unlike Transmission) dials loopback peers: use add_peers() with the other
client's port. Torrents are identified by their v1 info-hash, or the truncated v2 hash for
v2-only torrents (the WebAPI `hash` field).
"""
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import procutil
from bencode import loopback_only_magnet, loopback_only_torrent
from interop_common import ClientBase
from kithtest import free_port

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

SEEDING_STATES = ("uploading", "stalledUP", "queuedUP", "forcedUP")


def _conf(webui_port, peer_port, save_path, log_dir, protocol):
    # QSettings INI: key "BitTorrent/Session/DHTEnabled" is section [BitTorrent], key
    # Session\DHTEnabled. Old (Preferences/...) and new (BitTorrent/Session/...) spellings
    # are both given where 4.x migrated them, so either reading wins the same way.
    return """[LegalNotice]
Accepted=true

[Application]
FileLogger\\Enabled=true
FileLogger\\Path={log_dir}

[BitTorrent]
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\AddTrackersEnabled=false
Session\\AnonymousModeEnabled=false
Session\\Port={peer_port}
Session\\UseRandomPort=false
Session\\Interface=lo
Session\\InterfaceName=lo
Session\\InterfaceAddress=127.0.0.1
Session\\MultiConnectionsPerIp=true
Session\\BTProtocol={protocol}
Session\\QueueingSystemEnabled=false
Session\\GlobalMaxRatio=-1
Session\\DefaultSavePath={save_path}
Session\\TempPathEnabled=false
Session\\AddExtensionToIncompleteFiles=false
Session\\Preallocation=false
Session\\ValidateHTTPSTrackerCertificate=true

[Network]
PortForwardingEnabled=false

[Preferences]
Bittorrent\\DHT=false
Bittorrent\\LSD=false
Bittorrent\\PeX=false
Bittorrent\\AddTrackers=false
Connection\\UPnP=false
Connection\\PortRangeMin={peer_port}
Connection\\Interface=lo
Connection\\InterfaceAddress=127.0.0.1
Connection\\ResolvePeerCountries=false
Connection\\ResolvePeerHostNames=false
Advanced\\trackerEnabled=false
DynDNS\\Enabled=false
MailNotification\\enabled=false
Search\\SearchEnabled=false
General\\UseRandomPort=false
Downloads\\SavePath={save_path}
WebUI\\Enabled=true
WebUI\\Address=127.0.0.1
WebUI\\Port={webui_port}
WebUI\\UseUPnP=false
WebUI\\LocalHostAuth=false
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false

[RSS]
AutoDownloader\\EnableProcessing=false
Session\\EnableProcessing=false
""".format(webui_port=webui_port, peer_port=peer_port, save_path=save_path, log_dir=log_dir,
           protocol=protocol)


class QBittorrent(ClientBase):
    binary = "qbittorrent-nox"

    def __init__(self, protocol="Both"):
        """protocol: "Both" (TCP and uTP, qBittorrent's default), "TCP" or "UTP". Over
        loopback libtorrent's uTP is much slower than TCP, so benchmarks pick TCP."""
        super().__init__("qbittorrent")
        self.profile = os.path.join(self.root, "profile")
        self.download_dir = os.path.join(self.root, "downloads")
        conf_dir = os.path.join(self.profile, "qBittorrent", "config")
        os.makedirs(conf_dir)
        os.makedirs(self.download_dir)
        self.webui_port = free_port()
        self.peer_port = free_port()
        log_dir = os.path.join(self.root, "logs")
        with open(os.path.join(conf_dir, "qBittorrent.conf"), "w") as f:
            f.write(_conf(self.webui_port, self.peer_port, self.download_dir, log_dir, protocol))
        # qbittorrent-nox prints little; its own log file is what tail() should show.
        log = open(self.log_path, "w")
        self.log_path = os.path.join(log_dir, "qbittorrent.log")
        self.proc = procutil.spawn(
            ["qbittorrent-nox", "--profile=" + self.profile, "--webui-port=%d" % self.webui_port,
             "--torrenting-port=%d" % self.peer_port],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            procutil.wait_for(self._api_up, 30, what="qBittorrent WebUI")
        except Exception:
            self.close()
            raise

    def _api_up(self):
        if self.proc.poll() is not None:
            raise RuntimeError("qbittorrent-nox exited %s\n%s" % (self.proc.returncode,
                                                                self.tail()))
        try:
            return self.get("/api/v2/app/webapiVersion")
        except OSError:
            return False

    # -- WebAPI plumbing -------------------------------------------------------------

    def _request(self, path, data=None, headers=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.webui_port, path), data=data,
                                     headers=headers or {})
        with _OPENER.open(req, timeout=30) as resp:
            body = resp.read().decode("utf-8", "replace")
        if "json" in (resp.headers.get("Content-Type") or ""):
            return json.loads(body)
        return body

    def get(self, path, **params):
        return self._request(path + ("?" + urllib.parse.urlencode(params) if params else ""))

    def post(self, path, **fields):
        return self._request(path, urllib.parse.urlencode(fields).encode(),
                             {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path, fields, files=()):
        """fields: {name: str}; files: [(field, filename, bytes)]."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (
                boundary.encode(), name.encode(), str(value).encode()))
        for name, filename, content in files:
            parts.append(b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
                         b'Content-Type: application/x-bittorrent\r\n\r\n%s\r\n' % (
                             boundary.encode(), name.encode(), filename.encode(), content))
        body = b"".join(parts) + b"--%s--\r\n" % boundary.encode()
        return self._request(path, body,
                             {"Content-Type": "multipart/form-data; boundary=" + boundary})

    # -- torrents --------------------------------------------------------------------

    def add(self, torrent_file=None, magnet=None, save_path=None, skip_checking=False,
            paused=False, sequential=False):
        """Add a .torrent or magnet. Content layout "Original": files land exactly as
        the torrent names them under save_path."""
        fields = {"savepath": os.path.abspath(save_path or self.download_dir),
                  "skip_checking": str(skip_checking).lower(), "paused": str(paused).lower(),
                  "sequentialDownload": str(sequential).lower(), "contentLayout": "Original",
                  "autoTMM": "false"}
        files = []
        # Sanitized: whatever trackers or hints the source carries, only loopback ones reach
        # qBittorrent (the info-hash is unchanged).
        if magnet:
            fields["urls"] = loopback_only_magnet(magnet)
        else:
            with open(torrent_file, "rb") as f:
                files.append(("torrents", os.path.basename(torrent_file),
                              loopback_only_torrent(f.read())))
        out = self.post_multipart("/api/v2/torrents/add", fields, files)
        if str(out).strip() != "Ok.":
            raise RuntimeError("qBittorrent refused the torrent: %r" % out)

    def find(self, info_hash):
        """The torrents/info entry whose v1, v2 or id hash matches (case-insensitive)."""
        h = info_hash.lower()
        for t in self.get("/api/v2/torrents/info"):
            ids = (t.get("hash", ""), t.get("infohash_v1", ""), t.get("infohash_v2", ""))
            if h in ids or (len(h) == 64 and t.get("hash") == h[:40]):
                return t
        return None

    def wait_added(self, info_hash, timeout=30):
        return procutil.wait_for(lambda: self.find(info_hash), timeout,
                                 what="qBittorrent to list %s" % info_hash)

    def add_peers(self, info_hash, *ports, ip="127.0.0.1"):
        t = self.wait_added(info_hash)
        self.post("/api/v2/torrents/addPeers", hashes=t["hash"],
                  peers="|".join("%s:%d" % (ip, p) for p in ports))

    def seed(self, torrent_file, data_parent, info_hash, timeout=300):
        """Add a torrent whose data is in data_parent, let qBittorrent check it, wait
        until it seeds."""
        self.add(torrent_file=torrent_file, save_path=data_parent)
        return self.wait_state(info_hash, lambda t: t["progress"] >= 1.0 and
                               t["state"] in SEEDING_STATES, timeout, "seeding")

    def wait_state(self, info_hash, pred, timeout, what="state"):
        def check():
            t = self.find(info_hash)
            if t and t["state"] in ("error", "missingFiles"):
                raise RuntimeError("qBittorrent torrent state %s" % t["state"])
            return t if t and pred(t) else None
        return procutil.wait_for(check, timeout, interval=0.25, what="qBittorrent %s" % what)

    def wait_complete(self, info_hash, timeout=300, redial=()):
        """redial: ports of loopback peers to add again every 10 s until then. libtorrent stops
        dialling a peer after a few failed attempts; between two third-party clients on a loaded
        machine that happened (test_interop_clients), with no kith in the way to learn from."""
        last = [time.monotonic()]

        def complete(t):
            done = t["progress"] >= 1.0 and t["amount_left"] == 0 and t["state"] not in (
                "checkingUP", "checkingDL", "checkingResumeData", "metaDL", "moving")
            if not done and redial and time.monotonic() - last[0] > 10:
                last[0] = time.monotonic()
                self.add_peers(info_hash, *redial)
            return done
        return self.wait_state(info_hash, complete, timeout, "download complete")

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.post("/api/v2/app/shutdown")  # clean exit; terminate() is the fallback
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        super().close()
