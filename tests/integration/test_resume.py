"""kill -9 of a downloading node, then a restart: the transfer continues from where it was, pieces
that were verified before the kill are not downloaded again, and the result is bit-identical."""
import os
import time
import unittest

import procutil
from kithtest import KithTestCase, MiB, make_tree

SIZE = 64 * MiB


class ResumeAfterKillTest(KithTestCase):
    def test_kill9_at_half_then_restart(self):
        src = make_tree(os.path.join(self.tmpdir(), "movie"), {"movie.bin": SIZE})
        # The seeder's upload limit makes the transfer slow enough to be killed mid-way.
        a = self.node("seeder", {"limits.upload": str(12 * MiB), "limits.lan": "true"})
        a.start_daemon()
        shared = a.run_json("share", src, "--json")

        b = self.node("leecher", {"resume.interval": "1"})
        b.start_daemon()
        dest = self.tmpdir()
        status, added = b.api("POST", "/api/v1/transfers", {"link": shared["magnet"], "to": dest})
        self.assertEqual(status, 201, added)
        tid = added["id"]

        def half_done():
            st, t = b.api("GET", "/api/v1/transfers/" + tid)
            return t if st == 200 and t["progress"] >= 0.5 else None
        before = procutil.wait_for(half_done, 120, interval=0.05, what="50% downloaded")
        time.sleep(1.5)  # at least one periodic resume save after crossing 50%
        b.kill9()
        self.assertLess(before["progress"], 1.0, "finished before the kill: make the seeder slower")
        verified_before = before["total_done"]

        # Nothing reached the destination: the data is still in staging.
        self.assertEqual(os.listdir(dest), [])

        b.start_daemon()  # same home; the stale daemon.json of the killed one is replaced

        def completed():
            st, t = b.api("GET", "/api/v1/transfers/" + tid)
            self.assertEqual(st, 200, t)
            self.assertNotEqual(t["state"], "error", t.get("error"))
            return t if t["state"] == "completed" else None
        after = procutil.wait_for(completed, 240, interval=0.2, what="download completed after restart")
        # After the restart, this session downloaded at most what was not verified before the kill
        # (plus a little for pieces finished between the last resume save and the kill).
        self.assertLessEqual(after["downloaded"], SIZE - verified_before + 8 * MiB,
                             "verified pieces were downloaded again")
        self.assertTreesEqual(src, os.path.join(dest, "movie"))

    def test_graceful_restart_keeps_transfers(self):
        src = make_tree(os.path.join(self.tmpdir(), "set"), {"a.bin": 1 * MiB})
        a = self.node("seeder")
        a.start_daemon()
        shared = a.run_json("share", src, "--json")
        self.assertEqual(a.stop(), 0, "daemon exits 0 on SIGTERM")
        self.assertFalse(os.path.exists(os.path.join(a.home, "daemon.json")))
        a.start_daemon()
        listed = a.run_json("list", "--json")
        self.assertEqual([t["id"] for t in listed], [shared["id"]])
        self.assertIn(listed[0]["state"], ("seeding", "checking"))


if __name__ == "__main__":
    unittest.main()
