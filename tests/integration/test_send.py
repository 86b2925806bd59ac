"""`kith send NAME PATH`: files to a contact through an SSL torrent (docs/cli.md § Files to contacts).

Two daemons become contacts over loopback; A sends, B receives into its download.dir through staging
and the safety scan. A third node that has the .torrent and A's addresses cannot fetch it, and a TLS
client without a certificate is refused on A's SSL port. B killed with SIGKILL mid-transfer resumes.

"Refused" is checked where it happens: with log.level=debug a daemon logs libtorrent's peer alerts, so
the tests wait for the lines that show the connection reached A's SSL listener and failed for want of a
certificate (a closed port or a peer that never dials would not produce them).
"""
import os
import re
import socket
import ssl
import time
import unittest

import kithtest
from kithtest import MiB
import procutil


def contact_settings(name, extra=None):
    s = {"profile.name": name}  # channels on 127.0.0.1:0 and no LAN beacons: kithtest.SAFE_SETTINGS
    s.update(extra or {})
    return s


class SendTest(kithtest.KithTestCase):

    def make_pair(self, a_extra=None):
        a = self.node("alice", contact_settings("alice", a_extra))
        b = self.node("bob", contact_settings("bob", {"download.dir": os.path.join(self.tmpdir(), "dl")}))
        a.start_daemon()
        b.start_daemon()
        _, aid = a.api("GET", "/api/v1/id")
        _, bid = b.api("GET", "/api/v1/id")
        status, _ = b.api("POST", "/api/v1/contacts", {"invite": aid["invite"]})
        self.assertEqual(status, 201)
        procutil.wait_for(lambda: a.api("GET", "/api/v1/contacts/requests")[1] or None, 30, what="request at A")
        status, body = a.api("POST", "/api/v1/contacts/%s/accept" % bid["id"])
        self.assertEqual(status, 200, body)

        def both_online():
            _, ca = a.api("GET", "/api/v1/contacts/%s" % bid["id"])
            _, cb = b.api("GET", "/api/v1/contacts/%s" % aid["id"])
            ok = all(isinstance(c, dict) and c.get("state") == "accepted" and c.get("online") for c in (ca, cb))
            return ok or None
        procutil.wait_for(both_online, 60, what="contacts accepted and online")
        return a, b, aid["id"], bid["id"]

    def wait_log(self, node, pattern, timeout=60, what=None):
        """Wait until node's daemon log has a line matching the regex; returns the match."""
        rx = re.compile(pattern)

        def find():
            with open(node.daemon.log_path, errors="replace") as f:
                return rx.search(f.read())
        return procutil.wait_for(find, timeout, what=what or "log line /%s/" % pattern)

    def wait_state(self, node, tid, states, timeout=120):
        def check():
            status, t = node.api("GET", "/api/v1/transfers/%s" % tid)
            return t if status == 200 and t.get("state") in states else None
        return procutil.wait_for(check, timeout, what="transfer %s in %s" % (tid[:8], states))

    def test_send_file_and_folder_privately(self):
        a, b, aid, bid = self.make_pair({"log.level": "debug"})  # debug: libtorrent's peer alerts (carol)
        data = self.tmpdir()
        kithtest.make_tree(data, {"report.bin": 3 * MiB + 123})
        folder = kithtest.make_tree(os.path.join(data, "album"), {"one.bin": MiB, "sub/two.txt": 4321}, seed=2)

        sent = a.run_json("--json", "send", "bob", os.path.join(data, "report.bin"))
        tid = sent["offer"]["transfer_id"]
        self.assertEqual(sent["offer"]["contact"], bid)
        t = self.wait_state(b, tid, ["completed"])
        self.assertEqual(t["kind"], "get")
        self.assertEqual(t["source"], "(sent by contact %s)" % aid)
        # It came through staging and the scan, like every download.
        with open(b.daemon.log_path) as f:
            self.assertIn("%s: scanned clean" % tid, f.read())
        self.assertFalse(os.path.exists(os.path.join(b.home, "staging", tid)))
        dl = b.settings["download.dir"]
        self.assertEqual(kithtest.sha256_file(os.path.join(dl, "report.bin")),
                         kithtest.sha256_file(os.path.join(data, "report.bin")))
        # The offer was acknowledged, and both sides list it.
        procutil.wait_for(lambda: a.api("GET", "/api/v1/files")[1][0]["state"] == "delivered" or None, 30,
                          what="offer delivered")
        self.assertIn("to %s delivered  report.bin" % bid, a.run("files").stdout)
        _, received = b.api("GET", "/api/v1/files")
        self.assertEqual(received[0]["direction"], "in")
        self.assertEqual(received[0]["transfer_id"], tid)

        # A folder, through the API.
        status, job = a.api("POST", "/api/v1/contacts/bob/files", {"path": folder})
        self.assertEqual(status, 202, job)  # hashed in the background; the offer follows
        folder_id = a.follow_job(job)["id"]
        self.wait_state(b, folder_id, ["completed"])
        self.assertTreesEqual(folder, os.path.join(dl, "album"))

        # Someone with the .torrent and every address of A still gets nothing: carol dials both of A's
        # ports, A's SSL listener refuses her for want of a certificate, and no byte arrives.
        c = self.node("carol", contact_settings("carol", {"log.level": "debug"}))
        c.start_daemon()
        _, torrent = a.api("GET", "/api/v1/transfers/%s/torrent" % tid)
        ssl_port = a.api("GET", "/api/v1/status")[1]["ssl_port"]
        self.assertEqual(sent["offer"]["peers"], ["127.0.0.1:%d" % ssl_port])
        status, _ = c.api("POST", "/api/v1/transfers", {
            "torrent": torrent["torrent"], "peers": ["127.0.0.1:%d" % a.bt_port, "127.0.0.1:%d" % ssl_port]})
        self.assertEqual(status, 201)
        self.wait_log(c, r"peer \[ 127\.0\.0\.1:%d .*\] disconnecting \(SSL/TCP\) .*certificate required" % ssl_port,
                      what="carol's connection to A's SSL port refused for want of a certificate")
        self.wait_log(a, r"peer error \[ssl_handshake\] \[asio\.ssl\]: peer did not return a certificate",
                      what="A's SSL listener refusing a peer without a certificate")
        self.wait_log(c, r"peer \[ 127\.0\.0\.1:%d .*\] disconnecting" % a.bt_port,
                      what="carol's connection to A's plain port ended")
        _, ct = c.api("GET", "/api/v1/transfers/%s" % tid)
        self.assertEqual(ct["total_done"], 0, ct)
        self.assertEqual(c.api("GET", "/api/v1/transfers/%s/peers" % tid)[1], [])

    def test_tls_client_without_certificate_is_refused(self):
        a, _b, _aid, _bid = self.make_pair({"log.level": "debug"})  # debug: libtorrent's peer alerts
        data = self.tmpdir()
        kithtest.make_tree(data, {"x.bin": MiB})
        sent = a.run_json("--json", "send", "bob", os.path.join(data, "x.bin"))
        tid = sent["offer"]["transfer_id"]
        port = a.api("GET", "/api/v1/status")[1]["ssl_port"]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        # The TCP connection must succeed: a closed port (ECONNREFUSED) is a failure here, not a refusal.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            local_port = raw.getsockname()[1]
            with self.assertRaises(ssl.SSLError) as refused:
                with ctx.wrap_socket(raw, server_hostname=tid) as tls:  # SNI picks the torrent
                    # BitTorrent handshake; a TLS 1.3 server reports a missing client certificate only
                    # after the client's first flight, so read to see the answer.
                    tls.sendall(b"\x13BitTorrent protocol" + bytes(8) + bytes.fromhex(tid) + b"-XX0000-012345678901")
                    answer = tls.recv(68)
                    self.fail("a peer without a certificate got an answer: %r" % answer)
        self.assertEqual(refused.exception.reason, "TLSV13_ALERT_CERTIFICATE_REQUIRED", refused.exception)
        # A's side of the same connection (our source port): refused in the TLS handshake for that reason.
        self.wait_log(a, r"peer \[ 127\.0\.0\.1:%d .*\] peer error \[ssl_handshake\] \[asio\.ssl\]: "
                      r"peer did not return a certificate" % local_port,
                      what="A refusing our connection for want of a certificate")

    def test_eicar_lands_in_quarantine(self):
        a, b, _aid, _bid = self.make_pair()
        data = self.tmpdir()
        path = os.path.join(data, "eicar.com")
        with open(path, "wb") as f:
            f.write(kithtest.eicar_bytes())
        sent = a.run_json("--json", "send", "bob", path)
        tid = sent["offer"]["transfer_id"]
        self.wait_state(b, tid, ["quarantined"])
        self.assertFalse(os.path.exists(os.path.join(b.settings["download.dir"], "eicar.com")))
        _, q = b.api("GET", "/api/v1/quarantine")
        self.assertIn(tid, [x["id"] for x in q])

    def test_offer_waits_for_an_offline_contact(self):
        a, b, _aid, bid = self.make_pair()
        data = self.tmpdir()
        kithtest.make_tree(data, {"later.bin": MiB + 7})
        self.assertEqual(b.stop(), 0)
        procutil.wait_for(lambda: not a.api("GET", "/api/v1/contacts/%s" % bid)[1].get("online") or None, 30,
                          what="bob offline at alice")
        sent = a.run_json("--json", "send", "bob", os.path.join(data, "later.bin"))
        self.assertEqual(sent["offer"]["state"], "pending")
        b.start_daemon()  # bob dials alice again; alice sends the queued offer on that channel
        self.wait_state(b, sent["offer"]["transfer_id"], ["completed"])
        self.assertEqual(kithtest.sha256_file(os.path.join(b.settings["download.dir"], "later.bin")),
                         kithtest.sha256_file(os.path.join(data, "later.bin")))
        procutil.wait_for(lambda: a.api("GET", "/api/v1/files")[1][0]["state"] == "delivered" or None, 30,
                          what="offer delivered")

    def test_resumes_after_kill9(self):
        # A uploads at 2 MiB/s, also to loopback peers, so B is mid-transfer when it dies.
        a, b, _aid, _bid = self.make_pair({"limits.upload": str(2 * MiB), "limits.lan": "true"})
        data = self.tmpdir()
        kithtest.make_tree(data, {"big.bin": 24 * MiB})
        sent = a.run_json("--json", "send", "bob", os.path.join(data, "big.bin"))
        tid = sent["offer"]["transfer_id"]

        def partway():
            status, t = b.api("GET", "/api/v1/transfers/%s" % tid)
            return t if status == 200 and 0.15 < t.get("progress", 0) < 0.7 else None
        procutil.wait_for(partway, 60, what="B partway")
        time.sleep(2)  # a resume-data save or two
        b.kill9()
        b.start_daemon()
        self.wait_state(b, tid, ["completed"], timeout=120)
        self.assertEqual(kithtest.sha256_file(os.path.join(b.settings["download.dir"], "big.bin")),
                         kithtest.sha256_file(os.path.join(data, "big.bin")))


if __name__ == "__main__":
    unittest.main()
