"""Integration-test helpers for driving real `kith` processes through the CLI and the API.

Everything here is stdlib only and keeps all traffic on loopback: every kith process gets
SAFE_SETTINGS (listen on 127.0.0.1, DHT/LSD/UPnP/NAT-PMP off) and a fresh home.

Environment:
  KITH_BIN           path to the kith binary (default build/src/cli/kith under the repo root)
  KITH_BIN_REQUIRED  1 (ctest sets it): a missing or wrong KITH_BIN fails every kith test instead of
                     skipping it, so a misconfigured run cannot pass with nothing tested
  KITH_KEEP_TMP      if set to 1, temporary homes and data are kept for post-mortems
  KITH_SANITIZER_LOGS  set by the tsan/asan test presets: see tests/sanitizers/README.md
"""
import hashlib
import json
import os
import queue
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KITH_BIN = os.environ.get("KITH_BIN") or os.path.join(REPO_ROOT, "build", "src", "cli", "kith")
KEEP_TMP = os.environ.get("KITH_KEEP_TMP") == "1"
KITH_BIN_REQUIRED = os.environ.get("KITH_BIN_REQUIRED") == "1"
# With a sanitizer build (the tsan/asan test presets set this), each node's kith processes write their
# reports under this folder, and a test whose nodes reported anything fails (KithTestCase).
SANITIZER_LOGS = os.environ.get("KITH_SANITIZER_LOGS")
_SANITIZER_OPTION_VARS = ("TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS")

# Passed to every kith invocation: nothing may leave loopback.
SAFE_SETTINGS = {
    "bt.listen": "127.0.0.1:0",
    "bt.ssl_listen": "127.0.0.1:0",
    "api.listen": "127.0.0.1:0",
    # Daemons run contact channels and LAN beacons: keep the listener on loopback (and off the fixed
    # port 6882, which a second daemon or another test run would collide with), no multicast.
    "channel.listen": "127.0.0.1:0",
    "lan.discovery": "false",
    "dht.enabled": "false",
    "lsd.enabled": "false",
    "nat.upnp": "false",
    "nat.natpmp": "false",
    "channel.listen": "127.0.0.1:0",
    "sync.listen": "127.0.0.1:0",  # folder sync: loopback, and off Syncthing's port 22000
    "lan.discovery": "false",  # multicast would leave loopback; netlab tests turn it on in namespaces
    "sync.local_discovery": "false",  # Syncthing's LAN announces too (broadcast, ff12::8384)
}

# Every node scans what it downloads (ClamAV) and quarantines everything when it has no
# signatures, so tests give each node a small database built by tests/clamav/make_test_db.sh
# (EICAR by MD5, SHA-256 and body), and leave out the system database for repeatable runs.
_SIGNATURE_DB = None


def signature_db():
    """Folder with the test ClamAV database, built once per test process."""
    global _SIGNATURE_DB
    if _SIGNATURE_DB is None:
        out = tmpdir("kith-sigdb-")
        subprocess.run([os.path.join(REPO_ROOT, "tests", "clamav", "make_test_db.sh"), out],
                       check=True, stdout=subprocess.DEVNULL)
        _SIGNATURE_DB = out
    return _SIGNATURE_DB


def signature_settings():
    return {"safety.system_signatures": "false", "safety.signatures": signature_db()}


def eicar_bytes():
    """The EICAR anti-virus test file (harmless; every scanner detects it), built from two halves
    so that this source file is not itself a detection."""
    return b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-" + b"STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


MiB = 1 << 20
_BLOCK = 16 * 1024  # BitTorrent block size; each one gets a unique stamp (see make_tree)


_KITH_PROBLEM = []  # [None or the reason], filled by kith_problem()


def kith_problem():
    """None when KITH_BIN is a working kith binary, else why not (checked once per process:
    it must exist, be executable and answer `--help` with its "kith: ..." banner)."""
    if not _KITH_PROBLEM:
        _KITH_PROBLEM.append(_probe_kith())
    return _KITH_PROBLEM[0]


def _probe_kith():
    if not os.path.isfile(KITH_BIN):
        return "kith binary not found at %s (set KITH_BIN)" % KITH_BIN
    if not os.access(KITH_BIN, os.X_OK):
        return "%s is not executable" % KITH_BIN
    try:
        cp = subprocess.run([KITH_BIN, "--help"], capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "%s --help failed: %s" % (KITH_BIN, e)
    if cp.returncode != 0 or not cp.stdout.startswith("kith: "):
        return "%s is not a kith binary: `--help` exited %d and printed %r" % (
            KITH_BIN, cp.returncode, (cp.stdout + cp.stderr)[:200])
    return None


def require_kith(testcase):
    """Skip (by hand) or fail (under ctest, KITH_BIN_REQUIRED=1) when there is no working kith."""
    problem = kith_problem()
    if problem is None:
        return
    if KITH_BIN_REQUIRED:
        testcase.fail(problem + " -- ctest sets KITH_BIN to the build's binary; a skip here would hide that "
                      "nothing was tested")
    testcase.skipTest(problem)


def free_port():
    """A TCP port free on 127.0.0.1 right now (racy by nature; use only where a client
    cannot be told to pick port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tmpdir(prefix="kith-test-"):
    """A fresh temp dir, removed by rmtree() or, failing that, when the process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    if not KEEP_TMP:
        procutil.register_tmp(path)
    return path


def rmtree(path):
    if not KEEP_TMP:
        shutil.rmtree(path, ignore_errors=True)
        procutil.unregister_tmp(path)


# ---------------------------------------------------------------------------------------
# Sample data


def _file_seed(relpath, seed):
    return int.from_bytes(hashlib.sha256(("%s\0%s" % (seed, relpath)).encode()).digest()[:8], "big")


def write_sample_file(path, size, seed=0):
    """Write `size` deterministic pseudo-random bytes to path, fast.

    One random 1 MiB block per file is repeated, but the first 16 bytes of every 16 KiB
    block are overwritten with (file seed, absolute offset). So every block in the file is
    unique: a client that writes a block at the wrong offset cannot pass the hash check by
    luck, whatever the piece size."""
    fseed = _file_seed(os.path.basename(path), seed) if isinstance(seed, int) else seed
    base = random.Random(fseed).randbytes(MiB)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        offset = 0
        while offset < size:
            chunk = bytearray(base)
            for k in range(0, MiB, _BLOCK):
                chunk[k:k + 16] = struct.pack(">QQ", fseed & (2**64 - 1), offset + k)
            n = min(MiB, size - offset)
            f.write(memoryview(chunk)[:n])
            offset += n


def make_tree(root, spec, seed=0):
    """Create sample files under root. spec maps relative path -> size in bytes, e.g.
    {"a.bin": 3*MiB, "sub/b.txt": 1000, "empty": 0}. Returns root."""
    for rel, size in spec.items():
        path = os.path.join(root, *rel.split("/"))
        write_sample_file(path, int(size), _file_seed(rel, seed))
    return root


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(4 * MiB)
            if not b:
                return h.hexdigest()
            h.update(b)


def sha256_tree(root):
    """{relative path with '/': sha256 hex} for every regular file under root (or root
    itself if it is a file, keyed by its basename)."""
    if os.path.isfile(root):
        return {os.path.basename(root): sha256_file(root)}
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            if os.path.isfile(p) and not os.path.islink(p):
                out[os.path.relpath(p, root).replace(os.sep, "/")] = sha256_file(p)
    return out


# ---------------------------------------------------------------------------------------
# Processes


class LineReader:
    """Collects a child's stdout lines on a thread so tests can wait for the next line
    with a timeout (pipes have no timeout of their own)."""

    def __init__(self, proc, echo_to=None):
        self.proc = proc
        self.lines = queue.Queue()
        self.all = []
        self._echo = echo_to
        self._t = threading.Thread(target=self._pump, daemon=True)
        self._t.start()

    def _pump(self):
        for line in self.proc.stdout:
            self.all.append(line)
            if self._echo:
                self._echo.write(line)
                self._echo.flush()
            self.lines.put(line)
        self.lines.put(None)  # EOF

    def next_line(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("no output line within %.0fs" % timeout) from None
        if line is None:
            raise EOFError("process closed stdout (exit code %s)" % self.proc.poll())
        return line.rstrip("\n")

    def next_json(self, timeout, event=None):
        """Next stdout line that parses as a JSON object (and has this event, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.1, deadline - time.monotonic()))
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and (event is None or obj.get("event") == event):
                return obj


class KithNode:
    """One kith home with its processes. Every process started here is stopped by close()."""

    def __init__(self, name="node", settings=None):
        self.root = tmpdir("kith-%s-" % name)
        self.home = os.path.join(self.root, "home")
        self.logs = os.path.join(self.root, "logs")
        os.makedirs(self.home)
        os.makedirs(self.logs)
        self.settings = dict(SAFE_SETTINGS)
        self.settings.update(signature_settings())
        self.settings.update(settings or {})
        self.daemon = None
        self.token = None
        self.info = None  # parsed daemon.json
        self.sanitizer_dir = None
        if SANITIZER_LOGS:
            os.makedirs(SANITIZER_LOGS, exist_ok=True)
            self.sanitizer_dir = tempfile.mkdtemp(prefix=os.path.basename(self.root) + "-", dir=SANITIZER_LOGS)
        self._procs = []
        self._log_seq = 0

    # -- command lines ---------------------------------------------------------------

    def argv(self, *args):
        out = [KITH_BIN, "--home", self.home]
        for k, v in self.settings.items():
            out += ["--set", "%s=%s" % (k, v)]
        return out + [str(a) for a in args]

    def env(self):
        # Keep kith away from the real user's dirs even if it ignores --home somewhere.
        env = dict(os.environ)
        env.pop("KITH_HOME", None)
        env.update(HOME=self.root, XDG_DATA_HOME=os.path.join(self.root, "xdg-data"),
                   XDG_CONFIG_HOME=os.path.join(self.root, "xdg-config"),
                   XDG_CACHE_HOME=os.path.join(self.root, "xdg-cache"))
        if self.sanitizer_dir:
            # log_path=PREFIX: each process writes PREFIX.<pid> only if it has something to report.
            for var in _SANITIZER_OPTION_VARS:
                env[var] = (env.get(var, "") + " log_path=" + os.path.join(self.sanitizer_dir, "report")).strip()
        return env

    def sanitizer_reports(self):
        """{file name: text} of the sanitizer reports this node's processes wrote (empty without any)."""
        if not self.sanitizer_dir or not os.path.isdir(self.sanitizer_dir):
            return {}
        out = {}
        for name in sorted(os.listdir(self.sanitizer_dir)):
            if name.startswith("report."):
                with open(os.path.join(self.sanitizer_dir, name), errors="replace") as f:
                    out[name] = f.read()
        return out

    def run(self, *args, check=True, timeout=120, input=None):
        """Run one CLI command to completion; returns CompletedProcess with text output.
        With check=True a non-zero exit raises AssertionError carrying stderr."""
        try:
            cp = procutil.run(self.argv(*args), env=self.env(), timeout=timeout,
                              input=input.encode() if isinstance(input, str) else input)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("kith %s timed out after %ss\nstdout: %s\nstderr: %s" % (
                " ".join(map(str, args)), timeout, _txt(e.output), _txt(e.stderr))) from None
        cp = subprocess.CompletedProcess(cp.args, cp.returncode, _txt(cp.stdout), _txt(cp.stderr))
        if check and cp.returncode != 0:
            raise AssertionError("kith %s exited %d\nstdout: %s\nstderr: %s" % (
                " ".join(map(str, args)), cp.returncode, cp.stdout, cp.stderr))
        return cp

    def run_json(self, *args, timeout=120):
        """Run a command that prints one JSON document (add --json yourself) and parse it."""
        cp = self.run(*args, timeout=timeout)
        return json.loads(cp.stdout)

    def spawn(self, *args, log_name=None):
        """Start a long-running command (transient share, get with progress...).
        stdout is read line by line through .reader; stderr goes to a log file."""
        self._log_seq += 1
        log = os.path.join(self.logs, log_name or "%02d-%s.stderr" % (self._log_seq, args[0]))
        err = open(log, "w")
        proc = procutil.spawn(self.argv(*args), env=self.env(), stdout=subprocess.PIPE,
                              stderr=err, text=True)
        err.close()
        proc.reader = LineReader(proc)
        proc.log_path = log
        self._procs.append(proc)
        return proc

    # -- daemon ----------------------------------------------------------------------

    def start_daemon(self, timeout=30, *daemon_args):
        """Start `kith daemon` and wait until it wrote daemon.json for this very process
        (a stale file from an earlier, killed daemon has another pid)."""
        self.spawn_daemon(*daemon_args)
        return self.wait_daemon(timeout)

    def spawn_daemon(self, *daemon_args):
        """Start `kith daemon` without waiting for it (see wait_daemon)."""
        self._log_seq += 1
        log = os.path.join(self.logs, "%02d-daemon.log" % self._log_seq)
        out = open(log, "w")
        self.daemon = procutil.spawn(self.argv("daemon", *daemon_args), env=self.env(), stdout=out,
                                     stderr=subprocess.STDOUT)
        out.close()
        self.daemon.log_path = log
        self._procs.append(self.daemon)
        return self.daemon

    def wait_daemon(self, timeout=30):
        """Wait until the daemon of spawn_daemon() wrote daemon.json; fails if it exited first."""
        log = self.daemon.log_path
        path = os.path.join(self.home, "daemon.json")

        def ready():
            if self.daemon.poll() is not None:
                raise AssertionError("kith daemon exited %s before it was ready\n%s" % (
                    self.daemon.returncode, self.tail(log)))
            try:
                with open(path) as f:
                    info = json.load(f)
            except (OSError, ValueError):
                return None  # not written yet, or caught mid-write
            return info if info.get("pid") == self.daemon.pid else None

        self.info = procutil.wait_for(ready, timeout, what="daemon.json")
        with open(os.path.join(self.home, "api.token")) as f:
            self.token = f.read().strip()
        return self.info

    @property
    def bt_port(self):
        return self.info["bt_port"]

    @property
    def api_addr(self):
        return self.info["api"]

    def api(self, method, path, body=None, timeout=30, token=True):
        """Call the daemon's HTTP API. Returns (status, parsed JSON or text or None).
        Never raises on HTTP error statuses, so tests can assert on them."""
        data = None
        headers = {}
        if token:
            headers["Authorization"] = "Bearer " + (self.token or "")
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request("http://%s%s" % (self.api_addr, path), data=data,
                                     headers=headers, method=method)
        try:
            with _NO_PROXY.open(req, timeout=timeout) as resp:
                return resp.status, _parse_body(resp.read(), resp.headers)
        except urllib.error.HTTPError as e:
            return e.code, _parse_body(e.read(), e.headers)

    def follow_job(self, job, timeout=120):
        """Follows a hashing job (the 202 answer of a share or a file sent to a contact) until it is a
        transfer; returns that transfer. Raises AssertionError when it ends in an error."""
        if job.get("state") != "hashing":
            raise AssertionError("not a hashing job: %r" % (job,))
        found = {}

        def hashed():
            st, t = self.api("GET", "/api/v1/transfers/" + job["id"])
            if st != 200:
                raise AssertionError("GET /api/v1/transfers/%s answered %s: %r" % (job["id"], st, t))
            found["t"] = t
            return t.get("state") != "hashing"
        procutil.wait_for(hashed, timeout, what="hashing of " + job.get("name", "?"))
        return found["t"]

    def api_share(self, body, timeout=120):
        """POST /api/v1/shares and follow the hashing job until it is a transfer. Returns the transfer
        with its .torrent (base64) as "torrent". Raises AssertionError on any refusal."""
        st, job = self.api("POST", "/api/v1/shares", body)
        if st != 202:
            raise AssertionError("POST /api/v1/shares answered %s: %r" % (st, job))
        t = self.follow_job(job, timeout)
        st, torrent = self.api("GET", "/api/v1/transfers/%s/torrent" % t["id"])
        if st != 200:
            raise AssertionError("GET torrent answered %s: %r" % (st, torrent))
        t["torrent"] = torrent["torrent"]
        return t

    def stop(self, timeout=20):
        """SIGTERM the daemon, wait; returns its exit code (SIGKILL after timeout)."""
        if not self.daemon:
            return None
        rc = procutil.terminate(self.daemon, grace=timeout)
        return rc

    def kill9(self):
        if self.daemon:
            os.kill(self.daemon.pid, signal.SIGKILL)
            self.daemon.wait(timeout=10)
            procutil.terminate(self.daemon, grace=0)  # reap the group, forget it

    def close(self):
        """Stop everything this node started and remove its files (unless KITH_KEEP_TMP)."""
        for p in self._procs:
            procutil.terminate(p, grace=10)
        self._procs.clear()
        rmtree(self.root)

    def tail(self, path=None, n=40):
        path = path or (self.daemon.log_path if self.daemon else None)
        if not path:
            return ""
        try:
            with open(path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


# urllib must not go through a proxy from the environment: the API is on loopback.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _txt(b):
    if b is None:
        return ""
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


def _parse_body(raw, headers):
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    if "json" in (headers.get("Content-Type") or ""):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


class KithTestCase(unittest.TestCase):
    """Base class: skips when the kith binary is missing (fails under ctest: require_kith);
    makes temp dirs and nodes that are cleaned up even when the test fails."""

    requires_kith = True
    log_tail_lines = 40  # of each daemon's log, printed when a test fails

    def setUp(self):
        if self.requires_kith:
            require_kith(self)

    def tmpdir(self, prefix="kith-data-"):
        d = tmpdir(prefix)
        self.addCleanup(rmtree, d)
        return d

    def node(self, name="node", settings=None):
        n = KithNode(name, settings)
        self.addCleanup(self._close_node, n)
        return n

    def failed(self):
        """True while cleanups run after a failed or errored test (unittest internals,
        stable since 3.4; used only to decide whether to print logs)."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if not getattr(outcome, "success", True):
            return True
        # Python 3.11 records the error in the result but leaves outcome.success True.
        result = getattr(outcome, "result", None)
        reported = list(getattr(result, "errors", [])) + list(getattr(result, "failures", []))
        return any(test is self for test, _ in reported)

    def _close_node(self, node):
        # On failure, show the daemon log: it is usually the only clue.
        if self.failed() and node.daemon is not None:
            sys.stderr.write("\n--- %s daemon log (tail) ---\n%s\n" % (node.home, node.tail(n=self.log_tail_lines)))
        node.close()  # every process has exited: their sanitizer reports are complete
        reports = node.sanitizer_reports()
        if not reports:
            if node.sanitizer_dir:
                shutil.rmtree(node.sanitizer_dir, ignore_errors=True)
            return
        with open(os.path.join(node.sanitizer_dir, "test.txt"), "w") as f:
            f.write(self.id() + "\n")
        summary = []
        for name, text in reports.items():
            lines = [ln for ln in text.splitlines() if "SUMMARY:" in ln or ln.startswith(("WARNING:", "ERROR:"))]
            summary.append("%s: %s" % (name, "; ".join(lines[:6]) or text[:300]))
        raise AssertionError("sanitizer reports from kith processes (kept in %s):\n%s" % (
            node.sanitizer_dir, "\n".join(summary)))

    def client(self, cls, *args, **kwargs):
        """Start an interop client (interop.Aria2, ...) closed after the test; its log
        tail is printed if the test failed."""
        c = cls(*args, **kwargs)

        def close():
            if self.failed():
                sys.stderr.write("\n--- %s log (tail) ---\n%s\n" % (cls.__name__, c.tail()))
            c.close()
        self.addCleanup(close)
        return c

    def assertTreesEqual(self, expected_root, actual_root):
        exp, act = sha256_tree(expected_root), sha256_tree(actual_root)
        self.assertEqual(sorted(exp), sorted(act), "file lists differ")
        for rel in exp:
            self.assertEqual(exp[rel], act[rel], "content differs: %s" % rel)
