"""Compile-on-first-use cffi extensions (API mode), cached per user.

Used by the capture scanner (:mod:`.cscan`) and the read engine (``inspect/fastread``):
the C source carries its own cffi
declarations between ``/* --- cdef begin`` and ``/* --- cdef end`` markers; lines
``#ifdef FR_CFFI_CDEF`` / ``#endif`` around declarations only cffi may see
(``extern "Python"`` callbacks) are dropped from what cffi reads. The module is built in
a child process (compiler noise and crashes stay out of ours) into the cache directory
of :func:`cache_dir`, named by a hash of everything that goes
into it, under a file lock, installed by atomic rename, and loaded with importlib. A
failed build leaves ``<name>.failed`` (the compiler's message) so later runs do not
retry; delete it to retry.
"""

from __future__ import annotations

import errno
import importlib.machinery
import importlib.util
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["load", "load_extension", "OptionalExtension", "cdef_of", "cache_dir", "sha256"]

_BUILDER = r"""
import sys, cffi
name, src, cdef, tmpdir = sys.argv[1:5]
ffi = cffi.FFI()
ffi.cdef(open(cdef).read())
ffi.set_source(name, open(src).read(), extra_compile_args=["-O2", "-fno-strict-aliasing"])
print(ffi.compile(tmpdir=tmpdir, verbose=False))
"""


def cdef_of(source: str) -> str:
    """The declarations cffi reads: the marked part, without the cffi-only guards."""
    begin = source.index("/* --- cdef begin")
    begin = source.index("\n", begin) + 1
    end = source.index("/* --- cdef end")
    lines = [ln for ln in source[begin:end].splitlines()
             if not ln.startswith("#ifdef FR_CFFI_CDEF") and ln.strip() != "#endif"]
    return "\n".join(lines) + "\n"


def sha256(data: bytes = b"") -> Any:
    """``hashlib.sha256``, from CPython's built-in module when it has one: hashlib loads
    OpenSSL first, some 2 ms of every run's startup for the two cache keys."""
    try:
        from _sha2 import sha256 as impl  # (3.12 on)
    except ImportError:
        try:
            from _sha256 import sha256 as impl  # (3.11)
        except ImportError:
            from hashlib import sha256 as impl
    return impl(data)


def _module_name(prefix: str, source: str) -> str:
    import cffi

    h = sha256()
    for part in (source, _BUILDER, sys.version, sys.implementation.cache_tag or "",
                 cffi.__version__, importlib.machinery.EXTENSION_SUFFIXES[0]):
        h.update(part.encode())
        h.update(b"\0")
    return f"_scapkit_{prefix}_" + h.hexdigest()[:20]


def cache_dir() -> Path:
    """Where compiled scanners are kept: ``$SCAPKIT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/scapkit`` or ``~/.cache/scapkit``, else a private temp dir."""
    for d in _cache_candidates():
        if _usable_dir(d):
            return d
    raise OSError(errno.EACCES, "no writable private cache directory for the C scanner")


def _cache_candidates() -> Iterator[Path]:
    explicit = os.environ.get("SCAPKIT_CACHE_DIR")
    if explicit:
        yield Path(explicit)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        if xdg and os.path.isabs(xdg):
            yield Path(xdg) / "scapkit"
        try:
            yield Path.home() / ".cache" / "scapkit"
        except (RuntimeError, KeyError):
            pass
    import tempfile  # (only now: it costs a few ms of startup)

    uid = os.getuid() if hasattr(os, "getuid") else 0
    yield Path(tempfile.gettempdir()) / f"scapkit-{uid}"


def _usable_dir(d: Path) -> bool:
    """Create ``d`` (0700) if needed; usable when ours, a real dir, not group/world
    writable (a shared directory could be handed a foreign shared library) and writable."""
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(d)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        return False
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return False
    if st.st_mode & 0o022:
        return False
    return os.access(d, os.W_OK | os.X_OK)


class OptionalExtension:
    """A C extension its callers can do without: loaded (built first if needed) on first
    use, then ``prepare(module)`` runs once and its result is kept in :attr:`prepared`.
    Any failure, or ``SCAPKIT_PURE=1`` in the environment, means "use the Python path"."""

    def __init__(self, prefix: str, source_path: Path,
                 prepare: Callable[[Any], Any] | None = None) -> None:
        self.prefix, self.source_path, self._prepare = prefix, source_path, prepare
        self._tried = False
        self._module: Any = None
        self.prepared: Any = None
        self.reason: str | None = None

    def fresh(self) -> OptionalExtension:
        """The same extension, not loaded yet (tests)."""
        return OptionalExtension(self.prefix, self.source_path, self._prepare)

    def module(self) -> Any:
        """The loaded module, or None when it cannot be used (see :attr:`reason`)."""
        if not self._tried:
            self._tried = True
            try:
                mod = load(self.prefix, self.source_path)
                self.prepared = self._prepare(mod) if self._prepare is not None else None
                self._module = mod
            except Exception as exc:  # noqa: BLE001 - any failure means "use pure Python"
                self.reason = f"{type(exc).__name__}: {exc}"
        return self._module

    def available(self) -> bool:
        """True when the extension can be used (``SCAPKIT_PURE=1`` forces False)."""
        return not _pure() and self.module() is not None

    def unavailable_reason(self) -> str | None:
        """Why the extension cannot be used, or None when it can."""
        if _pure():
            return "SCAPKIT_PURE is set"
        self.module()
        return self.reason


def _pure() -> bool:
    return os.environ.get("SCAPKIT_PURE", "") not in ("", "0")


def load(prefix: str, source_path: Path) -> Any:
    """The compiled module of ``source_path`` (built first if needed); raises on failure."""
    if sys.byteorder != "little":
        raise RuntimeError("the C code assumes a little-endian host")
    d = cache_dir()
    name = _name_for(prefix, source_path, d)
    target = d / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
    failed = d / (name + ".failed")
    if not target.exists():
        if failed.exists():
            raise RuntimeError("an earlier build failed: " + failed.read_text()[-500:])
        _build(source_path.read_text(), name, d, target, failed)
    return load_extension(name, target)


def _name_for(prefix: str, source_path: Path, d: Path) -> str:
    """:func:`_module_name` of the source, remembered in ``d`` by the file's path, size
    and modification time (reading and hashing the source costs a millisecond or two of
    every start)."""
    import cffi

    st = source_path.stat()
    stamp = "\t".join((str(source_path), str(st.st_size), str(st.st_mtime_ns), sys.version,
                       cffi.__version__, importlib.machinery.EXTENSION_SUFFIXES[0]))
    memo = d / f"_scapkit_{prefix}.name"
    try:
        saved, name = memo.read_text().rsplit("\n", 1)
        if saved == stamp and name.startswith(f"_scapkit_{prefix}_"):
            return name
    except (OSError, ValueError):
        pass
    name = _module_name(prefix, source_path.read_text())
    tmp = memo.with_name(f"{memo.name}.{os.getpid()}")
    try:
        tmp.write_text(f"{stamp}\n{name}")
        os.replace(tmp, memo)  # (atomic: a reader sees the old memo or the new one)
    except OSError:
        pass
    return name


def load_extension(name: str, path: Path) -> Any:
    """Import the compiled extension module ``name`` from ``path`` (no sys.path search)."""
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def _build(source: str, name: str, d: Path, target: Path, failed: Path) -> None:
    import shutil
    import subprocess
    import sysconfig
    import tempfile

    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    if not cc or shutil.which(cc[0]) is None:
        raise RuntimeError(f"no C compiler ({' '.join(cc) or 'cc'} not found)")
    include = sysconfig.get_paths().get("include") or ""
    if not os.path.exists(os.path.join(include, "Python.h")):
        raise RuntimeError(f"no Python headers (Python.h not in {include or '?'})")
    import fcntl

    with open(d / (name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others wait
        if target.exists():
            return
        with tempfile.TemporaryDirectory(dir=d, prefix="build-") as tmp:
            src = Path(tmp) / "src.c"
            src.write_text(source)
            cdef = Path(tmp) / "src.cdef"
            cdef.write_text(cdef_of(source))
            proc = subprocess.run(
                [sys.executable, "-c", _BUILDER, name, str(src), str(cdef), tmp],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
                cwd=tmp)
            built = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            if proc.returncode != 0 or not built or not os.path.exists(built):
                message = (proc.stderr or proc.stdout or "no output").strip()
                if "No module named" not in message:  # a missing module may be installed later
                    failed.write_text(message)
                raise RuntimeError(f"building {name} failed: {message[-500:]}")
            os.chmod(built, 0o700)
            os.replace(built, target)  # atomic: readers see no file or a whole one
        _drop_superseded(d, name, target)


def _drop_superseded(d: Path, name: str, keep: Path) -> None:
    """Remove builds of older versions of the same source (best effort: a process still
    using one keeps its mapping)."""
    prefix = name[:name.rindex("_") + 1]
    for old in d.glob(prefix + "*"):
        if old != keep and not old.name.startswith(name) and old.suffix in (".so", ".lock",
                                                                             ".failed"):
            try:
                old.unlink()
            except OSError:
                pass
