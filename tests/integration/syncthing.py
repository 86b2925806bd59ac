"""Driver for Debian's Syncthing 1.19 (`/usr/bin/syncthing`), the BEP anchor for folder sync.

Each `Syncthing` runs in its own temp home, configured before its first start so that nothing leaves
127.0.0.1 (see OFFLINE_OPTIONS), and is driven only through its REST API (X-API-Key, urllib, no proxy):

    with Syncthing("a") as a, Syncthing("b") as b:
        a.add_device(b.device_id, [b.listen_address], name="b")
        b.add_device(a.device_id, [a.listen_address], name="a")
        a.add_folder("f", src_dir, devices=[b.device_id])
        b.add_folder("f", dst_dir, devices=[a.device_id])
        b.wait_file(os.path.join(dst_dir, "x"), b"hello", timeout=60)

Process shape: `syncthing serve --no-restart` is a monitor process that runs Syncthing proper as its
child (same binary, env STMONITORED=yes); both are in one process group (procutil), so `kill()` and
the test teardown end both, and `cpu_seconds()` counts both.

Not a test module: `python3 tests/integration/syncthing.py` runs a smoke check (two instances sync a
file over loopback). Settings and quirks found on 1.19.2: tests/integration/README.md § Syncthing.
"""
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procutil  # noqa: E402
from kithtest import KEEP_TMP, free_port, rmtree, tmpdir  # noqa: E402

BINARY = os.environ.get("SYNCTHING_BIN") or shutil.which("syncthing") or "/usr/bin/syncthing"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # REST is on loopback
_CLK_TCK = os.sysconf("SC_CLK_TCK")

# <options> written into config.xml before the first start. Together with a BEP listener on
# tcp://127.0.0.1:PORT only (no QUIC listener, so no STUN either) these keep Syncthing 1.19 off the
# Internet: no global discovery (announce or lookup), no LAN broadcast/multicast beacons, no relays,
# no UPnP/NAT-PMP and no STUN (natEnabled=false also disables STUN: IsStunDisabled()), no usage
# report (-1 = refused, so no prompt either), no crash report upload (the monitor checks this before
# each start), no upgrade check (autoUpgradeIntervalH=0; Debian's build also has upgrades compiled
# out, and STNOUPGRADE is set). The URLs are pointed at a closed loopback port as a second fence.
OFFLINE_OPTIONS = {
    "globalAnnounceEnabled": "false",
    "localAnnounceEnabled": "false",
    "relaysEnabled": "false",
    "natEnabled": "false",
    "urAccepted": "-1",
    "urSeen": "3",
    "autoUpgradeIntervalH": "0",
    "crashReportingEnabled": "false",
    "startBrowser": "false",
    "announceLANAddresses": "false",
    "urURL": "http://127.0.0.1:9/",
    "crashReportingURL": "http://127.0.0.1:9/",
    "releasesURL": "http://127.0.0.1:9/",
}
# Not about the network: Syncthing proper otherwise renices itself to 9 (and lowers its I/O
# priority), and to do that it moves into a process group of its own (lib/osutil/lowprio_linux.go),
# out of the monitor's, where procutil's group kill would no longer reach it. Off, it stays in the
# group and runs at the same priority as kith in benchmarks.
PROCESS_OPTIONS = {"setLowPriority": "false"}

# Repeated elements replaced as a whole (an absent list would mean "default", the public servers):
# discovery and STUN servers on a closed loopback port, never used with the switches above.
OFFLINE_LISTS = {"globalAnnounceServer": ["https://127.0.0.1:9/"], "stunServer": ["127.0.0.1:9"]}

LOG_FLAGS = 6  # time with microseconds: lines can be lined up with a test's own clock


class SyncthingError(RuntimeError):
    pass


class Syncthing:
    """One Syncthing instance on 127.0.0.1 in a temp home (removed by close() unless KITH_KEEP_TMP=1).

    name           device name (also the temp dir prefix)
    root           parent dir for the home (default: a fresh kithtest.tmpdir)
    local_discovery  True to let it send and listen for LAN beacons (off by default)
    options        extra <options> for config.xml, {"name": "value"}
    env            extra environment, e.g. {"STTRACE": "model,protocol"}
    start          False to only generate and configure; call start() later
    """

    def __init__(self, name="st", root=None, local_discovery=False, options=None, env=None,
                 start=True, start_timeout=30):
        if not os.path.exists(BINARY):
            raise FileNotFoundError("syncthing is not installed (%s)" % BINARY)
        self.name = name
        self._own_root = root is None
        self.root = root or tmpdir("syncthing-%s-" % name)
        os.makedirs(self.root, exist_ok=True)
        self.home = os.path.join(self.root, "home")
        self.log_path = os.path.join(self.root, "syncthing.log")
        self.proc = None
        self.api_key = secrets.token_hex(16)
        self.gui_port = free_port()
        self.bep_port = free_port()
        self._extra_env = dict(env or {})
        self._folders = {}  # folder id -> path, for wait_file's relative paths
        self.device_id = self._generate()
        self._local_discovery, self._options = local_discovery, dict(options or {})
        self._configure(local_discovery, self._options)
        if start:
            self.start(start_timeout)

    # -- properties ------------------------------------------------------------------------------

    @property
    def listen_address(self):
        """The BEP listener as "127.0.0.1:PORT" (a device address is "tcp://" + this)."""
        return "127.0.0.1:%d" % self.bep_port

    @property
    def api(self):
        """Base URL of the REST API (and GUI): "http://127.0.0.1:PORT"."""
        return "http://127.0.0.1:%d" % self.gui_port

    # -- set-up -----------------------------------------------------------------------------------

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(HOME=self.root, XDG_CONFIG_HOME=os.path.join(self.root, "xdg-config"),
                   XDG_DATA_HOME=os.path.join(self.root, "xdg-data"),
                   XDG_CACHE_HOME=os.path.join(self.root, "xdg-cache"),
                   STNODEFAULTFOLDER="1", STNOUPGRADE="1", STNORESTART="1")
        env.pop("STMONITORED", None)
        env.update(self._extra_env)
        return env

    def _generate(self):
        cp = procutil.run([BINARY, "generate", "--home=" + self.home, "--no-default-folder",
                           "--skip-port-probing"], env=self.env(), timeout=60)
        out = (cp.stdout + cp.stderr).decode("utf-8", "replace")
        m = re.search(r"Device ID:\s*([A-Z0-9-]{63})", out)
        if cp.returncode != 0 or not m:
            raise SyncthingError("syncthing generate failed (exit %s):\n%s" % (cp.returncode, out))
        return m.group(1)

    def _configure(self, local_discovery, extra):
        path = os.path.join(self.home, "config.xml")
        tree = ET.parse(path)
        cfg = tree.getroot()
        gui = cfg.find("gui")
        gui.set("tls", "false")
        gui.find("address").text = "127.0.0.1:%d" % self.gui_port
        gui.find("apikey").text = self.api_key
        me = next(d for d in cfg.findall("device") if d.get("id") == self.device_id)
        me.set("name", self.name)
        opts = cfg.find("options")
        values = dict(OFFLINE_OPTIONS, **PROCESS_OPTIONS)
        values["localAnnounceEnabled"] = "true" if local_discovery else "false"
        values.update({k: str(v) for k, v in extra.items()})
        lists = dict(OFFLINE_LISTS, listenAddress=["tcp://127.0.0.1:%d" % self.bep_port])
        for tag, items in lists.items():
            for el in opts.findall(tag):
                opts.remove(el)
            for item in items:
                ET.SubElement(opts, tag).text = item
        for tag, value in values.items():
            el = opts.find(tag)
            if el is None:
                el = ET.SubElement(opts, tag)
            el.text = value
        tree.write(path)

    def start(self, timeout=30, attempts=3):
        """Start `syncthing serve` and wait until the REST API answers and the BEP listener is up.
        free_port() is racy: when a port was taken meanwhile ("address already in use"), new ports
        are picked and it starts again, up to `attempts` times."""
        for attempt in range(attempts):
            try:
                return self._start_once(timeout)
            except SyncthingError as e:
                if "address already in use" not in str(e) or attempt == attempts - 1:
                    raise
                self.gui_port, self.bep_port = free_port(), free_port()
                self._configure(self._local_discovery, self._options)

    def _start_once(self, timeout):
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.log_path, "ab")
        self.proc = procutil.spawn(
            [BINARY, "serve", "--home=" + self.home, "--no-browser", "--no-restart",
             "--logflags=%d" % LOG_FLAGS, "--logfile=-"],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        listener = "tcp://127.0.0.1:%d" % self.bep_port

        def up():
            if self.proc.poll() is not None:
                raise SyncthingError("syncthing %s exited with %s during start-up\n%s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            try:
                st = self.get("/rest/system/status", timeout=5)
            except (OSError, SyncthingError):
                return None
            status = (st.get("connectionServiceStatus") or {}).get(listener)
            if status and status.get("error"):
                raise SyncthingError("syncthing %s: BEP listener %s failed: %s\n%s" % (
                    self.name, listener, status["error"], self.log_tail()))
            return st if status else None
        try:
            st = procutil.wait_for(up, timeout, interval=0.1, what="syncthing %s REST API" % self.name)
        except TimeoutError as e:
            tail = self.log_tail()
            self.kill()
            raise SyncthingError("%s\n%s" % (e, tail)) from None
        if st["myID"] != self.device_id:
            raise SyncthingError("REST says device %s, generate said %s" % (st["myID"], self.device_id))

    # -- REST plumbing ---------------------------------------------------------------------------

    def request(self, method, path, body=None, params=None, timeout=30):
        """One REST call; returns the parsed JSON (or text, or None for an empty body). HTTP errors
        raise SyncthingError with the status and Syncthing's message."""
        url = self.api + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        data = None
        headers = {"X-API-Key": self.api_key}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                raw = resp.read()
                ctype = resp.headers.get("Content-Type") or ""
        except urllib.error.HTTPError as e:
            msg = e.read().decode("utf-8", "replace").strip()
            raise SyncthingError("%s %s -> HTTP %d: %s" % (method, path, e.code, msg)) from None
        if not raw:
            return None
        text = raw.decode("utf-8", "replace")
        if "json" in ctype:
            return json.loads(text)
        return text

    def get(self, path, params=None, timeout=30):
        return self.request("GET", path, params=params, timeout=timeout)

    def post(self, path, body=None, params=None, timeout=30):
        return self.request("POST", path, body=body, params=params, timeout=timeout)

    # -- devices and folders ------------------------------------------------------------------------

    def add_device(self, device_id, addresses=(), name="", **fields):
        """Add (or replace) a remote device. addresses: "127.0.0.1:PORT" or full URLs such as
        "tcp://127.0.0.1:PORT"; none means "dynamic" (discovery, which is off: it will never dial).
        fields: any other DeviceConfiguration JSON field (certName, compression, autoAcceptFolders,
        introducer, paused, ...). Returns the device's config as Syncthing stores it."""
        addrs = [a if "://" in a else "tcp://" + a for a in addresses] or ["dynamic"]
        body = dict(fields, deviceID=device_id, name=name, addresses=addrs)
        self.post("/rest/config/devices", body)
        return self.get("/rest/config/devices/%s" % device_id)

    def add_folder(self, folder_id, path, devices=(), type="sendreceive", rescan_interval_s=3600,
                   fs_watcher=True, fs_watcher_delay_s=10, versioning=None, label=None, **fields):
        """Add (or replace) a folder shared with `devices` (device IDs). The path is created if
        missing. versioning: None, or {"type": "simple"|"staggered"|..., "params": {...}}.
        fields: any other FolderConfiguration JSON field (order, ignorePerms, paused, copiers, ...).
        Returns the folder's config as Syncthing stores it."""
        os.makedirs(path, exist_ok=True)
        body = dict(fields, id=folder_id, label=label if label is not None else folder_id,
                    path=os.path.abspath(path), type=type,
                    devices=[{"deviceID": d} for d in devices],
                    rescanIntervalS=rescan_interval_s, fsWatcherEnabled=bool(fs_watcher),
                    fsWatcherDelayS=fs_watcher_delay_s)
        if versioning is not None:
            body["versioning"] = versioning
        self.post("/rest/config/folders", body)
        self._folders[folder_id] = os.path.abspath(path)
        return self.folder_config(folder_id)

    def folder_config(self, folder_id):
        return self.get("/rest/config/folders/%s" % urllib.parse.quote(folder_id, safe=""))

    def share_folder(self, folder_id, device_id):
        """Share an existing folder with one more device (PATCH of its device list)."""
        cfg = self.folder_config(folder_id)
        devices = cfg.get("devices") or []
        if not any(d["deviceID"] == device_id for d in devices):
            devices.append({"deviceID": device_id})
            self.request("PATCH", "/rest/config/folders/%s" % urllib.parse.quote(folder_id, safe=""),
                         {"devices": devices})
        return self.folder_config(folder_id)

    def pending_folders(self, device_id=None):
        """Folders other devices offered that are not configured here:
        {folder_id: {"offeredBy": {device_id: {"time", "label", "receiveEncrypted",
        "remoteEncrypted"}}}}. Accept one with add_folder(folder_id, path, devices=[device_id])."""
        params = {"device": device_id} if device_id else None
        return self.get("/rest/cluster/pending/folders", params) or {}

    def pending_devices(self):
        """Devices that connected but are not configured here: {device_id: {"time", "name",
        "address"}}."""
        return self.get("/rest/cluster/pending/devices") or {}

    # -- state -------------------------------------------------------------------------------------

    def status(self):
        """/rest/system/status (myID, connectionServiceStatus, uptime, ...)."""
        return self.get("/rest/system/status")

    def folder_status(self, folder_id):
        """/rest/db/status: state ("idle", "scanning", "syncing", "scan-waiting", "sync-waiting",
        "error", ...), globalFiles/Bytes, localFiles/Bytes, needFiles/Bytes/TotalItems, sequence,
        errors, pullErrors, ..."""
        return self.get("/rest/db/status", {"folder": folder_id})

    def completion(self, folder_id, device_id):
        """/rest/db/completion: how complete `device_id` is on the folder as this instance sees it
        (from the indexes it got): {"completion": 0-100, "needBytes", "needItems", "needDeletes",
        "globalBytes", "globalItems", "sequence"}."""
        return self.get("/rest/db/completion", {"folder": folder_id, "device": device_id})

    def file_info(self, folder_id, name):
        """/rest/db/file: {"global": FileInfo, "local": FileInfo, "availability": [...]}."""
        return self.get("/rest/db/file", {"folder": folder_id, "file": name})

    def folder_errors(self, folder_id):
        """/rest/folder/errors: the items the last pull failed on, [{"path", "error"}] (empty if
        none). 1.19 does not log them one by one, only "isn't making sync progress"."""
        return (self.get("/rest/folder/errors", {"folder": folder_id}) or {}).get("errors") or []

    def connections(self):
        """/rest/system/connections: {"total": {...}, "connections": {device_id: {"connected",
        "paused", "address", "type", "clientVersion", "inBytesTotal", "outBytesTotal", "crypto",
        ...}}} (every configured device is listed, connected or not)."""
        return self.get("/rest/system/connections")

    def connected(self, device_id):
        c = (self.connections().get("connections") or {}).get(device_id)
        return bool(c and c.get("connected"))

    def events(self, since=0, types=None, timeout=0, limit=None):
        """/rest/events: events with id > since, waiting up to `timeout` s for the first one.
        types: list of event type names ("ItemFinished", "StateChanged", ...); None = Syncthing's
        default mask. Note: a mask other than the default gets its own buffer, created by the first
        request with it, so events before that request are not in it."""
        params = {"since": since, "timeout": int(timeout)}
        if types:
            params["events"] = ",".join(types)
        if limit:
            params["limit"] = limit
        return self.get("/rest/events", params, timeout=timeout + 30) or []

    def rescan(self, folder_id, path=None, timeout=600):
        """POST /rest/db/scan: scan the folder (or one file or directory under it, relative path).
        In 1.19 the call returns only when the scan has finished (not when the data is sent)."""
        params = {"folder": folder_id}
        if path:
            params["sub"] = path
        self.post("/rest/db/scan", params=params, timeout=timeout)

    # -- waiting -----------------------------------------------------------------------------------

    def _alive(self):
        if self.proc is None or self.proc.poll() is not None:
            raise SyncthingError("syncthing %s is not running (exit %s)\n%s" % (
                self.name, None if self.proc is None else self.proc.returncode, self.log_tail()))

    def _wait(self, predicate, timeout, what, interval=0.1):
        def check():
            self._alive()
            return predicate()
        try:
            return procutil.wait_for(check, timeout, interval=interval, what=what)
        except TimeoutError as e:
            raise SyncthingError("%s (syncthing %s)\n%s" % (e, self.name, self.log_tail())) from None

    def wait_connected(self, device_id, timeout=30):
        """Wait until the device is connected; returns its /rest/system/connections entry."""
        def conn():
            c = (self.connections().get("connections") or {}).get(device_id)
            return c if c and c.get("connected") else None
        return self._wait(conn, timeout, "connection to %s" % device_id[:7])

    def wait_idle(self, folder_id, timeout=60):
        """Wait until the folder is idle with nothing left to pull; returns its /rest/db/status.
        Right after a change on disk the folder can still be idle (not scanned yet): wait for the
        data (wait_file) or the remote (wait_synced) when that is what matters."""
        def idle():
            st = self.folder_status(folder_id)
            if st.get("state") == "error":
                raise SyncthingError("folder %s in error: %s\n%s" % (folder_id, st.get("error"),
                                                                     self.log_tail()))
            return st if st.get("state") == "idle" and st.get("needTotalItems", 0) == 0 else None
        return self._wait(idle, timeout, "folder %s idle" % folder_id)

    def wait_synced(self, folder_id, device_id, timeout=60):
        """Wait until this instance sees `device_id` 100 % complete on the folder and needing
        nothing (from the remote's index updates); returns the completion."""
        def done():
            c = self.completion(folder_id, device_id)
            return c if c.get("completion") == 100 and c.get("needItems", 0) == 0 and \
                c.get("needDeletes", 0) == 0 else None
        return self._wait(done, timeout, "%s complete on %s" % (device_id[:7], folder_id))

    def wait_file(self, path, expect=None, timeout=60, folder_id=None):
        """Wait until the file at `path` (absolute, or relative to folder_id's path) exists with the
        expected content: bytes (exact content), a 64-hex str (sha256), or None (exists). Checks
        size first, so waiting on a large file is cheap until it is complete. Returns the path."""
        if folder_id is not None:
            path = os.path.join(self._folders[folder_id], path)
        size = len(expect) if isinstance(expect, (bytes, bytearray)) else None

        def there():
            try:
                st = os.stat(path)
            except OSError:
                return None
            if expect is None:
                return path
            if size is not None:
                if st.st_size != size:
                    return None
                with open(path, "rb") as f:
                    return path if f.read() == expect else None
            key = (st.st_size, st.st_mtime_ns, st.st_ino)
            if key == last[0]:
                return None  # unchanged since the last (failed) hash
            last[0] = key
            return path if sha256_file(path) == expect.lower() else None
        last = [None]
        return self._wait(there, timeout, "%s with the expected content" % path, interval=0.05)

    # -- process -----------------------------------------------------------------------------------

    def pids(self):
        """PIDs of the monitor and Syncthing proper (its child)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        return procutil.tree_pids(self.proc.pid)

    def cpu_seconds(self):
        """utime+stime (s) of the monitor and Syncthing proper, all threads, from /proc/PID/stat."""
        total = 0.0
        for pid in self.pids():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
            except OSError:
                pass
        return total

    def stop(self, timeout=30):
        """Graceful: POST /rest/system/shutdown, wait for exit (SIGTERM, then SIGKILL, after
        timeout). Returns the exit code (0 after a clean shutdown), None if it was not running."""
        if self.proc is None:
            return None
        pids = self.pids()
        if self.proc.poll() is None:
            try:
                self.post("/rest/system/shutdown", timeout=10)
                self.proc.wait(timeout=timeout)
            except (OSError, SyncthingError, subprocess.TimeoutExpired):
                pass
        rc = procutil.terminate(self.proc, grace=10)
        _kill_pids(pids)  # Syncthing proper, should it have left the group (setLowPriority)
        return rc

    def kill(self):
        """SIGKILL the monitor and Syncthing proper. Returns the monitor's exit code (-9)."""
        if self.proc is None:
            return None
        pids = self.pids()
        _kill_pids(pids)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return procutil.terminate(self.proc, grace=0)

    def close(self):
        """Stop it and remove its temp root (kept with KITH_KEEP_TMP=1 or when the root was given)."""
        self.stop()
        if self._own_root and not KEEP_TMP:
            rmtree(self.root)

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            sys.stderr.write("\n--- syncthing %s log (tail) ---\n%s\n" % (self.name, self.log_tail()))
        self.close()

    def __repr__(self):
        return "Syncthing(%r, %s, bep %s)" % (self.name, self.device_id[:7], self.listen_address)


def _kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(4 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def pair(a, b, folder_id, a_path, b_path, **folder_kwargs):
    """Make two instances know each other by their loopback addresses and share one folder."""
    a.add_device(b.device_id, [b.listen_address], name=b.name)
    b.add_device(a.device_id, [a.listen_address], name=a.name)
    a.add_folder(folder_id, a_path, devices=[b.device_id], **folder_kwargs)
    b.add_folder(folder_id, b_path, devices=[a.device_id], **folder_kwargs)


def _smoke():
    """Two instances on loopback: A gets a file, B must receive it byte-identical, first through
    an explicit rescan, then through the filesystem watcher (delay 1 s); prints what it saw."""
    t0 = time.monotonic()
    with Syncthing("smoke-a") as a, Syncthing("smoke-b") as b:
        print("started %r and %r in %.1fs" % (a, b, time.monotonic() - t0))
        work = tmpdir("syncthing-smoke-data-")
        try:
            src, dst = os.path.join(work, "a"), os.path.join(work, "b")
            os.makedirs(src)
            os.makedirs(dst)
            b.events(types=["ItemFinished"])  # starts B's buffer for this mask
            a.add_device(b.device_id, [b.listen_address], name="smoke-b")
            b.add_device(a.device_id, [a.listen_address], name="smoke-a")
            a.add_folder("smoke", src, devices=[b.device_id], fs_watcher=True, fs_watcher_delay_s=1)
            # B does not configure the folder itself: it must show up as pending (offered by A).
            a.wait_connected(b.device_id)
            b.wait_connected(a.device_id)
            print("connected; A sees B as %s" % json.dumps(
                {k: v for k, v in a.connections()["connections"][b.device_id].items()
                 if k in ("connected", "address", "type", "clientVersion", "crypto")}))
            pending = procutil.wait_for(lambda: b.pending_folders().get("smoke"), 30,
                                        what="the folder offered to B")
            print("B's pending folders: %s" % json.dumps({"smoke": pending}))
            b.add_folder("smoke", dst, devices=[a.device_id], fs_watcher=True, fs_watcher_delay_s=1)
            assert "smoke" not in b.pending_folders(), b.pending_folders()

            data = os.urandom(3 << 20)
            with open(os.path.join(src, "hello.bin"), "wb") as f:
                f.write(data)
            t = time.monotonic()
            a.rescan("smoke")
            b.wait_file("hello.bin", hashlib.sha256(data).hexdigest(), timeout=60, folder_id="smoke")
            print("3 MiB file at B %.2fs after the REST rescan began" % (time.monotonic() - t))
            a.wait_synced("smoke", b.device_id, timeout=30)
            b.wait_idle("smoke")

            with open(os.path.join(src, "sub-note.txt"), "wb") as f:
                f.write(b"through the watcher\n")
            t = time.monotonic()
            b.wait_file("sub-note.txt", b"through the watcher\n", timeout=60, folder_id="smoke")
            print("small file at B %.2fs after writing it (watcher, delay 1 s)" % (time.monotonic() - t))
            st = b.folder_status("smoke")
            print("B folder status: state=%s localFiles=%s needTotalItems=%s" % (
                st["state"], st["localFiles"], st["needTotalItems"]))
            evs = b.events(since=0, types=["ItemFinished"], timeout=0)
            print("B CPU %.2fs, A CPU %.2fs; B's ItemFinished events: %s" % (
                b.cpu_seconds(), a.cpu_seconds(), [(e["data"]["item"], e["data"]["action"]) for e in evs]))
            print("A stop -> exit %s" % a.stop())
            print("B stop -> exit %s" % b.stop())
        finally:
            rmtree(work)
    print("smoke OK in %.1fs" % (time.monotonic() - t0))


if __name__ == "__main__":
    _smoke()
