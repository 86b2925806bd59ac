"""Helpers for the folder-sync tests: kith daemons with a BEP listener on loopback, driven through the
API (docs/api.md § Folder sync), beside Debian's Syncthing (syncthing.py)."""
import os

import procutil
from kithtest import free_port


def sync_daemon(case, name, **settings):
    """A kith daemon whose BEP listener is on a known loopback port; its device ID in .device_id."""
    port = free_port()
    s = {"profile.name": name, "sync.listen": "127.0.0.1:%d" % port,
         "sync.rescan_interval_s": "3600"}  # the tests rescan explicitly
    s.update(settings)
    node = case.node(name, s)
    node.start_daemon()
    status, body = node.api("GET", "/api/v1/id")
    case.assertEqual(status, 200, body)
    node.device_id = body["device_id"]
    node.sync_address = "127.0.0.1:%d" % body["sync_port"]
    return node


def sync_pair(case, bob_dir=None, **settings):
    """Two daemons that know each other; alice offers folder "team", bob accepts it (into `bob_dir`
    if given, e.g. a small tmpfs). Returns (alice, bob, alice's folder, bob's folder)."""
    alice = sync_daemon(case, "alice", **settings)
    bob = sync_daemon(case, "bob", **settings)
    add_device(case, alice, bob.device_id, bob.sync_address, "bob")
    add_device(case, bob, alice.device_id, alice.sync_address, "alice")
    adir, bdir = case.tmpdir("alice-team-"), bob_dir or case.tmpdir("bob-team-")
    api_ok(case, alice, "POST", "/api/v1/sync/folders", {"path": adir, "id": "team", "devices": [bob.device_id]})
    procutil.wait_for(lambda: any(p["id"] == "team" for p in api_ok(case, bob, "GET", "/api/v1/sync/pending")["folders"]),
                      30, what="bob to see alice's offer")
    accepted = api_ok(case, bob, "POST", "/api/v1/sync/pending/team/accept", {"path": bdir})
    case.assertEqual(accepted["id"], "team")
    return alice, bob, adir, bdir


def api_ok(case, node, method, path, body=None, expect=(200, 201)):
    status, answer = node.api(method, path, body)
    case.assertIn(status, expect if isinstance(expect, tuple) else (expect,), answer)
    return answer


def add_device(case, node, device_id, address, name=""):
    return api_ok(case, node, "POST", "/api/v1/sync/devices",
                  {"id": device_id, "addresses": [address], "name": name})


def folder(case, node, folder_id):
    return api_ok(case, node, "GET", "/api/v1/sync/folders/" + folder_id)


def rescan(case, node, folder_id):
    api_ok(case, node, "POST", "/api/v1/sync/folders/%s/rescan" % folder_id)


def wait_content(path, content, timeout=60):
    """Waits until `path` holds exactly `content` (bytes)."""
    def there():
        try:
            with open(path, "rb") as f:
                return f.read() == content
        except OSError:
            return False
    return procutil.wait_for(there, timeout, interval=0.05, what="%s with the expected content" % path)


def wait_gone(path, timeout=60):
    return procutil.wait_for(lambda: not os.path.lexists(path), timeout, interval=0.05, what="%s gone" % path)


def wait_idle(case, node, folder_id, timeout=60):
    """Waits until the folder is idle and needs nothing; returns its view."""
    def idle():
        f = folder(case, node, folder_id)
        return f if f["state"] == "idle" and f["need_files"] == 0 else None
    return procutil.wait_for(idle, timeout, what="folder %s idle" % folder_id)
