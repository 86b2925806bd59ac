"""A kith channel client written from docs/protocol/channel.md with Python's ssl and cryptography,
independent of the C++ code: it can behave well, or lie, tamper, replay and flood."""
import base64
import hashlib
import os
import socket
import ssl
import struct
import subprocess
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CHANNEL_CERT_OID = "2.25.156018124450026349480807266049462123290"


def raw_public(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kith_id(public):
    check = hashlib.sha256(b"kith-id" + public).digest()[:2]
    return base64.b32encode(public + check).decode().lower().rstrip("=")


# -- protobuf, by hand (proto3 wire format) -----------------------------------------------

def _varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field_bytes(number, data):
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def field_varint(number, value):
    return _varint(number << 3) + _varint(value)


def frame(body_field, body):
    """A Frame with version 1 and one body (field number, serialized message), length-prefixed."""
    data = field_varint(1, 1) + field_bytes(body_field, body)
    return struct.pack(">I", len(data)) + data


HELLO, CONTACT_REQUEST, CONTACT_RESPONSE, MESSAGE, RECEIPT = 2, 3, 4, 7, 8


def hello(name):
    return frame(HELLO, field_bytes(1, name.encode()))


def contact_request(name, text):
    return frame(CONTACT_REQUEST, field_bytes(1, name.encode()) + field_bytes(2, text.encode()))


class Person:
    """A user key and one device key with its certificate."""

    def __init__(self, user=None):
        self.user = user or Ed25519PrivateKey.generate()
        self.device = Ed25519PrivateKey.generate()
        self.user_pk = raw_public(self.user)
        self.device_pk = raw_public(self.device)
        self.id = kith_id(self.user_pk)
        self.device_cert = self.user_pk + self.device_pk + self.user.sign(
            b"kith-device-v1\n" + self.user_pk + self.device_pk)

    def message_body(self, recipient_pk, text, seq, msg_id=None):
        return (field_bytes(1, msg_id or os.urandom(16)) + field_bytes(2, self.user_pk) +
                field_bytes(3, recipient_pk) + field_varint(4, int(time.time() * 1000)) +
                field_varint(5, seq) + field_bytes(6, text.encode()))

    def signed_message(self, body, signer=None):
        sig = (signer or self.user).sign(b"kith-msg-v1\n" + body)
        return frame(MESSAGE, field_bytes(1, body) + field_bytes(2, sig))

    def tls_files(self, extension=None):
        """PEM cert and key files for a self-signed Ed25519 certificate carrying the device cert.
        Made by the openssl command: Debian 12's python3-cryptography cannot write an OID arc as
        long as the 2.25.<UUID> one."""
        d = tempfile.mkdtemp(prefix="kith-hostile-")
        cert_path, key_path = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        with open(key_path, "wb") as f:
            f.write(self.device.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        ext = self.device_cert if extension is None else extension
        subprocess.run(["openssl", "req", "-new", "-x509", "-key", key_path, "-out", cert_path, "-days", "3650",
                        "-subj", "/CN=kith device", "-addext", "%s=DER:%s" % (CHANNEL_CERT_OID, ext.hex())],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return cert_path, key_path

    def connect(self, address, extension=None, alpn=("kith/1",)):
        host, port = address.rsplit(":", 1)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the server's key is pinned by kith nodes; this client does not care
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        cert, key = self.tls_files(extension)
        ctx.load_cert_chain(cert, key)
        raw = socket.create_connection((host, int(port)), timeout=10)
        return ctx.wrap_socket(raw, server_hostname="kith")


def closed_by_peer(sock, timeout=10):
    """True if the other end closes the connection within `timeout` (reading whatever it sends)."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except (ssl.SSLError, ConnectionError, OSError) as e:
        return not isinstance(e, socket.timeout)


def read_frames(sock, timeout=5):
    """Reads frames until `timeout` passes quietly; returns the raw frame payloads."""
    sock.settimeout(timeout)
    buf, out = b"", []
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
            while len(buf) >= 4:
                n = struct.unpack(">I", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                out.append(buf[4:4 + n])
                buf = buf[4 + n:]
    except (socket.timeout, ssl.SSLError, OSError):
        pass
    return out
