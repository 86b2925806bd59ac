"""A network lab for tests: network namespaces joined by a bridge, from the vendored netlab.sh.

    with Lab(homes=0) as lab:           # namespaces <pfx>sw (bridge), <pfx>a, <pfx>b (+ r, c with homes=1;
                                        # + r2, d with homes=2; + cg, a NAT in front of r, with cgn=True)
        lab.wait_ipv6_ready("a", "b")
        p = lab.popen("a", ["some-tool"])
        out = lab.run("b", ["ip", "-j", "addr"]).stdout

Every address lives only inside namespaces the lab creates (198.18.0.0/24 on the bridge, see
netlab.sh); tests must not aim traffic anywhere else. Each Lab gets its own prefix, so parallel runs
do not collide, and the namespaces (with every process inside them) go away on exit, also when the
test fails. Needs root and iproute2 (nftables too when homes >= 1).
"""
import json
import os
import secrets
import shutil
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETLAB = os.path.join(HERE, "netlab.sh")


def unavailable_reason():
    """Why a lab cannot run here (for skipTest), or None."""
    if os.geteuid() != 0:
        return "netlab needs root (network namespaces)"
    if not shutil.which("ip"):
        return "netlab needs iproute2 (`ip`)"
    return None


class Lab:
    def __init__(self, homes=1, nat="cone", cgn=False, upnp=False):
        """cgn: home router 1 (peer c's) sits behind a carrier-grade NAT <pfx>cg (a double NAT).
        upnp: home router 1 is made ready for miniupnpd, which the test starts in it."""
        # Short: namespace names end up in /run/netns and in interface-free contexts only, but keep
        # them readable in `ip netns list` when a run is inspected.
        self.pfx = "kt%s-" % secrets.token_hex(3)
        self.env = dict(os.environ, PFX=self.pfx, HOMES=str(homes), NAT=nat, CGN="1" if cgn else "0",
                        UPNP="1" if upnp else "0")
        self._procs = []

    def ns(self, host):
        return self.pfx + host

    def _netlab(self, verb, check=True):
        return subprocess.run(["bash", NETLAB, verb], env=self.env, check=check,
                              capture_output=True, text=True, timeout=120)

    def up(self):
        try:
            self._netlab("up")
        except subprocess.CalledProcessError as e:
            self.down()
            raise RuntimeError("netlab up failed: %s%s" % (e.stdout, e.stderr)) from e
        return self

    def down(self):
        for p in self._procs:
            if p.poll() is None:
                p.kill()
        for p in self._procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._procs = []
        self._netlab("down", check=False)

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()
        return False

    def cmd(self, host, argv):
        return ["ip", "netns", "exec", self.ns(host)] + list(argv)

    def run(self, host, argv, check=True, timeout=60):
        """Runs argv inside host's namespace and returns the CompletedProcess (text output)."""
        return subprocess.run(self.cmd(host, argv), check=check, capture_output=True, text=True,
                              timeout=timeout)

    def popen(self, host, argv, **kwargs):
        """Starts argv inside host's namespace; it is killed at the latest when the lab goes down."""
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        kwargs.setdefault("text", True)
        p = subprocess.Popen(self.cmd(host, argv), **kwargs)
        self._procs.append(p)
        return p

    def addresses(self, host, dev="eth0"):
        """[(family, address, scope)] of dev in host, e.g. ("inet6", "fe80::1", "link")."""
        out = self.run(host, ["ip", "-j", "addr", "show", "dev", dev]).stdout
        return [(a["family"], a["local"], a.get("scope", "")) for link in json.loads(out)
                for a in link.get("addr_info", [])]

    def link_local(self, host, dev="eth0"):
        return next(a for f, a, s in self.addresses(host, dev) if f == "inet6" and s == "link")

    def wait_ipv6_ready(self, *hosts, timeout=10.0):
        """Waits until duplicate address detection has finished in each host: until then the
        link-local address is 'tentative' and cannot be a source, so IPv6 sends fail."""
        end = time.monotonic() + timeout
        for host in hosts:
            while True:
                out = self.run(host, ["ip", "-6", "addr", "show", "tentative"]).stdout.strip()
                has_ll = any(f == "inet6" and s == "link" for f, _, s in self.addresses(host))
                if not out and has_ll:
                    break
                if time.monotonic() > end:
                    raise RuntimeError("IPv6 addresses still tentative in %s: %s" % (host, out))
                time.sleep(0.1)
