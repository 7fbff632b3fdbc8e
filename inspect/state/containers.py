"""Container ids derived from a process's cgroups, as sinsp's container engines do offline.

Each runtime leaves its container id in the cgroup paths; the engines are tried in
sinsp's order and the first match wins:

=============  =================================================================
runtime        cgroup path ends with
=============  =================================================================
podman         ``/libpod-<64 hex>.scope`` (rootful and rootless)
docker         ``/<64 hex>`` or ``/docker-<64 hex>.scope``
cri-o          ``/crio-<64 hex>`` or ``/crio-<64 hex>.scope``
containerd     ``/cri-containerd-<64 hex>.scope`` or ``:cri-containerd:<64 hex>``
lxc            ``/lxc/<id>/...`` or ``/lxc.payload/<id>/...``
libvirt-lxc    ``/<id>.libvirt-lxc``, ``-lxc\\x2d<id>.scope``, ``/libvirt/lxc/<id>``
mesos          ``/mesos/<36-char uuid>`` (with a MESOS task id in the environment)
bpm            ``bpm-<id>.scope``
=============  =================================================================

The runc-style ids (podman, docker, cri-o, containerd) are reported by their first
12 characters. Like sinsp reading a capture, podman containers known only from the
``name=systemd`` cgroup are not recognised (that needs the capturing host's ``/proc``),
nor are rkt pods; a mesos task id is looked for in the process's own environment only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

ID_LENGTH = 64
REPORTED_ID_LENGTH = 12
_HEX = frozenset("0123456789abcdefABCDEF")

Cgroups = list[tuple[str, str]]


def parse_cgroups(entries: Iterable[str]) -> Cgroups:
    """``subsys=path`` strings to (subsystem, path) pairs, with sinsp's renames.

    The split is at the last ``=`` (so ``name=systemd=/x`` gives ``name=systemd``);
    ``_cgroup`` suffixes are dropped and ``perf``/``mem``/``io`` become
    ``perf_event``/``memory``/``blkio``. An entry without ``=`` stops the list.
    """
    out: Cgroups = []
    for entry in entries:
        if "=" not in entry:
            break
        subsys, _, path = entry.rpartition("=")
        subsys = subsys.replace("_cgroup", "", 1)
        out.append((_RENAMES.get(subsys, subsys), path))
    return out


_RENAMES = {"perf": "perf_event", "mem": "memory", "io": "blkio"}


def _match_one(cgroup: str, prefix: str, suffix: str) -> str | None:
    start = cgroup.rfind(prefix)
    if start < 0:
        return None
    start += len(prefix)
    end = cgroup.rfind(suffix) if suffix else len(cgroup)
    if end < 0 or end - start != ID_LENGTH:
        return None
    # sinsp compares the *absolute* index of the first non-hex character with the
    # id length, so the hex check only bites when the id starts early in the path.
    invalid = next((i for i in range(start, len(cgroup)) if cgroup[i] not in _HEX), None)
    if invalid is not None and invalid < ID_LENGTH:
        return None
    return cgroup[start:start + REPORTED_ID_LENGTH]


def _runc(layouts: tuple[tuple[str, str], ...]) -> Callable[[Cgroups, list[str]], str | None]:
    def match(cgroups: Cgroups, env: list[str]) -> str | None:
        for _, path in cgroups:
            for prefix, suffix in layouts:
                found = _match_one(path, prefix, suffix)
                if found is not None:
                    return found
        return None
    return match


_podman = _runc((("/libpod-", ".scope"),))

_docker = _runc((("/", ""), ("/docker-", ".scope")))
_cri = _runc((("/", ""), ("/crio-", ""), ("/cri-containerd-", ".scope"), ("/crio-", ".scope"),
              (":cri-containerd:", "")))


def _lxc(cgroups: Cgroups, env: list[str]) -> str | None:
    for _, path in cgroups:
        for marker in ("/lxc/", "/lxc.payload/"):
            at = path.find(marker)
            if at >= 0:
                start = at + len(marker)
                end = path.find("/", start)
                return path[start:] if end < 0 else path[start:end]
    return None


def _libvirt_lxc(cgroups: Cgroups, env: list[str]) -> str | None:
    for _, path in cgroups:
        at = path.find(".libvirt-lxc")
        if at >= 0 and at == len(path) - len(".libvirt-lxc"):
            slash = path.rfind("/")
            if slash >= 0:
                return path[slash + 1:at]
        at = path.find("-lxc\\x2")
        if at >= 0:
            end = path.find(".scope")
            if end >= 0 and end == len(path) - len(".scope"):
                start = at + len("-lxc\\x2") + 1
                return path[start:end]
        at = path.find("/libvirt/lxc/")
        if at >= 0:
            return path[at + len("/libvirt/lxc/"):]
    return None


def _mesos(cgroups: Cgroups, env: list[str]) -> str | None:
    for _, path in cgroups:
        at = path.find("/mesos/")
        if at >= 0:
            cid = path[at + len("/mesos/"):]
            if len(cid) == 36 and all(c in _HEX or c == "-" for c in cid):
                keys = ("MESOS_TASK_ID=", "mesos_task_id=", "MESOS_EXECUTOR_ID=")
                if any(e.startswith(keys) and len(e) > e.index("=") + 1 for e in env):
                    return cid
    return None


_BPM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _bpm(cgroups: Cgroups, env: list[str]) -> str | None:
    for _, path in cgroups:
        at = path.find("bpm-")
        if at >= 0:
            start = at + len("bpm-")
            end = path.find(".scope", start)
            cid = path[start:] if end < 0 else path[start:end]
            if cid and all(c in _BPM_CHARS for c in cid):
                return cid
    return None


#: (runtime, matcher) in sinsp's engine order.
ENGINES: tuple[tuple[str, Callable[[Cgroups, list[str]], str | None]], ...] = (
    ("podman", _podman), ("docker", _docker), ("cri", _cri), ("lxc", _lxc),
    ("libvirt-lxc", _libvirt_lxc), ("mesos", _mesos), ("bpm", _bpm),
)


def container_of(cgroups: Cgroups, env: list[str] | None = None) -> tuple[str, str] | None:
    """(runtime, container id) for these cgroups, or None for a host process."""
    key = tuple(cgroups)
    if any("/mesos/" in path for _, path in key):
        return _container_of(cgroups, env or [])  # only mesos reads the environment
    return _cached_container_of(key)


@lru_cache(maxsize=4096)
def _cached_container_of(cgroups: tuple[tuple[str, str], ...]) -> tuple[str, str] | None:
    return _container_of(list(cgroups), [])


def _container_of(cgroups: Cgroups, env: list[str]) -> tuple[str, str] | None:
    for runtime, match in ENGINES:
        cid = match(cgroups, env)
        if cid is not None:
            return runtime, cid
    return None
