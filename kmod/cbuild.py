"""Compile a small cffi API-mode extension once into the scapkit cache and load it.

Like ``scapfile.cscan``: the build runs in a child process (compiler noise and crashes
stay out), under a file lock, keyed by a hash of the sources and the Python version, and
is installed by atomic rename. A machine that cannot compile (no compiler or Python
headers) gets a clear error; the extension can also be built ahead of time (the VM test
builds on the host and hands the cache to the guest).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.machinery
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from scapkit.scapfile import cext
from scapkit.scapfile.cext import cache_dir

_BUILDER = r"""
import sys, cffi
name, src, cdef, tmpdir, incdir = sys.argv[1:6]
ffi = cffi.FFI()
ffi.cdef(open(cdef).read())
ffi.set_source(name, open(src).read(), include_dirs=[incdir],
               extra_compile_args=["-O2", "-fno-strict-aliasing"])
print(ffi.compile(tmpdir=tmpdir, verbose=False))
"""


def load_extension(stem: str, source: Path, cdef: str, headers: list[Path]) -> Any:
    """Build (if needed) and import the extension made of ``source`` (which may include
    ``headers``, found next to it) with the declarations ``cdef``; returns the module
    (``.ffi``, ``.lib``)."""
    if sys.byteorder != "little":
        raise RuntimeError("the ring reader assumes a little-endian host")
    h = hashlib.sha256()
    for part in (source.read_bytes(), cdef.encode(), *(p.read_bytes() for p in headers),
                 sys.version.encode()):
        h.update(hashlib.sha256(part).digest())
    name = f"_scapkit_{stem}_{h.hexdigest()[:16]}"
    d = cache_dir()
    target = d / (name + importlib.machinery.EXTENSION_SUFFIXES[0])
    if not target.exists():
        _build(name, source, cdef, headers, d, target)
    return cext.load_extension(name, target)


def _build(name: str, source: Path, cdef: str, headers: list[Path], d: Path,
           target: Path) -> None:
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    if not cc or shutil.which(cc[0]) is None:
        raise RuntimeError(f"no C compiler ({' '.join(cc) or 'cc'} not found) to build "
                           f"{source.name}")
    with open(d / (name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return
        with tempfile.TemporaryDirectory(dir=d, prefix="build-") as tmp:
            src = Path(tmp) / f"{name}_src.c"
            src.write_bytes(source.read_bytes())
            for hdr in headers:
                shutil.copy(hdr, Path(tmp) / hdr.name)
            cdef_file = Path(tmp) / "decl.cdef"
            cdef_file.write_text(cdef)
            proc = subprocess.run(
                [sys.executable, "-c", _BUILDER, name, str(src), str(cdef_file), tmp, tmp],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, cwd=tmp)
            built = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            if proc.returncode != 0 or not built or not os.path.exists(built):
                message = (proc.stderr or proc.stdout or "no output").strip()
                raise RuntimeError(f"building {source.name} failed: {message[-800:]}")
            os.chmod(built, 0o700)
            os.replace(built, target)
