"""Interop drivers for independent BitTorrent clients, all confined to loopback.

One module per client keeps each small; import them from here:
  Aria2          aria2c 1.36: downloader (.torrent or magnet) or seeder, v1 metadata only;
                 finds peers only through a LoopbackTracker
  Transmission   transmission-daemon 3.00 over RPC: seeder or downloader; never dials
                 127.x itself, so the other side must dial its peer_port
  QBittorrent    qbittorrent-nox 4.5 over WebAPI v2: seeder or downloader; dials peers
                 given with add_peers()
  LoopbackTracker, create_torrent (transmission-create), TorrentFacts/make_magnet
See README.md in this folder for the exact settings and the quirks behind them.
"""
from bencode import (TorrentFacts, loopback_only_magnet, loopback_only_torrent,  # noqa: F401
                     make_magnet)
from interop_aria2 import Aria2  # noqa: F401
from interop_common import have  # noqa: F401
from interop_qbittorrent import QBittorrent  # noqa: F401
from interop_transmission import Transmission, create_torrent  # noqa: F401
from loopback_tracker import LoopbackTracker  # noqa: F401

ARIA2 = "aria2c"
TRANSMISSION = "transmission-daemon"
QBITTORRENT = "qbittorrent-nox"


def require(testcase, *binaries):
    """skipTest with a clear reason when a client binary is missing."""
    missing = [b for b in binaries if not have(b)]
    if missing:
        testcase.skipTest("interop client not installed: %s" % ", ".join(missing))
