"""The daemon's local HTTP API: auth, Host/Origin checks, JSON errors, routes and the event stream."""
import http.client
import json
import os
import threading
import unittest

from kithtest import KithTestCase, MiB, make_tree


class ApiTest(KithTestCase):
    def setUp(self):
        super().setUp()
        self.n = self.node("api")
        self.n.start_daemon()
        host, port = self.n.api_addr.rsplit(":", 1)
        self.host, self.port = host, int(port)

    def raw(self, method, path, body=None, headers=None, token=True):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if token:
            h.setdefault("Authorization", "Bearer " + self.n.token)
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, (json.loads(data) if data else None)

    def assert_error(self, status, body, expected_status, code=None):
        self.assertEqual(status, expected_status, body)
        self.assertIn("error", body)
        self.assertTrue(body["error"]["message"])
        if code:
            self.assertEqual(body["error"]["code"], code)

    def test_token_required_on_every_route(self):
        for path in ("/api/v1/status", "/api/v1/transfers", "/api/v1/settings", "/api/v1/nope"):
            st, body = self.raw("GET", path, token=False)
            self.assert_error(st, body, 401)
            st, body = self.raw("GET", path, headers={"Authorization": "Bearer wrong"})
            self.assert_error(st, body, 401)
        self.assertEqual(os.stat(os.path.join(self.n.home, "api.token")).st_mode & 0o777, 0o600)

    def test_foreign_host_and_origin_refused(self):
        st, body = self.raw("GET", "/api/v1/status", headers={"Host": "evil.example:%d" % self.port})
        self.assert_error(st, body, 403)
        st, body = self.raw("GET", "/api/v1/status", headers={"Origin": "http://evil.example"})
        self.assert_error(st, body, 403)
        st, body = self.raw("GET", "/api/v1/status", headers={"Origin": "http://127.0.0.1:%d" % self.port})
        self.assertEqual(st, 200, body)

    def test_malformed_requests(self):
        st, body = self.raw("POST", "/api/v1/transfers", body="{not json", headers={"Content-Type": "application/json"})
        self.assert_error(st, body, 400)
        st, body = self.raw("POST", "/api/v1/transfers", body=json.dumps({"link": 5}))
        self.assert_error(st, body, 400)
        st, body = self.raw("POST", "/api/v1/transfers", body=json.dumps({"link": "magnet:?xt=urn:btih:zz"}))
        self.assert_error(st, body, 400, "swarm.bad_link")
        st, body = self.raw("POST", "/api/v1/transfers", body=json.dumps({"torrent": "!!notbase64"}))
        self.assert_error(st, body, 400)
        st, body = self.raw("GET", "/api/v1/transfers/ffff")
        self.assert_error(st, body, 404, "swarm.unknown_transfer")
        st, body = self.raw("GET", "/api/v2/whatever")
        self.assert_error(st, body, 404)
        st, body = self.raw("PUT", "/api/v1/transfers")
        self.assert_error(st, body, 405)
        # The daemon is still serving after all of that.
        st, body = self.raw("GET", "/api/v1/status")
        self.assertEqual(st, 200)
        self.assertEqual(body["api_port"], self.port)
        self.assertTrue(body["node_id"])

    def test_settings_and_status(self):
        st, settings = self.raw("GET", "/api/v1/settings")
        self.assertEqual(st, 200)
        names = {s["name"]: s for s in settings}
        self.assertEqual(names["dht.enabled"]["value"], False)
        self.assertEqual(names["dht.enabled"]["default"], True)
        for s in settings:
            self.assertTrue(s["description"])

    def test_event_stream_reports_transfers(self):
        src = make_tree(os.path.join(self.tmpdir(), "evt"), {"f.bin": 1 * MiB})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.request("GET", "/api/v1/events", headers={"Authorization": "Bearer " + self.n.token})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertIn("text/event-stream", resp.getheader("Content-Type"))
        seen = []

        def read():
            event = None
            for raw in resp:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    seen.append((event, json.loads(line[6:])))
                    if event == "transfer.hashed":
                        return
        t = threading.Thread(target=read, daemon=True)
        t.start()
        # A share answers at once, while its data is hashed: 202 and the hashing job.
        st, body = self.raw("POST", "/api/v1/shares", body=json.dumps({"path": src}))
        self.assertEqual(st, 202, body)
        self.assertEqual(body["state"], "hashing")
        self.assertTrue(body["id"].startswith("h-"), body)
        t.join(30)
        conn.close()
        self.assertIn(("transfer.added", {"id": body["id"], "name": "evt", "kind": "share"}), seen)
        hashed = [d for e, d in seen if e == "transfer.hashed"]
        self.assertEqual(len(hashed), 1, seen)
        self.assertEqual(hashed[0]["job"], body["id"])
        self.assertIn(("transfer.added", {"id": hashed[0]["id"], "name": "evt", "kind": "share"}), seen)
        # The job's id now shows the transfer it became.
        st, t = self.raw("GET", "/api/v1/transfers/" + body["id"])
        self.assertEqual(st, 200, t)
        self.assertEqual(t["id"], hashed[0]["id"])
        self.assertIn("magnet", t)


if __name__ == "__main__":
    unittest.main()
