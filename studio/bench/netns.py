"""A private test network for `studio bench network`: one namespace per party, veth links, impairments.

Topology (created fresh per profile, all addresses private to these namespaces, nothing in the root
namespace changes)::

    studio ns  10.201.1.2 ── veth ── 10.201.1.1 ┐
    viewer a   10.201.2.2 ── veth ── 10.201.2.1 ├ relay ns (the relay listens on all of these)
    viewer b   10.201.3.2 ── veth ── 10.201.3.1 ┘

Each leg is impaired on its own: random UDP loss with iptables ``statistic`` inside the studio's or a
viewer's namespace (both directions of that link), a token-bucket cap (``tc tbf``) on the studio's
uplink or on the relay's side of one viewer's link (that viewer's downlink), a UDP blackout. There is
no netem here, so there is no added delay besides what the token bucket queues. Only UDP is hit:
signalling (WHIP/WHEP over HTTP) always gets through, the media does not.

Deleting a namespace removes its links, rules and queues; processes still inside are ended by id
first (``ip netns pids``), so a crash or Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass

PREFIX = "dlsbench"
SUBNET = "10.201"
NEEDED_TOOLS = {"ip": "iproute2", "tc": "iproute2", "iptables": "iptables"}


class NetnsUnavailable(ValueError):
    """The machine cannot build the test network (not root, or a tool is missing)."""


def check_requirements() -> None:
    if os.geteuid() != 0:
        raise NetnsUnavailable("the network bench builds private network namespaces and needs root "
                               "(run it as root, e.g. sudo .venv/bin/studio bench network)")
    missing = sorted({pkg for tool, pkg in NEEDED_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise NetnsUnavailable(f"the network bench needs {', '.join(NEEDED_TOOLS)}: "
                               f"apt-get install {' '.join(missing)}")
    if shutil.which("iptables") is not None:
        probe = subprocess.run(["iptables", "-m", "statistic", "-h"], capture_output=True, text=True)
        if probe.returncode != 0:
            raise NetnsUnavailable(f"iptables has no 'statistic' match: {probe.stderr.strip()}")


def _sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done


@dataclass(frozen=True)
class Host:
    """One party's namespace and its link to the relay."""

    role: str  # "studio", "viewer-a", "viewer-b"
    netns: str
    address: str  # this host's address
    relay_address: str  # the relay's address on this link
    dev: str = "eth0"  # the link inside this host's namespace
    relay_dev: str = ""  # the same link's other end, inside the relay's namespace


class Testbed:
    """The namespaces of one profile. Use as a context manager: ``close`` always runs."""

    def __init__(self, viewers: int, tag: str = "") -> None:
        if not 1 <= viewers <= 2:
            raise ValueError("the test network has one or two viewers")
        base = f"{PREFIX}-{os.getpid()}{('-' + tag) if tag else ''}"
        self.relay_netns = f"{base}-relay"
        roles = ["studio"] + [f"viewer-{chr(ord('a') + i)}" for i in range(viewers)]
        self.hosts = {
            role: Host(role, f"{base}-{role}", f"{SUBNET}.{i + 1}.2", f"{SUBNET}.{i + 1}.1",
                       relay_dev=f"to-{role}")
            for i, role in enumerate(roles)
        }
        self._created: list[str] = []
        self._flushed_drops: dict[str, int] = {}  # DROP counts of rules already removed, per role

    @property
    def studio(self) -> Host:
        return self.hosts["studio"]

    @property
    def viewers(self) -> list[Host]:
        return [h for r, h in self.hosts.items() if r.startswith("viewer")]

    def __enter__(self) -> Testbed:
        self.create()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create(self) -> None:
        for ns in [self.relay_netns, *(h.netns for h in self.hosts.values())]:
            _sh("ip", "netns", "add", ns)
            self._created.append(ns)
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
        for h in self.hosts.values():
            # the pair is born inside the namespaces: no interface name ever exists in the root namespace
            _sh("ip", "-n", h.netns, "link", "add", h.dev, "type", "veth", "peer", "name", h.relay_dev,
                "netns", self.relay_netns)
            _sh("ip", "-n", h.netns, "addr", "add", f"{h.address}/24", "dev", h.dev)
            _sh("ip", "-n", self.relay_netns, "addr", "add", f"{h.relay_address}/24", "dev", h.relay_dev)
            _sh("ip", "-n", h.netns, "link", "set", h.dev, "up")
            _sh("ip", "-n", self.relay_netns, "link", "set", h.relay_dev, "up")

    def exec_prefix(self, netns: str) -> list[str]:
        return ["ip", "netns", "exec", netns]

    # ---- impairments ---------------------------------------------------------------------------
    def _iptables(self, netns: str, *args: str) -> None:
        _sh("ip", "netns", "exec", netns, "iptables", "-w", *args)

    def drop_udp(self, host: Host, probability: float) -> None:
        """Random loss on ``host``'s link, each direction (probability 1: a blackout)."""
        match = [] if probability >= 1 else ["-m", "statistic", "--mode", "random",
                                             "--probability", f"{probability:.4f}"]
        self._iptables(host.netns, "-A", "INPUT", "-i", host.dev, "-p", "udp", *match, "-j", "DROP")
        self._iptables(host.netns, "-A", "OUTPUT", "-o", host.dev, "-p", "udp", *match, "-j", "DROP")

    def clear_drops(self, host: Host) -> None:
        self._flushed_drops[host.role] = self.dropped_packets(host)
        self._iptables(host.netns, "-F", "INPUT")
        self._iptables(host.netns, "-F", "OUTPUT")

    def cap_uplink(self, host: Host, kbps: int) -> None:
        """Cap what ``host`` sends to the relay."""
        self._tbf(host.netns, host.dev, kbps)

    def cap_downlink(self, host: Host, kbps: int) -> None:
        """Cap what the relay sends to ``host``."""
        self._tbf(self.relay_netns, host.relay_dev, kbps)

    def _tbf(self, netns: str, dev: str, kbps: int) -> None:
        # a 100 ms queue and a 10-packet bucket: a modest consumer link, not a bufferbloated one
        _sh("ip", "netns", "exec", netns, "tc", "qdisc", "replace", "dev", dev, "root", "tbf",
            "rate", f"{kbps}kbit", "burst", "15000", "latency", "100ms")

    def dropped_packets(self, host: Host) -> int:
        """Packets our DROP rules took on ``host``'s link so far (a check that the loss is real)."""
        out = _sh("ip", "netns", "exec", host.netns, "iptables", "-w", "-L", "-v", "-n", "-x",
                  check=False).stdout
        live = sum(int(m.group(1)) for m in re.finditer(r"^\s*(\d+)\s+\d+\s+DROP", out, re.M))
        return self._flushed_drops.get(host.role, 0) + live

    def queue_drops(self, host: Host) -> dict[str, int]:
        """Packets the token buckets on ``host``'s link dropped: {"uplink": n, "downlink": n}."""
        return {"uplink": _tbf_dropped(host.netns, host.dev),
                "downlink": _tbf_dropped(self.relay_netns, host.relay_dev)}

    # ---- teardown ------------------------------------------------------------------------------
    def close(self) -> None:
        for ns in reversed(self._created):
            _end_processes_in(ns)
            _sh("ip", "netns", "del", ns, check=False)
        self._created.clear()


def _tbf_dropped(netns: str, dev: str) -> int:
    out = _sh("ip", "netns", "exec", netns, "tc", "-s", "qdisc", "show", "dev", dev, check=False).stdout
    return sum(int(m.group(1)) for m in re.finditer(r"qdisc tbf .*?dropped (\d+)", out, re.S))


def _pids_in(netns: str) -> list[int]:
    out = _sh("ip", "netns", "pids", netns, check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def _end_processes_in(netns: str, grace_s: float = 3.0) -> None:
    """End, by id, what still runs in a namespace of ours (only our own children can be there)."""
    pids = _pids_in(netns)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while pids and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = _pids_in(netns)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def remove_stale() -> list[str]:
    """Namespaces a killed earlier run left behind (its process is gone): end what runs there, delete."""
    out = _sh("ip", "netns", "list", check=False).stdout
    removed = []
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(rf"{PREFIX}-(\d+)-", name)
        if not m or _alive(int(m.group(1))):
            continue
        _end_processes_in(name, grace_s=1.0)
        _sh("ip", "netns", "del", name, check=False)
        removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
