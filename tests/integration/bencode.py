"""Minimal bencode codec plus the torrent facts tests need (info-hashes, magnets).

Stdlib only. Used by the loopback tracker (responses), the interop drivers (reading
.torrent files made by other clients) and the tests (building magnets with x.pe hints).
"""
import hashlib
import urllib.parse


class Raw(bytes):
    """Already-bencoded bytes, emitted verbatim (keeps an info dict byte-exact)."""


def encode(obj):
    """Bencode ints, bytes/str, lists and dicts (keys sorted as BEP 3 demands)."""
    if isinstance(obj, Raw):
        return bytes(obj)
    if isinstance(obj, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(obj, int):
        return b"i%de" % obj
    if isinstance(obj, str):
        obj = obj.encode()
    if isinstance(obj, (bytes, bytearray)):
        return b"%d:%s" % (len(obj), bytes(obj))
    if isinstance(obj, (list, tuple)):
        return b"l" + b"".join(encode(x) for x in obj) + b"e"
    if isinstance(obj, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in obj.items())
        return b"d" + b"".join(encode(k) + encode(v) for k, v in items) + b"e"
    raise TypeError("cannot bencode %r" % type(obj))


def decode(data):
    """Decode one bencoded value; strings stay bytes (torrent paths need not be UTF-8)."""
    value, end = _decode_at(data, 0)
    if end != len(data):
        raise ValueError("trailing data after bencoded value")
    return value


def _decode_at(data, i):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        out, i = [], i + 1
        while data[i:i + 1] != b"e":
            v, i = _decode_at(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while data[i:i + 1] != b"e":
            k, i = _decode_at(data, i)
            v, i = _decode_at(data, i)
            out[k] = v
        return out, i + 1
    if c.isdigit():
        colon = data.index(b":", i)
        n = int(data[i:colon])
        return data[colon + 1:colon + 1 + n], colon + 1 + n
    raise ValueError("bad bencode at offset %d" % i)


def _info_span(data):
    """Byte span of the raw 'info' value: hashes must cover the original bytes, not a re-encoding."""
    if data[:1] != b"d":
        raise ValueError("torrent is not a dict")
    i = 1
    while data[i:i + 1] != b"e":
        key, i = _decode_at(data, i)
        start = i
        _, i = _decode_at(data, i)
        if key == b"info":
            return start, i
    raise ValueError("torrent has no info dict")


class TorrentFacts:
    """What a test needs to know about a .torrent file."""

    def __init__(self, data):
        self.raw = data
        self.meta = decode(data)
        start, end = _info_span(data)
        info_bytes = data[start:end]
        self.info = self.meta[b"info"]
        self.name = self.info[b"name"].decode("utf-8", "replace")
        version = self.info.get(b"meta version", 1)
        has_v1 = b"pieces" in self.info
        # v1 hash exists for v1 and hybrid; v2 hash (sha256) for v2 and hybrid.
        self.v1_hash = hashlib.sha1(info_bytes).hexdigest() if has_v1 else None
        self.v2_hash = hashlib.sha256(info_bytes).hexdigest() if version == 2 else None
        if has_v1 and version == 2:
            self.format = "hybrid"
        elif version == 2:
            self.format = "v2"
        else:
            self.format = "v1"

    @classmethod
    def load(cls, path):
        with open(path, "rb") as f:
            return cls(f.read())

    def magnet(self, peers=(), trackers=(), name=True):
        return make_magnet(self.v1_hash, self.v2_hash, self.name if name else None, peers, trackers)


def make_magnet(v1_hash=None, v2_hash=None, name=None, peers=(), trackers=()):
    """Magnet link with optional BEP 9 x.pe peer hints ("127.0.0.1:PORT") and tr= trackers."""
    parts = []
    if v1_hash:
        parts.append("xt=urn:btih:" + v1_hash)
    if v2_hash:
        parts.append("xt=urn:btmh:1220" + v2_hash)
    if not parts:
        raise ValueError("magnet needs an info-hash")
    if name:
        parts.append("dn=" + urllib.parse.quote(name, safe=""))
    parts += ["tr=" + urllib.parse.quote(t, safe="") for t in trackers]
    parts += ["x.pe=" + p for p in peers]
    return "magnet:?" + "&".join(parts)


# ---------------------------------------------------------------------------------------
# Network-rule guards: whatever kith (or any tool) writes into a magnet or a .torrent, the
# clients we hand it to must only ever see loopback addresses.

def _is_loopback_hostport(value):
    host = value.rsplit(":", 1)[0].strip("[]")
    return host.startswith("127.") or host == "::1"


def _is_loopback_url(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    return host.startswith("127.") or host == "::1" or host == "localhost"


def loopback_only_magnet(magnet):
    """Drop every magnet parameter that could make a client contact something: trackers,
    web seeds, x.pe hints and sources that are not loopback. xt, dn and so stay."""
    if not magnet.startswith("magnet:?"):
        raise ValueError("not a magnet: %r" % magnet)
    kept = []
    for part in magnet[len("magnet:?"):].split("&"):
        key, _, value = part.partition("=")
        plain = urllib.parse.unquote(value)
        if key in ("xt", "dn", "so"):
            kept.append(part)
        elif key == "x.pe" and _is_loopback_hostport(plain):
            kept.append(part)
        elif key.startswith("tr") and _is_loopback_url(plain):
            kept.append(part)
        # ws, xs, as, kt, x.pe/tr elsewhere: dropped
    return "magnet:?" + "&".join(kept)


def loopback_only_torrent(data):
    """The same torrent (same info bytes, so the same info-hashes) without announce URLs,
    web seeds or DHT nodes that do not point at loopback."""
    meta = decode(data)
    start, end = _info_span(data)
    out = {b"info": Raw(data[start:end])}
    for key, value in meta.items():
        if key == b"info":
            continue
        if key == b"announce":
            if _is_loopback_url(value.decode("utf-8", "replace")):
                out[key] = value
        elif key == b"announce-list":
            tiers = [[u for u in tier if _is_loopback_url(u.decode("utf-8", "replace"))]
                     for tier in value]
            tiers = [t for t in tiers if t]
            if tiers:
                out[key] = tiers
        elif key in (b"url-list", b"httpseeds", b"nodes"):
            continue
        else:
            out[key] = value
    return encode(out)
