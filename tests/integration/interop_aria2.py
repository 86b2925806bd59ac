"""Driver for aria2c 1.36 as a BitTorrent downloader or seeder, one process per job.

aria2 cannot be handed a peer address directly: it ignores x.pe in magnets and has no
add-peer option. So the driver runs a LoopbackTracker and makes aria2 use only it
(`--bt-exclude-tracker=* --bt-tracker=URL`); the test puts the other peer's port on the
tracker. aria2 1.36 reads only v1 metadata: v2-only torrents fail, hybrid ones are read as
v1 (it ignores the v2 keys).
"""
import os
import subprocess

import procutil
from bencode import loopback_only_magnet, loopback_only_torrent
from interop_common import ClientBase
from kithtest import free_port
from loopback_tracker import LoopbackTracker

# Everything that could reach beyond loopback is off; aria2's own config file is ignored.
OFFLINE_ARGS = [
    "--no-conf=true",
    "--enable-rpc=false",
    "--enable-dht=false",
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    "--enable-peer-exchange=false",
    "--disable-ipv6=true",
    "--bt-external-ip=127.0.0.1",
    "--bt-exclude-tracker=*",  # drop every tracker named by the torrent or magnet
    "--async-dns=false",
    "--file-allocation=none",
    "--allow-overwrite=true",
    "--auto-file-renaming=false",
    "--bt-save-metadata=false",
    "--summary-interval=0",
    "--show-console-readout=false",
    "--console-log-level=warn",
    "--log-level=info",
]


class Aria2(ClientBase):
    binary = "aria2c"

    def __init__(self, tracker=None, peers=()):
        """tracker: a LoopbackTracker to share with other clients, or None for a private
        one; peers: loopback ports put on the tracker (e.g. the seeder's peer port)."""
        super().__init__("aria2")
        self.own_tracker = tracker is None
        self.tracker = tracker or LoopbackTracker()
        for port in peers:
            self.tracker.add_peer(port)
        self.listen_port = free_port()
        # aria2 prints why it gave up (e.g. unreadable metadata) only on the console.
        self.console_path = self.log_path + ".console"

    def _safe_source(self, source):
        """A magnet or a copy of the .torrent with nothing but loopback to contact, on top
        of --bt-exclude-tracker (belt and braces: web seeds are not trackers)."""
        if source.startswith("magnet:"):
            return loopback_only_magnet(source)
        with open(source, "rb") as f:
            data = loopback_only_torrent(f.read())
        safe = os.path.join(self.root, os.path.basename(source))
        with open(safe, "wb") as f:
            f.write(data)
        return safe

    def _argv(self, source, dest, extra):
        source = self._safe_source(source)
        return (["aria2c"] + OFFLINE_ARGS +
                ["--bt-tracker=" + self.tracker.url,
                 "--listen-port=%d" % self.listen_port,
                 "--dht-listen-port=%d" % self.listen_port,  # unused with DHT off; pin anyway
                 "--dir=" + os.path.abspath(dest),
                 "--log=" + self.log_path]
                + extra + [source])

    def start_download(self, source, dest, extra=()):
        """Start downloading a .torrent path or a magnet; aria2 exits 0 once complete
        (--seed-time=0). Returns the Popen; wait with wait()."""
        os.makedirs(dest, exist_ok=True)
        argv = self._argv(source, dest, ["--seed-time=0", "--bt-stop-timeout=600"] + list(extra))
        return self._spawn(argv)

    def _spawn(self, argv):
        with open(self.console_path, "a") as console:
            self.proc = procutil.spawn(argv, env=self.env(), stdout=console,
                                       stderr=subprocess.STDOUT)
        return self.proc

    def download(self, source, dest, timeout=300, extra=()):
        self.start_download(source, dest, extra)
        return self.wait(timeout)

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            procutil.terminate(self.proc, grace=5)
            raise TimeoutError("aria2c did not finish in %ss\n%s" % (timeout, self.tail()))
        if rc != 0:
            raise RuntimeError("aria2c exited %d\n%s" % (rc, self.tail()))
        return rc

    def start_seed(self, torrent_file, data_parent):
        """Seed data already in data_parent (hash-checked first) until close()."""
        argv = self._argv(torrent_file, data_parent,
                          ["--check-integrity=true", "--seed-ratio=0.0"])
        self._spawn(argv)

        def seeding():
            if self.proc.poll() is not None:
                raise RuntimeError("aria2c seeder exited %s\n%s" % (self.proc.returncode,
                                                                    self.tail()))
            # aria2 announces to the tracker once the hash check is over and it seeds.
            return any(port == self.listen_port for _h, _ip, port, _ev in self.tracker.announces)
        procutil.wait_for(seeding, 300, interval=0.2, what="aria2c seeding")
        return self.listen_port

    def tail(self, n=40):
        try:
            with open(self.console_path, errors="replace") as f:
                console = f.read()[-3000:]
        except OSError:
            console = ""
        return "%s\n--- aria2c console ---\n%s" % (super().tail(n), console)

    def close(self):
        super().close()
        if self.own_tracker:
            self.tracker.close()
