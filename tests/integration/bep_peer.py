"""A small BEP v1 device written in Python from Syncthing's protocol (docs/protocol/bep.md,
src/bep/bep.proto), independent of kith's C++ codec: an Ed25519 certificate and its Syncthing device
ID, TLS 1.3 with ALPN bep/1.0, the Hello, framed messages (LZ4 bodies read, and written as literal-only
blocks), and protobuf encoded and decoded by hand. It can behave, or send whatever bytes a test wants.

Only what the hostile-peer tests need: messages are read on the caller's thread (`service`, `wait`),
Requests are answered by a handler the test sets, everything else is kept in lists to look at.
"""
import base64
import datetime
import hashlib
import os
import socket
import ssl
import struct
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization  # noqa: F401 (hashes: None for Ed25519)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

import procutil

HELLO_MAGIC = 0x2EA7D90B
CLUSTER_CONFIG, INDEX, INDEX_UPDATE, REQUEST, RESPONSE, DOWNLOAD_PROGRESS, PING, CLOSE = range(8)
NONE, LZ4 = 0, 1
FILE, DIRECTORY, SYMLINK = 0, 1, 4
NO_ERROR, GENERIC, NO_SUCH_FILE, INVALID_FILE = 0, 1, 2, 3
BLOCK_SIZE = 128 << 10  # Syncthing's smallest block size

# -- protobuf by hand (proto3 wire format) ---------------------------------------------------------


def varint(n):
    """A varint; negative numbers as their 64-bit two's complement (int32 and int64 alike)."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def f_varint(number, value):
    """A varint field; proto3 leaves zero out."""
    return varint(number << 3) + varint(value) if value else b""


def f_bytes(number, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(number << 3 | 2) + varint(len(data)) + data


def f_bytes_opt(number, data):
    return f_bytes(number, data) if data else b""


def parse(data):
    """Fields of one message: a list of (field number, wire type, value); value is an int for
    varints and fixed fields, bytes for length-delimited ones. Raises ValueError if malformed."""
    out, i = [], 0

    def read_varint():
        nonlocal i
        shift = result = 0
        while True:
            if i >= len(data):
                raise ValueError("truncated varint")
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    while i < len(data):
        key = read_varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = read_varint()
        elif wire == 1:
            value, i = int.from_bytes(data[i:i + 8], "little"), i + 8
        elif wire == 2:
            n = read_varint()
            if i + n > len(data):
                raise ValueError("truncated field %d" % number)
            value, i = bytes(data[i:i + n]), i + n
        elif wire == 5:
            value, i = int.from_bytes(data[i:i + 4], "little"), i + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((number, wire, value))
    if i != len(data):
        raise ValueError("truncated")
    return out


def first(fields, number, default=None):
    for n, _w, v in fields:
        if n == number:
            return v
    return default


def every(fields, number):
    return [v for n, _w, v in fields if n == number]


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


# -- LZ4 block format (not the frame format) -----------------------------------------------------


def lz4_decompress(src, size):
    """Decompresses one LZ4 block that must expand to exactly `size` bytes."""
    out, i, n = bytearray(), 0, len(src)

    def length(base):
        nonlocal i
        if base != 15:
            return base
        while True:
            if i >= n:
                raise ValueError("lz4: truncated length")
            b = src[i]
            i += 1
            base += b
            if b != 255:
                return base

    while i < n:
        token = src[i]
        i += 1
        lit = length(token >> 4)
        if i + lit > n:
            raise ValueError("lz4: literals past the end")
        out += src[i:i + lit]
        i += lit
        if i == n:
            break  # the last sequence has literals only
        if i + 2 > n:
            raise ValueError("lz4: truncated offset")
        offset = src[i] | src[i + 1] << 8
        i += 2
        if offset == 0 or offset > len(out):
            raise ValueError("lz4: bad offset")
        match = length(token & 15) + 4
        start = len(out) - offset
        for k in range(match):  # may overlap what it writes
            out.append(out[start + k])
        if len(out) > size:
            raise ValueError("lz4: longer than announced")
    if len(out) != size:
        raise ValueError("lz4: %d bytes, %d announced" % (len(out), size))
    return bytes(out)


def lz4_literal_block(data):
    """A valid LZ4 block holding `data` as literals only (what a compressor may emit for noise)."""
    n = len(data)
    if n < 15:
        return bytes([n << 4]) + data
    rest, ext = n - 15, bytearray()
    while rest >= 255:
        ext.append(255)
        rest -= 255
    ext.append(rest)
    return bytes([0xF0]) + bytes(ext) + data


# -- identity ---------------------------------------------------------------------------------------

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def luhn32(group):
    factor, total = 1, 0
    for c in group:
        addend = factor * _ALPHABET.index(c)
        total += addend // 32 + addend % 32
        factor = 2 if factor == 1 else 1
    return _ALPHABET[(32 - total % 32) % 32]


def device_id_text(digest):
    """Syncthing's text form of a 32-byte device ID."""
    plain = base64.b32encode(digest).decode().rstrip("=")
    checked = "".join(plain[i:i + 13] + luhn32(plain[i:i + 13]) for i in range(0, 52, 13))
    return "-".join(checked[i:i + 7] for i in range(0, 56, 7))


class Identity:
    """An Ed25519 key and a self-signed certificate named as Syncthing names its own."""

    def __init__(self):
        self.key = Ed25519PrivateKey.generate()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncthing")])
        now = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=36500))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("syncthing")]), critical=False)
                .sign(self.key, None))
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.id_bytes = hashlib.sha256(self.der).digest()
        self.device_id = device_id_text(self.id_bytes)
        self.short_id = int.from_bytes(self.id_bytes[:8], "big")
        d = tempfile.mkdtemp(prefix="kith-bep-peer-")
        procutil.register_tmp(d)
        self.cert_path, self.key_path = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        with open(self.cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.key_path, "wb") as f:
            f.write(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


def id_bytes_of(device_id):
    """The 32 bytes of a device ID's text form (with its check characters)."""
    s = device_id.replace("-", "")
    plain = "".join(s[i:i + 13] for i in range(0, 56, 14))
    return base64.b32decode(plain + "====")[:32]


# -- messages -----------------------------------------------------------------------------------------


def hello(device_name, client_name="hostile", client_version="v0.0.1"):
    body = f_bytes(1, device_name) + f_bytes(2, client_name) + f_bytes(3, client_version)
    return struct.pack(">IH", HELLO_MAGIC, len(body)) + body


def frame(msg_type, body, compression=NONE):
    """A message as it goes on the wire; with compression=LZ4 the body is wrapped as a literal block."""
    if compression == LZ4:
        body = struct.pack(">I", len(body)) + lz4_literal_block(body)
    header = f_varint(1, msg_type) + f_varint(2, compression)
    return struct.pack(">H", len(header)) + header + struct.pack(">I", len(body)) + body


def device(id_bytes, name="", index_id=0, max_sequence=0):
    return f_bytes(1, id_bytes) + f_bytes_opt(2, name) + f_varint(6, max_sequence) + f_varint(8, index_id)


def folder(folder_id, devices, label=""):
    return f_bytes(1, folder_id) + f_bytes_opt(2, label) + b"".join(f_bytes(16, d) for d in devices)


def cluster_config(folders):
    return b"".join(f_bytes(1, f) for f in folders)


def block(offset, size, digest):
    return f_varint(1, offset) + f_varint(2, size) + f_bytes(3, digest)


def file_info(name, *, type=FILE, size=0, blocks=(), version=(), sequence=1, permissions=0o644,
              modified_s=1700000000, block_size=0, symlink_target=b"", deleted=False):
    """A FileInfo; `version` is [(short id, value)...], `blocks` already encoded (see `block`)."""
    vector = b"".join(f_bytes(1, f_varint(1, i) + f_varint(2, v)) for i, v in version)
    return (f_bytes(1, name) + f_varint(2, type) + f_varint(3, size) + f_varint(4, permissions) +
            f_varint(5, modified_s) + f_varint(6, int(deleted)) + f_bytes(9, vector) +
            f_varint(10, sequence) + f_varint(13, block_size) + b"".join(f_bytes(16, b) for b in blocks) +
            f_bytes_opt(17, symlink_target))


def data_file(name, data, version, sequence, block_size=BLOCK_SIZE):
    """A FileInfo for `data`, cut in blocks of block_size, as a well-behaved device announces it."""
    blocks = [block(o, len(data[o:o + block_size]), hashlib.sha256(data[o:o + block_size]).digest())
              for o in range(0, len(data), block_size)] or [block(0, 0, hashlib.sha256(b"").digest())]
    return file_info(name, size=len(data), blocks=blocks, version=version, sequence=sequence,
                     block_size=block_size)


def index(folder_id, files):
    return f_bytes(1, folder_id) + b"".join(f_bytes(2, f) for f in files)


def response(request_id, data=b"", code=NO_ERROR):
    return f_varint(1, request_id) + f_bytes_opt(2, data) + f_varint(3, code)


def request(request_id, folder_id, name, offset, size, digest=b"", from_temporary=False):
    return (f_varint(1, request_id) + f_bytes(2, folder_id) + f_bytes(3, name) + f_varint(4, offset) +
            f_varint(5, size) + f_bytes_opt(6, digest) + f_varint(7, int(from_temporary)))


APPEND, FORGET = 0, 1  # FileDownloadProgressUpdateType


def vector(counters):
    return b"".join(f_bytes(1, f_varint(1, i) + f_varint(2, v)) for i, v in counters)


def progress_update(update_type, name, version=(), block_indexes=(), block_size=0):
    """A FileDownloadProgressUpdate; block indexes unpacked, as Syncthing sends them."""
    return (f_varint(1, update_type) + f_bytes(2, name) + f_bytes_opt(3, vector(version)) +
            b"".join(varint(4 << 3) + varint(i) for i in block_indexes) + f_varint(5, block_size))


def download_progress(folder_id, updates):
    return f_bytes(1, folder_id) + b"".join(f_bytes(2, u) for u in updates)


def decode_download_progress(body):
    """(folder, [{"type", "name", "version" [(id, value)], "block_indexes", "block_size"}]); block
    indexes read packed or not."""
    f = parse(body)
    updates = []
    for raw in every(f, 2):
        u = parse(raw)
        indexes = []
        for n, w, v in u:
            if n != 4:
                continue
            if w == 0:
                indexes.append(signed64(v))
            else:  # packed
                indexes += [signed64(x) for x in _varints(v)]
        version = [(first(parse(c), 1, 0), first(parse(c), 2, 0)) for c in every(parse(first(u, 3, b"")), 1)]
        updates.append({"type": first(u, 1, 0), "name": first(u, 2, b"").decode("utf-8", "replace"),
                        "version": version, "block_indexes": indexes, "block_size": signed64(first(u, 5, 0))})
    return first(f, 1, b"").decode(), updates


def _varints(data):
    out, i = [], 0
    while i < len(data):
        shift = result = 0
        while True:
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append(result)
    return out


def decode_request(body):
    f = parse(body)
    return {"id": signed64(first(f, 1, 0)), "folder": first(f, 2, b"").decode(), "name": first(f, 3, b"").decode(),
            "offset": signed64(first(f, 4, 0)), "size": signed64(first(f, 5, 0)), "hash": first(f, 6, b""),
            "from_temporary": bool(first(f, 7, 0))}


def decode_response(body):
    f = parse(body)
    return {"id": signed64(first(f, 1, 0)), "data": first(f, 2, b""), "code": first(f, 3, 0)}


def decode_index(body):
    """(folder, [FileInfo as dict]) of an Index or IndexUpdate."""
    f = parse(body)
    files = []
    for raw in every(f, 2):
        fi = parse(raw)
        files.append({"name": first(fi, 1, b"").decode("utf-8", "replace"), "type": first(fi, 2, 0),
                      "size": signed64(first(fi, 3, 0)), "deleted": bool(first(fi, 6, 0)),
                      "sequence": signed64(first(fi, 10, 0)), "symlink_target": first(fi, 17, b"")})
    return first(f, 1, b"").decode(), files


def decode_cluster_config(body):
    """[{"id", "label", "devices": [{"id" (bytes), "name", "index_id", "max_sequence"}]}]"""
    out = []
    for raw in every(parse(body), 1):
        fo = parse(raw)
        devices = []
        for d in every(fo, 16):
            df = parse(d)
            devices.append({"id": first(df, 1, b""), "name": first(df, 2, b"").decode(),
                            "index_id": first(df, 8, 0), "max_sequence": signed64(first(df, 6, 0))})
        out.append({"id": first(fo, 1, b"").decode(), "label": first(fo, 2, b"").decode(), "devices": devices})
    return out


# -- a connection -------------------------------------------------------------------------------------


class Closed(Exception):
    """The other end closed the connection."""


class BepPeer:
    """One BEP connection to `address` ("host:port") as `identity`. Read on the caller's thread:
    `service()` takes what has arrived, answers Requests through `on_request(req) -> (data, code)`,
    and keeps the rest: `messages` [(type, body)], `indexes` [(folder, files)], `cluster_configs`,
    `requests`, `responses`, `progress` [(folder, updates)], `close_reason`, `closed`, `lz4_messages`."""

    def __init__(self, address, identity, alpn=("bep/1.0",)):
        host, port = address.rsplit(":", 1)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # a device is pinned by its ID, which this client does not check
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        ctx.load_cert_chain(identity.cert_path, identity.key_path)
        raw = socket.create_connection((host, int(port)), timeout=10)
        self.sock = ctx.wrap_socket(raw, server_hostname="syncthing")
        self.identity = identity
        self.buffer = b""
        self.remote_hello = None
        self.messages, self.indexes, self.cluster_configs, self.requests = [], [], [], []
        self.responses, self.progress = [], []  # progress: decoded DownloadProgress messages
        self.lz4_messages = 0  # how many arrived LZ4-compressed
        self.close_reason = None
        self.closed = False
        self.on_request = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data, timeout=120):
        # Blocking, whatever _fill left the timeout at: a receiver that applies backpressure makes a
        # big send wait (sendall on a timed-out SSL socket would stop half-way).
        self.sock.settimeout(timeout)
        self.sock.sendall(data)

    def send_hello(self, name="hostile"):
        self.send(hello(name))

    def send_message(self, msg_type, body, compression=NONE):
        self.send(frame(msg_type, body, compression))

    def _fill(self, timeout):
        """Reads once (up to `timeout`); False when nothing came. Sets `closed` at EOF or reset."""
        if self.closed:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 16)
        except (socket.timeout, TimeoutError):
            return False
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except (ssl.SSLError, ConnectionError, OSError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.buffer += data
        return True

    def read_hello(self, timeout=10):
        """The other side's Hello as {"device_name", "client_name", "client_version"}."""
        def complete():
            if len(self.buffer) >= 6:
                magic, n = struct.unpack(">IH", self.buffer[:6])
                if magic != HELLO_MAGIC:
                    raise ValueError("not a BEP Hello: magic 0x%08X" % magic)
                return len(self.buffer) >= 6 + n
            return False
        def arrived():
            return complete() or self.closed or (self._fill(0.05) and complete())
        procutil.wait_for(arrived, timeout, interval=0.01, what="the BEP Hello")
        if not complete():
            raise Closed("closed before its Hello")
        n = struct.unpack(">H", self.buffer[4:6])[0]
        f = parse(self.buffer[6:6 + n])
        self.buffer = self.buffer[6 + n:]
        self.remote_hello = {"device_name": first(f, 1, b"").decode(), "client_name": first(f, 2, b"").decode(),
                             "client_version": first(f, 3, b"").decode()}
        return self.remote_hello

    def _take(self):
        """One complete message out of the buffer, or None."""
        if len(self.buffer) < 2:
            return None
        hlen = struct.unpack(">H", self.buffer[:2])[0]
        if len(self.buffer) < 2 + hlen + 4:
            return None
        header = parse(self.buffer[2:2 + hlen])
        blen = struct.unpack(">I", self.buffer[2 + hlen:6 + hlen])[0]
        if len(self.buffer) < 6 + hlen + blen:
            return None
        body = self.buffer[6 + hlen:6 + hlen + blen]
        self.buffer = self.buffer[6 + hlen + blen:]
        if first(header, 2, 0) == LZ4:
            self.lz4_messages += 1
            body = lz4_decompress(body[4:], struct.unpack(">I", body[:4])[0])
        return first(header, 1, 0), body

    def service(self, timeout=0.05):
        """Reads what has arrived (waiting at most `timeout` for the first bytes) and handles it."""
        got = self._fill(timeout)
        while got:
            got = self._fill(0)
        while True:
            m = self._take()
            if m is None:
                return
            msg_type, body = m
            self.messages.append(m)
            if msg_type in (INDEX, INDEX_UPDATE):
                self.indexes.append(decode_index(body))
            elif msg_type == CLUSTER_CONFIG:
                self.cluster_configs.append(decode_cluster_config(body))
            elif msg_type == RESPONSE:
                self.responses.append(decode_response(body))
            elif msg_type == DOWNLOAD_PROGRESS:
                self.progress.append(decode_download_progress(body))
            elif msg_type == CLOSE:
                self.close_reason = first(parse(body), 1, b"").decode("utf-8", "replace")
            elif msg_type == REQUEST:
                req = decode_request(body)
                self.requests.append(req)
                if self.on_request:
                    answer = self.on_request(req)
                    if answer is not None:
                        data, code = answer
                        self.send_message(RESPONSE, response(req["id"], data, code))

    def wait(self, predicate, timeout, what="condition"):
        """procutil.wait_for, serving the connection while it waits."""
        def check():
            self.service()
            return predicate()
        return procutil.wait_for(check, timeout, interval=0.01, what=what)

    def handshake(self, name="hostile"):
        """Sends our Hello, reads theirs and their ClusterConfig (the first message after the Hello)."""
        self.send_hello(name)
        self.read_hello()
        self.wait(lambda: self.cluster_configs or self.closed, 10, what="the ClusterConfig")
        if not self.cluster_configs:
            raise Closed("closed before its ClusterConfig (%s)" % self.close_reason)
        return self.cluster_configs[0]

    def closed_within(self, timeout):
        """True if the other end closes the connection within `timeout` s (reading what it sends)."""
        try:
            self.wait(lambda: self.closed, timeout, what="the connection to close")
            return True
        except TimeoutError:
            return False
