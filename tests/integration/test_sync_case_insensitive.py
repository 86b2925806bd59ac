"""A synced folder on a file system that does not tell upper from lower case (exFAT, as on USB sticks
and SD cards; docs/sync.md § Case-insensitive file systems). There "Report.txt" and "report.txt" are
one file: pulling both would put one over the other, the next scan would find one of them gone, and
that deletion would reach the other devices. kith notices such a file system, refuses the second name
as a case conflict (listed in the folder's pull errors, saying what to do), and never loses data on
either side. The receiver's folder is an exFAT image mounted through FUSE (needs root and /dev/fuse,
as CI has; skipped where it cannot be mounted)."""
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KithTestCase, signature_settings  # noqa: E402
from sync_util import folder, rescan, sync_pair, wait_content, wait_idle  # noqa: E402


def mount_exfat(case, path, size_mib=64):
    """Mounts a new exFAT file system on `path`, or skips the test."""
    if os.geteuid() != 0 or not shutil.which("mkfs.exfat") or not shutil.which("mount.exfat-fuse"):
        case.skipTest("needs root, mkfs.exfat and mount.exfat-fuse (exfatprogs, exfat-fuse)")
    image = os.path.join(case.tmpdir("exfat-image-"), "fs.img")
    with open(image, "wb") as f:
        f.truncate(size_mib << 20)
    if subprocess.run(["mkfs.exfat", image], capture_output=True).returncode != 0:
        case.skipTest("mkfs.exfat failed")
    loop = subprocess.run(["losetup", "-f", "--show", image], capture_output=True, text=True)
    if loop.returncode != 0:
        case.skipTest("no loop device: " + loop.stderr.strip())
    device = loop.stdout.strip()
    case.addCleanup(subprocess.run, ["losetup", "-d", device], capture_output=True)
    mounted = subprocess.run(["mount.exfat-fuse", device, path], capture_output=True, text=True)
    if mounted.returncode != 0:
        case.skipTest("cannot mount exFAT through FUSE: " + (mounted.stderr or mounted.stdout).strip())
    case.addCleanup(subprocess.run, ["umount", "-l", path], capture_output=True)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class SyncCaseInsensitiveTest(KithTestCase):
    def pair_on_exfat(self):
        bdir = self.tmpdir("bob-team-")
        mount_exfat(self, bdir)
        return sync_pair(self, bob_dir=bdir, **signature_settings())

    def settle(self, alice, bob):
        """Both sides rescan and finish a round, twice: any echo of a wrong deletion would be sent."""
        for _ in range(2):
            rescan(self, bob, "team")
            rescan(self, alice, "team")
            time.sleep(1)
            self.wait_round(bob)
            self.wait_round(alice)

    def wait_round(self, node):
        def settled():
            f = folder(self, node, "team")
            return f if f["state"] == "idle" else None
        return procutil.wait_for(settled, 60, interval=0.2, what="folder idle")

    def test_two_names_differing_only_in_case(self):
        alice, bob, adir, bdir = self.pair_on_exfat()
        upper, lower = b"upper case " * 100, b"lower case " * 90
        write(os.path.join(adir, "Report.txt"), upper)
        write(os.path.join(adir, "report.txt"), lower)
        write(os.path.join(adir, "other.txt"), b"other")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "other.txt"), b"other")

        def conflict_listed():
            f = folder(self, bob, "team")
            errs = [e for e in f.get("pull_errors", []) if "case" in e["error"]]
            return (f, errs) if errs else None
        view, errs = procutil.wait_for(conflict_listed, 60, interval=0.2,
                                       what="a case conflict in bob's pull errors")
        self.assertEqual(1, len(errs), errs)
        self.assertIn(errs[0]["name"], ("Report.txt", "report.txt"))
        self.assertIn("rename", errs[0]["error"])  # says what to do
        # Bob has exactly one of them, whole, under its own name.
        names = sorted(n for n in os.listdir(bdir) if n.lower() == "report.txt")
        self.assertEqual(1, len(names), names)
        self.assertEqual({"Report.txt": upper, "report.txt": lower}[names[0]],
                         read(os.path.join(bdir, names[0])))

        self.settle(alice, bob)
        # Nothing was lost or changed on alice's side by bob's echo.
        self.assertEqual(upper, read(os.path.join(adir, "Report.txt")))
        self.assertEqual(lower, read(os.path.join(adir, "report.txt")))
        self.assertTrue(folder(self, bob, "team")["case_insensitive"])

    def test_a_case_only_rename_keeps_the_file(self):
        alice, bob, adir, bdir = self.pair_on_exfat()
        data = os.urandom(300 * 1024)
        write(os.path.join(adir, "notes.txt"), data)
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "notes.txt"), data)
        wait_idle(self, bob, "team")

        os.rename(os.path.join(adir, "notes.txt"), os.path.join(adir, "Notes.txt"))
        rescan(self, alice, "team")

        def renamed():
            return "Notes.txt" in os.listdir(bdir) and "notes.txt" not in os.listdir(bdir)
        procutil.wait_for(renamed, 60, interval=0.2, what="bob's copy renamed to Notes.txt")
        self.settle(alice, bob)
        self.assertEqual(data, read(os.path.join(bdir, "Notes.txt")))
        self.assertEqual(["Notes.txt"], [n for n in os.listdir(adir) if n.lower() == "notes.txt"])
        self.assertEqual(data, read(os.path.join(adir, "Notes.txt")))
        self.assertEqual([], folder(self, bob, "team").get("pull_errors", []))

    def test_a_case_sensitive_folder_is_not_flagged(self):
        alice, bob, adir, bdir = sync_pair(self, **signature_settings())
        write(os.path.join(adir, "A.txt"), b"A")
        write(os.path.join(adir, "a.txt"), b"a")
        rescan(self, alice, "team")
        wait_content(os.path.join(bdir, "A.txt"), b"A")
        wait_content(os.path.join(bdir, "a.txt"), b"a")
        f = wait_idle(self, bob, "team")
        self.assertFalse(f["case_insensitive"])
        self.assertEqual([], f["pull_errors"])


if __name__ == "__main__":
    unittest.main()
