"""Resource accounting for one downloader run (stdlib only).

Two ways, depending on who owns the downloader:
  * a child we started and that exits when done (kith get, aria2c): os.wait4() returns
    its rusage, which covers it and every descendant it waited for — exact CPU time and
    the peak RSS of the largest process in that tree;
  * a long-lived process (qBittorrent): sample /proc/PID/stat (utime+stime) before and
    after, and VmHWM from /proc/PID/status (peak RSS since start; a fresh qBittorrent is
    started for each run so the peak belongs to this run).
"""
import os
import threading
import time

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def wait_child(proc, timeout):
    """Wait for a Popen child with wait4(); returns (exit code, cpu seconds, peak RSS
    bytes, wall seconds since proc.started_at). Kills the group on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.monotonic() > deadline:
            import procutil
            procutil.terminate(proc, grace=2)
            raise TimeoutError("downloader did not finish in %ss" % timeout)
        time.sleep(0.02)
    wall = time.monotonic() - proc.started_at
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    return proc.returncode, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, wall


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[11], [12] are utime, stime (stat fields 14, 15) in clock ticks.
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def proc_mem_bytes(pid):
    """(VmHWM, RssAnon) of pid in bytes. VmHWM is the peak resident set including file
    pages; libtorrent 2.0 memory-maps the torrent's files, so its VmHWM grows with the
    data moved. RssAnon (heap, stacks) is the memory the process itself allocated."""
    hwm = anon = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1]) * 1024
    return hwm, anon


class TreeSampler:
    """Samples CPU (sum over the tree), VmHWM and RssAnon (max over the tree's processes)
    of a process and its descendants every `interval` seconds, on a thread."""

    def __init__(self, root_pid, interval=0.2):
        import procutil
        self._tree = lambda: procutil.tree_pids(root_pid)
        self._cpu0 = self._cpu()
        self.peak = 0
        self.peak_anon = 0
        self._stop = threading.Event()
        self._interval = interval
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _cpu(self):
        total = 0.0
        for pid in self._tree():
            try:
                total += proc_cpu_seconds(pid)
            except OSError:
                pass
        return total

    def _sample(self):
        for pid in self._tree():
            try:
                hwm, anon = proc_mem_bytes(pid)
            except OSError:
                continue
            self.peak = max(self.peak, hwm)
            self.peak_anon = max(self.peak_anon, anon)

    def _run(self):
        while not self._stop.wait(self._interval):
            self._sample()

    def stop(self):
        """Returns (cpu seconds since start, peak VmHWM bytes, peak RssAnon bytes). For a
        child that already exited only the sampled peaks are meaningful."""
        self._stop.set()
        self._t.join()
        self._sample()
        return self._cpu() - self._cpu0, self.peak, self.peak_anon
