#!/usr/bin/env python3
"""Calls (issue 12): not a test, it prints figures.

Three scenarios on 127.0.0.1, in one run:

  native    two `kith daemon`s (contacts, calls.ice_networks=127.0.0.1) carry the signalling; `kith call
            bob --send-audio A.wav --record A-heard.wav --json` and `kith answer --send-audio B.wav --record
            B-heard.wav --json` run the native endpoints (GStreamer webrtcbin: Opus, ICE, DTLS-SRTP).
  baresip   the anchor: two Debian baresip 1.0.0 processes, each with its own config dir, a direct SIP call
            between 127.0.0.1 ports (no registrar), Opus, audio from a WAV (aufile), what is heard dumped
            to a WAV by the sndfile filter, no sound card (the player is an aubridge device that never
            runs).
  browser   two `kith daemon`s and two headless Chromiums logged in to their web UIs, each with a fake
            microphone playing its WAV (looped); page A clicks Call, page B clicks Accept. Run by
            bench/calls_browser.mjs (playwright-core from tests/ui/node_modules), which prints JSON lines.

Each side's WAV is silence with a one-second tone burst starting BURST_AT (1.000 s) after the file starts
playing: 440 Hz from the caller, 660 Hz from the callee. Per call:

  setup      native: from `kith answer` being spawned to the call `active` at the caller (API polled every
             20 ms), the nodes' `answered_ms -> connected_ms`, and to the first audio at the caller;
             baresip: from `/accept` written to the callee to "Call established" at the caller, and to
             the first audio at the caller.
  latency    mouth-to-ear: when the burst's onset leaves the decoder at the other side, minus when it
             would have been captured at the sending side. Method in bench/README.md § Calls.
  cpu        CPU seconds of the endpoint processes (all threads) per call, the daemons' CPU during the
             call, and the endpoints' CPU while the call is up (% of one core).
  intact     power at the other side's tone / power at one's own tone, in the burst's second.

Usage: python3 bench/calls.py [--calls 5] [--only native,native-ready,baresip,browser] [--hold 3.5] [--json]
"""
import argparse
import json
import math
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import procutil  # noqa: E402
import tones  # noqa: E402
from contacts_util import befriend  # noqa: E402
from kithtest import KITH_BIN, KithNode, free_port  # noqa: E402

RATE = 48000
BURST_AT = 1.000  # s after the file starts playing
BURST_LEN = 1.000
FILE_LEN = 6.0  # baresip ends the call when its aufile source reaches the end: longer than a call
CALLER_TONE, CALLEE_TONE = 440, 660
READY_WARMUP = 2.0  # s between `kith answer --wait` starting and the call (its DTLS key is made by then)
FILE_OFFSET = 0.0  # the first block logged is the file's first sample (src/media/room_audio.cpp)
TARGETS = {"setup_ms": 300, "latency_ms": 100}
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    sys.stderr.write("[calls-bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# -- audio ---------------------------------------------------------------------------------------------

def write_burst(path, freq, channels):
    """FILE_LEN s of 16-bit silence with a BURST_LEN s sine at `freq` from BURST_AT on."""
    start, end = int(BURST_AT * RATE), int((BURST_AT + BURST_LEN) * RATE)
    frames = bytearray()
    for i in range(int(FILE_LEN * RATE)):
        v = int(0.5 * 32767 * math.sin(2 * math.pi * freq * (i - start) / RATE)) if start <= i < end else 0
        frames += struct.pack("<h", v) * channels
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))


def onset(samples, freq, rate=RATE):
    """Seconds into `samples` where the tone at `freq` starts: the first 5 ms window (1 ms steps) whose
    power at `freq` reaches a quarter of the burst's (half its amplitude), i.e. the window half covers
    the burst; the onset is the window's middle. None without such a tone."""
    win = int(0.005 * rate)
    coarse = [(i, tones.power_at(samples[i:i + win], rate, freq)) for i in range(0, len(samples) - win, win)]
    if not coarse:
        return None
    peak = max(p for _, p in coarse)
    quiet = statistics.median(p for _, p in coarse)
    if peak <= 0 or peak < 100 * max(quiet, 1e-12):
        return None
    first = next(i for i, p in coarse if p >= peak / 4)
    for i in range(max(0, first - 2 * win), first + win, rate // 1000):
        if tones.power_at(samples[i:i + win], rate, freq) >= peak / 4:
            return (i + win / 2) / rate
    return (first + win / 2) / rate


def intact_ratio(samples, heard, own, at):
    """Power at the other side's tone over power at one's own, in the burst's second (from `at`)."""
    part = samples[int(at * RATE):int((at + BURST_LEN * 0.9) * RATE)]
    p_heard, p_own = tones.power_at(part, RATE, heard), tones.power_at(part, RATE, own)
    return p_heard / p_own if p_own > 0 else float("inf")


# -- processes ---------------------------------------------------------------------------------------------

def cpu_of(pids):
    """utime+stime in seconds, summed over these processes (each with all its threads); gone ones count 0."""
    total = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _CLK_TCK
        except OSError:
            pass
    return total


def wait4(proc, timeout):
    """Wait for a child with wait4(): (exit code, CPU s of the process and everything it reaped)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline:
            procutil.terminate(proc, grace=2)
            raise TimeoutError("%s did not exit in %ss" % (proc.args[-1] if proc.args else "?", timeout))
        time.sleep(0.01)


def p(values, q):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# -- native: kith call / kith answer ---------------------------------------------------------------------

GST_LINE = re.compile(r"^(\d+):(\d\d):(\d\d\.\d+)\s+\d+\s+\S+\s+\w+\s+(\w+)\s+(.*)$")


def gst_timeline(path):
    """From an endpoint's stderr with GST_DEBUG=kithroom:6 (times: seconds since the process's gst_init,
    one monotonic clock; src/media/room_audio.cpp logs them): when its own file started (the first block
    of the WAV sent to the call) and [(time, bytes so far)] of every 10 ms block of what it heard, as the
    room's mixer wrote it to the recording (the decoders' output plus the mixer's cushion: no sound card
    after it)."""
    opened, pushed = None, []
    with open(path, errors="replace") as f:
        for line in f:
            m = GST_LINE.match(line.strip())
            if not m or m.group(4) != "kithroom":
                continue
            t = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
            rest = m.group(5)
            if "file input: first block sent" in rest and opened is None:
                opened = t
            elif "mixed block:" in rest:
                pushed.append((t, 2 * int(re.search(r"mixed block: (\d+) samples", rest).group(1))))
    return opened, pushed


def arrival(pushed, sample):
    """Time the buffer holding this sample (16-bit mono) reached the recorder."""
    need = (sample + 1) * 2
    for t, total in pushed:
        if total >= need:
            return t
    return None


def native_calls(args, tmp, ready=False):
    env_gst = {"GST_DEBUG": "kithroom:6", "GST_DEBUG_NO_COLOR": "1"}
    nodes = []
    for name in ("alice", "bob"):
        n = KithNode(name, {"profile.name": name, "channel.listen": "127.0.0.1:%d" % free_port(),
                            "calls.ice_networks": "127.0.0.1"})
        n.start_daemon()
        nodes.append(n)
    alice, bob = nodes
    results = []
    try:
        befriend(alice, bob)
        a_wav, b_wav = os.path.join(tmp, "alice.wav"), os.path.join(tmp, "bob.wav")
        write_burst(a_wav, CALLER_TONE, 1)
        write_burst(b_wav, CALLEE_TONE, 1)
        saved = {k: os.environ.get(k) for k in env_gst}
        os.environ.update(env_gst)  # KithNode.env() copies os.environ for the endpoints it spawns
        try:
            for n in range(args.calls):
                try:
                    r = native_one(alice, bob, a_wav, b_wav, tmp, n, args.hold, ready)
                except Exception as e:  # counted, not fatal
                    log("native call %d failed: %s" % (n + 1, e))
                    r = {"ok": False, "error": str(e)}
                    for node in (alice, bob):
                        for c in node.api("GET", "/api/v1/calls")[1].get("calls", []):
                            if c["state"] != "ended":
                                node.api("POST", "/api/v1/calls/%s/hangup" % c["id"])
                log("native call %d: %s" % (n + 1, {k: v for k, v in r.items() if k != "stats"}))
                results.append(r)
                time.sleep(0.5)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        for n in nodes:
            n.close()
    return results


def api_call(node, cid):
    st, body = node.api("GET", "/api/v1/calls")
    for c in body.get("calls", []) if st == 200 else []:
        if c["id"] == cid:
            return c
    return None


def native_one(alice, bob, a_wav, b_wav, tmp, n, hold, ready=False):
    """One call. `ready`: bob's endpoint already runs (`kith answer --wait`, started READY_WARMUP s
    before the call: GStreamer loaded, its DTLS key made) and answers the ring itself, as a softphone
    (and the baresip anchor) does; "answer" is then when bob's node recorded the answer."""
    heard_a, heard_b = os.path.join(tmp, "alice-heard-%d.wav" % n), os.path.join(tmp, "bob-heard-%d.wav" % n)
    daemons = [alice.daemon.pid, bob.daemon.pid]
    cpu_daemons0 = cpu_of(daemons)
    callee = None
    if ready:
        callee = bob.spawn("answer", "--wait", "60", "--send-audio", b_wav, "--record", heard_b, "--json")
        time.sleep(READY_WARMUP)
    caller = alice.spawn("call", "bob", "--send-audio", a_wav, "--record", heard_a, "--json")
    cid = json.loads(caller.reader.next_line(20))["call"]["id"]
    if ready:
        answered = procutil.wait_for(lambda: (api_call(bob, cid) or {}).get("answered_ms"), 20, interval=0.01,
                                     what="bob's endpoint answering")
        t_answer = answered / 1000
    else:
        procutil.wait_for(lambda: (api_call(bob, cid) or {}).get("state") == "ringing", 20, interval=0.01,
                          what="ringing at bob")
        t_answer = time.time()
        callee = bob.spawn("answer", cid, "--send-audio", b_wav, "--record", heard_b, "--json")
    t_active = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        c = api_call(alice, cid)
        if c and c["state"] == "active":
            t_active = time.time()
            break
        if c and c["state"] == "ended":
            raise RuntimeError("call ended: " + c.get("end_reason", ""))
        time.sleep(0.02)
    if t_active is None:
        raise TimeoutError("not active within 30 s")
    procutil.wait_for(lambda: (api_call(bob, cid) or {}).get("state") == "active", 10, interval=0.02,
                      what="active at bob")
    endpoints = [caller.pid, callee.pid]
    cpu_ep0, t0 = cpu_of(endpoints), time.monotonic()
    time.sleep(hold)
    cpu_ep1, t1 = cpu_of(endpoints), time.monotonic()
    bob.api("POST", "/api/v1/calls/%s/hangup" % cid)
    code_a, cpu_a = wait4(caller, 30)
    code_b, cpu_b = wait4(callee, 30)
    cpu_daemons = cpu_of(daemons) - cpu_daemons0
    at_a, at_b = api_call(alice, cid), api_call(bob, cid)
    last = [json.loads(line) for line in caller.reader.all if line.startswith("{")][-1]
    r = {"ok": code_a == 0 and code_b == 0,
         "answer_to_answered_ms": at_b["answered_ms"] - t_answer * 1000,
         "answered_to_connected_ms": at_a["connected_ms"] - at_a["answered_ms"],
         "answered_to_connected_callee_ms": at_b["connected_ms"] - at_b["answered_ms"],
         "answer_to_active_ms": (t_active - t_answer) * 1000,
         "cpu_endpoints_s": cpu_a + cpu_b, "cpu_caller_s": cpu_a, "cpu_callee_s": cpu_b,
         "cpu_daemons_s": cpu_daemons,
         "cpu_active_pct": 100 * (cpu_ep1 - cpu_ep0) / (t1 - t0),
         "stats": last.get("stats")}
    # Mouth-to-ear, both ways, each side's figures on its own clock (see bench/README.md § Calls).
    loops, first_audio = [], {}
    for who, rec, heard, own, log_path in (("caller", heard_a, CALLEE_TONE, CALLER_TONE, caller.log_path),
                                           ("callee", heard_b, CALLER_TONE, CALLEE_TONE, callee.log_path)):
        opened, pushed = gst_timeline(log_path)
        _, samples = tones.read_samples(rec)
        at = onset(samples, heard)
        if opened is None or not pushed or at is None:
            raise RuntimeError("%s: no timeline or no burst (opened %s, %d buffers, onset %s)"
                               % (who, opened, len(pushed), at))
        ear = arrival(pushed, int(at * RATE))
        loops.append(ear - (opened + FILE_OFFSET + BURST_AT))
        first_audio[who] = pushed[0][0] - opened  # from connected (the file starting) to the first heard
        r["gst_init_to_connected_%s_ms" % who] = 1000 * opened  # GST_DEBUG times count from gst_init
        r["intact_" + who] = intact_ratio(samples, heard, own, at)
    r["latency_ms"] = 1000 * sum(loops) / 2
    r["latency_asym_ms"] = 1000 * (loops[0] - loops[1]) / 2  # caller's loop minus callee's, halved
    r["connected_to_first_audio_ms"] = 1000 * first_audio["caller"]
    # connected_ms is when the caller's node heard of the connection: up to one 20 ms poll of the CLI after
    # the endpoint's own `connected`, so this is at most ~20 ms late.
    r["answer_to_first_audio_ms"] = at_a["connected_ms"] - t_answer * 1000 + r["connected_to_first_audio_ms"]
    return r


# -- baresip ----------------------------------------------------------------------------------------------

BARESIP_MODULES = ["stdio.so", "opus.so", "aufile.so", "aubridge.so", "sndfile.so"]


class Baresip:
    """One baresip process with its own config dir, commands on stdin, stdout lines timestamped."""

    def __init__(self, root, name, port, tone_wav):
        self.dir = os.path.join(root, "baresip-" + name)
        os.makedirs(self.dir)
        self.name, self.port = name, port
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("\n".join([
                "poll_method epoll",
                "sip_listen 127.0.0.1:%d" % port,
                "sip_transports udp",
                "net_interface 127.0.0.1",
                "audio_source aufile,%s" % tone_wav,
                "audio_player aubridge,nowhere-%s" % name,  # a device nobody reads: no sound card, no pacing
                "audio_alert aubridge,nowhere-%s" % name,
                "rtp_ports %d-%d" % (port + 10, port + 200),
                "module_path /usr/lib/baresip/modules",
                *("module " + m for m in BARESIP_MODULES),
                "module_app account.so",
                "module_app menu.so",
                "snd_path %s" % self.dir,
                ""]))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<sip:%s@127.0.0.1:%d>;regint=0;answermode=manual\n" % (name, port))
        self.lines = []  # (monotonic, line)
        self.cond = threading.Condition()
        self.log = open(os.path.join(root, "baresip-%s.log" % name), "w")
        # stdbuf: baresip's stdout is a pipe here; without it lines come in 4 KiB blocks.
        self.proc = procutil.spawn(["stdbuf", "-o0", "baresip", "-f", self.dir], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._pump, daemon=True).start()
        self.wait_line("baresip is ready", 60)

    def _pump(self):
        buf = b""
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            now = time.monotonic()
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                self.log.write("%.3f %s\n" % (now, text))
                with self.cond:
                    self.lines.append((now, text))
                    self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def wait_line(self, needle, timeout, since=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, line in self.lines[since:]:
                    if needle in line:
                        return t
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError("baresip %s: no '%s' within %ss" % (self.name, needle, timeout))
                self.cond.wait(left)

    def command(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()
        return time.monotonic()

    def dumps(self):
        return set(x for x in os.listdir(self.dir) if x.startswith("dump-"))

    def close(self):
        try:
            self.command("/quit")
            self.proc.wait(timeout=5)
        except Exception:
            pass
        procutil.terminate(self.proc, grace=2)
        self.log.close()


class SizeWatch:
    """Polls files' sizes every ~2 ms on a thread: [(monotonic, size)] whenever a size changes. The sndfile
    filter writes each 20 ms frame with its own write(), so this is when each frame reached the dump."""

    def __init__(self, dirs):
        self.dirs, self.seen, self.stop = dirs, {}, False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            now = time.monotonic()
            for d in self.dirs:
                for name in os.listdir(d):
                    if not name.startswith("dump-"):
                        continue
                    path = os.path.join(d, name)
                    try:
                        size = os.stat(path).st_size
                    except OSError:
                        continue
                    hist = self.seen.setdefault(path, [])
                    if not hist or hist[-1][1] != size:
                        hist.append((now, size))
            time.sleep(0.002)

    def close(self):
        self.stop = True
        self.thread.join()

    def reached(self, path, size):
        for t, s in self.seen.get(path, []):
            if s >= size:
                return t
        return None


def baresip_calls(args, tmp):
    if not shutil.which("baresip"):
        log("baresip is not installed (apt-get install baresip; scripts/install-deps.sh has it)")
        return [{"ok": False, "error": "baresip not installed"}]
    a_wav, b_wav = os.path.join(tmp, "alice-stereo.wav"), os.path.join(tmp, "bob-stereo.wav")
    # baresip's Opus runs at 48 kHz stereo and aufile takes only files in the codec's format.
    write_burst(a_wav, CALLER_TONE, 2)
    write_burst(b_wav, CALLEE_TONE, 2)
    port = free_port()
    alice = Baresip(tmp, "alice", port, a_wav)
    bob = Baresip(tmp, "bob", port + 300, b_wav)
    results = []
    try:
        for n in range(args.calls):
            try:
                r = baresip_one(alice, bob, args.hold)
            except Exception as e:
                log("baresip call %d failed: %s" % (n + 1, e))
                r = {"ok": False, "error": str(e)}
                alice.command("/hangup")
                bob.command("/hangup")
            log("baresip call %d: %s" % (n + 1, r))
            results.append(r)
            time.sleep(1.1)  # the dump files are named by the second
    finally:
        alice.close()
        bob.close()
    return results


def baresip_one(alice, bob, hold):
    pids = [alice.proc.pid, bob.proc.pid]
    before_a, before_b = alice.dumps(), bob.dumps()
    watch = SizeWatch([alice.dir, bob.dir])
    try:
        cpu0 = cpu_of(pids)
        ma, mb = alice.mark(), bob.mark()
        t_dial = alice.command("/dial sip:bob@127.0.0.1:%d" % bob.port)
        bob.wait_line("Incoming call", 10, mb)
        t_accept = bob.command("/accept")
        t_est = alice.wait_line("Call established", 10, ma)
        bob.wait_line("Call established", 10, mb)
        time.sleep(0.2)
        cpu_a0, ta0 = cpu_of(pids), time.monotonic()
        time.sleep(hold)
        cpu_a1, ta1 = cpu_of(pids), time.monotonic()
        mh = alice.mark()
        alice.command("/hangup")
        alice.wait_line("terminated", 10, mh)
        time.sleep(0.2)
        cpu1 = cpu_of(pids)
    finally:
        watch.close()

    def dump(side, before, kind):
        new = sorted(x for x in side.dumps() - before if x.endswith("-%s.wav" % kind))
        if len(new) != 1:
            raise RuntimeError("baresip %s: expected one new %s dump, found %s" % (side.name, kind, new))
        return os.path.join(side.dir, new[0])
    r = {"ok": True, "accept_to_established_ms": 1000 * (t_est - t_accept),
         "dial_to_established_ms": 1000 * (t_est - t_dial),
         "cpu_both_s": cpu1 - cpu0, "cpu_active_pct": 100 * (cpu_a1 - cpu_a0) / (ta1 - ta0)}
    frame = int(0.020 * RATE) * 4  # 20 ms of 16-bit stereo
    lat = {}
    for who, side, before, peer, peer_before, heard, own in (
            ("caller", alice, before_a, bob, before_b, CALLEE_TONE, CALLER_TONE),
            ("callee", bob, before_b, alice, before_a, CALLER_TONE, CALLEE_TONE)):
        dec, enc = dump(side, before, "dec"), dump(peer, peer_before, "enc")
        rate, samples = tones.read_samples(dec)
        at = onset(samples, heard, rate)
        if at is None:
            raise RuntimeError("baresip %s: no burst in %s" % (who, dec))
        ear = watch.reached(dec, 44 + (int(at * rate) + 1) * 4)
        # The burst starts with the sender's frame 50 (1.000 s / 20 ms): a microphone delivers a frame 20 ms
        # after its first sample was captured, so the onset was "captured" 20 ms before frame 50 reached the
        # sender's encoder (the enc dump).
        sent = watch.reached(enc, 44 + (int(BURST_AT / 0.020) + 1) * frame)
        if ear is None or sent is None:
            raise RuntimeError("baresip %s: dump timeline incomplete" % who)
        lat[who] = ear - (sent - 0.020)
        r["intact_" + who] = intact_ratio(samples, heard, own, at)
        if who == "caller":
            first = watch.reached(dec, 44 + frame // 2)
            r["accept_to_first_audio_ms"] = 1000 * (first - t_accept) if first else None
    r["latency_ms"] = 1000 * (lat["caller"] + lat["callee"]) / 2
    r["latency_callee_to_caller_ms"] = 1000 * lat["caller"]
    r["latency_caller_to_callee_ms"] = 1000 * lat["callee"]
    for d in (alice.dir, bob.dir):  # keep the dirs small: the dumps are a few hundred kB each
        for x in os.listdir(d):
            if x.startswith("dump-"):
                os.remove(os.path.join(d, x))
    return r


# -- browser: bench/calls_browser.mjs ---------------------------------------------------------------------

def browser_calls(args):
    """Runs bench/calls_browser.mjs: (per-call results, the no-call baseline or None, why it could not run)."""
    script = os.path.join(HERE, "calls_browser.mjs")
    if not shutil.which("node"):
        return [], None, "node not found"
    if not os.path.isdir(os.path.join(HERE, "..", "tests", "ui", "node_modules", "playwright-core")):
        return [], None, "playwright-core missing: npm ci in tests/ui"
    env = dict(os.environ)
    env.setdefault("KITH_BIN", KITH_BIN)
    proc = subprocess.Popen(["node", script, "--calls", str(args.calls), "--hold", str(args.hold)],
                            stdout=subprocess.PIPE, env=env, text=True)  # its log goes to our stderr
    results, idle = [], None
    for line in proc.stdout:
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r.get("idle"):
            idle = r
        else:
            r.pop("onsets", None)
            results.append(r)
    code = proc.wait()
    return results, idle, (None if code == 0 else "calls_browser.mjs exited %d" % code)


# -- report ------------------------------------------------------------------------------------------------

def summary(results, keys):
    good = [r for r in results if r.get("ok")]
    out = {"calls": len(results), "ok": len(good)}
    for k in keys:
        vals = [r.get(k) for r in good if r.get(k) is not None]
        out[k] = {"median": med(vals), "min": min(vals) if vals else None, "max": max(vals) if vals else None}
    return out


NATIVE_KEYS = ["answer_to_answered_ms", "answered_to_connected_ms", "answered_to_connected_callee_ms",
               "answer_to_active_ms", "gst_init_to_connected_callee_ms", "gst_init_to_connected_caller_ms",
               "connected_to_first_audio_ms", "answer_to_first_audio_ms", "latency_ms",
               "latency_asym_ms", "cpu_endpoints_s", "cpu_caller_s", "cpu_callee_s", "cpu_daemons_s",
               "cpu_active_pct", "intact_caller", "intact_callee"]
BARESIP_KEYS = ["accept_to_established_ms", "dial_to_established_ms", "accept_to_first_audio_ms", "latency_ms",
                "latency_callee_to_caller_ms", "latency_caller_to_callee_ms", "cpu_both_s", "cpu_active_pct",
                "intact_caller", "intact_callee"]
BROWSER_KEYS = ["accept_to_active_api_ms", "accept_to_active_ui_ms", "accept_to_active_callee_ui_ms",
                "accept_to_first_audio_ms", "endpoint_setup_ms_caller", "endpoint_setup_ms_callee", "latency_ms",
                "latency_callee_to_caller_ms", "latency_caller_to_callee_ms", "cpu_browsers_s", "cpu_daemons_s",
                "cpu_active_pct"]


def fmt(s, key, unit="", digits=0):
    v = s.get(key)
    if not v or v["median"] is None:
        return "-"
    f = "%%.%df" % digits
    return (f % v["median"]) + unit + (" (" + f % v["min"] + "-" + f % v["max"] + ")")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=5, help="calls per scenario")
    ap.add_argument("--hold", type=float, default=3.5, help="seconds each call stays up once connected")
    ap.add_argument("--only", default="native,native-ready,baresip,browser")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.hold < BURST_AT + BURST_LEN + 0.5:
        sys.exit("--hold must leave the burst time to arrive (>= %.1f s)" % (BURST_AT + BURST_LEN + 0.5))
    only = args.only.split(",")
    report = {"date": time.strftime("%Y-%m-%d"), "calls_per_scenario": args.calls, "hold_s": args.hold,
              "targets": TARGETS}
    with tempfile.TemporaryDirectory(prefix="kith-calls-bench-") as tmp:
        if "native" in only:
            res = native_calls(args, tmp)
            report["native"] = {"summary": summary(res, NATIVE_KEYS), "calls": res}
        if "native-ready" in only:
            res = native_calls(args, tmp, ready=True)
            report["native-ready"] = {"summary": summary(res, NATIVE_KEYS), "calls": res}
        if "baresip" in only:
            res = baresip_calls(args, tmp)
            report["baresip"] = {"summary": summary(res, BARESIP_KEYS), "calls": res}
        if "browser" in only:
            res, idle, err = browser_calls(args)
            report["browser"] = {"summary": summary(res, BROWSER_KEYS), "calls": res, "no_call": idle,
                                 "error": err}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print("calls on 127.0.0.1, %d per scenario, medians (min-max)" % args.calls)
    for scenario, title, answer in (
            ("native", "kith native <-> native", "answer spawned"),
            ("native-ready", "kith native <-> native, callee running (kith answer --wait)", "answered")):
        if scenario not in report:
            continue
        s = report[scenario]["summary"]
        print("\n%s: %d of %d calls ok" % (title, s["ok"], s["calls"]))
        for label, key, unit, digits, target in (
                ("answer spawned -> node answered", "answer_to_answered_ms", " ms", 0, ""),
                ("answered -> connected (caller's node)", "answered_to_connected_ms", " ms", 0, ""),
                (answer + " -> active at caller (API)", "answer_to_active_ms", " ms", 0, "target < 300 ms"),
                ("kith answer's gst_init -> connected", "gst_init_to_connected_callee_ms", " ms", 0, ""),
                ("connected -> first audio at caller", "connected_to_first_audio_ms", " ms", 0, ""),
                (answer + " -> first audio at caller", "answer_to_first_audio_ms", " ms", 0, "target < 300 ms"),
                ("mouth-to-ear latency (mean of both ways)", "latency_ms", " ms", 0, "target < 100 ms"),
                ("  asymmetry (caller's loop - callee's)/2", "latency_asym_ms", " ms", 0, ""),
                ("CPU per call, kith call + kith answer", "cpu_endpoints_s", " s", 2, ""),
                ("CPU per call, both daemons", "cpu_daemons_s", " s", 2, ""),
                ("CPU while connected, both endpoints", "cpu_active_pct", " % of a core", 1, ""),
                ("other side's tone / own, at the caller", "intact_caller", "x", 0, "intact > 100x"),
                ("other side's tone / own, at the callee", "intact_callee", "x", 0, "intact > 100x")):
            if scenario == "native-ready" and key in ("answer_to_answered_ms", "gst_init_to_connected_callee_ms"):
                continue  # the endpoint started long before: these say nothing
            print("  %-44s %-30s %s" % (label, fmt(s, key, unit, digits), target))
    if "baresip" in report:
        s = report["baresip"]["summary"]
        print("\nbaresip <-> baresip (anchor): %d of %d calls ok" % (s["ok"], s["calls"]))
        for label, key, unit, digits in (
                ("dial -> established (caller)", "dial_to_established_ms", " ms", 0),
                ("/accept -> established (caller)", "accept_to_established_ms", " ms", 0),
                ("/accept -> first audio at caller", "accept_to_first_audio_ms", " ms", 0),
                ("mouth-to-ear latency (mean of both ways)", "latency_ms", " ms", 0),
                ("  callee -> caller", "latency_callee_to_caller_ms", " ms", 0),
                ("  caller -> callee", "latency_caller_to_callee_ms", " ms", 0),
                ("CPU per call, both processes", "cpu_both_s", " s", 2),
                ("CPU while connected, both processes", "cpu_active_pct", " % of a core", 1),
                ("other side's tone / own, at the caller", "intact_caller", "x", 0),
                ("other side's tone / own, at the callee", "intact_callee", "x", 0)):
            print("  %-44s %s" % (label, fmt(s, key, unit, digits)))
    if "browser" in report:
        b = report["browser"]
        s = b["summary"]
        print("\nbrowser <-> browser (web UI, headless Chromium): %d of %d calls ok%s"
              % (s["ok"], s["calls"], " -- not measured: " + b["error"] if b["error"] else ""))
        for label, key, unit, digits, target in (
                ("Accept click -> active at caller (API)", "accept_to_active_api_ms", " ms", 0, "target < 300 ms"),
                ("Accept click -> active at caller (UI)", "accept_to_active_ui_ms", " ms", 0, ""),
                ("Accept click -> active at callee (UI)", "accept_to_active_callee_ui_ms", " ms", 0, ""),
                ("caller page's own setupMs", "endpoint_setup_ms_caller", " ms", 0, ""),
                ("callee page's own setupMs", "endpoint_setup_ms_callee", " ms", 0, ""),
                ("Accept click -> first audio at caller", "accept_to_first_audio_ms", " ms", 0, "target < 300 ms"),
                ("mouth-to-ear, track to track (mean both ways)", "latency_ms", " ms", 0, "target < 100 ms"),
                ("  callee -> caller", "latency_callee_to_caller_ms", " ms", 0, ""),
                ("  caller -> callee", "latency_caller_to_callee_ms", " ms", 0, ""),
                ("CPU per call, both Chromiums", "cpu_browsers_s", " s", 2, ""),
                ("CPU per call, both daemons", "cpu_daemons_s", " s", 2, ""),
                ("CPU while connected, both Chromiums", "cpu_active_pct", " % of a core", 1, "")):
            print("  %-44s %-30s %s" % (label, fmt(s, key, unit, digits), target))
        if b["no_call"]:
            print("  %-44s %.1f %% of a core" % ("both Chromiums, pages open, no call", b["no_call"]["cpu_idle_pct"]))
        print("  (tone intactness is not measured for the pages: their analysers only time the onsets)")


if __name__ == "__main__":
    main()
