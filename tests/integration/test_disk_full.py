"""A full disk stops the transfer with a clear error state, loses nothing verified, and the
transfer resumes by itself once space is freed. The staging folder is a small tmpfs (needs root,
as CI is); the test skips where mounting is not allowed."""
import os
import subprocess
import unittest

import procutil
from kithtest import KithTestCase, MiB, make_tree

SIZE = 24 * MiB


def mount_tmpfs(path, size_mib):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % size_mib, "tmpfs", path],
                          capture_output=True).returncode == 0


class DiskFullTest(KithTestCase):
    def test_disk_full_then_space_freed(self):
        src = make_tree(os.path.join(self.tmpdir(), "big"), {"big.bin": SIZE})
        a = self.node("seeder")
        a.start_daemon()
        # v1: with a hybrid torrent, libtorrent 2.0.8 sometimes reports "inconsistent v1/v2 hashes"
        # after the writes that failed on the full disk, and stays in error after kith's three re-checks
        # (seen under load, also before issue 10). That is a separate defect, noted in
        # docs/architecture.md; this test is about the full disk.
        shared = a.run_json("share", src, "--format", "v1", "--json")

        b = self.node("leecher", {"resume.interval": "1"})
        staging = os.path.join(b.home, "staging")
        os.makedirs(staging)
        if os.geteuid() != 0 or not mount_tmpfs(staging, 8):
            self.skipTest("cannot mount a tmpfs here (needs root)")
        self.addCleanup(subprocess.run, ["umount", "-l", staging], capture_output=True)
        b.start_daemon()
        dest = self.tmpdir()
        status, added = b.api("POST", "/api/v1/transfers", {"link": shared["magnet"], "to": dest})
        self.assertEqual(status, 201, added)

        def disk_full():
            listed = b.run_json("list", "--json")
            t = listed[0] if listed else {}
            return t if t.get("state") == "error" and t.get("disk_full") else None
        stuck = procutil.wait_for(disk_full, 120, interval=0.5, what="disk-full error state")
        self.assertIn("disk full", stuck["error"])
        self.assertLess(stuck["progress"], 1.0)
        self.assertEqual(os.listdir(dest), [], "nothing is released while incomplete")

        # Free space: grow the tmpfs. The node retries disk-full transfers on its own.
        subprocess.run(["mount", "-o", "remount,size=64m", staging], check=True)

        def completed():
            st, t = b.api("GET", "/api/v1/transfers/" + added["id"])
            return t if st == 200 and t["state"] == "completed" else None
        done = procutil.wait_for(completed, 120, interval=0.5, what="completion after space was freed")
        # Verified pieces from before the error were kept, not fetched again.
        self.assertLessEqual(done["downloaded"], SIZE + 4 * MiB)
        self.assertTreesEqual(src, os.path.join(dest, "big"))


if __name__ == "__main__":
    unittest.main()
