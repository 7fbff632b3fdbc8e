"""Building scapkit.ko against a kernel build tree (``scap driver build``).

The sources (this folder's C files and kbuild files, and the event headers shared with the
eBPF probe in ``ebpf/shared``) are copied into a private directory of the scapkit cache,
keyed by kernel release and a hash of the sources, and built there with kbuild, so an
installed (read-only) package can build and two kernels never share objects. A build that
prints any compiler or modpost warning fails: the module must build clean.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scapkit.scapfile.cext import cache_dir

__all__ = ["BuildError", "BuiltModule", "build_module", "default_kdir", "kernel_release_of",
           "module_sources", "event_schema", "built_module_for", "SCHEMA_HEADER"]

HERE = Path(__file__).parent
SHARED = HERE.parent / "ebpf" / "shared"
#: The generated event header; its hash names the event table a module was built from.
SCHEMA_HEADER = SHARED / "scap_events_gen.h"
MODULE_FILE = "scapkit.ko"
_WARNING = re.compile(r"\b(warning|error):|^(WARNING|ERROR):", re.MULTILINE | re.IGNORECASE)


class BuildError(RuntimeError):
    """The module could not be built; the message says why (and holds the log's tail)."""


@dataclass(frozen=True)
class BuiltModule:
    """A built module: its file, the kernel release it is for, and the build log."""

    path: Path
    kernel_release: str
    log: str


def module_sources() -> list[Path]:
    """Every file the module is built from (kmod/ C, headers, kbuild; shared headers)."""
    files = sorted(p for p in HERE.iterdir()
                   if p.suffix in (".c", ".h") and p.name != "consumer.c")
    files += [HERE / "Kbuild", HERE / "Makefile"]
    if SHARED.is_dir():
        files += sorted(p for p in SHARED.iterdir() if p.suffix == ".h")
    return files


def event_schema() -> str:
    """The name of the event table (first 16 hex digits of the generated header's SHA-256),
    as the module reports it and the reader expects it."""
    try:
        return hashlib.sha256(SCHEMA_HEADER.read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        raise BuildError(f"{SCHEMA_HEADER} missing: the generated event header is part of "
                         "the sources") from None


def default_kdir(release: str | None = None) -> Path:
    """The build tree of a kernel release (the running kernel's by default)."""
    return Path("/lib/modules") / (release or os.uname().release) / "build"


def kernel_release_of(kdir: Path) -> str:
    """The kernel release a build tree is for: UTS_RELEASE, which also goes into the
    module's vermagic (Debian's kernel.release file holds the upstream version instead)."""
    uts = kdir / "include" / "generated" / "utsrelease.h"
    if uts.exists():
        found = re.search(r'#define\s+UTS_RELEASE\s+"([^"]+)"', uts.read_text())
        if found:
            return found.group(1)
    raise BuildError(f"{kdir}: cannot tell its kernel release (no include/generated/"
                     "utsrelease.h: not a prepared kernel build tree?)")


def _source_key(release: str) -> str:
    h = hashlib.sha256(release.encode())
    for p in module_sources():
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def _build_dir(release: str) -> Path:
    return cache_dir() / "kmod" / f"{release}-{_source_key(release)}"


def built_module_for(release: str | None = None) -> Path | None:
    """The module already built from the current sources for ``release`` (the running
    kernel's by default), or None."""
    release = release or os.uname().release
    path = _build_dir(release) / "kmod" / MODULE_FILE
    return path if path.exists() else None


def build_module(kdir: Path | None = None, *, force: bool = False) -> BuiltModule:
    """Build the module against ``kdir`` (default: the running kernel's build tree)."""
    if kdir is None:
        kdir = default_kdir()
        if not (kdir / "Makefile").exists():
            raise BuildError(
                f"no kernel headers for the running kernel {os.uname().release} ({kdir} "
                "missing): install them (Debian: apt-get install linux-headers-"
                f"{os.uname().release}) or pass --kdir DIR")
    kdir = Path(kdir)
    if not (kdir / "Makefile").exists():
        raise BuildError(f"{kdir} is not a kernel build tree (no Makefile): install the "
                         "kernel's headers (Debian: linux-headers-<release>)")
    if shutil.which("make") is None:
        raise BuildError("make not found (apt-get install make gcc)")
    release = kernel_release_of(kdir)
    schema = event_schema()
    root = _build_dir(release)
    out = root / "kmod" / MODULE_FILE
    log_file = root / "build.log"
    root.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(root.parent / (root.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build of these sources at a time
        if out.exists() and not force:
            return BuiltModule(out, release, log_file.read_text() if log_file.exists() else "")
        work = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
        try:
            log = _kbuild(kdir, work, schema)
            if root.exists():  # replace a previous build whole
                old = Path(tempfile.mkdtemp(prefix=root.name + ".old.", dir=root.parent))
                os.replace(root, old / "d")
                shutil.rmtree(old)
            os.replace(work, root)
        finally:
            if work.exists():
                shutil.rmtree(work)
    _prune(root)
    return BuiltModule(out, release, log)


#: Builds kept per kernel release (older sources' builds are removed).
KEEP_BUILDS = 3


def _prune(current: Path) -> None:
    """Remove all but the newest builds of the same kernel release."""
    release = current.name[:-17]
    pattern = re.compile(re.escape(release) + r"-[0-9a-f]{16}")
    builds = [p for p in current.parent.iterdir()
              if p.is_dir() and pattern.fullmatch(p.name) and (p / "kmod" / MODULE_FILE).exists()]
    builds.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[KEEP_BUILDS:]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
            (old.parent / (old.name + ".lock")).unlink(missing_ok=True)


def _kbuild(kdir: Path, work: Path, schema: str) -> str:
    """Copy the sources into ``work`` and build there; the log, or BuildError."""
    (work / "kmod").mkdir(mode=0o700)
    (work / "ebpf" / "shared").mkdir(parents=True, mode=0o700)
    for src in module_sources():
        dest = work / ("ebpf/shared" if src.parent == SHARED else "kmod") / src.name
        shutil.copy(src, dest)
    cmd = ["make", "-C", str(kdir), f"M={work / 'kmod'}", f"-j{os.cpu_count() or 1}",
           f"SCAPKIT_SCHEMA={schema}", "modules"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BuildError("the module build did not finish within 15 minutes") from None
    log = proc.stdout + proc.stderr
    (work / "build.log").write_text(log)
    if proc.returncode != 0 or not (work / "kmod" / MODULE_FILE).exists():
        raise BuildError(f"building the module against {kdir} failed:\n" + _tail(log))
    found = _WARNING.search(log)
    if found:
        raise BuildError("the module build printed warnings:\n" + _tail(log[found.start():]))
    return log


def _tail(log: str, lines: int = 25) -> str:
    return "\n".join(log.strip().splitlines()[-lines:])
