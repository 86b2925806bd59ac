"""Shared bits of the interop drivers: temp roots, isolated environments, log tails."""
import os
import shutil

import kithtest


def have(binary):
    return shutil.which(binary) is not None


class ClientBase:
    """A real client process with its own temp root (config, data, logs) and HOME, so it
    never reads or writes the user's own config. close() stops it and removes the root."""

    binary = None

    def __init__(self, name):
        if not have(self.binary):
            raise FileNotFoundError("%s is not installed" % self.binary)
        self.root = kithtest.tmpdir("%s-" % name)
        self.proc = None
        self.log_path = os.path.join(self.root, "%s.log" % name)

    def env(self):
        env = dict(os.environ)
        for k in list(env):
            if k.lower().endswith("_proxy"):
                del env[k]  # all traffic is loopback; a proxy would only get in the way
        env.update(HOME=self.root, XDG_CONFIG_HOME=os.path.join(self.root, "xdg-config"),
                   XDG_DATA_HOME=os.path.join(self.root, "xdg-data"),
                   XDG_CACHE_HOME=os.path.join(self.root, "xdg-cache"))
        return env

    def tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def close(self):
        if self.proc is not None:
            from procutil import terminate
            terminate(self.proc, grace=10)
            self.proc = None
        kithtest.rmtree(self.root)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
