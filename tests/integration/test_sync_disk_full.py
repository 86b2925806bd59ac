"""A full disk stops a synced folder with an error and loses nothing (issue 13, docs/sync.md § A full
disk): the receiver's folder is a small tmpfs (needs root, as CI is; skipped where mounting is not
allowed). A file that fits arrives; one that does not is not started, the folder goes to state error
saying "disk full" and what to do, logs it once, and pulls again by itself once there is room. A
write that hits the full disk anyway (something else filled it) stops the folder the same way, and
keeps the temporary file. Room again never clears an error of another cause (a missing .stfolder)."""
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KithTestCase, MiB, signature_settings  # noqa: E402
from sync_util import folder, rescan, sync_pair, wait_content, wait_idle  # noqa: E402

BIG = 24 * MiB


def mount_tmpfs(path, size_mib):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % size_mib, "tmpfs", path],
                          capture_output=True).returncode == 0


def write(path, data):
    """Writes the file beside the folder, then renames it in: written in place, the sender's watcher
    could offer a half-written version small enough to fit (a CI run saw big.bin arrive that way)."""
    part = os.path.join(os.path.dirname(os.path.dirname(path)), ".part-" + os.path.basename(path))
    with open(part, "wb") as f:
        f.write(data)
    os.rename(part, path)


class SyncDiskFullTest(KithTestCase):
    def pair_on_tmpfs(self, size_mib, **settings):
        """alice and bob syncing folder "team"; bob's folder is a tmpfs of size_mib."""
        bdir = self.tmpdir("bob-team-")
        if os.geteuid() != 0 or not mount_tmpfs(bdir, size_mib):
            self.skipTest("cannot mount a tmpfs here (needs root)")
        self.addCleanup(subprocess.run, ["umount", "-l", bdir], capture_output=True)
        return sync_pair(self, bob_dir=bdir, **signature_settings(), **settings)

    def test_disk_full_stops_the_folder_then_space_freed(self):
        alice, bob, adir, bdir = self.pair_on_tmpfs(8)

        small = os.urandom(256 * 1024)
        write(os.path.join(adir, "small.bin"), small)
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "small.bin"), small)
        wait_idle(self, bob, "team")

        big = os.urandom(BIG)
        write(os.path.join(adir, "big.bin"), big)
        rescan(self, alice, "team")

        def disk_full():
            f = folder(self, bob, "team")
            return f if f["state"] == "error" and "disk full" in f["error"] else None
        stuck = procutil.wait_for(disk_full, 60, interval=0.2, what="bob's folder in error: disk full")
        self.assertTrue(stuck["disk_full"])
        self.assertIn("free", stuck["error"])             # says what to do
        self.assertIn("retries by itself", stuck["error"])
        # The CLI shows the same.
        status = bob.run_json("sync", "status", "team", "--json")
        self.assertEqual(status["state"], "error")
        self.assertIn("disk full", status["error"])

        # Past a re-check of the free space (every 10 s): still stopped, nothing partial at the final
        # name, the file that fitted kept, and the error logged once (no retry loop).
        time.sleep(12)
        f = folder(self, bob, "team")
        self.assertEqual(f["state"], "error", f)
        self.assertIn("disk full", f["error"])
        self.assertFalse(os.path.exists(os.path.join(bdir, "big.bin")))
        with open(os.path.join(bdir, "small.bin"), "rb") as fh:
            self.assertEqual(fh.read(), small)
        with open(bob.daemon.log_path, errors="replace") as log:
            lines = [line for line in log if "disk full" in line]
        self.assertEqual(len(lines), 1, lines)

        # Room again: the folder clears its error and completes with no command.
        subprocess.run(["mount", "-o", "remount,size=64m", bdir], check=True)
        wait_content(os.path.join(bdir, "big.bin"), big, timeout=60)
        done = wait_idle(self, bob, "team")
        self.assertEqual(done["error"], "")
        self.assertFalse(done["disk_full"])
        self.assertEqual(sorted(n for n in os.listdir(bdir) if not n.startswith(".st")),
                         ["big.bin", "small.bin"])

    def test_the_margin_kept_free_is_a_setting(self):
        # Half of bob's 8 MiB stays free: a 5 MiB file does not fit although the disk could hold it.
        alice, bob, adir, bdir = self.pair_on_tmpfs(8, **{"sync.min_disk_free_percent": "50"})
        write(os.path.join(adir, "five.bin"), os.urandom(5 * MiB))
        rescan(self, alice, "team")

        def disk_full():
            f = folder(self, bob, "team")
            return f if f["state"] == "error" and f.get("disk_full") else None
        stuck = procutil.wait_for(disk_full, 60, interval=0.2, what="bob's folder in error: disk full")
        self.assertIn("50 % of the file system", stuck["error"])
        self.assertFalse(os.path.exists(os.path.join(bdir, "five.bin")))

    def test_a_write_that_hits_a_full_disk(self):
        # The file fits when it starts; then another program fills the disk while it is written. To
        # catch the pull in the middle, alice is stopped (SIGSTOP) as soon as bob's temporary file
        # appears, the disk is filled, and alice goes on: bob's next block writes fail with ENOSPC.
        alice, bob, adir, bdir = self.pair_on_tmpfs(32)
        wait_idle(self, bob, "team")
        data = os.urandom(24 * MiB)
        write(os.path.join(adir, "mid.bin"), data)
        temp = os.path.join(bdir, ".syncthing.mid.bin.tmp")
        filler = os.path.join(bdir, "filler")
        self.addCleanup(os.kill, alice.daemon.pid, signal.SIGCONT)

        def stop_alice_and_fill():
            deadline = time.monotonic() + 60
            while not os.path.exists(temp) and time.monotonic() < deadline:
                time.sleep(0.0002)
            os.kill(alice.daemon.pid, signal.SIGSTOP)
            try:
                with open(filler, "wb", buffering=0) as f:
                    while True:
                        f.write(bytes(65536))
            except OSError:
                pass
            os.kill(alice.daemon.pid, signal.SIGCONT)
        t = threading.Thread(target=stop_alice_and_fill)
        t.start()
        rescan(self, alice, "team")
        t.join()

        def ended():
            f = folder(self, bob, "team")
            return f if f["state"] == "error" or os.path.exists(os.path.join(bdir, "mid.bin")) else None
        f = procutil.wait_for(ended, 60, interval=0.1, what="bob's pull of mid.bin to end")
        if f["state"] != "error":
            self.skipTest("the pull finished before the disk was full (a race this test lost)")
        self.assertTrue(f["disk_full"], f)
        self.assertIn("No space left on device", f["error"])
        self.assertIn("retries by itself", f["error"])
        self.assertFalse(os.path.exists(os.path.join(bdir, "mid.bin")))
        self.assertTrue(os.path.exists(temp), "the temporary file is kept for the next try")

        os.remove(filler)  # the watcher's scan and the 10 s check both see the room
        wait_content(os.path.join(bdir, "mid.bin"), data, timeout=60)
        done = wait_idle(self, bob, "team")
        self.assertFalse(done["disk_full"])
        self.assertFalse(os.path.exists(temp))
        # Each block was fetched once: those written before the disk was full were kept.
        self.assertEqual(done["bytes_fetched"], len(data))

    def test_room_again_does_not_clear_an_error_of_another_cause(self):
        alice, bob, adir, bdir = self.pair_on_tmpfs(8)
        wait_idle(self, bob, "team")
        big = os.urandom(BIG)
        write(os.path.join(adir, "big.bin"), big)
        rescan(self, alice, "team")
        procutil.wait_for(lambda: folder(self, bob, "team")["disk_full"], 60, interval=0.2,
                          what="bob's folder in error: disk full")
        # Then the folder marker goes (as if the disk were unmounted): that error shows instead.
        marker = os.path.join(bdir, ".stfolder")
        os.rmdir(marker)
        rescan(self, bob, "team")

        def marker_error():
            f = folder(self, bob, "team")
            return f if f["state"] == "error" and ".stfolder" in f["error"] else None
        f = procutil.wait_for(marker_error, 30, interval=0.2, what="the missing marker's error")
        self.assertFalse(f["disk_full"])
        # Room again, and a check of the free space (every 10 s) later: the marker's error stays and
        # nothing is pulled into a folder that may not be mounted.
        subprocess.run(["mount", "-o", "remount,size=64m", bdir], check=True)
        time.sleep(11)
        f = folder(self, bob, "team")
        self.assertEqual(f["state"], "error", f)
        self.assertIn(".stfolder", f["error"])
        self.assertFalse(os.path.exists(os.path.join(bdir, "big.bin")))
        # Fixed: the next scan clears it and the folder pulls.
        os.mkdir(marker)
        rescan(self, bob, "team")
        wait_content(os.path.join(bdir, "big.bin"), big, timeout=60)
        self.assertEqual(wait_idle(self, bob, "team")["error"], "")


if __name__ == "__main__":
    unittest.main()
