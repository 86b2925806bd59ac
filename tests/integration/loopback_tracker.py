"""A tiny BEP 3 HTTP tracker bound to 127.0.0.1, run in a thread of the test process.

Why: aria2c 1.36 has no way to be handed a peer address (no x.pe, no add-peer option), so
the only offline way to point it at a peer is a tracker. `aria2c --bt-exclude-tracker=*
--bt-tracker=URL` swaps whatever the torrent announces for this one. The tracker hands out
fixed peers given by the test plus every client that announced to it, always as the
socket's source address (loopback) — the `ip=` a client claims is ignored, so no answer can
ever point anyone off this machine.
"""
import http.server
import socket
import struct
import threading
import urllib.parse

from bencode import encode


class LoopbackTracker:
    def __init__(self, interval=2):
        self.interval = interval
        self.static_peers = []  # [(ip, port)] returned for every info-hash
        self.swarms = {}        # info_hash bytes -> {(ip, port): peer_id}
        self.announces = []     # (info_hash hex, ip, port, event) for test assertions
        self._lock = threading.Lock()
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                tracker._handle(self)

            def log_message(self, *args):  # keep test output readable
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = "http://127.0.0.1:%d/announce" % self.port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def add_peer(self, port, ip="127.0.0.1"):
        if not ip.startswith("127."):
            raise ValueError("loopback peers only")
        with self._lock:
            self.static_peers.append((ip, int(port)))

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self, req):
        url = urllib.parse.urlsplit(req.path)
        if url.path != "/announce":
            req.send_error(404)
            return
        # info_hash and peer_id are raw bytes, so parse the query without UTF-8 decoding.
        q = {}
        for part in url.query.split("&"):
            if "=" in part:
                k, v = part.split("=", 1)
                q[k] = urllib.parse.unquote_to_bytes(v)
        info_hash = q.get("info_hash")
        try:
            port = int(q.get("port", b"0"))
        except ValueError:
            info_hash = None
        if not info_hash or len(info_hash) != 20:
            self._reply(req, {"failure reason": "bad announce"})
            return
        ip = req.client_address[0]
        event = q.get("event", b"").decode("ascii", "replace")
        with self._lock:
            swarm = self.swarms.setdefault(info_hash, {})
            if event == "stopped":
                swarm.pop((ip, port), None)
            elif port:
                swarm[(ip, port)] = q.get("peer_id", b"")
            self.announces.append((info_hash.hex(), ip, port, event))
            peers = [p for p in dict.fromkeys(self.static_peers + list(swarm)) if p != (ip, port)]
        compact = b"".join(socket.inet_aton(h) + struct.pack(">H", p) for h, p in peers)
        self._reply(req, {"interval": self.interval, "min interval": self.interval,
                          "complete": 0, "incomplete": 0, "peers": compact})

    @staticmethod
    def _reply(req, obj):
        body = encode(obj)
        req.send_response(200)
        req.send_header("Content-Type", "text/plain")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)
