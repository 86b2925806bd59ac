"""Child-process bookkeeping so no test ever leaves a client or kith node running.

Three layers, because any one can be skipped by the way a test dies:
  * every child runs in its own session (process group) and is killed as a group, so
    anything it forks goes with it;
  * every child gets PR_SET_PDEATHSIG=SIGKILL, so even if this Python process is
    SIGKILLed the kernel ends the children;
  * a registry plus atexit and SIGTERM/SIGINT handlers tear down whatever is still alive
    when the interpreter exits normally or is asked to stop.
Tests should still stop what they start (addCleanup); the layers above are the net.
"""
import atexit
import ctypes
import os
import shutil
import signal
import subprocess
import threading
import time

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
_live = []  # Popen objects started through spawn() and not yet reaped
_tmp_dirs = []  # temp dirs to remove when the interpreter goes away (see register_tmp)
_lock = threading.Lock()


def _child_setup():
    # Runs in the child between fork and exec. Only async-signal-safe work here.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def spawn(argv, *, env=None, cwd=None, stdout=None, stderr=None, stdin=subprocess.DEVNULL,
          text=False):
    """Start argv in a new session, registered for cleanup. Returns the Popen."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=stdout, stderr=stderr, stdin=stdin,
                            text=text, start_new_session=True, preexec_fn=_child_setup)
    with _lock:
        _live.append(proc)
    return proc


def run(argv, *, env=None, cwd=None, timeout=60, input=None):
    """Run argv to completion (captured output) with the same safety net as spawn()."""
    proc = spawn(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        terminate(proc, grace=2)
        out, err = proc.communicate()
        raise subprocess.TimeoutExpired(argv, timeout, output=out, stderr=err)
    finally:
        _forget(proc)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _forget(proc):
    with _lock:
        if proc in _live:
            _live.remove(proc)


def _killpg(proc, sig):
    try:
        os.killpg(proc.pid, sig)  # pgid == pid because of start_new_session
    except (ProcessLookupError, PermissionError):
        pass


def terminate(proc, grace=10.0, sig=signal.SIGTERM):
    """Send sig to the child's group, wait up to grace seconds, then SIGKILL the group.

    Returns the exit code. The group is SIGKILLed afterwards in any case, so helpers the
    child forked cannot outlive it."""
    if proc.poll() is None:
        _killpg(proc, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    _killpg(proc, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    _forget(proc)
    return proc.returncode


def kill_all():
    """Tear down every registered child. Safe to call more than once."""
    with _lock:
        procs = list(_live)
    for p in procs:
        if p.poll() is None:
            _killpg(p, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _killpg(p, signal.SIGKILL)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        _forget(p)


def register_tmp(path):
    """Remove path at exit (also on SIGTERM/SIGHUP), after all children are gone."""
    with _lock:
        _tmp_dirs.append(path)


def unregister_tmp(path):
    with _lock:
        if path in _tmp_dirs:
            _tmp_dirs.remove(path)


def _cleanup():
    kill_all()
    with _lock:
        dirs = list(_tmp_dirs)
        _tmp_dirs.clear()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def _on_signal(signum, _frame):
    _cleanup()
    # Re-raise with the default action so the exit status says what happened.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


atexit.register(_cleanup)
if threading.current_thread() is threading.main_thread():
    for _sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(_sig) in (signal.SIG_DFL, None):
            signal.signal(_sig, _on_signal)
    # SIGINT already raises KeyboardInterrupt, which unwinds through atexit.


def wait_for(predicate, timeout, interval=0.1, what="condition"):
    """Poll predicate() until it returns a truthy value; raise TimeoutError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def tree_pids(root_pid):
    """root_pid and all its descendants (from /proc), for CPU/RSS accounting."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out
